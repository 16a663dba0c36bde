"""Config and presets of `kgan.CatGAN` (``train/cat_gan.py``)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

from kgan.configs.base import _field
from kgan.configs.gan import ConditionalGANConfig, GANConfig
from kgan.data import KNOWN_DATASETS


@dataclasses.dataclass(frozen=True)
class CatGANConfig(GANConfig):
    """A run of ``train/cat_gan.py``: `kgan.CatGAN` (Springenberg 2016), unsupervised or semi-supervised.

    Networks: GAN's generator (`kgan.networks.dcgan_generator`, ``mlp_generator``
    for point mixtures) and a K-way discriminator
    (`kgan.networks.categorical_dcgan_discriminator`,
    ``categorical_mlp_discriminator``). ``--labels_per_class=N`` is the
    semi-supervised mode: the first N training examples of each class keep
    their labels, and every minibatch holds ``--labelled_batch_size`` of them
    beside ``batch_size - labelled_batch_size`` examples of the whole split
    with their labels hidden (``train/semi_supervised.py``). The run ends with
    FID/KID (points: mode coverage) plus the clustering scores of D on the
    labelled test split (points: on mixture samples against their mode) and,
    semi-supervised, D's test accuracy.
    """

    #: None of GAN's step options fit CatGAN (see kgan.CatGAN.training_options).
    STEP_OPTIONS: ClassVar[tuple] = ()

    loss: str = _field("non_saturating", "Not used: CatGAN's objective is its entropy game (leave it unset).")
    num_clusters: Optional[int] = _field(
        None, "K, the classes the discriminator predicts; unset: the dataset's classes (a mixture's modes). Must be the "
        "number of classes with --labels_per_class."
    )
    labels_per_class: int = _field(
        0, "Semi-supervised: the first N examples of each class of the training split keep their labels; 0: unsupervised."
    )
    labelled_batch_size: int = _field(
        16, "Semi-supervised: labelled examples in every minibatch (of --batch_size), drawn from the labelled subset."
    )
    supervised_weight: float = _field(1.0, "Semi-supervised: lambda, the weight of the labelled cross-entropy (eq. 10).")
    marginal_entropy_weight: float = _field(
        1.0, "Weight of the marginal class entropies in D's and G's losses (the paper: 1; larger favours equal-sized clusters)."
    )
    clustering_images: Optional[int] = _field(
        None, "End-of-run clustering: test images D assigns to clusters (points: mixture samples); unset: the whole "
        "test split (points: 10,000)."
    )
    model_dir: str = _field("runs/cat_gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("cat_gan", "Model name of the export (TF Serving's model name).")

    @property
    def semi_supervised(self) -> bool:
        return self.labels_per_class > 0

    @property
    def dataset_classes(self):
        """The dataset's classes (a mixture's modes), or None without labels: `ConditionalGANConfig`'s lookup."""
        return ConditionalGANConfig.num_classes.fget(self)

    @property
    def clusters(self) -> int:
        """K: ``--num_clusters``, else the dataset's classes."""
        return self.num_clusters if self.num_clusters is not None else self.dataset_classes

    def build_networks(self, sample_shape) -> dict:
        """``{"generator", "discriminator"}``: `GANConfig`'s generator and a K-way discriminator (`kgan.networks.categorical`)."""
        from kgan.networks import categorical

        stabilizers = dict(minibatch=self.minibatch, spectral_norm=self.spectral_norm)
        if len(sample_shape) == 3:
            discriminator = categorical.categorical_dcgan_discriminator(
                sample_shape, self.clusters, self.base_filters, self.normalization, **stabilizers
            )
        else:
            discriminator = categorical.categorical_mlp_discriminator(sample_shape[0], self.clusters, self.hidden_units, **stabilizers)
        return {"generator": super().build_networks(sample_shape)["generator"], "discriminator": discriminator}

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.CatGAN`'s constructor arguments other than the networks (lambda only in the semi-supervised mode)."""
        return dict(
            latent_dim=self.latent_dim, discriminator_steps=self.discriminator_steps, seed=self.seed,
            supervised_weight=self.supervised_weight if self.semi_supervised else 0.0,
            marginal_entropy_weight=self.marginal_entropy_weight, **self.remedy_options(),
        )

    def problems(self) -> list:
        problems = super().problems()
        if self.loss != "non_saturating":
            problems.append(f"--loss does not apply to CatGAN (its objective is the entropy game); got {self.loss!r}: unset it.")
        if self._finite("label_smoothing"):
            problems.append("--label_smoothing does not apply to CatGAN (it has no real/fake targets); set it to 0.")
        self._check_positive(problems, "clustering_images", allow_none=True)
        self._check_weights(problems, "supervised_weight")
        self._check_weights(problems, "marginal_entropy_weight", positive=True)
        if self.num_clusters is not None and (isinstance(self.num_clusters, bool) or self.num_clusters < 2):
            problems.append(f"--num_clusters must be an integer >= 2 or unset; got {self.num_clusters!r}.")
        known = self.is_points or self.dataset in KNOWN_DATASETS  # Own data is read once the run starts.
        classes = self.dataset_classes if known else None
        if known and self.num_clusters is None and classes is None:
            problems.append(f"--dataset={self.dataset} has no class labels: set --num_clusters.")
        if self.labels_per_class < 0:
            problems.append(f"--labels_per_class must be >= 0 (0: unsupervised); got {self.labels_per_class}.")
        elif self.semi_supervised:
            if self.is_points:
                problems.append("--labels_per_class needs a labelled image dataset; point mixtures train unsupervised.")
            elif known and classes is None:
                problems.append(f"--labels_per_class needs class labels; --dataset={self.dataset} has none.")
            elif known and self.num_clusters is not None and self.num_clusters != classes:
                problems.append(f"--labels_per_class needs --num_clusters = the dataset's {classes} classes (or unset); "
                                f"got {self.num_clusters}.")
            if not 1 <= self.labelled_batch_size < self.batch_size:
                problems.append(f"--labelled_batch_size must be in [1, --batch_size) = [1, {self.batch_size}) with "
                                f"--labels_per_class; got {self.labelled_batch_size}.")
        return problems


PRESETS = {
    # The embedded Fashion-MNIST subset (6,000 images, no network): 1,860 steps, ~1.5 min on 2 CPU cores; seed 0 gave
    # clustering accuracy 0.523 (NMI 0.556) on its 1,000 test images (0.564 with --marginal_entropy_weight=2).
    "demo": CatGANConfig(
        latent_dim=64, base_filters=32, epochs=20, checkpoint_every_n_steps=200, num_samples=64,
        model_dir="runs/cat_gan_demo", export_name="cat_gan_demo",
    ),
    # The same with 100 labels per class (1,000 of the 6,000): seed 0, D's test accuracy 0.816.
    "semi_supervised_demo": CatGANConfig(
        latent_dim=64, base_filters=32, epochs=20, checkpoint_every_n_steps=200, num_samples=64, labels_per_class=100,
        model_dir="runs/cat_gan_semi_supervised_demo", export_name="cat_gan_semi_supervised_demo",
    ),
    # Seconds: smoke tests and CI.
    "smoke": CatGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, base_filters=8, batch_size=16, epochs=2, steps_per_epoch=5, limit=256, checkpoint_every_n_steps=3,
        num_samples=16, evaluation_samples=100, clustering_images=200, labelled_batch_size=4,
        model_dir="runs/cat_gan_smoke", export_name="cat_gan_smoke",
    ),
    # bench/cat_gan.py's settings: the full training split, evaluated on the 10,000 test images.
    "fashion_mnist": CatGANConfig(
        dataset="fashion_mnist", epochs=25, evaluation_samples=10000, model_dir="runs/cat_gan_fashion_mnist",
        export_name="cat_gan_fashion_mnist",
    ),
    "semi_supervised_fashion_mnist": CatGANConfig(
        dataset="fashion_mnist", epochs=25, evaluation_samples=10000, labels_per_class=100,
        model_dir="runs/cat_gan_semi_supervised_fashion_mnist", export_name="cat_gan_semi_supervised_fashion_mnist",
    ),
    # K = 8 on the ring of 8: the recipe tests/test_cat_gan.py checks (D's clusters match the modes; with the
    # marginal entropies weighted 2, accuracy 1.0 for seeds 0-15, where weight 1 was stuck at 7/8 for most).
    "ring8": CatGANConfig(
        dataset="ring8", latent_dim=16, hidden_units=(128, 128), batch_size=256, epochs=2, steps_per_epoch=500,
        marginal_entropy_weight=2.0,
        generator_learning_rate=1e-3, discriminator_learning_rate=1e-3, num_samples=800,
        model_dir="runs/cat_gan_ring8", export_name="cat_gan_ring8",
    ),
}
