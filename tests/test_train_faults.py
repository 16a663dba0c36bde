"""The training binaries under faults: damaged checkpoints, divergence, unwritable exports (issue: a good model is never lost)."""

import dataclasses
import json
import os
import subprocess

import keras
import numpy as np
import tensorflow as tf

from kgan import configs, registry, saving
from kgan.numerics import non_finite_variables
from tests.test_train_binary import command, run
from train import train_lib


def test_a_truncated_newest_checkpoint_is_repaired_by_the_next_run_and_the_retrained_state_exported(tmp_path):
    args = command(tmp_path, "--epochs=1", "--steps_per_epoch=6", "--checkpoint_every_n_steps=3", "--export_name=healed")
    run(args, cwd=tmp_path)
    newest = tmp_path / "run" / "checkpoints" / "ckpt-0000000006"
    weights = newest / "model.weights.h5"
    with open(weights, "r+b") as f:
        f.truncate(os.path.getsize(weights) // 3)

    result = run(args, cwd=tmp_path)
    assert f"checkpoint {newest} did not load" in result.stdout and "moved to" in result.stdout
    assert "train steps      3 -> 6" in result.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    [repair] = summary["repairs"]
    assert repair["kind"] == "damaged_checkpoint_moved_aside" and repair["checkpoint"] == str(newest)
    model, metadata = saving.load_model_from_checkpoint(newest)  # Written whole again.
    assert metadata["train_steps"] == 6 and int(model.train_steps.numpy()) == 6
    # The retrained step-6 state is new: exported as version 2, not skipped as "already exported".
    assert summary["export_path"] == str(tmp_path / "saved_models" / "healed" / "2")


def test_divergence_stops_the_binary_with_the_step_and_exports_nothing(tmp_path):
    result = subprocess.run(command(tmp_path, "--epochs=1", "--steps_per_epoch=20", "--checkpoint_every_n_steps=2",
                                    "--generator_learning_rate=1e30", "--export_name=diverged"),
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "kgan: training stopped: Training diverged by train step" in result.stderr, result.stderr[-3000:]
    assert "nothing was exported" in result.stderr and "--on_divergence=rollback" in result.stderr
    assert not (tmp_path / "saved_models" / "diverged").exists()
    for _, path in saving.list_checkpoints(tmp_path / "run" / "checkpoints"):
        model, _ = saving.load_model_from_checkpoint(path)
        assert non_finite_variables(model) == []


class _Poison(keras.callbacks.Callback):
    """Makes a discriminator weight infinite once, after train step ``at`` (an update that exploded)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.done = at, False

    def on_train_batch_end(self, batch, logs=None):
        if not self.done and int(self.model.train_steps.numpy()) == self.at:
            self.done = True
            kernel = self.model.discriminator.trainable_variables[0]
            kernel.assign(tf.fill(kernel.shape, np.inf))


def test_rollback_restores_the_last_finite_checkpoint_lowers_the_rates_and_finishes(tmp_path):
    config = dataclasses.replace(
        configs.PRESETS["smoke"], model_dir=str(tmp_path / "run"), export=False, tensorboard=False, epochs=1,
        steps_per_epoch=12, checkpoint_every_n_steps=4, on_divergence="rollback", divergence_learning_rate_factor=0.25,
    ).check()
    run_ = train_lib.setup(config, registry.get("gan"))
    try:
        callbacks, _ = train_lib.make_callbacks(run_)
        train_lib.fit_remaining_epochs(run_, [_Poison(at=6), *callbacks])
    finally:
        run_.lock.release()
    model = run_.model
    assert int(model.train_steps.numpy()) == 12 and non_finite_variables(model) == []
    [rollback] = [r for r in run_.repairs if r["kind"] == "rollback"]
    assert rollback["train_steps"] == 4 and rollback["restored"].endswith("ckpt-0000000004")
    expected = {"generator": config.generator_learning_rate * 0.25, "discriminator": config.discriminator_learning_rate * 0.25}
    assert rollback["learning_rates"] == {g: float(np.float32(r)) for g, r in expected.items()}
    # The lowered rates are part of the checkpointed state: a resumed run keeps them.
    restored, _ = saving.load_model_from_checkpoint(tmp_path / "run" / "checkpoints")
    assert float(restored.generator_optimizer.learning_rate.numpy()) == np.float32(expected["generator"])


def test_an_unwritable_export_dir_is_refused_before_the_first_step(tmp_path):
    (tmp_path / "a_file").write_text("")
    result = subprocess.run(command(tmp_path, "--epochs=1", "--steps_per_epoch=3") + [f"--export_dir={tmp_path / 'a_file' / 'exports'}"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "kgan: cannot start training:" in result.stderr, result.stderr[-3000:]
    assert str(tmp_path / "a_file") in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()  # Not a step trained.
