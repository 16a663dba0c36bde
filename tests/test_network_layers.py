"""Layers of the image-to-image networks: reflection padding, condition tiling, instance norm."""

import keras
import numpy as np

from kgan.networks.layers import ReflectionPadding2D, TileConditions, instance_normalization, residual_block


def test_reflection_padding_mirrors_without_repeating_the_edge():
    row = np.array([1.0, 2.0, 3.0], np.float32)
    image = np.tile(row[None, :], (3, 1))[None, :, :, None]
    padded = np.asarray(ReflectionPadding2D(2)(image))[0, 2, :, 0]
    np.testing.assert_array_equal(padded, [3, 2, 1, 2, 3, 2, 1])


def test_reflection_padding_round_trips_through_config():
    layer = ReflectionPadding2D(3)
    clone = ReflectionPadding2D.from_config(layer.get_config())
    assert clone.padding == 3
    assert clone.compute_output_shape((None, 10, 12, 4)) == (None, 16, 18, 4)


def test_tile_conditions_adds_one_constant_channel_per_condition():
    images = np.zeros((2, 4, 4, 3), np.float32)
    conditions = np.array([[1, 0], [0, 1]], np.float32)
    out = np.asarray(TileConditions()([images, conditions]))
    assert out.shape == (2, 4, 4, 5)
    np.testing.assert_array_equal(out[0, :, :, 3], np.ones((4, 4)))
    np.testing.assert_array_equal(out[1, :, :, 3], np.zeros((4, 4)))
    np.testing.assert_array_equal(out[1, :, :, 4], np.ones((4, 4)))


def test_instance_normalization_normalizes_each_example_and_channel_alone():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, (2, 8, 8, 3)).astype(np.float32)
    x[1] *= 100.0  # Another example's scale must not matter.
    y = np.asarray(instance_normalization("norm")(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-3)


def test_residual_block_keeps_the_shape_and_adds_the_input():
    inputs = keras.Input((8, 8, 4))
    model = keras.Model(inputs, residual_block(inputs, 4, "reflect", "res"))
    # Zero the second norm's scale and offset: the residual branch is then 0.
    norm = model.get_layer("res_norm2")
    norm.set_weights([np.zeros_like(w) for w in norm.get_weights()])
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 4)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), x, atol=1e-6)
