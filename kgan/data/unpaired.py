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
* ``"folder:PATH"``, or just the directory PATH, holding ``trainA/`` and
  ``trainB/`` (and optionally ``testA/``, ``testB/``) of PNG/JPEG/BMP/GIF
  files, searched recursively: the reference implementation's layout. Every
  file is checked before training as any ``folder:`` source's
  (`kgan.data.image_folder.scan_folder`: header and file end, no pixel
  decoded): with ``on_bad_image="skip"`` (the training binary's default)
  files that are no image, empty, truncated or of a format TF cannot decode
  are left out and listed (`UnpairedInfo.skipped`); with ``"stop"`` (this
  module's default, as it always refused them) they stop it with their list.
  A domain folder without a usable image is refused. Each domain is gray
  (one channel) only if all its images are, unless ``channels`` is given;
  see `folder_channels`. A non-square image keeps its central square
  (``crop="center"``, the default, as every kgan folder source) or is
  squeezed whole (``crop="none"``, the reference implementation's way).

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

from kgan.data import image_folder, sources, specs
from kgan.data.catalog import ImageDatasetInfo
from kgan.data.image_folder import IMAGE_EXTENSIONS  # noqa: F401 (re-exported: what folders are searched for)
from kgan.data.preprocessing import central_square, resize_uint8, seeded_map
from kgan.data.ranges import to_model_range
from kgan.data.specs import BAD_IMAGE_POLICIES, CROP_CHOICES

DEMO_SOURCES = {"footwear_edges": "embedded", "footwear_edges_full": "fashion_mnist"}
FOOTWEAR_CLASSES = (5, 7, 9)  # Fashion-MNIST sandal, sneaker, ankle boot.
DOMAIN_FOLDERS = ("trainA", "trainB", "testA", "testB")
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


def footwear_images(split: str, source: str = "embedded", data_dir=None, manual_dir=None):
    """The footwear images of Fashion-MNIST and their classes, in the order every footwear source uses.

    Returns:
      ``(images uint8 [N, 28, 28, 1], classes int [N])``, classes in `FOOTWEAR_CLASSES`.
    """
    images, labels = sources.fashion_mnist_arrays(split, source, data_dir, manual_dir)
    keep = np.isin(labels, FOOTWEAR_CLASSES)
    return images[keep], np.asarray(labels)[keep]


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
    images, _ = footwear_images(split, source, data_dir, manual_dir)
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


def folder_root(name: str) -> str | None:
    """The directory of a folder dataset -- ``folder:PATH``'s PATH, or an existing directory itself -- else None.

    Raises:
      ValueError: a ``folder:`` with no path.
    """
    if specs.is_user_source(name):
        return specs.parse_source(name).location if name.split(":", 1)[0] == "folder" else None
    return name if os.path.isdir(name) else None


def _is_folder_source(name: str) -> bool:
    return folder_root(name) is not None


def _missing_folder(directory: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"{directory} does not exist: a folder dataset needs trainA/ and trainB/ (and testA/, testB/ for tests) "
        "holding the images of domain X and domain Y."
    )


@dataclasses.dataclass(frozen=True)
class FolderDomains:
    """The checked files of a folder dataset (`scan_domains`).

    Attributes:
      root: the directory holding trainA/, trainB/, ...
      files: domain folder (``"trainA"``, ...) -> `kgan.data.image_folder.SplitFiles`
        of its sound images; only the folders that exist.
      channels: ``(C_x, C_y)``.
      skipped: ``(path, reason)`` of every unusable file left out.
    """

    root: str
    files: dict
    channels: tuple
    skipped: tuple


# The formats TF decoded straight to one channel (decode_bmp and decode_gif refuse channels=1): a gray
# GIF or BMP made its domain RGB. Decoding now goes through image_folder.to_channels, which could make it
# gray, but a domain keeps the channel count it always had (so existing runs resume and compare).
_ONE_CHANNEL_FORMATS = frozenset({"PNG", "JPEG"})


def _merged(scan) -> image_folder.SplitFiles:
    """Every sound image of a domain folder's scan: subfolders are no classes or splits here."""
    entries = sorted((p, h) for files in scan.splits.values() for p, h in zip(files.paths, files.headers))
    return image_folder.SplitFiles(tuple(p for p, _ in entries), (-1,) * len(entries), tuple(h for _, h in entries))


def _bad_files_message(root: str, skipped) -> str:
    shown = "; ".join(f"{path} is not a readable image ({reason})" for path, reason in skipped[: image_folder.SHOWN_FILES])
    more = f"; and {len(skipped) - image_folder.SHOWN_FILES} more" if len(skipped) > image_folder.SHOWN_FILES else ""
    return (f"{len(skipped)} image file(s) of {root} cannot be used: {shown}{more}. Remove or replace them, or pass "
            "--on_bad_image=skip to train without them.")


def scan_domains(root: str, on_bad_image: str = "stop", channels: int | None = None) -> FolderDomains:
    """Finds and checks every image of trainA/, trainB/ (required) and testA/, testB/ (headers and file ends only).

    Args:
      root: the directory.
      on_bad_image: ``"stop"`` at unusable files (a `kgan.data.image_folder.BadImageData`
        naming them) or ``"skip"`` them (listed in ``skipped``).
      channels: 1 or 3 for both domains; None: `folder_channels`' rule.

    Raises:
      FileNotFoundError: no trainA/ or trainB/.
      kgan.data.image_folder.BadImageData: a domain folder without a usable
        image; unusable files under ``"stop"``.
    """
    if on_bad_image not in BAD_IMAGE_POLICIES:
        raise ValueError(f"on_bad_image must be one of {', '.join(BAD_IMAGE_POLICIES)}; got {on_bad_image!r}.")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None (each domain as its images are); got {channels!r}.")
    if not os.path.isdir(root):
        raise FileNotFoundError(f"folder:{root}: no such directory.")
    files, skipped = {}, []
    for folder in DOMAIN_FOLDERS:
        directory = os.path.join(root, folder)
        if not os.path.isdir(directory):
            if folder.startswith("train"):
                raise _missing_folder(directory)
            continue
        domain = "X" if folder.endswith("A") else "Y"
        try:
            scan = image_folder.scan_folder(directory, "skip")  # The policy is applied below, over every folder.
        except image_folder.BadImageData as error:
            raise image_folder.BadImageData(
                f"{directory} holds no images that domain {domain} can use: {error} Put the domain's images there."
            ) from None
        files[folder] = _merged(scan)
        skipped += scan.skipped
    if skipped and on_bad_image == "stop":
        raise image_folder.BadImageData(_bad_files_message(root, skipped))
    if channels is None:
        # Decided once per domain over both splits, so training and the (test split's) pictures agree.
        domain_channels = tuple(1 if _all_gray(files, domain) else 3 for domain in "AB")
    else:
        domain_channels = (channels, channels)
    return FolderDomains(root, files, domain_channels, tuple(skipped))


def _all_gray(files: dict, domain: str) -> bool:
    headers = [h for folder in (f"train{domain}", f"test{domain}") if folder in files for h in files[folder].headers]
    return all(h.gray and h.format in _ONE_CHANNEL_FORMATS for h in headers)


def folder_channels(name: str, on_bad_image: str = "stop", channels: int | None = None) -> tuple:
    """``(C_x, C_y)``: the channels of domain X (trainA/, testA/) and Y (trainB/, testB/) of a folder dataset.

    Decided once per domain over both splits, so training, the epoch-end
    pictures (test split) and every rerun agree: ``channels`` for both when
    given, else 1 if every image of the domain is gray PNG/JPEG, else 3 --
    gray images of a colour domain are replicated to RGB, and alpha is dropped
    (as the reference implementation's ``convert("RGB")``). Every file is
    checked (`scan_domains`), so a broken one is found here, at the start,
    rather than in the middle of an epoch.

    Raises:
      ValueError: unusable files under ``on_bad_image="stop"``; an empty domain.
    """
    return scan_domains(folder_root(name) or name, on_bad_image, channels).channels


def _folder_examples(files: image_folder.SplitFiles, channels: int, on_bad_image: str, crop: str) -> tf.data.Dataset:
    images = image_folder.folder_examples(files, channels, on_bad_image).map(lambda image, label: image)
    return images.map(central_square) if crop == "center" else images


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
        "(e.g. cycle_gan/horse2zebra), or folder:PATH (or just PATH) of a directory with trainA/ and trainB/ image "
        "folders."
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
    """The per-image uint8 transform ``(image, seed [2]) -> image`` of one domain, or None.

    Training draws its crop and flip from ``seed`` (`kgan.data.preprocessing.seeded_map`).
    """
    size = image_size or native_size
    if training and size >= FULL_SIZE:
        return lambda image, seed: random_jitter(image, size, seed)
    if training:
        return lambda image, seed: tf.image.stateless_random_flip_left_right(resize_uint8(image, (size, size)), seed=seed)
    if size != native_size or native_size == FULL_SIZE:  # Folders may hold any size: always resize.
        return lambda image, seed: resize_uint8(image, (size, size))
    return None


# ---------------------------------------------------------------------- public API


@dataclasses.dataclass(frozen=True)
class UnpairedInfo:
    """Shapes and sizes of an unpaired dataset, known without loading it all.

    Attributes:
      name: as passed to `load_unpaired`.
      image_shape_x, image_shape_y: ``(H, W, C)`` of the images yielded.
      sizes: split -> ``(examples in X, examples in Y)``, where known.
      skipped: ``(path, reason)`` of the unusable files a folder dataset leaves out.
    """

    name: str
    image_shape_x: tuple
    image_shape_y: tuple
    sizes: dict
    skipped: tuple = ()

    def split_sizes(self, split: str) -> tuple:
        """``(len X, len Y)`` of ``split``; ValueError if unknown."""
        if split not in self.sizes:
            raise ValueError(f"The size of split {split!r} of {self.name} is unknown here: set --steps_per_epoch.")
        return self.sizes[split]


def _check_crop(crop) -> None:
    if crop not in CROP_CHOICES:
        raise ValueError(f"crop must be one of {', '.join(CROP_CHOICES)}; got {crop!r}.")


def _refuse_channels(name, channels) -> None:
    if channels is not None:
        raise ValueError(f"channels applies to folder datasets only, not to {name!r}.")


def unpaired_info(name: str, data_dir=None, manual_dir=None, image_size: int | None = None, *,
                  channels: int | None = None, on_bad_image: str = "stop", crop: str = "center") -> UnpairedInfo:
    """Shapes and split sizes of ``name`` (see `load_unpaired`); folders are checked here (`scan_domains`).

    ``crop`` is checked only: shapes are ``image_size`` squares either way.
    """
    _check_name(name)
    _check_crop(crop)
    root = folder_root(name)
    if root is None:
        _refuse_channels(name, channels)
    if name in DEMO_SOURCES:
        size = image_size or 28
        sizes = {"train": (900, 900), "test": (300, 300)} if name == "footwear_edges" else {"train": (9000, 9000), "test": (3000, 3000)}
        return UnpairedInfo(name, (size, size, 1), (size, size, 1), sizes)
    size = image_size or FULL_SIZE
    if root is not None:
        domains = scan_domains(root, on_bad_image, channels)
        sizes = {
            split: (len(domains.files[a]), len(domains.files[b]))
            for split in ("train", "test")
            for a, b in [_domain_splits(split)]
            if a in domains.files and b in domains.files
        }
        channels_x, channels_y = domains.channels
        return UnpairedInfo(name, (size, size, channels_x), (size, size, channels_y), sizes, domains.skipped)
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


def _domain_datasets(name, split, data_dir, manual_dir, shuffle, seed, channels, on_bad_image, crop):
    """``(x uint8 dataset, y uint8 dataset, native side)`` before batching."""
    if name in DEMO_SOURCES:
        x, y = _demo_domains(name, split, data_dir, manual_dir)
        return tf.data.Dataset.from_tensor_slices(x), tf.data.Dataset.from_tensor_slices(y), 28
    split_x, split_y = _domain_splits(split)
    root = folder_root(name)
    if root is not None:
        domains = scan_domains(root, on_bad_image, channels)  # Headers are cached: only the walk again.
        for folder in (split_x, split_y):
            if folder not in domains.files:
                raise _missing_folder(os.path.join(root, folder))
        channels_x, channels_y = domains.channels  # The same for both splits.
        return (_folder_examples(domains.files[split_x], channels_x, on_bad_image, crop),
                _folder_examples(domains.files[split_y], channels_y, on_bad_image, crop), FULL_SIZE)
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
    channels: int | None = None,
    on_bad_image: str = "stop",
    crop: str = "center",
) -> tf.data.Dataset:
    """Batches of unpaired ``(images_x, images_y)`` for `kgan.CycleGAN`.

    Args:
      name: ``"footwear_edges"``, ``"footwear_edges_full"``,
        ``"cycle_gan/<config>"``, or ``"folder:PATH"`` (or just PATH) of a
        directory with ``trainA/``, ``trainB/``.
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
      channels: folders only: 1 or 3 for both domains; None: each domain's
        own (`folder_channels`).
      on_bad_image: folders only: ``"stop"`` at unusable files or ``"skip"``
        them (`scan_domains`); a file whose pixels fail to decode despite a
        sound header is dropped under ``"skip"`` and fails the pipeline under
        ``"stop"``.
      crop: folders only: ``"center"`` keeps each image's central square
        before the resize (and the jitter); ``"none"`` squeezes it whole, as
        the reference implementation's ``resize_and_crop`` does. Square images
        are the same either way (the demos and ``cycle_gan/*`` are square).

    Returns:
      A `tf.data.Dataset` of ``(images_x [B, H, W, C_x], images_y [B, H, W, C_y])``
      float32 in [-1, 1].

    Raises:
      ValueError: unknown name, bad batch_size/limit/split/image_size, empty
        domain folders, unusable files under ``on_bad_image="stop"``.
      FileNotFoundError: a folder dataset lacks trainA/ or trainB/ (or testA/, testB/ for ``split="test"``).
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
    if folder_root(name) is None:
        _refuse_channels(name, channels)
    _check_crop(crop)
    x, y, native = _domain_datasets(name, split, data_dir, manual_dir, shuffle, seed, channels, on_bad_image, crop)
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
        if repeat:
            ds = ds.repeat()
        if transform is not None:
            ds = seeded_map(ds, transform, None if seed is None else seed + offset)
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
