"""Training-side remedies for mode collapse and instability, shared by `GAN`, `WGANGP` and `ConditionalGAN`.

The network-side remedies (minibatch features, spectral normalisation,
virtual batch normalisation) live in `kgan.networks.stabilizers`; one-sided
label smoothing is a loss option (`kgan.losses`). What is here changes the
objective or the update:

* `feature_matching_loss` (Salimans et al. 2016, "Improved Techniques for
  Training GANs", 3.1): ``||E f(x) - E f(G(z))||_2^2`` (averaged over the
  features) on intermediate discriminator features f.
* `HistoricalAverage` (Salimans et al. 2016, 3.3): the penalty
  ``||theta - mean_{i <= t} theta_i||_2^2`` and the running mean it needs.
* `consensus_gradients` (Mescheder et al. 2017, "The Numerics of GANs"): the
  simultaneous gradient field ``v`` plus ``gamma * grad(1/2 ||v||^2)``.
* `ExponentialAverage`: an exponential moving average of the generator's
  weights, for sampling (Yazici et al. 2019; Karras et al. 2018).
* `diff_augment` (Zhao et al. 2020, "Differentiable Augmentation for
  Data-Efficient GAN Training"): colour, translation and cutout applied to
  every image the discriminator sees, real or generated, as differentiable ops.
* `pack_samples` / `packed_shape` (Lin et al. 2018, "PacGAN: The power of two
  samples in generative adversarial networks"): the discriminator judges packs
  of m samples of one kind, joined along the last axis.
* `unrolled_weights` (Metz et al. 2017, "Unrolled Generative Adversarial
  Networks"): the discriminator's weights after k differentiable gradient
  steps, which the generator's surrogate loss is computed against.

Every random choice is an input (``params`` drawn by the model from its
step-seeded noise streams), so the functions are pure and replica-consistent.
"""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = [
    "AUGMENT_PARAMS",
    "DIFF_AUGMENT_OPS",
    "ExponentialAverage",
    "HistoricalAverage",
    "consensus_gradients",
    "diff_augment",
    "feature_matching_loss",
    "pack_samples",
    "packed_shape",
    "parse_augment_policy",
    "unrolled_weights",
]

# ---------------------------------------------------------------- feature matching


def feature_matching_loss(real_features, fake_features):
    """``mean_j (E_b f_j(x_b) - E_b f_j(G(z_b)))^2``: feature matching (Salimans et al. 2016, 3.1).

    The paper writes the squared L2 norm ``||E f(x) - E f(G(z))||_2^2``; the
    authors' code (and this) averages over the features instead of summing,
    so the scale does not grow with the discriminator's width.

    Args:
      real_features: ``[B, ...]`` discriminator features of real samples
        (treated as constants: the generator cannot move them).
      fake_features: ``[B', ...]`` features of generated samples.

    Returns:
      float32 scalar >= 0.
    """
    real_mean = tf.stop_gradient(tf.reduce_mean(tf.cast(real_features, tf.float32), axis=0))
    fake_mean = tf.reduce_mean(tf.cast(fake_features, tf.float32), axis=0)
    return tf.reduce_mean(tf.square(real_mean - fake_mean))


def feature_layer_output(discriminator: keras.Model, layer_name: str | None = None):
    """The symbolic tensor feature matching compares: a named layer's output, or the input of D's score layer.

    Args:
      discriminator: a functional `keras.Model`.
      layer_name: name of the layer whose output are the features; by
        default the input of the layer producing D's (first) output, i.e. the
        last hidden features (Salimans et al. use "an intermediate layer").

    Raises:
      ValueError: the layer does not exist, or D is not functional.
    """
    if layer_name:
        try:
            return discriminator.get_layer(layer_name).output
        except ValueError as error:
            names = [layer.name for layer in discriminator.layers]
            raise ValueError(f"feature_matching_layer={layer_name!r} is not a layer of {discriminator.name!r}; its layers: {names}.") from error
    outputs = discriminator.outputs
    if not outputs:
        raise ValueError("Feature matching needs a functional discriminator (keras.Model(inputs, outputs)).")
    names = {layer.name: layer for layer in discriminator.layers}
    # kgan's discriminators name their score layer "logit" ("logit_sn" when spectrally normalised);
    # the conditional ones add a projection after it.
    score_layer = names.get("logit") or names.get("logit_sn") or outputs[0]._keras_history.operation
    inputs = score_layer._inbound_nodes[0].input_tensors
    if len(inputs) != 1:
        raise ValueError(
            f"The layer {score_layer.name!r} producing {discriminator.name!r}'s score takes {len(inputs)} inputs; "
            "name the feature layer with feature_matching_layer."
        )
    return inputs[0]


