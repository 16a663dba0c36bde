"""Config and presets of `kgan.LapGAN` (``train/lapgan.py``)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from kgan.configs.base import _field
from kgan.configs.gan import GANConfig


@dataclasses.dataclass(frozen=True)
class LapGANConfig(GANConfig):
    """A run of ``train/lapgan.py``: `kgan.LapGAN` (Denton et al. 2015) on images.

    ``--levels`` pyramid levels halve the image from the full size down
    (28 -> 14 -> 7 for Fashion-MNIST, 32 -> 16 -> 8 for 32-px data). Level 0:
    MLPs (`kgan.networks.lapgan.coarse_generator` / ``_discriminator``, widths
    ``--coarse_hidden_units``) on a z of ``--latent_dim``; every finer level:
    convolutional nets of ``--base_filters`` on the upsampled coarser image and
    a z of ``--level_noise_dim``. Every generator uses
    ``--generator_learning_rate``, every discriminator
    ``--discriminator_learning_rate``.
    """

    #: One GAN per pyramid level: the step options are not offered.
    STEP_OPTIONS: ClassVar[tuple] = ()

    levels: int = _field(3, "Pyramid levels, the full size the finest; each coarser level halves it.")
    levels_to_train: tuple = _field((), "Levels each step trains, 0 the coarsest (default: all), e.g. --levels_to_train=1,2.")
    latent_dim: int = _field(100, "Size of z_0, the coarsest level's noise.")
    level_noise_dim: int = _field(16, "Size of z_k of each finer level (one learned input plane).")
    coarse_hidden_units: tuple = _field((512, 512), "Hidden widths of level 0's MLP generator and discriminator.")
    coarse_network: str = _field(
        "mlp", "Level 0's networks: 'mlp' (the paper's, --coarse_hidden_units) or 'conv' (small DCGAN-style nets of "
        "--coarse_filters; the coarsest side must be even: 14 or 16 px, i.e. --levels=2 at 28 or 32 px)."
    )
    coarse_filters: int = _field(64, "With --coarse_network=conv: filters of level 0's networks (--base_filters sets the finer levels').")
    model_dir: str = _field("runs/lapgan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("lapgan", "Model name of the export (TF Serving's model name).")

    def build_networks(self, sample_shape) -> dict:
        """``{"generators": [...], "discriminators": [...]}``, coarsest level first."""
        from kgan.networks import lapgan

        height, width, channels = sample_shape
        sizes = lapgan.pyramid_sizes(height, width, self.levels)
        coarse_shape = (*sizes[0], channels)
        if self.coarse_network == "conv":
            try:
                lapgan.check_coarse_conv_size(*sizes[0])
            except ValueError as error:
                raise ValueError(_coarse_conv_advice(error, self.levels)) from None
            generators = [lapgan.coarse_conv_generator(self.latent_dim, coarse_shape, self.coarse_filters)]
            discriminators = [lapgan.coarse_conv_discriminator(coarse_shape, self.coarse_filters)]
        else:
            generators = [lapgan.coarse_generator(self.latent_dim, coarse_shape, self.coarse_hidden_units)]
            discriminators = [lapgan.coarse_discriminator(coarse_shape, self.coarse_hidden_units)]
        for k, size in enumerate(sizes[1:], start=1):
            shape = (*size, channels)
            generators.append(lapgan.residual_generator(shape, self.level_noise_dim, self.base_filters, name=f"generator_{k}"))
            discriminators.append(lapgan.residual_discriminator(shape, self.base_filters, name=f"discriminator_{k}"))
        return {"generators": generators, "discriminators": discriminators}

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.LapGAN`'s constructor arguments other than the networks."""
        return dict(loss=self.loss, levels_to_train=(self.levels_to_train or None), seed=self.seed,
                    historical_averaging=self.historical_averaging)

    def problems(self) -> list:
        from kgan.models.lapgan import LAPGAN_LOSSES
        from kgan.networks.lapgan import check_coarse_conv_size, pyramid_sizes

        problems = super().problems()
        if self.is_points:
            problems.append(f"LapGAN builds images in a pyramid; --dataset={self.dataset} is 2-D points.")
        if self.levels < 1:
            problems.append(f"--levels must be >= 1; got {self.levels}.")
        elif self.image_size is not None:
            try:
                pyramid_sizes(self.image_size, self.image_size, self.levels)
            except ValueError as error:
                problems.append(f"--image_size / --levels: {error}")
            else:
                side = self.image_size // 2 ** (self.levels - 1)
                if self.coarse_network == "conv":
                    try:
                        check_coarse_conv_size(side, side)
                    except ValueError as error:
                        problems.append(_coarse_conv_advice(error, self.levels))
        if self.coarse_network not in ("mlp", "conv"):
            problems.append(f"--coarse_network must be mlp or conv; got {self.coarse_network!r}.")
        if any(not 0 <= int(k) < max(self.levels, 1) for k in self.levels_to_train):
            problems.append(f"--levels_to_train must name levels in [0, {self.levels}); got {self.levels_to_train!r}.")
        self._check_positive(problems, "level_noise_dim")
        self._check_positive(problems, "coarse_filters")
        if not self.coarse_hidden_units or any(int(u) < 1 for u in self.coarse_hidden_units):
            problems.append(f"--coarse_hidden_units must be a comma-separated list of positive widths; got {self.coarse_hidden_units!r}.")
        if self.loss not in LAPGAN_LOSSES:
            problems.append(f"--loss={self.loss} does not apply to LapGAN; choose one of {', '.join(LAPGAN_LOSSES)}.")
        for name in ("label_smoothing", "feature_matching", "consensus", "generator_ema"):
            if self._finite(name):
                problems.append(f"--{name} does not apply to LapGAN; set it to 0.")
        if self.diff_augment or self.discriminator_steps != 1 or self.minibatch != "none" or self.spectral_norm:
            problems.append("--diff_augment, --discriminator_steps, --minibatch and --spectral_norm do not apply to LapGAN "
                            "(one D and one G update per level and step, plain networks); leave them unset.")
        return problems


