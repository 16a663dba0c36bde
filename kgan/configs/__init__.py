"""Run configurations of the training binaries: dataclasses and named presets.

Modules: `base` (`TrainingConfig`: data, length, optimisers, outputs), `gan`
(`GANConfig`, `WassersteinGANConfig`, `ConditionalGANConfig` and presets),
`translation` (`CycleGANConfig`, `StarGANConfig` and presets), `info_gan`
(`InfoGANConfig`, `INFO_GAN_PRESETS`), `pix2pix` (`Pix2PixConfig`, `PIX2PIX_PRESETS`).

Naming rule: a flag's name == the config field's name == the name of the
constructor/function argument it feeds, where one exists (``latent_dim`` ->
`kgan.GAN`, ``base_filters`` -> `kgan.networks.dcgan_generator`,
``image_size`` -> `kgan.data.load_images`, ...). Arguments of the training
machinery that would be ambiguous in one flat namespace carry a prefix naming
their owner (``checkpoint_every_n_steps`` -> `TrainingCheckpoint`'s
``save_every_n_steps``, ``sample_every_n_epochs`` -> `SampleGrid`'s
``every_n_epochs``). `train/flags.py` defines one flag per field, so flags and
configs cannot drift apart.

Example::

    config = dataclasses.replace(get_preset("demo"), epochs=3)
    config.check()  # ValueError listing every problem
"""

from kgan.configs.base import TrainingConfig
from kgan.configs.gan import (
    CONDITIONAL_PRESETS,
    NORMALIZATIONS,
    POINT_DATASETS,
    PRESETS,
    WASSERSTEIN_MODELS,
    WASSERSTEIN_PRESETS,
    ConditionalGANConfig,
    GANConfig,
    WassersteinGANConfig,
    get_preset,
)
from kgan.configs.info_gan import PRESETS as INFO_GAN_PRESETS
from kgan.configs.info_gan import InfoGANConfig
from kgan.configs.pix2pix import PRESETS as PIX2PIX_PRESETS
from kgan.configs.pix2pix import Pix2PixConfig
from kgan.configs.translation import CYCLE_GAN_PRESETS, STAR_GAN_PRESETS, CycleGANConfig, StarGANConfig

__all__ = [
    "CONDITIONAL_PRESETS",
    "CYCLE_GAN_PRESETS",
    "INFO_GAN_PRESETS",
    "PIX2PIX_PRESETS",
    "NORMALIZATIONS",
    "POINT_DATASETS",
    "PRESETS",
    "STAR_GAN_PRESETS",
    "WASSERSTEIN_MODELS",
    "WASSERSTEIN_PRESETS",
    "ConditionalGANConfig",
    "CycleGANConfig",
    "GANConfig",
    "InfoGANConfig",
    "Pix2PixConfig",
    "StarGANConfig",
    "TrainingConfig",
    "WassersteinGANConfig",
    "get_preset",
]
