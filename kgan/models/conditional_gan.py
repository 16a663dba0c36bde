"""`ConditionalGAN`: class-conditional GANs (cGAN, projection discriminator, AC-GAN)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kgan import penalties, serving
from kgan.arguments import check_weight
from kgan.data import graph_checks
from kgan.models.base import stream, uniform_categories
from kgan.models.gan import GAN


def check_label_batch(labels, num_classes: int, batch_size: int | None = None, name: str = "labels") -> None:
    """Raises ValueError unless ``labels`` are int class indices ``[B]`` in ``[0, num_classes)``.

    Args:
      labels: numpy array or TF tensor. Symbolic tensors are checked for
        dtype and static shape only.
      num_classes: K.
      batch_size: the images' batch size the labels must match, if known.
      name: what to call the labels in messages.

    Raises:
      ValueError: float/bool labels, a shape other than ``[B]`` (including
        one-hot ``[B, K]`` and ``[B, 1]``), a batch size other than the
        images', or values outside ``[0, num_classes)``; the message says how
        to fix it.
    """
    if not isinstance(labels, (tf.Tensor, tf.Variable)):
        labels = np.asarray(labels)
    dtype = tf.as_dtype(labels.dtype)
    shape = tuple(labels.shape.as_list()) if isinstance(labels.shape, tf.TensorShape) else tuple(labels.shape)
    if not dtype.is_integer:
        hint = (
            " One-hot labels? Pass labels.argmax(-1)."
            if len(shape) == 2 and shape[-1] == num_classes
            else " Cast them with labels.astype('int32') (tf.cast(labels, tf.int32)) if they hold whole numbers."
        )
        raise ValueError(
            f"{name} must be integer class indices in [0, {num_classes}) (int32 or int64); got dtype {dtype.name}.{hint}"
        )
    if len(shape) != 1:
        if len(shape) == 2 and shape[-1] == 1:
            hint = f"Squeeze the last axis: {name}[:, 0]."
        elif len(shape) == 2 and shape[-1] == num_classes:
            hint = f"One-hot labels? Pass {name}.argmax(-1)."
        else:
            hint = "Pass one class index per example, shape [batch]."
        raise ValueError(f"{name} must have shape [batch] (one class index per example); got shape {shape}. {hint}")
    if batch_size is not None and shape[0] is not None and shape[0] != batch_size:
        raise ValueError(f"Got {batch_size} images but {shape[0]} {name}; every image needs exactly one label.")
    if isinstance(labels, (tf.Tensor, tf.Variable)):
        if tf.is_symbolic_tensor(labels):
            return
        labels = labels.numpy()
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes}) for num_classes={num_classes}; got values in "
            f"[{labels.min()}, {labels.max()}]. Build the model with the dataset's number of classes "
            "(kgan.data.dataset_info(name).num_classes) or remap the labels."
        )


@keras.saving.register_keras_serializable(package="kgan")
class ConditionalGAN(GAN):
    """Class-conditional GAN: G(z, y) against D(x, y) (Mirza & Osindero 2014), trained with `fit`.

    The label conditions both networks (see `kgan.networks.conditional`): G
    sees z joined with the label's encoding; D sees the label through label
    maps / concatenation, a projection (Miyato & Koyama 2018), and/or predicts
    it with an auxiliary classifier head (AC-GAN, Odena et al. 2017). All of
    `GAN`'s machinery applies: every loss family, k discriminator steps per
    generator step, one-sided label smoothing, the per-replica noise streams.

    Batches are ``(images, labels)``: images ``[B, H, W, C]`` float in [-1, 1]
    (or points ``[B, D]``), labels int ``[B]`` in ``[0, num_classes)``, e.g.
    ``kgan.data.load_images(name, with_labels=True)`` with
    ``num_classes = kgan.data.dataset_info(name).num_classes``, or
    ``fit(images, labels)``. With k discriminator steps a batch of B is split
    into k minibatches of ``B // k`` images *with their labels*.

    Labels of generated samples: drawn uniformly from ``[0, K)`` per example,
    from the same per-replica-sliced, step-seeded streams as z (so they are
    reproducible and identical under any number of replicas), both for the
    fakes of each discriminator step and for the generator step. A uniform
    draw trains every class of G equally and makes the generator step
    independent of the data; for datasets with balanced classes (MNIST,
    Fashion-MNIST, CIFAR-10, the Gaussian mixtures) it is the data's label
    distribution. Real samples are scored with their own labels.

    Discriminator outputs and losses:

    * ``logits`` (any shape ``[B, ...]``): the adversarial loss of the loss
      family, on ``D(x, y)`` for real pairs and ``D(G(z, y'), y')`` for fakes.
    * Optional ``class_logits [B, K]`` (a discriminator with two outputs):
      AC-GAN. D adds ``classification_weight * CE(y, C(x))`` on real samples
      (and on generated ones, ``CE(y', C(G(z, y')))``, when
      ``classify_generated``, as in Odena et al.; StarGAN (Choi et al. 2018)
      trains the class head on real samples only). G adds
      ``classification_weight * CE(y', C(G(z, y')))``. A discriminator
      whose only input is the samples (``conditioning="none"``) is AC-GAN's.
    * ``gradient_penalty_weight > 0`` adds the WGAN-GP penalty (Gulrajani et
      al. 2017) on interpolates, with the real labels bound to the critic:
      ``gradient_penalty(lambda x: D([x, y]), real, fake, eps)``. Pair it
      with ``loss="wasserstein"`` for a conditional WGAN-GP (it works with any
      family); the critic must not use batch normalisation.

    Args:
      generator: `keras.Model` ``[z [B, latent_dim], labels int [B]]`` -> samples.
      discriminator: `keras.Model` ``[samples, labels]`` (or ``samples`` only,
        AC-GAN) -> ``logits`` or ``[logits, class_logits [B, num_classes]]``.
      latent_dim: size of z (standard normal).
      num_classes: K.
      loss: a `kgan.losses.LOSS_FAMILIES` name.
      discriminator_steps: k >= 1.
      label_smoothing: one-sided label smoothing of the adversarial loss.
      classification_weight: weight of the AC-GAN classification losses (>= 0).
      classify_generated: whether D's classification loss includes generated samples.
      gradient_penalty_weight: lambda of the WGAN-GP penalty; 0 disables it.
      seed: seeds all training noise (z, generated labels, interpolation weights).
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``g_loss`` (each network's whole
    objective), ``d_real``, ``d_fake``; with a class head ``d_cls_loss`` and
    ``g_cls_loss`` (unweighted cross-entropies); with the Wasserstein loss
    ``wasserstein_estimate``; with a penalty ``gradient_penalty`` (unweighted).
    """

    # PacGAN packs would have to pack the labels too: not defined here.
    training_options = ("unrolled_steps", "updates", "r1_penalty")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        num_classes: int,
        loss: str = "non_saturating",
        discriminator_steps: int = 1,
        label_smoothing: float = 0.0,
        classification_weight: float = 1.0,
        classify_generated: bool = True,
        gradient_penalty_weight: float = 0.0,
        seed: int = 0,
        **kwargs,
    ):
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}.")
        if len(generator.inputs) != 2:
            raise ValueError(
                f"The generator must take [z, labels] (two inputs); {generator.name!r} takes {len(generator.inputs)}. "
                "Build it with kgan.networks.conditional_dcgan_generator or conditional_mlp_generator."
            )
        d_inputs, d_outputs = len(discriminator.inputs), len(discriminator.outputs)
        if d_inputs not in (1, 2) or d_outputs not in (1, 2) or (d_inputs, d_outputs) == (1, 1):
            raise ValueError(
                f"The discriminator must take [samples, labels] (or samples only, with an AC-GAN class head) and "
                f"return logits or [logits, class_logits]; {discriminator.name!r} has {d_inputs} input(s) and "
                f"{d_outputs} output(s). An unconditional discriminator makes this a plain GAN."
            )
        has_class_head = d_outputs == 2
        if has_class_head and discriminator.outputs[1].shape[-1] != num_classes:
            raise ValueError(
                f"The discriminator's class head has {discriminator.outputs[1].shape[-1]} outputs; "
                f"num_classes={num_classes}."
            )
        classification_weight = check_weight("classification_weight", classification_weight)
        gradient_penalty_weight = check_weight("gradient_penalty_weight", gradient_penalty_weight)
        if gradient_penalty_weight > 0:
            penalties.reject_batch_norm(discriminator)
        # The trackers are created from metric_names in AdversarialModel.__init__,
        # so the per-instance list must exist before it runs.
        self.metric_names = (
            GAN.metric_names
            + (("d_cls_loss", "g_cls_loss") if has_class_head else ())
            + (("wasserstein_estimate",) if loss == "wasserstein" else ())
            + (("gradient_penalty",) if gradient_penalty_weight > 0 else ())
        )
        super().__init__(
            generator, discriminator, latent_dim, loss=loss, discriminator_steps=discriminator_steps,
            label_smoothing=label_smoothing, seed=seed, **kwargs,
        )
        self.num_classes = int(num_classes)
        self.has_class_head = has_class_head
        self.discriminator_sees_labels = d_inputs == 2
        self.classification_weight = float(classification_weight)
        self.classify_generated = bool(classify_generated)
        self.gradient_penalty_weight = float(gradient_penalty_weight)

    # ------------------------------------------------------------------ networks

    def call(self, inputs, training=False):
        """The sampling generator's forward pass: ``[z [B, latent_dim], labels int [B]]`` -> samples, float32."""
        z, labels = inputs
        return tf.cast(self.sampling_generator([z, tf.cast(labels, tf.int32)], training=training), tf.float32)

    def generate(self, num_samples: int | None = None, seed: int = 0, labels=None):
        """Samples for the stateless seed ``seed`` (float32).

        Args:
          num_samples: N; without ``labels`` the labels cycle ``0, 1, ..., K-1, 0, ...``.
          seed: z = ``stateless_normal([N, latent_dim], seed=[seed, 0])``, as `GAN.generate`
            and the exported ``sample`` signature.
          labels: int ``[N]`` class of each sample (then ``num_samples`` may be omitted).

        Returns:
          float32 ``[N, *sample_shape]``. ``N`` and ``seed`` are bounded and
          checked as in `GAN.latent_vectors` (ValueError); the generator runs
          on `kgan.serving.MAX_SAMPLED_IMAGES` samples at a time.
        """
        if labels is None:
            if num_samples is None:
                raise ValueError("Pass num_samples or labels.")
            inputs = self.sampling_inputs(num_samples, seed)  # bounds num_samples (GAN.latent_vectors)
        else:
            labels = tf.convert_to_tensor(labels)
            check_label_batch(labels, self.num_classes, num_samples)
            inputs = [self.latent_vectors(int(labels.shape[0]), seed), labels]
        # kgan.serving.MAX_SAMPLED_IMAGES samples per call of the generator, as in GAN.generate.
        return serving.in_chunks(lambda chunk: self(chunk, training=False), inputs)

    def sampling_inputs(self, num_samples: int, seed: int = 0, offset: int = 0):
        """``[z, labels]`` with z of `GAN.latent_vectors` and labels cycling ``offset, offset + 1, ...`` mod K."""
        z = self.latent_vectors(num_samples, seed)
        return [z, tf.constant((np.arange(num_samples) + int(offset)) % self.num_classes, tf.int32)]

    def preview_inputs(self, num_samples: int, seed: int = 0):
        """``([z, labels], K)``: one grid row per class, ``max(1, num_samples // K)`` samples each (row k: label k)."""
        columns = max(1, int(num_samples) // self.num_classes)
        z = self.latent_vectors(columns * self.num_classes, seed)  # bounds the count before the labels exist
        labels = np.repeat(np.arange(self.num_classes, dtype=np.int32), columns)
        return [z, tf.constant(labels)], self.num_classes

    # ------------------------------------------------------------------ noise and losses

    def real_parts(self, minibatch):
        images, labels = minibatch
        return images, tf.cast(labels, tf.int32)

    def fake_condition(self, inputs):
        return inputs["labels"]

    def _sample_labels(self, batch_size, index, training):
        uniform = self.uniform_noise(batch_size, (), stream("labels", index), training)
        return uniform_categories(uniform, self.num_classes)

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        """``{"z", "labels"}`` for the fakes of one D update (``+ "epsilon"`` with a gradient penalty)."""
        inputs = super().discriminator_inputs(minibatch, index, state, training)
        batch_size = self.batch_size_of(minibatch)
        inputs["labels"] = self._sample_labels(batch_size, index, training)
        if self.gradient_penalty_weight > 0:
            inputs["epsilon"] = self.uniform_noise(batch_size, (), stream("epsilon", index), training)
        return inputs

    def generator_inputs(self, minibatch, index, state=None, training=True):
        """``{"z", "labels"}`` for one generator update; labels uniform in ``[0, K)``."""
        inputs = super().generator_inputs(minibatch, index, state, training)
        inputs["labels"] = self._sample_labels(self.batch_size_of(minibatch), index, training)
        return inputs

    @staticmethod
    def _classification_loss(labels, class_logits):
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=class_logits)
        )

    def discriminator_terms(self, minibatch, fake, inputs, auxiliary, training=True):
        """The AC-GAN class head on real (and generated) samples and the WGAN-GP penalty with the real labels bound."""
        images, labels = self.real_parts(minibatch)
        real_classes, fake_classes = auxiliary
        terms = {}
        if self.has_class_head:
            def classification():
                loss = self._classification_loss(labels, real_classes)
                if self.classify_generated:
                    loss += self._classification_loss(inputs["labels"], fake_classes)
                return loss

            terms["d_cls_loss"] = (self.classification_weight, classification)
        terms["gradient_penalty"] = (self.gradient_penalty_weight, lambda: penalties.gradient_penalty(
            lambda x: self.discriminate(x, labels, training=training)[0], images, fake, inputs["epsilon"]
        ))
        return terms

    def generator_terms(self, minibatch, fake, inputs, fake_auxiliary, training=True):
        """The AC-GAN class head: generated samples should be classified as their labels."""
        if not self.has_class_head:
            return {}
        return {"g_cls_loss": (self.classification_weight, lambda: self._classification_loss(inputs["labels"], fake_auxiliary))}

    # ------------------------------------------------------------------ serving

    def _checked_labels(self, labels):
        """Labels with in-graph range checks, so a served request with a bad label fails loudly."""
        checks = [
            tf.debugging.assert_non_negative(labels, message="labels must be >= 0"),
            tf.debugging.assert_less(labels, tf.constant(self.num_classes, labels.dtype), message=f"labels must be < num_classes={self.num_classes}"),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(labels)

    def serving_endpoints(self):
        """Named `tf.function`s with explicit input signatures, for `kgan.export`.

        * ``serving_default(z float32 [N, latent_dim], labels int32 [N])`` ->
          ``images`` float32 in [-1, 1], ``images_uint8`` and
          ``images_png_bytes`` (points models: ``samples`` float32).
        * ``sample(labels int32 [N], seed int64 [])`` -> the same outputs for
          ``z = stateless_normal([N, latent_dim], seed=[seed, 0])``; equals
          ``generate(labels=labels, seed=seed)``; ``1 <= N``.

        ``N <=`` the export's ``max_batch_size`` (`kgan.serving.MAX_SAMPLED_IMAGES`
        by default) in both. Labels outside ``[0, num_classes)``, a z/labels
        batch mismatch, inputs of another rank, a z of another width or a
        batch over the bound fail with an InvalidArgument error.
        """
        latent_dim = self.latent_dim

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.float32, name="z"),
                tf.TensorSpec([None], tf.int32, name="labels"),
            ]
        )
        def serving_default(z, labels):
            z, labels = serving.checked_batch_sizes({"z": z, "labels": labels})
            z = serving.checked_vectors(z, latent_dim, "z")
            return serving.generator_outputs(self([z, self._checked_labels(labels)], training=False))

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.int32, name="labels"), tf.TensorSpec([], tf.int64, name="seed")]
        )
        def sample(labels, seed):
            labels = self._checked_labels(labels)
            count = serving.checked_count(tf.shape(labels)[0], name="the number of labels")
            z = tf.random.stateless_normal(tf.stack([count, latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)]))
            return serving.generator_outputs(self([z, labels], training=False))

        return {"serving_default": serving_default, "sample": sample}

    # ------------------------------------------------------------------ checks & config

    def batch_value_checks(self, batch):
        images, labels = batch
        return super().batch_value_checks(images) + [graph_checks.ValueCheck("labels", labels, "labels", num_classes=self.num_classes)]

    def check_batch(self, batch):
        batch = self.unpack_batch(batch)
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError(
                "ConditionalGAN trains on (images, labels) batches with int labels [batch]; got "
                f"{type(batch).__name__}{'' if isinstance(batch, (tuple, list)) else ' (images only?)'}. Use "
                "kgan.data.load_images(name, with_labels=True), a dataset of (images, labels) pairs, or "
                "model.fit(images, labels)."
            )
        images, labels = batch
        super().check_batch(images)
        check_label_batch(labels, self.num_classes, int(images.shape[0]))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "classification_weight": self.classification_weight,
            "classify_generated": self.classify_generated,
            "gradient_penalty_weight": self.gradient_penalty_weight,
        }


def _register():
    from kgan import configs, registry

    registry.register(registry.ModelSpec("conditional_gan", ConditionalGAN, configs.ConditionalGANConfig, configs.CONDITIONAL_PRESETS))


_register()
