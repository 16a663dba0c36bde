"""AdversarialModel machinery shared by every model: XLA gradients, compile options."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.networks import dcgan_discriminator, dcgan_generator
from tests.test_case import TWO_LOGICAL_CPUS, random_images, tiny_image_gan
from tests.test_cycle_gan import tiny_cycle_gan, unpaired
from tests.test_star_gan import batch as star_batch
from tests.test_star_gan import tiny_star_gan


def _wgan_gp():
    return kgan.WGANGP(dcgan_generator(8, (28, 28, 1), 8), dcgan_discriminator((28, 28, 1), 8, "layer"), 8, discriminator_steps=2)


def _conditional_gan():
    from kgan.networks import conditional_dcgan_discriminator, conditional_dcgan_generator

    return kgan.ConditionalGAN(
        conditional_dcgan_generator(8, 10, (28, 28, 1), 8),
        conditional_dcgan_discriminator((28, 28, 1), 10, base_filters=8, auxiliary_classifier=True),
        8, 10,
    )


def _one_step_weights(make, data, jit_compile):
    keras.utils.set_random_seed(0)
    model = make()
    # SGD: an update is proportional to the gradient, so weight differences
    # measure gradient differences (Adam's first step would turn rounding-level
    # differences of near-zero gradients into +-lr).
    model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=jit_compile)
    initial = [v.numpy() for v in model.trainable_weights]
    model.fit(tf.data.Dataset.from_tensors(data), verbose=0)
    return model, [v.numpy() - before for v, before in zip(model.trainable_weights, initial)]


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: tiny_image_gan(compile=False), random_images(16)),
        (_wgan_gp, random_images(16)),  # the penalty's gradient of a gradient inside XLA
        (lambda: tiny_cycle_gan(compile=False), unpaired(4)),
        (_conditional_gan, (random_images(8), np.arange(8, dtype=np.int32) % 10)),
        (lambda: tiny_star_gan(compile=False), star_batch(4)),
    ],
    ids=["gan", "wgan_gp", "cycle_gan", "conditional_gan", "star_gan"],
)
def test_xla_step_matches_the_plain_step(make, data):
    plain_model, plain = _one_step_weights(make, data, jit_compile=False)
    xla_model, xla = _one_step_weights(make, data, jit_compile=True)
    assert xla_model.xla_gradients and not plain_model.xla_gradients
    # XLA fuses and reorders float32 arithmetic: the updates (SGD: the gradients)
    # agree to rounding relative to each variable's largest update (the tiny
    # StarGAN's unclipped critic step is ~1e2); a missing or doubled term is O(1).
    for a, b in zip(plain, xla):
        assert np.abs(a - b).max() <= 1e-3 * np.abs(a).max() + 1e-6


def test_jit_compile_auto_is_off_on_a_cpu_and_bad_values_fail():
    if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
        pytest.skip("auto turns XLA on where an accelerator is visible")
    model = tiny_image_gan(compile=False)
    model.compile(jit_compile="auto")
    assert model.xla_gradients is False and model.get_compile_config()["jit_compile"] is False
    model.compile(jit_compile=True)
    assert model.xla_gradients is True and model.get_compile_config()["jit_compile"] is True
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(jit_compile="yes")


MIRRORED_SCRIPT = TWO_LOGICAL_CPUS + r"""
import keras, numpy as np, kgan
from kgan.networks import mlp_discriminator, mlp_generator

# MLPs: no batch norm, whose per-replica statistics differ from one device's by design.
def make(kind):
    keras.utils.set_random_seed(0)
    model_class = kgan.GAN if kind == "gan" else kgan.WGANGP
    model = model_class(mlp_generator(4, 2, (32,)), mlp_discriminator(2, (32,)), 4, discriminator_steps=2, seed=1)
    model.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
    return model

x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
data = tf.data.Dataset.from_tensor_slices(x).batch(16)
differences = []
for kind in ("gan", "wgan_gp"):
    single = make(kind)
    single.fit(data, verbose=0)
    with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
        mirrored = make(kind)
    mirrored.fit(data, verbose=0)
    differences += [kind, str(max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(single.trainable_weights, mirrored.trainable_weights)))]
print(" ".join(differences))
"""


def test_two_replicas_with_k_discriminator_steps_train_like_one_device(tmp_path):
    """k = 2: each D step's minibatch is a slice of the *global* batch (split_minibatches), so two
    replicas make the same k steps as one device (the generator, the noise and the penalty's
    epsilon too). Two train steps of global batch 16 (minibatches of 8, 4 per replica)."""
    from tests.test_case import run_script

    words = run_script(tmp_path, MIRRORED_SCRIPT).split()
    differences = dict(zip(words[::2], words[1::2]))
    # Float32 rounding of per-replica vs whole-batch reductions only.
    assert float(differences["gan"]) < 1e-5 and float(differences["wgan_gp"]) < 1e-5, differences
