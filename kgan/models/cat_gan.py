"""`CatGAN`: the categorical GAN of Springenberg (2016), unsupervised and semi-supervised.

Springenberg (2016), "Unsupervised and Semi-supervised Learning with
Categorical Generative Adversarial Networks" (ICLR). The discriminator is a
K-way classifier, p(y | x, D) = softmax(D(x)); instead of telling real from
fake it should be *certain* of real samples, *uncertain* of generated ones,
and use every class equally on real data; the generator wants its samples
classified with certainty and spread over the classes. With H the entropy
(nats), the objectives (Sec. 3.3, eq. 7) are

    L_D = max_D  H_X[p(y | D)] - E_x H[p(y | x, D)] + E_z H[p(y | G(z), D)]
    L_G = min_G -H_G[p(y | D)] + E_z H[p(y | G(z), D)]

where H_X[p(y | D)] is the entropy of the *marginal* class distribution over
the data and H_G that over generated samples, both estimated on a batch as the
entropy of the mean prediction (Sec. 3.4, eq. 9: H[1/N sum_i p(y | x_i, D)]),
and E H[p(y | x, D)] is the mean entropy of each example's prediction (the
*conditional* entropy). kgan minimises, so D descends ``-L_D``'s bracket:

    d_loss = -H[mean_x p(y|x)] + mean_x H[p(y|x)] - mean_z H[p(y|G(z))]
    g_loss =  mean_z H[p(y|G(z))] - H[mean_z p(y|G(z))]

Semi-supervised (Sec. 4, eq. 10): D also minimises ``supervised_weight``
(lambda) times the cross-entropy of the labelled examples' true classes,
``CE(y, p(y | x, D))``; G is unchanged.

``marginal_entropy_weight`` (w, default 1: the paper's objective) scales both
marginal terms, ``-w H[mean p(y|x)]`` in D's loss and ``-w H[mean p(y|G(z))]``
in G's (see `CatGAN`).

The batch estimates are of the *global* batch under `tf.distribute`: the
marginal's value is the mean prediction over every replica's rows and the
cross-entropy is normalised by the labelled examples of all replicas, with
gradients scaled so that N replicas step as one device would
(`marginal_entropy`, `supervised_cross_entropy`).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from kgan import serving
from kgan.arguments import check_weight
from kgan.data import graph_checks
from kgan.models.base import replica_info
from kgan.models.conditional_gan import check_label_batch
from kgan.models.gan import GAN

#: The label of an example whose class is unknown (semi-supervised batches).
UNLABELLED = -1
# Floor under the marginal's probabilities inside the log: a class no example
# predicts (p = 0 after softmax underflow) contributes 0 * log(1e-30) = 0, with a
# finite gradient, where log(0) would give NaN.
_TINY = 1e-30


# ---------------------------------------------------------------------- the entropy terms


def _replica_sum(value):
    """``value`` summed over the replicas of the current step (itself outside `tf.distribute`); no gradient."""
    _, num_replicas = replica_info()
    if num_replicas == 1:
        return value
    return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, tf.stop_gradient(value))


def conditional_entropy(logits):
    """``E_x H[p(y | x)]``: the mean entropy (nats) of each example's prediction; float32 scalar in [0, log K].

    0 when every prediction is one-hot, log K when every one is uniform.

    Args:
      logits: ``[B, K]`` class logits of D (any float dtype).
    """
    logits = tf.cast(logits, tf.float32)
    per_example = -tf.reduce_sum(tf.nn.softmax(logits) * tf.nn.log_softmax(logits), axis=-1)
    return tf.reduce_mean(per_example)


def marginal_entropy(logits):
    """``H[1/B sum_i p(y | x_i)]``: the entropy (nats) of the batch's mean prediction; float32 scalar in [0, log K].

    log K when the batch uses every class equally (whatever each example's
    certainty), 0 when every example predicts the same one-hot class.

    Under `tf.distribute` the value is that of the *global* batch (the mean
    prediction of every replica's rows, all-reduced), and the gradient through
    this replica's rows is N times its share, so that the base's division by
    N and the sum of replica gradients give the one-device gradient exactly.

    Args:
      logits: ``[B, K]`` class logits of D (any float dtype).
    """
    mean = tf.reduce_mean(tf.nn.softmax(tf.cast(logits, tf.float32)), axis=0)
    _, num_replicas = replica_info()
    if num_replicas > 1:
        everyone = _replica_sum(mean) / num_replicas  # Equal replica batches: the mean of the means.
        mean = tf.stop_gradient(everyone) + (mean - tf.stop_gradient(mean))
    return -tf.reduce_sum(mean * tf.math.log(tf.maximum(mean, _TINY)))


def supervised_cross_entropy(logits, labels):
    """Mean cross-entropy ``CE(y, p(y | x))`` over the labelled examples (label >= 0); float32 scalar >= 0.

    Unlabelled examples (`UNLABELLED`, -1) contribute nothing; a batch without
    a labelled example gives 0. Under `tf.distribute` the mean is over the
    labelled examples of *all* replicas (the count is all-reduced; this
    replica's sum is scaled by N for the base's division), so a replica that
    happens to hold few labelled rows weighs them as one device would.

    Args:
      logits: ``[B, K]`` class logits of D.
      labels: int ``[B]`` in ``{-1} ∪ [0, K)``.
    """
    labels = tf.cast(labels, tf.int32)
    labelled = labels >= 0
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.maximum(labels, 0), logits=tf.cast(logits, tf.float32))
    total = tf.reduce_sum(tf.where(labelled, losses, 0.0))
    _, num_replicas = replica_info()
    count = _replica_sum(tf.reduce_sum(tf.cast(labelled, tf.float32)))
    return num_replicas * total / tf.maximum(count, 1.0)


# ---------------------------------------------------------------------- labels that may be missing


def check_partial_label_batch(labels, num_clusters: int, batch_size: int | None = None) -> None:
    """Raises ValueError unless ``labels`` are int ``[B]`` holding -1 (unlabelled) or a class in ``[0, K)``.

    The dtype, shape and batch-size checks (and their hints) are
    `kgan.models.conditional_gan.check_label_batch`'s.
    """
    values = labels.numpy() if isinstance(labels, (tf.Tensor, tf.Variable)) and not tf.is_symbolic_tensor(labels) else labels
    if not isinstance(values, (tf.Tensor, tf.Variable)):
        values = np.asarray(values)
        if np.issubdtype(values.dtype, np.integer) and values.size and (values.min() < UNLABELLED or values.max() >= num_clusters):
            raise ValueError(
                f"labels must be {UNLABELLED} (unlabelled) or class indices in [0, {num_clusters}) for "
                f"num_clusters={num_clusters}; got values in [{values.min()}, {values.max()}]. Semi-supervised "
                f"training needs num_clusters = the number of classes."
            )
        values = np.where(values == UNLABELLED, 0, values)  # The rest is an ordinary label batch.
    check_label_batch(values, num_clusters, batch_size)


@dataclasses.dataclass(frozen=True)
class PartialLabelCheck(graph_checks.ValueCheck):
    """The in-graph check of semi-supervised labels: integers in ``{-1} ∪ [0, num_classes)``.

    A `kgan.data.graph_checks.ValueCheck` of kind ``"labels"`` whose range
    admits `UNLABELLED`; `assert_batch_values` takes it like any other.
    """

    def holds(self):
        labels = tf.cast(self.values, tf.int64)
        return tf.reduce_all((labels >= UNLABELLED) & (labels < self.num_classes))

    def problem(self):
        labels = tf.cast(self.values, tf.int64)
        return tf.strings.join([
            f"{self.name} must be {UNLABELLED} (unlabelled) or class indices in [0, {self.num_classes}); got values in [",
            tf.strings.as_string(tf.reduce_min(labels)), ", ", tf.strings.as_string(tf.reduce_max(labels)), "]. ",
            "Check the label mapping of the data.",
        ])


# ---------------------------------------------------------------------- the model


@keras.saving.register_keras_serializable(package="kgan")
class CatGAN(GAN):
    """Categorical GAN (Springenberg 2016): a K-way classifier D against a generator G, trained with `fit`.

    The objectives and their batch estimates are in the module docstring
    (eq. 7, 9 and 10 of the paper). Everything else is `GAN`'s: k
    discriminator steps per generator step (each on its own real
    minibatch), the noise streams, sampling (``generate``,
    ``sampling_inputs``, grids, ``serving_default`` and ``sample``), and the
    remedies (feature matching on D's last hidden features, consensus
    optimization, historical averaging, generator EMA, DiffAugment). GAN's
    loss families and label smoothing do not apply.

    Batches:

    * unsupervised: the samples alone, images ``[B, H, W, C]`` in [-1, 1] or
      points ``[B, D]`` (``fit(images)``, ``kgan.data.load_images(name)``);
    * semi-supervised: ``(samples, labels)`` with int labels ``[B]``, -1
      (`UNLABELLED`) for an example whose class is unknown and the class in
      ``[0, K)`` otherwise (``fit(images, labels)``). Every example feeds the
      entropy terms; the labelled ones also the cross-entropy. How many
      labelled examples a batch holds is the data pipeline's choice
      (``train/cat_gan.py`` puts ``--labelled_batch_size`` of them into every
      minibatch); with k discriminator steps each minibatch's labelled rows
      count in its own step.

    Args:
      generator: `keras.Model` z ``[B, latent_dim]`` -> samples (GAN's builders).
      discriminator: `keras.Model` samples -> ``class_logits [B, K]``, K >= 2
        (`kgan.networks.categorical_dcgan_discriminator`,
        `kgan.networks.categorical_mlp_discriminator`); K is `num_clusters`.
      latent_dim: size of z (standard normal).
      supervised_weight: lambda of the semi-supervised cross-entropy (eq. 10,
        >= 0); it applies to batches with labels only. 0 disables it.
      marginal_entropy_weight: w > 0, the weight of both marginal entropies
        (D's on real data, G's on its samples); the paper's objective is
        w = 1. A larger w favours clusterings that use every class equally
        over locally sharper ones: on the ring of 8 Gaussians, w = 1 left
        some seeds with two modes in one cluster and another mode split in
        two (accuracy 7/8), w = 2 found all eight (tests/test_cat_gan.py).
        IMSAT (Hu et al. 2017) trades the two entropies off alike (its mu
        weighs the conditional one).
      discriminator_steps: k >= 1.
      seed: seeds all training noise.
      feature_matching, feature_matching_layer, historical_averaging,
        consensus, generator_ema, diff_augment: `GAN`'s remedies.
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means, nats): ``d_loss``, ``g_loss``; in D's step
    ``real_marginal_entropy`` (H[mean p(y|x)], best log K),
    ``real_conditional_entropy`` (best 0) and ``fake_conditional_entropy``
    (D wants log K); in G's step ``fake_marginal_entropy`` (G wants log K;
    G's conditional entropy is ``g_loss + fake_marginal_entropy``); with
    ``supervised_weight > 0`` ``supervised_cross_entropy`` (unweighted; 0 for
    a minibatch without labelled examples).
    """

    # D is a per-sample classifier whose entropies define the game: none of GAN's step options fit.
    training_options = ()

    metric_names = ("d_loss", "g_loss", "real_marginal_entropy", "real_conditional_entropy", "fake_conditional_entropy",
                    "fake_marginal_entropy")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        supervised_weight: float = 1.0,
        marginal_entropy_weight: float = 1.0,
        discriminator_steps: int = 1,
        seed: int = 0,
        feature_matching: float = 0.0,
        feature_matching_layer: str | None = None,
        historical_averaging: float = 0.0,
        consensus: float = 0.0,
        generator_ema: float = 0.0,
        diff_augment: str = "",
        **kwargs,
    ):
        if len(discriminator.inputs) != 1 or len(discriminator.outputs) != 1 or len(discriminator.outputs[0].shape) != 2:
            raise ValueError(
                f"The discriminator must map samples to class logits [B, K] (one input, one output); {discriminator.name!r} "
                f"has {len(discriminator.inputs)} input(s) and outputs of shape {[tuple(o.shape) for o in discriminator.outputs]}. "
                "Build it with kgan.networks.categorical_dcgan_discriminator or categorical_mlp_discriminator."
            )
        if (discriminator.outputs[0].shape[-1] or 0) < 2:
            raise ValueError(f"The discriminator must predict K >= 2 classes; {discriminator.name!r} has {discriminator.outputs[0].shape[-1]}.")
        supervised_weight = check_weight("supervised_weight", supervised_weight)
        marginal_entropy_weight = check_weight("marginal_entropy_weight", marginal_entropy_weight, positive=True)
        # Trackers are made from metric_names in AdversarialModel.__init__.
        self.metric_names = CatGAN.metric_names + (("supervised_cross_entropy",) if supervised_weight else ())
        super().__init__(
            generator, discriminator, latent_dim, discriminator_steps=discriminator_steps, seed=seed,
            feature_matching=feature_matching, feature_matching_layer=feature_matching_layer,
            historical_averaging=historical_averaging, consensus=consensus, generator_ema=generator_ema,
            diff_augment=diff_augment, **kwargs,
        )
        self.supervised_weight = supervised_weight
        self.marginal_entropy_weight = marginal_entropy_weight

    @property
    def num_clusters(self) -> int:
        """K: the classes D predicts (its output width). Not ``num_classes``: CatGAN's samples have no label."""
        return int(self.discriminator.output_shape[-1])

    def compile(self, *args, jit_compile="auto", **kwargs):
        """`AdversarialModel.compile`; XLA gradients only on one replica.

        The global-batch marginal (`marginal_entropy`) all-reduces inside the
        loss, and a cross-replica reduction cannot run inside the nested XLA
        function of each update (TF 2.21: "merge_call called while defining a
        new graph"). So under several replicas ``"auto"`` means no XLA and
        ``jit_compile=True`` is refused.
        """
        replicas = self.distribute_strategy.num_replicas_in_sync
        if replicas > 1 and jit_compile is True:
            raise ValueError(
                f"CatGAN cannot compile its updates with XLA under {replicas} replicas (the marginal entropy is "
                "all-reduced inside the loss); use jit_compile=False or 'auto'."
            )
        if replicas > 1 and jit_compile == "auto":
            jit_compile = False
        return super().compile(*args, jit_compile=jit_compile, **kwargs)

    # ------------------------------------------------------------------ classification

    def class_probabilities(self, samples):
        """p(y | x, D) of real or generated samples: float32 ``[N, K]`` (numpy); rows sum to 1.

        Args:
          samples: ``[N, *sample_shape]`` (images in [-1, 1]), numpy or tensor.
            D runs in inference mode on `kgan.serving.MAX_SAMPLED_IMAGES` of
            them at a time.
        """
        def probabilities(chunk):
            return tf.nn.softmax(self.discriminate(tf.convert_to_tensor(chunk, tf.float32), training=False)[0])

        return np.asarray(serving.in_chunks(probabilities, samples))

    def predict_clusters(self, samples) -> np.ndarray:
        """D's class of each sample (argmax of `class_probabilities`): int64 ``[N]`` in ``[0, K)``.

        The clusters of the unsupervised evaluation
        (`kgan.metrics.clustering_scores`); the predicted classes in the
        semi-supervised mode.
        """
        return np.argmax(self.class_probabilities(samples), axis=-1)

    # ------------------------------------------------------------------ batches

    @staticmethod
    def samples_and_labels(minibatch):
        """``(samples, labels int32 [B] or None)`` of a batch: samples alone, or ``(samples, labels)``."""
        if isinstance(minibatch, (tuple, list)):
            samples, labels = minibatch
            return samples, tf.cast(labels, tf.int32)
        return minibatch, None

    def real_parts(self, minibatch):
        """GAN's seam: the real samples and no condition (D sees samples only; labels are for the cross-entropy)."""
        return self.samples_and_labels(minibatch)[0], None

    def check_batch(self, batch):
        batch = self.unpack_batch(batch)
        if isinstance(batch, (tuple, list)):
            if len(batch) != 2:
                raise ValueError(
                    f"CatGAN trains on samples, or (samples, labels) with label -1 for unlabelled examples; got a "
                    f"{type(batch).__name__} of {len(batch)}."
                )
            samples, labels = batch
            super().check_batch(samples)
            check_partial_label_batch(labels, self.num_clusters, int(samples.shape[0]))
            return
        super().check_batch(batch)

    def batch_value_checks(self, batch):
        if isinstance(batch, (tuple, list)):
            samples, labels = batch
            return super().batch_value_checks(samples) + [PartialLabelCheck("labels", labels, "labels", num_classes=self.num_clusters)]
        return super().batch_value_checks(batch)

    # ------------------------------------------------------------------ losses

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D's loss: ``-H[mean p(y|x)] + E H[p(y|x)] - E H[p(y|G(z))]`` (eq. 7 negated) ``+ lambda CE`` (eq. 10).

        Returns ``(loss, extras)``; extras hold the three entropies and, for a
        batch with labels and ``supervised_weight > 0``, the unweighted
        ``supervised_cross_entropy``.
        """
        real, labels = self.samples_and_labels(minibatch)
        fake = self.generate_batch(inputs["z"], None, training)
        real_logits, _ = self.discriminate(real, None, inputs.get("augment_real"), training)
        fake_logits, _ = self.discriminate(fake, None, inputs.get("augment_fake"), training)
        extras = {
            "real_marginal_entropy": marginal_entropy(real_logits),
            "real_conditional_entropy": conditional_entropy(real_logits),
            "fake_conditional_entropy": conditional_entropy(fake_logits),
        }
        # Certain on real data, every class used on it, uncertain on generated samples.
        loss = (-self.marginal_entropy_weight * extras["real_marginal_entropy"] + extras["real_conditional_entropy"]
                - extras["fake_conditional_entropy"])
        weight = self.supervised_weight if labels is not None else 0.0
        return self.weighted_terms(
            loss, extras, supervised_cross_entropy=(weight, lambda: supervised_cross_entropy(real_logits, labels))
        )

    def generator_loss(self, minibatch, inputs, training=True):
        """G's loss: ``E H[p(y|G(z))] - H[mean p(y|G(z))]`` (eq. 7), plus feature matching when enabled.

        ``minibatch`` (the step's last real one) is used by feature matching only.
        """
        fake = self.generate_batch(inputs["z"], None, training)
        fake_logits, _ = self.discriminate(fake, None, inputs.get("augment_fake"), training)
        extras = {"fake_marginal_entropy": marginal_entropy(fake_logits)}
        # Samples D classifies with certainty, spread over all K classes.
        loss = conditional_entropy(fake_logits) - self.marginal_entropy_weight * extras["fake_marginal_entropy"]
        return self.weighted_terms(loss, extras, feature_matching=(
            self.feature_matching, lambda: self._feature_matching(minibatch, fake, inputs, training)
        ))

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """GAN's ``serving_default(z)`` and ``sample(num_images, seed)``, plus D as a classifier.

        * images: ``classify(images float32 [N, H, W, C] in [-1, 1])`` and
          ``classify_uint8(images uint8 [N, H, W, C])``;
          points: ``classify(points float32 [N, D])``;
        * each returns ``probabilities`` float32 ``[N, K]`` (p(y | x, D),
          rows summing to 1) and ``classes`` int32 ``[N]`` (their argmax: the
          cluster, or the class in the semi-supervised mode).

        Inputs are checked in the graph (`kgan.serving.checked_images`,
        `checked_vectors`: rank, shape, range, at most the export's
        ``max_batch_size`` examples) and fail with InvalidArgument naming them.
        """
        endpoints = super().serving_endpoints()
        shape = tuple(self.discriminator.input_shape[1:])

        def classified(samples):
            probabilities = tf.nn.softmax(self.discriminate(samples, training=False)[0])
            return {"probabilities": probabilities, "classes": tf.argmax(probabilities, axis=-1, output_type=tf.int32)}

        endpoints.update(serving.sample_input_endpoints("classify", classified, shape))
        return endpoints

    # ------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        for unused in ("loss", "label_smoothing"):  # GAN's; CatGAN's objective has neither.
            config.pop(unused)
        return {**config, "supervised_weight": self.supervised_weight, "marginal_entropy_weight": self.marginal_entropy_weight}


def _register():
    from kgan import registry
    from kgan.configs import cat_gan as cat_gan_configs

    registry.register(registry.ModelSpec("cat_gan", CatGAN, cat_gan_configs.CatGANConfig, cat_gan_configs.PRESETS))


_register()
