"""Config and presets of `kgan.GRAN` (``train/gran.py``)."""

from __future__ import annotations

import dataclasses

from kgan.configs.base import _field
from kgan.configs.gan import GANConfig


@dataclasses.dataclass(frozen=True)
class GRANConfig(GANConfig):
    """A run of ``train/gran.py``: `kgan.GRAN` (Im et al. 2016) on images.

    The generator draws ``--canvas_steps`` updates on a canvas
    (`kgan.networks.gran.gran_generator`: h_z and h_c of
    ``--canvas_hidden_units``, ``--base_filters`` filters; batch norm in its
    decoder unless ``--generator_normalization=none``); the discriminator is
    DCGAN's. Every other option is `GANConfig`'s.
    """

    canvas_steps: int = _field(3, "T: updates the generator adds to its canvas per sample.")
    canvas_hidden_units: int = _field(128, "Width of the projected noise h_z and of the canvas code h_c.")
    generator_normalization: str = _field("batch", "Batch norm in the canvas decoder: 'batch' or 'none'.")
    model_dir: str = _field("runs/gran", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("gran", "Model name of the export (TF Serving's model name).")

    def build_networks(self, sample_shape) -> dict:
        """``{"generator": gran_generator, "discriminator": dcgan_discriminator}``."""
        from kgan import networks
        from kgan.networks.gran import gran_generator

        return {
            "generator": gran_generator(self.latent_dim, sample_shape, self.canvas_steps, self.canvas_hidden_units,
                                        self.base_filters, normalization=self.generator_normalization == "batch"),
            "discriminator": networks.dcgan_discriminator(self.discriminator_shape(sample_shape), self.base_filters, self.normalization,
                                                          minibatch=self.minibatch, spectral_norm=self.spectral_norm),
        }

    def problems(self) -> list:
        problems = [p for p in super().problems() if not p.startswith("--generator_normalization")]
        if self.generator_normalization not in ("batch", "none"):
            problems.append(f"--generator_normalization must be batch or none for GRAN; got {self.generator_normalization!r}.")
        if self.is_points:
            problems.append(f"GRAN draws images on a canvas; --dataset={self.dataset} is 2-D points.")
        if self.image_size is not None and self.image_size % 4:
            problems.append(f"--image_size must be divisible by 4 (the canvas decoder doubles twice); got {self.image_size}.")
        self._check_positive(problems, "canvas_steps")
        self._check_positive(problems, "canvas_hidden_units")
        return problems


PRESETS = {
    # The embedded Fashion-MNIST subset (6,000 training images, 1,000 test images, no network): a few minutes.
    "demo": GRANConfig(base_filters=32, epochs=20, checkpoint_every_n_steps=200, model_dir="runs/gran_demo", export_name="gran_demo"),
    # Seconds: smoke tests and CI.
    "smoke": GRANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, base_filters=8, canvas_hidden_units=16, batch_size=16, epochs=2, steps_per_epoch=5, limit=256,
        checkpoint_every_n_steps=3, num_samples=16, evaluation_samples=100, model_dir="runs/gran_smoke", export_name="gran_smoke",
    ),
    # The full training split, scored on the 10,000 test images.
    "fashion_mnist": GRANConfig(dataset="fashion_mnist", epochs=25, evaluation_samples=10000,
                                model_dir="runs/gran_fashion_mnist", export_name="gran_fashion_mnist"),
}
