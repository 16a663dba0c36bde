"""Sample quality of an image generator against a real dataset split: FID, KID, precision/recall, class balance.

The protocol (stated next to every number kgan reports): ``num_samples``
generated images (default 10,000) against the first ``num_real`` images
(default 10,000) of a dataset split (default the test split), both through the
same feature network; generated images come from the seeded sampler, so a
number is reproducible. Real features are cached per (feature space, dataset,
split, count) in kgan's cache directory.

    report = quality.evaluate_generator(model, "fashion_mnist", features="inception")
    print(quality.format_report(report))
"""

from __future__ import annotations

import os
import time

import numpy as np

from kgan import atomic_files
from kgan.metrics import classifier as classifier_metrics
from kgan.metrics.features import FeatureExtractor, feature_extractor
from kgan.metrics.frechet import FeatureStatistics, frechet_distance
from kgan.metrics.kernel_distance import kernel_distance
from kgan.metrics.precision_recall import precision_recall

__all__ = ["METRICS", "REPORT_VALUES", "evaluate_generator", "format_report", "generated_batches", "reference_features"]

METRICS = ("fid", "kid", "precision_recall", "class_balance")


# ---------------------------------------------------------------------- samples


def _saved_model_sampler(path, num_classes):
    import tensorflow as tf

    loaded = tf.saved_model.load(os.fspath(path))
    if "sample" not in loaded.signatures:
        raise ValueError(f"The SavedModel at {path} has no 'sample' signature; it is not a kgan generator export.")
    sample = loaded.signatures["sample"]
    inputs = sample.structured_input_signature[1]

    def draw(start, count, seed):
        if "labels" in inputs:
            if num_classes is None:
                raise ValueError("A conditional SavedModel needs num_classes to draw balanced labels.")
            labels = tf.constant(np.arange(start, start + count) % num_classes, tf.int32)
            return sample(labels=labels, seed=tf.constant(seed, tf.int64))["images"].numpy()
        return sample(num_images=tf.constant(count, tf.int32), seed=tf.constant(seed, tf.int64))["images"].numpy()

    return draw


def _model_sampler(model):
    def draw(start, count, seed):
        if callable(getattr(model, "sampling_inputs", None)):
            # A kgan model says what it takes: z, or [z, labels] cycling from `start` (balanced classes over all batches).
            return np.asarray(model(model.sampling_inputs(count, seed, offset=start), training=False))
        return np.asarray(model.generate(count, seed=seed))  # Any other object with generate(count, seed).

    return draw


def generated_batches(source, num_images: int, seed: int = 0, batch_size: int = 500, num_classes: int | None = None):
    """Yields float32 image batches ``[<=batch_size, H, W, C]`` in [-1, 1] from a generator.

    Args:
      source: a kgan model with ``sampling_inputs`` (GAN, WGAN, WGANGP,
        ConditionalGAN), any object with ``generate(count, seed)``, or the path of a SavedModel exported by kgan (its
        ``sample`` signature).
      num_images: total images.
      seed: batch ``i`` uses seed ``seed + i``, so the samples are reproducible
        (and independent of nothing else).
      batch_size: images per batch (for SavedModels at most the export's ``max_batch_size``, 1,024 by default).
      num_classes: conditional SavedModels only: labels cycle ``0..num_classes-1``
        (kgan models know their own).
    """
    if isinstance(source, (str, os.PathLike)):
        draw = _saved_model_sampler(source, num_classes)
    elif callable(getattr(source, "sampling_inputs", None)) or callable(getattr(source, "generate", None)):
        draw = _model_sampler(source)
    else:
        raise TypeError(f"source must be a kgan generator model or a SavedModel path; got {type(source).__name__}.")
    for index, start in enumerate(range(0, num_images, batch_size)):
        yield draw(start, min(batch_size, num_images - start), seed + index)


def _features_of(extractor: FeatureExtractor, batches, keep_images: bool) -> tuple[np.ndarray, list]:
    """Features of every batch, and (if ``keep_images``) the images, for the class-balance metric."""
    features, images = [], []
    for batch in batches:
        features.append(extractor(batch))
        if keep_images:
            images.append(batch)
    return np.concatenate(features), images


# ---------------------------------------------------------------------- real data


def _reference_path(cache_dir, extractor_name, dataset, split, num_images):
    from kgan.metrics.classifier import default_cache_dir

    root = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{extractor_name}_{dataset}_{split}_{num_images}")
    return os.path.join(root, "reference_features", f"{safe}.npz")


