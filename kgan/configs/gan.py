"""Configs and presets of the latent-variable models: `GAN`, `WGAN` / `WGANGP`, `ConditionalGAN`."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

from kgan import losses
from kgan.configs.base import TrainingConfig, _field
from kgan.data import KNOWN_DATASETS, specs
from kgan.networks.stabilizers import MINIBATCH_FEATURES

# Datasets of 2-D points (kgan.data.mixtures); they train MLP networks.
POINT_DATASETS = ("ring8", "grid25", "ring8_unequal")  # kgan.data.mixtures.MIXTURE_NAMES
NORMALIZATIONS = ("batch", "layer", "none")
#: `kgan.GAN`'s step options and their "off" values; a config lists the ones its model takes in ``STEP_OPTIONS``.
STEP_OPTION_DEFAULTS = {"pack": 1, "unrolled_steps": 0, "updates": "alternating", "reuse_fakes": False, "r1_penalty": 0.0}
EVALUATION_FEATURES = ("auto", "inception", "classifier")


@dataclasses.dataclass(frozen=True)
class GANConfig(TrainingConfig):
    """Everything one run of ``train/gan.py`` needs (defaults: DCGAN on the embedded Fashion-MNIST subset)."""

    dataset: str = _field(
        "embedded_fashion_mnist",
        "Training data: an image dataset of kgan.data.KNOWN_DATASETS (embedded_fashion_mnist ships with kgan "
        "and needs no network), your own images -- folder:PATH (PNG/JPEG/BMP/GIF, class subfolders are labels), "
        "npz:PATH[:KEY], npy:PATH or tfds:NAME[/CONFIG] -- or a 2-D Gaussian mixture ('ring8', 'grid25', 'ring8_unequal'), "
        "which trains MLP networks.",
    )
    image_size: Optional[int] = _field(None, "Resize images to image_size x image_size (DCGAN needs s * 2**n, 4 <= s <= 7).")
    # Model.
    latent_dim: int = _field(128, "Size of the latent vector z.")
    base_filters: int = _field(64, "DCGAN width: filters of the generator's last and the discriminator's first layer.")
    normalization: str = _field("batch", "Discriminator normalisation: 'batch' (DCGAN), 'layer' or 'none'.")
    hidden_units: tuple = _field((128, 128), "Hidden layer widths of the MLP networks (point datasets only).")
    minibatch: str = _field(
        "none", "Minibatch features in the discriminator against mode collapse: 'none', 'stddev' (Karras et al. 2018) "
        "or 'discrimination' (Salimans et al. 2016)."
    )
    spectral_norm: bool = _field(False, "Spectrally normalise every discriminator layer (Miyato et al. 2018).")
    loss: str = _field("non_saturating", "GAN loss: minimax, non_saturating, maximum_likelihood (G: -exp(logit) / 2, Goodfellow 2016), least_squares, hinge or wasserstein.")
    discriminator_steps: int = _field(1, "Discriminator updates per generator update (k).")
    label_smoothing: float = _field(0.0, "One-sided label smoothing: real targets become 1 - label_smoothing.")
    # Training-side remedies (kgan.remedies; see the GAN docstring).
    feature_matching: float = _field(0.0, "Weight of feature matching on the discriminator's last hidden features (Salimans et al. 2016); 0: off.")
    consensus: float = _field(0.0, "gamma of consensus optimization (Mescheder et al. 2017; needs --discriminator_steps=1); 0: off.")
    pack: int = _field(
        1, "PacGAN (Lin et al. 2018): the discriminator judges packs of this many samples (GAN, WGAN/WGAN-GP, GRAN); "
        "minibatches must be multiples of it; 1: off."
    )
    unrolled_steps: int = _field(
        0, "Unrolled GAN (Metz et al. 2017): the generator's loss is taken against the discriminator after this many "
        "differentiable gradient steps (GAN, WGAN/WGAN-GP, ConditionalGAN, GRAN); 0: off."
    )
    unrolled_learning_rate: Optional[float] = _field(None, "Step size of the unrolled steps; unset: the discriminator's learning rate.")
    updates: str = _field(
        "alternating", "alternating (Algorithm 1: D's update, then G's) or simultaneous (both at once on one minibatch; "
        "needs --discriminator_steps=1)."
    )
    reuse_fakes: bool = _field(
        False, "The generator's update reuses the discriminator update's samples (one generator forward pass per step, "
        "as the pytorch/examples DCGAN loop; Algorithm 1 draws fresh noise). Faster; needs --discriminator_steps=1."
    )
    r1_penalty: float = _field(
        0.0, "gamma of the R1 penalty (Mescheder et al. 2018): the discriminator adds gamma/2 E||grad D(x)||^2 on real "
        "samples (GAN, WGAN/WGAN-GP, ConditionalGAN, GRAN); 0: off."
    )
    generator_normalization: str = _field(
        "batch", "DCGAN generator normalisation: 'batch' or 'virtual_batch' (Salimans et al. 2016; image datasets)."
    )
    num_samples: int = _field(64, "Samples in each grid.")
    evaluation_samples: int = _field(
        1000, "End-of-run evaluation (summary.json 'evaluation'): generated images, scored against as many images "
        "of the data's test split (its training split if it has none); 0: no evaluation. Points: mode coverage."
    )
    evaluation_features: str = _field(
        "auto", "Feature network of the end-of-run FID/KID: inception, classifier (kgan's Fashion-MNIST "
        "classifier, 28x28 gray only, fast; the embedded subset's when Fashion-MNIST is not at hand) or auto "
        "(classifier for 28x28 gray images, else inception)."
    )

    #: The step options (`kgan.GAN`'s ``pack``, ``unrolled_steps``, ``updates``, ``reuse_fakes``, ``r1_penalty``) this
    #: config's model takes.
    STEP_OPTIONS: ClassVar[tuple] = ("pack", "unrolled_steps", "updates", "reuse_fakes", "r1_penalty")

    def remedy_options(self) -> dict:
        """The model keyword arguments of the training-side remedies (and of the step options, `STEP_OPTIONS`)."""
        return dict(
            super().remedy_options(), feature_matching=self.feature_matching, consensus=self.consensus,
            **{name: getattr(self, name) for name in self.STEP_OPTIONS},
            **({"unrolled_learning_rate": self.unrolled_learning_rate} if "unrolled_steps" in self.STEP_OPTIONS else {}),
        )

    @classmethod
    def flagless_fields(cls) -> tuple:
        """Fields with no flag in this config's binary: the step options its model does not take."""
        unsupported = tuple(name for name in STEP_OPTION_DEFAULTS if name not in cls.STEP_OPTIONS)
        return unsupported + (("unrolled_learning_rate",) if "unrolled_steps" in unsupported else ())

    def discriminator_shape(self, sample_shape) -> tuple:
        """What the discriminator is built for: one sample, or a PacGAN pack of ``pack`` (`kgan.remedies.packed_shape`)."""
        from kgan.remedies import packed_shape

        return packed_shape(sample_shape, self.pack) if self.pack > 1 else tuple(sample_shape)

    def build_networks(self, sample_shape) -> dict:
        """``{"generator", "discriminator"}``: DCGAN networks for images ``(H, W, C)``, MLPs for points ``(D,)``."""
        from kgan import networks

        stabilizers = dict(minibatch=self.minibatch, spectral_norm=self.spectral_norm)
        judged = self.discriminator_shape(sample_shape)
        if len(sample_shape) == 3:
            return {
                "generator": networks.dcgan_generator(
                    self.latent_dim, sample_shape, self.base_filters, normalization=self.generator_normalization
                ),
                "discriminator": networks.dcgan_discriminator(judged, self.base_filters, self.normalization, **stabilizers),
            }
        return {
            "generator": networks.mlp_generator(self.latent_dim, sample_shape[0], self.hidden_units),
            "discriminator": networks.mlp_discriminator(judged[0], self.hidden_units, **stabilizers),
        }

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.GAN`'s constructor arguments other than the networks."""
        return dict(
            latent_dim=self.latent_dim, loss=self.loss, discriminator_steps=self.discriminator_steps,
            label_smoothing=self.label_smoothing, seed=self.seed, **self.remedy_options(),
        )

    @property
    def is_points(self) -> bool:
        """Whether the dataset is a 2-D point mixture (MLP networks) rather than images."""
        return self.dataset in POINT_DATASETS

    def problems(self) -> list:
        """Human-readable problems with this config, each saying how to fix it (empty if fine)."""
        problems = super().problems()
        for name in ("latent_dim", "base_filters", "discriminator_steps", "num_samples"):
            self._check_positive(problems, name)
        known = tuple(KNOWN_DATASETS) + POINT_DATASETS
        if self.dataset not in known and not specs.is_user_source(self.dataset):
            problems.append(
                f"--dataset={self.dataset!r} is unknown; choose one of {', '.join(known)}, or your own: {specs.SOURCE_FORMS}."
            )
        if self.evaluation_samples < 0 or (0 < self.evaluation_samples < 10):
            problems.append(f"--evaluation_samples must be 0 (no evaluation) or >= 10; got {self.evaluation_samples}.")
        if self.evaluation_features not in EVALUATION_FEATURES:
            problems.append(f"--evaluation_features must be one of {', '.join(EVALUATION_FEATURES)}; got {self.evaluation_features!r}.")
        if self.is_points and (self.channels is not None or self.crop != "center"):
            problems.append(f"--channels and --crop concern images; --dataset={self.dataset} is 2-D points.")
        if self.is_points:
            if self.steps_per_epoch is None:
                problems.append(f"--dataset={self.dataset} is an infinite stream: set --steps_per_epoch.")
            if self.image_size is not None:
                problems.append(f"--image_size does not apply to the point dataset {self.dataset}; unset it.")
            if not self.hidden_units or any(int(u) < 1 for u in self.hidden_units):
                problems.append(f"--hidden_units must be a comma-separated list of positive widths; got {self.hidden_units!r}.")
        if self.loss not in losses.LOSS_FAMILIES:
            problems.append(f"--loss={self.loss!r} is unknown; choose one of {', '.join(sorted(losses.LOSS_FAMILIES))}.")
        elif self._finite("label_smoothing") and not losses.LOSS_FAMILIES[self.loss].supports_label_smoothing:
            problems.append(f"--label_smoothing is not defined for --loss={self.loss}; set it to 0.")
        self._check_range(problems, "label_smoothing", 0.0, 1.0, include_high=False)
        if self.minibatch not in MINIBATCH_FEATURES:
            problems.append(f"--minibatch={self.minibatch!r} is unknown; choose one of {', '.join(MINIBATCH_FEATURES)}.")
        self._check_weights(problems, "feature_matching", "consensus")
        if self._finite("consensus") and self.discriminator_steps != 1:
            problems.append("--consensus takes one simultaneous step of both networks: set --discriminator_steps=1.")
        if self._finite("consensus") and self.mixed_precision == "mixed_float16":
            problems.append("--consensus does not support --mixed_precision=mixed_float16; use float32 or mixed_bfloat16.")
        if self.diff_augment and self.is_points:
            problems.append(f"--diff_augment augments images; --dataset={self.dataset} is 2-D points.")
        if self.generator_normalization not in ("batch", "virtual_batch"):
            problems.append(f"--generator_normalization must be batch or virtual_batch; got {self.generator_normalization!r}.")
        elif self.generator_normalization == "virtual_batch" and self.is_points:
            problems.append(f"--generator_normalization=virtual_batch applies to the DCGAN generator; --dataset={self.dataset} trains MLPs.")
        if self.normalization not in NORMALIZATIONS:
            problems.append(f"--normalization must be one of {', '.join(NORMALIZATIONS)}; got {self.normalization!r}.")
        self._step_option_problems(problems)
        return problems

    def _step_option_problems(self, problems: list) -> None:
        for name, default in STEP_OPTION_DEFAULTS.items():
            if isinstance(default, float) and self._finite(name) is None:
                continue  # NaN or infinity: reported once, by the generic finite-number rule.
            if getattr(self, name) != default and name not in self.STEP_OPTIONS:
                problems.append(f"--{name} does not apply to this model (its step options: {', '.join(self.STEP_OPTIONS) or 'none'}); unset it.")
        self._check_weights(problems, "r1_penalty")
        if not isinstance(self.pack, int) or self.pack < 1:
            problems.append(f"--pack must be an integer >= 1 (1: off); got {self.pack!r}.")
        elif self.pack > 1 and (self.batch_size // max(self.discriminator_steps, 1)) % self.pack:
            problems.append(
                f"--pack={self.pack}: every minibatch (--batch_size / --discriminator_steps = "
                f"{self.batch_size // max(self.discriminator_steps, 1)}) must be a multiple of {self.pack}."
            )
        if not isinstance(self.unrolled_steps, int) or not 0 <= self.unrolled_steps < 256:
            problems.append(f"--unrolled_steps must be an integer in [0, 256) (0: off); got {self.unrolled_steps!r}.")
        elif self.unrolled_steps and self._finite("consensus"):
            problems.append("--unrolled_steps and --consensus do not combine; use one.")
        # unrolled_learning_rate: checked with every *_learning_rate field (TrainingConfig.problems).
        if self.updates not in ("alternating", "simultaneous"):
            problems.append(f"--updates must be alternating or simultaneous; got {self.updates!r}.")
        elif self.updates == "simultaneous" and self.discriminator_steps != 1:
            problems.append("--updates=simultaneous steps both networks once per minibatch: set --discriminator_steps=1.")
        if self.reuse_fakes:
            from kgan.models.gan import reuse_fakes_clashes

            clashes = reuse_fakes_clashes(self.discriminator_steps, self.updates, self.unrolled_steps,
                                          self._finite("consensus"), self._finite("historical_averaging"))
            if clashes:
                problems.append(f"--reuse_fakes (k = 1, alternating updates) does not combine with "
                                f"{', '.join('--' + name for name in clashes)}.")

# Named presets. "demo" takes about two minutes on 2 CPU cores (~25 steps/s).
PRESETS = {
    "demo": GANConfig(
        latent_dim=64,
        base_filters=32,
        epochs=30,
        checkpoint_every_n_steps=200,
        num_samples=64,
        model_dir="runs/demo",
        export_name="gan_demo",
    ),
    # A few seconds: for smoke tests and CI.
    "smoke": GANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8,
        base_filters=8,
        batch_size=16,
        epochs=2,
        steps_per_epoch=5,
        limit=256,
        checkpoint_every_n_steps=3,
        num_samples=16,
        evaluation_samples=100,
        model_dir="runs/smoke",
        export_name="gan_smoke",
    ),
    # The DCGAN paper's settings on the full datasets (need TFDS data or a download).
    "mnist": GANConfig(dataset="mnist", epochs=25, model_dir="runs/gan_mnist", export_name="gan_mnist"),
    "fashion_mnist": GANConfig(
        dataset="fashion_mnist", epochs=25, model_dir="runs/gan_fashion_mnist", export_name="gan_fashion_mnist"
    ),
    "cifar10": GANConfig(dataset="cifar10", epochs=50, model_dir="runs/gan_cifar10", export_name="gan_cifar10"),
    "celeb_a": GANConfig(
        dataset="celeb_a", image_size=64, epochs=20, model_dir="runs/gan_celeb_a", export_name="gan_celeb_a"
    ),
    # 2-D mixtures for mode-collapse studies: MLPs, large batches. The ring8 recipe is the
    # one tests/test_gan_learning.py checks (>= 7/8 modes, >= 80 % high-quality samples): one-sided
    # label smoothing 0.2 and a rate decaying 1e-3 -> 1e-4 made it robust across seeds.
    "ring8": GANConfig(
        dataset="ring8",
        latent_dim=64,
        hidden_units=(256, 256),
        batch_size=512,
        epochs=20,
        steps_per_epoch=500,
        label_smoothing=0.2,
        generator_learning_rate=1e-3,
        discriminator_learning_rate=1e-3,
        learning_rate_decay_start=0.0,
        learning_rate_final_fraction=0.1,
        num_samples=2500,
        sample_every_n_epochs=2,
        model_dir="runs/gan_ring8",
        export_name="gan_ring8",
    ),
    "grid25": GANConfig(
        dataset="grid25",
        latent_dim=64,
        batch_size=512,
        epochs=20,
        steps_per_epoch=500,
        generator_learning_rate=1e-4,
        discriminator_learning_rate=1e-4,
        num_samples=1024,
        sample_every_n_epochs=2,
        model_dir="runs/gan_grid25",
        export_name="gan_grid25",
    ),
}


def get_preset(name: str) -> GANConfig:
    """The preset called ``name``; raises ValueError listing the presets."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}.") from None


WASSERSTEIN_MODELS = ("wgan_gp", "wgan")


@dataclasses.dataclass(frozen=True)
class WassersteinGANConfig(GANConfig):
    """A run of ``train/wgan_gp.py``: `kgan.WGANGP` (default) or `kgan.WGAN`.

    Defaults follow Gulrajani et al. (2017): n_critic 5, lambda 10,
    Adam(1e-4, beta_1=0, beta_2=0.9), a layer-normalised critic. For WGAN
    (Arjovsky et al. 2017) use ``--model=wgan --optimizer=rmsprop
    --generator_learning_rate=5e-5 --discriminator_learning_rate=5e-5
    --normalization=batch`` (the ``wgan_*`` presets do).
    """

    model: str = _field("wgan_gp", "wgan_gp (gradient penalty) or wgan (weight clipping).")
    loss: str = _field("wasserstein", "Fixed: Wasserstein models use the Wasserstein loss.")
    discriminator_steps: int = _field(5, "Critic updates per generator update (n_critic).")
    normalization: str = _field("layer", "Critic normalisation: 'layer' or 'none' for WGAN-GP ('batch' is refused).")
    gradient_penalty_weight: float = _field(10.0, "WGAN-GP: lambda, the gradient penalty's weight.")
    target_norm: float = _field(1.0, "WGAN-GP: the critic gradient norm the penalty pulls towards.")
    one_sided_penalty: bool = _field(False, "WGAN-GP: penalise only gradient norms above target_norm.")
    clip_value: float = _field(0.01, "WGAN: critic weights are clipped to [-clip_value, clip_value].")
    optimizer: str = _field("adam", "adam (WGAN-GP) or rmsprop (WGAN; uses the learning rates, not the betas).")
    generator_learning_rate: float = _field(1e-4, "Learning rate of the generator.")
    discriminator_learning_rate: float = _field(1e-4, "Learning rate of the critic.")
    beta_1: float = _field(0.0, "Adam beta_1 of both optimisers (WGAN-GP: 0).")
    beta_2: float = _field(0.9, "Adam beta_2 of both optimisers (WGAN-GP: 0.9).")
    model_dir: str = _field("runs/wgan_gp", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("wgan_gp", "Model name of the export (TF Serving's model name).")

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.WGANGP`'s (or, with ``model="wgan"``, `kgan.WGAN`'s) constructor arguments other than the networks."""
        common = dict(latent_dim=self.latent_dim, discriminator_steps=self.discriminator_steps, seed=self.seed, **self.remedy_options())
        if self.model == "wgan":
            return dict(common, clip_value=self.clip_value)
        return dict(
            common, gradient_penalty_weight=self.gradient_penalty_weight, target_norm=self.target_norm,
            one_sided_penalty=self.one_sided_penalty,
        )

    def problems(self) -> list:
        problems = super().problems()
        if self.model not in WASSERSTEIN_MODELS:
            problems.append(f"--model must be one of {', '.join(WASSERSTEIN_MODELS)}; got {self.model!r}.")
        if self.loss != "wasserstein":
            problems.append(f"--loss is fixed to wasserstein for {self.model}; got {self.loss!r}.")
        if self.model == "wgan_gp" and self.normalization == "batch":
            problems.append("--normalization=batch is not allowed in a WGAN-GP critic (the penalty is per example); use layer or none.")
        self._check_weights(problems, "gradient_penalty_weight")
        self._check_weights(problems, "target_norm", "clip_value", positive=True)
        if self.optimizer not in ("adam", "rmsprop"):
            problems.append(f"--optimizer must be adam or rmsprop; got {self.optimizer!r}.")
        return problems


def _wgan(**overrides) -> dict:
    """Field values that turn a WGAN-GP config into the WGAN paper's settings."""
    return dict(
        model="wgan", optimizer="rmsprop", generator_learning_rate=5e-5, discriminator_learning_rate=5e-5,
        normalization="batch", **overrides,
    )


