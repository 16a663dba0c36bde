"""Layers of the image-to-image networks (reflection padding, condition tiling, instance norm) and the DCGAN sizes."""

import keras
import numpy as np
import pytest

from kgan.networks import conditional_dcgan_discriminator, conditional_dcgan_generator, dcgan_discriminator, dcgan_generator
from kgan.networks.dcgan import nearest_supported_sizes
from kgan.networks.layers import (
    ConditionalInstanceNormalization,
    ReflectionPadding2D,
    TileConditions,
    instance_normalization,
    residual_block,
)


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


def test_conditional_instance_norm_starts_as_instance_norm_then_scales_and_shifts_by_the_condition():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, (2, 8, 8, 3)).astype(np.float32)
    conditions = np.array([[1, 0], [0, 1]], np.float32)
    layer = ConditionalInstanceNormalization()
    plain = np.asarray(instance_normalization("norm")(x))
    np.testing.assert_allclose(np.asarray(layer([x, conditions])), plain, atol=1e-4)
    gamma_kernel = np.array([[1.0, 0.0, -0.5], [0.0, 2.0, 0.0]], np.float32)
    beta_kernel = np.array([[0.0, 3.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    layer.set_weights([gamma_kernel, np.full(3, 0.5, np.float32), beta_kernel, np.zeros(3, np.float32)])
    expected = (1.0 + (conditions @ gamma_kernel + 0.5))[:, None, None, :] * plain + (conditions @ beta_kernel)[:, None, None, :]
    np.testing.assert_allclose(np.asarray(layer([x, conditions])), expected, atol=1e-4)
    clone = ConditionalInstanceNormalization.from_config(layer.get_config())
    assert clone.epsilon == layer.epsilon == 1e-5
    half = ConditionalInstanceNormalization(dtype="mixed_float16")  # Under mixed precision: float16 in and out.
    half.build([x.shape, conditions.shape])
    half.set_weights(layer.get_weights())
    out = half([x.astype(np.float16), conditions])
    assert out.dtype == "float16"
    np.testing.assert_allclose(np.asarray(out, np.float32), expected, atol=0.05)


def test_residual_block_keeps_the_shape_and_adds_the_input():
    inputs = keras.Input((8, 8, 4))
    model = keras.Model(inputs, residual_block(inputs, 4, "reflect", "res"))
    # Zero the second norm's scale and offset: the residual branch is then 0.
    norm = model.get_layer("res_norm2")
    norm.set_weights([np.zeros_like(w) for w in norm.get_weights()])
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 4)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), x, atol=1e-6)


# ---------------------------------------------------------------------- DCGAN image sizes


@pytest.mark.parametrize("size, doublings", [(8, 1), (28, 2), (32, 3), (48, 3), (64, 4), (96, 4), (112, 4), (128, 5)])
def test_dcgan_builders_take_any_s0_times_a_power_of_two(size, doublings):
    generator = dcgan_generator(4, (size, size, 3), base_filters=4)
    discriminator = dcgan_discriminator((size, size, 3), base_filters=4)
    images = generator(np.zeros((2, 4), np.float32))
    assert images.shape == (2, size, size, 3)
    assert discriminator(images).shape == (2, 1)
    # The depth follows from the size: one stride-2 layer per doubling, in each network.
    assert sum(isinstance(l, keras.layers.Conv2DTranspose) for l in generator.layers) == doublings
    assert sum(isinstance(l, keras.layers.Conv2D) and not isinstance(l, keras.layers.Conv2DTranspose)
               for l in discriminator.layers) == doublings


def test_nearest_supported_sizes():
    assert nearest_supported_sizes(100) == (96, 112)
    assert nearest_supported_sizes(64) == (56, 80)  # A supported side is neither of its neighbours.
    assert nearest_supported_sizes(129) == (128, 160)
    assert nearest_supported_sizes(5) == (None, 8)
    assert nearest_supported_sizes(1000) == (896, 1024)


@pytest.mark.parametrize("build", [
    lambda shape: dcgan_generator(4, shape, 4),
    lambda shape: dcgan_discriminator(shape, 4),
    lambda shape: conditional_dcgan_generator(4, 3, shape, 4),
    lambda shape: conditional_dcgan_discriminator(shape, 3, 4),
], ids=["generator", "discriminator", "conditional_generator", "conditional_discriminator"])
def test_unsupported_sizes_name_the_nearest_ones_and_the_flag(build):
    with pytest.raises(ValueError, match=r"got 100; nearest supported: 96 or 112\. Pass --image_size=96 or --image_size=112"):
        build((100, 100, 1))
    with pytest.raises(ValueError, match=r"got 6; nearest supported: 8 \(the smallest\)\. Pass --image_size=8 "):
        build((6, 6, 1))


def test_affine_colour_transform_applies_each_pixel_s_matrix_and_clips():
    from kgan.networks.layers import AffineColourTransform

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 3, 3, 3)).astype(np.float32)
    coefficients = rng.normal(0, 0.3, (2, 3, 3, 12)).astype(np.float32)
    out = np.asarray(AffineColourTransform()([images, coefficients]))
    matrices = coefficients.reshape(2, 3, 3, 3, 4)
    homogeneous = np.concatenate([images, np.ones_like(images[..., :1])], -1)
    expected = np.clip(images + np.einsum("bhwij,bhwj->bhwi", matrices, homogeneous), -1, 1)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # Zero coefficients are the identity; the inversion x -> -x is A = [-2 I | 0].
    np.testing.assert_array_equal(np.asarray(AffineColourTransform()([images, np.zeros_like(coefficients)])), images)
    inversion = np.tile(np.concatenate([-2 * np.eye(3), np.zeros((3, 1))], -1).reshape(12), (2, 3, 3, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(AffineColourTransform()([images, inversion])), -images, atol=1e-6)


def test_condition_projection_is_the_features_inner_product_with_the_embedded_condition():
    from kgan.networks.layers import ConditionProjection

    rng = np.random.default_rng(0)
    features = rng.normal(size=(2, 3, 3, 5)).astype(np.float32)
    conditions = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], np.float32)
    layer = ConditionProjection()
    out = np.asarray(layer([features, conditions]))
    embedding = np.asarray(layer.embedding)
    expected = np.einsum("bhwf,bf->bhw", features, conditions @ embedding)[..., None]
    assert out.shape == (2, 3, 3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_mlp_builders_take_batch_norm_and_the_hidden_activation():
    from kgan.networks import mlp_discriminator, mlp_generator

    generator = mlp_generator(2, 2, (8, 8), batch_norm=True)
    norms = [layer for layer in generator.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 2 and not generator.get_layer("hidden0").use_bias  # BN's beta is the bias.
    z = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    hidden = keras.Model(generator.inputs, generator.get_layer("hidden0_relu").output)(z, training=True)
    assert float(np.min(hidden)) == 0.0 and generator(z).shape == (64, 2)
    critic = mlp_discriminator(2, (8,), activation="leaky_relu")
    assert critic.get_layer("hidden0").activation.__name__ == "leaky_relu" and critic.output_shape == (None, 1)
    assert mlp_discriminator(2, (8,)).get_layer("hidden0").activation.__name__ == "relu"  # The default is unchanged.
