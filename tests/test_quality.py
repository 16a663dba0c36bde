"""`kgan.metrics.quality`: generator sampling (model and SavedModel), cached reference features, the metric report."""

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
    assert itself["num_real"] == 1000 and itself["features"] == "tiny"
    assert itself["classes_covered"] == 10  # the real test images cover every class
    untrained = quality.evaluate_generator(tiny_image_gan(compile=False), "embedded_fashion_mnist", **kwargs)
    assert untrained["fid"] > 100 * max(itself["fid"], 1e-3)
    assert untrained["kid"] > 10 * untrained["kid_std"]
    # An untrained DCGAN draws near-constant images: few classes, little recall.
    assert untrained["recall"] < 0.5 and untrained["classes_covered"] < 10
    table = quality.format_report(untrained)
    assert "1000 samples vs 1000 embedded_fashion_mnist/test images" in table and "FID" in table and "KID x 1000" in table


def test_unknown_metrics_are_refused():
    with pytest.raises(ValueError, match="Unknown metrics"):
        quality.evaluate_generator(_Replay(np.zeros((1, 28, 28, 1))), metrics=("is",), features=_tiny_extractor())


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
    assert set(report) >= {"fid", "kid", "kid_std", "precision", "recall", "classes_covered", "class_kl", "classifier_score"}
    assert report["features"] == "classifier:fashion_mnist" and report["saved_model"] == os.path.abspath(path)
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
         "--num_samples=200", "--num_real=200", "--features=classifier", f"--cache_dir={tmp_path}", "--metrics=fid,class_balance"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "run" / "checkpoints" / "evaluation-step2.json").read_text())
    assert report["checkpoint"].endswith("ckpt-0000000002") and report["fid"] > 0 and report["classes_covered"] >= 1
    with pytest.raises(ValueError, match="No checkpoint"):
        saving.load_model_from_checkpoint(tmp_path)
