"""Mode coverage of samples from a known Gaussian mixture.

Each sample is assigned to its nearest mode; it is *high quality* if it lies
within ``3 sigma`` of that mode's centre (Srivastava et al. 2017, VEEGAN, Sec.
5.1; Lin et al. 2018, PacGAN). Two mode counts:

* ``modes_hit``: modes whose centre is nearest to at least one high-quality
  sample -- the count VEEGAN's text defines and PacGAN's code computes
  (``fjxmlzn/PacGAN``, ``synthetic_data_experiments``), so the one to hold
  beside their published tables;
* ``modes_covered``: kgan's stricter count, modes that receive at least
  ``min_share`` (default 20 %) of their fair share ``N / K`` of high-quality
  samples, so that a handful of stray samples does not count as a mode learned
  (with 2,500 samples: 63 per ring mode, 20 per grid mode).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """Result of `mode_coverage`.

    Attributes:
      modes_covered: modes with at least ``min_share`` of their fair share of
        high-quality samples (kgan's count; `modes_hit` is the papers').
      num_modes: K.
      high_quality_fraction: fraction of samples within ``threshold`` of a mode, in [0, 1].
      counts: int ``[K]``, high-quality samples per mode.
    """

    modes_covered: int
    num_modes: int
    high_quality_fraction: float
    counts: np.ndarray
    #: The mixture's mode probabilities ``[K]`` (None: equal weights).
    weights: np.ndarray | None = None

    @property
    def modes_hit(self) -> int:
        """Modes with at least one high-quality sample: VEEGAN's and PacGAN's "modes captured"."""
        return int(np.count_nonzero(self.counts))

    @property
    def reverse_kl(self) -> float | None:
        """``KL(q || p) = sum_k q_k log(q_k / p_k)`` of the high-quality samples' mode histogram q, in nats.

        PacGAN's (Lin et al. 2018) third column, with p the mixture's mode
        probabilities (uniform unless ``weights``): 0 when every mode gets its
        share, ``log K`` when all samples sit on one mode of K equal ones. None
        when no sample is of high quality (no histogram to compare).
        """
        if int(np.sum(self.counts)) == 0:
            return None
        return histogram_kl(self.counts, self.weights)


def histogram_kl(counts, probabilities=None) -> float:
    """``KL(q || p) = sum_k q_k log(q_k / p_k)`` in nats, q the normalised ``counts [K]`` (not all zero).

    ``probabilities``: p ``[K]`` (None: uniform). 0 when q = p; ``log K`` when all
    counts sit on one of K equally likely bins. The reverse KL of a mode
    histogram (PacGAN's KL column), and of a class histogram (`class_balance`).
    """
    counts = np.asarray(counts, dtype=np.float64)
    shares = counts / counts.sum()
    truth = np.full(len(counts), 1.0 / len(counts)) if probabilities is None else np.asarray(probabilities, np.float64)
    present = shares > 0
    return float(np.sum(shares[present] * np.log(shares[present] / truth[present])))


def mode_coverage(samples, centers, std: float, num_sigmas: float = 3.0, min_share: float = 0.2, weights=None) -> ModeCoverage:
    """Counts covered modes and high-quality samples.

    Args:
      samples: float ``[N, D]`` generated points.
      centers: float ``[K, D]`` mode centres.
      std: per-axis standard deviation of each mode.
      num_sigmas: a sample is high quality within ``num_sigmas * std`` of its nearest centre.
      min_share: a mode is covered with at least ``min_share * N / K`` high-quality samples
        (``min_share * N * weights[k]`` with ``weights``), and at least one.
      weights: the mixture's mode probabilities ``[K]`` (summing to 1), or None for equal weights.

    Returns:
      A `ModeCoverage`.
    """
    samples = np.asarray(samples, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples must be [N, {centers.shape[1]}]; got shape {samples.shape}.")
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples contain NaN or infinity: training diverged.")
    distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= num_sigmas * std
    counts = np.bincount(nearest[high_quality], minlength=len(centers))
    if weights is None:
        shares = np.full(len(centers), 1.0 / len(centers))
    else:
        shares = np.asarray(weights, dtype=np.float64)
        if shares.shape != (len(centers),) or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
            raise ValueError(f"weights must be {len(centers)} probabilities summing to 1; got {weights!r}.")
    thresholds = np.maximum(1.0, min_share * len(samples) * shares)
    return ModeCoverage(
        modes_covered=int((counts >= thresholds).sum()),
        num_modes=len(centers),
        high_quality_fraction=float(high_quality.mean()),
        counts=counts,
        weights=None if weights is None else shares,
    )