def _coarse_conv_advice(error, levels: int) -> str:
    """`check_coarse_conv_size`'s refusal, with the flags that fix it."""
    return (f"--coarse_network=conv with {levels} levels: {error} Use fewer --levels (e.g. --levels=2 at 28 or 32 px: "
            "14 or 16) or --coarse_network=mlp.")


PRESETS = {
    # The embedded Fashion-MNIST subset (6,000 training images, 1,000 test images, no network): a few minutes.
    "demo": LapGANConfig(base_filters=32, epochs=20, checkpoint_every_n_steps=200, model_dir="runs/lapgan_demo",
                         export_name="lapgan_demo"),
    # Seconds: smoke tests and CI.
    "smoke": LapGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, level_noise_dim=4, base_filters=8, coarse_hidden_units=(16,), batch_size=16, epochs=2,
        steps_per_epoch=5, limit=256, checkpoint_every_n_steps=3, num_samples=16, evaluation_samples=100,
        model_dir="runs/lapgan_smoke", export_name="lapgan_smoke",
    ),
    # The full training split, scored on the 10,000 test images. kgan's CPU recipe: two levels (14 -> 28), a small
    # convolutional level 0 and 32 filters everywhere. In 8 minutes of fit beside a GAN (README, "LapGAN against
    # GAN"): FID 41.4 in kgan's classifier features, the paper's pyramid (``paper_fashion_mnist``) 72.9, the GAN ~25.
    "fashion_mnist": LapGANConfig(dataset="fashion_mnist", epochs=200, evaluation_samples=10000, levels=2,
                                  coarse_network="conv", coarse_filters=32, base_filters=32,
                                  model_dir="runs/lapgan_fashion_mnist", export_name="lapgan_fashion_mnist"),
    # The paper's pyramid on the full split: 7 -> 14 -> 28, an MLP level 0, 64 filters above it.
    "paper_fashion_mnist": LapGANConfig(dataset="fashion_mnist", epochs=200, evaluation_samples=10000,
                                        model_dir="runs/lapgan_paper_fashion_mnist", export_name="lapgan_paper_fashion_mnist"),
}
