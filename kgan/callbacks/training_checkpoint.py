"""The `TrainingCheckpoint` callback: crash-safe checkpoints of the complete training state.

It writes the directory format of `kgan.saving.checkpoint_format`, which
also reads it back (`restore_latest`, `load_model_from_checkpoint`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import keras
import numpy as np

from kgan import atomic_files
from absl import logging

from kgan.callbacks._chief import _is_chief
from kgan.numerics import non_finite_variables
from kgan.saving.checkpoint_format import (
    _LATEST_FILE,
    _METADATA_FILE,
    _MODEL_FILE,
    _TMP_PREFIX,
    _WEIGHTS_FILE,
    _model_record,
    _optimizers,
    _scalar,
    _train_steps,
    list_checkpoints,
)

__all__ = ["TrainingCheckpoint"]


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
        self._epoch = 0
        self._last_saved_step = None
        #: ``[{"train_steps", "variables"}]``: saves refused because the state was not finite.
        self.refused = []
        if resume_metadata:
            self.resume_from(resume_metadata)

    def resume_from(self, metadata: dict) -> None:
        """Continues from a restored checkpoint's metadata (a resume, or a rollback after divergence).

        If it ends mid-epoch, the trackers of the next epoch begun continue
        from its saved state; the next save is due counting from its step.
        """
        self._pending_metrics, self._step_offset = None, 0
        if metadata.get("step_in_epoch"):
            self._pending_metrics = metadata.get("metrics")
            self._step_offset = int(metadata["step_in_epoch"])
        if self._last_saved_step is not None:
            self._last_saved_step = int(metadata["train_steps"])

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

    def save(self, epoch: int, step_in_epoch: int) -> str | None:
        """Writes a checkpoint of the current state now; returns its directory (None if not written).

        Only the chief writes under multi-worker training (others return None).

        If a checkpoint of the current train step exists, only its metadata is
        refreshed (the training state of one step is the same). A state with
        a NaN or Inf anywhere (weights, averages, optimizer slots) is not
        written (it is logged and listed in `refused`), so the newest
        checkpoint on disk is always the last finite state and retention
        never prunes it in favour of a diverged one.

        Args:
          epoch: completed epochs (used when ``steps_per_epoch`` is not set).
          step_in_epoch: steps done in the current epoch (likewise).
        """
        if not _is_chief(self.model):
            return None
        step = _train_steps(self.model)
        broken = non_finite_variables(self.model)
        if broken:
            logging.warning("Not checkpointing train step %d: %d variable(s) are not finite (%s).", step, len(broken), broken[0])
            self.refused.append({"train_steps": step, "variables": broken})
            return None
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
