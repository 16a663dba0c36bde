"""kgan.data.unpaired: edge maps, the footwear demo's (un)pairing, jitter, TFDS cycle_gan and folder sources."""

import hashlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from kgan.data import unpaired


def digest(image) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


def test_edge_map_of_a_filled_square_is_its_border():
    image = np.zeros((1, 16, 16, 1), np.uint8)
    image[0, 4:12, 4:12] = 200
    edges = unpaired.edge_map(image)[0, :, :, 0]
    assert set(np.unique(edges)) == {0, 255}
    assert edges[8, 8] == 0 and edges[0, 0] == 0  # interior and background
    assert edges[4, 8] == 255 and edges[8, 11] == 255  # on the border
    with pytest.raises(ValueError, match="grayscale"):
        unpaired.edge_map(np.zeros((1, 8, 8, 3), np.uint8))


def test_footwear_pairs_are_paired_and_deterministic():
    edges, images = unpaired.footwear_edge_pairs("test")
    assert edges.shape == images.shape == (300, 28, 28, 1)
    np.testing.assert_array_equal(edges, unpaired.edge_map(images))
    again, _ = unpaired.footwear_edge_pairs("test")
    np.testing.assert_array_equal(edges, again)


def test_training_domains_come_from_disjoint_images():
    edges, images = unpaired.footwear_edge_pairs("train")
    # Training flips images at random: know both orientations of every image.
    edge_owner = {digest(f(e)): i for i, e in enumerate(edges) for f in (np.asarray, lambda a: a[:, ::-1])}
    image_owner = {digest(f(im)): i for i, im in enumerate(images) for f in (np.asarray, lambda a: a[:, ::-1])}
    ds = unpaired.load_unpaired("footwear_edges", "train", 100, seed=0)
    seen_x, seen_y = set(), set()
    for x, y in ds:
        assert x.shape == y.shape == (100, 28, 28, 1) and x.dtype == tf.float32
        assert float(tf.reduce_min(x)) >= -1 and float(tf.reduce_max(y)) <= 1
        to_uint8 = lambda batch: np.rint((batch.numpy() + 1) * 127.5).astype(np.uint8)  # noqa: E731
        seen_x |= {edge_owner[digest(e)] for e in to_uint8(x) if digest(e) in edge_owner}
        seen_y |= {image_owner[digest(im)] for im in to_uint8(y)}
    assert len(seen_y) == 900 and len(seen_x) >= 850  # a few edge maps coincide
    assert not seen_x & seen_y  # no image contributes to both domains


def test_paired_evaluation_keeps_the_pairing():
    x, y = unpaired.paired_arrays("footwear_edges", "test")
    edges, images = unpaired.footwear_edge_pairs("test")
    np.testing.assert_array_equal(np.rint((x + 1) * 127.5), edges)
    np.testing.assert_array_equal(np.rint((y + 1) * 127.5), images)
    batch_x, batch_y = next(iter(unpaired.load_paired("footwear_edges", "test", 7)))
    np.testing.assert_array_equal(batch_x, x[:7])
    with pytest.raises(ValueError, match="true pairs"):
        unpaired.paired_arrays("cycle_gan/horse2zebra")


def test_random_jitter_crops_to_size_and_sometimes_flips():
    image = tf.constant(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64, 1) % 251)
    out = [unpaired.random_jitter(image, 64, seed=[s, 0]).numpy() for s in range(8)]
    assert all(o.shape == (64, 64, 1) and o.dtype == np.uint8 for o in out)
    assert len({digest(o) for o in out}) > 1


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="Unknown unpaired dataset"):
        unpaired.load_unpaired("horse2zebra")
    with pytest.raises(ValueError, match="batch_size"):
        unpaired.load_unpaired("footwear_edges", batch_size=0)
    with pytest.raises(ValueError, match="multiple of 4"):
        unpaired.load_unpaired("footwear_edges", image_size=30)
    with pytest.raises(ValueError, match="split"):
        unpaired.load_unpaired("cycle_gan/horse2zebra", split="validation")


def write_images(directory, count, size, mode):
    directory.mkdir(parents=True)
    for i in range(count):
        pixels = np.full((size, size, 3 if mode == "RGB" else 1), i * 20, np.uint8)
        Image.fromarray(pixels if mode == "RGB" else pixels[:, :, 0], mode).save(directory / f"{i}.png")


def test_folder_dataset_reads_both_domains(tmp_path):
    write_images(tmp_path / "trainA", 3, 40, "RGB")
    write_images(tmp_path / "trainB", 5, 48, "L")
    info = unpaired.unpaired_info(str(tmp_path), image_size=32)
    assert info.image_shape_x == (32, 32, 3) and info.image_shape_y == (32, 32, 1)
    assert info.split_sizes("train") == (3, 5)
    x, y = next(iter(unpaired.load_unpaired(str(tmp_path), "train", 2, image_size=32, seed=0)))
    assert x.shape == (2, 32, 32, 3) and y.shape == (2, 32, 32, 1)
    with pytest.raises(FileNotFoundError, match="testA"):
        next(iter(unpaired.load_unpaired(str(tmp_path), "test", 2, image_size=32)))
    (tmp_path / "empty" / "trainA").mkdir(parents=True)
    (tmp_path / "empty" / "trainB").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        unpaired.load_unpaired(str(tmp_path / "empty"), "train", 1)


