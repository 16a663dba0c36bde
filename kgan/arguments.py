"""Validators of constructor arguments that models and configs share (configs report through them too)."""

from __future__ import annotations

import math
import numbers


def is_finite_number(value) -> bool:
    """Whether ``value`` is a real number (not a bool) that is neither NaN nor infinite."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(float(value))


def check_weight(name: str, value, positive: bool = False) -> float:
    """The one validator of loss-term weights and remedy strengths: a finite real number >= 0 (> 0 if ``positive``).

    Returns:
      ``float(value)``.

    Raises:
      ValueError: a non-number, NaN, infinity or a negative (or, with ``positive``, zero) value.
    """
    if not is_finite_number(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    if float(value) < 0 or (positive and float(value) == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0 (0 disables it)'}; got {value!r}.")
    return float(value)
