"""The on-disk format of kgan's training checkpoints, and its readers.

A checkpoint directory (written by `kgan.callbacks.TrainingCheckpoint`) holds
one complete ``ckpt-<train_steps>/`` directory per checkpoint, each with
``model.weights.h5``, ``metadata.json`` and ``model.json``, plus a ``latest``
pointer file; in-progress and half-deleted entries have hidden ``.tmp-*``
names, and checkpoints that failed to load are moved into ``damaged/``. This module owns those names and reads checkpoints back:
`list_checkpoints`, `load_checkpoint`, `restore_latest` and
`load_model_from_checkpoint`.
"""

from __future__ import annotations

import json
import os
import re

import keras
from absl import logging

__all__ = [
    "list_checkpoints",
    "load_checkpoint",
    "load_model_from_checkpoint",
    "restore_latest",
]


_CHECKPOINT_DIR = re.compile(r"ckpt-([0-9]+)")
_WEIGHTS_FILE = "model.weights.h5"
_METADATA_FILE = "metadata.json"
_MODEL_FILE = "model.json"  # the model's Keras config and compile config: enough to rebuild it
_LATEST_FILE = "latest"
DAMAGED_DIR = "damaged"  # checkpoints that failed to load, moved aside by restore_latest
_TMP_PREFIX = ".tmp-"  # kgan.atomic_files' temporary and trash names start with it too.


