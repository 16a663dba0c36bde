r"""Trains and caches the evaluation classifier of `kgan.metrics.classifier`.

    python -m kgan.metrics.train_classifier --dataset=fashion_mnist      # ~2 min on 2 CPU cores
    python -m kgan.metrics.train_classifier --dataset=embedded_fashion_mnist --epochs=5
    python -m kgan.metrics.train_classifier --dataset=mnist --cache_dir=/tmp/kgan-cache

Writes ``<cache_dir>/classifiers/<dataset>-v<N>.keras`` (default cache dir:
``$KGAN_CACHE_DIR``, ``$XDG_CACHE_HOME/kgan`` or ``~/.cache/kgan``) and a
``.json`` next to it with the test accuracy, then prints both. An existing
classifier is kept unless ``--overwrite`` is given. `load_classifier` reads
it back.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from kgan.metrics import classifier  # noqa: E402

_DATASET = flags.DEFINE_string("dataset", "fashion_mnist", "Labelled kgan.data dataset to train on.")
_EPOCHS = flags.DEFINE_integer("epochs", classifier.RECIPE["epochs"], "Passes over the training split.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", classifier.RECIPE["batch_size"], "Examples per step.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", classifier.RECIPE["learning_rate"], "Adam learning rate.")
_SEED = flags.DEFINE_integer("seed", classifier.RECIPE["seed"], "Seeds initialisation and data order.")
_LIMIT = flags.DEFINE_integer("limit", None, "Train on the first `limit` training examples only.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory (see kgan.data.load_images).")
_CACHE_DIR = flags.DEFINE_string("cache_dir", None, "Cache root; default $KGAN_CACHE_DIR, $XDG_CACHE_HOME/kgan or ~/.cache/kgan.")
_OVERWRITE = flags.DEFINE_boolean("overwrite", False, "Retrain even if a cached classifier exists.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    path = classifier.classifier_path(_DATASET.value, _CACHE_DIR.value)
    if os.path.exists(path) and not _OVERWRITE.value:
        metadata = classifier.classifier_metadata(_DATASET.value, _CACHE_DIR.value) or {}
        print(f"kgan: a classifier is cached at {path} (test accuracy {metadata.get('test_accuracy')}); "
              "pass --overwrite to retrain.")
        return
    model, metrics = classifier.train_classifier(
        _DATASET.value, epochs=_EPOCHS.value, batch_size=_BATCH_SIZE.value, learning_rate=_LEARNING_RATE.value,
        seed=_SEED.value, data_dir=_DATA_DIR.value, limit=_LIMIT.value, verbose=2,
    )
    classifier.save_classifier(model, path, metrics)
    print(f"kgan: {_DATASET.value} classifier test accuracy {metrics['test_accuracy']:.4f}; saved to {path}")


if __name__ == "__main__":
    app.run(main)
