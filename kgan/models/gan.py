"""`GAN`: the adversarial game of Goodfellow et al. (2014), DCGAN-style by default."""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan import losses, remedies, serving
from kgan.data.validation import check_image_batch
from kgan.models.base import AdversarialModel, replica_info

# Stream offset of DiffAugment's parameters (2 per step: real, fake), apart
# from z (< k + 1), labels (1024) and interpolation weights (2048).
_AUGMENT_STREAM = 3072


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
      feature_matching: weight of feature matching (Salimans et al. 2016,
        3.1): G adds ``feature_matching * mean_j (E f_j(x) - E f_j(G(z)))^2`` on the
        discriminator features f (`kgan.remedies.feature_matching_loss`),
        with x the last real minibatch of the step. 0 disables it. (The paper
        *replaces* G's loss by this term; here it is added, so the adversarial
        signal stays and a large weight approaches the paper's objective.)
      feature_matching_layer: the layer whose output is f; default: the input
        of D's score layer (its last hidden features).
      historical_averaging: weight of the historical-averaging penalty
        (Salimans et al. 2016, 3.3) each network adds to its loss:
        ``||theta - mean of theta over past steps||^2``. 0 disables it.
      consensus: gamma of consensus optimization (Mescheder et al. 2017):
        both networks take one simultaneous step along ``v + gamma *
        grad(1/2 ||v||^2)``, v being the two losses' own gradients. Needs
        ``discriminator_steps=1``; not with ``mixed_float16``. 0 disables it.
      generator_ema: decay of an exponential moving average of the
        generator's weights (e.g. 0.999); when set, sampling (``call``,
        ``generate``, exports) uses the averaged generator. 0 disables it.
      diff_augment: DiffAugment policy (Zhao et al. 2020), a comma-separated
        subset of ``color,translation,cutout``: every image D sees, real or
        generated, in D's and G's steps, is augmented differentiably
        (`kgan.remedies.diff_augment`). ``""`` disables it. Images only.
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake``
    (mean discriminator outputs on real and generated samples); with feature
    matching ``feature_matching`` (unweighted), with consensus optimization
    ``consensus_penalty`` (``1/2 ||v||^2``).

    Under `tf.distribute`, feature matching compares each replica's feature
    means, and consensus optimization penalises each replica's gradient field
    (the sum over replicas of ``1/2 ||v_r||^2``), as batch statistics are per
    replica; everything else keeps single-device semantics.
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
        feature_matching: float = 0.0,
        feature_matching_layer: str | None = None,
        historical_averaging: float = 0.0,
        consensus: float = 0.0,
        generator_ema: float = 0.0,
        diff_augment: str = "",
        **kwargs,
    ):
        for option, value in (
            ("feature_matching", feature_matching), ("historical_averaging", historical_averaging),
            ("consensus", consensus), ("generator_ema", generator_ema),
        ):
            if not value >= 0:
                raise ValueError(f"{option} must be >= 0 (0 disables it); got {value}.")
        if consensus and int(discriminator_steps) != 1:
            raise ValueError(
                f"consensus optimization takes one simultaneous step of both networks; use discriminator_steps=1 "
                f"(got {discriminator_steps})."
            )
        remedy_metrics = (("feature_matching",) if feature_matching else ()) + (("consensus_penalty",) if consensus else ())
        # Trackers are made from metric_names in AdversarialModel.__init__
        # (a subclass may have set its own instance list already).
        self.metric_names = tuple(self.metric_names) + remedy_metrics
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
        self._init_remedies(feature_matching, feature_matching_layer, historical_averaging, consensus, generator_ema, diff_augment)
        # The networks are functional models, already built: mark the wrapper
        # built too, or fit/save_weights refuse it (DESIGN.md, pitfalls).
        self.built = True

    def _init_remedies(self, feature_matching, feature_matching_layer, historical_averaging, consensus, generator_ema, diff_augment):
        self.feature_matching = float(feature_matching)
        self.feature_matching_layer = feature_matching_layer
        self.historical_averaging = float(historical_averaging)
        self.consensus = float(consensus)
        self.generator_ema = float(generator_ema)
        self.augment_policy = remedies.parse_augment_policy(diff_augment)
        if self.augment_policy and len(self.generator.outputs[0].shape) != 4:
            raise ValueError(f"diff_augment={diff_augment!r} augments images; this generator makes {self.sample_shape}-shaped samples.")
        if self.feature_matching:
            extractor = keras.Model(
                self.discriminator.inputs,
                remedies.feature_layer_output(self.discriminator, feature_matching_layer),
                name=f"{self.discriminator.name}_features",
            )
            # Behind a function: as an attribute Keras would track (and save) D's layers twice.
            self.discriminator_features = lambda inputs, training=True: extractor(inputs, training=training)
        if self.generator_ema:
            self.generator_average = remedies.ExponentialAverage(self.generator, self.generator_ema, name="generator_average")
        if self.historical_averaging:
            self.generator_history = remedies.HistoricalAverage(self.generator_variables, name="generator_history")
            self.discriminator_history = remedies.HistoricalAverage(self.discriminator_variables, name="discriminator_history")

    # ------------------------------------------------------------------ networks

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    @property
    def sampling_generator(self) -> keras.Model:
        """The generator samples come from: the weight average with ``generator_ema``, else the trained one."""
        return self.generator_average.network if self.generator_ema else self.generator

    @property
    def sample_shape(self):
        """Shape of one generated sample, e.g. ``(28, 28, 1)``."""
        return tuple(self.generator.output_shape[1:])

    def call(self, z, training=False):
        """The sampling generator's forward pass: z ``[B, latent_dim]`` -> samples, float32."""
        return tf.cast(self.sampling_generator(z, training=training), tf.float32)

    def generate(self, num_samples: int, seed: int = 0):
        """Returns ``num_samples`` samples for the stateless seed ``seed`` (float32)."""
        z = tf.random.stateless_normal([num_samples, self.latent_dim], seed=[seed, 0])
        return self(z, training=False)

    # ------------------------------------------------------------------ losses

    def augment(self, samples, params):
        """DiffAugment of ``samples`` with ``params [B, AUGMENT_PARAMS]``; the identity without a policy."""
        if not self.augment_policy or params is None:
            return samples
        return remedies.diff_augment(samples, params, self.augment_policy)

    def _augment_params(self, batch_size, stream, training, which):
        """``{"augment_<which>": [B, AUGMENT_PARAMS]}`` for each of ``which``, or ``{}`` without DiffAugment."""
        if not self.augment_policy:
            return {}
        offsets = {"real": 0, "fake": 1}
        return {
            f"augment_{name}": self.uniform_noise(
                batch_size, (remedies.AUGMENT_PARAMS,), _AUGMENT_STREAM + 2 * stream + offsets[name], training
            )
            for name in which
        }

    def with_feature_matching(self, loss, extras, real_inputs, fake_inputs, training=True):
        """Adds the weighted feature-matching term for D-inputs of real and generated samples (if enabled)."""
        if not self.feature_matching or real_inputs is None:
            return loss, extras
        term = remedies.feature_matching_loss(
            self.discriminator_features(real_inputs, training=training), self.discriminator_features(fake_inputs, training=training)
        )
        return loss + self.feature_matching * term, {**extras, "feature_matching": term}

    def discriminator_noise(self, batch_size, stream: int, training: bool = True):
        """Noise one discriminator step needs: ``{"z": [batch_size, latent_dim]}``.

        With DiffAugment also ``augment_real`` and ``augment_fake``; subclasses
        add entries (WGAN-GP's interpolation weights).
        """
        return {
            "z": self.normal_noise(batch_size, (self.latent_dim,), stream, training),
            **self._augment_params(batch_size, stream, training, ("real", "fake")),
        }

    def discriminator_loss(self, real, noise, training=True):
        """D's loss on real samples ``[m, ...]`` and ``noise`` from `discriminator_noise`.

        Returns ``(loss, extras)``; extras holds the mean real/fake outputs.
        """
        fake = self.generator(noise["z"], training=training)
        real_seen = self.augment(real, noise.get("augment_real"))
        fake_seen = self.augment(fake, noise.get("augment_fake"))
        real_logits = tf.cast(self.discriminator(real_seen, training=training), tf.float32)
        fake_logits = tf.cast(self.discriminator(fake_seen, training=training), tf.float32)
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
        and ``training``, ``z`` equals `discriminator_noise`'s. With DiffAugment
        also ``augment_fake`` (and ``augment_real`` for feature matching).
        """
        which = ("real", "fake") if self.feature_matching else ("fake",)
        return {
            "z": self.normal_noise(batch_size, (self.latent_dim,), stream, training),
            **self._augment_params(batch_size, stream, training, which),
        }

    def generator_loss(self, z, real=None, augment_real=None, augment_fake=None, training=True):
        """G's loss for noise ``[m, latent_dim]``; returns ``(loss, extras)``.

        ``real`` (a real minibatch) is needed by feature matching only;
        ``augment_*`` are DiffAugment parameters. ``extras`` are logged as
        metrics of the same names.
        """
        fake_seen = self.augment(self.generator(z, training=training), augment_fake)
        fake_logits = tf.cast(self.discriminator(fake_seen, training=training), tf.float32)
        real_seen = None if real is None else self.augment(real, augment_real)
        return self.with_feature_matching(self.loss_family.generator(fake_logits), {}, real_seen, fake_seen, training)

    # ------------------------------------------------------------------ steps

    def discriminator_objective(self, real, noise):
        """D's whole training loss: `discriminator_loss` plus the historical-averaging penalty."""
        loss, extras = self.discriminator_loss(real, noise)
        if self.historical_averaging:
            loss += self.historical_averaging * self.discriminator_history.penalty()
        return loss, extras

    def generator_objective(self, noise):
        """G's whole training loss for `generator_noise` inputs (plus ``real``): `generator_loss` and historical averaging."""
        loss, extras = self.generator_loss(**noise)
        if self.historical_averaging:
            loss += self.historical_averaging * self.generator_history.penalty()
        return loss, extras

    def discriminator_step(self, real, stream: int = 0):
        """One discriminator update on the real minibatch ``real``; returns ``(loss, extras)``."""
        noise = self.discriminator_noise(self.batch_size_of(real), stream)
        result = self.minimize(
            self.discriminator_optimizer, lambda: self.discriminator_objective(real, noise), self.discriminator_variables
        )
        self.after_discriminator_update()
        return result

    def after_discriminator_update(self):
        """Runs after every discriminator update (none here; `WGAN` clips the critic's weights)."""

    def generator_step(self, batch_size, stream: int = 0, real=None):
        """One generator update with ``batch_size`` noise vectors; returns ``(loss, extras)``.

        ``real``: a real minibatch, for feature matching.
        """
        noise = self._generator_inputs(batch_size, stream, real)
        return self.minimize(self.generator_optimizer, lambda: self.generator_objective(noise), self.generator_variables)

    def _generator_inputs(self, batch_size, stream, real, training=True):
        noise = self.generator_noise(batch_size, stream, training)
        if self.feature_matching:
            noise["real"] = real
        return noise

    def consensus_step(self, real):
        """One simultaneous update of both networks by consensus optimization (Mescheder et al. 2017, Alg. 2).

        D's and G's losses are taken on the same real minibatch and the same
        z; every variable moves along its own loss's gradient plus
        ``consensus * grad(1/2 ||v||^2)`` (`kgan.remedies.consensus_gradients`).
        The second-order gradients run without XLA (``jit_compile`` does not
        apply to this step). Returns ``(d_loss, g_loss, extras)``.
        """
        for optimizer in (self.generator_optimizer, self.discriminator_optimizer):
            if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                raise ValueError("consensus optimization does not support mixed_float16 loss scaling; use float32 or mixed_bfloat16.")
        batch_size = self.batch_size_of(real)
        d_noise = self.discriminator_noise(batch_size, 0)
        g_noise = self._generator_inputs(batch_size, 0, real)  # stream 0: the z of D's fake term
        _, num_replicas = replica_info()
        d_variables, g_variables = list(self.discriminator_variables), list(self.generator_variables)
        with tf.GradientTape() as outer:
            with tf.GradientTape(persistent=True) as inner:
                d_loss, d_extras = self.discriminator_objective(real, d_noise)
                g_loss, g_extras = self.generator_objective(g_noise)
                # Per replica 1/N of the global-mean gradient, as in `minimize`
                # (divided on the tape, or the quotient has no gradient).
                d_scaled, g_scaled = d_loss / num_replicas, g_loss / num_replicas
            field = inner.gradient(d_scaled, d_variables) + inner.gradient(g_scaled, g_variables)
        gradients, penalty = remedies.consensus_gradients(outer, field, d_variables + g_variables, self.consensus)
        self.discriminator_optimizer.apply_gradients(zip(gradients[: len(d_variables)], d_variables))
        self.after_discriminator_update()
        self.generator_optimizer.apply_gradients(zip(gradients[len(d_variables) :], g_variables))
        return d_loss, g_loss, {**d_extras, **g_extras, "consensus_penalty": penalty}

    def update_averages(self):
        """Folds this step's weights into the generator EMA and the historical averages (those enabled)."""
        variables, values = [], []
        if self.generator_ema:
            variables += [mine for mine, _, _ in self.generator_average.pairs()]
            values += self.generator_average.new_values(self.train_steps)
        if self.historical_averaging:
            for history in (self.generator_history, self.discriminator_history):
                variables += history.averages
                values += history.new_averages(self.train_steps)
        if variables:
            self.assign_replicated(variables, values)

    def train_step(self, data):
        images = self.unpack_batch(data)
        minibatches = self.split_minibatches(images)
        with self.atomic_float16_step():
            if self.consensus:
                d_loss, g_loss, extras = self.consensus_step(minibatches[0])
                self.update_trackers(d_loss=d_loss, g_loss=g_loss, **extras)
            else:
                for j, real in enumerate(minibatches):
                    d_loss, extras = self.discriminator_step(real, stream=j)
                    self.update_trackers(d_loss=d_loss, **extras)
                g_loss, g_extras = self.generator_step(
                    self.batch_size_of(minibatches[0]), stream=len(minibatches), real=minibatches[-1]
                )
                self.update_trackers(g_loss=g_loss, **g_extras)
            self.update_averages()
        self.train_steps.assign_add(1)
        return self.tracker_results()

    def test_step(self, data):
        real = self.unpack_batch(data)
        batch_size = self.batch_size_of(real)
        noise = self.discriminator_noise(batch_size, 0, training=False)
        d_loss, extras = self.discriminator_loss(real, noise, training=False)
        # Same stream: G's loss is evaluated on the z (and labels) of D's fake term.
        g_loss, g_extras = self.generator_loss(**self._generator_inputs(batch_size, 0, real, training=False), training=False)
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
            "feature_matching": self.feature_matching,
            "feature_matching_layer": self.feature_matching_layer,
            "historical_averaging": self.historical_averaging,
            "consensus": self.consensus,
            "generator_ema": self.generator_ema,
            "diff_augment": ",".join(self.augment_policy),
            "name": self.name,
        }

