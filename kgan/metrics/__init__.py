"""Evaluation metrics."""

from kgan.metrics.attribute_translation import (
    format_grouped_translation_scores,
    format_translation_scores,
    grouped_translation_scores,
    permuted_targets,
    train_attribute_classifier,
    train_content_classifier,
    translation_scores,
)
from kgan.metrics.classifier import (
    ClassBalance,
    build_classifier,
    class_balance,
    classifier_accuracy,
    classifier_features,
    classifier_score,
    conditional_accuracy,
    load_classifier,
    train_classifier,
)
from kgan.metrics.density_coverage import DensityCoverage, density_coverage
from kgan.metrics.clustering import ClusteringScores, clustering_scores
from kgan.metrics.features import FeatureExtractor, feature_extractor
from kgan.metrics.frechet import FeatureStatistics, frechet_distance
from kgan.metrics.inception_score import InceptionScoreUnavailableError, inception_score
from kgan.metrics.intra_fid import IntraClassFID, intra_class_fid
from kgan.metrics.kernel_distance import KernelDistance, kernel_distance
from kgan.metrics.mode_coverage import ModeCoverage, mode_coverage
from kgan.metrics.stacked_modes import StackedModes, stacked_mode_coverage
from kgan.metrics.precision_recall import PrecisionRecall, precision_recall
from kgan.metrics.quality import evaluate_generator, format_report
from kgan.metrics.representation import linear_probe_accuracy, nearest_neighbour_accuracy, prior_distance, reconstruction_scores
from kgan.metrics.translation import (
    edge_f1,
    footwear_translation_scores,
    format_footwear_scores,
    format_translation_errors,
    paired_translation_errors,
)

__all__ = [
    "linear_probe_accuracy",
    "nearest_neighbour_accuracy",
    "prior_distance",
    "reconstruction_scores",
    "ClusteringScores",
    "clustering_scores",
    "ClassBalance",
    "DensityCoverage",
    "FeatureExtractor",
    "FeatureStatistics",
    "InceptionScoreUnavailableError",
    "IntraClassFID",
    "KernelDistance",
    "ModeCoverage",
    "PrecisionRecall",
    "StackedModes",
    "build_classifier",
    "class_balance",
    "density_coverage",
    "evaluate_generator",
    "feature_extractor",
    "format_report",
    "frechet_distance",
    "inception_score",
    "intra_class_fid",
    "kernel_distance",
    "precision_recall",
    "stacked_mode_coverage",
    "classifier_accuracy",
    "classifier_features",
    "classifier_score",
    "conditional_accuracy",
    "edge_f1",
    "footwear_translation_scores",
    "grouped_translation_scores",
    "format_footwear_scores",
    "format_grouped_translation_scores",
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
