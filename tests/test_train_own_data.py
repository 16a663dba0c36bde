"""The latent-model binaries on the user's own data: folder:, npz: (smoke runs as subprocesses, as users run them)."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kgan import configs, export, serving
from train import train_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary(name):
    return os.path.join(REPO, "train", f"{name}.py")


@pytest.fixture(scope="module")
def garments(tmp_path_factory):
    """28x28 gray PNGs in two class folders (embedded Fashion-MNIST trousers and bags) and one corrupt file."""
    from kgan.data import load_embedded_fashion_mnist

    root = tmp_path_factory.mktemp("own") / "garments"
    images, labels = load_embedded_fashion_mnist("test")
    for name, label in (("trouser", 1), ("bag", 8)):
        os.makedirs(root / name)
        for i, image in enumerate(images[labels == label][:40]):
            Image.fromarray(image[..., 0]).save(root / name / f"{i:03d}.png")
    (root / "bag" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


def run(args, cwd, timeout=240):
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}"
    return result


def outputs(tmp_path):
    return [f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'exports'}", "--evaluation_samples=40"]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def test_gan_smoke_on_a_folder_skips_the_bad_file_and_evaluates(tmp_path, garments):
    result = run([binary("gan"), "--preset=smoke", f"--dataset=folder:{garments}", *outputs(tmp_path)], tmp_path)
    assert "skipping 1 unusable image file(s)" in result.stdout and "broken.png" in result.stdout
    summary = read_json(tmp_path / "run" / "summary.json")
    assert summary["data"]["splits"] == {"train": 80} and summary["data"]["skipped_files"] == 1
    evaluation = summary["evaluation"]
    assert evaluation["split"] == "train" and evaluation["num_samples"] == 40  # A flat folder: its images are the reference.
    assert np.isfinite(evaluation["fid"]) and evaluation["fid"] > 0 and "kid" in evaluation
    assert "kgan: end-of-run evaluation" in result.stdout and "FID" in result.stdout
    assert read_json(tmp_path / "run" / "data.json")["skipped"][0]["path"].endswith("broken.png")

    # The export scored against the same folder by the evaluation binary (size and channels from the export).
    scored = run([os.path.join(REPO, "train", "evaluate.py"), f"--saved_model={tmp_path / 'run'}",
                  f"--reference=folder:{garments}", "--split=train", "--num_samples=40",
                  "--num_real=40", "--metrics=fid,kid", f"--output_json={tmp_path / 'eval.json'}"], tmp_path)
    report = read_json(tmp_path / "eval.json")
    assert report["dataset"] == f"folder:{garments}" and report["num_real"] == 40 and np.isfinite(report["fid"])
    assert "FID" in scored.stdout


def test_conditional_gan_smoke_learns_the_class_folders_names(tmp_path, garments):
    run([binary("conditional_gan"), "--preset=smoke", f"--dataset=folder:{garments}", *outputs(tmp_path)], tmp_path)
    summary = read_json(tmp_path / "run" / "summary.json")
    assert summary["data"]["class_names"] == ["bag", "trouser"]
    assert np.isfinite(summary["evaluation"]["intra_fid"]) and len(summary["evaluation"]["intra_fid_per_class"]) == 2
    assert export.read_metadata(summary["export_path"])["class_names"] == ["bag", "trouser"]
    # The per-request cap every signature enforces, for clients to split larger requests by.
    assert export.read_metadata(summary["export_path"])["max_batch_size"] == serving.MAX_SAMPLED_IMAGES
    assert read_json(tmp_path / "run" / "export.json")["max_batch_size"] == serving.MAX_SAMPLED_IMAGES


def test_wgan_gp_smoke_on_a_folder_and_wgan_on_an_npz(tmp_path, garments):
    run([binary("wgan_gp"), "--preset=smoke", f"--dataset=folder:{garments}", *outputs(tmp_path)], tmp_path)
    summary = read_json(tmp_path / "run" / "summary.json")
    assert summary["data"]["image_shape"] == [28, 28, 1] and np.isfinite(summary["evaluation"]["fid"])
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "dots.npz", images=(rng.random((64, 28, 28)) > 0.5).astype(np.float32))  # [0, 1] floats, NHW.
    run([binary("wgan_gp"), "--preset=wgan_smoke", f"--dataset=npz:{tmp_path / 'dots.npz'}",
         f"--model_dir={tmp_path / 'npz_run'}", f"--export_dir={tmp_path / 'exports'}", "--evaluation_samples=40"], tmp_path)
    assert np.isfinite(read_json(tmp_path / "npz_run" / "summary.json")["evaluation"]["kid"])


def test_bad_data_stops_the_binary_before_training(tmp_path, garments):
    stopped = subprocess.run(
        [sys.executable, binary("gan"), "--preset=smoke", f"--dataset=folder:{garments}", "--on_bad_image=stop",
         *outputs(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert stopped.returncode != 0
    assert "kgan: cannot start training: folder:" in stopped.stderr and "broken.png" in stopped.stderr
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


@pytest.mark.parametrize("setup,message", [
    (lambda root: None, "holds no image files"),
    (lambda root: Image.new("L", (28, 28)).save(root / "a.png") or Image.new("L", (30, 30)).save(root / "b.png"),
     "2 sizes"),
])
def test_setup_refuses_unusable_folders_with_the_reason(tmp_path, setup, message):
    root = tmp_path / "data"
    root.mkdir()
    setup(root)
    config = dataclasses.replace(configs.PRESETS["smoke"], dataset=f"folder:{root}", model_dir=str(tmp_path / "run"),
                                 export=False).check()
    with pytest.raises(train_lib.SetupError, match=message):
        train_lib.setup(config, train_lib.Recipe(__import__("kgan").registry.get("gan")))
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_a_missing_path_is_a_config_problem():
    config = dataclasses.replace(configs.PRESETS["smoke"], dataset="folder:/no/such/dir")
    assert any("/no/such/dir is not a directory" in p for p in config.problems())
    config = dataclasses.replace(configs.PRESETS["smoke"], dataset="npz:/no/such.npz", crop="middle", channels=2)
    problems = "\n".join(config.problems())
    assert "/no/such.npz is not a file" in problems and "--crop must be one of center, none" in problems
    assert "--channels must be 1, 3 or unset" in problems
