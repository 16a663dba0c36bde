"""`train.train_lib`: optimizers and learning-rate schedules built from configs."""

import dataclasses

import keras
import pytest

from kgan import configs, registry
from kgan.schedules import ConstantThenLinearDecay
from train import train_lib


def _model(config, name="gan"):
    return registry.get(name).build(config, (2,))


def test_constant_rates_by_default():
    config = configs.PRESETS["smoke"]
    optimizers = train_lib.make_optimizers(config, _model(config))
    assert set(optimizers) == {"generator", "discriminator"}
    assert isinstance(optimizers["generator"], keras.optimizers.Adam)
    assert float(optimizers["generator"].learning_rate) == pytest.approx(config.generator_learning_rate)


def test_decay_runs_over_each_optimizers_own_steps():
    config = dataclasses.replace(
        configs.WASSERSTEIN_PRESETS["smoke"], learning_rate_decay_start=0.5, learning_rate_final_fraction=0.0
    )
    rates = train_lib.learning_rates(config, _model(config, "wgan_gp"))
    generator_rate, critic_rate = rates["generator"], rates["discriminator"]
    train_steps = config.epochs * config.steps_per_epoch
    assert isinstance(generator_rate, ConstantThenLinearDecay)
    assert generator_rate.total_steps == train_steps
    assert critic_rate.total_steps == train_steps * config.discriminator_steps
    assert critic_rate.decay_start_step == train_steps * config.discriminator_steps // 2
    assert float(generator_rate(train_steps)) == 0.0


def test_rmsprop_for_weight_clipping():
    config = configs.WASSERSTEIN_PRESETS["wgan_smoke"]
    optimizers = train_lib.make_optimizers(config, _model(config, "wgan"))
    generator, critic = optimizers["generator"], optimizers["discriminator"]
    assert isinstance(generator, keras.optimizers.RMSprop) and isinstance(critic, keras.optimizers.RMSprop)
    assert float(critic.learning_rate) == pytest.approx(5e-5)


def test_bad_decay_flags_are_reported():
    config = dataclasses.replace(configs.GANConfig(), learning_rate_decay_start=1.0, learning_rate_final_fraction=2.0)
    problems = "\n".join(config.problems())
    assert "--learning_rate_decay_start" in problems and "--learning_rate_final_fraction" in problems
