"""InfoGAN discriminators: one trunk, two heads -- D's score and the recognition network Q.

Chen et al. (2016), "InfoGAN", Sec. 6 and appendix C: "Q shares all
convolutional layers with D, and there is one final fully connected layer to
output parameters for the conditional distribution Q(c | x)"; in the MNIST
network that head is FC 128 - batch norm - leaky ReLU - FC. Sharing the trunk
makes L_I nearly free on top of a GAN.

Each builder wraps one of the unconditional discriminators
(`kgan.networks.dcgan_discriminator`, `kgan.networks.mlp_discriminator`): its
layers up to the score layer are the trunk phi(x), so minibatch features and
spectral normalisation apply to the trunk as they do there. The network maps
samples to ``[logits [B, 1], q [B, q_outputs]]``, both float32 (under mixed
precision too); what ``q`` holds -- the logits of each categorical code, then
the means (and log standard deviations) of the continuous ones -- is the
model's business (`kgan.models.info_gan.LatentCodes`), so the builders only
need its width.

The generator needs no builder of its own: InfoGAN's G is any generator of
the concatenation ``[z, one-hot categorical codes, continuous codes]``, e.g.
``dcgan_generator(latent_dim + codes.width, ...)``.
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks.conditional import _features
from kgan.networks.dcgan import dcgan_discriminator
from kgan.networks.fused_batch_norm import FusedBatchNormalization
from kgan.networks.mlp import mlp_discriminator

_Q_NORMALIZATIONS = ("batch", "layer", "none")


def _check_widths(q_outputs, q_hidden_units):
    for name, value in (("q_outputs", q_outputs), ("q_hidden_units", q_hidden_units)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}.")


def _two_heads(core, samples, q_outputs, q_hidden_units, hidden_layer, name):
    """``keras.Model(samples, [logits, q])``: core's trunk with a fresh score layer and the Q head on it."""
    features = _features(core)(samples)
    logits = layers.Dense(1, dtype="float32", name="logit")(features)
    hidden = hidden_layer(layers.Dense(q_hidden_units, name="q_hidden")(features))
    q = layers.Dense(q_outputs, dtype="float32", name="q")(hidden)
    return keras.Model(samples, [logits, q], name=name)


def info_dcgan_discriminator(
    image_shape=(28, 28, 1),
    q_outputs: int = 12,
    base_filters: int = 64,
    normalization: str = "batch",
    q_hidden_units: int = 128,
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """D and Q for images: ``images [B, H, W, C]`` in [-1, 1] -> ``[logits [B, 1], q [B, q_outputs]]``.

    The trunk is `kgan.networks.dcgan_discriminator`'s convolutions; the Q
    head is the paper's FC ``q_hidden_units`` -> normalisation -> LeakyReLU(0.2)
    -> FC ``q_outputs``.

    Args:
      image_shape: ``(H, W, C)``, as for `dcgan_discriminator`.
      q_outputs: width of Q's output (`kgan.models.info_gan.LatentCodes.q_width`).
      base_filters: width of the trunk, as for `dcgan_discriminator`.
      normalization: ``"batch"`` (DCGAN, the paper), ``"layer"`` or ``"none"``,
        in the trunk and in Q's hidden layer (WGAN-GP critics: not batch).
      q_hidden_units: width of Q's hidden layer (128 in the paper).
      name: model name.
      minibatch, spectral_norm: as for `dcgan_discriminator` (in the trunk).
    """
    _check_widths(q_outputs, q_hidden_units)
    if normalization not in _Q_NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {', '.join(_Q_NORMALIZATIONS)}; got {normalization!r}.")
    core = dcgan_discriminator(
        image_shape, base_filters, normalization, name=f"{name}_core", minibatch=minibatch, spectral_norm=spectral_norm
    )

    def hidden_layer(x):
        if normalization == "batch":
            x = FusedBatchNormalization(name="q_hidden_norm")(x)
        elif normalization == "layer":
            x = layers.LayerNormalization(name="q_hidden_norm")(x)
        return layers.LeakyReLU(0.2)(x)

    return _two_heads(core, keras.Input(tuple(image_shape), name="images"), q_outputs, q_hidden_units, hidden_layer, name)


def info_mlp_discriminator(
    input_dim: int = 2,
    q_outputs: int = 8,
    hidden_units=(128, 128),
    q_hidden_units: int = 128,
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """D and Q for points: ``points [B, input_dim]`` -> ``[logits [B, 1], q [B, q_outputs]]``.

    The trunk is `kgan.networks.mlp_discriminator`'s ReLU hidden layers; the Q
    head one ReLU layer of ``q_hidden_units`` and a linear output. No
    normalisation, as in the MLPs.

    Args:
      input_dim: size of a point.
      q_outputs: width of Q's output.
      hidden_units: widths of the trunk's hidden layers.
      q_hidden_units: width of Q's hidden layer.
      name: model name.
      minibatch, spectral_norm: as for `mlp_discriminator` (in the trunk).
    """
    _check_widths(q_outputs, q_hidden_units)
    core = mlp_discriminator(input_dim, hidden_units, name=f"{name}_core", minibatch=minibatch, spectral_norm=spectral_norm)
    return _two_heads(core, keras.Input((input_dim,), name="points"), q_outputs, q_hidden_units, layers.ReLU(), name)
