r"""Trains `kgan.CycleGAN` (Zhu et al. 2017): unpaired translation between image domains X and Y.

    python train/cycle_gan.py --preset=demo          # edges <-> footwear, embedded Fashion-MNIST, no network
    python train/cycle_gan.py --preset=horse2zebra   # the paper's settings on TFDS cycle_gan/horse2zebra
    python train/cycle_gan.py --dataset=folder:/data/my_pair --image_size=128 --batch_size=4   # trainA/, trainB/
    python train/cycle_gan.py --help                 # every flag (one per CycleGANConfig field)

Batches are unpaired ``(images_x, images_y)``. Progress pictures show fixed
test images: rows x, G(x), F(G(x)), y, F(y), G(F(y)). Folder datasets
(``folder:PATH`` or just PATH) are checked before training
(`kgan.data.unpaired.scan_domains`): unusable files are skipped and listed
in data.json (``--on_bad_image=stop`` refuses to start instead), an empty
domain folder is refused. For the footwear demos the run ends with the L1
error of both directions against the true pairs of the test split, next to
the do-nothing and best-constant baselines. The
SavedModel serves ``x_to_y``, ``y_to_x`` (float images in [-1, 1]), their
``_uint8`` variants, and ``serving_default`` = ``x_to_y``. Resuming, outputs
and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan import configs  # noqa: E402
from kgan.data import unpaired  # noqa: E402
from kgan.data.catalog import ImageDatasetInfo  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS)
flags.adopt_module_key_flags(config_flags)


def _data_args(config):
    args = dict(data_dir=config.data_dir, manual_dir=config.manual_dir, image_size=config.image_size)
    if unpaired.folder_root(config.dataset) is not None:
        args.update(channels=config.channels, on_bad_image=config.on_bad_image, crop=config.crop)
    return args


def make_dataset(config, seed, batch_size):
    """Endless unpaired ``(images_x, images_y)`` batches of ``batch_size`` pairs from the training split."""
    return unpaired.load_unpaired(
        config.dataset, config.split, batch_size, limit=config.limit, shuffle=True, repeat=True, seed=seed,
        **_data_args(config),
    )


def steps_per_epoch(config, examples_per_step):
    """``--steps_per_epoch``, or one pass over the larger domain (the reference's epoch)."""
    if config.steps_per_epoch:
        return config.steps_per_epoch
    sizes = unpaired.unpaired_info(config.dataset, **_data_args(config)).split_sizes(config.split)
    examples = max(sizes)
    if config.limit:
        examples = min(examples, config.limit)
    if examples < examples_per_step:
        raise ValueError(f"{examples} examples make no batch of {examples_per_step}: lower --batch_size.")
    return examples // examples_per_step


def describe_data(config):
    """data.json's report (`train_lib.data_report`'s keys, ``image_shape`` being X's, plus ``image_shape_y``).

    Folder datasets are checked here, before any model is built; the
    unusable files skipped are listed (and announced by the trainer).
    ``splits`` counts each domain folder: trainA, trainB, testA, testB.
    """
    info = unpaired.unpaired_info(config.dataset, **_data_args(config))
    splits = {f"{split}{domain}": n for split, sizes in info.sizes.items() for domain, n in zip("AB", sizes)}
    report = train_lib.data_report(ImageDatasetInfo(
        name=config.dataset, image_shape=info.image_shape_x, num_classes=None, class_names=(), splits=splits,
        tfds_name=config.dataset if config.dataset.startswith("cycle_gan/") else None,
        source_shape=info.image_shape_x, skipped=info.skipped,
    ))
    return dict(report, image_shape_y=list(info.image_shape_y))


def sample_shapes(dataset):
    """``(x_shape, y_shape)`` of the unpaired batches."""
    x_spec, y_spec = dataset.element_spec
    return tuple(x_spec.shape[1:]), tuple(y_spec.shape[1:])


def _held_out_split(config):
    """``(split, (images in X, images in Y))``: the test split, or for a folder without testA/, testB/ the train split."""
    sizes = unpaired.unpaired_info(config.dataset, **_data_args(config)).sizes
    if "test" in sizes or unpaired.folder_root(config.dataset) is None:
        return "test", sizes.get("test")
    return "train", sizes["train"]


def make_picture(config, dataset):
    """A `kgan.callbacks.TranslationGrid` of the first test images of each domain (folders without test: training)."""
    split, sizes = _held_out_split(config)
    count = min(config.num_preview_images, *sizes) if sizes else config.num_preview_images
    preview = unpaired.load_unpaired(config.dataset, split, count, shuffle=False, repeat=False, **_data_args(config))
    inputs = next(iter(preview))
    return kgan.callbacks.TranslationGrid(inputs=tuple(t.numpy() for t in inputs), **train_lib.picture_options(config))


def cycle_errors(model, images_x, images_y, batch_size: int = 64) -> dict:
    """Cycle-consistency of unpaired data: how much of each image survives a round trip.

    Args:
      model: a `kgan.CycleGAN`.
      images_x, images_y: float32 ``[N, H, W, C]`` in [-1, 1] of each domain (N may differ).

    Returns:
      Mean absolute errors in [-1, 1] pixel units (0: equal, 2: opposite):
      ``x_cycle_l1`` = |F(G(x)) - x|, ``y_cycle_l1`` = |G(F(y)) - y|, and
      their context ``x_between_images`` / ``y_between_images``, |a - b| of
      two different real images of the domain (what a round trip that kept
      nothing of its input would cost); ``num_images_x``, ``num_images_y``.
    """
    def round_trip(images, there, back):
        return np.asarray(model.translate(model.translate(images, there, batch_size), back, batch_size))

    results = {"num_images_x": len(images_x), "num_images_y": len(images_y)}
    for name, images, there, back in (("x", images_x, "x_to_y", "y_to_x"), ("y", images_y, "y_to_x", "x_to_y")):
        results[f"{name}_cycle_l1"] = float(np.mean(np.abs(round_trip(images, there, back) - images)))
        other = np.roll(images, 1, axis=0)  # Each image's neighbour: a different real image of the domain.
        results[f"{name}_between_images"] = float(np.mean(np.abs(images - other))) if len(images) > 1 else float("nan")
    return results


def _evaluate_folder(config, model):
    count = config.evaluation_images
    if not count:
        return {"skipped": "--evaluation_images=0"}, "kgan: no end-of-run evaluation (--evaluation_images=0)."
    split, _ = _held_out_split(config)
    pairs = unpaired.load_unpaired(config.dataset, split, 1, limit=count, shuffle=False, **_data_args(config))
    images_x, images_y = (np.concatenate(side) for side in zip(*((x.numpy(), y.numpy()) for x, y in pairs)))
    results = dict(cycle_errors(model, images_x, images_y), split=split)
    lines = [f"kgan: cycle consistency on {len(images_x)} {split} image pairs (mean |round trip - input|, [-1, 1] units):"]
    for name, there in (("x", "F(G(x))"), ("y", "G(F(y))")):
        lines.append(f"  {there} vs {name}  {results[name + '_cycle_l1']:.3f}   "
                     f"(two different {name} images: {results[name + '_between_images']:.3f})")
    return results, "\n".join(lines)


def evaluate(config, model):
    """The footwear demos: L1 to the true pairs of the test split, both directions, with baselines, and
    `kgan.metrics.footwear_translation_scores` (class kept, classifier FID, edge F1).

    Folders: `cycle_errors` of ``--evaluation_images`` test image pairs (training images without testA/, testB/).
    """
    if unpaired.folder_root(config.dataset) is not None:
        return _evaluate_folder(config, model)
    if config.dataset not in configs.translation.DEMO_UNPAIRED_DATASETS:
        return {}, "kgan: no paired ground truth for this dataset; see samples/ for the translations."
    images_x, images_y = unpaired.paired_arrays(config.dataset, "test", **_data_args(config))
    results = kgan.metrics.paired_translation_errors(model, images_x, images_y)
    text = "kgan: translation error on the test split (mean |output - truth|, [-1, 1] units):\n" + (
        kgan.metrics.format_translation_errors(results)
    )
    if tuple(images_x.shape[1:]) != (28, 28, 1):  # kgan's classifier judges 28x28 gray images only.
        return results, text
    classifier_dataset = train_lib.classifier_at_hand(config)
    _, classes = unpaired.footwear_images("test", unpaired.DEMO_SOURCES[config.dataset], config.data_dir, config.manual_dir)
    content = kgan.metrics.footwear_translation_scores(
        images_x, images_y, classes, kgan.metrics.load_classifier(classifier_dataset),
        edges_to_images=lambda batch: model.translate(batch, "x_to_y"),
        images_to_edges=lambda batch: model.translate(batch, "y_to_x"),
    )
    results.update(content, classifier=classifier_dataset)
    return results, f"{text}\nkgan: content and distribution (kgan's {classifier_dataset} classifier):\n" + (
        kgan.metrics.format_footwear_scores(content)
    )


RECIPE = train_lib.Recipe(
    kgan.registry.get("cycle_gan"), make_dataset=make_dataset, steps_per_epoch=steps_per_epoch, make_picture=make_picture,
    sample_shape=sample_shapes, evaluate=evaluate, describe_data=describe_data,
)

if __name__ == "__main__":
    app.run(train_lib.main_for(configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS, RECIPE))
