"""`kgan.CycleGAN` (Zhu et al. 2017): loss composition against hand values, four networks
and two optimizers, pools, evaluate, serialization, export with a TF-only reload, input checks."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import export, losses
from kgan.models.cycle_gan import CycleGAN
from kgan.networks import patch_discriminator, resnet_generator
from tests.test_case import changed, random_images, run_script, snapshot

SHAPE = (16, 16, 1)


def tiny_cycle_gan(compile=True, **kwargs):
    """A CycleGAN of ~2k parameters per generator (one stride-2 layer): steps in milliseconds."""
    kwargs.setdefault("pool_size", 4)
    model = CycleGAN(
        resnet_generator(SHAPE, base_filters=4, num_residual_blocks=1, num_downsampling=1, name="g_xy"),
        resnet_generator(SHAPE, base_filters=4, num_residual_blocks=1, num_downsampling=1, name="g_yx"),
        patch_discriminator(SHAPE, 4, 1, name="d_x"),
        patch_discriminator(SHAPE, 4, 1, name="d_y"),
        **kwargs,
    )
    if compile:
        model.compile()
    return model


def unpaired(n, seed=0):
    return random_images(n, SHAPE, seed), random_images(n, SHAPE, seed + 100)


def scaling_network(scale, offset, name):
    """A 1x1 convolution computing ``scale * x + offset`` per pixel: hand-checkable."""
    inputs = keras.Input((2, 2, 1))
    layer = keras.layers.Conv2D(1, 1, name=f"{name}_conv")
    model = keras.Model(inputs, layer(inputs), name=name)
    layer.set_weights([np.full((1, 1, 1, 1), scale, np.float32), np.full((1,), offset, np.float32)])
    return model


def test_cycle_and_identity_losses_are_mean_absolute_errors():
    a = np.array([[0.0, 1.0], [-1.0, 0.5]], np.float32)
    b = np.array([[0.5, 1.0], [0.0, -0.5]], np.float32)
    assert float(losses.cycle_consistency_loss(a, b)) == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    assert float(losses.identity_loss(a, b)) == pytest.approx(0.625)


def test_generator_objective_matches_the_paper_by_hand():
    # G(x) = 0.5 x, F(y) = 2 y + 0.1, D_X(x) = x, D_Y(y) = y - 1 (logits = pixels).
    model = CycleGAN(
        scaling_network(0.5, 0.0, "g"),
        scaling_network(2.0, 0.1, "f"),
        scaling_network(1.0, 0.0, "dx"),
        scaling_network(1.0, -1.0, "dy"),
        cycle_loss_weight=10.0,
        identity_loss_weight=0.5,
    )
    x = np.full((1, 2, 2, 1), 0.4, np.float32)
    y = np.full((1, 2, 2, 1), -0.2, np.float32)
    loss, extras = model.generator_loss((tf.constant(x), tf.constant(y)), {}, training=False)
    g_x, f_y = 0.2, -0.3  # G(x), F(y)
    adversarial = ((g_x - 1.0) - 1.0) ** 2 + (f_y - 1.0) ** 2  # LSGAN: E[(D(fake) - 1)^2], weight 1
    cycle = abs((2 * g_x + 0.1) - 0.4) + abs(0.5 * f_y - (-0.2))  # |F(G(x)) - x| + |G(F(y)) - y|
    identity = abs(0.5 * -0.2 - (-0.2)) + abs((2 * 0.4 + 0.1) - 0.4)  # |G(y) - y| + |F(x) - x|
    assert float(extras["adversarial_loss"]) == pytest.approx(adversarial, rel=1e-5)
    assert float(extras["cycle_loss"]) == pytest.approx(cycle, rel=1e-5)
    assert float(extras["identity_loss"]) == pytest.approx(identity, rel=1e-5)
    assert float(loss) == pytest.approx(adversarial + 10 * cycle + 5 * identity, rel=1e-5)
    np.testing.assert_allclose(extras["fake_y"], np.full((1, 2, 2, 1), g_x), rtol=1e-6)

    d_loss, _ = model.discriminator_loss(
        (tf.constant(x), tf.constant(y)), {"fake_x": extras["fake_x"], "fake_y": extras["fake_y"]}, training=False
    )
    # 0.5 E[(D(real) - 1)^2] + 0.5 E[D(fake)^2] per discriminator.
    expected = 0.5 * (0.4 - 1) ** 2 + 0.5 * f_y**2 + 0.5 * (-0.2 - 1 - 1) ** 2 + 0.5 * (g_x - 1) ** 2
    assert float(d_loss) == pytest.approx(expected, rel=1e-5)


def test_identity_weight_zero_drops_the_term():
    model = tiny_cycle_gan(compile=False, identity_loss_weight=0.0)
    x, y = unpaired(2)
    with_term = tiny_cycle_gan(compile=False)
    with_term.set_weights(model.get_weights())
    loss, extras = model.generator_loss((x, y), {}, training=False)
    loss_with, extras_with = with_term.generator_loss((x, y), {}, training=False)
    assert "identity_loss" not in extras  # Weight 0: the term is neither computed nor added.
    assert float(loss_with - loss) == pytest.approx(5.0 * float(extras_with["identity_loss"]), rel=1e-4)


def test_a_step_updates_all_four_networks_each_pair_with_its_own_optimizer():
    model = tiny_cycle_gan()
    networks = [model.generator_xy, model.generator_yx, model.discriminator_x, model.discriminator_y]
    before = [snapshot(n.trainable_variables) for n in networks]
    x, y = unpaired(4)
    model.fit(tf.data.Dataset.from_tensors((x, y)), verbose=0)
    for network, snap in zip(networks, before):
        assert changed(snap, network.trainable_variables) == {v.path for v in network.trainable_variables}, network.name
    assert int(model.generator_optimizer.iterations) == 1
    assert int(model.discriminator_optimizer.iterations) == 1
    # The generator optimizer covers G and F, the discriminator one D_X and D_Y
    # (Adam: two slots per variable, plus iterations and learning rate).
    g_vars = model.generator_xy.trainable_variables + model.generator_yx.trainable_variables
    d_vars = model.discriminator_x.trainable_variables + model.discriminator_y.trainable_variables
    assert [v.path for v in model.generator_variables] == [v.path for v in g_vars]
    assert [v.path for v in model.discriminator_variables] == [v.path for v in d_vars]
    assert len(model.generator_optimizer.variables) == 2 * len(g_vars) + 2
    assert len(model.discriminator_optimizer.variables) == 2 * len(d_vars) + 2


def test_generator_step_alone_leaves_the_discriminators_alone():
    model = tiny_cycle_gan()
    d_before = snapshot(model.discriminator_variables)
    x, y = unpaired(2)
    model.update("generator", (tf.constant(x), tf.constant(y)))
    assert changed(d_before, model.discriminator_variables) == set()


def test_pools_fill_during_fit_and_are_part_of_the_weights():
    model = tiny_cycle_gan(pool_size=6)
    x, y = unpaired(8)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # fit(x, y) hands train_step the pair (x, y)
    assert int(model.pool_x.count.numpy()) == 6 and int(model.pool_y.count.numpy()) == 6
    assert {"pool_x/images", "pool_y/images"} <= {w.path for w in model.weights}


def test_evaluate_computes_every_metric_without_updates():
    model = tiny_cycle_gan()
    weights = [w for w in model.weights if w.path != "eval_steps"]
    before = snapshot(weights)
    result = model.evaluate(tf.data.Dataset.from_tensors(unpaired(4)), verbose=0, return_dict=True)
    assert set(result) == {"d_loss", "g_loss", "adversarial_loss", "cycle_loss", "identity_loss"}
    assert all(np.isfinite(v) for v in result.values())
    assert changed(before, weights) == set()


def test_keras_save_and_load_round_trip(tmp_path):
    model = tiny_cycle_gan(cycle_loss_weight=7.0, identity_loss_weight=0.25, loss="hinge", seed=3)
    model.fit(tf.data.Dataset.from_tensors(unpaired(4)), verbose=0)
    path = str(tmp_path / "cycle_gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, CycleGAN)
    assert (loaded.cycle_loss_weight, loaded.identity_loss_weight, loaded.loss_name, loaded.seed) == (7.0, 0.25, "hinge", 3)
    assert int(loaded.generator_optimizer.iterations) == 1
    np.testing.assert_array_equal(loaded.pool_x.images.numpy(), model.pool_x.images.numpy())
    x = random_images(2, SHAPE, 9)
    np.testing.assert_allclose(model.translate(x, "y_to_x"), loaded.translate(x, "y_to_x"), atol=1e-6)
    five = random_images(5, SHAPE, 10)  # In chunks of 2 (memory: one chunk's activations), as one call.
    np.testing.assert_allclose(model.translate(five, "x_to_y", batch_size=2), model.translate(five, "x_to_y"), atol=1e-5)


@pytest.mark.parametrize(
    "batch, message",
    [
        (random_images(4, SHAPE), "unpaired batches"),
        ((random_images(4, SHAPE), random_images(4, (16, 16, 3))), "channel"),
        ((random_images(4, SHAPE) * 200, random_images(4, SHAPE)), r"\[-1, 1\]"),
    ],
)
def test_bad_batches_are_rejected_before_training(batch, message):
    model = tiny_cycle_gan()
    with pytest.raises(ValueError, match=message):
        model.fit(tf.data.Dataset.from_tensors(batch), verbose=0)
    assert int(model.train_steps) == 0


def test_mismatched_networks_are_rejected():
    g = resnet_generator(SHAPE, base_filters=4, num_residual_blocks=1)
    rgb = resnet_generator((16, 16, 3), base_filters=4, num_residual_blocks=1)
    d = patch_discriminator(SHAPE, 4, 1)
    with pytest.raises(ValueError, match="inverse directions"):
        CycleGAN(g, rgb, d, d)
    with pytest.raises(ValueError, match="loss weights|>= 0"):
        CycleGAN(g, g, d, d, cycle_loss_weight=-1.0)
    with pytest.raises(ValueError, match="gradient penalty"):
        CycleGAN(g, g, d, d, loss="wasserstein")


RELOAD_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
assert "kgan" not in sys.modules
request = json.load(open(sys.argv[1]))
loaded = tf.saved_model.load(request["path"])
x = np.load(request["images"])
report = {"signatures": sorted(loaded.signatures.keys())}
outputs = {}
for name in ("x_to_y", "y_to_x", "serving_default"):
    out = loaded.signatures[name](images=tf.constant(x))
    outputs[name] = out["images"].numpy()
    report[name] = {k: [str(v.dtype.name), list(v.shape)] for k, v in out.items()}
pixels = np.round((x + 1) * 127.5).astype(np.uint8)
outputs["x_to_y_uint8"] = loaded.signatures["x_to_y_uint8"](images=tf.constant(pixels))["images"].numpy()
np.savez(request["outputs"], **outputs)
json.dump(report, open(request["report"], "w"))
"""


