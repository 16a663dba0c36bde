"""kgan: a Keras-native GAN model zoo.

Models are `keras.Model` subclasses trained with `model.fit`; see the README.
"""

from kgan import callbacks, data, export, image_pool, latent, losses, metrics, networks, penalties, rendering, saving, serving
from kgan.models import GAN, WGAN, WGANGP, AdversarialAutoencoder, AdversarialModel, BiGAN, CatGAN, ConditionalGAN, CycleGAN, GRAN, InfoGAN, LapGAN, Phase, Pix2Pix, StarGAN
from kgan import registry  # noqa: E402  (after the models, which register themselves)

__version__ = "0.1.0"

__all__ = [
    "AdversarialAutoencoder",
    "AdversarialModel",
    "BiGAN",
    "CatGAN",
    "ConditionalGAN",
    "CycleGAN",
    "GAN",
    "GRAN",
    "InfoGAN",
    "LapGAN",
    "Phase",
    "Pix2Pix",
    "StarGAN",
    "WGAN",
    "WGANGP",
    "callbacks",
    "data",
    "export",
    "image_pool",
    "losses",
    "metrics",
    "networks",
    "penalties",
    "registry",
    "rendering",
    "saving",
]
