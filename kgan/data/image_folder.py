"""``folder:PATH``: a directory of image files, checked before training and decoded lazily.

Layout (the usual one of `keras.utils.image_dataset_from_directory`)::

    PATH/                      PATH/
      cats/ a.png ...            train/ cats/ ... dogs/ ...
      dogs/ b.jpg ...            test/  cats/ ... dogs/ ...

Images are found recursively (hidden files and folders are skipped). The
first-level subfolders of a split are its classes (sorted names -> labels
0..K-1); without subfolders the images are unlabelled. ``train/``,
``validation/`` and ``test/`` subfolders, when ``train/`` exists, are the
splits; otherwise every image belongs to the ``train`` split.

`scan_folder` reads only each file's header (format, size, colour mode) and
its last bytes, through one open per file, (a PNG's IEND chunk, a JPEG's end-of-image marker, a GIF's
trailer, a BMP's declared length), so a folder of 100,000 files is checked in
seconds, with no pixel decoded: files that are no image, of a format TF cannot
decode, empty or truncated are found before the first step. They are skipped
and reported (``on_bad_image="skip"``, the default: a long run never fails on
one bad file) or stop the run with the list (``"stop"``). Decoding is left to
`tf.io.decode_image` in the input pipeline (`folder_examples`); a file whose
header and tail look sound but whose pixels are corrupt is dropped there under
"skip" (with a TF warning), and fails the run under "stop".

Headers are remembered per file (path, size, modification time) within a
process, so rescanning an unchanged folder costs only the directory walk.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import sys
import time

import numpy as np
import tensorflow as tf

from kgan.data.specs import BAD_IMAGE_POLICIES

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_FOLDERS = ("train", "validation", "test")
# The formats tf.io.decode_image decodes (by content, whatever the extension).
DECODABLE_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
# PIL modes without colour; every other mode (RGB, RGBA, P, CMYK, ...) counts as colour.
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
# How many bad files a message names (the rest are counted).
SHOWN_FILES = 5
_TAIL_BYTES = 64
# The fixed order of a folder read without shuffling (see folder_examples).
UNSHUFFLED_ORDER_SEED = 20161
_PROGRESS_EVERY_SECONDS = 5.0


class BadImageData(ValueError):
    """The folder cannot be trained on as it is; the message says what was found and how to fix it."""


@dataclasses.dataclass(frozen=True)
class ImageHeader:
    """What a file's header says: ``format`` (PIL's name), ``height``, ``width``, ``gray`` (no colour)."""

    format: str
    height: int
    width: int
    gray: bool


@dataclasses.dataclass(frozen=True)
class SplitFiles:
    """The sound images of one split, in a fixed order (sorted paths)."""

    paths: tuple
    labels: tuple  # int per path: the class index, or -1 for an image outside every class folder.
    headers: tuple  # ImageHeader per path.

    def __len__(self) -> int:
        return len(self.paths)


@dataclasses.dataclass(frozen=True)
class FolderScan:
    """The result of `scan_folder`.

    Attributes:
      root: the folder.
      splits: split name -> `SplitFiles`.
      class_names: the class folders of the ``train`` split (label i is class_names[i]); empty if unlabelled.
      skipped: ``(path, reason)`` of every bad image file skipped.
      other_files: files without an image extension (ignored).
    """

    root: str
    splits: dict
    class_names: tuple
    skipped: tuple
    other_files: int

    @property
    def labelled(self) -> bool:
        return bool(self.class_names)

    def sizes(self) -> collections.Counter:
        """``(height, width)`` -> number of images, over every split."""
        return collections.Counter((h.height, h.width) for s in self.splits.values() for h in s.headers)

    def gray_counts(self) -> tuple:
        """``(gray images, colour images)`` over every split."""
        headers = [h for s in self.splits.values() for h in s.headers]
        gray = sum(h.gray for h in headers)
        return gray, len(headers) - gray


# ---------------------------------------------------------------------- one file


def _truncation(f, header: ImageHeader, size: int) -> str | None:
    """Why the open file ``f`` looks cut short, or None: each format's end marker (or declared length) is checked."""
    if header.format == "BMP":
        f.seek(0)
        start = f.read(6)
        declared = int.from_bytes(start[2:6], "little") if len(start) == 6 else 0
        return f"truncated: {size} bytes, the BMP header declares {declared}" if declared > size else None
    f.seek(max(0, size - _TAIL_BYTES))
    tail = f.read()
    markers = {"PNG": b"IEND", "JPEG": b"\xff\xd9", "GIF": b"\x3b"}
    if markers[header.format] not in tail:
        return f"truncated: no {header.format} end marker"
    return None


