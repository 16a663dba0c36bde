"""Network-side remedies for mode collapse: minibatch features, spectral and virtual batch normalisation.

A discriminator that scores each example alone cannot see that a generator
emits the same image for every z; these give it a view of the batch:

* `MinibatchStddev` (Karras et al. 2018, "Progressive Growing of GANs", 3):
  the standard deviation of each feature over a group of examples, averaged
  to one number and appended as an extra feature (map). A collapsed batch has
  ~0 there, real batches do not.
* `MinibatchDiscrimination` (Salimans et al. 2016, "Improved Techniques for
  Training GANs", 3.2): B learned projections of each example's features;
  for each, the sum over the batch of ``exp(-L1 distance)`` to every example
  (itself included, as the paper's sum over j = 1..n) is appended.
* Spectral normalisation (Miyato et al. 2018): every kernel divided by its
  largest singular value, estimated by one power iteration per training step
  (`keras.layers.SpectralNormalization`), which bounds the discriminator's
  Lipschitz constant. `spectrally_normalized` wraps a layer.
* Virtual batch normalisation (Salimans et al. 2016, 3.4), for generators:
  `VirtualBatchNormalization` normalises each example with the statistics of
  a fixed reference batch (`PrependReferenceBatch` / `DropReferenceBatch`
  carry it through the network), so a generated image does not depend on
  the rest of its batch. ``dcgan_generator(normalization="virtual_batch")``.

Under tf.distribute the batch statistics are per replica (each replica sees
its slice of the global batch), as batch normalisation's are.
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = [
    "MINIBATCH_FEATURES", "DropReferenceBatch", "MinibatchDiscrimination", "MinibatchStddev", "PrependReferenceBatch",
    "VirtualBatchNormalization", "minibatch_features", "spectrally_normalized",
]

MINIBATCH_FEATURES = ("none", "stddev", "discrimination")


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchStddev(layers.Layer):
    """Appends the mean over features of the per-feature standard deviation within groups of examples.

    Input ``[B, H, W, C]`` -> ``[B, H, W, C + 1]`` (the statistic as a constant
    map) or ``[B, D]`` -> ``[B, D + 1]``. Examples are split into groups of
    ``group_size`` (the whole batch when B is not a multiple of it), taken
    with stride ``B / group_size`` as in Karras et al.'s code (example b is in
    group ``b mod (B / group_size)``); every member of a group gets its
    group's statistic ``mean_features(sqrt(var_group(x) + 1e-8))``.

    Args:
      group_size: examples per group (Karras et al. use 4).
    """

    def __init__(self, group_size: int = 4, **kwargs):
        super().__init__(**kwargs)
        if group_size < 2:
            raise ValueError(f"group_size must be >= 2 (a standard deviation needs two examples); got {group_size}.")
        self.group_size = group_size

    def call(self, x):
        batch = ops.shape(x)[0]
        group = ops.where(ops.equal(batch % self.group_size, 0), self.group_size, batch)
        values = ops.cast(x, "float32")
        grouped = ops.reshape(values, (group, -1, *values.shape[1:]))  # [G, B/G, ...]: member i of every group
        deviation = grouped - ops.mean(grouped, axis=0, keepdims=True)
        stddev = ops.sqrt(ops.mean(ops.square(deviation), axis=0) + 1e-8)  # [B/G, ...]
        statistic = ops.mean(ops.reshape(stddev, (ops.shape(stddev)[0], -1)), axis=1)  # [B/G]
        # Example b belongs to group b mod (B/G): the reshape above put members of a group G apart.
        per_example = ops.tile(statistic, (group,))  # [B]
        per_example = ops.cast(per_example, x.dtype)
        if len(x.shape) == 4:
            maps = ops.ones_like(x[..., :1]) * ops.reshape(per_example, (-1, 1, 1, 1))
            return ops.concatenate([x, maps], axis=-1)
        return ops.concatenate([x, ops.reshape(per_example, (-1, 1))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchDiscrimination(layers.Layer):
    """Salimans et al. 2016 minibatch discrimination: ``[B, A]`` -> ``[B, A + num_kernels]``.

    ``M_i = reshape(x_i T, [num_kernels, kernel_dim])`` with a learned tensor
    ``T`` ``[A, num_kernels * kernel_dim]``; feature b of example i is
    ``sum_j exp(-||M_i,b - M_j,b||_1)`` over the batch (j = i included, so it is >= 1).

    Args:
      num_kernels: B, the number of appended features (the paper: 100 / 50).
      kernel_dim: C, the size of each projection (the paper: 5).
    """

    def __init__(self, num_kernels: int = 32, kernel_dim: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"MinibatchDiscrimination takes flat features [B, A]; got shape {input_shape}. Flatten first.")
        self.projection = self.add_weight(
            name="projection", shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05),
        )

    def call(self, x):
        m = ops.reshape(ops.matmul(x, ops.cast(self.projection, x.dtype)), (-1, self.num_kernels, self.kernel_dim))
        distances = ops.sum(ops.abs(ops.expand_dims(m, 0) - ops.expand_dims(m, 1)), axis=-1)  # [B, B, K]
        return ops.concatenate([x, ops.sum(ops.exp(-distances), axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}


def minibatch_features(x, kind: str, name: str):
    """Applies the ``kind`` of `MINIBATCH_FEATURES` to ``x`` (rank 4 for stddev maps, else flattened)."""
    if kind == "none":
        return x
    if kind == "stddev":
        return MinibatchStddev(name=f"{name}_stddev")(x)
    if kind == "discrimination":
        if len(x.shape) != 2:
            x = layers.Flatten(name=f"{name}_flatten")(x)
        return MinibatchDiscrimination(name=f"{name}_discrimination")(x)
    raise ValueError(f"minibatch_features must be one of {', '.join(MINIBATCH_FEATURES)}; got {kind!r}.")


def spectrally_normalized(layer, enabled: bool):
    """``layer`` wrapped in `keras.layers.SpectralNormalization` (named like it) when ``enabled``."""
    if not enabled:
        return layer
    return layers.SpectralNormalization(layer, name=f"{layer.name}_sn")


# ---------------------------------------------------------------- virtual batch normalisation


@keras.saving.register_keras_serializable(package="kgan")
class PrependReferenceBatch(layers.Layer):
    """``z [B, D]`` -> ``[R + B, D]``: a fixed reference batch ``z_ref [R, D]`` (standard normal, seeded) first.

    With `VirtualBatchNormalization` layers downstream and `DropReferenceBatch`
    at the end, every example is normalised with the statistics of the same
    reference batch (Salimans et al. 2016, 3.4). ``z_ref`` is a non-trainable
    weight, saved with the network.

    Args:
      reference_size: R.
      seed: seeds ``z_ref``.
    """

    def __init__(self, reference_size: int = 32, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if reference_size < 2:
            raise ValueError(f"reference_size must be >= 2; got {reference_size}.")
        self.reference_size, self.seed = int(reference_size), int(seed)

    def build(self, input_shape):
        self.reference = self.add_weight(
            name="reference", shape=(self.reference_size, *input_shape[1:]),
            initializer=keras.initializers.RandomNormal(seed=self.seed), trainable=False,
        )

    def call(self, z):
        return ops.concatenate([ops.cast(self.reference, z.dtype), z], axis=0)

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size, "seed": self.seed}


@keras.saving.register_keras_serializable(package="kgan")
class DropReferenceBatch(layers.Layer):
    """``[R + B, ...]`` -> ``[B, ...]``: removes the rows `PrependReferenceBatch` added."""

    def __init__(self, reference_size: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.reference_size = int(reference_size)

    def call(self, x):
        return x[self.reference_size :]

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size}


@keras.saving.register_keras_serializable(package="kgan")
class VirtualBatchNormalization(layers.Layer):
    """Virtual batch normalisation (Salimans et al. 2016, 3.4) over a reference batch in the first rows.

    The first ``reference_size`` rows of the input are the reference batch
    (put there by `PrependReferenceBatch`). With ``m_ref`` and ``s_ref`` its
    per-channel mean and mean square (over the batch and spatial axes), the
    reference rows are normalised with ``(m_ref, s_ref)`` and every other
    example ``x`` with its own mixture
    ``m = (R m_ref + m_x) / (R + 1)``, ``s = (R s_ref + s_x) / (R + 1)``
    (``m_x``, ``s_x``: x's mean and mean square over its spatial axes), as in
    the authors' code: ``(x - m) / sqrt(s - m^2 + epsilon) * gamma + beta``.
    So an example's output does not depend on the other examples of its
    batch, in training and in sampling alike, unlike batch normalisation.

    Args:
      reference_size: R.
      epsilon: added to the variance.
    """

    def __init__(self, reference_size: int = 32, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.reference_size, self.epsilon = int(reference_size), float(epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x):
        values = ops.cast(x, "float32")
        spatial = tuple(range(1, len(x.shape) - 1))
        reference = values[: self.reference_size]
        reference_mean = ops.mean(reference, axis=(0, *spatial))
        reference_square = ops.mean(ops.square(reference), axis=(0, *spatial))
        own_mean = ops.mean(values, axis=spatial, keepdims=True) if spatial else values
        own_square = ops.mean(ops.square(values), axis=spatial, keepdims=True) if spatial else ops.square(values)
        weight = 1.0 / (self.reference_size + 1.0)
        is_reference = ops.reshape(ops.arange(ops.shape(values)[0]) < self.reference_size, (-1,) + (1,) * (len(x.shape) - 1))
        mean = ops.where(is_reference, reference_mean, weight * own_mean + (1.0 - weight) * reference_mean)
        square = ops.where(is_reference, reference_square, weight * own_square + (1.0 - weight) * reference_square)
        variance = ops.maximum(square - ops.square(mean), 0.0)
        normalized = (values - mean) * ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta
        return ops.cast(normalized, x.dtype)

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size, "epsilon": self.epsilon}
