"""Tests of kgan.callbacks, kgan.rendering and kgan.saving: sample grids and crash-safe checkpoints."""

import json
import os
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import callbacks, rendering, saving
from kgan.saving import checkpoint_format
from test_case import points_gan, random_images, tiny_image_gan


def image_dataset(n=64, batch_size=16, shape=(28, 28, 1)):
    return tf.data.Dataset.from_tensor_slices(random_images(n, shape)).repeat().batch(batch_size)


def optimizer_state(model):
    """``[(path, value)]`` of both optimizers' variables (iterations, rates, Adam moments), in order.

    Paths differ between two models (Keras uniquifies layer names), so states
    are compared by position.
    """
    return [
        (variable.path, np.array(variable.numpy()))
        for name in ("generator_optimizer", "discriminator_optimizer")
        for variable in getattr(model, name).variables
    ]


def test_the_old_kgan_callbacks_names_are_the_new_homes_objects():
    for name in callbacks.__all__:
        home = rendering if name in rendering.__all__ else saving if name in saving.__all__ else None
        if home is not None:
            assert getattr(callbacks, name) is getattr(home, name), name
    assert set(saving.checkpoint_format.__all__) | {"image_grid", "point_plot", "save_image_grid"} <= set(callbacks.__all__)


# ---------------------------------------------------------------------- grids


def test_image_grid_layout_and_pixel_values():
    images = np.full((10, 28, 28, 1), -1.0, np.float32)
    images[3] = 1.0
    grid = rendering.image_grid(images)
    # 10 images: 4 columns, 3 rows, 2-px white borders.
    assert grid.shape == (3 * 28 + 4 * 2, 4 * 28 + 5 * 2, 1)
    assert grid.dtype == np.uint8
    assert grid[0, 0, 0] == 255  # border
    assert grid[2, 2, 0] == 0  # first tile, -1 -> 0
    tile3 = grid[2 : 2 + 28, 2 + 3 * 30 : 2 + 3 * 30 + 28]
    assert np.all(tile3 == 255)  # fourth tile, 1 -> 255
    assert rendering.image_grid(images, rows=2).shape == (2 * 28 + 3 * 2, 5 * 28 + 6 * 2, 1)


def test_save_image_grid_grayscale_and_rgb(tmp_path):
    gray = rendering.save_image_grid(random_images(9), tmp_path / "gray.png")
    with Image.open(gray) as image:
        assert image.mode == "L" and image.size == (3 * 28 + 4 * 2,) * 2
    rgb = rendering.save_image_grid(random_images(4, (32, 32, 3)), tmp_path / "sub" / "rgb.png")
    with Image.open(rgb) as image:
        assert image.mode == "RGB" and image.size == (2 * 32 + 3 * 2,) * 2
    assert sorted(os.listdir(tmp_path)) == ["gray.png", "sub"]  # No temp files left.


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match="1 or 3"):
        rendering.image_grid(np.zeros((4, 8, 8, 2), np.float32))


def test_cluster_grid_rows_hold_each_clusters_surest_members_in_order():
    # Image i is the constant value i / 10 - 0.9; its cluster is i % 3, with confidence rising in i.
    images = (np.arange(9, dtype=np.float32)[:, None, None, None] / 10 - 0.9) * np.ones((9, 4, 4, 1), np.float32)
    probabilities = np.full((9, 3), 0.0, np.float32)
    probabilities[np.arange(9), np.arange(9) % 3] = 0.5 + np.arange(9) / 100
    grid = rendering.cluster_grid(images, probabilities, per_cluster=2, order=[2, 0, 1])
    assert grid.shape == (3 * 4 + 4 * 2, 2 * 4 + 3 * 2, 1)

    def tile(row, col):
        return grid[2 + row * 6, 2 + col * 6, 0]

    value = lambda i: rendering.image_grid(images[i : i + 1])[2, 2, 0]  # noqa: E731
    assert [tile(0, 0), tile(0, 1)] == [value(8), value(5)]  # Cluster 2, most confident first.
    assert [tile(1, 0), tile(1, 1), tile(2, 0), tile(2, 1)] == [value(6), value(3), value(7), value(4)]
    few = rendering.cluster_grid(images[:2], probabilities[:2], per_cluster=3)  # Clusters 0, 1: one member each; 2: none.
    assert few[2, 2, 0] == value(0) != 255 and few[2 + 6, 2, 0] == value(1)
    assert few[2, 2 + 6, 0] == 255 and few[2 + 12, 2, 0] == 255  # Missing members are white.
    with pytest.raises(ValueError, match=r"\[N, K\]"):
        rendering.cluster_grid(images, probabilities[:5])


