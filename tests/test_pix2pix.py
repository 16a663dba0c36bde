"""`kgan.Pix2Pix` (Isola et al. 2017): the U-Net's shapes, D(x, y) seeing x, the objective by hand,
deterministic translation and serving, input checks, a short learning test, and the training binary."""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import configs
from kgan.data import paired
from kgan.models.pix2pix import Pix2Pix
from kgan.networks import conditional_patch_discriminator, default_unet_depth, unet_generator
from tests.test_case import REPO, random_images

SHAPE = (8, 8, 1)


def tiny_pix2pix(**kwargs):
    return Pix2Pix(unet_generator(SHAPE, base_filters=4, normalization="none"),
                   conditional_patch_discriminator(SHAPE, SHAPE, 4, 1, normalization="none"), **kwargs)


# ---------------------------------------------------------------------- networks


@pytest.mark.parametrize("side, depth, bottleneck", [(28, 2, 7), (32, 5, 1), (64, 6, 1), (256, 8, 1)])
def test_unet_halves_while_even_and_each_skip_joins_its_mirror(side, depth, bottleneck):
    channels = 3 if side == 256 else 1
    generator = unet_generator((side, side, channels), base_filters=2, max_filters=8, dropout=0.5)
    assert default_unet_depth((side, side, channels)) == depth
    assert generator.output_shape == (None, side, side, channels)
    assert generator.get_layer(f"down{depth - 1}").output.shape[1:3] == (bottleneck, bottleneck)
    for i in range(depth - 1):  # Decoder output concatenated with encoder layer i: same H, W, channels of both.
        skip = generator.get_layer(f"skip{i}")
        up, down = (t.shape for t in skip.input)
        assert up[1:3] == down[1:3] == (side // 2 ** (i + 1),) * 2
        assert skip.output.shape[-1] == up[-1] + down[-1]
    dropouts = [layer.name for layer in generator.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == [f"up{j}_dropout" for j in range(min(3, depth - 1))]  # The first three decoder layers only.


def test_unet_output_is_float32_tanh_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        generator = unet_generator((8, 8, 1), output_channels=3, base_filters=4)
        out = generator(random_images(2, (8, 8, 1)) * 50, training=False)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert out.dtype == tf.float32 and out.shape == (2, 8, 8, 3) and float(tf.reduce_max(tf.abs(out))) <= 1.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(image_shape=(7, 7, 1)), "odd side"), (dict(image_shape=(28, 28, 1), depth=3), r"depth must be in \[1, 2\]"),
    (dict(image_shape=(8, 8, 1), dropout=1.0), "dropout"), (dict(image_shape=(8, 8, 1), normalization="layer"), "normalization"),
])
def test_unet_refuses_shapes_its_skips_cannot_match(kwargs, message):
    with pytest.raises(ValueError, match=message):
        unet_generator(**kwargs)


def test_conditional_discriminator_judges_the_pair_so_its_input_half_matters():
    # D(x, y) must read x: with y fixed, replacing x by zeros changes the logits. A D that ignored x
    # (an unconditional PatchGAN on y) would give equal outputs here and fail.
    keras.utils.set_random_seed(0)
    d = conditional_patch_discriminator((16, 16, 3), (16, 16, 1), 4, 2, normalization="none")
    x, y = random_images(2, (16, 16, 3)), random_images(2, (16, 16, 1), seed=1)
    logits = d([x, y], training=False).numpy()
    without_x = d([np.zeros_like(x), y], training=False).numpy()
    assert logits.shape == (2, 2, 2, 1)
    assert np.abs(logits - without_x).max() > 1e-3
    with pytest.raises(ValueError, match="same H, W"):
        conditional_patch_discriminator((16, 16, 3), (8, 8, 3))


# ---------------------------------------------------------------------- the objective


def _constant_network(inputs, value, name):
    """A network whose output is ``value`` everywhere (a zero-weight 1x1 convolution with bias), for hand values."""
    layer = keras.layers.Conv2D(1, 1, name=f"{name}_conv", kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(value))
    if isinstance(inputs, list):
        return keras.Model(inputs, layer(keras.layers.Concatenate()(inputs)), name=name)
    return keras.Model(inputs, layer(inputs), name=name)


def test_generator_objective_is_adversarial_plus_l1_weight_times_l1_by_hand():
    # G(x) = 0.2 everywhere, D(x, y) = logit 0.5 everywhere; y = -0.3, so |G(x) - y| = 0.5.
    x_in, y_in = keras.Input((2, 2, 1)), keras.Input((2, 2, 1))
    model = Pix2Pix(_constant_network(keras.Input((2, 2, 1)), 0.2, "g"), _constant_network([x_in, y_in], 0.5, "d"), l1_weight=7.0)
    x = tf.constant(np.full((1, 2, 2, 1), 0.4, np.float32))
    y = tf.constant(np.full((1, 2, 2, 1), -0.3, np.float32))
    loss, extras = model.generator_loss((x, y), {}, training=False)
    adversarial = np.log1p(np.exp(-0.5))  # -log sigmoid(0.5): the non-saturating G term.
    assert float(extras["adversarial_loss"]) == pytest.approx(adversarial, rel=1e-5)
    assert float(extras["l1_loss"]) == pytest.approx(0.5, rel=1e-6)  # Logged unweighted.
    assert float(loss) == pytest.approx(adversarial + 7.0 * 0.5, rel=1e-5)
    d_loss, _ = model.discriminator_loss((x, y), {}, training=False)
    # Halved (the paper's section 3.1): 0.5 (-log sigmoid(0.5) - log(1 - sigmoid(0.5))).
    assert float(d_loss) == pytest.approx(0.5 * (np.log1p(np.exp(-0.5)) + np.log1p(np.exp(0.5))), rel=1e-5)
    no_l1, extras = Pix2Pix(model.generator, model.discriminator, l1_weight=0.0).generator_loss((x, y), {}, training=False)
    assert "l1_loss" not in extras and float(no_l1) == pytest.approx(adversarial, rel=1e-5)


