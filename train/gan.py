r"""Trains `kgan.GAN` (DCGAN networks for images, MLPs for 2-D point mixtures).

    python train/gan.py --preset=demo                    # ~2 min on 2 CPU cores, no network
    python train/gan.py --flagfile=my.flags --epochs=50  # flags after --flagfile override it
    python train/gan.py --help                           # every flag (one per GANConfig field)

Kill it at any time and run the same command again: it resumes from the
newest checkpoint in ``--model_dir`` (``--noresume`` refuses to overwrite one).
Outputs: ``<model_dir>/samples/*.png``, TensorBoard logs in ``<model_dir>/logs``
and a SavedModel in ``<export_dir>/<export_name>/<version>/``.
"""

import os
import sys

# Run from a source checkout without `pip install -e .`: put the repository
# root (for `kgan` and `train`) on the path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan import configs  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.GANConfig, configs.PRESETS)
flags.adopt_module_key_flags(config_flags)  # List them in --help, not only --helpfull.


def build_model(config, sample_shape):
    """A compiled `kgan.GAN` for samples of ``sample_shape`` (images or 2-D points)."""
    generator, discriminator = train_lib.build_networks(config, sample_shape)
    model = kgan.GAN(
        generator,
        discriminator,
        config.latent_dim,
        loss=config.loss,
        discriminator_steps=config.discriminator_steps,
        label_smoothing=config.label_smoothing,
        seed=config.seed,
        **config.remedy_options(),
    )
    generator_optimizer, discriminator_optimizer = train_lib.make_optimizers(config)
    model.compile(generator_optimizer, discriminator_optimizer, jit_compile=config.jit_compile_option)
    return model


if __name__ == "__main__":
    app.run(train_lib.main_for(configs.GANConfig, configs.PRESETS, build_model))
