"""FID statistics and distance, KID, precision/recall, density/coverage, intra-class FID and class balance: against
hand-computed and closed-form cases."""

import keras
import numpy as np
import pytest

from kgan.metrics import classifier as classifier_metrics
from kgan.metrics.density_coverage import density_coverage
from kgan.metrics.frechet import FeatureStatistics, frechet_distance
from kgan.metrics.intra_fid import intra_class_fid
from kgan.metrics.kernel_distance import gaussian_kernel, kernel_distance, mmd_permutation_test, polynomial_kernel, unbiased_mmd2
from kgan.metrics.precision_recall import knn_radii, precision_recall


def _features(n, d=6, seed=0, shift=0.0):
    """Samples of one correlated Gaussian (the mixing matrix is fixed), shifted by ``shift``."""
    mixing = np.random.default_rng(1234).normal(size=(d, d))
    return np.random.default_rng(seed).normal(size=(n, d)) @ mixing + shift


# ---------------------------------------------------------------------- FID


def test_streaming_statistics_equal_numpy_and_do_not_depend_on_the_batch_size():
    x = _features(1003)
    whole = FeatureStatistics.of(x)
    np.testing.assert_allclose(whole.mean, x.mean(0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(whole.covariance, np.cov(x, rowvar=False), rtol=1e-10, atol=1e-10)
    for batch in (1, 7, 100, 1003):
        stats = FeatureStatistics()
        for start in range(0, len(x), batch):
            stats.update(x[start:start + batch].astype(np.float32))
        ref = FeatureStatistics.of(x.astype(np.float32))
        assert stats.count == 1003
        np.testing.assert_allclose(stats.covariance, ref.covariance, rtol=1e-9, atol=1e-9)
        assert abs(frechet_distance(stats.mean, stats.covariance, ref.mean, ref.covariance)) < 1e-8


def test_statistics_refuse_bad_features():
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        FeatureStatistics().update(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        FeatureStatistics().update(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="dimensions"):
        FeatureStatistics().update(np.zeros((2, 3))).update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStatistics.of(np.zeros((1, 3))).covariance


def test_fid_of_a_set_against_itself_is_zero():
    stats = FeatureStatistics.of(_features(500, d=32))  # covariance of full rank
    assert abs(frechet_distance(stats.mean, stats.covariance, stats.mean, stats.covariance)) < 1e-8
    # Rank 9 < 32, as with fewer samples than dimensions: the square roots of
    # the zero eigenvalues' rounding noise (~1e-13) leave ~1e-5 on a trace of ~1e3.
    low_rank = FeatureStatistics.of(_features(10, d=32))
    fid = frechet_distance(low_rank.mean, low_rank.covariance, low_rank.mean, low_rank.covariance)
    assert abs(fid) < 1e-7 * np.trace(low_rank.covariance)


def test_fid_of_diagonal_gaussians_is_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)  # 5 + 4 + 1 + 0
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(10.0)


def test_fid_of_non_commuting_covariances_matches_the_eigenvalues_of_the_product():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    # tr((S1 S2)^(1/2)) = sum of square roots of the (real, positive) eigenvalues of S1 S2.
    trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).real))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-10)
    # Symmetric in its arguments.
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-10)


def test_fid_of_gaussian_samples_approaches_the_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, size=(200_000, 2))
    y = rng.normal(1.0, 2.0, size=(200_000, 2))
    sx, sy = FeatureStatistics.of(x), FeatureStatistics.of(y)
    # |mu|^2 = 2, per dimension (1 - 2)^2 = 1 -> 4.
    assert frechet_distance(sx.mean, sx.covariance, sy.mean, sy.covariance) == pytest.approx(4.0, abs=0.05)


def test_fid_refuses_mismatched_statistics():
    with pytest.raises(ValueError, match="do not match"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


# ---------------------------------------------------------------------- KID


def test_polynomial_kernel_by_hand():
    x, y = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0], [0.0, 0.0]])
    # (x.y / 2 + 1)^3: x.y = 1 -> 1.5^3; 0 -> 1.
    np.testing.assert_allclose(polynomial_kernel(x, y), [[3.375, 1.0]])


def test_gaussian_kernel_by_hand():
    x, y = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 0.0]])
    # exp(-||x - y||^2 / (2 b^2)): distance^2 25 at bandwidth 5 -> exp(-0.5); the point itself -> 1.
    np.testing.assert_allclose(gaussian_kernel(x, y, bandwidth=5.0), [[np.exp(-0.5), 1.0]])