# ---------------------------------------------------------------- historical averaging


class HistoricalAverage(keras.layers.Layer):
    """The running mean of a network's trainable weights and the penalty ``||theta - mean||^2``.

    Salimans et al. 2016, 3.3: each player adds
    ``||theta - (1/t) sum_{i=1..t} theta[i]||_2^2`` to its cost. The mean
    starts at the initial weights (so the first penalty is 0) and
    `update` folds in the current weights once per train step:
    ``mean <- mean + (theta - mean) / (t + 2)`` after step t (0-based), the mean of
    ``theta_0 .. theta_{t+1}``. The averages are float32 weights of this
    layer, saved with the model.

    Args:
      variables: the network's trainable variables (float32).
    """

    def __init__(self, variables, **kwargs):
        super().__init__(trainable=False, **kwargs)
        variables = list(variables)
        # A function, not a list attribute: Keras would track the listed
        # variables as this layer's own weights.
        self._watched = lambda: variables
        self.averages = [
            self.add_weight(
                shape=tuple(v.shape), initializer=keras.initializers.Constant(0.0), trainable=False,
                name=f"average_{i}", dtype="float32",
            )
            for i, v in enumerate(variables)
        ]
        for average, variable in zip(self.averages, variables):
            average.assign(tf.cast(variable, tf.float32))
        self.built = True  # its weights exist; an unbuilt sub-layer would make Keras build the model symbolically

    def penalty(self):
        """float32 scalar ``sum ||theta - mean||^2`` over all watched variables (differentiable in theta)."""
        return tf.add_n(
            [tf.reduce_sum(tf.square(tf.cast(v, tf.float32) - tf.stop_gradient(a.value))) for v, a in zip(self._watched(), self.averages)]
        )

    def new_averages(self, step):
        """The averages after folding in the current weights at (0-based) train step ``step``."""
        count = tf.cast(step, tf.float32) + 2.0
        return [a.value + (tf.cast(v, tf.float32) - a.value) / count for v, a in zip(self._watched(), self.averages)]


# ---------------------------------------------------------------- generator EMA


class ExponentialAverage(keras.layers.Layer):
    """A copy of a network whose weights follow ``w_avg <- decay * w_avg + (1 - decay) * w``.

    Sampling from the average of the generator's recent weights removes much
    of the step-to-step jitter of GAN training (Yazici et al. 2019, "The
    Unusual Effectiveness of Averaging in GAN Training"; Karras et al. 2018
    and 2019 sample from such an average). Non-trainable weights (batch-norm
    moving statistics) are copied, not averaged, as in StyleGAN's code.

    The decay ramps up as in `tf.train.ExponentialMovingAverage` with
    ``num_updates``: update t (0-based) uses ``min(decay, (1 + t) / (10 + t))``,
    so the average forgets the random initial weights within the first
    hundreds of steps instead of ``1 / (1 - decay)`` steps.

    Why not the optimizers' ``use_ema``: Keras overwrites the *trained*
    weights with the average at the end of `fit`, so training would resume
    from the average; here the average is a separate network for sampling.

    Args:
      network: the functional `keras.Model` to average (cloned; the clone
        starts equal to it).
      decay: in (0, 1), e.g. 0.999.
    """

    def __init__(self, network: keras.Model, decay: float, **kwargs):
        super().__init__(trainable=False, **kwargs)
        if not 0.0 < decay < 1.0:
            raise ValueError(f"The generator EMA decay must be in (0, 1), e.g. 0.999; got {decay}.")
        self.decay = float(decay)
        self.source = lambda: network  # not tracked as a sub-layer of this one: the model owns it
        self.network = keras.models.clone_model(network)
        self.network.trainable = False
        self.network.set_weights(network.get_weights())
        self.built = True

    def call(self, inputs, training=False):
        return self.network(inputs, training=False)

    def pairs(self):
        """``[(average_variable, source_variable, averaged)]`` for every weight of the network."""
        source = self.source()
        trainable = {id(v) for v in source.trainable_weights}
        return [(mine, theirs, id(theirs) in trainable) for mine, theirs in zip(self.network.weights, source.weights)]

    def new_values(self, step=None):
        """The averaged weights after update number ``step`` (0-based; None: no ramp-up)."""
        decay = tf.constant(self.decay, tf.float32)
        if step is not None:
            step = tf.cast(step, tf.float32)
            decay = tf.minimum(decay, (1.0 + step) / (10.0 + step))
        return [
            mine.value * tf.cast(decay, mine.dtype) + tf.cast(theirs.value, mine.dtype) * tf.cast(1.0 - decay, mine.dtype)
            if averaged else tf.cast(theirs.value, mine.dtype)
            for mine, theirs, averaged in self.pairs()
        ]


