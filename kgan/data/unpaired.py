"""Unpaired image domains X and Y for image-to-image translation (CycleGAN).

`load_unpaired(name, split, batch_size)` yields ``(images_x, images_y)``
batches, float32 ``[B, H, W, C]`` in [-1, 1], each side shuffled on its own,
so no batch pairs an x with its counterpart. Sources (``name``):

* ``"footwear_edges"``: an offline "edges2shoes in miniature" built from real
  images -- the footwear classes (sandal, sneaker, ankle boot) of the embedded
  Fashion-MNIST subset. X = edge maps (`edge_map`), Y = the footwear images.
  For training, X and Y come from *disjoint* halves of the split (X: edges of
  the first half of a fixed permutation, Y: images of the second half), so
  the true pair of an x is never seen. The test split keeps the pairing
  (`paired_arrays`, `load_paired`) to measure L1 to ground truth. Sizes:
  train 1,800 footwear images (900 per domain), test 300 pairs.
* ``"footwear_edges_full"``: the same from all of Fashion-MNIST (TFDS
  ``fashion_mnist``, prepared offline from the Debian package when present):
  train 18,000 (9,000 per domain), test 3,000 pairs.
* ``"cycle_gan/<config>"``: TFDS's CycleGAN datasets (e.g.
  ``cycle_gan/horse2zebra``), splits trainA/trainB/testA/testB.
* a directory holding ``trainA/`` and ``trainB/`` (and optionally ``testA/``,
  ``testB/``) of PNG/JPEG/BMP/GIF files: the reference implementation's layout.
  Each domain is gray (one channel) only if all its images are; see
  `folder_channels`.

Training images of the full-size sources get the paper's random jitter
(Zhu et al. 2017, appendix 7.1): resize to 286x286, random 256x256 crop,
random horizontal flip (`random_jitter`); smaller ``image_size`` values
resize to that size and flip.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from kgan.data import sources
from kgan.data.catalog import ImageDatasetInfo
from kgan.data.preprocessing import resize_uint8
from kgan.data.ranges import to_model_range

DEMO_SOURCES = {"footwear_edges": "embedded", "footwear_edges_full": "fashion_mnist"}
FOOTWEAR_CLASSES = (5, 7, 9)  # Fashion-MNIST sandal, sneaker, ankle boot.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
FULL_SIZE = 256
JITTER_SIZE = 286
# The demo's fixed split of the training images into the X half and the Y half.
_DEMO_PERMUTATION_SEED = 1234
# Edge extraction: a pixel is an edge where the Sobel gradient magnitude exceeds
# this fraction of the image's largest magnitude.
EDGE_THRESHOLD = 0.25


# ---------------------------------------------------------------------- the footwear demo


def edge_map(images) -> np.ndarray:
    """Binary edge maps of grayscale images, white edges on black.

    Algorithm (vectorised, deterministic): scale to [0, 1]; smooth lightly
    (the average of the image and its 3x3 box blur, which removes the
    texture of single pixels); Sobel gradients; gradient magnitude divided by
    each image's maximum; edge where it exceeds ``EDGE_THRESHOLD`` (0.25).

    Args:
      images: uint8 ``[N, H, W, 1]`` in [0, 255].

    Returns:
      uint8 ``[N, H, W, 1]``: 255 on edges, 0 elsewhere.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"edge_map expects grayscale images [N, H, W, 1]; got shape {images.shape}.")
    x = tf.cast(images, tf.float32) / 255.0
    x = 0.5 * x + 0.5 * tf.nn.avg_pool2d(x, 3, 1, "SAME")
    gradients = tf.image.sobel_edges(x)  # [N, H, W, 1, 2]
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=-1))
    peak = tf.reduce_max(magnitude, axis=[1, 2, 3], keepdims=True)
    edges = magnitude > EDGE_THRESHOLD * tf.maximum(peak, 1e-6)
    return (tf.cast(edges, tf.uint8) * 255).numpy()


def _footwear_images(split: str, source: str, data_dir=None, manual_dir=None) -> np.ndarray:
    images, labels = sources.fashion_mnist_arrays(split, source, data_dir, manual_dir)
    return images[np.isin(labels, FOOTWEAR_CLASSES)]


