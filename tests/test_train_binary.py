"""End-to-end tests of train/gan.py, run as a real subprocess (as users run it)."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

from absl import flags

from kgan import configs, saving
from test_case import tiny_image_gan
from train import flags as config_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "train", "gan.py")
# Tiny networks on the embedded Fashion-MNIST subset (shipped, no network).
# The embedded subset's evaluation classifier: the full one would be trained first (2-3 min) on a fresh machine.
TINY_FLAGS = ["--latent_dim=8", "--base_filters=8", "--batch_size=16", "--limit=256", "--num_samples=16",
              "--evaluation_classifier=embedded_fashion_mnist"]


def command(tmp_path, *flags):
    return [
        sys.executable,
        BINARY,
        f"--model_dir={tmp_path / 'run'}",
        f"--export_dir={tmp_path / 'saved_models'}",
        *TINY_FLAGS,
        *flags,
    ]


def run(args, cwd, timeout=180):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}"
    return result


def test_flags_mirror_the_config_and_override_presets():
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(configs.GANConfig, configs.PRESETS, flag_values)
    defaults = configs.GANConfig()
    for field in dataclasses.fields(configs.GANConfig):
        default = flag_values[field.name].default
        assert (tuple(int(v) for v in default) if field.name == "hidden_units" else default) == getattr(defaults, field.name)
    flag_values(["gan.py", "--preset=smoke", "--epochs=7", "--hidden_units=4,5", "--noresume"])
    config = config_flags.config_from_flags(configs.GANConfig, configs.PRESETS, flag_values)
    assert config == dataclasses.replace(configs.PRESETS["smoke"], epochs=7, hidden_units=(4, 5), resume=False)
    for name, preset in configs.PRESETS.items():
        assert preset.problems() == [], name


def test_flagfile_run_writes_samples_and_a_saved_model(tmp_path):
    flagfile = tmp_path / "tiny.flags"
    flagfile.write_text("--epochs=2\n--steps_per_epoch=3\n--export_name=tiny_gan\n--checkpoint_every_n_steps=2\n")
    result = run(command(tmp_path, f"--flagfile={flagfile}"), cwd=tmp_path)

    assert (tmp_path / "run" / "samples" / "final.png").is_file()
    assert sorted(os.listdir(tmp_path / "run" / "samples")) == ["epoch_0001.png", "epoch_0002.png", "final.png"]
    assert (tmp_path / "saved_models" / "tiny_gan" / "1" / "saved_model.pb").is_file()
    assert "train steps      0 -> 6 (of 6)" in result.stdout
    assert "peak RSS" in result.stdout and "steps/s" in result.stdout
    with open(tmp_path / "run" / "config.json") as f:
        assert json.load(f)["export_name"] == "tiny_gan"  # The flagfile's value.

    # Re-running a finished run trains nothing and exports nothing new.
    again = run(command(tmp_path, f"--flagfile={flagfile}"), cwd=tmp_path)
    assert "train steps      6 -> 6 (of 6)" in again.stdout
    assert os.listdir(tmp_path / "saved_models" / "tiny_gan") == ["1"]
    # Starting over on top of old checkpoints is refused, with the way out.
    refused = subprocess.run(
        command(tmp_path, f"--flagfile={flagfile}", "--noresume"), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
    assert "--noresume was given: pass --resume to continue it, or use a new --model_dir" in refused.stderr


def test_bad_flags_fail_before_training_with_a_fix(tmp_path):
    result = subprocess.run(
        command(tmp_path, "--batch_size=0", "--loss=nope"), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "--batch_size must be a positive integer" in result.stderr
    assert "--loss='nope' is unknown; choose one of" in result.stderr
    assert not (tmp_path / "run").exists()


def newest_checkpoint_metadata(directory):
    found = saving.list_checkpoints(directory)
    if not found:
        return None
    try:
        with open(os.path.join(found[-1][1], "metadata.json")) as f:
            return json.load(f)
    except OSError:  # Pruned between listing and reading.
        return None


def test_sigkill_mid_epoch_then_rerun_resumes_exactly(tmp_path):
    epochs, steps_per_epoch = 2, 60
    total = epochs * steps_per_epoch
    args = command(
        tmp_path,
        f"--epochs={epochs}",
        f"--steps_per_epoch={steps_per_epoch}",
        "--checkpoint_every_n_steps=7",
        "--keep_checkpoints=3",
        "--export_name=resumed_gan",
    )
    checkpoint_dir = tmp_path / "run" / "checkpoints"
    process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 150
        while time.time() < deadline and process.poll() is None:
            metadata = newest_checkpoint_metadata(checkpoint_dir)
            # A mid-epoch checkpoint exists, so training is inside an epoch.
            if metadata and metadata["step_in_epoch"] > 0:
                break
            time.sleep(0.02)
        assert process.poll() is None, "training ended before it could be killed; make the run longer"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = newest_checkpoint_metadata(checkpoint_dir)["train_steps"]
    assert 0 < killed_at < total
    assert_every_checkpoint_loads(checkpoint_dir, steps_per_epoch)

    result = run(args, cwd=tmp_path)
    if killed_at % steps_per_epoch:
        assert f"finishing epoch {killed_at // steps_per_epoch + 1}/{epochs}" in result.stdout
    assert f"resumed from {checkpoint_dir / f'ckpt-{killed_at:010d}'} at train step {killed_at} of {total}" in result.stdout
    assert f"train steps      {killed_at} -> {total} (of {total})" in result.stdout
    assert (tmp_path / "saved_models" / "resumed_gan" / "1" / "saved_model.pb").is_file()
    assert not [e for e in os.listdir(checkpoint_dir) if e.startswith(".")]  # No temp dirs left.

    found = saving.list_checkpoints(checkpoint_dir)
    assert found[-1][0] == total
    with open(checkpoint_dir / "latest") as f:
        assert f.read().strip() == os.path.basename(found[-1][1])
    assert_every_checkpoint_loads(checkpoint_dir, steps_per_epoch)


def assert_every_checkpoint_loads(checkpoint_dir, steps_per_epoch):
    """Every checkpoint on disk loads, consistently: one G and one D update per train step."""
    found = saving.list_checkpoints(checkpoint_dir)
    assert found
    for step, path in found:
        model = tiny_image_gan(latent_dim=8, base_filters=8)
        metadata = saving.load_checkpoint(model, path)
        assert int(model.train_steps.numpy()) == step == metadata["train_steps"]
        assert int(model.generator_optimizer.iterations.numpy()) == step
        assert int(model.discriminator_optimizer.iterations.numpy()) == step
        assert divmod(step, steps_per_epoch) == (metadata["epoch"], metadata["step_in_epoch"])


def test_point_dataset_trains_mlps(tmp_path):
    run(
        command(tmp_path, "--dataset=ring8", "--epochs=1", "--steps_per_epoch=3", "--hidden_units=16,16",
                "--notensorboard", "--noexport"),  # fmt: skip
        cwd=tmp_path,
    )
    assert (tmp_path / "run" / "samples" / "final.png").is_file()
    assert not (tmp_path / "saved_models").exists()


def test_time_budget_stops_then_a_rerun_continues(tmp_path):
    # 20 epochs of 8 steps could take a minute; a 3-second budget stops early.
    args = command(tmp_path, "--epochs=20", "--steps_per_epoch=8", "--max_train_minutes=0.05", "--notensorboard")
    first = run(args, cwd=tmp_path)
    assert "time budget of 0.05 min used up at train step" in first.stdout
    newest_checkpoint_step = saving.list_checkpoints(tmp_path / "run" / "checkpoints")[-1][0]
    steps = json.loads((tmp_path / "run" / "export.json").read_text())["train_steps"]
    assert 0 < steps < 160 and newest_checkpoint_step == steps
    assert (tmp_path / "saved_models" / "gan" / "1" / "saved_model.pb").is_file()
    second = run(args, cwd=tmp_path)
    assert "resumed from" in second.stdout
    assert json.loads((tmp_path / "run" / "export.json").read_text())["train_steps"] > steps


def test_quality_flag_logs_kid_to_tensorboard(tmp_path):
    import pytest

    from kgan.metrics import inception

    try:
        inception.locate_weights()
    except FileNotFoundError:
        pytest.skip("FID Inception weights not installed")
    import tensorflow as tf

    run(command(tmp_path, "--epochs=2", "--steps_per_epoch=2", "--quality_every_n_epochs=1", "--quality_features=inception",
                "--quality_num_samples=40", "--noexport"), cwd=tmp_path, timeout=300)
    log_dir = tmp_path / "run" / "logs" / "quality"
    values = []
    for event_file in log_dir.iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            values += [(event.step, v.tag) for v in event.summary.value]
    assert sorted(values) == [(1, "quality/kid"), (1, "quality/kid_std"), (2, "quality/kid"), (2, "quality/kid_std")]
    bad = subprocess.run(command(tmp_path, "--quality_every_n_epochs=0"), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--quality_every_n_epochs must be >= 1" in bad.stderr


def test_stabilizer_flags_reach_the_discriminator(tmp_path):
    run(command(tmp_path, "--epochs=1", "--steps_per_epoch=2", "--minibatch=stddev", "--spectral_norm", "--notensorboard",
                "--noexport"), cwd=tmp_path)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["minibatch"] == "stddev" and config["spectral_norm"] is True
    bad = subprocess.run(command(tmp_path, "--minibatch=pac"), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--minibatch='pac' is unknown" in bad.stderr
