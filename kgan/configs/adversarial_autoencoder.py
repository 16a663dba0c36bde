"""Config and presets of `kgan.AdversarialAutoencoder` (``train/aae.py``)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from kgan.configs.base import _field
from kgan.configs.encoder_evaluation import EncoderEvaluationOptions
from kgan.configs.gan import GANConfig, dataset_classes
from kgan.data import KNOWN_DATASETS


@dataclasses.dataclass(frozen=True)
class AdversarialAutoencoderConfig(GANConfig, EncoderEvaluationOptions):
    """A run of ``train/aae.py``: `kgan.AdversarialAutoencoder` (Makhzani et al. 2016).

    Networks: an encoder with the DCGAN discriminator's trunk
    (`kgan.networks.bigan.dcgan_encoder`; points: ``mlp_encoder``), GAN's
    generator as the decoder, and MLP discriminators of codes
    (`kgan.networks.mlp_discriminator` on z; on the cluster softmax in the
    clustering variant, ``--num_clusters``). Every optimizer but the
    discriminators' uses ``--generator_learning_rate``.

    ``--supervised`` (Sec. 5) trains on ``(images, labels)`` batches and gives
    the label to the decoder (``num_classes`` comes from the dataset); with
    ``--prior=mixture`` as well, one component per class, the prior is
    label-conditioned (Sec. 4) and the discriminator sees the label.
    """

    #: Not a GAN step: none of the step options apply.
    STEP_OPTIONS: ClassVar[tuple] = ()

    latent_dim: int = _field(8, "Size of z (the style code with --num_clusters).")
    prior: str = _field("gaussian", "p(z): gaussian (N(0, I)) or mixture (--prior_components Gaussians on a circle in dims 0-1).")
    prior_components: int = _field(10, "Mixture prior: its equal-weight components.")
    prior_radius: float = _field(4.0, "Mixture prior: the radius of the circle of its means.")
    prior_std: float = _field(0.5, "Mixture prior: each component's standard deviation.")
    num_clusters: int = _field(
        0, "The unsupervised-clustering variant (Sec. 6): K cluster logits beside z, a categorical prior on them; 0: off."
    )
    supervised: bool = _field(
        False, "The supervised variant (Sec. 5): (images, labels) batches, the label given to the decoder so z holds the style."
    )
    code_hidden_units: tuple = _field((512, 512), "Hidden widths of the code discriminators (the paper: two layers of 1,000).")
    reconstruction_weight: float = _field(1.0, "Weight of the reconstruction MSE.")
    model_dir: str = _field("runs/aae", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("aae", "Model name of the export (TF Serving's model name).")

    @property
    def with_labels(self) -> bool:
        """train_lib.make_dataset yields (samples, labels) batches for the supervised variant."""
        return self.supervised

    @property
    def num_classes(self) -> int:
        """The supervised variant's classes (the dataset's; `dataset_classes`), else 0."""
        return (dataset_classes(self) or 0) if self.supervised else 0

    @property
    def label_conditioned_prior(self) -> bool:
        return self.supervised and self.prior == "mixture"

    def build_networks(self, sample_shape) -> dict:
        """``{"encoder", "decoder", "discriminator"}`` (and ``"category_discriminator"`` with ``--num_clusters``)."""
        from kgan import networks

        code_width = self.num_clusters + self.latent_dim
        num_classes = self.num_classes
        if len(sample_shape) == 3:
            found = {
                "encoder": networks.dcgan_encoder(sample_shape, code_width, self.base_filters, self.normalization),
                "decoder": networks.dcgan_generator(code_width + num_classes, sample_shape, self.base_filters,
                                                    normalization=self.generator_normalization, name="decoder"),
            }
        else:
            found = {
                "encoder": networks.mlp_encoder(sample_shape[0], code_width, self.hidden_units),
                "decoder": networks.mlp_generator(code_width + num_classes, sample_shape[0], self.hidden_units, name="decoder"),
            }
        judged = self.latent_dim + (num_classes if self.label_conditioned_prior else 0)
        found["discriminator"] = networks.mlp_discriminator(judged, self.code_hidden_units)
        if self.num_clusters:
            found["category_discriminator"] = networks.mlp_discriminator(
                self.num_clusters, self.code_hidden_units, name="category_discriminator")
        return found

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.AdversarialAutoencoder`'s constructor arguments other than the networks."""
        return dict(
            latent_dim=self.latent_dim, num_clusters=self.num_clusters, num_classes=self.num_classes, prior=self.prior, prior_components=self.prior_components,
            prior_radius=self.prior_radius, prior_std=self.prior_std, reconstruction_weight=self.reconstruction_weight,
            seed=self.seed, historical_averaging=self.historical_averaging,
        )

    def problems(self) -> list:
        from kgan.models.adversarial_autoencoder import LatentPrior

        problems = super().problems()
        try:
            LatentPrior(self.prior, self.latent_dim, self.prior_components, self.prior_radius, self.prior_std)
        except (TypeError, ValueError) as error:
            problems.append(f"--prior / --prior_components / --prior_radius / --prior_std / --latent_dim: {error}")
        if self.num_clusters < 0 or self.num_clusters == 1:
            problems.append(f"--num_clusters must be 0 (off) or >= 2; got {self.num_clusters}.")
        if self.supervised:
            if self.num_clusters:
                problems.append("--supervised (labels given) and --num_clusters (clusters found without them) exclude each other.")
            if self.dataset in KNOWN_DATASETS and not self.num_classes:
                problems.append(f"--supervised needs labels; --dataset={self.dataset} has none.")
            elif self.label_conditioned_prior and self.dataset in KNOWN_DATASETS and self.prior_components != self.num_classes:
                problems.append(f"--supervised with --prior=mixture conditions the prior on the label, one component per "
                                f"class: set --prior_components={self.num_classes} (the classes of {self.dataset}).")
        self._check_weights(problems, "reconstruction_weight", positive=True)
        self.representation_problems(problems)
        if not self.code_hidden_units or any(int(u) < 1 for u in self.code_hidden_units):
            problems.append(f"--code_hidden_units must be a comma-separated list of positive widths; got {self.code_hidden_units!r}.")
        for name in ("label_smoothing", "feature_matching", "consensus", "generator_ema"):
            if self._finite(name):
                problems.append(f"--{name} does not apply to the adversarial autoencoder; set it to 0.")
        if self.diff_augment:
            problems.append("--diff_augment does not apply to the adversarial autoencoder (its discriminators judge codes).")
        if self.loss != "non_saturating" or self.discriminator_steps != 1:
            problems.append("--loss and --discriminator_steps do not apply to the adversarial autoencoder (one cross-entropy "
                            "discriminator update per step); leave them unset.")
        return problems


