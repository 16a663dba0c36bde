"""train/star_gan.py on folder:PATH with a CSV of attributes, run as a real subprocess (as users run it)."""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from kgan import export

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "train", "star_gan.py")
NAMES = ("Smiling", "Male", "Young")


def write_faces(tmp_path):
    """train/ (10 images) and test/ (4) of 16x16 PNGs, the CSV next to the folder in CelebA's 1/-1, with
    the non-fatal cases: a broken file, a row naming a missing image, an image without a row, a constant column."""
    root = tmp_path / "faces"
    rng = np.random.default_rng(0)
    rows = ["image_id," + ",".join(NAMES)]
    for i in range(14):
        split = "train" if i < 10 else "test"
        os.makedirs(root / split, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(root / split / f"{i:02d}.png")
        if i != 3:  # train/03.png has no row.
            rows.append(f"{i:02d}.png,{1 if i % 2 else -1},{1 if i % 3 else -1},1")
    rows.append("99.png,1,1,1")  # No such image.
    (root / "train" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "faces.csv").write_text("\n".join(rows) + "\n")
    return root


def run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, BINARY, "--preset=smoke", f"--model_dir={tmp_path / 'run'}", f"--export_dir={tmp_path / 'exports'}",
         "--epochs=1", "--steps_per_epoch=2", "--notensorboard", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_smoke_run_on_a_folder_reports_the_data_before_training_then_evaluates_and_exports(tmp_path):
    root = write_faces(tmp_path)
    # The smoke preset names the tinted demo's attributes; --attributes= (empty) means every column of the CSV.
    result = run(tmp_path, f"--dataset=folder:{root}", "--attributes=", "--evaluation_images=6")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}"
    before_training = result.stdout.split("Epoch 1/1")[0]
    assert "1 row(s) of" in before_training and "line 15: 99.png (no such image in the folder)" in before_training
    assert "warning: attribute Young is 1 for every one of the 9 training images" in before_training
    assert "skipping 2 unusable image file(s)" in before_training
    assert "broken.png" in before_training and "03.png (no row in" in before_training

    data = json.loads((tmp_path / "run" / "data.json").read_text())
    assert data["attributes"] == list(NAMES) and data["attributes_file"] == f"{root}.csv"
    assert data["splits"] == {"train": 9, "test": 4} and data["skipped_files"] == 2 and data["dropped_rows"] == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["data"]["attributes"] == list(NAMES)
    evaluation = summary["evaluation"]
    assert evaluation["split"] == "test" and evaluation["held_out"] and evaluation["num_images"] == 4
    assert evaluation["classifier_images"] == 6
    for key in ("target_attribute_accuracy", "target_attribute_accuracy_baseline", "classifier_accuracy",
                *(f"attribute_accuracy/{name}" for name in NAMES)):
        assert 0.0 <= evaluation[key] <= 1.0, key
    for key in ("l1_to_input", "reconstruction_l1", "l1_between_inputs"):
        assert 0.0 < evaluation[key] < 2.0, key
    assert "reconstruction L1 to the input" in result.stdout
    version = tmp_path / "exports" / "star_gan_smoke" / "1"
    assert (version / "saved_model.pb").is_file()
    assert export.read_metadata(version)["dataset"] == f"folder:{root}"
    assert export.read_metadata(version)["attributes"] == list(NAMES)
    # The picture: the 4 test images, then each one's attributes applied to all 4.
    picture = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert picture.shape[:2] == (5 * 16 + 6 * 2, 4 * 16 + 5 * 2)


def test_bad_data_stops_the_run_before_its_first_step(tmp_path):
    root = write_faces(tmp_path)
    csv = tmp_path / "faces.csv"
    assert "06.png,-1,-1,1" in csv.read_text()
    csv.write_text(csv.read_text().replace("06.png,-1,-1,1", "06.png,-1,maybe,1"))
    result = run(tmp_path, f"--dataset=folder:{root}", "--attributes=Male,Smiling")
    assert result.returncode != 0
    assert "kgan: cannot start training:" in result.stderr
    assert "line 7, column Male: 'maybe'" in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists() and "Epoch" not in result.stdout
