"""Synthetic 2-D Gaussian mixtures for learning tests and mode-collapse studies.

The two standard benchmarks:

* ``ring8``: 8 modes evenly spaced on a circle of radius 2, standard deviation
  0.02 (Metz et al. 2017, "Unrolled GANs").
* ``grid25``: 25 modes on the grid {-4, -2, 0, 2, 4}^2, standard deviation 0.05
  (Srivastava et al. 2017, "VEEGAN").
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class GaussianMixture:
    """An equal-weight mixture of isotropic 2-D Gaussians.

    Attributes:
      name: ``"ring8"`` or ``"grid25"``.
      centers: float32 ``[K, 2]`` mode centres.
      std: per-axis standard deviation of every mode.
    """

    name: str
    centers: np.ndarray
    std: float

    @property
    def num_modes(self) -> int:
        return len(self.centers)

    def sample(self, num_samples: int, seed: int = 0) -> np.ndarray:
        """Draws ``[num_samples, 2]`` float32 points (numpy, reproducible)."""
        rng = np.random.default_rng(seed)
        modes = rng.integers(0, self.num_modes, num_samples)
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

        def draw(step):
            seed_pair = tf.stack([tf.constant(seed, tf.int64), step])
            modes = tf.random.stateless_uniform([batch_size], seed_pair, 0, self.num_modes, dtype=tf.int32)
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


def gaussian_mixture(name: str) -> GaussianMixture:
    """Returns the standard mixture ``"ring8"`` or ``"grid25"``."""
    if name == "ring8":
        return ring_of_gaussians()
    if name == "grid25":
        return grid_of_gaussians()
    raise ValueError(f"Unknown mixture {name!r}; choose 'ring8' or 'grid25'.")
