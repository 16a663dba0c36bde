"""Configs and presets of the image-to-image models: `CycleGAN`."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from kgan.configs.base import TrainingConfig, _field

# Offline demo pairs of kgan.data.unpaired (edges <-> footwear images from Fashion-MNIST).
DEMO_UNPAIRED_DATASETS = ("footwear_edges", "footwear_edges_full")
CYCLE_GAN_LOSSES = ("least_squares", "non_saturating", "hinge")


@dataclasses.dataclass(frozen=True)
class CycleGANConfig(TrainingConfig):
    """A run of ``train/cycle_gan.py``: `kgan.CycleGAN` (Zhu et al. 2017) on unpaired domains X, Y.

    Defaults are the paper's: ResNet generators (6 residual blocks below 256
    px, 9 at 256), 70x70 PatchGANs, least-squares loss, lambda 10, identity
    0.5 lambda, pools of 50, Adam(2e-4, 0.5), constant then linearly decaying
    to 0 over the second half, batch 1.
    """

    dataset: str = _field(
        "footwear_edges",
        "Unpaired domains X, Y: footwear_edges (edge maps <-> footwear images from the embedded Fashion-MNIST "
        "subset; no network), footwear_edges_full (the same from all of Fashion-MNIST), cycle_gan/<name> "
        "(TFDS, e.g. cycle_gan/horse2zebra), or a directory holding trainA/ and trainB/ image folders.",
    )
    image_size: Optional[int] = _field(
        None, "Resize to image_size x image_size (divisible by 4); unset: 28 for the demos, 256 for cycle_gan/* "
        "and folders (with the paper's 286 -> 256 random jitter)."
    )
    batch_size: int = _field(1, "Unpaired (x, y) pairs per step (1 in the paper).")
    epochs: int = _field(200, "Epochs (200 in the paper: 100 constant + 100 decaying).")
    # Model.
    base_filters: int = _field(64, "Filters of the generators' first layer and of the discriminators' first layer.")
    num_residual_blocks: Optional[int] = _field(None, "Generator residual blocks; unset: 6 below 256 px, 9 at 256.")
    discriminator_layers: int = _field(3, "Stride-2 layers of the PatchGAN (3: 70x70 patches; 2: 34x34 for small images).")
    loss: str = _field("least_squares", "Adversarial loss: least_squares (the paper's), non_saturating or hinge.")
    cycle_loss_weight: float = _field(10.0, "lambda, weight of the cycle-consistency terms.")
    identity_loss_weight: float = _field(0.5, "Identity terms' weight as a fraction of cycle_loss_weight (0 disables).")
    pool_size: int = _field(50, "Capacity of each image history pool (0 disables).")
    learning_rate_decay_start: Optional[float] = _field(
        0.5, "Fraction of training after which both rates decay linearly to learning_rate_final_fraction (paper: 0.5)."
    )
    num_preview_images: int = _field(8, "Test images per domain in the progress pictures (columns).")
    model_dir: str = _field("runs/cycle_gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("cycle_gan", "Model name of the export (TF Serving's model name).")

    def problems(self) -> list:
        problems = super().problems()
        for name in ("base_filters", "discriminator_layers", "num_preview_images"):
            self._check_positive(problems, name)
        self._check_positive(problems, "num_residual_blocks", allow_none=True)
        is_folder = os.path.isdir(self.dataset)
        if not (self.dataset in DEMO_UNPAIRED_DATASETS or self.dataset.startswith("cycle_gan/") or is_folder):
            problems.append(
                f"--dataset={self.dataset!r} is neither {' nor '.join(DEMO_UNPAIRED_DATASETS)}, a TFDS cycle_gan/<name> "
                "nor an existing directory with trainA/ and trainB/."
            )
        if self.image_size is not None and self.image_size % 4:
            problems.append(f"--image_size must be divisible by 4 (two stride-2 layers); got {self.image_size}.")
        if self.loss not in CYCLE_GAN_LOSSES:
            problems.append(f"--loss must be one of {', '.join(CYCLE_GAN_LOSSES)}; got {self.loss!r}.")
        for name in ("cycle_loss_weight", "identity_loss_weight"):
            if getattr(self, name) < 0:
                problems.append(f"--{name} must be >= 0; got {getattr(self, name)}.")
        if self.pool_size < 0:
            problems.append(f"--pool_size must be >= 0; got {self.pool_size}.")
        return problems


CYCLE_GAN_PRESETS = {
    # Edges -> footwear in miniature on the embedded Fashion-MNIST subset: no network,
    # a few minutes on 2 CPU cores. XLA: 2.3x faster for these networks on a CPU.
    "demo": CycleGANConfig(
        jit_compile=True, base_filters=16, num_residual_blocks=3, discriminator_layers=2, batch_size=16, epochs=14,
        steps_per_epoch=100, checkpoint_every_n_steps=200, model_dir="runs/cycle_gan_demo", export_name="cycle_gan_demo",
    ),
    "smoke": CycleGANConfig(
        base_filters=4, num_residual_blocks=1, discriminator_layers=1, batch_size=4, epochs=2, steps_per_epoch=3,
        pool_size=4, checkpoint_every_n_steps=2, num_preview_images=4, model_dir="runs/cycle_gan_smoke",
        export_name="cycle_gan_smoke",
    ),
    # The paper's setting on the TFDS datasets (need TFDS data or a download).
    "horse2zebra": CycleGANConfig(
        dataset="cycle_gan/horse2zebra", model_dir="runs/cycle_gan_horse2zebra", export_name="cycle_gan_horse2zebra",
    ),
    "monet2photo": CycleGANConfig(
        dataset="cycle_gan/monet2photo", model_dir="runs/cycle_gan_monet2photo", export_name="cycle_gan_monet2photo",
    ),
}
