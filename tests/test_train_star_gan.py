"""End-to-end tests of train/star_gan.py, run as real subprocesses."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from absl import flags
from PIL import Image

from kgan import configs
from train import flags as config_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "train", "star_gan.py")


def run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, BINARY, f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'saved_models'}", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_presets_are_valid_and_flags_mirror_the_config():
    for name, preset in configs.STAR_GAN_PRESETS.items():
        assert preset.problems() == [], name
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(configs.StarGANConfig, configs.STAR_GAN_PRESETS, flag_values)
    flag_values(["star_gan.py", "--preset=celeb_a", "--attributes=Male,Young", "--reconstruction_weight=5"])
    config = config_flags.config_from_flags(configs.StarGANConfig, configs.STAR_GAN_PRESETS, flag_values)
    assert config == dataclasses.replace(configs.STAR_GAN_PRESETS["celeb_a"], attributes=("Male", "Young"), reconstruction_weight=5.0)
    # The paper's defaults.
    default = configs.StarGANConfig()
    assert default.attributes == ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
    assert (default.classification_weight, default.reconstruction_weight, default.gradient_penalty_weight) == (1.0, 10.0, 10.0)
    assert (default.discriminator_steps, default.generator_learning_rate, default.beta_1, default.beta_2) == (5, 1e-4, 0.5, 0.999)


def test_bad_flags_are_reported_together():
    config = dataclasses.replace(configs.StarGANConfig(), dataset="celeba", label_kind="multi", reconstruction_weight=-1.0,
                                 generator_head="colour")
    problems = "\n".join(config.problems())
    for expected in ("--dataset", "--label_kind", "--reconstruction_weight", "--generator_head"):
        assert expected in problems


def test_smoke_run_trains_pictures_evaluates_and_exports(tmp_path):
    result = run(tmp_path, "--preset=smoke")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "optimizer steps  generator 6, discriminator 12" in result.stdout
    # Inputs, then each of the 4 test images' attributes applied to all 4: 5 rows of 4.
    picture = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert picture.shape == (5 * 28 + 6 * 2, 4 * 28 + 5 * 2, 3)
    assert "content class kept" in result.stdout and "L1 to the perfect translation" in result.stdout
    evaluation = json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]
    assert 0 <= evaluation["perfect_l1"] <= 2 and evaluation["perfect_l1_baseline"] > 0
    assert (tmp_path / "saved_models" / "star_gan_smoke" / "1" / "saved_model.pb").is_file()


def config_from_args(*args):
    """The config train/star_gan.py would check for these flags (what main() does, without a process)."""
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(configs.StarGANConfig, configs.STAR_GAN_PRESETS, flag_values)
    flag_values(["star_gan.py", *args])
    return config_flags.config_from_flags(configs.StarGANConfig, configs.STAR_GAN_PRESETS, flag_values)


def test_tinted_datasets_refuse_attributes_they_do_not_have():
    # The tinted demos render red/green/blue/inverted into their images; other names were silently
    # ignored while config.json recorded them.
    for attributes in ("red,purple", "red,green", "inverted,red,green,blue", "Male,Young"):
        config = config_from_args("--preset=smoke", f"--attributes={attributes}")
        with pytest.raises(ValueError, match=r"--attributes.*tinted_fashion_mnist.*--attributes=red,green,blue,inverted"):
            config.check()
    # Without --attributes a tinted dataset records its own attributes, not CelebA's defaults.
    config = config_from_args("--dataset=tinted_fashion_mnist")
    assert config.attributes == ("red", "green", "blue", "inverted") and config.problems() == []
    assert config_from_args("--preset=smoke", "--attributes=red,green,blue,inverted").problems() == []
    # CelebA takes any attributes, once each.
    assert config_from_args("--preset=celeb_a", "--attributes=Male,Young").problems() == []
    with pytest.raises(ValueError, match="--attributes names Male twice"):
        config_from_args("--preset=celeb_a", "--attributes=Male,Young,Male").check()


def test_multi_dataset_smoke_run_trains_on_unified_labels_and_evaluates_each_group(tmp_path):
    result = run(tmp_path, "--preset=multi_dataset_smoke", "--noexport")
    assert result.returncode == 0, result.stderr[-4000:]
    run_dir = tmp_path / "run"
    data = json.loads((run_dir / "data.json").read_text())
    assert data["label_groups"] == [[4, "multi_label"], [3, "single_label"]] and data["attributes"][-2:] == ["known:tint", "known:brightness"]
    evaluation = json.loads((run_dir / "summary.json").read_text())["evaluation"]
    for name in ("tint", "brightness"):
        assert 0 <= evaluation[f"target_accuracy/{name}"] <= 1 and evaluation[f"num_targets/{name}"] > 0
        assert f"{name} targets, from the other dataset" in result.stdout
        # The distance to the ground truth, per target group and for targets from the other dataset.
        for key in (f"perfect_l1/{name}", f"perfect_l1/{name}_cross"):
            assert 0 <= evaluation[key] <= 2 and evaluation[key + "_baseline"] > 0, key
        assert f"{name} targets, L1 to perfect, other dataset" in result.stdout
    assert evaluation["num_images"] == 1000 and 0 <= evaluation["content_accuracy"] <= 1
    assert 0 <= evaluation["perfect_l1"] <= 2 and evaluation["perfect_l1_baseline"] > 0
    assert "content class kept" in result.stdout and "L1 to the perfect translation, all targets" in result.stdout
    # Unified labels need the dataset's own label kinds.
    with pytest.raises(ValueError, match="--label_kind: tinted_shaded_fashion_mnist has a label kind per dataset"):
        config_from_args("--preset=multi_dataset_smoke", "--label_kind=single_label").check()
    with pytest.raises(ValueError, match=r"--attributes=red,green,blue,inverted,dark,medium,bright,known:tint,known:brightness"):
        config_from_args("--preset=multi_dataset_smoke", "--attributes=red,green").check()