def list_checkpoints(directory) -> list:
    """Complete checkpoints in ``directory``, oldest first, as ``[(train_steps, path)]``.

    Only directories named ``ckpt-<train_steps>`` count; in-progress
    and half-deleted ones (hidden ``.tmp-*`` names) are ignored.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return []
    found = []
    for entry in os.listdir(directory):
        match = _CHECKPOINT_DIR.fullmatch(entry)
        if match and os.path.isdir(os.path.join(directory, entry)):
            found.append((int(match.group(1)), os.path.join(directory, entry)))
    return sorted(found)


def _scalar(variable) -> int:
    return int(keras.ops.convert_to_numpy(variable))


def _train_steps(model) -> int:
    counter = getattr(model, "train_steps", None)
    if counter is None:  # A plain Keras model: its optimizer counts the steps.
        counter = model.optimizer.iterations
    return _scalar(counter)


def _optimizers(model) -> dict:
    """``{name: optimizer}`` of ``model``, named as in the checkpoint metadata.

    A model with ``group_optimizers`` (``{group: optimizer}``, empty before
    compile) gives ``{"<group>_optimizer": optimizer}``, e.g.
    ``generator_optimizer`` and ``discriminator_optimizer``; other models give
    whichever of their ``generator_optimizer``, ``discriminator_optimizer``
    and ``optimizer`` attributes are set.
    """
    groups = getattr(model, "group_optimizers", None)
    if groups is not None:
        return {f"{group}_optimizer": optimizer for group, optimizer in groups.items() if optimizer is not None}
    names = ("generator_optimizer", "discriminator_optimizer", "optimizer")
    return {name: getattr(model, name) for name in names if getattr(model, name, None) is not None}


def _require_built_optimizers(model):
    # Keras loads optimizer variables only into *built* optimizers and silently
    # drops them otherwise (docs/design.md, pitfalls): refuse instead.
    if not _optimizers(model) or any(not opt.built for opt in _optimizers(model).values()):
        raise RuntimeError(
            "Compile the model (which builds its optimizers) before restoring a checkpoint; "
            "otherwise the optimizers' state would be silently dropped."
        )


def _check_metadata(metadata, path) -> dict:
    """``metadata`` if it has the fields the readers use, with the right types; else ValueError."""
    if not isinstance(metadata, dict):
        raise ValueError(f"Checkpoint {path} has malformed {_METADATA_FILE}: a JSON {type(metadata).__name__}, not an object.")
    for field, required in (("train_steps", True), ("epoch", False), ("step_in_epoch", False)):
        value = metadata.get(field)
        if value is None and not required:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"Checkpoint {path} has malformed {_METADATA_FILE}: {field} is {value!r}, not a count.")
    if not isinstance(metadata.get("metrics", {}), dict):
        raise ValueError(f"Checkpoint {path} has malformed {_METADATA_FILE}: metrics is not an object.")
    return metadata


def load_checkpoint(model, path) -> dict:
    """Loads one checkpoint directory into a compiled ``model``.

    Returns:
      Its metadata (see `TrainingCheckpoint`) plus ``"path"``.

    Raises:
      RuntimeError: the model's optimizers are not built (compile it first).
      OSError, ValueError: unreadable checkpoint or metadata (of any JSON
        shape but the expected object), or one of another architecture.
    """
    _require_built_optimizers(model)
    path = os.fspath(path)
    with open(os.path.join(path, _METADATA_FILE), encoding="utf-8") as f:
        metadata = _check_metadata(json.load(f), path)
    model.load_weights(os.path.join(path, _WEIGHTS_FILE))
    restored = _train_steps(model)
    if restored != metadata["train_steps"]:
        raise ValueError(f"Checkpoint {path} is inconsistent: metadata says {metadata['train_steps']} steps, weights {restored}.")
    metadata["path"] = path
    return metadata


def load_model_from_checkpoint(path):
    """Rebuilds, compiles and restores the model of a checkpoint, with no training code.

    Args:
      path: a checkpoint (``ckpt-<steps>``), a `TrainingCheckpoint` directory
        (its newest checkpoint) or a training run directory (``checkpoints/``
        inside it).

    Returns:
      ``(model, metadata)``.

    Raises:
      ValueError: no checkpoint there, or one written before checkpoints
        recorded their model (``model.json``); the message says what to do.
    """
    path = os.fspath(path)
    if not os.path.isfile(os.path.join(path, _WEIGHTS_FILE)):
        directory = os.path.join(path, "checkpoints") if os.path.isdir(os.path.join(path, "checkpoints")) else path
        found = list_checkpoints(directory)
        if not found:
            raise ValueError(f"No checkpoint at {path!r}: expected a ckpt-<steps> directory, a checkpoints directory or a run directory.")
        path = found[-1][1]
    record = os.path.join(path, _MODEL_FILE)
    if not os.path.isfile(record):
        raise ValueError(
            f"{path} has no {_MODEL_FILE} (written by kgan since checkpoints record their model); build the model "
            "with the training code, compile it and call kgan.callbacks.restore_latest(model, directory)."
        )
    with open(record, encoding="utf-8") as f:
        recorded = json.load(f)
    model = keras.saving.deserialize_keras_object(recorded["config"])
    if recorded.get("compile_config"):
        model.compile_from_config(recorded["compile_config"])
    else:
        model.compile()
    return model, load_checkpoint(model, path)


def _model_record(model):
    """``model.json`` text for `load_model_from_checkpoint`, or None for a model Keras cannot serialise."""
    try:
        return json.dumps({"config": keras.saving.serialize_keras_object(model), "compile_config": model.get_compile_config()})
    except (TypeError, ValueError, NotImplementedError):
        return None


def restore_latest(model, directory, repair: bool = True) -> dict | None:
    """Restores the newest loadable checkpoint of ``directory`` into ``model``.

    The model must be compiled (its optimizers built), or their state would be
    dropped. Checkpoints are tried newest (most train steps) first: each
    ``ckpt-*`` directory is complete by construction, so one whose write
    finished just before a crash, before the ``latest`` pointer moved, counts
    too; an unreadable one (a truncated file, a disk error, malformed
    metadata) falls back to the previous one.

    Repair: once an older checkpoint has loaded into this model, the newer
    ones that did not are damaged (not of another architecture, which no
    checkpoint would load into): with ``repair`` they are moved aside into
    ``<directory>/damaged/`` (kept for inspection, never deleted), so that
    `TrainingCheckpoint` writes their steps anew when training reaches them
    again instead of keeping the broken files.

    Args:
      model: the compiled model, built with the same architecture.
      directory: a `TrainingCheckpoint` directory; it need not exist.
      repair: move damaged newer checkpoints aside (False: read only).

    Returns:
      The restored checkpoint's metadata (``epoch``, ``train_steps``,
      ``step_in_epoch``, ... and ``path``) plus ``"repaired"``: a list of
      ``{"checkpoint", "error", "moved_to"}`` for the checkpoints that failed
      to load (``moved_to`` None without ``repair``); or None if there is no
      checkpoint.

    Raises:
      RuntimeError: the model's optimizers are not built (compile it first).
      ValueError: checkpoints exist but none loads into this model (e.g. the
        network flags changed); the message says what to do. Nothing is moved.
    """
    directory = os.fspath(directory)
    candidates = [path for _, path in reversed(list_checkpoints(directory))]
    if not candidates:
        return None
    _require_built_optimizers(model)
    failed = []
    for path in candidates:
        try:
            metadata = load_checkpoint(model, path)
        except (OSError, ValueError, KeyError) as error:  # json.JSONDecodeError is a ValueError.
            logging.warning("Could not load checkpoint %s: %s", path, error)
            failed.append((path, f"{type(error).__name__}: {error}"))
            continue
        metadata["repaired"] = [
            {"checkpoint": bad, "error": error, "moved_to": _move_aside(bad, directory) if repair else None}
            for bad, error in failed
        ]
        return metadata
    raise ValueError(
        f"None of the {len(candidates)} checkpoints in {directory!r} loads into this model "
        f"(first error: {failed[0][0]}: {failed[0][1]}). If you changed the model's architecture, train into a new "
        "directory or start over without resuming."
    )


def _move_aside(path, directory) -> str:
    """Renames a damaged checkpoint into ``<directory>/damaged/`` (a new name if one is there already)."""
    damaged = os.path.join(directory, DAMAGED_DIR)
    os.makedirs(damaged, exist_ok=True)
    base = os.path.join(damaged, os.path.basename(path))
    target, n = base, 1
    while os.path.exists(target):
        target, n = f"{base}.{n}", n + 1
    os.rename(path, target)
    logging.warning("Moved the damaged checkpoint %s to %s; its step is checkpointed again when training reaches it.", path, target)
    return target
