"""`InfoGAN`: a GAN whose latent codes are made to mean something (Chen et al. 2016)."""

from __future__ import annotations

import dataclasses
import inspect

import keras
import numpy as np
import tensorflow as tf

from kgan import mutual_information, penalties, serving
from kgan.arguments import check_weight
from kgan.models.base import stream
from kgan.models.gan import GAN


@dataclasses.dataclass(frozen=True)
class LatentCodes:
    """The structured part c of InfoGAN's latent input, and Q's output layout for it.

    Attributes:
      categorical: K of every categorical code, e.g. ``(10,)`` (one code of 10
        values, the paper's MNIST digit code) or ``(10, 10)``; each is drawn
        uniformly from ``[0, K)`` and fed one-hot.
      continuous: number of continuous codes, each uniform in [-1, 1].
      learn_continuous_variance: whether Q outputs a log standard deviation per
        continuous code next to its mean (else sigma = 1).

    Layouts (the generator's code input, Q's output ``q``)::

        codes  [B, width]   = [one-hot code 0 | one-hot code 1 | ... | continuous codes]
        q      [B, q_width] = [logits code 0  | logits code 1  | ... | means | log stds (learned variance only)]
    """

    categorical: tuple = (10,)
    continuous: int = 2
    learn_continuous_variance: bool = False

    def __post_init__(self):
        categorical = tuple(self.categorical)
        for k in categorical:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
                raise ValueError(f"every categorical code needs K >= 2 values (an int); got categorical_codes={categorical!r}.")
        continuous = self.continuous
        if isinstance(continuous, bool) or not isinstance(continuous, (int, np.integer)) or continuous < 0:
            raise ValueError(f"continuous_codes must be an int >= 0; got {continuous!r}.")
        if not categorical and not continuous:
            raise ValueError("InfoGAN needs at least one latent code (categorical_codes or continuous_codes); without any it is a GAN.")
        object.__setattr__(self, "categorical", tuple(int(k) for k in categorical))
        object.__setattr__(self, "continuous", int(continuous))
        object.__setattr__(self, "learn_continuous_variance", bool(self.learn_continuous_variance))

    @property
    def num_categorical(self) -> int:
        return len(self.categorical)

    @property
    def width(self) -> int:
        """Width of the encoded codes the generator takes after z: ``sum(K) + continuous``."""
        return sum(self.categorical) + self.continuous

    @property
    def q_width(self) -> int:
        """Width of Q's output: ``sum(K) + continuous`` (x2 for the continuous part with learned variance)."""
        return sum(self.categorical) + self.continuous * (2 if self.learn_continuous_variance else 1)

    @property
    def num_codes(self) -> int:
        """Categorical plus continuous codes; code i < num_categorical is categorical."""
        return self.num_categorical + self.continuous

    def code_name(self, code: int) -> str:
        """``"categorical 0 (K=10)"`` or ``"continuous 1"`` for code index ``code``."""
        if code < self.num_categorical:
            return f"categorical {code} (K={self.categorical[code]})"
        return f"continuous {code - self.num_categorical}"

    def encode(self, categorical, continuous):
        """``[B, width]`` float32: one-hot categorical codes then the continuous ones.

        Args:
          categorical: int ``[B, num_categorical]``.
          continuous: float ``[B, continuous]``.
        """
        parts = [tf.one_hot(tf.cast(categorical[:, j], tf.int32), k, dtype=tf.float32) for j, k in enumerate(self.categorical)]
        return tf.concat(parts + [tf.cast(continuous, tf.float32)], axis=-1)

    def from_uniform(self, uniform):
        """``(categorical int32 [B, n_cat], continuous float32 [B, n_cont])`` from uniform noise ``[B, n_cat + n_cont]`` in [0, 1).

        Column j < n_cat becomes ``floor(u * K_j)`` (uniform over ``[0, K_j)``);
        the others ``2u - 1`` (uniform in [-1, 1)).
        """
        n = self.num_categorical
        if not n:
            return tf.zeros([tf.shape(uniform)[0], 0], tf.int32), 2.0 * uniform - 1.0
        counts = tf.constant(self.categorical, tf.int32)
        # min(): u * K rounds up to K for u within float epsilon of 1.
        categorical = tf.minimum(tf.cast(uniform[:, :n] * tf.cast(counts, tf.float32), tf.int32), counts - 1)
        return categorical, 2.0 * uniform[:, n:] - 1.0

    def enumerate_categorical(self, num_samples: int, offset: int = 0) -> np.ndarray:
        """int32 ``[num_samples, n_cat]``: sample i gets combination ``i + offset`` of the codes, code 0 fastest.

        Code j of sample i is ``((i + offset) // prod(K_0 .. K_{j-1})) % K_j``,
        so any ``prod(K)`` consecutive samples hold every combination once
        (and any K_0 consecutive samples every value of code 0).
        """
        columns = self.combination_columns(np.arange(num_samples, dtype=np.int64) + int(offset))
        return np.stack(columns, axis=1).astype(np.int32) if columns else np.zeros((num_samples, 0), np.int32)

    def combination_columns(self, index) -> list:
        """Code j of combination ``index`` (an integer array or tensor ``[N]``), one ``[N]`` column per code.

        ``(index // prod(K_0 .. K_{j-1})) % K_j``: numpy arrays and tensors
        alike, so `enumerate_categorical` and the exported ``sample_prior``
        enumerate the same way.
        """
        columns, stride = [], 1
        for k in self.categorical:
            columns.append((index // stride) % k)
            stride *= k
        return columns

    def split_q(self, q):
        """``(logits, mean, log_std)`` of Q's output ``[B, q_width]``.

        ``logits`` is a list of ``[B, K_j]``, one per categorical code; ``mean``
        is ``[B, continuous]``; ``log_std`` too with a learned variance, else None.
        """
        q = tf.cast(q, tf.float32)
        logits, start = [], 0
        for k in self.categorical:
            logits.append(q[:, start:start + k])
            start += k
        mean = q[:, start:start + self.continuous]
        log_std = q[:, start + self.continuous:] if self.learn_continuous_variance else None
        return logits, mean, log_std


@keras.saving.register_keras_serializable(package="kgan")
class InfoGAN(GAN):
    """InfoGAN (Chen et al. 2016): G(z, c) against D, with Q recovering the codes c from G(z, c).

    The latent input is incompressible noise z ``~ N(0, I)`` (``latent_dim``)
    plus structured codes c (`LatentCodes`): categorical codes, uniform over
    K values each, and continuous codes, uniform in [-1, 1]. The generator
    sees ``[z, one-hot categorical codes, continuous codes]`` concatenated.
    The recognition network Q shares D's trunk: the discriminator is one
    network with two heads, ``samples -> [logits [B, 1], q [B, q_width]]``
    (`kgan.networks.info_dcgan_discriminator`, `info_mlp_discriminator`),
    as in the paper.

    Objective (Eq. 6): ``min_{G,Q} max_D V(D, G) - lambda L_I(G, Q)``, with
    ``-L_I`` up to a constant the negative log-likelihood of the codes under
    Q on generated samples (`kgan.mutual_information`): the softmax
    cross-entropy of each categorical code (weight ``info_weight_categorical``,
    lambda = 1 in the paper) and the Gaussian NLL of the continuous codes
    (``info_weight_continuous``, 0.1 here: the paper uses a smaller lambda for
    continuous codes so that the term is on the scale of the GAN loss), with
    a fixed unit variance or, with ``learn_continuous_variance``, a learned one.

    How Q is optimised: Q's parameters are those of D's network, so they are
    in the ``"discriminator"`` optimizer group, and both terms are added to
    the losses of *both* phases, computed on the phase's generated samples:

    * discriminator phase: ``D loss + lambda NLL(c | Q(G(z, c)))``, descended
      by D's trunk, D's head and Q's head (the MI term reaches the trunk and
      Q; D's score layer gets no gradient from it);
    * generator phase: ``G loss + lambda NLL(c | Q(G(z, c)))``, descended by
      G only (the gradient passes through the frozen trunk and Q into G).

    This is what the paper's code does (Q's variables are among ``d_vars``,
    and ``discriminator_loss`` and ``generator_loss`` both subtract ``lambda
    * mi_est``), and the only grouping that lets Q share the trunk: a separate
    Q group would put the trunk's variables in two groups (they partition the
    weights) or leave the trunk without the MI gradient. Q therefore learns at
    D's rate (the paper: 2e-4 for D, 1e-3 for G, `default_optimizers`) and
    with D's k steps. The real samples enter D's loss only: Q's output on them
    is never used, so the MI term has no path through the real-data branch
    (the two branches are separate network calls, so batch statistics do not
    mix them either).

    Loss families: every `kgan.losses` family, in particular the
    non-saturating one (the paper's) and ``loss="wasserstein"`` with
    ``gradient_penalty_weight > 0`` (WGAN-GP, Gulrajani et al. 2017: the
    penalty is on D's score head only, `kgan.penalties.gradient_penalty`; the
    critic, trunk and Q head, must then have no batch norm). Batches are
    samples only, as for `GAN` (no labels: the codes are found unsupervised).

    Args:
      generator: ``[B, latent_dim + codes.width]`` -> samples (images
        ``[B, H, W, C]`` in [-1, 1], or points ``[B, D]``).
      discriminator: samples -> ``[logits [B, ...], q [B, codes.q_width]]``.
      latent_dim: size of the noise z.
      categorical_codes: K of each categorical code, e.g. ``(10,)``; ``()`` for none.
      continuous_codes: number of continuous codes.
      info_weight_categorical: lambda of the categorical codes' term (>= 0; 0 disables it).
      info_weight_continuous: lambda of the continuous codes' term (>= 0).
      learn_continuous_variance: Q outputs a log std per continuous code.
      loss: a `kgan.losses.LOSS_FAMILIES` name.
      discriminator_steps: k >= 1 D (and Q) updates per G update.
      label_smoothing: one-sided label smoothing of D's real targets.
      gradient_penalty_weight: WGAN-GP's lambda on D's score head; 0 disables it.
      seed: seeds all training noise (z, codes, interpolation weights).
      **kwargs: `GAN`'s remedies (feature matching, EMA, ...) and `keras.Model` arguments.

    Metrics (epoch means): ``d_loss``, ``g_loss`` (each phase's whole loss),
    ``d_real``, ``d_fake``; the unweighted NLL terms of each phase,
    ``d_info_categorical`` / ``g_info_categorical`` (summed over the
    categorical codes; ``sum log K`` minus it is the bound on the codes'
    mutual information) and ``d_info_continuous`` / ``g_info_continuous``;
    with the Wasserstein loss ``wasserstein_estimate``, with a penalty
    ``gradient_penalty``.
    """

    # Q shares D's trunk, and its codes are per sample: none of GAN's step options fit.
    training_options = ()

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        categorical_codes=(10,),
        continuous_codes: int = 2,
        info_weight_categorical: float = 1.0,
        info_weight_continuous: float = 0.1,
        learn_continuous_variance: bool = False,
        loss: str = "non_saturating",
        discriminator_steps: int = 1,
        label_smoothing: float = 0.0,
        gradient_penalty_weight: float = 0.0,
        seed: int = 0,
        **kwargs,
    ):
        codes = LatentCodes(tuple(categorical_codes), continuous_codes, learn_continuous_variance)
        if len(generator.inputs) != 1 or generator.inputs[0].shape[-1] != int(latent_dim) + codes.width:
            raise ValueError(
                f"The generator must take one input [z, codes] of width latent_dim + codes = {int(latent_dim)} + "
                f"{codes.width}; {generator.name!r} takes {[tuple(i.shape) for i in generator.inputs]}. Build it with "
                "e.g. kgan.networks.dcgan_generator(latent_dim + LatentCodes(...).width, ...)."
            )
        if len(discriminator.inputs) != 1 or len(discriminator.outputs) != 2 or discriminator.outputs[1].shape[-1] != codes.q_width:
            raise ValueError(
                f"The discriminator must map samples to [logits, q] with q of width {codes.q_width} for these codes; "
                f"{discriminator.name!r} has {len(discriminator.inputs)} input(s) and outputs "
                f"{[tuple(o.shape) for o in discriminator.outputs]}. Build it with kgan.networks.info_dcgan_discriminator "
                "or info_mlp_discriminator(q_outputs=LatentCodes(...).q_width)."
            )
        self.info_weight_categorical = check_weight("info_weight_categorical", info_weight_categorical)
        self.info_weight_continuous = check_weight("info_weight_continuous", info_weight_continuous)
        gradient_penalty_weight = check_weight("gradient_penalty_weight", gradient_penalty_weight)
        if gradient_penalty_weight > 0:
            penalties.reject_batch_norm(discriminator)
        info = [f"{phase}_info_{kind}" for phase in ("d", "g") for kind, present in
                (("categorical", codes.categorical), ("continuous", codes.continuous)) if present]
        # Trackers are made from metric_names in AdversarialModel.__init__: set the instance's list first.
        self.metric_names = (
            GAN.metric_names + tuple(info) + (("wasserstein_estimate",) if loss == "wasserstein" else ())
            + (("gradient_penalty",) if gradient_penalty_weight > 0 else ())
        )
        super().__init__(
            generator, discriminator, latent_dim, loss=loss, discriminator_steps=discriminator_steps,
            label_smoothing=label_smoothing, seed=seed, **kwargs,
        )
        self.codes = codes
        self.gradient_penalty_weight = float(gradient_penalty_weight)

    def default_optimizers(self):
        """The paper's MNIST rates, Adam(beta_1=0.5): 1e-3 for G, 2e-4 for D and Q; WGAN-GP's Adam(1e-4, 0, 0.9) with that loss."""
        if self.loss_name == "wasserstein":
            return {g: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9) for g in self.groups}
        return {"generator": keras.optimizers.Adam(1e-3, beta_1=0.5), "discriminator": keras.optimizers.Adam(2e-4, beta_1=0.5)}

    # ------------------------------------------------------------------ sampling

    def call(self, inputs, training=False):
        """The sampling generator on ``[z [B, latent_dim], categorical int [B, n_cat], continuous [B, n_cont]]`` -> samples, float32."""
        z, categorical, continuous = inputs
        joined = tf.concat([tf.cast(z, tf.float32), self.codes.encode(categorical, continuous)], axis=-1)
        return tf.cast(self.sampling_generator(joined, training=training), tf.float32)

    def _continuous_codes(self, num_samples, seed):
        """float32 ``[num_samples, n_cont]``: ``stateless_uniform(seed=[seed, 1])`` in [-1, 1) (ints or scalar tensors)."""
        seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(1, tf.int64)])
        return tf.random.stateless_uniform(tf.stack([num_samples, self.codes.continuous]), seed=seed, minval=-1.0, maxval=1.0)

    def sampling_inputs(self, num_samples: int, seed: int = 0, offset: int = 0):
        """``[z, categorical, continuous]`` of `generate`-equal samples.

        z is `GAN.latent_vectors` (``stateless_normal(seed=[seed, 0])``); the
        categorical codes enumerate their combinations from ``offset``
        (`LatentCodes.enumerate_categorical`: balanced over any ``prod(K)``
        consecutive samples, as a conditional model's labels cycle); the
        continuous codes are ``stateless_uniform(seed=[seed, 1])`` in [-1, 1).
        """
        z = self.latent_vectors(num_samples, seed)  # Bounds num_samples and checks seed first.
        categorical = tf.constant(self.codes.enumerate_categorical(num_samples, offset))
        return [z, categorical, self._continuous_codes(num_samples, int(seed))]

    def generate(self, num_samples: int | None = None, seed: int = 0, categorical=None, continuous=None):
        """Samples for the stateless seed ``seed`` (float32 ``[N, *sample_shape]``).

        Args:
          num_samples: N; codes not given are those of `sampling_inputs`.
          seed: z = ``stateless_normal([N, latent_dim], seed=[seed, 0])``, as
            the exported ``sample`` signature draws it.
          categorical: int ``[N, n_cat]``, code j in ``[0, K_j)``.
          continuous: float ``[N, n_cont]`` (the prior is [-1, 1]; values
            beyond extrapolate, as the paper's Figure 2 does).

        With both kinds of codes given (those the model has), this equals
        the exported ``sample(categorical, continuous, seed)``.
        """
        given = [c for c in (categorical, continuous) if c is not None]
        if num_samples is None:
            if not given:
                raise ValueError("Pass num_samples or the codes.")
            num_samples = int(np.shape(given[0])[0])
        inputs = self.sampling_inputs(num_samples, seed)
        if categorical is not None:
            inputs[1] = self._checked_categorical(categorical, num_samples)
        if continuous is not None:
            inputs[2] = self._checked_continuous(continuous, num_samples)
        return serving.in_chunks(lambda chunk: self(chunk, training=False), inputs)

    def _checked_categorical(self, categorical, num_samples):
        values = np.asarray(categorical)
        if not np.issubdtype(values.dtype, np.integer) or values.shape != (num_samples, self.codes.num_categorical):
            raise ValueError(
                f"categorical must be ints of shape [{num_samples}, {self.codes.num_categorical}]; got {values.dtype} {values.shape}.")
        if values.size and ((values < 0).any() or (values >= np.array(self.codes.categorical)).any()):
            raise ValueError(f"categorical code j must lie in [0, K_j) for K = {self.codes.categorical}; "
                             f"got values in [{values.min()}, {values.max()}].")
        return tf.constant(values, tf.int32)

    def _checked_continuous(self, continuous, num_samples):
        values = np.asarray(continuous, np.float32)
        if values.shape != (num_samples, self.codes.continuous) or not np.isfinite(values).all():
            raise ValueError(f"continuous must be finite floats of shape [{num_samples}, {self.codes.continuous}]; got {values.shape}.")
        return tf.constant(values)

    def preview_inputs(self, num_samples: int, seed: int = 0):
        """``(inputs, rows)`` of the progress grid: with a categorical code, row k has code 0 = k (K_0 rows), else a square grid."""
        if not self.codes.categorical:
            return self.sampling_inputs(num_samples, seed), None
        rows = self.codes.categorical[0]
        columns = max(1, int(num_samples) // rows)
        inputs = self.sampling_inputs(columns * rows, seed)
        values = self.codes.enumerate_categorical(columns * rows)
        values[:, 0] = np.repeat(np.arange(rows), columns)
        inputs[1] = tf.constant(values)
        return inputs, rows

    def traversal_inputs(self, code: int, rows: int = 3, steps: int = 10, seed: int = 0, extent: float = 2.0):
        """``(inputs, columns)`` varying one code along each row, everything else fixed per row (the paper's Figure 2).

        Row r takes z and the codes of sample r of ``sampling_inputs(rows,
        seed)``; along the row, code ``code`` (an index < `LatentCodes.num_codes`:
        the categorical codes first) takes every value ``0 .. K-1`` (categorical:
        ``columns = K``) or ``steps`` values evenly spaced in ``[-extent,
        extent]`` (continuous: ``columns = steps``; the paper shows -2 to 2,
        beyond the prior's [-1, 1]).
        """
        if not 0 <= int(code) < self.codes.num_codes:
            raise ValueError(f"code must be in [0, {self.codes.num_codes}) ({self.codes.num_categorical} categorical first); got {code}.")
        z, categorical, continuous = (np.asarray(x) for x in self.sampling_inputs(rows, seed))
        n_cat = self.codes.num_categorical
        values = np.arange(self.codes.categorical[code]) if code < n_cat else np.linspace(-extent, extent, steps)
        columns = len(values)
        z, categorical, continuous = (np.repeat(x, columns, axis=0) for x in (z, categorical, continuous))
        swept = np.tile(values, rows)
        if code < n_cat:
            categorical[:, code] = swept
        else:
            continuous[:, code - n_cat] = swept
        return [tf.constant(z), tf.constant(categorical, tf.int32), tf.constant(continuous, tf.float32)], columns

    def predict_codes(self, samples, batch_size: int = serving.MAX_SAMPLED_IMAGES):
        """Q's reading of samples: ``(categorical int32 [N, n_cat], continuous float32 [N, n_cont])``, numpy.

        The categorical codes are the argmax of Q's logits (an image's
        cluster, for the clustering evaluation), the continuous ones Q's
        means. Runs D's network in inference mode, ``batch_size`` samples at a time.

        Args:
          samples: images ``[N, H, W, C]`` in [-1, 1] (or points ``[N, D]``), real or generated.
        """
        samples = np.asarray(samples, np.float32)
        categorical, continuous = [], []
        for start in range(0, len(samples), batch_size):
            _, q = self.discriminate(tf.constant(samples[start:start + batch_size]), training=False)
            logits, mean, _ = self.codes.split_q(q)
            categorical.append(np.stack([np.argmax(np.asarray(l), axis=-1) for l in logits], axis=1) if logits
                               else np.zeros((len(mean), 0), np.int64))
            continuous.append(np.asarray(mean))
        if not categorical:
            return np.zeros((0, self.codes.num_categorical), np.int32), np.zeros((0, self.codes.continuous), np.float32)
        return np.concatenate(categorical).astype(np.int32), np.concatenate(continuous).astype(np.float32)

    # ------------------------------------------------------------------ noise and losses

    def code_inputs(self, batch_size, index: int, training: bool = True) -> dict:
        """The codes of one update: ``{"categorical" int32 [B, n_cat], "continuous" [B, n_cont], "codes" [B, width]}``.

        One uniform draw ``[B, n_cat + n_cont]`` of stream ``("code", index)``
        (`LatentCodes.from_uniform`), so D's and G's updates with equal
        ``index`` see equal codes, as they see equal z.
        """
        uniform = self.uniform_noise(batch_size, (self.codes.num_codes,), stream("code", index), training)
        categorical, continuous = self.codes.from_uniform(uniform)
        return {"categorical": categorical, "continuous": continuous, "codes": self.codes.encode(categorical, continuous)}

    def discriminator_inputs(self, minibatch, index, state=None, training=True):
        """`GAN`'s ``{"z"}`` plus `code_inputs` (and ``"epsilon"`` with a gradient penalty)."""
        inputs = super().discriminator_inputs(minibatch, index, state, training)
        batch_size = self.batch_size_of(minibatch)
        inputs.update(self.code_inputs(batch_size, index, training))
        if self.gradient_penalty_weight > 0:
            inputs["epsilon"] = self.uniform_noise(batch_size, (), stream("epsilon", index), training)
        # Q's head learns from fakes alone: its gradient never reads the real minibatch, so, unlike
        # every other update, its update would not wait for the batch's in-graph value check (the
        # noise's batch size is a folded constant) and a refused step would still move Q. Making
        # the noise wait for the checked minibatch orders Q's update after the check too.
        with tf.control_dependencies(tf.nest.flatten(minibatch)):
            return {name: tf.identity(value) for name, value in inputs.items()}

    def generator_inputs(self, minibatch, index, state=None, training=True):
        """`GAN`'s ``{"z"}`` plus `code_inputs`."""
        inputs = super().generator_inputs(minibatch, index, state, training)
        inputs.update(self.code_inputs(self.batch_size_of(minibatch), index, training))
        return inputs

    def fake_condition(self, inputs):
        """The encoded codes ``[B, width]``: what `generate_batch` joins to z (D does not see them)."""
        return inputs["codes"]

    def generate_batch(self, noise, condition=None, training=True, network: str = "generator"):
        """G on ``[z, codes]`` concatenated (``condition`` = `fake_condition`)."""
        return getattr(self, network)(tf.concat([noise, condition], axis=-1), training=training)

    def information_terms(self, phase: str, inputs, q) -> dict:
        """The MI terms ``{"<phase>_info_categorical", "<phase>_info_continuous": (lambda, NLL)}`` of Q's output on fakes.

        Args:
          phase: ``"d"`` or ``"g"``, the prefix of the logged names.
          inputs: the phase's inputs (the codes the fakes were made with).
          q: Q's output ``[B, q_width]`` on those fakes.
        """
        logits, mean, log_std = self.codes.split_q(q)
        terms = {}
        if self.codes.categorical:
            terms[f"{phase}_info_categorical"] = (self.info_weight_categorical, lambda: tf.add_n([
                mutual_information.categorical_information_loss(inputs["categorical"][:, j], code_logits)
                for j, code_logits in enumerate(logits)
            ]))
        if self.codes.continuous:
            terms[f"{phase}_info_continuous"] = (self.info_weight_continuous, lambda: mutual_information.gaussian_information_loss(
                inputs["continuous"], mean, log_std))
        return terms

    def discriminator_terms(self, minibatch, fake, inputs, auxiliary, training=True):
        """Q's MI terms on the fakes (Q's output on the real samples is not used) and the WGAN-GP penalty on D's score."""
        _, fake_q = auxiliary
        terms = self.information_terms("d", inputs, fake_q)
        terms["gradient_penalty"] = (self.gradient_penalty_weight, lambda: penalties.gradient_penalty(
            lambda x: self.discriminate(x, training=training)[0], minibatch, fake, inputs["epsilon"]))
        return terms

    def generator_terms(self, minibatch, fake, inputs, fake_auxiliary, training=True):
        """The MI terms G descends through the (frozen) trunk and Q head."""
        return self.information_terms("g", inputs, fake_auxiliary)

    # ------------------------------------------------------------------ serving

    def _code_specs(self) -> list:
        specs = []
        if self.codes.categorical:
            specs.append(tf.TensorSpec([None, None], tf.int32, name="categorical"))
        if self.codes.continuous:
            specs.append(tf.TensorSpec([None, None], tf.float32, name="continuous"))
        return specs

    def _served_codes(self, named: dict):
        """The code inputs of a request, checked in the graph: ``(categorical, continuous)``, an absent kind zero-width."""
        categorical, continuous = named.get("categorical"), named.get("continuous")
        if categorical is not None:
            n_cat, counts = self.codes.num_categorical, tf.constant(self.codes.categorical, tf.int32)
            categorical = serving.checked_batch(categorical, "categorical", (n_cat,))
            width = tf.debugging.assert_equal(tf.shape(categorical)[1:], tf.constant([n_cat]),
                                              message=f"categorical must have shape [N, {n_cat}]; got another width")
            with tf.control_dependencies([width]):  # The range test broadcasts against K only after the width passed.
                in_range = tf.reduce_all((categorical >= 0) & (categorical < counts))
            check = tf.debugging.Assert(in_range, [f"categorical code j must lie in [0, K_j) for K = {self.codes.categorical}; "
                                                   "got min and max:", tf.reduce_min(categorical), tf.reduce_max(categorical)])
            with tf.control_dependencies([width, check]):
                categorical = tf.ensure_shape(tf.identity(categorical), [None, n_cat])
        if continuous is not None:
            # Finite, not bounded: the paper varies continuous codes beyond the prior's [-1, 1].
            continuous = serving.checked_vectors(continuous, self.codes.continuous, "continuous")
        size = tf.shape(categorical if categorical is not None else continuous)[0]
        if categorical is None:
            categorical = tf.zeros([size, 0], tf.int32)
        if continuous is None:
            continuous = tf.zeros([size, 0], tf.float32)
        return categorical, continuous

    @staticmethod
    def _endpoint(body, specs):
        """A `tf.function` of the named ``specs`` (``body(dict of inputs)``), callable with those names as keywords."""

        def endpoint(*args):
            return body(dict(zip([spec.name for spec in specs], args)))

        parameter = inspect.Parameter
        endpoint.__signature__ = inspect.Signature([parameter(s.name, parameter.POSITIONAL_OR_KEYWORD) for s in specs])
        return tf.function(endpoint, input_signature=specs)

    def serving_endpoints(self):
        """Named `tf.function`s with explicit input signatures, for `kgan.export`.

        * ``serving_default(z float32 [N, latent_dim], categorical int32
          [N, n_cat], continuous float32 [N, n_cont])`` -> ``images`` float32
          in [-1, 1], ``images_uint8``, ``images_png_bytes`` (points models:
          ``samples``). An input is present only if the model has codes of
          its kind.
        * ``sample(categorical, continuous, seed int64 [])``: the same for
          ``z = stateless_normal([N, latent_dim], seed=[seed, 0])``; equals
          ``generate(categorical=..., continuous=..., seed=seed)``.

        * ``sample_prior(num_images int32 [], seed int64 [])``: ``num_images``
          samples with every input drawn as `sampling_inputs(num_images,
          seed)` draws them (the categorical codes enumerated from 0, so
          balanced over any ``prod(K)`` consecutive images): the model's own
          distribution, which FID measures (`kgan.metrics.evaluate_generator`
          on the export uses it); equals ``generate(num_images, seed)``.

        ``N <=`` the export's ``max_batch_size`` in all three. A categorical code
        outside ``[0, K_j)``, non-finite z or continuous codes, another width,
        mismatched batch sizes or rank fail with an InvalidArgument error
        naming the input. Continuous codes are not bounded (the paper varies
        them beyond [-1, 1] to show they extrapolate).
        """
        latent_dim, code_specs = self.latent_dim, self._code_specs()

        def serve_default(named):
            z = serving.checked_vectors(named["z"], latent_dim, "z")
            categorical, continuous = self._served_codes(named)
            present = {"z": z, **{k: v for k, v in (("categorical", categorical), ("continuous", continuous)) if k in named}}
            z, categorical, continuous = self._aligned(present, categorical, continuous)
            return serving.generator_outputs(self([z, categorical, continuous], training=False))

        def serve_sample(named):
            categorical, continuous = self._served_codes(named)
            present = {k: v for k, v in (("categorical", categorical), ("continuous", continuous)) if k in named}
            _, categorical, continuous = self._aligned(present, categorical, continuous)
            count = serving.checked_count(tf.shape(categorical)[0], name="the number of codes")
            seed = tf.stack([named["seed"], tf.constant(0, tf.int64)])
            z = tf.random.stateless_normal(tf.stack([count, latent_dim]), seed=seed)
            return serving.generator_outputs(self([z, categorical, continuous], training=False))

        def serve_prior(named):
            count = serving.checked_count(named["num_images"])
            seed = named["seed"]
            z = tf.random.stateless_normal(tf.stack([count, latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)]))
            columns = self.codes.combination_columns(tf.range(count))  # As sampling_inputs enumerates them.
            categorical = tf.stack(columns, axis=1) if columns else tf.zeros([count, 0], tf.int32)
            return serving.generator_outputs(self([z, categorical, self._continuous_codes(count, seed)], training=False))

        return {
            "serving_default": self._endpoint(serve_default, [tf.TensorSpec([None, None], tf.float32, name="z"), *code_specs]),
            "sample": self._endpoint(serve_sample, [*code_specs, tf.TensorSpec([], tf.int64, name="seed")]),
            "sample_prior": self._endpoint(
                serve_prior, [tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int64, name="seed")]),
        }

    @staticmethod
    def _aligned(present: dict, categorical, continuous):
        """``(z or None, categorical, continuous)`` after checking that the given inputs share their batch size."""
        if len(present) > 1:
            checked = dict(zip(present, serving.checked_batch_sizes(present)))
        else:
            checked = dict(present)
        return checked.get("z"), checked.get("categorical", categorical), checked.get("continuous", continuous)

    # ------------------------------------------------------------------ config

    def get_config(self):
        return {
            **super().get_config(),
            "categorical_codes": list(self.codes.categorical),
            "continuous_codes": self.codes.continuous,
            "info_weight_categorical": self.info_weight_categorical,
            "info_weight_continuous": self.info_weight_continuous,
            "learn_continuous_variance": self.codes.learn_continuous_variance,
            "gradient_penalty_weight": self.gradient_penalty_weight,
        }


def _register():
    from kgan import registry
    from kgan.configs import info_gan as info_gan_configs

    registry.register(registry.ModelSpec("info_gan", InfoGAN, info_gan_configs.InfoGANConfig, info_gan_configs.PRESETS))


_register()
