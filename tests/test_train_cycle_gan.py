"""End-to-end tests of train/cycle_gan.py, run as real subprocesses."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
from absl import flags
from PIL import Image

from kgan import configs
from train import flags as config_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "train", "cycle_gan.py")


def run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, BINARY, f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'saved_models'}", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_presets_are_valid_and_flags_mirror_the_config():
    for name, preset in configs.CYCLE_GAN_PRESETS.items():
        assert preset.problems() == [], name
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS, flag_values)
    flag_values(["cycle_gan.py", "--preset=smoke", "--cycle_loss_weight=5", "--pool_size=0"])
    config = config_flags.config_from_flags(configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS, flag_values)
    assert config == dataclasses.replace(configs.CYCLE_GAN_PRESETS["smoke"], cycle_loss_weight=5.0, pool_size=0)
    # The paper's defaults.
    default = configs.CycleGANConfig()
    assert (default.loss, default.cycle_loss_weight, default.identity_loss_weight, default.pool_size) == ("least_squares", 10.0, 0.5, 50)
    assert (default.generator_learning_rate, default.beta_1, default.learning_rate_decay_start, default.batch_size) == (2e-4, 0.5, 0.5, 1)


def test_bad_flags_are_reported_together():
    config = dataclasses.replace(
        configs.CycleGANConfig(), dataset="no_such_pair", loss="wasserstein", image_size=30, pool_size=-1, cycle_loss_weight=-1.0
    )
    problems = "\n".join(config.problems())
    for expected in ("--dataset", "--loss", "--image_size", "--pool_size", "--cycle_loss_weight"):
        assert expected in problems


def test_smoke_run_trains_pictures_evaluates_and_exports(tmp_path):
    result = run(tmp_path, "--preset=smoke")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "optimizer steps  generator 6, discriminator 6" in result.stdout
    # The progress picture: 6 rows (x, G(x), F(G(x)), y, F(y), G(F(y))) of 4 test images.
    picture = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert picture.shape[:2] == (6 * 28 + 7 * 2, 4 * 28 + 5 * 2)
    assert "translation error on the test split" in result.stdout and "x_to_y" in result.stdout
    assert "class kept" in result.stdout and "edge F1" in result.stdout
    evaluation = json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]
    assert {"edges_to_images/class_kept", "edges_to_images/fid", "images_to_edges/edge_f1"} <= set(evaluation)
    assert (tmp_path / "saved_models" / "cycle_gan_smoke" / "1" / "saved_model.pb").is_file()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["pool_size"] == 4


def test_unknown_dataset_fails_before_training(tmp_path):
    result = run(tmp_path, "--preset=smoke", "--dataset=cycle_gan/not_a_config_at_all")
    assert result.returncode != 0
    assert "kgan: cannot start training" in result.stderr or "not_a_config_at_all" in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_folder_with_a_gray_first_image_and_rgb_test_images_trains_and_draws(tmp_path):
    # The X domain's channels came from trainA's first image (gray) for training and from testA's (RGB)
    # for the epoch-end grid: one epoch trained, then every run crashed drawing it.
    for domain, modes in {"trainA": "LRR", "testA": "RRRR", "trainB": "RRR", "testB": "RRRR"}.items():
        (tmp_path / "pair" / domain).mkdir(parents=True)
        for i, mode in enumerate(modes):
            pixels = np.random.default_rng(i).integers(0, 256, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").convert("L" if mode == "L" else "RGB").save(tmp_path / "pair" / domain / f"{i}.png")
    result = run(
        tmp_path, "--preset=smoke", f"--dataset={tmp_path / 'pair'}", "--image_size=8", "--epochs=1", "--steps_per_epoch=1",
        "--noexport", "--notensorboard",
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "run" / "samples" / "final.png").is_file()