def footwear_edge_pairs(split: str = "train", source: str = "embedded", data_dir=None, manual_dir=None):
    """Fashion-MNIST footwear images and their edge maps, truly paired.

    Args:
      split: ``"train"`` or ``"test"``.
      source: ``"embedded"`` (the subset shipped with kgan) or
        ``"fashion_mnist"`` (all of it, via TFDS).
      data_dir, manual_dir: TFDS arguments for ``source="fashion_mnist"``.

    Returns:
      ``(edges, images)``: uint8 ``[N, 28, 28, 1]`` each; ``edges[i] ==
      edge_map(images)[i]``.
    """
    images = _footwear_images(split, source, data_dir, manual_dir)
    return edge_map(images), images


def _demo_domains(name: str, split: str, data_dir=None, manual_dir=None):
    """``(x uint8, y uint8)``: disjoint halves for training, true pairs for evaluation."""
    edges, images = footwear_edge_pairs(split, DEMO_SOURCES[name], data_dir, manual_dir)
    if split != "train":
        return edges, images
    order = np.random.default_rng(_DEMO_PERMUTATION_SEED).permutation(len(images))
    half = len(images) // 2
    return edges[order[:half]], images[order[half:]]


# ---------------------------------------------------------------------- other sources


def _domain_splits(split: str) -> tuple[str, str]:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' (trainA/trainB) or 'test' (testA/testB); got {split!r}.")
    return f"{split}A", f"{split}B"


def _is_folder_source(name: str) -> bool:
    return os.path.isdir(name)


def _image_files(directory: str) -> list:
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{directory} does not exist: a folder dataset needs trainA/ and trainB/ (and testA/, testB/ for tests) "
            "holding the images of domain X and domain Y."
        )
    files = sorted(
        os.path.join(directory, f) for f in os.listdir(directory) if f.lower().endswith(IMAGE_EXTENSIONS)
    )
    if not files:
        raise ValueError(f"{directory} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")
    return files


# PIL modes without colour. Every other mode (RGB, RGBA, palette, CMYK, ...) is decoded to RGB.
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
# The formats TF decodes to one channel: decode_bmp and decode_gif refuse channels=1.
_ONE_CHANNEL_FORMATS = frozenset({"PNG", "JPEG"})


def _decodes_to_gray(path: str) -> bool:
    """Whether ``path`` holds a gray image TF can decode to one channel (reads the header only)."""
    from PIL import Image

    try:
        with Image.open(path) as image:  # Lazy: the pixels are not decoded.
            return image.mode in _GRAY_MODES and image.format in _ONE_CHANNEL_FORMATS
    except OSError as error:  # PIL's UnidentifiedImageError is an OSError.
        raise ValueError(f"{path} is not a readable image ({error}); remove or replace it.") from None


def folder_channels(name: str) -> tuple:
    """``(C_x, C_y)``: the channels of domain X (trainA/, testA/) and Y (trainB/, testB/) of a folder dataset.

    Decided once per domain over both splits, so training, the epoch-end
    pictures (test split) and every rerun agree: 1 if every image of the
    domain is gray PNG/JPEG, else 3 -- gray images of a colour domain are
    replicated to RGB, and alpha is dropped (as the reference implementation's
    ``convert("RGB")``). Reading each file's header also refuses a file that is
    no image here, at the start, rather than in the middle of an epoch.

    Raises:
      ValueError: a file with an image extension is not a readable image.
    """
    channels = []
    for domain in "AB":
        directories = [os.path.join(name, f"{split}{domain}") for split in ("train", "test")]
        files = [f for d in directories if os.path.isdir(d) for f in _image_files(d)]
        # A list, not a generator: every header is read, so a broken file is found whatever comes first.
        gray = [_decodes_to_gray(f) for f in files]
        channels.append(1 if all(gray) else 3)
    return tuple(channels)


