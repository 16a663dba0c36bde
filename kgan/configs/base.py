"""`TrainingConfig`: the fields every training binary shares (data, length, optimisers, outputs).

Model configs (`kgan.configs.GANConfig`, `CycleGANConfig`, ...) subclass it,
add their model's fields and override ``dataset``'s default and help.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import typing
from typing import Optional

from kgan.data import specs
from kgan.data.specs import BAD_IMAGE_POLICIES, CROP_CHOICES
from kgan.distribute import PRECISIONS as PRECISION_CHOICES
from kgan.arguments import check_weight, is_finite_number
from kgan.remedies import parse_augment_policy
from kgan.distribute import STRATEGIES as STRATEGY_CHOICES


JIT_COMPILE_CHOICES = ("auto", "true", "false")
# kgan's evaluation classifiers of 28x28 gray images (kgan.metrics.load_classifier), or auto.
EVALUATION_CLASSIFIER_CHOICES = ("auto", "fashion_mnist", "embedded_fashion_mnist")


def source_problems(dataset: str) -> list:
    """What is wrong with a user source's name before any file is read: its form, a missing path.

    The data itself is checked when training starts (`kgan.data.dataset_info`);
    catalogue names are left to each model config.
    """
    if not specs.is_user_source(dataset):
        return []
    try:
        spec = specs.parse_source(dataset)
    except ValueError as error:
        return [f"--dataset: {error}"]
    if spec.kind == "folder" and not os.path.isdir(spec.location):
        return [f"--dataset={dataset}: {spec.location} is not a directory."]
    if spec.kind in ("npz", "npy") and not os.path.isfile(spec.location):
        return [f"--dataset={dataset}: {spec.location} is not a file."]
    return []


@functools.cache
def float_fields(config_cls) -> tuple:
    """``(name, optional)`` of every field of ``config_cls`` annotated ``float`` or ``Optional[float]``.

    The generic rule of `TrainingConfig.problems` (every float field is finite)
    reads the annotations, so a field added to any config is checked without
    new code.
    """
    hints = typing.get_type_hints(config_cls)
    found = []
    for field in dataclasses.fields(config_cls):
        hint = hints[field.name]
        if hint is float:
            found.append((field.name, False))
        elif hint == Optional[float]:
            found.append((field.name, True))
    return tuple(found)


def _field(default, help_text: str):
    """A dataclass field whose ``help`` becomes the flag's help string."""
    if isinstance(default, (list, tuple)):
        return dataclasses.field(default_factory=lambda: tuple(default), metadata={"help": help_text})
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Data, training length, optimisers and outputs of one run of a training binary."""

    # Data.
    dataset: str = _field("embedded_fashion_mnist", "Training data (see the model's config for the choices).")
    data_dir: Optional[str] = _field(None, "TFDS data directory (must exist); unset: $TFDS_DATA_DIR or ~/tensorflow_datasets.")
    manual_dir: Optional[str] = _field(None, "Directory with a TFDS dataset's original files, used instead of downloading.")
    split: str = _field("train", "Dataset split to train on (TFDS slicing such as 'train[:10%]' works).")
    image_size: Optional[int] = _field(None, "Resize images to image_size x image_size.")
    channels: Optional[int] = _field(None, "Convert images to 1 (gray, by luma) or 3 (RGB) channels; unset: as the data is.")
    crop: str = _field(
        "center", "Own data (folder:, npz:, npy:, tfds:): 'center' keeps each image's central square before "
        "--image_size resizes it; 'none' resizes the whole image (squeezing non-square ones)."
    )
    on_bad_image: str = _field(
        "skip", "folder: data: files that are no image, truncated or undecodable are 'skip'ped (counted and listed "
        "in summary.json) or 'stop' the run before its first step with their list."
    )
    limit: Optional[int] = _field(None, "Train on the first `limit` examples of the split only.")
    # Training length.
    batch_size: int = _field(
        64, "Examples per discriminator step (the minibatch m); a train step reads batch_size * discriminator_steps."
    )
    epochs: int = _field(25, "Number of epochs of steps_per_epoch train steps (generator updates).")
    steps_per_epoch: Optional[int] = _field(
        None, "Train steps per epoch; unset: one pass over the split (needed for point datasets, which are infinite)."
    )
    # Optimisers (Adam, one per network).
    generator_learning_rate: float = _field(2e-4, "Adam learning rate of the generator.")
    discriminator_learning_rate: float = _field(2e-4, "Adam learning rate of the discriminator.")
    beta_1: float = _field(0.5, "Adam beta_1 of both optimisers (DCGAN: 0.5).")
    beta_2: float = _field(0.999, "Adam beta_2 of both optimisers.")
    learning_rate_decay_start: Optional[float] = _field(
        None,
        "Fraction of training after which both learning rates decay linearly (kgan.schedules."
        "ConstantThenLinearDecay); unset: constant rates. CycleGAN/StarGAN: 0.5; 0: decay from the start.",
    )
    learning_rate_final_fraction: float = _field(
        0.0, "With learning_rate_decay_start: the final rate as a fraction of the initial one."
    )
    jit_compile: str = _field(
        "auto",
        "XLA for each network's loss-and-gradient computation: true, false, or auto (on with a GPU/TPU, off on CPUs).",
    )
    mixed_precision: str = _field(
        "float32",
        "Keras dtype policy: float32, mixed_bfloat16, mixed_float16 (GPUs; every optimizer gets loss scaling), "
        "or auto (mixed_bfloat16 where the hardware computes bfloat16 natively, else float32).",
    )
    strategy: str = _field(
        "default",
        "tf.distribute strategy: default (one device), mirrored (all local GPUs, or the CPU), or multi_worker "
        "(MultiWorkerMirroredStrategy configured by the TF_CONFIG environment variable).",
    )
    seed: int = _field(0, "Seeds the training noise, the data order and the sample grids' latent vectors.")
    evaluation_classifier: str = _field(
        "auto",
        "kgan's classifier that scores 28x28 gray results at the end of a run (classifier features, class kept): "
        "fashion_mnist (test accuracy 0.91; trained for 2-3 minutes on first use, then cached), "
        "embedded_fashion_mnist (0.87; ~15 s), or auto (fashion_mnist when cached or its data is offline, "
        "else embedded_fashion_mnist). Only numbers of one classifier compare.",
    )
    # Outputs.
    model_dir: str = _field("runs/gan", "Run directory: checkpoints/, samples/ (PNG grids) and logs/ (TensorBoard).")
    resume: bool = _field(True, "Continue from the latest checkpoint in model_dir if there is one.")
    checkpoint_every_n_steps: Optional[int] = _field(
        500, "Also checkpoint every N train steps (epoch ends always checkpoint); 0 or unset: epoch ends only."
    )
    keep_checkpoints: int = _field(2, "Number of newest checkpoints to keep.")
    sample_every_n_epochs: int = _field(1, "Write a sample grid every N epochs.")
    tensorboard: bool = _field(True, "Write TensorBoard logs to model_dir/logs (needs the tensorboard package).")
    export: bool = _field(True, "Export the generator as a SavedModel at the end.")
    export_dir: str = _field("saved_models", "Exports go to export_dir/export_name/<version>/.")
    export_name: str = _field("gan", "Model name of the export (TF Serving's model name).")
    verbose: Optional[int] = _field(None, "Keras progress output: 0, 1 (bar) or 2 (a line per epoch); unset: 1 on a terminal, else 2.")
    quality_every_n_epochs: Optional[int] = _field(
        None,
        "Evaluate sample quality every N epochs (kgan.callbacks.QualityEvaluation: KID of generated vs "
        "test-split images) and log it to TensorBoard and the epoch logs; unset: never. Image GANs only.",
    )
    quality_features: str = _field(
        "classifier", "Feature network of --quality_every_n_epochs: 'classifier' (fast) or 'inception' (standard FID/KID)."
    )
    quality_num_samples: int = _field(2000, "Generated (and test-split) images per quality evaluation.")
    max_train_minutes: Optional[float] = _field(
        None,
        "A time budget: stop training after this many minutes of fit in this invocation, then checkpoint, draw "
        "the final grid and export as at the end. Running the same command again continues the run.",
    )
    on_divergence: str = _field(
        "stop",
        "When a loss or weight turns NaN/Inf: 'stop' (exit with a message; the newest checkpoint is the last finite "
        "state) or 'rollback' (restore the last finite checkpoint, multiply every learning rate by "
        "divergence_learning_rate_factor and continue; at most max_rollbacks times). Constant learning rates only.",
    )
    divergence_learning_rate_factor: float = _field(0.5, "With --on_divergence=rollback: the factor applied to every learning rate per rollback.")
    max_rollbacks: int = _field(3, "With --on_divergence=rollback: rollbacks allowed in one invocation before it stops.")

    # Remedies every model has (kgan.models.AdversarialModel).
    historical_averaging: float = _field(0.0, "Weight of the historical-averaging penalty on every network (Salimans et al. 2016); 0: off.")
    generator_ema: float = _field(0.0, "Decay of the generator weight average that samples and exports use, e.g. 0.999; 0: off.")
    diff_augment: str = _field("", "DiffAugment policy (Zhao et al. 2020), e.g. 'color,translation,cutout' (images only); '': off.")

    #: Discriminator updates per train step; configs of models with k steps make it a field.
    discriminator_steps = 1

    def data_options(self) -> dict:
        """The `kgan.data.load_images` / `dataset_info` keyword arguments that say how images are read."""
        return dict(
            data_dir=self.data_dir, manual_dir=self.manual_dir, image_size=self.image_size, channels=self.channels,
            crop=self.crop, on_bad_image=self.on_bad_image,
        )

    def remedy_options(self) -> dict:
        """The model keyword arguments of the remedies every model takes."""
        return dict(historical_averaging=self.historical_averaging, generator_ema=self.generator_ema, diff_augment=self.diff_augment)

    @property
    def jit_compile_option(self):
        """``jit_compile`` as `kgan.models.AdversarialModel.compile` takes it: True, False or "auto"."""
        return {"true": True, "false": False}.get(str(self.jit_compile).lower(), "auto")

    def problems(self) -> list:
        """Human-readable problems with this config, each saying how to fix it (empty if fine)."""
        problems = []
        # The generic rule first: NaN or infinity in any float field is refused before its range is
        # looked at (--generator_learning_rate=inf once trained a generator of all-zero images). The
        # range checks below skip such values, so each bad value is reported once.
        for name, optional in float_fields(type(self)):
            value = getattr(self, name)
            if not (value is None and optional) and not is_finite_number(value):
                problems.append(f"--{name} must be a finite number{' or unset' if optional else ''}; got {value!r}.")
        if str(self.jit_compile).lower() not in JIT_COMPILE_CHOICES:
            problems.append(f"--jit_compile must be one of {', '.join(JIT_COMPILE_CHOICES)}; got {self.jit_compile!r}.")
        if self.mixed_precision not in PRECISION_CHOICES:
            problems.append(f"--mixed_precision must be one of {', '.join(PRECISION_CHOICES)}; got {self.mixed_precision!r}.")
        if self.evaluation_classifier not in EVALUATION_CLASSIFIER_CHOICES:
            problems.append(f"--evaluation_classifier must be one of {', '.join(EVALUATION_CLASSIFIER_CHOICES)}; "
                            f"got {self.evaluation_classifier!r}.")
        if self.strategy not in STRATEGY_CHOICES:
            problems.append(f"--strategy must be one of {', '.join(STRATEGY_CHOICES)}; got {self.strategy!r}.")
        for name in ("batch_size", "epochs", "keep_checkpoints", "sample_every_n_epochs"):
            self._check_positive(problems, name)
        for name in ("steps_per_epoch", "image_size", "limit"):
            self._check_positive(problems, name, allow_none=True)
        problems += source_problems(self.dataset)
        if self.channels not in (None, 1, 3):
            problems.append(f"--channels must be 1, 3 or unset (as the data is); got {self.channels!r}.")
        if self.crop not in CROP_CHOICES:
            problems.append(f"--crop must be one of {', '.join(CROP_CHOICES)}; got {self.crop!r}.")
        if self.on_bad_image not in BAD_IMAGE_POLICIES:
            problems.append(f"--on_bad_image must be one of {', '.join(BAD_IMAGE_POLICIES)}; got {self.on_bad_image!r}.")
        if self.checkpoint_every_n_steps is not None and self.checkpoint_every_n_steps < 0:
            problems.append(f"--checkpoint_every_n_steps must be >= 0 (0: epoch ends only); got {self.checkpoint_every_n_steps}.")
        if self.quality_every_n_epochs is not None and self.quality_every_n_epochs < 1:
            problems.append(f"--quality_every_n_epochs must be >= 1; got {self.quality_every_n_epochs}.")
        if self.quality_features not in ("classifier", "inception"):
            problems.append(f"--quality_features must be 'classifier' or 'inception'; got {self.quality_features!r}.")
        if self.quality_num_samples < 10:
            problems.append(f"--quality_num_samples must be >= 10; got {self.quality_num_samples}.")
        self._check_range(problems, "max_train_minutes", 0.0, None, include_low=False)
        # Every *_learning_rate field (the Wasserstein configs' RMSprop rates too): a zero rate trains
        # nothing, a negative one climbs the loss.
        for name, _ in float_fields(type(self)):
            if name.endswith("_learning_rate"):
                self._check_range(problems, name, 0.0, None, include_low=False)
        self._check_range(problems, "learning_rate_decay_start", 0.0, 1.0, include_high=False, hint="0: decay from the start")
        self._check_range(problems, "learning_rate_final_fraction", 0.0, 1.0)
        for name in ("beta_1", "beta_2"):
            # beta = 1 never forgets the first gradient (and divides by zero in Adam's bias correction).
            self._check_range(problems, name, 0.0, 1.0, include_high=False)
        self._check_weights(problems, "historical_averaging")
        self._check_range(problems, "generator_ema", 0.0, 1.0, include_high=False, hint="e.g. 0.999; 0 turns it off")
        try:
            parse_augment_policy(self.diff_augment)
        except ValueError as error:
            problems.append(f"--diff_augment: {error}")
        if self.on_divergence not in ("stop", "rollback"):
            problems.append(f"--on_divergence must be 'stop' or 'rollback'; got {self.on_divergence!r}.")
        if self.on_divergence == "rollback" and self.learning_rate_decay_start is not None:
            problems.append("--on_divergence=rollback lowers constant learning rates; it cannot lower a decay schedule "
                            "(--learning_rate_decay_start): unset one of them.")
        if is_finite_number(self.divergence_learning_rate_factor) and not 0.0 < self.divergence_learning_rate_factor < 1.0:
            problems.append(f"--divergence_learning_rate_factor must be in (0, 1); got {self.divergence_learning_rate_factor}.")
        self._check_positive(problems, "max_rollbacks")
        if not self.model_dir:
            problems.append("--model_dir must be set (the run directory).")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", self.export_name or "") or self.export_name in (".", ".."):
            problems.append(f"--export_name must be a plain directory name (letters, digits, . _ -); got {self.export_name!r}.")
        if self.verbose not in (None, 0, 1, 2):
            problems.append(f"--verbose must be 0, 1, 2 or unset; got {self.verbose}.")
        return problems

    def _finite(self, name: str):
        """``float(getattr(self, name))`` if it is a finite number, else None (the generic rule reported it)."""
        value = getattr(self, name)
        return float(value) if is_finite_number(value) else None

    def _check_weights(self, problems: list, *names: str, positive: bool = False) -> None:
        """The models' own validator (`kgan.arguments.check_weight`), so a config and a constructor refuse alike."""
        for name in names:
            if self._finite(name) is None:
                continue  # Reported by the generic finite-number rule.
            try:
                check_weight(name, getattr(self, name), positive=positive)
            except ValueError as error:
                problems.append(f"--{error}")

    def _check_range(
        self, problems: list, name: str, low=None, high=None, *, include_low: bool = True, include_high: bool = True,
        hint: str = "",
    ) -> None:
        """Reports ``--name`` outside ``[low, high]`` (bounds open where ``include_*`` is False; None: unbounded).

        Unset (None) and non-finite values pass here: None is allowed where the
        field is Optional, and the generic rule reported non-finite ones.
        """
        value = self._finite(name)
        if value is None:
            return
        if (low is None or (value >= low if include_low else value > low)) and (
            high is None or (value <= high if include_high else value < high)
        ):
            return
        if high is None:
            expected = f"{'>=' if include_low else '>'} {low:g}"
        elif low is None:
            expected = f"{'<=' if include_high else '<'} {high:g}"
        else:
            expected = f"in {'[' if include_low else '('}{low:g}, {high:g}{']' if include_high else ')'}"
        problems.append(f"--{name} must be {expected}{f' ({hint})' if hint else ''}; got {getattr(self, name)!r}.")

    def _check_positive(self, problems: list, name: str, allow_none: bool = False) -> None:
        value = getattr(self, name)
        if value is None and allow_none:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"--{name} must be a positive integer{' or unset' if allow_none else ''}; got {value!r}.")

    def check(self):
        """Returns self, or raises ValueError listing every problem (see `problems`)."""
        problems = self.problems()
        if problems:
            raise ValueError("Invalid configuration:\n  " + "\n  ".join(problems))
        return self
