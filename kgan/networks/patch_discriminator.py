"""PatchGAN discriminators: a map of real/fake logits, one per overlapping image patch.

`patch_discriminator` is the pix2pix/CycleGAN "70x70 PatchGAN" (Isola et al.
2017; Zhu et al. 2017): ``C64-C128-C256-C512`` of 4x4 convolutions (stride 2
but the last, stride 1), instance norm from the second layer, LeakyReLU(0.2),
then a 4x4 convolution to one logit per patch. With ``num_layers`` stride-2
layers the receptive field of each logit is `receptive_field(num_layers)`
pixels: 16, 34, 70, 142 for 1, 2, 3, 4 -- shallower for small images.

`conditional_patch_discriminator` is pix2pix's D(x, y) (Isola et al. 2017,
section 2.1): the same PatchGAN on the input image and an output image
concatenated on channels, so each logit judges whether a patch of y is a
plausible translation of the same patch of x. The paper normalises it with
batch norm (``normalization="batch"``).

`multi_task_patch_discriminator` is StarGAN's (Choi et al. 2018): a trunk of
stride-2 4x4 convolutions with LeakyReLU(0.01) and no normalisation, with two
heads: ``D_src`` (a 3x3 convolution to a patch map of real/fake scores) and
``D_cls`` (a convolution as large as the trunk's output, to domain logits).
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks import stabilizers
from kgan.networks.fused_batch_norm import FusedBatchNormalization
from kgan.networks.layers import ConditionProjection, instance_normalization, padded_conv

# "batch" is pix2pix's (Isola et al. 2017); "instance" CycleGAN's.
NORMALIZATIONS = ("instance", "batch", "none")
# Minibatch features a patch map can take: a stddev map (Karras et al. 2018) keeps the spatial layout.
PATCH_MINIBATCH_FEATURES = ("none", "stddev")


def _check_minibatch(minibatch):
    if minibatch not in PATCH_MINIBATCH_FEATURES:
        raise ValueError(
            f"A PatchGAN takes minibatch='none' or 'stddev' (minibatch discrimination flattens the map); got {minibatch!r}."
        )


def receptive_field(num_layers: int) -> int:
    """Side, in pixels, of the patch each logit of `patch_discriminator` sees."""
    # Backwards from the 4x4 stride-1 output conv and the stride-1 C512 conv,
    # through num_layers stride-2 4x4 convs: r -> 2r + 2.
    size = 4 + 3
    for _ in range(num_layers):
        size = 2 * size + 2
    return size


def patch_map_size(image_size: int, num_layers: int) -> int:
    """Side of `patch_discriminator`'s logit map for ``image_size`` inputs (30 for 256 and 3 layers)."""
    size = image_size
    for _ in range(num_layers):
        size = (size + 2 - 4) // 2 + 1  # 4x4, stride 2, 1-pixel padding.
    return size - 2  # Two 4x4 stride-1 convolutions with 1-pixel padding.


def _check_image_shape(image_shape, smallest_side: int, what: str):
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (H, W, C); got {tuple(image_shape)}.")
    if min(image_shape[:2]) < smallest_side:
        raise ValueError(
            f"Images of {image_shape[0]}x{image_shape[1]} are too small for {what}: "
            f"the side must be at least {smallest_side}; use fewer layers."
        )