# ---------------------------------------------------------------- consensus optimization


def consensus_gradients(outer_tape, gradients, variables, gamma: float):
    """Adds ``gamma * d(1/2 ||v||^2)/d(theta)`` to the simultaneous gradient field ``v``.

    Mescheder et al. 2017, "The Numerics of GANs", Algorithm 2 (consensus
    optimization): every player descends ``v + gamma * grad L`` with
    ``L = 1/2 ||v||^2`` over *all* players' gradients, which damps the
    rotation of the simultaneous gradient field around an equilibrium.

    Args:
      outer_tape: a `tf.GradientTape` that recorded the computation of ``gradients``.
      gradients: ``v``: the list of every player's gradient of its own loss.
      variables: the variables the gradients belong to (same order).
      gamma: the regularisation weight (Mescheder et al. use 10).

    Returns:
      ``(regularized_gradients, L)``: one tensor per variable (a missing gradient counts as 0) and L.
    """
    with outer_tape:
        squared_norm = 0.5 * tf.add_n([tf.reduce_sum(tf.square(tf.cast(g, tf.float32))) for g in gradients if g is not None])
    # Not unconnected_gradients=ZERO: with third derivatives (a gradient penalty inside v)
    # TF 2.21's tape then fails ("'str' object has no attribute '_type_enum'").
    extra = outer_tape.gradient(squared_norm, variables)
    regularized = []
    for g, e, v in zip(gradients, extra, variables):
        terms = ([] if g is None else [g]) + ([] if e is None else [gamma * tf.cast(e, v.dtype)])
        regularized.append(tf.add_n(terms) if terms else tf.zeros_like(v))
    return regularized, squared_norm


# ---------------------------------------------------------------- DiffAugment

DIFF_AUGMENT_OPS = ("color", "translation", "cutout")
# Uniform [0, 1) numbers per image: brightness, saturation, contrast, shift y, shift x, cutout y, cutout x.
AUGMENT_PARAMS = 7


def parse_augment_policy(policy) -> tuple:
    """``"color,translation,cutout"`` (or a sequence) -> a tuple of `DIFF_AUGMENT_OPS`; ``""`` -> ``()``."""
    if isinstance(policy, str):
        policy = [p.strip() for p in policy.split(",") if p.strip()]
    policy = tuple(policy or ())
    unknown = [p for p in policy if p not in DIFF_AUGMENT_OPS]
    if unknown:
        raise ValueError(f"Unknown DiffAugment op(s) {unknown}; choose from {', '.join(DIFF_AUGMENT_OPS)}, comma-separated.")
    return policy


def _shift(images, offsets, axis):
    """Shifts each image by its own integer ``offsets [B]`` along ``axis`` (1: rows, 2: columns), zero-filled."""
    size = images.shape[axis]
    index = tf.range(size)[None, :] - offsets[:, None]  # [B, size]: source index of each target index
    valid = tf.logical_and(index >= 0, index < size)
    gathered = tf.gather(images, tf.clip_by_value(index, 0, size - 1), axis=axis, batch_dims=1)
    mask_shape = [-1, size, 1, 1] if axis == 1 else [-1, 1, size, 1]
    return gathered * tf.cast(tf.reshape(valid, mask_shape), images.dtype)


