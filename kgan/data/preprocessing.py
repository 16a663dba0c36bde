"""Per-example image ops for `tf.data` pipelines (uint8 in, uint8 out).

They keep pixels uint8 so a pipeline can cache crops/resizes at a quarter of the
float32 memory; scaling to the model range happens after batching.
"""

from __future__ import annotations

import tensorflow as tf


def central_square(image: tf.Tensor) -> tf.Tensor:
    """The largest central square of ``image`` ``[H, W, C]``: ``[min(H, W), min(H, W), C]``, same dtype."""
    shape = tf.shape(image)
    side = tf.minimum(shape[0], shape[1])
    return tf.image.crop_to_bounding_box(image, (shape[0] - side) // 2, (shape[1] - side) // 2, side, side)


def center_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    """Crops the central ``size x size`` square.

    Args:
      image: ``[H, W, C]`` with ``H, W >= size``.
      size: side of the square.

    Returns:
      ``[size, size, C]``, same dtype.
    """
    shape = tf.shape(image)
    top = (shape[0] - size) // 2
    left = (shape[1] - size) // 2
    return tf.image.crop_to_bounding_box(image, top, left, size, size)


def resize_uint8(image: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Bilinear, antialiased resize that returns uint8 pixels.

    Antialiasing matters when shrinking (e.g. CelebA 178 -> 64): plain bilinear
    samples only 4 pixels and aliases fine detail.

    Args:
      image: uint8 ``[H, W, C]`` in [0, 255].
      size: ``(height, width)``.

    Returns:
      uint8 ``[height, width, C]``, rounded and clipped to [0, 255].
    """
    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    # Antialiasing kernels can overshoot [0, 255] slightly; saturate_cast clips.
    return tf.saturate_cast(tf.round(resized), tf.uint8)
