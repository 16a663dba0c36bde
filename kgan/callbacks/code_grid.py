"""`CodeGrid`: what each latent code of an InfoGAN does, one code varied along each row (Chen et al. 2016, Fig. 2)."""

from __future__ import annotations

import numpy as np
from absl import logging

from kgan.callbacks.grids import GridCallback
from kgan.rendering import image_grid

__all__ = ["CodeGrid"]

_BORDER = 2  # Pixels between tiles, as kgan.rendering's grids.


class CodeGrid(GridCallback):
    """Writes a latent-code traversal of an image InfoGAN every n epochs.

    The paper's convention (Figure 2): "in each one latent code varies from
    left to right while the other latent codes and noise are fixed. The
    different rows correspond to different random samples of fixed latent
    codes and noise." Here every code gets ``rows_per_code`` such rows, the
    codes one after the other (categorical codes first): a categorical code
    of K values fills K columns with its values 0 .. K-1, a continuous code
    ``steps`` columns from ``-extent`` to ``extent``. Rows shorter than the
    widest are padded with the grid's white. The model says what to draw
    (``model.traversal_inputs(code, rows, steps, seed, extent)``), so the
    rows of every epoch show the same z and codes, and `write` after
    training gives the picture an export serves (``sample`` with those codes).

    Point models get no picture (a warning, once): use `SampleGrid`.

    Args:
      directory: where ``epoch_{epoch:04d}.png`` files go (epochs count from 1).
      rows_per_code: rows (fixed z and other codes) per code.
      steps: columns of a continuous code.
      extent: a continuous code runs over ``[-extent, extent]``; 2 as in the
        paper, beyond the prior's [-1, 1] (which shows whether it extrapolates).
      seed: seed of the fixed z and codes.
      codes: indices of the codes to show (categorical first); None: all.
      every_n_epochs, tensorboard_dir: see `GridCallback`.
    """

    def __init__(self, directory, rows_per_code: int = 3, steps: int = 10, extent: float = 2.0, seed: int = 0, codes=None,
                 every_n_epochs: int = 1, tensorboard_dir=None):
        super().__init__(directory, every_n_epochs, tensorboard_dir)
        if rows_per_code < 1 or steps < 2:
            raise ValueError(f"rows_per_code must be >= 1 and steps >= 2; got {rows_per_code} and {steps}.")
        self.rows_per_code, self.steps, self.extent, self.seed = int(rows_per_code), int(steps), float(extent), int(seed)
        self.codes = None if codes is None else tuple(int(c) for c in codes)
        self._warned = False

    def render(self):
        """The traversal grid of the current generator: uint8 ``[H, W, C]``, or None for point models."""
        model = self.model
        if len(tuple(model.sample_shape)) != 3:
            if not self._warned:
                logging.warning("CodeGrid draws image models; %s makes samples of shape %s (use SampleGrid).",
                                type(model).__name__, tuple(model.sample_shape))
                self._warned = True
            return None
        strips = []
        for code in self.codes if self.codes is not None else range(model.codes.num_codes):
            inputs, columns = model.traversal_inputs(code, self.rows_per_code, self.steps, self.seed, self.extent)
            images = np.asarray(model(inputs, training=False))
            for row in range(self.rows_per_code):
                strips.append(image_grid(images[row * columns:(row + 1) * columns], rows=1, border=_BORDER))
        width = max(strip.shape[1] for strip in strips)
        # Pad each one-row strip to the widest with the border colour (its corner pixel), then drop
        # the doubled border line between consecutive strips (each has one above and one below).
        padded = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), constant_values=s[0, 0, 0]) for s in strips]
        return np.concatenate([padded[0]] + [s[_BORDER:] for s in padded[1:]], axis=0)
