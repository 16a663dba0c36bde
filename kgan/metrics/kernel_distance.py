"""Kernel Inception Distance (KID): an unbiased squared MMD with a cubic kernel.

Bińkowski et al. 2018, "Demystifying MMD GANs", section 4:
``k(x, y) = (x . y / d + 1) ** 3`` on d-dimensional features, and the unbiased
estimator of MMD^2 between the real and generated feature distributions,
averaged over random subsets (the reference code: 100 subsets of 1,000).
Unlike FID it has an unbiased estimator, so small sample sizes do not shift
its expectation; it is reported with its standard deviation over subsets.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["KernelDistance", "kernel_distance", "polynomial_kernel", "unbiased_mmd2"]


def polynomial_kernel(x, y, degree: int = 3, gamma: float | None = None, coef0: float = 1.0):
    """``(gamma * x @ y.T + coef0) ** degree`` with ``gamma = 1 / d`` by default; ``[N, M]`` float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * (x @ y.T) + coef0) ** degree


def unbiased_mmd2(x, y, kernel=polynomial_kernel) -> float:
    """Unbiased estimate of MMD^2 between the distributions of ``x`` ``[m, D]`` and ``y`` ``[n, D]``.

    ``sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
    - 2 sum_{i, j} k(x_i, y_j) / (m n)``: the diagonal terms k(x_i, x_i) are
    left out, which makes the expectation exactly MMD^2 (it can be negative).
    """
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"unbiased MMD needs at least 2 samples per set; got {m} and {n}.")
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    return float(
        (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
        + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
        - 2 * k_xy.mean()
    )


@dataclasses.dataclass(frozen=True)
class KernelDistance:
    """KID: ``mean`` and ``std`` of the unbiased MMD^2 over ``num_subsets`` subsets of ``subset_size``."""

    mean: float
    std: float
    num_subsets: int
    subset_size: int


def kernel_distance(real_features, fake_features, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KernelDistance:
    """KID between two feature sets (Bińkowski et al. 2018).

    Args:
      real_features, fake_features: ``[N, D]`` and ``[M, D]`` features (e.g.
        pool3 of the FID InceptionV3).
      num_subsets: subsets drawn (without replacement within a subset).
      subset_size: capped at the smaller set's size.
      seed: the subsets' random seed.

    Returns:
      `KernelDistance`; FID-style papers often quote ``mean * 1000``.
    """
    real, fake = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D; got {real.shape} and {fake.shape}.")
    size = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    values = [
        unbiased_mmd2(real[rng.choice(len(real), size, replace=False)], fake[rng.choice(len(fake), size, replace=False)])
        for _ in range(num_subsets)
    ]
    return KernelDistance(float(np.mean(values)), float(np.std(values)), num_subsets, size)
