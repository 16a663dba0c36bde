"""Stacked images: C independent grayscale images as the channels of one, with K**C modes.

Stacked MNIST (Metz et al. 2017, "Unrolled GANs", Sec. 3.3; Srivastava et al.
2017, "VEEGAN", Sec. 5.2; Lin et al. 2018, "PacGAN", Sec. 5) stacks three MNIST
digits drawn independently into the R, G and B channels of one 28x28 image, so
the data has 10**3 = 1,000 equally likely modes, one per class triple. A
generator that drops modes shows it in a domain classifier's view of each
channel (`kgan.metrics.stacked_mode_coverage`). kgan stacks Fashion-MNIST the
same way (``stacked_fashion_mnist``), counted by kgan's Fashion-MNIST classifier.

As in PacGAN's stacked-MNIST experiments (``num_training_sample = 128000``),
the training set is a fixed set of ``num_examples`` triples drawn once from
the source images with ``seed``, shuffled and repeated.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

#: PacGAN's stacked-MNIST training-set size.
DEFAULT_NUM_EXAMPLES = 128_000


def stacked_indices(num_images: int, num_examples: int = DEFAULT_NUM_EXAMPLES, channels: int = 3, seed: int = 0) -> np.ndarray:
    """int64 ``[num_examples, channels]``: source-image indices, drawn uniformly and independently per channel."""
    if num_images < 1 or num_examples < 1 or channels < 1:
        raise ValueError(f"num_images, num_examples and channels must be positive; got {num_images}, {num_examples}, {channels}.")
    return np.random.default_rng(seed).integers(0, num_images, (num_examples, channels))


def mode_of_classes(classes, num_classes: int = 10) -> np.ndarray:
    """int64 ``[N]``: the mode of class tuples ``[N, C]``, the classes as base-``num_classes`` digits.

    Channel 0 is the most significant digit: classes (3, 0, 7) of 10 are mode 307.
    """
    classes = np.asarray(classes, np.int64)
    return (classes * num_classes ** np.arange(classes.shape[1] - 1, -1, -1)).sum(axis=1)


def stacked_labels(labels, indices, num_classes: int = 10) -> np.ndarray:
    """int64 ``[N]``: the mode (`mode_of_classes`) of each stacked example of source ``indices [N, C]``."""
    return mode_of_classes(np.asarray(labels)[np.asarray(indices)], num_classes)


def _grayscale(images) -> np.ndarray:
    """uint8 ``[N, H, W]`` from uint8 ``[N, H, W]`` or ``[N, H, W, 1]``; anything else is refused."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"Source images must be uint8 in [0, 255]; got dtype {images.dtype}.")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"Source images must be grayscale [N, H, W] or [N, H, W, 1] with N > 0; got shape {images.shape}.")
    return images


def stacked_dataset(
    images,
    labels=None,
    batch_size: int = 64,
    num_examples: int = DEFAULT_NUM_EXAMPLES,
    channels: int = 3,
    seed: int = 0,
    num_classes: int = 10,
) -> tf.data.Dataset:
    """An infinite `tf.data.Dataset` of stacked batches ``[batch_size, H, W, channels]`` float32 in [-1, 1].

    Args:
      images: uint8 grayscale sources ``[N, H, W]`` or ``[N, H, W, 1]``.
      labels: int ``[N]`` classes in ``[0, num_classes)``; with them, batches
        are ``(images, modes int64 [batch_size])`` (`stacked_labels`).
      batch_size: examples per batch (batches run across passes over the
        fixed set, so none is partial).
      num_examples: size of the fixed set of triples (`stacked_indices`).
      channels: images stacked per example (3 for stacked MNIST).
      seed: draws the triples and shuffles them.
      num_classes: K, for the mode labels.
    """
    images = _grayscale(images)
    indices = stacked_indices(len(images), num_examples, channels, seed)
    tensors = (indices,)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(images),) or labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f"labels must be ints [{len(images)}] in [0, {num_classes}); got shape {labels.shape}.")
        tensors += (stacked_labels(labels, indices, num_classes),)
    source = tf.constant(images)

    def stack(index, *mode):
        stacked = tf.transpose(tf.gather(source, index), [1, 2, 0])  # [C, H, W] -> [H, W, C]
        stacked = tf.cast(stacked, tf.float32) / 127.5 - 1.0
        return (stacked, mode[0]) if mode else stacked

    ds = tf.data.Dataset.from_tensor_slices(tensors if len(tensors) > 1 else tensors[0])
    ds = ds.shuffle(min(num_examples, 200_000), seed=seed).repeat()
    ds = ds.map(stack, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size, drop_remainder=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def stacked_fashion_mnist(
    batch_size: int = 64,
    split: str = "train",
    source: str = "fashion_mnist",
    num_examples: int = DEFAULT_NUM_EXAMPLES,
    seed: int = 0,
    with_labels: bool = False,
    data_dir=None,
    manual_dir=None,
) -> tf.data.Dataset:
    """Stacked Fashion-MNIST: `stacked_dataset` of three Fashion-MNIST images, 1,000 modes.

    Args:
      batch_size, num_examples, seed: as for `stacked_dataset`.
      split: ``"train"`` or ``"test"`` source images.
      source: ``"fashion_mnist"`` (all 60,000 training images, TFDS; prepared
        offline when the Debian package is installed) or ``"embedded"`` (the
        6,000 shipped with kgan).
      with_labels: batches are ``(images [B, 28, 28, 3], modes [B])``.
      data_dir, manual_dir: TFDS arguments.
    """
    from kgan.data import sources

    images, labels = sources.fashion_mnist_arrays(split, source, data_dir, manual_dir)
    return stacked_dataset(images, labels if with_labels else None, batch_size, num_examples, 3, seed)