def patch_discriminator(
    image_shape=(256, 256, 3),
    base_filters: int = 64,
    num_layers: int = 3,
    normalization: str = "instance",
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """70x70 PatchGAN (for ``num_layers=3``): images ``[B, H, W, C]`` -> logits ``[B, h, w, 1]``.

    For 256x256 inputs and 3 layers the map is 30x30. The logits are float32
    and unbounded (least-squares, hinge or cross-entropy losses all take them).

    Args:
      image_shape: ``(H, W, C)``.
      base_filters: filters of the first layer, doubled per layer up to 8x.
      num_layers: stride-2 layers (the depth; see `receptive_field`).
      normalization: ``"instance"`` (CycleGAN), ``"batch"`` (pix2pix) or ``"none"``.
      name: model name.
      minibatch: ``"stddev"`` appends a minibatch-stddev map before the
        logit convolution (against mode collapse); ``"none"``.
      spectral_norm: spectrally normalise every convolution (Miyato et al. 2018).
    """
    _check_trunk(image_shape, num_layers, normalization, minibatch)
    images = keras.Input(tuple(image_shape), name="images")
    logits = _patch_trunk(images, base_filters, num_layers, normalization, minibatch, spectral_norm)
    return keras.Model(images, logits, name=name)


def _check_trunk(image_shape, num_layers: int, normalization: str, minibatch: str) -> None:
    _check_minibatch(minibatch)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}; got {normalization!r}.")
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1; got {num_layers}.")
    smallest = next(side for side in range(1, 4096) if patch_map_size(side, num_layers) >= 1)
    _check_image_shape(image_shape, smallest, f"a {num_layers}-layer PatchGAN")


def normalization_layer(kind: str, name: str) -> layers.Layer:
    """A normalisation layer of `NORMALIZATIONS` other than "none": batch norm (pix2pix) or instance norm (CycleGAN)."""
    # Keras' BatchNormalization defaults to momentum 0.99; PyTorch's (the reference's) to 0.1, i.e. 0.9 here.
    if kind == "batch":
        return FusedBatchNormalization(momentum=0.9, epsilon=1e-5, name=name)
    return instance_normalization(name)


