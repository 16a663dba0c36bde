"""`kgan.data.paired`: pairs stay together through loading, jitter and direction; folders in both
layouts load the right pairs; unpaired folders are refused naming the files; the TFDS pix2pix
builder on a mock archive made here (no download)."""

import io
import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from kgan.data import image_folder, paired, unpaired


def _pixels(seed, size=(6, 6)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def _save(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def _side_by_side(a, b):
    return np.concatenate([a, b], axis=1)


def _marked(value, size=8):
    """A uniform RGB image of ``value``: which pair it came from survives resizing and flips."""
    return np.full((size, size, 3), value, np.uint8)


def _uint8(images):
    return np.round((np.asarray(images) + 1) * 127.5).astype(int)


# ---------------------------------------------------------------------- footwear pairs


def test_footwear_pairs_stay_paired_through_shuffle_and_flip_and_direction_swaps_them():
    edges, shoes = unpaired.footwear_edge_pairs("train")
    table = {shoe.tobytes(): edge for edge, shoe in zip(edges, shoes)}
    inputs, targets = next(iter(paired.load_paired_images("footwear_edges", "train", 64, seed=3)))
    flipped = 0
    for x, y in zip(_uint8(inputs), _uint8(targets)):
        y = y.astype(np.uint8)
        if y.tobytes() in table:
            np.testing.assert_array_equal(x, table[y.tobytes()])
        else:  # Flipped: both halves alike, so the unflipped target's edges are the input, unflipped.
            flipped += 1
            np.testing.assert_array_equal(x[:, ::-1], table[y[:, ::-1].tobytes()])
    assert 10 < flipped < 54  # About half of 64.
    swapped = next(iter(paired.load_paired_images("footwear_edges", "test", 4, shuffle=False, direction="BtoA")))
    test_edges, test_shoes = unpaired.footwear_edge_pairs("test")
    np.testing.assert_array_equal(_uint8(swapped[0]), test_shoes[:4])
    np.testing.assert_array_equal(_uint8(swapped[1]), test_edges[:4])
    info = paired.paired_info("footwear_edges", image_size=32)
    assert (info.input_shape, info.sizes) == ((32, 32, 1), {"train": 1800, "test": 300})


def test_the_paper_jitter_at_256_px_crops_and_flips_both_images_alike(tmp_path):
    # A gradient A and its negative B: after the joint resize, crop and flip, B is still 255 - A.
    ramp = np.tile(np.linspace(0, 255, 300).astype(np.uint8)[None, :, None], (300, 1, 3))
    _save(tmp_path / "pairs" / "train" / "0.png", _side_by_side(ramp, 255 - ramp))
    for seed in range(3):
        a, b = next(iter(paired.load_paired_images(f"folder:{tmp_path / 'pairs'}", "train", 1, seed=seed)))
        assert a.shape == (1, 256, 256, 3)
        np.testing.assert_allclose(_uint8(b), 255 - _uint8(a), atol=2)


# ---------------------------------------------------------------------- folders


def test_side_by_side_folder_loads_each_file_as_its_pair(tmp_path):
    root = tmp_path / "pairs"
    for split, values in (("train", (10, 20, 30)), ("val", (40, 50))):
        for v in values:
            _save(root / split / f"{v}.png", _side_by_side(_marked(v), _marked(v + 100)))
    info = paired.paired_info(str(root), image_size=4)
    assert (info.input_shape, info.target_shape, info.sizes) == ((4, 4, 3), (4, 4, 3), {"train": 3, "test": 2})
    inputs, targets = paired.paired_arrays(f"folder:{root}", "train", image_size=4)
    np.testing.assert_array_equal(_uint8(targets), _uint8(inputs) + 100)  # Every B is its own A + 100.
    assert sorted(_uint8(inputs)[:, 0, 0, 0]) == [10, 20, 30]
    test_a, test_b = paired.paired_arrays(f"folder:{root}", "test", image_size=4, direction="BtoA")  # val/ is the test split.
    np.testing.assert_array_equal(_uint8(test_a), _uint8(test_b) + 100)


def test_a_b_folders_pair_files_by_name_and_skip_a_bad_file_with_its_partner(tmp_path):
    root = tmp_path / "pairs"
    for name, v in (("x.png", 10), ("sub/y.png", 20), ("z.png", 30)):
        _save(root / "A" / "train" / name, _marked(v))
        _save(root / "B" / "train" / name, _marked(v + 100, size=6))  # Other sizes and order on disk: paired by name.
    (root / "A" / "train" / "z.png").write_bytes(b"not an image")
    with pytest.raises(image_folder.BadImageData, match="z.png"):
        paired.scan_pairs(str(root))
    folder = paired.scan_pairs(str(root), on_bad_image="skip")
    assert folder.layout == "two_folders" and folder.sizes() == {"train": 2}
    assert {os.path.basename(p) for p, _ in folder.skipped} == {"z.png"} and len(folder.skipped) == 2  # And its partner.
    inputs, targets = paired.paired_arrays(str(root), "train", image_size=4, on_bad_image="skip")
    np.testing.assert_array_equal(_uint8(targets), _uint8(inputs) + 100)


def test_unpaired_folders_are_refused_with_the_files_at_fault(tmp_path):
    two = tmp_path / "two"
    _save(two / "A" / "train" / "shared.png", _pixels(0))
    _save(two / "B" / "train" / "shared.png", _pixels(1))
    _save(two / "A" / "train" / "lonely_a.png", _pixels(2))
    _save(two / "B" / "train" / "lonely_b.png", _pixels(3))
    with pytest.raises(ValueError, match=r"do not pair up by file name.*lonely_a\.png.*lonely_b\.png"):
        paired.load_paired_images(str(two))
    odd = tmp_path / "odd"
    _save(odd / "train" / "fine.png", _pixels(0, (6, 12)))
    _save(odd / "train" / "narrow.png", _pixels(1, (6, 11)))
    with pytest.raises(ValueError, match=r"odd width.*narrow\.png \(11 pixels wide\)"):
        paired.paired_info(f"folder:{odd}")
    cycle = tmp_path / "cycle"
    for domain in ("trainA", "trainB"):
        _save(cycle / domain / "0.png", _pixels(0))
    with pytest.raises(ValueError, match=r"trainA/, trainB/: CycleGAN's unpaired layout"):
        paired.load_paired_images(f"folder:{cycle}")


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="no_such_pairs"), "Unknown paired dataset"), (dict(name="pix2pix/cityscapes"), "facades"),
    (dict(direction="AtoC"), "direction"), (dict(image_size=27), "even"), (dict(split="val"), "split"),
    (dict(channels=3), "folder datasets only"),
])
def test_bad_arguments_are_refused_with_a_message(kwargs, message):
    kwargs = {"name": "footwear_edges", **kwargs}
    with pytest.raises(ValueError, match=message):
        paired.load_paired_images(**kwargs)