def reference_features(extractor: FeatureExtractor, dataset: str = "fashion_mnist", split: str = "test",
                       num_images: int = 10_000, *, cache_dir=None, data_dir=None, batch_size: int = 500) -> np.ndarray:
    """Features ``[n, D]`` of the first ``num_images`` images of a split (fewer if the split is smaller).

    Cached as ``<cache>/reference_features/<space>_<dataset>_<split>_<n>.npz``;
    the cache records the feature space, and a file of another space or size
    is never reused.

    Args:
      extractor: the `FeatureExtractor` (its ``name`` keys the cache).
      dataset: a `kgan.data.load_images` name (``fashion_mnist``,
        ``embedded_fashion_mnist``, ``mnist``, ...).
      split: e.g. ``"test"``.
      num_images: how many, in the split's order (no shuffling).
    """
    path = _reference_path(cache_dir, extractor.name, dataset, split, num_images)
    if os.path.exists(path):
        with np.load(path) as cached:
            if str(cached["space"]) == extractor.name:
                return cached["features"]
    from kgan.data import load_images

    batches = load_images(dataset, split, batch_size, shuffle=False, drop_remainder=False, limit=num_images, data_dir=data_dir)
    features = np.concatenate([extractor(batch.numpy()) for batch in batches])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_files.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, features=features, space=extractor.name)
    return features


# ---------------------------------------------------------------------- evaluation


def evaluate_generator(source, dataset: str = "fashion_mnist", split: str = "test", *, num_samples: int = 10_000,
                       num_real: int = 10_000, features="inception", metrics=METRICS, seed: int = 0,
                       num_classes: int | None = None, classifier_dataset: str | None = None, cache_dir=None,
                       data_dir=None, kid_subsets: int = 100, kid_subset_size: int = 1000, pr_k: int = 3) -> dict:
    """Evaluates a generator's samples against a real split.

    Args:
      source: see `generated_batches` (model or SavedModel path).
      dataset, split, num_real: the reference images (`reference_features`).
      num_samples: generated images.
      features: ``"inception"``, ``"classifier"`` or a `FeatureExtractor`.
      metrics: any of ``fid``, ``kid``, ``precision_recall``,
        ``class_balance`` (the latter needs the Fashion-MNIST/MNIST
        evaluation classifier, trained and cached on first use).
      seed: sampling seed.
      num_classes: for conditional SavedModels.
      classifier_dataset: the class-balance classifier (default: ``dataset``
        without an ``embedded_`` prefix).
      kid_subsets, kid_subset_size, pr_k: the metrics' parameters.

    Returns:
      A flat dict: ``fid``, ``kid``/``kid_std``, ``precision``/``recall``,
      ``classes_covered``/``class_kl``/``classifier_score`` (those asked
      for) plus the protocol: ``features``, ``dataset``, ``split``,
      ``num_samples``, ``num_real``, ``seconds``.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {METRICS}.")
    start = time.time()
    extractor = features if isinstance(features, FeatureExtractor) else feature_extractor(features, cache_dir=cache_dir)
    report = {"features": extractor.name, "dataset": dataset, "split": split, "num_samples": num_samples}
    batches = generated_batches(source, num_samples, seed, num_classes=num_classes)
    fake, images = _features_of(extractor, batches, keep_images="class_balance" in metrics)
    needs_real = {"fid", "kid", "precision_recall"} & set(metrics)
    if needs_real:
        real = reference_features(extractor, dataset, split, num_real, cache_dir=cache_dir, data_dir=data_dir)
        report["num_real"] = len(real)
    if "fid" in metrics:
        a, b = FeatureStatistics.of(real), FeatureStatistics.of(fake)
        report["fid"] = frechet_distance(a.mean, a.covariance, b.mean, b.covariance)
    if "kid" in metrics:
        kid = kernel_distance(real, fake, kid_subsets, kid_subset_size, seed)
        report.update(kid=kid.mean, kid_std=kid.std)
    if "precision_recall" in metrics:
        pr = precision_recall(real, fake, pr_k)
        report.update(precision=pr.precision, recall=pr.recall)
    if "class_balance" in metrics:
        classifier = classifier_metrics.load_classifier(classifier_dataset or dataset.removeprefix("embedded_"), cache_dir=cache_dir)
        balance = classifier_metrics.class_balance(classifier, np.concatenate(images))
        report.update(classes_covered=balance.classes_covered, class_kl=balance.kl_from_uniform,
                      classifier_score=balance.classifier_score)
    report["seconds"] = time.time() - start
    return report


_FORMATS = [
    ("fid", "FID", "{:.2f}"), ("kid", "KID x 1000", None), ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"), ("classes_covered", "classes covered", "{}"),
    ("class_kl", "class KL (nats)", "{:.3f}"), ("classifier_score", "classifier score", "{:.2f}"),
]
#: The numeric results a report can hold (the protocol fields aside).
REPORT_VALUES = (*(key for key, _, _ in _FORMATS), "kid_std")


def format_report(report: dict) -> str:
    """A two-column text table of `evaluate_generator`'s report, protocol first."""
    lines = [
        f"features          {report['features']}",
        f"protocol          {report['num_samples']} samples vs {report.get('num_real', '-')} {report['dataset']}/{report['split']} images",
    ]
    for key, label, fmt in _FORMATS:
        if key not in report:
            continue
        if key == "kid":
            lines.append(f"{label:<18}{1000 * report['kid']:.2f} ± {1000 * report['kid_std']:.2f}")
        else:
            lines.append(f"{label:<18}{fmt.format(report[key])}")
    lines.append(f"seconds           {report['seconds']:.0f}")
    return "\n".join(lines)
