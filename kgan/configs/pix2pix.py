"""Config and presets of `kgan.Pix2Pix` (``train/pix2pix.py``)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from kgan.configs.base import TrainingConfig, _field, source_problems
from kgan.data import specs
from kgan.data.paired import DIRECTIONS, PIX2PIX_CONFIGS
from kgan.data.unpaired import DEMO_SOURCES, folder_root
from kgan.networks.patch_discriminator import NORMALIZATIONS, PATCH_MINIBATCH_FEATURES

DEMO_PAIRED_DATASETS = tuple(DEMO_SOURCES)


@dataclasses.dataclass(frozen=True)
class Pix2PixConfig(TrainingConfig):
    """A run of ``train/pix2pix.py``: `kgan.Pix2Pix` (Isola et al. 2017) on paired images.

    Defaults are the paper's: a U-Net generator (64 filters doubling to 512,
    8 halvings at 256 px, dropout 0.5 on three decoder layers), the 70x70
    conditional PatchGAN, batch norm, the cross-entropy (non-saturating) loss,
    lambda = 100 for L1, Adam(2e-4, 0.5) at a constant rate, batch 1, random
    jitter (286 -> 256) and mirroring.
    """

    dataset: str = _field(
        "footwear_edges",
        "Paired images A, B: footwear_edges (edge maps and footwear images of the embedded Fashion-MNIST subset; no "
        "network), footwear_edges_full (the same from all of Fashion-MNIST), pix2pix/<config> (facades, edges2shoes, "
        "maps: kgan's TFDS builder reading the authors' <config>.tar.gz from --manual_dir), or folder:PATH (or just "
        "PATH): side-by-side A|B files in train/ and test/ (or val/), or A/train/ and B/train/ with matching file names.",
    )
    direction: str = _field("AtoB", "AtoB: translate A into B (footwear: edges -> shoe); BtoA: B into A.")
    image_size: Optional[int] = _field(
        None, "Resize to image_size x image_size (even); unset: 28 for the footwear sources, 256 otherwise (with the "
        "paper's 286 -> 256 random jitter)."
    )
    batch_size: int = _field(1, "Pairs per step (1 in the paper; 4 for edges2shoes).")
    epochs: int = _field(200, "Epochs (facades: 200; edges2shoes: 15).")
    # Model.
    base_filters: int = _field(64, "Filters of the U-Net's first layer and of the discriminator's first layer.")
    max_filters: int = _field(512, "Cap of the U-Net's doubling filters.")
    generator_depth: Optional[int] = _field(
        None, "U-Net stride-2 layers; unset: halve while the side is even, at most 8 (256 px: 8; 28 px: 2)."
    )
    dropout: float = _field(0.5, "Dropout of the U-Net's first three decoder layers (the paper's noise; 0: none).")
    normalization: str = _field("batch", "Normalisation of both networks: batch (the paper's), instance or none.")
    discriminator_layers: int = _field(3, "Stride-2 layers of the PatchGAN (3: 70x70 patches; 1 or 2 for small images).")
    minibatch: str = _field("none", "Minibatch-stddev map in the PatchGAN (Karras et al. 2018): 'none' or 'stddev'.")
    spectral_norm: bool = _field(False, "Spectrally normalise every discriminator convolution (Miyato et al. 2018).")
    loss: str = _field("non_saturating", "Adversarial loss: non_saturating (the paper's), least_squares or hinge.")
    l1_weight: float = _field(100.0, "lambda, weight of the L1 term |G(x) - y| (0: a plain conditional GAN).")
    num_preview_images: int = _field(8, "Test pairs in the progress pictures (columns; rows: input, G(input), target).")
    evaluation_images: int = _field(
        500,
        "Folder and pix2pix/* datasets: the end-of-run evaluation translates this many test pairs (training pairs "
        "without a test split) and reports the L1 to their targets; 0: no evaluation. The footwear sources always "
        "score their whole test split.",
    )
    model_dir: str = _field("runs/pix2pix", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("pix2pix", "Model name of the export (TF Serving's model name).")

    def data_args(self) -> dict:
        """The `kgan.data.paired` keyword arguments of this run's data (folder options for folders only)."""
        args = dict(data_dir=self.data_dir, manual_dir=self.manual_dir, image_size=self.image_size, direction=self.direction)
        if folder_root(self.dataset) is not None:
            args.update(channels=self.channels, on_bad_image=self.on_bad_image, crop=self.crop)
        return args

    def build_networks(self, shapes) -> dict:
        """The U-Net for inputs ``shapes[0]`` -> targets ``shapes[1]`` and the conditional PatchGAN D(x, y)."""
        from kgan import networks

        input_shape, target_shape = shapes
        return {
            "generator": networks.unet_generator(
                input_shape, output_channels=target_shape[-1], base_filters=self.base_filters, max_filters=self.max_filters,
                depth=self.generator_depth, dropout=self.dropout, normalization=self.normalization, seed=self.seed,
            ),
            "discriminator": networks.conditional_patch_discriminator(
                input_shape, target_shape, self.base_filters, self.discriminator_layers, normalization=self.normalization,
                minibatch=self.minibatch, spectral_norm=self.spectral_norm,
            ),
        }

    def model_options(self, shapes) -> dict:
        """`kgan.Pix2Pix`'s constructor arguments other than the networks."""
        del shapes
        return dict(loss=self.loss, l1_weight=self.l1_weight, seed=self.seed, **self.remedy_options())

    def problems(self) -> list:
        from kgan.models.pix2pix import PIX2PIX_LOSSES  # Here: the model module registers this config on import.

        problems = super().problems()
        for name in ("base_filters", "max_filters", "discriminator_layers", "num_preview_images"):
            self._check_positive(problems, name)
        self._check_positive(problems, "generator_depth", allow_none=True)
        self._check_range(problems, "dropout", 0.0, 1.0, include_high=False, hint="0 turns it off")
        self._check_weights(problems, "l1_weight")
        if self.direction not in DIRECTIONS:
            problems.append(f"--direction must be AtoB or BtoA; got {self.direction!r}.")
        if self.normalization not in NORMALIZATIONS:
            problems.append(f"--normalization must be one of {', '.join(NORMALIZATIONS)}; got {self.normalization!r}.")
        if self.minibatch not in PATCH_MINIBATCH_FEATURES:
            problems.append(f"--minibatch must be one of {', '.join(PATCH_MINIBATCH_FEATURES)}; got {self.minibatch!r}.")
        if self.loss not in PIX2PIX_LOSSES:
            problems.append(f"--loss must be one of {', '.join(PIX2PIX_LOSSES)}; got {self.loss!r}.")
        if self.image_size is not None and self.image_size % 2:
            problems.append(f"--image_size must be even (the U-Net halves it); got {self.image_size}.")
        if self.evaluation_images < 0:
            problems.append(f"--evaluation_images must be >= 0 (0: no evaluation); got {self.evaluation_images}.")
        folder = not source_problems(self.dataset) and folder_root(self.dataset) is not None
        if specs.is_user_source(self.dataset) and not self.dataset.startswith("folder:"):
            problems.append(f"--dataset={self.dataset}: Pix2Pix reads pairs from folder:PATH, not from npz:, npy: or tfds: sources.")
        elif self.dataset.startswith("pix2pix/") and self.dataset.split("/", 1)[1] not in PIX2PIX_CONFIGS:
            problems.append(f"--dataset={self.dataset}: the pix2pix datasets are {', '.join('pix2pix/' + c for c in PIX2PIX_CONFIGS)}.")
        elif not (folder or self.dataset in DEMO_PAIRED_DATASETS or self.dataset.startswith("pix2pix/")
                  or specs.is_user_source(self.dataset)):
            problems.append(
                f"--dataset={self.dataset!r} is neither {' nor '.join(DEMO_PAIRED_DATASETS)}, pix2pix/<config> nor an "
                "existing directory of pairs (folder:PATH or PATH)."
            )
        if not folder and not self.dataset.startswith("folder:") and self.channels is not None:
            problems.append(f"--channels applies to folder datasets only, not to --dataset={self.dataset}.")
        return problems


