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

Training a judge takes longer than a smoke run's training: a judge is cached
under its data and settings (`judge_path`), so a second run on the same data
loads it instead of training it again (``cache=False`` always trains).

For a model trained on several datasets with unified labels (StarGAN's mask
vector, `kgan.label_groups`), `grouped_translation_scores` judges each
translation by the classifier of the group its target's mask names.

Where the right translations are known (the offline demos render their
labels into the images), both functions also take them (``perfect=``) and
report the L1 distance to them, which no pattern that fools a judge lowers.
"""

from __future__ import annotations

import hashlib
import json
import os

import keras
import numpy as np

from kgan import atomic_files
from kgan import label_groups as label_groups_lib
from kgan import serving
from kgan.data.ranges import to_model_range
from kgan.metrics.classifier import build_classifier, default_cache_dir, load_or_build


def _as_model_range(images) -> np.ndarray:
    images = np.asarray(images)
    return to_model_range(images) if images.dtype == np.uint8 else images.astype(np.float32)


# Bump when build_classifier or the training below changes: cached judges of an older recipe are then not reused.
JUDGE_VERSION = 1


def judge_path(kind: str, images, labels, settings: dict, cache_dir=None) -> str:
    """Where a judge trained on exactly these arrays and settings is cached.

    ``<cache>/judges/<kind>-<sha256 of the arrays, their shapes and dtypes,
    the settings and JUDGE_VERSION>.keras`` under
    `kgan.metrics.classifier.default_cache_dir` (``$KGAN_CACHE_DIR``, ...):
    any other data, labels or settings train a judge of their own.
    """
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(images), np.ascontiguousarray(labels)):
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    digest.update(json.dumps({**settings, "version": JUDGE_VERSION}, sort_keys=True).encode())
    root = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
    return os.path.join(root, "judges", f"{kind}-{digest.hexdigest()[:32]}.keras")


def _cached_judge(kind, images, labels, settings, train, cache):
    """``train()``'s model, or the one an earlier call with the same arrays and settings saved (``cache=True``)."""
    if not cache:
        return train()

    def build(path):
        model = train()
        with atomic_files.atomic_path(path, suffix=".keras") as tmp:
            model.save(tmp)
        return model

    return load_or_build(judge_path(kind, images, labels, settings), build)


def train_attribute_classifier(images, attributes, epochs: int = 4, batch_size: int = 128, seed: int = 0, verbose: int = 0,
                               cache: bool = True):
    """A `kgan.metrics.build_classifier` CNN with one sigmoid output per attribute.

    Args:
      images: real images ``[N, H, W, C]``, uint8 or float in [-1, 1].
      attributes: 0/1 ``[N, K]``.
      epochs, batch_size, seed, verbose: training settings (Adam 1e-3).
      cache: reuse the judge an earlier call trained on the same arrays with
        the same settings (`judge_path`), and keep this one for later calls;
        False always trains.

    Returns:
      A `keras.Model` images -> attribute logits ``[N, K]``.
    """
    attributes = np.asarray(attributes, np.float32)

    def train():
        keras.utils.set_random_seed(seed)
        model = build_classifier(np.asarray(images).shape[1:], attributes.shape[-1], name="attribute_classifier")
        model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
        model.fit(_as_model_range(images), attributes, epochs=epochs, batch_size=batch_size, verbose=verbose)
        return model

    settings = {"epochs": epochs, "batch_size": batch_size, "seed": seed}
    return _cached_judge("attributes", images, attributes, settings, train, cache)


def train_content_classifier(images, classes, num_classes: int = 10, epochs: int = 5, batch_size: int = 128, seed: int = 0,
                             verbose: int = 0, cache: bool = True):
    """A `kgan.metrics.build_classifier` CNN for the content class (softmax over ``num_classes``).

    ``cache`` as in `train_attribute_classifier`.
    """
    classes = np.asarray(classes)

    def train():
        keras.utils.set_random_seed(seed)
        model = build_classifier(np.asarray(images).shape[1:], num_classes, name="content_classifier")
        model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(_as_model_range(images), classes, epochs=epochs, batch_size=batch_size, verbose=verbose)
        return model

    settings = {"num_classes": num_classes, "epochs": epochs, "batch_size": batch_size, "seed": seed}
    return _cached_judge("content", images, classes, settings, train, cache)


def _predict(model, images, batch_size=500) -> np.ndarray:
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0))


def permuted_targets(attributes, seed: int = 0) -> np.ndarray:
    """Targets as StarGAN samples them: the attribute rows in a random order."""
    attributes = np.asarray(attributes, np.float32)
    return attributes[np.random.default_rng(seed).permutation(len(attributes))]


def _translations(model, x, targets, batch_size) -> np.ndarray:
    # Any object with translate(images, targets) will do, so the chunks are cut here.
    return np.asarray(serving.in_chunks(lambda pair: model.translate(*pair), [x, targets], batch_size))


