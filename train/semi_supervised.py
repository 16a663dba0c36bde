"""The data of CatGAN's semi-supervised mode (``train/cat_gan.py --labels_per_class=N``).

* **The labelled subset** (`labelled_subset`): the first N examples of each
  class of the training split, in the split's own order (within ``--limit``),
  so every run, every seed and the bench's plain classifier label the same
  examples.
* **The stream** (`make_dataset`): every minibatch of ``--batch_size`` holds
  ``batch_size - labelled_batch_size`` examples of the whole training split
  (shuffled, labelled ones included) with their labels hidden (-1,
  `kgan.models.cat_gan.UNLABELLED`), then ``labelled_batch_size`` examples of
  the labelled subset with their labels (reshuffled every pass). So the
  cross-entropy sees labelled examples at a fixed rate however small the
  subset is: with 1,000 of 60,000 labelled, a plain shuffle would give a
  minibatch of 64 about one. A train step of k minibatches (k discriminator
  steps) is k such minibatches in a row, so each D step gets its share.

Without ``--labels_per_class`` the stream is `train_lib.make_dataset`'s
(samples only).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kgan import data as kgan_data
from kgan.models.cat_gan import UNLABELLED
from train import train_lib

_READ_BATCH = 1000


def labelled_subset(config):
    """``(images float32 [K * N, H, W, C] in [-1, 1], labels int32 [K * N])``: the first N examples of each class.

    N is ``config.labels_per_class`` and K ``config.clusters``; examples keep
    the order of ``config.split`` (read unshuffled, within ``config.limit``),
    and reading stops once every class has N.

    Raises:
      ValueError: the split (or its first ``--limit`` examples) holds fewer
        than N examples of some class, or a label outside ``[0, K)``.
    """
    wanted, classes = int(config.labels_per_class), int(config.clusters)
    counts = np.zeros(classes, np.int64)
    images, labels = [], []
    batches = kgan_data.load_images(
        config.dataset, config.split, _READ_BATCH, **config.data_options(), limit=config.limit, shuffle=False,
        drop_remainder=False, with_labels=True,
    )
    for batch_images, batch_labels in batches:
        batch_labels = batch_labels.numpy()
        if batch_labels.max() >= classes:
            raise ValueError(f"{config.dataset} has a label {batch_labels.max()}, outside [0, {classes}): semi-supervised "
                             f"training needs --num_clusters = the number of classes.")
        for index, label in enumerate(batch_labels):
            if counts[label] < wanted:
                counts[label] += 1
                images.append(batch_images[index].numpy())
                labels.append(label)
        if counts.min() >= wanted:
            return np.stack(images), np.asarray(labels, np.int32)
    short = {int(c): int(n) for c, n in enumerate(counts) if n < wanted}
    within = f" in its first {config.limit} examples" if config.limit else ""
    raise ValueError(f"--labels_per_class={wanted}: {config.dataset}/{config.split} has fewer examples of some classes{within} "
                     f"(class: count) {short}; lower --labels_per_class or raise --limit.")


def make_dataset(config, seed: int, batch_size: int):
    """The endless training stream of ``batch_size`` examples per batch (a train step's k minibatches).

    Unsupervised: `train_lib.make_dataset` (samples). Semi-supervised:
    ``(images, labels int32)``, each minibatch of ``config.batch_size`` laid
    out as the module docstring says.
    """
    if not config.semi_supervised:
        return train_lib.make_dataset(config, seed, batch_size)
    minibatch, labelled = config.batch_size, config.labelled_batch_size
    steps = batch_size // minibatch  # The model's minibatches per step (train_lib asks for k * batch_size).
    hidden = train_lib.make_dataset(config, seed, minibatch - labelled).map(
        lambda images: (images, tf.fill([minibatch - labelled], tf.constant(UNLABELLED, tf.int32)))
    )
    images, labels = labelled_subset(config)
    known = (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(labelled, drop_remainder=True)
    )
    stream = tf.data.Dataset.zip((hidden, known)).map(
        lambda u, k: (tf.concat([u[0], k[0]], 0), tf.concat([u[1], k[1]], 0))
    )
    if steps > 1:
        shape = images.shape[1:]
        stream = stream.batch(steps, drop_remainder=True).map(
            lambda x, y: (tf.reshape(x, [steps * minibatch, *shape]), tf.reshape(y, [steps * minibatch]))
        )
    return stream.prefetch(tf.data.AUTOTUNE)


def describe_data(config):
    """``train_lib.describe_data``'s report, plus ``labels_per_class`` and ``labelled_examples`` when semi-supervised."""
    report = train_lib.describe_data(config)
    if report is not None and config.semi_supervised:
        report = dict(report, labels_per_class=config.labels_per_class,
                      labelled_examples=config.labels_per_class * int(config.clusters))
    return report
