"""DCGAN generator and discriminator builders (Radford et al. 2016).

The architecture guidelines of "Unsupervised Representation Learning with Deep
Convolutional GANs": strided convolutions instead of pooling, BatchNorm in both
networks except the generator's output layer and the discriminator's input
layer, ReLU in G (tanh output), LeakyReLU(0.2) in D, no fully connected hidden
layers beyond G's projection of z and D's final score.

Supported image sizes are ``s0 * 2**n`` with a starting size ``s0`` in 4..7
and n >= 1: 28x28 (7 -> 14 -> 28), 32x32 (4 -> 8 -> 16 -> 32), 64x64 (4 -> ...
-> 64), 96, 112, 128, ...; the depth (n) follows from the size. Other sizes
are refused with the nearest supported ones (`nearest_supported_sizes`).
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks import stabilizers
from kgan.networks.fused_batch_norm import FusedBatchNormalization


def nearest_supported_sizes(size: int) -> tuple:
    """``(below, above)``: the nearest image sides s0 * 2**n (4 <= s0 <= 7, n >= 1) under and over ``size``.

    ``below`` is None when ``size`` is at most 8, the smallest supported side;
    a supported ``size`` is neither its own ``below`` nor its ``above``.
    """
    # Every side up to twice ``size`` (so ``above`` is among them: 4 * 2**n passes any size).
    sides = sorted({s0 * 2**n for s0 in range(4, 8) for n in range(1, max(int(size), 1).bit_length() + 2)})
    below = max((s for s in sides if s < size), default=None)
    above = min(s for s in sides if s > size)
    return below, above


def _upsampling_plan(size: int):
    """Returns ``(start_size, num_doublings)`` for a square image side ``size``.

    Raises:
      ValueError: ``size`` is no s0 * 2**n; the message names the nearest
        supported sides and the flag that resizes the data to one.
    """
    side, doublings = size, 0
    while side % 2 == 0 and side // 2 >= 4:
        side //= 2
        doublings += 1
    if doublings == 0 or side > 7:
        below, above = nearest_supported_sizes(size)
        nearest = f"{below} or {above}" if below else f"{above} (the smallest)"
        raise ValueError(
            f"DCGAN networks need an image side of s0 * 2**n with 4 <= s0 <= 7 and n >= 1 "
            f"(e.g. 28, 32, 48, 64, 96, 128); got {size}; nearest supported: {nearest}. "
            f"Pass --image_size={below or above}" + (f" or --image_size={above}" if below else "")
            + " to resize the images to that side."
        )
    return side, doublings


def _check_image_shape(image_shape):
    if len(image_shape) != 3 or image_shape[0] != image_shape[1]:
        raise ValueError(f"image_shape must be square (H, W, C); got {tuple(image_shape)}.")


def dcgan_generator(
    latent_dim: int = 128,
    image_shape=(28, 28, 1),
    base_filters: int = 64,
    name: str = "generator",
    normalization: str = "batch",
    reference_size: int = 32,
) -> keras.Model:
    """DCGAN generator: z ``[B, latent_dim]`` -> images ``[B, H, W, C]`` in [-1, 1].

    z is projected to ``s0 x s0 x (base_filters * 2**(n-1))`` and doubled in
    size n times by 4x4 stride-2 transposed convolutions, halving the filters
    each time; the last one outputs C channels through tanh (float32 even
    under a mixed-precision policy).

    Args:
      latent_dim: size of z.
      image_shape: ``(H, W, C)``, square, e.g. ``(28, 28, 1)``, ``(32, 32, 3)``, ``(64, 64, 3)``.
      base_filters: filters of the last hidden layer.
      name: model name.
      normalization: ``"batch"`` (DCGAN) or ``"virtual_batch"``: virtual
        batch normalisation (Salimans et al. 2016, 3.4) over a fixed
        reference batch of ``reference_size`` latent vectors, prepended to
        every batch inside the network and dropped from its output
        (`kgan.networks.stabilizers.VirtualBatchNormalization`); costs
        ``reference_size`` extra examples per forward pass.
      reference_size: R, for ``"virtual_batch"``.
    """
    _check_image_shape(image_shape)
    if normalization not in ("batch", "virtual_batch"):
        raise ValueError(f"The generator's normalization must be 'batch' or 'virtual_batch'; got {normalization!r}.")
    start, doublings = _upsampling_plan(image_shape[0])
    filters = base_filters * 2 ** (doublings - 1)
    virtual = normalization == "virtual_batch"

    def normalize(name):
        if virtual:
            return stabilizers.VirtualBatchNormalization(reference_size, name=name)
        return FusedBatchNormalization(name=name)

    z = keras.Input((latent_dim,), name="z")
    x = stabilizers.PrependReferenceBatch(reference_size, name="reference_batch")(z) if virtual else z
    x = layers.Dense(start * start * filters, use_bias=False, name="project")(x)
    x = normalize("project_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((start, start, filters))(x)
    for i in range(doublings - 1):
        filters //= 2
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, name=f"up{i}")(x)
        x = normalize(f"up{i}_bn")(x)
        x = layers.ReLU()(x)
    images = layers.Conv2DTranspose(
        image_shape[-1], 4, strides=2, padding="same", activation="tanh", dtype="float32", name="to_image"
    )(x)
    if virtual:
        images = stabilizers.DropReferenceBatch(reference_size, name="drop_reference", dtype="float32")(images)
    return keras.Model(z, images, name=name)


def _normalization(kind: str, name: str):
    if kind == "batch":
        return FusedBatchNormalization(name=name)
    if kind == "layer":
        # Per-example normalisation over H, W, C: what WGAN-GP's critic needs,
        # since batch statistics couple the examples the penalty treats separately.
        return layers.LayerNormalization(axis=[1, 2, 3], name=name)
    if kind == "none":
        return None
    raise ValueError(f"normalization must be 'batch', 'layer' or 'none'; got {kind!r}.")


def dcgan_discriminator(
    image_shape=(28, 28, 1),
    base_filters: int = 64,
    normalization: str = "batch",
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """DCGAN discriminator: images ``[B, H, W, C]`` in [-1, 1] -> logits ``[B, 1]``.

    4x4 stride-2 convolutions double the filters while halving the size down to
    ``s0 x s0``; a dense layer gives one logit (float32). No normalisation on
    the first layer.

    Args:
      image_shape: ``(H, W, C)`` as for `dcgan_generator`.
      base_filters: filters of the first layer.
      normalization: ``"batch"`` (DCGAN), ``"layer"`` or ``"none"`` (WGAN-GP
        critics must not use batch norm).
      name: model name.
      minibatch: ``"none"``, ``"stddev"`` (a minibatch-stddev map before the
        score, Karras et al. 2018) or ``"discrimination"`` (Salimans et al.
        2016 on the flattened features); see `kgan.networks.stabilizers`.
      spectral_norm: spectrally normalise every convolution and the score
        layer (Miyato et al. 2018).
    """
    _check_image_shape(image_shape)
    _, doublings = _upsampling_plan(image_shape[0])
    images = keras.Input(tuple(image_shape), name="images")
    x = images
    filters = base_filters
    for i in range(doublings):
        conv = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=(i == 0 or normalization == "none"), name=f"down{i}")
        x = stabilizers.spectrally_normalized(conv, spectral_norm)(x)
        norm = _normalization(normalization, f"down{i}_norm") if i > 0 else None
        if norm is not None:
            x = norm(x)
        x = layers.LeakyReLU(0.2)(x)
        filters *= 2
    x = stabilizers.minibatch_features(x, minibatch, "minibatch")
    if len(x.shape) == 4:
        x = layers.Flatten()(x)
    logits = stabilizers.spectrally_normalized(layers.Dense(1, dtype="float32", name="logit"), spectral_norm)(x)
    return keras.Model(images, logits, name=name)
