"""Evaluation metrics."""

from kgan.metrics.attribute_translation import (
    format_translation_scores,
    permuted_targets,
    train_attribute_classifier,
    train_content_classifier,
    translation_scores,
)
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
    "format_translation_scores",
    "load_classifier",
    "mode_coverage",
    "paired_translation_errors",
    "permuted_targets",
    "train_attribute_classifier",
    "train_classifier",
    "train_content_classifier",
    "translation_scores",
]