PRESETS = {
    # The embedded Fashion-MNIST subset (6,000 training images, 1,000 test images, no network): a few minutes.
    "demo": AdversarialAutoencoderConfig(
        base_filters=32, epochs=20, checkpoint_every_n_steps=200, model_dir="runs/aae_demo", export_name="aae_demo",
    ),
    # Seconds: smoke tests and CI.
    "smoke": AdversarialAutoencoderConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=4, base_filters=8, code_hidden_units=(16,), batch_size=16, epochs=2, steps_per_epoch=5, limit=256,
        checkpoint_every_n_steps=3, num_samples=16, evaluation_samples=100, representation_train_images=300,
        representation_test_images=100, model_dir="runs/aae_smoke", export_name="aae_smoke",
    ),
    # The full training split, scored on the 10,000 test images.
    "fashion_mnist": AdversarialAutoencoderConfig(
        dataset="fashion_mnist", epochs=25, evaluation_samples=10000, model_dir="runs/aae_fashion_mnist",
        export_name="aae_fashion_mnist",
    ),
    # Sec. 5 on the embedded subset: the label given to the decoder, z the style.
    "supervised_demo": AdversarialAutoencoderConfig(
        supervised=True, base_filters=32, epochs=20, checkpoint_every_n_steps=200, model_dir="runs/aae_supervised_demo",
        export_name="aae_supervised_demo",
    ),
    "supervised_fashion_mnist": AdversarialAutoencoderConfig(
        dataset="fashion_mnist", supervised=True, epochs=25, evaluation_samples=10000,
        model_dir="runs/aae_supervised_fashion_mnist", export_name="aae_supervised_fashion_mnist",
    ),
    # Sec. 6: 16 clusters beside a style code of 8 (the paper's MNIST clustering setting).
    "clustering_fashion_mnist": AdversarialAutoencoderConfig(
        dataset="fashion_mnist", num_clusters=16, epochs=25, evaluation_samples=10000,
        model_dir="runs/aae_clustering_fashion_mnist", export_name="aae_clustering_fashion_mnist",
    ),
}
