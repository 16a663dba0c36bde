"""Checkpoints that heal: a damaged one is moved aside and written again; malformed metadata of any JSON shape falls back."""

import json
import os
import shutil

import numpy as np
import pytest

from kgan import callbacks, saving
from tests.test_case import random_images, tiny_image_gan


def _trained_with_checkpoints(directory, steps=(2, 4)):
    model = tiny_image_gan()
    checkpoint = callbacks.TrainingCheckpoint(directory, keep=5)
    checkpoint.set_model(model)
    done = 0
    for step in steps:
        model.fit(random_images(16 * (step - done)), batch_size=16, epochs=1, verbose=0, shuffle=False)
        done = step
        checkpoint.save(epoch=0, step_in_epoch=step)


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory):
    """A directory with ckpt-2 and ckpt-4 of a tiny GAN, trained once for the module."""
    directory = tmp_path_factory.mktemp("two_checkpoints")
    _trained_with_checkpoints(directory)
    return directory


def _copy(two_checkpoints, tmp_path):
    shutil.copytree(two_checkpoints, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_a_truncated_newest_checkpoint_is_moved_aside_and_rewritten_when_its_step_is_reached(two_checkpoints, tmp_path):
    _copy(two_checkpoints, tmp_path)
    weights = tmp_path / "ckpt-0000000004" / "model.weights.h5"
    with open(weights, "r+b") as f:
        f.truncate(os.path.getsize(weights) // 2)

    restored = tiny_image_gan()
    metadata = saving.restore_latest(restored, tmp_path)
    assert metadata["train_steps"] == 2
    [repaired] = metadata["repaired"]
    assert repaired["checkpoint"] == str(tmp_path / "ckpt-0000000004")
    assert repaired["moved_to"] == str(tmp_path / "damaged" / "ckpt-0000000004")
    assert os.path.getsize(tmp_path / "damaged" / "ckpt-0000000004" / "model.weights.h5") > 0  # Kept, not deleted.
    assert [s for s, _ in saving.list_checkpoints(tmp_path)] == [2]

    # Training reaches step 4 again: the checkpoint is written whole (before, only its metadata was refreshed).
    checkpoint = callbacks.TrainingCheckpoint(tmp_path, keep=5, resume_metadata=metadata)
    checkpoint.set_model(restored)
    restored.fit(random_images(32), batch_size=16, epochs=1, verbose=0, shuffle=False)
    checkpoint.save(epoch=0, step_in_epoch=4)
    again = tiny_image_gan()
    assert saving.load_checkpoint(again, tmp_path / "ckpt-0000000004")["train_steps"] == 4
    for a, b in zip(restored.weights, again.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("text", ["[]", "null", '"a string"', "3", '{"train_steps": "4"}', '{"train_steps": 4, "step_in_epoch": -1}',
                                  '{"epoch": 0}', '{"train_steps": 4, "metrics": []}', "{not json"])
def test_malformed_metadata_of_any_json_shape_falls_back_to_the_previous_checkpoint(two_checkpoints, tmp_path, text):
    _copy(two_checkpoints, tmp_path)
    (tmp_path / "ckpt-0000000004" / "metadata.json").write_text(text)
    restored = tiny_image_gan()
    metadata = saving.restore_latest(restored, tmp_path, repair=False)
    assert metadata["train_steps"] == 2 and int(restored.train_steps.numpy()) == 2
    [failed] = metadata["repaired"]
    assert failed["moved_to"] is None
    assert ("JSONDecodeError" if text == "{not json" else "malformed metadata.json") in failed["error"]
    assert os.path.isdir(tmp_path / "ckpt-0000000004")  # repair=False reads only.


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_checkpoints_of_another_architecture_are_not_moved(two_checkpoints, tmp_path):
    _copy(two_checkpoints, tmp_path)
    with pytest.raises(ValueError, match="new directory"):
        saving.restore_latest(tiny_image_gan(base_filters=4), tmp_path)
    assert [s for s, _ in saving.list_checkpoints(tmp_path)] == [2, 4] and not os.path.exists(tmp_path / "damaged")


def test_a_second_damage_of_the_same_step_gets_its_own_name(two_checkpoints, tmp_path):
    _copy(two_checkpoints, tmp_path)
    os.makedirs(tmp_path / "damaged" / "ckpt-0000000004")
    (tmp_path / "ckpt-0000000004" / "model.weights.h5").write_bytes(b"")
    metadata = saving.restore_latest(tiny_image_gan(), tmp_path)
    assert metadata["repaired"][0]["moved_to"] == str(tmp_path / "damaged" / "ckpt-0000000004.1")
    assert json.loads((tmp_path / "damaged" / "ckpt-0000000004.1" / "metadata.json").read_text())["train_steps"] == 4
