"""kgan.data: embedded subset, load_images, TFDS paths (mocked), offline Fashion-MNIST, validation."""

import hashlib
import os
import socket
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core.download import downloader as tfds_downloader

from kgan import data
from kgan.data import embedded, idx, offline

FASHION_DIR = data.DEBIAN_FASHION_MNIST_DIR
needs_debian_fashion_mnist = pytest.mark.skipif(
    not offline.debian_files_available(FASHION_DIR),
    reason=f"Fashion-MNIST IDX files not in {FASHION_DIR} (apt-get install dataset-fashion-mnist)",
)


def raw_fashion_mnist(prefix):
    """Official Fashion-MNIST split: images uint8 [N, 28, 28], labels uint8 [N]."""
    images = idx.read_idx(os.path.join(FASHION_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = idx.read_idx(os.path.join(FASHION_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, labels


def first_batch(ds):
    return next(iter(ds))


# ----------------------------------------------------------------------------- embedded subset


@pytest.mark.parametrize("split,n", [("train", 6000), ("test", 1000)])
def test_embedded_subset_shapes_dtypes_balance(split, n):
    images, labels = data.load_embedded_fashion_mnist(split)
    assert images.shape == (n, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), [n // 10] * 10)
    # Real images use the whole pixel range, not a constant or rescaled array.
    assert images.min() == 0 and images.max() == 255
    assert len({images[i].tobytes() for i in range(0, n, 97)}) == len(range(0, n, 97))


def test_embedded_subset_rejects_unknown_split():
    with pytest.raises(ValueError, match="train.*test"):
        data.load_embedded_fashion_mnist("validation")


def test_embedded_subset_file_is_small_and_licensed():
    path = embedded.embedded_subset_path()
    assert path.is_file()
    assert os.path.getsize(str(path)) < 4_000_000
    licence = path.parent.joinpath("LICENSE-fashion-mnist").read_text()
    assert "Zalando SE" in licence and "MIT" in licence and "first 600" in licence


@needs_debian_fashion_mnist
@pytest.mark.parametrize("split,prefix,per_class", [("train", "train", 600), ("test", "t10k", 100)])
def test_embedded_subset_is_first_occurrences_of_official_split(split, prefix, per_class):
    raw_images, raw_labels = raw_fashion_mnist(prefix)
    expected = np.sort(np.concatenate([np.flatnonzero(raw_labels == c)[:per_class] for c in range(10)]))
    images, labels = data.load_embedded_fashion_mnist(split)
    np.testing.assert_array_equal(images[..., 0], raw_images[expected])
    np.testing.assert_array_equal(labels, raw_labels[expected])


# ----------------------------------------------------------------------------- load_images (embedded)


def test_load_images_embedded_spec_and_range():
    ds = data.load_images("embedded_fashion_mnist", batch_size=32, seed=0)
    assert ds.element_spec == tf.TensorSpec((32, 28, 28, 1), tf.float32)
    batches = list(ds)
    assert len(batches) == 6000 // 32  # drop_remainder
    images = np.concatenate([b.numpy() for b in batches])
    assert images.min() == -1.0 and images.max() == 1.0
    data.check_image_batch(images, expected_shape=(28, 28, 1))


def test_load_images_embedded_matches_source_pixels_and_labels():
    ds = data.load_images("embedded_fashion_mnist", "test", batch_size=1000, with_labels=True, shuffle=False)
    assert ds.element_spec[1] == tf.TensorSpec((1000,), tf.int32)
    images, labels = first_batch(ds)
    raw_images, raw_labels = data.load_embedded_fashion_mnist("test")
    np.testing.assert_allclose(images.numpy(), raw_images / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), raw_labels)


def test_load_images_shuffle_seed_repeat_limit_and_resize():
    def labels_of(seed):
        ds = data.load_images("embedded_fashion_mnist", batch_size=100, with_labels=True, seed=seed, limit=500)
        return np.concatenate([y.numpy() for _, y in ds])

    first = labels_of(1)
    np.testing.assert_array_equal(first, labels_of(1))
    assert not np.array_equal(first, labels_of(2))
    assert first.shape == (500,)  # limit

    ds = data.load_images("embedded_fashion_mnist", batch_size=64, repeat=True, limit=100, image_size=(16, 20))
    assert ds.element_spec.shape == (64, 16, 20, 1)
    assert len(list(ds.take(5))) == 5  # repeat outlives the 100 examples

    ds = data.load_images("embedded_fashion_mnist", batch_size=64, drop_remainder=False, limit=100, shuffle=False)
    assert [int(b.shape[0]) for b in ds] == [64, 36]


# ----------------------------------------------------------------------------- errors


def test_unknown_dataset_lists_known_names():
    with pytest.raises(ValueError, match="Unknown dataset 'mnsit'.*embedded_fashion_mnist.*cifar10.*celeb_a"):
        data.load_images("mnsit")
    with pytest.raises(ValueError, match="Known datasets"):
        data.dataset_info("imagenet")


@pytest.mark.parametrize("batch_size", [0, -4, 2.5, True, "64"])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.load_images("embedded_fashion_mnist", batch_size=batch_size)


def test_missing_data_dir(tmp_path):
    missing = tmp_path / "no_such_dir"
    with pytest.raises(FileNotFoundError, match="data_dir=.*no_such_dir.* does not exist.*data_dir=None"):
        data.load_images("mnist", data_dir=missing)
    with pytest.raises(FileNotFoundError, match="manual_dir=.*no_such_dir.* does not exist"):
        data.load_images("mnist", data_dir=tmp_path, manual_dir=missing)


def test_too_few_examples_for_one_batch():
    with pytest.raises(ValueError, match="fewer than batch_size=64.*drop_remainder"):
        data.load_images("embedded_fashion_mnist", limit=10)


def test_labels_for_unlabelled_dataset():
    with pytest.raises(ValueError, match="'celeb_a' has no class labels.*with_labels=False"):
        data.load_images("celeb_a", with_labels=True)


def test_bad_image_size():
    with pytest.raises(ValueError, match="image_size"):
        data.load_images("embedded_fashion_mnist", image_size=(0, 28))


def test_not_prepared_without_download_says_how_to_prepare(tmp_path):
    with pytest.raises(data.DatasetNotPreparedError) as err:
        data.load_images("mnist", data_dir=tmp_path, download=False)
    message = str(err.value)
    assert str(tmp_path) in message
    assert "tfds build mnist" in message and "manual_dir" in message and "train-images-idx3-ubyte.gz" in message
    assert not any(tmp_path.iterdir())  # Nothing was attempted.


class _FakeConnection:
    def close(self):
        pass


def test_download_failure_becomes_actionable_error(tmp_path, monkeypatch):
    # The host answers (a stand-in connection, so the test needs no network), so TFDS's own
    # download_and_prepare runs; its HTTP request then fails at once, as the last of its retries would.
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: connected.append(address) or _FakeConnection())

    def unreachable(url, **kwargs):
        raise ConnectionError("Failed to resolve 'storage.googleapis.com'")

    monkeypatch.setattr(tfds_downloader, "_open_url", unreachable)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(data.DatasetNotPreparedError, match="'cifar10' is not prepared.*cifar-10-binary.tar.gz") as err:
        data.load_images("cifar10", data_dir=tmp_path)
    assert connected == [("www.cs.toronto.edu", 443)]
    assert "storage.googleapis.com" in str(err.value) and "Preparing it failed" in str(err.value)


def test_offline_download_fails_in_seconds_without_tfds_retries(tmp_path, monkeypatch):
    # Offline, TFDS's downloader retried each URL (urllib3 Retry(total=10, backoff_factor=0.2):
    # 0.4 + 0.8 + ... + 102.4 s) and `--dataset=celeb_a` printed its message after 3 min 24 s.
    # Simulate no network: every connection fails, and TFDS's HTTP download must never start.
    probed = []

    def no_network(address, *args, **kwargs):
        probed.append(address)
        raise OSError(101, "Network is unreachable")

    def tfds_download(url, **kwargs):
        raise AssertionError(f"TFDS's downloader was asked for {url}; its retries take minutes offline")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(tfds_downloader, "_open_url", tfds_download)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    start = time.monotonic()
    with pytest.raises(data.DatasetNotPreparedError) as err:
        data.load_images("celeb_a", data_dir=tmp_path)
    seconds = time.monotonic() - start
    message = str(err.value)
    assert "'celeb_a' is not prepared" in message and "tfds build celeb_a" in message
    assert "cannot reach drive.google.com:443" in message and "no download was attempted" in message
    assert probed == [("drive.google.com", 443)]
    assert seconds < 20, seconds  # Structurally: one connect attempt, no retry loop; this only bounds the import.


def test_the_offline_probe_asks_the_proxy_where_requests_would(tmp_path, monkeypatch):
    from kgan.data import sources

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    builder = tfds.builder("celeb_a", data_dir=tmp_path)
    assert sources._download_endpoints(builder) == [("drive.google.com", 443)]
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert sources._download_endpoints(builder) == [("proxy.example", 3128)]
    monkeypatch.setenv("no_proxy", "drive.google.com")
    assert sources._download_endpoints(builder) == [("drive.google.com", 443)]


def test_offline_prepare_without_source_files_says_apt_get(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.prepare_offline_fashion_mnist(tmp_path / "tfds", source_dir=tmp_path / "nothing_here")


# ----------------------------------------------------------------------------- dataset_info


@pytest.mark.parametrize(
    "name,shape,num_classes",
    [
        ("embedded_fashion_mnist", (28, 28, 1), 10),
        ("mnist", (28, 28, 1), 10),
        ("fashion_mnist", (28, 28, 1), 10),
        ("cifar10", (32, 32, 3), 10),
        ("celeb_a", (64, 64, 3), None),
    ],
)
def test_dataset_info(name, shape, num_classes):
    info = data.dataset_info(name)
    assert info.image_shape == shape and info.num_classes == num_classes
    assert len(info.class_names) == (num_classes or 0)
    assert data.dataset_info(name, image_size=48).image_shape == (48, 48, shape[-1])
    assert name in data.KNOWN_DATASETS


# ----------------------------------------------------------------------------- TFDS paths (mocked)


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_labelled_datasets_under_mock(tmp_path, name, shape):
    with tfds.testing.mock_data(num_examples=20):
        ds = data.load_images(name, batch_size=8, data_dir=tmp_path, with_labels=True, seed=0)
        assert ds.element_spec == (tf.TensorSpec((8, *shape), tf.float32), tf.TensorSpec((8,), tf.int32))
        batches = list(ds)
    assert len(batches) == 20 // 8
    images = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    assert -1.0 <= images.min() < -0.9 and 0.9 < images.max() <= 1.0  # mock pixels span ~[0, 255]
    assert labels.min() >= 0 and labels.max() < 10
    assert data.dataset_info(name).image_shape == shape


def test_tfds_resize_matches_tf_image_resize(tmp_path):
    with tfds.testing.mock_data(num_examples=6):
        full = first_batch(data.load_images("cifar10", batch_size=6, data_dir=tmp_path, shuffle=False))
        small = first_batch(data.load_images("cifar10", batch_size=6, data_dir=tmp_path, shuffle=False, image_size=16))
    assert small.shape == (6, 16, 16, 3)
    pixels = np.round((full.numpy() + 1) * 127.5)
    expected = np.clip(np.round(tf.image.resize(pixels, (16, 16), antialias=True).numpy()), 0, 255) / 127.5 - 1
    np.testing.assert_allclose(small.numpy(), expected, atol=1e-6)


def _celeb_a_with_border(self, split, decoders=None, read_config=None, shuffle_files=False):
    """Fake CelebA: the central 178x178 of each 218x178 image is 0, the 20-row bands above/below 255."""
    del self, split, decoders, read_config, shuffle_files
    image = np.full((218, 178, 3), 255, np.uint8)
    image[20:198] = 0
    return tf.data.Dataset.from_tensors({"image": image}).repeat(4)


@pytest.mark.parametrize("image_size,shape", [(None, (64, 64, 3)), ((32, 48), (32, 48, 3)), (178, (178, 178, 3))])
def test_celeb_a_center_crop_then_resize(tmp_path, image_size, shape):
    with tfds.testing.mock_data(as_dataset_fn=_celeb_a_with_border):
        ds = data.load_images("celeb_a", batch_size=2, data_dir=tmp_path, image_size=image_size)
        images = first_batch(ds).numpy()
    assert images.shape == (2, *shape)
    # Only the central square survives the crop: any bright border pixel would show up here.
    np.testing.assert_array_equal(images, -1.0)


def test_celeb_a_random_mock_range(tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        images = first_batch(data.load_images("celeb_a", batch_size=4, data_dir=tmp_path)).numpy()
    assert images.shape == (4, 64, 64, 3)
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.std() > 0.05


# ----------------------------------------------------------------------------- offline Fashion-MNIST


@needs_debian_fashion_mnist
def test_restored_gzip_headers_match_tfds_checksums():
    expected = {u.filename: u.checksum for u in tfds.builder("fashion_mnist").url_infos.values()}
    for name in offline.FASHION_MNIST_FILES:
        with open(os.path.join(FASHION_DIR, name), "rb") as f:
            restored = offline.restore_upstream_gzip(f.read(), name)
        assert hashlib.sha256(restored).hexdigest() == expected[name], name
        # Idempotent on an already-upstream file.
        assert offline.restore_upstream_gzip(restored, name) == restored


# In the default suite (~15 s): CI installs the Debian package so this path is proven.
@needs_debian_fashion_mnist
def test_offline_fashion_mnist_prepares_and_matches_raw_files(tmp_path):
    # load_images prepares it on first use (no network); ~10-25 s.
    ds = data.load_images(
        "fashion_mnist", "test", batch_size=1000, data_dir=tmp_path, with_labels=True, shuffle=False, download=False
    )
    assert (tmp_path / "fashion_mnist" / "3.0.1" / "dataset_info.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fashion_mnist_downloads")]
    images, labels = [], []
    for x, y in ds:
        images.append(data.to_uint8(x.numpy())[..., 0])
        labels.append(y.numpy())
    images, labels = np.concatenate(images), np.concatenate(labels)
    # TFDS stores examples in hashed-key order, so compare as multisets of (label, pixels).
    raw_images, raw_labels = raw_fashion_mnist("t10k")
    assert images.shape == raw_images.shape == (10000, 28, 28)
    got = sorted(bytes([int(y)]) + x.tobytes() for x, y in zip(images, labels))
    want = sorted(bytes([int(y)]) + x.tobytes() for x, y in zip(raw_images, raw_labels))
    assert got == want

    train = data.load_images("fashion_mnist", batch_size=50, data_dir=tmp_path, with_labels=True, seed=0)
    x, y = first_batch(train)
    raw_train, raw_train_labels = raw_fashion_mnist("train")
    lookup = {img.tobytes(): lab for img, lab in zip(raw_train, raw_train_labels)}
    for img, lab in zip(data.to_uint8(x.numpy())[..., 0], y.numpy()):
        assert lookup[img.tobytes()] == lab

    start = time.perf_counter()
    prepared = data.prepare_offline_fashion_mnist(tmp_path)  # Idempotent: already prepared.
    assert time.perf_counter() - start < 5
    assert prepared == os.fspath(tmp_path / "fashion_mnist" / "3.0.1")


# ----------------------------------------------------------------------------- validation & converters


def test_converters_round_trip_every_pixel_value():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    model = data.to_model_range(pixels)
    assert model.dtype == np.float32 and model.min() == -1.0 and model.max() == 1.0
    np.testing.assert_array_equal(data.to_uint8(model), pixels)
    tf_model = data.to_model_range(tf.constant(pixels))
    assert isinstance(tf_model, tf.Tensor) and tf_model.dtype == tf.float32
    np.testing.assert_array_equal(data.to_uint8(tf_model).numpy(), pixels)


def test_to_uint8_clips_and_rounds():
    x = np.array([-3.0, -1.0, 0.0, 0.999, 1.0, 7.0], np.float32)
    np.testing.assert_array_equal(data.to_uint8(x), [0, 0, 128, 255, 255, 255])  # 127.5 rounds to even
    np.testing.assert_array_equal(data.to_uint8(tf.constant(x)).numpy(), [0, 0, 128, 255, 255, 255])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_check_image_batch_accepts_valid(as_tensor):
    images = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
    images[0, 0, 0, 0] = 1.0005  # within tolerance
    batch = tf.constant(images) if as_tensor else images
    data.check_image_batch(batch, expected_shape=(8, 8, 3))
    data.check_image_batch(batch, expected_shape=(None, 8, 8, 3))
    data.check_image_batch(batch)


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize(
    "images,expected_shape,match",
    [
        (np.zeros((4, 28, 28), np.float32), None, r"rank 3.*images\[\.\.\., None\]"),
        (np.zeros((28, 28), np.float32), None, r"rank 2"),
        (np.zeros((4, 28, 28, 3), np.float32), (28, 28, 1), r"3 channel\(s\) but 1.*rgb_to_grayscale"),
        (np.zeros((4, 32, 32, 1), np.float32), (28, 28, 1), r"32x32.*28x28.*image_size=\(28, 28\)"),
        (np.zeros((4, 28, 28, 1), np.uint8), (28, 28, 1), r"dtype uint8.*x / 127.5 - 1.*to_model_range"),
        (np.full((4, 28, 28, 1), 200.0, np.float32), None, r"\[200, 200\].*x / 127.5 - 1"),
        (np.full((4, 28, 28, 1), -1.01, np.float32), None, r"\[-1.01, -1.01\]"),
        (np.full((4, 28, 28, 1), np.nan, np.float32), None, r"NaN"),
    ],
)
def test_check_image_batch_errors(images, expected_shape, match, as_tensor):
    batch = tf.constant(images) if as_tensor else images
    with pytest.raises(ValueError, match=match):
        data.check_image_batch(batch, expected_shape=expected_shape)


def test_check_image_batch_symbolic_checks_static_shape_only():
    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32)])
    def traced(x):
        data.check_image_batch(x, expected_shape=(8, 8, 1))  # values unknown: no range check
        return x

    traced(tf.fill([2, 8, 8, 1], 5.0))

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8], tf.float32)])
    def traced_rank3(x):
        data.check_image_batch(x)
        return x

    with pytest.raises(ValueError, match="rank 3"):
        traced_rank3.get_concrete_function()


def test_two_processes_preparing_one_data_dir_take_turns(tmp_path, monkeypatch):
    """The second caller waits for the first's lock, then finds the data prepared (no second build)."""
    import threading

    marker = tmp_path / "prepared"
    builds = []

    class FakeBuilder:
        data_dir = str(tmp_path / "fashion_mnist" / "3.0.1")

        def is_prepared(self):
            return marker.exists()

    def slow_build(builder, root, source_dir):
        builds.append(threading.get_ident())
        time.sleep(0.5)  # Long enough for the other caller to reach the lock.
        marker.write_text("done")
        return builder.data_dir

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir: FakeBuilder())
    monkeypatch.setattr(offline, "_prepare_locked", slow_build)
    results = []
    callers = [threading.Thread(target=lambda: results.append(offline.prepare_offline_fashion_mnist(tmp_path))) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=30)
    assert len(builds) == 1 and results == [FakeBuilder.data_dir] * 2
