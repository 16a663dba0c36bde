"""ResNet image-to-image generator (Johnson et al. 2016), as CycleGAN and StarGAN use it.

CycleGAN (Zhu et al. 2017, appendix 7.2) names the layers
``c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3``:

* ``c7s1-k``: 7x7 convolution, stride 1, k filters, instance norm, ReLU;
* ``dk``: 3x3 convolution, stride 2 (halves H and W), instance norm, ReLU;
* ``Rk``: residual block of two 3x3 convolutions (6 blocks below 256 px, 9 at 256);
* ``uk``: 3x3 transposed convolution, stride 2, instance norm, ReLU;
* the last ``c7s1-C`` has no norm and a tanh, so outputs are in [-1, 1]
  (or, with ``output_head="affine"``, a per-pixel colour transform of the input).

CycleGAN pads with reflection; StarGAN (Choi et al. 2018, appendix) uses zero
padding and 4x4 kernels in the down/up-sampling layers, and feeds the target
domain labels as extra input channels (``condition_dim``).
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks.layers import AffineColourTransform, TileConditions, normalize, padded_conv, residual_block

OUTPUT_HEADS = ("image", "affine")


def default_residual_blocks(image_size: int) -> int:
    """CycleGAN's choice: 9 residual blocks for 256x256 images and above, 6 below."""
    return 9 if image_size >= 256 else 6


def resnet_generator(
    image_shape=(256, 256, 3),
    output_channels: int | None = None,
    condition_dim: int = 0,
    base_filters: int = 64,
    num_downsampling: int = 2,
    num_residual_blocks: int | None = None,
    padding: str = "reflect",
    sampling_kernel_size: int = 3,
    skip_connections: bool = False,
    output_head: str = "image",
    conditional_norm: bool = False,
    name: str = "generator",
) -> keras.Model:
    """ResNet generator: images ``[B, H, W, C]`` in [-1, 1] -> images ``[B, H, W, C_out]`` in [-1, 1].

    With ``condition_dim > 0`` the model takes ``[images, conditions]`` with
    conditions ``[B, condition_dim]`` float (e.g. multi-hot target attributes),
    tiled as extra input channels.

    Args:
      image_shape: ``(H, W, C)``; H and W divisible by ``2**num_downsampling``.
      output_channels: channels of the output; default C.
      condition_dim: length of the condition vector (0: no condition input).
      base_filters: filters of the first layer (64 in both papers); doubled at
        each down-sampling.
      num_downsampling: stride-2 layers down (and up) again; 2 in both papers.
      num_residual_blocks: default `default_residual_blocks` of H.
      padding: ``"reflect"`` (CycleGAN) or ``"zero"`` (StarGAN).
      sampling_kernel_size: kernel of the stride-2 layers: 3 (CycleGAN) or 4 (StarGAN).
      skip_connections: concatenate each down-sampling level's activations to
        the up-sampling layer of the same resolution (U-Net skips, Ronneberger
        et al. 2015, as Pix2Pix's generator; neither paper's ResNet has them).
        The bottleneck then sees the whole image -- whether a bright pixel is
        background or garment -- while the skips carry the detail a 7x7
        bottleneck blurs: the small-image demos' recipe.
      output_head: ``"image"`` (both papers: a 7x7 convolution to the
        output's pixels and a tanh) or ``"affine"`` (a 7x7 convolution,
        initialised to zero, to a per-pixel affine colour transform of the
        input, `kgan.networks.AffineColourTransform`: G starts as the
        identity and edits colours, so it cannot blur what it keeps; needs
        ``output_channels`` equal to C). A colour-translation recipe (the
        tinted StarGAN demo); a translation that changes shapes needs
        ``"image"``.
      conditional_norm: with ``condition_dim > 0``, every instance norm is
        `kgan.networks.ConditionalInstanceNormalization` by the conditions
        (Dumoulin et al. 2017). Both papers tile the
        conditions as input channels only, and the first instance norm
        subtracts the constant they add to each channel: away from the
        zero-padded borders, later layers learn of the target only through
        each channel's mean and variance. Not in either paper.
      name: model name.

    Returns:
      A functional `keras.Model`; its output is float32 even under a
      mixed-precision policy.
    """
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (H, W, C); got {tuple(image_shape)}.")
    height, width, channels = (int(s) for s in image_shape)
    factor = 2**num_downsampling
    if height % factor or width % factor:
        raise ValueError(
            f"Image height and width must be divisible by 2**num_downsampling = {factor}; got {height}x{width}."
        )
    if num_residual_blocks is None:
        num_residual_blocks = default_residual_blocks(min(height, width))
    output_channels = output_channels or channels
    if conditional_norm and not condition_dim:
        raise ValueError("conditional_norm needs conditions: set condition_dim > 0.")
    if output_head not in OUTPUT_HEADS:
        raise ValueError(f"output_head must be one of {OUTPUT_HEADS}; got {output_head!r}.")
    if output_head == "affine" and output_channels != channels:
        raise ValueError(
            f"output_head='affine' transforms the input's colours, so the output has its {channels} channels; "
            f"got output_channels={output_channels}."
        )

    images = keras.Input((height, width, channels), name="images")
    inputs = images
    x = images
    conditions = None
    if condition_dim:
        conditions = keras.Input((condition_dim,), name="conditions")
        inputs = [images, conditions]
        x = TileConditions(name="tile_conditions")([images, conditions])

    filters = base_filters
    x = padded_conv(x, filters, 7, padding, "c7s1", use_bias=False)
    norm_conditions = conditions if conditional_norm else None
    x = normalize(x, "c7s1_norm", norm_conditions)
    x = layers.ReLU()(x)
    skips = []
    for i in range(num_downsampling):
        skips.append(x)
        filters *= 2
        x = padded_conv(x, filters, sampling_kernel_size, "zero", f"down{i}", strides=2, use_bias=False)
        x = normalize(x, f"down{i}_norm", norm_conditions)
        x = layers.ReLU()(x)
    for i in range(num_residual_blocks):
        x = residual_block(x, filters, padding, f"res{i}", norm_conditions)
    for i in range(num_downsampling):
        filters //= 2
        x = layers.Conv2DTranspose(filters, sampling_kernel_size, strides=2, padding="same", use_bias=False, name=f"up{i}")(x)
        x = normalize(x, f"up{i}_norm", norm_conditions)
        x = layers.ReLU()(x)
        if skip_connections:
            x = layers.Concatenate(name=f"skip{i}")([x, skips.pop()])
    if output_head == "affine":
        coefficients = padded_conv(x, channels * (channels + 1), 7, padding, "to_affine", kernel_initializer="zeros")
        outputs = AffineColourTransform(dtype="float32", name="affine_colour")([images, coefficients])
    else:
        x = padded_conv(x, output_channels, 7, padding, "to_image")
        outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)