def diff_augment(images, params, policy=DIFF_AUGMENT_OPS, translation_ratio: float = 0.125, cutout_ratio: float = 0.5):
    """Differentiable augmentation of Zhao et al. (2020), applied per image.

    * ``color``: brightness ``x + (u0 - 0.5)``; saturation ``m_c + (x - m_c) * 2 u1``
      with ``m_c`` the image's per-pixel channel mean (a no-op on one
      channel); contrast ``m + (x - m) * (u2 + 0.5)`` with ``m`` the image mean.
    * ``translation``: shift by ``round((2 u - 1) * translation_ratio * size)``
      pixels along each axis, zero-filled.
    * ``cutout``: zero a square of side ``round(cutout_ratio * size)`` centred
      at ``floor(u * (size + 1 - side % 2))`` minus ``side // 2`` (clipped at the borders).

    Gradients flow to ``images`` through every op (masks and index maps are
    constants), so G learns through D's view of its augmented samples.

    Args:
      images: float ``[B, H, W, C]`` (in [-1, 1]; color can leave the range, as in the paper).
      params: float ``[B, AUGMENT_PARAMS]`` uniform numbers in [0, 1).
      policy: ops of `DIFF_AUGMENT_OPS`, applied in that order.
      translation_ratio: maximum shift as a fraction of the side (1/8 in the paper).
      cutout_ratio: side of the cut square as a fraction of the side (1/2 in the paper).

    Returns:
      ``[B, H, W, C]``, the dtype of ``images``.
    """
    policy = parse_augment_policy(policy)
    if images.shape.rank != 4:
        raise ValueError(f"DiffAugment works on images [B, H, W, C]; got shape {images.shape}. Do not use it for point data.")
    x = images
    u = tf.cast(params, x.dtype)
    height, width = int(x.shape[1]), int(x.shape[2])
    if "color" in policy:
        x = x + (tf.reshape(u[:, 0], [-1, 1, 1, 1]) - 0.5)
        channel_mean = tf.reduce_mean(x, axis=3, keepdims=True)
        x = channel_mean + (x - channel_mean) * tf.reshape(2.0 * u[:, 1], [-1, 1, 1, 1])
        image_mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        x = image_mean + (x - image_mean) * tf.reshape(u[:, 2] + 0.5, [-1, 1, 1, 1])
    if "translation" in policy:
        for axis, size, column in ((1, height, 3), (2, width, 4)):
            limit = translation_ratio * size
            offsets = tf.cast(tf.round((2.0 * tf.cast(u[:, column], tf.float32) - 1.0) * limit), tf.int32)
            x = _shift(x, offsets, axis)
    if "cutout" in policy:
        masks = []
        for size, column in ((height, 5), (width, 6)):
            side = int(round(cutout_ratio * size))
            centre = tf.cast(tf.floor(tf.cast(u[:, column], tf.float32) * (size + 1 - side % 2)), tf.int32)
            start = centre - side // 2
            position = tf.range(size)[None, :]
            masks.append(tf.logical_and(position >= start[:, None], position < (start + side)[:, None]))  # [B, size]
        cut = tf.logical_and(masks[0][:, :, None], masks[1][:, None, :])  # [B, H, W]
        x = x * tf.cast(tf.logical_not(cut), x.dtype)[..., None]
    return x


# ---------------------------------------------------------------- PacGAN


def packed_shape(sample_shape, pack: int) -> tuple:
    """The shape of one pack of ``pack`` samples, what a PacGAN discriminator is built for.

    Lin et al. 2018, "PacGAN", Sec. 3: m samples are concatenated along the
    feature axis, so a point ``(D,)`` becomes ``(m * D,)`` and an image
    ``(H, W, C)`` becomes ``(H, W, m * C)``; the discriminator's layers are
    otherwise unchanged.

    Args:
      sample_shape: one sample's shape, e.g. ``(2,)`` or ``(28, 28, 1)``.
      pack: m >= 1 (1: the shape itself).

    Returns:
      The packed shape as a tuple of ints.
    """
    shape = tuple(int(d) for d in sample_shape)
    pack = _check_pack(pack)
    if not shape:
        raise ValueError("packed_shape needs the shape of one sample, e.g. (2,) or (28, 28, 1); got ().")
    return shape[:-1] + (shape[-1] * pack,)


