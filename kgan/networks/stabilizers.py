"""Discriminator-side remedies for mode collapse: minibatch features and spectral normalisation.

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

Under tf.distribute the batch statistics are per replica (each replica sees
its slice of the global batch), as batch normalisation's are.
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = ["MINIBATCH_FEATURES", "MinibatchDiscrimination", "MinibatchStddev", "minibatch_features", "spectrally_normalized"]

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
