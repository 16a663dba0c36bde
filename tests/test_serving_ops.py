"""`kgan.serving`: the outputs every signature returns and the in-graph input checks."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import serving




def test_generator_outputs_maps_the_image_range_to_uint8():
    images = tf.constant([-1.0, 0.0, 1.0], shape=[1, 1, 3, 1])
    out = serving.generator_outputs(images)
    assert sorted(out) == ["images", "images_png_bytes", "images_uint8"]
    assert out["images"].dtype == tf.float32 and out["images_uint8"].dtype == tf.uint8
    # 0 -> 127.5 -> 128: tf.round rounds halves to even.
    np.testing.assert_array_equal(out["images_uint8"].numpy().ravel(), [0, 128, 255])
    np.testing.assert_array_equal(out["images"].numpy(), images.numpy())


def test_generator_outputs_hits_every_uint8_level_once():
    levels = np.arange(256, dtype=np.float32)
    images = (levels / 127.5 - 1.0).reshape(1, 16, 16, 1)
    out = serving.generator_outputs(images)
    np.testing.assert_array_equal(out["images_uint8"].numpy().ravel(), levels.astype(np.uint8))


def test_generator_outputs_clips_out_of_range_values():
    images = tf.constant([-3.0, -1.0001, 1.0001, 7.0, 0.5], shape=[1, 5, 1, 1])
    out = serving.generator_outputs(images)
    np.testing.assert_allclose(out["images"].numpy().ravel(), [-1, -1, 1, 1, 0.5])
    # Saturates, never wraps around (a plain uint8 cast of 8 * 127.5 would).
    np.testing.assert_array_equal(out["images_uint8"].numpy().ravel(), [0, 0, 255, 255, 191])


def test_generator_outputs_casts_reduced_precision_to_float32():
    out = serving.generator_outputs(tf.constant(0.5, tf.bfloat16, shape=[2, 4, 4, 3]))
    assert out["images"].dtype == tf.float32
    np.testing.assert_array_equal(out["images_uint8"].numpy(), np.full([2, 4, 4, 3], 191, np.uint8))


def test_generator_outputs_passes_points_through_unclipped():
    points = np.array([[-5.0, 0.25], [3.0, 9.0]], np.float32)
    out = serving.generator_outputs(points)
    assert list(out) == ["samples"]
    assert out["samples"].dtype == tf.float32
    np.testing.assert_array_equal(out["samples"].numpy(), points)


def test_generator_outputs_traces_with_unknown_batch_size():
    fn = tf.function(serving.generator_outputs, input_signature=[tf.TensorSpec([None, 4, 4, 1], tf.float32)])
    out = fn.get_concrete_function().structured_outputs
    assert out["images_uint8"].shape.as_list() == [None, 4, 4, 1]
    assert out["images_uint8"].dtype == tf.uint8


@pytest.mark.parametrize("shape", [[4], [2, 4, 4], [1, 2, 2, 2, 1]])
def test_generator_outputs_rejects_other_ranks(shape):
    with pytest.raises(ValueError, match=r"\[N, H, W, C\] or points \[N, D\]"):
        serving.generator_outputs(tf.zeros(shape))


def test_generator_outputs_rejects_integer_samples():
    with pytest.raises(ValueError, match="floating-point"):
        serving.generator_outputs(tf.zeros([1, 2, 2, 1], tf.uint8))



def test_png_output_decodes_to_the_uint8_images():
    images = tf.random.stateless_uniform([3, 5, 7, 3], seed=[1, 2], minval=-1, maxval=1)
    out = serving.generator_outputs(images)
    assert out["images_png_bytes"].dtype == tf.string and out["images_png_bytes"].shape == [3]
    for png, pixels in zip(out["images_png_bytes"].numpy(), out["images_uint8"].numpy()):
        decoded = np.asarray(Image.open(io.BytesIO(png)))
        np.testing.assert_array_equal(decoded, pixels)


def test_png_output_of_grayscale_images_is_grayscale():
    out = serving.generator_outputs(tf.zeros([2, 4, 4, 1]))
    image = Image.open(io.BytesIO(out["images_png_bytes"].numpy()[1]))
    assert image.mode == "L" and image.size == (4, 4)


# ---------------------------------------------------------------------- input checks


def test_checked_images_accepts_the_expected_shape_and_converts_uint8():
    spec_fn = tf.function(lambda x: serving.checked_images(x, (2, 3, 1)), input_signature=[serving.image_spec(tf.uint8)])
    out = spec_fn(tf.constant([0, 255, 128, 1, 2, 3], tf.uint8, shape=[1, 2, 3, 1]))
    assert out.dtype == tf.float32 and out.shape == (1, 2, 3, 1)
    np.testing.assert_allclose(out.numpy().ravel(), np.array([0, 255, 128, 1, 2, 3]) / 127.5 - 1, atol=1e-6)
    # The static shape is restored for the network that follows.
    traced = spec_fn.get_concrete_function().structured_outputs
    assert traced.shape.as_list() == [None, 2, 3, 1]


@pytest.mark.parametrize("shape", [[1, 2, 3, 3], [1, 3, 2, 1], [2, 2, 2, 1]])
def test_checked_images_names_the_expected_shape(shape):
    fn = tf.function(lambda x: serving.checked_images(x, (2, 3, 1)), input_signature=[serving.image_spec()])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"images must have shape \[N, 2, 3, 1\]"):
        fn(tf.zeros(shape))


@pytest.mark.parametrize("bad", [1.01, -1.5, float("nan")])
def test_checked_images_refuses_float_values_outside_the_model_range(bad):
    fn = tf.function(lambda x: serving.checked_images(x, (1, 2, 1)), input_signature=[serving.image_spec()])
    fn(tf.constant([[[[-1.0], [1.0]]]]))  # the bounds themselves are fine
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must be float32 in \[-1, 1\]"):
        fn(tf.constant([[[[0.0], [bad]]]]))


def test_checked_vectors_checks_width_finiteness_and_bounds():
    fn = tf.function(
        lambda v: serving.checked_vectors(v, 3, "target_attributes", minimum=0.0, maximum=1.0),
        input_signature=[tf.TensorSpec([None, None], tf.float32)],
    )
    np.testing.assert_array_equal(fn(tf.constant([[0.0, 0.5, 1.0]])).numpy(), [[0.0, 0.5, 1.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"target_attributes must have shape \[N, 3\]"):
        fn(tf.zeros([2, 4]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be finite"):
        fn(tf.constant([[0.0, float("inf"), 0.0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must lie in \[0.0, 1.0\]"):
        fn(tf.constant([[0.0, 2.0, 0.0]]))


@pytest.mark.parametrize("count, ok", [(0, False), (-3, False), (1, True), (serving.MAX_SAMPLED_IMAGES, True), (serving.MAX_SAMPLED_IMAGES + 1, False)])
def test_checked_count_bounds(count, ok):
    fn = tf.function(serving.checked_count, input_signature=[tf.TensorSpec([], tf.int32)])
    if ok:
        assert int(fn(tf.constant(count))) == count
    else:
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_images must be"):
            fn(tf.constant(count))


def test_checked_batch_sizes():
    fn = tf.function(
        lambda a, b: serving.checked_batch_sizes({"z": a, "labels": b}),
        input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([None], tf.int32)],
    )
    fn(tf.zeros([3, 2]), tf.zeros([3], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="z and labels must have the same batch size"):
        fn(tf.zeros([3, 2]), tf.zeros([2], tf.int32))


# ---------------------------------------------------------------------- bounds (rank, batch size, scalars)


def _relaxed(fn, dtype=tf.float32):
    """``fn`` traced for any shape, so the in-graph checks see what a server would feed."""
    return tf.function(fn, input_signature=[tf.TensorSpec(None, dtype)])


def test_checked_batch_checks_rank_then_the_limit():
    fn = _relaxed(lambda v: serving.checked_batch(v, "z", (None,), limit=3))
    assert fn(tf.zeros([3, 5])).shape == (3, 5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"z must have rank 2 \(\[N, \?\], N examples\)"):
        fn(tf.zeros([5]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="z holds more than 3 examples.*send several requests"):
        fn(tf.zeros([4, 5]))


def test_checked_scalar_reads_one_value_and_refuses_more():
    fn = _relaxed(lambda v: serving.checked_scalar(v, "seed"), tf.int64)
    assert fn(tf.constant(7, tf.int64)).shape == () and int(fn(tf.constant(7, tf.int64))) == 7
    assert int(fn(tf.constant([7], tf.int64))) == 7  # TF Serving's row format sends [1]
    for bad in ([1, 2], []):
        with pytest.raises(tf.errors.InvalidArgumentError, match="seed must be a scalar"):
            fn(tf.constant(bad, tf.int64))


def test_batch_limit_sets_the_bound_of_what_is_traced_inside():
    def trace():
        return tf.function(serving.checked_count, input_signature=[tf.TensorSpec([], tf.int32)])

    with serving.batch_limit(5):
        assert serving.max_batch_size() == 5
        bounded = trace()
        bounded.get_concrete_function()  # traced here: keeps 5
    assert serving.max_batch_size() == serving.MAX_SAMPLED_IMAGES
    assert int(bounded(tf.constant(5))) == 5
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_images must be <= 5"):
        bounded(tf.constant(6))
    assert int(trace()(tf.constant(6))) == 6  # traced outside: the default bound
    for bad, error in [(0, ValueError), (2**31, ValueError), (1.0, TypeError), (True, TypeError)]:
        with pytest.raises(error, match="max_batch_size must be"):
            serving.batch_limit(bad).__enter__()


def test_check_num_samples_bounds_the_bytes_of_a_sampling_call():
    per_sample = 28 * 28 + 100
    most = serving.MAX_GENERATED_BYTES // (4 * per_sample)
    assert serving.check_num_samples(np.int64(most), per_sample) == most
    with pytest.raises(ValueError, match=f"at most {most:,} samples per call"):
        serving.check_num_samples(most + 1, per_sample)


def test_in_chunks_equals_one_call():
    z = tf.random.stateless_normal([7, 3], seed=[1, 2])
    labels = tf.range(7)
    calls = []

    def fn(inputs):
        calls.append(int(inputs[0].shape[0]))
        return inputs[0] * tf.cast(inputs[1][:, None], tf.float32)

    np.testing.assert_array_equal(serving.in_chunks(fn, [z, labels], chunk_size=3).numpy(), fn([z, labels]).numpy())
    assert calls == [3, 3, 1, 7]
