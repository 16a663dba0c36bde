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
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("gan")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)  # List them in --help, not only --helpfull.

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, SPEC))
