"""`kgan.StarGAN` (Choi et al. 2018): classification losses by hand, reconstruction gradients through
both passes, step semantics, target sampling, serialization, export, input checks, two replicas."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import export, losses
from kgan.models.star_gan import StarGAN
from kgan.networks import multi_task_patch_discriminator, resnet_generator
from tests.test_case import changed, random_images, run_script, snapshot

SHAPE = (16, 16, 3)
K = 4


def tiny_star_gan(compile=True, num_domains=K, conditional_critic=False, output_head="image", **kwargs):
    generator = resnet_generator(SHAPE, condition_dim=num_domains, base_filters=4, num_residual_blocks=1, num_downsampling=1,
                                 padding="zero", sampling_kernel_size=4, output_head=output_head)
    discriminator = multi_task_patch_discriminator(SHAPE, num_domains, 4, 2, condition_dim=num_domains if conditional_critic else 0)
    kwargs.setdefault("discriminator_steps", 2)
    model = StarGAN(generator, discriminator, num_domains, **kwargs)
    if compile:
        model.compile()
    return model


def batch(n, seed=0, single_label=False):
    rng = np.random.default_rng(seed)
    if single_label:
        attributes = np.eye(K, dtype=np.float32)[rng.integers(0, K, n)]
    else:
        attributes = rng.integers(0, 2, (n, K)).astype(np.float32)
    return random_images(n, SHAPE, seed), attributes


def test_multi_label_loss_is_summed_sigmoid_cross_entropy_by_hand():
    labels = np.array([[1.0, 0.0], [0.0, 0.0]])
    logits = np.array([[0.0, 2.0], [-1.0, 1.0]])
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = (-np.log(0.5) - np.log(1 - sigmoid(2.0)) - np.log(1 - sigmoid(-1.0)) - np.log(1 - sigmoid(1.0))) / 2
    assert float(losses.domain_classification_loss(labels, logits, "multi_label")) == pytest.approx(expected, rel=1e-5)


def test_single_label_loss_is_softmax_cross_entropy_by_hand():
    labels = np.array([[0.0, 1.0, 0.0]])
    logits = np.array([[1.0, 2.0, 0.0]])
    expected = -np.log(np.exp(2.0) / np.exp([1.0, 2.0, 0.0]).sum())
    assert float(losses.domain_classification_loss(labels, logits, "single_label")) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="label_kind"):
        losses.domain_classification_loss(labels, logits, "multi_class")


def test_reconstruction_gradient_reaches_the_generator_through_both_passes():
    model = tiny_star_gan(compile=False)
    x, c = batch(2)
    target = c[::-1].copy()
    variables = model.generator_variables

    def gradients(first_pass_frozen):
        with tf.GradientTape() as tape:
            fake = model([x, target], training=True)
            if first_pass_frozen:
                fake = tf.stop_gradient(fake)
            loss = losses.reconstruction_loss(x, model([fake, c], training=True))
        return [g.numpy() for g in tape.gradient(loss, variables)]

    both, second_only = gradients(False), gradients(True)
    assert all(np.isfinite(g).all() for g in both)
    # The first pass G(x, c) contributes: the full gradient differs from the second pass's alone.
    assert max(float(np.abs(a - b).max()) for a, b in zip(both, second_only)) > 1e-6


def test_a_train_step_makes_k_critic_updates_each_network_with_its_own_optimizer():
    model = tiny_star_gan(discriminator_steps=3)
    g_before, d_before = snapshot(model.generator_variables), snapshot(model.discriminator_variables)
    model.fit(tf.data.Dataset.from_tensors(batch(6)), verbose=0)
    assert int(model.discriminator_optimizer.iterations) == 3 and int(model.generator_optimizer.iterations) == 1
    assert changed(g_before, model.generator_variables) == {v.path for v in model.generator_variables}
    assert changed(d_before, model.discriminator_variables) == {v.path for v in model.discriminator_variables}
    assert len(model.generator_optimizer.variables) == 2 * len(model.generator_variables) + 2
    assert len(model.discriminator_optimizer.variables) == 2 * len(model.discriminator_variables) + 2


def test_targets_permute_the_batch_labels_and_change_every_step():
    model = tiny_star_gan(compile=False)
    _, c = batch(32)
    first = model.target_labels(tf.constant(c), stream=0).numpy()
    assert sorted(map(tuple, first)) == sorted(map(tuple, c))
    assert not np.array_equal(first, c)
    model.train_steps.assign(1)
    assert not np.array_equal(first, model.target_labels(tf.constant(c), stream=0).numpy())


def test_identity_term_is_the_l1_of_translating_to_the_own_attributes():
    model = tiny_star_gan(compile=False, identity_weight=3.0)
    x, c = batch(4)
    minibatch, inputs = (tf.constant(x), tf.constant(c)), {"targets": tf.constant(c[::-1].copy())}
    loss, extras = model.generator_loss(minibatch, inputs, training=False)
    expected = np.mean(np.abs(x - np.asarray(model.translate(x, c))))
    assert float(extras["identity_loss"]) == pytest.approx(expected, rel=1e-4)
    model.identity_weight = 0.0
    without, extras_without = model.generator_loss(minibatch, inputs, training=False)
    assert float(loss - without) == pytest.approx(3.0 * expected, rel=1e-4)
    assert "identity_loss" not in extras_without


def test_translate_runs_in_chunks_equal_to_one_call():
    model = tiny_star_gan(compile=False)
    x, c = batch(5)
    np.testing.assert_allclose(model.translate(x, c, batch_size=2), model.translate(x, c), atol=1e-5)


def test_preview_rows_translate_every_input_to_each_input_s_attributes():
    model = tiny_star_gan(compile=False)
    x, c = batch(3)
    rows = model.preview_rows((x, c))
    assert len(rows) == 4 and all(np.asarray(r).shape == x.shape for r in rows)
    np.testing.assert_array_equal(rows[0], x)
    np.testing.assert_allclose(rows[2], model.translate(x, np.repeat(c[1:2], 3, axis=0)), atol=1e-6)
    single = tiny_star_gan(compile=False, label_kind="single_label")
    assert len(single.preview_rows(batch(3, single_label=True))) == 1 + K


def test_evaluate_computes_every_metric_without_updates():
    model = tiny_star_gan()
    weights = [w for w in model.weights if w.path != "eval_steps"]
    before = snapshot(weights)
    result = model.evaluate(tf.data.Dataset.from_tensors(batch(4)), verbose=0, return_dict=True)
    assert set(result) == set(model.metric_names) and "identity_loss" not in result  # Weight 0: not computed, not logged.
    assert all(np.isfinite(v) for v in result.values())
    assert changed(before, weights) == set()


def test_single_label_domains_train():
    model = tiny_star_gan(label_kind="single_label")
    history = model.fit(tf.data.Dataset.from_tensors(batch(4, single_label=True)), verbose=0)
    assert np.isfinite(history.history["d_cls_loss"][0])


def test_keras_save_and_load_round_trip(tmp_path):
    model = tiny_star_gan(classification_weight=2.0, reconstruction_weight=5.0, gradient_penalty_weight=1.0, seed=3)
    model.fit(tf.data.Dataset.from_tensors(batch(4)), verbose=0)
    path = str(tmp_path / "star_gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, StarGAN)
    assert (loaded.classification_weight, loaded.reconstruction_weight, loaded.gradient_penalty_weight, loaded.seed) == (2.0, 5.0, 1.0, 3)
    assert int(loaded.discriminator_optimizer.iterations) == 2
    x, c = batch(2, seed=5)
    np.testing.assert_allclose(model.translate(x, c), loaded.translate(x, c), atol=1e-6)


def test_a_conditional_critic_scores_real_images_with_their_labels_and_translations_with_their_targets():
    model = tiny_star_gan(compile=False, conditional_critic=True, classification_weight=0.0, gradient_penalty_weight=0.0,
                          reconstruction_weight=0.0)
    assert model.conditional_critic and not tiny_star_gan(compile=False).conditional_critic
    x, c = batch(4)
    targets = c[::-1].copy()
    minibatch, inputs = (tf.constant(x), tf.constant(c)), {"targets": tf.constant(targets), "epsilon": tf.fill([4], 0.5)}
    fake = np.asarray(model.translate(x, targets))
    real_score = np.mean(model.discriminator([x, c])[0])
    fake_score = np.mean(model.discriminator([fake, targets])[0])
    d_loss, _ = model.discriminator_loss(minibatch, inputs, training=False)
    g_loss, _ = model.generator_loss(minibatch, inputs, training=False)
    assert float(d_loss) == pytest.approx(fake_score - real_score, abs=1e-4)
    assert float(g_loss) == pytest.approx(-fake_score, abs=1e-4)


def test_a_conditional_critic_is_penalised_at_interpolated_images_and_labels():
    from kgan import penalties

    model = tiny_star_gan(compile=False, conditional_critic=True, classification_weight=0.0, gradient_penalty_weight=1.0)
    x, c = batch(4)
    targets = c[::-1].copy()
    epsilon = np.array([0.0, 0.25, 0.5, 1.0], np.float32)
    inputs = {"targets": tf.constant(targets), "epsilon": tf.constant(epsilon)}
    _, extras = model.discriminator_loss((tf.constant(x), tf.constant(c)), inputs, training=False)
    mixed = epsilon[:, None] * c + (1 - epsilon[:, None]) * targets
    expected = penalties.gradient_penalty(lambda v: model.discriminator([v, tf.constant(mixed)])[0], x, np.asarray(model.translate(x, targets)), epsilon)
    assert float(extras["gradient_penalty"]) == pytest.approx(float(expected), rel=1e-4)


def test_the_affine_head_and_the_conditional_critic_train_and_round_trip_through_keras_files(tmp_path):
    model = tiny_star_gan(conditional_critic=True, output_head="affine")
    x, c = batch(4)
    np.testing.assert_array_equal(model.translate(x, c[::-1]), x)  # The affine head starts as a copy.
    model.fit(tf.data.Dataset.from_tensors(batch(4)), verbose=0)
    path = str(tmp_path / "star_gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.conditional_critic
    np.testing.assert_allclose(model.translate(x, c), loaded.translate(x, c), atol=1e-6)
    np.testing.assert_allclose(model.discriminator([x, c])[0], loaded.discriminator([x, c])[0], atol=1e-5)


def test_a_conditional_critic_must_take_the_generator_s_labels():
    with pytest.raises(ValueError, match="discriminator's conditions have 3 entries"):
        StarGAN(resnet_generator(SHAPE, condition_dim=K, base_filters=4, num_residual_blocks=1),
                multi_task_patch_discriminator(SHAPE, K, 4, 2, condition_dim=3), K)


@pytest.mark.parametrize(
    "bad, message",
    [
        (random_images(4, SHAPE), "\\(images, attributes\\)"),
        ((random_images(4, SHAPE), np.zeros((4, 3), np.float32)), "attributes must be \\[batch, 4\\]"),
        ((random_images(4, SHAPE), np.full((4, K), 0.5, np.float32)), "0/1"),
        ((random_images(4, (16, 16, 1)), np.zeros((4, K), np.float32)), "channel"),
    ],
)
def test_bad_batches_are_rejected_before_training(bad, message):
    model = tiny_star_gan()
    with pytest.raises(ValueError, match=message):
        model.fit(tf.data.Dataset.from_tensors(bad), verbose=0)
    assert int(model.train_steps) == 0


def test_single_label_rows_must_be_one_hot_and_networks_must_fit():
    model = tiny_star_gan(label_kind="single_label")
    with pytest.raises(ValueError, match="one-hot"):
        model.fit(tf.data.Dataset.from_tensors(batch(4)), verbose=0)
    with pytest.raises(ValueError, match="condition_dim"):
        StarGAN(resnet_generator(SHAPE, base_filters=4, num_residual_blocks=1), multi_task_patch_discriminator(SHAPE, K, 4, 2), K)
    with pytest.raises(ValueError, match="num_domains"):
        StarGAN(resnet_generator(SHAPE, condition_dim=3, base_filters=4, num_residual_blocks=1), multi_task_patch_discriminator(SHAPE, K, 4, 2), 3)


RELOAD_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
assert "kgan" not in sys.modules
request = json.load(open(sys.argv[1]))
loaded = tf.saved_model.load(request["path"])
x, c = np.load(request["images"]), np.load(request["targets"])
out = loaded.signatures["serving_default"](images=tf.constant(x), target_attributes=tf.constant(c))
pixels = np.round((x + 1) * 127.5).astype(np.uint8)
out8 = loaded.signatures["translate_uint8"](images=tf.constant(pixels), target_attributes=tf.constant(c))
np.savez(request["outputs"], images=out["images"].numpy(), uint8_path=out8["images"].numpy())
json.dump({"signatures": sorted(loaded.signatures.keys()), "dtypes": {k: v.dtype.name for k, v in out.items()}}, open(request["report"], "w"))
"""


