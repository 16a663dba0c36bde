"""Configs and presets of the image-to-image models: `CycleGAN`, `StarGAN`."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from kgan.configs.base import TrainingConfig, _field, source_problems
from kgan.data import attribute_folder, specs
from kgan.data.attributes import (
    ATTRIBUTE_DATASETS,
    CELEB_A_DEFAULT_ATTRIBUTES,
    FIXED_ATTRIBUTES,
    FOLDER_OPTION_DEFAULTS,
    is_attribute_folder,
    label_groups_of,
)
from kgan.label_groups import logit_size
from kgan.data.unpaired import DEMO_SOURCES, folder_root
from kgan.losses import LABEL_KINDS
from kgan.networks.patch_discriminator import PATCH_MINIBATCH_FEATURES
from kgan.networks.resnet_generator import OUTPUT_HEADS

_MINIBATCH_HELP = "Minibatch-stddev map in the PatchGAN against mode collapse (Karras et al. 2018): 'none' or 'stddev'."
_SPECTRAL_HELP = "Spectrally normalise every discriminator convolution (Miyato et al. 2018)."
_SKIPS_HELP = ("U-Net skips in the generator: each down-sampling level's maps joined to the up-sampling layer of the "
               "same size (not in the paper; detail and whole-image context together, for small images).")

# Offline demo pairs of kgan.data.unpaired (edges <-> footwear images from Fashion-MNIST).
DEMO_UNPAIRED_DATASETS = tuple(DEMO_SOURCES)
CYCLE_GAN_LOSSES = ("least_squares", "non_saturating", "hinge")


def _check_minibatch(problems, minibatch):
    if minibatch not in PATCH_MINIBATCH_FEATURES:
        problems.append(f"--minibatch must be one of {', '.join(PATCH_MINIBATCH_FEATURES)} for a PatchGAN; got {minibatch!r}.")


def _check_downsampling(problems, image_size, downsampling):
    if downsampling < 0:
        problems.append(f"--generator_downsampling must be >= 0; got {downsampling}.")
    elif image_size is not None and image_size % 2**downsampling:
        problems.append(f"--image_size must be divisible by {2**downsampling} ({downsampling} stride-2 generator "
                        f"layers, --generator_downsampling); got {image_size}.")


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
        "(TFDS, e.g. cycle_gan/horse2zebra), or folder:PATH (or just PATH) of a directory holding trainA/ and "
        "trainB/ image folders (testA/, testB/ for the pictures; unusable files are skipped and listed, see "
        "--on_bad_image; --crop=center, the default, keeps each image's central square, --crop=none squeezes it "
        "whole as the reference implementation does).",
    )
    image_size: Optional[int] = _field(
        None, "Resize to image_size x image_size (divisible by 2**generator_downsampling); unset: 28 for the demos, "
        "256 for cycle_gan/* "
        "and folders (with the paper's 286 -> 256 random jitter)."
    )
    batch_size: int = _field(1, "Unpaired (x, y) pairs per step (1 in the paper).")
    epochs: int = _field(200, "Epochs (200 in the paper: 100 constant + 100 decaying).")
    # Model.
    base_filters: int = _field(64, "Filters of the generators' first layer and of the discriminators' first layer.")
    num_residual_blocks: Optional[int] = _field(None, "Generator residual blocks; unset: 6 below 256 px, 9 at 256.")
    generator_downsampling: int = _field(
        2, "Stride-2 layers down (and up again) in the generators: 2 in the paper (256 px -> 64 px between them)."
    )
    generator_skips: bool = _field(False, _SKIPS_HELP)
    discriminator_layers: int = _field(3, "Stride-2 layers of the PatchGAN (3: 70x70 patches; 2: 34x34 for small images).")
    minibatch: str = _field("none", _MINIBATCH_HELP)
    spectral_norm: bool = _field(False, _SPECTRAL_HELP)
    loss: str = _field("least_squares", "Adversarial loss: least_squares (the paper's), non_saturating or hinge.")
    cycle_loss_weight: float = _field(10.0, "lambda, weight of the cycle-consistency terms.")
    identity_loss_weight: float = _field(0.5, "Identity terms' weight as a fraction of cycle_loss_weight (0 disables).")
    pool_size: int = _field(50, "Capacity of each image history pool (0 disables).")
    learning_rate_decay_start: Optional[float] = _field(
        0.5, "Fraction of training after which both rates decay linearly to learning_rate_final_fraction (paper: 0.5)."
    )
    num_preview_images: int = _field(8, "Test images per domain in the progress pictures (columns).")
    evaluation_images: int = _field(
        200,
        "Folder datasets: the end-of-run evaluation translates this many test image pairs (training images without "
        "testA/, testB/) there and back and reports the cycle-consistency L1; 0: no evaluation. The footwear demos "
        "always compare their whole test split with its true pairs.",
    )
    model_dir: str = _field("runs/cycle_gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("cycle_gan", "Model name of the export (TF Serving's model name).")

    def build_networks(self, shapes) -> dict:
        """Two ResNet generators and two PatchGANs for X images ``shapes[0]`` and Y images ``shapes[1]``."""
        from kgan import networks

        x_shape, y_shape = shapes
        generator = dict(base_filters=self.base_filters, num_residual_blocks=self.num_residual_blocks,
                         num_downsampling=self.generator_downsampling, skip_connections=self.generator_skips)
        stabilizers = dict(minibatch=self.minibatch, spectral_norm=self.spectral_norm)
        return {
            "generator_xy": networks.resnet_generator(x_shape, output_channels=y_shape[-1], name="generator_xy", **generator),
            "generator_yx": networks.resnet_generator(y_shape, output_channels=x_shape[-1], name="generator_yx", **generator),
            "discriminator_x": networks.patch_discriminator(
                x_shape, self.base_filters, self.discriminator_layers, name="discriminator_x", **stabilizers
            ),
            "discriminator_y": networks.patch_discriminator(
                y_shape, self.base_filters, self.discriminator_layers, name="discriminator_y", **stabilizers
            ),
        }

    def model_options(self, shapes) -> dict:
        """`kgan.CycleGAN`'s constructor arguments (no identity terms for domains of different shapes)."""
        x_shape, y_shape = shapes
        return dict(
            loss=self.loss, cycle_loss_weight=self.cycle_loss_weight,
            identity_loss_weight=self.identity_loss_weight if tuple(x_shape) == tuple(y_shape) else 0.0,
            pool_size=self.pool_size, seed=self.seed, **self.remedy_options(),
        )

    def problems(self) -> list:
        problems = super().problems()
        for name in ("base_filters", "discriminator_layers", "num_preview_images"):
            self._check_positive(problems, name)
        self._check_positive(problems, "num_residual_blocks", allow_none=True)
        _check_minibatch(problems, self.minibatch)
        root = None if source_problems(self.dataset) else folder_root(self.dataset)  # The base check reports bad folder:s.
        if specs.is_user_source(self.dataset) and not self.dataset.startswith("folder:"):
            problems.append(f"--dataset={self.dataset}: CycleGAN reads two image domains from folder:PATH (trainA/, "
                            "trainB/), not from npz:, npy: or tfds: sources.")
        elif root is not None:
            missing = [f"{d}/" for d in ("trainA", "trainB") if not os.path.isdir(os.path.join(root, d))]
            if missing:
                problems.append(f"--dataset={self.dataset}: {root} has no {' or '.join(missing)}; a folder dataset "
                                "holds the images of domain X in trainA/ and of domain Y in trainB/.")
        elif not (self.dataset in DEMO_UNPAIRED_DATASETS or self.dataset.startswith("cycle_gan/")
                  or specs.is_user_source(self.dataset)):
            problems.append(
                f"--dataset={self.dataset!r} is neither {' nor '.join(DEMO_UNPAIRED_DATASETS)}, a TFDS cycle_gan/<name> "
                "nor an existing directory with trainA/ and trainB/ (folder:PATH or PATH)."
            )
        if root is None and not self.dataset.startswith("folder:") and self.channels is not None:
            problems.append(f"--channels applies to folder datasets only, not to --dataset={self.dataset}.")
        _check_downsampling(problems, self.image_size, self.generator_downsampling)
        if self.evaluation_images < 0:
            problems.append(f"--evaluation_images must be >= 0 (0: no evaluation); got {self.evaluation_images}.")
        if self.loss not in CYCLE_GAN_LOSSES:
            problems.append(f"--loss must be one of {', '.join(CYCLE_GAN_LOSSES)}; got {self.loss!r}.")
        self._check_weights(problems, "cycle_loss_weight", "identity_loss_weight")
        if self.pool_size < 0:
            problems.append(f"--pool_size must be >= 0; got {self.pool_size}.")
        return problems


