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
most a ``.tmp-export-...`` directory behind, never a half-written version; the
next export into the same base directory removes such leftovers once their
exporter is gone (`_remove_stale_temporaries`).

What an export refuses, before writing anything: weights of the served
networks that are NaN or infinite (the averaged generator's, with the EMA on),
a name that is not one plain directory name (path separators, a leading dot,
control characters: models.config lists every model of the directory and one
bad name would make it unreadable for all), a base directory that is a file
or not writable (`check_export_dir`), a ``max_batch_size`` that is not a
positive int. Every signature is wrapped by `kgan.serving.bounded_endpoint`:
at most ``max_batch_size`` examples per request and input.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import unicodedata
import uuid

import keras
import numpy as np
import tensorflow as tf
from google.protobuf import text_encoding

from kgan import atomic_files, numerics, serving

__all__ = [
    "check_export_dir",
    "export_saved_model",
    "latest_version",
    "list_versions",
    "models_config_text",
    "write_models_config",
]

# TF Serving parses version directory names as (non-negative) integers.
_VERSION_DIR = re.compile(r"[0-9]+")
_TMP_PREFIX = ".tmp-export-"
_OLD_PREFIX = ".old-export-"
# A temporary directory is named .tmp-export-<pid>-<host>-<random>, <host> the
# first 8 hex digits of sha1(hostname): the next export can tell a dead
# exporter's leftovers from a running one's (`_remove_stale_temporaries`).
_TMP_NAME = re.compile(re.escape(_TMP_PREFIX) + r"(?P<pid>[0-9]+)-(?P<host>[0-9a-f]{8})-")
# Leftovers whose owner cannot be checked (another host's, or unnamed ones of
# older kgan versions) are removed only once this old: an export writes for
# seconds to minutes, so a day-old temporary directory is nobody's.
_STALE_AFTER_SECONDS = 24 * 3600


def _host_tag(host=None) -> str:
    return hashlib.sha1((socket.gethostname() if host is None else host).encode("utf-8")).hexdigest()[:8]


def _temporary_prefix(pid=None, host=None) -> str:
    """``.tmp-export-<pid>-<host tag>-``: the name prefix of an export's temporary directory."""
    return f"{_TMP_PREFIX}{os.getpid() if pid is None else pid}-{_host_tag(host)}-"


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


def _control_characters(text: str) -> list:
    """The characters of ``text`` that a line-based text file cannot hold as they are.

    Unicode's "other" categories (controls such as newline, tab and NUL, format
    characters, surrogates, unassigned code points) and the line and paragraph
    separators, which editors and parsers treat as line breaks.
    """
    return sorted({c for c in text if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp")})


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}.")
    if name in (".", "..") or "/" in name or (os.altsep and os.altsep in name) or os.sep in name:
        raise ValueError(f"name must be a single directory name (no path separators, not '.' or '..'); got {name!r}.")
    if name.startswith("."):
        # Hidden directories are skipped by models.config (and hold the
        # exporters' temporary directories): the model would never be served.
        raise ValueError(f"name must not start with '.' (hidden directories are not listed in models.config); got {name!r}.")
    bad = _control_characters(name)
    if bad:
        raise ValueError(
            f"name must not contain control characters (models.config lists every model of the directory, one "
            f"per entry, and TF Serving addresses it in URLs); got {name!r} with {', '.join(map(repr, bad))}."
        )
    return name


def check_export_dir(base_dir) -> str:
    """Checks that exports can be written under ``base_dir``; returns its path.

    Call it before a long training run that ends with an export: a typo or a
    read-only mount then fails at once, not after hours. Nothing is created.

    Args:
      base_dir: the export directory (``saved_models``); it need not exist yet.

    Returns:
      ``base_dir`` as a string (``os.fspath``).

    Raises:
      ValueError: ``base_dir``, or the nearest of its parents that exists, is
        not a directory (e.g. a file in the way).
      PermissionError: that directory is not writable by this process
        (``access(2)``, which also reports read-only file systems; a full disk
        only shows when writing).
    """
    path = os.fspath(base_dir)
    if not path:
        raise ValueError("base_dir must be a non-empty path.")
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        which = "it" if existing == os.path.abspath(path) else f"its parent {existing!r}"
        raise ValueError(
            f"Cannot export under {path!r}: {which} is not a directory. Pass a directory (it may not exist "
            "yet), or move the file out of the way."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        which = "it" if existing == os.path.abspath(path) else f"its nearest existing parent {existing!r}"
        raise PermissionError(
            f"Cannot export under {path!r}: {which} is not writable by this process (uid {os.geteuid()}). "
            "Pass a writable directory, or fix its permissions."
        )
    return path


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


def _build_archive(model, endpoints, max_batch_size):
    """``(archive, variables)``: a `keras.export.ExportArchive` that tracks ``model`` and holds every endpoint.

    Each endpoint is wrapped by `kgan.serving.bounded_endpoint` (the batch
    bound, rank checks) and traced; ``variables`` are the ones the traced
    signatures read, i.e. what the export serves.
    """
    archive = keras.export.ExportArchive()
    archive.track(model)
    variables = {}
    for name, fn in endpoints.items():
        # Tracing now (the input signature fixes the one trace) lets
        # ExportArchive take the tf.function as it is, keeping its TensorSpec
        # names; passing input_signature again would wrap it in another function.
        bounded = serving.bounded_endpoint(fn, max_batch_size)
        concrete = bounded.get_concrete_function()
        outputs = concrete.structured_outputs
        if not isinstance(outputs, dict) or not all(isinstance(k, str) for k in outputs):
            raise TypeError(
                f"Serving endpoint {name!r} must return a dict of named tensors (the signature's "
                f"output names); it returns {outputs!r}."
            )
        variables.update((id(v), v) for v in concrete.variables)
        archive.add_endpoint(name, bounded)
    return archive, list(variables.values())


def _variable_labels(model) -> dict:
    """``{id(tf.Variable): "<network>/<weight path>"}`` for the weights of ``model``'s networks and averages.

    A weight path alone is ambiguous: the EMA's copy of the generator has the
    generator's paths.
    """
    labels = {}
    for layer in getattr(model, "layers", []):
        for weight in layer.weights:
            labels.setdefault(id(getattr(weight, "value", weight)), f"{layer.name}/{weight.path}")
    return labels


def _check_finite(model, variables):
    """Raises ValueError naming every served float variable that holds NaN or inf."""
    labels = _variable_labels(model)
    bad = []
    for variable in variables:
        count = numerics.non_finite_count(variable)
        if count:
            bad.append(f"{labels.get(id(variable), variable.name)} ({count} of {int(np.prod(variable.shape))} values)")
    if bad:
        raise ValueError(
            f"Refusing to export {model.name!r}: served weights are non-finite (NaN or inf): {'; '.join(sorted(bad))}. "
            "Training diverged: export a checkpoint from before it did (kgan.saving.load_model_from_checkpoint), "
            "and retrain from there with a lower learning rate."
        )


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
        if moved_aside and not os.path.exists(final):
            os.rename(moved_aside[0], existing[0])  # Serve the old copy again rather than nothing.
        raise
    atomic_files.fsync_path(model_dir)
    for aside in moved_aside:
        shutil.rmtree(aside, ignore_errors=True)
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OverflowError:
        return False
    return True


def _superseded_old_copy(model_dir, entry) -> bool:
    """Whether ``.old-export-<version>-<hex>`` is a copy an overwrite moved aside and its version is back in place.

    Such a copy outlives its export only if the exporter died between
    publishing and deleting it; while its version is missing (a crash before
    publishing) it is the only copy left, and stays.
    """
    version = entry[len(_OLD_PREFIX):].split("-", 1)[0]
    return bool(_VERSION_DIR.fullmatch(version)) and bool(_existing_version_paths(model_dir, int(version)))


def _remove_stale_temporaries(base_dir):
    """Removes the ``.tmp-export-*`` directories crashed exports left in ``<base_dir>/<name>/``, and superseded ``.old-export-*`` copies.

    Never one of an export still running, in this process or another:

    * named by this host (``.tmp-export-<pid>-<host>-...``): removed only when
      no process ``<pid>`` exists. A pid reused since then by another process
      keeps the leftover until that process ends (safe, not eager);
    * named by another host sharing the directory, or without a pid (kgan
      before this scheme): removed only when older than a day
      (`_STALE_AFTER_SECONDS`) -- another host's pids cannot be checked from
      here, and an export writes for minutes at most.

    Best effort: a directory that vanishes or cannot be removed meanwhile is
    skipped (another exporter may be cleaning it too).
    """
    here, now = _host_tag(), time.time()
    try:
        names = [n for n in os.listdir(base_dir) if not n.startswith(".")]
    except OSError:
        return
    for name in names:
        model_dir = os.path.join(base_dir, name)
        try:
            entries = [e for e in os.listdir(model_dir) if e.startswith(_TMP_PREFIX)]
            old_copies = [e for e in os.listdir(model_dir) if e.startswith(_OLD_PREFIX)]
        except OSError:  # a file, or gone
            continue
        for entry in old_copies:
            if _superseded_old_copy(model_dir, entry):
                shutil.rmtree(os.path.join(model_dir, entry), ignore_errors=True)
        for entry in entries:
            path = os.path.join(model_dir, entry)
            match = _TMP_NAME.match(entry)
            try:
                if match and match.group("host") == here:
                    stale = not _pid_alive(int(match.group("pid")))
                else:
                    stale = now - os.stat(path).st_mtime > _STALE_AFTER_SECONDS
            except OSError:
                continue
            if stale:
                shutil.rmtree(path, ignore_errors=True)


METADATA_FILE = "kgan.json"


def read_metadata(version_dir) -> dict | None:
    """The ``metadata`` an export was written with (``assets.extra/kgan.json``), or None."""
    try:
        with open(os.path.join(version_dir, "assets.extra", METADATA_FILE), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def export_saved_model(
    model, base_dir="saved_models", name=None, version=None, overwrite=False, max_batch_size=serving.MAX_SAMPLED_IMAGES,
    metadata=None,
) -> str:
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
        component, not starting with ``.``, without control characters.
      version: positive int; defaults to 1 + the largest existing version, or 1.
      overwrite: replace an existing ``version``. Without it, exporting to an
        existing version raises `FileExistsError`.
      max_batch_size: the most examples one request may send or ask for, in
        ``[1, 2**31 - 1]``: dimension 0 of every batch input and the
        ``num_images`` of ``sample`` (`kgan.serving.bounded_endpoint`); a
        request over it fails with InvalidArgument before any work. The
        default, `kgan.serving.MAX_SAMPLED_IMAGES` (1,024), keeps one request
        of 64x64x3 images near 50 MB of output.
      metadata: a JSON-ready dict written to ``assets.extra/kgan.json`` in
        the version directory (TF Serving's place for files beside a model),
        e.g. the training data's ``class_names`` so a client can map the
        label indices of a conditional model to names.

    Returns:
      The path of the version directory, ``<base_dir>/<name>/<version>``.
      ``<base_dir>/models.config`` is rewritten to list it (`write_models_config`).
      Leftovers of crashed exports under ``base_dir`` are removed first
      (`_remove_stale_temporaries`).

    Raises:
      TypeError: ``version`` or ``max_batch_size`` is not an int, or the model
        has no valid serving endpoints.
      ValueError: ``version`` < 1, ``max_batch_size`` out of range, ``name``
        is not a plain directory name, ``base_dir`` or a parent is a file, or
        a served weight is NaN or infinite (each named).
      PermissionError: ``base_dir`` is not writable (`check_export_dir`).
      FileExistsError: the version exists and ``overwrite`` is False.
    """
    version = _check_version(version)
    max_batch_size = serving.check_batch_limit(max_batch_size)
    name = _check_name(model.name if name is None else name)
    base_dir = check_export_dir(base_dir)
    model_dir = os.path.join(base_dir, name)
    if version is not None and not overwrite:
        existing = _existing_version_paths(model_dir, version)
        if existing:
            # Fail before the (slow) tracing and writing.
            raise FileExistsError(
                f"SavedModel version {version} already exists at {existing[0]!r}; pass overwrite=True "
                "to replace it, or another version (version=None takes the next free one)."
            )

    archive, served_variables = _build_archive(model, _serving_endpoints(model), max_batch_size)
    _check_finite(model, served_variables)
    _remove_stale_temporaries(base_dir)
    os.makedirs(model_dir, exist_ok=True)
    # Same directory as the destination, so the final rename stays on one
    # file system (and is atomic); the pid in the name tells later exports
    # whether this one is still running.
    tmp_dir = tempfile.mkdtemp(prefix=_temporary_prefix(), dir=model_dir)
    try:
        archive.write_out(tmp_dir, verbose=False)
        if metadata is not None:
            os.makedirs(os.path.join(tmp_dir, "assets.extra"), exist_ok=True)
            with open(os.path.join(tmp_dir, "assets.extra", METADATA_FILE), "w", encoding="utf-8") as f:
                json.dump(metadata, f, indent=1, sort_keys=True)
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
    """A protobuf text-format string literal (C escapes; UTF-8 kept as is), as the official parser reads it."""
    return '"' + text_encoding.CEscape(text, as_utf8=True) + '"'


def _unquote(escaped: str) -> str:
    """The string an escaped text-format literal (without its quotes) stands for: `_quote`'s inverse."""
    return text_encoding.CUnescape(escaped).decode("utf-8")


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
      ValueError: ``serving_root`` is relative or holds control characters.
    """
    root = os.path.abspath(os.fspath(base_dir)) if serving_root is None else os.fspath(serving_root)
    if "://" not in root and not root.startswith("/"):
        raise ValueError(f"serving_root must be an absolute path or a URI (TF Serving refuses relative base paths); got {root!r}.")
    bad = _control_characters(root)
    if bad:
        raise ValueError(f"serving_root must not contain control characters; got {root!r} with {', '.join(map(repr, bad))}.")
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
    try:
        # The file holds escaped literals: unescaped here, _quote escapes them
        # once again when writing, so the root round-trips unchanged.
        paths = [_unquote(path) for path in paths]
    except (ValueError, UnicodeDecodeError):
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
