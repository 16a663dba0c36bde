"""kgan's adversarial models."""

from kgan.models.base import AdversarialModel, Phase
from kgan.models.conditional_gan import ConditionalGAN
from kgan.models.cycle_gan import CycleGAN
from kgan.models.gan import GAN
from kgan.models.star_gan import StarGAN
from kgan.models.wgan import WGAN, WGANGP

__all__ = ["AdversarialModel", "Phase", "ConditionalGAN", "CycleGAN", "GAN", "StarGAN", "WGAN", "WGANGP"]
