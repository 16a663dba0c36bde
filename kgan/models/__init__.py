"""kgan's adversarial models."""

from kgan.models.adversarial_autoencoder import AdversarialAutoencoder
from kgan.models.base import AdversarialModel, Phase
from kgan.models.bigan import BiGAN
from kgan.models.cat_gan import CatGAN
from kgan.models.conditional_gan import ConditionalGAN
from kgan.models.cycle_gan import CycleGAN
from kgan.models.gan import GAN
from kgan.models.gran import GRAN
from kgan.models.info_gan import InfoGAN
from kgan.models.lapgan import LapGAN
from kgan.models.pix2pix import Pix2Pix
from kgan.models.star_gan import StarGAN
from kgan.models.wgan import WGAN, WGANGP

__all__ = ["AdversarialAutoencoder", "AdversarialModel", "Phase", "BiGAN", "CatGAN", "ConditionalGAN", "CycleGAN", "GAN", "GRAN", "InfoGAN", "LapGAN", "Pix2Pix", "StarGAN", "WGAN", "WGANGP"]
