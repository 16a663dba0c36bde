"""The user's own data: ``folder:``, ``npz:``, ``npy:`` and ``tfds:`` sources (`kgan.data.user_data`)."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from kgan import data
from kgan.data import image_folder, specs, user_data
from kgan.data.image_folder import BadImageData
from kgan.metrics import quality
from kgan.metrics.features import FeatureExtractor


def write_image(path, array, **save_kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path, **save_kwargs)
    return path


def constant(value, shape=(16, 16, 3)):
    return np.full(shape, value, np.uint8)


@pytest.fixture
def class_folder(tmp_path):
    """Two classes of 16x16 RGB images: ``dark/`` (value 40, PNG and nested JPEG) and ``light/`` (value 200)."""
    root = tmp_path / "pets"
    for i in range(3):
        write_image(str(root / "dark" / f"{i}.png"), constant(40))
        write_image(str(root / "dark" / "more" / f"{i}.jpg"), constant(40), quality=95)
        write_image(str(root / "light" / f"{i}.png"), constant(200))
    (root / "light" / "README.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    write_image(str(root / ".hidden" / "x.png"), constant(0))
    return root


def all_examples(name, **kwargs):
    ds = data.load_images(name, batch_size=1, shuffle=False, drop_remainder=False, **kwargs)
    batches = list(ds)
    if kwargs.get("with_labels"):
        return np.concatenate([x.numpy() for x, _ in batches]), np.concatenate([y.numpy() for _, y in batches])
    return np.concatenate([x.numpy() for x in batches])


# ---------------------------------------------------------------------- folders


def test_folder_classes_shapes_ranges_and_labels(class_folder):
    info = data.dataset_info(f"folder:{class_folder}")
    assert info.image_shape == (16, 16, 3)
    assert info.class_names == ("dark", "light") and info.num_classes == 2
    assert info.splits == {"train": 9} and info.skipped == ()  # README.txt and .hidden/ are not images of the set.
    images, labels = all_examples(f"folder:{class_folder}", with_labels=True)
    assert images.shape == (9, 16, 16, 3) and images.dtype == np.float32
    means = {label: images[labels == label].mean() for label in (0, 1)}
    np.testing.assert_allclose(means[0], 40 / 127.5 - 1, atol=0.02)  # JPEG is lossy, PNG exact.
    np.testing.assert_allclose(means[1], 200 / 127.5 - 1, atol=1e-6)
    assert np.bincount(labels).tolist() == [6, 3]


def test_folder_resize_and_channels(class_folder):
    images = all_examples(f"folder:{class_folder}", image_size=8, channels=1)
    assert images.shape == (9, 8, 8, 1)
    assert data.dataset_info(f"folder:{class_folder}", 8, channels=1).image_shape == (8, 8, 1)


def test_gray_folders_stay_gray_and_gif_bmp_decode(tmp_path):
    root = tmp_path / "gray"
    write_image(str(root / "a.png"), np.full((12, 12), 10, np.uint8))
    write_image(str(root / "b.jpg"), np.full((12, 12), 20, np.uint8))
    assert data.dataset_info(f"folder:{root}").image_shape == (12, 12, 1)
    write_image(str(root / "c.gif"), np.full((12, 12), 30, np.uint8))  # GIFs are palette images: colour.
    write_image(str(root / "d.bmp"), np.full((12, 12, 3), 40, np.uint8))
    assert data.dataset_info(f"folder:{root}", channels=1).image_shape == (12, 12, 1)
    images = all_examples(f"folder:{root}", channels=1)
    np.testing.assert_allclose(sorted(images.reshape(4, -1).mean(1)), np.array([10, 20, 30, 40]) / 127.5 - 1, atol=0.01)


def test_center_crop_keeps_the_middle_and_none_squeezes(tmp_path):
    image = np.zeros((16, 32, 3), np.uint8)
    image[:, 8:24] = 255  # White centre square, black side bands.
    root = tmp_path / "wide"
    write_image(str(root / "a.png"), image)
    cropped = all_examples(f"folder:{root}")
    assert cropped.shape == (1, 16, 16, 3) and np.all(cropped == 1.0)
    squeezed = all_examples(f"folder:{root}", image_size=16, crop="none")
    assert squeezed.shape == (1, 16, 16, 3) and squeezed.min() == -1.0  # The bands survive.


def test_a_repeated_folder_streams_its_first_epoch_then_reshuffles_the_cache(tmp_path):
    root = tmp_path / "values"
    for value in range(12):
        write_image(str(root / f"{value:02d}.png"), constant(value * 20))
    ds = data.load_images(f"folder:{root}", batch_size=1, repeat=True, seed=3)
    values = [int(round((float(x.numpy().mean()) + 1) * 127.5)) // 20 for x in ds.take(36)]
    epochs = [values[i:i + 12] for i in (0, 12, 24)]
    assert all(sorted(epoch) == list(range(12)) for epoch in epochs)  # Every image once per epoch.
    assert epochs[0] != list(range(12)) and epochs[1] != epochs[2]  # Shuffled, and differently each epoch.
    # The streaming first epoch is the folder kind's property, not a name prefix the pipeline knows.
    assert specs.shuffles_on_read(f"folder:{root}") and not specs.shuffles_on_read("npz:x.npz")
    assert not specs.shuffles_on_read("fashion_mnist")


def test_split_subfolders(tmp_path):
    for split, count in (("train", 4), ("test", 2)):
        for c in ("a", "b"):
            for i in range(count):
                write_image(str(tmp_path / "d" / split / c / f"{i}.png"), constant(10 * i))
    info = data.dataset_info(f"folder:{tmp_path / 'd'}")
    assert info.splits == {"train": 8, "test": 4} and info.class_names == ("a", "b")
    assert all_examples(f"folder:{tmp_path / 'd'}", split="test").shape == (4, 16, 16, 3)
    with pytest.raises(ValueError, match="has no split 'validation'.*add a validation/"):
        data.load_images(f"folder:{tmp_path / 'd'}", "validation", 1)


def test_a_test_class_unknown_to_train_is_refused(tmp_path):
    write_image(str(tmp_path / "d" / "train" / "a" / "0.png"), constant(0))
    write_image(str(tmp_path / "d" / "test" / "zebra" / "0.png"), constant(0))
    with pytest.raises(BadImageData, match="test/ has class folders that train/ lacks: zebra"):
        data.dataset_info(f"folder:{tmp_path / 'd'}")


# ---------------------------------------------------------------------- bad folders


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        data.dataset_info(f"folder:{tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(BadImageData, match=r"holds no image files and 1 other file\(s\).*\.png, \.jpg"):
        data.dataset_info(f"folder:{tmp_path / 'empty'}")


@pytest.fixture
def folder_with_bad_files(tmp_path):
    root = tmp_path / "mixed"
    for i in range(4):
        write_image(str(root / f"good{i}.png"), constant(100))
    good_png = open(root / "good0.png", "rb").read()
    write_image(str(root / "photo.jpg"), constant(100), quality=90)
    good_jpg = open(root / "photo.jpg", "rb").read()
    (root / "photo.jpg").unlink()
    (root / "not_an_image.png").write_bytes(b"hello, world")
    (root / "empty.jpg").write_bytes(b"")
    (root / "cut.png").write_bytes(good_png[: len(good_png) // 2])
    (root / "cut.jpg").write_bytes(good_jpg[:-10])  # The header is whole; the end-of-image marker is gone.
    Image.fromarray(constant(1)).save(root / "tiff_inside.png", format="TIFF")
    return root


def test_bad_files_are_skipped_and_reported(folder_with_bad_files):
    info = data.dataset_info(f"folder:{folder_with_bad_files}")
    assert info.splits == {"train": 4}
    reasons = {os.path.basename(path): reason for path, reason in info.skipped}
    assert set(reasons) == {"not_an_image.png", "empty.jpg", "cut.png", "cut.jpg", "tiff_inside.png"}
    assert reasons["empty.jpg"] == "empty file"
    assert reasons["cut.png"].startswith("truncated") and reasons["cut.jpg"].startswith("truncated")
    assert "TIFF image; TF decodes PNG, JPEG, BMP, GIF only" in reasons["tiff_inside.png"]
    assert all_examples(f"folder:{folder_with_bad_files}").shape == (4, 16, 16, 3)


def test_bad_files_stop_the_run_when_asked(folder_with_bad_files):
    with pytest.raises(BadImageData, match=r"5 of 9 image files cannot be used: .*; and \d+ more|5 of 9 image files cannot be used"):
        data.dataset_info(f"folder:{folder_with_bad_files}", on_bad_image="stop")


def test_pixels_corrupt_behind_a_sound_header_are_dropped_under_skip(tmp_path):
    root = tmp_path / "corrupt"
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(str(root / f"{i}.png"), rng.integers(0, 256, (16, 16, 3)))
    raw = bytearray(open(root / "0.png", "rb").read())
    assert len(raw) > 400
    raw[100:140] = b"\x00" * 40  # Inside the compressed pixels; the header and IEND are intact.
    (root / "0.png").write_bytes(bytes(raw))
    assert data.dataset_info(f"folder:{root}").splits == {"train": 3}  # The scan cannot see it...
    assert all_examples(f"folder:{root}").shape[0] == 2  # ...the pipeline drops it, it does not fail.
    with pytest.raises(tf.errors.InvalidArgumentError):
        all_examples(f"folder:{root}", on_bad_image="stop")


def test_mixed_sizes_need_an_image_size(tmp_path):
    root = tmp_path / "sizes"
    write_image(str(root / "a.png"), constant(0, (16, 16, 3)))
    write_image(str(root / "b.png"), constant(0, (24, 20, 3)))
    with pytest.raises(BadImageData, match=r"2 sizes \(width x height: .*20x24.*\): pass --image_size=S"):
        data.dataset_info(f"folder:{root}")
    assert all_examples(f"folder:{root}", image_size=8).shape == (2, 8, 8, 3)


def test_mixed_channels_need_a_choice(tmp_path):
    root = tmp_path / "channels"
    write_image(str(root / "gray.png"), np.zeros((16, 16), np.uint8))
    write_image(str(root / "rgb.png"), constant(0))
    with pytest.raises(BadImageData, match="mixes 1 gray and 1 colour images: pass --channels=3"):
        data.dataset_info(f"folder:{root}")
    assert all_examples(f"folder:{root}", channels=3).shape == (2, 16, 16, 3)


def test_labelled_models_refuse_folders_they_cannot_learn_from(tmp_path, class_folder):
    flat = tmp_path / "flat"
    write_image(str(flat / "a.png"), constant(0))
    with pytest.raises(ValueError, match="has no class labels.*subfolder of its own"):
        data.load_images(f"folder:{flat}", batch_size=1, with_labels=True)
    write_image(str(class_folder / "stray.png"), constant(0))
    with pytest.raises(BadImageData, match=r"1 image\(s\) of the train split are outside every class folder"):
        data.load_images(f"folder:{class_folder}", batch_size=1, with_labels=True)
    (class_folder / "stray.png").unlink()
    write_image(str(class_folder / "lonely" / "0.png"), constant(0))
    with pytest.raises(BadImageData, match=r"class folder\(s\) lonely hold fewer than 2"):
        data.load_images(f"folder:{class_folder}", batch_size=1, with_labels=True)


# ---------------------------------------------------------------------- arrays


def test_npz_in_keras_layout_has_splits_and_labels(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 256, (20, 8, 8), np.uint8), y_train=np.arange(20) % 4,
             x_test=rng.integers(0, 256, (6, 8, 8), np.uint8), y_test=np.arange(6) % 4)
    info = data.dataset_info(f"npz:{path}")
    assert info.image_shape == (8, 8, 1) and info.splits == {"train": 20, "test": 6}
    assert info.class_names == ("0", "1", "2", "3")
    images, labels = all_examples(f"npz:{path}", split="test", with_labels=True)
    with np.load(path) as stored:
        np.testing.assert_array_equal(np.rint((images[..., 0] + 1) * 127.5), stored["x_test"])
    assert labels.tolist() == [0, 1, 2, 3, 0, 1]


@pytest.mark.parametrize("values,expected", [
    (np.array([0.0, 1.0]), [0, 255]), (np.array([-1.0, 1.0]), [0, 255]), (np.array([0.0, 255.0]), [0, 255]),
    (np.array([3, 200], np.int64), [3, 200]),
])
def test_array_value_ranges(values, expected):
    images = np.broadcast_to(values[:, None, None, None], (2, 4, 4, 3))
    assert user_data.arrays.to_uint8_images(images, "x")[:, 0, 0, 0].tolist() == expected


@pytest.mark.parametrize("array,message", [
    (np.full((2, 4, 4, 3), np.nan, np.float32), "2 NaN|96 NaN"),
    (np.full((2, 4, 4, 3), 300.0), r"spans \[300, 300\]"),
    (np.zeros((2, 3, 8, 8)), "channels-first"),
    (np.zeros((2, 4, 4, 3), bool), "dtype bool"),
    (np.zeros((4, 4)), "must be"),
])
def test_bad_arrays_say_what_is_wrong(array, message):
    with pytest.raises(ValueError, match=message):
        user_data.arrays.to_uint8_images(array, "x")


def test_npz_keys_labels_and_pickles(tmp_path):
    images = np.zeros((5, 4, 4, 3), np.uint8)
    np.savez(tmp_path / "two.npz", a=images, b=images)
    with pytest.raises(ValueError, match=r"which array holds the images\? .*npz:.*:KEY"):
        data.dataset_info(f"npz:{tmp_path / 'two.npz'}")
    assert data.dataset_info(f"npz:{tmp_path / 'two.npz'}:b").splits == {"train": 5}
    np.savez(tmp_path / "bad_labels.npz", images=images, labels=np.arange(4))
    with pytest.raises(ValueError, match=r"labels must be \[N\] class indices with N = 5"):
        data.dataset_info(f"npz:{tmp_path / 'bad_labels.npz'}")
    np.savez(tmp_path / "pickled.npz", images=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        data.dataset_info(f"npz:{tmp_path / 'pickled.npz'}")
    np.save(tmp_path / "x.npy", images)
    assert data.dataset_info(f"npy:{tmp_path / 'x.npy'}").image_shape == (4, 4, 3)


# ---------------------------------------------------------------------- tfds


def test_any_tfds_image_dataset_under_mock(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        info = data.dataset_info("tfds:cifar10", channels=1, data_dir=tmp_path)
        assert info.image_shape == (32, 32, 1) and info.num_classes == 10
        images, labels = all_examples("tfds:cifar10", channels=1, with_labels=True, data_dir=tmp_path)
    assert images.shape == (12, 32, 32, 1) and 0 <= labels.min() and labels.max() < 10


def test_tfds_class_names_reach_the_run_report(tmp_path):
    import dataclasses

    from kgan import configs
    from train import train_lib

    config = dataclasses.replace(configs.CONDITIONAL_PRESETS["smoke"], dataset="tfds:mnist", data_dir=str(tmp_path))
    with tfds.testing.mock_data(num_examples=8):
        report = train_lib.describe_data(config)
    assert report["class_names"] == [str(d) for d in range(10)] and report["image_shape"] == [28, 28, 1]


def test_tfds_without_an_image_feature_is_refused():
    with pytest.raises(ValueError, match="tfds:imdb_reviews has no image feature"):
        data.dataset_info("tfds:imdb_reviews")


def test_tfds_of_varying_size_needs_an_image_size():
    with pytest.raises(BadImageData, match="vary in size: pass --image_size"):
        data.dataset_info("tfds:oxford_flowers102")


# ---------------------------------------------------------------------- fingerprints and cached statistics


def test_fingerprint_follows_content_not_names(tmp_path, class_folder):
    before = user_data.fingerprint(f"folder:{class_folder}")
    renamed = tmp_path / "renamed"
    os.rename(class_folder, renamed)
    assert user_data.fingerprint(f"folder:{renamed}") == before
    write_image(str(renamed / "light" / "0.png"), constant(201))
    assert user_data.fingerprint(f"folder:{renamed}") != before
    assert user_data.fingerprint(f"folder:{renamed}", image_size=8) != user_data.fingerprint(f"folder:{renamed}")


def test_cached_reference_features_are_recomputed_when_one_file_changes(tmp_path, class_folder):
    calls = []

    class CountingExtractor(FeatureExtractor):
        def __call__(self, images):
            calls.append(len(images))
            return super().__call__(images)

    def network(images, training=False):  # The mean pixel of each channel: content-sensitive, instant.
        return tf.reduce_mean(images, axis=[1, 2])

    extractor = CountingExtractor("pixels", network, batch_size=50)
    first = quality.reference_features(extractor, f"folder:{class_folder}", "train", 9, cache_dir=tmp_path / "cache")
    again = quality.reference_features(extractor, f"folder:{class_folder}", "train", 9, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(first, again)
    assert len(calls) == 1  # The second call read the cache.
    write_image(str(class_folder / "light" / "0.png"), constant(10))
    changed = quality.reference_features(extractor, f"folder:{class_folder}", "train", 9, cache_dir=tmp_path / "cache")
    assert len(calls) == 2 and not np.array_equal(changed, first)


def test_rescans_read_only_changed_headers(class_folder, monkeypatch):
    image_folder.scan_folder(class_folder)
    read = []
    original = image_folder.read_header
    monkeypatch.setattr(image_folder, "read_header", lambda path, size=None: read.append(path) or original(path, size))
    image_folder.scan_folder(class_folder)
    assert read == []
    write_image(str(class_folder / "light" / "9.png"), constant(1))
    image_folder.scan_folder(class_folder)
    assert [os.path.basename(p) for p in read] == ["9.png"]
