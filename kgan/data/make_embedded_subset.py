"""Builds the Fashion-MNIST subset shipped in ``kgan/data/embedded/``.

Run from the repository root (needs the Debian package ``dataset-fashion-mnist``)::

    python -m kgan.data.make_embedded_subset

Selection: for each of the 10 classes, the first 600 training images and the first
100 test images in the official file order. The selected examples keep that order
(classes interleaved as in the source), so the subset is a deterministic, balanced
prefix-like sample that anyone can reproduce from the public files.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from kgan.data import idx
from kgan.data.offline import DEBIAN_FASHION_MNIST_DIR

NUM_CLASSES = 10
TRAIN_PER_CLASS = 600
TEST_PER_CLASS = 100
DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "embedded", "fashion_mnist_subset.npz")


def first_per_class(labels: np.ndarray, per_class: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Indices of the first ``per_class`` examples of every class, in file order.

    Args:
      labels: int labels ``[N]`` in ``[0, num_classes)``.
      per_class: how many examples to keep per class.
      num_classes: number of classes.

    Returns:
      Sorted int64 indices ``[num_classes * per_class]``.

    Raises:
      ValueError: if a class has fewer than ``per_class`` examples.
    """
    chosen = []
    for c in range(num_classes):
        idx_c = np.flatnonzero(labels == c)
        if idx_c.size < per_class:
            raise ValueError(f"class {c} has only {idx_c.size} examples, need {per_class}")
        chosen.append(idx_c[:per_class])
    return np.sort(np.concatenate(chosen))


def build_subset(source_dir: str = DEBIAN_FASHION_MNIST_DIR) -> dict[str, np.ndarray]:
    """Reads the official IDX files and selects the balanced subset.

    Args:
      source_dir: directory with ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.

    Returns:
      ``train_images`` uint8 ``[6000, 28, 28]``, ``train_labels`` uint8 ``[6000]``,
      ``test_images`` uint8 ``[1000, 28, 28]``, ``test_labels`` uint8 ``[1000]``, and
      ``train_source_indices`` / ``test_source_indices`` int32: the positions of the
      selected examples in the official splits (for provenance and tests).
    """
    arrays = {}
    for split, prefix, per_class in (("train", "train", TRAIN_PER_CLASS), ("test", "t10k", TEST_PER_CLASS)):
        images = idx.read_idx(os.path.join(source_dir, f"{prefix}-images-idx3-ubyte.gz"))
        labels = idx.read_idx(os.path.join(source_dir, f"{prefix}-labels-idx1-ubyte.gz"))
        keep = first_per_class(labels, per_class)
        arrays[f"{split}_images"] = images[keep]
        arrays[f"{split}_labels"] = labels[keep]
        arrays[f"{split}_source_indices"] = keep.astype(np.int32)
    return arrays


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source_dir", default=DEBIAN_FASHION_MNIST_DIR, help="directory with the Fashion-MNIST *-ubyte.gz files")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="where to write the .npz")
    args = parser.parse_args(argv)
    arrays = build_subset(args.source_dir)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    sizes = ", ".join(f"{k}{list(v.shape)}" for k, v in arrays.items())
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.2f} MB): {sizes}")


if __name__ == "__main__":
    main()
