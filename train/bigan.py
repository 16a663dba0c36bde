r"""Trains `kgan.BiGAN` (Donahue et al. 2017) or ALI (Dumoulin et al. 2017): a generator, an encoder and a joint discriminator.

    python train/bigan.py --preset=demo                      # embedded Fashion-MNIST, a few minutes, no network
    python train/bigan.py --preset=ring8                     # ring of 8 Gaussians, z 2-D, ALI's Gaussian encoder
    python train/bigan.py --preset=fashion_mnist             # the full set
    python train/bigan.py --encoder_type=gaussian ...        # ALI instead of BiGAN
    python train/bigan.py --help                             # every flag (one per BiGANConfig field)

Batches are the samples alone, as for ``train/gan.py``. The run ends with
FID/KID of G's samples (points: mode coverage) and what the encoder learned
(``train/encoder_evaluation.py``): linear-probe and 1-NN accuracy of E(x) beside
raw pixels and an untrained encoder, G(E(x))'s reconstruction errors and
class kept, and E(x) against the prior; all in ``summary.json`` under
``"evaluation"``, and ``samples/reconstructions.png`` (test images beside
G(E(x))). The SavedModel serves ``serving_default(z)``, ``sample(num_images,
seed)``, ``encode(images)`` -> ``z`` and ``reconstruct(images)`` (and their
``_uint8`` forms). Resuming, outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from train import encoder_evaluation  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("bigan")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)

RECIPE = train_lib.Recipe(SPEC, evaluate=encoder_evaluation.evaluate)

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, RECIPE))
