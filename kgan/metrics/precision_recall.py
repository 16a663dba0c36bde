"""Improved precision and recall of generated samples (Kynkäänniemi et al. 2019).

"Improved Precision and Recall Metric for Assessing Generative Models": the
real manifold is the union of balls around each real feature vector with the
distance to its k-th nearest real neighbour as radius (k = 3 in the paper);
**precision** is the share of generated samples inside it (quality), and
**recall** the share of real samples inside the generated manifold, built the
same way (coverage). The paper uses VGG-16 features; any features work, and
the numbers are comparable only between runs with the same features and k.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["PrecisionRecall", "knn_radii", "precision_recall", "squared_distances"]


def squared_distances(a, b):
    """``[len(a), len(b)]`` squared Euclidean distances (float64, clipped at 0) of ``[n, D]`` and ``[m, D]`` rows."""
    return np.clip((a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :], 0, None)


def knn_radii(features, k: int = 3, batch_size: int = 1000) -> np.ndarray:
    """Distance from each vector to its k-th nearest *other* vector of the same set; ``[N]``.

    Exact (no approximate search), ``batch_size`` rows at a time: memory
    ``batch_size * N`` float64s. The radii of precision/recall (Kynkäänniemi
    et al. 2019) and of density/coverage (Naeem et al. 2020).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int (neighbours); got {k!r}.")
    features = np.asarray(features, np.float64)
    if len(features) <= k:
        raise ValueError(f"Need more than k={k} feature vectors; got {len(features)}.")
    radii = np.empty(len(features))
    for start in range(0, len(features), batch_size):
        d = squared_distances(features[start:start + batch_size], features)
        # Index k of the sorted row: index 0 is the point itself (distance 0).
        radii[start:start + batch_size] = np.sqrt(np.partition(d, k, axis=1)[:, k])
    return radii


def _inside(queries, manifold, radii, batch_size):
    """For each query: is it within ``radii[i]`` of some ``manifold[i]``?"""
    inside = np.empty(len(queries), bool)
    for start in range(0, len(queries), batch_size):
        d = np.sqrt(squared_distances(queries[start:start + batch_size], manifold))
        inside[start:start + batch_size] = np.any(d <= radii[None, :], axis=1)
    return inside


@dataclasses.dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float
    k: int


def precision_recall(real_features, fake_features, k: int = 3, batch_size: int = 1000) -> PrecisionRecall:
    """Kynkäänniemi et al. 2019 precision and recall.

    Args:
      real_features, fake_features: ``[N, D]`` and ``[M, D]``, N, M > k (the
        paper uses 50k each; cost is O(N M D)).
      k: neighbourhood size for the radii.
      batch_size: rows per distance block (memory ``batch_size * max(N, M)``).

    Returns:
      `PrecisionRecall` with both in [0, 1].
    """
    real, fake = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D; got {real.shape} and {fake.shape}.")
    precision = _inside(fake, real, knn_radii(real, k, batch_size), batch_size).mean()
    recall = _inside(real, fake, knn_radii(fake, k, batch_size), batch_size).mean()
    return PrecisionRecall(float(precision), float(recall), k)
