r"""Trains `kgan.WGANGP` (default) or `kgan.WGAN` (``--model=wgan``).

    python train/wgan_gp.py --preset=demo                 # WGAN-GP, a few minutes on 2 CPU cores
    python train/wgan_gp.py --preset=wgan_fashion_mnist   # WGAN with weight clipping
    python train/wgan_gp.py --help                        # every flag (one per WassersteinGANConfig field)

    # Best Fashion-MNIST recipe within 45 CPU minutes (README "Results": FID 22.3; the
    # preset keeps the paper's n_critic 5 and rates 1e-4, FID 30.4 in the same budget):
    python train/wgan_gp.py --preset=fashion_mnist --max_train_minutes=45 --epochs=200 \
        --base_filters=32 --generator_ema=0.999 --discriminator_steps=2 --discriminator_learning_rate=3e-4

Each train step makes ``discriminator_steps`` (n_critic) critic updates, each on
its own minibatch of ``batch_size`` real examples, then one generator update.
The ``wasserstein_estimate`` metric (E[D(x)] - E[D(G(z))]) is logged to
TensorBoard (``<model_dir>/logs``): it falls as the generator improves.
Resuming, outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan import configs  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS)
flags.adopt_module_key_flags(config_flags)


def build_model(config, shapes):
    """A compiled `kgan.WGANGP`, or `kgan.WGAN` with ``--model=wgan`` (both registered under their names)."""
    return train_lib.build_compiled(kgan.registry.get(config.model), config, shapes)


if __name__ == "__main__":
    app.run(train_lib.main_for(configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS, build_model))
