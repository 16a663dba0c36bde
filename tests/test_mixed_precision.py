"""Every model under mixed_bfloat16 and mixed_float16: finite losses, float32 variables and outputs;
float16 gets loss scaling for every optimizer, and a step that overflows in any network changes no network
(the later updates are skipped, the earlier ones undone), on one device and on two replicas."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute
from kgan.networks import (
    conditional_mlp_discriminator,
    conditional_mlp_generator,
    mlp_discriminator,
    mlp_generator,
)
from tests.test_case import TWO_LOGICAL_CPUS, run_script


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


# Each returns (model, a training batch, a function drawing outputs from the trained model).
def _gan():
    model = kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4)
    return model, np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32), lambda: model.generate(3)


def _wgan_gp():
    model = kgan.WGANGP(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, discriminator_steps=2)
    return model, np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32), lambda: model.generate(3)


def _conditional_gan():
    model = kgan.ConditionalGAN(conditional_mlp_generator(4, 3, 2, (16,)), conditional_mlp_discriminator(2, 3, (16,)), 4, 3)
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(8, 2)).astype(np.float32), rng.integers(0, 3, 8).astype(np.int32))
    return model, data, lambda: model.generate(labels=[0, 1, 2])


def _cycle_gan():
    from tests.test_cycle_gan import tiny_cycle_gan, unpaired

    model, data = tiny_cycle_gan(compile=False), unpaired(2)
    return model, data, lambda: model.translate(data[0], "x_to_y")


def _star_gan():
    from tests.test_star_gan import batch, tiny_star_gan

    model, data = tiny_star_gan(compile=False), batch(4)
    return model, data, lambda: model.translate(*data)


MODELS = {"gan": _gan, "wgan_gp": _wgan_gp, "conditional_gan": _conditional_gan, "cycle_gan": _cycle_gan, "star_gan": _star_gan}


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_trains_with_float32_variables_and_outputs(policy, name):
    model, data, outputs = MODELS[name]()
    model.compile()
    loss_scaled = isinstance(model.generator_optimizer, keras.optimizers.LossScaleOptimizer)
    assert loss_scaled == (policy == "mixed_float16")
    assert isinstance(model.discriminator_optimizer, keras.optimizers.LossScaleOptimizer) == loss_scaled
    history = model.fit(tf.data.Dataset.from_tensors(data).repeat(), steps_per_epoch=2, verbose=0)
    assert all(np.isfinite(values[-1]) for values in history.history.values()), history.history
    assert {v.dtype for v in model.trainable_weights} == {"float32"}
    assert outputs().dtype == tf.float32


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_float16_overflow_in_the_first_network_skips_every_later_update(policy):
    model, data, _ = _gan()
    model.compile()
    model.fit(data, batch_size=8, verbose=0)
    generator, discriminator = [v.numpy() for v in model.generator_variables], [v.numpy() for v in model.discriminator_variables]
    generator_scale = float(model.generator_optimizer.dynamic_scale.numpy())
    # A loss scale this large overflows the discriminator's scaled gradients.
    model.discriminator_optimizer.dynamic_scale.assign(1e38)
    model.fit(data, batch_size=8, verbose=0)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(discriminator, model.discriminator_variables))
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(generator, model.generator_variables))
    assert float(model.discriminator_optimizer.dynamic_scale.numpy()) == pytest.approx(5e37, rel=1e-3)
    assert float(model.generator_optimizer.dynamic_scale.numpy()) == generator_scale / 2
    assert int(model.overflow_step.numpy()) == 1 and int(model.train_steps.numpy()) == 2
    # With a sane scale again, both networks move.
    model.discriminator_optimizer.dynamic_scale.assign(1024.0)
    model.fit(data, batch_size=8, verbose=0)
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(generator, model.generator_variables))


def test_precision_and_strategy_names():
    assert distribute.resolve_precision("float32") == "float32"
    assert distribute.resolve_precision("auto") == ("mixed_bfloat16" if distribute.native_bfloat16() else "float32")
    with pytest.raises(ValueError, match="precision"):
        distribute.resolve_precision("float8")
    assert distribute.make_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.make_strategy("multi_worker")
    with pytest.raises(ValueError, match="strategy"):
        distribute.make_strategy("tpu_pod")


TWO_REPLICA_OVERFLOW = TWO_LOGICAL_CPUS + r"""
import keras, numpy as np
import kgan
from kgan.networks import mlp_discriminator, mlp_generator

keras.mixed_precision.set_global_policy("mixed_float16")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4)
    model.compile()
data = tf.data.Dataset.from_tensors(np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)).repeat()
model.fit(data, steps_per_epoch=1, verbose=0)
before = [v.numpy() for v in model.variables if v.path not in ("train_steps", "overflow_step")]
model.discriminator_optimizer.dynamic_scale.assign(1.0)
model.generator_optimizer.dynamic_scale.assign(1e38)
model.fit(data, steps_per_epoch=1, verbose=0)
after = [v.numpy() for v in model.variables if v.path not in ("train_steps", "overflow_step")]
# Every replica's copy, not only the first one's.
copies = [[c.numpy() for c in v.value.values] for v in model.variables if v.path not in ("train_steps", "overflow_step")]
same = all(np.array_equal(a, b) for a, b in zip(before, after))
in_sync = all(np.array_equal(c[0], c[1]) for c in copies)
print(same, in_sync, int(model.overflow_step.numpy()))
"""


def test_float16_rollback_under_two_replicas(tmp_path):
    assert run_script(tmp_path, TWO_REPLICA_OVERFLOW) == "True True 1"