CYCLE_GAN_PRESETS = {
    # Edges -> footwear in miniature on the embedded Fashion-MNIST subset: no network,
    # a few minutes on 2 CPU cores. A CPU recipe, not the paper's: one stride-2 layer keeps
    # 14x14 maps for 1-px edges, and no identity term (the paper uses it for paintings <-> photos
    # only; here it pulls G towards copying edges), and Adam at 5e-3 for both networks, 25x the
    # paper's 2e-4 (which assumes 200 epochs): at 1,400 steps shoe -> edges L1 fell with every
    # rate tried, 2e-4 to 5e-3 (README); 2,000 steps fit in 5 minutes on 2 cores. Measured by
    # bench/translation.py (README).
    "demo": CycleGANConfig(
        base_filters=16, num_residual_blocks=3, generator_downsampling=1, identity_loss_weight=0.0,
        discriminator_layers=2, batch_size=16, epochs=20, generator_learning_rate=5e-3, discriminator_learning_rate=5e-3,
        steps_per_epoch=100, checkpoint_every_n_steps=200, model_dir="runs/cycle_gan_demo", export_name="cycle_gan_demo",
    ),
    "smoke": CycleGANConfig(
        evaluation_classifier="embedded_fashion_mnist",
        base_filters=4, num_residual_blocks=1, discriminator_layers=1, batch_size=4, epochs=2, steps_per_epoch=3,
        pool_size=4, checkpoint_every_n_steps=2, num_preview_images=4, evaluation_images=8, model_dir="runs/cycle_gan_smoke",
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



@dataclasses.dataclass(frozen=True)
class StarGANConfig(TrainingConfig):
    """A run of ``train/star_gan.py``: `kgan.StarGAN` (Choi et al. 2018) on images with domain attributes.

    Defaults are the paper's CelebA settings: 128x128, the attributes
    Black_Hair, Blond_Hair, Brown_Hair, Male, Young, 6 residual blocks, a
    6-layer discriminator, lambda_cls 1, lambda_rec 10, lambda_gp 10,
    n_critic 5, Adam(1e-4, 0.5, 0.999), batch 16, linear decay over the
    second half.
    """

    dataset: str = _field(
        "celeb_a",
        "Images with attributes: celeb_a (TFDS), tinted_fashion_mnist (offline demo: real Fashion-MNIST images with "
        "known colour-tint and inversion attributes), tinted_fashion_mnist_full, tinted_shaded_fashion_mnist (offline "
        "demo of training on two datasets with different label sets, the paper's mask vector: half the images tinted "
        "as above, the other half gray at a dark/medium/bright level), tinted_shaded_fashion_mnist_full, or folder:PATH (your images, "
        "train/ and test/ subfolders as splits, with a CSV of attributes: see --attributes_file).",
    )
    attributes: tuple = _field(
        CELEB_A_DEFAULT_ATTRIBUTES,
        "Attributes to translate: CelebA's, or columns of a folder's CSV (unset, or the CelebA default when the CSV "
        "lacks those columns: every column). The tinted demos have the fixed red,green,blue,inverted (rendered into "
        "their images), the two-dataset demos those, dark,medium,bright and the mask's known:tint,known:brightness; "
        "with them, unset means those and other names are refused.",
    )
    attributes_file: Optional[str] = _field(
        None,
        "folder: data: the CSV of attributes, laid out as CelebA's list_attr_celeba.csv (a header; the file name "
        "relative to PATH first, e.g. image_id; one column per attribute, values 1/0, 1/-1 or true/false). Unset: "
        "PATH/attributes.csv, else PATH.csv next to the folder. Rows naming no image are dropped and listed; "
        "images without a row are skipped like unusable files (or stop the run with --on_bad_image=stop).",
    )
    label_kind: str = _field(
        "multi_label", "multi_label (independent attributes, sigmoid) or single_label (one-hot domains). The two-dataset "
        "demos have a kind per dataset (tint multi_label, brightness single_label) and take only the default."
    )
    image_size: Optional[int] = _field(None, "CelebA: centre crop 178, resize to image_size (default 128). The demos are 28x28.")
    batch_size: int = _field(16, "Examples per critic step; a train step reads batch_size * discriminator_steps.")
    epochs: int = _field(20, "Epochs of steps_per_epoch generator updates.")
    # Model.
    base_filters: int = _field(64, "Filters of the generator's first layer and the discriminator's first layer.")
    num_residual_blocks: int = _field(6, "Generator residual blocks.")
    generator_downsampling: int = _field(
        2, "Stride-2 layers down (and up again) in the generator: 2 in the paper (128 px -> 32 px between them)."
    )
    generator_skips: bool = _field(False, _SKIPS_HELP)
    generator_head: str = _field(
        "image",
        "image (the paper's: G paints the output's pixels) or affine (G predicts a per-pixel affine colour transform of "
        "its input, starting as the identity: for translations that change colours, not shapes, e.g. the tinted demo).",
    )
    generator_conditional_norm: bool = _field(
        False,
        "Every instance norm of G is scaled and shifted by the target labels (conditional instance norm, Dumoulin et "
        "al. 2017). The paper tiles the labels as input channels only, which G's first instance norm erases away from "
        "the image borders.",
    )
    discriminator_layers: int = _field(6, "Stride-2 discriminator layers (6 for 128 px, 3 for 28 px).")
    conditional_critic: bool = _field(
        False,
        "D_src judges (image, labels) pairs, a projection discriminator (Miyato & Koyama 2018): real images with "
        "their labels, translations with their targets. The paper's D_src judges images alone.",
    )
    minibatch: str = _field("none", _MINIBATCH_HELP)
    spectral_norm: bool = _field(False, _SPECTRAL_HELP)
    discriminator_steps: int = _field(5, "Critic updates per generator update (n_critic).")
    classification_weight: float = _field(1.0, "lambda_cls, weight of the domain classification losses.")
    reconstruction_weight: float = _field(10.0, "lambda_rec, weight of the reconstruction loss.")
    identity_weight: float = _field(
        0.0, "Weight of |x - G(x, c_x)| (translating an image to its own attributes); 0 in the paper."
    )
    gradient_penalty_weight: float = _field(10.0, "lambda_gp, weight of the WGAN-GP penalty.")
    generator_learning_rate: float = _field(1e-4, "Adam learning rate of the generator.")
    discriminator_learning_rate: float = _field(1e-4, "Adam learning rate of the discriminator.")
    learning_rate_decay_start: Optional[float] = _field(
        0.5, "Fraction of training after which both rates decay linearly to learning_rate_final_fraction."
    )
    num_preview_images: int = _field(8, "Test images in the progress pictures (columns).")
    evaluation_images: int = _field(
        1000,
        "folder: data: the end-of-run evaluation trains an attribute classifier on this many real training images "
        "and translates this many test images (other training images without a test/ split) to permuted targets; "
        "0: no evaluation. The demos always use their whole test split.",
    )
    model_dir: str = _field("runs/star_gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    export_name: str = _field("star_gan", "Model name of the export (TF Serving's model name).")

    def __post_init__(self):
        # The default is CelebA's; a tinted dataset has its own fixed attributes, so an unset
        # --attributes means those, and config.json records what the run really trains on.
        attributes = tuple(self.attributes)
        if self.dataset in FIXED_ATTRIBUTES and attributes == CELEB_A_DEFAULT_ATTRIBUTES:
            attributes = FIXED_ATTRIBUTES[self.dataset]
        object.__setattr__(self, "attributes", attributes)  # Frozen: the dataclass way to normalise a field.

    def build_networks(self, shapes) -> dict:
        """G(x, c) (a ResNet generator) and the two-head PatchGAN for images ``shapes[0]`` and ``shapes[1]`` domains.

        With the dataset's label groups, ``shapes[1]`` is the unified labels'
        length (G's condition) and D's head has every group's entries, no mask.
        """
        from kgan import networks

        image_shape, num_domains = shapes
        groups = label_groups_of(self.dataset)
        num_logits = num_domains if groups is None else logit_size(groups)
        return {
            "generator": networks.resnet_generator(
                image_shape, condition_dim=num_domains, base_filters=self.base_filters,
                num_residual_blocks=self.num_residual_blocks, num_downsampling=self.generator_downsampling,
                skip_connections=self.generator_skips, padding="zero", sampling_kernel_size=4, output_head=self.generator_head,
                conditional_norm=self.generator_conditional_norm,
            ),
            "discriminator": networks.multi_task_patch_discriminator(
                image_shape, num_logits, self.base_filters, self.discriminator_layers,
                minibatch=self.minibatch, spectral_norm=self.spectral_norm,
                condition_dim=num_domains if self.conditional_critic else 0,
            ),
        }

    def model_options(self, shapes) -> dict:
        """`kgan.StarGAN`'s constructor arguments other than the networks."""
        return dict(
            num_domains=int(shapes[1]), label_kind=self.label_kind, label_groups=label_groups_of(self.dataset),
            classification_weight=self.classification_weight,
            reconstruction_weight=self.reconstruction_weight, identity_weight=self.identity_weight,
            gradient_penalty_weight=self.gradient_penalty_weight,
            discriminator_steps=self.discriminator_steps, seed=self.seed, **self.remedy_options(),
        )

    def problems(self) -> list:
        problems = super().problems()
        for name in ("base_filters", "num_residual_blocks", "discriminator_layers", "discriminator_steps", "num_preview_images"):
            self._check_positive(problems, name)
        _check_minibatch(problems, self.minibatch)
        if self.generator_head not in OUTPUT_HEADS:
            problems.append(f"--generator_head must be one of {', '.join(OUTPUT_HEADS)}; got {self.generator_head!r}.")
        folder = is_attribute_folder(self.dataset)
        if self.dataset not in ATTRIBUTE_DATASETS and not folder:
            problems.append(f"--dataset must be one of {', '.join(ATTRIBUTE_DATASETS)} or folder:PATH; got {self.dataset!r}.")
        if folder and not source_problems(self.dataset):  # An existing folder (the base check reports the rest).
            try:  # Where the CSV is, before anything is read (the data itself is checked when training starts).
                attribute_folder.attributes_file_for(specs.parse_source(self.dataset).location, self.attributes_file)
            except FileNotFoundError as error:
                problems.append(str(error))
        if not folder:
            given = [f"--{name}" for name, default in FOLDER_OPTION_DEFAULTS.items() if getattr(self, name) != default]
            if given:
                problems.append(f"{', '.join(given)} apply to folder:PATH data only, not to --dataset={self.dataset}.")
        if self.evaluation_images < 0:
            problems.append(f"--evaluation_images must be >= 0 (0: no evaluation); got {self.evaluation_images}.")
        if self.label_kind not in LABEL_KINDS:
            problems.append(f"--label_kind must be one of {', '.join(LABEL_KINDS)}; got {self.label_kind!r}.")
        elif label_groups_of(self.dataset) is not None and self.label_kind != "multi_label":
            problems.append(f"--label_kind: {self.dataset} has a label kind per dataset ({label_groups_of(self.dataset)}); "
                            "unset --label_kind.")
        if self.dataset == "celeb_a" and not self.attributes:
            problems.append("--attributes must name at least one CelebA attribute.")
        if self.dataset in FIXED_ATTRIBUTES and self.attributes != FIXED_ATTRIBUTES[self.dataset]:
            # Their labels are columns rendered into the images (exclusive tints + inversion) and the
            # final evaluation classifies all four, so a subset, reordering or new name cannot be honoured.
            fixed = ",".join(FIXED_ATTRIBUTES[self.dataset])
            problems.append(
                f"--attributes: {self.dataset} has the fixed attributes {fixed} (rendered into its images); "
                f"got {','.join(self.attributes)}. Unset --attributes or pass --attributes={fixed}."
            )
        repeated = sorted({a for a in self.attributes if self.attributes.count(a) > 1})
        if repeated:
            problems.append(f"--attributes names {', '.join(repeated)} twice; name each attribute once.")
        _check_downsampling(problems, self.image_size, self.generator_downsampling)
        self._check_weights(
            problems, "classification_weight", "reconstruction_weight", "identity_weight", "gradient_penalty_weight"
        )
        return problems


STAR_GAN_PRESETS = {
    # The tinted Fashion-MNIST demo: no network, a few minutes on 2 CPU cores. A CPU recipe, not
    # the paper's: small networks, n_critic 2 and a 5x larger rate than the paper's 1e-4 (which
    # assumes 200k iterations); a generator without stride-2 layers (28 px is small enough to
    # keep at full resolution: through a 7x7 bottleneck the garments came out blurred), the
    # identity term, which teaches G to copy what a translation keeps, an affine colour head
    # (the demo's changes are colour changes: G edits its input's colours instead of repainting
    # it) and a conditional critic (without it, the affine head kept its input's look and fooled
    # D_cls with border patterns). Measured by bench/translation.py (README).
    "demo": StarGANConfig(
        dataset="tinted_fashion_mnist", attributes=("red", "green", "blue", "inverted"),
        base_filters=16, num_residual_blocks=2, generator_downsampling=0, identity_weight=10.0,
        generator_head="affine", conditional_critic=True,
        discriminator_layers=3, discriminator_steps=2,
        generator_learning_rate=5e-4, discriminator_learning_rate=5e-4, epochs=15, steps_per_epoch=100,
        checkpoint_every_n_steps=500, model_dir="runs/star_gan_demo", export_name="star_gan_demo",
    ),
    "smoke": StarGANConfig(
        dataset="tinted_fashion_mnist", attributes=("red", "green", "blue", "inverted"), base_filters=4,
        num_residual_blocks=1, discriminator_layers=2, discriminator_steps=2, batch_size=4, epochs=2, steps_per_epoch=3,
        checkpoint_every_n_steps=2, num_preview_images=4, evaluation_images=16, model_dir="runs/star_gan_smoke",
        export_name="star_gan_smoke",
    ),
    # Two datasets with different label sets at once (sec. 3.2, the mask vector): tinted images
    # (4 attributes) and gray ones at 3 brightness levels, half the embedded subset each; no
    # network. Small networks with the paper's 2 stride-2 layers, n_critic 2, rate 5e-4, 2,000
    # steps: 6-10 minutes on 2 shared CPU cores. The identity term doubles the garment kept at
    # 2,000 steps (0.21 -> 0.47; targets 0.99-1.00 either way). Not yet tried: the demo's
    # full-resolution generator (generator_downsampling=0).
    "multi_dataset_demo": StarGANConfig(
        dataset="tinted_shaded_fashion_mnist", base_filters=16, num_residual_blocks=2, discriminator_layers=3,
        discriminator_steps=2, identity_weight=1.0, generator_learning_rate=5e-4, discriminator_learning_rate=5e-4, epochs=20,
        steps_per_epoch=100, checkpoint_every_n_steps=500, model_dir="runs/star_gan_multi_dataset_demo",
        export_name="star_gan_multi_dataset_demo",
    ),
    "multi_dataset_smoke": StarGANConfig(
        dataset="tinted_shaded_fashion_mnist", base_filters=4, num_residual_blocks=1, discriminator_layers=2,
        discriminator_steps=2, batch_size=4, epochs=2, steps_per_epoch=3, checkpoint_every_n_steps=2, num_preview_images=4,
        evaluation_images=16, model_dir="runs/star_gan_multi_dataset_smoke", export_name="star_gan_multi_dataset_smoke",
    ),
    # The paper's CelebA setting (needs TFDS celeb_a).
    "celeb_a": StarGANConfig(model_dir="runs/star_gan_celeb_a", export_name="star_gan_celeb_a"),
}
