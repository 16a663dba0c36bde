"""`GAN`: the adversarial game of Goodfellow et al. (2014), DCGAN-style by default."""

from __future__ import annotations

import keras
import tensorflow as tf

import numpy as np

from kgan import losses, penalties, remedies, serving
from kgan.arguments import check_weight
from kgan.models.base import AdversarialModel, Phase, replica_info, stream


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
      pack: m of PacGAN (Lin et al. 2018): D judges packs of m real or m
        generated samples joined along the last axis
        (`kgan.remedies.pack_samples`), so it must be built for
        `kgan.remedies.packed_shape` ``(sample_shape, m)``, e.g.
        ``dcgan_discriminator(packed_shape((28, 28, 1), 2))`` for
        ``[B/2, 28, 28, 2]``; its outputs are per pack, ``[B/m, ...]``.
        Every minibatch must hold a multiple of m samples. 1 disables it.
      r1_penalty: gamma of the R1 penalty (Mescheder et al. 2018): D adds
        ``gamma * 1/2 E||grad_x D(x)||^2`` on the real samples it sees
        (`kgan.penalties.r1_penalty`; through DiffAugment and PacGAN packs
        when those are on). On the 5x5 grid of Gaussians it is what makes
        the non-saturating GAN find every mode (README). 0 disables it.
      unrolled_steps: k of the unrolled GAN (Metz et al. 2017): G's loss is
        computed against D after k differentiable gradient steps on D's loss
        (each on the step's last real minibatch and fresh noise;
        `kgan.remedies.unrolled_weights`), and G's gradient flows through
        them. The unrolled copies are discarded: D itself takes its usual
        update. Batch-norm statistics are read, not updated, in the copies;
        a WGAN's copies are not clipped; feature matching uses D's own
        weights. 0 disables it.
      unrolled_learning_rate: eta of the unrolled steps (plain gradient
        steps, the paper's Eq. 4); None: the discriminator optimizer's
        current learning rate. Adam moves D further per step than a plain
        step at the same rate, so a larger eta may be needed for the copies
        to move as far as D does.
      updates: ``"alternating"`` (Algorithm 1: D's update, then G's against
        the updated D) or ``"simultaneous"`` (both networks step at once on
        one minibatch and one z, each gradient taken at the same parameters;
        needs ``discriminator_steps=1``). Consensus optimization always steps
        simultaneously.
      **kwargs: `keras.Model` arguments (``name``).

    Metrics (epoch means): ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake``
    (mean discriminator outputs on real and generated samples); with feature
    matching ``feature_matching`` (unweighted), with consensus optimization
    ``consensus_penalty`` (``1/2 ||v||^2``), with R1 ``r1_penalty`` (unweighted).

    Under `tf.distribute`, feature matching compares each replica's feature
    means, and consensus optimization penalises each replica's gradient field
    (the sum over replicas of ``1/2 ||v_r||^2``), as batch statistics are per
    replica; everything else keeps single-device semantics.
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    #: The options of `_init_gan` that change how D sees samples, what D's loss adds or how the step is made;
    #: a subclass whose losses or networks do not fit one lists fewer (it is refused with a message).
    training_options = ("pack", "unrolled_steps", "updates", "reuse_fakes", "r1_penalty")
    UPDATE_ORDERS = ("alternating", "simultaneous")

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
        pack: int = 1,
        unrolled_steps: int = 0,
        unrolled_learning_rate: float | None = None,
        updates: str = "alternating",
        reuse_fakes: bool = False,
        r1_penalty: float = 0.0,
        **kwargs,
    ):
        self._init_gan(
            {"generator": generator, "discriminator": discriminator}, latent_dim, loss, discriminator_steps, label_smoothing,
            seed, feature_matching, feature_matching_layer, historical_averaging, consensus, generator_ema, diff_augment,
            pack=pack, unrolled_steps=unrolled_steps, unrolled_learning_rate=unrolled_learning_rate, updates=updates,
            reuse_fakes=reuse_fakes, r1_penalty=r1_penalty, **kwargs,
        )

    def _init_gan(self, networks: dict, latent_dim, loss, discriminator_steps, label_smoothing, seed, feature_matching,
                  feature_matching_layer, historical_averaging, consensus, generator_ema, diff_augment, pack=1,
                  unrolled_steps=0, unrolled_learning_rate=None, updates="alternating", reuse_fakes=False, r1_penalty=0.0,
                  **kwargs):
        """`__init__`'s work on ``networks`` (``{argument: network}``), which a subclass with more groups than
        the generator and the discriminator (`BiGAN`'s encoder) hands in whole."""
        feature_matching = check_weight("feature_matching", feature_matching)
        consensus = check_weight("consensus", consensus)
        r1_penalty = check_weight("r1_penalty", r1_penalty)
        if consensus and int(discriminator_steps) != 1:
            raise ValueError(
                f"consensus optimization takes one simultaneous step of both networks; use discriminator_steps=1 "
                f"(got {discriminator_steps})."
            )
        self._check_training_options(
            networks, pack, unrolled_steps, unrolled_learning_rate, updates, discriminator_steps, consensus, r1_penalty
        )
        self._check_reuse_fakes(reuse_fakes, discriminator_steps, unrolled_steps, updates, consensus, historical_averaging)
        remedy_metrics = tuple(name for name, on in (
            ("feature_matching", feature_matching), ("consensus_penalty", consensus), ("r1_penalty", r1_penalty)) if on)
        # Trackers are made from metric_names in AdversarialModel.__init__
        # (a subclass may have set its own instance list already).
        self.metric_names = tuple(self.metric_names) + remedy_metrics
        if int(discriminator_steps) < 1:
            raise ValueError(f"discriminator_steps must be >= 1; got {discriminator_steps}.")
        self.discriminator_steps = int(discriminator_steps)
        super().__init__(
            networks, seed=seed, generator_ema=generator_ema,
            historical_averaging=historical_averaging, diff_augment=diff_augment, **kwargs,
        )
        self.loss_family = losses.get_loss_family(loss)
        if label_smoothing and not self.loss_family.supports_label_smoothing:
            raise ValueError(f"label_smoothing is not defined for the {loss!r} loss; use 0.")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing}.")
        if int(latent_dim) < 1:
            raise ValueError(f"latent_dim must be >= 1; got {latent_dim}.")
        self.latent_dim = int(latent_dim)
        self.loss_name = loss
        self.label_smoothing = float(label_smoothing)
        self.feature_matching = feature_matching
        self.feature_matching_layer = feature_matching_layer
        self.consensus = consensus
        self.pack = int(pack)
        self.unrolled_steps = int(unrolled_steps)
        self.unrolled_learning_rate = None if unrolled_learning_rate is None else float(unrolled_learning_rate)
        self.updates = updates
        self.reuse_fakes = bool(reuse_fakes)
        self.r1_penalty = r1_penalty
        if self.feature_matching:
            extractor = keras.Model(
                self.discriminator.inputs,
                remedies.feature_layer_output(self.discriminator, feature_matching_layer),
                name=f"{self.discriminator.name}_features",
            )
            # Behind a function: as an attribute Keras would track (and save) D's layers twice.
            self.discriminator_features = lambda inputs, training=True: extractor(inputs, training=training)

    def _check_training_options(self, networks, pack, unrolled_steps, unrolled_learning_rate, updates, discriminator_steps, consensus,
                                r1_penalty):
        """Raises ValueError for a `pack`, `unrolled_steps`, `updates` or `r1_penalty` this model or its networks cannot take."""
        name = type(self).__name__
        remedies.packed_shape((1,), pack)  # Checks pack is an int >= 1.
        if isinstance(unrolled_steps, bool) or int(unrolled_steps) != unrolled_steps or not 0 <= int(unrolled_steps) < 256:
            raise ValueError(f"unrolled_steps must be an integer in [0, 256) (0: off); got {unrolled_steps!r}.")
        if unrolled_learning_rate is not None:
            check_weight("unrolled_learning_rate", unrolled_learning_rate, positive=True)
        if updates not in self.UPDATE_ORDERS:
            raise ValueError(f"updates must be one of {', '.join(self.UPDATE_ORDERS)}; got {updates!r}.")
        requested = {"pack": int(pack) != 1, "unrolled_steps": int(unrolled_steps) != 0, "updates": updates != "alternating",
                     "r1_penalty": bool(r1_penalty)}
        for option, on in requested.items():
            if on and option not in self.training_options:
                raise ValueError(
                    f"{name} does not support {option}= (its losses or networks do not fit it); "
                    f"it supports {', '.join(self.training_options) or 'none of pack, unrolled_steps, updates, r1_penalty'}."
                )
        if updates == "simultaneous" and int(discriminator_steps) != 1:
            raise ValueError(f"updates='simultaneous' steps both networks once on one minibatch; use discriminator_steps=1 (got {discriminator_steps}).")
        if unrolled_steps and consensus:
            raise ValueError("unrolled_steps and consensus do not combine (consensus would differentiate through the unrolled steps); use one.")
        if int(pack) > 1:
            generator, discriminator = networks["generator"], networks["discriminator"]
            expected = remedies.packed_shape(generator.output_shape[1:], pack)
            takes = tuple(discriminator.inputs[0].shape[1:])
            if len(discriminator.inputs) != 1 or takes != expected:
                raise ValueError(
                    f"With pack={pack} the discriminator judges {pack} samples at once: it must take one input of shape "
                    f"{expected} (kgan.remedies.packed_shape({tuple(generator.output_shape[1:])}, {pack})); "
                    f"{discriminator.name!r} takes {[tuple(i.shape[1:]) for i in discriminator.inputs]}. Build it for that shape, "
                    f"e.g. kgan.networks.dcgan_discriminator(packed_shape(...)) or mlp_discriminator({expected[-1]})."
                )

    def _check_reuse_fakes(self, reuse_fakes, discriminator_steps, unrolled_steps, updates, consensus, historical_averaging):
        """Raises ValueError for a ``reuse_fakes`` this model or the other options cannot take."""
        if not isinstance(reuse_fakes, (bool, np.bool_)):
            raise ValueError(f"reuse_fakes must be True or False; got {reuse_fakes!r}.")
        if not reuse_fakes:
            return
        if "reuse_fakes" not in self.training_options:
            raise ValueError(
                f"{type(self).__name__} does not support reuse_fakes= (its losses or networks do not fit it); "
                f"it supports {', '.join(self.training_options) or 'none of pack, unrolled_steps, updates, reuse_fakes'}."
            )
        found = reuse_fakes_clashes(discriminator_steps, updates, unrolled_steps, consensus, historical_averaging)
        if found:
            raise ValueError(
                f"reuse_fakes reuses D's samples for G's update after D's step (k = 1, alternating); it does not combine "
                f"with {', '.join(found)} (got discriminator_steps={discriminator_steps}, updates={updates!r})."
            )

    def check_minibatch_count(self, batch_size: int) -> None:
        """Also refuses, with ``pack`` m > 1, a batch whose minibatches are not multiples of m (before training starts)."""
        super().check_minibatch_count(batch_size)
        minibatch = int(batch_size) // self.minibatches_per_step
        if self.pack > 1 and minibatch % self.pack:
            raise ValueError(
                f"PacGAN with pack={self.pack} judges packs of {self.pack} samples, so every minibatch must hold a multiple of "
                f"{self.pack}; a batch of {batch_size} gives minibatches of {minibatch}. Batch the dataset by a multiple of "
                f"{self.pack * self.minibatches_per_step} with drop_remainder=True (kgan.data pipelines drop it by default)."
            )

    # ------------------------------------------------------------------ networks

    @property
    def sample_shape(self):
        """Shape of one generated sample, e.g. ``(28, 28, 1)``."""
        return tuple(self.generator.output_shape[1:])

    def call(self, z, training=False):
        """The sampling generator's forward pass: z ``[B, latent_dim]`` -> samples, float32."""
        return tf.cast(self.sampling_generator(z, training=training), tf.float32)

    def latent_vectors(self, num_samples: int, seed: int = 0):
        """z ``[num_samples, latent_dim]`` = ``stateless_normal(seed=[seed, 0])``: what `generate` and ``sample`` use.

        Args:
          num_samples: a positive Python or numpy int. At most as many as
            `kgan.serving.MAX_GENERATED_BYTES` (1 GiB) of float32 holds for the
            codes and the samples they make, so that a typo such as
            ``generate(10**9)`` fails at once instead of exhausting memory.
          seed: a Python or numpy int in int64's range.

        Raises:
          ValueError: either argument out of bounds or of another type (the
            message gives the largest count and says to draw in batches).
        """
        num_samples = serving.check_num_samples(num_samples, self.latent_dim + int(np.prod(self.sample_shape)))
        seed = serving.check_seed(seed)
        return tf.random.stateless_normal([num_samples, self.latent_dim], seed=[seed, 0])

    def sampling_inputs(self, num_samples: int, seed: int = 0, offset: int = 0):
        """The inputs of ``model(...)`` for `generate`-equal samples (``offset`` matters for conditional models only)."""
        del offset
        return self.latent_vectors(num_samples, seed)

    def generate(self, num_samples: int, seed: int = 0):
        """Returns ``num_samples`` samples for the stateless seed ``seed``: float32 ``[num_samples, *sample_shape]``.

        The codes are those of `latent_vectors` (which bounds ``num_samples``
        and checks ``seed``); the generator runs on
        `kgan.serving.MAX_SAMPLED_IMAGES` of them at a time, so a big count
        costs its output plus one chunk's activations. Up to one chunk this is
        one call of the network, as the exported ``sample`` signature makes it.
        """
        return serving.in_chunks(lambda z: self(z, training=False), self.sampling_inputs(num_samples, seed))

    def preview_inputs(self, num_samples: int, seed: int = 0):
        """``(inputs, rows)`` of a progress grid (`kgan.callbacks.SampleGrid`): z of `generate`, rows None (square grid)."""
        return self.sampling_inputs(num_samples, seed), None

    # ------------------------------------------------------------------ losses

    def conditions(self, inputs):
        """The generator's and discriminator's condition in a phase's inputs (none: unconditional)."""
        return None

    def fake_condition(self, inputs):
        """The condition generated samples are made and judged with (`conditions`; labels for `ConditionalGAN`)."""
        return self.conditions(inputs)

    def real_parts(self, minibatch):
        """``(samples, condition)`` of a real minibatch (condition None here; labels for `ConditionalGAN`)."""
        return minibatch, None

    def discriminator_view(self, samples, condition=None, augment=None, network: str = "discriminator"):
        """`AdversarialModel.discriminator_view`, then packs of ``pack`` samples (PacGAN) when ``pack > 1``."""
        seen = super().discriminator_view(samples, condition, augment, network)
        return remedies.pack_samples(seen, self.pack) if self.pack > 1 else seen

    def discriminator_inputs(self, minibatch, index: int, state=None, training: bool = True):
        """Noise of one discriminator update: ``{"z": [m, latent_dim]}`` (+ DiffAugment's parameters)."""
        batch_size = self.batch_size_of(minibatch)
        return {
            "z": self.normal_noise(batch_size, (self.latent_dim,), stream("latent", index), training),
            **self.augment_params(batch_size, index, training),
        }

    def discriminator_noise(self, batch_size, index: int = 0, training: bool = True):
        """`discriminator_inputs` for ``batch_size`` examples (for tests and tools)."""
        return self.discriminator_inputs(tf.zeros([batch_size, 1]), index, {}, training)

    def discriminator_loss(self, minibatch, inputs, training=True):
        """D's loss on a real minibatch and the `discriminator_inputs`; returns ``(loss, extras)``.

        ``extras`` holds the mean real/fake outputs and the unweighted terms of
        `discriminator_terms`.
        """
        real, real_condition = self.real_parts(minibatch)
        condition = self.fake_condition(inputs)
        fake = self.fake_samples(inputs, condition, training)
        real_logits, real_aux = self.discriminate(real, real_condition, inputs.get("augment_real"), training)
        fake_logits, fake_aux = self.discriminate(fake, condition, inputs.get("augment_fake"), training)
        loss = self.loss_family.discriminator(real_logits, fake_logits, self.label_smoothing)
        extras = {"d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits)}
        if self.loss_name == "wasserstein":
            # E[D(x)] - E[D(G(z))]: the lectures' progress signal; it falls as G improves.
            extras["wasserstein_estimate"] = extras["d_real"] - extras["d_fake"]
        r1 = lambda: penalties.r1_penalty(  # noqa: E731
            lambda x: self.discriminate(x, real_condition, inputs.get("augment_real"), training)[0], real
        )
        return self.weighted_terms(
            loss, extras, r1_penalty=(self.r1_penalty, r1),
            **self.discriminator_terms(minibatch, fake, inputs, (real_aux, fake_aux), training),
        )

    def discriminator_terms(self, minibatch, fake, inputs, auxiliary, training=True) -> dict:
        """Extra discriminator terms ``{name: (weight, compute)}`` (none here; `WGANGP` adds its gradient penalty)."""
        return {}

    def generator_inputs(self, minibatch, index: int, state=None, training: bool = True):
        """Noise of one generator update: ``{"z": [m, latent_dim]}`` (+ DiffAugment's parameters).

        For equal ``index`` and ``training``, ``z`` equals `discriminator_inputs`'s. With
        ``unrolled_steps`` k, in training, ``"unrolled"`` holds the
        `discriminator_inputs` of the k unrolled D steps (update indices
        ``index + 1 ... index + k``: noise no real update of the step uses).
        """
        batch_size = self.batch_size_of(minibatch)
        which = ("real", "fake") if self.feature_matching else ("fake",)
        inputs = {
            "z": self.normal_noise(batch_size, (self.latent_dim,), stream("latent", index), training),
            **self.augment_params(batch_size, index, training, which),
        }
        if training and self.unrolled_steps:
            inputs["unrolled"] = [self.discriminator_inputs(minibatch, index + 1 + j, state, training) for j in range(self.unrolled_steps)]
        return inputs

    def generator_noise(self, batch_size, index: int = 0, training: bool = True):
        """`generator_inputs` for ``batch_size`` examples (for tests and tools)."""
        return self.generator_inputs(tf.zeros([batch_size, 1]), index, {}, training)

    def generator_loss(self, minibatch, inputs, training=True):
        """G's loss for the `generator_inputs`; returns ``(loss, extras)``.

        ``minibatch`` (the step's last real minibatch) is used by feature
        matching and the unrolled steps only; ``extras`` are logged as metrics
        of the same names. With ``inputs["unrolled"]`` (training with
        ``unrolled_steps``), D's outputs come from its unrolled weights
        (`unrolled_discriminator`): Metz et al.'s surrogate loss.
        """
        if training and inputs.get("unrolled"):
            with self.substituted_weights("discriminator", self.unrolled_discriminator(minibatch, inputs["unrolled"])):
                return self._generator_loss(minibatch, inputs, training)
        return self._generator_loss(minibatch, inputs, training)

    def unrolled_discriminator(self, minibatch, steps_inputs):
        """D's trainable weights after one differentiable gradient step on `discriminator_loss` per entry of ``steps_inputs``.

        Metz et al. 2017, Eq. (4), from D's current weights, each step on
        ``minibatch`` and its own noise; the variables are not changed.
        Returns a list of tensors, one per ``discriminator.trainable_variables``.
        """
        def loss_of(weights, inputs):
            with self.substituted_weights("discriminator", weights):
                return self.discriminator_loss(minibatch, inputs, training=True)[0]

        start = [tf.convert_to_tensor(v) for v in self.discriminator.trainable_variables]
        return remedies.unrolled_weights(loss_of, start, steps_inputs, self.unrolled_rate(), _replica_mean)

    def unrolled_rate(self):
        """eta of the unrolled steps: ``unrolled_learning_rate``, or the discriminator optimizer's current rate."""
        if self.unrolled_learning_rate is not None:
            return self.unrolled_learning_rate
        return tf.cast(self.discriminator_optimizer.learning_rate, tf.float32)

    def fake_samples(self, inputs, condition, training=True):
        """The generated samples a loss judges: ``inputs["fake"]`` when given (``reuse_fakes``), else G(``inputs["z"]``)."""
        if "fake" in inputs:
            return inputs["fake"]
        return self.generate_batch(inputs["z"], condition, training)

    def _generator_loss(self, minibatch, inputs, training):
        condition = self.fake_condition(inputs)
        fake = self.fake_samples(inputs, condition, training)
        fake_logits, fake_aux = self.discriminate(fake, condition, inputs.get("augment_fake"), training)
        terms = dict(self.generator_terms(minibatch, fake, inputs, fake_aux, training))
        if self.feature_matching:
            terms["feature_matching"] = (self.feature_matching, lambda: self._feature_matching(minibatch, fake, inputs, training))
        return self.weighted_terms(self.loss_family.generator(fake_logits), {}, **terms)

    def generator_terms(self, minibatch, fake, inputs, fake_auxiliary, training=True) -> dict:
        """Extra generator terms ``{name: (weight, compute)}`` (none here; `ConditionalGAN` adds its class head)."""
        return {}

    def _feature_matching(self, minibatch, fake, inputs, training):
        real, real_condition = self.real_parts(minibatch)
        return remedies.feature_matching_loss(
            self.discriminator_features(self.discriminator_view(real, real_condition, inputs.get("augment_real")), training=training),
            self.discriminator_features(self.discriminator_view(fake, self.fake_condition(inputs), inputs.get("augment_fake")), training=training),
        )

    # ------------------------------------------------------------------ phases

    def phases(self):
        if self.consensus:
            return [Phase("consensus", groups=("discriminator", "generator"))]
        if self.updates == "simultaneous":
            return [Phase("simultaneous", groups=("discriminator", "generator"))]
        if self.reuse_fakes:
            return [Phase("reused_fakes", groups=("discriminator", "generator"))]
        return super().phases()

    def after_update(self, phase):
        if phase.name in ("discriminator", "consensus", "simultaneous"):
            self.after_discriminator_update()

    def after_discriminator_update(self):
        """Runs after every discriminator update (none here; `WGAN` clips the critic's weights)."""

    def consensus_inputs(self, minibatch, index, state=None, training=True):
        """D's and G's inputs on one z (update index 0), for the simultaneous step."""
        return {"discriminator": self.discriminator_inputs(minibatch, 0, state, training),
                "generator": self.generator_inputs(minibatch, 0, state, training)}

    def consensus_loss(self, minibatch, inputs, training=True):
        """``({"discriminator": D's loss, "generator": G's loss}, extras)`` on one real minibatch and one z."""
        d_loss, d_extras = self.discriminator_loss(minibatch, inputs["discriminator"], training)
        g_loss, g_extras = self.generator_loss(minibatch, inputs["generator"], training)
        return {"discriminator": d_loss, "generator": g_loss}, {**d_extras, **g_extras, "d_loss": d_loss, "g_loss": g_loss}

    # Simultaneous SGD: the same inputs and losses; `minimize_groups` takes both gradients on one
    # tape before applying either, so neither network sees the other's update within the step.
    def simultaneous_inputs(self, minibatch, index, state=None, training=True):
        return self.consensus_inputs(minibatch, index, state, training)

    def simultaneous_loss(self, minibatch, inputs, training=True):
        return self.consensus_loss(minibatch, inputs, training)

    # reuse_fakes: D's and G's inputs share z (update index 0); evaluation scores both losses on it.
    def reused_fakes_inputs(self, minibatch, index, state=None, training=True):
        return self.consensus_inputs(minibatch, index, state, training)

    def reused_fakes_loss(self, minibatch, inputs, training=True):
        return self.consensus_loss(minibatch, inputs, training)

    def update(self, phase, minibatch, index: int = 0, state: dict | None = None):
        """`AdversarialModel.update`; the ``reused_fakes`` phase runs `_reused_fakes_update`."""
        if getattr(phase, "name", phase) != "reused_fakes":
            return super().update(phase, minibatch, index, state)
        inputs = self.reused_fakes_inputs(minibatch, index, {} if state is None else state, training=True)
        return self._reused_fakes_update(minibatch, inputs)

    def _reused_fakes_update(self, minibatch, inputs):
        """D's update, then G's on the same samples, from one generator forward pass (``reuse_fakes``).

        G's gradient is the chain rule in two parts: dL_G/d(fake) against the
        updated D, then that vector back through the recorded forward pass
        (``output_gradients``), so the D update runs outside G's tape.
        """
        d_inputs, g_inputs = inputs["discriminator"], inputs["generator"]
        condition = self.fake_condition(d_inputs)
        with tf.GradientTape() as forward:
            fake = self.generate_batch(d_inputs["z"], condition, training=True)
        d_loss, d_extras = self.minimize_groups(
            ("discriminator",), lambda: self.discriminator_loss(minibatch, {**d_inputs, "fake": tf.stop_gradient(fake)})
        )
        self.after_discriminator_update()
        _, num_replicas = replica_info()
        optimizer, variables = self.generator_optimizer, list(self.generator_variables)
        with tf.GradientTape() as judged:
            judged.watch(fake)
            g_loss, g_extras = self.generator_loss(minibatch, {**g_inputs, "fake": fake})
            scaled = optimizer.scale_loss(g_loss / num_replicas)
        self.apply_gradients(optimizer, forward.gradient(fake, variables, output_gradients=judged.gradient(scaled, fake)), variables)
        return {"discriminator": d_loss, "generator": g_loss}, {**d_extras, **g_extras, "d_loss": d_loss, "g_loss": g_loss}

    def run_phase(self, phase, loss_fn):
        if phase.name != "consensus":
            return super().run_phase(phase, loss_fn)
        return self._consensus_update(loss_fn)

    def _consensus_update(self, loss_fn):
        """One simultaneous update of both networks by consensus optimization (Mescheder et al. 2017, Alg. 2).

        Every variable moves along its own loss's gradient plus ``consensus *
        grad(1/2 ||v||^2)`` (`kgan.remedies.consensus_gradients`). The
        second-order gradients run without XLA (``jit_compile`` does not apply
        to this step).
        """
        for optimizer in (self.generator_optimizer, self.discriminator_optimizer):
            if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                raise ValueError("consensus optimization does not support mixed_float16 loss scaling; use float32 or mixed_bfloat16.")
        _, num_replicas = replica_info()
        d_variables, g_variables = list(self.discriminator_variables), list(self.generator_variables)
        with tf.GradientTape() as outer:
            with tf.GradientTape(persistent=True) as inner:
                losses_by_group, extras = loss_fn()
                # Per replica 1/N of the global-mean gradient, as in `minimize_groups`
                # (divided on the tape, or the quotient has no gradient).
                d_scaled = losses_by_group["discriminator"] / num_replicas
                g_scaled = losses_by_group["generator"] / num_replicas
            field = inner.gradient(d_scaled, d_variables) + inner.gradient(g_scaled, g_variables)
        gradients, penalty = remedies.consensus_gradients(outer, field, d_variables + g_variables, self.consensus)
        self.discriminator_optimizer.apply_gradients(zip(gradients[: len(d_variables)], d_variables))
        self.generator_optimizer.apply_gradients(zip(gradients[len(d_variables) :], g_variables))
        return losses_by_group, {**extras, "consensus_penalty": penalty}

    # ------------------------------------------------------------------ serving

    def serving_endpoints(self):
        """Named `tf.function`s with explicit input signatures, for `kgan.export`.

        * ``serving_default(z float32 [N, latent_dim])`` -> ``images`` float32
          in [-1, 1], ``images_uint8`` and ``images_png_bytes`` (points models:
          ``samples`` float32 [N, D]).
        * ``sample(num_images int32 [], seed int64 [])`` -> the same outputs for
          ``z = stateless_normal([num_images, latent_dim], seed=[seed, 0])``, so
          clients need no latent code; equals `generate(num_images, seed)`.
          ``1 <= num_images <= max_batch_size``.

        An export (`kgan.export.export_saved_model`) bounds both by its
        ``max_batch_size`` (`kgan.serving.MAX_SAMPLED_IMAGES`, 1,024, by
        default): at most that many z rows or ``num_images`` per request.
        ``z`` of another rank or width, more rows than that, non-finite ``z``,
        a ``num_images`` or ``seed`` that is not a scalar or a ``num_images``
        out of bounds fail the request with an InvalidArgument error that
        names the input (`kgan.serving`), before the generator runs.
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

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "loss": self.loss_name,
            "discriminator_steps": self.discriminator_steps,
            "label_smoothing": self.label_smoothing,
            "feature_matching": self.feature_matching,
            "feature_matching_layer": self.feature_matching_layer,
            "consensus": self.consensus,
            "pack": self.pack,
            "unrolled_steps": self.unrolled_steps,
            "unrolled_learning_rate": self.unrolled_learning_rate,
            "updates": self.updates,
            "reuse_fakes": self.reuse_fakes,
            "r1_penalty": self.r1_penalty,
        }


def reuse_fakes_clashes(discriminator_steps, updates, unrolled_steps, consensus, historical_averaging) -> list:
    """The options (by argument name) that rule out ``reuse_fakes``; empty when it applies.

    One D update's samples serve one G update, after it: k = 1, alternating
    updates, and no option that needs G's own pass (unrolled steps), a joint
    step (consensus) or a per-group penalty outside the losses (historical
    averaging). The config's flag check reads the same list.
    """
    clashes = {
        "discriminator_steps": discriminator_steps != 1,
        "updates": updates != "alternating",
        "unrolled_steps": bool(unrolled_steps),
        "consensus": bool(consensus),
        "historical_averaging": bool(historical_averaging),
    }
    return [name for name, clash in clashes.items() if clash]


def _replica_mean(gradients):
    """The mean over replicas of per-replica gradients: the global batch's gradient, as D's own update uses.

    `ReplicaContext.all_reduce` defines its gradient (an all-reduce of the
    incoming gradients), so G's unrolled gradient flows through it.
    """
    _, num_replicas = replica_info()
    if num_replicas == 1:
        return gradients
    present = [i for i, g in enumerate(gradients) if g is not None]
    reduced = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.MEAN, [gradients[i] for i in present])
    result = list(gradients)
    for i, g in zip(present, reduced):
        result[i] = g
    return result


def _register():
    from kgan import configs, registry

    registry.register(registry.ModelSpec("gan", GAN, configs.GANConfig, configs.PRESETS))


_register()
