r"""Trains `kgan.GRAN` (Im et al. 2016): a GAN whose generator draws on a canvas over several steps.

    python train/gran.py --preset=demo                       # embedded Fashion-MNIST, 3 canvas steps, no network
    python train/gran.py --preset=fashion_mnist              # the full set
    python train/gran.py --preset=demo --canvas_steps=5      # more steps: a finer sum, a slower step
    python train/gran.py --help                              # every flag (one per GRANConfig field)

Batches are the images alone. The run ends with FID/KID of the samples
(``summary.json`` under ``"evaluation"``) and ``samples/canvas.png``: row t
the same samples after canvas step t (the last row the samples). The
SavedModel serves ``serving_default(z)``, ``sample(num_images, seed)`` and
``canvases(num_images, seed)`` -> ``[N, T, H, W, C]``. Resuming, outputs and
export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("gran")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)

_CANVAS_COLUMNS = 8


def canvas_rows(model, seed: int = 0):
    """``(images, rows)``: ``_CANVAS_COLUMNS`` samples, row t their canvas after step t."""
    import numpy as np

    steps = np.asarray(model.canvas_steps(model.latent_vectors(_CANVAS_COLUMNS, seed)))  # [N, T, H, W, C]
    return np.swapaxes(steps, 0, 1).reshape(-1, *steps.shape[2:]), steps.shape[1]


RECIPE = train_lib.Recipe(SPEC, evaluate=train_lib.evaluation_with_picture(
    "canvas.png", canvas_rows, lambda model: f"{_CANVAS_COLUMNS} samples after each of the {model.num_canvas_steps} canvas steps"))

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, RECIPE))
