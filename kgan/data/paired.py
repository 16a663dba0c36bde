"""Paired images ``(inputs, targets)`` for supervised image-to-image translation (pix2pix).

`load_paired_images(name, split, batch_size)` yields ``(inputs, targets)``
batches, float32 ``[B, H, W, C]`` in [-1, 1], ``targets[i]`` the true
translation of ``inputs[i]``: pairs are read, resized, jittered and shuffled
together. Every source has images A and B; ``direction="AtoB"`` (the
default) makes A the input, ``"BtoA"`` the target, as the pix2pix
repository's ``--direction``. Sources (``name``):

* ``"footwear_edges"``: the footwear classes of the embedded Fashion-MNIST
  subset with their edge maps, truly paired (A = edges, B = footwear image;
  `kgan.data.unpaired.footwear_edge_pairs`): train 1,800 pairs, test 300.
  Unlike CycleGAN's use of the same images, every training pair is whole.
* ``"footwear_edges_full"``: the same from all of Fashion-MNIST (TFDS
  ``fashion_mnist``): train 18,000, test 3,000.
* ``"pix2pix/<config>"``: the authors' datasets (``facades``, ``edges2shoes``,
  ``maps``) through kgan's TFDS builder `kgan.data.pix2pix_tfds`, prepared
  from their archive in ``manual_dir``; the test split is ``test`` where the
  archive has one, else ``val``.
* ``"folder:PATH"`` (or just the directory PATH), in one of two layouts:

  - side by side, the pix2pix repository's own: ``PATH/train/``, and
    ``PATH/test/`` (or, as in the authors' archives, ``PATH/val/``), each
    file one pair: A on the left half, B on the right (a file of odd width
    is refused with its name). Without ``train/`` every file of PATH is a
    training pair.
  - two folders, as the pix2pix repository's ``combine_A_and_B.py`` takes:
    ``PATH/A/train/``, ``PATH/B/train/`` (and ``test/`` or ``val/`` under
    both); a file of ``A/train/`` pairs with the file of the same relative
    path under ``B/train/``. A file without its partner is refused with the
    names of the unmatched files.

  Files are found and checked by `kgan.data.image_folder.scan_folder`
  (header and end, no pixel decoded): unusable ones are skipped and listed
  (``on_bad_image="skip"``; their partners are left out with them) or stop
  the run (``"stop"``, this module's default). CycleGAN's unpaired layout
  (``trainA/``, ``trainB/``) is refused: its files are not pairs. Each side
  is gray (one channel) only if all its images are, unless ``channels``
  gives both. A non-square half keeps its central square (``crop="center"``)
  or is squeezed whole (``crop="none"``).

Augmentation of training pairs (Isola et al. 2017, appendix 6.2), identical
for both images of a pair: at 256 px and above, resize to 286/256 of the
size, random crop and random horizontal flip (`kgan.data.unpaired.random_jitter`
on the two images stacked on channels); smaller sizes flip only.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from kgan.data import image_folder, sources, unpaired
from kgan.data.catalog import ImageDatasetInfo
from kgan.data.preprocessing import central_square, resize_uint8, seeded_map
from kgan.data.ranges import to_model_range
from kgan.data.specs import BAD_IMAGE_POLICIES, CROP_CHOICES
from kgan.data.unpaired import DEMO_SOURCES, FULL_SIZE, JITTER_SIZE, folder_root, random_jitter

DIRECTIONS = ("AtoB", "BtoA")
PIX2PIX_CONFIGS = ("facades", "edges2shoes", "maps")
SPLITS = ("train", "test")
# Held-out folders in order of preference: the authors' edges2shoes and maps have val/ only.
_TEST_FOLDERS = ("test", "val")


# ---------------------------------------------------------------------- names


def _kind(name: str) -> str:
    if name in DEMO_SOURCES:
        return "demo"
    if name.startswith("pix2pix/"):
        if name.split("/", 1)[1] not in PIX2PIX_CONFIGS:
            raise ValueError(f"Unknown pix2pix dataset {name!r}: use pix2pix/<config> with config one of {', '.join(PIX2PIX_CONFIGS)}.")
        return "tfds"
    if folder_root(name) is not None:
        return "folder"
    raise ValueError(
        f"Unknown paired dataset {name!r}: use {', '.join(DEMO_SOURCES)}, pix2pix/<config> (TFDS, from the authors' "
        f"archive in manual_dir; config one of {', '.join(PIX2PIX_CONFIGS)}), or folder:PATH (or just PATH) of side-by-side "
        "A|B images in train/ and test/, or of A/train/ and B/train/ with matching file names."
    )


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test' (a folder's test/ or val/); got {split!r}.")


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'AtoB' (A is the input) or 'BtoA'; got {direction!r}.")


# ---------------------------------------------------------------------- folders


@dataclasses.dataclass(frozen=True)
class PairedFolder:
    """The checked pairs of a folder dataset (`scan_pairs`).

    Attributes:
      root: the directory.
      layout: ``"side_by_side"`` (one A|B file per pair) or ``"two_folders"`` (A/ and B/).
      pairs: split (``"train"``, ``"test"``) -> tuple of pairs, in sorted
        order: a path per pair side by side, a ``(path A, path B)`` tuple
        with two folders; only the splits that exist.
      channels: ``(C_A, C_B)``.
      skipped: ``(path, reason)`` of every unusable file left out (and of its partner).
    """

    root: str
    layout: str
    pairs: dict
    channels: tuple
    skipped: tuple

    def sizes(self) -> dict:
        return {split: len(pairs) for split, pairs in self.pairs.items()}


def _split_folders(directory: str) -> dict:
    """split -> folder: ``train/`` and ``test/`` (or ``val/``) when ``train/`` exists, else the directory is ``train``."""
    if not os.path.isdir(os.path.join(directory, "train")):
        return {"train": directory}
    found = {"train": os.path.join(directory, "train")}
    held_out = next((f for f in _TEST_FOLDERS if os.path.isdir(os.path.join(directory, f))), None)
    if held_out:
        found["test"] = os.path.join(directory, held_out)
    return found


def _scanned(directory: str, on_bad_image: str):
    """``(sorted paths, headers, skipped)`` of every image under ``directory`` (subfolders are no classes here)."""
    scan = image_folder.scan_folder(directory, on_bad_image)
    files = unpaired._merged(scan)  # One sorted list over the scan's subfolders: the unpaired domains' rule.
    return files.paths, files.headers, scan.skipped


def _refuse_unpaired_layout(root: str) -> None:
    found = [f"{d}/" for d in unpaired.DOMAIN_FOLDERS if os.path.isdir(os.path.join(root, d))]
    if found:
        raise image_folder.BadImageData(
            f"folder:{root} holds {', '.join(found)}: CycleGAN's unpaired layout, whose files are not pairs. Pix2Pix "
            "needs pairs: side-by-side A|B files in train/ and test/, or A/train/ and B/train/ with matching file names."
        )


def _side_by_side(root: str, on_bad_image: str):
    pairs, headers, skipped = {}, [], []
    for split, directory in _split_folders(root).items():
        paths, split_headers, bad = _scanned(directory, on_bad_image)
        odd = [(p, f"{h.width} pixels wide") for p, h in zip(paths, split_headers) if h.width % 2]
        if odd:
            raise image_folder.BadImageData(
                f"folder:{root}: {len(odd)} file(s) cannot be side-by-side A|B pairs of equal halves, being of odd width: "
                f"{image_folder._describe_files(odd)}. Each file must hold A on its left half and B on its right half."
            )
        pairs[split] = tuple(paths)
        headers += split_headers
        skipped += bad
    gray = all(h.gray for h in headers)
    return pairs, (gray, gray), skipped


def _unmatched_message(root, split, only_a, only_b) -> str:
    def listed(side, names):
        return image_folder._describe_files([(os.path.join(side, split, n), "no partner") for n in names])

    parts = [f"{len(names)} in {side}/ only ({listed(side, names)})" for side, names in (("A", only_a), ("B", only_b)) if names]
    return (f"folder:{root}: the {split} images of A/ and B/ do not pair up by file name: {'; '.join(parts)}. Each "
            "file of A/ needs the file of the same name under B/ (its translation); unpaired images are CycleGAN's data.")


def _two_folders(root: str, on_bad_image: str):
    sides = {side: _split_folders(os.path.join(root, side)) for side in "AB"}
    if set(sides["A"]) != set(sides["B"]):
        raise image_folder.BadImageData(
            f"folder:{root}: A/ has the splits {sorted(sides['A'])} but B/ has {sorted(sides['B'])}: both need the same "
            "train/ (and test/ or val/) folders."
        )
    pairs, gray, skipped = {}, {"A": True, "B": True}, []
    for split in sides["A"]:
        found, bad_names = {}, set()
        for side in "AB":
            directory = sides[side][split]
            paths, headers, bad = _scanned(directory, on_bad_image)
            found[side] = {os.path.relpath(p, directory): (p, h) for p, h in zip(paths, headers)}
            bad_names |= {os.path.relpath(p, directory) for p, _ in bad}
            skipped += bad
        only_a = sorted(set(found["A"]) - set(found["B"]) - bad_names)
        only_b = sorted(set(found["B"]) - set(found["A"]) - bad_names)
        if only_a or only_b:
            raise image_folder.BadImageData(_unmatched_message(root, split, only_a, only_b))
        # The partner of a skipped file goes too (listed with the reason).
        for name in sorted(bad_names):
            for side in "AB":
                if name in found[side]:
                    skipped.append((found[side].pop(name)[0], "its partner is unusable"))
        names = sorted(found["A"])
        pairs[split] = tuple((found["A"][n][0], found["B"][n][0]) for n in names)
        for side in "AB":
            gray[side] = gray[side] and all(h.gray for _, h in found[side].values())
    return pairs, (gray["A"], gray["B"]), skipped


def scan_pairs(root: str, on_bad_image: str = "stop", channels: int | None = None) -> PairedFolder:
    """Finds, checks and pairs every image of a folder dataset (see the module docstring for the layouts).

    Args:
      root: the directory.
      on_bad_image: ``"stop"`` at unusable files (a
        `kgan.data.image_folder.BadImageData` naming them) or ``"skip"`` them
        and their partners (listed in ``skipped``).
      channels: 1 or 3 for both sides; None: 1 for a side whose images are all gray, else 3.

    Raises:
      FileNotFoundError: no such directory.
      kgan.data.image_folder.BadImageData: CycleGAN's unpaired layout,
        unmatched file names, side-by-side files of odd width, a split without
        a usable pair, unusable files under ``"stop"``.
    """
    if on_bad_image not in BAD_IMAGE_POLICIES:
        raise ValueError(f"on_bad_image must be one of {', '.join(BAD_IMAGE_POLICIES)}; got {on_bad_image!r}.")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None (each side as its images are); got {channels!r}.")
    if not os.path.isdir(root):
        raise FileNotFoundError(f"folder:{root}: no such directory.")
    _refuse_unpaired_layout(root)
    two = os.path.isdir(os.path.join(root, "A")) and os.path.isdir(os.path.join(root, "B"))
    pairs, gray, skipped = (_two_folders if two else _side_by_side)(root, on_bad_image)
    empty = [split for split, found in pairs.items() if not found]
    if empty:
        raise image_folder.BadImageData(f"folder:{root}: the {' and '.join(empty)} split holds no usable pair.")
    chosen = (channels, channels) if channels else tuple(1 if g else 3 for g in gray)
    return PairedFolder(root, "two_folders" if two else "side_by_side", pairs, chosen, tuple(skipped))


def _halves(image):
    """A side-by-side uint8 ``[H, 2W, C]`` -> ``(A [H, W, C], B [H, W, C])``."""
    half = tf.shape(image)[1] // 2
    return image[:, :half], image[:, half:]


def _folder_pairs(folder: PairedFolder, split: str, on_bad_image: str) -> tf.data.Dataset:
    channels_a, channels_b = folder.channels
    if folder.layout == "side_by_side":
        ds = tf.data.Dataset.from_tensor_slices(list(folder.pairs[split]))
        ds = ds.map(lambda path: _halves(image_folder.decode_file(path, channels_a)), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        paths_a, paths_b = zip(*folder.pairs[split])
        ds = tf.data.Dataset.from_tensor_slices((list(paths_a), list(paths_b)))
        ds = ds.map(lambda a, b: (image_folder.decode_file(a, channels_a), image_folder.decode_file(b, channels_b)),
                    num_parallel_calls=tf.data.AUTOTUNE)
    # Under "skip" a file whose pixels fail to decode despite a sound header drops its pair.
    return ds.ignore_errors(log_warning=True) if on_bad_image == "skip" else ds


# ---------------------------------------------------------------------- TFDS


def _tfds_info(name: str) -> ImageDatasetInfo:
    from kgan.data import pix2pix_tfds  # noqa: F401  (registers the builder with TFDS)

    return ImageDatasetInfo(
        name=name, image_shape=(FULL_SIZE, FULL_SIZE, 3), num_classes=None, class_names=(), splits={}, tfds_name=name,
        source_shape=(FULL_SIZE, FULL_SIZE, 3),
    )


def _tfds_split_names(name: str, data_dir=None, manual_dir=None) -> dict:
    """``{"train": sizes..., "test": ...}`` of a prepared pix2pix builder: split -> (TFDS split, examples)."""
    builder = sources.prepared_builder(_tfds_info(name), data_dir=data_dir, manual_dir=manual_dir)
    splits = builder.info.splits
    held_out = next((s for s in _TEST_FOLDERS if s in splits), None)
    found = {"train": ("train", splits["train"].num_examples)}
    if held_out:
        found["test"] = (held_out, splits[held_out].num_examples)
    return found


def _tfds_pairs(name, split, data_dir, manual_dir, shuffle, seed) -> tf.data.Dataset:
    splits = _tfds_split_names(name, data_dir, manual_dir)
    if split not in splits:
        raise ValueError(f"{name} has no test or val split.")
    examples = sources.tfds_examples(_tfds_info(name), splits[split][0], data_dir=data_dir, manual_dir=manual_dir,
                                     shuffle_files=shuffle, seed=seed)
    return examples.map(lambda image, label: _halves(image))


# ---------------------------------------------------------------------- public API


@dataclasses.dataclass(frozen=True)
class PairedInfo:
    """Shapes and sizes of a paired dataset, known before reading it.

    Attributes:
      name: as passed to `load_paired_images`.
      input_shape, target_shape: ``(H, W, C)`` of the inputs and targets yielded (after ``direction``).
      sizes: split -> number of pairs, where known.
      skipped: ``(path, reason)`` of the files a folder dataset leaves out.
    """

    name: str
    input_shape: tuple
    target_shape: tuple
    sizes: dict
    skipped: tuple = ()

    def split_size(self, split: str) -> int:
        """Pairs in ``split``; ValueError if unknown."""
        if split not in self.sizes:
            raise ValueError(f"{self.name} has no {split!r} split here (a folder needs test/ or val/ for 'test').")
        return self.sizes[split]


def _default_size(kind: str) -> int:
    return 28 if kind == "demo" else FULL_SIZE


def _check_options(name, kind, image_size, channels, crop, direction) -> None:
    _check_direction(direction)
    if crop not in CROP_CHOICES:
        raise ValueError(f"crop must be one of {', '.join(CROP_CHOICES)}; got {crop!r}.")
    if channels is not None and kind != "folder":
        raise ValueError(f"channels applies to folder datasets only, not to {name!r}.")
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 2 or image_size % 2):
        raise ValueError(f"image_size must be an even int >= 2 (the U-Net halves it); got {image_size!r}.")


def _oriented(a, b, direction: str):
    return (a, b) if direction == "AtoB" else (b, a)


def paired_info(name: str, data_dir=None, manual_dir=None, image_size: int | None = None, *, direction: str = "AtoB",
                channels: int | None = None, on_bad_image: str = "stop", crop: str = "center") -> PairedInfo:
    """Shapes and split sizes of ``name`` (see `load_paired_images`); folders are checked and paired here (`scan_pairs`)."""
    kind = _kind(name)
    _check_options(name, kind, image_size, channels, crop, direction)
    size = image_size or _default_size(kind)
    if kind == "demo":
        sizes = {"train": 1800, "test": 300} if name == "footwear_edges" else {"train": 18000, "test": 3000}
        return PairedInfo(name, (size, size, 1), (size, size, 1), sizes)
    if kind == "folder":
        folder = scan_pairs(folder_root(name), on_bad_image, channels)
        shape_a, shape_b = ((size, size, c) for c in folder.channels)
        return PairedInfo(name, *_oriented(shape_a, shape_b, direction), folder.sizes(), folder.skipped)
    sizes = {split: n for split, (_, n) in _tfds_split_names(name, data_dir, manual_dir).items()}
    return PairedInfo(name, (size, size, 3), (size, size, 3), sizes)


def _uint8_pairs(name, kind, split, data_dir, manual_dir, shuffle, seed, channels, on_bad_image):
    """Unbatched uint8 ``(A, B)`` pairs of ``split`` in their stored sizes."""
    if kind == "demo":
        edges, images = unpaired.footwear_edge_pairs(split, DEMO_SOURCES[name], data_dir, manual_dir)
        return tf.data.Dataset.from_tensor_slices((edges, images))
    if kind == "folder":
        folder = scan_pairs(folder_root(name), on_bad_image, channels)  # Headers are cached: only the walk again.
        if split not in folder.pairs:
            raise FileNotFoundError(f"folder:{folder.root} has no test/ or val/ folder: the test split needs one.")
        return _folder_pairs(folder, split, on_bad_image)
    return _tfds_pairs(name, split, data_dir, manual_dir, shuffle, seed)


def _jitter_pair(size: int):
    """The paper's augmentation of a uint8 pair, the same crop and flip for both images, drawn from ``seed``."""
    def jitter(a, b, seed):
        stacked = tf.concat([a, b], axis=-1)  # One crop window and one flip for both.
        stacked = random_jitter(stacked, size, seed) if size >= FULL_SIZE else tf.image.stateless_random_flip_left_right(stacked, seed)
        return stacked[..., : a.shape[-1]], stacked[..., a.shape[-1]:]

    return jitter