def test_translation_and_serving_are_deterministic_though_dropout_trains():
    keras.utils.set_random_seed(0)
    model = Pix2Pix(unet_generator(SHAPE, base_filters=4, dropout=0.5, seed=3), conditional_patch_discriminator(SHAPE, SHAPE, 4, 1))
    x = random_images(5, SHAPE)
    np.testing.assert_array_equal(model.translate(x), model.translate(x))
    np.testing.assert_allclose(model.translate(x, batch_size=2), model.translate(x), atol=1e-6)  # Chunked alike.
    served = model.serving_endpoints()
    assert set(served) == {"translate", "translate_uint8", "serving_default"}
    np.testing.assert_allclose(served["serving_default"](tf.constant(x))["images"], model.translate(x), atol=1e-6)
    trained = [model.generator(x, training=True).numpy() for _ in range(2)]
    assert np.abs(trained[0] - trained[1]).max() > 1e-4  # Dropout: the paper's noise, in training.


@pytest.mark.parametrize("batch, message", [
    (random_images(4, SHAPE), "paired batches"),
    ((random_images(4, SHAPE), random_images(4, (8, 8, 3))), "channel"),
    ((random_images(4, SHAPE), random_images(3, SHAPE)), "pair up one to one"),
    ((random_images(4, SHAPE) * 127.5 + 127.5, random_images(4, SHAPE)), r"inputs must be in \[-1, 1\]"),
])
def test_bad_batches_are_refused_before_training(batch, message):
    model = tiny_pix2pix()
    model.compile()
    with pytest.raises(ValueError, match=message):
        model.fit(tf.data.Dataset.from_tensors(batch), verbose=0)


def test_mismatched_networks_are_refused():
    with pytest.raises(ValueError, match="take"):
        Pix2Pix(unet_generator(SHAPE, base_filters=4), unet_generator(SHAPE, base_filters=4))
    with pytest.raises(ValueError, match=r"D takes \[inputs, outputs\]"):
        Pix2Pix(unet_generator(SHAPE, output_channels=3, base_filters=4), conditional_patch_discriminator(SHAPE, SHAPE, 4, 1))
    with pytest.raises(ValueError, match="loss"):
        tiny_pix2pix(loss="wasserstein")
    with pytest.raises(ValueError, match="l1_weight"):
        tiny_pix2pix(l1_weight=-1.0)


# ---------------------------------------------------------------------- learning


LEARNING_STEPS = 400
# Measured with this test's settings on one core (~12 s each), seeds 0-4: test L1 / best-constant L1 =
# 0.574, 0.558, 0.571, 0.548, 0.553. A G that ignored its input could at best reach the constant
# image (ratio >= 1); copying the edges scores 1.94, an all-zero output 2.93.
LEARNING_BOUND = 0.75


def test_edges_to_shoe_l1_falls_clearly_below_the_best_constant_image():
    keras.utils.set_random_seed(0)
    shape = (28, 28, 1)
    model = Pix2Pix(unet_generator(shape, base_filters=16, seed=0), conditional_patch_discriminator(shape, shape, 16, 1), seed=0)
    model.compile(optimizers={g: keras.optimizers.Adam(1e-3, beta_1=0.5) for g in model.groups})
    model.fit(paired.load_paired_images("footwear_edges", "train", 16, repeat=True, seed=0), steps_per_epoch=LEARNING_STEPS, verbose=0)
    edges, shoes = paired.paired_arrays("footwear_edges", "test")
    l1 = float(np.mean(np.abs(np.asarray(model.translate(edges)) - shoes)))
    constant = float(np.mean(np.abs(np.median(shoes, axis=0, keepdims=True) - shoes)))
    assert l1 < LEARNING_BOUND * constant, (l1, constant)


# ---------------------------------------------------------------------- the binary


def test_presets_are_valid_and_bad_flags_are_reported_together():
    for name, preset in configs.PIX2PIX_PRESETS.items():
        assert preset.problems() == [], name
    default = configs.Pix2PixConfig()
    assert (default.loss, default.l1_weight, default.dropout, default.normalization, default.batch_size) == (
        "non_saturating", 100.0, 0.5, "batch", 1)
    assert (default.generator_learning_rate, default.beta_1, default.learning_rate_decay_start) == (2e-4, 0.5, None)
    bad = dataclasses.replace(default, direction="AtoC", l1_weight=-1.0, image_size=31, dataset="pix2pix/cityscapes", loss="wasserstein")
    problems = "\n".join(bad.problems())
    for expected in ("--direction", "--l1_weight", "--image_size", "pix2pix/facades", "--loss"):
        assert expected in problems


def test_smoke_run_trains_pictures_evaluates_and_exports(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "pix2pix.py"), "--preset=smoke", f"--model_dir={tmp_path / 'run'}",
         f"--export_dir={tmp_path / 'saved_models'}", "--notensorboard"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "optimizer steps  generator 6, discriminator 6" in result.stdout
    from PIL import Image

    picture = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert picture.shape[:2] == (3 * 28 + 4 * 2, 4 * 28 + 5 * 2)  # Rows input, G(input), target of 4 test pairs.
    evaluation = json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]
    assert evaluation["num_pairs"] == 300 and "edges_to_images/l1" in evaluation and "edges_to_images/class_kept" in evaluation
    assert "edges -> image" in result.stdout
    assert (tmp_path / "saved_models" / "pix2pix_smoke" / "1" / "saved_model.pb").is_file()
