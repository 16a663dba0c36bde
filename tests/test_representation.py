"""`kgan.metrics.representation`: linear probe, 1-NN, reconstruction and prior-distance scores (issue 19)."""

import numpy as np
import pytest

from kgan.metrics import representation


def test_nearest_neighbour_accuracy_of_a_hand_case():
    train, train_labels = np.array([[0.0], [10.0]]), np.array([0, 1])
    test, test_labels = np.array([[1.0], [9.0], [4.0]]), np.array([0, 1, 1])  # 4 is nearer 0: one miss.
    assert representation.nearest_neighbour_accuracy(train, train_labels, test, test_labels) == pytest.approx(2 / 3)
    # In chunks of one test example, and on image-shaped features (flattened).
    images = np.stack([np.full((2, 2, 1), v) for v in (0.0, 10.0)])
    queries = np.stack([np.full((2, 2, 1), v) for v in (1.0, 9.0, 4.0)])
    assert representation.nearest_neighbour_accuracy(images, train_labels, queries, test_labels, batch_size=1) == pytest.approx(2 / 3)


def test_the_linear_probe_separates_separable_classes_and_is_at_chance_on_random_labels():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 8)) * 5
    labels = rng.integers(0, 4, 2000)
    features = centres[labels] + rng.normal(size=(2000, 8))
    assert representation.linear_probe_accuracy(features[:1000], labels[:1000], features[1000:], labels[1000:]) >= 0.99
    shuffled = rng.permutation(labels)
    chance = representation.linear_probe_accuracy(features[:1000], shuffled[:1000], features[1000:], shuffled[1000:])
    assert abs(chance - 0.25) < 0.06, chance


def test_a_constant_feature_does_not_break_the_probe():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 400)
    features = np.stack([labels + 0.1 * rng.normal(size=400), np.zeros(400)], axis=1)  # Column 1: an image border.
    assert representation.linear_probe_accuracy(features[:200], labels[:200], features[200:], labels[200:]) == 1.0


@pytest.mark.parametrize("features, labels, message", [
    (np.zeros((3, 2)), np.array([0, 1]), "must agree"),
    (np.array([[0.0, np.nan], [1.0, 1.0]]), np.array([0, 1]), "NaN or Inf"),
    (np.zeros((2, 2)), np.array([0.5, 1.0]), "integer class indices"),
])
def test_bad_features_or_labels_are_refused(features, labels, message):
    with pytest.raises(ValueError, match=message):
        representation.nearest_neighbour_accuracy(features, labels, np.zeros((1, 2)), np.array([0]))


def test_reconstruction_errors_and_class_kept_of_a_hand_case():
    images = np.array([[[[1.0]], [[-1.0]]], [[[0.0]], [[0.5]]]])  # [2, 2, 1, 1]
    reconstructions = images + np.array([0.5, -0.5, 0.0, 0.0]).reshape(2, 2, 1, 1)
    # Errors 0.5, 0.5, 0, 0: L1 0.25, MSE 0.125. A "classifier" by the sign of the first pixel.
    scores = representation.reconstruction_scores(
        images, reconstructions, labels=np.array([1, 0]), classify=lambda x: (x[:, 0, 0, 0] > 0.25).astype(int)
    )
    assert scores["l1"] == pytest.approx(0.25) and scores["mse"] == pytest.approx(0.125)
    assert scores["class_kept"] == 1.0 and scores["class_of_input"] == 1.0
    assert set(representation.reconstruction_scores(images, images)) == {"l1", "mse"}
    with pytest.raises(ValueError, match="same shape"):
        representation.reconstruction_scores(images, images[:1])


def test_codes_from_the_prior_sit_at_the_floor_and_shifted_codes_above_it():
    def prior(count, seed):
        return np.random.default_rng(seed).normal(size=(count, 2))

    near = representation.prior_distance(prior(2000, 100), prior, num_subsets=10)
    far = representation.prior_distance(prior(2000, 100) + 1.0, prior, num_subsets=10)
    assert abs(near["kid"]) < 0.05 and abs(near["floor"]) < 0.05 and near["num_codes"] == 2000
    assert far["kid"] > 10 * max(abs(far["floor"]), 0.01), far
