"""A small CNN classifier for evaluating generators on labelled image datasets.

Uses:

* **Conditional sample accuracy**: the fraction of samples ``G(z, y)`` that a
  classifier trained on real data assigns to class ``y`` (`conditional_accuracy`);
  a standard check of class-conditional GANs (e.g. Odena et al. 2017 use an
  Inception network on ImageNet; on MNIST-like data a small CNN suffices).
* **Features for distribution distances**: `classifier_features` exposes the
  penultimate layer (``features``, 128-d), a domain-specific stand-in for
  FID's Inception pool3 features on 28x28 data.
* **Content checks**: predicted classes of translated images (StarGAN).

Everything is reproducible from this repository: `train_classifier` trains the
network (`build_classifier`) on a `kgan.data.load_images` dataset, and
`load_classifier` caches the result under ``~/.cache/kgan/classifiers/``
(``$KGAN_CACHE_DIR`` or ``$XDG_CACHE_HOME/kgan`` if set, or a ``cache_dir``
argument), training it on first use. The command line is
``python -m kgan.metrics.train_classifier --dataset=fashion_mnist``.

Measured on 2 CPU cores (``RECIPE`` below, seed 0): Fashion-MNIST test accuracy
0.913 after 5 epochs over the 60,000 training images (~2 minutes; 0.900 after
3); on the embedded 6,000-image subset, 0.869 on its 1,000 test images after 5
epochs (~15 seconds).
"""

from __future__ import annotations

import dataclasses
import json
import os

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from kgan import atomic_files, build_lock
from kgan.metrics.mode_coverage import histogram_kl

# Bump when build_classifier or RECIPE changes: cached weights of another
# version are then retrained rather than silently reused.
CLASSIFIER_VERSION = 1
#: The default training recipe of `train_classifier`.
RECIPE = {"epochs": 5, "batch_size": 128, "learning_rate": 1e-3, "seed": 0}
FEATURES_LAYER = "features"


def build_classifier(image_shape=(28, 28, 1), num_classes: int = 10, name: str = "classifier") -> keras.Model:
    """A small CNN: images ``[B, H, W, C]`` float32 in [-1, 1] -> class logits ``[B, num_classes]``.

    Two 3x3 convolution + 2x2 max-pool stages (32 and 64 filters, ReLU), a
    128-unit ReLU layer named ``"features"``, dropout 0.3, and a linear class
    layer (float32 logits). About 0.4 M parameters for 28x28x1 inputs.

    Args:
      image_shape: ``(H, W, C)``.
      num_classes: number of classes.
      name: model name.
    """
    images = keras.Input(tuple(image_shape), name="images")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(images)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    features = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    x = layers.Dropout(0.3, name="dropout")(features)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


def _labelled(dataset, split, batch_size, *, data_dir=None, limit=None, shuffle=False, seed=None):
    from kgan import data

    return data.load_images(
        dataset, split, batch_size, data_dir=data_dir, with_labels=True, shuffle=shuffle, limit=limit, seed=seed,
        drop_remainder=False,
    )


