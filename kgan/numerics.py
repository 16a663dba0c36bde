"""Finiteness of a model's state: which variables hold NaN or Inf (`non_finite_variables`).

One test, used wherever a non-finite state must stop: the divergence guard
(`kgan.callbacks.DivergenceGuard`), checkpoints (never written non-finite)
and exports (refused non-finite).
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["non_finite_count", "non_finite_variables"]


def non_finite_count(variable) -> int:
    """How many values of a Keras/TF variable (or array) are NaN or Inf; 0 for integer and bool ones."""
    value = np.asarray(keras.ops.convert_to_numpy(variable))
    if not (np.issubdtype(value.dtype, np.floating) or value.dtype.name == "bfloat16"):
        return 0
    return int(value.size - np.count_nonzero(np.isfinite(value.astype(np.float32, copy=False))))


def non_finite_variables(variables) -> list:
    """Paths (or names) of the floating-point variables holding a NaN or an Inf.

    Args:
      variables: a `keras.Model` (all its variables: networks, averages,
        optimizer slots) or an iterable of Keras/TF variables.

    Returns:
      ``["generator:dense/kernel", "discriminator_optimizer:adam/m_0", ...]``
      (a model's variables named by network), empty when everything is finite.
    """
    if isinstance(variables, keras.Model):
        variables = _named_model_variables(variables)
    else:
        variables = [(getattr(v, "path", None) or v.name, v) for v in variables]
    return [name for name, variable in variables if non_finite_count(variable)]


def _named_model_variables(model) -> list:
    """``[(name, variable)]`` of a model: each network's under its attribute name, then the rest, then optimizer slots."""
    named, seen = [], set()

    def add(prefix, variables):
        for variable in variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                named.append((f"{prefix}{variable.path}", variable))

    for network in getattr(model, "network_names", lambda: ())():
        add(f"{network}:", getattr(model, network).variables)
    add("", model.variables)  # Averages, pools, counters.
    for group, optimizer in getattr(model, "group_optimizers", {}).items():
        add(f"{group}_optimizer:", optimizer.variables)
    return named
