"""SavedModel export with named serving signatures, in the TF Serving layout.

An export lands in ``<base_dir>/<name>/<version>/`` (``saved_model.pb`` plus
``variables/``), where ``version`` is a positive integer: TF Serving watches
``<base_dir>/<name>`` and serves the largest numbered sub-directory, ignoring
names that are not integers.

The signatures come from the model's ``serving_endpoints()``: a dict mapping a
signature name (``serving_default``, ``sample``, ...) to a `tf.function` with
an explicit ``input_signature`` of *named* `tf.TensorSpec`s. `keras.Model.export`
is not used because it infers float32 for every input and names them
``args_0`` (DESIGN.md, "Verified pitfalls"); here the input names are those of
the TensorSpecs (``z``, ``num_images``, ``seed``) and the output names are the
keys of the dict each endpoint returns (see `generator_outputs`).

Example::

    path = kgan.export.export_saved_model(model, "saved_models")
    # saved_models/gan/1; in any TF process (kgan not needed):
    loaded = tf.saved_model.load(path)
    out = loaded.signatures["sample"](num_images=tf.constant(4), seed=tf.constant(7, tf.int64))
    out["images_uint8"]  # uint8 [4, H, W, C]

Writes are atomic at the directory level: the SavedModel is written into a
hidden temporary sibling directory (whose name is not an integer, so TF Serving
never looks at it), flushed to disk, then renamed into place. A crash leaves at
most a ``.tmp-...`` directory behind, never a half-written version.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import uuid

import keras
import tensorflow as tf

from kgan import atomic_files

__all__ = ["export_saved_model", "generator_outputs", "latest_version", "list_versions"]

# TF Serving parses version directory names as (non-negative) integers.
_VERSION_DIR = re.compile(r"[0-9]+")
_TMP_PREFIX = ".tmp-export-"
_OLD_PREFIX = ".old-export-"


# ---------------------------------------------------------------------- outputs


def generator_outputs(samples) -> dict:
    """Maps generator samples to the named outputs of a serving signature.

    Pure TF ops: it is traced into the exported graphs.

    Args:
      samples: either an image batch ``[N, H, W, C]`` (any float dtype; the
        models produce float32 in [-1, 1]) or a batch of points ``[N, D]``.
        The rank must be known when tracing.

    Returns:
      For images, ``{"images": float32 [N, H, W, C] clipped to [-1, 1],
      "images_uint8": uint8 [N, H, W, C] in [0, 255]}`` with
      ``images_uint8 = round((images + 1) * 127.5)``, so -1 -> 0, 1 -> 255 and
      0 -> 128. `tf.round` rounds halves to even: the scaled value 127.5
      (x = 0) becomes 128, but 0.5 becomes 0 and 2.5 becomes 2. Clipping happens before scaling, so
      out-of-range values saturate at 0 and 255 rather than wrapping around.
      NaNs stay NaN in ``images``; their ``images_uint8`` value is unspecified.

      For points, ``{"samples": float32 [N, D]}`` (unbounded, not clipped).

    Raises:
      ValueError: if the rank is unknown or neither 2 nor 4.
    """
    samples = tf.convert_to_tensor(samples)
    if not samples.dtype.is_floating:
        raise ValueError(f"generator_outputs expects floating-point samples; got {samples.dtype.name}.")
    # Cast first: bfloat16/float16 outputs of mixed-precision generators are
    # served as float32, the dtype the signatures promise.
    samples = tf.cast(samples, tf.float32)
    rank = samples.shape.rank
    if rank == 4:
        images = tf.clip_by_value(samples, -1.0, 1.0)
        # (x + 1) * 127.5 lies in [0, 255] after the clip, so the cast cannot
        # overflow; the second clip only guards against float rounding at 255.
        scaled = tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0)
        return {"images": images, "images_uint8": tf.cast(scaled, tf.uint8)}
    if rank == 2:
        return {"samples": samples}
    raise ValueError(
        "generator_outputs expects images [N, H, W, C] or points [N, D]; "
        f"got a tensor of shape {samples.shape}."
    )


# ---------------------------------------------------------------------- versions


def list_versions(model_dir) -> list:
    """Numbered versions present in a TF Serving model directory.

    Args:
      model_dir: ``<base_dir>/<name>``; it need not exist.

    Returns:
      Sorted list of ints: the names of the sub-directories made of decimal
      digits only (as TF Serving reads them; ``"007"`` counts as 7). Other
      entries, such as in-progress ``.tmp-export-*`` directories, are ignored.
    """
    if not os.path.isdir(model_dir):
        return []
    versions = set()
    for entry in os.listdir(model_dir):
        if _VERSION_DIR.fullmatch(entry) and os.path.isdir(os.path.join(model_dir, entry)):
            versions.add(int(entry))
    return sorted(versions)


def latest_version(model_dir):
    """Largest numbered version in ``model_dir`` (``<base_dir>/<name>``), or None if there is none."""
    versions = list_versions(model_dir)
    return versions[-1] if versions else None


def _existing_version_paths(model_dir, version: int) -> list:
    """Every entry of ``model_dir`` that TF Serving would read as ``version`` (e.g. ``7`` and ``007``)."""
    if not os.path.isdir(model_dir):
        return []
    return [
        os.path.join(model_dir, entry)
        for entry in sorted(os.listdir(model_dir))
        if _VERSION_DIR.fullmatch(entry) and int(entry) == version
    ]


# ---------------------------------------------------------------------- export


def _check_version(version):
    # bool is an int subclass: True would silently become version 1.
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(f"version must be a positive int or None; got {version!r} ({type(version).__name__}).")
    if version < 1:
        raise ValueError(f"version must be a positive int (TF Serving version directories are 1, 2, ...); got {version}.")
    return version


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}.")
    if name in (".", "..") or "/" in name or (os.altsep and os.altsep in name) or os.sep in name:
        raise ValueError(f"name must be a single directory name (no path separators, not '.' or '..'); got {name!r}.")
    return name


def _serving_endpoints(model) -> dict:
    """Gets and checks ``model.serving_endpoints()``; returns ``{name: tf.function}``."""
    get_endpoints = getattr(model, "serving_endpoints", None)
    if not callable(get_endpoints):
        raise TypeError(
            f"{type(model).__name__} has no serving_endpoints() method; export_saved_model exports kgan "
            "models (subclasses of kgan.models.AdversarialModel that define serving endpoints)."
        )
    endpoints = get_endpoints()
    if not isinstance(endpoints, dict) or not endpoints:
        raise TypeError(f"serving_endpoints() must return a non-empty dict of name -> tf.function; got {endpoints!r}.")
    if "serving_default" not in endpoints:
        # ExportArchive would alias the first endpoint silently; TF Serving
        # clients that send no signature name would then get an arbitrary one.
        raise ValueError(f"serving_endpoints() must include 'serving_default'; got {sorted(endpoints)}.")
    for name, fn in endpoints.items():
        if not isinstance(fn, tf.types.experimental.GenericFunction) or fn.input_signature is None:
            raise TypeError(
                f"Serving endpoint {name!r} must be a tf.function with an explicit input_signature of "
                f"named tf.TensorSpecs; got {fn!r}."
            )
        unnamed = [spec for spec in tf.nest.flatten(fn.input_signature) if not getattr(spec, "name", None)]
        if unnamed:
            raise ValueError(
                f"Serving endpoint {name!r} has input specs without a name: {unnamed}. Name every "
                "tf.TensorSpec (e.g. tf.TensorSpec([None, 128], tf.float32, name='z')): the names "
                "become the signature's input names."
            )
    return endpoints


def _build_archive(model, endpoints):
    """A `keras.export.ExportArchive` that tracks ``model`` and holds every endpoint."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, fn in endpoints.items():
        # Tracing now (the input signature fixes the one trace) lets
        # ExportArchive take the tf.function as it is, keeping its TensorSpec
        # names; passing input_signature again would wrap it in another function.
        concrete = fn.get_concrete_function()
        outputs = concrete.structured_outputs
        if not isinstance(outputs, dict) or not all(isinstance(k, str) for k in outputs):
            raise TypeError(
                f"Serving endpoint {name!r} must return a dict of named tensors (the signature's "
                f"output names); it returns {outputs!r}."
            )
        archive.add_endpoint(name, fn)
    return archive


