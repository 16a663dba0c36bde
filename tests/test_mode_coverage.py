"""`kgan.metrics.mode_coverage` and the Gaussian mixtures it scores."""

import numpy as np
import pytest

from kgan.data.mixtures import gaussian_mixture
from kgan.metrics import mode_coverage


@pytest.mark.parametrize("name, modes, std", [("ring8", 8, 0.02), ("grid25", 25, 0.05)])
def test_real_samples_cover_every_mode(name, modes, std):
    mixture = gaussian_mixture(name)
    assert mixture.num_modes == modes and mixture.std == std
    coverage = mode_coverage(mixture.sample(2500, seed=0), mixture.centers, mixture.std)
    assert coverage.modes_covered == modes
    # Within 3 sigma in 2-D: P(chi2_2 <= 9) = 1 - exp(-4.5) = 0.989.
    assert coverage.high_quality_fraction == pytest.approx(1 - np.exp(-4.5), abs=0.01)


def test_collapsed_samples_cover_one_mode():
    mixture = gaussian_mixture("ring8")
    samples = np.repeat(mixture.centers[:1], 2500, axis=0)
    coverage = mode_coverage(samples, mixture.centers, mixture.std)
    assert coverage.modes_covered == 1 and coverage.high_quality_fraction == 1.0
    assert coverage.counts.tolist() == [2500, 0, 0, 0, 0, 0, 0, 0]


def test_min_share_threshold_and_far_samples():
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    # 90 samples on mode 0, 10 on mode 1: fair share 50, 20 % of it is 10 -> both covered.
    samples = np.concatenate([np.zeros((90, 2)), np.tile([[10.0, 0.0]], (10, 1))])
    assert mode_coverage(samples, centers, 0.1).modes_covered == 2
    assert mode_coverage(samples[:99], centers, 0.1).modes_covered == 1
    # Samples between modes are low quality and cover nothing.
    coverage = mode_coverage(np.tile([[5.0, 0.0]], (100, 1)), centers, 0.1)
    assert coverage.modes_covered == 0 and coverage.high_quality_fraction == 0.0


def test_bad_samples_are_rejected():
    mixture = gaussian_mixture("ring8")
    with pytest.raises(ValueError, match="shape"):
        mode_coverage(np.zeros((10, 3)), mixture.centers, mixture.std)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(np.full((10, 2), np.nan), mixture.centers, mixture.std)
    with pytest.raises(ValueError, match="Unknown mixture"):
        gaussian_mixture("ring9")


def test_mixture_dataset_batches_and_labels():
    mixture = gaussian_mixture("grid25")
    points, labels = next(iter(mixture.dataset(512, seed=0, with_labels=True)))
    assert points.shape == (512, 2) and labels.shape == (512,)
    distances = np.linalg.norm(points.numpy() - mixture.centers[labels.numpy()], axis=1)
    assert np.all(distances < 6 * mixture.std)
    first, second = list(mixture.dataset(64, seed=0).take(2))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, next(iter(mixture.dataset(64, seed=0))))


def test_reverse_kl_of_the_mode_histogram_is_zero_when_balanced_and_log_k_when_collapsed():
    mixture = gaussian_mixture("ring8")
    balanced = mode_coverage(mixture.sample(2500, seed=0), mixture.centers, mixture.std)
    assert 0 <= balanced.reverse_kl < 0.01
    collapsed = mode_coverage(np.tile(mixture.centers[:1], (100, 1)), mixture.centers, mixture.std)
    assert collapsed.reverse_kl == pytest.approx(np.log(8))
    half = mode_coverage(np.repeat(mixture.centers[:4], 25, axis=0), mixture.centers, mixture.std)
    assert half.reverse_kl == pytest.approx(np.log(2))
    assert mode_coverage(np.full((10, 2), 50.0), mixture.centers, mixture.std).reverse_kl is None


def test_modes_hit_counts_any_high_quality_sample_as_the_papers_do():
    mixture = gaussian_mixture("ring8")
    samples = np.concatenate([np.tile(mixture.centers[:1], (99, 1)), mixture.centers[1:2]])  # one stray sample on mode 1
    coverage = mode_coverage(samples, mixture.centers, mixture.std)
    assert coverage.modes_hit == 2 and coverage.modes_covered == 1


def test_the_unequal_ring_draws_by_its_weights_and_is_scored_against_them():
    mixture = gaussian_mixture("ring8_unequal")
    np.testing.assert_allclose(mixture.probabilities, np.arange(1, 9) / 36)
    samples = mixture.sample(20000, seed=0)
    np.testing.assert_allclose(np.bincount(mixture.nearest_modes(samples), minlength=8) / 20000, mixture.probabilities, atol=0.01)
    streamed = np.concatenate([next(iter(mixture.dataset(5000, seed=1)))])
    np.testing.assert_allclose(np.bincount(mixture.nearest_modes(streamed), minlength=8) / 5000, mixture.probabilities, atol=0.015)
    real = mixture.coverage(mixture.sample(2500, seed=2))
    assert real.modes_covered == 8 and real.reverse_kl < 0.01
    # Equal shares look balanced to the plain ring but not to the weighted one.
    balanced = gaussian_mixture("ring8").sample(2500, seed=3)
    assert mixture.coverage(balanced).reverse_kl > 0.1 > gaussian_mixture("ring8").coverage(balanced).reverse_kl
    # Dropping the two lightest modes (8 % of the mass) loses two modes.
    heavy = samples[mixture.nearest_modes(samples) >= 2][:2500]
    assert mixture.coverage(heavy).modes_covered == 6
