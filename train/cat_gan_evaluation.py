"""The end-of-run evaluation of ``train/cat_gan.py``: sample quality plus D's clusters against the true classes.

`evaluate` is `train_lib.evaluate_samples` (FID/KID of the samples; points:
mode coverage) plus ``"clustering"`` (`clustering_evaluation`): D's class of
each test image (``CatGAN.predict_clusters``) scored against the labels with
`kgan.metrics.clustering_scores` -- accuracy under the best one-to-one cluster
-> class assignment, NMI, ARI -- and, semi-supervised, D's plain test
accuracy. Point mixtures are scored on fresh mixture samples against their
mode index. Kept apart from the binary (which defines flags on import) so
tests and tools can call it.
"""

from __future__ import annotations

import os

import numpy as np

import kgan
from kgan import metrics, rendering
from kgan.data import mixtures
from train import train_lib

_MIXTURE_EXAMPLES = 10_000


def _test_examples(config):
    """``(samples, labels, where)`` D is scored on, or ``(None, None, reason)`` for data without labels."""
    if config.is_points:
        count = config.clustering_images or _MIXTURE_EXAMPLES
        points, modes = next(iter(mixtures.gaussian_mixture(config.dataset).dataset(count, seed=config.seed + 1, with_labels=True)))
        return points.numpy(), modes.numpy(), f"{count} {config.dataset} samples (label: their mode)"
    info = kgan.data.dataset_info(config.dataset, **config.data_options())
    if not info.has_labels:
        return None, None, f"{config.dataset} has no class labels"
    split = "test" if "test" in info.splits else "train"
    images, labels = kgan.data.load_labelled_arrays(config.dataset, split, limit=config.clustering_images, **config.data_options())
    return images, labels, f"{len(labels)} {config.dataset} {split} images"


def clustering_evaluation(config, model, picture_path=None):
    """``(numbers, text)``: D's clusters against the true classes (`kgan.metrics.clustering_scores`).

    Args:
      config: the run's `CatGANConfig` (dataset, ``clustering_images``).
      model: the trained `kgan.CatGAN`.
      picture_path: for image data, where to write `kgan.rendering.cluster_grid`
        of the scored images -- one row per cluster, ordered by the class each
        is assigned to, its ten most confident members -- or None for no
        picture.

    Returns:
      ``numbers`` holds ``accuracy``, ``nmi``, ``ari``, ``assignment`` (cluster
      -> class), ``contingency`` (counts, a row per cluster, a column per
      class), ``num_examples`` and ``examples`` (what was scored), with a
      picture ``picture`` (its path); in the semi-supervised mode also
      ``test_accuracy`` (D's class equals the true one, no reassignment).
      Data without labels: ``{"skipped": reason}``.
    """
    samples, labels, where = _test_examples(config)
    if samples is None:
        return {"skipped": where}, f"kgan: no clustering evaluation: {where}."
    probabilities = model.class_probabilities(samples)
    clusters = np.argmax(probabilities, axis=-1)  # = model.predict_clusters(samples), computed once.
    scores = metrics.clustering_scores(labels, clusters)
    numbers = dict(scores.as_dict(), num_examples=len(labels), examples=where)
    text = (f"kgan: D's {model.num_clusters} clusters on {where}: accuracy {numbers['accuracy']:.3f} (best one-to-one "
            f"cluster -> class assignment), NMI {numbers['nmi']:.3f}, ARI {numbers['ari']:.3f}")
    if config.semi_supervised:
        numbers["test_accuracy"] = float(np.mean(clusters == labels))
        text += f"; D's test accuracy {numbers['test_accuracy']:.3f} ({config.labels_per_class} labels per class)"
    if picture_path is not None and not config.is_points:
        # Clusters mapped to a class first, in class order; any others after them.
        order = sorted(range(model.num_clusters), key=lambda k: (k not in scores.assignment, scores.assignment.get(k, k)))
        numbers["picture"] = rendering.write_png(rendering.cluster_grid(samples, probabilities, 10, order), picture_path)
        text += f" (each cluster's surest members, a row each: {picture_path})"
    return numbers, text + "."


def evaluate(config, model):
    """The end-of-run evaluation: `train_lib.evaluate_samples` plus ``"clustering"`` (`clustering_evaluation`).

    The cluster picture goes to ``<model_dir>/samples/test_clusters.png``.
    """
    numbers, table = train_lib.evaluate_samples(config, model)
    picture = os.path.join(config.model_dir, train_lib.SAMPLES, "test_clusters.png")
    clustering, text = clustering_evaluation(config, model, picture)
    return {**numbers, "clustering": clustering}, f"{table}\n{text}"
