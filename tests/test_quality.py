"""`kgan.metrics.quality`: generator sampling (model and SavedModel), cached reference features, the metric report
(density/coverage, intra-class FID, the resize mode, the Inception Score's refusal)."""

import os

import keras
import numpy as np
import pytest

from kgan import export
from kgan.data import load_embedded_fashion_mnist, to_model_range
from kgan.metrics import classifier as classifier_metrics
from kgan.metrics import quality
from kgan.metrics.features import FeatureExtractor
from test_case import tiny_image_gan


def _tiny_extractor(name="tiny"):
    """A fixed random conv net: 16-d features that respond to image content, in milliseconds."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(8, 5, strides=2, activation="tanh")(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, activation="tanh")(x)
    return FeatureExtractor(name, keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)), batch_size=256)


class _Replay:
    """A 'generator' that returns the reference images themselves, in order (batch i has seed i)."""

    def __init__(self, images, batch_size=500):
        self.images, self.batch_size = images, batch_size

    def generate(self, count, seed=0):
        return self.images[seed * self.batch_size: seed * self.batch_size + count]


class _LabelledReplay:
    """A conditional 'generator' as a kgan model: sample i has label i % K and is the (i // K)-th real image of
    class (label + label_shift) % K, so label_shift=1 draws real images of the wrong class."""

    def __init__(self, images, labels, num_classes=10, label_shift=0):
        self.by_class = [images[labels == k] for k in range(num_classes)]
        self.num_classes, self.label_shift = num_classes, label_shift

    def sampling_inputs(self, count, seed=0, offset=0):
        index = np.arange(offset, offset + count)
        return index % self.num_classes, index // self.num_classes

    def __call__(self, inputs, training=False):
        labels, positions = inputs
        pools = [self.by_class[(k + self.label_shift) % self.num_classes] for k in labels]
        return np.stack([pool[j % len(pool)] for pool, j in zip(pools, positions)])


def test_model_and_its_saved_model_give_the_same_samples(tmp_path):
    model = tiny_image_gan(compile=False)
    from_model = np.concatenate(list(quality.generated_batches(model, 700, seed=3, batch_size=300)))
    path = export.export_saved_model(model, tmp_path)
    from_export = np.concatenate(list(quality.generated_batches(path, 700, seed=3, batch_size=300)))
    assert from_model.shape == (700, 28, 28, 1)
    np.testing.assert_allclose(from_export, from_model, atol=1e-5)
    # Batches have different seeds: no repeated images.
    assert not np.allclose(from_model[:300], from_model[300:600])
    with pytest.raises(TypeError, match="SavedModel path"):
        next(quality.generated_batches(object(), 1))


def test_reference_features_are_cached_per_space(tmp_path, monkeypatch):
    extractor = _tiny_extractor()
    first = quality.reference_features(extractor, "embedded_fashion_mnist", "test", 300, cache_dir=tmp_path)
    assert first.shape == (300, 16)
    import kgan.data

    monkeypatch.setattr(kgan.data, "load_images", lambda *a, **k: pytest.fail("the cache was not used"))
    np.testing.assert_array_equal(quality.reference_features(extractor, "embedded_fashion_mnist", "test", 300, cache_dir=tmp_path), first)
    monkeypatch.undo()
    other = quality.reference_features(_tiny_extractor("other"), "embedded_fashion_mnist", "test", 300, cache_dir=tmp_path)
    np.testing.assert_allclose(other, first)  # same network, separate cache entry
    assert len(list((tmp_path / "reference_features").iterdir())) == 2


def test_report_of_the_reference_itself_and_of_an_untrained_generator(tmp_path):
    images, _ = load_embedded_fashion_mnist("test")
    real = to_model_range(images[:1000])
    classifier_metrics.load_classifier("embedded_fashion_mnist", cache_dir=tmp_path, epochs=2, limit=2000)
    kwargs = dict(num_samples=1000, num_real=1000, features=_tiny_extractor(), cache_dir=tmp_path,
                  kid_subsets=10, kid_subset_size=500, classifier_dataset="embedded_fashion_mnist")
    itself = quality.evaluate_generator(_Replay(real), "embedded_fashion_mnist", **kwargs)
    assert abs(itself["fid"]) < 1e-6 and itself["precision"] == 1.0 and itself["recall"] == 1.0
    # A set against itself: every real ball holds its centre (coverage 1) and k points (density 1, see
    # test_distribution_metrics.py; 0.01 allows a tie broken by rounding).
    assert itself["coverage"] == 1.0 and abs(itself["density"] - 1.0) < 0.01
    assert itself["num_real"] == 1000 and itself["features"] == "tiny" and itself["resize"] is None
    assert itself["classes_covered"] == 10  # the real test images cover every class
    assert "intra_fid" not in itself  # not a default metric
    untrained = quality.evaluate_generator(tiny_image_gan(compile=False), "embedded_fashion_mnist", **kwargs)
    assert untrained["fid"] > 100 * max(itself["fid"], 1e-3)
    assert untrained["kid"] > 10 * untrained["kid_std"]
    # An untrained DCGAN draws near-constant images: few classes, little recall, little coverage.
    assert untrained["recall"] < 0.5 and untrained["classes_covered"] < 10 and untrained["coverage"] < 0.5
    table = quality.format_report(untrained)
    assert "1000 samples vs 1000 embedded_fashion_mnist/test images" in table and "FID" in table and "KID x 1000" in table
    assert "coverage" in table and "density" in table and "resize" not in table  # the tiny features have no resize


def test_intra_fid_tells_right_labels_from_wrong_ones(tmp_path):
    """Real images as conditional samples: with their own labels intra-FID is 0; with every label off by one the
    samples are the same images (FID 0 still) but each class's samples are another class's."""
    images, labels = load_embedded_fashion_mnist("test")
    real = to_model_range(images)
    kwargs = dict(num_samples=1000, num_real=1000, features=_tiny_extractor(), cache_dir=tmp_path, metrics=("fid", "intra_fid"))
    right = quality.evaluate_generator(_LabelledReplay(real, labels), "embedded_fashion_mnist", **kwargs)
    wrong = quality.evaluate_generator(_LabelledReplay(real, labels, label_shift=1), "embedded_fashion_mnist", **kwargs)
    assert abs(right["fid"]) < 1e-6 and abs(wrong["fid"]) < 1e-6
    assert abs(right["intra_fid"]) < 1e-6 and len(right["intra_fid_per_class"]) == 10
    assert wrong["intra_fid"] > 0.05 and min(wrong["intra_fid_per_class"]) > 1000 * max(abs(right["intra_fid"]), 1e-9)
    assert "intra-class FID" in quality.format_report(wrong)
    assert quality.generator_classes(_LabelledReplay(real, labels)) == 10


def test_intra_fid_refuses_unconditional_generators_and_unlabelled_data(tmp_path):
    replay = _Replay(np.zeros((10, 28, 28, 1), np.float32))
    assert quality.generator_classes(replay) is None
    assert quality.generator_classes(tiny_image_gan(compile=False)) is None
    with pytest.raises(ValueError, match="intra_fid .* needs a conditional generator"):
        quality.evaluate_generator(replay, metrics=("intra_fid",), features=_tiny_extractor(), cache_dir=tmp_path)
    conditional = _LabelledReplay(np.zeros((10, 28, 28, 1), np.float32), np.arange(10))
    # CelebA has attributes, no classes: refused before TFDS is touched or a sample drawn.
    with pytest.raises(ValueError, match=r"intra_fid needs the class labels of the reference images \(celeb_a/test\).*has no class labels"):
        quality.evaluate_generator(conditional, "celeb_a", metrics=("intra_fid",), features=_tiny_extractor(), cache_dir=tmp_path)


def test_intra_fid_reads_labels_as_the_reference_is_read(tmp_path):
    """A folder whose gray and RGB images need channels=3 to be read at all: the labels are read with the same
    data_options as the features (without them the folder is refused)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, name in enumerate(("a", "b")):
        for i in range(4):
            shape = (8, 8) if i == 0 else (8, 8, 3)  # one gray image per class
            path = tmp_path / "folder" / name / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(100 * k, 100 * k + 50, shape, dtype=np.uint8)).save(path)
    real = np.concatenate([rng.uniform(-1, 0, (4, 8, 8, 3)), rng.uniform(0, 1, (4, 8, 8, 3))]).astype(np.float32)
    pixels = FeatureExtractor("pixels", lambda images, training=False: keras.ops.mean(images, axis=(1, 2)), 50)  # [N, 3]
    kwargs = dict(num_samples=8, num_real=8, features=pixels, cache_dir=tmp_path / "cache", metrics=("intra_fid",))
    report = quality.evaluate_generator(_LabelledReplay(real, np.repeat([0, 1], 4), num_classes=2),
                                        f"folder:{tmp_path / 'folder'}", "train", data_options={"channels": 3}, **kwargs)
    assert report["num_real"] == 8 and len(report["intra_fid_per_class"]) == 2


