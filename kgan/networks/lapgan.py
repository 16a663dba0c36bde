"""Networks and pyramid operations of `kgan.LapGAN` (Denton, Chintala, Szlam and Fergus 2015).

A Laplacian pyramid of ``L`` levels over images ``H x W`` (level 0 the
coarsest, ``H / 2^(L-1)``; level ``L - 1`` the full size). Level 0 is an
unconditional GAN on the coarsest images; every finer level ``k`` a
conditional GAN whose generator makes the band-pass residual ``h_k`` given
the upsampled coarser image ``l_k = upsample(I_{k-1})`` and noise, and whose
discriminator judges ``(l_k + h_k, l_k)``.

* `downsample` / `upsample`: the pyramid's d(.) (2x2 mean) and u(.)
  (bilinear 2x); `gaussian_pyramid` builds I_0 .. I_{L-1} of real images,
  `laplacian_pyramid` their I_0 and residuals h_1 .. h_{L-1}, and
  `reconstruct_laplacian` sums them back (exactly).
* `coarse_generator`, `coarse_discriminator`: level 0, MLPs as the paper's
  coarsest CIFAR-10 level (8x8) used.
* `coarse_conv_generator`, `coarse_conv_discriminator`: level 0 as small
  DCGAN-style convolutional nets (kgan's recipe for a 14- or 16-px level 0).
* `residual_generator`, `residual_discriminator`: levels >= 1, small
  convolutional nets; the generator's noise enters as an extra input plane
  (the paper presents z_k "as a 4th colour plane"), here a learned Dense map
  of a noise vector, so one latent vector drives the whole pyramid.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from kgan.networks.fused_batch_norm import FusedBatchNormalization


def pyramid_sizes(height: int, width: int, levels: int) -> list:
    """``[(h_0, w_0), ..., (height, width)]``: level k's size, coarsest first; each halves the next.

    Raises:
      ValueError: ``levels < 1``, or a size that does not halve ``levels - 1`` times exactly.
    """
    if isinstance(levels, bool) or int(levels) < 1:
        raise ValueError(f"levels must be >= 1; got {levels!r}.")
    factor = 2 ** (int(levels) - 1)
    if height % factor or width % factor:
        raise ValueError(f"{levels} pyramid levels halve the image {levels - 1} times: {height}x{width} must be divisible by "
                         f"{factor} (e.g. 28 -> 14 -> 7, 32 -> 16 -> 8).")
    return [(height // 2 ** (levels - 1 - k), width // 2 ** (levels - 1 - k)) for k in range(levels)]


def downsample(images):
    """d(.): each 2x2 block's mean, ``[B, H, W, C] -> [B, H/2, W/2, C]`` (float32)."""
    return tf.nn.avg_pool2d(tf.cast(images, tf.float32), 2, 2, "VALID")


def upsample(images):
    """u(.): bilinear 2x, ``[B, H, W, C] -> [B, 2H, 2W, C]`` (float32)."""
    images = tf.cast(images, tf.float32)
    size = tf.shape(images)[1:3] * 2
    return tf.image.resize(images, size, method="bilinear")


def gaussian_pyramid(images, levels: int) -> list:
    """``[I_0 (coarsest), ..., I_{L-1} = images]`` by repeated `downsample`."""
    found = [tf.cast(images, tf.float32)]
    for _ in range(int(levels) - 1):
        found.insert(0, downsample(found[0]))
    return found


def laplacian_pyramid(images, levels: int) -> list:
    """``[I_0, h_1, ..., h_{L-1}]``: the coarsest image, then each level's band-pass residual h_k = I_k - u(I_{k-1})."""
    gaussian = gaussian_pyramid(images, levels)
    return [gaussian[0]] + [gaussian[k] - upsample(gaussian[k - 1]) for k in range(1, int(levels))]


def reconstruct_laplacian(pyramid):
    """The full-size image of `laplacian_pyramid`'s output: I_k = u(I_{k-1}) + h_k, coarse to fine."""
    image = pyramid[0]
    for residual in pyramid[1:]:
        image = upsample(image) + residual
    return image


def coarse_generator(latent_dim: int, image_shape, hidden_units=(512, 512), name: str = "generator_0") -> keras.Model:
    """Level 0: z ``[B, latent_dim]`` -> coarsest images ``[B, h_0, w_0, C]`` in [-1, 1] (ReLU MLP, tanh out)."""
    z = keras.Input((int(latent_dim),), name="z")
    x = z
    for i, units in enumerate(hidden_units):
        x = layers.Dense(int(units), activation="relu", name=f"hidden{i}")(x)
    size = int(image_shape[0] * image_shape[1] * image_shape[2])
    x = layers.Dense(size, activation="tanh", dtype="float32", name="pixels")(x)
    return keras.Model(z, layers.Reshape(tuple(image_shape), name="image")(x), name=name)


def coarse_discriminator(image_shape, hidden_units=(512, 512), name: str = "discriminator_0") -> keras.Model:
    """Level 0: coarsest images ``[B, h_0, w_0, C]`` -> logits ``[B, 1]`` (LeakyReLU MLP)."""
    images = keras.Input(tuple(image_shape), name="images")
    x = layers.Flatten(name="flatten")(images)
    for i, units in enumerate(hidden_units):
        x = layers.LeakyReLU(0.2, name=f"hidden{i}_act")(layers.Dense(int(units), name=f"hidden{i}")(x))
    return keras.Model(images, layers.Dense(1, dtype="float32", name="logit")(x), name=name)


