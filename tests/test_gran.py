"""`kgan.GRAN`: the recurrent canvas, serving its steps, the config, the binary, and a short run that learns.

The contract (save/load, export in a fresh process, two replicas, XLA, float16, bad batches) is
tests/test_case.py's ``gran`` case, run by tests/test_contract.py.
"""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import kgan
from kgan.configs.gran import PRESETS, GRANConfig
from kgan.networks import dcgan_discriminator, dcgan_generator
from kgan.networks.gran import RecurrentCanvas, gran_generator
from tests.test_case import REPO


def _model(steps=3, **kwargs):
    keras.utils.set_random_seed(0)
    return kgan.GRAN(gran_generator(4, (8, 8, 1), steps, 8, 4, normalization=False),
                     dcgan_discriminator((8, 8, 1), 4, "none"), 4, **kwargs)


def test_each_step_adds_a_decoded_update_of_the_canvas_so_far():
    model = _model()
    canvas = model.generator.get_layer("canvas")
    z = tf.random.stateless_normal([3, 4], seed=[1, 0])
    h_z = canvas.projection(z)
    total = tf.zeros([3, 8, 8, 1])
    expected = []
    for step in range(3):
        total = total + canvas.decode(tf.concat([h_z, canvas.encoder(total)], axis=-1), step)
        expected.append(np.tanh(total.numpy()))
    steps = model.canvas_steps(z).numpy()
    assert steps.shape == (3, 3, 8, 8, 1) and model.num_canvas_steps == 3
    np.testing.assert_allclose(steps, np.stack(expected, axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(steps[:, -1], model(z).numpy(), rtol=1e-5, atol=1e-6)


def test_each_step_keeps_its_own_batch_norm_statistics_and_shares_the_decoder_weights(tmp_path):
    keras.utils.set_random_seed(0)
    generator = gran_generator(4, (8, 8, 1), 3, 8, 4, normalization=True)
    canvas = generator.get_layer("canvas")
    z = tf.random.stateless_normal([16, 4], seed=[3, 0])
    for norm in (n for pair in canvas.step_norms for n in pair):
        norm.momentum = 0.0  # One training pass sets every moving statistic to that pass's batch statistic.
    generator(z, training=True)
    means = [norm.moving_mean.numpy() for norm, _ in canvas.step_norms]
    assert len(means) == 3 and not np.allclose(means[0], means[1], atol=1e-3)
    # Trained on one batch, the inference pass of that batch is close to the training pass at every step:
    # a single set of statistics averaged over the steps would be off at each of them.
    trained = np.stack([c.numpy() for c in canvas.canvases(z, training=True)])
    sampled = np.stack([c.numpy() for c in canvas.canvases(z, training=False)])
    assert np.abs(trained - sampled).max() < 0.05, np.abs(trained - sampled).max()
    shared = [w.path for w in canvas.weights if "decoder_" in w.path]
    assert len(shared) == 6  # One kernel and bias each for project, up and update, whatever the number of steps.
    # Every step's statistics survive a .keras round trip.
    path = os.path.join(tmp_path, "generator.keras")
    generator.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(z, training=False).numpy(), generator(z, training=False).numpy(), rtol=1e-5, atol=1e-6)


def test_one_step_is_a_plain_generator_tanh_of_one_decoded_update():
    model = _model(steps=1)
    canvas = model.generator.get_layer("canvas")
    z = tf.random.stateless_normal([2, 4], seed=[2, 0])
    empty = canvas.encoder(tf.zeros([2, 8, 8, 1]))
    once = np.tanh(canvas.decode(tf.concat([canvas.projection(z), empty], axis=-1), 0).numpy())
    np.testing.assert_allclose(model(z).numpy(), once, rtol=1e-5, atol=1e-6)
    assert model.canvas_steps(z).shape == (2, 1, 8, 8, 1)


def test_bad_canvases_and_generators_are_refused():
    with pytest.raises(ValueError, match="divisible by 4"):
        RecurrentCanvas((30, 30, 1))
    with pytest.raises(ValueError, match="steps must be >= 1"):
        RecurrentCanvas((8, 8, 1), steps=0)
    with pytest.raises(ValueError, match="needs a RecurrentCanvas layer"):
        kgan.GRAN(dcgan_generator(4, (8, 8, 1), 4), dcgan_discriminator((8, 8, 1), 4), 4)


def test_serving_gives_the_canvas_after_every_step_of_the_sampled_images():
    model = _model(steps=2)
    endpoints = model.serving_endpoints()
    served = endpoints["canvases"](num_images=tf.constant(3), seed=tf.constant(5, tf.int64))["canvases"].numpy()
    sampled = endpoints["sample"](num_images=tf.constant(3), seed=tf.constant(5, tf.int64))["images"].numpy()
    assert served.shape == (3, 2, 8, 8, 1)
    np.testing.assert_allclose(served[:, -1], sampled, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(served, model.canvas_steps(model.latent_vectors(3, seed=5)).numpy(), rtol=1e-5, atol=1e-6)


def test_presets_are_valid_and_bad_options_are_refused():
    for name, preset in PRESETS.items():
        assert preset.problems() == [], name
    bad = dataclasses.replace(GRANConfig(), canvas_steps=0, image_size=30, generator_normalization="virtual_batch")
    found = "\n".join(bad.problems())
    for expected in ("--canvas_steps", "divisible by 4", "batch or none for GRAN"):
        assert expected in found, found


def test_binary_smoke_run_pictures_the_canvas_and_serves_its_steps(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "gran.py"), "--preset=smoke", "--canvas_steps=2",
         f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'saved_models'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    evaluation = json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]
    assert "fid" in evaluation and (tmp_path / "run" / "samples" / "canvas.png").stat().st_size > 0
    loaded = tf.saved_model.load(str(tmp_path / "saved_models" / "gran_smoke" / "1"))
    canvases = loaded.signatures["canvases"](num_images=tf.constant(2), seed=tf.constant(1, tf.int64))["canvases"]
    assert canvases.shape == (2, 2, 28, 28, 1)


# Two 8x8 images: -0.5 and 0.5 plus a checkerboard of amplitude 0.3 (of the image's sign).
_CHECKER = (0.3 * (np.indices((8, 8)).sum(0) % 2 * 2 - 1)).astype(np.float32)[..., None]
MODES = np.stack([-0.5 - _CHECKER, 0.5 + _CHECKER])


# Measured on this CPU (this recipe, 1,000 steps: 19-22 s of fit on a shared machine): every one of 500 samples
# lay within a mean absolute error of 0.1 of one of the two images (seeds 0-2; median 0.048-0.090; untrained
# ~0.5). Each seed drew one of the two only (at 500 steps too): this toy tests that the canvas learns to draw,
# not mode coverage, which is a GAN's trait, not the canvas's.
def test_the_canvas_learns_to_draw_the_training_images():
    keras.utils.set_random_seed(0)
    images = keras.Input((8, 8, 1))
    hidden = layers.LeakyReLU(0.2)(layers.Dense(64)(layers.Flatten()(images)))
    model = kgan.GRAN(gran_generator(8, (8, 8, 1), 3, 32, 16, normalization=False),
                      keras.Model(images, layers.Dense(1)(hidden), name="discriminator"), 8)
    model.compile(optimizers={g: keras.optimizers.Adam(1e-3, beta_1=0.5) for g in model.groups})
    data = MODES[np.random.default_rng(1).integers(0, 2, 20_000)]
    model.fit(tf.data.Dataset.from_tensor_slices(data).repeat().batch(64), steps_per_epoch=1000, verbose=0)
    samples = np.asarray(model.generate(500, seed=3))
    error = np.abs(samples[:, None] - MODES[None]).mean(axis=(2, 3, 4)).min(axis=1)
    assert np.mean(error < 0.15) > 0.9, np.quantile(error, [0.1, 0.5, 0.9])