def test_the_permutation_test_keeps_one_distribution_and_rejects_a_shift():
    rng = np.random.default_rng(3)
    same = [mmd_permutation_test(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)), num_permutations=50, seed=k) for k in range(20)]
    assert np.mean(np.array(same) <= 0.05) <= 0.2  # About 5 % false rejections expected; 20 draws.
    assert min(same) >= 1 / 51  # p is never below 1 / (1 + permutations).
    assert mmd_permutation_test(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 1.0, num_permutations=50) == 1 / 51


def test_unbiased_mmd_is_unbiased_on_a_discrete_case():
    # X uniform on 3 points, Y uniform on 3 others: E[MMD^2_u] is the exact MMD^2,
    # computed by enumerating every pair (including equal draws).
    a = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    b = np.array([[0.5, 1.0], [2.0, 0.0], [0.0, 0.0]])
    exact = polynomial_kernel(a, a).mean() + polynomial_kernel(b, b).mean() - 2 * polynomial_kernel(a, b).mean()
    rng = np.random.default_rng(0)
    draws = [unbiased_mmd2(a[rng.integers(0, 3, 5)], b[rng.integers(0, 3, 5)]) for _ in range(20000)]
    standard_error = np.std(draws) / np.sqrt(len(draws))
    assert abs(np.mean(draws) - exact) < 4 * standard_error
    # The biased (V-statistic) estimator, with the diagonals, is off by far more.
    biased = []
    for _ in range(2000):
        x, y = a[rng.integers(0, 3, 5)], b[rng.integers(0, 3, 5)]
        biased.append(polynomial_kernel(x, x).mean() + polynomial_kernel(y, y).mean() - 2 * polynomial_kernel(x, y).mean())
    assert np.mean(biased) - exact > 10 * standard_error


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    same = kernel_distance(_features(600, seed=1), _features(600, seed=2), num_subsets=20, subset_size=300)
    different = kernel_distance(_features(600, seed=1), _features(600, seed=2, shift=1.0), num_subsets=20, subset_size=300)
    assert abs(same.mean) < 3 * same.std + 1e-3
    assert different.mean > 10 * max(same.std, abs(same.mean))
    assert same.subset_size == 300 and same.num_subsets == 20
    assert kernel_distance(_features(50), _features(80), num_subsets=2).subset_size == 50


# ---------------------------------------------------------------------- precision / recall


def test_knn_radii_by_hand():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    # k = 1: nearest other point; k = 2: second nearest.
    np.testing.assert_allclose(knn_radii(points, k=1), [1, 1, 2, 4])
    np.testing.assert_allclose(knn_radii(points, k=2, batch_size=3), [3, 2, 3, 6])


def test_precision_recall_of_identical_disjoint_and_half_covering_sets():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], float)
    real = np.concatenate([c + rng.normal(0, 0.3, (200, 2)) for c in centers])
    same = precision_recall(real, real)
    assert same.precision == 1.0 and same.recall == 1.0
    far = precision_recall(real, real + 100.0)
    assert far.precision == 0.0 and far.recall == 0.0
    # Good samples of only two of the four modes: precise but half the recall.
    half = np.concatenate([c + rng.normal(0, 0.3, (400, 2)) for c in centers[:2]])
    result = precision_recall(real, half, batch_size=128)
    assert result.precision > 0.95
    assert 0.45 < result.recall < 0.55


def test_knn_radii_refuse_a_non_positive_k():
    for k in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="k must be a positive int"):
            knn_radii(np.zeros((5, 2)), k=k)


# ---------------------------------------------------------------------- density / coverage


def test_density_and_coverage_by_hand():
    real = np.array([[0.0], [1.0], [3.0], [7.0]])  # k = 1 radii: 1, 1, 2, 4 (test_knn_radii_by_hand)
    # 0.5 lies in the balls of 0 and 1, 6 in the ball of 7: 3 memberships over k M = 2; balls of 0, 1, 7 covered.
    result = density_coverage(real, np.array([[0.5], [6.0]]), k=1, batch_size=3)
    assert result.density == pytest.approx(1.5) and result.coverage == pytest.approx(0.75) and result.k == 1
    # Balls are open, as in the paper's code: 2 is on the boundary of 1's ball (radius 1), inside 3's only.
    boundary = density_coverage(real, np.array([[2.0]]), k=1)
    assert boundary.density == pytest.approx(1.0) and boundary.coverage == pytest.approx(0.25)


