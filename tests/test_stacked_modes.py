"""Stacked images (`kgan.data.stacked`) and their mode count (`kgan.metrics.stacked_mode_coverage`)."""

import keras
import numpy as np
import pytest

from kgan.data import stacked
from kgan.metrics import stacked_mode_coverage

# Ten flat 4x4 source images, image k of class k with value LEVELS[k] (uint8 and in [-1, 1]).
LEVELS = np.arange(10) * 25 + 10
SOURCE = np.repeat(LEVELS.astype(np.uint8), 16).reshape(10, 4, 4, 1)
SCALED = LEVELS / 127.5 - 1.0


def mean_level_classifier():
    """Classifies a one-channel image by the LEVELS value its mean is nearest.

    Logits ``-(m - c_k)**2`` drop the class-independent ``-m**2``: a dense layer
    on the mean with kernel ``2 c_k`` and bias ``-c_k**2``.
    """
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
    model.layers[-1].set_weights([2 * SCALED[None].astype(np.float32), (-(SCALED**2)).astype(np.float32)])
    return model


def stack(classes):
    """``[N, 4, 4, C]`` images whose channel c is the flat image of class ``classes[:, c]``."""
    classes = np.asarray(classes)
    return np.broadcast_to(SCALED[classes][:, None, None, :], (len(classes), 4, 4, classes.shape[1])).astype(np.float32)


def test_every_channel_is_an_independent_source_image_and_the_label_is_its_class_triple():
    images, modes = next(iter(stacked.stacked_dataset(SOURCE, np.arange(10), batch_size=2000, num_examples=5000, seed=1)))
    images, modes = images.numpy(), modes.numpy()
    assert images.shape == (2000, 4, 4, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    # Each channel is one whole source image: flat, at one of the ten levels.
    assert np.all(np.ptp(images, axis=(1, 2)) == 0)
    classes = classes_of(images)
    np.testing.assert_allclose(images[:, 0, 0], SCALED[classes], atol=1e-6)
    np.testing.assert_array_equal(modes, classes[:, 0] * 100 + classes[:, 1] * 10 + classes[:, 2])
    # Channels drawn independently and uniformly: ~10 % per class, channels uncorrelated.
    for channel in range(3):
        assert np.all(np.abs(np.bincount(classes[:, channel], minlength=10) / 2000 - 0.1) < 0.03)
    assert abs(np.corrcoef(classes[:, 0], classes[:, 1])[0, 1]) < 0.1


def classes_of(images):
    """int ``[N, C]``: the class of each flat channel (its nearest level)."""
    return np.abs(np.asarray(images)[:, 0, 0, :, None] - SCALED[None, None]).argmin(-1)


def test_the_training_set_is_a_fixed_seeded_set_of_triples():
    first = stacked.stacked_indices(100, num_examples=50, seed=3)
    np.testing.assert_array_equal(first, stacked.stacked_indices(100, num_examples=50, seed=3))
    assert first.shape == (50, 3) and not np.array_equal(first, stacked.stacked_indices(100, num_examples=50, seed=4))
    # With 7 triples, every batch is drawn from those 7 (shuffled and repeated).
    allowed = {tuple(t) for t in stacked.stacked_indices(10, num_examples=7, seed=0)}  # Source k is class k.
    batches = stacked.stacked_dataset(SOURCE, batch_size=5, num_examples=7, seed=0).take(4)
    seen = {tuple(t) for batch in batches for t in classes_of(batch.numpy())}
    assert seen == allowed


def test_bad_sources_and_labels_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        stacked.stacked_dataset(SOURCE.astype(np.float32))
    with pytest.raises(ValueError, match="grayscale"):
        stacked.stacked_dataset(np.zeros((5, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="labels"):
        stacked.stacked_dataset(SOURCE, np.arange(1, 11))
    with pytest.raises(ValueError, match="labels"):
        stacked.stacked_dataset(SOURCE, np.arange(9))
    with pytest.raises(ValueError, match="positive"):
        stacked.stacked_indices(10, num_examples=0)


def test_modes_are_the_distinct_class_triples_and_the_kl_is_to_uniform_over_all_of_them():
    classifier = mean_level_classifier()
    every_triple = np.array([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
    spread = stacked_mode_coverage(classifier, stack(every_triple))
    assert spread.modes == spread.num_modes == 1000 and spread.reverse_kl == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_array_equal(spread.counts, np.ones(1000))
    np.testing.assert_allclose(spread.channel_shares, np.full((3, 10), 0.1))

    collapsed = stacked_mode_coverage(classifier, stack(np.tile([[3, 0, 7]], (50, 1))))
    assert collapsed.modes == 1 and collapsed.counts[307] == 50
    assert collapsed.reverse_kl == pytest.approx(np.log(1000))
    # Channel 0 never leaves class 3: a tenth of the modes, KL log(10).
    one_class = stacked_mode_coverage(classifier, stack(every_triple[every_triple[:, 0] == 3]))
    assert one_class.modes == 100 and one_class.reverse_kl == pytest.approx(np.log(10))
    assert one_class.channel_shares[0, 3] == 1.0


def test_mode_count_refuses_bad_samples():
    classifier = mean_level_classifier()
    with pytest.raises(ValueError, match="NaN"):
        stacked_mode_coverage(classifier, np.full((2, 4, 4, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        stacked_mode_coverage(classifier, np.zeros((4, 4, 3), np.float32))


@pytest.mark.slow
def test_the_demo_dcgan_reaches_990_of_the_1000_stacked_modes(tmp_path):
    """Learning: kgan's demo DCGAN (bench/stacked_modes.py, no remedy) reaches >= 990 of 1,000 modes at 10,000 steps.

    Slow (about 8 minutes; needs all of Fashion-MNIST and the cached classifier). The run is the bench's
    own seed-0 run of the README's stacked table, in a fresh process with the bench's one thread.
    """
    import json
    import subprocess
    import sys

    from tests.test_case import REPO

    out = tmp_path / "stacked.json"
    subprocess.run(
        [sys.executable, f"{REPO}/bench/stacked_modes.py", "--remedies=none", "--seeds=0", "--steps=10000",
         "--eval_every=10000", "--jobs=1", "--threads=1", f"--json_out={out}", "--images_dir="],
        check=True, capture_output=True, timeout=1800,
    )
    (run,) = json.loads(out.read_text())["runs"]
    assert run["modes"] >= 990, run
    assert run["reverse_kl"] < 1.0, run


def test_a_saved_table_reprints_when_its_sample_grids_are_not_on_this_machine(tmp_path):
    """``--from_json`` prints the table and draws no sheet when ``--images_dir`` lacks the runs' grids (it crashed before)."""
    import os
    import subprocess
    import sys

    from tests.test_case import REPO

    result = subprocess.run(
        [sys.executable, f"{REPO}/bench/stacked_modes.py", "--from_json", f"{REPO}/docs/results/stacked_modes_d8_6k.json",
         "--images_dir", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| PacGAN4 (packs of 4) |" in result.stdout and "Samples:" not in result.stdout
