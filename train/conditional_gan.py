r"""Trains `kgan.ConditionalGAN` (cGAN, projection discriminator, AC-GAN) on labelled data.

    python train/conditional_gan.py --preset=demo            # conditional DCGAN, embedded Fashion-MNIST
    python train/conditional_gan.py --preset=acgan_demo      # AC-GAN
    python train/conditional_gan.py --preset=ring8           # ring of 8 Gaussians, label = mode
    python train/conditional_gan.py --preset=demo --conditioning=projection
    python train/conditional_gan.py --help                   # every flag (one per ConditionalGANConfig field)

Batches are (images, labels); the number of classes comes from the dataset.
Sample grids have one row per class. The SavedModel serves
``serving_default(z, labels)`` and ``sample(labels, seed)``. Resuming, outputs
and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402

from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("conditional_gan")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, SPEC))