def test_point_plot_draws_points_inside_extent():
    plot = rendering.point_plot(np.array([[0.0, 0.0], [4.9, 4.9], [50.0, 0.0]]), extent=5.0, size=64)
    assert plot.shape == (64, 64, 3)
    blue = np.all(plot == (31, 119, 180), axis=-1)
    assert blue[32, 32] and blue[1, 62]  # origin; top-right corner (y up)
    assert blue.sum() <= 2 * 9  # the point outside the extent is not drawn


def test_point_plot_colours_points_by_label_over_grey_background_points():
    plot = rendering.point_plot(np.array([[0.0, 0.0], [4.9, 4.9], [np.nan, 1.0]]), extent=5.0, size=64, labels=np.array([1, 12, 3]),
                                background=np.array([[-4.0, -4.0]]))
    assert tuple(plot[32, 32]) == (255, 127, 14) and tuple(plot[1, 62]) == (44, 160, 44)  # Labels 1 and 12 (= 2 mod 10).
    grey = np.argwhere(np.all(plot == (170, 170, 170), axis=-1))
    assert len(grey) == 1 and tuple(grey[0]) == (57, 6)  # One background pixel; the NaN point is not drawn.
    with pytest.raises(ValueError, match="labels must be"):
        rendering.point_plot(np.zeros((2, 2)), labels=np.zeros(3, int))


class CompareWithGenerate(keras.callbacks.Callback):
    """Checks that each epoch's grid renders z = stateless_normal(seed): the fixed z."""

    def __init__(self, grid, seed):
        super().__init__()
        self.grid, self.seed, self.epochs_checked = grid, seed, 0

    def on_epoch_end(self, epoch, logs=None):
        path = os.path.join(self.grid.directory, f"epoch_{epoch + 1:04d}.png")
        expected = rendering.image_grid(self.model.generate(self.grid.num_samples, seed=self.seed))
        with Image.open(path) as image:
            np.testing.assert_array_equal(np.asarray(image), expected[..., 0])
        self.epochs_checked += 1


def test_sample_grid_writes_a_png_per_epoch_for_fixed_latents(tmp_path):
    model = tiny_image_gan()
    grid = callbacks.SampleGrid(tmp_path / "samples", num_samples=9, seed=3, tensorboard_dir=tmp_path / "logs")
    check = CompareWithGenerate(grid, seed=3)
    model.fit(image_dataset(), epochs=3, steps_per_epoch=2, callbacks=[grid, check], verbose=0)
    assert check.epochs_checked == 3
    assert sorted(os.listdir(tmp_path / "samples")) == ["epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]
    for name in os.listdir(tmp_path / "samples"):
        with Image.open(tmp_path / "samples" / name) as image:
            assert image.size == (3 * 28 + 4 * 2,) * 2 and image.mode == "L"
    expected_z = tf.random.stateless_normal([9, model.latent_dim], seed=[3, 0]).numpy()
    np.testing.assert_array_equal(grid.latent_vectors, expected_z)
    if rendering.tensorboard_available():
        assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "logs"))


