"""Config and presets of `kgan.InfoGAN` (``train/info_gan.py``)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

from kgan.configs.base import _field
from kgan.configs.gan import GANConfig


@dataclasses.dataclass(frozen=True)
class InfoGANConfig(GANConfig):
    """A run of ``train/info_gan.py``: `kgan.InfoGAN` (Chen et al. 2016).

    Defaults follow the paper's MNIST experiment: z of 62, one categorical
    code of 10 values and 2 continuous codes, lambda 1 (categorical) and 0.1
    (continuous, scaled down as the paper advises), Adam(beta_1=0.5) at 1e-3
    for G and 2e-4 for D and Q. Networks: `kgan.networks.dcgan_generator` on
    ``[z, codes]`` and `kgan.networks.info_dcgan_discriminator` (D and Q on
    one trunk) for images; ``mlp_generator`` and ``info_mlp_discriminator``
    for point mixtures. ``--loss=wasserstein --gradient_penalty_weight=10
    --normalization=layer --discriminator_steps=5`` with WGAN-GP's rates is
    an InfoWGAN-GP. The run ends with FID/KID (points: mode coverage) plus
    the clustering scores of Q's first categorical code on the labelled test
    split (points: how well each value of that code picks one mode).
    """

    #: None of GAN's step options fit InfoGAN (see kgan.InfoGAN.training_options).
    STEP_OPTIONS: ClassVar[tuple] = ()

    latent_dim: int = _field(62, "Size of the incompressible noise z (the paper: 62 for MNIST).")
    categorical_codes: tuple = _field(
        (10,), "K of each categorical latent code, e.g. 10 or 10,10 (two codes); empty (--categorical_codes=) for none."
    )
    continuous_codes: int = _field(2, "Number of continuous latent codes, each uniform in [-1, 1].")
    info_weight_categorical: float = _field(1.0, "lambda of the categorical codes' mutual-information term (the paper: 1).")
    info_weight_continuous: float = _field(0.1, "lambda of the continuous codes' mutual-information term (smaller, as the paper advises).")
    learn_continuous_variance: bool = _field(
        False, "Q predicts a standard deviation per continuous code (a learned Gaussian); off: sigma = 1 (the paper's code)."
    )
    q_hidden_units: int = _field(128, "Width of Q's hidden layer on the shared trunk (the paper: 128).")
    gradient_penalty_weight: float = _field(0.0, "WGAN-GP penalty weight on D's score head (with --loss=wasserstein); 0: off.")
    generator_learning_rate: float = _field(1e-3, "Adam learning rate of the generator (the paper: 1e-3).")
    discriminator_learning_rate: float = _field(2e-4, "Adam learning rate of the discriminator and Q (the paper: 2e-4).")
    clustering_images: Optional[int] = _field(
        None, "End-of-run clustering: test images Q assigns to clusters (points: samples per code value); unset: the whole "
        "test split (points: 500)."
    )
    num_samples: int = _field(100, "Samples in the progress grid of point datasets (images: the code grid).")
    model_dir: str = _field("runs/info_gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("info_gan", "Model name of the export (TF Serving's model name).")

    def latent_codes(self):
        """The `kgan.models.info_gan.LatentCodes` of the flags (ValueError if they make none)."""
        from kgan.models.info_gan import LatentCodes

        return LatentCodes(tuple(self.categorical_codes), self.continuous_codes, self.learn_continuous_variance)

    def build_networks(self, sample_shape) -> dict:
        """``{"generator", "discriminator"}``: G on ``[z, codes]``; D with its Q head (`kgan.networks.info_gan`)."""
        from kgan import networks
        from kgan.networks.info_gan import info_dcgan_discriminator, info_mlp_discriminator

        codes = self.latent_codes()
        stabilizers = dict(minibatch=self.minibatch, spectral_norm=self.spectral_norm)
        inputs = self.latent_dim + codes.width
        if len(sample_shape) == 3:
            return {
                "generator": networks.dcgan_generator(inputs, sample_shape, self.base_filters, normalization=self.generator_normalization),
                "discriminator": info_dcgan_discriminator(
                    sample_shape, codes.q_width, self.base_filters, self.normalization, self.q_hidden_units, **stabilizers
                ),
            }
        return {
            "generator": networks.mlp_generator(inputs, sample_shape[0], self.hidden_units),
            "discriminator": info_mlp_discriminator(sample_shape[0], codes.q_width, self.hidden_units, self.q_hidden_units, **stabilizers),
        }

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.InfoGAN`'s constructor arguments other than the networks."""
        return dict(
            super().model_options(sample_shape), categorical_codes=tuple(self.categorical_codes),
            continuous_codes=self.continuous_codes, info_weight_categorical=self.info_weight_categorical,
            info_weight_continuous=self.info_weight_continuous, learn_continuous_variance=self.learn_continuous_variance,
            gradient_penalty_weight=self.gradient_penalty_weight,
        )

    def problems(self) -> list:
        problems = super().problems()
        try:
            self.latent_codes()
        except (TypeError, ValueError) as error:
            problems.append(f"--categorical_codes / --continuous_codes: {error}")
        self._check_positive(problems, "q_hidden_units")
        self._check_positive(problems, "clustering_images", allow_none=True)
        self._check_weights(problems, "info_weight_categorical", "info_weight_continuous", "gradient_penalty_weight")
        if (self._finite("gradient_penalty_weight") or 0) > 0 and self.normalization == "batch" and not self.is_points:
            problems.append("--gradient_penalty_weight > 0 needs a critic without batch norm: --normalization=layer or none.")
        return problems


PRESETS = {
    # The paper's MNIST recipe on the embedded Fashion-MNIST subset (6,000 images, no network): a few minutes.
    "demo": InfoGANConfig(
        base_filters=32, epochs=30, checkpoint_every_n_steps=200, model_dir="runs/info_gan_demo", export_name="info_gan_demo",
    ),
    # Seconds: smoke tests and CI.
    "smoke": InfoGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, base_filters=8, q_hidden_units=16, batch_size=16, epochs=2, steps_per_epoch=5, limit=256,
        checkpoint_every_n_steps=3, num_samples=16, evaluation_samples=100, model_dir="runs/info_gan_smoke",
        export_name="info_gan_smoke",
    ),
    "mnist": InfoGANConfig(dataset="mnist", epochs=25, model_dir="runs/info_gan_mnist", export_name="info_gan_mnist"),
    # bench/info_gan.py's setting (the target: clustering accuracy of Q on the test split).
    "fashion_mnist": InfoGANConfig(
        dataset="fashion_mnist", epochs=25, evaluation_samples=10000, model_dir="runs/info_gan_fashion_mnist",
        export_name="info_gan_fashion_mnist",
    ),
    # One categorical code of 8 values on the ring of 8: the recipe tests/test_info_gan.py checks
    # (code value -> mode agreement >= 0.9).
    "ring8": InfoGANConfig(
        dataset="ring8", latent_dim=16, categorical_codes=(8,), continuous_codes=0, hidden_units=(128, 128),
        q_hidden_units=128, batch_size=256, epochs=4, steps_per_epoch=500, generator_learning_rate=1e-3,
        discriminator_learning_rate=1e-3, num_samples=800, model_dir="runs/info_gan_ring8", export_name="info_gan_ring8",
    ),
}
