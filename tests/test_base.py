"""AdversarialModel machinery shared by every model: XLA gradients, compile options."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.networks import dcgan_discriminator, dcgan_generator
from tests.test_case import random_images, tiny_image_gan
from tests.test_cycle_gan import tiny_cycle_gan, unpaired


def _wgan_gp():
    return kgan.WGANGP(dcgan_generator(8, (28, 28, 1), 8), dcgan_discriminator((28, 28, 1), 8, "layer"), 8, discriminator_steps=2)


def _one_step_weights(make, data, jit_compile):
    keras.utils.set_random_seed(0)
    model = make()
    # SGD: an update is proportional to the gradient, so weight differences
    # measure gradient differences (Adam's first step would turn rounding-level
    # differences of near-zero gradients into +-lr).
    model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=jit_compile)
    model.fit(tf.data.Dataset.from_tensors(data), verbose=0)
    return model, [v.numpy() for v in model.trainable_weights]


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: tiny_image_gan(compile=False), random_images(16)),
        (_wgan_gp, random_images(16)),  # the penalty's gradient of a gradient inside XLA
        (lambda: tiny_cycle_gan(compile=False), unpaired(4)),
    ],
    ids=["gan", "wgan_gp", "cycle_gan"],
)
def test_xla_step_matches_the_plain_step(make, data):
    plain_model, plain = _one_step_weights(make, data, jit_compile=False)
    xla_model, xla = _one_step_weights(make, data, jit_compile=True)
    assert xla_model.xla_gradients and not plain_model.xla_gradients
    # XLA fuses and reorders float32 arithmetic: rounding-level differences
    # (measured <= 1e-5 after one SGD(0.1) step).
    for a, b in zip(plain, xla):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_jit_compile_auto_is_off_without_an_accelerator_and_bad_values_fail():
    model = tiny_image_gan(compile=False)
    model.compile(jit_compile="auto")
    assert model.xla_gradients == bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    assert model.get_compile_config()["jit_compile"] == model.xla_gradients
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(jit_compile="yes")
