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


def build_model(config, sample_shape):
    """A compiled `kgan.WGANGP` or `kgan.WGAN` for samples of ``sample_shape``."""
    generator, critic = train_lib.build_networks(config, sample_shape)
    common = dict(discriminator_steps=config.discriminator_steps, seed=config.seed, **config.remedy_options())
    if config.model == "wgan":
        model = kgan.WGAN(generator, critic, config.latent_dim, clip_value=config.clip_value, **common)
    else:
        model = kgan.WGANGP(
            generator,
            critic,
            config.latent_dim,
            gradient_penalty_weight=config.gradient_penalty_weight,
            target_norm=config.target_norm,
            one_sided_penalty=config.one_sided_penalty,
            **common,
        )
    generator_optimizer, critic_optimizer = train_lib.make_optimizers(config)
    model.compile(generator_optimizer, critic_optimizer, jit_compile=config.jit_compile_option)
    return model


if __name__ == "__main__":
    app.run(train_lib.main_for(configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS, build_model))
