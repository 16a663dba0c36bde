"""Training callbacks: progress pictures, crash-safe checkpoints, quality evaluation.

* `SampleGrid` (`grids`) renders the generator's output for *fixed* latent
  vectors at the end of every n-th epoch (PNG, optionally TensorBoard), so the
  grids of successive epochs show the same z and progress is comparable;
  `TranslationGrid` does the same for image-to-image models, and
  `GridCallback` is their base. `CodeGrid` (`code_grid`) varies one InfoGAN
  code per row with the others fixed (Chen et al. 2016, Figure 2).
* `TrainingCheckpoint` (`training_checkpoint`) saves the complete training
  state (both networks, both optimizers with their slot variables and
  iteration counters, the model's ``train_steps``) at epoch ends and every N
  steps, so that a run killed at any moment resumes from its last checkpoint.
* `DivergenceGuard` (`divergence_guard`) stops training at the first
  non-finite loss or weight (`kgan.models.AdversarialModel.fit` adds one and
  raises `DivergenceError`).
* `QualityEvaluation` (`quality_evaluation`) computes KID/FID
  (`kgan.metrics.quality`) every n epochs, adds it to the epoch logs and logs
  it to TensorBoard.

The checkpoint readers (`restore_latest`, `load_checkpoint`, ...) live in
`kgan.saving` and the picture functions (`image_grid`, `save_image_grid`,
...) in `kgan.rendering`; both are re-exported here, where they used to be.
"""

from kgan.callbacks._chief import _is_chief  # noqa: F401  (was kgan.callbacks._is_chief)
from kgan.callbacks.code_grid import CodeGrid
from kgan.callbacks.divergence_guard import DivergenceError, DivergenceGuard
from kgan.callbacks.grids import GridCallback, SampleGrid, TranslationGrid
from kgan.callbacks.quality_evaluation import QualityEvaluation
from kgan.callbacks.training_checkpoint import TrainingCheckpoint
from kgan.rendering import image_grid, point_plot, save_image_grid, save_point_plot, tensorboard_available
from kgan.saving import list_checkpoints, load_checkpoint, load_model_from_checkpoint, restore_latest

__all__ = [
    "CodeGrid",
    "DivergenceError",
    "DivergenceGuard",
    "GridCallback",
    "QualityEvaluation",
    "SampleGrid",
    "TranslationGrid",
    "TrainingCheckpoint",
    "image_grid",
    "list_checkpoints",
    "load_checkpoint",
    "load_model_from_checkpoint",
    "point_plot",
    "restore_latest",
    "save_image_grid",
    "save_point_plot",
    "tensorboard_available",
]