def _patch_trunk(x, base_filters: int, num_layers: int, normalization: str, minibatch: str, spectral_norm: bool):
    """The PatchGAN's layers from its input tensor to the float32 logit map (shared by both PatchGANs)."""
    filters = base_filters
    # num_layers stride-2 layers, then one stride-1 layer with twice the filters.
    for i in range(num_layers + 1):
        stride = 2 if i < num_layers else 1
        normalized = i > 0 and normalization != "none"
        x = padded_conv(x, filters, 4, "zero", f"conv{i}", strides=stride, use_bias=not normalized, spectral_norm=spectral_norm)
        if normalized:
            x = normalization_layer(normalization, f"conv{i}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
        filters = min(filters * 2, base_filters * 8)
    x = stabilizers.minibatch_features(x, minibatch, "minibatch")
    logits = padded_conv(x, 1, 4, "zero", "logits", spectral_norm=spectral_norm)
    return layers.Activation("linear", dtype="float32", name="logits_float32")(logits)


def conditional_patch_discriminator(
    input_shape=(256, 256, 3),
    output_shape=(256, 256, 3),
    base_filters: int = 64,
    num_layers: int = 3,
    normalization: str = "batch",
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """pix2pix's D(x, y): ``[inputs [B, H, W, C_in], outputs [B, H, W, C_out]]`` -> logits ``[B, h, w, 1]``.

    "Image-to-Image Translation with Conditional Adversarial Networks",
    Isola et al. 2017, section 2.1 and appendix 6.1.2: x and y are
    concatenated on channels and judged by the 70x70 PatchGAN of
    `patch_discriminator` (``num_layers=3``; 30x30 logits at 256 px), so D
    sees whether y fits x, not only whether y looks real. Both images are in
    [-1, 1]; the logits are float32 and unbounded.

    Args:
      input_shape: ``(H, W, C_in)`` of the input images x.
      output_shape: ``(H, W, C_out)`` of the (real or generated) output images y;
        the same H, W as x.
      base_filters: filters of the first layer, doubled per layer up to 8x.
      num_layers: stride-2 layers (see `receptive_field`).
      normalization: ``"batch"`` (the paper's), ``"instance"`` or ``"none"``
        (never on the first layer).
      name: model name.
      minibatch: ``"stddev"`` or ``"none"``, as in `patch_discriminator`.
      spectral_norm: spectrally normalise every convolution (Miyato et al. 2018).
    """
    if len(input_shape) != 3 or len(output_shape) != 3 or tuple(input_shape[:2]) != tuple(output_shape[:2]):
        raise ValueError(
            f"D(x, y) concatenates x and y on channels, so they need the same H, W: got input_shape {tuple(input_shape)} "
            f"and output_shape {tuple(output_shape)}."
        )
    _check_trunk(output_shape, num_layers, normalization, minibatch)
    inputs = keras.Input(tuple(input_shape), name="inputs")
    outputs = keras.Input(tuple(output_shape), name="outputs")
    pair = layers.Concatenate(axis=-1, name="pair")([inputs, outputs])
    logits = _patch_trunk(pair, base_filters, num_layers, normalization, minibatch, spectral_norm)
    return keras.Model([inputs, outputs], logits, name=name)


def multi_task_patch_discriminator(
    image_shape=(128, 128, 3),
    num_domains: int = 5,
    base_filters: int = 64,
    num_layers: int = 6,
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
    condition_dim: int = 0,
) -> keras.Model:
    """StarGAN's discriminator: images -> ``[source logits [B, h, w, 1], domain logits [B, num_domains]]``.

    ``num_layers`` stride-2 4x4 convolutions (filters doubling from
    ``base_filters``, LeakyReLU(0.01), no normalisation: the WGAN-GP penalty
    treats examples separately) shrink H x W to h x w; D_src is a 3x3
    convolution to one score per patch, D_cls a h x w convolution to
    ``num_domains`` logits. Both outputs are float32.

    Args:
      image_shape: ``(H, W, C)``; 128x128 with 6 layers in the paper.
      num_domains: length of the domain label vector (attributes or domains).
      base_filters: filters of the first layer.
      num_layers: stride-2 layers.
      name: model name.
      minibatch: ``"stddev"`` appends a minibatch-stddev map to the trunk's
        output, which both heads see; ``"none"``.
      spectral_norm: spectrally normalise every convolution (Miyato et al. 2018).
      condition_dim: 0 (the paper's: D_src judges the image alone), or K > 0:
        the model takes ``[images, conditions [B, K]]`` and D_src adds, per
        patch, the projection of the trunk's features on the embedded
        condition (`kgan.networks.ConditionProjection`, Miyato & Koyama
        2018), so it judges whether an image is real *for those labels*. A
        translation that keeps its input's look then scores as fake, where
        D_cls -- trained on real images only -- can be fooled by patterns no
        real image has.
    """
    _check_minibatch(minibatch)
    if condition_dim < 0:
        raise ValueError(f"condition_dim must be >= 0 (0: no condition input); got {condition_dim}.")
    if num_domains < 1:
        raise ValueError(f"num_domains must be >= 1; got {num_domains}.")
    _check_image_shape(image_shape, 2**num_layers, f"{num_layers} stride-2 layers")
    images = keras.Input(tuple(image_shape), name="images")
    x = images
    filters = base_filters
    for i in range(num_layers):
        x = padded_conv(x, filters, 4, "zero", f"conv{i}", strides=2, spectral_norm=spectral_norm)
        x = layers.LeakyReLU(0.01)(x)
        filters *= 2
    x = stabilizers.minibatch_features(x, minibatch, "minibatch")
    source = padded_conv(x, 1, 3, "zero", "source_logits", use_bias=False, spectral_norm=spectral_norm)
    inputs = images
    if condition_dim:
        conditions = keras.Input((condition_dim,), name="conditions")
        inputs = [images, conditions]
        source = layers.Add(name="projected_source")([source, ConditionProjection(name="projection")([x, conditions])])
    height, width = x.shape[1], x.shape[2]
    domain_conv = layers.Conv2D(num_domains, (height, width), padding="valid", use_bias=False, name="domain_conv")
    domains = stabilizers.spectrally_normalized(domain_conv, spectral_norm)(x)
    domains = layers.Reshape((num_domains,), name="domain_logits")(domains)
    # float32 outputs under mixed precision.
    source = layers.Activation("linear", dtype="float32", name="source")(source)
    domains = layers.Activation("linear", dtype="float32", name="domains")(domains)
    return keras.Model(inputs, [source, domains], name=name)
