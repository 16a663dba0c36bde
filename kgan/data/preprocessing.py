"""Per-example image ops for `tf.data` pipelines (uint8 in, uint8 out).

They keep pixels uint8 so a pipeline can cache crops/resizes at a quarter of the
float32 memory; scaling to the model range happens after batching.
"""

from __future__ import annotations

import numpy as np
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


def seeded_map(ds: tf.data.Dataset, fn, seed: int | None) -> tf.data.Dataset:
    """A parallel ``ds.map`` of random augmentation, the same in every run of one seed.

    ``fn(*element, element_seed)`` gets a stateless seed ``[seed, index]``
    (int64 ``[2]``) per element, ``index`` counting elements from the
    dataset's start (put `repeat` before this map, so every epoch draws
    anew). A stateful random op such as ``tf.image.random_flip_left_right``
    in a parallel map hands its draws to whichever element gets there first,
    so two runs of one seed trained on different flips; the ``tf.image.
    stateless_random_*`` ops given these seeds do not.

    Args:
      ds: elements of one tensor or a tuple of tensors.
      fn: ``(*element, element_seed) -> new element``.
      seed: the run's seed; None draws one (from NumPy's global generator,
        which `keras.utils.set_random_seed` seeds).
    """
    base = int(np.random.randint(2**31 - 1)) if seed is None else int(seed)

    def apply(index, element):
        element_seed = tf.stack([tf.constant(base, tf.int64), index])
        return fn(*element, element_seed) if isinstance(element, tuple) else fn(element, element_seed)

    return ds.enumerate().map(apply, num_parallel_calls=tf.data.AUTOTUNE)
