"""``npz:PATH[:KEY]`` and ``npy:PATH``: images stored as NumPy arrays.

Accepted arrays: ``[N, H, W]`` (gray) or ``[N, H, W, C]`` with C = 1, 3 or 4
(alpha is dropped), of dtype uint8, another integer type with values in
[0, 255], or floating point in [0, 1], [-1, 1] or [0, 255] (told apart by
the values' range). Everything is converted to uint8 pixels once, at load.

An ``.npz`` archive may hold:

* Keras's layout -- ``x_train``, ``y_train``, ``x_test``, ``y_test`` (as
  ``keras.datasets.mnist.load_data`` caches it): splits ``train`` and ``test``;
* one images array (``KEY``, or the one named ``images``/``x``/``data``/
  ``arr_0``, or the only array of rank 3 or 4) and optionally its labels
  (``labels``/``label``/``y``/``targets``, or ``arr_1``): split ``train``;
* ``class_names``: a string array naming the labels.

Pickled (object) arrays are refused: ``np.load`` runs with
``allow_pickle=False``, since unpickling runs code from the file.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

_IMAGE_KEYS = ("images", "x", "data", "arr_0")
_LABEL_KEYS = ("labels", "label", "y", "targets", "arr_1")


@dataclasses.dataclass(frozen=True)
class ArraySplits:
    """The arrays of a source: split -> ``(images uint8 [N, H, W, C], labels int64 [N] or None)``."""

    splits: dict
    class_names: tuple


def _refusal(path: str, error: Exception) -> ValueError:
    """The message for a file np.load refused: pickled arrays get why and what to save instead."""
    if "allow_pickle" in str(error):
        return ValueError(
            f"{path} holds pickled (object) arrays, which kgan does not load (unpickling runs code from the "
            "file): save plain numeric arrays, e.g. np.savez(path, images=np.asarray(images, np.uint8))."
        )
    return ValueError(f"{path} is not a readable NumPy file ({type(error).__name__}: {error}).")


def _open(path: str):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file.")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise _refusal(path, error) from None


class _Archive:
    """An open ``.npz`` whose arrays are read with `_refusal`'s messages (np.load reads each one lazily)."""

    def __init__(self, path: str, npz):
        self.path, self.npz, self.files = path, npz, list(npz.files)

    def __getitem__(self, key):
        try:
            return self.npz[key]
        except (ValueError, OSError, EOFError) as error:
            raise _refusal(self.path, error) from None


def to_uint8_images(array, name: str) -> np.ndarray:
    """Images of any accepted layout/dtype (module docstring) as uint8 ``[N, H, W, C]``, C in {1, 3}.

    Raises:
      ValueError: a layout, dtype or value range kgan cannot read as images; the message says what it saw.
    """
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4:
        raise ValueError(f"{name} has shape {array.shape}; images must be [N, H, W] or [N, H, W, C].")
    if array.shape[-1] not in (1, 3, 4):
        hint = (" It looks channels-first (NCHW): np.transpose(x, (0, 2, 3, 1)) makes it NHWC."
                if array.shape[1] in (1, 3, 4) else "")
        raise ValueError(f"{name} has shape {array.shape}: the last axis must be 1, 3 or 4 channels.{hint}")
    if array.shape[-1] == 4:
        array = array[..., :3]  # Alpha is dropped, as PIL's convert("RGB").
    if len(array) == 0:
        raise ValueError(f"{name} holds no images (shape {array.shape}).")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name} has dtype {array.dtype}; images must be uint8, integers in [0, 255] or floats.")
    if np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all():
            raise ValueError(f"{name} holds {int((~finite).sum())} NaN/Inf value(s); fix the data before training.")
    lo, hi = float(array.min()), float(array.max())
    if np.issubdtype(array.dtype, np.integer):
        if lo < 0 or hi > 255:
            raise ValueError(f"{name} ({array.dtype}) spans [{lo:g}, {hi:g}]; integer pixels must be in [0, 255].")
        return array.astype(np.uint8)
    if lo >= 0.0 and hi <= 1.0:
        pixels = array * 255.0
    elif lo >= -1.0 and hi <= 1.0:
        pixels = (array + 1.0) * 127.5
    elif lo >= 0.0 and hi <= 255.0:
        pixels = array
    else:
        raise ValueError(
            f"{name} ({array.dtype}) spans [{lo:.4g}, {hi:.4g}]; float images must be in [0, 1], [-1, 1] or [0, 255]."
        )
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _labels(array, count: int, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != count:
        raise ValueError(f"{name} has shape {array.shape}; labels must be [N] class indices with N = {count} images.")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"{name} ({array.dtype}) must hold integer class indices.")
    if count and array.min() < 0:
        raise ValueError(f"{name} holds negative labels ({int(array.min())}); classes are 0..K-1.")
    return array.astype(np.int64)


def _class_names(archive, labels) -> tuple:
    if "class_names" in archive.files:
        names = archive["class_names"]
        if names.dtype.kind not in "US" or names.ndim != 1:
            raise ValueError("class_names must be a 1-D string array.")
        return tuple(str(n) for n in names)
    top = max((int(label.max()) for label in labels if label is not None and len(label)), default=-1)
    return tuple(str(i) for i in range(top + 1))


def load_npy(path: str) -> ArraySplits:
    """``npy:PATH``: one images array, split ``train``, unlabelled."""
    array = _open(path)
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{path} is an .npz archive; name it npz:{path}.")
    return ArraySplits({"train": (to_uint8_images(array, path), None)}, ())


def load_npz(path: str, key: str | None = None) -> ArraySplits:
    """``npz:PATH[:KEY]``: see the module docstring for which arrays are used.

    Raises:
      ValueError: no images array found (the message lists the keys), a bad
        array, or labels that do not match the images.
    """
    with _open(path) as npz:
        if not hasattr(npz, "files"):
            raise ValueError(f"{path} is a single .npy array; name it npy:{path}.")
        archive = _Archive(path, npz)
        keys = archive.files
        if key is None and "x_train" in keys:
            splits = {}
            for split in ("train", "test"):
                if f"x_{split}" in keys:
                    images = to_uint8_images(archive[f"x_{split}"], f"{path}:x_{split}")
                    labels = _labels(archive[f"y_{split}"], len(images), f"{path}:y_{split}") if f"y_{split}" in keys else None
                    splits[split] = (images, labels)
            return ArraySplits(splits, _class_names(archive, [lab for _, lab in splits.values()]))
        if key is not None and key not in keys:
            raise ValueError(f"{path} has no array {key!r}; it holds {', '.join(keys) or 'nothing'}.")
        if key is None:
            named = [k for k in _IMAGE_KEYS if k in keys]
            ranked = [k for k in keys if archive[k].ndim in (3, 4)]
            if named:
                key = named[0]
            elif len(ranked) == 1:
                key = ranked[0]
            else:
                raise ValueError(
                    f"{path}: which array holds the images? It holds {', '.join(f'{k} {archive[k].shape}' for k in keys)}; "
                    f"name one with npz:{path}:KEY."
                )
        images = to_uint8_images(archive[key], f"{path}:{key}")
        label_key = next((k for k in _LABEL_KEYS if k in keys and k != key), None)
        labels = _labels(archive[label_key], len(images), f"{path}:{label_key}") if label_key else None
        return ArraySplits({"train": (images, labels)}, _class_names(archive, [labels]) if labels is not None else ())
