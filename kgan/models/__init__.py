"""kgan's adversarial models."""

from kgan.models.base import AdversarialModel
from kgan.models.conditional_gan import ConditionalGAN
from kgan.models.gan import GAN
from kgan.models.wgan import WGAN, WGANGP

__all__ = ["AdversarialModel", "ConditionalGAN", "GAN", "WGAN", "WGANGP"]
