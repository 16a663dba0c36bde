"""Config and presets of `kgan.BiGAN` (BiGAN / ALI)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from kgan.configs.base import TrainingConfig, _field
from kgan.configs.encoder_evaluation import EncoderEvaluationOptions
from kgan.configs.gan import GANConfig


@dataclasses.dataclass(frozen=True)
class BiGANConfig(GANConfig, EncoderEvaluationOptions):
    """A run of `kgan.BiGAN` (Donahue et al. 2017) or ALI (Dumoulin et al. 2017, ``--encoder_type=gaussian``).

    Networks: GAN's generator (`kgan.networks.dcgan_generator`,
    ``mlp_generator`` for point mixtures), an encoder with the discriminator's
    trunk (`kgan.networks.bigan.dcgan_encoder`, ``mlp_encoder``) and a joint
    discriminator of pairs (`kgan.networks.bigan.joint_dcgan_discriminator`,
    ``joint_mlp_discriminator``). The encoder has its own optimizer, with the
    generator's learning rate.
    """

    #: None of GAN's step options fit BiGAN (see kgan.BiGAN.training_options).
    STEP_OPTIONS: ClassVar[tuple] = ()

    latent_dim: int = _field(64, "Size of z, the generator's input and the encoder's output.")
    encoder_type: str = _field("deterministic", "deterministic (BiGAN's E(x)) or gaussian (ALI's q(z|x), reparameterised).")
    joint_hidden_units: tuple = _field(
        (512,), "Widths of the discriminator's layers after x's features and z are joined (points: the whole MLP on [x, z])."
    )
    model_dir: str = _field("runs/bigan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("bigan", "Model name of the export (TF Serving's model name).")

    def build_networks(self, sample_shape) -> dict:
        """``{"generator", "encoder", "discriminator"}`` for images ``(H, W, C)`` or points ``(D,)``."""
        from kgan.networks import bigan

        gaussian = self.encoder_type == "gaussian"
        generator = super().build_networks(sample_shape)["generator"]
        if len(sample_shape) == 3:
            return {
                "generator": generator,
                "encoder": bigan.dcgan_encoder(sample_shape, self.latent_dim, self.base_filters, self.normalization, gaussian),
                "discriminator": bigan.joint_dcgan_discriminator(
                    sample_shape, self.latent_dim, self.base_filters, self.normalization, self.joint_hidden_units
                ),
            }
        return {
            "generator": generator,
            "encoder": bigan.mlp_encoder(sample_shape[0], self.latent_dim, self.hidden_units, gaussian),
            "discriminator": bigan.joint_mlp_discriminator(sample_shape[0], self.latent_dim, self.joint_hidden_units),
        }

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.BiGAN`'s constructor arguments other than the networks."""
        return dict(
            latent_dim=self.latent_dim, encoder_type=self.encoder_type, loss=self.loss,
            discriminator_steps=self.discriminator_steps, seed=self.seed, **TrainingConfig.remedy_options(self),  # Not GANConfig's: no feature matching or consensus.
        )

    def problems(self) -> list:
        from kgan.models.bigan import BIGAN_LOSSES, ENCODERS

        problems = super().problems()
        if self.encoder_type not in ENCODERS:
            problems.append(f"--encoder_type must be one of {', '.join(ENCODERS)}; got {self.encoder_type!r}.")
        if self.loss not in BIGAN_LOSSES:
            problems.append(f"--loss={self.loss} does not apply to BiGAN; choose one of {', '.join(BIGAN_LOSSES)}.")
        for name in ("label_smoothing", "feature_matching", "consensus"):
            if self._finite(name):
                problems.append(f"--{name} does not apply to BiGAN; set it to 0.")
        self.representation_problems(problems)
        if not self.joint_hidden_units or any(int(u) < 1 for u in self.joint_hidden_units):
            problems.append(f"--joint_hidden_units must be a comma-separated list of positive widths; got {self.joint_hidden_units!r}.")
        return problems


PRESETS = {
    # The embedded Fashion-MNIST subset (6,000 training images, 1,000 test images, no network): a few minutes.
    "demo": BiGANConfig(
        base_filters=32, epochs=20, checkpoint_every_n_steps=200, model_dir="runs/bigan_demo", export_name="bigan_demo",
    ),
    # Seconds: smoke tests and CI.
    "smoke": BiGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, base_filters=8, joint_hidden_units=(16,), batch_size=16, epochs=2, steps_per_epoch=5, limit=256,
        checkpoint_every_n_steps=3, num_samples=16, evaluation_samples=100, representation_train_images=300,
        representation_test_images=100, model_dir="runs/bigan_smoke", export_name="bigan_smoke",
    ),
    # The full training split, scored on the 10,000 test images.
    "fashion_mnist": BiGANConfig(
        dataset="fashion_mnist", epochs=25, evaluation_samples=10000, model_dir="runs/bigan_fashion_mnist",
        export_name="bigan_fashion_mnist",
    ),
    # x on the ring of 8, z 2-D, ALI's Gaussian encoder: the recipe tests/test_bigan.py checks (G(E(x)) lands on
    # the mode of x; the deterministic encoder needs more than twice the steps, and not every seed gets there).
    "ring8": BiGANConfig(
        dataset="ring8", latent_dim=2, encoder_type="gaussian", hidden_units=(128, 128), joint_hidden_units=(128, 128),
        batch_size=256, epochs=4,
        steps_per_epoch=500, generator_learning_rate=1e-3, discriminator_learning_rate=1e-3, num_samples=800,
        model_dir="runs/bigan_ring8", export_name="bigan_ring8",
    ),
}
