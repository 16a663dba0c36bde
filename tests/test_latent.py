"""`kgan.latent` (interpolation strips, vector arithmetic) and the `QualityEvaluation` callback."""

import os

import numpy as np
import pytest
from PIL import Image

from kgan import callbacks, latent
from kgan.data import load_images
from test_case import tiny_image_gan
from test_quality import _tiny_extractor


def test_slerp_keeps_the_norm_and_hits_both_ends():
    z0, z1 = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    path = latent.interpolate(z0, z1, 5)
    np.testing.assert_allclose(path[0], z0, atol=1e-6)
    np.testing.assert_allclose(path[-1], z1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-6)
    np.testing.assert_allclose(path[2], [3 / np.sqrt(2), 3 / np.sqrt(2), 0], atol=1e-6)
    linear = latent.interpolate(z0, z1, 5, method="linear")
    np.testing.assert_allclose(linear[2], [1.5, 1.5, 0.0])
    # Parallel vectors: linear fallback, no division by sin(0).
    np.testing.assert_allclose(latent.slerp(z0, 2 * z0, [0.5]), [[4.5, 0, 0]], atol=1e-6)
    with pytest.raises(ValueError, match="steps"):
        latent.interpolate(z0, z1, 1)


def test_interpolation_strips_start_and_end_at_their_latent_vectors(tmp_path):
    model = tiny_image_gan(compile=False)
    strips = latent.interpolation_strips(model, num_strips=3, steps=4, seed=5, path=tmp_path / "strips.png")
    assert strips.shape == (3, 4, 28, 28, 1)
    ends = np.random.default_rng(5).standard_normal((3, 2, model.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(strips[:, 0], model(ends[:, 0]), atol=1e-5)
    np.testing.assert_allclose(strips[:, -1], model(ends[:, 1]), atol=1e-5)
    width, height = Image.open(tmp_path / "strips.png").size
    assert width > height and width // 4 >= 28 and height // 3 >= 28


def test_latent_arithmetic_decodes_mean_a_minus_mean_b_plus_mean_c(tmp_path):
    model = tiny_image_gan(compile=False)
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((3, model.latent_dim)).astype(np.float32) for _ in range(3))
    out = latent.latent_arithmetic(model, a, b, c, variations=4, path=tmp_path / "arithmetic.png")
    target = a.mean(0) - b.mean(0) + c.mean(0)
    np.testing.assert_allclose(out["results"][0], model(target[None])[0], atol=1e-5)
    np.testing.assert_allclose(out["concepts"][1], model(b.mean(0)[None])[0], atol=1e-5)
    assert out["results"].shape == (4, 28, 28, 1) and not np.allclose(out["results"][0], out["results"][1])
    assert (tmp_path / "arithmetic.png").is_file()
    with pytest.raises(ValueError, match="latent vectors"):
        latent.latent_arithmetic(model, a[:, :3], b, c)


def test_quality_callback_logs_kid_and_fid_each_epoch(tmp_path):
    model = tiny_image_gan()
    data = load_images("embedded_fashion_mnist", "train", 64, limit=256, seed=0)
    evaluation = callbacks.QualityEvaluation(
        "embedded_fashion_mnist", "test", num_samples=300, num_real=300, features=_tiny_extractor(),
        metrics=("kid", "fid"), tensorboard_dir=tmp_path / "logs", cache_dir=tmp_path, kid_subsets=5, kid_subset_size=200,
    )
    history = model.fit(data, epochs=2, callbacks=[evaluation], verbose=0)
    assert [row["epoch"] for row in evaluation.history] == [1, 2]
    assert all(row["fid"] > 0 and np.isfinite(row["kid"]) for row in evaluation.history)
    assert history.history["quality/fid"] == [row["fid"] for row in evaluation.history]
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "logs"))
    with pytest.raises(ValueError, match="Unknown metrics"):
        callbacks.QualityEvaluation(metrics=("is",))  # inception_score has its own refusal (test_quality.py)
