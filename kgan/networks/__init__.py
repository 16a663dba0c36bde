"""Network builders: functional `keras.Model`s the adversarial models wrap."""

from kgan.networks.bigan import dcgan_encoder, joint_dcgan_discriminator, joint_mlp_discriminator, mlp_encoder
from kgan.networks.categorical import categorical_dcgan_discriminator, categorical_mlp_discriminator
from kgan.networks.conditional import (
    conditional_dcgan_discriminator,
    conditional_dcgan_generator,
    conditional_mlp_discriminator,
    conditional_mlp_generator,
)
from kgan.networks.dcgan import dcgan_discriminator, dcgan_generator
from kgan.networks.dirac import LearnedConstant, dirac_gan_networks
from kgan.networks.info_gan import info_dcgan_discriminator, info_mlp_discriminator
from kgan.networks.layers import (
    AffineColourTransform,
    ConditionalInstanceNormalization,
    ConditionProjection,
    ReflectionPadding2D,
    TileConditions,
    instance_normalization,
    residual_block,
)
from kgan.networks.mlp import mlp_discriminator, mlp_generator
from kgan.networks.patch_discriminator import (
    conditional_patch_discriminator,
    multi_task_patch_discriminator,
    patch_discriminator,
    patch_map_size,
    receptive_field,
)
from kgan.networks.resnet_generator import default_residual_blocks, resnet_generator
from kgan.networks.unet import default_depth as default_unet_depth
from kgan.networks.unet import unet_generator
from kgan.networks.stabilizers import MinibatchDiscrimination, MinibatchStddev, VirtualBatchNormalization

__all__ = [
    "AffineColourTransform",
    "ConditionProjection",
    "ConditionalInstanceNormalization",
    "LearnedConstant",
    "MinibatchDiscrimination",
    "MinibatchStddev",
    "ReflectionPadding2D",
    "TileConditions",
    "VirtualBatchNormalization",
    "default_residual_blocks",
    "dirac_gan_networks",
    "instance_normalization",
    "conditional_patch_discriminator",
    "default_unet_depth",
    "multi_task_patch_discriminator",
    "patch_discriminator",
    "patch_map_size",
    "receptive_field",
    "residual_block",
    "resnet_generator",
    "unet_generator",
    "dcgan_encoder",
    "joint_dcgan_discriminator",
    "joint_mlp_discriminator",
    "mlp_encoder",
    "categorical_dcgan_discriminator",
    "categorical_mlp_discriminator",
    "conditional_dcgan_discriminator",
    "conditional_dcgan_generator",
    "conditional_mlp_discriminator",
    "conditional_mlp_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "info_dcgan_discriminator",
    "info_mlp_discriminator",
    "mlp_discriminator",
    "mlp_generator",
]
