"""`FusedBatchNormalization` computes what `keras.layers.BatchNormalization` computes, in one fused op."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.networks.fused_batch_norm import FusedBatchNormalization


def _pair(shape, **options):
    """A Keras and a fused layer with the same (non-trivial) weights."""
    layers = keras.layers.BatchNormalization(**options), FusedBatchNormalization(**options)
    for layer in layers:
        layer.build(shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, shape[-1]))
        layer.beta.assign(np.linspace(-1.0, 1.0, shape[-1]))
    return layers


@pytest.mark.parametrize("shape", [(16, 5, 5, 8), (16, 8)])
def test_training_and_inference_match_the_keras_layer(shape):
    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, shape).astype(np.float32))
    keras_layer, fused = _pair(shape, momentum=0.9)
    outputs, gradients = [], []
    for layer in (keras_layer, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.sin(x))  # Weights every output differently.
        outputs.append(y)
        gradients.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-5)
    for want, got in zip(*gradients):
        np.testing.assert_allclose(got, want, atol=5e-5)
    # Keras 3's moving-average rule: the biased batch variance (the fused op's is scaled back).
    np.testing.assert_allclose(fused.moving_mean, keras_layer.moving_mean, atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance, keras_layer.moving_variance, rtol=1e-6)
    assert abs(float(fused.moving_variance[0]) - (0.9 + 0.1 * float(tf.math.reduce_variance(x[..., 0])))) < 1e-4
    np.testing.assert_allclose(fused(x, training=False), keras_layer(x, training=False), atol=1e-5)


def test_mixed_precision_inputs_stay_in_their_dtype_and_xla_compiles_it():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = FusedBatchNormalization()
        layer.build((4, 3, 3, 2))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    x = tf.cast(tf.random.stateless_normal([4, 3, 3, 2], seed=[1, 2]), tf.bfloat16)
    assert layer(x, training=True).dtype == tf.bfloat16
    assert layer.moving_mean.dtype == "float32"
    plain = FusedBatchNormalization()
    plain.build((4, 3, 3, 2))
    x32 = tf.cast(x, tf.float32)
    compiled = tf.function(lambda v: plain(v, training=False), jit_compile=True)
    np.testing.assert_allclose(compiled(x32), plain(x32, training=False), atol=1e-6)


def test_what_the_fused_op_cannot_do_goes_through_the_keras_layer(monkeypatch):
    calls = []
    original = keras.layers.BatchNormalization.call
    monkeypatch.setattr(keras.layers.BatchNormalization, "call", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    x = tf.ones([4, 3, 2])
    for layer, inputs in ((FusedBatchNormalization(), x),  # rank 3
                          (FusedBatchNormalization(epsilon=1e-5), tf.ones([4, 2])),  # below the fused op's epsilon floor
                          (FusedBatchNormalization(axis=1), tf.ones([4, 2, 2, 2]))):  # not the last axis
        layer(inputs, training=True)
    assert len(calls) == 3
    FusedBatchNormalization()(tf.ones([4, 2]), training=True)
    assert len(calls) == 3


def test_a_network_with_it_round_trips_through_a_keras_file(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, FusedBatchNormalization(name="bn")(keras.layers.Dense(3)(inputs)))
    model(np.ones((2, 4), np.float32), training=True)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(restored.get_layer("bn"), FusedBatchNormalization)
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(restored(x, training=False), model(x, training=False), atol=1e-6)