def test_resize_is_recorded_checked_and_printed(tmp_path):
    with pytest.raises(ValueError, match="resize='clean', but the FeatureExtractor 'tiny' resizes with None"):
        quality.evaluate_generator(_Replay(np.zeros((4, 28, 28, 1))), metrics=("fid",), features=_tiny_extractor(),
                                   resize="clean", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="resize='clean' applies to the Inception features"):
        quality.evaluate_generator(_Replay(np.zeros((4, 28, 28, 1))), metrics=("fid",), features="classifier",
                                   resize="clean", cache_dir=tmp_path)
    report = {"features": "inception:clean", "resize": "clean", "num_samples": 10, "num_real": 10,
              "dataset": "cifar10", "split": "test", "fid": 1.0, "seconds": 1.0}
    assert "resize            clean" in quality.format_report(report)
    del report["resize"]  # a report from before resize modes
    assert "resize" not in quality.format_report(report)


def test_the_inception_score_is_refused_with_the_reason(tmp_path):
    from kgan.callbacks.quality_evaluation import QualityEvaluation
    from kgan.metrics.inception_score import InceptionScoreUnavailableError

    with pytest.raises(InceptionScoreUnavailableError, match="metric 'inception_score': The Inception Score needs the 2048->1008"):
        quality.evaluate_generator(_Replay(np.zeros((1, 28, 28, 1))), metrics=("fid", "inception_score"),
                                   features=_tiny_extractor(), cache_dir=tmp_path)
    with pytest.raises(InceptionScoreUnavailableError, match="do not include it"):
        QualityEvaluation(metrics=("inception_score",))
    assert "inception_score" not in quality.METRICS


