r"""Does a trained generator sample as well in inference mode as in training mode? FID of both, side by side.

A generator with batch normalisation samples (``training=False``) with its
moving statistics. When those do not describe the activations a sample
produces -- e.g. one batch-norm layer shared by several recurrent steps
(docs/design.md, "Batch normalisation shared across recurrent steps") --
its samples are worse than the same generator's with batch statistics
(``training=True``). This script loads a run's newest checkpoint, draws
``--num_samples`` samples both ways from the same latent vectors, and prints
their FID against the first ``--num_real`` Fashion-MNIST test images.

    python bench/batch_statistics.py --run=runs/gran_fashion_mnist
    python bench/batch_statistics.py --run=runs/bench_quality/gan --features=inception
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

_RUN = flags.DEFINE_string("run", None, "A run directory (or checkpoint) of a model with one `generator` and `latent_vectors`.",
                           required=True)
_FEATURES = flags.DEFINE_enum("features", "classifier", ["inception", "classifier"], "Feature network for FID.")
_NUM = flags.DEFINE_integer("num_samples", 10_000, "Samples per mode.")
_NUM_REAL = flags.DEFINE_integer("num_real", 10_000, "Fashion-MNIST test images (reference).")
_BATCH = flags.DEFINE_integer("batch_size", 500, "Samples per forward pass (the batch statistics' batch).")


def main(argv):
    del argv
    import numpy as np

    from kgan.metrics import quality
    from kgan.metrics.features import feature_extractor
    from kgan.metrics.frechet import FeatureStatistics, frechet_distance
    from kgan.saving.checkpoint_format import load_model_from_checkpoint

    model, metadata = load_model_from_checkpoint(_RUN.value)
    if not hasattr(model, "generator") or not hasattr(model, "latent_vectors"):
        raise app.UsageError(f"{_RUN.value} holds a {type(model).__name__}, which has no single latent-driven generator.")
    extractor = feature_extractor(_FEATURES.value)
    reference = FeatureStatistics.of(quality.reference_features(extractor, "fashion_mnist", "test", _NUM_REAL.value))
    print(f"{type(model).__name__} at {metadata['train_steps']} steps ({_RUN.value}); FID in {extractor.name} features, "
          f"{_NUM.value} samples (batches of {_BATCH.value}) vs the first {_NUM_REAL.value} Fashion-MNIST test images")
    print("| generator mode | FID |\n| --- | --- |")
    for training, name in ((False, "inference (moving statistics): how kgan samples"), (True, "training (batch statistics)")):
        features = [extractor(model.generator(model.latent_vectors(_BATCH.value, seed), training=training).numpy())
                    for seed in range(-(-_NUM.value // _BATCH.value))]
        stats = FeatureStatistics.of(np.concatenate(features)[:_NUM.value])
        print(f"| {name} | {frechet_distance(reference.mean, reference.covariance, stats.mean, stats.covariance):.2f} |")


if __name__ == "__main__":
    app.run(main)
