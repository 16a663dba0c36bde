"""Pictures of samples: image grids and 2-D scatter plots as uint8 arrays and PNG files.

Plain numpy and PIL, no callbacks: `kgan.callbacks.GridCallback` and its
subclasses draw with these, and so do `kgan.latent`, the training binaries,
``bench/`` and the README. `tensorboard_available` says whether pictures
(and scalars) can also go to TensorBoard.
"""

from __future__ import annotations

import importlib.util
import math
import os

import numpy as np
from PIL import Image

from kgan import atomic_files
from kgan.data.ranges import to_uint8

__all__ = [
    "cluster_grid",
    "image_grid",
    "point_plot",
    "save_image_grid",
    "save_point_plot",
    "tensorboard_available",
    "write_png",
]


def tensorboard_available() -> bool:
    """Whether `tf.summary` can write (TF >= 2.16 no longer installs TensorBoard itself)."""
    return importlib.util.find_spec("tensorboard") is not None



_BORDER = 2
_BORDER_VALUE = 255  # White: the datasets' backgrounds are mostly black.


def image_grid(images, rows: int | None = None, border: int = _BORDER) -> np.ndarray:
    """Tiles images into one uint8 grid image with ``border``-pixel white lines.

    Args:
      images: ``[N, H, W, C]`` float in [-1, 1] (numpy or tensor), C = 1 or 3.
        Out-of-range values are clipped.
      rows: number of grid rows; by default the grid is as square as possible
        (``ceil(sqrt(N))`` columns).
      border: width in pixels of the lines around and between the tiles.

    Returns:
      uint8 ``[rows*H + (rows+1)*border, cols*W + (cols+1)*border, C]``.
      Unused cells of the last row stay border-coloured.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"image_grid expects a non-empty [N, H, W, 1 or 3] batch; got shape {images.shape}.")
    n, height, width, channels = images.shape
    if rows is None:
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
    else:
        if rows < 1:
            raise ValueError(f"rows must be >= 1; got {rows}.")
        cols = math.ceil(n / rows)
    pixels = to_uint8(images)
    grid = np.full(
        (rows * height + (rows + 1) * border, cols * width + (cols + 1) * border, channels),
        _BORDER_VALUE,
        dtype=np.uint8,
    )
    for index in range(n):
        r, c = divmod(index, cols)
        top = border + r * (height + border)
        left = border + c * (width + border)
        grid[top : top + height, left : left + width] = pixels[index]
    return grid


def cluster_grid(images, probabilities, per_cluster: int = 10, order=None) -> np.ndarray:
    """One row per cluster: the ``per_cluster`` images a model is surest belong to it.

    For looking at what an unsupervised classifier (CatGAN's D, InfoGAN's Q)
    puts together: row k holds the members of cluster k (argmax of
    ``probabilities``) with the highest probability of k, most confident
    first; a cluster with fewer members leaves its remaining cells white.

    Args:
      images: ``[N, H, W, C]`` float in [-1, 1], C = 1 or 3.
      probabilities: ``[N, K]`` cluster probabilities (or any scores; argmax
        decides membership).
      per_cluster: images per row (>= 1).
      order: the clusters to draw, top to bottom (default ``range(K)``), e.g.
        sorted by the class each is assigned to.

    Returns:
      uint8 grid as `image_grid` returns, ``len(order)`` rows of ``per_cluster``.
    """
    images, probabilities = np.asarray(images), np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) != len(images):
        raise ValueError(f"cluster_grid expects probabilities [N, K] for the N = {len(images)} images; got shape {probabilities.shape}.")
    if per_cluster < 1:
        raise ValueError(f"per_cluster must be >= 1; got {per_cluster}.")
    order = list(range(probabilities.shape[1]) if order is None else order)
    members = np.argmax(probabilities, axis=1)
    blank = np.ones(images.shape[1:], images.dtype)  # White in [-1, 1].
    tiles = []
    for cluster in order:
        chosen = np.flatnonzero(members == cluster)
        chosen = chosen[np.argsort(-probabilities[chosen, cluster], kind="stable")][:per_cluster]
        tiles.extend(images[chosen])
        tiles.extend([blank] * (per_cluster - len(chosen)))
    return image_grid(np.stack(tiles), rows=len(order))


# Ten distinguishable colours (matplotlib's "tab10"), for points coloured by class.
_PALETTE = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
                     (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)], np.uint8)


def _pixels(points, extent, size):
    """``(rows, cols)`` of the finite points inside ``[-extent, extent]^2`` (y up), and which points those are."""
    finite = np.all(np.isfinite(points), axis=1)
    safe = np.where(finite[:, None], points, 0.0)
    cols = np.round((safe[:, 0] + extent) / (2 * extent) * (size - 1)).astype(np.int64)
    rows = np.round((extent - safe[:, 1]) / (2 * extent) * (size - 1)).astype(np.int64)
    inside = finite & (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    return rows[inside], cols[inside], inside


def point_plot(points, extent: float = 5.0, size: int = 256, labels=None, background=None) -> np.ndarray:
    """Renders 2-D points as a uint8 RGB scatter plot (numpy only, no matplotlib).

    The square ``[-extent, extent]^2`` maps to ``size x size`` pixels (y up);
    light-grey axes cross at the origin and each point is a 3x3 dot, blue, or
    coloured by its label (ten colours, repeating). Points outside the square
    are not drawn.

    Args:
      points: ``[N, 2]`` floats.
      extent: half the side of the plotted square, in data units.
      size: side of the image in pixels.
      labels: optional int ``[N]``: each point's class, for its colour.
      background: optional ``[M, 2]`` points drawn first, as grey single
        pixels (e.g. prior samples under an encoder's codes, Makhzani et al.
        2016, Fig. 2).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"point_plot expects points of shape [N, 2]; got {points.shape}.")
    if labels is not None and np.shape(labels) != (len(points),):
        raise ValueError(f"point_plot: labels must be [N] = [{len(points)}]; got shape {np.shape(labels)}.")
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    middle = size // 2
    image[middle, :] = image[:, middle] = (210, 210, 210)
    if background is not None:
        rows, cols, _ = _pixels(np.asarray(background, np.float64).reshape(-1, 2), extent, size)
        image[rows, cols] = (170, 170, 170)
    rows, cols, inside = _pixels(points, extent, size)
    colours = _PALETTE[0] if labels is None else _PALETTE[np.asarray(labels, np.int64)[inside] % len(_PALETTE)]
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            image[np.clip(rows + dr, 0, size - 1), np.clip(cols + dc, 0, size - 1)] = colours
    return image


def write_png(pixels: np.ndarray, path) -> str:
    """Writes a uint8 ``[H, W, 1|3]`` array as a PNG, atomically (temp file + rename)."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    image = Image.fromarray(pixels[..., 0], "L") if pixels.shape[-1] == 1 else Image.fromarray(pixels, "RGB")
    # An image viewer or a copy job polling the directory never sees half a PNG.
    with atomic_files.atomic_path(path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return path


def save_image_grid(images, path, rows: int | None = None) -> str:
    """Saves ``[N, H, W, C]`` images in [-1, 1] as one PNG grid (see `image_grid`).

    Returns:
      ``path``.
    """
    return write_png(image_grid(images, rows), path)


def save_point_plot(points, path, extent: float = 5.0, size: int = 256) -> str:
    """Saves 2-D points ``[N, 2]`` as a PNG scatter plot (see `point_plot`); returns ``path``."""
    return write_png(point_plot(points, extent, size), path)