WASSERSTEIN_PRESETS = {
    # A few minutes on 2 CPU cores, no network (5 critic steps per generator step).
    "demo": WassersteinGANConfig(
        latent_dim=64, base_filters=32, epochs=10, checkpoint_every_n_steps=100,
        model_dir="runs/wgan_gp_demo", export_name="wgan_gp_demo",
    ),
    "smoke": WassersteinGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, base_filters=8, batch_size=8, epochs=2, steps_per_epoch=3, limit=256,
        checkpoint_every_n_steps=2, num_samples=16, evaluation_samples=100, model_dir="runs/wgan_gp_smoke", export_name="wgan_gp_smoke",
    ),
    "fashion_mnist": WassersteinGANConfig(
        dataset="fashion_mnist", epochs=25, model_dir="runs/wgan_gp_fashion_mnist", export_name="wgan_gp_fashion_mnist",
    ),
    "cifar10": WassersteinGANConfig(
        dataset="cifar10", epochs=50, model_dir="runs/wgan_gp_cifar10", export_name="wgan_gp_cifar10",
    ),
    "wgan_fashion_mnist": WassersteinGANConfig(
        **_wgan(dataset="fashion_mnist", epochs=25, model_dir="runs/wgan_fashion_mnist", export_name="wgan_fashion_mnist"),
    ),
    "wgan_smoke": WassersteinGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        **_wgan(latent_dim=8, base_filters=8, batch_size=8, epochs=2, steps_per_epoch=3, limit=256,
                checkpoint_every_n_steps=2, num_samples=16, evaluation_samples=100, model_dir="runs/wgan_smoke", export_name="wgan_smoke"),
    ),
}