def _ground_truth(perfect, x):
    """``perfect`` in [-1, 1], checked to hold one translation per image of ``x``; None (no ground truth) stays None."""
    if perfect is None:
        return None
    if np.shape(perfect) != x.shape:
        raise ValueError(f"perfect must hold one translation per image, {x.shape}; got {np.shape(perfect)}.")
    return _as_model_range(perfect)


def _perfect_l1(translated, x, truth) -> dict:
    """Per image ``[N]``, the mean absolute difference to the ground truth in [-1, 1] pixel units (in [0, 2]).

    Keyed by the score's suffix: ``""`` the translations', ``"_baseline"``
    the untranslated inputs' (what doing nothing scores).
    """
    return {suffix: np.abs(batch - truth).reshape(len(truth), -1).mean(-1)
            for suffix, batch in (("", translated), ("_baseline", x))}


def _mean(values) -> float:
    """The mean of ``values``, NaN when there are none (a group no row asks for)."""
    return float(np.mean(values)) if np.size(values) else float("nan")


def _hits(logits, targets, kind: str = "multi_label") -> np.ndarray:
    """Whether a classifier's ``logits [N, K]`` find the 0/1 ``targets``: per attribute ``[N, K]``, or ``[N, 1]`` for one-hot domains."""
    if kind == "single_label":
        return (logits.argmax(-1) == targets.argmax(-1))[:, None]
    return (logits > 0) == (targets > 0.5)


