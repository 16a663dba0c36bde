"""SavedModel export with named serving signatures, in the TF Serving layout.

An export lands in ``<base_dir>/<name>/<version>/`` (``saved_model.pb`` plus
``variables/``), where ``version`` is a positive integer: TF Serving watches
``<base_dir>/<name>`` and serves the largest numbered sub-directory, ignoring
names that are not integers.

The signatures come from the model's ``serving_endpoints()``: a dict mapping a
signature name (``serving_default``, ``sample``, ...) to a `tf.function` with
an explicit ``input_signature`` of *named* `tf.TensorSpec`s. `keras.Model.export`
is not used because it infers float32 for every input and names them
``args_0`` (docs/design.md, "Keras export names inputs args_0"); here the input
names are those of the TensorSpecs (``z``, ``num_images``, ``seed``) and the
output names are the keys of the dict each endpoint returns (see `kgan.serving`,
which also checks the inputs inside the graph).

Every export also rewrites ``<base_dir>/models.config``, a ModelServerConfig in
protobuf text format listing every model under ``base_dir``, so one TF Serving
process serves them all::

    tensorflow_model_server --rest_api_port=8501 --port=8500 \
        --model_config_file=$PWD/saved_models/models.config

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

__all__ = ["export_saved_model", "latest_version", "list_versions", "models_config_text", "write_models_config"]

# TF Serving parses version directory names as (non-negative) integers.
_VERSION_DIR = re.compile(r"[0-9]+")
_TMP_PREFIX = ".tmp-export-"
_OLD_PREFIX = ".old-export-"


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
    ``images`` (float32 [N, H, W, C] in [-1, 1]), ``images_uint8`` (uint8
    [N, H, W, C] in [0, 255]) and ``images_png_bytes`` (string [N], PNG files),
    or ``samples`` (float32 [N, D]) for point generators; see `kgan.serving`.
    The export needs neither kgan nor Keras to load.

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
      ``<base_dir>/models.config`` is rewritten to list it (`write_models_config`).

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
                # Rewritten from the directory listing after publishing, so
                # concurrent exporters converge on a complete list.
                write_models_config(base_dir)
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


# ---------------------------------------------------------------------- models.config

MODELS_CONFIG = "models.config"
_BASE_PATH_LINE = re.compile(r'^\s*base_path:\s*"(.*)"\s*$', re.MULTILINE)


def _quote(text: str) -> str:
    """A protobuf text-format string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _exported_models(base_dir) -> list:
    """Names of the sub-directories of ``base_dir`` that hold at least one numbered version."""
    if not os.path.isdir(base_dir):
        return []
    return sorted(
        entry for entry in os.listdir(base_dir)
        if not entry.startswith(".") and list_versions(os.path.join(base_dir, entry))
    )


def models_config_text(base_dir, serving_root=None) -> str:
    """TF Serving's ``--model_config_file`` for every model exported under ``base_dir``.

    Args:
      base_dir: the export directory (``saved_models``); each sub-directory
        with at least one numbered version becomes one model, named after the
        directory. Directories without versions (or hidden ones) are skipped.
      serving_root: where the server sees ``base_dir``. TF Serving requires
        absolute base paths (or URIs such as ``gs://...``); the default is
        ``base_dir``'s absolute path on this machine. For the Docker image with
        ``-v $PWD/saved_models:/models`` pass ``"/models"``.

    Returns:
      A ModelServerConfig in protobuf text format, e.g.::

          model_config_list {
            config {
              name: "gan_demo"
              base_path: "/models/gan_demo"
              model_platform: "tensorflow"
            }
          }

      Each model serves its latest version (TF Serving's default policy).

    Raises:
      ValueError: ``serving_root`` is relative.
    """
    root = os.path.abspath(os.fspath(base_dir)) if serving_root is None else os.fspath(serving_root)
    if "://" not in root and not root.startswith("/"):
        raise ValueError(f"serving_root must be an absolute path or a URI (TF Serving refuses relative base paths); got {root!r}.")
    lines = ["# Written by kgan.export; lists every model under this directory.", "model_config_list {"]
    for name in _exported_models(base_dir):
        lines += [
            "  config {",
            f"    name: {_quote(name)}",
            f"    base_path: {_quote(root.rstrip('/') + '/' + name)}",
            '    model_platform: "tensorflow"',
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _configured_root(config_path):
    """The serving root an existing models.config uses (the common parent of its base paths), or None."""
    try:
        with open(config_path, encoding="utf-8") as f:
            paths = _BASE_PATH_LINE.findall(f.read())
    except OSError:
        return None
    roots = {path.rsplit("/", 1)[0] for path in paths if "/" in path}
    return roots.pop() if len(roots) == 1 else None


def write_models_config(base_dir, serving_root=None) -> str:
    """Writes ``<base_dir>/models.config`` (see `models_config_text`) atomically; returns its path.

    ``serving_root=None`` keeps the root of an existing models.config (so a
    file written for Docker's ``/models`` stays that way as models are added),
    else uses ``base_dir``'s absolute path.
    """
    path = os.path.join(os.fspath(base_dir), MODELS_CONFIG)
    if serving_root is None:
        serving_root = _configured_root(path)
    atomic_files.write_text(path, models_config_text(base_dir, serving_root))
    return path
