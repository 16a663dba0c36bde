"""BiGAN / ALI networks: an encoder E(x) and a joint discriminator D(x, z).

Donahue et al. (2017), "Adversarial Feature Learning", Sec. 3, and Dumoulin et
al. (2017), "Adversarially Learned Inference", Sec. 2: beside the generator
G(z) an encoder E maps data to the latent space, and the discriminator judges
*pairs* -- (x, E(x)) for real data against (G(z), z) for generated data -- so
it must see both halves; a D that ignored z would leave E without a gradient.

Encoders come in the two kinds `kgan.BiGAN` takes: ``gaussian=False`` maps x
to z ``[B, latent_dim]`` (BiGAN's deterministic E); ``gaussian=True`` maps x to
``[B, 2 * latent_dim]`` = ``[mean | raw scale]`` of a diagonal Gaussian q(z|x)
(ALI's stochastic E; the model samples z = mean + softplus(raw) * eps). Both
reuse the unconditional discriminators' trunks
(`kgan.networks.dcgan_discriminator`, `kgan.networks.mlp_discriminator`) with
a linear output in place of the score, so the image encoder is the DCGAN
discriminator's stack of 4x4 stride-2 convolutions.

The generator needs no builder of its own: BiGAN's G is GAN's
(`kgan.networks.dcgan_generator`, `kgan.networks.mlp_generator`).
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks.conditional import _features
from kgan.networks.dcgan import dcgan_discriminator
from kgan.networks.mlp import mlp_discriminator


def _check_width(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")


def encoder_width(latent_dim: int, gaussian: bool) -> int:
    """Output width of an encoder: ``latent_dim`` (deterministic) or ``2 * latent_dim`` (mean and raw scale)."""
    return 2 * int(latent_dim) if gaussian else int(latent_dim)


def _encoder(core, samples, latent_dim, gaussian, name):
    """``keras.Model(samples, codes)``: core's trunk with a linear layer of `encoder_width` units on it."""
    _check_width("latent_dim", latent_dim)
    features = _features(core)(samples)
    codes = layers.Dense(encoder_width(latent_dim, gaussian), dtype="float32", name="codes")(features)
    return keras.Model(samples, codes, name=name)


def dcgan_encoder(
    image_shape=(28, 28, 1),
    latent_dim: int = 64,
    base_filters: int = 64,
    normalization: str = "batch",
    gaussian: bool = False,
    name: str = "encoder",
) -> keras.Model:
    """E(x) for images: ``images [B, H, W, C]`` in [-1, 1] -> codes ``[B, latent_dim]`` (``[B, 2 * latent_dim]`` if gaussian).

    Args:
      image_shape: ``(H, W, C)``, as for `kgan.networks.dcgan_discriminator`.
      latent_dim: size of z.
      base_filters, normalization: as for `kgan.networks.dcgan_discriminator` (the trunk).
      gaussian: output a mean and a raw scale per latent dimension (ALI).
      name: model name.
    """
    core = dcgan_discriminator(image_shape, base_filters, normalization, name=f"{name}_core")
    return _encoder(core, keras.Input(tuple(image_shape), name="images"), latent_dim, gaussian, name)


def mlp_encoder(input_dim: int = 2, latent_dim: int = 2, hidden_units=(128, 128), gaussian: bool = False,
                name: str = "encoder") -> keras.Model:
    """E(x) for points: ``points [B, input_dim]`` -> codes ``[B, latent_dim]`` (``[B, 2 * latent_dim]`` if gaussian).

    ReLU hidden layers of ``hidden_units``, as `kgan.networks.mlp_discriminator`'s.
    """
    core = mlp_discriminator(input_dim, tuple(hidden_units), name=f"{name}_core")
    return _encoder(core, keras.Input((input_dim,), name="points"), latent_dim, gaussian, name)


def _joint(samples, sample_features, latent_dim, hidden_units, name):
    """``keras.Model([samples, z], logits [B, 1])``: x's features and z's, concatenated, through a leaky-ReLU MLP."""
    _check_width("latent_dim", latent_dim)
    z = keras.Input((latent_dim,), name="z")
    joined = layers.Concatenate(name="joint")([sample_features, z])
    for i, units in enumerate(hidden_units):
        joined = layers.LeakyReLU(0.2)(layers.Dense(units, name=f"joint{i}")(joined))
    logits = layers.Dense(1, dtype="float32", name="logit")(joined)
    return keras.Model([samples, z], logits, name=name)


def joint_dcgan_discriminator(
    image_shape=(28, 28, 1),
    latent_dim: int = 64,
    base_filters: int = 64,
    normalization: str = "batch",
    hidden_units=(512,),
    name: str = "discriminator",
) -> keras.Model:
    """D(x, z) for images: ``[images [B, H, W, C] in [-1, 1], z [B, latent_dim]]`` -> logits ``[B, 1]`` (float32).

    x goes through the DCGAN discriminator's trunk (flattened features); z
    joins them unchanged; the pair goes through ``hidden_units`` leaky-ReLU
    layers to one logit (the BiGAN paper's joint layers, without dropout).

    Args:
      image_shape, base_filters, normalization: as for `kgan.networks.dcgan_discriminator` (x's trunk).
      latent_dim: size of z.
      hidden_units: widths of the joint layers.
      name: model name.
    """
    core = dcgan_discriminator(image_shape, base_filters, normalization, name=f"{name}_core")
    images = keras.Input(tuple(image_shape), name="images")
    return _joint(images, _features(core)(images), latent_dim, tuple(hidden_units), name)


def joint_mlp_discriminator(input_dim: int = 2, latent_dim: int = 2, hidden_units=(128, 128),
                            name: str = "discriminator") -> keras.Model:
    """D(x, z) for points: ``[points [B, input_dim], z [B, latent_dim]]`` -> logits ``[B, 1]`` (float32).

    The concatenation ``[x, z]`` through leaky-ReLU layers of ``hidden_units``.
    """
    points = keras.Input((input_dim,), name="points")
    return _joint(points, points, latent_dim, tuple(hidden_units), name)