def test_sample_grid_every_n_epochs_and_points_scatter(tmp_path):
    model = points_gan(latent_dim=4, hidden=(8,))
    grid = callbacks.SampleGrid(tmp_path, num_samples=100, every_n_epochs=2)
    points = tf.data.Dataset.from_tensor_slices(np.random.default_rng(0).normal(size=(64, 2)).astype("float32"))
    model.fit(points.repeat().batch(16), epochs=4, steps_per_epoch=1, callbacks=[grid], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["epoch_0002.png", "epoch_0004.png"]
    with Image.open(tmp_path / "epoch_0004.png") as image:
        assert image.mode == "RGB" and image.size == (256, 256)


# ---------------------------------------------------------------------- checkpoints


def trained_model(steps=3):
    model = tiny_image_gan()
    model.fit(image_dataset(), epochs=1, steps_per_epoch=steps, verbose=0)
    return model


def checkpointer(model, directory, **kwargs):
    checkpoint = callbacks.TrainingCheckpoint(directory, **kwargs)
    checkpoint.set_model(model)
    return checkpoint


def test_restore_keeps_weights_optimizer_slots_and_step_counter(tmp_path):
    model = trained_model(steps=3)
    path = checkpointer(model, tmp_path).save(epoch=1, step_in_epoch=0)
    assert sorted(os.listdir(path)) == ["metadata.json", "model.json", "model.weights.h5"]

    restored = tiny_image_gan()
    metadata = saving.restore_latest(restored, tmp_path)
    assert metadata["train_steps"] == 3 and metadata["path"] == path
    assert int(restored.train_steps.numpy()) == 3
    assert int(restored.generator_optimizer.iterations.numpy()) == 3
    assert int(restored.discriminator_optimizer.iterations.numpy()) == 3
    saved_state, restored_state = optimizer_state(model), optimizer_state(restored)
    assert len(saved_state) == len(restored_state)
    moments = [value for path, value in saved_state if "momentum" in path or "velocity" in path]
    assert moments and all(np.any(value != 0) for value in moments)  # Real slot values.
    for (path, saved), (_, loaded) in zip(saved_state, restored_state):
        np.testing.assert_array_equal(saved, loaded, err_msg=path)
    for original, copy in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(original.numpy(), copy.numpy(), err_msg=original.path)


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # Keras, on the mismatched load.
def test_restore_needs_a_compiled_model_and_matching_architecture(tmp_path):
    assert saving.restore_latest(tiny_image_gan(), tmp_path / "missing") is None
    checkpointer(trained_model(1), tmp_path).save(epoch=1, step_in_epoch=0)
    with pytest.raises(RuntimeError, match="Compile the model"):
        saving.restore_latest(tiny_image_gan(compile=False), tmp_path)
    with pytest.raises(ValueError, match="new directory"):
        saving.restore_latest(tiny_image_gan(base_filters=4), tmp_path)


def test_optimizer_names_come_from_group_optimizers_when_the_model_has_them():
    generator, discriminator = keras.optimizers.Adam(), keras.optimizers.Adam()
    grouped = types.SimpleNamespace(group_optimizers={"generator": generator, "discriminator": discriminator})
    assert checkpoint_format._optimizers(grouped) == {
        "generator_optimizer": generator,
        "discriminator_optimizer": discriminator,
    }
    # Before compile the dict is empty: no optimizers, so restoring refuses.
    with pytest.raises(RuntimeError, match="Compile the model"):
        checkpoint_format._require_built_optimizers(types.SimpleNamespace(group_optimizers={}))
    # Models without it: their optimizer attributes, as before.
    model = tiny_image_gan()
    assert set(checkpoint_format._optimizers(model)) == {"generator_optimizer", "discriminator_optimizer"}


def test_checkpoints_appear_atomically_and_a_crash_mid_write_leaves_the_last_one(tmp_path, monkeypatch):
    model = trained_model(2)
    checkpoint = checkpointer(model, tmp_path)
    first = checkpoint.save(epoch=0, step_in_epoch=2)
    model.fit(image_dataset(), epochs=1, steps_per_epoch=1, verbose=0)  # Step 3.

    seen_during_write = []
    real_save_weights = type(model).save_weights

    def crash_while_writing(self, filepath, *args, **kwargs):
        real_save_weights(self, filepath, *args, **kwargs)
        seen_during_write.append(saving.list_checkpoints(tmp_path))
        with open(filepath, "r+b") as f:  # Leave a truncated file, as a SIGKILL would.
            f.truncate(100)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(type(model), "save_weights", crash_while_writing)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(epoch=0, step_in_epoch=3)
    monkeypatch.undo()
    # While the weights were being written, only the old checkpoint had a final name.
    assert seen_during_write == [[(2, first)]]
    assert saving.list_checkpoints(tmp_path) == [(2, first)]
    with open(tmp_path / "latest") as f:
        assert f.read().strip() == "ckpt-0000000002"
    restored = tiny_image_gan()
    assert saving.restore_latest(restored, tmp_path)["train_steps"] == 2

    # A leftover temp dir (a SIGKILL skips `finally`) is ignored, then cleaned up.
    os.makedirs(tmp_path / ".tmp-ckpt-dead" / "junk")
    assert saving.list_checkpoints(tmp_path) == [(2, first)]
    checkpoint.on_train_begin()
    assert not os.path.exists(tmp_path / ".tmp-ckpt-dead")


def test_checkpoints_are_pruned_to_keep(tmp_path):
    model = trained_model(1)
    checkpoint = checkpointer(model, tmp_path, keep=2)
    for _ in range(4):
        checkpoint.save(epoch=0, step_in_epoch=0)
        model.fit(image_dataset(), epochs=1, steps_per_epoch=1, verbose=0)
    assert [step for step, _ in saving.list_checkpoints(tmp_path)] == [3, 4]
    assert sorted(os.listdir(tmp_path)) == ["ckpt-0000000003", "ckpt-0000000004", "latest"]


def test_saving_a_step_again_refreshes_only_its_metadata(tmp_path):
    checkpoint = checkpointer(trained_model(2), tmp_path)
    path = checkpoint.save(epoch=0, step_in_epoch=2)
    weights_inode = os.stat(os.path.join(path, "model.weights.h5")).st_ino
    assert checkpoint.save(epoch=1, step_in_epoch=0) == path
    assert os.stat(os.path.join(path, "model.weights.h5")).st_ino == weights_inode
    assert (read_metadata(path)["epoch"], read_metadata(path)["step_in_epoch"]) == (1, 0)
    assert sorted(os.listdir(path)) == ["metadata.json", "model.json", "model.weights.h5"]


def read_metadata(path):
    with open(os.path.join(path, "metadata.json")) as f:
        return json.load(f)


def test_saves_every_n_steps_and_at_epoch_ends(tmp_path):
    model = tiny_image_gan()
    checkpoint = callbacks.TrainingCheckpoint(tmp_path, save_every_n_steps=2, keep=10)
    model.fit(image_dataset(), epochs=2, steps_per_epoch=3, callbacks=[checkpoint], verbose=0)
    found = {step: read_metadata(path) for step, path in saving.list_checkpoints(tmp_path)}
    # Every 2 steps (2, 4), epoch ends (3, 6); step 6 is saved once, as an epoch end.
    assert sorted(found) == [2, 3, 4, 6]
    assert [(m["epoch"], m["step_in_epoch"]) for m in found.values()] == [(0, 2), (1, 0), (1, 1), (2, 0)]
    for step, metadata in found.items():
        assert metadata["optimizer_iterations"] == {"generator_optimizer": step, "discriminator_optimizer": step}


def test_mid_epoch_resume_continues_epoch_metrics(tmp_path):
    model = tiny_image_gan()
    checkpoint = callbacks.TrainingCheckpoint(tmp_path, save_every_n_steps=2, keep=10, steps_per_epoch=4)
    model.fit(image_dataset(), epochs=1, steps_per_epoch=4, callbacks=[checkpoint], verbose=0)
    uninterrupted = {name: tracker.count.numpy() for name, tracker in model.trackers.items()}

    # "Crash" after step 2: restore it and run the epoch's 2 remaining steps.
    resumed = tiny_image_gan()
    metadata = saving.load_checkpoint(resumed, os.path.join(tmp_path, "ckpt-0000000002"))
    assert (metadata["epoch"], metadata["step_in_epoch"]) == (0, 2)
    checkpoint = callbacks.TrainingCheckpoint(tmp_path / "resumed", steps_per_epoch=4, resume_metadata=metadata)
    resumed.fit(image_dataset(), initial_epoch=0, epochs=1, steps_per_epoch=2, callbacks=[checkpoint], verbose=0)
    assert int(resumed.train_steps.numpy()) == 4
    # The epoch means cover all 4 steps, not only the 2 after the restart.
    assert {name: tracker.count.numpy() for name, tracker in resumed.trackers.items()} == uninterrupted
    ((step, path),) = saving.list_checkpoints(tmp_path / "resumed")
    assert step == 4 and read_metadata(path)["epoch"] == 1