def check_coarse_conv_size(height: int, width: int) -> None:
    """Raises ValueError unless a convolutional level 0 (`coarse_conv_generator`) can make ``height x width`` images."""
    if height % 2 or width % 2:
        raise ValueError(f"A convolutional coarse level doubles once, so its sides must be even; got {height}x{width}.")


def coarse_conv_generator(latent_dim: int, image_shape, filters: int = 64, name: str = "generator_0") -> keras.Model:
    """Level 0, convolutional: z ``[B, latent_dim]`` -> coarsest images ``[B, h_0, w_0, C]`` in [-1, 1].

    DCGAN's recipe at a small size: z projected to ``h_0/2 x w_0/2 x 2 filters``,
    one 4x4 stride-2 transposed convolution, one 3x3 convolution of
    ``filters`` (batch norm and ReLU after each), a 3x3 convolution to C
    channels and tanh. ``h_0`` and ``w_0`` must be even (14 or 16 for a
    two-level pyramid of 28- or 32-px images).
    """
    height, width, channels = (int(d) for d in image_shape)
    check_coarse_conv_size(height, width)
    z = keras.Input((int(latent_dim),), name="z")
    x = layers.Dense((height // 2) * (width // 2) * 2 * int(filters), use_bias=False, name="project")(z)
    x = layers.Reshape((height // 2, width // 2, 2 * int(filters)), name="grid")(x)
    x = layers.ReLU(name="project_act")(FusedBatchNormalization(name="project_bn")(x))
    x = layers.Conv2DTranspose(int(filters), 4, strides=2, padding="same", use_bias=False, name="up")(x)
    x = layers.ReLU(name="up_act")(FusedBatchNormalization(name="up_bn")(x))
    x = layers.Conv2D(int(filters), 3, padding="same", use_bias=False, name="refine")(x)
    x = layers.ReLU(name="refine_act")(FusedBatchNormalization(name="refine_bn")(x))
    images = layers.Conv2D(channels, 3, padding="same", activation="tanh", dtype="float32", name="image")(x)
    return keras.Model(z, images, name=name)


def coarse_conv_discriminator(image_shape, filters: int = 64, name: str = "discriminator_0") -> keras.Model:
    """Level 0, convolutional: coarsest images ``[B, h_0, w_0, C]`` -> logits ``[B, 1]``.

    A 3x3 convolution of ``filters``, then a 4x4 stride-2 one of ``2 filters``
    (batch norm), LeakyReLU 0.2 after each, and a linear score: DCGAN's
    discriminator one step deep, with a full-resolution layer in front.
    """
    images = keras.Input(tuple(int(d) for d in image_shape), name="images")
    x = layers.LeakyReLU(0.2, name="conv0_act")(layers.Conv2D(int(filters), 3, padding="same", name="conv0")(images))
    x = layers.Conv2D(2 * int(filters), 4, strides=2, padding="same", use_bias=False, name="conv1")(x)
    x = layers.LeakyReLU(0.2, name="conv1_act")(FusedBatchNormalization(name="conv1_bn")(x))
    return keras.Model(images, layers.Dense(1, dtype="float32", name="logit")(layers.Flatten(name="flatten")(x)), name=name)


def residual_generator(image_shape, noise_dim: int, filters: int = 64, num_layers: int = 3, name: str = "generator") -> keras.Model:
    """Level k >= 1: ``[l_k [B, h, w, C], z_k [B, noise_dim]]`` -> residual ``h_k [B, h, w, C]`` (linear).

    z_k becomes one extra input plane (a Dense map to ``h x w``); ``num_layers``
    3x3 convolutions (ReLU, the last linear) make the residual, which lies in
    [-2, 2] for images in [-1, 1] (`kgan.LapGAN` clips the sum).
    """
    height, width, channels = (int(d) for d in image_shape)
    upsampled = keras.Input((height, width, channels), name="upsampled")
    z = keras.Input((int(noise_dim),), name="z")
    plane = layers.Reshape((height, width, 1), name="noise_plane")(layers.Dense(height * width, name="noise_map")(z))
    x = layers.Concatenate(name="stack")([upsampled, plane])
    for i in range(int(num_layers) - 1):
        x = layers.Conv2D(int(filters), 3, padding="same", activation="relu", name=f"conv{i}")(x)
    residual = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="residual")(x)
    return keras.Model([upsampled, z], residual, name=name)


def residual_discriminator(image_shape, filters: int = 64, name: str = "discriminator") -> keras.Model:
    """Level k >= 1: ``[image l_k + h_k, l_k]`` (each ``[B, h, w, C]``) -> logits ``[B, 1]``.

    The two are stacked on the channel axis (the paper adds l_k to the
    residual before D's first layer); two stride-2 4x4 convolutions with
    LeakyReLU, then a linear score.
    """
    shape = tuple(int(d) for d in image_shape)
    image = keras.Input(shape, name="image")
    upsampled = keras.Input(shape, name="upsampled")
    x = layers.Concatenate(name="stack")([image, upsampled])
    for i, multiple in enumerate((1, 2)):
        x = layers.Conv2D(int(filters) * multiple, 4, strides=2, padding="same", name=f"conv{i}")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_act")(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(layers.Flatten(name="flatten")(x))
    return keras.Model([image, upsampled], logits, name=name)
