"""A bad example or a diverging step never costs the good model: the step is named, nothing non-finite is kept."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import saving
from kgan.callbacks import DivergenceError, TrainingCheckpoint
from kgan.data.graph_checks import BadBatchError
from kgan.numerics import non_finite_variables
from tests.test_case import random_images, tiny_image_gan


def _assert_newest_checkpoint_is_finite(directory, step):
    found = saving.list_checkpoints(directory)
    assert found and found[-1][0] == step, found
    for _, path in found:  # Every one kept loads and is finite.
        model = tiny_image_gan()
        saving.load_checkpoint(model, path)
        assert non_finite_variables(model) == []


def test_nan_at_example_300_stops_at_its_step_and_the_last_checkpoint_stays_finite(tmp_path):
    images = random_images(512)
    images[300] = np.nan
    model = tiny_image_gan()
    checkpoint = TrainingCheckpoint(tmp_path, save_every_n_steps=4, keep=2)
    # Batches of 32, in order: example 300 is in the batch of train step 9 (0-based).
    with pytest.raises(BadBatchError, match=r"The batch of train step 9 \(0 = the first step\): images contain NaN or Inf values \(784 of 25088\)"):
        model.fit(images, batch_size=32, epochs=1, shuffle=False, callbacks=[checkpoint], verbose=0)
    assert int(model.train_steps.numpy()) == 9 and non_finite_variables(model) == []
    _assert_newest_checkpoint_is_finite(tmp_path, 8)


def test_out_of_range_images_in_a_later_epoch_are_refused_with_the_step():
    good, pixels = random_images(64), (random_images(64, seed=1) + 1) * 127.5
    stream = tf.data.Dataset.from_tensor_slices(np.concatenate([good, pixels])).batch(16)  # Epoch 2 reads the pixels.
    model = tiny_image_gan()
    with pytest.raises(BadBatchError, match=r"train step 4 .*look like \[0, 255\] pixels"):
        model.fit(stream.repeat(), steps_per_epoch=4, epochs=2, verbose=0)
    assert int(model.train_steps.numpy()) == 4


def test_an_infinite_learning_rate_stops_fit_and_nothing_non_finite_is_checkpointed(tmp_path):
    model = tiny_image_gan(compile=False)
    model.compile(optimizers={"generator": keras.optimizers.Adam(float("inf")), "discriminator": keras.optimizers.Adam(2e-4)})
    checkpoint = TrainingCheckpoint(tmp_path, save_every_n_steps=1, keep=2)
    # Step 1's loss was computed before its update: the NaN shows in step 2's losses.
    with pytest.raises(DivergenceError, match=r"Training diverged by train step 2: d_fake is nan.*non-finite weights in generator:"):
        model.fit(random_images(64), batch_size=16, epochs=2, callbacks=[checkpoint], verbose=0)
    assert {r["train_steps"] for r in checkpoint.refused} == {1, 2}
    assert saving.list_checkpoints(tmp_path) == []  # The only state after step 0 is NaN: nothing written.


def test_divergence_after_good_steps_keeps_the_last_finite_checkpoint_through_retention(tmp_path):
    class Poison(keras.callbacks.Callback):  # A weight blows up after step 6, as an exploding update would.
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.train_steps.numpy()) == 6:
                kernel = self.model.discriminator.trainable_variables[0]
                kernel.assign(tf.fill(kernel.shape, np.inf))

    model = tiny_image_gan()
    checkpoint = TrainingCheckpoint(tmp_path, save_every_n_steps=2, keep=2)
    # The guard (first) saw step 6 finite, Poison then broke it: the checkpoint of step 6 must refuse the
    # state, and the guard stops at step 7, whose losses are NaN.
    with pytest.raises(DivergenceError, match=r"train step 7: d_fake is nan.*non-finite weights in generator:"):
        model.fit(random_images(160), batch_size=16, epochs=1, callbacks=[Poison(), checkpoint], verbose=0)
    _assert_newest_checkpoint_is_finite(tmp_path, 4)
    assert {r["train_steps"] for r in checkpoint.refused} == {6, 7}
