"""Checks of every training batch's values inside the train step: finiteness, range, label bounds.

`kgan.data.validation` checks the *first* batch in Python, before `fit`
starts (shapes, dtypes, values). A bad example further into the data (one NaN
image at index 300, a [0, 255] shard, a label out of range) would otherwise
train: every loss turns NaN and the checkpoints fill with a broken model. So
each train (and test) step also checks the values of its batch in the graph:

* a model lists what its batch holds as `ValueCheck`s
  (``AdversarialModel.batch_value_checks``): ``images`` in [-1, 1],
  ``samples`` that must be finite, integer ``labels`` in [0, K), ``binary``
  attributes in {0, 1};
* `assert_batch_values` fuses them into one boolean (an elementwise compare
  and a reduction per tensor: NaN and Inf fail every compare, so range checks
  need no separate finiteness pass) and only when it is false computes the
  details and fails the step with `BadBatchError`'s message, which names the
  train step.

The check is cheap next to a convolution (bench/throughput.py measures it:
``--batch_checks=off`` is the comparison). Messages match the first-batch
check's (`kgan.data.validation`), plus the step.
"""

from __future__ import annotations

import dataclasses
import re

import tensorflow as tf

from kgan.data.validation import RANGE_TOLERANCE

__all__ = ["BadBatchError", "ValueCheck", "assert_batch_values", "bad_batch_error"]

# Brackets the message inside TensorFlow's "assertion failed: [...]" text, so
# `bad_batch_error` can take it out again.
_START, _END = "<<kgan-batch:", ":kgan-batch>>"
_KINDS = ("images", "samples", "labels", "binary")


class BadBatchError(ValueError):
    """A training or evaluation batch holds values the model cannot train on; the message names the step."""


@dataclasses.dataclass(frozen=True)
class ValueCheck:
    """What one tensor of a batch must hold.

    Attributes:
      name: what to call it in messages (``"images"``, ``"labels"``).
      values: the tensor.
      kind: ``"images"`` (floats in [-1, 1], `RANGE_TOLERANCE` allowed),
        ``"samples"`` (finite floats), ``"labels"`` (integers in
        ``[0, num_classes)``) or ``"binary"`` (0/1 attributes).
      num_classes: K, for ``"labels"``.
    """

    name: str
    values: object
    kind: str
    num_classes: int | None = None

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"ValueCheck kind must be one of {_KINDS}; got {self.kind!r}.")
        if self.kind == "labels" and not self.num_classes:
            raise ValueError("A 'labels' ValueCheck needs num_classes.")

    def holds(self):
        """A scalar bool tensor: whether every value is acceptable."""
        if self.kind == "labels":
            labels = tf.cast(self.values, tf.int64)
            return tf.reduce_all((labels >= 0) & (labels < self.num_classes))
        values = tf.cast(self.values, tf.float32)
        if self.kind == "images":
            bound = 1.0 + RANGE_TOLERANCE
            return tf.reduce_all((values >= -bound) & (values <= bound))  # False for NaN and Inf too.
        if self.kind == "binary":
            return tf.reduce_all((values == 0.0) | (values == 1.0))
        return tf.reduce_all(tf.math.is_finite(values))

    def problem(self):
        """A scalar string tensor describing what is wrong ("" if nothing); only run when `holds` is false."""
        if self.kind == "labels":
            labels = tf.cast(self.values, tf.int64)
            return tf.strings.join([
                f"{self.name} must be integer class indices in [0, {self.num_classes}); got values in [",
                tf.strings.as_string(tf.reduce_min(labels)), ", ", tf.strings.as_string(tf.reduce_max(labels)), "]. ",
                "Check the label mapping of the data (or build the model with more classes).",
            ])
        values = tf.cast(tf.reshape(self.values, [-1]), tf.float32)
        finite = tf.math.is_finite(values)
        bad = tf.reduce_sum(tf.cast(~finite, tf.int64))
        non_finite = tf.strings.join([
            f"{self.name} contain NaN or Inf values (", tf.strings.as_string(bad), " of ",
            tf.strings.as_string(tf.size(values, out_type=tf.int64)), "); check the data pipeline.",
        ])
        if self.kind == "samples":
            return non_finite
        if self.kind == "binary":
            return tf.strings.join([
                f"{self.name} must be 0/1 (multi-hot, e.g. CelebA's -1/1 attributes mapped with (a + 1) / 2); got a value of ",
                tf.strings.as_string(values[tf.argmax(tf.cast((values != 0.0) & (values != 1.0), tf.int32))]), ".",
            ])
        lo, hi = tf.reduce_min(values), tf.reduce_max(values)
        pixels = (lo >= 0.0) & (hi <= 255.0) & (hi > 1.0 + RANGE_TOLERANCE)
        out_of_range = tf.strings.join([
            f"{self.name} must be in [-1, 1], but values span [", tf.strings.as_string(lo, precision=4), ", ",
            tf.strings.as_string(hi, precision=4), "]. ",
            tf.where(
                pixels,
                "They look like [0, 255] pixels: scale with x / 127.5 - 1 (kgan.data.to_model_range).",
                "Rescale them to [-1, 1] (for [0, 1] data use x * 2 - 1; for [0, 255] pixels, x / 127.5 - 1).",
            ),
        ])
        return tf.where(bad > 0, non_finite, out_of_range)


def assert_batch_values(checks, step, what: str = "train"):
    """Fails the running step with a `BadBatchError` message unless every check holds.

    Args:
      checks: `ValueCheck`s of one batch.
      step: the step counter (int64 scalar tensor) named in the message.
      what: ``"train"`` or ``"evaluation"``: which counter ``step`` is.

    Returns:
      A scalar bool tensor that is true once the checks passed; make the
      step's work depend on it (`tf.control_dependencies`) so that nothing
      is updated from a bad batch.
    """
    checks = list(checks)
    if not checks:
        return tf.constant(True)
    holds = tf.reduce_all(tf.stack([check.holds() for check in checks]))

    def fail():
        problems = tf.strings.reduce_join(
            tf.boolean_mask(tf.stack([check.problem() for check in checks]), ~tf.stack([check.holds() for check in checks])),
            separator=" ",
        )
        message = tf.strings.join([
            _START, f"The batch of {what} step ", tf.strings.as_string(step), " (0 = the first step): ", problems, _END,
        ])
        with tf.control_dependencies([tf.debugging.Assert(False, [message])]):
            return tf.constant(False)

    return tf.cond(holds, lambda: tf.constant(True), fail)


def bad_batch_error(error) -> BadBatchError | None:
    """The `BadBatchError` carried by a TensorFlow error raised from `assert_batch_values`, else None."""
    found = re.search(re.escape(_START) + "(.*?)" + re.escape(_END), str(error), re.DOTALL)
    return BadBatchError(found.group(1)) if found else None
