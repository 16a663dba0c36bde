"""How well unsupervised clusters match classes: accuracy under the best matching, NMI, ARI.

The protocol of InfoGAN / CatGAN / ClusterGAN evaluations (e.g. Mukherjee et
al. 2019, "ClusterGAN", table 2): predict a cluster for every test image
(InfoGAN: the argmax of Q's categorical code; CatGAN: of D's class
distribution), then

* **accuracy**: the share of images whose cluster maps to their class under
  the one-to-one assignment of clusters to classes that maximises it (the
  Hungarian method, `scipy.optimize.linear_sum_assignment`). With more
  clusters than classes, the extra clusters map to no class and count as
  errors -- the strict reading; with fewer, classes are left unmatched.
* **NMI**: mutual information of the two labelings over the arithmetic mean
  of their entropies (Strehl & Ghosh 2002; scikit-learn's default).
* **ARI**: the Rand index adjusted for chance (Hubert & Arabie 1985): 1 for
  identical partitions, ~0 for independent ones.

All three ignore the clusters' names: relabelling the clusters changes none.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ClusteringScores:
    """`clustering_scores`' result.

    Attributes:
      accuracy: in [0, 1], under the best one-to-one cluster -> class assignment.
      nmi: normalised mutual information, in [0, 1].
      ari: adjusted Rand index, in [-1, 1] (~0 by chance).
      assignment: cluster id -> class it maps to (clusters mapped to no class are absent).
      contingency: `contingency`'s ``[num_clusters, num_classes]`` counts, which
        show what each cluster holds (which classes merge or split).
    """

    accuracy: float
    nmi: float
    ari: float
    assignment: dict
    contingency: np.ndarray

    def as_dict(self) -> dict:
        return {"accuracy": self.accuracy, "nmi": self.nmi, "ari": self.ari,
                "assignment": {int(k): int(v) for k, v in self.assignment.items()},
                "contingency": self.contingency.tolist()}


def _check(labels, clusters):
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    if labels.ndim != 1 or clusters.shape != labels.shape:
        raise ValueError(f"labels and clusters must be [N] vectors of the same length; got {labels.shape} and {clusters.shape}.")
    if len(labels) == 0:
        raise ValueError("no examples to score.")
    for name, values in (("labels", labels), ("clusters", clusters)):
        if not np.issubdtype(values.dtype, np.integer) or values.min() < 0:
            raise ValueError(f"{name} must be non-negative integers; got dtype {values.dtype}, min {values.min()}.")
    return labels.astype(np.int64), clusters.astype(np.int64)


def contingency(labels, clusters) -> np.ndarray:
    """``[num_clusters, num_classes]`` counts of (cluster, class) pairs (ids are the indices)."""
    labels, clusters = _check(labels, clusters)
    table = np.zeros((clusters.max() + 1, labels.max() + 1), np.int64)
    np.add.at(table, (clusters, labels), 1)
    return table


def _entropy(counts) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _pairs(counts) -> float:
    counts = counts.astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def clustering_scores(labels, clusters) -> ClusteringScores:
    """Accuracy (best one-to-one matching), NMI and ARI of predicted ``clusters`` against true ``labels``.

    Args:
      labels: int ``[N]`` true classes, >= 0.
      clusters: int ``[N]`` predicted cluster ids, >= 0 (any number of clusters).

    Returns:
      A `ClusteringScores`.
    """
    from scipy.optimize import linear_sum_assignment

    table = contingency(labels, clusters)
    n = table.sum()
    rows, cols = linear_sum_assignment(table, maximize=True)
    accuracy = float(table[rows, cols].sum() / n)
    assignment = {int(r): int(c) for r, c in zip(rows, cols) if table[r].sum() > 0}

    h_clusters, h_labels = _entropy(table.sum(1)), _entropy(table.sum(0))
    joint = table[table > 0] / n
    outer = np.outer(table.sum(1), table.sum(0))[table > 0] / n**2
    mutual = float((joint * np.log(joint / outer)).sum())
    mean_entropy = (h_clusters + h_labels) / 2
    nmi = 1.0 if mean_entropy == 0 else max(0.0, mutual / mean_entropy)  # Both one block: identical partitions.

    index, a, b = _pairs(table), _pairs(table.sum(1)), _pairs(table.sum(0))
    expected = a * b / _pairs(np.array([n])) if n > 1 else 0.0
    maximum = (a + b) / 2
    ari = 1.0 if maximum == expected else (index - expected) / (maximum - expected)
    return ClusteringScores(accuracy, float(nmi), float(ari), assignment, table)
