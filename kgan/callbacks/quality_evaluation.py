"""The `QualityEvaluation` callback: KID, FID or any `kgan.metrics.quality.METRICS` of the samples every n epochs."""

from __future__ import annotations

import os

import keras
import tensorflow as tf
from absl import logging

from kgan.callbacks._chief import _is_chief
from kgan.rendering import tensorboard_available

__all__ = ["QualityEvaluation"]


class QualityEvaluation(keras.callbacks.Callback):
    """Evaluates sample quality every n epochs during `fit` (`kgan.metrics.quality.evaluate_generator`).

    The default is cheap enough to run often on a CPU: KID (Bińkowski et al.
    2018, unbiased, so a small sample does not shift it) on 2,000 samples in
    the 128-d features of kgan's evaluation classifier. ``features="inception"``
    and ``metrics=("fid", "kid")`` give the standard numbers, ~10x slower.

    Each value is added to the epoch's ``logs`` (key ``"quality/<metric>"``,
    e.g. ``quality/kid``; callbacks after this one, such as CSVLogger or
    EarlyStopping, see it) and, with ``tensorboard_dir``, written there with
    `tf.summary.scalar` at step = epoch. Only the chief worker evaluates.

    Args:
      dataset, split, num_real: the reference images.
      every_n_epochs: evaluate after epochs n, 2n, ...
      num_samples: generated images per evaluation (seed fixed, so successive
        evaluations see the same latent vectors).
      features: ``"classifier"``, ``"inception"`` or a
        `kgan.metrics.features.FeatureExtractor`.
      metrics: subset of `kgan.metrics.quality.METRICS` (``intra_fid`` only
        for a ConditionalGAN; ``inception_score`` is refused with the reason).
      resize: the Inception resize, ``"legacy"`` (None: the default) or
        ``"clean"`` (`kgan.metrics.features`).
      tensorboard_dir: where the scalars go (e.g. ``<run>/logs/quality``).
      **kwargs: passed on to `evaluate_generator` (``cache_dir``, ``data_dir``,
        ``kid_subsets``, ...).
    """

    def __init__(self, dataset="fashion_mnist", split="test", every_n_epochs=1, num_samples=2000, num_real=2000,
                 features="classifier", metrics=("kid",), resize=None, tensorboard_dir=None, **kwargs):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1; got {every_n_epochs}.")
        from kgan.metrics.features import space_resize
        from kgan.metrics.quality import check_metrics

        # Refused here, not at the first epoch's end.
        self.metrics = check_metrics(metrics)
        if isinstance(features, str):
            space_resize(features, resize or "legacy")
        self.dataset, self.split, self.every_n_epochs = dataset, split, int(every_n_epochs)
        self.num_samples, self.num_real, self.features, self.resize = num_samples, num_real, features, resize
        self.tensorboard_dir, self.kwargs = tensorboard_dir, kwargs
        self.history = []
        self._writer = None

    def on_train_begin(self, logs=None):
        if "intra_fid" in self.metrics:
            from kgan.metrics.quality import generator_classes

            if generator_classes(self.model) is None:
                raise ValueError(
                    f"intra_fid needs a class-conditional model (a ConditionalGAN); {type(self.model).__name__} is not."
                )
        if isinstance(self.features, str):
            from kgan.metrics.features import feature_extractor

            # Built once: the feature network (and the cached real features) serve every evaluation.
            self.features = feature_extractor(self.features, cache_dir=self.kwargs.get("cache_dir"),
                                              resize=self.resize or "legacy")

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every_n_epochs or not _is_chief(self.model):
            return
        from kgan.metrics.quality import REPORT_VALUES, evaluate_generator

        report = evaluate_generator(
            self.model, self.dataset, self.split, num_samples=self.num_samples, num_real=self.num_real,
            features=self.features, metrics=self.metrics, resize=self.resize, **self.kwargs,
        )
        values = {k: float(v) for k, v in report.items() if k in REPORT_VALUES}
        self.history.append({"epoch": completed, **values})
        if logs is not None:
            logs.update({f"quality/{k}": v for k, v in values.items()})
        if self.tensorboard_dir and tensorboard_available():
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(os.fspath(self.tensorboard_dir))
            with self._writer.as_default():
                for key, value in values.items():
                    tf.summary.scalar(f"quality/{key}", value, step=completed)
            self._writer.flush()
        logging.info("Epoch %d quality: %s", completed, ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
