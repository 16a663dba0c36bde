"""``folder:PATH`` with a CSV of attributes (StarGAN): finding the CSV, reading it, checking it against the images.

The CSV is laid out as CelebA's ``list_attr_celeba.csv``::

    image_id,Black_Hair,Blond_Hair,Male,Young
    000001.jpg,-1,-1,-1,1
    000002.jpg,-1,-1,-1,1

* A header row. Its first column names the file, whatever the header calls
  it (``image_id``, ``filename``, ...); every other column is an attribute.
* File names are paths relative to PATH with ``/`` separators
  (``000001.jpg``, ``smiling/a.png``). Under ``train/`` and ``test/``
  subfolders (the splits of `kgan.data.image_folder.scan_folder`) a name is
  ``train/000001.jpg``, or just ``000001.jpg`` when no other split holds a
  file of that name (one CSV for a folder split afterwards).
* Values ``1``/``0``, CelebA's ``1``/``-1``, or ``true``/``false`` (any
  case, spaces around them ignored): 1 and true mean the image has the
  attribute; they become float 1.0 and 0.0.

Where the CSV is: ``attributes_file`` when given, else ``PATH/attributes.csv``,
else ``PATH.csv`` next to the folder.

Images are found and checked as every ``folder:`` source's
(`kgan.data.image_folder.scan_folder`: headers and file ends, no pixel
decoded; unusable files skipped and listed, or the run stopped, per
``on_bad_image``), and decoded, cropped and resized as
`kgan.data.user_data.examples` does. Before any training the CSV is checked
against them:

Refused (`AttributeDataError`, naming the lines, names or columns at fault):
  no CSV in either place; a header without attribute columns, an empty or
  repeated column name; a row with another number of fields than the
  header; an ``attributes`` name that is no column (the message lists the
  columns); a file named by two rows; a value other than 1/0/-1/true/false
  in a chosen column of a row that is used (line and column named); a name
  that several splits hold; no row naming any image of the folder (the
  message shows names of both sides, so a naming mismatch is plain); a
  training split left without images; and, under ``on_bad_image="stop"``,
  images without a row.

Dropped and reported (``dropped_rows``, ``info.skipped``):
  rows naming a file the folder does not hold, or one skipped as unusable --
  a CSV may describe more images than the folder has (CelebA's full list
  next to a subset of its images), so this never stops a run; and, under
  ``on_bad_image="skip"`` (the default), images without a row, listed with
  the unusable files (reason ``no row in <csv>``): with no attributes they
  cannot be trained on, and, as for a broken file, one image does not stop a
  long run.

Warned (``warnings``):
  an attribute with the same value for every training image: the model can
  never learn to change it.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import os
import posixpath

import numpy as np
import tensorflow as tf

from kgan.data import image_folder, user_data
from kgan.data.catalog import ImageDatasetInfo

ATTRIBUTES_FILE = "attributes.csv"
# Spellings of a value (lower case, stripped) -> 1 (has the attribute) or 0.
VALUES = {"1": 1, "true": 1, "0": 0, "-1": 0, "false": 0}
_INVALID = -1  # A cell that is none of VALUES' spellings (int8 table entry).
_SHOWN = image_folder.SHOWN_FILES  # How many lines/files a message names (the rest are counted).


class AttributeDataError(ValueError):
    """The CSV of attributes cannot be used with the folder as they are; the message says what to fix."""


@dataclasses.dataclass(frozen=True)
class AttributeFolder:
    """A checked ``folder:`` source with attributes (see the module docstring).

    Attributes:
      info: as `kgan.data.user_data.describe` answers for the folder, but
        ``splits`` counts only images with a row, and ``skipped`` also lists
        the images without one.
      attributes_file: the CSV read.
      attribute_names: the chosen columns, in the order of the attribute vectors.
      files: split -> `kgan.data.image_folder.SplitFiles` of the images with a
        row; each file's label is its row in ``values[split]``.
      values: split -> float32 ``[N, K]`` of 0.0/1.0.
      dropped_rows: ``(line, name, reason)`` of the CSV rows naming no usable image.
      warnings: what may spoil training without preventing it.
      options: how the images are converted (`kgan.data.user_data.DataOptions`).
    """

    info: ImageDatasetInfo
    attributes_file: str
    attribute_names: tuple
    files: dict
    values: dict
    dropped_rows: tuple
    warnings: tuple
    options: user_data.DataOptions


# ---------------------------------------------------------------------- the CSV


def attributes_file_for(root, attributes_file=None) -> str:
    """The CSV of ``folder:root``: ``attributes_file``, else ``root/attributes.csv``, else ``root.csv``.

    Raises:
      FileNotFoundError: naming the places looked at.
    """
    if attributes_file:
        if not os.path.isfile(attributes_file):
            raise FileNotFoundError(f"--attributes_file={attributes_file}: no such file.")
        return os.fspath(attributes_file)
    inside = os.path.join(os.fspath(root), ATTRIBUTES_FILE)
    beside = os.path.normpath(os.fspath(root)) + ".csv"
    for candidate in (inside, beside):
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(
        f"folder:{root} has no CSV of attributes: looked for {inside} and {beside}. Put it in one of those places "
        "(a header row, the file name first, then one column per attribute, e.g. image_id,Smiling,Male) "
        "or pass --attributes_file=PATH."
    )


def select_attributes(columns, requested, *, fallback_to_all: bool = False, source: str = "the CSV") -> tuple:
    """The attribute columns to train on.

    Args:
      columns: the CSV's attribute columns.
      requested: names to use, in this order; empty or None: every column.
      fallback_to_all: when some requested names are no column, use every
        column instead of refusing (for a default the user did not choose,
        such as the config's CelebA attributes).
      source: the CSV's name, for the message.

    Raises:
      AttributeDataError: a requested name is no column.
    """
    requested = tuple(requested or ())
    unknown = [name for name in requested if name not in columns]
    if not requested or (unknown and fallback_to_all):
        return tuple(columns)
    if unknown:
        raise AttributeDataError(
            f"--attributes: {source} has no column {', '.join(map(repr, unknown))}; its attribute columns: "
            f"{', '.join(columns)}. Choose among them, or pass --attributes= (empty) to use every column."
        )
    return requested


def normalise_name(name: str) -> str:
    """A file name as the CSV and the folder are compared: stripped, ``/`` separators, no ``./``."""
    name = name.strip().replace("\\", "/")
    return posixpath.normpath(name) if name else ""


@dataclasses.dataclass(frozen=True)
class _Table:
    columns: tuple  # Every attribute column.
    selected: tuple  # The chosen ones.
    lines: tuple  # Line number of each data row.
    names: tuple  # Normalised file name of each row.
    values: np.ndarray  # int8 [rows, len(selected)]: 0, 1 or _INVALID.
    raw: dict  # (row, k) -> the cell as written, for every _INVALID cell.


def _describe(entries, total: int) -> str:
    shown = "; ".join(entries[:_SHOWN])
    return shown + (f"; and {total - _SHOWN} more" if total > _SHOWN else "")


def _read_table(path: str, requested, fallback_to_all: bool) -> _Table:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a spreadsheet's byte-order mark.
            reader = csv.reader(f)
            header = next((row for row in reader if any(cell.strip() for cell in row)), None)
            if header is None:
                raise AttributeDataError(f"{path} is empty: it needs a header row (file name, then attribute columns).")
            header = [cell.strip() for cell in header]
            if len(header) < 2:
                raise AttributeDataError(
                    f"{path}: the header {','.join(header)!r} has no attribute column. A CSV of attributes is "
                    "comma-separated, the file name first, then one column per attribute (e.g. image_id,Smiling,Male)."
                )
            columns = tuple(header[1:])
            repeated = sorted({c for c in columns if columns.count(c) > 1})
            if "" in columns or repeated:
                what = "an empty column name" if "" in columns else f"the column(s) {', '.join(repeated)} twice"
                raise AttributeDataError(f"{path}: the header has {what}; give every attribute column one name of its own.")
            selected = select_attributes(columns, requested, fallback_to_all=fallback_to_all, source=path)
            indices = [1 + columns.index(name) for name in selected]
            lines, names, rows, raw, misshapen = [], [], [], {}, []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # Blank lines (a trailing newline, say).
                if len(row) != len(header):
                    misshapen.append(f"line {reader.line_num} has {len(row)} field(s)")
                    continue
                values = [VALUES.get(row[i].strip().lower(), _INVALID) for i in indices]
                for k, value in enumerate(values):
                    if value == _INVALID:
                        raw[(len(rows), k)] = row[indices[k]]
                lines.append(reader.line_num)
                names.append(normalise_name(row[0]))
                rows.append(values)
    except UnicodeDecodeError as error:
        raise AttributeDataError(f"{path} is not UTF-8 text ({error}); save it as a UTF-8 CSV.") from None
    except csv.Error as error:
        raise AttributeDataError(f"{path} is not a readable CSV ({error}).") from None
    if misshapen:
        raise AttributeDataError(
            f"{path}: the header has {len(header)} fields but {_describe(misshapen, len(misshapen))}: "
            "every row needs a file name and one value per attribute column."
        )
    values = np.asarray(rows, np.int8).reshape(len(rows), len(selected))
    return _Table(columns, selected, tuple(lines), tuple(names), values, raw)


# Parsed CSVs by (path, size, mtime, request): a run reads its CSV once however often the data is described.
_TABLES: dict = {}


def _table(path: str, requested, fallback_to_all: bool) -> _Table:
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, tuple(requested or ()), fallback_to_all)
    if key not in _TABLES:
        _TABLES[key] = _read_table(path, requested, fallback_to_all)
    return _TABLES[key]


# ---------------------------------------------------------------------- matching rows and images


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _image_index(scan, root: str):
    """``(name -> (split, i), names several splits hold -> their paths)`` for the sound images of ``scan``.

    Every image is known by its path relative to ``root``; under split
    folders also by its path inside its split folder, unless another split
    holds the same name.
    """
    index, inner = {}, collections.defaultdict(list)
    for split, files in scan.splits.items():
        for i, path in enumerate(files.paths):
            relative = _relative(path, root)
            index[relative] = (split, i)
            first, _, rest = relative.partition("/")
            if first == split and rest:  # Only under split folders does a path start with its split's name.
                inner[rest].append((split, i, relative))
    ambiguous = {}
    for name, hits in inner.items():
        if name in index:
            continue
        if len(hits) == 1:
            index[name] = hits[0][:2]
        else:
            ambiguous[name] = [relative for _, _, relative in hits]
    return index, ambiguous


def _skipped_names(scan, root: str) -> dict:
    """name -> reason of every file ``scan`` skipped, by its path relative to ``root`` and inside its split folder."""
    names = {}
    for path, reason in scan.skipped:
        relative = _relative(path, root)
        names[relative] = reason
        first, _, rest = relative.partition("/")
        if first in scan.splits and rest:
            names.setdefault(rest, reason)
    return names


def _check_values(table: _Table, used_rows, path: str) -> None:
    bad = [(r, k) for r in used_rows for k in np.flatnonzero(table.values[r] == _INVALID)]
    if bad:
        shown = [f"line {table.lines[r]}, column {table.selected[k]}: {table.raw[(r, k)]!r}" for r, k in bad]
        raise AttributeDataError(
            f"{path}: {len(bad)} value(s) are not 1, 0, -1, true or false: {_describe(shown, len(bad))}. "
            "Write 1 (or true) where an image has the attribute and 0, -1 (or false) where it has not."
        )


def _check_duplicates(table: _Table, path: str) -> None:
    lines = collections.defaultdict(list)
    for line, name in zip(table.lines, table.names):
        lines[name].append(line)
    repeated = [f"{name} (lines {', '.join(map(str, found))})" for name, found in lines.items() if len(found) > 1]
    if repeated:
        raise AttributeDataError(
            f"{path} names {len(repeated)} file(s) in more than one row: {_describe(repeated, len(repeated))}. "
            "Keep one row per file."
        )


def _match(table: _Table, scan, root: str, path: str):
    """``(split -> [(image index, row)], rows naming no usable image as (line, name, reason))``.

    Raises:
      AttributeDataError: a name several splits hold, two rows for one image, or no row naming any image.
    """
    index, ambiguous = _image_index(scan, root)
    skipped = _skipped_names(scan, root)
    matched, dropped, unclear, owner = collections.defaultdict(list), [], [], {}
    for row, (line, name) in enumerate(zip(table.lines, table.names)):
        if name in index:
            split, i = index[name]
            if (split, i) in owner:
                raise AttributeDataError(
                    f"{path}: lines {table.lines[owner[split, i]]} and {line} both name "
                    f"{_relative(scan.splits[split].paths[i], root)}; keep one row per file."
                )
            owner[split, i] = row
            matched[split].append((i, row))
        elif name in ambiguous:
            unclear.append(f"line {line}: {name} ({' or '.join(ambiguous[name])})")
        elif name in skipped:
            dropped.append((line, name, f"skipped as unusable: {skipped[name]}"))
        else:
            dropped.append((line, name, "no such image in the folder"))
    if unclear:
        raise AttributeDataError(
            f"{path}: {len(unclear)} row(s) name a file that several splits hold: {_describe(unclear, len(unclear))}. "
            "Write the split folder too (e.g. train/NAME)."
        )
    if not matched:
        images = [_relative(p, root) for files in scan.splits.values() for p in files.paths[:2]]
        raise AttributeDataError(
            f"None of the {len(table.names)} rows of {path} names an image of folder:{root}: the first column must "
            f"hold each file's path relative to {root}. The CSV names e.g. {', '.join(table.names[:3]) or 'nothing'}; "
            f"the folder holds e.g. {', '.join(images[:3])}."
        )
    return matched, dropped


# ---------------------------------------------------------------------- the folder


def read_attribute_folder(root, attributes=None, attributes_file=None, *, fallback_to_all: bool = False,
                          image_size=None, channels=None, crop: str = "center", on_bad_image: str = "skip") -> AttributeFolder:
    """Finds the CSV of ``folder:root``, reads it, and checks it against the folder's images.

    Args:
      root: the folder (``train/``/``test/`` subfolders are its splits).
      attributes: the columns to use, in order; None or empty: every column.
      attributes_file: the CSV; None: ``root/attributes.csv``, else ``root.csv``.
      fallback_to_all: use every column when some ``attributes`` are no
        column (`select_attributes`).
      image_size, channels, crop, on_bad_image: as `kgan.data.user_data.describe`;
        ``on_bad_image`` also decides about images without a row.

    Returns:
      An `AttributeFolder`.

    Raises:
      FileNotFoundError: no folder, or no CSV (the message names where it was looked for).
      ValueError: `AttributeDataError` or `kgan.data.image_folder.BadImageData`
        (see the module docstring for every case).
    """
    root = os.fspath(root)
    path = attributes_file_for(root, attributes_file)
    table = _table(path, attributes, fallback_to_all)
    _check_duplicates(table, path)
    options = user_data.DataOptions(image_size, channels, crop, on_bad_image)
    described = user_data.describe(f"folder:{root}", image_size, channels=channels, crop=crop, on_bad_image=on_bad_image)
    scan = image_folder.scan_folder(root, on_bad_image)  # The headers are cached: only the walk again.
    matched, dropped = _match(table, scan, root, path)
    _check_values(table, [row for pairs in matched.values() for _, row in pairs], path)

    without_row = []
    files, values = {}, {}
    for split, split_files in scan.splits.items():
        rows = dict(matched.get(split, ()))
        without_row += [(p, f"no row in {path}") for i, p in enumerate(split_files.paths) if i not in rows]
        kept = sorted(rows)
        if kept:
            files[split] = image_folder.SplitFiles(
                tuple(split_files.paths[i] for i in kept), tuple(range(len(kept))),
                tuple(split_files.headers[i] for i in kept),
            )
            values[split] = table.values[[rows[i] for i in kept]].astype(np.float32)
    if without_row and on_bad_image == "stop":
        shown = [_relative(p, root) for p, _ in without_row]
        raise AttributeDataError(
            f"{len(without_row)} image(s) of folder:{root} have no row in {path}: {_describe(shown, len(shown))}. "
            "Add their rows, remove the images, or pass --on_bad_image=skip to train without them."
        )
    if "train" not in files:
        raise AttributeDataError(
            f"None of the training images of folder:{root} has a row in {path} (rows name only "
            f"{', '.join(sorted(files))} images): add rows for the train split's images."
        )
    train_values = values["train"]
    warnings = tuple(
        f"attribute {name} is {int(train_values[0, k])} for every one of the {len(train_values)} training images: "
        "the model can never learn to change it (drop it from --attributes, or add images that differ in it)."
        for k, name in enumerate(table.selected) if np.all(train_values[:, k] == train_values[0, k])
    )
    info = dataclasses.replace(
        described, splits={split: len(f) for split, f in files.items()}, skipped=tuple(scan.skipped) + tuple(without_row),
    )
    return AttributeFolder(info, path, table.selected, files, values, tuple(dropped), warnings, options)


def describe_dropped_rows(dropped_rows, attributes_file: str, name: str) -> str:
    """One line about the CSV rows naming no usable image ('' if none), for the run's log."""
    if not dropped_rows:
        return ""
    shown = [f"line {line}: {row_name} ({reason})" for line, row_name, reason in dropped_rows]
    return (f"{len(dropped_rows)} row(s) of {attributes_file} name no usable image of {name} and are not used: "
            f"{_describe(shown, len(shown))}.")


def attribute_examples(folder: AttributeFolder, split: str = "train", *, indices=None, shuffle: bool = False,
                       seed=None) -> tf.data.Dataset:
    """``(image uint8 info.image_shape, attributes float32 [K])`` of a split, decoded lazily.

    Args:
      folder: an `AttributeFolder`.
      split: one of ``folder.info.splits``.
      indices: only these images of the split (positions in its sorted
        paths), in this order; None: all of them.
      shuffle: the images in a new random order every pass (seeded by ``seed``).

    Raises:
      ValueError: a split the folder lacks.
    """
    if split not in folder.files:
        raise ValueError(
            f"{folder.info.name} has no split {split!r} with attributes; its splits: {', '.join(folder.files)}"
            + (" (add a test/ folder next to train/)." if split == "test" else ".")
        )
    files, values = folder.files[split], folder.values[split]
    if indices is not None:
        indices = list(indices)
        files = image_folder.SplitFiles(tuple(files.paths[i] for i in indices), tuple(files.labels[i] for i in indices),
                                        tuple(files.headers[i] for i in indices))
    options = folder.options
    ds = image_folder.folder_examples(files, folder.info.image_shape[-1], options.on_bad_image,
                                      shuffle_files=shuffle, seed=seed)
    ds = ds.map(user_data.transform(folder.info.image_shape, image_size=options.image_size, crop=options.crop),
                num_parallel_calls=tf.data.AUTOTUNE)
    table = tf.constant(values)
    return ds.map(lambda image, row: (image, tf.gather(table, row)), num_parallel_calls=tf.data.AUTOTUNE)
