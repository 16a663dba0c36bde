"""Checks that a batch meets the model image contract, with fix-it messages.

Contract (docs/design.md, "Data contract"): images are NHWC floating-point
tensors in [-1, 1]. The common mistakes are a missing channel axis, uint8 or
[0, 1] pixels, and data of another size or channel count than the networks were
built for; each gets a `ValueError` that says what was seen and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from kgan.data.ranges import to_model_range, to_uint8

__all__ = ["check_image_batch", "to_model_range", "to_uint8", "RANGE_TOLERANCE"]

# Resizing and mixed-precision casts can overshoot [-1, 1] by a hair; that is fine.
RANGE_TOLERANCE = 1e-3


def _static_shape(images) -> tuple:
    shape = images.shape
    if isinstance(shape, tf.TensorShape):
        return tuple(shape.as_list()) if shape.rank is not None else None
    return tuple(shape)


def _expected_hwc(expected_shape: Sequence[int | None] | None) -> tuple | None:
    if expected_shape is None:
        return None
    expected_shape = tuple(expected_shape)
    if len(expected_shape) == 4:  # A full (N, H, W, C) shape: the batch size is not checked.
        expected_shape = expected_shape[1:]
    if len(expected_shape) != 3:
        raise ValueError(f"expected_shape must be (height, width, channels) or (batch, height, width, channels); got {expected_shape}.")
    return expected_shape


def _check_rank(shape: tuple, name: str) -> None:
    if shape is not None and len(shape) == 4:
        return
    if shape is None:
        raise ValueError(f"{name} has unknown rank; it must be a rank-4 NHWC batch [batch, height, width, channels].")
    hint = {
        2: f"A single grayscale image? Use {name}[None, ..., None].",
        3: (
            f"For a batch of grayscale images add a channel axis with {name}[..., None]; "
            f"for a single HWC image add a batch axis with {name}[None]."
        ),
    }.get(len(shape), "Reshape it to NHWC.")
    raise ValueError(f"{name} must be a rank-4 NHWC batch [batch, height, width, channels], got rank {len(shape)} with shape {shape}. {hint}")


def _check_spatial(shape: tuple, expected: tuple, name: str) -> None:
    (_, h, w, c), (eh, ew, ec) = shape, expected
    if ec is not None and c is not None and c != ec:
        if ec == 1 and c == 3:
            fix = "convert with tf.image.rgb_to_grayscale"
        elif ec == 3 and c == 1:
            fix = "convert with tf.image.grayscale_to_rgb"
        else:
            fix = f"select {ec} channel(s)"
        raise ValueError(
            f"{name} have {c} channel(s) but {ec} are expected (expected per-example shape {expected}, got {shape[1:]}); "
            f"{fix}, or build the networks for {c}-channel data."
        )
    if (eh is not None and h is not None and h != eh) or (ew is not None and w is not None and w != ew):
        raise ValueError(
            f"{name} are {h}x{w} (height x width) but {eh}x{ew} are expected; resize them "
            f"(kgan.data.load_images(..., image_size=({eh}, {ew})) or tf.image.resize), "
            "or build the networks for the data's size."
        )


def _check_dtype(dtype, name: str) -> None:
    dtype = tf.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(
            f"{name} have dtype {dtype.name}, but models take floating-point images in [-1, 1]. "
            "Scale pixels with x / 127.5 - 1 (kgan.data.to_model_range does this for uint8 images)."
        )


def _check_values(values: np.ndarray, name: str) -> None:
    if values.size == 0:
        return
    values = values.astype(np.float32, copy=False)  # float16/bfloat16 -> reliable min/max/isfinite.
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contain NaN or Inf values; check the data pipeline or the generator's output.")
    lo, hi = float(values.min()), float(values.max())
    if lo >= -1.0 - RANGE_TOLERANCE and hi <= 1.0 + RANGE_TOLERANCE:
        return
    if lo >= 0.0 and hi <= 255.0 and hi > 1.0 + RANGE_TOLERANCE:
        fix = "They look like [0, 255] pixels: scale with x / 127.5 - 1 (kgan.data.to_model_range)."
    else:
        fix = "Rescale them to [-1, 1] (for [0, 1] data use x * 2 - 1; for [0, 255] pixels, x / 127.5 - 1)."
    raise ValueError(f"{name} must be in [-1, 1], but values span [{lo:.4g}, {hi:.4g}]. {fix}")


def check_image_batch(images, expected_shape: Sequence[int | None] | None = None, name: str = "images") -> None:
    """Raises `ValueError` unless ``images`` is an NHWC float batch in [-1, 1].

    Args:
      images: numpy array or TF tensor, expected ``[N, H, W, C]`` floating point
        with values in [-1, 1] (tolerance `RANGE_TOLERANCE`). For symbolic tensors
        (inside `tf.function`) only the static shape and dtype are checked.
      expected_shape: per-example ``(H, W, C)`` or full ``(N, H, W, C)`` the
        networks expect; ``None`` entries (and the batch size) match anything.
        ``None`` skips the shape comparison.
      name: what to call the batch in error messages.

    Raises:
      ValueError: on a wrong rank, channel count, height/width, a non-floating
        dtype, or non-finite / out-of-range values; the message says how to fix it.
    """
    if not isinstance(images, (tf.Tensor, tf.Variable)):
        images = np.asarray(images)
    shape = _static_shape(images)
    _check_rank(shape, name)
    expected = _expected_hwc(expected_shape)
    if expected is not None:
        _check_spatial(shape, expected, name)
    _check_dtype(images.dtype, name)
    if isinstance(images, (tf.Tensor, tf.Variable)):
        if tf.is_symbolic_tensor(images):
            return  # Values are unknown while tracing.
        values = images.numpy()
    else:
        values = images
    _check_values(values, name)