def test_density_and_coverage_of_one_distribution_match_their_expectations():
    """Independent real and fake samples of one distribution: E[density] = 1 and E[coverage] = 1 - prod_j (N - j) /
    (N + M - j) (Naeem et al. 2020; derivation in the module docstring), 0.969 for N = M = 1000 and k = 5.

    Tolerances from the spread over 40 seed pairs of this setup (measured: density sd 0.019, coverage sd 0.009 per
    pair): the means of 10 pairs within 0.03 and 0.015, about 5 standard errors, and every pair within 5 sd.
    """
    n, k = 1000, 5
    expected_coverage = 1 - np.prod([(n - j) / (2 * n - j) for j in range(1, k + 1)])
    assert expected_coverage == pytest.approx(1 - 2.0**-k, abs=1e-3)
    results = [density_coverage(_features(n, seed=2 * s + 1), _features(n, seed=2 * s + 2), k=k) for s in range(10)]
    densities, coverages = np.array([r.density for r in results]), np.array([r.coverage for r in results])
    assert abs(densities.mean() - 1.0) < 0.03 and np.all(np.abs(densities - 1.0) < 0.1)
    assert abs(coverages.mean() - expected_coverage) < 0.015 and np.all(np.abs(coverages - expected_coverage) < 0.045)


def test_density_and_coverage_of_a_set_against_itself():
    """Each ball holds its own centre and its k - 1 nearer neighbours; the k-th lies on the open ball's boundary.

    So density is 1 (0.01 leaves room for a tie broken by rounding; a closed ball would give (k + 1) / k = 1.2) and
    coverage exactly 1 (every centre is a sample).
    """
    real = _features(500, seed=3)
    result = density_coverage(real, real.copy(), k=5)
    assert abs(result.density - 1.0) < 0.01 and result.coverage == 1.0


def test_shifted_samples_lose_coverage_and_density():
    real = _features(1000, seed=1)
    near, far = density_coverage(real, _features(1000, seed=2, shift=1.0)), density_coverage(real, _features(1000, seed=2, shift=3.0))
    same = density_coverage(real, _features(1000, seed=2))
    assert same.coverage > near.coverage > far.coverage and same.density > near.density > far.density
    assert far.coverage < 0.01 and far.density < 0.01


def test_collapsed_samples_are_dense_but_cover_little():
    """All samples within 1e-3 of one real point: realistic (density ~1: they sit in the real balls around that
    point), but they cover only those few balls (about (k + 1) / N of them)."""
    real = _features(1000, seed=1)
    collapsed = real[0] + 1e-3 * np.random.default_rng(5).normal(size=(1000, real.shape[1]))
    result = density_coverage(real, collapsed, k=5)
    assert result.coverage < 0.02 and result.density > 0.5
    assert density_coverage(real, _features(1000, seed=2), k=5).coverage > 0.9


