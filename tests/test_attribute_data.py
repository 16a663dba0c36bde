"""kgan.data.attributes: the tinted Fashion-MNIST demo (attributes known by construction), the two-dataset demo and
its combined loader (unified labels), CelebA attributes."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from kgan.data import attributes as A


def test_render_tints_and_inverts_by_hand():
    gray = np.array([[[[0]], [[200]]]], np.uint8).reshape(1, 1, 2, 1)
    red = A.render_attributes(gray, [[1, 0, 0, 0]])
    np.testing.assert_array_equal(red[0, 0], [[0, 0, 0], [200, 60, 60]])
    blue_inverted = A.render_attributes(gray, [[0, 0, 1, 1]])
    np.testing.assert_array_equal(blue_inverted[0, 0], [[76, 76, 255], [16, 16, 55]])
    with pytest.raises(ValueError, match="exactly one colour"):
        A.render_attributes(gray, [[1, 1, 0, 0]])


def test_tinted_demo_is_deterministic_and_balanced():
    images, attributes, classes = A.tinted_arrays("tinted_fashion_mnist", "test")
    assert images.shape == (1000, 28, 28, 3) and images.dtype == np.uint8
    assert attributes.shape == (1000, 4) and set(np.unique(attributes)) == {0.0, 1.0}
    np.testing.assert_array_equal(attributes[:, :3].sum(-1), 1)
    assert all(0.25 < attributes[:, k].mean() < 0.42 for k in range(3)) and 0.4 < attributes[:, 3].mean() < 0.6
    assert sorted(np.unique(classes)) == list(range(10))
    again, again_attributes, _ = A.tinted_arrays("tinted_fashion_mnist", "test")
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(attributes, again_attributes)
    # The attributes are visible: red images have the strongest red channel, inverted ones a bright background.
    red = attributes[:, 0] == 1
    assert np.all(images[red][..., 0].mean((1, 2)) >= images[red][..., 1].mean((1, 2)))
    assert images[attributes[:, 3] == 1][:, 0, 0].mean() > 60 > images[attributes[:, 3] == 0][:, 0, 0].mean()


def test_load_attribute_images_yields_model_ready_batches():
    ds = A.load_attribute_images("tinted_fashion_mnist", "train", 32, seed=0)
    images, attributes = next(iter(ds))
    assert images.shape == (32, 28, 28, 3) and images.dtype == tf.float32 and attributes.shape == (32, 4)
    assert float(tf.reduce_min(images)) >= -1 and float(tf.reduce_max(images)) <= 1
    with pytest.raises(ValueError, match="Unknown attribute dataset"):
        A.load_attribute_images("celeba")
    with pytest.raises(ValueError, match="28x28"):
        A.load_attribute_images("tinted_fashion_mnist", image_size=64)


def test_generic_arrays_become_batches_and_mismatches_fail():
    images = np.zeros((10, 8, 8, 3), np.uint8)
    attributes = np.zeros((10, 2), np.float32)
    x, a = next(iter(A.attribute_dataset(images, attributes, 5, shuffle=False)))
    assert float(x[0, 0, 0, 0]) == -1.0 and a.shape == (5, 2)
    with pytest.raises(ValueError, match="attribute rows"):
        A.attribute_dataset(images, attributes[:3], 5)


def test_render_brightness_by_hand():
    gray = np.array([0, 200], np.uint8).reshape(1, 1, 2, 1)
    np.testing.assert_array_equal(A.render_brightness(gray, [[1, 0, 0]])[0, 0], [[0, 0, 0], [70, 70, 70]])
    np.testing.assert_array_equal(A.render_brightness(gray, [[0, 0, 1]])[0, 0], [[0, 0, 0], [200, 200, 200]])
    with pytest.raises(ValueError, match="one-hot"):
        A.render_brightness(gray, [[1, 1, 0]])


def test_tinted_shaded_demo_is_two_datasets_on_the_two_halves_of_the_split():
    images, labels, classes, groups = A.tinted_shaded_arrays("tinted_shaded_fashion_mnist", "test")
    tinted, tints, tinted_classes = A.tinted_arrays("tinted_fashion_mnist", "test")
    assert images.shape == (1000, 28, 28, 3) and labels.shape == (1000, 9)
    np.testing.assert_array_equal(groups, np.repeat([0, 1], 500))
    np.testing.assert_array_equal(classes, tinted_classes)  # One garment per image, in the split's order.
    # The first half is the tinted demo's (known tint, unknown brightness) ...
    np.testing.assert_array_equal(images[:500], tinted[:500])
    np.testing.assert_array_equal(labels[:500], np.concatenate([tints[:500], np.zeros((500, 3)), np.tile([1, 0], (500, 1))], 1))
    # ... the second half gray at one known brightness level (unknown tint), each level ~1/3 of it.
    assert not labels[500:, :4].any() and np.all(labels[500:, 7:] == [0, 1])
    np.testing.assert_array_equal(labels[500:, 4:7].sum(-1), 1)
    assert all(0.27 < labels[500:, 4 + k].mean() < 0.4 for k in range(3))
    np.testing.assert_array_equal(images[500:, ..., 0], images[500:, ..., 2])
    levels = labels[500:, 4:7].argmax(-1)
    assert images[500:][levels == 0].mean() < images[500:][levels == 1].mean() < images[500:][levels == 2].mean()


def test_the_combined_loader_alternates_both_sources_with_their_unified_labels():
    images, labels, _, _ = A.tinted_shaded_arrays("tinted_shaded_fashion_mnist", "test")
    x, c = next(iter(A.load_attribute_images("tinted_shaded_fashion_mnist", "test", 6, shuffle=False)))
    np.testing.assert_array_equal(c, labels[[0, 500, 1, 501, 2, 502]])
    np.testing.assert_allclose(x, images[[0, 500, 1, 501, 2, 502]] / 127.5 - 1, atol=1e-6)
    # Shuffled and repeated: every batch holds both sources in equal shares, each row a valid unified vector.
    from kgan.label_groups import check_unified_labels

    for _, batch_labels in A.load_attribute_images("tinted_shaded_fashion_mnist", "train", 8, repeat=True, seed=1).take(3):
        check_unified_labels(batch_labels.numpy(), A.TINTED_SHADED_GROUPS)
        np.testing.assert_array_equal(batch_labels.numpy()[:, 7:].sum(0), [4, 4])
    # Any sources: group i's labels go into group i's place.
    sources = [tf.data.Dataset.from_tensor_slices((np.zeros((3, 2, 2, 1), np.uint8), np.eye(2, dtype=np.float32)[[0, 1, 1]])),
               tf.data.Dataset.from_tensor_slices((np.full((3, 2, 2, 1), 1.0, np.float32), np.eye(3, dtype=np.float32)))]
    x, c = next(iter(A.combine_attribute_sources(sources, ((2, "multi_label"), (3, "single_label")), 4)))
    np.testing.assert_array_equal(c, [[1, 0, 0, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0, 1], [0, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 1]])
    np.testing.assert_array_equal(x[:, 0, 0, 0], [-1, 1, -1, 1])
    with pytest.raises(ValueError, match="differ in shape"):
        A.combine_attribute_sources([sources[0], sources[1].map(lambda x, c: (x[:1], c))], ((2, "multi_label"), (3, "single_label")), 4)
    with pytest.raises(ValueError, match="one source per group"):
        A.combine_attribute_sources(sources[:1] * 3, ((2, "multi_label"), (3, "single_label")), 4)


def test_celeb_a_attributes_are_selected_cropped_and_resized(tmp_path):
    with tfds.testing.mock_data(num_examples=4, data_dir=str(tmp_path)):
        images, attributes = next(iter(A.load_attribute_images("celeb_a", "train", 2, image_size=32, seed=0)))
        assert images.shape == (2, 32, 32, 3) and attributes.shape == (2, 5)
        assert set(np.unique(attributes.numpy())) <= {0.0, 1.0}
        _, two = next(iter(A.load_attribute_images("celeb_a", "train", 2, attributes=["Smiling", "Eyeglasses"], image_size=32)))
        assert two.shape == (2, 2)
        with pytest.raises(ValueError, match="Unknown CelebA attributes"):
            A.load_attribute_images("celeb_a", "train", 2, attributes=["Purple_Hair"])