def _folder_examples(directory: str, channels: int) -> tf.data.Dataset:
    files = _image_files(directory)

    def decode(path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        image.set_shape([None, None, channels])
        return image

    return tf.data.Dataset.from_tensor_slices(files).map(decode, num_parallel_calls=tf.data.AUTOTUNE)


def _cycle_gan_info(name: str) -> ImageDatasetInfo:
    return ImageDatasetInfo(
        name=name, image_shape=(FULL_SIZE, FULL_SIZE, 3), num_classes=None, class_names=(), splits={},
        tfds_name=name, source_shape=(FULL_SIZE, FULL_SIZE, 3),
    )


def _check_name(name: str) -> None:
    if name in DEMO_SOURCES or name.startswith("cycle_gan/") or _is_folder_source(name):
        return
    raise ValueError(
        f"Unknown unpaired dataset {name!r}: use {', '.join(DEMO_SOURCES)}, a TFDS name cycle_gan/<config> "
        "(e.g. cycle_gan/horse2zebra), or a directory with trainA/ and trainB/ image folders."
    )


# ---------------------------------------------------------------------- preprocessing


def random_jitter(image, image_size: int = FULL_SIZE, seed=None):
    """The paper's augmentation: resize up by 286/256, random crop back, random flip.

    Args:
      image: uint8 ``[H, W, C]``.
      image_size: output side (256 in the paper; the resize is to
        ``round(image_size * 286 / 256)``).
      seed: optional stateless seed, shape ``[2]`` int; None draws from the
        global generator.

    Returns:
      uint8 ``[image_size, image_size, C]``.
    """
    larger = int(round(image_size * JITTER_SIZE / FULL_SIZE))
    image = resize_uint8(image, (larger, larger))
    channels = image.shape[-1]
    if seed is None:
        image = tf.image.random_crop(image, [image_size, image_size, channels])
        return tf.image.random_flip_left_right(image)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    image = tf.image.stateless_random_crop(image, [image_size, image_size, channels], seed=seeds[0])
    return tf.image.stateless_random_flip_left_right(image, seed=seeds[1])


def _preprocess(image_size: int | None, native_size: int, training: bool):
    """The per-image uint8 transform for one domain, or None."""
    size = image_size or native_size
    if training and size >= FULL_SIZE:
        return lambda image: random_jitter(image, size)
    if training:
        return lambda image: tf.image.random_flip_left_right(resize_uint8(image, (size, size)))
    if size != native_size or native_size == FULL_SIZE:  # Folders may hold any size: always resize.
        return lambda image: resize_uint8(image, (size, size))
    return None


# ---------------------------------------------------------------------- public API


@dataclasses.dataclass(frozen=True)
class UnpairedInfo:
    """Shapes and sizes of an unpaired dataset, known without loading it all.

    Attributes:
      name: as passed to `load_unpaired`.
      image_shape_x, image_shape_y: ``(H, W, C)`` of the images yielded.
      sizes: split -> ``(examples in X, examples in Y)``, where known.
    """

    name: str
    image_shape_x: tuple
    image_shape_y: tuple
    sizes: dict

    def split_sizes(self, split: str) -> tuple:
        """``(len X, len Y)`` of ``split``; ValueError if unknown."""
        if split not in self.sizes:
            raise ValueError(f"The size of split {split!r} of {self.name} is unknown here: set --steps_per_epoch.")
        return self.sizes[split]


def unpaired_info(name: str, data_dir=None, manual_dir=None, image_size: int | None = None) -> UnpairedInfo:
    """Shapes and split sizes of ``name`` (see `load_unpaired`)."""
    _check_name(name)
    if name in DEMO_SOURCES:
        size = image_size or 28
        sizes = {"train": (900, 900), "test": (300, 300)} if name == "footwear_edges" else {"train": (9000, 9000), "test": (3000, 3000)}
        return UnpairedInfo(name, (size, size, 1), (size, size, 1), sizes)
    size = image_size or FULL_SIZE
    if _is_folder_source(name):
        sizes = {}
        for split in ("train", "test"):
            a, b = (os.path.join(name, d) for d in _domain_splits(split))
            if os.path.isdir(a) and os.path.isdir(b):
                sizes[split] = (len(_image_files(a)), len(_image_files(b)))
        for directory in (os.path.join(name, d) for d in _domain_splits("train")):
            _image_files(directory)  # trainA/ and trainB/ must exist and hold images.
        channels_x, channels_y = folder_channels(name)
        return UnpairedInfo(name, (size, size, channels_x), (size, size, channels_y), sizes)
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=os.fspath(data_dir) if data_dir is not None else None)
    splits = builder.info.splits
    sizes = {
        split: (splits[a].num_examples, splits[b].num_examples)
        for split in ("train", "test")
        for a, b in [_domain_splits(split)]
        if a in splits and b in splits
    }
    return UnpairedInfo(name, (size, size, 3), (size, size, 3), sizes)


