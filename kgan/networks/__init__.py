"""Network builders: functional `keras.Model`s the adversarial models wrap."""

from kgan.networks.conditional import (
    conditional_dcgan_discriminator,
    conditional_dcgan_generator,
    conditional_mlp_discriminator,
    conditional_mlp_generator,
)
from kgan.networks.dcgan import dcgan_discriminator, dcgan_generator
from kgan.networks.mlp import mlp_discriminator, mlp_generator

__all__ = [
    "conditional_dcgan_discriminator",
    "conditional_dcgan_generator",
    "conditional_mlp_discriminator",
    "conditional_mlp_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "mlp_discriminator",
    "mlp_generator",
]
