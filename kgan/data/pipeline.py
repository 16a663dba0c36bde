"""`load_images`: batched, model-ready image datasets by name.

Every dataset comes out the same way: float32 NHWC batches in [-1, 1] (the model
contract), optionally with int32 labels, whatever the source (the embedded
Fashion-MNIST subset or TFDS).

Pipeline order and why:
  source (uint8) -> take(limit) -> crop/resize (uint8) -> cache -> shuffle
  -> repeat -> batch -> scale to [-1, 1] -> prefetch
Caching uint8 after the resize makes later epochs skip decoding and resizing at
a quarter of float32's memory; shuffling after the cache reshuffles every epoch;
scaling whole batches is one vectorised op instead of one per image.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from kgan.data import sources, specs, user_data
from kgan.data.image_folder import to_channels
from kgan.data.catalog import ImageDatasetInfo, dataset_info, normalize_image_size
from kgan.data.preprocessing import center_crop, resize_uint8
from kgan.data.ranges import to_model_range

# Cache in memory when the uint8 images take at most this much (CIFAR-10: 150 MB;
# CelebA at 64x64: 2 GB, not cached).
CACHE_LIMIT_BYTES = 1 << 30
# Shuffle buffer for datasets too big to cache (cached ones are shuffled fully).
LARGE_SHUFFLE_BUFFER = 10_000


def _check_batching(batch_size, limit) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"limit must be a positive int (number of examples) or None, got {limit!r}.")


def _check_args(info: ImageDatasetInfo, data_dir, manual_dir, with_labels) -> None:
    if with_labels and not info.has_labels:
        raise ValueError(f"{info.name!r} has no class labels; call load_images({info.name!r}, with_labels=False).")
    if info.tfds_name is None and (data_dir is not None or manual_dir is not None):
        raise ValueError(f"{info.name!r} ships with kgan; data_dir and manual_dir do not apply, leave them None.")
    _check_dirs(data_dir, manual_dir)


def _check_dirs(data_dir, manual_dir) -> None:
    if data_dir is not None and not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"data_dir={os.fspath(data_dir)!r} does not exist. Pass an existing TFDS data dir (create it first if "
            "TFDS should prepare the dataset there), or data_dir=None for TFDS's default "
            "($TFDS_DATA_DIR or ~/tensorflow_datasets)."
        )
    if manual_dir is not None and not os.path.isdir(manual_dir):
        raise FileNotFoundError(
            f"manual_dir={os.fspath(manual_dir)!r} does not exist. Pass the directory that holds the dataset's "
            "original files, or manual_dir=None."
        )


def _transform(info: ImageDatasetInfo, size: tuple[int, int] | None, channels: int | None = None):
    """The per-example uint8 crop/resize (and channel conversion) for this dataset, or None if there is none."""
    crop = info.center_crop
    if size is None and crop is not None:
        size = info.image_shape[:2]  # CelebA: crop, then resize to the default 64x64.
    if size is not None and crop is None and tuple(size) == info.source_shape[:2]:
        size = None
    if channels == info.source_shape[-1]:
        channels = None
    if crop is None and size is None and channels is None:
        return None

    def transform(image, label):
        if channels is not None:
            image = to_channels(image, channels)
        if crop is not None:
            image = center_crop(image, crop)
        if size is not None and tuple(size) != (crop, crop):
            image = resize_uint8(image, size)
        return image, label

    return transform


def load_images(
    name: str,
    split: str = "train",
    batch_size: int = 64,
    *,
    data_dir: str | os.PathLike | None = None,
    manual_dir: str | os.PathLike | None = None,
    with_labels: bool = False,
    shuffle: bool = True,
    repeat: bool = False,
    drop_remainder: bool = True,
    image_size: int | tuple[int, int] | None = None,
    limit: int | None = None,
    seed: int | None = None,
    download: bool = True,
    channels: int | None = None,
    crop: str = "center",
    on_bad_image: str = "skip",
) -> tf.data.Dataset:
    """Loads a known image dataset as model-ready batches.

    Args:
      name: one of `kgan.data.KNOWN_DATASETS`: ``"embedded_fashion_mnist"`` (shipped
        with kgan; no TFDS, no network), or the TFDS names ``"mnist"``,
        ``"fashion_mnist"``, ``"cifar10"``, ``"celeb_a"``; or the user's own
        data: ``"folder:PATH"`` (class subfolders are labels),
        ``"npz:PATH[:KEY]"``, ``"npy:PATH"`` or ``"tfds:NAME[/CONFIG]"``
        (`kgan.data.user_data`).
      split: ``"train"``/``"test"`` (CelebA also ``"validation"``); TFDS datasets
        accept TFDS slicing such as ``"train[:10%]"``.
      batch_size: examples per batch, > 0.
      data_dir: TFDS data dir root (must exist); ``None`` is TFDS's default.
        An unprepared ``fashion_mnist`` is prepared offline from the Debian
        package when its files are installed; other datasets are downloaded.
      manual_dir: directory with a dataset's original files (named as in TFDS's
        checksums), used by TFDS instead of downloading.
      with_labels: also yield int32 class labels ``[B]`` (not for ``celeb_a``).
      shuffle: shuffle files and examples (reshuffled every epoch).
      repeat: repeat forever (then use ``steps_per_epoch`` in ``fit``).
      drop_remainder: drop the last partial batch so every batch is ``[batch_size, ...]``.
      image_size: ``s`` or ``(h, w)`` to resize to (bilinear, antialiased).
        ``celeb_a`` is always centre-cropped to 178x178 first and defaults to 64.
      limit: use only the first ``limit`` examples of the split.
      seed: makes the shuffle order reproducible.
      download: if False, raise instead of downloading an unprepared TFDS dataset.
      channels: 1 or 3 to convert every image (colour to gray by luma, gray
        repeated to RGB); ``None``: as the data is.
      crop: user sources: ``"center"`` keeps each image's central square
        before resizing, ``"none"`` resizes the whole image.
      on_bad_image: ``folder:`` sources: ``"skip"`` unusable files (they are
        counted in ``dataset_info(...).skipped``) or ``"stop"`` with their list.

    Returns:
      A prefetched `tf.data.Dataset` of float32 images ``[B, H, W, C]`` in [-1, 1]
      (``x / 127.5 - 1``), or of ``(images, labels)`` with int32 labels ``[B]`` in
      ``[0, num_classes)``. ``dataset_info(name, image_size).image_shape`` is ``(H, W, C)``.

    Raises:
      ValueError: unknown name (lists the known ones), bad batch_size/limit/
        image_size, labels requested for an unlabelled dataset, or fewer examples
        than one batch.
      FileNotFoundError: data_dir/manual_dir does not exist.
      DatasetNotPreparedError: a TFDS dataset is not prepared and cannot be
        downloaded; the message lists how to prepare it offline.
    """
    _check_batching(batch_size, limit)
    if specs.is_user_source(name):
        _check_dirs(data_dir, manual_dir)
        ds, info = user_data.examples(
            name, split, image_size=image_size, channels=channels, crop=crop, on_bad_image=on_bad_image,
            data_dir=data_dir, manual_dir=manual_dir, shuffle_files=shuffle, seed=seed, download=download,
            with_labels=with_labels,
        )
        # Known from the check: a dropped corrupt file makes the cardinality unknown, not the size.
        num_examples = info.splits.get(split, -1)
        if limit is not None:
            ds = ds.take(limit)
            num_examples = min(num_examples, limit) if num_examples >= 0 else -1
    else:
        info = dataset_info(name, image_size, channels=channels)  # Validates name and image_size.
        size = normalize_image_size(image_size)
        _check_args(info, data_dir, manual_dir, with_labels)
        if info.tfds_name is None:
            ds = sources.embedded_examples(split)
        else:
            ds = sources.tfds_examples(
                info, split, data_dir=data_dir, manual_dir=manual_dir, shuffle_files=shuffle, seed=seed, download=download
            )
        if limit is not None:
            ds = ds.take(limit)
        transform = _transform(info, size, channels)
        if transform is not None:
            ds = ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        num_examples = int(ds.cardinality())  # < 0 if unknown.
    if num_examples == 0 or (0 < num_examples < batch_size and drop_remainder and not repeat):
        raise ValueError(
            f"{name!r} split {split!r} has {num_examples} examples (limit={limit}), fewer than batch_size={batch_size}, "
            "so drop_remainder=True would yield no batch. Lower batch_size, raise limit, or pass drop_remainder=False."
        )
    cached = 0 <= num_examples and num_examples * _example_bytes(info) <= CACHE_LIMIT_BYTES
    if cached:
        ds = ds.cache()
    if shuffle and cached and specs.shuffles_on_read(name):
        # A folder source shuffles its file list every pass, so the first epoch needs no shuffle
        # buffer: it streams while it fills the cache (a full buffer first decoded every file: 12 s of
        # 100,000 PNGs before the first step). Later epochs shuffle the cache whole.
        if repeat:
            ds = ds.concatenate(ds.shuffle(num_examples, seed=seed, reshuffle_each_iteration=True).repeat())
    else:
        if shuffle:
            buffer = num_examples if cached else LARGE_SHUFFLE_BUFFER
            ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE)

    def finish(images, labels):
        images = to_model_range(images)
        return (images, tf.cast(labels, tf.int32)) if with_labels else images

    ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def load_labelled_arrays(name: str, split: str = "test", *, limit: int | None = None, **options) -> tuple[np.ndarray, np.ndarray]:
    """Every image of a labelled split (or its first ``limit``) in order, with its label, as numpy arrays.

    What evaluations read (clusters, probes, reconstructions): `load_images`
    with ``with_labels=True``, no shuffle, no dropped remainder.

    Args:
      name, split, limit: as for `load_images`.
      **options: the other reading options of `load_images` (``image_size``,
        ``channels``, ``crop``, ``data_dir``, ...), as training read the data.

    Returns:
      ``(images float32 [N, H, W, C] in [-1, 1], labels int32 [N])``.
    """
    pairs = [(images.numpy(), labels.numpy()) for images, labels in load_images(
        name, split, 500, with_labels=True, shuffle=False, drop_remainder=False, limit=limit, **options)]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def _example_bytes(info: ImageDatasetInfo) -> int:
    h, w, c = info.image_shape  # Already the post-crop/resize shape.
    return h * w * c + 8  # uint8 pixels + int64 label
