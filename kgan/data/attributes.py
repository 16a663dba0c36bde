"""Images with domain attributes for multi-domain translation (StarGAN).

`load_attribute_images(name, split, batch_size)` yields ``(images, attributes)``
batches: float32 images ``[B, H, W, C]`` in [-1, 1] and float32 0/1 attributes
``[B, K]``. Sources:

* ``"tinted_fashion_mnist"``: an offline demo whose attributes are known by
  construction. Real Fashion-MNIST images (the embedded subset) are rendered
  in RGB with one of three colour tints -- ``red``, ``green``, ``blue``,
  mutually exclusive like CelebA's hair colours -- and, independently, with
  the grayscale ``inverted`` or not (bright background, dark garment): K = 4
  attributes. Each image's attributes are drawn once from a fixed seed; its
  garment class is kept for checking that translation preserves content.
  ``"tinted_fashion_mnist_full"`` is the same on all of Fashion-MNIST (TFDS,
  prepared offline from the Debian package when present).
* ``"celeb_a"``: TFDS CelebA with selectable binary attributes (default the
  StarGAN paper's Black_Hair, Blond_Hair, Brown_Hair, Male, Young), centre
  crop 178x178, resize to ``image_size`` (128).
* any ``(images, attributes)`` arrays: `attribute_dataset`.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from kgan.data import sources
from kgan.data.catalog import dataset_info
from kgan.data.preprocessing import center_crop, resize_uint8
from kgan.data.ranges import to_model_range

TINT_ATTRIBUTES = ("red", "green", "blue", "inverted")
COLOURS = TINT_ATTRIBUTES[:3]
CELEB_A_DEFAULT_ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
TINTED_SOURCES = {"tinted_fashion_mnist": "embedded", "tinted_fashion_mnist_full": "fashion_mnist"}
ATTRIBUTE_DATASETS = (*TINTED_SOURCES, "celeb_a")
# Channel gains of a tint: the tint's own channel at full strength, the others dimmed.
_TINT_FLOOR = 0.3
_ATTRIBUTE_SEED = {"train": 101, "test": 202}


def render_attributes(gray, attributes) -> np.ndarray:
    """Renders grayscale images with tint/inversion attributes.

    Args:
      gray: uint8 ``[N, H, W, 1]``.
      attributes: 0/1 ``[N, 4]`` as `TINT_ATTRIBUTES` (red, green, blue,
        inverted); the three colours are exclusive (exactly one is 1).

    Returns:
      uint8 ``[N, H, W, 3]``: ``(inverted ? 255 - g : g) * gain``, where the
      gain is 1 on the tint's channel and 0.3 on the others.
    """
    gray = np.asarray(gray, np.float32)
    attributes = np.asarray(attributes, np.float32)
    if gray.ndim != 4 or gray.shape[-1] != 1:
        raise ValueError(f"gray must be [N, H, W, 1]; got {gray.shape}.")
    if attributes.shape != (len(gray), len(TINT_ATTRIBUTES)) or not np.all(attributes[:, :3].sum(-1) == 1):
        raise ValueError("attributes must be [N, 4] (red, green, blue, inverted) with exactly one colour per row.")
    inverted = attributes[:, 3][:, None, None, None]
    base = inverted * (255.0 - gray) + (1.0 - inverted) * gray
    gains = _TINT_FLOOR + (1.0 - _TINT_FLOOR) * attributes[:, None, None, :3]
    return np.clip(np.rint(base * gains), 0, 255).astype(np.uint8)


def random_tint_attributes(count: int, seed: int) -> np.ndarray:
    """``[count, 4]`` float32: a uniform colour and a fair coin for ``inverted`` per image."""
    rng = np.random.default_rng(seed)
    attributes = np.zeros((count, len(TINT_ATTRIBUTES)), np.float32)
    attributes[np.arange(count), rng.integers(0, len(COLOURS), count)] = 1.0
    attributes[:, 3] = rng.integers(0, 2, count)
    return attributes


def split_size(name: str, split: str) -> int | None:
    """Examples in ``split`` of ``name`` where known without loading: the tinted demos have their source's."""
    if name in TINTED_SOURCES:
        source = "embedded_fashion_mnist" if TINTED_SOURCES[name] == "embedded" else "fashion_mnist"
        return dataset_info(source).splits.get(split)
    return dataset_info(name).splits.get(split)


def tinted_arrays(name: str = "tinted_fashion_mnist", split: str = "train", data_dir=None, manual_dir=None):
    """The tinted demo as arrays: ``(images uint8 [N, 28, 28, 3], attributes float32 [N, 4], classes int [N])``.

    Deterministic: the attributes of a split are drawn from a fixed seed.
    """
    if name not in TINTED_SOURCES:
        raise ValueError(f"Unknown tinted dataset {name!r}; choose one of {', '.join(TINTED_SOURCES)}.")
    if split not in _ATTRIBUTE_SEED:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
    gray, classes = sources.fashion_mnist_arrays(split, TINTED_SOURCES[name], data_dir, manual_dir)
    attributes = random_tint_attributes(len(gray), _ATTRIBUTE_SEED[split])
    return render_attributes(gray, attributes), attributes, np.asarray(classes, np.int64)