def test_export_serves_translations_in_a_tf_only_process(tmp_path):
    model = tiny_star_gan()
    x, c = batch(3, seed=7)
    x = (np.round((x + 1) * 127.5) / 127.5 - 1).astype(np.float32)  # exactly representable as uint8
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "c.npy", c)
    request = {
        "path": export.export_saved_model(model, tmp_path / "exports", name="star_gan"),
        "images": str(tmp_path / "x.npy"), "targets": str(tmp_path / "c.npy"),
        "outputs": str(tmp_path / "out.npz"), "report": str(tmp_path / "report.json"),
    }
    (tmp_path / "request.json").write_text(json.dumps(request))
    run_script(tmp_path, RELOAD_SCRIPT, tmp_path / "request.json", in_repo=False)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == {"signatures": ["serving_default", "translate_uint8"], "dtypes": {"images": "float32", "images_uint8": "uint8", "images_png_bytes": "string"}}
    outputs = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(outputs["images"], model.translate(x, c), atol=1e-5)
    np.testing.assert_allclose(outputs["uint8_path"], outputs["images"], atol=1e-5)


# ---------------------------------------------------------------------- several datasets (sec. 3.2: the mask vector)

GROUPS = ((4, "multi_label"), (3, "single_label"))
UNIFIED = 4 + 3 + 2


