"""kgan: a Keras-native GAN model zoo.

Models are `keras.Model` subclasses trained with `model.fit`; see the README.
"""

from kgan import callbacks, data, export, losses, metrics, networks, penalties
from kgan.models import GAN, WGAN, WGANGP, AdversarialModel, ConditionalGAN

__version__ = "0.1.0"

__all__ = [
    "AdversarialModel",
    "ConditionalGAN",
    "GAN",
    "WGAN",
    "WGANGP",
    "callbacks",
    "data",
    "export",
    "losses",
    "metrics",
    "networks",
    "penalties",
]
