"""kgan's adversarial models."""

from kgan.models.base import AdversarialModel
from kgan.models.gan import GAN
from kgan.models.wgan import WGAN, WGANGP

__all__ = ["AdversarialModel", "GAN", "WGAN", "WGANGP"]