def test_export_serves_both_directions_in_a_tf_only_process(tmp_path):
    model = tiny_cycle_gan()
    model.fit(tf.data.Dataset.from_tensors(unpaired(4)), verbose=0)
    x = np.round((random_images(3, SHAPE, 5) + 1) * 127.5) / 127.5 - 1  # exactly representable as uint8
    x = x.astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    request = {
        "path": export.export_saved_model(model, tmp_path / "exports", name="cycle_gan"),
        "images": str(tmp_path / "x.npy"),
        "outputs": str(tmp_path / "out.npz"),
        "report": str(tmp_path / "report.json"),
    }
    (tmp_path / "request.json").write_text(json.dumps(request))
    run_script(tmp_path, RELOAD_SCRIPT, tmp_path / "request.json", in_repo=False)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["signatures"] == ["serving_default", "x_to_y", "x_to_y_uint8", "y_to_x", "y_to_x_uint8"]
    assert report["x_to_y"] == {
        "images": ["float32", [3, 16, 16, 1]], "images_uint8": ["uint8", [3, 16, 16, 1]], "images_png_bytes": ["string", [3]],
    }
    outputs = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(outputs["x_to_y"], model.translate(x, "x_to_y"), atol=1e-5)
    np.testing.assert_allclose(outputs["y_to_x"], model.translate(x, "y_to_x"), atol=1e-5)
    np.testing.assert_array_equal(outputs["serving_default"], outputs["x_to_y"])
    np.testing.assert_allclose(outputs["x_to_y_uint8"], outputs["x_to_y"], atol=1e-5)
