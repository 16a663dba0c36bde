"""`kgan.penalties`: gradient penalty exactness, double backprop, XLA, weight clipping."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import penalties


def linear_critic(w):
    """D(x) = w . x over all non-batch axes."""
    return lambda x: tf.reduce_sum(x * w, axis=list(range(1, x.shape.rank)))


@pytest.mark.parametrize("shape", [(5,), (4, 4, 2)])
def test_penalty_of_linear_critic_is_exact(shape):
    rng = np.random.default_rng(0)
    w = tf.constant(rng.normal(size=shape), tf.float32)
    real = tf.constant(rng.normal(size=(6, *shape)), tf.float32)
    fake = tf.constant(rng.normal(size=(6, *shape)), tf.float32)
    eps = tf.constant(rng.uniform(size=6), tf.float32)
    expected = (np.linalg.norm(w.numpy()) - 1.0) ** 2  # the gradient is w wherever x_hat lies
    got = penalties.gradient_penalty(linear_critic(w), real, fake, eps).numpy()
    assert got == pytest.approx(expected, rel=1e-5)
    # Target norm and the one-sided variant.
    assert penalties.gradient_penalty(linear_critic(w), real, fake, eps, target_norm=2.0).numpy() == pytest.approx(
        (np.linalg.norm(w.numpy()) - 2.0) ** 2, rel=1e-5
    )
    small_w = w / (2 * tf.norm(w))  # norm 0.5 < 1: one-sided penalty is 0
    assert penalties.gradient_penalty(linear_critic(small_w), real, fake, eps, one_sided=True).numpy() == 0.0


def test_interpolation_is_per_example():
    real = tf.ones([3, 2, 2, 1])
    fake = tf.zeros([3, 2, 2, 1])
    x_hat = penalties.interpolate(real, fake, tf.constant([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(x_hat.numpy().reshape(3, -1).mean(axis=1), [0.0, 0.5, 1.0])


def test_norm_is_finite_and_differentiable_at_zero_gradient():
    w = tf.Variable(tf.zeros([3]))
    x = tf.ones([2, 3])
    with tf.GradientTape() as tape:
        penalty = penalties.gradient_penalty(linear_critic(w), x, x, tf.constant([0.3, 0.7]))
    gradient = tape.gradient(penalty, w)
    assert penalty.numpy() == pytest.approx(1.0, rel=1e-5)
    assert np.all(np.isfinite(gradient.numpy()))


def critic_network():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def test_penalty_gradient_reaches_critic_weights_through_nested_tape():
    critic = critic_network()
    real, fake = tf.random.normal([8, 4], seed=1), tf.random.normal([8, 4], seed=2)
    eps = tf.random.uniform([8], seed=3)
    with tf.GradientTape() as tape:
        penalty = penalties.gradient_penalty(critic, real, fake, eps)
    gradients = tape.gradient(penalty, critic.trainable_variables)
    # dD/dx does not depend on the output bias; every other weight gets a gradient.
    *weights, output_bias = critic.trainable_variables
    assert "bias" in output_bias.path and gradients[-1] is None
    assert all(g is not None and np.any(g.numpy() != 0) for g in gradients[:-1])
    # Against a finite difference on one weight.
    kernel = critic.trainable_variables[0]
    delta = np.zeros(kernel.shape, np.float32)
    delta[0, 0] = 1e-3
    kernel.assign_add(delta)
    up = penalties.gradient_penalty(critic, real, fake, eps).numpy()
    kernel.assign_sub(2 * delta)
    down = penalties.gradient_penalty(critic, real, fake, eps).numpy()
    kernel.assign_add(delta)
    assert gradients[0].numpy()[0, 0] == pytest.approx((up - down) / 2e-3, rel=2e-2, abs=1e-4)


def test_penalty_under_jit_compile_matches_eager():
    critic = critic_network()
    real, fake = tf.random.normal([8, 4], seed=1), tf.random.normal([8, 4], seed=2)
    eps = tf.random.uniform([8], seed=3)

    def penalty_and_gradients():
        with tf.GradientTape() as tape:
            penalty = penalties.gradient_penalty(critic, real, fake, eps)
        return penalty, tape.gradient(penalty, critic.trainable_variables[:-1])  # no output bias

    eager_penalty, eager_gradients = penalty_and_gradients()
    xla_penalty, xla_gradients = tf.function(penalty_and_gradients, jit_compile=True)()
    assert xla_penalty.numpy() == pytest.approx(eager_penalty.numpy(), rel=1e-4)
    for a, b in zip(xla_gradients, eager_gradients):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-5)


def test_clip_weights():
    variables = [keras.Variable(np.array([-1.0, 0.005, 2.0], np.float32)), keras.Variable(np.full((2, 2), 0.3, np.float32))]
    penalties.clip_weights(variables, 0.01)
    np.testing.assert_allclose(variables[0].numpy(), [-0.01, 0.005, 0.01])
    np.testing.assert_allclose(variables[1].numpy(), np.full((2, 2), 0.01))
    with pytest.raises(ValueError):
        penalties.clip_weights(variables, 0.0)