def read_header(path: str, size: int | None = None) -> ImageHeader:
    """The header of an image file, reading no pixels (one open: the header, then the last bytes).

    Args:
      path: the file.
      size: its size in bytes, if the caller has stat'ed it already.

    Raises:
      BadImageData: empty, not an image TF can decode (PNG, JPEG, BMP, GIF),
        unreadable or truncated; the message says which.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        size = os.path.getsize(path) if size is None else size
        if size == 0:
            raise BadImageData("empty file")
        with open(path, "rb") as f:
            with Image.open(f) as image:  # Lazy: only the header is parsed.
                header = ImageHeader(image.format, image.height, image.width, image.mode in GRAY_MODES)
            if header.format not in DECODABLE_FORMATS:
                raise BadImageData(f"a {header.format} image; TF decodes {', '.join(DECODABLE_FORMATS)} only")
            if header.height < 1 or header.width < 1:
                raise BadImageData(f"a {header.width}x{header.height} image")
            reason = _truncation(f, header, size)
    except UnidentifiedImageError:
        raise BadImageData("not an image PIL can identify") from None
    except (OSError, SyntaxError, ValueError) as error:  # PIL raises SyntaxError for some broken headers.
        if isinstance(error, BadImageData):
            raise
        kind = "truncated" if "truncated" in str(error).lower() else "unreadable"  # PIL: "Truncated File Read".
        raise BadImageData(f"{kind} ({type(error).__name__}: {error})") from None
    if reason:
        raise BadImageData(reason)
    return header


# (path) -> ((size, mtime_ns), ImageHeader or reason string): rescans of unchanged files are free.
_HEADERS: dict = {}


def _cached_header(path: str):
    try:
        stat = os.stat(path)
    except OSError as error:
        return f"unreadable ({error.strerror})"
    key = (stat.st_size, stat.st_mtime_ns)
    hit = _HEADERS.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        result = read_header(path, stat.st_size)
    except BadImageData as error:
        result = str(error)
    _HEADERS[path] = (key, result)
    return result


# ---------------------------------------------------------------------- the walk


def _walk_images(directory: str):
    """``(image paths, other files)`` under ``directory``, recursively, sorted; hidden entries skipped."""
    images, others = [], 0
    for current, folders, files in os.walk(directory, followlinks=True):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            if name.lower().endswith(IMAGE_EXTENSIONS):
                images.append(os.path.join(current, name))
            else:
                others += 1
    return sorted(images), others


def _split_roots(root: str) -> dict:
    """split -> its folder: train/validation/test subfolders when train/ exists, else the root is ``train``."""
    if os.path.isdir(os.path.join(root, "train")):
        return {s: os.path.join(root, s) for s in SPLIT_FOLDERS if os.path.isdir(os.path.join(root, s))}
    return {"train": root}


def _class_of(path: str, prefix: str) -> str | None:
    """The first folder of ``path`` below its split's folder (``prefix``, ending in a separator), or None.

    A string prefix, not `os.path.relpath`: relpath normalises both paths and took 3 of the 4.3 s
    of a rescan of 100,000 files (bench/input_pipeline.py's profile).
    """
    relative = path[len(prefix):]
    head, separator, _ = relative.partition(os.sep)
    return head if separator else None


def _read_headers(paths: list) -> list:
    """Headers (or failure reasons) of ``paths`` in order; progress on stderr for long scans.

    In the calling thread: PIL parses headers in Python under the GIL, and
    profiling 50,000 files found 8 threads slower than one (4.5 s against
    2.1 s cold, 2.3 s against 0.2 s warm).
    """
    results, start, last_report = [], time.monotonic(), time.monotonic()
    for path in paths:
        results.append(_cached_header(path))
        if len(results) % 1000 == 0:
            now = time.monotonic()
            if now - last_report >= _PROGRESS_EVERY_SECONDS:
                last_report = now
                print(f"kgan: checked {len(results):,} of {len(paths):,} image headers ({now - start:.0f} s)",
                      file=sys.stderr, flush=True)
    return results


def _describe_files(entries, limit: int = SHOWN_FILES) -> str:
    shown = "; ".join(f"{path} ({reason})" for path, reason in entries[:limit])
    more = f"; and {len(entries) - limit} more" if len(entries) > limit else ""
    return shown + more


def scan_folder(root, on_bad_image: str = "skip") -> FolderScan:
    """Finds and checks every image under ``root`` (headers and file ends only).

    Args:
      root: the folder (see the module docstring for the layout).
      on_bad_image: ``"skip"`` bad files (they are listed in
        ``FolderScan.skipped``) or ``"stop"`` with a `BadImageData` naming them.

    Raises:
      FileNotFoundError: ``root`` is not a directory.
      BadImageData: no usable image (the message says what the folder holds),
        bad files under ``"stop"``, or a test/validation class unknown to
        the train split.
    """
    if on_bad_image not in BAD_IMAGE_POLICIES:
        raise ValueError(f"on_bad_image must be one of {', '.join(BAD_IMAGE_POLICIES)}; got {on_bad_image!r}.")
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"folder:{root}: no such directory.")
    splits, skipped, other_files, class_names = {}, [], 0, ()
    for split, split_root in _split_roots(root).items():
        paths, others = _walk_images(split_root)
        other_files += others
        results = _read_headers(paths)
        bad = [(p, r) for p, r in zip(paths, results) if isinstance(r, str)]
        good = [(p, r) for p, r in zip(paths, results) if not isinstance(r, str)]
        skipped += bad
        if bad and on_bad_image == "stop":
            raise BadImageData(
                f"folder:{root}: {len(bad)} of {len(paths)} image files cannot be used: {_describe_files(bad)}. "
                "Remove or replace them, or pass --on_bad_image=skip to train without them."
            )
        prefix = os.path.join(split_root, "")
        class_of = {p: _class_of(p, prefix) for p, _ in good}
        classes = sorted({c for c in class_of.values() if c is not None})
        if split == "train":
            class_names = tuple(classes)
        else:
            unknown = sorted(set(classes) - set(class_names))
            if unknown:
                raise BadImageData(
                    f"folder:{root}: {split}/ has class folders that train/ lacks: {', '.join(unknown)}. "
                    "Every class needs training images; rename or move those folders."
                )
        index = {name: i for i, name in enumerate(class_names)}
        labels = tuple(index.get(class_of[p], -1) for p, _ in good)
        splits[split] = SplitFiles(tuple(p for p, _ in good), labels, tuple(h for _, h in good))
    if not splits.get("train"):
        found = f"{len(skipped)} unusable image file(s) ({_describe_files(skipped)})" if skipped else "no image files"
        raise BadImageData(
            f"folder:{root} holds {found} and {other_files} other file(s): kgan reads "
            f"{', '.join(IMAGE_EXTENSIONS)} files (searched recursively"
            + (", in train/" if "train" in _split_roots(root) and _split_roots(root)["train"] != root else "")
            + ")."
        )
    return FolderScan(root, splits, class_names, tuple(skipped), other_files)


def check_labels(scan: FolderScan) -> None:
    """Refuses a folder a labelled model cannot use: no class folders, loose images, or a class of one image.

    Raises:
      BadImageData: with the folders or files at fault.
    """
    if not scan.labelled:
        raise BadImageData(
            f"folder:{scan.root} has no class subfolders, so it has no labels: put each class's images in a folder "
            "of its own (PATH/<class>/...), or train a model that needs no labels."
        )
    for split, files in scan.splits.items():
        loose = [p for p, label in zip(files.paths, files.labels) if label < 0]
        if loose:
            raise BadImageData(
                f"folder:{scan.root}: {len(loose)} image(s) of the {split} split are outside every class folder "
                f"({_describe_files([(p, 'no class') for p in loose])}); move them into a class folder or delete them."
            )
    counts = collections.Counter(scan.splits["train"].labels)
    thin = [scan.class_names[c] for c in range(len(scan.class_names)) if counts[c] < 2]
    if thin:
        raise BadImageData(
            f"folder:{scan.root}: class folder(s) {', '.join(thin)} hold fewer than 2 usable training images; "
            "a class needs examples to learn from: add images or remove the folder."
        )


# ---------------------------------------------------------------------- decoding


def to_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """uint8 ``[H, W, c]`` (c = 1, 2, 3 or 4: gray, gray+alpha, RGB, RGBA) -> ``[H, W, channels]``.

    Alpha is dropped (as PIL's ``convert("RGB")``); gray is repeated to RGB;
    colour becomes gray by ITU-R 601 luma (`tf.image.rgb_to_grayscale`).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels!r}.")

    def convert(colour_input: bool):
        if colour_input:  # RGB(A)
            rgb = image[..., :3]
            return rgb if channels == 3 else tf.image.rgb_to_grayscale(rgb)
        gray = image[..., :1]  # gray(+alpha)
        return tf.image.grayscale_to_rgb(gray) if channels == 3 else gray

    if image.shape[-1] is not None:  # Known when tracing (arrays, TFDS): one branch only.
        result = convert(image.shape[-1] >= 3)
    else:  # Decoded files: the depth is known per file.
        result = tf.cond(tf.shape(image)[-1] >= 3, lambda: convert(True), lambda: convert(False))
    result.set_shape([None, None, channels])
    return result


def decode_file(path: tf.Tensor, channels: int) -> tf.Tensor:
    """Reads and decodes one PNG/JPEG/BMP/GIF (the first frame) to uint8 ``[H, W, channels]``."""
    image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
    return to_channels(image, channels)


def folder_examples(files: SplitFiles, channels: int, on_bad_image: str = "skip",
                    shuffle_files: bool = False, seed=None) -> tf.data.Dataset:
    """``(image uint8 [H, W, channels], label int64)`` of each file, decoded lazily.

    Without ``shuffle_files`` the order is still not the sorted one but a
    fixed permutation (`UNSHUFFLED_ORDER_SEED`): folders are sorted by class,
    so "the first n images" (an evaluation's reference, ``limit``) would
    otherwise hold one class only; a fixed permutation makes them a
    reproducible sample of every class.

    Under ``on_bad_image="skip"`` a file that fails to decode is dropped (TF
    logs a warning naming the error); under ``"stop"`` it fails the pipeline.
    """
    order = np.random.default_rng(UNSHUFFLED_ORDER_SEED).permutation(len(files))
    paths = [files.paths[i] for i in order]
    labels = [files.labels[i] for i in order]
    ds = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int64)))
    if shuffle_files:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda path, label: (decode_file(path, channels), label), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True)
    if on_bad_image == "skip":
        ds = ds.ignore_errors(log_warning=True)
    return ds