def dataset_classes(config):
    """Classes of ``config.dataset`` (mixture modes for point datasets), or None if it has no labels.

    User folders and files are read (headers only) for it: call once the run starts.
    """
    if config.is_points:
        from kgan.data import gaussian_mixture

        return gaussian_mixture(config.dataset).num_modes
    from kgan.data import dataset_info

    if specs.is_user_source(config.dataset):
        return dataset_info(config.dataset, **config.data_options()).num_classes
    return dataset_info(config.dataset).num_classes if config.dataset in KNOWN_DATASETS else None


@dataclasses.dataclass(frozen=True)
class ConditionalGANConfig(GANConfig):
    """A run of ``train/conditional_gan.py``: `kgan.ConditionalGAN` on labelled data.

    Batches are ``(samples, labels)``: class labels of an image dataset, or the
    mode index of a point mixture (``ring8``: 8 classes). The number of classes
    comes from the dataset (`num_classes`). Networks:
    `kgan.networks.conditional_dcgan_generator` / ``_discriminator`` for images,
    the ``conditional_mlp_*`` builders for points. ``--conditioning=none
    --auxiliary_classifier`` is AC-GAN (Odena et al. 2017); ``--loss=wasserstein
    --gradient_penalty_weight=10 --normalization=layer --discriminator_steps=5``
    a conditional WGAN-GP.
    """

    #: PacGAN would pack the labels too: not offered for a conditional D.
    STEP_OPTIONS: ClassVar[tuple] = ("unrolled_steps", "updates", "r1_penalty")

    #: train_lib.make_dataset yields (samples, labels) batches for this config.
    with_labels = True

    conditioning: str = _field(
        "concat",
        "How the discriminator sees the label: concat (label maps / one-hot joined to the input, Mirza & Osindero "
        "2014), projection (Miyato & Koyama 2018) or none (AC-GAN: needs --auxiliary_classifier).",
    )
    label_embedding_dim: Optional[int] = _field(
        None, "Size of a learned label embedding in G (and in a concat D); unset: one-hot labels."
    )
    auxiliary_classifier: bool = _field(False, "Add the AC-GAN class head to the discriminator (Odena et al. 2017).")
    classification_weight: float = _field(1.0, "Weight of the AC-GAN classification losses.")
    classify_generated: bool = _field(True, "AC-GAN: the discriminator's class loss includes generated samples (as in the paper).")
    gradient_penalty_weight: float = _field(0.0, "WGAN-GP penalty weight (labels bound to the critic); 0: off.")
    model_dir: str = _field("runs/conditional_gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("conditional_gan", "Model name of the export (TF Serving's model name).")

    @property
    def num_classes(self):
        """Classes of the dataset (mixture modes for point datasets), or None if it has no labels."""
        return dataset_classes(self)

    def build_networks(self, sample_shape) -> dict:
        """Conditional DCGAN networks for images, conditional MLPs for points (`kgan.networks.conditional`)."""
        from kgan import networks

        head = dict(
            num_classes=self.num_classes, conditioning=self.conditioning, auxiliary_classifier=self.auxiliary_classifier,
            label_embedding_dim=self.label_embedding_dim, minibatch=self.minibatch, spectral_norm=self.spectral_norm,
        )
        if len(sample_shape) == 3:
            return {
                "generator": networks.conditional_dcgan_generator(
                    self.latent_dim, self.num_classes, sample_shape, self.base_filters, self.label_embedding_dim
                ),
                "discriminator": networks.conditional_dcgan_discriminator(
                    sample_shape, base_filters=self.base_filters, normalization=self.normalization, **head
                ),
            }
        return {
            "generator": networks.conditional_mlp_generator(
                self.latent_dim, self.num_classes, sample_shape[0], self.hidden_units, self.label_embedding_dim
            ),
            "discriminator": networks.conditional_mlp_discriminator(sample_shape[0], hidden_units=self.hidden_units, **head),
        }

    def model_options(self, sample_shape=None) -> dict:
        """`kgan.ConditionalGAN`'s constructor arguments other than the networks."""
        return dict(
            super().model_options(sample_shape), num_classes=self.num_classes, classification_weight=self.classification_weight,
            classify_generated=self.classify_generated, gradient_penalty_weight=self.gradient_penalty_weight,
        )

    def problems(self) -> list:
        from kgan.networks.conditional import CONDITIONINGS

        problems = super().problems()
        if self.dataset in KNOWN_DATASETS and self.num_classes is None:
            problems.append(f"--dataset={self.dataset} has no class labels; a conditional GAN needs a labelled dataset.")
        if self.conditioning not in CONDITIONINGS:
            problems.append(f"--conditioning must be one of {', '.join(CONDITIONINGS)}; got {self.conditioning!r}.")
        elif self.conditioning == "none" and not self.auxiliary_classifier:
            problems.append("--conditioning=none hides the labels from the discriminator: add --auxiliary_classifier (AC-GAN).")
        if self.label_embedding_dim is not None and self.label_embedding_dim < 1:
            problems.append(f"--label_embedding_dim must be a positive integer or unset; got {self.label_embedding_dim}.")
        self._check_weights(problems, "classification_weight", "gradient_penalty_weight")
        if self.generator_normalization != "batch":
            problems.append("--generator_normalization: the conditional generators use batch normalisation only.")
        if (self._finite("gradient_penalty_weight") or 0) > 0 and self.normalization == "batch" and not self.is_points:
            problems.append("--gradient_penalty_weight > 0 needs a critic without batch norm: --normalization=layer or none.")
        return problems


CONDITIONAL_PRESETS = {
    # Conditional DCGAN on the embedded Fashion-MNIST subset: no network needed.
    "demo": ConditionalGANConfig(
        latent_dim=64, base_filters=32, epochs=30, checkpoint_every_n_steps=200, num_samples=100,
        model_dir="runs/conditional_gan_demo", export_name="conditional_gan_demo",
    ),
    "smoke": ConditionalGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        latent_dim=8, base_filters=8, batch_size=16, epochs=2, steps_per_epoch=3, limit=256,
        checkpoint_every_n_steps=2, num_samples=20, evaluation_samples=100, model_dir="runs/conditional_gan_smoke",
        export_name="conditional_gan_smoke",
    ),
    # AC-GAN (Odena et al. 2017): an unconditional source head plus a class head.
    "acgan_demo": ConditionalGANConfig(
        latent_dim=64, base_filters=32, epochs=30, checkpoint_every_n_steps=200, num_samples=100,
        conditioning="none", auxiliary_classifier=True, model_dir="runs/acgan_demo", export_name="acgan_demo",
    ),
    # Label = mode index: the recipe tests/test_conditional_gan.py checks (samples of
    # label k land on mode k).
    "ring8": ConditionalGANConfig(
        dataset="ring8", latent_dim=16, batch_size=256, epochs=4, steps_per_epoch=500,
        generator_learning_rate=1e-3, discriminator_learning_rate=1e-3, num_samples=800,
        model_dir="runs/conditional_gan_ring8", export_name="conditional_gan_ring8",
    ),
    "fashion_mnist": ConditionalGANConfig(
        dataset="fashion_mnist", epochs=25, num_samples=100, model_dir="runs/conditional_gan_fashion_mnist",
        export_name="conditional_gan_fashion_mnist",
    ),
    "mnist": ConditionalGANConfig(
        dataset="mnist", epochs=25, num_samples=100, model_dir="runs/conditional_gan_mnist",
        export_name="conditional_gan_mnist",
    ),
}
