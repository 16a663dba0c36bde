"""`BiGAN`: a GAN that also learns the inverse map, x -> z (Donahue et al. 2017; ALI, Dumoulin et al. 2017).

Donahue, Krähenbühl and Darrell (2017), "Adversarial Feature Learning"
(ICLR), and Dumoulin et al. (2017), "Adversarially Learned Inference" (ICLR),
describe the same game: a generator G(z), an encoder E(x) and a
discriminator D(x, z) of *pairs*. D tells (x, E(x)), x from the data, from
(G(z), z), z from the prior; G and E, trained together, try to make the two
joint distributions equal. At the optimum E = G^-1 (BiGAN, Theorem 2), so
G(E(x)) reconstructs x without any reconstruction loss, and E(x) is a
feature of x learned without labels.

With D's logits l and a `kgan.losses.LossFamily` L (non-saturating by default):

    d_loss  = L.discriminator(real = l(x, E(x)), fake = l(G(z), z))
    ge_loss = L.discriminator(real = l(G(z), z), fake = l(x, E(x)))

that is, G and E minimise D's loss with the two sides swapped -- the
"inverted labels" the BiGAN paper trains with (Sec. 3.4: the same fixed
point as the minimax game, with stronger gradients early); for the
cross-entropy family this is the non-saturating objective on both sides.

ALI's encoder is stochastic, q(z | x) = N(mu(x), diag sigma(x)^2): with
``encoder="gaussian"`` E outputs ``[mu | raw]`` and the pairs use
z = mu + softplus(raw) * eps (the reparameterisation, so E learns through
the sample); ``encode`` returns mu.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kgan import serving
from kgan.models.base import Phase, stream
from kgan.models.gan import GAN
from kgan.networks.bigan import encoder_width

#: The encoders `BiGAN` takes: BiGAN's deterministic E(x) and ALI's Gaussian q(z | x).
ENCODERS = ("deterministic", "gaussian")
#: Loss families whose swapped discriminator loss is a generator objective (see the module docstring).
BIGAN_LOSSES = ("non_saturating", "least_squares", "hinge")


@keras.saving.register_keras_serializable(package="kgan")
class BiGAN(GAN):
    """BiGAN / ALI: G(z) and E(x) against a joint discriminator D(x, z), trained with `fit`.

    Each `train_step` makes ``discriminator_steps`` (k) discriminator updates,
    each on its own real minibatch and fresh z, then one joint update of G and
    E (two optimizer groups, ``"generator"`` and ``"encoder"``, descending one
    loss). The batch is one array of samples, as for `GAN`.

    Args:
      generator: `keras.Model` z ``[B, latent_dim]`` -> samples (images
        ``[B, H, W, C]`` in [-1, 1], or points ``[B, D]``); GAN's builders.
      encoder: `keras.Model` samples -> ``[B, latent_dim]`` (deterministic) or
        ``[B, 2 * latent_dim]`` (gaussian: mean, then the raw scale that
        softplus makes positive); `kgan.networks.bigan.dcgan_encoder`,
        `kgan.networks.bigan.mlp_encoder`.
      discriminator: `keras.Model` ``[samples, z]`` -> logits ``[B, 1]``;
        `kgan.networks.bigan.joint_dcgan_discriminator`,
        `kgan.networks.bigan.joint_mlp_discriminator`.
      latent_dim: size of z (standard normal prior).
      encoder_type: ``"deterministic"`` (BiGAN) or ``"gaussian"`` (ALI).
      loss: ``"non_saturating"`` (default), ``"least_squares"`` or
        ``"hinge"`` (`BIGAN_LOSSES`).
      discriminator_steps: k >= 1.
      seed: seeds all training noise.
      historical_averaging, generator_ema, diff_augment: `GAN`'s remedies
        (the EMA averages G only; DiffAugment augments the x half of the pairs).
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``g_loss`` (G's and E's joint loss),
    ``d_real`` and ``d_fake`` (mean logits on (x, E(x)) and (G(z), z)).
    """

    # D(x, z) pairs each sample with its code, and E trains in G's phase: none of GAN's step options fit.
    training_options = ()

    groups = {"generator": ("generator",), "encoder": ("encoder",), "discriminator": ("discriminator",)}

    def __init__(
        self,
        generator: keras.Model,
        encoder: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        encoder_type: str = "deterministic",
        loss: str = "non_saturating",
        discriminator_steps: int = 1,
        seed: int = 0,
        historical_averaging: float = 0.0,
        generator_ema: float = 0.0,
        diff_augment: str = "",
        **kwargs,
    ):
        if encoder_type not in ENCODERS:
            raise ValueError(f"encoder_type must be one of {ENCODERS}; got {encoder_type!r}.")
        if loss not in BIGAN_LOSSES:
            raise ValueError(
                f"BiGAN trains G and E on D's loss with the sides swapped, which is a generator objective for "
                f"{', '.join(BIGAN_LOSSES)}; got loss={loss!r}."
            )
        if len(discriminator.inputs) != 2:
            raise ValueError(
                f"The discriminator must judge pairs [samples, z] (two inputs); {discriminator.name!r} has "
                f"{len(discriminator.inputs)}. Build it with kgan.networks.bigan.joint_dcgan_discriminator or joint_mlp_discriminator."
            )
        z_width = discriminator.inputs[1].shape[-1]
        if z_width != int(latent_dim):
            raise ValueError(f"The discriminator's z input has width {z_width}; latent_dim is {latent_dim}.")
        width = encoder.outputs[0].shape[-1] if len(encoder.outputs) == 1 else None
        if width != encoder_width(latent_dim, encoder_type == "gaussian"):
            raise ValueError(
                f"A {encoder_type} encoder must output [B, {encoder_width(latent_dim, encoder_type == 'gaussian')}] "
                f"(latent_dim {latent_dim}{', mean and raw scale' if encoder_type == 'gaussian' else ''}); "
                f"{encoder.name!r} outputs {[tuple(o.shape) for o in encoder.outputs]}."
            )
        if tuple(encoder.input_shape[1:]) != tuple(generator.output_shape[1:]):
            raise ValueError(
                f"The encoder takes samples of shape {tuple(encoder.input_shape[1:])} but the generator makes "
                f"{tuple(generator.output_shape[1:])}; build both for the data's shape."
            )
        self._init_gan(
            {"generator": generator, "encoder": encoder, "discriminator": discriminator}, latent_dim, loss, discriminator_steps,
            0.0, seed, 0.0, None, historical_averaging, 0.0, generator_ema, diff_augment, **kwargs,
        )
        self.encoder_type = encoder_type

    # ------------------------------------------------------------------ the encoder

    def encoder_outputs(self, samples, epsilon=None, training=True):
        """``(z, mean)`` of E on ``samples``: z = mean (deterministic) or mean + softplus(raw) * epsilon (gaussian).

        ``epsilon`` (standard normal ``[B, latent_dim]``) is used by the
        gaussian encoder only; None there gives z = mean.
        """
        codes = tf.cast(self.encoder(samples, training=training), tf.float32)
        if self.encoder_type == "deterministic":
            return codes, codes
        mean, raw_scale = tf.split(codes, 2, axis=-1)
        if epsilon is None:
            return mean, mean
        return mean + tf.nn.softplus(raw_scale) * epsilon, mean

    def encode(self, samples, batch_size: int = 500):
        """E's code of real samples, float32 ``[N, latent_dim]`` (numpy): E(x), or q(z|x)'s mean (gaussian).

        Args:
          samples: images ``[N, H, W, C]`` in [-1, 1] or points ``[N, D]`` (numpy or tensor).
          batch_size: examples per forward pass.
        """
        samples = tf.convert_to_tensor(samples, tf.float32)
        chunks = [self.encoder_outputs(samples[i : i + batch_size], training=False)[1]
                  for i in range(0, int(samples.shape[0]), batch_size)]
        return tf.concat(chunks, axis=0).numpy()

    def reconstruct(self, samples, batch_size: int = 500):
        """G(E(x)) with the sampling generator (its EMA, if any): float32 numpy, shaped like ``samples``."""
        codes = self.encode(samples, batch_size)
        return serving.in_chunks(lambda z: self(z, training=False), tf.constant(codes)).numpy()

    def prior_samples(self, count: int, seed: int = 0) -> np.ndarray:
        """z from the prior N(0, I), float32 numpy ``[count, latent_dim]`` (`latent_vectors`)."""
        return self.latent_vectors(count, seed).numpy()

    # ------------------------------------------------------------------ losses

    def pair_logits(self, minibatch, inputs, training=True):
        """``(real_logits, fake_logits)``: D on (x, E(x)) and on (G(z), z) for one phase's inputs."""
        encoded, _ = self.encoder_outputs(minibatch, inputs.get("epsilon"), training)
        fake = self.generate_batch(inputs["z"], None, training)
        real_logits, _ = self.discriminate(minibatch, encoded, inputs.get("augment_real"), training)
        fake_logits, _ = self.discriminate(fake, inputs["z"], inputs.get("augment_fake"), training)
        return real_logits, fake_logits

    def _pair_inputs(self, minibatch, index, training):
        """``{"z", "epsilon" (gaussian encoder)}`` plus DiffAugment's parameters for both halves."""
        batch_size = self.batch_size_of(minibatch)
        inputs = {
            "z": self.normal_noise(batch_size, (self.latent_dim,), stream("latent", index), training),
            **self.augment_params(batch_size, index, training),
        }
        if self.encoder_type == "gaussian":
            inputs["epsilon"] = self.normal_noise(batch_size, (self.latent_dim,), stream("epsilon", index), training)
        return inputs

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        """Noise of one D update: z, the gaussian encoder's epsilon, DiffAugment's parameters."""
        return self._pair_inputs(minibatch, index, training)

    def generator_inputs(self, minibatch, index, state=None, training=True):
        """Noise of one G-and-E update: as `discriminator_inputs` (equal for equal ``index``)."""
        return self._pair_inputs(minibatch, index, training)

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D's loss: (x, E(x)) real, (G(z), z) fake; returns ``(loss, extras)``."""
        real_logits, fake_logits = self.pair_logits(minibatch, inputs, training)
        loss = self.loss_family.discriminator(real_logits, fake_logits, 0.0)
        return loss, {"d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits)}

    def generator_loss(self, minibatch, inputs, training=True):
        """G's and E's joint loss: D's loss with the sides swapped; returns ``(loss, {})``."""
        real_logits, fake_logits = self.pair_logits(minibatch, inputs, training)
        return self.loss_family.discriminator(fake_logits, real_logits, 0.0), {}

    def phases(self):
        """k D updates, then one update of G and E together (one loss, two optimizers)."""
        return [Phase("discriminator", repeat=self.minibatches_per_step, metric="d_loss"),
                Phase("generator", groups=("generator", "encoder"), metric="g_loss")]

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """GAN's ``serving_default(z)`` and ``sample(num_images, seed)``, plus E and G(E(x)).

        * ``encode(images float32 [N, H, W, C] in [-1, 1])`` (and
          ``encode_uint8`` for uint8 pixels; points models: ``encode(points
          float32 [N, D])``) -> ``z`` float32 ``[N, latent_dim]`` (E(x), or
          q(z|x)'s mean);
        * ``reconstruct`` (and ``reconstruct_uint8``) with the same inputs ->
          `kgan.serving.generator_outputs` of G(E(x)).

        Inputs are checked in the graph (shape, range, NaN, at most the
        export's ``max_batch_size`` examples) and fail with InvalidArgument
        naming them.
        """
        endpoints = super().serving_endpoints()
        shape = tuple(self.encoder.input_shape[1:])

        def encoded(samples):
            return self.encoder_outputs(samples, training=False)[1]

        endpoints.update(serving.sample_input_endpoints("encode", lambda x: {"z": encoded(x)}, shape))
        endpoints.update(serving.sample_input_endpoints(
            "reconstruct", lambda x: serving.generator_outputs(self(encoded(x), training=False)), shape
        ))
        return endpoints

    # ------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        for unused in ("label_smoothing", "feature_matching", "feature_matching_layer", "consensus"):  # GAN's, not BiGAN's.
            config.pop(unused)
        return {**config, "encoder_type": self.encoder_type}


def _register():
    from kgan import registry
    from kgan.configs import bigan as bigan_configs

    registry.register(registry.ModelSpec("bigan", BiGAN, bigan_configs.BiGANConfig, bigan_configs.PRESETS))


_register()
