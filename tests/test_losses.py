"""Loss families against hand-computed values, for vector and PatchGAN-shaped logits."""

import math

import numpy as np
import pytest

from kgan import losses


def softplus(x):
    return math.log1p(math.exp(x))


REAL = np.array([[2.0], [-1.0]], np.float32)
FAKE = np.array([[0.5], [-3.0]], np.float32)


def test_minimax_discriminator_loss_hand_value():
    # -log(sigmoid(r)) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    expected = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-3.0)) / 2
    assert losses.minimax_discriminator_loss(REAL, FAKE).numpy() == pytest.approx(expected, rel=1e-6)


def test_minimax_generator_loss_is_log_one_minus_d():
    # log(1 - sigmoid(f)) = -softplus(f): the saturating objective G minimises.
    expected = -(softplus(0.5) + softplus(-3.0)) / 2
    assert losses.minimax_generator_loss(FAKE).numpy() == pytest.approx(expected, rel=1e-6)
    sigmoid = 1 / (1 + np.exp(-FAKE))
    assert losses.minimax_generator_loss(FAKE).numpy() == pytest.approx(np.mean(np.log(1 - sigmoid)), rel=1e-5)


def test_non_saturating_generator_loss_is_minus_log_d():
    sigmoid = 1 / (1 + np.exp(-FAKE))
    assert losses.non_saturating_generator_loss(FAKE).numpy() == pytest.approx(-np.mean(np.log(sigmoid)), rel=1e-5)


def test_maximum_likelihood_generator_loss_is_minus_half_exp_of_d_inverse_sigmoid():
    sigmoid = 1 / (1 + np.exp(-FAKE))
    inverse = np.log(sigmoid / (1 - sigmoid))  # sigma^-1(D(G(z))), Goodfellow 2016 eq. 16
    assert losses.maximum_likelihood_generator_loss(FAKE).numpy() == pytest.approx(-0.5 * np.mean(np.exp(inverse)), rel=1e-5)
    family = losses.get_loss_family("maximum_likelihood")
    assert family.discriminator is losses.minimax_discriminator_loss


def test_the_three_generator_losses_share_their_optimum_direction_but_not_their_gradients():
    import tensorflow as tf

    # dJ/dl at D(G(z)) = sigmoid(l): minimax -sigmoid(l), non-saturating -(1 - sigmoid(l)), ML -exp(l) / 2.
    logits = tf.constant([[-6.0], [0.0], [3.0]])
    for name, expected in (("minimax", lambda l: -1 / (1 + np.exp(-l))), ("non_saturating", lambda l: -1 / (1 + np.exp(l))),
                           ("maximum_likelihood", lambda l: -0.5 * np.exp(l))):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = losses.get_loss_family(name).generator(logits) * 3  # Undo the mean over 3.
        np.testing.assert_allclose(tape.gradient(loss, logits).numpy()[:, 0], expected(logits.numpy()[:, 0]), rtol=1e-5)


def test_the_generator_loss_figure_is_drawn_by_its_script(tmp_path):
    import subprocess
    import sys

    from tests.test_case import REPO

    out = tmp_path / "generator_losses.png"
    result = subprocess.run([sys.executable, f"{REPO}/bench/generator_losses.py", f"--out={out}", "--points=101"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "| 0.5 | -0.6931 | 0.6931 | -0.5 |" in result.stdout


def test_one_sided_label_smoothing_changes_real_target_only():
    smoothing = 0.1
    target = 1 - smoothing
    real_terms = [softplus(r) - r * target for r in (2.0, -1.0)]  # BCE with logits, target 0.9
    fake_terms = [softplus(f) for f in (0.5, -3.0)]
    expected = np.mean(real_terms) + np.mean(fake_terms)
    got = losses.minimax_discriminator_loss(REAL, FAKE, label_smoothing=smoothing).numpy()
    assert got == pytest.approx(expected, rel=1e-6)


def test_least_squares_hand_value():
    d = losses.least_squares_discriminator_loss(REAL, FAKE).numpy()
    assert d == pytest.approx(0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + 0.5 * (0.25 + 9) / 2, rel=1e-6)
    g = losses.least_squares_generator_loss(FAKE).numpy()
    assert g == pytest.approx(0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2, rel=1e-6)
    smoothed = losses.least_squares_discriminator_loss(REAL, FAKE, label_smoothing=0.2).numpy()
    assert smoothed == pytest.approx(0.5 * ((2 - 0.8) ** 2 + (-1 - 0.8) ** 2) / 2 + 0.5 * (0.25 + 9) / 2, rel=1e-6)


def test_hinge_hand_value():
    d = losses.hinge_discriminator_loss(REAL, FAKE).numpy()
    assert d == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2, rel=1e-6)
    assert losses.hinge_generator_loss(FAKE).numpy() == pytest.approx(1.25, rel=1e-6)


def test_wasserstein_hand_value():
    assert losses.wasserstein_discriminator_loss(REAL, FAKE).numpy() == pytest.approx(-1.25 - 0.5, rel=1e-6)
    assert losses.wasserstein_generator_loss(FAKE).numpy() == pytest.approx(1.25, rel=1e-6)


@pytest.mark.parametrize("family", sorted(losses.LOSS_FAMILIES))
def test_patchgan_logits_equal_mean_over_all_positions(family):
    """A [B, H, W, 1] logit map averages over every position, like flattening it."""
    rng = np.random.default_rng(0)
    real_map = rng.normal(size=(3, 4, 5, 1)).astype(np.float32)
    fake_map = rng.normal(size=(3, 4, 5, 1)).astype(np.float32)
    fam = losses.get_loss_family(family)
    flat = lambda x: x.reshape(-1, 1)  # noqa: E731
    assert fam.discriminator(real_map, fake_map).numpy() == pytest.approx(
        fam.discriminator(flat(real_map), flat(fake_map)).numpy(), rel=1e-6
    )
    assert fam.generator(fake_map).numpy() == pytest.approx(fam.generator(flat(fake_map)).numpy(), rel=1e-6)


def test_patchgan_minimax_hand_value():
    real_map = np.zeros((1, 2, 2, 1), np.float32)
    fake_map = np.zeros((1, 2, 2, 1), np.float32)
    # sigmoid(0) = 0.5 everywhere: each term is log 2.
    assert losses.minimax_discriminator_loss(real_map, fake_map).numpy() == pytest.approx(2 * math.log(2), rel=1e-6)


def test_losses_return_float32_for_bfloat16_logits():
    import tensorflow as tf

    logits = tf.constant([[1.0], [2.0]], tf.bfloat16)
    assert losses.non_saturating_generator_loss(logits).dtype == tf.float32


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.get_loss_family("wgan")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.minimax_discriminator_loss(REAL, FAKE, label_smoothing=1.0)
    with pytest.raises(ValueError, match="hinge"):
        losses.hinge_discriminator_loss(REAL, FAKE, label_smoothing=0.1)


def test_l1_loss():
    assert losses.l1_loss(np.array([1.0, -1.0]), np.array([0.0, 1.0])).numpy() == pytest.approx(1.5)
