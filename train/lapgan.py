r"""Trains `kgan.LapGAN` (Denton et al. 2015): a Laplacian pyramid of GANs, coarse to fine.

    python train/lapgan.py --preset=demo                     # embedded Fashion-MNIST, 7 -> 14 -> 28, no network
    python train/lapgan.py --preset=fashion_mnist            # the full set
    python train/lapgan.py --levels_to_train=0 ...           # one level at a time (the paper's way); resume for the next
    python train/lapgan.py --dataset=cifar10 --levels=3      # 32-px data: 8 -> 16 -> 32
    python train/lapgan.py --help                            # every flag (one per LapGANConfig field)

Batches are full-size images; each step trains every level of
``--levels_to_train`` on the real pyramid of the same minibatch. The run
ends with FID/KID of the full-size samples (``summary.json`` under
``"evaluation"``) and ``samples/pyramid.png``: each row one level of the
same samples (coarsest on top), each level enlarged to the full size. The
SavedModel serves ``serving_default(z)``, ``sample(num_images, seed)`` and
``level_<k>(num_images, seed)`` (level k of the same pyramid). Resuming,
outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("lapgan")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)

_PYRAMID_COLUMNS = 8


def pyramid_levels(model, seed: int = 0):
    """``(images, rows)``: ``_PYRAMID_COLUMNS`` samples, row k their level-k images enlarged to the full size (nearest)."""
    import numpy as np
    import tensorflow as tf

    levels = model.sample_levels(model.latent_vectors(_PYRAMID_COLUMNS, seed))
    return np.concatenate([tf.image.resize(level, model.sample_shape[:2], method="nearest").numpy() for level in levels]), len(levels)


RECIPE = train_lib.Recipe(SPEC, evaluate=train_lib.evaluation_with_picture(
    "pyramid.png", pyramid_levels, lambda model: f"the pyramid of {_PYRAMID_COLUMNS} samples, coarsest on top"))

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, RECIPE))
