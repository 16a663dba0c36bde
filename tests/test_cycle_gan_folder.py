"""CycleGAN folder datasets: folder:PATH or PATH, every file checked before training (kgan.data.unpaired.scan_domains)."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kgan import configs
from kgan.data import unpaired

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "train", "cycle_gan.py")


def write_domain(directory, count, mode="RGB", size=16, start=0):
    """``count`` PNGs whose pixels all equal 10 * (start + i) + 5 (so a batch tells which files it holds)."""
    os.makedirs(directory, exist_ok=True)
    for i in range(start, start + count):
        pixels = np.full((size, size), 10 * i + 5, np.uint8)
        Image.fromarray(pixels if mode == "L" else np.stack([pixels] * 3, -1), mode).save(os.path.join(directory, f"{i}.png"))


def truncated_copy(source, target):
    data = open(source, "rb").read()
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])


@pytest.fixture
def pair(tmp_path):
    """trainA/ (5 RGB), trainB/ (5 gray) with a truncated PNG in trainA/ and a text file named .jpg in trainB/."""
    root = tmp_path / "pair"
    write_domain(root / "trainA", 5)
    write_domain(root / "trainB", 5, "L", start=10)
    truncated_copy(root / "trainA" / "0.png", root / "trainA" / "cut.png")
    (root / "trainB" / "notes.jpg").write_text("not an image")
    return root


def values_of(name, split, batch_size, **options):
    """Every image of one pass over each domain, as the set of their constant pixel values."""
    ds = unpaired.load_unpaired(name, split, batch_size, shuffle=False, **options)
    seen_x, seen_y = set(), set()
    for x, y in ds:
        seen_x |= {int(round((float(v) + 1) * 127.5)) for v in np.asarray(x).mean(axis=(1, 2, 3))}
        seen_y |= {int(round((float(v) + 1) * 127.5)) for v in np.asarray(y).mean(axis=(1, 2, 3))}
    return seen_x, seen_y


def test_unusable_files_are_skipped_and_counted_or_stop_with_their_names(pair):
    for name in (f"folder:{pair}", str(pair)):  # The prefix and the bare directory are the same dataset.
        info = unpaired.unpaired_info(name, image_size=8, on_bad_image="skip")
        assert info.split_sizes("train") == (5, 5) and info.image_shape_x == (8, 8, 3) and info.image_shape_y == (8, 8, 1)
        assert sorted(os.path.basename(path) for path, _ in info.skipped) == ["cut.png", "notes.jpg"]
        assert dict((os.path.basename(p), r) for p, r in info.skipped)["cut.png"] == "truncated: no PNG end marker"
        # One whole pass reads every sound file and none of the bad ones (it used to fail mid-epoch).
        x, y = values_of(name, "train", 1, image_size=8, on_bad_image="skip")
        assert x == {5, 15, 25, 35, 45} and y == {105, 115, 125, 135, 145}
    with pytest.raises(ValueError) as error:  # The library's default, as it always refused broken files.
        unpaired.unpaired_info(f"folder:{pair}")
    message = str(error.value)
    assert "2 image file(s) of" in message and "cut.png is not a readable image (truncated" in message
    assert "notes.jpg is not a readable image" in message and "--on_bad_image=skip" in message


def test_an_empty_domain_and_missing_folders_get_clear_messages(tmp_path):
    root = tmp_path / "pair"
    write_domain(root / "trainA", 3)
    (root / "trainB").mkdir()
    (root / "trainB" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ValueError, match=r"trainB holds no images that domain Y can use: .*broken\.png"):
        unpaired.unpaired_info(f"folder:{root}", on_bad_image="skip")
    with pytest.raises(FileNotFoundError, match=r"no_such: no such directory"):
        unpaired.unpaired_info(f"folder:{tmp_path / 'no_such'}")
    config = dataclasses.replace(configs.CYCLE_GAN_PRESETS["smoke"], dataset=f"folder:{tmp_path}")
    assert any("has no trainA/ or trainB/" in p for p in config.problems())
    assert any("not from npz:, npy: or tfds:" in p for p in dataclasses.replace(config, dataset="npz:x.npz").problems())
    assert any("--channels applies to folder datasets only" in p
               for p in dataclasses.replace(configs.CYCLE_GAN_PRESETS["smoke"], channels=3).problems())
    write_domain(root / "trainB", 2)
    assert dataclasses.replace(config, dataset=f"folder:{root}", channels=3).problems() == []


def test_channels_follow_the_domains_unless_given(pair):
    assert unpaired.folder_channels(f"folder:{pair}", "skip") == (3, 1)  # Gray only if all gray.
    assert unpaired.folder_channels(f"folder:{pair}", "skip", channels=3) == (3, 3)
    assert unpaired.folder_channels(str(pair), "skip", channels=1) == (1, 1)
    x, y = next(iter(unpaired.load_unpaired(f"folder:{pair}", "train", 2, image_size=8, channels=1, on_bad_image="skip")))
    assert x.shape == (2, 8, 8, 1) and y.shape == (2, 8, 8, 1)
    x, y = next(iter(unpaired.load_unpaired(f"folder:{pair}", "train", 2, image_size=8, channels=3, on_bad_image="skip")))
    assert y.shape == (2, 8, 8, 3) and np.array_equal(y[..., 0], y[..., 2])  # Gray repeated to RGB.
    with pytest.raises(ValueError, match="channels applies to folder datasets only"):
        unpaired.load_unpaired("footwear_edges", channels=3)


def test_crop_keeps_the_central_square_or_squeezes_the_whole_image(tmp_path):
    root = tmp_path / "wide"
    for folder in ("trainA", "trainB"):
        os.makedirs(root / folder)
        wide = np.zeros((8, 24), np.uint8)
        wide[:, 8:16] = 255  # White middle third: all of the central square, a third of the squeezed image.
        Image.fromarray(wide, "L").save(root / folder / "0.png")

    def mean(**options):
        x, _ = next(iter(unpaired.load_unpaired(f"folder:{root}", "train", 1, image_size=8,
                                                shuffle=False, **options)))
        return float((np.asarray(x) + 1).mean() / 2)

    assert mean() == pytest.approx(1.0, abs=0.02)  # crop="center", the default.
    assert mean(crop="none") == pytest.approx(1 / 3, abs=0.05)
    with pytest.raises(ValueError, match="crop must be one of center, none"):
        unpaired.load_unpaired(f"folder:{root}", crop="middle")


def run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, BINARY, "--preset=smoke", f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'exports'}",
         "--image_size=16", "--epochs=1", "--steps_per_epoch=2", "--notensorboard", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_smoke_run_on_a_folder_skips_the_bad_files_evaluates_and_exports(tmp_path, pair):
    write_domain(pair / "testA", 3)
    write_domain(pair / "testB", 3, "L")
    result = run(tmp_path, f"--dataset=folder:{pair}")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}"
    before_training = result.stdout.split("Epoch 1/1")[0]
    assert "skipping 2 unusable image file(s)" in before_training and "cut.png" in before_training
    data = json.loads((tmp_path / "run" / "data.json").read_text())
    assert data["splits"] == {"trainA": 5, "trainB": 5, "testA": 3, "testB": 3} and data["skipped_files"] == 2
    assert data["image_shape"] == [16, 16, 3] and data["image_shape_y"] == [16, 16, 1]
    evaluation = json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]
    assert evaluation["split"] == "test" and evaluation["num_images_x"] == evaluation["num_images_y"] == 3
    for key in ("x_cycle_l1", "y_cycle_l1", "x_between_images", "y_between_images"):
        assert 0.0 < evaluation[key] < 2.0, key
    assert "cycle consistency on 3 test image pairs" in result.stdout
    assert (tmp_path / "exports" / "cycle_gan_smoke" / "1" / "saved_model.pb").is_file()


def test_on_bad_image_stop_refuses_to_start(tmp_path, pair):
    result = run(tmp_path, f"--dataset=folder:{pair}", "--on_bad_image=stop")
    assert result.returncode != 0
    assert "kgan: cannot start training: 2 image file(s) of" in result.stderr and "cut.png" in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
