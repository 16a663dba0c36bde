"""Config checks refuse non-finite and out-of-range hyperparameters before any training (issue 23).

``--generator_learning_rate=inf`` once trained and exported a generator of
all-zero images. Every float field of every config class must now be finite
(one generic rule, so a new field is covered without new code), and the
fields with a meaningful range (learning rates, betas, fractions, weights)
are checked against it.
"""

import dataclasses
import math
import os
import subprocess
import sys
import time
import typing

import pytest

from kgan import configs, registry
from kgan.configs.base import TrainingConfig

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_classes():
    """Every config class kgan exports or registers, so a new model's config is covered too."""
    found = {c for c in vars(configs).values() if isinstance(c, type) and issubclass(c, TrainingConfig)}
    found |= {registry.get(name).config_class for name in registry.names()} - {None}
    return sorted(found, key=lambda c: c.__name__)


def float_fields(cls):
    """Names of the fields annotated ``float`` or ``Optional[float]``."""
    hints = typing.get_type_hints(cls)
    return [f.name for f in dataclasses.fields(cls) if hints[f.name] in (float, typing.Optional[float])]


CLASSES = config_classes()
BAD_RATES = [float("inf"), float("nan"), -1e-4, 0.0]


def problems_about(config, name):
    """The problems of ``config`` that are about ``--name``."""
    return [p for p in config.problems() if p.startswith(f"--{name} ")]


def test_the_defaults_pass_so_every_refusal_below_is_the_value_under_test():
    assert len(CLASSES) >= 5
    for cls in CLASSES:
        assert cls().problems() == [], cls.__name__


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", BAD_RATES, ids=repr)
def test_learning_rates_must_be_finite_and_positive(cls, value):
    rates = [name for name in float_fields(cls) if name.endswith("_learning_rate")]
    assert {"generator_learning_rate", "discriminator_learning_rate"} <= set(rates)
    for name in rates:
        config = dataclasses.replace(cls(), **{name: value})
        assert len(problems_about(config, name)) == 1, (name, config.problems())
    with pytest.raises(ValueError, match="--generator_learning_rate"):
        dataclasses.replace(cls(), generator_learning_rate=value).check()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_float_field_refuses_nan_and_infinity(cls):
    names = float_fields(cls)
    assert "beta_1" in names and "learning_rate_decay_start" in names  # Optional[float] fields count.
    for name in names:
        for value in (float("nan"), float("inf"), float("-inf")):
            found = problems_about(dataclasses.replace(cls(), **{name: value}), name)
            assert found, f"{cls.__name__}.{name}={value} was accepted"
            assert "finite" in found[0], found
        # A NaN is one problem, not "not finite" plus "out of range".
        assert len(problems_about(dataclasses.replace(cls(), **{name: float("nan")}), name)) == 1, name
        assert problems_about(dataclasses.replace(cls(), **{name: "0.1"}), name), f"{name} accepted a string"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_ranges_of_betas_fractions_and_weights(cls):
    out_of_range = {
        "beta_1": [1.0, -0.1],
        "beta_2": [1.0, 1.5, -0.5],
        "learning_rate_decay_start": [1.0, -0.5],
        "learning_rate_final_fraction": [1.5, -0.1],
        "generator_ema": [1.0, -0.5],
        "historical_averaging": [-1.0],
        "max_train_minutes": [0.0, -1.0],
        # Every weight, penalty and remedy strength of the subclasses.
        "label_smoothing": [1.0, -0.1],
        "feature_matching": [-1.0],
        "consensus": [-1.0],
        "r1_penalty": [-1.0],
        "gradient_penalty_weight": [-1.0],
        "target_norm": [0.0, -1.0],
        "clip_value": [0.0, -0.01],
        "classification_weight": [-1.0],
        "reconstruction_weight": [-1.0],
        "cycle_loss_weight": [-1.0],
        "identity_loss_weight": [-1.0],
    }
    for name in float_fields(cls):
        for value in out_of_range.get(name, []):
            assert problems_about(dataclasses.replace(cls(), **{name: value}), name), f"{cls.__name__}.{name}={value}"
    for name, value in (("beta_1", 0.0), ("beta_2", 0.0), ("learning_rate_decay_start", 0.0), ("learning_rate_final_fraction", 1.0)):
        assert problems_about(dataclasses.replace(cls(), **{name: value}), name) == [], (name, value)


def test_the_binary_refuses_an_infinite_learning_rate_before_training(tmp_path):
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "gan.py"), "--preset=smoke", "--generator_learning_rate=inf",
         f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'saved_models'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    seconds = time.monotonic() - start
    assert result.returncode != 0, result.stdout[-2000:]
    assert "--generator_learning_rate must be a finite number; got inf" in result.stderr, result.stderr[-3000:]
    assert not (tmp_path / "run").exists() and not (tmp_path / "saved_models").exists()
    assert seconds < 60, seconds  # Start-up (importing TF) only; the smoke run itself is longer.
