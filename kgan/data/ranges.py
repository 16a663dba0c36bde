"""Converters between stored uint8 pixels and the models' [-1, 1] float range.

The model contract (docs/design.md, "Data contract"): images are NHWC float32
in [-1, 1]. Pixels on disk and in serving requests are uint8 in [0, 255].
``x / 127.5 - 1`` maps 0 to -1 and 255 to 1 exactly; ``to_uint8`` inverts it
with clipping and rounding, so ``to_uint8(to_model_range(x)) == x`` for every
uint8 ``x``.

Both functions accept numpy arrays (returning numpy) or TF tensors (returning TF
tensors, usable inside ``tf.data`` and ``tf.function``), of any shape.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def to_model_range(uint8_images):
    """Scales uint8 pixels in [0, 255] to float32 in [-1, 1].

    Args:
      uint8_images: uint8 (or any numeric) array/tensor of any shape, values in
        [0, 255], e.g. ``[N, H, W, C]``.

    Returns:
      float32 array/tensor of the same shape, ``x / 127.5 - 1``, values in [-1, 1].
    """
    if isinstance(uint8_images, (tf.Tensor, tf.Variable)):
        return tf.cast(uint8_images, tf.float32) / 127.5 - 1.0
    return np.asarray(uint8_images).astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(model_images):
    """Maps model outputs in [-1, 1] to uint8 pixels in [0, 255].

    Values outside [-1, 1] (e.g. from a linear output layer) are clipped, then
    ``(x + 1) * 127.5`` is rounded to the nearest integer (ties to even).

    Args:
      model_images: float array/tensor of any shape, nominally in [-1, 1].

    Returns:
      uint8 array/tensor of the same shape, values in [0, 255].
    """
    if isinstance(model_images, (tf.Tensor, tf.Variable)):
        x = tf.clip_by_value(tf.cast(model_images, tf.float32), -1.0, 1.0)
        return tf.cast(tf.round((x + 1.0) * 127.5), tf.uint8)
    x = np.clip(np.asarray(model_images, dtype=np.float32), -1.0, 1.0)
    return np.rint((x + np.float32(1.0)) * np.float32(127.5)).astype(np.uint8)
