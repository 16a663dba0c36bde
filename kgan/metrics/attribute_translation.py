"""Does a multi-domain translator (StarGAN) change what it should and keep what it should?

Two classifiers trained on *real* images only (never on a generator's output)
judge the translations ``G(x, c)``:

* an attribute classifier (one sigmoid per attribute): is each requested
  attribute ``c_k`` present? (target-attribute accuracy);
* a content classifier (e.g. the garment class): is the source image's class
  still recognised? (content-preservation accuracy).

The same classifiers on the untranslated inputs give the baselines: the
attribute classifier on ``x`` against the targets ``c`` (what doing nothing
scores, i.e. chance for targets drawn independently of ``x``) and the content
classifier on ``x`` (the ceiling content accuracy can reach).
"""

from __future__ import annotations

import keras
import numpy as np

from kgan import serving
from kgan.data.ranges import to_model_range
from kgan.metrics.classifier import build_classifier


def _as_model_range(images) -> np.ndarray:
    images = np.asarray(images)
    return to_model_range(images) if images.dtype == np.uint8 else images.astype(np.float32)


def train_attribute_classifier(images, attributes, epochs: int = 4, batch_size: int = 128, seed: int = 0, verbose: int = 0):
    """A `kgan.metrics.build_classifier` CNN with one sigmoid output per attribute.

    Args:
      images: real images ``[N, H, W, C]``, uint8 or float in [-1, 1].
      attributes: 0/1 ``[N, K]``.
      epochs, batch_size, seed, verbose: training settings (Adam 1e-3).

    Returns:
      A `keras.Model` images -> attribute logits ``[N, K]``.
    """
    attributes = np.asarray(attributes, np.float32)
    keras.utils.set_random_seed(seed)
    model = build_classifier(np.asarray(images).shape[1:], attributes.shape[-1], name="attribute_classifier")
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(_as_model_range(images), attributes, epochs=epochs, batch_size=batch_size, verbose=verbose)
    return model


def train_content_classifier(images, classes, num_classes: int = 10, epochs: int = 5, batch_size: int = 128, seed: int = 0, verbose: int = 0):
    """A `kgan.metrics.build_classifier` CNN for the content class (softmax over ``num_classes``)."""
    keras.utils.set_random_seed(seed)
    model = build_classifier(np.asarray(images).shape[1:], num_classes, name="content_classifier")
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(_as_model_range(images), np.asarray(classes), epochs=epochs, batch_size=batch_size, verbose=verbose)
    return model


def _predict(model, images, batch_size=500) -> np.ndarray:
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0))


def permuted_targets(attributes, seed: int = 0) -> np.ndarray:
    """Targets as StarGAN samples them: the attribute rows in a random order."""
    attributes = np.asarray(attributes, np.float32)
    return attributes[np.random.default_rng(seed).permutation(len(attributes))]


def translation_scores(
    model, images, classes, targets, attribute_classifier, content_classifier, attribute_names=None, batch_size: int = 256
) -> dict:
    """Target-attribute and content-preservation accuracy of ``model``'s translations.

    Args:
      model: anything with ``translate(images, target_attributes)`` (`kgan.StarGAN`).
      images: real test images ``[N, H, W, C]``, uint8 or float in [-1, 1].
      classes: int ``[N]`` content class of each image.
      targets: 0/1 ``[N, K]`` requested attributes (e.g. `permuted_targets`).
      attribute_classifier: images -> attribute logits ``[N, K]`` (real data only).
      content_classifier: images -> class logits.
      attribute_names: optional names for the per-attribute accuracies.
      batch_size: translation batch size.

    Returns:
      dict of floats in [0, 1]: ``target_attribute_accuracy`` (mean over
      images and attributes), ``target_exact_match`` (all K right),
      ``content_accuracy``; the same three for the untranslated inputs as
      ``*_baseline``; ``attribute_accuracy/<name>`` per attribute; and
      ``num_images``.
    """
    x = _as_model_range(images)
    targets = np.asarray(targets, np.float32)
    classes = np.asarray(classes)
    if len(x) != len(targets) or len(x) != len(classes):
        raise ValueError(f"Got {len(x)} images, {len(targets)} target rows and {len(classes)} classes.")
    # Any object with translate(images, targets) will do, so the chunks are cut here.
    translated = np.asarray(serving.in_chunks(lambda pair: model.translate(*pair), [x, targets], batch_size))
    names = list(attribute_names or [str(k) for k in range(targets.shape[-1])])

    def attribute_hits(batch):
        return (_predict(attribute_classifier, batch) > 0) == (targets > 0.5)

    hits, baseline_hits = attribute_hits(translated), attribute_hits(x)
    scores = {
        "target_attribute_accuracy": float(hits.mean()),
        "target_exact_match": float(hits.all(axis=-1).mean()),
        "content_accuracy": float((_predict(content_classifier, translated).argmax(-1) == classes).mean()),
        "target_attribute_accuracy_baseline": float(baseline_hits.mean()),
        "target_exact_match_baseline": float(baseline_hits.all(axis=-1).mean()),
        "content_accuracy_baseline": float((_predict(content_classifier, x).argmax(-1) == classes).mean()),
        "num_images": len(x),
    }
    for k, name in enumerate(names):
        scores[f"attribute_accuracy/{name}"] = float(hits[:, k].mean())
    return scores


def format_translation_scores(scores: dict) -> str:
    """A small text table of `translation_scores`."""
    rows = [
        ("target attributes (per attribute)", "target_attribute_accuracy"),
        ("target attributes (all K right)", "target_exact_match"),
        ("content class kept", "content_accuracy"),
    ]
    lines = [f"{'':<36}{'translated':>11}{'input':>8}   ({scores['num_images']} test images)"]
    for label, key in rows:
        lines.append(f"{label:<36}{scores[key]:>11.3f}{scores[key + '_baseline']:>8.3f}")
    return "\n".join(lines)
