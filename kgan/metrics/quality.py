"""Sample quality of an image generator against a real dataset split: FID, KID, precision/recall, density/coverage,
intra-class FID, class balance.

The protocol (stated next to every number kgan reports): ``num_samples``
generated images (default 10,000) against the first ``num_real`` images
(default 10,000) of a dataset split (default the test split), both through the
same feature network (and, for Inception, the same ``resize``: ``"legacy"``
TF1 bilinear, the standard FID, or clean-fid's ``"clean"``; the report records
it); generated images come from the seeded sampler, so a number is
reproducible. Real features are cached per (feature space, dataset,
split, count) in kgan's cache directory.

    report = quality.evaluate_generator(model, "fashion_mnist", features="inception")
    print(quality.format_report(report))

The metrics (`METRICS`; each names its module):

* ``fid``: Fréchet Inception Distance (Heusel et al. 2017; `kgan.metrics.frechet`).
* ``kid``: Kernel Inception Distance (Bińkowski et al. 2018; `kgan.metrics.kernel_distance`).
* ``precision_recall``: improved precision and recall (Kynkäänniemi et al.
  2019; `kgan.metrics.precision_recall`), k = ``pr_k``.
* ``density_coverage``: density and coverage (Naeem et al. 2020;
  `kgan.metrics.density_coverage`), k = ``dc_k`` on the same real k-NN balls.
* ``intra_fid``: the mean over classes of the per-class FID (Miyato & Koyama
  2018; `kgan.metrics.intra_fid`), for conditional generators against
  labelled reference data: the label of generated image i is
  ``i % num_classes`` (see `generated_batches`). Not in `DEFAULT_METRICS`.
* ``class_balance``: class coverage, class KL and classifier score of kgan's
  Fashion-MNIST/MNIST classifier (`kgan.metrics.classifier`).

The Inception Score is not among them: the shipped Inception weights have no
classifier head, and asking for ``inception_score`` raises
`kgan.metrics.inception_score.InceptionScoreUnavailableError` saying so.
"""

from __future__ import annotations

import os
import time

import numpy as np

from kgan import atomic_files
from kgan.metrics import classifier as classifier_metrics
from kgan.metrics.density_coverage import density_coverage
from kgan.metrics.features import FeatureExtractor, feature_extractor
from kgan.metrics.frechet import FeatureStatistics, frechet_distance
from kgan.metrics.inception_score import UNAVAILABLE_MESSAGE, InceptionScoreUnavailableError
from kgan.metrics.intra_fid import intra_class_fid
from kgan.metrics.kernel_distance import kernel_distance
from kgan.metrics.precision_recall import precision_recall

__all__ = [
    "DEFAULT_METRICS", "METRICS", "REPORT_VALUES", "check_metrics", "evaluate_generator", "format_report",
    "generated_batches", "generator_classes", "reference_features",
]

METRICS = ("fid", "kid", "precision_recall", "density_coverage", "intra_fid", "class_balance")
#: What `evaluate_generator` computes unless told: every metric but intra_fid (conditional generators only).
DEFAULT_METRICS = tuple(m for m in METRICS if m != "intra_fid")
# Metrics users of other libraries ask for that kgan refuses, with the reason.
_UNAVAILABLE = {"inception_score": (InceptionScoreUnavailableError, UNAVAILABLE_MESSAGE)}


