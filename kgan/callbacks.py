"""Training callbacks: sample grids and crash-safe checkpoints.

* `SampleGrid` renders the generator's output for *fixed* latent vectors at
  the end of every n-th epoch (PNG, optionally TensorBoard), so the grids of
  successive epochs show the same z and progress is comparable.
* `TrainingCheckpoint` saves the complete training state (both networks, both
  optimizers with their slot variables and iteration counters, the model's
  ``train_steps``) at epoch ends and every N steps, so that a run killed at
  any moment resumes from its last checkpoint; `restore_latest` loads it.
* `QualityEvaluation` computes KID/FID (`kgan.metrics.quality`) every n
  epochs, adds it to the epoch logs and logs it to TensorBoard.
* `save_image_grid` / `save_point_plot` are the plain functions behind
  `SampleGrid`, used by the training binaries and the README as well.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

from kgan import atomic_files
from kgan.data.ranges import to_uint8

__all__ = [
    "GridCallback",
    "QualityEvaluation",
    "SampleGrid",
    "TranslationGrid",
    "TrainingCheckpoint",
    "image_grid",
    "list_checkpoints",
    "load_checkpoint",
    "load_model_from_checkpoint",
    "point_plot",
    "restore_latest",
    "save_image_grid",
    "save_point_plot",
    "tensorboard_available",
]


def tensorboard_available() -> bool:
    """Whether `tf.summary` can write (TF >= 2.16 no longer installs TensorBoard itself)."""
    return importlib.util.find_spec("tensorboard") is not None


# ---------------------------------------------------------------------- rendering

_BORDER = 2
_BORDER_VALUE = 255  # White: the datasets' backgrounds are mostly black.


def image_grid(images, rows: int | None = None, border: int = _BORDER) -> np.ndarray:
    """Tiles images into one uint8 grid image with ``border``-pixel white lines.

    Args:
      images: ``[N, H, W, C]`` float in [-1, 1] (numpy or tensor), C = 1 or 3.
        Out-of-range values are clipped.
      rows: number of grid rows; by default the grid is as square as possible
        (``ceil(sqrt(N))`` columns).
      border: width in pixels of the lines around and between the tiles.

    Returns:
      uint8 ``[rows*H + (rows+1)*border, cols*W + (cols+1)*border, C]``.
      Unused cells of the last row stay border-coloured.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"image_grid expects a non-empty [N, H, W, 1 or 3] batch; got shape {images.shape}.")
    n, height, width, channels = images.shape
    if rows is None:
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
    else:
        if rows < 1:
            raise ValueError(f"rows must be >= 1; got {rows}.")
        cols = math.ceil(n / rows)
    pixels = to_uint8(images)
    grid = np.full(
        (rows * height + (rows + 1) * border, cols * width + (cols + 1) * border, channels),
        _BORDER_VALUE,
        dtype=np.uint8,
    )
    for index in range(n):
        r, c = divmod(index, cols)
        top = border + r * (height + border)
        left = border + c * (width + border)
        grid[top : top + height, left : left + width] = pixels[index]
    return grid