def write_mixed_images(directory, modes, size=12):
    """One PNG per character of ``modes``: "L" gray, "R" RGB, "A" RGBA; then a GIF for "G", a BMP for "B"."""
    directory.mkdir(parents=True)
    for i, mode in enumerate(modes):
        pixels = np.random.default_rng(i).integers(0, 256, (size, size, 3), dtype=np.uint8)
        image = Image.fromarray(pixels, "RGB").convert({"L": "L", "R": "RGB", "A": "RGBA", "G": "L", "B": "L"}[mode])
        image.save(directory / f"{i}.{ {'G': 'gif', 'B': 'bmp'}.get(mode, 'png') }")


def test_folder_channels_are_decided_once_per_domain_across_splits(tmp_path):
    # A gray first image in trainA and RGB images in testA: the channel count came from each folder's
    # first image, so X was 1-channel for training and 3-channel for the epoch-end grid, which crashed.
    write_mixed_images(tmp_path / "trainA", "LLR")
    write_mixed_images(tmp_path / "testA", "RR")
    write_mixed_images(tmp_path / "trainB", "LL")
    write_mixed_images(tmp_path / "testB", "LL")
    info = unpaired.unpaired_info(str(tmp_path), image_size=8)
    assert info.image_shape_x == (8, 8, 3) and info.image_shape_y == (8, 8, 1)
    for split in ("train", "test"):
        x, y = next(iter(unpaired.load_unpaired(str(tmp_path), split, 2, image_size=8, shuffle=False)))
        assert x.shape == (2, 8, 8, 3) and y.shape == (2, 8, 8, 1), split
    # A gray image in an RGB domain is the same gray in every channel.
    x, _ = next(iter(unpaired.load_unpaired(str(tmp_path), "train", 1, image_size=12, shuffle=False)))
    assert np.array_equal(x[0, ..., 0], x[0, ..., 1]) and np.array_equal(x[0, ..., 0], x[0, ..., 2])


def test_folder_channels_drop_alpha_and_never_ask_gif_or_bmp_for_one_channel(tmp_path):
    # TF decodes GIF and BMP only to 3 (or 4) channels: a gray GIF/BMP in a gray domain makes it RGB
    # instead of failing mid-epoch; alpha is dropped (the reference implementation's convert("RGB")).
    write_mixed_images(tmp_path / "trainA", "LAL")
    write_mixed_images(tmp_path / "trainB", "LGB")
    info = unpaired.unpaired_info(str(tmp_path), image_size=8)
    assert info.image_shape_x == (8, 8, 3) and info.image_shape_y == (8, 8, 3)
    x, y = next(iter(unpaired.load_unpaired(str(tmp_path), "train", 3, image_size=8, shuffle=False)))
    assert x.shape == y.shape == (3, 8, 8, 3)
    (tmp_path / "trainB" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"broken\.png is not a readable image"):
        unpaired.unpaired_info(str(tmp_path))


def test_tfds_cycle_gan_is_read_with_the_paper_jitter(tmp_path):
    # mock_data fakes the records from the builder's feature spec (256x256x3 images).
    with tfds.testing.mock_data(num_examples=4, data_dir=str(tmp_path)):
        x, y = next(iter(unpaired.load_unpaired("cycle_gan/horse2zebra", "train", 2, seed=0)))
        assert x.shape == y.shape == (2, 256, 256, 3)
        small_x, _ = next(iter(unpaired.load_unpaired("cycle_gan/horse2zebra", "test", 2, image_size=64, shuffle=False)))
        assert small_x.shape == (2, 64, 64, 3)
        assert float(tf.reduce_min(x)) >= -1 and float(tf.reduce_max(x)) <= 1


def test_training_flips_are_the_same_in_every_run_of_one_seed():
    # A stateful random flip inside the parallel map gave two runs of one seed different flips (the
    # CycleGAN learning test passed or failed by run); stateless per-element seeds do not.
    def first_batches(seed):
        data = unpaired.load_unpaired("footwear_edges", "train", 64, repeat=True, seed=seed)
        return [np.concatenate([x.numpy(), y.numpy()]) for x, y in data.take(3)]

    runs = [first_batches(0) for _ in range(3)]
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def test_seeded_map_flips_some_elements_and_repeats_its_draws():
    from kgan.data.preprocessing import seeded_map

    image = np.zeros((4, 4, 1), np.uint8)
    image[:, 0] = 255  # Left column lit: a flip moves it to the right.
    ds = tf.data.Dataset.from_tensors(image).repeat(400)
    flip = lambda x, seed: tf.image.stateless_random_flip_left_right(x, seed)  # noqa: E731
    draws = [np.array([e[0, -1, 0] == 255 for e in seeded_map(ds, flip, 7).as_numpy_iterator()]) for _ in range(2)]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert 0.4 < draws[0].mean() < 0.6  # A fair coin per element (seed 7: 0.485).
    other = np.array([e[0, -1, 0] == 255 for e in seeded_map(ds, flip, 8).as_numpy_iterator()])
    assert not np.array_equal(other, draws[0])