@pytest.mark.parametrize("real, fake, k, message", [
    (np.zeros(10), np.zeros((10, 2)), 5, r"\[N, D\] with the same D"),
    (np.zeros((10, 2)), np.zeros((10, 3)), 5, r"\[N, D\] with the same D"),
    (np.zeros((10, 2)), np.zeros((0, 2)), 5, "fake_features is empty"),
    (np.full((10, 2), np.nan), np.zeros((10, 2)), 5, "NaN or inf"),
    (np.zeros((10, 2)), np.full((10, 2), np.inf), 5, "NaN or inf"),
    (np.zeros((5, 2)), np.zeros((10, 2)), 5, "more than k=5"),
    (np.zeros((10, 2)), np.zeros((10, 2)), 0, "k must be a positive int"),
], ids=["1-d", "dims", "empty", "nan", "inf", "few-real", "k=0"])
def test_density_and_coverage_refuse_bad_input(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        density_coverage(real, fake, k=k)


# ---------------------------------------------------------------------- intra-class FID


def test_intra_fid_of_shifted_classes_is_the_mean_squared_shift():
    """Class k's samples are its real features moved by s_k: equal covariances, so its FID is |s_k|^2 exactly."""
    labels = np.arange(300) % 3
    real = _features(300, seed=4)
    shifts = np.zeros((3, real.shape[1]))
    shifts[1, 0], shifts[2, 1] = 1.0, 2.0  # class FIDs 0, 1, 4
    order = np.random.default_rng(0).permutation(300)  # the sets need not be in the same order
    result = intra_class_fid(real, labels, (real + shifts[labels])[order], labels[order], num_classes=3)
    np.testing.assert_allclose(result.per_class, [0.0, 1.0, 4.0], atol=1e-8)
    assert result.mean == pytest.approx(5 / 3, abs=1e-8)
    np.testing.assert_array_equal(result.real_counts, [100, 100, 100])
    np.testing.assert_array_equal(result.fake_counts, [100, 100, 100])


def test_intra_fid_sees_swapped_labels_that_fid_does_not():
    """Real features as samples with the two classes' labels swapped: the pooled sets are identical (FID 0), but
    each class's samples have the other class's statistics."""
    real = np.concatenate([_features(200, seed=5), _features(200, seed=6, shift=3.0)])
    labels = np.repeat([0, 1], 200)
    pooled = FeatureStatistics.of(real)
    assert abs(frechet_distance(pooled.mean, pooled.covariance, pooled.mean, pooled.covariance)) < 1e-8
    assert intra_class_fid(real, labels, real, labels, 2).mean < 1e-6
    swapped = intra_class_fid(real, labels, real, 1 - labels, 2)
    assert swapped.mean > 6 * 9 * 0.9  # at least |mean shift|^2 = 6 * 3^2, up to sampling


@pytest.mark.parametrize("real_labels, fake_labels, num_classes, message", [
    (np.arange(20) % 2, np.arange(20) % 3, 3, r"class 2: 0 real, 6 generated"),
    (np.arange(20) % 2, np.r_[np.zeros(19, int), 1], 2, r"class 1: 10 real, 1 generated"),
    (np.arange(20) % 2, np.arange(20) % 3, 2, r"fake labels must be in \[0, 2\)"),
    (np.arange(19) % 2, np.arange(20) % 2, 2, r"real labels must have shape \[20\]"),
    (np.arange(20) % 2 * 1.0, np.arange(20) % 2, 2, "integer class indices"),
    (np.arange(20) % 2, np.arange(20) % 2, 0, "num_classes must be a positive int"),
], ids=["missing-class", "one-sample", "out-of-range", "length", "float-labels", "no-classes"])
def test_intra_fid_refuses_bad_labels(real_labels, fake_labels, num_classes, message):
    features = _features(20)
    with pytest.raises(ValueError, match=message):
        intra_class_fid(features, real_labels, features, fake_labels, num_classes)


def test_intra_fid_refuses_mismatched_features():
    with pytest.raises(ValueError, match=r"\[N, D\] with the same D"):
        intra_class_fid(np.zeros((4, 2)), np.arange(4) % 2, np.zeros((4, 3)), np.arange(4) % 2, 2)


# ---------------------------------------------------------------------- class balance


def _identity_classifier(num_classes):
    """A 'classifier' whose logits are the pixels of a [1, 1, C] image."""
    inputs = keras.Input((1, 1, num_classes))
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


def _one_hot_images(classes, num_classes):
    return (np.eye(num_classes)[classes] * 20.0).reshape(len(classes), 1, 1, num_classes).astype(np.float32)


def test_class_balance_of_balanced_and_collapsed_samples():
    classifier = _identity_classifier(4)
    balanced = classifier_metrics.class_balance(classifier, _one_hot_images(np.arange(400) % 4, 4))
    np.testing.assert_allclose(balanced.histogram, [0.25] * 4)
    assert balanced.classes_covered == 4 and balanced.kl_from_uniform == pytest.approx(0.0, abs=1e-12)
    assert balanced.classifier_score == pytest.approx(4.0, rel=1e-6)
    collapsed = classifier_metrics.class_balance(classifier, _one_hot_images(np.zeros(400, int), 4))
    assert collapsed.classes_covered == 1
    assert collapsed.kl_from_uniform == pytest.approx(np.log(4))
    assert collapsed.classifier_score == pytest.approx(1.0, rel=1e-6)
    # 2% of samples in a class is less than 10% of its fair share (25%): not covered.
    mostly = np.array([0] * 392 + [1] * 8)
    assert classifier_metrics.class_balance(classifier, _one_hot_images(mostly, 4)).classes_covered == 1
    assert classifier_metrics.class_balance(classifier, _one_hot_images(mostly, 4), min_share=0.05).classes_covered == 2