def _publish(tmp_dir, model_dir, version, overwrite) -> bool:
    """Renames ``tmp_dir`` to ``model_dir/version``.

    Returns False if the version appeared meanwhile (without ``overwrite``),
    True once published.
    """
    final = os.path.join(model_dir, str(version))
    existing = _existing_version_paths(model_dir, version)
    if existing and not overwrite:
        return False
    # Move old copies of this version aside (a non-empty directory cannot be
    # renamed over), publish, then delete them. TF Serving sees the version
    # briefly missing, never half-written.
    moved_aside = []
    for path in existing:
        aside = os.path.join(model_dir, f"{_OLD_PREFIX}{os.path.basename(path)}-{uuid.uuid4().hex}")
        os.rename(path, aside)
        moved_aside.append(aside)
    try:
        os.rename(tmp_dir, final)
    except OSError as error:
        # Another process published this version between our check and the
        # rename (POSIX refuses to rename over a non-empty directory).
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST) and not moved_aside:
            return False
        raise
    atomic_files.fsync_path(model_dir)
    for aside in moved_aside:
        shutil.rmtree(aside, ignore_errors=True)
    return True


def export_saved_model(model, base_dir="saved_models", name=None, version=None, overwrite=False) -> str:
    """Exports ``model``'s serving endpoints as a SavedModel TF Serving can load.

    Every endpoint of ``model.serving_endpoints()`` becomes a signature of the
    same name. For `kgan.GAN`: ``serving_default(z: float32 [N, latent_dim])``
    and ``sample(num_images: int32 [], seed: int64 [])``, both returning
    ``images`` (float32 [N, H, W, C] in [-1, 1]) and ``images_uint8`` (uint8
    [N, H, W, C] in [0, 255]), or ``samples`` (float32 [N, D]) for point
    generators. The export needs neither kgan nor Keras to load.

    Args:
      model: a built kgan model with a ``serving_endpoints()`` method.
      base_dir: directory holding one sub-directory per model name.
      name: model directory name; defaults to ``model.name``. A single path
        component.
      version: positive int; defaults to 1 + the largest existing version, or 1.
      overwrite: replace an existing ``version``. Without it, exporting to an
        existing version raises `FileExistsError`.

    Returns:
      The path of the version directory, ``<base_dir>/<name>/<version>``.

    Raises:
      TypeError: ``version`` is not an int, or the model has no valid
        serving endpoints.
      ValueError: ``version`` < 1, or ``name`` is not a plain directory name.
      FileExistsError: the version exists and ``overwrite`` is False.
    """
    version = _check_version(version)
    name = _check_name(model.name if name is None else name)
    model_dir = os.path.join(os.fspath(base_dir), name)
    if version is not None and not overwrite:
        existing = _existing_version_paths(model_dir, version)
        if existing:
            # Fail before the (slow) tracing and writing.
            raise FileExistsError(
                f"SavedModel version {version} already exists at {existing[0]!r}; pass overwrite=True "
                "to replace it, or another version (version=None takes the next free one)."
            )

    archive = _build_archive(model, _serving_endpoints(model))
    os.makedirs(model_dir, exist_ok=True)
    # Same directory as the destination, so the final rename stays on one
    # file system (and is atomic).
    tmp_dir = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=model_dir)
    try:
        archive.write_out(tmp_dir, verbose=False)
        atomic_files.fsync_tree(tmp_dir)
        while True:
            target = version if version is not None else (latest_version(model_dir) or 0) + 1
            if _publish(tmp_dir, model_dir, target, overwrite):
                return os.path.join(model_dir, str(target))
            if version is not None:
                raise FileExistsError(
                    f"SavedModel version {version} already exists at "
                    f"{os.path.join(model_dir, str(version))!r} (written by another process during "
                    "this export); pass overwrite=True to replace it."
                )
            # Another exporter took the next version: take the one after.
    finally:
        if os.path.exists(tmp_dir):
            shutil.rmtree(tmp_dir, ignore_errors=True)