def pack_samples(samples, pack: int):
    """Joins every ``pack`` consecutive samples into one: ``[B, ..., C]`` -> ``[B / m, ..., m * C]``.

    Pack j holds samples ``j*m .. j*m + m - 1`` in that order (sample i's
    features at ``[..., (i mod m) * C : (i mod m + 1) * C]``). A batch of real
    samples gives packs of real samples and a generated batch packs of
    generated ones, as PacGAN's discriminator sees them (Lin et al. 2018).

    Args:
      samples: ``[B, ...]`` with ``B`` divisible by ``pack``.
      pack: m >= 1 (1 returns ``samples`` unchanged).

    Raises:
      ValueError: ``B`` is known and not a multiple of ``pack`` (a batch whose
        size is only known when it runs fails with InvalidArgument instead).
    """
    pack = _check_pack(pack)
    if pack == 1:
        return samples
    batch = samples.shape[0]
    message = f"PacGAN with pack={pack} judges packs of {pack} samples: every minibatch's size must be a multiple of {pack}"
    if batch is not None and batch % pack:
        raise ValueError(f"{message}; got {batch}. Batch the dataset by a multiple of {pack} (times discriminator_steps).")
    dynamic = tf.shape(samples)
    checks = [] if batch is not None else [
        tf.debugging.assert_equal(dynamic[0] % pack, 0, message=message)
    ]
    with tf.control_dependencies(checks):
        rank = samples.shape.rank
        feature_shape = dynamic[1:]
        # [B, ..., C] -> [B/m, m, ..., C] -> [B/m, ..., m, C] -> [B/m, ..., m*C].
        grouped = tf.reshape(samples, tf.concat([[-1, pack], feature_shape], 0))
        order = [0] + list(range(2, rank)) + [1, rank]
        moved = tf.transpose(grouped, order)
        return tf.reshape(moved, tf.concat([[-1], feature_shape[:-1], [pack * feature_shape[-1]]], 0))


def _check_pack(pack) -> int:
    if isinstance(pack, bool) or int(pack) != pack or int(pack) < 1:
        raise ValueError(f"pack must be an integer >= 1 (1: no packing); got {pack!r}.")
    return int(pack)


# ---------------------------------------------------------------- unrolled GAN


def unrolled_weights(loss_fn, weights, steps_inputs, learning_rate, reduce_gradients=None):
    """The weights after ``len(steps_inputs)`` differentiable gradient-descent steps on ``loss_fn``.

    Metz et al. 2017, "Unrolled Generative Adversarial Networks", Eq. (4):
    ``theta^{k+1} = theta^k - eta * d L_D(theta^k) / d theta^k`` (written as
    descent on the discriminator's loss). Each step's gradient is taken on an
    inner tape *inside* whatever outer tape is recording, so a loss computed
    with the returned weights has gradients through every step (the
    generator's "unrolled" gradient, second-order terms included).

    Args:
      loss_fn: ``loss_fn(weights, inputs)`` -> float32 scalar: the loss with
        ``weights`` in place of the network's trainable variables.
      weights: list of tensors, the starting values (the network's weights).
      steps_inputs: one ``inputs`` per step (fresh noise each), passed to ``loss_fn``.
      learning_rate: eta, a float or scalar tensor.
      reduce_gradients: optional ``list -> list`` applied to each step's
        gradients (under `tf.distribute`: the mean over replicas, so every
        replica unrolls the same, global-batch discriminator).

    Returns:
      A list of tensors like ``weights``.
    """
    weights = list(weights)
    for inputs in steps_inputs:
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = loss_fn(weights, inputs)
        gradients = tape.gradient(loss, weights)
        if reduce_gradients is not None:
            gradients = reduce_gradients(gradients)
        weights = [w if g is None else w - tf.cast(learning_rate, w.dtype) * tf.cast(g, w.dtype) for w, g in zip(weights, gradients)]
    return weights