def point_plot(points, extent: float = 5.0, size: int = 256) -> np.ndarray:
    """Renders 2-D points as a uint8 RGB scatter plot (numpy only, no matplotlib).

    The square ``[-extent, extent]^2`` maps to ``size x size`` pixels (y up);
    light-grey axes cross at the origin and each point is a 3x3 blue dot.
    Points outside the square are not drawn.

    Args:
      points: ``[N, 2]`` floats.
      extent: half the side of the plotted square, in data units.
      size: side of the image in pixels.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"point_plot expects points of shape [N, 2]; got {points.shape}.")
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    middle = size // 2
    image[middle, :] = image[:, middle] = (210, 210, 210)
    finite = points[np.all(np.isfinite(points), axis=1)]
    cols = np.round((finite[:, 0] + extent) / (2 * extent) * (size - 1)).astype(np.int64)
    rows = np.round((extent - finite[:, 1]) / (2 * extent) * (size - 1)).astype(np.int64)
    inside = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r = np.clip(rows[inside] + dr, 0, size - 1)
            c = np.clip(cols[inside] + dc, 0, size - 1)
            image[r, c] = (31, 119, 180)
    return image


def _is_chief(model) -> bool:
    """Whether this process writes files: under multi-worker training only the chief does."""
    strategy = getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    return strategy.extended.should_checkpoint


def _write_png(pixels: np.ndarray, path) -> str:
    """Writes a uint8 ``[H, W, 1|3]`` array as a PNG, atomically (temp file + rename)."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    image = Image.fromarray(pixels[..., 0], "L") if pixels.shape[-1] == 1 else Image.fromarray(pixels, "RGB")
    # An image viewer or a copy job polling the directory never sees half a PNG.
    with atomic_files.atomic_path(path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return path


def save_image_grid(images, path, rows: int | None = None) -> str:
    """Saves ``[N, H, W, C]`` images in [-1, 1] as one PNG grid (see `image_grid`).

    Returns:
      ``path``.
    """
    return _write_png(image_grid(images, rows), path)


def save_point_plot(points, path, extent: float = 5.0, size: int = 256) -> str:
    """Saves 2-D points ``[N, 2]`` as a PNG scatter plot (see `point_plot`); returns ``path``."""
    return _write_png(point_plot(points, extent, size), path)


# ---------------------------------------------------------------------- SampleGrid


class GridCallback(keras.callbacks.Callback):
    """Base of the picture-writing callbacks: a PNG every n epochs, optionally TensorBoard.

    Subclasses implement `render`, returning uint8 pixels ``[H, W, C]`` (or
    None to skip). Only the chief worker writes.

    Args:
      directory: where ``epoch_{epoch:04d}.png`` files go (epochs count from 1,
        as in Keras's progress bar). Created if missing.
      every_n_epochs: write after epochs n, 2n, ...
      tensorboard_dir: if set, the picture is also logged there with
        `tf.summary.image` (tag ``samples``, step = epoch). Needs the
        ``tensorboard`` package; without it a warning says so, once.
    """

    def __init__(self, directory, every_n_epochs: int = 1, tensorboard_dir=None):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1; got {every_n_epochs}.")
        self.directory = os.fspath(directory)
        self.every_n_epochs = int(every_n_epochs)
        self.tensorboard_dir = tensorboard_dir
        self._writer = None
        self._warned_tensorboard = False

    def render(self):
        """The picture for the current model: uint8 ``[H, W, C]``, or None to skip."""
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every_n_epochs == 0:
            self.write(os.path.join(self.directory, f"epoch_{completed:04d}.png"), step=completed)

    def write(self, path, step: int | None = None):
        """Renders the current model into ``path``.

        Args:
          path: PNG file to write.
          step: if given and ``tensorboard_dir`` is set, also log the picture at this step.

        Returns:
          ``path``, or None when nothing was drawn or this is not the chief worker.
        """
        if not _is_chief(self.model):
            return None
        pixels = self.render()
        if pixels is None:
            return None
        _write_png(pixels, path)
        if self.tensorboard_dir and step is not None:
            self._log_summary(pixels, step)
        return path

    def _log_summary(self, pixels, step):
        if not tensorboard_available():
            if not self._warned_tensorboard:
                logging.warning("%s: `pip install tensorboard` to log pictures to %s.", type(self).__name__, self.tensorboard_dir)
                self._warned_tensorboard = True
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.fspath(self.tensorboard_dir))
        with self._writer.as_default():
            tf.summary.image("samples", pixels[None], step=step)
        self._writer.flush()


