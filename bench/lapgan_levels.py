r"""Where a trained LapGAN loses quality: FID of each stage of its pyramid, real and generated side by side.

A LapGAN (Denton et al. 2015) trains every level on the *real* coarser image
and samples each on the *generated* one. This script takes a run's newest
checkpoint and scores, against the first ``--num_real`` Fashion-MNIST test
images, full-size images (28 x 28) built in five ways:

* ``real coarse only``: the real I_0 upsampled to full size (no residuals):
  what level 0 alone can reach;
* ``generated coarse only``: G_0's images, upsampled the same way;
* ``real I_0, generated residuals``: levels >= 1 on the real coarsest images;
* ``real I_{L-2}, generated last residual``: only the finest level generated
  (three or more levels);
* ``whole pyramid``: the model's own samples.

Comparing rows says which level costs the most (e.g. a large gap between
the last two rows and the third one is the train/sample mismatch).
``--compare_export`` adds the same two views of another model's samples (a
`GAN` export's ``sample`` signature): full size, and cut to the pyramid's
coarsest size and upsampled back -- how good its coarse structure is.

    python bench/lapgan_levels.py --run=runs/lapgan_fashion_mnist
    python bench/lapgan_levels.py --run=runs/bench_quality/lapgan --compare_export=runs/bench_quality/saved_models/gan
    python bench/lapgan_levels.py --run=runs/lapgan_fashion_mnist --features=inception
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

_RUN = flags.DEFINE_string("run", None, "A LapGAN run directory (or checkpoint).", required=True)
_FEATURES = flags.DEFINE_enum("features", "classifier", ["inception", "classifier"], "Feature network for FID.")
_NUM = flags.DEFINE_integer("num_samples", 10_000, "Images per row (generated and real training images alike).")
_NUM_REAL = flags.DEFINE_integer("num_real", 10_000, "Fashion-MNIST test images (reference).")
_BATCH = flags.DEFINE_integer("batch_size", 500, "Images per forward pass.")
_COMPARE = flags.DEFINE_string("compare_export", None, "A kgan export (a version directory, or a model directory: its "
                               "newest version) with a `sample` signature, to score beside.")


def _coarse_at_full_size(coarse, levels):
    """Level-0 images ``[B, h_0, w_0, C]`` upsampled ``levels - 1`` times to full size, clipped to [-1, 1]."""
    import tensorflow as tf

    from kgan.networks.lapgan import upsample

    for _ in range(levels - 1):
        coarse = upsample(coarse)
    return tf.clip_by_value(coarse, -1.0, 1.0)


def _stages(model, real_batch, seed):
    """``{row name: full-size images [B, H, W, C]}`` for one batch of real training images and one noise seed."""
    import tensorflow as tf

    from kgan.networks.lapgan import gaussian_pyramid, upsample

    levels = model.num_levels
    size = int(real_batch.shape[0])
    z = model.latent_vectors(size, seed)
    parts = model.split_latent(z)
    real = gaussian_pyramid(real_batch, levels)

    def refine(image, start):
        for k in range(start, levels):
            coarse = upsample(image)
            image = tf.clip_by_value(coarse + tf.cast(getattr(model, f"generator_{k}")([coarse, parts[k]], training=False),
                                                      tf.float32), -1.0, 1.0)
        return image

    generated = model.sample_levels(z)
    stages = {
        "real coarse only (I_0 upsampled)": _coarse_at_full_size(real[0], levels),
        "generated coarse only (G_0 upsampled)": _coarse_at_full_size(generated[0], levels),
        "real I_0, generated residuals": refine(real[0], 1),
    }
    if levels > 2:  # With two levels this is the row above.
        stages[f"real I_{levels - 2}, generated last residual"] = refine(real[levels - 2], levels - 1)
    stages["whole pyramid (the model's samples)"] = generated[-1]
    return stages


def _compared_batches(export_dir, count, batch_size):
    """Batches of ``count`` samples of a SavedModel's ``sample`` signature (its newest version if it holds several)."""
    from kgan import export
    from kgan.metrics.quality import generated_batches

    version = export.latest_version(export_dir)
    path = os.path.join(export_dir, str(version)) if version is not None else export_dir
    return generated_batches(path, count, batch_size=batch_size)


def main(argv):
    del argv
    import numpy as np

    from kgan.data import load_images
    from kgan.metrics import quality
    from kgan.metrics.features import feature_extractor
    from kgan.metrics.frechet import FeatureStatistics, frechet_distance
    from kgan.networks.lapgan import gaussian_pyramid
    from kgan.saving.checkpoint_format import load_model_from_checkpoint

    model, metadata = load_model_from_checkpoint(_RUN.value)
    if model.num_levels < 2:
        raise app.UsageError(f"{_RUN.value} holds a one-level LapGAN: nothing to split.")
    extractor = feature_extractor(_FEATURES.value)
    reference = FeatureStatistics.of(quality.reference_features(extractor, "fashion_mnist", "test", _NUM_REAL.value))
    features = {}
    batches = load_images("fashion_mnist", "train", _BATCH.value, shuffle=False, drop_remainder=False, limit=_NUM.value)
    compared = _compared_batches(_COMPARE.value, _NUM.value, _BATCH.value) if _COMPARE.value else None
    for index, batch in enumerate(batches):
        for name, images in _stages(model, batch, seed=index).items():
            features.setdefault(name, []).append(extractor(images.numpy()))
        if compared:
            images = next(compared)
            coarse = _coarse_at_full_size(gaussian_pyramid(images, model.num_levels)[0], model.num_levels)
            features.setdefault(f"{_COMPARE.value}: samples", []).append(extractor(images))
            features.setdefault(f"{_COMPARE.value}: samples cut to level 0's size, upsampled", []).append(extractor(coarse.numpy()))
    print(f"LapGAN at {metadata['train_steps']} steps ({_RUN.value}); FID in {extractor.name} features, "
          f"{_NUM.value} images per row vs the first {_NUM_REAL.value} Fashion-MNIST test images")
    print("| full-size images built from | FID |\n| --- | --- |")
    for name, parts in features.items():
        stats = FeatureStatistics.of(np.concatenate(parts))
        print(f"| {name} | {frechet_distance(reference.mean, reference.covariance, stats.mean, stats.covariance):.2f} |")


if __name__ == "__main__":
    app.run(main)
