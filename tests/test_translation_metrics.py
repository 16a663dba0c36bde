"""paired_translation_errors: model error against true pairs, with identity and constant baselines."""

import numpy as np
import pytest

from kgan.metrics import format_translation_errors, paired_translation_errors


class Lookup:
    """A 'model' translating each image by a fixed rule, so the errors are known by hand."""

    def __init__(self, x_to_y, y_to_x):
        self.rules = {"x_to_y": x_to_y, "y_to_x": y_to_x}
        self.calls = []

    def translate(self, images, direction):
        self.calls.append(len(images))
        return self.rules[direction](np.asarray(images))


def test_errors_and_baselines_by_hand():
    x = np.full((4, 2, 2, 1), -1.0, np.float32)
    y = np.stack([np.full((2, 2, 1), v, np.float32) for v in (0.0, 0.5, 0.5, 1.0)])
    model = Lookup(lambda images: images + 1.5, lambda images: images * 0)
    results = paired_translation_errors(model, x, y, batch_size=3)
    assert model.calls == [3, 1, 3, 1]  # batched
    assert results["x_to_y"] == pytest.approx(np.mean(np.abs(0.5 - y)))  # G(x) = 0.5 everywhere
    assert results["y_to_x"] == pytest.approx(1.0)  # F(y) = 0 vs x = -1
    assert results["identity"] == pytest.approx(np.mean(np.abs(y + 1)))
    # Best constant for y: the per-pixel median 0.5 -> |0 - .5| + 0 + 0 + |1 - .5| over 4.
    assert results["x_to_y_constant"] == pytest.approx(0.25)
    assert results["y_to_x_constant"] == 0.0 and results["num_pairs"] == 4
    assert "x_to_y" in format_translation_errors(results)


def test_a_perfect_model_scores_zero():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (5, 4, 4, 1)).astype(np.float32)
    y = -x
    results = paired_translation_errors(Lookup(lambda i: -i, lambda i: -i), x, y)
    assert results["x_to_y"] == pytest.approx(0.0, abs=1e-7) and results["y_to_x"] == pytest.approx(0.0, abs=1e-7)


def test_bad_pairs_are_rejected():
    model = Lookup(lambda i: i, lambda i: i)
    with pytest.raises(ValueError, match="same"):
        paired_translation_errors(model, np.zeros((3, 4, 4, 1)), np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        paired_translation_errors(model, np.full((2, 4, 4, 1), 255.0), np.zeros((2, 4, 4, 1)))
