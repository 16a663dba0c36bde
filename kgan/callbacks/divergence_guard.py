"""The `DivergenceGuard` callback: training stops at the first non-finite loss or weight.

A learning rate of inf, an exploding critic or a NaN that slipped through
turns every later step into NaN; Keras's `TerminateOnNaN` stops on a NaN
*loss* only and says nothing about which. This guard watches every step's
logged losses and, when one is non-finite or at an epoch end, the weights
(`kgan.numerics.non_finite_variables`), stops `fit` and records what diverged
where; `kgan.models.AdversarialModel.fit` then raises `DivergenceError`. It
runs first among the callbacks, and `kgan.callbacks.TrainingCheckpoint`
refuses to write a non-finite state, so the last checkpoint stays finite.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from kgan.numerics import non_finite_variables

__all__ = ["DivergenceError", "DivergenceGuard"]


class DivergenceError(RuntimeError):
    """Training diverged (a non-finite loss or weight); the message says at which step and what.

    Attributes:
      step: the model's ``train_steps`` when it was noticed.
      losses: ``{name: value}`` of the non-finite logged losses.
      variables: paths of the non-finite variables (may be empty when only a loss was).
    """

    def __init__(self, message, step=None, losses=None, variables=None):
        super().__init__(message)
        self.step, self.losses, self.variables = step, dict(losses or {}), list(variables or [])


class DivergenceGuard(keras.callbacks.Callback):
    """Stops `fit` when a logged loss or a weight becomes NaN or Inf.

    Under ``mixed_float16`` a non-finite *loss* with finite weights is a step
    the loss scaling skipped (the overflow it exists for), not divergence:
    only non-finite weights count there.

    Attributes:
      diverged: None, or the `DivergenceError` to raise (`raise_if_diverged`).
    """

    def __init__(self):
        super().__init__()
        self.diverged = None

    def on_train_begin(self, logs=None):
        self.diverged = None

    def on_train_batch_end(self, batch, logs=None):
        losses = {name: _scalar(value) for name, value in (logs or {}).items()}
        losses = {name: value for name, value in losses.items() if value is not None}
        bad = {name: value for name, value in losses.items() if not math.isfinite(value)}
        if bad:
            self._check(bad)

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged is None:
            self._check({})

    def _check(self, bad_losses):
        variables = non_finite_variables(self.model)
        float16 = self.model.dtype_policy.name == "mixed_float16"
        if not variables and (not bad_losses or float16):
            return
        step = int(keras.ops.convert_to_numpy(self.model.train_steps)) if hasattr(self.model, "train_steps") else None
        what = []
        if bad_losses:
            what.append(", ".join(f"{name} is {value}" for name, value in sorted(bad_losses.items())))
        if variables:
            shown = ", ".join(variables[:3]) + (f" and {len(variables) - 3} more" if len(variables) > 3 else "")
            what.append(f"non-finite weights in {shown}")
        self.diverged = DivergenceError(
            f"Training diverged by train step {step}: {'; '.join(what)}. Lower the learning rates (or the loss "
            "weights), or check the data; no checkpoint holds this state.",
            step=step, losses=bad_losses, variables=variables,
        )
        self.model.stop_training = True

    def raise_if_diverged(self):
        """Raises the recorded `DivergenceError`, if training diverged."""
        if self.diverged is not None:
            raise self.diverged


def _scalar(value):
    """A one-element log value as a float; None for anything else (Keras logs may hold [1]-vectors)."""
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array.reshape(-1)[0]) if array.size == 1 else None
