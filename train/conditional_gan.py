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
from kgan import configs, networks  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.ConditionalGANConfig, configs.CONDITIONAL_PRESETS)
flags.adopt_module_key_flags(config_flags)


def build_networks(config, sample_shape):
    """``(generator, discriminator)``: conditional DCGAN networks for images, MLPs for points."""
    head = dict(
        num_classes=config.num_classes,
        conditioning=config.conditioning,
        auxiliary_classifier=config.auxiliary_classifier,
        label_embedding_dim=config.label_embedding_dim,
        minibatch=config.minibatch,
        spectral_norm=config.spectral_norm,
    )
    if len(sample_shape) == 3:
        return (
            networks.conditional_dcgan_generator(
                config.latent_dim, config.num_classes, sample_shape, config.base_filters, config.label_embedding_dim
            ),
            networks.conditional_dcgan_discriminator(
                sample_shape, base_filters=config.base_filters, normalization=config.normalization, **head
            ),
        )
    return (
        networks.conditional_mlp_generator(
            config.latent_dim, config.num_classes, sample_shape[0], config.hidden_units, config.label_embedding_dim
        ),
        networks.conditional_mlp_discriminator(sample_shape[0], hidden_units=config.hidden_units, **head),
    )


def build_model(config, sample_shape):
    """A compiled `kgan.ConditionalGAN` for samples of ``sample_shape``."""
    generator, discriminator = build_networks(config, sample_shape)
    model = kgan.ConditionalGAN(
        generator,
        discriminator,
        config.latent_dim,
        config.num_classes,
        loss=config.loss,
        discriminator_steps=config.discriminator_steps,
        label_smoothing=config.label_smoothing,
        classification_weight=config.classification_weight,
        classify_generated=config.classify_generated,
        gradient_penalty_weight=config.gradient_penalty_weight,
        seed=config.seed,
        **config.remedy_options(),
    )
    generator_optimizer, discriminator_optimizer = train_lib.make_optimizers(config)
    model.compile(generator_optimizer, discriminator_optimizer, jit_compile=config.jit_compile_option)
    return model


if __name__ == "__main__":
    app.run(train_lib.main_for(configs.ConditionalGANConfig, configs.CONDITIONAL_PRESETS, build_model))
