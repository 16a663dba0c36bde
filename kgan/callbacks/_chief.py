"""Which process of a (multi-worker) training run writes files: `_is_chief`."""

from __future__ import annotations

import tensorflow as tf


def _is_chief(model) -> bool:
    """Whether this process writes files: under multi-worker training only the chief does."""
    strategy = getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    return strategy.extended.should_checkpoint