class SampleGrid(GridCallback):
    """Writes a grid of generated samples for fixed latent vectors every n epochs.

    The latent vectors are drawn once, as ``stateless_normal([num_samples,
    latent_dim], seed=[seed, 0])`` -- the same z as ``model.generate(num_samples,
    seed)`` and the exported ``sample`` signature -- so every epoch's grid shows
    the same z and the last one matches what the SavedModel serves.

    Image models (``model.sample_shape`` of rank 3) get an image grid; models
    of 2-D points (``sample_shape == (2,)``) get a scatter plot of
    ``[-points_extent, points_extent]^2``. Other sample shapes are skipped with
    a warning.

    Class-conditional models (a ``num_classes`` attribute, e.g.
    `kgan.ConditionalGAN`) get one row per class: K rows of
    ``max(1, num_samples // K)`` samples, row k drawn with label k, i.e.
    ``labels = repeat(range(K), columns)`` with z as above for that many
    samples -- what ``model.generate(labels=labels, seed=seed)`` and the
    exported ``sample(labels, seed)`` give.

    Args:
      directory: where ``epoch_{epoch:04d}.png`` files go (epochs count from 1,
        as in Keras's progress bar). Created if missing.
      num_samples: number of samples in each grid.
      seed: seed of the fixed latent vectors.
      every_n_epochs: write after epochs n, 2n, ...
      tensorboard_dir: if set, the grid is also logged there with
        `tf.summary.image` (tag ``samples``, step = epoch). Needs the
        ``tensorboard`` package; without it a warning says so, once.
      points_extent: half-width of the scatter plot of point models.

    Attributes:
      latent_vectors: the fixed z, float32 numpy ``[num_samples, latent_dim]``,
        drawn at the start of training (or by `write`).
      labels: for class-conditional models, the int32 label of each sample
        (class-major: row k holds class k); None otherwise.
    """

    def __init__(
        self,
        directory,
        num_samples: int = 64,
        seed: int = 0,
        every_n_epochs: int = 1,
        tensorboard_dir=None,
        points_extent: float = 5.0,
    ):
        super().__init__(directory, every_n_epochs, tensorboard_dir)
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1; got {num_samples}.")
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.points_extent = float(points_extent)
        self.latent_vectors = None
        self.labels = None
        self._warned = False

    def _latent(self):
        if self.latent_vectors is None:
            latent_dim = getattr(self.model, "latent_dim", None)
            if latent_dim is None:
                raise TypeError(
                    f"SampleGrid needs a model with a latent_dim (an unconditional generator); "
                    f"{type(self.model).__name__} has none."
                )
            count = self.num_samples
            num_classes = getattr(self.model, "num_classes", None)
            if num_classes:
                columns = max(1, self.num_samples // int(num_classes))
                self.labels = np.repeat(np.arange(int(num_classes), dtype=np.int32), columns)
                count = len(self.labels)
            z = tf.random.stateless_normal([count, int(latent_dim)], seed=[self.seed, 0])
            self.latent_vectors = z.numpy()
        return self.latent_vectors

    def _model_inputs(self):
        """``(inputs, rows)``: z, or ``[z, labels]`` with one grid row per class."""
        z = self._latent()
        if self.labels is None:
            return z, None
        return [z, self.labels], int(self.model.num_classes)

    def on_train_begin(self, logs=None):
        self._latent()

    def render(self):
        """The grid (or scatter plot) of the fixed latent vectors under the current generator."""
        shape = tuple(self.model.sample_shape)
        inputs, rows = self._model_inputs()
        samples = np.asarray(self.model(inputs, training=False))
        if len(shape) == 3:
            return image_grid(samples, rows=rows)
        if shape == (2,):
            return point_plot(samples, self.points_extent)
        if not self._warned:
            logging.warning("SampleGrid: no picture for samples of shape %s; only images and 2-D points are drawn.", shape)
            self._warned = True
        return None


class TranslationGrid(GridCallback):
    """Shows what an image-to-image model does to fixed input images, every n epochs.

    The model's ``preview_rows(inputs)`` returns a list of image batches, one
    grid row each (`kgan.CycleGAN`: x, G(x), F(G(x)), y, F(y), G(F(y)));
    grayscale rows are shown in RGB when other rows are in colour.

    Args:
      directory, every_n_epochs, tensorboard_dir: see `GridCallback`.
      inputs: fixed model inputs (e.g. ``(images_x, images_y)`` of a few test
        images), taken once so every epoch's picture shows the same images.
    """

    def __init__(self, directory, inputs, every_n_epochs: int = 1, tensorboard_dir=None):
        super().__init__(directory, every_n_epochs, tensorboard_dir)
        self.inputs = inputs

    def render(self):
        rows = [np.asarray(row, np.float32) for row in self.model.preview_rows(self.inputs)]
        if any(row.shape[-1] == 3 for row in rows):
            rows = [np.repeat(row, 3, axis=-1) if row.shape[-1] == 1 else row for row in rows]
        return image_grid(np.concatenate(rows, axis=0), rows=len(rows))


# ---------------------------------------------------------------------- checkpoints

_CHECKPOINT_DIR = re.compile(r"ckpt-([0-9]+)")
_WEIGHTS_FILE = "model.weights.h5"
_METADATA_FILE = "metadata.json"
_MODEL_FILE = "model.json"  # the model's Keras config and compile config: enough to rebuild it
_LATEST_FILE = "latest"
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
    names = ("generator_optimizer", "discriminator_optimizer", "optimizer")
    return {name: getattr(model, name) for name in names if getattr(model, name, None) is not None}


def _require_built_optimizers(model):
    # Keras loads optimizer variables only into *built* optimizers and silently
    # drops them otherwise (DESIGN.md, pitfalls): refuse instead.
    if not _optimizers(model) or any(not opt.built for opt in _optimizers(model).values()):
        raise RuntimeError(
            "Compile the model (which builds its optimizers) before restoring a checkpoint; "
            "otherwise the optimizers' state would be silently dropped."
        )


def load_checkpoint(model, path) -> dict:
    """Loads one checkpoint directory into a compiled ``model``.

    Returns:
      Its metadata (see `TrainingCheckpoint`) plus ``"path"``.

    Raises:
      RuntimeError: the model's optimizers are not built (compile it first).
      OSError, ValueError: unreadable checkpoint, or one of another architecture.
    """
    _require_built_optimizers(model)
    path = os.fspath(path)
    with open(os.path.join(path, _METADATA_FILE), encoding="utf-8") as f:
        metadata = json.load(f)
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


def restore_latest(model, directory) -> dict | None:
    """Restores the newest loadable checkpoint of ``directory`` into ``model``.

    The model must be compiled (its optimizers built), or their state would be
    dropped. Checkpoints are tried newest (most train steps) first: each
    ``ckpt-*`` directory is complete by construction, so one whose write
    finished just before a crash, before the ``latest`` pointer moved, counts
    too; an unreadable one (e.g. a disk error) falls back to the previous one.

    Args:
      model: the compiled model, built with the same architecture.
      directory: a `TrainingCheckpoint` directory; it need not exist.

    Returns:
      The restored checkpoint's metadata (``epoch``, ``train_steps``,
      ``step_in_epoch``, ... and ``path``), or None if there is no checkpoint.

    Raises:
      RuntimeError: the model's optimizers are not built (compile it first).
      ValueError: checkpoints exist but none loads into this model (e.g. the
        network flags changed); the message says what to do.
    """
    directory = os.fspath(directory)
    candidates = [path for _, path in reversed(list_checkpoints(directory))]
    if not candidates:
        return None
    _require_built_optimizers(model)
    errors = []
    for path in candidates:
        try:
            return load_checkpoint(model, path)
        except (OSError, ValueError, KeyError) as error:  # json.JSONDecodeError is a ValueError.
            logging.warning("Could not load checkpoint %s: %s", path, error)
            errors.append(f"{path}: {error}")
    raise ValueError(
        f"None of the {len(candidates)} checkpoints in {directory!r} loads into this model "
        f"(first error: {errors[0]}). If you changed the model's architecture, train into a new "
        "directory or start over without resuming."
    )


class TrainingCheckpoint(keras.callbacks.Callback):
    """Crash-safe checkpoints at every epoch end and every N training steps.

    Each checkpoint is a directory ``ckpt-<train_steps>/`` holding
    ``model.weights.h5`` (`keras.Model.save_weights`: both networks, both
    optimizers' variables -- iterations, learning rate, Adam moments -- and the
    model's ``train_steps`` counter; the Mean metric trackers are *not* in it)
    ``model.json`` (the model's Keras config and compile config, so
    `load_model_from_checkpoint` can rebuild it without the training code)
    and ``metadata.json``::

        {"epoch": completed epochs, "train_steps": T, "step_in_epoch": s,
         "steps_per_epoch": E or null, "optimizer_iterations": {...},
         "metrics": {tracker name: [its state values]}, "time": unix time}

    The tracker states let a run resumed mid-epoch (see ``resume_metadata``)
    log epoch means over the whole epoch, not only the part after the crash.

    Crash safety: a checkpoint is written into a temporary ``.tmp-*``
    directory, flushed to disk, and renamed to its final name (a directory
    rename is atomic), then the ``latest`` pointer file is replaced atomically
    the same way. Old checkpoints are renamed away before they are deleted. So
    a SIGKILL at any instant leaves every ``ckpt-*`` directory complete and
    loadable, and `restore_latest` finds the newest. ``latest`` names the
    newest checkpoint once it is on disk, for tools that poll for new
    checkpoints (e.g. an evaluation job). One writer per directory.

    Why not `keras.callbacks.BackupAndRestore`: it overwrites
    ``latest.weights.h5`` and ``training_metadata.json`` in place, so a kill
    during the write leaves a truncated file (``double_checkpoint`` keeps a
    ``.bkp`` copy, but the weights and metadata are still written separately
    and can disagree); it keeps one checkpoint (two with the backup); on
    restore it uses only the epoch number, so a mid-epoch checkpoint restarts
    its epoch from the beginning, repeating steps (the step counter then
    overshoots epochs * steps_per_epoch); it deletes its backup when training
    ends, so the final state cannot be resumed or extended; and it only builds
    ``model.optimizer``, not the two optimizers of an adversarial model.

    Args:
      directory: where checkpoints go; created if missing.
      save_every_n_steps: also save whenever ``train_steps`` reaches a multiple
        of this (None: epoch ends only). A step that ends an epoch is saved
        once, by the epoch end.
      keep: number of newest checkpoints to keep (>= 1).
      steps_per_epoch: if given, ``epoch`` and ``step_in_epoch`` are computed
        from ``train_steps`` (exact across resumed runs whose `fit` covers a
        partial epoch); otherwise from Keras's epoch and batch indexes.
      resume_metadata: metadata returned by `restore_latest` for this run.
        If it ends mid-epoch, the trackers of the first epoch begun continue
        from the saved state (so the epoch's logged means cover all of it).
    """

    def __init__(self, directory, save_every_n_steps=None, keep: int = 2, steps_per_epoch=None, resume_metadata=None):
        super().__init__()
        if save_every_n_steps is not None and save_every_n_steps < 1:
            raise ValueError(f"save_every_n_steps must be >= 1 or None; got {save_every_n_steps}.")
        if keep < 1:
            raise ValueError(f"keep must be >= 1; got {keep}.")
        if steps_per_epoch is not None and steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1 or None; got {steps_per_epoch}.")
        self.directory = os.fspath(directory)
        self.save_every_n_steps = save_every_n_steps
        self.keep = int(keep)
        self.steps_per_epoch = steps_per_epoch
        self._pending_metrics = None
        self._step_offset = 0  # Steps of the current epoch done before this fit (resume).
        if resume_metadata and resume_metadata.get("step_in_epoch"):
            self._pending_metrics = resume_metadata.get("metrics")
            self._step_offset = int(resume_metadata["step_in_epoch"])
        self._epoch = 0
        self._last_saved_step = None

    # -------------------------------------------------------------- Keras hooks

    def on_train_begin(self, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        # Leftovers of a process killed while writing or deleting a checkpoint.
        for entry in os.listdir(self.directory):
            if entry.startswith(_TMP_PREFIX):
                path = os.path.join(self.directory, entry)
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
        if self._last_saved_step is None:
            self._last_saved_step = _train_steps(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._pending_metrics is not None:
            # Keras has just reset the trackers for this epoch: put back the
            # state of the part of the epoch that ran before the crash.
            self._restore_metric_states(self._pending_metrics)
            self._pending_metrics = None

    def on_train_batch_end(self, batch, logs=None):
        n = self.save_every_n_steps
        if not n:
            return
        step = _train_steps(self.model)
        if step // n <= self._last_saved_step // n:
            return
        steps = self.params.get("steps") if self.params else None
        if steps is not None and batch + 1 >= steps:
            return  # The epoch end saves this step, with the epoch counted as complete.
        self.save(epoch=self._epoch, step_in_epoch=self._step_offset + batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch=epoch + 1, step_in_epoch=0)
        self._step_offset = 0

    # -------------------------------------------------------------- saving

    def _metric_states(self):
        return {
            metric.name: [np.asarray(keras.ops.convert_to_numpy(v)).tolist() for v in metric.variables]
            for metric in self.model.metrics
        }

    def _restore_metric_states(self, states):
        for metric in self.model.metrics:
            values = states.get(metric.name)
            if values is not None and len(values) == len(metric.variables):
                for variable, value in zip(metric.variables, values):
                    variable.assign(np.asarray(value, dtype=variable.dtype))

    def save(self, epoch: int, step_in_epoch: int) -> str:
        """Writes a checkpoint of the current state now; returns its directory.

        Only the chief writes under multi-worker training (others return None).

        If a checkpoint of the current train step exists, only its metadata is
        refreshed (the training state of one step is the same).

        Args:
          epoch: completed epochs (used when ``steps_per_epoch`` is not set).
          step_in_epoch: steps done in the current epoch (likewise).
        """
        if not _is_chief(self.model):
            return None
        step = _train_steps(self.model)
        if self.steps_per_epoch:
            epoch, step_in_epoch = divmod(step, self.steps_per_epoch)
        metadata = {
            "epoch": int(epoch),
            "train_steps": step,
            "step_in_epoch": int(step_in_epoch),
            "steps_per_epoch": self.steps_per_epoch,
            "optimizer_iterations": {name: _scalar(opt.iterations) for name, opt in _optimizers(self.model).items()},
            "metrics": self._metric_states(),
            "time": time.time(),
        }
        os.makedirs(self.directory, exist_ok=True)
        name = f"ckpt-{step:010d}"
        final = os.path.join(self.directory, name)
        if os.path.isdir(final):
            # The state of a step is already on disk (e.g. a batch-level save of
            # an epoch's last step, then the epoch end): refresh its metadata
            # only. Replacing the whole directory would leave a moment with no
            # checkpoint of this step.
            atomic_files.write_text(os.path.join(final, _METADATA_FILE), json.dumps(metadata, indent=1))
        else:
            tmp = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.directory)
            try:
                self.model.save_weights(os.path.join(tmp, _WEIGHTS_FILE))
                atomic_files.fsync_path(os.path.join(tmp, _WEIGHTS_FILE))
                atomic_files.write_text(os.path.join(tmp, _METADATA_FILE), json.dumps(metadata, indent=1))
                record = _model_record(self.model)
                if record is not None:
                    atomic_files.write_text(os.path.join(tmp, _MODEL_FILE), record)
                os.rename(tmp, final)  # Atomic: the checkpoint appears complete or not at all.
            finally:
                if os.path.exists(tmp):
                    shutil.rmtree(tmp, ignore_errors=True)
            atomic_files.fsync_path(self.directory)
        atomic_files.write_text(os.path.join(self.directory, _LATEST_FILE), name + "\n")
        self._last_saved_step = step
        self._prune()
        return final

    def _prune(self):
        for _, path in list_checkpoints(self.directory)[: -self.keep]:
            atomic_files.remove_tree(path)


# ---------------------------------------------------------------------- QualityEvaluation


class QualityEvaluation(keras.callbacks.Callback):
    """Evaluates sample quality every n epochs during `fit` (`kgan.metrics.quality.evaluate_generator`).

    The default is cheap enough to run often on a CPU: KID (Bińkowski et al.
    2018, unbiased, so a small sample does not shift it) on 2,000 samples in
    the 128-d features of kgan's evaluation classifier. ``features="inception"``
    and ``metrics=("fid", "kid")`` give the standard numbers, ~10x slower.

    Each value is added to the epoch's ``logs`` (key ``"quality/<metric>"``,
    e.g. ``quality/kid``; callbacks after this one, such as CSVLogger or
    EarlyStopping, see it) and, with ``tensorboard_dir``, written there with
    `tf.summary.scalar` at step = epoch. Only the chief worker evaluates.

    Args:
      dataset, split, num_real: the reference images.
      every_n_epochs: evaluate after epochs n, 2n, ...
      num_samples: generated images per evaluation (seed fixed, so successive
        evaluations see the same latent vectors).
      features: ``"classifier"``, ``"inception"`` or a
        `kgan.metrics.features.FeatureExtractor`.
      metrics: subset of `kgan.metrics.quality.METRICS`.
      tensorboard_dir: where the scalars go (e.g. ``<run>/logs/quality``).
      **kwargs: passed on to `evaluate_generator` (``cache_dir``, ``data_dir``,
        ``kid_subsets``, ...).
    """

    def __init__(self, dataset="fashion_mnist", split="test", every_n_epochs=1, num_samples=2000, num_real=2000,
                 features="classifier", metrics=("kid",), tensorboard_dir=None, **kwargs):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1; got {every_n_epochs}.")
        from kgan.metrics.quality import METRICS

        unknown = sorted(set(metrics) - set(METRICS))
        if unknown:
            raise ValueError(f"Unknown metrics {unknown}; choose from {METRICS}.")
        self.dataset, self.split, self.every_n_epochs = dataset, split, int(every_n_epochs)
        self.num_samples, self.num_real, self.features, self.metrics = num_samples, num_real, features, tuple(metrics)
        self.tensorboard_dir, self.kwargs = tensorboard_dir, kwargs
        self.history = []
        self._writer = None

    def on_train_begin(self, logs=None):
        if isinstance(self.features, str):
            from kgan.metrics.features import feature_extractor

            # Built once: the feature network (and the cached real features) serve every evaluation.
            self.features = feature_extractor(self.features, cache_dir=self.kwargs.get("cache_dir"))

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every_n_epochs or not _is_chief(self.model):
            return
        from kgan.metrics.quality import REPORT_VALUES, evaluate_generator

        report = evaluate_generator(
            self.model, self.dataset, self.split, num_samples=self.num_samples, num_real=self.num_real,
            features=self.features, metrics=self.metrics, **self.kwargs,
        )
        values = {k: float(v) for k, v in report.items() if k in REPORT_VALUES}
        self.history.append({"epoch": completed, **values})
        if logs is not None:
            logs.update({f"quality/{k}": v for k, v in values.items()})
        if self.tensorboard_dir and tensorboard_available():
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(os.fspath(self.tensorboard_dir))
            with self._writer.as_default():
                for key, value in values.items():
                    tf.summary.scalar(f"quality/{key}", value, step=completed)
            self._writer.flush()
        logging.info("Epoch %d quality: %s", completed, ", ".join(f"{k} {v:.4g}" for k, v in values.items()))