def _domain_datasets(name, split, data_dir, manual_dir, image_size, shuffle, seed):
    """``(x uint8 dataset, y uint8 dataset, native side)`` before batching."""
    if name in DEMO_SOURCES:
        x, y = _demo_domains(name, split, data_dir, manual_dir)
        return tf.data.Dataset.from_tensor_slices(x), tf.data.Dataset.from_tensor_slices(y), 28
    split_x, split_y = _domain_splits(split)
    if _is_folder_source(name):
        dir_x, dir_y = os.path.join(name, split_x), os.path.join(name, split_y)
        channels_x, channels_y = folder_channels(name)  # The same for both splits.
        return _folder_examples(dir_x, channels_x), _folder_examples(dir_y, channels_y), FULL_SIZE
    info = _cycle_gan_info(name)

    def read(domain_split, offset):
        examples = sources.tfds_examples(
            info, domain_split, data_dir=data_dir, manual_dir=manual_dir, shuffle_files=shuffle,
            seed=None if seed is None else seed + offset,
        )
        return examples.map(lambda image, label: image)

    return read(split_x, 0), read(split_y, 1), FULL_SIZE


def load_unpaired(
    name: str,
    split: str = "train",
    batch_size: int = 1,
    *,
    data_dir=None,
    manual_dir=None,
    image_size: int | None = None,
    limit: int | None = None,
    shuffle: bool = True,
    repeat: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batches of unpaired ``(images_x, images_y)`` for `kgan.CycleGAN`.

    Args:
      name: ``"footwear_edges"``, ``"footwear_edges_full"``,
        ``"cycle_gan/<config>"`` or a directory with ``trainA/``, ``trainB/``.
      split: ``"train"`` or ``"test"``.
      batch_size: images per domain per batch (every batch is full).
      data_dir, manual_dir: TFDS arguments (``cycle_gan/*``, ``footwear_edges_full``).
      image_size: output side; default 28 for the demos, 256 otherwise.
        Training at 256 and above uses `random_jitter`; other training sizes
        resize and flip; evaluation only resizes.
      limit: use at most this many images per domain.
      shuffle: shuffle each domain on its own (seeds ``seed`` and ``seed + 1``).
        Training augmentation applies when ``shuffle`` is on.
      repeat: repeat forever (use ``steps_per_epoch`` in ``fit``).
      seed: shuffle seed.

    Returns:
      A `tf.data.Dataset` of ``(images_x [B, H, W, C_x], images_y [B, H, W, C_y])``
      float32 in [-1, 1].

    Raises:
      ValueError: unknown name, bad batch_size/limit/split/image_size, empty folders.
      FileNotFoundError: a folder dataset lacks trainA/ or trainB/.
      kgan.data.DatasetNotPreparedError: a TFDS dataset is not prepared and
        cannot be downloaded; the message says how to prepare it.
    """
    _check_name(name)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None; got {limit!r}.")
    if image_size is not None and (image_size < 4 or image_size % 4):
        raise ValueError(f"image_size must be a multiple of 4 (the generators halve it twice); got {image_size}.")
    x, y, native = _domain_datasets(name, split, data_dir, manual_dir, image_size, shuffle, seed)
    training = split == "train" and shuffle
    transform = _preprocess(image_size, native, training)

    def side(ds, offset):
        if limit is not None:
            ds = ds.take(limit)
        cached = native < FULL_SIZE  # The demos are small; full-size sets stream.
        if cached:
            ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(10_000, seed=None if seed is None else seed + offset, reshuffle_each_iteration=True)
        if transform is not None:
            ds = ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        if repeat:
            ds = ds.repeat()
        return ds.batch(batch_size, drop_remainder=True).map(to_model_range, num_parallel_calls=tf.data.AUTOTUNE)

    return tf.data.Dataset.zip((side(x, 0), side(y, 1))).prefetch(tf.data.AUTOTUNE)


def paired_arrays(name: str, split: str = "test", data_dir=None, manual_dir=None, image_size: int | None = None):
    """The demo's true pairs ``(x, y)`` as float32 arrays in [-1, 1] (for evaluation).

    Only the footwear demos have ground truth: x[i] is the edge map of y[i].
    """
    if name not in DEMO_SOURCES:
        raise ValueError(f"Only {', '.join(DEMO_SOURCES)} keep true pairs; {name!r} is unpaired.")
    if split == "train":
        edges, images = footwear_edge_pairs("train", DEMO_SOURCES[name], data_dir, manual_dir)
    else:
        edges, images = _demo_domains(name, split, data_dir, manual_dir)
    if image_size not in (None, 28):
        edges = resize_uint8(edges, (image_size, image_size)).numpy()
        images = resize_uint8(images, (image_size, image_size)).numpy()
    return to_model_range(edges), to_model_range(images)


def load_paired(name: str, split: str = "test", batch_size: int = 64, **kwargs) -> tf.data.Dataset:
    """`paired_arrays` as a dataset of ``(x, y)`` batches, in order (the last batch may be short)."""
    x, y = paired_arrays(name, split, **kwargs)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
