"""ResNet generator: the CycleGAN/StarGAN layer plans, shapes, ranges, conditions."""

import numpy as np
import pytest

from kgan.networks import default_residual_blocks, resnet_generator


def test_cyclegan_256_generator_has_nine_blocks_and_the_reference_size():
    generator = resnet_generator((256, 256, 3))
    assert sum(1 for layer in generator.layers if layer.name.endswith("_add")) == 9
    # The reference ResNet-9 generator has 11.378 M parameters (its convs carry
    # biases before a non-affine instance norm; ours have affine norms instead).
    assert 11.3e6 < generator.count_params() < 11.45e6
    assert default_residual_blocks(128) == 6


def test_output_shape_range_and_dtype():
    generator = resnet_generator((28, 28, 1), base_filters=8, num_residual_blocks=1)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    y = np.asarray(generator(x))
    assert y.shape == (3, 28, 28, 1) and y.dtype == np.float32
    assert np.all(np.abs(y) <= 1.0)


def test_conditions_become_an_input_and_change_the_output():
    generator = resnet_generator((16, 16, 3), condition_dim=4, base_filters=8, num_residual_blocks=1, padding="zero", sampling_kernel_size=4)
    assert [tuple(t.shape) for t in generator.inputs] == [(None, 16, 16, 3), (None, 4)]
    x = np.zeros((2, 16, 16, 3), np.float32)
    a = np.asarray(generator([x, np.array([[1, 0, 0, 0]] * 2, np.float32)]))
    b = np.asarray(generator([x, np.array([[0, 0, 0, 1]] * 2, np.float32)]))
    assert not np.allclose(a, b)


def test_instance_norm_erases_tiled_conditions_and_conditional_norm_restores_them():
    # Tiled conditions add a constant to each channel of the first convolution; with reflection padding
    # there is no border where they differ, and the first instance norm subtracts them exactly.
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    first, second = np.array([[1, 0, 0, 0]] * 2, np.float32), np.array([[0, 0, 0, 1]] * 2, np.float32)
    plain = resnet_generator((16, 16, 3), condition_dim=4, base_filters=8, num_residual_blocks=1, padding="reflect")
    np.testing.assert_allclose(np.asarray(plain([x, first])), np.asarray(plain([x, second])), atol=1e-4)
    conditioned = resnet_generator((16, 16, 3), condition_dim=4, base_filters=8, num_residual_blocks=1,
                                   padding="reflect", conditional_norm=True)
    rng = np.random.default_rng(1)
    conditioned.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) if "kernel" in v.path and "norm" in v.path
                             else w for v, w in zip(conditioned.weights, conditioned.get_weights())])
    assert np.abs(np.asarray(conditioned([x, first])) - np.asarray(conditioned([x, second]))).max() > 0.05
    with pytest.raises(ValueError, match="condition_dim"):
        resnet_generator((16, 16, 3), base_filters=4, num_residual_blocks=1, conditional_norm=True)


def test_output_channels_may_differ_from_input_channels():
    generator = resnet_generator((16, 16, 1), output_channels=3, base_filters=8, num_residual_blocks=1)
    assert generator.output_shape == (None, 16, 16, 3)


def test_sizes_not_divisible_by_the_downsampling_are_rejected():
    with pytest.raises(ValueError, match="divisible by 2\\*\\*num_downsampling = 4"):
        resnet_generator((30, 30, 3))


@pytest.mark.parametrize("downsampling", [0, 1, 2])
def test_skip_connections_join_each_level_to_the_up_layer_of_its_size(downsampling):
    generator = resnet_generator((28, 28, 3), condition_dim=2, base_filters=4, num_residual_blocks=1,
                                 num_downsampling=downsampling, skip_connections=True)
    joins = [layer for layer in generator.layers if layer.name.startswith("skip")]
    assert len(joins) == downsampling
    for i, join in enumerate(joins):
        size = 28 // 2 ** (downsampling - 1 - i)
        up, skip = (tuple(t.shape) for t in join.input)
        # The up-sampled maps and the down path's maps of the same size, filters added.
        assert up[1:3] == skip[1:3] == (size, size) and join.output.shape[-1] == up[-1] + skip[-1]
    assert generator.output_shape == (None, 28, 28, 3)


def test_the_skips_carry_the_input_past_the_bottleneck():
    # With the bottleneck's output held at zero, only a skip can bring the input's detail to the output.
    x = np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32)
    outputs = {}
    for skips in (False, True):
        generator = resnet_generator((16, 16, 1), base_filters=4, num_residual_blocks=1, skip_connections=skips)
        for layer in generator.layers:
            if layer.name == "up0":
                layer.kernel.assign(np.zeros(layer.kernel.shape, np.float32))
        outputs[skips] = np.asarray(generator(x))
    assert np.ptp(outputs[False][0] - outputs[False][1]) < 1e-6  # Every input gives one image.
    assert np.ptp(outputs[True][0] - outputs[True][1]) > 1e-3


def test_affine_head_starts_as_the_identity_and_learns_a_colour_transform():
    generator = resnet_generator((16, 16, 3), condition_dim=2, base_filters=4, num_residual_blocks=1, num_downsampling=0,
                                 output_head="affine")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    c = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    np.testing.assert_array_equal(np.asarray(generator([x, c])), x)  # Zero-initialised: a copy of the input.
    # It can learn a colour change a condition asks for: invert the images whose condition is [0, 1].
    import keras
    import tensorflow as tf

    target = np.where(c[:, 1, None, None, None] > 0, -x, x)
    optimizer = keras.optimizers.Adam(1e-2)
    for _ in range(60):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(generator([x, c], training=True) - target))
        optimizer.apply_gradients(zip(tape.gradient(loss, generator.trainable_variables), generator.trainable_variables))
    assert float(loss) < 0.25 * np.abs(x - target).mean()


def test_affine_head_keeps_the_input_channels_and_unknown_heads_are_refused():
    with pytest.raises(ValueError, match="output_channels=3"):
        resnet_generator((16, 16, 1), output_channels=3, output_head="affine", base_filters=4, num_residual_blocks=1)
    with pytest.raises(ValueError, match="output_head must be one of"):
        resnet_generator((16, 16, 3), output_head="residual", base_filters=4, num_residual_blocks=1)
