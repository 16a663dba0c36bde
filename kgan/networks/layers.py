"""Building blocks of the image-to-image networks (CycleGAN, StarGAN).

* `ReflectionPadding2D`: mirror padding, which the CycleGAN generator uses so
  that borders are not biased towards zero (Zhu et al. 2017, appendix 7.2).
* `instance_normalization`: per-example, per-channel normalisation over H, W
  (Ulyanov et al. 2016), as ``GroupNormalization(groups=-1)`` -- one group per
  channel -- with a learned scale and offset.
* `residual_block`: two 3x3 convolutions with a skip connection (He et al. 2016),
  the middle of the ResNet generators.
* `TileConditions`: broadcasts a condition vector ``[B, K]`` to channels
  ``[B, H, W, K]`` next to an image (StarGAN's domain labels).
"""

from __future__ import annotations

import keras
from keras import layers, ops

PADDINGS = ("reflect", "zero")


@keras.saving.register_keras_serializable(package="kgan")
class ReflectionPadding2D(layers.Layer):
    """Pads H and W of ``[B, H, W, C]`` by mirroring, without repeating the edge pixel.

    Args:
      padding: pixels added on each side of H and W; must be smaller than H and W.
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda size: None if size is None else size + 2 * self.padding  # noqa: E731
        return (batch, grow(height), grow(width), channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="kgan")
class TileConditions(layers.Layer):
    """Concatenates a condition vector to an image as constant channels.

    Inputs ``[images [B, H, W, C], conditions [B, K]]`` -> ``[B, H, W, C + K]``,
    channel ``C + k`` holding ``conditions[:, k]`` everywhere (StarGAN, Choi et
    al. 2018, section 3.1).
    """

    def call(self, inputs):
        images, conditions = inputs
        conditions = ops.cast(conditions, images.dtype)
        shape = ops.shape(images)
        tiled = ops.broadcast_to(conditions[:, None, None, :], (shape[0], shape[1], shape[2], ops.shape(conditions)[-1]))
        return ops.concatenate([images, tiled], axis=-1)

    def compute_output_shape(self, input_shape):
        image_shape, condition_shape = input_shape
        channels = None if image_shape[-1] is None or condition_shape[-1] is None else image_shape[-1] + condition_shape[-1]
        return (*image_shape[:-1], channels)


def instance_normalization(name: str) -> layers.Layer:
    """Instance normalisation (Ulyanov et al. 2016) with a learned affine transform.

    ``GroupNormalization(groups=-1)`` normalises each channel of each example
    over H and W; epsilon 1e-5 as in the reference implementations.
    """
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def padded_conv(
    x, filters: int, kernel_size: int, padding: str, name: str, strides: int = 1, use_bias: bool = True,
    spectral_norm: bool = False,
):
    """A convolution after ``(kernel_size - 1) // 2`` pixels of reflection or zero padding.

    Explicit padding + "valid" keeps the output size of the reference PyTorch
    layers (``padding=(k - 1) // 2``) for every kernel size, which Keras'
    ``padding="same"`` does not for even kernels. ``spectral_norm`` wraps the
    convolution in spectral normalisation (`kgan.networks.stabilizers`).
    """
    from kgan.networks import stabilizers  # here: stabilizers is a sibling module of the same package

    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}; got {padding!r}.")
    pad = (kernel_size - 1) // 2
    if pad:
        x = ReflectionPadding2D(pad, name=f"{name}_pad")(x) if padding == "reflect" else layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    conv = layers.Conv2D(filters, kernel_size, strides=strides, padding="valid", use_bias=use_bias, name=name)
    return stabilizers.spectrally_normalized(conv, spectral_norm)(x)


def residual_block(x, filters: int, padding: str, name: str):
    """``x + IN(conv3x3(ReLU(IN(conv3x3(x)))))``: a residual block of the ResNet generators.

    Args:
      x: ``[B, H, W, filters]``.
      filters: channels of both convolutions (equal to x's, for the skip).
      padding: ``"reflect"`` (CycleGAN) or ``"zero"`` (StarGAN).
      name: prefix of the layer names.
    """
    y = padded_conv(x, filters, 3, padding, f"{name}_conv1", use_bias=False)
    y = instance_normalization(f"{name}_norm1")(y)
    y = layers.ReLU(name=f"{name}_relu")(y)
    y = padded_conv(y, filters, 3, padding, f"{name}_conv2", use_bias=False)
    y = instance_normalization(f"{name}_norm2")(y)
    return layers.Add(name=f"{name}_add")([x, y])
