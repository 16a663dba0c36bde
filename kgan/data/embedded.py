"""The Fashion-MNIST subset shipped inside the package (no TFDS, no network).

The arrays live in ``kgan/data/embedded/fashion_mnist_subset.npz`` (a data
directory next to this module, found with `importlib.resources` so it also works
from an installed wheel). See ``embedded/LICENSE-fashion-mnist`` for the licence
and ``make_embedded_subset.py`` for how the subset was selected.
"""

from __future__ import annotations

import importlib.resources

import numpy as np

SUBSET_FILE = "fashion_mnist_subset.npz"
SPLITS = ("train", "test")


def embedded_subset_path():
    """A `Traversable` for the shipped ``.npz`` (use with ``.open("rb")``)."""
    return importlib.resources.files("kgan.data").joinpath("embedded", SUBSET_FILE)


def load_embedded_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Loads the shipped, class-balanced Fashion-MNIST subset.

    ``train``: the first 600 images of each class in the official training split
    (6000 images). ``test``: the first 100 of each class in the official test
    split (1000 images). Examples keep their official order.

    Args:
      split: ``"train"`` or ``"test"``.

    Returns:
      ``(images, labels)``: images uint8 ``[N, 28, 28, 1]`` in [0, 255]; labels
      int64 ``[N]`` in [0, 9] (`kgan.data.dataset_info` has the class names).

    Raises:
      ValueError: for another split name.
    """
    if split not in SPLITS:
        raise ValueError(f"The embedded Fashion-MNIST subset has splits {SPLITS}, got {split!r}.")
    with embedded_subset_path().open("rb") as f, np.load(f) as npz:
        images = npz[f"{split}_images"][..., None]
        labels = npz[f"{split}_labels"].astype(np.int64)
    return images, labels
