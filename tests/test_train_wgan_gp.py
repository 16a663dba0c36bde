"""End-to-end tests of train/wgan_gp.py (WGAN-GP and WGAN), run as real subprocesses."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
from absl import flags

from kgan import configs
from train import flags as config_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "train", "wgan_gp.py")


def run(tmp_path, *args):
    result = subprocess.run(
        [sys.executable, BINARY, f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'saved_models'}", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    return result


def test_presets_are_valid_and_flags_mirror_the_config():
    for name, preset in configs.WASSERSTEIN_PRESETS.items():
        assert preset.problems() == [], name
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS, flag_values)
    flag_values(["wgan_gp.py", "--preset=smoke", "--gradient_penalty_weight=5", "--one_sided_penalty"])
    config = config_flags.config_from_flags(configs.WassersteinGANConfig, configs.WASSERSTEIN_PRESETS, flag_values)
    assert config == dataclasses.replace(
        configs.WASSERSTEIN_PRESETS["smoke"], gradient_penalty_weight=5.0, one_sided_penalty=True
    )


def test_bad_wasserstein_flags_are_reported_together():
    config = dataclasses.replace(configs.WassersteinGANConfig(), model="wgan2", loss="hinge", optimizer="sgd")
    problems = "\n".join(config.problems())
    for expected in ("--model", "--loss", "--optimizer"):
        assert expected in problems
    batch_norm_critic = dataclasses.replace(configs.WassersteinGANConfig(), normalization="batch")
    assert any("--normalization=batch" in p for p in batch_norm_critic.problems())
    # WGAN (weight clipping) may use batch norm, as in the paper's DCGAN critic.
    assert dataclasses.replace(batch_norm_critic, model="wgan").problems() == []


@pytest.mark.parametrize("preset, model_class, export_name", [
    ("smoke", "WGANGP", "wgan_gp_smoke"),
    ("wgan_smoke", "WGAN", "wgan_smoke"),
])
def test_binary_trains_checkpoints_and_exports(tmp_path, preset, model_class, export_name):
    result = run(tmp_path, f"--preset={preset}")
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "run" / "samples" / "final.png").is_file()
    assert (tmp_path / "saved_models" / export_name / "1" / "saved_model.pb").is_file()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"] == ("wgan" if model_class == "WGAN" else "wgan_gp")
    # Five critic updates per generator update, as the papers' Algorithm 1.
    assert "optimizer steps  generator 6, discriminator 30" in result.stdout
    assert "wasserstein_estimate" in result.stdout + result.stderr


def test_wgan_gp_refuses_a_batch_norm_critic_before_training(tmp_path):
    result = run(tmp_path, "--preset=smoke", "--normalization=batch")
    assert result.returncode != 0
    assert "normalization=batch" in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
