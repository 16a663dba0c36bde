"""Clustering scores (`kgan.metrics.clustering`): accuracy under the best matching, NMI, ARI."""

import numpy as np
import pytest

from kgan.metrics import clustering


def test_a_relabelled_partition_scores_one():
    labels = np.repeat(np.arange(5), 20)
    permuted = np.array([3, 0, 4, 1, 2])[labels]
    scores = clustering.clustering_scores(labels, permuted)
    assert scores.accuracy == 1.0 and scores.nmi == pytest.approx(1.0) and scores.ari == pytest.approx(1.0)
    assert scores.assignment == {3: 0, 0: 1, 4: 2, 1: 3, 2: 4}


def test_random_clusters_score_chance():
    rng = np.random.default_rng(0)
    labels, clusters = rng.integers(0, 10, 20_000), rng.integers(0, 10, 20_000)
    scores = clustering.clustering_scores(labels, clusters)
    assert 0.1 <= scores.accuracy < 0.12  # The best matching of noise is a little above 1/K.
    assert scores.nmi < 0.01 and abs(scores.ari) < 0.01


def test_hand_computed_example():
    # Clusters [0 0 1 1 1 2] against classes [0 0 0 1 1 1]: the best matching 0->0, 1->1 gets 4 of 6.
    labels, clusters = [0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 2]
    scores = clustering.clustering_scores(labels, clusters)
    assert scores.accuracy == pytest.approx(4 / 6)
    assert scores.as_dict()["contingency"] == [[2, 0], [1, 2], [0, 1]]
    # Contingency rows (clusters) [[2,0],[1,2],[0,1]]: sum C(n_ij,2) = 1 + 1 = 2; clusters 1 + 3 + 0 = 4;
    # classes 3 + 3 = 6; expected 4 * 6 / 15 = 1.6; max 5: ARI = (2 - 1.6) / (5 - 1.6).
    assert scores.ari == pytest.approx(0.4 / 3.4)
    p = np.array([[2, 0], [1, 2], [0, 1]]) / 6
    mi = sum(p[i, j] * np.log(p[i, j] / (p[i].sum() * p[:, j].sum())) for i in range(3) for j in range(2) if p[i, j])
    h = lambda q: -sum(x * np.log(x) for x in q if x)  # noqa: E731
    assert scores.nmi == pytest.approx(mi / ((h(p.sum(1)) + h(p.sum(0))) / 2))


def test_more_clusters_than_classes_count_the_extra_as_errors():
    labels = np.array([0, 0, 1, 1])
    assert clustering.clustering_scores(labels, np.array([0, 1, 2, 3])).accuracy == 0.5


@pytest.mark.parametrize("labels,clusters", [([0, 1], [0]), ([-1, 0], [0, 0]), ([0.5, 1], [0, 1]), ([], [])])
def test_bad_input_is_refused(labels, clusters):
    with pytest.raises(ValueError):
        clustering.clustering_scores(np.asarray(labels), np.asarray(clusters))
