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
_COMPARE = flags.DEFINE_string("compare_export", None, "A SavedModel (its newest version) with a `sample` signature to score beside.")


def _stages(model, real_batch, seed):
    """``{row name: full-size images [B, H, W, C]}`` for one batch of real training images and one noise seed."""
    import tensorflow as tf

    from kgan.networks.lapgan import gaussian_pyramid, upsample

    levels = model.num_levels
    size = int(real_batch.shape[0])
    z = model.latent_vectors(size, seed)
    parts = model.split_latent(z)
    real = gaussian_pyramid(real_batch, levels)

    def upsample_to_full(image, level):
        for _ in range(level, levels - 1):
            image = upsample(image)
        return tf.clip_by_value(image, -1.0, 1.0)

    def refine(image, start):
        for k in range(start, levels):
            coarse = upsample(image)
            image = tf.clip_by_value(coarse + tf.cast(getattr(model, f"generator_{k}")([coarse, parts[k]], training=False),
                                                      tf.float32), -1.0, 1.0)
        return image

    generated = model.sample_levels(z)
    stages = {
        "real coarse only (I_0 upsampled)": upsample_to_full(real[0], 0),
        "generated coarse only (G_0 upsampled)": upsample_to_full(generated[0], 0),
        "real I_0, generated residuals": refine(real[0], 1),
    }
    if levels > 2:  # With two levels this is the row above.
        stages[f"real I_{levels - 2}, generated last residual"] = refine(real[levels - 2], levels - 1)
    stages["whole pyramid (the model's samples)"] = generated[-1]
    return stages


def _compared_sampler(export_dir):
    """``(count, seed) -> images`` from the newest version of a SavedModel's ``sample`` signature."""
    import tensorflow as tf

    versions = sorted((int(v) for v in os.listdir(export_dir) if v.isdigit()), reverse=True)
    if not versions:
        raise app.UsageError(f"--compare_export={export_dir} holds no numbered version directory.")
    sample = tf.saved_model.load(os.path.join(export_dir, str(versions[0]))).signatures["sample"]
    return lambda count, seed: sample(num_images=tf.constant(count), seed=tf.constant(seed, tf.int64))["images"]


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from kgan.data import load_images
    from kgan.metrics import quality
    from kgan.metrics.features import feature_extractor
    from kgan.metrics.frechet import FeatureStatistics, frechet_distance
    from kgan.networks.lapgan import gaussian_pyramid, upsample
    from kgan.saving.checkpoint_format import load_model_from_checkpoint

    model, metadata = load_model_from_checkpoint(_RUN.value)
    if model.num_levels < 2:
        raise app.UsageError(f"{_RUN.value} holds a one-level LapGAN: nothing to split.")
    extractor = feature_extractor(_FEATURES.value)
    reference = FeatureStatistics.of(quality.reference_features(extractor, "fashion_mnist", "test", _NUM_REAL.value))
    features = {}
    batches = load_images("fashion_mnist", "train", _BATCH.value, shuffle=False, drop_remainder=False, limit=_NUM.value)
    compared = _compared_sampler(_COMPARE.value) if _COMPARE.value else None
    for index, batch in enumerate(batches):
        for name, images in _stages(model, batch, seed=index).items():
            features.setdefault(name, []).append(extractor(images.numpy()))
        if compared:
            images = compared(int(batch.shape[0]), index)
            coarse = gaussian_pyramid(images, model.num_levels)[0]
            for _ in range(model.num_levels - 1):
                coarse = upsample(coarse)
            features.setdefault(f"{_COMPARE.value}: samples", []).append(extractor(images.numpy()))
            features.setdefault(f"{_COMPARE.value}: samples cut to level 0's size, upsampled", []).append(
                extractor(tf.clip_by_value(coarse, -1.0, 1.0).numpy()))
    print(f"LapGAN at {metadata['train_steps']} steps ({_RUN.value}); FID in {extractor.name} features, "
          f"{_NUM.value} images per row vs the first {_NUM_REAL.value} Fashion-MNIST test images")
    print("| full-size images built from | FID |\n| --- | --- |")
    for name, parts in features.items():
        stats = FeatureStatistics.of(np.concatenate(parts))
        print(f"| {name} | {frechet_distance(reference.mean, reference.covariance, stats.mean, stats.covariance):.2f} |")


if __name__ == "__main__":
    app.run(main)
