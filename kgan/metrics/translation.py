"""Translation error against ground truth, for paired evaluation data (CycleGAN).

Unpaired models train without pairs, but a derived dataset such as the
footwear edges <-> images demo keeps the true pairing for evaluation: how far
is ``G(x)`` from the ``y`` that ``x`` was made from? Two baselines put the
number in context:

* identity: translating by doing nothing, ``|x - y|``;
* best constant image: the per-pixel median of the targets themselves (the
  constant that minimises L1 on exactly this set -- an oracle no model can
  use, so beating it means the output depends on the input in the right way).
"""

from __future__ import annotations

import numpy as np

from kgan import serving


def _mean_abs(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def _check_pairs(x, y):
    if x.ndim != 4 or x.shape[:3] != y.shape[:3]:
        raise ValueError(
            f"Paired evaluation needs images_x and images_y of the same [N, H, W, C] size; got {x.shape} and {y.shape}."
        )
    if len(x) == 0:
        raise ValueError("Paired evaluation needs at least one pair.")
    for name, images in (("images_x", x), ("images_y", y)):
        if images.min() < -1.0 - 1e-6 or images.max() > 1.0 + 1e-6:
            raise ValueError(f"{name} must be float images in [-1, 1] (kgan.data.to_model_range converts uint8).")


def paired_translation_errors(model, images_x, images_y, batch_size: int = 256) -> dict:
    """Mean absolute error of both directions against the true pairs, with baselines.

    Args:
      model: a `kgan.CycleGAN` (anything with ``translate(images, direction)``).
      images_x: float32 ``[N, H, W, C]`` in [-1, 1], domain X.
      images_y: float32 ``[N, H, W, C']`` in [-1, 1]; ``images_y[i]`` is the
        true counterpart of ``images_x[i]``.
      batch_size: translation batch size.

    Returns:
      A dict of floats, all mean absolute errors in [-1, 1] pixel units
      (0 = perfect, 2 = every pixel maximally wrong): ``x_to_y``, ``y_to_x``,
      ``identity`` (``|x - y|``, both directions' do-nothing baseline when
      C == C'), ``x_to_y_constant`` and ``y_to_x_constant`` (the best constant
      image per direction), and ``num_pairs``.
    """
    x = np.asarray(images_x, np.float32)
    y = np.asarray(images_y, np.float32)
    _check_pairs(x, y)
    # Any object with translate(images, direction) will do, so the chunks are cut here.
    fake_y = np.asarray(serving.in_chunks(lambda batch: model.translate(batch, "x_to_y"), x, batch_size))
    fake_x = np.asarray(serving.in_chunks(lambda batch: model.translate(batch, "y_to_x"), y, batch_size))
    results = {
        "x_to_y": _mean_abs(fake_y, y),
        "y_to_x": _mean_abs(fake_x, x),
        "x_to_y_constant": _mean_abs(np.median(y, axis=0, keepdims=True), y),
        "y_to_x_constant": _mean_abs(np.median(x, axis=0, keepdims=True), x),
        "num_pairs": len(x),
    }
    if x.shape == y.shape:
        results["identity"] = _mean_abs(x, y)
    return results


def format_translation_errors(results: dict) -> str:
    """A small text table of `paired_translation_errors` results."""
    lines = [f"{'direction':<10} {'L1 model':>9} {'identity':>9} {'constant':>9}   ({results['num_pairs']} pairs)"]
    identity = results.get("identity", float("nan"))
    for direction in ("x_to_y", "y_to_x"):
        lines.append(f"{direction:<10} {results[direction]:>9.3f} {identity:>9.3f} {results[direction + '_constant']:>9.3f}")
    return "\n".join(lines)