PRESETS = {
    # Edges -> shoe in miniature on the embedded Fashion-MNIST footwear pairs: no network, ~2.5
    # minutes on 2 CPU cores with the evaluation. At 32 px (resized from 28) the U-Net halves 5 times,
    # to 1x1 as the paper's; at 28 it halves twice only (28 -> 14 -> 7) and learned less in the same
    # time. A 2.5x larger rate than the paper's 2e-4 (which assumes ~100k steps) makes 1,500 steps enough.
    "demo": Pix2PixConfig(
        image_size=32, base_filters=16, max_filters=128, discriminator_layers=2, batch_size=16, epochs=10,
        steps_per_epoch=150, generator_learning_rate=5e-4, discriminator_learning_rate=5e-4, checkpoint_every_n_steps=500,
        model_dir="runs/pix2pix_demo", export_name="pix2pix_demo",
    ),
    "smoke": Pix2PixConfig(
        evaluation_classifier="embedded_fashion_mnist",
        base_filters=4, max_filters=8, discriminator_layers=1, batch_size=4, epochs=2, steps_per_epoch=3,
        checkpoint_every_n_steps=2, num_preview_images=4, evaluation_images=8, model_dir="runs/pix2pix_smoke",
        export_name="pix2pix_smoke",
    ),
    # The paper's settings (appendix 6.2) on the authors' archives (--manual_dir holding <config>.tar.gz).
    "facades": Pix2PixConfig(
        dataset="pix2pix/facades", direction="BtoA", batch_size=1, epochs=200, model_dir="runs/pix2pix_facades",
        export_name="pix2pix_facades",
    ),
    "edges2shoes": Pix2PixConfig(
        dataset="pix2pix/edges2shoes", direction="AtoB", batch_size=4, epochs=15, model_dir="runs/pix2pix_edges2shoes",
        export_name="pix2pix_edges2shoes",
    ),
}
