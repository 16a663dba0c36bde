"""`kgan.GAN`: step semantics, k discriminator steps, metrics, serialization, input checks (learning: tests/test_gan_learning.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from tests.test_case import changed, points_gan, random_images, snapshot, tiny_image_gan


def test_call_is_the_generator_forward_pass():
    model = tiny_image_gan()
    z = tf.random.normal([3, 8])
    images = model(z)
    assert images.shape == (3, 28, 28, 1) and images.dtype == tf.float32
    np.testing.assert_allclose(images, model.generator(z), atol=1e-6)
    assert np.all(np.abs(images) <= 1.0)
    assert model.predict(z.numpy(), verbose=0).shape == (3, 28, 28, 1)


def test_discriminator_step_changes_only_discriminator_weights():
    model = tiny_image_gan()
    g_before, d_before = snapshot(model.generator_variables), snapshot(model.discriminator_variables)
    model.update("discriminator", tf.constant(random_images(8)))
    assert changed(g_before, model.generator_variables) == set()
    assert changed(d_before, model.discriminator_variables) == {v.path for v in model.discriminator_variables}
    assert int(model.discriminator_optimizer.iterations) == 1
    assert int(model.generator_optimizer.iterations) == 0


def test_generator_step_changes_only_generator_weights():
    model = tiny_image_gan()
    g_before, d_before = snapshot(model.generator_variables), snapshot(model.discriminator_variables)
    model.update("generator", tf.constant(random_images(8)))
    assert changed(d_before, model.discriminator_variables) == set()
    assert changed(g_before, model.generator_variables) == {v.path for v in model.generator_variables}
    assert int(model.generator_optimizer.iterations) == 1
    assert int(model.discriminator_optimizer.iterations) == 0


def test_each_optimizer_holds_slots_only_for_its_own_network():
    model = tiny_image_gan()
    g_paths = {v.path for v in model.generator_variables}
    d_paths = {v.path for v in model.discriminator_variables}
    assert g_paths and d_paths and not g_paths & d_paths
    # Adam keeps two slots per variable (plus iterations and learning rate).
    assert len(model.generator_optimizer.variables) == 2 * len(g_paths) + 2
    assert len(model.discriminator_optimizer.variables) == 2 * len(d_paths) + 2


@pytest.mark.parametrize("k", [1, 3])
def test_fit_runs_k_discriminator_steps_per_generator_step(k):
    model = tiny_image_gan(discriminator_steps=k)
    history = model.fit(random_images(4 * 3 * k), batch_size=3 * k, epochs=1, verbose=0)
    assert int(model.train_steps) == 4
    assert int(model.generator_optimizer.iterations) == 4
    assert int(model.discriminator_optimizer.iterations) == 4 * k
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(history.history)
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_metrics_are_epoch_means_not_last_batch():
    model = tiny_image_gan()
    d_losses = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            d_losses.append(model.trackers["d_loss"].result().numpy())

    history = model.fit(random_images(40), batch_size=8, epochs=1, verbose=0, callbacks=[Record()])
    # The Mean tracker's running value after the last batch is the logged value.
    assert history.history["d_loss"][0] == pytest.approx(d_losses[-1], rel=1e-5)
    assert model.trackers["d_loss"].count.numpy() == 5


@pytest.mark.parametrize("loss", sorted(kgan.losses.LOSS_FAMILIES))
def test_every_loss_family_trains(loss):
    model = tiny_image_gan(loss=loss)
    history = model.fit(random_images(16), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0]) and np.isfinite(history.history["g_loss"][0])


def test_evaluate_computes_losses_without_updating():
    model = tiny_image_gan()
    before = snapshot(model.trainable_variables)
    result = model.evaluate(random_images(16), batch_size=8, verbose=0, return_dict=True)
    assert {"d_loss", "g_loss"} <= set(result)
    assert changed(before, model.trainable_variables) == set()
    assert int(model.train_steps) == 0


def test_noise_depends_on_seed_step_and_stream_only():
    model = points_gan(seed=3)
    a = model.normal_noise(4, (2,), stream=0)
    np.testing.assert_array_equal(a, model.normal_noise(4, (2,), stream=0))
    assert not np.array_equal(a, model.normal_noise(4, (2,), stream=1))
    model.train_steps.assign(1)
    assert not np.array_equal(a, model.normal_noise(4, (2,), stream=0))
    other = points_gan(seed=4)
    assert not np.array_equal(a, other.normal_noise(4, (2,), stream=0))


def test_keras_save_and_load_round_trip_keeps_optimizer_state(tmp_path):
    model = tiny_image_gan(loss="least_squares", discriminator_steps=2, label_smoothing=0.1, seed=5)
    model.fit(random_images(24), batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, kgan.GAN)
    assert (loaded.loss_name, loaded.discriminator_steps, loaded.label_smoothing, loaded.seed) == (
        "least_squares", 2, 0.1, 5
    )
    assert int(loaded.generator_optimizer.iterations) == 3
    assert int(loaded.discriminator_optimizer.iterations) == 6
    assert int(loaded.train_steps) == 3
    for a, b in zip(model.generator_optimizer.variables, loaded.generator_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    z = tf.random.normal([2, 8])
    np.testing.assert_allclose(model(z), loaded(z), atol=1e-6)
    # Training resumes: the same next step on both gives the same weights
    # (shuffle=False: with k=2 the batch order decides the minibatches).
    batch = random_images(8, seed=1)
    model.fit(batch, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(batch, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.generator_variables, loaded.generator_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((8, 28, 28), np.float32), "rank|channel axis"),
        (np.zeros((8, 28, 28, 3), np.float32), "channel"),
        (np.full((8, 28, 28, 1), 255.0, np.float32), r"\[-1, 1\]"),
        (np.zeros((8, 32, 32, 1), np.float32), "32"),
    ],
)
def test_bad_images_are_rejected_before_training(images, message):
    model = tiny_image_gan()
    with pytest.raises(ValueError, match=message):
        model.fit(images, batch_size=4, verbose=0)
    assert int(model.train_steps) == 0
    with pytest.raises(ValueError, match=message):
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), verbose=0)


def test_bad_constructor_arguments_are_rejected():
    with pytest.raises(ValueError, match="Unknown loss"):
        tiny_image_gan(loss="wgan", compile=False)
    with pytest.raises(ValueError, match="discriminator_steps"):
        tiny_image_gan(discriminator_steps=0, compile=False)
    with pytest.raises(ValueError, match="label_smoothing"):
        tiny_image_gan(loss="hinge", label_smoothing=0.1, compile=False)
    with pytest.raises(RuntimeError, match="compile"):
        tiny_image_gan(compile=False).fit(random_images(8), verbose=0)
    with pytest.raises(ValueError, match="minibatch"):
        tiny_image_gan(discriminator_steps=4).fit(random_images(2), batch_size=2, verbose=0)