def translation_scores(
    model, images, classes, targets, attribute_classifier, content_classifier, attribute_names=None, batch_size: int = 256,
    perfect=None,
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
      perfect: optional ground truth ``[N, H, W, C]`` (uint8 or [-1, 1]): the
        right translation of each image, where it is known (the tinted demo,
        `kgan.data.attributes.tinted_perfect_translations`). Classifiers of
        real images can be fooled -- a translator that paints faint bars at
        the borders can pass the tinted demo's attribute judge while leaving
        the garment as it was -- the distance to the truth cannot.

    Returns:
      dict of floats in [0, 1]: ``target_attribute_accuracy`` (mean over
      images and attributes), ``target_exact_match`` (all K right),
      ``content_accuracy``; the same three for the untranslated inputs as
      ``*_baseline``; ``attribute_accuracy/<name>`` per attribute; and
      ``num_images``. With ``perfect``, also ``perfect_l1``: the mean
      absolute difference of translations and truth, in [-1, 1] pixel units
      (in [0, 2]), and ``perfect_l1_baseline``, the inputs'.
    """
    x = _as_model_range(images)
    targets = np.asarray(targets, np.float32)
    classes = np.asarray(classes)
    if len(x) != len(targets) or len(x) != len(classes):
        raise ValueError(f"Got {len(x)} images, {len(targets)} target rows and {len(classes)} classes.")
    truth = _ground_truth(perfect, x)
    translated = _translations(model, x, targets, batch_size)
    names = list(attribute_names or [str(k) for k in range(targets.shape[-1])])

    def attribute_hits(batch):
        return _hits(_predict(attribute_classifier, batch), targets)

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
    if truth is not None:
        scores.update({f"perfect_l1{suffix}": _mean(l1) for suffix, l1 in _perfect_l1(translated, x, truth).items()})
    return scores


def format_translation_scores(scores: dict) -> str:
    """A small text table of `translation_scores`."""
    rows = [
        ("target attributes (per attribute)", "target_attribute_accuracy"),
        ("target attributes (all K right)", "target_exact_match"),
        ("content class kept", "content_accuracy"),
    ]
    if "perfect_l1" in scores:
        rows.append(("L1 to the perfect translation", "perfect_l1"))
    lines = [f"{'':<36}{'translated':>11}{'input':>8}   ({scores['num_images']} test images)"]
    for label, key in rows:
        lines.append(f"{label:<36}{scores[key]:>11.3f}{scores[key + '_baseline']:>8.3f}")
    return "\n".join(lines)


def grouped_translation_scores(
    model, images, labels, classes, targets, label_groups, group_classifiers, content_classifier, group_names=None,
    batch_size: int = 256, perfect=None,
) -> dict:
    """Per-group target accuracy and content kept, for translations to unified labels of several datasets.

    Each translation ``G(x, c~)`` is judged by the classifier of the group
    its target's mask names (Choi et al. 2018, sec. 3.2): e.g. a tinted image
    asked for a brightness level by the brightness classifier. Rows whose
    target group differs from the source's own (``labels``' mask) are the
    cross-dataset translations the mask vector exists for; they are also
    scored apart (``*_cross``).

    Args:
      model: anything with ``translate(images, target_attributes)`` (`kgan.StarGAN`).
      images: real test images ``[N, H, W, C]``, uint8 or float in [-1, 1].
      labels: their own unified 0/1 labels ``[N, sum(size) + n]``.
      classes: int ``[N]`` content class of each image.
      targets: requested unified labels ``[N, sum(size) + n]`` (e.g. `permuted_targets`).
      label_groups: ``((size, kind), ...)`` (`kgan.label_groups`).
      group_classifiers: one per group, images -> ``[N, size]`` logits,
        trained on real images of that group only (single_label: argmax).
      content_classifier: images -> class logits.
      group_names: names of the groups (default ``"0"``, ``"1"``, ...).
      batch_size: translation batch size.
      perfect: optional ground truth ``[N, H, W, C]`` (uint8 or [-1, 1]): the
        right translation of each image to its target, where it is known
        (the two-dataset demo,
        `kgan.data.attributes.tinted_shaded_perfect_translations`); as in
        `translation_scores`, no pattern that fools a judge lowers it.

    Returns:
      dict: per group name g, ``target_accuracy/g`` (multi_label: mean over
      rows and attributes; single_label: the domain right), ``target_exact_match/g``
      (every entry of the group right), ``target_accuracy/g_cross`` (rows
      from another group's dataset; NaN if none), their ``*_baseline`` on the
      untranslated inputs and ``num_targets/g``; ``content_accuracy`` (the
      class kept, all rows) and ``content_accuracy_baseline``; ``num_images``.
      With ``perfect``, also ``perfect_l1`` (the mean absolute difference of
      translations and truth over all rows, in [-1, 1] pixel units: in
      [0, 2]), ``perfect_l1/g`` and ``perfect_l1/g_cross`` (the rows whose
      target group is g; of those, the rows from another group's dataset;
      NaN if none), each with its ``*_baseline`` (the inputs' distance).
    """
    x = _as_model_range(images)
    labels, targets, classes = np.asarray(labels, np.float32), np.asarray(targets, np.float32), np.asarray(classes)
    if not len(x) == len(labels) == len(targets) == len(classes):
        raise ValueError(f"Got {len(x)} images, {len(labels)} label rows, {len(targets)} target rows and {len(classes)} classes.")
    if len(group_classifiers) != len(label_groups):
        raise ValueError(f"{len(group_classifiers)} classifiers for {len(label_groups)} label groups; give one per group.")
    truth = _ground_truth(perfect, x)
    translated = _translations(model, x, targets, batch_size)
    names = list(group_names or [str(g) for g in range(len(label_groups))])
    l1 = {} if truth is None else _perfect_l1(translated, x, truth)
    offset = label_groups_lib.logit_size(label_groups)
    source_group, target_group = labels[:, offset:].argmax(-1), targets[:, offset:].argmax(-1)
    scores = {
        "content_accuracy": float((_predict(content_classifier, translated).argmax(-1) == classes).mean()),
        "content_accuracy_baseline": float((_predict(content_classifier, x).argmax(-1) == classes).mean()),
        "num_images": len(x),
        **{f"perfect_l1{suffix}": _mean(distances) for suffix, distances in l1.items()},
    }
    for group, ((start, stop), (_, kind)) in enumerate(zip(label_groups_lib.group_bounds(label_groups), label_groups)):
        rows = target_group == group
        cross = source_group[rows] != group
        wanted = targets[rows, start:stop]
        for suffix, batch in (("", translated[rows]), ("_baseline", x[rows])):
            hits = _hits(_predict(group_classifiers[group], batch), wanted, kind) if len(batch) else np.zeros((0, 1), bool)
            scores[f"target_accuracy/{names[group]}{suffix}"] = _mean(hits)
            scores[f"target_exact_match/{names[group]}{suffix}"] = _mean(hits.all(-1))
            scores[f"target_accuracy/{names[group]}_cross{suffix}"] = _mean(hits[cross])
        for suffix, distances in l1.items():
            scores[f"perfect_l1/{names[group]}{suffix}"] = _mean(distances[rows])
            scores[f"perfect_l1/{names[group]}_cross{suffix}"] = _mean(distances[rows][cross])
        scores[f"num_targets/{names[group]}"] = int(rows.sum())
    return scores


def format_grouped_translation_scores(scores: dict, group_names) -> str:
    """A small text table of `grouped_translation_scores` (with the L1 rows when it had the ground truth)."""
    rows = []
    for name in group_names:
        rows += [(f"{name} targets ({scores[f'num_targets/{name}']}), per entry", f"target_accuracy/{name}"),
                 (f"{name} targets, all entries right", f"target_exact_match/{name}"),
                 (f"{name} targets, from the other dataset", f"target_accuracy/{name}_cross")]
        if "perfect_l1" in scores:
            rows += [(f"{name} targets, L1 to perfect", f"perfect_l1/{name}"),
                     (f"{name} targets, L1 to perfect, other dataset", f"perfect_l1/{name}_cross")]
    rows.append(("content class kept", "content_accuracy"))
    if "perfect_l1" in scores:
        rows.append(("L1 to the perfect translation, all targets", "perfect_l1"))
    lines = [f"{'':<50}{'translated':>11}{'input':>8}   ({scores['num_images']} test images)"]
    lines += [f"{label:<50}{scores[key]:>11.3f}{scores[key + '_baseline']:>8.3f}" for label, key in rows]
    return "\n".join(lines)