def grouped_star_gan(compile=True, condition_dim=UNIFIED, head=4 + 3, **kwargs):
    generator = resnet_generator(SHAPE, condition_dim=condition_dim, base_filters=4, num_residual_blocks=1, padding="zero",
                                 sampling_kernel_size=4)
    model = StarGAN(generator, multi_task_patch_discriminator(SHAPE, head, 4, 2), UNIFIED, label_groups=GROUPS,
                    discriminator_steps=2, **kwargs)
    if compile:
        model.compile()
    return model


def unified_batch(n, seed=0):
    """Rows alternate between the groups: even rows know 4 attributes, odd rows one of 3 domains."""
    from kgan.label_groups import unify_labels

    rng = np.random.default_rng(seed)
    labels = np.zeros((n, UNIFIED), np.float32)
    labels[0::2] = unify_labels(rng.integers(0, 2, (len(labels[0::2]), 4)), 0, GROUPS)
    labels[1::2] = unify_labels(np.eye(3)[rng.integers(0, 3, len(labels[1::2]))], 1, GROUPS)
    return random_images(n, SHAPE, seed), labels


def test_masked_classification_loss_scores_each_example_s_known_group_only_by_hand():
    groups = ((2, "multi_label"), (3, "single_label"))
    # Rows 0, 1 know group 0 (attributes [1, 0], [0, 1]); row 2 knows group 1 (domain 2).
    labels = np.array([[1, 0, 0, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1, 0], [0, 0, 0, 0, 1, 0, 1]], np.float32)
    logits = np.array([[0.0, 2.0, 5.0, -3.0, 1.0], [1.0, -1.0, 0.0, 0.0, 0.0], [4.0, 4.0, 1.0, 2.0, 0.0]], np.float32)
    log_sigmoid = lambda z: -np.log1p(np.exp(-z))  # noqa: E731
    group_0 = (-log_sigmoid(0.0) - log_sigmoid(-2.0) - log_sigmoid(-1.0) - log_sigmoid(-1.0)) / 2  # Mean over rows 0, 1.
    group_1 = -(0.0 - np.log(np.exp([1.0, 2.0, 0.0]).sum()))  # Row 2 alone: softmax CE of domain 2.
    loss = float(losses.masked_domain_classification_loss(labels, logits, groups))
    assert loss == pytest.approx(group_0 + group_1, rel=1e-5)
    # Row 0 knows group 0 only: its group-1 logits (and row 2's group-0 logits) change nothing.
    other = logits.copy()
    other[0, 2:] = [-9.0, 9.0, 3.0]
    other[2, :2] = [-7.0, 7.0]
    assert float(losses.masked_domain_classification_loss(labels, other, groups)) == pytest.approx(loss, rel=1e-6)
    # A group no row has adds 0 (not 0 / 0); explicit normalizers divide each group's sum.
    assert float(losses.masked_domain_classification_loss(labels[:2], logits[:2], groups)) == pytest.approx(group_0, rel=1e-5)
    halved = losses.masked_domain_classification_loss(labels, logits, groups, normalizers=np.array([4.0, 2.0], np.float32))
    assert float(halved) == pytest.approx((group_0 + group_1) / 2, rel=1e-5)