def attribute_dataset(images, attributes, batch_size: int, *, shuffle=True, repeat=False, seed=None) -> tf.data.Dataset:
    """``(images, attributes)`` arrays -> batches; uint8 images are scaled to [-1, 1].

    Args:
      images: ``[N, H, W, C]`` uint8 in [0, 255] or float in [-1, 1].
      attributes: 0/1 ``[N, K]``.
      batch_size: examples per batch (every batch is full).
    """
    images = np.asarray(images)
    attributes = np.asarray(attributes, np.float32)
    if len(images) != len(attributes):
        raise ValueError(f"{len(images)} images but {len(attributes)} attribute rows.")
    if len(images) < batch_size:
        raise ValueError(f"{len(images)} examples make no batch of {batch_size}.")
    ds = tf.data.Dataset.from_tensor_slices((images, attributes))
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    scale = to_model_range if images.dtype == np.uint8 else (lambda x: tf.cast(x, tf.float32))
    ds = ds.batch(batch_size, drop_remainder=True).map(lambda x, a: (scale(x), a), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def celeb_a_attribute_names(data_dir=None) -> tuple:
    """The 40 attribute names of TFDS ``celeb_a``."""
    import tensorflow_datasets as tfds

    builder = tfds.builder("celeb_a", data_dir=os.fspath(data_dir) if data_dir is not None else None)
    return tuple(sorted(builder.info.features["attributes"].keys()))


def _celeb_a(split, attributes, image_size, data_dir, manual_dir, shuffle, seed):
    import tensorflow_datasets as tfds

    known = celeb_a_attribute_names(data_dir)
    unknown = [a for a in attributes if a not in known]
    if unknown:
        raise ValueError(f"Unknown CelebA attributes {unknown}; choose from: {', '.join(known)}.")
    builder = sources.prepared_builder(dataset_info("celeb_a"), data_dir=data_dir, manual_dir=manual_dir)
    ds = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed))

    def convert(example):
        image = resize_uint8(center_crop(example["image"], 178), (image_size, image_size))
        values = tf.stack([tf.cast(example["attributes"][a], tf.float32) for a in attributes])
        return image, values

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def load_attribute_images(
    name: str,
    split: str = "train",
    batch_size: int = 16,
    *,
    attributes=None,
    image_size: int | None = None,
    data_dir=None,
    manual_dir=None,
    limit: int | None = None,
    shuffle: bool = True,
    repeat: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """``(images, attributes)`` batches for `kgan.StarGAN`.

    Args:
      name: ``"tinted_fashion_mnist"``, ``"tinted_fashion_mnist_full"`` or ``"celeb_a"``.
      split: ``"train"``/``"test"`` (CelebA also ``"validation"``).
      batch_size: examples per batch (every batch is full).
      attributes: CelebA attribute names (default `CELEB_A_DEFAULT_ATTRIBUTES`);
        the tinted demos always have `TINT_ATTRIBUTES`.
      image_size: CelebA output side (default 128); the demos are 28x28.
      data_dir, manual_dir: TFDS arguments.
      limit: use only the first ``limit`` examples.
      shuffle, repeat, seed: as in `kgan.data.load_images`.

    Returns:
      A dataset of ``(float32 [B, H, W, C] in [-1, 1], float32 0/1 [B, K])``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    if name in TINTED_SOURCES:
        if attributes not in (None, TINT_ATTRIBUTES, list(TINT_ATTRIBUTES)):
            raise ValueError(f"{name} has the attributes {TINT_ATTRIBUTES}; got {attributes}.")
        if image_size not in (None, 28):
            raise ValueError(f"{name} is 28x28; unset image_size.")
        images, values, _ = tinted_arrays(name, split, data_dir, manual_dir)
        if limit is not None:
            images, values = images[:limit], values[:limit]
        return attribute_dataset(images, values, batch_size, shuffle=shuffle, repeat=repeat, seed=seed)
    if name != "celeb_a":
        raise ValueError(f"Unknown attribute dataset {name!r}; choose one of {', '.join(ATTRIBUTE_DATASETS)}.")
    names = tuple(attributes or CELEB_A_DEFAULT_ATTRIBUTES)
    ds = _celeb_a(split, names, image_size or 128, data_dir, manual_dir, shuffle, seed)
    if limit is not None:
        ds = ds.take(limit)
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=True).map(lambda x, a: (to_model_range(x), a), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def attribute_names(name: str, attributes=None) -> tuple:
    """The attribute names (label vector order) of ``name``."""
    if name in TINTED_SOURCES:
        return TINT_ATTRIBUTES
    return tuple(attributes or CELEB_A_DEFAULT_ATTRIBUTES)