def check_metrics(metrics) -> tuple:
    """``metrics`` as a tuple if each is one of `METRICS`.

    Raises:
      InceptionScoreUnavailableError: (a ValueError) for ``inception_score``, saying why kgan has none.
      ValueError: for any other unknown name, listing `METRICS`.
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for name in metrics:
        if name in _UNAVAILABLE:
            error, message = _UNAVAILABLE[name]
            raise error(f"metric {name!r}: {message}")
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {METRICS}.")
    return metrics


# ---------------------------------------------------------------------- samples


def _saved_model_sampler(path, num_classes):
    import tensorflow as tf

    loaded = tf.saved_model.load(os.fspath(path))
    if "sample" not in loaded.signatures:
        raise ValueError(f"The SavedModel at {path} has no 'sample' signature; it is not a kgan generator export.")
    sample = loaded.signatures["sample"]
    inputs = sample.structured_input_signature[1]
    if "num_images" not in inputs and "labels" not in inputs and "sample_prior" in loaded.signatures:
        # A model whose `sample` takes its latent codes (InfoGAN) draws from its prior with `sample_prior`.
        sample = loaded.signatures["sample_prior"]
        inputs = sample.structured_input_signature[1]

    conditional = "labels" in inputs
    if not conditional and "num_images" not in inputs:
        raise ValueError(f"The SavedModel at {path} has a 'sample' signature of {sorted(inputs)} and no 'sample_prior' "
                         "(num_images, seed); kgan cannot draw samples from it unaided.")
    if conditional and num_classes is None:
        raise ValueError("A conditional SavedModel needs num_classes to draw balanced labels.")

    def draw(start, count, seed):
        if conditional:
            labels = tf.constant(np.arange(start, start + count) % num_classes, tf.int32)
            return sample(labels=labels, seed=tf.constant(seed, tf.int64))["images"].numpy()
        return sample(num_images=tf.constant(count, tf.int32), seed=tf.constant(seed, tf.int64))["images"].numpy()

    return draw, (int(num_classes) if conditional else None)


def _model_sampler(model):
    kgan_model = callable(getattr(model, "sampling_inputs", None))

    def draw(start, count, seed):
        if kgan_model:
            # A kgan model says what it takes: z, or [z, labels] cycling from `start` (balanced classes over all batches).
            return np.asarray(model(model.sampling_inputs(count, seed, offset=start), training=False))
        return np.asarray(model.generate(count, seed=seed))  # Any other object with generate(count, seed).

    # Only a kgan conditional model says which label each sample has; any other object counts as unconditional.
    classes = getattr(model, "num_classes", None) if kgan_model else None
    return draw, (int(classes) if classes else None)  # 0: unconditional (an unsupervised autoencoder)


def _sampler(source, num_classes):
    """``(draw(start, count, seed) -> images, classes)``: classes is K for a conditional source, else None."""
    if isinstance(source, (str, os.PathLike)):
        return _saved_model_sampler(source, num_classes)
    if callable(getattr(source, "sampling_inputs", None)) or callable(getattr(source, "generate", None)):
        return _model_sampler(source)
    raise TypeError(f"source must be a kgan generator model or a SavedModel path; got {type(source).__name__}.")


def _batches(draw, num_images, seed, batch_size=500):
    for index, start in enumerate(range(0, num_images, batch_size)):
        yield draw(start, min(batch_size, num_images - start), seed + index)


def generator_classes(source, num_classes: int | None = None) -> int | None:
    """K if ``source`` (as `generated_batches` takes it) is class-conditional, None if it is not.

    A kgan ConditionalGAN knows its K; a conditional SavedModel (one whose
    ``sample`` signature takes labels) is loaded to find out and needs
    ``num_classes``; any other object counts as unconditional.
    """
    return _sampler(source, num_classes)[1]


def generated_batches(source, num_images: int, seed: int = 0, batch_size: int = 500, num_classes: int | None = None):
    """Yields float32 image batches ``[<=batch_size, H, W, C]`` in [-1, 1] from a generator.

    Args:
      source: a kgan model with ``sampling_inputs`` (GAN, WGAN, WGANGP,
        ConditionalGAN, InfoGAN, ...), any object with ``generate(count, seed)``, or the path of a SavedModel exported
        by kgan (its ``sample`` signature; ``sample_prior`` where ``sample`` takes latent codes, as InfoGAN's does).
      num_images: total images.
      seed: batch ``i`` uses seed ``seed + i``, so the samples are reproducible
        (and independent of nothing else).
      batch_size: images per batch (for SavedModels at most the export's ``max_batch_size``, 1,024 by default).
      num_classes: conditional SavedModels only: labels cycle ``0..num_classes-1``
        (kgan models know their own), so image ``i`` (over all batches) has label ``i % num_classes``.
    """
    draw, _ = _sampler(source, num_classes)
    yield from _batches(draw, num_images, seed, batch_size)


def _features_of(extractor: FeatureExtractor, batches, keep_images: bool) -> tuple[np.ndarray, list]:
    """Features of every batch, and (if ``keep_images``) the images, for the class-balance metric."""
    features, images = [], []
    for batch in batches:
        features.append(extractor(batch))
        if keep_images:
            images.append(batch)
    return np.concatenate(features), images


# ---------------------------------------------------------------------- real data


def _reference_path(cache_dir, extractor_name, content, num_images):
    from kgan.metrics.classifier import default_cache_dir

    root = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{extractor_name}_{content}_{num_images}")
    return os.path.join(root, "reference_features", f"{safe}.npz")


def reference_features(extractor: FeatureExtractor, dataset: str = "fashion_mnist", split: str = "test",
                       num_images: int = 10_000, *, cache_dir=None, data_dir=None, batch_size: int = 500,
                       data_options=None) -> np.ndarray:
    """Features ``[n, D]`` of the first ``num_images`` images of a split (fewer if the split is smaller).

    Cached as ``<cache>/reference_features/<space>_<content>_<n>.npz``, where
    ``<content>`` is `kgan.data.user_data.fingerprint` of the split: a hash of
    its files' bytes, labels and ``data_options``, not of its name -- an
    edited folder (one image changed, added or removed) gets new features,
    and a renamed one keeps its cache. The cache records the feature space,
    and a file of another space or size is never reused.

    Args:
      extractor: the `FeatureExtractor` (its ``name`` keys the cache).
      dataset: a `kgan.data.load_images` name (``fashion_mnist``,
        ``embedded_fashion_mnist``, ``mnist``, ...) or a user source
        (``folder:PATH``, ``npz:PATH``, ``npy:PATH``, ``tfds:NAME``).
      split: e.g. ``"test"``.
      num_images: how many, in the split's order (no shuffling).
      data_options: `kgan.data.load_images`'s ``image_size``, ``channels``,
        ``crop``: read the reference as the model's training images were read.
    """
    from kgan.data import load_images, user_data

    options = _reading_options(data_options)
    content = user_data.fingerprint(dataset, split, limit=num_images, data_dir=data_dir, **options)
    path = _reference_path(cache_dir, extractor.name, content, num_images)
    if os.path.exists(path):
        with np.load(path) as cached:
            if str(cached["space"]) == extractor.name:
                return cached["features"]
    batches = load_images(dataset, split, batch_size, shuffle=False, drop_remainder=False, limit=num_images,
                          data_dir=data_dir, **options)
    features = np.concatenate([extractor(batch.numpy()) for batch in batches])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_files.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, features=features, space=extractor.name)
    return features


def _reading_options(data_options) -> dict:
    """The `kgan.data.load_images` options of ``data_options`` that decide how reference images are read."""
    return {k: v for k, v in (data_options or {}).items() if k in ("image_size", "channels", "crop")}


def _reference_labels(dataset, split, num_images, data_dir, data_options=None, batch_size=500) -> np.ndarray:
    """Class labels ``[n]`` of the images `reference_features` reads, in the same order (no shuffling).

    Read apart from the cached features (a pass over the split, no feature
    network), so the feature cache keeps one format for every metric; with the
    same reading options, since a source may be readable only with them (a
    folder mixing gray and colour images needs ``channels``).
    """
    from kgan.data import load_images

    try:
        batches = load_images(dataset, split, batch_size, with_labels=True, shuffle=False, drop_remainder=False,
                              limit=num_images, data_dir=data_dir, **_reading_options(data_options))
    except ValueError as error:
        raise ValueError(f"intra_fid needs the class labels of the reference images ({dataset}/{split}), and "
                         f"reading them failed: {error}") from error
    return np.concatenate([labels.numpy() for _, labels in batches])


def _extractor(features, resize, cache_dir) -> FeatureExtractor:
    if not isinstance(features, FeatureExtractor):
        return feature_extractor(features, cache_dir=cache_dir, resize=resize or "legacy")
    if resize is not None and resize != features.resize:
        raise ValueError(
            f"resize={resize!r}, but the FeatureExtractor {features.name!r} resizes with {features.resize!r}; "
            "build it with feature_extractor(..., resize=...) or leave resize None."
        )
    return features


# ---------------------------------------------------------------------- evaluation


def evaluate_generator(source, dataset: str = "fashion_mnist", split: str = "test", *, num_samples: int = 10_000,
                       num_real: int = 10_000, features="inception", metrics=DEFAULT_METRICS, seed: int = 0,
                       resize: str | None = None, dc_k: int = 5,
                       num_classes: int | None = None, classifier_dataset: str | None = None, cache_dir=None,
                       data_dir=None, data_options=None, kid_subsets: int = 100, kid_subset_size: int = 1000, pr_k: int = 3) -> dict:
    """Evaluates a generator's samples against a real split.

    Args:
      source: see `generated_batches` (model or SavedModel path).
      dataset, split, num_real: the reference images (`reference_features`).
      num_samples: generated images.
      features: ``"inception"``, ``"classifier"`` or a `FeatureExtractor`.
      metrics: any of `METRICS` (module docstring); default `DEFAULT_METRICS`.
        ``class_balance`` needs the Fashion-MNIST/MNIST evaluation
        classifier (trained and cached on first use); ``intra_fid`` a
        conditional ``source`` and a labelled ``dataset``.
      seed: sampling seed.
      resize: the Inception resize, ``"legacy"`` (None: the default) or
        ``"clean"`` (`kgan.metrics.features`); with a `FeatureExtractor`,
        None or the extractor's own.
      dc_k: density/coverage's neighbourhood size (Naeem et al.: 5).
      num_classes: for conditional SavedModels.
      classifier_dataset: the class-balance classifier (default: ``dataset``
        without an ``embedded_`` prefix).
      data_options: how the reference images are read (`reference_features`).
      kid_subsets, kid_subset_size, pr_k: the metrics' parameters.

    Returns:
      A flat dict: ``fid``, ``kid``/``kid_std``, ``precision``/``recall``,
      ``density``/``coverage``, ``intra_fid`` (and its ``intra_fid_per_class``
      list), ``classes_covered``/``class_kl``/``classifier_score`` (those
      asked for) plus the protocol: ``features``, ``resize`` (None for
      features without one), ``dataset``, ``split``, ``num_samples``,
      ``num_real``, ``seconds``.

    Raises:
      ValueError: unknown metrics (`check_metrics`; ``inception_score`` says
        why kgan has none), ``intra_fid`` for an unconditional generator or
        reference data without labels, a ``resize`` the features do not have.
    """
    metrics = check_metrics(metrics)
    start = time.time()
    draw, classes = _sampler(source, num_classes)
    real_labels = None
    if "intra_fid" in metrics:
        # Both refusals before any sample is drawn.
        if classes is None:
            raise ValueError(
                "intra_fid compares each class's samples with that class's real images, so it needs a conditional "
                "generator (a kgan ConditionalGAN, or a conditional SavedModel with num_classes); this one is "
                "unconditional. Leave intra_fid out of metrics."
            )
        real_labels = _reference_labels(dataset, split, num_real, data_dir, data_options)
    extractor = _extractor(features, resize, cache_dir)
    report = {"features": extractor.name, "resize": extractor.resize, "dataset": dataset, "split": split,
              "num_samples": num_samples}
    fake, images = _features_of(extractor, _batches(draw, num_samples, seed), keep_images="class_balance" in metrics)
    needs_real = {"fid", "kid", "precision_recall", "density_coverage", "intra_fid"} & set(metrics)
    if needs_real:
        real = reference_features(extractor, dataset, split, num_real, cache_dir=cache_dir, data_dir=data_dir,
                                  data_options=data_options)
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
    if "density_coverage" in metrics:
        dc = density_coverage(real, fake, dc_k)
        report.update(density=dc.density, coverage=dc.coverage)
    if "intra_fid" in metrics:
        if len(real_labels) != len(real):
            raise ValueError(f"{len(real_labels)} reference labels for {len(real)} reference features; "
                             "the cached features do not match the data (delete the reference_features cache).")
        intra = intra_class_fid(real, real_labels, fake, np.arange(len(fake)) % classes, classes)
        report.update(intra_fid=intra.mean, intra_fid_per_class=intra.per_class.tolist())
    if "class_balance" in metrics:
        classifier = classifier_metrics.load_classifier(classifier_dataset or dataset.removeprefix("embedded_"), cache_dir=cache_dir)
        balance = classifier_metrics.class_balance(classifier, np.concatenate(images))
        report.update(classes_covered=balance.classes_covered, class_kl=balance.kl_from_uniform,
                      classifier_score=balance.classifier_score)
    report["seconds"] = time.time() - start
    return report


_FORMATS = [
    ("fid", "FID", "{:.2f}"), ("kid", "KID x 1000", None), ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"), ("density", "density", "{:.3f}"), ("coverage", "coverage", "{:.3f}"),
    ("intra_fid", "intra-class FID", "{:.2f}"), ("classes_covered", "classes covered", "{}"),
    ("class_kl", "class KL (nats)", "{:.3f}"), ("classifier_score", "classifier score", "{:.2f}"),
]
#: The numeric results a report can hold (the protocol fields aside).
REPORT_VALUES = (*(key for key, _, _ in _FORMATS), "kid_std")


def format_report(report: dict) -> str:
    """A two-column text table of `evaluate_generator`'s report, protocol first."""
    lines = [f"features          {report['features']}"]
    if report.get("resize"):  # reports of features without a resize (or from before resize modes) have none
        lines.append(f"resize            {report['resize']}")
    lines += [
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
