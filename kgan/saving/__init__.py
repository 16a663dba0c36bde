"""Saving and loading kgan models: the training checkpoint format (`checkpoint_format`), the run directory's lock (`run_lock`).

Checkpoints are written during `fit` by `kgan.callbacks.TrainingCheckpoint`
and read back here; SavedModel exports are `kgan.export`.
"""

from kgan.saving.checkpoint_format import list_checkpoints, load_checkpoint, load_model_from_checkpoint, restore_latest
from kgan.saving.run_lock import RunDirectoryInUse, RunLock

__all__ = [
    "RunDirectoryInUse",
    "RunLock",
    "list_checkpoints",
    "load_checkpoint",
    "load_model_from_checkpoint",
    "restore_latest",
]