def _sized_pair(size: int, native: int, training: bool, crop: bool):
    """Each image of a pair to the square it is jittered from: ``size``, or the paper's 286/256 of it at 256 px and above."""
    side = int(round(size * JITTER_SIZE / FULL_SIZE)) if training and size >= FULL_SIZE else size

    def one(image):
        if crop:
            image = central_square(image)
        if side == native and not crop:
            return image
        return resize_uint8(image, (side, side))

    return lambda a, b: (one(a), one(b))


def load_paired_images(
    name: str,
    split: str = "train",
    batch_size: int = 1,
    *,
    direction: str = "AtoB",
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
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Batches of paired ``(inputs, targets)`` for `kgan.Pix2Pix`.

    Args:
      name: ``"footwear_edges"``, ``"footwear_edges_full"``,
        ``"pix2pix/<config>"`` or ``"folder:PATH"`` (or just PATH); see the
        module docstring.
      split: ``"train"`` or ``"test"`` (a folder's ``test/`` or ``val/``; the
        TFDS builder's ``test`` or ``val``).
      batch_size: pairs per batch.
      direction: ``"AtoB"`` (A is the input, B the target) or ``"BtoA"``.
      data_dir, manual_dir: TFDS arguments (``pix2pix/*``: the archive is
        read from ``manual_dir``; ``footwear_edges_full``).
      image_size: output side, even; default 28 for the footwear sources,
        256 otherwise. Training at 256 and above applies the paper's jitter
        (resize to 286/256 of it, random crop, flip); smaller training sizes
        flip only; both images of a pair always alike.
      limit: use at most this many pairs.
      shuffle: shuffle the pairs (``seed``); training augmentation applies
        when ``shuffle`` is on.
      repeat: repeat forever (use ``steps_per_epoch`` in ``fit``).
      seed: shuffle seed.
      channels: folders only: 1 or 3 for both sides; None: each side's own.
      on_bad_image: folders only: ``"stop"`` at unusable files or ``"skip"``
        them with their partners (`scan_pairs`).
      crop: ``"center"`` keeps each image's central square before resizing
        (folders, where halves may be non-square); ``"none"`` squeezes it.
      drop_remainder: drop a last batch smaller than ``batch_size``
        (training); False keeps every pair (evaluation).

    Returns:
      A `tf.data.Dataset` of ``(inputs [B, H, W, C_in], targets [B, H, W, C_out])``
      float32 in [-1, 1].

    Raises:
      ValueError: unknown name, bad batch_size/limit/split/image_size/direction;
        for folders unpaired or odd-width files, an empty split, unusable
        files under ``on_bad_image="stop"`` (`kgan.data.image_folder.BadImageData`).
      FileNotFoundError: a folder without the requested split.
      kgan.data.DatasetNotPreparedError: ``pix2pix/*`` not prepared and its archive not in ``manual_dir``.
    """
    kind = _kind(name)
    _check_split(split)
    _check_options(name, kind, image_size, channels, crop, direction)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None; got {limit!r}.")
    size = image_size or _default_size(kind)
    native = 28 if kind == "demo" else None
    training = split == "train" and shuffle
    ds = _uint8_pairs(name, kind, split, data_dir, manual_dir, shuffle, seed, channels, on_bad_image)
    if limit is not None:
        ds = ds.take(limit)
    if kind == "demo":
        ds = ds.cache()  # Small and in memory; the full-size sources stream.
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(_sized_pair(size, native, training, crop == "center" and kind == "folder"), num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        ds = ds.repeat()
    if training:
        ds = seeded_map(ds, _jitter_pair(size), seed)
    ds = ds.map(lambda a, b: _oriented(a, b, direction))
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.map(lambda x, y: (to_model_range(x), to_model_range(y)), num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def paired_arrays(name: str, split: str = "test", *, limit: int | None = None, **options):
    """``(inputs, targets)`` of a split as float32 numpy arrays in [-1, 1], in a fixed order (for evaluation).

    ``options`` are `load_paired_images`'s (``direction``, ``image_size``, ...).
    """
    batches = list(load_paired_images(name, split, 256, limit=limit, shuffle=False, drop_remainder=False, **options))
    if not batches:
        raise ValueError(f"{name} has no pairs in its {split} split.")
    return tuple(np.concatenate([b[i].numpy() for b in batches]) for i in (0, 1))

