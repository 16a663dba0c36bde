"""Choosing a `tf.distribute` strategy and a Keras dtype policy by name (the binaries' flags).

kgan models need nothing special beyond what Keras asks: build and compile
them inside ``strategy.scope()``; set the dtype policy before building the
networks. These helpers turn the flag values into those objects.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
# CPU features with native bfloat16 arithmetic (Intel AVX512-BF16 / AMX, Arm BF16).
_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """The strategy called ``name``.

    Args:
      name: ``"default"`` (the current/default strategy: one device),
        ``"mirrored"`` (`tf.distribute.MirroredStrategy` over all local GPUs,
        or the CPU), ``"multi_worker"`` (`MultiWorkerMirroredStrategy`; the
        cluster comes from the ``TF_CONFIG`` environment variable).

    Raises:
      ValueError: unknown name, or ``multi_worker`` without a usable TF_CONFIG.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        try:
            config = json.loads(os.environ.get("TF_CONFIG", ""))
            usable = bool(config["cluster"]["worker"]) and "index" in config["task"]
        except (ValueError, KeyError, TypeError):
            usable = False
        if not usable:
            raise ValueError(
                "--strategy=multi_worker needs TF_CONFIG, e.g. "
                '\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\''
                " (the same cluster on every worker, each with its own index; worker 0 is the chief)."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


def native_bfloat16() -> bool:
    """Whether this machine computes bfloat16 natively (a GPU of compute capability >= 8, a TPU, or a BF16 CPU)."""
    if tf.config.list_logical_devices("TPU"):
        return True
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        if capability and capability[0] >= 8:
            return True
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = set(f.read().split())
    except OSError:
        return False
    return any(flag in flags for flag in _BF16_CPU_FLAGS)


def resolve_precision(name: str = "float32") -> str:
    """The Keras dtype policy name for a ``--mixed_precision`` value (``auto`` resolved)."""
    if name not in PRECISIONS:
        raise ValueError(f"Unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}.")
    if name == "auto":
        return "mixed_bfloat16" if native_bfloat16() else "float32"
    return name


def set_precision(name: str = "float32") -> str:
    """Sets Keras' global dtype policy (before the networks are built); returns the policy name."""
    policy = resolve_precision(name)
    keras.mixed_precision.set_global_policy(policy)
    return policy
