"""`AdversarialAutoencoder`: an autoencoder whose codes a discriminator pushes to a prior (Makhzani et al. 2016).

Makhzani, Shlens, Jaitly, Goodfellow and Frey (2016), "Adversarial
Autoencoders" (ICLR workshop). An encoder q(z | x) and a decoder p(x | z) are
trained to reconstruct x, while a discriminator on the *latent* space tells
codes z = E(x) from samples of a prior p(z) and the encoder, as the GAN's
generator, learns to fool it. The aggregated posterior q(z) then matches p(z),
so decoding prior samples gives data samples (Sec. 2). Each step runs the
paper's two phases (Sec. 2, "reconstruction phase", "regularization phase"):

    d_loss       = BCE(D(z ~ p(z)) -> real) + BCE(D(E(x)) -> fake)            (D)
    encoder_loss = BCE(D(E(x)) -> real)                  (E, the non-saturating G loss)
    recon_loss   = mean over pixels of (x - Dec(E(x)))^2                  (E and Dec)

Priors (`LatentPrior`): ``"gaussian"`` N(0, I); ``"mixture"``, K Gaussians
whose means lie on a circle in the first two code dimensions (the paper's
mixture of 10 2-D Gaussians, Fig. 2, and its semi-supervised mixture).

Unsupervised clustering (Sec. 6, Fig. 9): with ``num_clusters=K`` the encoder
outputs K logits y beside the style code z; the decoder reconstructs from
``[softmax(y), z]``; a second discriminator (``category_discriminator``)
pushes softmax(y) to one-hot samples of a uniform categorical prior while the
first pushes z to the prior. argmax y is then x's cluster.

Supervised (Sec. 5, Fig. 6-7): with ``num_classes=K`` batches are ``(x,
labels)`` and the decoder reconstructs from ``[one_hot(label), z]``, so z
need not carry the class and holds the *style*: decoding one z with each
label draws one style in every class. With a ``"mixture"`` prior of K
components as well, the prior is label-conditioned (Sec. 4, Fig. 4): a
prior draw comes from the component of its (random) label, x's code is
pushed to the component of x's label, and the discriminator sees the
one-hot label beside z.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from kgan import losses, serving
from kgan.data import graph_checks
from kgan.models.base import AdversarialModel, Phase, stream, uniform_categories
from kgan.models.conditional_gan import check_label_batch

#: The latent priors `AdversarialAutoencoder` takes.
PRIORS = ("gaussian", "mixture")


@dataclasses.dataclass(frozen=True)
class LatentPrior:
    """p(z): the distribution the discriminator pushes the codes to.

    Attributes:
      kind: ``"gaussian"`` (N(0, I)) or ``"mixture"``.
      latent_dim: size of z.
      num_components: mixture only: K equal-weight components.
      radius: mixture only: component k's mean is ``radius * (cos 2 pi k / K,
        sin 2 pi k / K)`` in dimensions 0 and 1 (0 elsewhere).
      std: mixture only: each component's standard deviation, every dimension.
    """

    kind: str = "gaussian"
    latent_dim: int = 8
    num_components: int = 10
    radius: float = 4.0
    std: float = 0.5

    def __post_init__(self):
        if self.kind not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}; got {self.kind!r}.")
        if isinstance(self.latent_dim, bool) or int(self.latent_dim) < 1:
            raise ValueError(f"latent_dim must be >= 1; got {self.latent_dim!r}.")
        if self.kind == "mixture":
            if int(self.latent_dim) < 2:
                raise ValueError("a mixture prior lays its means out in two dimensions: latent_dim must be >= 2.")
            if isinstance(self.num_components, bool) or int(self.num_components) < 2:
                raise ValueError(f"a mixture prior needs num_components >= 2; got {self.num_components!r}.")
            if not (math.isfinite(self.radius) and self.radius > 0 and math.isfinite(self.std) and self.std > 0):
                raise ValueError(f"a mixture prior needs a finite radius > 0 and std > 0; got {self.radius!r}, {self.std!r}.")

    @property
    def means(self) -> np.ndarray:
        """float32 ``[K, latent_dim]``: the mixture's component means."""
        angles = 2.0 * np.pi * np.arange(self.num_components) / self.num_components
        means = np.zeros([self.num_components, self.latent_dim], np.float32)
        means[:, 0], means[:, 1] = self.radius * np.cos(angles), self.radius * np.sin(angles)
        return means

    def from_noise(self, normal, uniform):
        """z ``[B, latent_dim]`` from standard normal noise ``[B, latent_dim]`` and uniform noise ``[B]`` in [0, 1).

        Gaussian: z = normal. Mixture: component ``floor(u * K)`` (uniform over
        the K), z = its mean + std * normal. Pure TF, so training and the
        exported ``sample`` signature share it.
        """
        if self.kind == "gaussian":
            return normal
        return self.from_components(normal, uniform_categories(uniform, self.num_components))

    def from_components(self, normal, components):
        """Mixture: z = mean of component ``components`` (int ``[B]``) + std * normal; Gaussian: z = normal."""
        if self.kind == "gaussian":
            return normal
        return tf.gather(tf.constant(self.means), components) + self.std * normal

    def sample(self, count: int, seed: int = 0) -> np.ndarray:
        """``count`` draws, float32 numpy ``[count, latent_dim]``, from the stateless seed ``seed``."""
        normal = tf.random.stateless_normal([count, self.latent_dim], seed=[seed, 0])
        uniform = tf.random.stateless_uniform([count], seed=[seed, 1])
        return self.from_noise(normal, uniform).numpy()


