"""CatGAN discriminators: K-way classifiers of samples (Springenberg 2016).

Springenberg (2016), "Unsupervised and Semi-supervised Learning with
Categorical Generative Adversarial Networks", Sec. 3: the discriminator is a
classifier into K categories, p(y = k | x, D) = softmax(D(x))_k; whether a
sample is real is read from how certain that prediction is, not from a
real/fake score. So the networks here are the unconditional discriminators
with K logits where those have one.

Each builder wraps one of them (`kgan.networks.dcgan_discriminator`,
`kgan.networks.mlp_discriminator`): its layers up to the score layer are the
trunk phi(x) (minibatch features and spectral normalisation apply there as
they do in the original), and a fresh Dense layer of ``num_clusters`` units,
``class_logits`` (float32, under mixed precision too; spectrally normalised
with the trunk), replaces the score. The generator is GAN's.
"""

from __future__ import annotations

import keras
from keras import layers

from kgan.networks import stabilizers
from kgan.networks.conditional import _features
from kgan.networks.dcgan import dcgan_discriminator
from kgan.networks.mlp import mlp_discriminator


def _check_clusters(num_clusters):
    if isinstance(num_clusters, bool) or not isinstance(num_clusters, int) or num_clusters < 2:
        raise ValueError(f"num_clusters must be an int >= 2 (the discriminator's categories); got {num_clusters!r}.")


def _classifier(core, samples, num_clusters, spectral_norm, name):
    """``keras.Model(samples, class_logits [B, K])``: core's trunk with a K-way linear layer on it."""
    features = _features(core)(samples)
    head = layers.Dense(num_clusters, dtype="float32", name="class_logits")
    return keras.Model(samples, stabilizers.spectrally_normalized(head, spectral_norm)(features), name=name)


def categorical_dcgan_discriminator(
    image_shape=(28, 28, 1),
    num_clusters: int = 10,
    base_filters: int = 64,
    normalization: str = "batch",
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """A DCGAN classifier of images: ``images [B, H, W, C]`` in [-1, 1] -> ``class_logits [B, num_clusters]``.

    Args:
      image_shape: ``(H, W, C)``, as for `dcgan_discriminator`.
      num_clusters: K >= 2, the categories (softmax over the logits).
      base_filters, normalization, minibatch, spectral_norm: as for
        `dcgan_discriminator` (the trunk).
      name: model name.
    """
    _check_clusters(num_clusters)
    core = dcgan_discriminator(image_shape, base_filters, normalization, name=f"{name}_core", minibatch=minibatch,
                               spectral_norm=spectral_norm)
    return _classifier(core, keras.Input(tuple(image_shape), name="images"), num_clusters, spectral_norm, name)


def categorical_mlp_discriminator(
    input_dim: int = 2,
    num_clusters: int = 8,
    hidden_units=(128, 128),
    name: str = "discriminator",
    minibatch: str = "none",
    spectral_norm: bool = False,
) -> keras.Model:
    """An MLP classifier of points: ``points [B, input_dim]`` -> ``class_logits [B, num_clusters]``.

    Args:
      input_dim: D of the points.
      num_clusters: K >= 2.
      hidden_units, minibatch, spectral_norm: as for `mlp_discriminator` (the trunk).
      name: model name.
    """
    _check_clusters(num_clusters)
    core = mlp_discriminator(input_dim, tuple(hidden_units), name=f"{name}_core", minibatch=minibatch, spectral_norm=spectral_norm)
    return _classifier(core, keras.Input((input_dim,), name="points"), num_clusters, spectral_norm, name)
