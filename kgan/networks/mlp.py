"""Fully connected networks for low-dimensional data (e.g. 2-D Gaussian mixtures)."""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks import stabilizers


def mlp_generator(
    latent_dim: int = 64,
    output_dim: int = 2,
    hidden_units=(128, 128),
    name: str = "generator",
    batch_norm: bool = False,
) -> keras.Model:
    """MLP generator: z ``[B, latent_dim]`` -> points ``[B, output_dim]`` (linear output, unbounded).

    ReLU hidden layers, as in the mixture experiments of Metz et al. (2017);
    with ``batch_norm`` each is Dense (no bias) -> BatchNormalization -> ReLU,
    the generator of the PacGAN and VEEGAN mixture experiments (Lin et al.
    2018; Srivastava et al. 2017).
    """
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(hidden_units):
        if batch_norm:
            x = layers.Dense(units, use_bias=False, name=f"hidden{i}")(x)
            x = layers.ReLU(name=f"hidden{i}_relu")(layers.BatchNormalization(name=f"hidden{i}_norm")(x))
        else:
            x = layers.Dense(units, activation="relu", name=f"hidden{i}")(x)
    points = layers.Dense(output_dim, dtype="float32", name="points")(x)
    return keras.Model(z, points, name=name)


def mlp_discriminator(
    input_dim: int = 2,
    hidden_units=(128, 128),
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
    activation: str = "relu",
) -> keras.Model:
    """MLP discriminator: points ``[B, input_dim]`` -> logits ``[B, 1]`` (float32).

    ``minibatch`` (``"none"``, ``"stddev"``, ``"discrimination"``) adds
    minibatch features after the last hidden layer and ``spectral_norm``
    spectrally normalises every layer (`kgan.networks.stabilizers`);
    ``activation`` is the hidden layers' (a Keras name, e.g. ``"leaky_relu"``).
    """
    points = keras.Input((input_dim,), name="points")
    x = points
    for i, units in enumerate(hidden_units):
        x = stabilizers.spectrally_normalized(layers.Dense(units, activation=activation, name=f"hidden{i}"), spectral_norm)(x)
    x = stabilizers.minibatch_features(x, minibatch, "minibatch")
    logits = stabilizers.spectrally_normalized(layers.Dense(1, dtype="float32", name="logit"), spectral_norm)(x)
    return keras.Model(points, logits, name=name)
