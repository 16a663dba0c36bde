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
* `AffineColourTransform`: applies a per-pixel affine colour transform to an
  image (a generator head that edits colours instead of painting pixels).
* `ConditionProjection`: the projection discriminator's inner product of
  features and an embedded condition, per position.
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


@keras.saving.register_keras_serializable(package="kgan")
class AffineColourTransform(layers.Layer):
    """Applies a per-pixel affine colour transform: ``clip(x + A(p) [x; 1], -1, 1)``.

    Inputs ``[images [B, H, W, C] in [-1, 1], coefficients [B, H, W, C * (C + 1)]]``
    -> images ``[B, H, W, C]`` in [-1, 1]: at each pixel p the coefficients
    are a ``C x (C + 1)`` matrix A(p) (row-major) applied to the pixel's
    colour and a constant 1, added to the pixel. Zero coefficients give the
    identity, so a head whose last convolution starts at zero starts as a
    copy of its input. Per-pixel affine colour models are HDRNet's output
    (Gharbi et al. 2017, "Deep Bilateral Learning for Real-Time Image
    Enhancement", sec. 3.4); a generator that predicts one edits the colours
    it sees instead of repainting the image, so what a translation keeps --
    the garment's shape and texture -- cannot blur.
    """

    def call(self, inputs):
        images, coefficients = inputs
        channels = images.shape[-1]
        shape = ops.shape(images)
        matrices = ops.reshape(ops.cast(coefficients, images.dtype), (shape[0], shape[1], shape[2], channels, channels + 1))
        homogeneous = ops.concatenate([images, ops.ones_like(images[..., :1])], axis=-1)
        change = ops.sum(matrices * homogeneous[..., None, :], axis=-1)
        return ops.clip(images + change, -1.0, 1.0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package="kgan")
class ConditionProjection(layers.Layer):
    """The projection term of a conditional discriminator, per position: ``<features(p), V c>``.

    Inputs ``[features [B, h, w, F], conditions [B, K]]`` -> ``[B, h, w, 1]``
    float: the inner product of each position's features with the condition
    embedded by a learned ``[K, F]`` matrix V ("cGANs with Projection
    Discriminator", Miyato & Koyama 2018, eq. 3, with y a multi-hot vector
    and V y its embedding; applied at every patch of a PatchGAN). Added to
    an unconditional logit, it makes the critic judge whether an image fits
    its condition, not only whether it looks real.
    """

    def build(self, input_shape):
        feature_shape, condition_shape = input_shape
        self.embedding = self.add_weight(
            name="embedding", shape=(int(condition_shape[-1]), int(feature_shape[-1])), initializer="glorot_uniform"
        )

    def call(self, inputs):
        features, conditions = inputs
        embedded = ops.matmul(ops.cast(conditions, features.dtype), ops.cast(self.embedding, features.dtype))
        return ops.sum(features * embedded[:, None, None, :], axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], 1)