# ---------------------------------------------------------------------- TFDS


def _mock_archive(manual_dir, config, splits):
    """``<config>.tar.gz`` laid out as the pix2pix authors' archives: ``<config>/<split>/<i>.jpg``, A|B side by side."""
    with tarfile.open(manual_dir / f"{config}.tar.gz", "w:gz") as archive:
        for split, values in splits.items():
            for v in values:
                data = io.BytesIO()
                Image.fromarray(_side_by_side(_marked(v, 16), _marked(v + 100, 16))).save(data, "JPEG", quality=95)
                member = tarfile.TarInfo(f"{config}/{split}/{v}.jpg")
                member.size = len(data.getvalue())
                archive.addfile(member, io.BytesIO(data.getvalue()))


def test_tfds_builder_prepares_the_authors_archive_from_manual_dir(tmp_path):
    manual_dir = tmp_path / "manual"
    manual_dir.mkdir()
    _mock_archive(manual_dir, "facades", {"train": (10, 20, 30), "val": (40,), "test": (50, 60)})
    data_dir = tmp_path / "tfds"
    info = paired.paired_info("pix2pix/facades", data_dir=data_dir, manual_dir=manual_dir, image_size=8)
    assert info.sizes == {"train": 3, "test": 2} and info.input_shape == (8, 8, 3)
    inputs, targets = paired.paired_arrays("pix2pix/facades", "test", data_dir=data_dir, image_size=8, direction="BtoA")
    assert sorted(_uint8(targets)[:, 0, 0, 0]) == pytest.approx([50, 60], abs=3)  # JPEG: within a few levels.
    np.testing.assert_allclose(_uint8(inputs), _uint8(targets) + 100, atol=4)
    x, y = next(iter(paired.load_paired_images("pix2pix/facades", "train", 2, data_dir=data_dir, image_size=8, seed=0)))
    np.testing.assert_allclose(_uint8(y), _uint8(x) + 100, atol=4)


def test_tfds_builder_without_the_archive_says_where_to_put_it(tmp_path):
    from kgan.data import DatasetNotPreparedError

    (tmp_path / "manual").mkdir()
    with pytest.raises(DatasetNotPreparedError, match=r"edges2shoes\.tar\.gz"):
        paired.paired_info("pix2pix/edges2shoes", data_dir=tmp_path / "tfds", manual_dir=tmp_path / "manual")