def test_quality_callback_checks_its_metrics_and_resize(monkeypatch):
    from kgan.callbacks.quality_evaluation import QualityEvaluation
    from kgan.metrics import inception

    def stub(weights_path=None, resize="legacy"):
        inputs = keras.Input((None, None, None))
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    monkeypatch.setattr(inception, "fid_inception_v3", stub)
    clean = QualityEvaluation(features="inception", resize="clean")
    clean.set_model(tiny_image_gan(compile=False))
    clean.on_train_begin()
    assert (clean.features.name, clean.features.resize) == ("inception:clean", "clean")

    with pytest.raises(ValueError, match="applies to the Inception features"):
        QualityEvaluation(features="classifier", resize="clean")
    with pytest.raises(ValueError, match="Unknown metrics"):
        QualityEvaluation(metrics=("fid", "is"))
    callback = QualityEvaluation(metrics=("intra_fid",))
    callback.set_model(tiny_image_gan(compile=False))
    with pytest.raises(ValueError, match="intra_fid needs a class-conditional model"):
        callback.on_train_begin()


def test_evaluate_binary_refuses_bad_metrics_and_resize_before_loading_anything(tmp_path):
    """In process (no subprocess start-up): main's checks run before the (here empty) SavedModel is loaded."""
    from absl import app
    from absl import flags as absl_flags

    from train import evaluate

    version = tmp_path / "g" / "1"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")  # enough for resolve_saved_model; loading it would fail

    def main(*argv):
        absl_flags.FLAGS.unparse_flags()
        absl_flags.FLAGS(["evaluate.py", f"--saved_model={version}", *argv])
        try:
            evaluate.main([])
        finally:
            absl_flags.FLAGS.unparse_flags()

    with pytest.raises(app.UsageError, match="inception_score.*do not include it"):
        main("--metrics=fid,inception_score")
    with pytest.raises(app.UsageError, match="Unknown metrics"):
        main("--metrics=fid,is")
    with pytest.raises(app.UsageError, match="applies to the Inception features"):
        main("--metrics=fid", "--features=classifier", "--resize=clean")


def test_evaluate_binary_default_metrics_follow_the_generator(tmp_path):
    from train.evaluate import default_metrics

    images, labels = load_embedded_fashion_mnist("test")
    conditional = _LabelledReplay(to_model_range(images[:20]), labels[:20])
    assert "intra_fid" in default_metrics(conditional, "embedded_fashion_mnist")
    assert "intra_fid" not in default_metrics(tiny_image_gan(compile=False), "embedded_fashion_mnist")
    assert "intra_fid" not in default_metrics(conditional, "celeb_a")  # no class labels
    assert "class_balance" not in default_metrics(conditional, "cifar10")
    assert set(default_metrics(conditional, "fashion_mnist")) == set(quality.METRICS)


