"""Density and coverage of generated samples (Naeem et al. 2020).

"Reliable Fidelity and Diversity Metrics for Generative Models" (ICML 2020)
keeps the real manifold of improved precision/recall (Kynkäänniemi et al.
2019; `kgan.metrics.precision_recall`): a ball around each of the N real
feature vectors ``x_i`` whose radius ``r_i`` is the distance to its k-th
nearest real neighbour. Only real balls are used, because the balls of
generated samples are what makes recall fragile (one outlier sample with a
large ball "recalls" much of the real set):

    density  = 1 / (k M) * sum_j sum_i [ |y_j - x_i| < r_i ]      (fidelity, >= 0, unbounded)
    coverage = 1 / N     * sum_i [ some j: |y_j - x_i| < r_i ]    (diversity, in [0, 1])

over the M generated vectors ``y_j``. Density counts *how many* real balls
hold each sample, so it rewards samples where real data is dense and is not
capped at 1; coverage counts the real balls that hold at least one sample, so
a collapsed generator covers few however good its samples look.

When real and generated features are independent samples of one
distribution, ``E[density] = 1`` (a ball to the k-th of N - 1 neighbours holds
probability mass k / N on average) and ``E[coverage] = 1 - prod_{j=1..k} (N -
j) / (N + M - j)`` (a ball is empty of samples when its k nearest points among
the N - 1 + M others are all real), about ``1 - 2^-k`` for M = N (0.97 at the
paper's k = 5). The paper uses k = 5 and 10,000 samples of each.

Balls are open (strict ``<``), as in the paper's code (clovaai/generative-
evaluation-prdc), and the radii are `knn_radii`'s: the same real manifold as
precision/recall, computed by the same exact, chunked distances.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kgan.metrics.precision_recall import knn_radii, squared_distances

__all__ = ["DensityCoverage", "density_coverage"]


@dataclasses.dataclass(frozen=True)
class DensityCoverage:
    """Result of `density_coverage`.

    Attributes:
      density: mean number of real balls holding a sample, over k; >= 0, ~1
        when the sample distribution matches the real one, > 1 when samples
        crowd into dense real regions.
      coverage: fraction of real balls holding at least one sample, in [0, 1].
      k: the neighbourhood size of the radii.
    """

    density: float
    coverage: float
    k: int


def density_coverage(real_features, fake_features, k: int = 5, batch_size: int = 1000) -> DensityCoverage:
    """Naeem et al. 2020 density and coverage of ``fake_features`` against ``real_features``.

    Exact nearest-neighbour distances in NumPy, ``batch_size`` real rows at a
    time: memory ``batch_size * max(N, M)`` float64s (80 MB for 10,000
    samples), time O(N (N + M) D).

    Args:
      real_features: ``[N, D]`` features of real images, N > k.
      fake_features: ``[M, D]`` features of generated images, M >= 1, same D.
      k: neighbourhood size of the real radii (the paper's default, 5).
      batch_size: rows per distance block.

    Returns:
      `DensityCoverage`.

    Raises:
      ValueError: features that are not ``[N, D]`` with one D, empty or
        non-finite, ``k`` not a positive int, or ``N <= k``.
    """
    real, fake = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D; got {real.shape} and {fake.shape}.")
    if len(fake) == 0:
        raise ValueError("fake_features is empty; density and coverage need at least one generated sample.")
    if not (np.all(np.isfinite(real)) and np.all(np.isfinite(fake))):
        # A NaN distance compares False everywhere and would quietly count as "outside every ball".
        raise ValueError("features contain NaN or inf; check the images fed to the feature network.")
    radii = knn_radii(real, k, batch_size)  # validates k and N > k
    inside_count, covered = 0, 0
    for start in range(0, len(real), batch_size):
        distances = np.sqrt(squared_distances(real[start:start + batch_size], fake))
        inside = distances < radii[start:start + batch_size, None]  # [rows, M]: is y_j in the ball of x_i?
        inside_count += int(inside.sum())
        covered += int(inside.any(axis=1).sum())
    return DensityCoverage(inside_count / (k * len(fake)), covered / len(real), int(k))
