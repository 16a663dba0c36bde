"""`StarGAN`: multi-domain image-to-image translation with one generator (Choi et al. 2018)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kgan import label_groups as label_groups_lib
from kgan import losses, penalties, serving
from kgan.data.validation import check_image_batch
from kgan.arguments import check_weight
from kgan.data import graph_checks
from kgan.models.base import AdversarialModel, replica_info, stream


@keras.saving.register_keras_serializable(package="kgan")
class StarGAN(AdversarialModel):
    """One generator G(x, c) for every domain pair, one discriminator with two heads.

    "StarGAN: Unified Generative Adversarial Networks for Multi-Domain
    Image-to-Image Translation", Choi et al. 2018. Batches are ``(images,
    attributes)``: images float32 ``[B, H, W, C]`` in [-1, 1] and their domain
    labels ``[B, K]`` (multi-hot attributes, or one-hot domains). Each
    `train_step`:

    * splits the batch into ``discriminator_steps`` (n_critic) minibatches, as
      `kgan.GAN` does; for each, draws target labels c by permuting the
      minibatch's labels (the paper's sampling) and updates D on
      ``L_adv + classification_weight * L_cls(real) + gradient_penalty_weight * L_gp``,
      with the WGAN-GP adversarial loss on D_src (`kgan.penalties`) and the
      domain classification loss of D_cls on *real* images;
    * updates G on the last minibatch with fresh targets:
      ``-D_src(G(x, c)) + classification_weight * L_cls(D_cls(G(x, c)), c)
      + reconstruction_weight * |x - G(G(x, c), c_x)|
      + identity_weight * |x - G(x, c_x)|``.

    Targets are permuted over the *global* batch under `tf.distribute`
    (gathered, permuted with noise every replica shares, sliced back), so N
    replicas draw the targets one device would.

    **Several datasets** (sec. 3.2, "Training with Multiple Datasets"): with
    ``label_groups`` the labels are the unified vector
    ``c~ = [c_1, ..., c_n, m]`` (`kgan.label_groups`): each dataset's label
    set, zeros where unknown, and a one-hot mask m naming the dataset whose
    labels are known. G's condition is c~ (K = ``sum(size) + n`` entries); D's
    domain head predicts every group (``sum(size)`` logits), and both
    classification losses score only the group each example's mask names
    (`kgan.losses.masked_domain_classification_loss`: D on real images with
    the source's mask, G on translations with the target's). Targets are
    still permuted unified rows, mask included, so a translation may ask for
    another dataset's labels; the reconstruction maps back with the
    source's own c~. Each group's mean is over the examples of the *global*
    minibatch that have it.

    Args:
      generator: `keras.Model` ``[images [B, H, W, C], conditions [B, K]]`` ->
        images ``[B, H, W, C]`` in [-1, 1]
        (`kgan.networks.resnet_generator` with ``condition_dim=K``).
      discriminator: `keras.Model` images -> ``[source logits [B, h, w, 1],
        domain logits [B, K]]`` (`kgan.networks.multi_task_patch_discriminator`),
        or ``[images, labels [B, K]]`` -> the same: a *conditional critic*
        (``multi_task_patch_discriminator(..., condition_dim=K)``, not the
        paper's), whose D_src scores real images with their labels and
        translations with their targets, and whose gradient penalty is taken
        at interpolated images with the labels interpolated alike. The
        paper's D_src only asks whether an image looks real, so a
        translation that leaves its input's look and fools D_cls with
        patterns no real image has (D_cls learns from real images only)
        goes unpunished; a conditional critic scores it as fake.
      num_domains: K, the length of the label vectors (with ``label_groups``:
        of the unified vector, ``sum(size) + n``).
      label_kind: ``"multi_label"`` (independent binary attributes, sigmoid
        cross-entropy; CelebA) or ``"single_label"`` (one domain per image,
        softmax cross-entropy). With ``label_groups`` each group has its own
        kind, and this stays ``"multi_label"``.
      label_groups: None (one label set, the default), or n >= 2
        ``(size, kind)`` pairs, one per dataset, in the order of c~: e.g.
        ``((4, "multi_label"), (3, "single_label"))`` for 4 attributes of one
        dataset and 3 exclusive domains of another (K = 4 + 3 + 2 = 9).
      classification_weight: lambda_cls (1).
      reconstruction_weight: lambda_rec (10).
      identity_weight: weight of ``|x - G(x, c_x)|``, translating an image to
        its own domain (0, the paper's; CycleGAN's identity term, Zhu et al.
        2017 sec. 5.2 after Taigman et al. 2017). It asks G to copy what a
        translation need not change pixel for pixel, which the cycle term alone
        leaves to a long training: the 28-px demo uses it.
      gradient_penalty_weight: lambda_gp (10).
      discriminator_steps: n_critic (5).
      seed: seeds the targets and the penalty's interpolation.
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``g_loss``, ``wasserstein_estimate``
    (mean D_src on real minus on fake), ``gradient_penalty``, ``d_cls_loss``
    (D_cls on real images), ``g_cls_loss`` (D_cls on translations),
    ``rec_loss``, ``identity_loss`` (logged while its weight is above 0).
    """

    @property
    def metric_names(self):
        names = ("d_loss", "g_loss", "wasserstein_estimate", "gradient_penalty", "d_cls_loss", "g_cls_loss", "rec_loss")
        return names + ("identity_loss",) if self.identity_weight else names

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        num_domains: int,
        label_kind: str = "multi_label",
        label_groups=None,
        classification_weight: float = 1.0,
        reconstruction_weight: float = 10.0,
        identity_weight: float = 0.0,
        gradient_penalty_weight: float = 10.0,
        discriminator_steps: int = 5,
        seed: int = 0,
        **kwargs,
    ):
        if label_kind not in losses.LABEL_KINDS:
            raise ValueError(f"label_kind must be one of {losses.LABEL_KINDS}; got {label_kind!r}.")
        label_groups = label_groups_lib.normalize_label_groups(label_groups)
        _check_grouped_labels(int(num_domains), label_kind, label_groups)
        if int(discriminator_steps) < 1:
            raise ValueError(f"discriminator_steps must be >= 1; got {discriminator_steps}.")
        self.discriminator_steps = int(discriminator_steps)
        self.identity_weight = check_weight("identity_weight", identity_weight)  # Before the base reads metric_names.
        super().__init__({"generator": generator, "discriminator": discriminator}, seed=seed, **kwargs)
        self.num_domains = int(num_domains)
        self.label_kind = label_kind
        self.label_groups = label_groups
        self.classification_weight = check_weight("classification_weight", classification_weight)
        self.reconstruction_weight = check_weight("reconstruction_weight", reconstruction_weight)
        self.gradient_penalty_weight = check_weight("gradient_penalty_weight", gradient_penalty_weight)
        self._check_networks()
        penalties.reject_batch_norm(discriminator)

    def _check_networks(self):
        if len(self.generator.inputs) != 2:
            raise ValueError(
                "The StarGAN generator takes [images, conditions]: build it with "
                "kgan.networks.resnet_generator(..., condition_dim=num_domains)."
            )
        condition_dim = self.generator.inputs[1].shape[-1]
        grouped = "" if self.label_groups is None else " (the unified labels c~: every group's entries and the mask)"
        if condition_dim != self.num_domains:
            raise ValueError(
                f"The generator's conditions have {condition_dim} entries; num_domains is {self.num_domains}{grouped}."
            )
        if self.conditional_critic and self.discriminator.inputs[1].shape[-1] != self.num_domains:
            raise ValueError(
                f"The discriminator's conditions have {self.discriminator.inputs[1].shape[-1]} entries; its source head "
                f"judges images for the labels G is given, num_domains = {self.num_domains}{grouped}."
            )
        outputs = self.discriminator.outputs
        if len(outputs) != 2 or outputs[1].shape[-1] != self.num_logits:
            what = "num_domains" if self.label_groups is None else "the label groups' sizes summed, no mask"
            raise ValueError(
                f"The StarGAN discriminator returns [source logits, domain logits [B, {self.num_logits}]] ({what}): build it "
                f"with kgan.networks.multi_task_patch_discriminator(..., num_domains={self.num_logits})."
            )

    @property
    def conditional_critic(self) -> bool:
        """Whether D_src judges ``[images, labels]`` (the discriminator takes two inputs) rather than images alone."""
        return len(self.discriminator.inputs) == 2

    @property
    def num_logits(self) -> int:
        """Entries of D's domain head: K, or with ``label_groups`` every group's labels without the mask."""
        return self.num_domains if self.label_groups is None else label_groups_lib.logit_size(self.label_groups)

    # ------------------------------------------------------------------ networks

    @property
    def image_shape(self):
        """``(H, W, C)`` of the images translated."""
        return tuple(self.generator.inputs[0].shape[1:])

    def call(self, inputs, training=False):
        """``[images [B, H, W, C], target_attributes [B, K]]`` -> translated images, float32 in [-1, 1]."""
        images, targets = inputs
        return tf.cast(self.sampling_generator([images, tf.cast(targets, tf.float32)], training=training), tf.float32)

    def translate(self, images, target_attributes, batch_size: int = serving.MAX_SAMPLED_IMAGES):
        """Translates float images ``[N, H, W, C]`` in [-1, 1] to the domains ``target_attributes [N, K]`` (arrays or lists).

        The generator runs on ``batch_size`` images at a time
        (`kgan.serving.in_chunks`), so any N costs its output plus one
        chunk's activations; float32 ``[N, H, W, C]`` in [-1, 1].
        """
        inputs = [tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(target_attributes, tf.float32)]
        return serving.in_chunks(lambda pair: self(list(pair), training=False), inputs, batch_size)

    def preview_rows(self, inputs):
        """Rows of a progress picture (`kgan.callbacks.TranslationGrid`) for ``(images, attributes)``.

        Row 0 holds the N inputs. For ``multi_label`` data, row 1 + j shows
        every input translated to the attributes of input j (the grid of the
        paper's figures), so only attribute combinations that occur in data
        are requested; for ``single_label``, row 1 + k shows domain k. With
        ``label_groups`` the rows are the inputs' unified labels, as for
        ``multi_label``: a row may ask for another dataset's labels.
        """
        images, attributes = (np.asarray(v, np.float32) for v in inputs)
        if self.label_kind == "single_label":
            targets = np.eye(self.num_domains, dtype=np.float32)
        else:
            targets = attributes
        rows = [images]
        for target in targets:
            rows.append(np.asarray(self.translate(images, np.repeat(target[None], len(images), axis=0))))
        return rows

    # ------------------------------------------------------------------ losses

    def prepare_batch(self, batch):
        images, labels = batch
        return images, tf.cast(labels, tf.float32)

    def target_labels(self, labels, stream: int, training: bool = True):
        """Target domains for ``labels [b, K]``: a random permutation of the global batch's labels."""
        everyone = self.gather_replicas(labels)
        order = tf.argsort(self.global_uniform_noise([tf.shape(everyone)[0]], stream, training))
        return self.replica_slice(tf.gather(everyone, order), tf.shape(labels)[0])

    def label_inputs(self, labels, index, training=True) -> dict:
        """A phase's ``targets`` and, with ``label_groups``, the classification losses' ``group_normalizers``.

        The normalizers are each group's examples in the *global* minibatch
        divided by the number of replicas
        (`kgan.losses.masked_domain_classification_loss`), counted here,
        outside the loss, because a cross-replica sum cannot run inside an
        XLA-compiled update. Targets permute the global minibatch's labels,
        so the counts of the sources' masks are also the targets'.
        """
        inputs = {"targets": self.target_labels(labels, stream("targets", index), training)}
        if self.label_groups is not None:
            _, num_replicas = replica_info()
            counts = losses.group_counts(self.gather_replicas(labels), self.label_groups)
            inputs["group_normalizers"] = counts / num_replicas
        return inputs

    def classification_loss(self, labels, logits, inputs):
        """D_cls's loss: `kgan.losses.domain_classification_loss`, or its masked form with ``label_groups``."""
        if self.label_groups is None:
            return losses.domain_classification_loss(labels, logits, self.label_kind)
        return losses.masked_domain_classification_loss(labels, logits, self.label_groups, inputs["group_normalizers"])

    def translations(self, images, targets, training=True):
        """G(x, c) in training, float32."""
        return tf.cast(self.generate_batch(images, targets, training), tf.float32)

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        """Targets permuted from the minibatch's labels, the penalty's epsilon and DiffAugment's parameters."""
        images, labels = minibatch
        batch_size = self.batch_size_of(images)
        return {
            **self.label_inputs(labels, index, training),
            "epsilon": self.uniform_noise(batch_size, (), stream("epsilon", index), training),
            **self.augment_params(batch_size, index, training),
        }

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D's loss on real images with labels ``[b, K]`` against translations to the targets.

        Returns ``(loss, extras)`` with the unweighted terms.
        """
        images, labels = minibatch
        fake = tf.stop_gradient(self.translations(images, inputs["targets"], training))
        targets, epsilon = inputs["targets"], inputs["epsilon"]
        # The labels reach D_src only when it takes them (conditional_critic); D_cls never sees them.
        real_source, real_domains = self.discriminate(images, labels, augment=inputs.get("augment_real"), training=training)
        fake_source, _ = self.discriminate(fake, targets, augment=inputs.get("augment_fake"), training=training)
        extras = {"wasserstein_estimate": tf.reduce_mean(real_source) - tf.reduce_mean(fake_source)}
        return self.weighted_terms(
            losses.wasserstein_discriminator_loss(real_source, fake_source), extras,
            d_cls_loss=(self.classification_weight, lambda: self.classification_loss(labels, real_domains, inputs)),
            gradient_penalty=(self.gradient_penalty_weight, lambda: self._gradient_penalty(images, labels, fake, targets, epsilon, training)),
        )

    def _gradient_penalty(self, images, labels, fake, targets, epsilon, training):
        """WGAN-GP on D_src; a conditional critic is penalised at interpolated (image, labels) pairs.

        Each interpolate lies between a real image with its labels and a
        translation with its targets, by the same epsilon; an unconditional
        D_src ignores the labels (`discriminate` passes them only to a
        two-input network), so none are mixed for it.
        """
        mixed = epsilon[:, None] * labels + (1.0 - epsilon[:, None]) * targets if self.conditional_critic else None
        return penalties.gradient_penalty(lambda x: self.discriminate(x, mixed, training=training)[0], images, fake, epsilon)

    def generator_inputs(self, minibatch, index, state=None, training=True):
        """Targets permuted from the minibatch's labels and DiffAugment's parameters."""
        images, labels = minibatch
        return {
            **self.label_inputs(labels, index, training),
            **self.augment_params(self.batch_size_of(images), index, training, ("fake",)),
        }

    def generator_loss(self, minibatch, inputs, training=True):
        """G's loss: fool D_src, be classified as the targets, and map back to the images."""
        images, labels = minibatch
        targets = inputs["targets"]
        fake = self.translations(images, targets, training)
        fake_source, fake_domains = self.discriminate(fake, targets, augment=inputs.get("augment_fake"), training=training)
        return self.weighted_terms(
            losses.wasserstein_generator_loss(fake_source), {},
            g_cls_loss=(self.classification_weight, lambda: self.classification_loss(targets, fake_domains, inputs)),
            rec_loss=(self.reconstruction_weight, lambda: losses.reconstruction_loss(images, self.translations(fake, labels, training))),
            identity_loss=(self.identity_weight, lambda: losses.reconstruction_loss(images, self.translations(images, labels, training))),
        )

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s for `kgan.export`.

        * ``serving_default(images float32 [N, H, W, C] in [-1, 1],
          target_attributes float32 [N, K] in [0, 1])`` -> ``images`` float32
          in [-1, 1], ``images_uint8`` and ``images_png_bytes``;
        * ``translate_uint8(images uint8 [N, H, W, C], target_attributes)``:
          the same for uint8 pixels.

        Targets are the 0/1 attribute vectors the model trained on (with
        ``label_groups``, unified vectors, mask included); values in between
        are accepted (they interpolate attributes, off the training
        distribution). Wrong shapes, images outside [-1, 1], targets outside
        [0, 1], a batch mismatch or more images than the export's
        ``max_batch_size`` (`kgan.serving.MAX_SAMPLED_IMAGES` by default) fail
        with an InvalidArgument error.
        """
        endpoints = serving.translation_endpoints(
            "translate", lambda images, targets: self([images, targets], training=False), self.image_shape,
            condition=("target_attributes", self.num_domains, 0.0, 1.0),
        )
        return {"serving_default": endpoints["translate"], "translate_uint8": endpoints["translate_uint8"]}

    # ------------------------------------------------------------------ checks & config

    def batch_value_checks(self, batch):
        images, attributes = batch
        return [graph_checks.ValueCheck("images", images, "images"), graph_checks.ValueCheck("attributes", attributes, "binary")]

    def check_batch(self, batch):
        batch = self.unpack_batch(batch)
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(
                "StarGAN trains on (images, attributes) batches: images float32 [B, H, W, C] in [-1, 1] and "
                f"their domain labels float [B, {self.num_domains}] (e.g. kgan.data.load_attribute_images)."
            )
        images, attributes = batch
        check_image_batch(images, expected_shape=self.image_shape)
        check_attribute_batch(attributes, self.num_domains, self.label_kind, batch_size=int(images.shape[0]),
                              label_groups=self.label_groups)
        self.check_minibatch_count(int(images.shape[0]))

    def get_config(self):
        return {
            **super().get_config(),
            "num_domains": self.num_domains,
            "label_kind": self.label_kind,
            "label_groups": None if self.label_groups is None else [list(group) for group in self.label_groups],
            "classification_weight": self.classification_weight,
            "reconstruction_weight": self.reconstruction_weight,
            "identity_weight": self.identity_weight,
            "gradient_penalty_weight": self.gradient_penalty_weight,
            "discriminator_steps": self.discriminator_steps,
        }

    def default_optimizers(self):
        # The paper: Adam(1e-4, beta_1=0.5, beta_2=0.999) for both networks.
        return (
            keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.999),
            keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.999),
        )


def _check_grouped_labels(num_domains: int, label_kind: str, label_groups) -> None:
    """Raises ValueError where ``label_groups`` (normalised) contradict ``num_domains`` or ``label_kind``."""
    if label_groups is None:
        return
    if label_kind != "multi_label":
        raise ValueError(f"label_kind={label_kind!r} applies to one label set; with label_groups each group has its own kind.")
    size = label_groups_lib.unified_size(label_groups)
    if num_domains != size:
        raise ValueError(
            f"num_domains must be the length of the unified labels c~, {size} for label_groups {label_groups} "
            f"(the groups' sizes plus one mask entry per group); got {num_domains}."
        )


def check_attribute_batch(attributes, num_domains: int, label_kind: str, batch_size: int | None = None,
                          label_groups=None) -> None:
    """Raises ValueError unless ``attributes`` is ``[B, num_domains]`` of 0/1 (one 1 per row for single_label).

    With ``label_groups`` (normalised, `kgan.label_groups`) each row must be a
    unified label vector: a one-hot mask, the group it names valid for its
    kind, every other group zeros (`kgan.label_groups.check_unified_labels`).
    """
    values = np.asarray(attributes)
    if values.ndim != 2 or values.shape[-1] != num_domains:
        raise ValueError(
            f"attributes must be [batch, {num_domains}] (one entry per domain attribute); got shape {values.shape}."
        )
    if batch_size is not None and values.shape[0] != batch_size:
        raise ValueError(f"Got {values.shape[0]} attribute rows for {batch_size} images.")
    if not np.all((values == 0) | (values == 1)):
        raise ValueError(
            "attributes must be 0/1 (multi-hot, e.g. CelebA's -1/1 attributes mapped with (a + 1) / 2); "
            f"got values {np.unique(values)[:10]}."
        )
    if label_groups is not None:
        label_groups_lib.check_unified_labels(values, label_groups)
    elif label_kind == "single_label" and not np.all(values.sum(axis=-1) == 1):
        raise ValueError("single_label domains need exactly one 1 per row (one-hot); use label_kind='multi_label' for attributes.")


def _register():
    from kgan import configs, registry

    registry.register(registry.ModelSpec("star_gan", StarGAN, configs.StarGANConfig, configs.STAR_GAN_PRESETS))


_register()
