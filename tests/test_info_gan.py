"""`kgan.InfoGAN`: the mutual-information term, where its gradient goes, codes and sampling, serving, the code
grid, config and binary, and learning on the ring of 8 (the contract harness: tests/test_case.py's case)."""

import dataclasses
import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import configs, mutual_information, registry
from kgan.metrics import code_scores
from kgan.data.mixtures import gaussian_mixture
from kgan.models.info_gan import InfoGAN, LatentCodes
from kgan.networks import mlp_generator
from kgan.networks.info_gan import info_dcgan_discriminator, info_mlp_discriminator
from tests.test_case import REPO, random_images

HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)  # 0.918939


def points_info_gan(categorical=(4,), continuous=1, learn_variance=False, latent_dim=3, hidden=(16,), **kwargs):
    codes = LatentCodes(categorical, continuous, learn_variance)
    return InfoGAN(mlp_generator(latent_dim + codes.width, 2, hidden), info_mlp_discriminator(2, codes.q_width, hidden, 8),
                   latent_dim, categorical, continuous, learn_continuous_variance=learn_variance, **kwargs)


def _points(n=32, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32))


# ---------------------------------------------------------------------- the MI term


def test_categorical_term_is_the_cross_entropy_of_the_code():
    # -log softmax([2, 0, 0])[0] = log(1 + 2 e^-2) = 0.239545; -log softmax([0, 0, 0])[c] = log 3 = 1.098612.
    logits = tf.constant([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    value = mutual_information.categorical_information_loss(tf.constant([0, 2]), logits)
    assert float(value) == pytest.approx((0.239545 + 1.098612) / 2, abs=1e-6)


def test_gaussian_term_is_the_negative_log_likelihood_fixed_or_learned_variance():
    codes, mean = tf.constant([[0.5, -1.0]]), tf.constant([[0.0, -1.0]])
    # sigma = 1: per code 0.5 log 2 pi + (c - mu)^2 / 2 -> 0.918939 + 0.125, 0.918939 + 0.
    fixed = mutual_information.gaussian_information_loss(codes, mean)
    assert float(fixed) == pytest.approx(2 * HALF_LOG_TWO_PI + 0.125, abs=1e-6)
    # sigma = 0.5 then 2: 0.918939 + log 0.5 + 0.25 / (2 * 0.25) = 0.725791; 0.918939 + log 2 + 0 = 1.612086.
    learned = mutual_information.gaussian_information_loss(codes, mean, tf.math.log(tf.constant([[0.5, 2.0]])))
    assert float(learned) == pytest.approx(0.725791 + 1.612086, abs=1e-5)


def test_the_model_splits_q_per_code_and_sums_the_terms():
    model = points_info_gan(categorical=(3, 2), continuous=2, learn_variance=True)
    inputs = {"categorical": tf.constant([[0, 1]]), "continuous": tf.constant([[0.5, -1.0]])}
    # q = [logits of code 0 (3) | logits of code 1 (2) | means (2) | log stds (2)].
    q = tf.constant([[2.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, math.log(0.5), math.log(2.0)]])
    terms = model.information_terms("d", inputs, q)
    assert set(terms) == {"d_info_categorical", "d_info_continuous"}
    assert [weight for weight, _ in terms.values()] == [1.0, 0.1]  # The paper's lambdas by default.
    assert float(terms["d_info_categorical"][1]()) == pytest.approx(0.239545 + math.log(2), abs=1e-6)
    assert float(terms["d_info_continuous"][1]()) == pytest.approx(0.725791 + 1.612086, abs=1e-5)


def _variables(model):
    d = model.discriminator
    head = lambda name: [id(v) for v in d.get_layer(name).trainable_variables]  # noqa: E731
    trunk = [id(v) for v in d.get_layer("discriminator_core_features").trainable_variables]
    return {"generator": [id(v) for v in model.generator.trainable_variables], "trunk": trunk, "q": head("q_hidden") + head("q"),
            "logit": head("logit")}


def _gradients(tape, target, model):
    variables = {id(v): v for v in model.trainable_variables}
    parts = _variables(model)
    return {part: tape.gradient(target, [variables[i] for i in ids]) for part, ids in parts.items()}


def test_the_mi_term_reaches_the_generator_the_trunk_and_q_but_not_ds_score_layer():
    keras.utils.set_random_seed(0)
    model = points_info_gan()
    inputs = model.generator_inputs(tf.zeros([32, 2]), 0, {}, training=True)
    with tf.GradientTape(persistent=True) as tape:
        _, extras = model.generator_loss(_points(), inputs)
        information = extras["g_info_categorical"] + extras["g_info_continuous"]
    gradients = _gradients(tape, information, model)
    for part in ("generator", "trunk", "q"):
        assert all(g is not None for g in gradients[part]) and any(float(tf.reduce_max(tf.abs(g))) > 0 for g in gradients[part]), part
    assert all(g is None for g in gradients["logit"])


def test_the_mi_term_has_no_path_through_the_real_branch():
    keras.utils.set_random_seed(0)
    model = points_info_gan()
    inputs = model.discriminator_inputs(_points(), 0, {}, training=True)
    q_gradients, trunk_gradients = [], []
    for seed in (1, 2):  # Two real minibatches, the same fakes.
        real = _points(seed=seed)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(real)
            loss, extras = model.discriminator_loss(real, inputs)
        assert tape.gradient(loss, real) is not None  # D's loss reads the real samples...
        for name in ("d_info_categorical", "d_info_continuous"):
            assert tape.gradient(extras[name], real) is None, name  # ...the MI terms do not.
        gradients = _gradients(tape, loss, model)
        q_gradients.append([g.numpy() for g in gradients["q"]])
        trunk_gradients.append([g.numpy() for g in gradients["trunk"]])
    for a, b in zip(*q_gradients):  # Q's head learns from the fakes only: the real batch changes nothing of it.
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(*trunk_gradients))  # While the trunk's gradient sees it.


def test_a_discriminator_update_trains_q_a_generator_update_only_g():
    model = points_info_gan()
    model.compile(optimizers={g: keras.optimizers.SGD(0.1) for g in model.groups})
    q = model.discriminator.get_layer("q")
    before = q.kernel.numpy().copy()
    model.update("generator", _points())
    np.testing.assert_array_equal(q.kernel.numpy(), before)
    model.update("discriminator", _points())
    assert not np.array_equal(q.kernel.numpy(), before)


# ---------------------------------------------------------------------- codes, sampling, serving


def test_codes_are_drawn_uniformly_and_the_same_for_equal_update_index():
    model = points_info_gan(categorical=(3, 5), continuous=2)
    codes = model.code_inputs(4000, 0)
    categorical, continuous = codes["categorical"].numpy(), codes["continuous"].numpy()
    for j, k in enumerate((3, 5)):
        counts = np.bincount(categorical[:, j], minlength=k)
        assert len(counts) == k and np.all(np.abs(counts / 4000 - 1 / k) < 0.03), counts
    assert continuous.min() >= -1 and continuous.max() <= 1 and abs(continuous.mean()) < 0.05
    one_hot = codes["codes"].numpy()
    assert one_hot.shape == (4000, 3 + 5 + 2) and np.all(one_hot[:, :8].sum(axis=1) == 2)
    g_codes = model.generator_inputs(tf.zeros([4000, 2]), 0, {})["categorical"]
    np.testing.assert_array_equal(g_codes, categorical)
    assert not np.array_equal(model.code_inputs(4000, 1)["categorical"], categorical)


def test_sampling_inputs_enumerate_the_codes_from_the_offset():
    model = points_info_gan(categorical=(2, 3), continuous=1)
    z, categorical, continuous = model.sampling_inputs(7, seed=4, offset=5)
    np.testing.assert_array_equal(categorical.numpy(), [[1, 2], [0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 2]])
    np.testing.assert_array_equal(z, tf.random.stateless_normal([7, 3], seed=[4, 0]))
    assert continuous.shape == (7, 1)
    inputs, rows = model.preview_inputs(8, seed=0)
    assert rows == 2 and inputs[1].numpy()[:, 0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_generate_and_the_exported_signatures_agree_and_check_their_inputs():
    keras.utils.set_random_seed(0)
    model = points_info_gan(categorical=(4,), continuous=1)
    categorical, continuous = np.array([[0], [3], [1]], np.int32), np.array([[0.5], [-2.0], [0.0]], np.float32)
    expected = model.generate(categorical=categorical, continuous=continuous, seed=7).numpy()
    endpoints = model.serving_endpoints()
    served = endpoints["sample"](categorical=tf.constant(categorical), continuous=tf.constant(continuous), seed=tf.constant(7, tf.int64))
    np.testing.assert_allclose(served["samples"], expected, atol=1e-6)
    z = tf.random.stateless_normal([3, 3], seed=[7, 0])
    default = endpoints["serving_default"](z=z, categorical=tf.constant(categorical), continuous=tf.constant(continuous))
    np.testing.assert_allclose(default["samples"], expected, atol=1e-6)
    prior = endpoints["sample_prior"](num_images=tf.constant(9), seed=tf.constant(7, tf.int64))["samples"]
    np.testing.assert_allclose(prior, model.generate(9, seed=7), atol=1e-6)  # Codes enumerated, as sampling_inputs draws them.
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_images must be >= 1"):
        endpoints["sample_prior"](num_images=tf.constant(0), seed=tf.constant(7, tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"categorical code j must lie in \[0, K_j\) for K = \(4,\)"):
        endpoints["sample"](categorical=tf.constant([[4]]), continuous=tf.constant([[0.0]]), seed=tf.constant(0, tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        endpoints["serving_default"](z=z, categorical=tf.constant([[0], [1]]), continuous=tf.constant(continuous))
    with pytest.raises(ValueError, match=r"\[0, K_j\)"):
        model.generate(categorical=np.array([[5]]), continuous=np.zeros((1, 1)))


def test_a_model_with_one_kind_of_code_serves_only_that_input():
    model = points_info_gan(categorical=(), continuous=2)
    endpoints = model.serving_endpoints()
    assert [s.name for s in endpoints["sample"].input_signature] == ["continuous", "seed"]
    out = endpoints["sample"](continuous=tf.zeros([2, 2]), seed=tf.constant(1, tf.int64))
    np.testing.assert_allclose(out["samples"], model.generate(continuous=np.zeros((2, 2)), seed=1), atol=1e-6)
    assert model.predict_codes(_points(5))[0].shape == (5, 0)


def test_predict_codes_reads_q_argmax_and_means():
    model = points_info_gan(categorical=(3,), continuous=2, learn_variance=True)
    points = _points(2000)
    categorical, continuous = model.predict_codes(points, batch_size=700)
    _, q = model.discriminator(points, training=False)
    np.testing.assert_array_equal(categorical[:, 0], np.argmax(q[:, :3], axis=-1))
    np.testing.assert_allclose(continuous, q[:, 3:5], atol=1e-6)


def test_code_sample_view_classifies_the_samples_of_each_code_value():
    model = points_info_gan(categorical=(4,), continuous=1)
    constant = keras.Sequential([keras.Input((2,)), keras.layers.Dense(5, kernel_initializer="zeros")])
    constant.layers[-1].bias.assign([0.0, 0.0, 1.0, 0.0, 0.0])  # Every sample is class 2.
    scores = code_scores.code_sample_scores(model, constant, samples_per_value=30, class_names="abcde")
    assert scores["majority"] == [2, 2, 2, 2] and scores["majority_names"] == ["c"] * 4 and scores["modes_hit"] == 1
    assert scores["purity"] == 1.0 and scores["accuracy"] == 0.25 and scores["nmi"] == 0.0  # Pure, but one class for all.
    assert scores["samples_per_value"] == 30 and "code 0" in code_scores.format_code_sample_scores(scores)


def test_constructor_refuses_networks_that_do_not_fit_the_codes():
    codes = LatentCodes((4,), 1)
    discriminator = info_mlp_discriminator(2, codes.q_width, (8,))
    with pytest.raises(ValueError, match="latent_dim \\+ codes = 3 \\+ 5"):
        InfoGAN(mlp_generator(3, 2, (8,)), discriminator, 3, (4,), 1)
    with pytest.raises(ValueError, match="q of width 6"):
        InfoGAN(mlp_generator(8, 2, (8,)), discriminator, 3, (4,), 1, learn_continuous_variance=True)
    with pytest.raises(ValueError, match="at least one latent code"):
        LatentCodes((), 0)
    with pytest.raises(ValueError, match="K >= 2"):
        LatentCodes((1,), 0)
    with pytest.raises(ValueError, match="BatchNormalization"):
        InfoGAN(mlp_generator(62 + 12, 2, (8,)), info_dcgan_discriminator((28, 28, 1), 12, 8), 62, gradient_penalty_weight=10.0)


def test_wgan_gp_variant_trains_with_the_penalty_and_the_mi_terms():
    from kgan.networks import dcgan_generator

    codes = LatentCodes((10,), 2)
    model = InfoGAN(dcgan_generator(8 + codes.width, (28, 28, 1), 8), info_dcgan_discriminator((28, 28, 1), codes.q_width, 8, "layer", 16),
                    8, loss="wasserstein", gradient_penalty_weight=10.0, discriminator_steps=2)
    model.compile()
    history = model.fit(tf.data.Dataset.from_tensors(random_images(8)).repeat(), steps_per_epoch=2, verbose=0).history
    assert {"gradient_penalty", "wasserstein_estimate", "d_info_categorical", "g_info_continuous"} <= set(history)
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert int(model.discriminator_optimizer.iterations.numpy()) == 4  # k = 2 critic (and Q) steps per G step.


def test_code_grid_varies_one_code_per_row(tmp_path):
    from kgan.callbacks import CodeGrid
    from kgan.networks import dcgan_generator

    codes = LatentCodes((4,), 1)
    model = InfoGAN(dcgan_generator(8 + codes.width, (28, 28, 1), 8), info_dcgan_discriminator((28, 28, 1), codes.q_width, 8), 8, (4,), 1)
    inputs, columns = model.traversal_inputs(1, rows=2, steps=5, seed=3, extent=2.0)
    assert columns == 5
    np.testing.assert_allclose(inputs[2].numpy()[:, 0], np.tile(np.linspace(-2, 2, 5), 2))
    assert len(set(map(tuple, inputs[0].numpy()[:5]))) == 1 and len(set(inputs[1].numpy()[:, 0])) == 2  # Fixed per row.
    grid = CodeGrid(tmp_path, rows_per_code=2, steps=5)
    grid.set_model(model)
    pixels = grid.render()
    # 4 rows (2 per code) of 28-pixel tiles with 2-pixel borders; the widest row: the 5-step continuous code.
    assert pixels.shape == (4 * 28 + 5 * 2, 5 * 28 + 6 * 2, 1)
    assert np.all(pixels[:32, 4 * 30 + 2:] == 255)  # The categorical rows (4 values) end in padding.


# ---------------------------------------------------------------------- config and binary


def test_presets_are_valid_and_the_code_flags_parse():
    from absl import flags

    from train import flags as config_flags

    for name, preset in configs.INFO_GAN_PRESETS.items():
        assert not preset.problems(), (name, preset.problems())
    values = flags.FlagValues()
    config_flags.define_config_flags(configs.InfoGANConfig, configs.INFO_GAN_PRESETS, values)
    values(["prog", "--preset=smoke", "--categorical_codes=10,4", "--continuous_codes=0"])
    config = config_flags.config_from_flags(configs.InfoGANConfig, configs.INFO_GAN_PRESETS, values)
    assert config.categorical_codes == (10, 4) and config.latent_codes().q_width == 14
    bad = configs.InfoGANConfig(categorical_codes=(), continuous_codes=0, info_weight_continuous=-1.0, q_hidden_units=0)
    problems = "\n".join(bad.problems())
    assert "at least one latent code" in problems and "info_weight_continuous" in problems and "q_hidden_units" in problems


def _run_binary(tmp_path, *args):
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "info_gan.py"), *args, f"--model_dir={tmp_path / 'run'}",
         f"--export_dir={tmp_path / 'saved_models'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout, json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]


def test_binary_smoke_run_reports_fid_and_q_clustering_of_the_test_split(tmp_path):
    stdout, evaluation = _run_binary(tmp_path, "--preset=smoke")
    assert "train steps      0 -> 10 (of 10)" in stdout and "Q's categorical code 0 as clusters of 1000 test examples" in stdout
    clustering = evaluation["clustering"]
    assert clustering["num_examples"] == 1000 and clustering["split"] == "test"  # The embedded subset's whole test split.
    assert 0 <= clustering["accuracy"] <= 1 and 0 <= clustering["nmi"] <= 1 and -1 <= clustering["ari"] <= 1
    assert np.isfinite(evaluation["fid"])
    view = evaluation["code_samples"]  # 100 evaluation samples over the 10 values, classified.
    assert view["samples_per_value"] == 10 and len(view["majority_names"]) == 10 and view["classifier"] in ("fashion_mnist", "embedded_fashion_mnist")
    assert "samples per value of code 0, classified" in stdout
    from PIL import Image

    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert grid.shape[:2] == (9 * 30 + 2, 10 * 30 + 2)  # 3 rows for each of the 3 codes, 10 columns.
    loaded = tf.saved_model.load(str(tmp_path / "saved_models" / "info_gan_smoke" / "1"))
    out = loaded.signatures["sample"](categorical=tf.constant([[0], [9]]), continuous=tf.zeros([2, 2]), seed=tf.constant(1, tf.int64))
    assert out["images_uint8"].shape == (2, 28, 28, 1)
    from kgan.metrics import quality

    served = next(quality.generated_batches(str(tmp_path / "saved_models" / "info_gan_smoke" / "1"), 30, seed=2))
    assert served.shape == (30, 28, 28, 1) and -1 <= served.min() and served.max() <= 1  # evaluate.py --saved_model's sampler.


def test_binary_on_points_reports_code_to_mode_scores(tmp_path):
    _, evaluation = _run_binary(tmp_path, "--preset=ring8", "--epochs=1", "--steps_per_epoch=20", "--evaluation_samples=100",
                                "--clustering_images=50", "--noexport")
    clustering = evaluation["clustering"]
    assert clustering["samples_per_value"] == 50 and 0 < clustering["purity"] <= 1 and clustering["q"]["num_examples"] == 400
    assert evaluation["num_modes"] == 8  # Mode coverage, as for every point model.


# ---------------------------------------------------------------------- learning


# Measured on this CPU (one core; 2,000 steps take ~9-11 s of fit when the machine is idle, ~20 s
# when it is shared), the ring8 preset (z of 16, one code of K = 8, MLPs 128x128, batch 256,
# Adam(1e-3, 0.5) for both, 2,000 steps): seeds 0-4 all reach code value -> mode purity 1.000 and
# one-to-one accuracy 1.000 (8 modes, one per value), as do 1,000 and 1,500 steps. Without the MI
# term (info_weight_categorical=0) the same run gives accuracy 0.15 (seeds 0, 1).
def test_the_categorical_code_picks_out_the_modes_of_the_ring():
    from train import train_lib

    seed = 0
    config = configs.INFO_GAN_PRESETS["ring8"]
    keras.utils.set_random_seed(seed)
    model = train_lib.build_compiled(registry.get("info_gan"), dataclasses.replace(config, seed=seed), (2,))
    mixture = gaussian_mixture("ring8")
    model.fit(mixture.dataset(config.batch_size, seed=seed + 1), steps_per_epoch=config.epochs * config.steps_per_epoch, verbose=0)
    scores = code_scores.mixture_code_scores(model, mixture, samples_per_value=300, seed=3)
    assert scores["purity"] >= 0.9 and scores["accuracy"] >= 0.9 and scores["modes_hit"] == 8, scores
    assert scores["q"]["accuracy"] >= 0.9, scores["q"]  # And Q clusters real points by mode.

