"""Translation error against ground truth, for paired evaluation data (CycleGAN, Pix2Pix).

Unpaired models train without pairs, but a derived dataset such as the
footwear edges <-> images demo keeps the true pairing for evaluation: how far
is ``G(x)`` from the ``y`` that ``x`` was made from? Two baselines put the
number in context:

* identity: translating by doing nothing, ``|x - y|``;
* best constant image: the per-pixel median of the targets themselves (the
  constant that minimises L1 on exactly this set -- an oracle no model can
  use, so beating it means the output depends on the input in the right way).
"""

from __future__ import annotations

import numpy as np

from kgan import serving
from kgan.metrics.classifier import classifier_features
from kgan.metrics.frechet import FeatureStatistics, frechet_distance


def _mean_abs(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def _check_pairs(x, y):
    if x.ndim != 4 or x.shape[:3] != y.shape[:3]:
        raise ValueError(
            f"Paired evaluation needs images_x and images_y of the same [N, H, W, C] size; got {x.shape} and {y.shape}."
        )
    if len(x) == 0:
        raise ValueError("Paired evaluation needs at least one pair.")
    for name, images in (("images_x", x), ("images_y", y)):
        if images.min() < -1.0 - 1e-6 or images.max() > 1.0 + 1e-6:
            raise ValueError(f"{name} must be float images in [-1, 1] (kgan.data.to_model_range converts uint8).")


def paired_translation_errors(model, images_x, images_y, batch_size: int = 256) -> dict:
    """Mean absolute error of both directions against the true pairs, with baselines.

    Args:
      model: a `kgan.CycleGAN` (anything with ``translate(images, direction)``).
      images_x: float32 ``[N, H, W, C]`` in [-1, 1], domain X.
      images_y: float32 ``[N, H, W, C']`` in [-1, 1]; ``images_y[i]`` is the
        true counterpart of ``images_x[i]``.
      batch_size: translation batch size.

    Returns:
      A dict of floats, all mean absolute errors in [-1, 1] pixel units
      (0 = perfect, 2 = every pixel maximally wrong): ``x_to_y``, ``y_to_x``,
      ``identity`` (``|x - y|``, both directions' do-nothing baseline when
      C == C'), ``x_to_y_constant`` and ``y_to_x_constant`` (the best constant
      image per direction), and ``num_pairs``.
    """
    x = np.asarray(images_x, np.float32)
    y = np.asarray(images_y, np.float32)
    _check_pairs(x, y)
    # Any object with translate(images, direction) will do, so the chunks are cut here.
    fake_y = np.asarray(serving.in_chunks(lambda batch: model.translate(batch, "x_to_y"), x, batch_size))
    fake_x = np.asarray(serving.in_chunks(lambda batch: model.translate(batch, "y_to_x"), y, batch_size))
    results = {
        "x_to_y": _mean_abs(fake_y, y),
        "y_to_x": _mean_abs(fake_x, x),
        "x_to_y_constant": _mean_abs(np.median(y, axis=0, keepdims=True), y),
        "y_to_x_constant": _mean_abs(np.median(x, axis=0, keepdims=True), x),
        "num_pairs": len(x),
    }
    if x.shape == y.shape:
        results["identity"] = _mean_abs(x, y)
    return results


def format_translation_errors(results: dict) -> str:
    """A small text table of `paired_translation_errors` results."""
    lines = [f"{'direction':<10} {'L1 model':>9} {'identity':>9} {'constant':>9}   ({results['num_pairs']} pairs)"]
    identity = results.get("identity", float("nan"))
    for direction in ("x_to_y", "y_to_x"):
        lines.append(f"{direction:<10} {results[direction]:>9.3f} {identity:>9.3f} {results[direction + '_constant']:>9.3f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- content and distribution


def _translated(translate, images, batch_size) -> np.ndarray:
    return np.asarray(serving.in_chunks(lambda batch: np.asarray(translate(batch), np.float32), images, batch_size))


def edge_f1(predicted, true) -> float:
    """F1 of edge pixels, pooled over all images: an edge is a pixel above 0 (white edges on black, [-1, 1] units).

    Args:
      predicted, true: float ``[N, H, W, 1]`` in [-1, 1].

    Returns:
      ``2 TP / (2 TP + FP + FN)`` in [0, 1]; 1.0 when neither has an edge.
    """
    predicted_edges, true_edges = np.asarray(predicted) > 0, np.asarray(true) > 0
    hits = np.sum(predicted_edges & true_edges)
    errors = np.sum(predicted_edges ^ true_edges)
    return 1.0 if hits + errors == 0 else float(2 * hits / (2 * hits + errors))


def _features(classifier, images, batch_size) -> np.ndarray:
    return np.asarray(classifier_features(classifier).predict(images, batch_size=batch_size, verbose=0), np.float64)


def _classifier_fid(features_a, features_b) -> float:
    a, b = FeatureStatistics.of(features_a), FeatureStatistics.of(features_b)
    return frechet_distance(a.mean, a.covariance, b.mean, b.covariance)


def footwear_translation_scores(edges, images, classes, classifier, *, edges_to_images=None, images_to_edges=None,
                                batch_size: int = 256) -> dict:
    """Translation judged by content and distribution on true edge/footwear pairs (Isola et al. 2017, sec. 4.2).

    L1 alone rewards a blurry average; these scores ask whether a translated
    shoe is the *right kind* of shoe and looks like a real one, and whether
    translated edges are the true edges:

    * edges -> image: L1 to the true image beside the best constant image's;
      ``class_kept``, how often kgan's Fashion-MNIST ``classifier`` puts G(x)
      in the true image's class (sandal / sneaker / ankle boot; its accuracy on
      the real images is the ceiling, ``class_kept_real``); and the Fréchet
      distance in the classifier's features between translations of the first
      half of the pairs and the real images of the second half, beside the same
      distance between the two halves' real images (``fid_floor``: what a
      perfect translator scores at this sample size).
    * image -> edges: L1 and edge-pixel F1 against the true edge maps, beside
      doing nothing (the image itself) and the best constant image.

    Args:
      edges: float32 ``[N, H, W, 1]`` in [-1, 1], edge maps (white edges on black).
      images: float32 ``[N, H, W, 1]`` in [-1, 1]; ``edges[i]`` is the edge map of ``images[i]``.
      classes: int ``[N]``, the Fashion-MNIST class of each image.
      classifier: images ``[B, H, W, 1]`` in [-1, 1] -> class logits, trained
        on real images only (`kgan.metrics.load_classifier`).
      edges_to_images: callable, edge maps -> images, both float ``[n, H, W, 1]``
        in [-1, 1]; None skips that direction.
      images_to_edges: callable, images -> edge maps; None skips it.
      batch_size: images per call of a translator and of the classifier.

    Returns:
      A dict of floats: ``edges_to_images/{l1, l1_constant, class_kept,
      class_kept_real, fid, fid_floor}`` and ``images_to_edges/{l1,
      l1_identity, l1_constant, edge_f1, edge_f1_identity}`` for the
      directions given, and ``num_pairs``.
    """
    x, y = np.asarray(edges, np.float32), np.asarray(images, np.float32)
    classes = np.asarray(classes)
    _check_pairs(x, y)
    if len(classes) != len(x):
        raise ValueError(f"Got {len(classes)} classes for {len(x)} pairs.")
    if len(x) < 4:
        raise ValueError("The footwear evaluation needs at least 4 pairs (two halves for the Fréchet distance).")
    if edges_to_images is None and images_to_edges is None:
        raise ValueError("Pass edges_to_images, images_to_edges or both.")
    scores = {"num_pairs": len(x)}
    if edges_to_images is not None:
        fake = _translated(edges_to_images, x, batch_size)
        half = len(x) // 2
        real_features = _features(classifier, y, batch_size)
        fake_features = _features(classifier, fake[:half], batch_size)

        def class_kept(batch):
            return float(np.mean(np.argmax(np.asarray(classifier.predict(batch, batch_size=batch_size, verbose=0)), -1) == classes))

        scores.update({
            "edges_to_images/l1": _mean_abs(fake, y),
            "edges_to_images/l1_constant": _mean_abs(np.median(y, axis=0, keepdims=True), y),
            "edges_to_images/class_kept": class_kept(fake),
            "edges_to_images/class_kept_real": class_kept(y),
            "edges_to_images/fid": _classifier_fid(fake_features, real_features[half:]),
            "edges_to_images/fid_floor": _classifier_fid(real_features[:half], real_features[half:]),
        })
    if images_to_edges is not None:
        fake = _translated(images_to_edges, y, batch_size)
        scores.update({
            "images_to_edges/l1": _mean_abs(fake, x),
            "images_to_edges/l1_identity": _mean_abs(y, x),
            "images_to_edges/l1_constant": _mean_abs(np.median(x, axis=0, keepdims=True), x),
            "images_to_edges/edge_f1": edge_f1(fake, x),
            "images_to_edges/edge_f1_identity": edge_f1(y, x),
        })
    return scores


def format_footwear_scores(scores: dict) -> str:
    """A small text table of `footwear_translation_scores` (the directions it holds)."""
    lines = [f"footwear test pairs: {scores['num_pairs']}"]
    if "edges_to_images/l1" in scores:
        s = {k.split("/", 1)[1]: v for k, v in scores.items() if k.startswith("edges_to_images/")}
        lines += [
            "edges -> image     model   baseline",
            f"  L1              {s['l1']:>6.3f}   {s['l1_constant']:>6.3f} (best constant image)",
            f"  class kept      {s['class_kept']:>6.3f}   {s['class_kept_real']:>6.3f} (classifier on the true images)",
            f"  classifier FID  {s['fid']:>6.2f}   {s['fid_floor']:>6.2f} (real vs real, same sizes)",
        ]
    if "images_to_edges/l1" in scores:
        s = {k.split("/", 1)[1]: v for k, v in scores.items() if k.startswith("images_to_edges/")}
        lines += [
            "image -> edges     model   identity  constant",
            f"  L1              {s['l1']:>6.3f}   {s['l1_identity']:>6.3f}    {s['l1_constant']:>6.3f}",
            f"  edge F1         {s['edge_f1']:>6.3f}   {s['edge_f1_identity']:>6.3f}",
        ]
    return "\n".join(lines)
