"""`LapGAN`: a Laplacian pyramid of GANs that builds an image coarse to fine (Denton et al. 2015).

Denton, Chintala, Szlam and Fergus (2015), "Deep Generative Image Models
using a Laplacian Pyramid of Adversarial Networks" (NeurIPS). With d(.) the
2x downsampling and u(.) the 2x upsampling (`kgan.networks.lapgan`), a real
image I = I_{L-1} has the Gaussian pyramid I_{k-1} = d(I_k) and the
band-pass residuals h_k = I_k - u(I_{k-1}). Level 0 is a GAN on the coarsest
images; each finer level k a conditional GAN on residuals (Sec. 3.2, eq. 3):

    l_k = u(I_{k-1})                        (the real coarser image, upsampled)
    fake h~_k = G_k(l_k, z_k)
    d_loss_k  = L.discriminator(D_k(l_k + h_k, l_k), D_k(l_k + h~_k, l_k))
    g_loss_k  = L.generator(D_k(l_k + h~_k, l_k))

Given the real pyramid the levels' games are independent, so every
`train_step` trains every level in `levels_to_train` (one D and one G update
each, on the same minibatch); training them one at a time gives each level
the same updates (the paper trains them separately), while one `fit`
trains the whole pyramid and its per-level losses show side by side.
Sampling runs the pyramid (Sec. 3.3, eq. 4): I~_0 = G_0(z_0), then
I~_k = u(I~_{k-1}) + G_k(u(I~_{k-1}), z_k), each level's image clipped to
[-1, 1] (the data's range) before the next builds on it. One latent vector z = [z_0, z_1, ..., z_{L-1}] drives it all.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from kgan import losses, serving
from kgan.models.base import AdversarialModel, Phase, stream
from kgan.networks.lapgan import gaussian_pyramid, upsample

#: Loss families a LapGAN level may play (the cross-entropy ones and LSGAN; no critic losses here).
LAPGAN_LOSSES = ("minimax", "non_saturating", "maximum_likelihood", "least_squares", "hinge")


@keras.saving.register_keras_serializable(package="kgan")
class LapGAN(AdversarialModel):
    """A Laplacian pyramid of GANs, trained with `fit` on batches of full-size images.

    Args:
      generators: L `keras.Model`s, coarsest first: ``generators[0]`` z_0
        ``[B, d_0]`` -> images ``[B, h_0, w_0, C]`` in [-1, 1]
        (`kgan.networks.lapgan.coarse_generator` or ``coarse_conv_generator``);
        ``generators[k]``
        ``[l_k [B, h_k, w_k, C], z_k [B, d_k]]`` -> residuals of that shape
        (`kgan.networks.lapgan.residual_generator`), each level twice the
        size of the one before.
      discriminators: L `keras.Model`s: ``discriminators[0]`` coarsest images
        -> logits ``[B, 1]``; ``discriminators[k]`` ``[image, l_k]`` -> logits.
      loss: a `LAPGAN_LOSSES` family, the same at every level.
      levels_to_train: the levels each step trains (default: all); the
        others keep their weights (e.g. to train the pyramid level by level
        across runs, as the paper did).
      seed: seeds all training noise.
      historical_averaging: `AdversarialModel`'s remedy (every group).
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss_<k>`` and ``g_loss_<k>`` per trained level.
    """

    def __init__(
        self,
        generators,
        discriminators,
        loss: str = "non_saturating",
        levels_to_train=None,
        seed: int = 0,
        historical_averaging: float = 0.0,
        **kwargs,
    ):
        generators, discriminators = list(generators), list(discriminators)
        if not generators or len(generators) != len(discriminators):
            raise ValueError(f"A LapGAN takes one generator and one discriminator per level; got {len(generators)} "
                             f"generators and {len(discriminators)} discriminators.")
        self.num_levels = len(generators)
        if loss not in LAPGAN_LOSSES:
            raise ValueError(f"loss must be one of {LAPGAN_LOSSES}; got {loss!r}.")
        self.loss_name = loss
        self.level_shapes = self._check_networks(generators, discriminators)
        #: Width of z_k of each level; z = [z_0, ..., z_{L-1}].
        self.level_latent_dims = tuple(int(g.inputs[0 if k == 0 else 1].shape[-1]) for k, g in enumerate(generators))
        self.latent_dim = sum(self.level_latent_dims)
        trained = tuple(range(self.num_levels)) if levels_to_train is None else tuple(sorted({int(k) for k in levels_to_train}))
        if not trained or any(not 0 <= k < self.num_levels for k in trained):
            raise ValueError(f"levels_to_train must name levels in [0, {self.num_levels}); got {levels_to_train!r}.")
        self.levels_to_train = trained
        networks = {}
        for k in range(self.num_levels):
            networks[f"generator_{k}"], networks[f"discriminator_{k}"] = generators[k], discriminators[k]
        self.groups = {name: (name,) for name in networks}  # Per instance: one pair of groups per level.
        self.metric_names = tuple(f"{side}_loss_{k}" for k in trained for side in ("d", "g"))
        super().__init__(networks, seed=seed, historical_averaging=historical_averaging, **kwargs)
        self.loss_family = losses.get_loss_family(loss)

    @staticmethod
    def _check_networks(generators, discriminators) -> list:
        """Each level's image shape ``(h, w, C)``, checked against every network (ValueError naming the mismatch)."""
        shapes = []
        for k, (generator, discriminator) in enumerate(zip(generators, discriminators)):
            inputs = 1 if k == 0 else 2
            if len(generator.inputs) != inputs or len(discriminator.inputs) != inputs:
                raise ValueError(
                    f"Level {k}'s generator and discriminator must take {inputs} input(s) "
                    f"({'z; images' if k == 0 else '[l_k, z_k]; [image, l_k]'}); {generator.name!r} takes "
                    f"{len(generator.inputs)}, {discriminator.name!r} {len(discriminator.inputs)}. Build them with "
                    "kgan.networks.lapgan (coarse_* for level 0, residual_* above it)."
                )
            shape = tuple(generator.output_shape[1:])
            if len(shape) != 3:
                raise ValueError(f"LapGAN makes images: level {k}'s generator outputs {shape}, not (h, w, C).")
            if k and shape != (2 * shapes[-1][0], 2 * shapes[-1][1], shapes[-1][2]):
                raise ValueError(f"Level {k} must be twice level {k - 1}'s size, {shapes[-1]}; its generator makes {shape}.")
            expected = [shape] * inputs
            seen = [tuple(t.shape[1:]) for t in discriminator.inputs]
            conditioned = [tuple(generator.inputs[0].shape[1:])] if k else []
            if seen != expected or conditioned not in ([], [shape]):
                raise ValueError(f"Level {k}'s networks must all work at {shape}: the discriminator takes {seen}"
                                 f"{f', the generator l_k {conditioned[0]}' if conditioned else ''}.")
            shapes.append(shape)
        return shapes

    def network_names(self) -> tuple:  # An instance's groups: two per level.
        return tuple(name for names in self.groups.values() for name in names)

    def level_networks(self, kind: str) -> list:
        """``[kind_0, ..., kind_{L-1}]`` for kind ``"generator"`` or ``"discriminator"``."""
        return [getattr(self, f"{kind}_{k}") for k in range(self.num_levels)]

    # ------------------------------------------------------------------ sampling

    @property
    def sample_shape(self):
        """Shape of one full-size image, e.g. ``(28, 28, 1)``."""
        return self.level_shapes[-1]

    def split_latent(self, z):
        """``[z_0, ..., z_{L-1}]`` of z ``[B, latent_dim]``."""
        return tf.split(tf.cast(z, tf.float32), list(self.level_latent_dims), axis=-1)

    def sample_levels(self, z, training=False) -> list:
        """The sampled pyramid ``[I~_0, ..., I~_{L-1}]`` of z ``[B, latent_dim]`` (float32, each clipped to [-1, 1])."""
        parts = self.split_latent(z)
        image = tf.cast(self.generator_0(parts[0], training=training), tf.float32)
        found = [image]
        for k in range(1, self.num_levels):
            coarse = upsample(image)
            image = coarse + tf.cast(getattr(self, f"generator_{k}")([coarse, parts[k]], training=training), tf.float32)
            # Each level builds on its clipped predecessor, as the full-size result is clipped.
            image = tf.clip_by_value(image, -1.0, 1.0)
            found.append(image)
        return found

    def call(self, z, training=False):
        """z ``[B, latent_dim]`` -> full-size images ``[B, H, W, C]`` in [-1, 1], float32 (the whole pyramid)."""
        return self.sample_levels(z, training=training)[-1]

    def latent_vectors(self, num_samples: int, seed: int = 0):
        """z ``[num_samples, latent_dim]`` = ``stateless_normal(seed=[seed, 0])``: what `generate` and ``sample`` use."""
        num_samples = serving.check_num_samples(num_samples, self.latent_dim + int(np.prod(self.sample_shape)))
        return tf.random.stateless_normal([num_samples, self.latent_dim], seed=[serving.check_seed(seed), 0])

    def sampling_inputs(self, num_samples: int, seed: int = 0, offset: int = 0):
        """z of `generate` (``offset`` is for conditional models)."""
        del offset
        return self.latent_vectors(num_samples, seed)

    def generate(self, num_samples: int, seed: int = 0):
        """``num_samples`` full-size images for the stateless seed ``seed``: float32 ``[N, H, W, C]`` in [-1, 1]."""
        return serving.in_chunks(lambda z: self(z, training=False), self.sampling_inputs(num_samples, seed))

    def preview_inputs(self, num_samples: int, seed: int = 0):
        """``(z, None)``: a square grid of full-size samples."""
        return self.sampling_inputs(num_samples, seed), None

    # ------------------------------------------------------------------ phases

    def phases(self):
        """For each trained level, coarsest first: its D update, then its G update."""
        found = []
        for k in self.levels_to_train:
            found += [Phase(f"discriminator_{k}", metric=f"d_loss_{k}"), Phase(f"generator_{k}", metric=f"g_loss_{k}")]
        return found

    def phase_function(self, phase, kind):
        """``discriminator_<k>`` / ``generator_<k>`` -> the level-k `level_inputs` or `discriminator_loss` / `generator_loss`."""
        side, _, level = phase.name.rpartition("_")
        if kind == "inputs":
            return functools.partial(self.level_inputs, int(level))
        return functools.partial(getattr(self, f"{side}_loss"), int(level))

    def level_inputs(self, level: int, minibatch, index, state=None, training=True):
        """``{"z": z_k [m, d_k]}`` for one update of level ``level``."""
        batch_size = self.batch_size_of(minibatch)
        return {"z": self.normal_noise(batch_size, (self.level_latent_dims[level],), stream("latent", index), training)}

    def _level_pair(self, level, minibatch, z, training):
        """``(real judged, fake judged)`` inputs of D_level for a real minibatch and z_level (teacher-forced l_k)."""
        real = gaussian_pyramid(minibatch, self.num_levels)
        if level == 0:
            return real[0], tf.cast(self.generator_0(z, training=training), tf.float32)
        coarse = upsample(real[level - 1])
        residual = tf.cast(getattr(self, f"generator_{level}")([coarse, z], training=training), tf.float32)
        return [real[level], coarse], [coarse + residual, coarse]

    def _judge(self, level, seen, training):
        return tf.cast(getattr(self, f"discriminator_{level}")(seen, training=training), tf.float32)

    def discriminator_loss(self, level: int, minibatch, inputs, training=True):
        """D_level's loss: real images (with their real l_k) against l_k + G_level's residuals."""
        real, fake = self._level_pair(level, minibatch, inputs["z"], training)
        return self.loss_family.discriminator(self._judge(level, real, training), self._judge(level, fake, training), 0.0), {}

    def generator_loss(self, level: int, minibatch, inputs, training=True):
        """G_level's loss on D_level's verdict of l_k + its residuals."""
        _, fake = self._level_pair(level, minibatch, inputs["z"], training)
        return self.loss_family.generator(self._judge(level, fake, training)), {}

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s for `kgan.export`.

        * ``serving_default(z float32 [N, latent_dim])`` -> the full-size
          images, `kgan.serving.generator_outputs` (``images``,
          ``images_uint8``, ``images_png_bytes``);
        * ``sample(num_images int32 [], seed int64 [])`` -> the same for
          ``z = stateless_normal([num_images, latent_dim], seed=[seed, 0])``;
          equals `generate`;
        * ``level_<k>(num_images, seed)`` -> the same pyramid's level-k images
          (``h_k x w_k``), for inspection.
        """
        latent_dim = self.latent_dim

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="z")])
        def serving_default(z):
            return serving.generator_outputs(self(serving.checked_vectors(z, latent_dim, "z"), training=False))

        def drawn(num_images, seed):
            num_images = serving.checked_count(num_images)
            return tf.random.stateless_normal(tf.stack([num_images, latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)]))

        counted = [tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int64, name="seed")]

        @tf.function(input_signature=counted)
        def sample(num_images, seed):
            return serving.generator_outputs(self(drawn(num_images, seed), training=False))

        def level_endpoint(level):
            @tf.function(input_signature=counted)
            def serve_level(num_images, seed):
                return serving.generator_outputs(self.sample_levels(drawn(num_images, seed))[level])

            return serve_level

        endpoints = {"serving_default": serving_default, "sample": sample}
        endpoints.update({f"level_{k}": level_endpoint(k) for k in range(self.num_levels)})
        return endpoints

    # ------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        for unused in ("generator_ema", "diff_augment"):  # The base's; no single generator group here.
            config.pop(unused)
        for kind in ("generator", "discriminator"):
            config[f"{kind}s"] = [config.pop(f"{kind}_{k}") for k in range(self.num_levels)]
        return {**config, "loss": self.loss_name, "levels_to_train": list(self.levels_to_train)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for kind in ("generators", "discriminators"):
            config[kind] = [keras.saving.deserialize_keras_object(c) for c in config[kind]]
        return cls(**config)


def _register():
    from kgan import registry
    from kgan.configs import lapgan as lapgan_configs

    registry.register(registry.ModelSpec("lapgan", LapGAN, lapgan_configs.LapGANConfig, lapgan_configs.PRESETS))


_register()