def test_label_groups_train_with_masked_losses_and_targets_from_either_group():
    model = grouped_star_gan()
    x, c = unified_batch(8)
    inputs = model.discriminator_inputs((tf.constant(x), tf.constant(c)), 0)
    np.testing.assert_allclose(inputs["group_normalizers"], [4.0, 4.0])
    assert sorted(map(tuple, inputs["targets"].numpy())) == sorted(map(tuple, c))  # Mask included.
    history = model.fit(tf.data.Dataset.from_tensors((x, c)), verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert model.num_logits == 7 and len(model.preview_rows(unified_batch(3))) == 4


def test_label_groups_round_trip_through_get_config_and_keras_files(tmp_path):
    model = grouped_star_gan()
    config = json.loads(json.dumps(model.get_config()))
    assert config["label_groups"] == [[4, "multi_label"], [3, "single_label"]]
    assert StarGAN.from_config(config).label_groups == GROUPS
    model.save(tmp_path / "grouped.keras")
    loaded = keras.models.load_model(tmp_path / "grouped.keras")
    x, c = unified_batch(2, seed=3)
    assert loaded.label_groups == GROUPS
    np.testing.assert_allclose(model.translate(x, c), loaded.translate(x, c), atol=1e-6)
    assert tiny_star_gan(compile=False).get_config()["label_groups"] is None


def test_label_groups_refuse_networks_and_settings_that_do_not_fit():
    with pytest.raises(ValueError, match=r"conditions have 7 entries; num_domains is 9 \(the unified labels"):
        grouped_star_gan(compile=False, condition_dim=7)
    with pytest.raises(ValueError, match=r"domain logits \[B, 7\]\] \(the label groups' sizes summed, no mask\)"):
        grouped_star_gan(compile=False, head=UNIFIED)
    networks = (resnet_generator(SHAPE, condition_dim=8, base_filters=4, num_residual_blocks=1), multi_task_patch_discriminator(SHAPE, 7, 4, 1))
    with pytest.raises(ValueError, match="num_domains must be the length of the unified labels c~, 9"):
        StarGAN(*networks, 8, label_groups=GROUPS)
    with pytest.raises(ValueError, match="each group has its own kind"):
        StarGAN(*networks, 9, label_kind="single_label", label_groups=GROUPS)
    for groups, message in ((((4, "multi_label"),), "two or more groups"), (((4, "multi"), (3, "single_label")), "kind must be"),
                            (((4, "multi_label"), (1, "single_label")), ">= 2 for single_label"), ((4, 3), "pairs")):
        with pytest.raises(ValueError, match=message):
            StarGAN(*networks, 9, label_groups=groups)


def _with(labels, row, values):
    labels = labels.copy()
    labels[row] = values
    return labels


@pytest.mark.parametrize(
    "row, message",
    [
        ([1, 0, 1, 0, 0, 0, 0, 1, 1], r"mask \(the last 2 entries of each label row\) must be one-hot.*row 3"),
        ([1, 0, 1, 0, 0, 0, 0, 0, 0], r"must be one-hot, naming the one group"),
        ([1, 0, 1, 0, 0, 1, 0, 1, 0], r"row 3: label group 1 is unknown there .* must be zeros"),
        ([0, 0, 0, 0, 1, 1, 0, 0, 1], r"row 3: label group 1 is single_label, so its entries must be one-hot"),
    ],
)
def test_unified_batches_with_a_bad_mask_or_group_are_refused_with_a_message(row, message):
    model = grouped_star_gan()
    x, c = unified_batch(4)
    with pytest.raises(ValueError, match=message):
        model.fit(tf.data.Dataset.from_tensors((x, _with(c, 3, row))), verbose=0)
    assert int(model.train_steps) == 0
