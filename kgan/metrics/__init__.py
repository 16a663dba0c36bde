"""Evaluation metrics."""

from kgan.metrics.classifier import (
    build_classifier,
    classifier_accuracy,
    classifier_features,
    classifier_score,
    conditional_accuracy,
    load_classifier,
    train_classifier,
)
from kgan.metrics.mode_coverage import ModeCoverage, mode_coverage

__all__ = [
    "ModeCoverage",
    "build_classifier",
    "classifier_accuracy",
    "classifier_features",
    "classifier_score",
    "conditional_accuracy",
    "load_classifier",
    "mode_coverage",
    "train_classifier",
]
