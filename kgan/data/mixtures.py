"""Synthetic 2-D Gaussian mixtures for learning tests and mode-collapse studies.

The two standard benchmarks:

* ``ring8``: 8 modes evenly spaced on a circle of radius 2, standard deviation
  0.02 (Metz et al. 2017, "Unrolled GANs").
* ``grid25``: 25 modes on the grid {-4, -2, 0, 2, 4}^2, standard deviation 0.05
  (Srivastava et al. 2017, "VEEGAN").

and a harder one, for mode dropping rather than collapse:

* ``ring8_unequal``: the ring of 8 with mode k weighted ``(k + 1) / 36`` (the
  lightest mode holds 2.8 % of the mass, the heaviest 22 %): a generator that
  drops the light modes still covers most of the mass.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class GaussianMixture:
    """A mixture of isotropic 2-D Gaussians.

    Attributes:
      name: ``"ring8"``, ``"grid25"`` or ``"ring8_unequal"``.
      centers: float32 ``[K, 2]`` mode centres.
      std: per-axis standard deviation of every mode.
      weights: float64 ``[K]`` mode probabilities (summing to 1), or None for equal weights.
    """

    name: str
    centers: np.ndarray
    std: float
    weights: np.ndarray | None = None

    @property
    def num_modes(self) -> int:
        return len(self.centers)

    @property
    def probabilities(self) -> np.ndarray:
        """float64 ``[K]``: each mode's probability (``1 / K`` each without ``weights``)."""
        if self.weights is None:
            return np.full(self.num_modes, 1.0 / self.num_modes)
        return np.asarray(self.weights, np.float64)

    def coverage(self, samples, **options):
        """`kgan.metrics.mode_coverage` of ``samples`` against this mixture (its centres, std and weights)."""
        from kgan.metrics import mode_coverage

        return mode_coverage(samples, self.centers, self.std, weights=self.weights, **options)

    def sample(self, num_samples: int, seed: int = 0) -> np.ndarray:
        """Draws ``[num_samples, 2]`` float32 points (numpy, reproducible)."""
        rng = np.random.default_rng(seed)
        if self.weights is None:
            modes = rng.integers(0, self.num_modes, num_samples)
        else:
            modes = rng.choice(self.num_modes, num_samples, p=self.probabilities)
        noise = rng.normal(0.0, self.std, (num_samples, 2))
        return (self.centers[modes] + noise).astype(np.float32)

    def nearest_modes(self, points) -> np.ndarray:
        """int64 ``[N]``: the index of the centre nearest each point ``[N, 2]`` (its mode)."""
        points = np.asarray(points, np.float64)
        return np.argmin(((points[:, None, :] - self.centers[None].astype(np.float64)) ** 2).sum(-1), axis=1)

    def dataset(self, batch_size: int, seed: int = 0, with_labels: bool = False) -> tf.data.Dataset:
        """An infinite `tf.data.Dataset` of batches ``[batch_size, 2]`` float32.

        With ``with_labels``, batches are ``(points, mode_index int32)``.
        """
        centers = tf.constant(self.centers)
        std = self.std
        log_weights = None if self.weights is None else tf.constant(np.log(self.probabilities)[None], tf.float32)

        def draw(step):
            seed_pair = tf.stack([tf.constant(seed, tf.int64), step])
            if log_weights is None:
                modes = tf.random.stateless_uniform([batch_size], seed_pair, 0, self.num_modes, dtype=tf.int32)
            else:
                modes = tf.random.stateless_categorical(log_weights, batch_size, seed_pair, dtype=tf.int32)[0]
            noise = tf.random.stateless_normal([batch_size, 2], seed_pair + [0, 1 << 40], stddev=std)
            points = tf.gather(centers, modes) + noise
            return (points, modes) if with_labels else points

        return tf.data.Dataset.counter().map(draw, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def ring_of_gaussians(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """Modes evenly spaced on a circle (Metz et al. 2017: 8 modes, radius 2, std 0.02)."""
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    centers = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)
    return GaussianMixture(f"ring{num_modes}", centers, float(std))


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """Modes on a ``side x side`` grid centred at 0 (Srivastava et al. 2017: 5x5, spacing 2, std 0.05)."""
    coords = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(coords, coords)
    centers = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    return GaussianMixture(f"grid{side * side}", centers, float(std))


#: The mixtures `gaussian_mixture` knows.
MIXTURE_NAMES = ("ring8", "grid25", "ring8_unequal")


def gaussian_mixture(name: str) -> GaussianMixture:
    """Returns the mixture ``name``, one of `MIXTURE_NAMES` (see the module docstring)."""
    if name == "ring8":
        return ring_of_gaussians()
    if name == "grid25":
        return grid_of_gaussians()
    if name == "ring8_unequal":
        weights = np.arange(1, 9, dtype=np.float64)
        return dataclasses.replace(ring_of_gaussians(), name=name, weights=weights / weights.sum())
    raise ValueError(f"Unknown mixture {name!r}; choose one of {', '.join(MIXTURE_NAMES)}.")