@keras.saving.register_keras_serializable(package="kgan")
class AdversarialAutoencoder(AdversarialModel):
    """Adversarial autoencoder (Makhzani et al. 2016), trained with `fit` on batches of samples alone.

    Each `train_step` makes, on one minibatch: a discriminator update (both
    discriminators in the clustering variant), the encoder's regularization
    update against them, then the reconstruction update of the encoder and
    the decoder together. The encoder's optimizer takes both of its updates.

    Args:
      encoder: `keras.Model` samples -> codes ``[B, latent_dim]`` (clustering:
        ``[B, num_clusters + latent_dim]``, cluster logits first);
        `kgan.networks.bigan.dcgan_encoder`, `kgan.networks.bigan.mlp_encoder`.
      decoder: `keras.Model` codes ``[B, latent_dim]`` (clustering: ``[B,
        num_clusters + latent_dim]``, the softmax first; supervised: ``[B,
        num_classes + latent_dim]``, the one-hot label first) -> samples
        (images ``[B, H, W, C]`` in [-1, 1], or points); GAN's generators.
      discriminator: `keras.Model` z ``[B, latent_dim]`` -> logits ``[B, 1]``
        (e.g. `kgan.networks.mlp_discriminator(latent_dim)`; with a
        label-conditioned prior ``[B, num_classes + latent_dim]``, the one-hot
        label first).
      latent_dim: size of z (the style code in the clustering variant).
      category_discriminator: clustering only: `keras.Model` ``[B,
        num_clusters]`` -> logits ``[B, 1]``, judging softmax(y) against one-hot samples.
      num_clusters: K >= 2 for the clustering variant (Sec. 6); 0 for none.
      num_classes: K >= 2 for the supervised variant (Sec. 5: batches
        ``(samples, labels int [B] in [0, K))``, the label given to the
        decoder; with a mixture prior of K components, also Sec. 4's
        label-conditioned prior); 0 for none.
      prior: ``"gaussian"`` or ``"mixture"`` (`LatentPrior`).
      prior_components, prior_radius, prior_std: the mixture's (`LatentPrior`).
      reconstruction_weight: weight of the reconstruction loss (> 0).
      seed: seeds all training noise.
      historical_averaging: `AdversarialModel`'s remedy. (Generator EMA and
        DiffAugment do not apply: there is no ``"generator"`` group and no
        discriminator of images.)
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``encoder_loss`` (the regularization
    phase's), ``reconstruction_loss``; ``d_real``/``d_fake`` (D's mean logits
    on prior samples and on codes).
    """

    metric_names = ("d_loss", "encoder_loss", "reconstruction_loss", "d_real", "d_fake")

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        category_discriminator: keras.Model | None = None,
        num_clusters: int = 0,
        num_classes: int = 0,
        prior: str = "gaussian",
        prior_components: int = 10,
        prior_radius: float = 4.0,
        prior_std: float = 0.5,
        reconstruction_weight: float = 1.0,
        seed: int = 0,
        historical_averaging: float = 0.0,
        **kwargs,
    ):
        self.prior = LatentPrior(prior, int(latent_dim), int(prior_components), float(prior_radius), float(prior_std))
        self.latent_dim = int(latent_dim)
        if isinstance(num_clusters, bool) or int(num_clusters) < 0 or int(num_clusters) == 1:
            raise ValueError(f"num_clusters must be 0 (no clustering) or >= 2; got {num_clusters!r}.")
        self.num_clusters = int(num_clusters)
        if isinstance(num_classes, bool) or int(num_classes) < 0 or int(num_classes) == 1:
            raise ValueError(f"num_classes must be 0 (unsupervised) or >= 2; got {num_classes!r}.")
        self.num_classes = int(num_classes)
        if self.num_classes and self.num_clusters:
            raise ValueError("num_clusters (clusters found without labels) and num_classes (labels given) exclude each other.")
        # Sec. 4: the label picks the mixture component its codes are pushed to.
        self.label_conditioned_prior = bool(self.num_classes) and self.prior.kind == "mixture"
        if self.label_conditioned_prior and self.prior.num_components != self.num_classes:
            raise ValueError(f"A label-conditioned mixture prior has one component per class: prior_components must be "
                             f"num_classes ({self.num_classes}); got {self.prior.num_components}.")
        if (category_discriminator is None) != (self.num_clusters == 0):
            raise ValueError("The clustering variant takes num_clusters >= 2 and a category_discriminator; give both or neither.")
        if not (math.isfinite(reconstruction_weight) and reconstruction_weight > 0):
            raise ValueError(f"reconstruction_weight must be a finite number > 0; got {reconstruction_weight!r}.")
        self.reconstruction_weight = float(reconstruction_weight)
        code_width = self.num_clusters + self.latent_dim
        widths = (("encoder", encoder, "outputs", code_width), ("decoder", decoder, "inputs", code_width + self.num_classes))
        for name, network, axis, width in widths:
            if len(getattr(network, axis)) != 1 or getattr(network, axis)[0].shape[-1] != width:
                raise ValueError(
                    f"The {name}'s codes must be [B, {width}] (num_clusters {self.num_clusters}"
                    f"{f' + num_classes {self.num_classes}' if name == 'decoder' and self.num_classes else ''} + latent_dim "
                    f"{self.latent_dim}); {network.name!r} has {[tuple(t.shape) for t in getattr(network, axis)]}."
                )
        if tuple(encoder.input_shape[1:]) != tuple(decoder.output_shape[1:]):
            raise ValueError(f"The encoder takes samples of shape {tuple(encoder.input_shape[1:])} but the decoder makes "
                             f"{tuple(decoder.output_shape[1:])}; build both for the data's shape.")
        judged_width = self.latent_dim + (self.num_classes if self.label_conditioned_prior else 0)
        for name, network, width in (("discriminator", discriminator, judged_width),
                                     ("category_discriminator", category_discriminator, self.num_clusters)):
            if network is not None and (len(network.inputs) != 1 or network.inputs[0].shape[-1] != width):
                raise ValueError(f"The {name} judges codes [B, {width}]; {network.name!r} takes "
                                 f"{[tuple(t.shape) for t in network.inputs]}.")
        networks = {"encoder": encoder, "decoder": decoder, "discriminator": discriminator}
        if category_discriminator is not None:
            networks["category_discriminator"] = category_discriminator
        # Groups are per instance: the clustering variant has a fourth network.
        self.groups = {name: (name,) for name in networks}
        super().__init__(networks, seed=seed, historical_averaging=historical_averaging, **kwargs)
        self.loss_family = losses.get_loss_family("non_saturating")

    def network_names(self) -> tuple:  # An instance's groups (the clustering variant adds one).
        return tuple(name for names in self.groups.values() for name in names)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("encoder", "decoder", "discriminator", "category_discriminator"):
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    # ------------------------------------------------------------------ codes

    @property
    def sample_shape(self):
        """Shape of one sample, e.g. ``(28, 28, 1)``."""
        return tuple(self.decoder.output_shape[1:])

    def split_codes(self, codes):
        """``(cluster_logits [B, K] or None, z [B, latent_dim])`` of the encoder's output."""
        codes = tf.cast(codes, tf.float32)
        if not self.num_clusters:
            return None, codes
        return codes[:, : self.num_clusters], codes[:, self.num_clusters :]

    def decoder_codes(self, cluster_logits, z, labels=None):
        """The decoder's input: z; ``[softmax(cluster logits), z]`` (clustering); ``[one_hot(labels), z]`` (supervised)."""
        if self.num_classes:
            if labels is None:
                raise ValueError(f"The supervised autoencoder decodes with labels (int [N] in [0, {self.num_classes})); pass them.")
            return tf.concat([self.one_hot(labels), z], axis=-1)
        return z if cluster_logits is None else tf.concat([tf.nn.softmax(cluster_logits), z], axis=-1)

    def one_hot(self, labels):
        """float32 ``[B, num_classes]`` of int labels ``[B]``."""
        return tf.one_hot(tf.cast(labels, tf.int32), self.num_classes, dtype=tf.float32)

    def sample_parts(self, minibatch):
        """``(samples, labels int32 [B] or None)`` of a training minibatch (``(samples, labels)`` when supervised)."""
        if self.num_classes:
            samples, labels = minibatch
            return samples, tf.cast(labels, tf.int32)
        return minibatch, None

    def encode(self, samples, batch_size: int = 500):
        """E's z of real samples, float32 numpy ``[N, latent_dim]`` (the style code in the clustering variant)."""
        return self._encoded(samples, batch_size)[1]

    def predict_clusters(self, samples, batch_size: int = 500):
        """Clustering variant: argmax of the cluster logits, int64 numpy ``[N]``."""
        if not self.num_clusters:
            raise ValueError("predict_clusters needs the clustering variant (num_clusters >= 2).")
        return np.argmax(self._encoded(samples, batch_size)[0], axis=-1)

    def _encoded(self, samples, batch_size):
        samples = tf.convert_to_tensor(samples, tf.float32)
        logits, codes = [], []
        for i in range(0, int(samples.shape[0]), batch_size):
            y, z = self.split_codes(self.encoder(samples[i : i + batch_size], training=False))
            codes.append(z.numpy())
            logits.append(None if y is None else y.numpy())
        return (None if logits[0] is None else np.concatenate(logits)), np.concatenate(codes)

    def reconstruct(self, samples, labels=None, batch_size: int = 500):
        """Dec(E(x)) (supervised: Dec(label, E(x)), int ``labels`` ``[N]``, e.g. other classes' for x's style in them).

        Returns float32 numpy shaped like ``samples``.
        """
        samples = tf.convert_to_tensor(samples, tf.float32)
        if self.num_classes:
            if labels is None:
                raise ValueError(f"The supervised autoencoder decodes with labels (int [N] in [0, {self.num_classes})); pass them.")
            check_label_batch(labels, self.num_classes, int(samples.shape[0]))
        chunks = []
        for i in range(0, int(samples.shape[0]), batch_size):
            logits, z = self.split_codes(self.encoder(samples[i : i + batch_size], training=False))
            chunk_labels = None if labels is None else np.asarray(labels)[i : i + batch_size]
            chunks.append(self.decoder(self.decoder_codes(logits, z, chunk_labels), training=False).numpy())
        return np.concatenate(chunks)

    def prior_samples(self, count: int, seed: int = 0) -> np.ndarray:
        """z from the prior, float32 numpy ``[count, latent_dim]`` (`LatentPrior.sample`)."""
        return self.prior.sample(count, seed)

    # ------------------------------------------------------------------ sampling

    def call(self, codes, training=False):
        """The decoder on its codes ``[B, K + latent_dim]`` (one-hot cluster or class first, if any): samples, float32."""
        return tf.cast(self.decoder(codes, training=training), tf.float32)

    @property
    def num_categories(self) -> int:
        """K of the one-hot part of the decoder's codes: clusters, classes, or 0."""
        return self.num_clusters or self.num_classes

    def _prior_codes(self, normal, uniform, categories):
        """The decoder's input for prior draws: z, or ``[one-hot category, z]`` (a class's own component, if conditioned)."""
        if self.label_conditioned_prior:
            z = self.prior.from_components(normal, categories)
        else:
            z = self.prior.from_noise(normal, uniform)
        if not self.num_categories:
            return z
        return tf.concat([tf.one_hot(categories, self.num_categories, dtype=tf.float32), z], axis=-1)

    def sampling_inputs(self, num_samples: int, seed: int = 0, offset: int = 0):
        """Decoder inputs of `generate`: prior z (clusters or classes: categories cycling ``0..K-1`` from ``offset``)."""
        num_samples = serving.check_num_samples(num_samples, self.latent_dim + int(np.prod(self.sample_shape)))
        seed = serving.check_seed(seed)
        normal = tf.random.stateless_normal([num_samples, self.latent_dim], seed=[seed, 0])
        uniform = tf.random.stateless_uniform([num_samples], seed=[seed, 1])
        categories = (tf.range(num_samples) + int(offset)) % max(self.num_categories, 1)
        return self._prior_codes(normal, uniform, categories)

    def generate(self, num_samples: int, seed: int = 0):
        """``num_samples`` decoded prior draws for the stateless seed ``seed``: float32 ``[N, *sample_shape]``."""
        return serving.in_chunks(lambda codes: self(codes, training=False), self.sampling_inputs(num_samples, seed))

    def preview_inputs(self, num_samples: int, seed: int = 0):
        """``(inputs, rows)`` of a progress grid: `sampling_inputs` (clusters or classes: one row per category)."""
        return self.sampling_inputs(num_samples, seed), (self.num_categories or None)

    # ------------------------------------------------------------------ phases

    def phases(self):
        """D (both discriminators), E's regularization against them, then E and Dec on the reconstruction.

        The order puts the update that touches only the decoder's group last
        alongside E's second update, so each group's last update of a step is
        its own (what the float16 all-or-nothing step undoes first).
        """
        discriminators = ("discriminator",) + (("category_discriminator",) if self.num_clusters else ())
        return [Phase("discriminator", groups=discriminators, metric="d_loss"),
                Phase("regularization", groups=("encoder",), metric="encoder_loss"),
                Phase("reconstruction", groups=("encoder", "decoder"))]  # Tracks the unweighted error (its extras).

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        """Prior draws for D's update: normal and uniform noise (mixture component), and categories (clustering)."""
        batch_size = self.batch_size_of(minibatch)
        inputs = {
            "normal": self.normal_noise(batch_size, (self.latent_dim,), stream("latent", index), training),
            "uniform": self.uniform_noise(batch_size, (), stream("labels", index), training),
        }
        if self.num_clusters or self.label_conditioned_prior:
            inputs["categories"] = uniform_categories(
                self.uniform_noise(batch_size, (), stream("code", index), training), self.num_categories)
        return inputs

    def regularization_inputs(self, minibatch, index, state=None, training=True):
        """None: E's regularization reads the minibatch alone."""
        return {}

    def reconstruction_inputs(self, minibatch, index, state=None, training=True):
        """None: the reconstruction reads the minibatch alone."""
        return {}

    def _judge_z(self, z, labels, training):
        """D's logits on codes z ``[B, latent_dim]`` (label-conditioned prior: on ``[one_hot(labels), z]``)."""
        if self.label_conditioned_prior:
            z = tf.concat([self.one_hot(labels), z], axis=-1)
        return tf.cast(self.discriminator(z, training=training), tf.float32)

    def _judged_codes(self, minibatch, training):
        """``(D's logits on E(x)'s z, the category D's on softmax(y) or None)``."""
        samples, labels = self.sample_parts(minibatch)
        logits, z = self.split_codes(self.encoder(samples, training=training))
        z_logits = self._judge_z(z, labels, training)
        y_logits = None
        if self.num_clusters:
            y_logits = tf.cast(self.category_discriminator(tf.nn.softmax(logits), training=training), tf.float32)
        return z_logits, y_logits

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D's cross-entropy: prior samples real, codes fake (plus the category D's, clustering)."""
        fake_z, fake_y = self._judged_codes(minibatch, training)
        if self.label_conditioned_prior:  # Each prior draw from the component of its label, shown with the label.
            prior = self.prior.from_components(inputs["normal"], inputs["categories"])
            real_z = self._judge_z(prior, inputs["categories"], training)
        else:
            real_z = self._judge_z(self.prior.from_noise(inputs["normal"], inputs["uniform"]), None, training)
        loss = self.loss_family.discriminator(real_z, fake_z, 0.0)
        extras = {"d_real": tf.reduce_mean(real_z), "d_fake": tf.reduce_mean(fake_z)}
        if self.num_clusters:
            one_hot = tf.one_hot(inputs["categories"], self.num_clusters, dtype=tf.float32)
            real_y = tf.cast(self.category_discriminator(one_hot, training=training), tf.float32)
            loss = loss + self.loss_family.discriminator(real_y, fake_y, 0.0)
        return loss, extras

    def regularization_loss(self, minibatch, inputs, training=True):
        """E's non-saturating loss: its codes judged as prior samples (both Ds, clustering)."""
        fake_z, fake_y = self._judged_codes(minibatch, training)
        loss = self.loss_family.generator(fake_z)
        if fake_y is not None:
            loss = loss + self.loss_family.generator(fake_y)
        return loss, {}

    def reconstruction_loss(self, minibatch, inputs, training=True):
        """``reconstruction_weight`` x the mean squared error of Dec(E(x)) (supervised: Dec(label, E(x))) against x (logged unweighted)."""
        samples, labels = self.sample_parts(minibatch)
        logits, z = self.split_codes(self.encoder(samples, training=training))
        reconstructed = tf.cast(self.decoder(self.decoder_codes(logits, z, labels), training=training), tf.float32)
        error = tf.reduce_mean(tf.square(tf.cast(samples, tf.float32) - reconstructed))
        return self.reconstruction_weight * error, {"reconstruction_loss": error}

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s for `kgan.export`.

        * ``decode(codes float32 [N, K + latent_dim])`` (also
          ``serving_default``) -> `kgan.serving.generator_outputs` of the
          decoder (clustering or supervised: the one-hot cluster or class
          first, then z; K = 0 otherwise);
        * ``sample(num_images int32 [], seed int64 [])`` -> the same for prior
          draws (clusters or classes cycling 0..K-1); equals `generate`;
        * ``encode(images)`` (``encode_uint8``; points: ``encode(points)``) ->
          ``z`` float32 ``[N, latent_dim]`` (clustering: also ``cluster``
          int32 ``[N]`` and ``cluster_probabilities`` ``[N, K]``);
        * ``reconstruct(images)`` (``reconstruct_uint8``) -> the decoder's
          outputs on E(x); supervised: ``reconstruct(images, classes float32
          [N, K] in [0, 1])``, the decoder on ``[classes, E(x)]`` (one-hot
          rows: x's style drawn in those classes).

        Inputs are checked in the graph and fail with InvalidArgument naming them.
        """
        width = self.num_categories + self.latent_dim
        shape = tuple(self.encoder.input_shape[1:])

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="codes")])
        def decode(codes):
            return serving.generator_outputs(self(serving.checked_vectors(codes, width, "codes"), training=False))

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int64, name="seed")])
        def sample(num_images, seed):
            num_images = serving.checked_count(num_images)
            normal = tf.random.stateless_normal(tf.stack([num_images, self.latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)]))
            uniform = tf.random.stateless_uniform(tf.reshape(num_images, [1]), seed=tf.stack([seed, tf.constant(1, tf.int64)]))
            categories = tf.range(num_images) % max(self.num_categories, 1)
            return serving.generator_outputs(self(self._prior_codes(normal, uniform, categories), training=False))

        def encoded(samples):
            logits, z = self.split_codes(self.encoder(samples, training=False))
            outputs = {"z": z}
            if logits is not None:
                probabilities = tf.nn.softmax(logits)
                outputs.update(cluster=tf.argmax(probabilities, axis=-1, output_type=tf.int32), cluster_probabilities=probabilities)
            return outputs

        def reconstructed(samples):
            logits, z = self.split_codes(self.encoder(samples, training=False))
            return serving.generator_outputs(self(self.decoder_codes(logits, z), training=False))

        endpoints = {"serving_default": decode, "decode": decode, "sample": sample}
        endpoints.update(serving.sample_input_endpoints("encode", encoded, shape))
        if self.num_classes:
            endpoints.update(self._restyle_endpoints(shape))
        else:
            endpoints.update(serving.sample_input_endpoints("reconstruct", reconstructed, shape))
        return endpoints

    def _restyle_endpoints(self, shape):
        """Supervised ``reconstruct(images or points, classes)``: the decoder on ``[classes, z of E(x)]``."""

        def restyled(samples, classes):
            return self(tf.concat([classes, self.split_codes(self.encoder(samples, training=False))[1]], axis=-1), training=False)

        condition = ("classes", self.num_classes, 0.0, 1.0)
        if len(shape) == 3:
            return serving.translation_endpoints("reconstruct", restyled, shape, condition=condition)

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="points"),
                                      tf.TensorSpec([None, None], tf.float32, name="classes")])
        def reconstruct_points(points, classes):
            points = serving.checked_vectors(points, shape[0], "points")
            classes = serving.checked_vectors(classes, self.num_classes, "classes", minimum=0.0, maximum=1.0)
            points, classes = serving.checked_batch_sizes({"points": points, "classes": classes})
            return serving.generator_outputs(restyled(points, classes))

        return {"reconstruct": reconstruct_points}

    # ------------------------------------------------------------------ batches

    def check_batch(self, batch):
        """Supervised: ``(samples, labels int [B] in [0, num_classes))``; otherwise the samples alone (the base's)."""
        if not self.num_classes:
            return super().check_batch(batch)
        batch = self.unpack_batch(batch)
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError(
                f"The supervised adversarial autoencoder (num_classes={self.num_classes}) trains on (samples, labels) "
                f"batches with int labels [batch]; got {type(batch).__name__}. Use kgan.data.load_images(name, "
                "with_labels=True) or model.fit(images, labels)."
            )
        samples, labels = batch
        super().check_batch(samples)
        check_label_batch(labels, self.num_classes, int(samples.shape[0]))

    def batch_value_checks(self, batch):
        if not self.num_classes:
            return super().batch_value_checks(batch)
        samples, labels = batch
        return super().batch_value_checks(samples) + [graph_checks.ValueCheck("labels", labels, "labels", num_classes=self.num_classes)]

    # ------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        for unused in ("generator_ema", "diff_augment"):  # The base's; no generator group, no image discriminator.
            config.pop(unused)
        return {
            **config,
            "category_discriminator": config.get("category_discriminator"),
            "latent_dim": self.latent_dim,
            "num_clusters": self.num_clusters,
            "num_classes": self.num_classes,
            "prior": self.prior.kind,
            "prior_components": self.prior.num_components,
            "prior_radius": self.prior.radius,
            "prior_std": self.prior.std,
            "reconstruction_weight": self.reconstruction_weight,
        }


def _register():
    from kgan import registry
    from kgan.configs import adversarial_autoencoder as aae_configs

    registry.register(registry.ModelSpec("aae", AdversarialAutoencoder, aae_configs.AdversarialAutoencoderConfig, aae_configs.PRESETS))


_register()
