"""Saving and loading kgan models: the training checkpoint format (`checkpoint_format`).

Checkpoints are written during `fit` by `kgan.callbacks.TrainingCheckpoint`
and read back here; SavedModel exports are `kgan.export`.
"""

from kgan.saving.checkpoint_format import list_checkpoints, load_checkpoint, load_model_from_checkpoint, restore_latest

__all__ = [
    "list_checkpoints",
    "load_checkpoint",
    "load_model_from_checkpoint",
    "restore_latest",
]
