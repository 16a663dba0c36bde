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
from kgan.metrics.translation import format_translation_errors, paired_translation_errors

__all__ = [
    "ModeCoverage",
    "build_classifier",
    "classifier_accuracy",
    "classifier_features",
    "classifier_score",
    "conditional_accuracy",
    "format_translation_errors",
    "load_classifier",
    "mode_coverage",
    "paired_translation_errors",
    "train_classifier",
]
