"""`GAN`: the adversarial game of Goodfellow et al. (2014), DCGAN-style by default."""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan import losses, serving
from kgan.data.validation import check_image_batch
from kgan.models.base import AdversarialModel


@keras.saving.register_keras_serializable(package="kgan")
class GAN(AdversarialModel):
    """Generator G(z) against discriminator D(x), trained with `fit`.

    Follows Algorithm 1 of Goodfellow et al. (2014), "Generative Adversarial
    Nets": each `train_step` makes ``discriminator_steps`` (k) discriminator
    updates, each on its *own* real minibatch and fresh noise, then one
    generator update.

    How a Keras batch feeds k steps: a dataset batch of ``B`` examples is split
    into k minibatches of ``m = B // k``; D step j uses minibatch j (the
    ``B - k*m`` left-over examples of a ragged last batch are unused); the
    generator step uses ``m`` noise vectors. So with ``discriminator_steps=5``
    and minibatches of 64, batch the dataset by 320.
    One `train_step` = one generator step; ``train_steps`` counts them.

    Args:
      generator: `keras.Model` mapping z ``[B, latent_dim]`` to samples
        (images ``[B, H, W, C]`` in [-1, 1], or points ``[B, D]``).
      discriminator: `keras.Model` mapping samples to logits of any shape
        ``[B, ...]`` (a score or a PatchGAN map).
      latent_dim: size of z (standard normal).
      loss: one of `kgan.losses.LOSS_FAMILIES`: ``"minimax"``,
        ``"non_saturating"`` (default), ``"least_squares"``, ``"hinge"``,
        ``"wasserstein"``.
      discriminator_steps: k >= 1, discriminator updates per generator update.
      label_smoothing: one-sided label smoothing (Salimans et al. 2016): real
        targets become ``1 - label_smoothing``. 0 disables it.
      seed: seeds all training noise (see `AdversarialModel.normal_noise`).
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake``
    (mean discriminator outputs on real and generated samples).
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        loss: str = "non_saturating",
        discriminator_steps: int = 1,
        label_smoothing: float = 0.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.loss_family = losses.get_loss_family(loss)
        if label_smoothing and not self.loss_family.supports_label_smoothing:
            raise ValueError(f"label_smoothing is not defined for the {loss!r} loss; use 0.")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing}.")
        if int(discriminator_steps) < 1:
            raise ValueError(f"discriminator_steps must be >= 1; got {discriminator_steps}.")
        if int(latent_dim) < 1:
            raise ValueError(f"latent_dim must be >= 1; got {latent_dim}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.loss_name = loss
        self.discriminator_steps = int(discriminator_steps)
        self.label_smoothing = float(label_smoothing)
        # The networks are functional models, already built: mark the wrapper
        # built too, or fit/save_weights refuse it (DESIGN.md, pitfalls).
        self.built = True

    # ------------------------------------------------------------------ networks

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    @property
    def sample_shape(self):
        """Shape of one generated sample, e.g. ``(28, 28, 1)``."""
        return tuple(self.generator.output_shape[1:])

    def call(self, z, training=False):
        """The generator's forward pass: z ``[B, latent_dim]`` -> samples, float32."""
        return tf.cast(self.generator(z, training=training), tf.float32)

    def generate(self, num_samples: int, seed: int = 0):
        """Returns ``num_samples`` samples for the stateless seed ``seed`` (float32)."""
        z = tf.random.stateless_normal([num_samples, self.latent_dim], seed=[seed, 0])
        return self(z, training=False)

    # ------------------------------------------------------------------ losses

    def discriminator_noise(self, batch_size, stream: int, training: bool = True):
        """Noise one discriminator step needs: ``{"z": [batch_size, latent_dim]}``.

        Subclasses add entries (WGAN-GP's interpolation weights).
        """
        return {"z": self.normal_noise(batch_size, (self.latent_dim,), stream, training)}

    def discriminator_loss(self, real, noise, training=True):
        """D's loss on real samples ``[m, ...]`` and ``noise`` from `discriminator_noise`.

        Returns ``(loss, extras)``; extras holds the mean real/fake outputs.
        """
        fake = self.generator(noise["z"], training=training)
        real_logits = tf.cast(self.discriminator(real, training=training), tf.float32)
        fake_logits = tf.cast(self.discriminator(fake, training=training), tf.float32)
        loss = self.loss_family.discriminator(real_logits, fake_logits, self.label_smoothing)
        extras = {"d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits)}
        regularization, more = self.discriminator_regularization(real, fake, noise, training)
        extras.update(more)
        return loss + regularization, extras

    def discriminator_regularization(self, real, fake, noise, training=True):
        """Extra discriminator loss on this step's real and fake batches (none here).

        Returns ``(weighted_loss, extras)``; `WGANGP` adds its gradient penalty here.
        """
        return 0.0, {}

    def generator_noise(self, batch_size, stream: int, training: bool = True):
        """Inputs one generator step draws: ``{"z": [batch_size, latent_dim]}``.

        They are passed to `generator_loss` as keyword arguments; subclasses
        add entries (`ConditionalGAN` adds ``labels``). For equal ``stream``
        and ``training``, ``z`` equals `discriminator_noise`'s.
        """
        return {"z": self.normal_noise(batch_size, (self.latent_dim,), stream, training)}

    def generator_loss(self, z, training=True):
        """G's loss for noise ``[m, latent_dim]``; returns ``(loss, extras)``.

        ``extras`` (none here) are logged as metrics of the same names.
        """
        fake_logits = tf.cast(self.discriminator(self.generator(z, training=training), training=training), tf.float32)
        return self.loss_family.generator(fake_logits), {}

    # ------------------------------------------------------------------ steps

    def discriminator_step(self, real, stream: int = 0):
        """One discriminator update on the real minibatch ``real``; returns ``(loss, extras)``."""
        noise = self.discriminator_noise(self.batch_size_of(real), stream)
        return self.minimize(
            self.discriminator_optimizer, lambda: self.discriminator_loss(real, noise), self.discriminator_variables
        )

    def generator_step(self, batch_size, stream: int = 0):
        """One generator update with ``batch_size`` noise vectors; returns ``(loss, extras)``."""
        noise = self.generator_noise(batch_size, stream)
        return self.minimize(self.generator_optimizer, lambda: self.generator_loss(**noise), self.generator_variables)

    def train_step(self, data):
        images = self.unpack_batch(data)
        minibatches = self.split_minibatches(images)
        with self.atomic_float16_step():
            for j, real in enumerate(minibatches):
                d_loss, extras = self.discriminator_step(real, stream=j)
                self.update_trackers(d_loss=d_loss, **extras)
            g_loss, g_extras = self.generator_step(self.batch_size_of(minibatches[0]), stream=len(minibatches))
            self.update_trackers(g_loss=g_loss, **g_extras)
        self.train_steps.assign_add(1)
        return self.tracker_results()

    def test_step(self, data):
        real = self.unpack_batch(data)
        batch_size = self.batch_size_of(real)
        noise = self.discriminator_noise(batch_size, 0, training=False)
        d_loss, extras = self.discriminator_loss(real, noise, training=False)
        # Same stream: G's loss is evaluated on the z (and labels) of D's fake term.
        g_loss, g_extras = self.generator_loss(**self.generator_noise(batch_size, 0, training=False), training=False)
        self.update_trackers(d_loss=d_loss, g_loss=g_loss, **extras, **g_extras)
        self.eval_steps.assign_add(1)
        return self.tracker_results()

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s with explicit input signatures, for `kgan.export`.

        * ``serving_default(z float32 [N, latent_dim])`` -> ``images`` float32
          in [-1, 1], ``images_uint8`` and ``images_png_bytes`` (points models:
          ``samples`` float32 [N, D]).
        * ``sample(num_images int32 [], seed int64 [])`` -> the same outputs for
          ``z = stateless_normal([num_images, latent_dim], seed=[seed, 0])``, so
          clients need no latent code; equals `generate(num_images, seed)`.
          ``1 <= num_images <= kgan.serving.MAX_SAMPLED_IMAGES``.

        ``z`` of another width, non-finite ``z`` or a ``num_images`` out of
        bounds fail the request with an InvalidArgument error (`kgan.serving`).
        """
        latent_dim = self.latent_dim

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="z")])
        def serving_default(z):
            z = serving.checked_vectors(z, latent_dim, "z")
            return serving.generator_outputs(self(z, training=False))

        @tf.function(
            input_signature=[tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int64, name="seed")]
        )
        def sample(num_images, seed):
            num_images = serving.checked_count(num_images)
            z = tf.random.stateless_normal(tf.stack([num_images, latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)]))
            return serving.generator_outputs(self(z, training=False))

        return {"serving_default": serving_default, "sample": sample}

    # ------------------------------------------------------------------ checks & config

    def check_batch(self, batch):
        batch = self.unpack_batch(batch)
        shape = self.sample_shape
        if len(shape) == 3:
            check_image_batch(batch, expected_shape=shape)
        else:
            batch_shape = tuple(batch.shape[1:])
            if batch_shape != shape:
                raise ValueError(
                    f"Training samples have shape {batch_shape} per example but the generator "
                    f"produces {shape}; build the networks for data of shape {batch_shape}."
                )
        n = int(batch.shape[0])
        if n < self.discriminator_steps:
            raise ValueError(
                f"With discriminator_steps={self.discriminator_steps}, each batch is split into "
                f"{self.discriminator_steps} minibatches, one per discriminator step; got a batch of {n}. "
                f"Batch the dataset by {self.discriminator_steps} x your minibatch size."
            )

    def get_config(self):
        return {
            **self.network_config(),
            "latent_dim": self.latent_dim,
            "loss": self.loss_name,
            "discriminator_steps": self.discriminator_steps,
            "label_smoothing": self.label_smoothing,
            "seed": self.seed,
            "name": self.name,
        }

