r"""Trains `kgan.Pix2Pix` (Isola et al. 2017): paired translation of images A into images B.

    python train/pix2pix.py --preset=demo          # edges -> shoe, embedded Fashion-MNIST, no network
    python train/pix2pix.py --preset=facades --manual_dir=/data/pix2pix   # the paper's settings, facades.tar.gz there
    python train/pix2pix.py --dataset=folder:/data/my_pairs --image_size=128 --direction=BtoA   # side-by-side A|B files
    python train/pix2pix.py --help                 # every flag (one per Pix2PixConfig field)

Batches are paired ``(inputs, targets)`` (`kgan.data.paired`). Progress
pictures show fixed test pairs: rows input, G(input), target. Folder datasets
(``folder:PATH`` or just PATH) are checked and paired before training
(`kgan.data.paired.scan_pairs`): unusable files are skipped with their
partners and listed in data.json (``--on_bad_image=stop`` refuses to start
instead); unpaired folders are refused with the files at fault. The run ends
with an evaluation in summary.json: for the footwear sources
`kgan.metrics.footwear_translation_scores` on the whole test split (L1 and the
best constant image, class kept and classifier-feature FID, or edge F1 for
``--direction=BtoA``); for folders and ``pix2pix/*`` the L1 of
``--evaluation_images`` test pairs to their targets, beside the best constant
image. The SavedModel serves ``translate`` (float images in [-1, 1]),
``translate_uint8``, and ``serving_default`` = ``translate``. Resuming,
outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan.configs import pix2pix as pix2pix_configs  # noqa: E402
from kgan.data import paired, unpaired  # noqa: E402
from kgan.data.catalog import ImageDatasetInfo  # noqa: E402
from kgan.data.ranges import to_model_range  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

Pix2PixConfig, PRESETS = pix2pix_configs.Pix2PixConfig, pix2pix_configs.PRESETS
config_flags.define_config_flags(Pix2PixConfig, PRESETS)
flags.adopt_module_key_flags(config_flags)

FOOTWEAR_SIZE = 28  # kgan's classifier judges 28x28 gray images.


def make_dataset(config, seed, batch_size):
    """Endless paired ``(inputs, targets)`` batches of ``batch_size`` pairs from the training split."""
    return paired.load_paired_images(
        config.dataset, config.split, batch_size, limit=config.limit, shuffle=True, repeat=True, seed=seed, **config.data_args()
    )


def steps_per_epoch(config, examples_per_step):
    """``--steps_per_epoch``, or one pass over the training pairs."""
    if config.steps_per_epoch:
        return config.steps_per_epoch
    pairs = paired.paired_info(config.dataset, **config.data_args()).split_size(config.split)
    if config.limit:
        pairs = min(pairs, config.limit)
    if pairs < examples_per_step:
        raise ValueError(f"{pairs} pairs make no batch of {examples_per_step}: lower --batch_size.")
    return pairs // examples_per_step


def describe_data(config):
    """data.json's report (`train_lib.data_report`'s keys, ``image_shape`` being the inputs', plus ``target_shape``).

    Folder datasets are checked and paired here, before any model is built.
    """
    info = paired.paired_info(config.dataset, **config.data_args())
    report = train_lib.data_report(ImageDatasetInfo(
        name=config.dataset, image_shape=info.input_shape, num_classes=None, class_names=(), splits=dict(info.sizes),
        tfds_name=config.dataset if config.dataset.startswith("pix2pix/") else None, source_shape=info.input_shape,
        skipped=info.skipped,
    ))
    return dict(report, target_shape=list(info.target_shape), direction=config.direction)


def sample_shapes(dataset):
    """``(input_shape, target_shape)`` of the paired batches."""
    input_spec, target_spec = dataset.element_spec
    return tuple(input_spec.shape[1:]), tuple(target_spec.shape[1:])


def _held_out_split(config) -> str:
    """``"test"``, or for a dataset without one the training split."""
    return "test" if "test" in paired.paired_info(config.dataset, **config.data_args()).sizes else config.split


def make_picture(config, dataset):
    """A `kgan.callbacks.TranslationGrid` of the first test pairs (datasets without a test split: training pairs)."""
    del dataset
    inputs = paired.paired_arrays(config.dataset, _held_out_split(config), limit=config.num_preview_images, **config.data_args())
    return kgan.callbacks.TranslationGrid(inputs=inputs, **train_lib.picture_options(config))


def l1_errors(model, inputs, targets) -> dict:
    """L1 of G(x) to the true targets beside the best constant image (the targets' per-pixel median).

    Args:
      model: a `kgan.Pix2Pix`.
      inputs, targets: float32 ``[N, H, W, C]`` in [-1, 1], paired.

    Returns:
      ``l1``, ``l1_constant`` (mean absolute errors in [-1, 1] units: 0 equal,
      2 opposite) and ``num_pairs``.
    """
    fake = np.asarray(model.translate(inputs))
    return {
        "l1": float(np.mean(np.abs(fake - targets))),
        "l1_constant": float(np.mean(np.abs(np.median(targets, axis=0, keepdims=True) - targets))),
        "num_pairs": len(inputs),
    }


def _at_size(model, size: int):
    """``model.translate`` on 28x28 images for a model trained at ``size``: resized there and back (bilinear)."""
    def translate(images):
        if size == FOOTWEAR_SIZE:
            return model.translate(images)
        fake = model.translate(tf.image.resize(images, (size, size)))
        return tf.clip_by_value(tf.image.resize(fake, (FOOTWEAR_SIZE, FOOTWEAR_SIZE)), -1.0, 1.0)

    return translate


def _evaluate_footwear(config, model):
    source = unpaired.DEMO_SOURCES[config.dataset]
    edges, images = (to_model_range(a) for a in unpaired.footwear_edge_pairs("test", source, config.data_dir, config.manual_dir))
    _, classes = unpaired.footwear_images("test", source, config.data_dir, config.manual_dir)
    classifier_dataset = train_lib.classifier_at_hand(config)
    translate = _at_size(model, int(model.x_shape[0]))
    direction = {"edges_to_images": translate} if config.direction == "AtoB" else {"images_to_edges": translate}
    scores = kgan.metrics.footwear_translation_scores(
        edges, images, classes, kgan.metrics.load_classifier(classifier_dataset), **direction
    )
    return dict(scores, classifier=classifier_dataset), (
        f"kgan: translation of the test pairs ({config.direction}; kgan's {classifier_dataset} classifier):\n"
        + kgan.metrics.format_footwear_scores(scores)
    )


def evaluate(config, model):
    """The footwear sources: `kgan.metrics.footwear_translation_scores`; others: `l1_errors` of test pairs."""
    if config.dataset in unpaired.DEMO_SOURCES:
        return _evaluate_footwear(config, model)
    if not config.evaluation_images:
        return {"skipped": "--evaluation_images=0"}, "kgan: no end-of-run evaluation (--evaluation_images=0)."
    split = _held_out_split(config)
    inputs, targets = paired.paired_arrays(config.dataset, split, limit=config.evaluation_images, **config.data_args())
    results = dict(l1_errors(model, inputs, targets), split=split)
    return results, (
        f"kgan: L1 of G(input) to the target on {results['num_pairs']} {split} pairs ([-1, 1] units): "
        f"{results['l1']:.3f}   (best constant image: {results['l1_constant']:.3f})"
    )


RECIPE = train_lib.Recipe(
    kgan.registry.get("pix2pix"), make_dataset=make_dataset, steps_per_epoch=steps_per_epoch, make_picture=make_picture,
    sample_shape=sample_shapes, evaluate=evaluate, describe_data=describe_data,
)

if __name__ == "__main__":
    app.run(train_lib.main_for(Pix2PixConfig, PRESETS, RECIPE))
