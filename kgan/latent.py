"""Latent-space tools of the DCGAN paper: interpolation strips and vector arithmetic.

Radford et al. 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", sections 6.1 (walking in the
latent space: smooth transitions mean the generator has not memorised) and
6.3 (vector arithmetic on z averaged over three exemplars per concept, e.g.
smiling woman - neutral woman + neutral man = smiling man).

Works with any model with ``latent_dim`` that maps ``z`` ``[N, latent_dim]``
to images when called (`kgan.GAN`, `kgan.WGAN`, `kgan.WGANGP`); for a
`kgan.ConditionalGAN` pass ``labels`` and every image of a strip keeps its
row's label.
"""

from __future__ import annotations

import numpy as np

from kgan.rendering import save_image_grid

__all__ = ["interpolate", "interpolation_strips", "latent_arithmetic", "slerp"]


def slerp(z0, z1, t):
    """Spherical interpolation between ``z0`` and ``z1`` ``[D]`` at fractions ``t`` ``[T]``; ``[T, D]``.

    Under a Gaussian prior, z concentrates near a sphere of radius sqrt(D);
    linear midpoints are shorter (untypical for the generator), spherical ones
    keep the norm (White 2016, "Sampling Generative Networks"). Falls back to
    linear interpolation for (anti)parallel vectors.
    """
    z0, z1, t = np.asarray(z0, np.float64), np.asarray(z1, np.float64), np.asarray(t, np.float64)[:, None]
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    return ((np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)).astype(np.float32)


def interpolate(z0, z1, steps: int, method: str = "slerp"):
    """``steps`` latent vectors from ``z0`` to ``z1`` (both included): ``[steps, D]`` float32."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (the two ends); got {steps}.")
    t = np.linspace(0.0, 1.0, steps)
    if method == "slerp":
        return slerp(z0, z1, t)
    if method == "linear":
        z0, z1 = np.asarray(z0, np.float32), np.asarray(z1, np.float32)
        return ((1 - t[:, None]) * z0 + t[:, None] * z1).astype(np.float32)
    raise ValueError(f"method must be 'slerp' or 'linear'; got {method!r}.")


def _generate(model, z, labels=None):
    if labels is not None:
        return np.asarray(model([z, np.asarray(labels, np.int32)], training=False))
    return np.asarray(model(z, training=False))


def interpolation_strips(model, num_strips: int = 8, steps: int = 10, seed: int = 0, method: str = "slerp",
                         labels=None, path=None):
    """Images along latent paths between random pairs of z: one strip (row) per pair.

    Args:
      model: a generator model with ``latent_dim`` (see the module docstring).
      num_strips: rows, each from ``z_a`` to ``z_b`` drawn from N(0, I) with ``seed``.
      steps: images per row, ends included.
      method: ``"slerp"`` or ``"linear"``.
      labels: ConditionalGAN only: int ``[num_strips]``, the class of each row.
      path: if given, the strips are written there as one PNG grid.

    Returns:
      ``[num_strips, steps, H, W, C]`` float32 images in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    ends = rng.standard_normal((num_strips, 2, model.latent_dim)).astype(np.float32)
    z = np.concatenate([interpolate(a, b, steps, method) for a, b in ends])
    row_labels = None if labels is None else np.repeat(np.asarray(labels), steps)
    images = _generate(model, z, row_labels)
    if path is not None:
        save_image_grid(images, path, rows=num_strips)
    return images.reshape(num_strips, steps, *images.shape[1:])


def latent_arithmetic(model, a, b, c, variations: int = 8, noise: float = 0.25, seed: int = 0, labels=None, path=None):
    """DCGAN vector arithmetic: ``mean(a) - mean(b) + mean(c)`` in z space, and its images.

    Each concept is given by exemplar latent vectors (the paper averages
    three whose images show it). The result is decoded as is and with
    ``variations - 1`` small perturbations (``noise`` * N(0, I)), as the
    paper shows a 3x3 block, to show the concept survives nearby.

    Args:
      model: a generator with ``latent_dim``.
      a, b, c: ``[k, latent_dim]`` exemplar z's of each concept (or ``[latent_dim]``).
      variations: images of the result (the first one unperturbed).
      noise, seed: the perturbations.
      labels: ConditionalGAN only: one int class for every image.
      path: if given, a PNG: row 1 = the decoded means of a, b, c; row 2 = the results.

    Returns:
      ``dict(concepts=[3, H, W, C], results=[variations, H, W, C])`` float32 in [-1, 1].
    """
    means = [np.atleast_2d(np.asarray(z, np.float32)).mean(axis=0) for z in (a, b, c)]
    if any(m.shape != (model.latent_dim,) for m in means):
        raise ValueError(f"a, b and c must be [k, {model.latent_dim}] latent vectors; got shapes {[np.shape(z) for z in (a, b, c)]}.")
    target = means[0] - means[1] + means[2]
    rng = np.random.default_rng(seed)
    results_z = target + noise * rng.standard_normal((variations, model.latent_dim)).astype(np.float32)
    results_z[0] = target
    concept_labels = None if labels is None else [labels] * 3
    result_labels = None if labels is None else [labels] * variations
    concepts = _generate(model, np.stack(means), concept_labels)
    results = _generate(model, results_z, result_labels)
    if path is not None:
        width = max(3, variations)
        blank = np.full_like(concepts[:1], -1.0)
        top = np.concatenate([concepts, np.repeat(blank, width - 3, axis=0)])
        bottom = np.concatenate([results, np.repeat(blank, width - variations, axis=0)])
        save_image_grid(np.concatenate([top, bottom]), path, rows=2)
    return {"concepts": concepts, "results": results}