def train_classifier(
    dataset: str = "fashion_mnist",
    *,
    epochs: int = RECIPE["epochs"],
    batch_size: int = RECIPE["batch_size"],
    learning_rate: float = RECIPE["learning_rate"],
    seed: int = RECIPE["seed"],
    data_dir=None,
    limit: int | None = None,
    test_split: str = "test",
    verbose: int = 0,
):
    """Trains `build_classifier` on a labelled `kgan.data` dataset; returns ``(model, metrics)``.

    Adam on the sparse softmax cross-entropy, the training split shuffled
    with ``seed``; weights are initialised with ``seed`` too, so a run is
    reproducible on one machine.

    Args:
      dataset: a `kgan.data.KNOWN_DATASETS` name with labels
        (``"fashion_mnist"``, ``"mnist"``, ``"embedded_fashion_mnist"``, ``"cifar10"``).
      epochs: passes over the training split.
      batch_size: examples per step.
      learning_rate: Adam's learning rate.
      seed: seeds initialisation, dropout and the shuffle order.
      data_dir: TFDS data directory (see `kgan.data.load_images`).
      limit: train on the first ``limit`` training examples only.
      test_split: the split the returned accuracy is measured on.
      verbose: Keras progress output.

    Returns:
      ``(model, metrics)``; ``metrics`` holds ``test_accuracy`` (on
      ``test_split``), ``train_examples``, ``epochs``, ``dataset``.
    """
    from kgan import data

    info = data.dataset_info(dataset)
    if not info.has_labels:
        raise ValueError(f"{dataset!r} has no class labels; a classifier needs a labelled dataset.")
    keras.utils.set_random_seed(seed)
    model = build_classifier(info.image_shape, info.num_classes, name=f"{dataset}_classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    train = _labelled(dataset, "train", batch_size, data_dir=data_dir, limit=limit, shuffle=True, seed=seed)
    model.fit(train, epochs=epochs, verbose=verbose)
    _, accuracy = model.evaluate(_labelled(dataset, test_split, 500, data_dir=data_dir), verbose=0)
    examples = min(info.splits["train"], limit or info.splits["train"])
    metrics = {"dataset": dataset, "test_accuracy": float(accuracy), "train_examples": int(examples), "epochs": int(epochs)}
    return model, metrics


def default_cache_dir() -> str:
    """``$KGAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/kgan``, else ``~/.cache/kgan``."""
    if os.environ.get("KGAN_CACHE_DIR"):
        return os.environ["KGAN_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kgan")


def classifier_path(dataset: str = "fashion_mnist", cache_dir=None) -> str:
    """Where `load_classifier` keeps the classifier of ``dataset``: ``<cache>/classifiers/<dataset>-v<N>.keras``."""
    root = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
    return os.path.join(root, "classifiers", f"{dataset}-v{CLASSIFIER_VERSION}.keras")


def save_classifier(model: keras.Model, path, metrics: dict | None = None) -> str:
    """Saves ``model`` (``.keras``) and ``metrics`` (``<path>.json``) atomically; returns ``path``."""
    path = os.fspath(path)
    with atomic_files.atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    atomic_files.write_text(path + ".json", json.dumps({"version": CLASSIFIER_VERSION, **(metrics or {})}, indent=1))
    return path


def load_classifier(dataset: str = "fashion_mnist", cache_dir=None, train_if_missing: bool = True, **train_kwargs):
    """The cached evaluation classifier of ``dataset``, trained (and cached) first if missing.

    Args:
      dataset: labelled dataset name (see `train_classifier`).
      cache_dir: cache root; default `default_cache_dir`.
      train_if_missing: train with `train_classifier` (``**train_kwargs``) when
        no cached classifier exists; otherwise raise.

    Returns:
      A `keras.Model`: images ``[B, H, W, C]`` in [-1, 1] -> logits ``[B, K]``.

    Raises:
      FileNotFoundError: nothing cached and ``train_if_missing`` is False; the
        message gives the command that trains it.
    """
    path = classifier_path(dataset, cache_dir)
    if os.path.exists(path):
        return keras.models.load_model(path)
    if not train_if_missing:
        flag = f" --cache_dir={cache_dir}" if cache_dir is not None else ""
        raise FileNotFoundError(
            f"No evaluation classifier for {dataset!r} at {path}. Train it (a few minutes on a CPU) with "
            f"`python -m kgan.metrics.train_classifier --dataset={dataset}{flag}`, or call "
            f"load_classifier({dataset!r}, train_if_missing=True)."
        )

    def build(path):
        model, metrics = train_classifier(dataset, **train_kwargs)
        save_classifier(model, path, metrics)
        return model

    return load_or_build(path, build)


def load_or_build(path, build) -> keras.Model:
    """The model saved at ``path``, or ``build(path)``'s: it trains a model, saves it at ``path`` and returns it.

    Two processes asking at once (test workers, binaries) would both train
    it: under `kgan.build_lock.building` one does, the other waits and loads
    the result.
    """
    with build_lock.building(path):
        if os.path.exists(path):
            return keras.models.load_model(path)
        return build(path)


def classifier_metadata(dataset: str = "fashion_mnist", cache_dir=None) -> dict | None:
    """The metrics saved with a cached classifier (``test_accuracy``, ...), or None."""
    try:
        with open(classifier_path(dataset, cache_dir) + ".json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def predict_classes(classifier: keras.Model, images, batch_size: int = 500) -> np.ndarray:
    """Predicted class of each image ``[N, H, W, C]`` in [-1, 1]: int64 ``[N]``."""
    logits = classifier.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    return np.argmax(logits, axis=-1)


def classifier_accuracy(classifier: keras.Model, images, labels, batch_size: int = 500) -> float:
    """Fraction of ``images`` (``[N, H, W, C]`` in [-1, 1]) classified as ``labels`` (int ``[N]``)."""
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape [{len(images)}]; got {labels.shape}.")
    return float(np.mean(predict_classes(classifier, images, batch_size) == labels))


def conditional_accuracy(model, classifier: keras.Model, samples_per_class: int = 100, seed: int = 0, batch_size: int = 500) -> float:
    """Classifier accuracy on class-conditional samples: the fraction of ``G(z, y)`` classified as ``y``.

    Draws ``samples_per_class`` samples of every class ``y`` in
    ``[0, model.num_classes)`` with ``model.generate(labels=..., seed=seed)``.
    Chance level is ``1 / num_classes``.

    Args:
      model: a `kgan.ConditionalGAN` (anything with ``num_classes`` and
        ``generate(labels=..., seed=...)`` returning images in [-1, 1]).
      classifier: e.g. `load_classifier`'s, for the data the model was trained on.
      samples_per_class: samples drawn per class.
      seed: z seed.
      batch_size: generation and classification batch size.
    """
    labels = np.repeat(np.arange(model.num_classes, dtype=np.int32), samples_per_class)
    correct = 0
    for start in range(0, len(labels), batch_size):
        chunk = labels[start : start + batch_size]
        images = np.asarray(model.generate(labels=chunk, seed=seed + start))
        correct += int(np.sum(predict_classes(classifier, images, batch_size) == chunk))
    return correct / len(labels)


def classifier_features(classifier: keras.Model) -> keras.Model:
    """A model mapping images to the classifier's 128-d ``features`` layer (for FID-like distances)."""
    return keras.Model(classifier.inputs, classifier.get_layer(FEATURES_LAYER).output, name=f"{classifier.name}_features")


def _logits_to_probabilities(logits):
    return tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1).numpy()


def classifier_score(classifier: keras.Model, images, batch_size: int = 500) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))`` with the classifier's p(y|x): an Inception-Score analogue.

    Salimans et al. (2016) with a domain classifier instead of Inception; in
    ``[1, num_classes]``, higher for confident and class-diverse samples.

    Args:
      classifier: a trained classifier.
      images: ``[N, H, W, C]`` in [-1, 1].
      batch_size: prediction batch size.
    """
    return _score(_class_probabilities(classifier, images, batch_size))


def _class_probabilities(classifier, images, batch_size):
    """``[N, num_classes]`` float64 p(y|x), clipped away from 0 for the logs."""
    logits = classifier.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    return np.clip(_logits_to_probabilities(logits).astype(np.float64), 1e-12, 1.0)


def _score(p):
    """``exp(E_x KL(p(y|x) || p(y)))`` of ``[N, C]`` probabilities."""
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


@dataclasses.dataclass(frozen=True)
class ClassBalance:
    """How generated samples spread over the classes, as the evaluation classifier sees them.

    Attributes:
      histogram: ``[num_classes]`` share of samples predicted as each class (sums to 1).
      classes_covered: classes receiving at least ``min_share`` of their fair
        share ``N / num_classes`` (a collapsed generator covers few).
      kl_from_uniform: ``KL(histogram || uniform)`` in nats; 0 for perfectly
        balanced samples, ``log(num_classes)`` when all fall in one class.
      classifier_score: `classifier_score` of the same samples.
    """

    histogram: np.ndarray
    classes_covered: int
    kl_from_uniform: float
    classifier_score: float


def class_balance(classifier: keras.Model, images, min_share: float = 0.1, batch_size: int = 500) -> ClassBalance:
    """Class coverage, class-histogram KL and classifier score of ``images`` (``[N, H, W, C]`` in [-1, 1]).

    The mode-collapse view of Fashion-MNIST/MNIST samples (Srivastava et al.
    2017 count modes of stacked MNIST the same way): a domain classifier
    labels each sample; a generator that covers every class evenly scores
    ``classes_covered = num_classes`` and ``kl_from_uniform`` near 0.
    """
    p = _class_probabilities(classifier, images, batch_size)
    num_classes = p.shape[1]
    counts = np.bincount(np.argmax(p, axis=1), minlength=num_classes)
    covered = int(np.sum(counts >= min_share * len(p) / num_classes))
    return ClassBalance(counts / counts.sum(), covered, histogram_kl(counts), _score(p))