def test_unknown_metrics_are_refused():
    with pytest.raises(ValueError, match="Unknown metrics"):
        quality.evaluate_generator(_Replay(np.zeros((1, 28, 28, 1))), metrics=("is",), features=_tiny_extractor())
    with pytest.raises(ValueError, match="Unknown metrics"):
        quality.check_metrics(["fid", "frechet"])
    assert quality.check_metrics("fid") == ("fid",) and set(quality.DEFAULT_METRICS) == set(quality.METRICS) - {"intra_fid"}


def test_extractor_refuses_images_outside_the_model_range():
    with pytest.raises(ValueError, match=r"in \[-1, 1\]"):
        _tiny_extractor()(np.full((2, 28, 28, 1), 255.0, np.float32))


def test_evaluate_binary_prints_the_table_and_writes_json(tmp_path):
    import json
    import subprocess
    import sys

    from test_case import REPO

    path = export.export_saved_model(tiny_image_gan(compile=False), tmp_path / "saved_models", name="g")
    # An untrained classifier in the cache: this checks the plumbing, not the numbers.
    classifier_metrics.save_classifier(classifier_metrics.build_classifier(), classifier_metrics.classifier_path("fashion_mnist", tmp_path))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "export.json").write_text(json.dumps({"path": path, "train_steps": 1}))
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "evaluate.py"), f"--saved_model={run_dir}", "--dataset=embedded_fashion_mnist",
         "--num_samples=300", "--num_real=300", "--features=classifier", f"--cache_dir={tmp_path}"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "300 samples vs 300 embedded_fashion_mnist/test images" in result.stdout
    report = json.loads((tmp_path / "saved_models" / "g" / "evaluation-v1.json").read_text())
    assert set(report) >= {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage", "classes_covered",
                           "class_kl", "classifier_score"}
    assert "intra_fid" not in report  # an unconditional export: not a default
    assert report["features"] == "classifier:fashion_mnist" and report["saved_model"] == os.path.abspath(path)
    assert report["resize"] is None  # the classifier does not resize
    bad = subprocess.run([sys.executable, os.path.join(REPO, "train", "evaluate.py"), f"--saved_model={tmp_path}"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "No SavedModel at" in bad.stderr + bad.stdout


def test_evaluate_binary_rebuilds_a_model_from_its_checkpoint(tmp_path):
    """--checkpoint needs no training code: the checkpoint's model.json rebuilds the model (here a
    ConditionalGAN with a generator EMA), whose restored samples the report is computed from."""
    import json
    import subprocess
    import sys

    import numpy as np

    import kgan
    from kgan import callbacks, networks, saving
    from test_case import REPO

    model = kgan.ConditionalGAN(
        networks.conditional_dcgan_generator(8, 10, (28, 28, 1), 8), networks.conditional_dcgan_discriminator((28, 28, 1), 10, 8),
        8, 10, generator_ema=0.5,
    )
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    checkpoint = callbacks.TrainingCheckpoint(tmp_path / "run" / "checkpoints")
    model.fit(images, np.arange(16) % 10, batch_size=8, epochs=1, verbose=0, callbacks=[checkpoint])
    rebuilt, metadata = saving.load_model_from_checkpoint(tmp_path / "run")
    assert metadata["train_steps"] == 2 and type(rebuilt) is kgan.ConditionalGAN
    np.testing.assert_allclose(rebuilt.generate(4, seed=3).numpy(), model.generate(4, seed=3).numpy(), atol=1e-6)
    classifier_metrics.save_classifier(classifier_metrics.build_classifier(), classifier_metrics.classifier_path("fashion_mnist", tmp_path))
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "evaluate.py"), f"--checkpoint={tmp_path / 'run'}", "--dataset=embedded_fashion_mnist",
         "--num_samples=200", "--num_real=200", "--features=classifier", f"--cache_dir={tmp_path}",
         "--metrics=fid,intra_fid,class_balance"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "run" / "checkpoints" / "evaluation-step2.json").read_text())
    assert report["checkpoint"].endswith("ckpt-0000000002") and report["fid"] > 0 and report["classes_covered"] >= 1
    # 20 samples per class against the ~20 real images of each class (labels cycled 0..9 as the model draws them).
    assert report["intra_fid"] > 0 and len(report["intra_fid_per_class"]) == 10
    with pytest.raises(ValueError, match="No checkpoint"):
        saving.load_model_from_checkpoint(tmp_path)
