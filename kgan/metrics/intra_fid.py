"""Intra-class FID of a class-conditional generator (Miyato & Koyama 2018).

"cGANs with Projection Discriminator" (ICLR 2018) evaluates conditional
models by the **intra-FID**: for each class k, the FID (`kgan.metrics.frechet`)
between the generated samples of label k and the real images of label k,
averaged over the classes. Unlike the FID of all samples, it sees a generator
that draws good images of the wrong class (the class-k samples then miss the
class-k statistics), or that ignores its label.

Each class's FID is estimated from that class's samples only (about N / K of
them), and FID's estimator is biased upward at small sample sizes (Bińkowski
et al. 2018), so intra-FID is larger than the FID of the same samples and is
comparable only between runs with the same per-class counts and features.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kgan.metrics.frechet import FeatureStatistics, frechet_distance

__all__ = ["IntraClassFID", "intra_class_fid"]


@dataclasses.dataclass(frozen=True)
class IntraClassFID:
    """Result of `intra_class_fid`.

    Attributes:
      mean: the intra-FID, the mean of ``per_class``; >= 0 (up to rounding).
      per_class: float64 ``[K]``, the FID of class k's samples against class k's real features.
      real_counts, fake_counts: int ``[K]``, the vectors each class's FID was computed from.
    """

    mean: float
    per_class: np.ndarray
    real_counts: np.ndarray
    fake_counts: np.ndarray


def _checked_labels(labels, count, num_classes, what):
    labels = np.asarray(labels)
    if labels.shape != (count,):
        raise ValueError(f"{what} labels must have shape [{count}] (one per feature vector); got {labels.shape}.")
    if count and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{what} labels must be integer class indices; got dtype {labels.dtype}.")
    if count and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{what} labels must be in [0, {num_classes}); got values in [{labels.min()}, {labels.max()}].")
    return labels


def intra_class_fid(real_features, real_labels, fake_features, fake_labels, num_classes: int) -> IntraClassFID:
    """Miyato & Koyama 2018 intra-FID: the mean over classes of the per-class FID.

    Args:
      real_features: ``[N, D]`` features of real images (e.g. FID Inception pool3).
      real_labels: int ``[N]`` classes of the real images, in ``[0, num_classes)``.
      fake_features: ``[M, D]`` features of generated images, the same D.
      fake_labels: int ``[M]`` labels the images were generated for.
      num_classes: K; every class needs at least 2 vectors in each set (a covariance).

    Returns:
      `IntraClassFID`.

    Raises:
      ValueError: shapes that do not match, labels that are not integers in
        ``[0, num_classes)``, or classes with fewer than 2 real or generated
        vectors (all such classes are named).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int; got {num_classes!r}.")
    real, fake = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D; got {real.shape} and {fake.shape}.")
    real_labels = _checked_labels(real_labels, len(real), num_classes, "real")
    fake_labels = _checked_labels(fake_labels, len(fake), num_classes, "fake")
    real_counts = np.bincount(real_labels, minlength=num_classes)
    fake_counts = np.bincount(fake_labels, minlength=num_classes)
    short = [f"class {k}: {r} real, {f} generated" for k, (r, f) in enumerate(zip(real_counts, fake_counts)) if min(r, f) < 2]
    if short:
        raise ValueError(
            "intra-FID needs at least 2 real and 2 generated feature vectors of every class (a covariance each); "
            + "; ".join(short) + ". Use more samples, or reference data with every class."
        )
    per_class = np.empty(num_classes)
    for k in range(num_classes):
        a, b = FeatureStatistics.of(real[real_labels == k]), FeatureStatistics.of(fake[fake_labels == k])
        per_class[k] = frechet_distance(a.mean, a.covariance, b.mean, b.covariance)
    return IntraClassFID(float(per_class.mean()), per_class, real_counts, fake_counts)
