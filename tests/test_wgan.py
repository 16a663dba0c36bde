"""`kgan.WGAN` and `kgan.WGANGP`: clipping, penalty wiring, metrics, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.networks import dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator
from tests.test_case import random_images


def tiny_critic(normalization="layer"):
    return dcgan_discriminator((28, 28, 1), 8, normalization=normalization)


def test_wgan_critic_weights_are_clipped_after_each_critic_step():
    model = kgan.WGAN(dcgan_generator(8, (28, 28, 1), 8), tiny_critic("batch"), 8, clip_value=0.01)
    model.compile()
    assert isinstance(model.discriminator_optimizer, keras.optimizers.RMSprop)
    assert model.discriminator_optimizer.learning_rate.numpy() == pytest.approx(5e-5)
    # Large initial weights make the clipping visible.
    for v in model.discriminator_variables:
        v.assign(tf.fill(v.shape, 0.5))
    model.update("discriminator", tf.constant(random_images(4)))
    for v in model.discriminator_variables:
        assert np.all(np.abs(v.numpy()) <= 0.01 + 1e-7), v.path
    # A full fit step (5 critic steps) keeps them there; the generator is untouched by clipping.
    history = model.fit(random_images(20), batch_size=20, verbose=0)
    assert max(np.abs(v.numpy()).max() for v in model.discriminator_variables) <= 0.01 + 1e-7
    assert max(np.abs(v.numpy()).max() for v in model.generator_variables) > 0.01
    assert {"d_loss", "g_loss", "wasserstein_estimate"} <= set(history.history)
    assert int(model.discriminator_optimizer.iterations) == 6


def test_wgangp_defaults_follow_the_paper():
    model = kgan.WGANGP(dcgan_generator(8, (28, 28, 1), 8), tiny_critic(), 8)
    model.compile()
    assert model.discriminator_steps == 5 and model.gradient_penalty_weight == 10.0
    opt = model.discriminator_optimizer
    assert isinstance(opt, keras.optimizers.Adam)
    assert (float(opt.learning_rate.numpy()), opt.beta_1, opt.beta_2) == pytest.approx((1e-4, 0.0, 0.9))


def test_wgangp_rejects_a_batch_norm_critic():
    with pytest.raises(ValueError, match="BatchNormalization"):
        kgan.WGANGP(dcgan_generator(8, (28, 28, 1), 8), tiny_critic("batch"), 8)


def test_wgangp_critic_loss_is_wasserstein_plus_weighted_penalty():
    model = kgan.WGANGP(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, gradient_penalty_weight=7.0)
    model.compile()
    real = tf.random.normal([16, 2], seed=0)
    noise = model.discriminator_noise(16, index=0)
    assert noise["epsilon"].shape == (16,)
    assert 0.0 <= float(tf.reduce_min(noise["epsilon"])) and float(tf.reduce_max(noise["epsilon"])) < 1.0
    loss, extras = model.discriminator_loss(real, noise)
    fake = model.generator(noise["z"], training=True)
    wasserstein = tf.reduce_mean(model.discriminator(fake)) - tf.reduce_mean(model.discriminator(real))
    penalty = kgan.penalties.gradient_penalty(model.discriminator, real, fake, noise["epsilon"])
    assert loss.numpy() == pytest.approx((wasserstein + 7.0 * penalty).numpy(), rel=1e-5)
    assert extras["gradient_penalty"].numpy() == pytest.approx(penalty.numpy(), rel=1e-5)
    assert extras["wasserstein_estimate"].numpy() == pytest.approx(-wasserstein.numpy(), rel=1e-5)


def test_wgangp_fit_logs_penalty_and_estimate():
    model = kgan.WGANGP(dcgan_generator(8, (28, 28, 1), 8), tiny_critic(), 8, discriminator_steps=2)
    model.compile()
    history = model.fit(random_images(16), batch_size=8, verbose=0)
    assert {"d_loss", "g_loss", "gradient_penalty", "wasserstein_estimate"} <= set(history.history)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert int(model.discriminator_optimizer.iterations) == 4


@pytest.mark.parametrize("cls", [kgan.WGAN, kgan.WGANGP])
def test_wasserstein_models_round_trip_through_keras_files(cls, tmp_path):
    kwargs = {"clip_value": 0.02} if cls is kgan.WGAN else {"gradient_penalty_weight": 5.0, "one_sided_penalty": True}
    model = cls(mlp_generator(4, 2, (8,)), mlp_discriminator(2, (8,)), 4, discriminator_steps=2, seed=3, **kwargs)
    model.compile()
    model.fit(np.random.default_rng(0).normal(size=(8, 2)).astype("float32"), batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded) is cls
    for key, value in kwargs.items():
        assert getattr(loaded, key) == value
    assert int(loaded.discriminator_optimizer.iterations) == 4
    assert type(loaded.discriminator_optimizer) is type(model.discriminator_optimizer)
