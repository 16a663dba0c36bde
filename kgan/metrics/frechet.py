"""Fréchet distance between feature distributions (FID), from streaming statistics.

Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium": model real and generated features as Gaussians
N(mu_r, S_r), N(mu_g, S_g) and report their squared Fréchet (2-Wasserstein)
distance

    FID = |mu_r - mu_g|^2 + tr(S_r) + tr(S_g) - 2 tr((S_r S_g)^(1/2)).

With pool3 features of the FID InceptionV3 (`kgan.metrics.inception`)
this is the standard FID; any other features give an "FID-like" number that
is only comparable with itself.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["FeatureStatistics", "frechet_distance"]


@dataclasses.dataclass
class FeatureStatistics:
    """Streaming mean and covariance of feature vectors, accumulated in float64.

    Add batches in any sizes and order: the sums are exact up to float64
    rounding, so the result does not depend on the batch size (tested to 1e-9).

    Attributes:
      count: number of vectors added.
      total: ``[D]`` sum of the vectors.
      outer: ``[D, D]`` sum of their outer products.
    """

    count: int = 0
    total: np.ndarray | None = None
    outer: np.ndarray | None = None

    def update(self, features) -> "FeatureStatistics":
        """Adds ``features`` ``[N, D]`` (any float dtype); returns self."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ValueError(f"features must be [N, D]; got shape {features.shape}.")
        if not np.all(np.isfinite(features)):
            raise ValueError("features contain NaN or inf; check the images fed to the feature network.")
        if self.total is None:
            self.total = np.zeros(features.shape[1])
            self.outer = np.zeros((features.shape[1], features.shape[1]))
        elif features.shape[1] != self.total.shape[0]:
            raise ValueError(f"features have {features.shape[1]} dimensions; earlier batches had {self.total.shape[0]}.")
        self.count += features.shape[0]
        self.total += features.sum(axis=0)
        self.outer += features.T @ features
        return self

    @property
    def mean(self) -> np.ndarray:
        """``[D]`` mean."""
        self._need(1)
        return self.total / self.count

    @property
    def covariance(self) -> np.ndarray:
        """``[D, D]`` unbiased sample covariance (divides by N - 1, as numpy.cov)."""
        self._need(2)
        mean = self.mean
        return (self.outer - self.count * np.outer(mean, mean)) / (self.count - 1)

    def _need(self, n):
        if self.count < n:
            raise ValueError(f"Need at least {n} feature vectors; have {self.count}.")

    @classmethod
    def of(cls, features) -> "FeatureStatistics":
        """Statistics of one array ``[N, D]``."""
        return cls().update(features)


def _psd_sqrt(matrix):
    """Symmetric square root of a (numerically) positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``tr((S1 S2)^(1/2))`` is computed as ``tr((R S2 R)^(1/2))`` with ``R =
    S1^(1/2)``: the two matrices are similar, and the second is symmetric PSD,
    so a symmetric eigendecomposition gives it without the complex round-off
    of a general matrix square root (scipy.linalg.sqrtm, as used by the
    reference code). Both agree to float64 precision on PSD inputs.

    Args:
      mu1, mu2: ``[D]`` means.
      sigma1, sigma2: ``[D, D]`` covariances (symmetric PSD).

    Returns:
      The distance, a float >= 0 (up to rounding).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"Statistics do not match: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}."
        )
    root = _psd_sqrt(sigma1)
    middle = np.linalg.eigvalsh(root @ sigma2 @ root)
    trace_sqrt = np.sum(np.sqrt(np.clip(middle, 0, None)))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)