@keras.saving.register_keras_serializable(package="kgan")
class ConditionalInstanceNormalization(layers.Layer):
    """Instance normalisation whose scale and shift are functions of a condition.

    Inputs ``[features [B, H, W, F], conditions [B, K]]`` -> ``[B, H, W, F]``:
    each channel of each example normalised over H and W, then
    ``(1 + gamma(c)) * x_hat + beta(c)`` with ``gamma, beta`` linear in the
    condition (Dumoulin et al. 2017, "A Learned Representation for Artistic
    Style": one scale and shift per style; here per multi-hot label vector).
    Both maps start at zero, so the layer starts as plain instance norm.

    Why a generator needs it: a condition tiled as constant input channels
    adds a constant to each channel of the first convolution, and the
    instance norm right after subtracts each channel's mean -- the condition
    is erased away from the zero-padded borders. Applied after every
    normalisation, this layer puts it back where the nonlinearities can use it.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        # Keras' instance norm without its own scale and shift; this layer's come from the condition.
        self.normalization = layers.GroupNormalization(groups=-1, epsilon=epsilon, center=False, scale=False,
                                                       dtype=self.dtype_policy, name="instance_norm")

    def build(self, input_shape):
        feature_shape, condition_shape = input_shape
        self.normalization.build(feature_shape)
        shape = (int(condition_shape[-1]), int(feature_shape[-1]))
        self.gamma_kernel = self.add_weight(name="gamma_kernel", shape=shape, initializer="zeros")
        self.gamma_bias = self.add_weight(name="gamma_bias", shape=shape[1:], initializer="zeros")
        self.beta_kernel = self.add_weight(name="beta_kernel", shape=shape, initializer="zeros")
        self.beta_bias = self.add_weight(name="beta_bias", shape=shape[1:], initializer="zeros")

    def call(self, inputs):
        features, conditions = inputs
        dtype = features.dtype
        # The scale and shift in float32 under mixed precision: the weights are cast to the compute dtype on use.
        normalised = ops.cast(self.normalization(features), "float32")
        conditions = ops.cast(conditions, "float32")
        weights = [ops.cast(w, "float32") for w in (self.gamma_kernel, self.gamma_bias, self.beta_kernel, self.beta_bias)]
        gamma = ops.matmul(conditions, weights[0]) + weights[1]
        beta = ops.matmul(conditions, weights[2]) + weights[3]
        return ops.cast((1.0 + gamma[:, None, None, :]) * normalised + beta[:, None, None, :], dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def instance_normalization(name: str) -> layers.Layer:
    """Instance normalisation (Ulyanov et al. 2016) with a learned affine transform.

    ``GroupNormalization(groups=-1)`` normalises each channel of each example
    over H and W; epsilon 1e-5 as in the reference implementations.
    """
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def padded_conv(
    x, filters: int, kernel_size: int, padding: str, name: str, strides: int = 1, use_bias: bool = True,
    spectral_norm: bool = False, kernel_initializer="glorot_uniform",
):
    """A convolution after ``(kernel_size - 1) // 2`` pixels of reflection or zero padding.

    Explicit padding + "valid" keeps the output size of the reference PyTorch
    layers (``padding=(k - 1) // 2``) for every kernel size, which Keras'
    ``padding="same"`` does not for even kernels. ``spectral_norm`` wraps the
    convolution in spectral normalisation (`kgan.networks.stabilizers`);
    ``kernel_initializer`` is the convolution's (zeros for a head that must
    start as a no-op).
    """
    from kgan.networks import stabilizers  # here: stabilizers is a sibling module of the same package

    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}; got {padding!r}.")
    pad = (kernel_size - 1) // 2
    if pad:
        x = ReflectionPadding2D(pad, name=f"{name}_pad")(x) if padding == "reflect" else layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    conv = layers.Conv2D(filters, kernel_size, strides=strides, padding="valid", use_bias=use_bias, name=name,
                         kernel_initializer=kernel_initializer)
    return stabilizers.spectrally_normalized(conv, spectral_norm)(x)


def normalize(x, name: str, conditions=None):
    """Instance norm of ``x``; with ``conditions`` ``[B, K]``, `ConditionalInstanceNormalization` by them."""
    if conditions is None:
        return instance_normalization(name)(x)
    return ConditionalInstanceNormalization(epsilon=1e-5, name=name)([x, conditions])


def residual_block(x, filters: int, padding: str, name: str, conditions=None):
    """``x + IN(conv3x3(ReLU(IN(conv3x3(x)))))``: a residual block of the ResNet generators.

    Args:
      x: ``[B, H, W, filters]``.
      filters: channels of both convolutions (equal to x's, for the skip).
      padding: ``"reflect"`` (CycleGAN) or ``"zero"`` (StarGAN).
      name: prefix of the layer names.
      conditions: optional ``[B, K]`` tensor: both norms become
        `ConditionalInstanceNormalization` by it.
    """
    y = padded_conv(x, filters, 3, padding, f"{name}_conv1", use_bias=False)
    y = normalize(y, f"{name}_norm1", conditions)
    y = layers.ReLU(name=f"{name}_relu")(y)
    y = padded_conv(y, filters, 3, padding, f"{name}_conv2", use_bias=False)
    y = normalize(y, f"{name}_norm2", conditions)
    return layers.Add(name=f"{name}_add")([x, y])
