r"""Trains `kgan.CycleGAN` (Zhu et al. 2017): unpaired translation between image domains X and Y.

    python train/cycle_gan.py --preset=demo          # edges <-> footwear, embedded Fashion-MNIST, no network
    python train/cycle_gan.py --preset=horse2zebra   # the paper's settings on TFDS cycle_gan/horse2zebra
    python train/cycle_gan.py --dataset=/data/my_pair --image_size=128 --batch_size=4   # trainA/, trainB/ folders
    python train/cycle_gan.py --help                 # every flag (one per CycleGANConfig field)

Batches are unpaired ``(images_x, images_y)``. Progress pictures show fixed
test images: rows x, G(x), F(G(x)), y, F(y), G(F(y)). For the footwear demos
the run ends with the L1 error of both directions against the true pairs of
the test split, next to the do-nothing and best-constant baselines. The
SavedModel serves ``x_to_y``, ``y_to_x`` (float images in [-1, 1]), their
``_uint8`` variants, and ``serving_default`` = ``x_to_y``. Resuming, outputs
and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan import configs  # noqa: E402
from kgan.data import unpaired  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS)
flags.adopt_module_key_flags(config_flags)


def _data_args(config):
    return dict(data_dir=config.data_dir, manual_dir=config.manual_dir, image_size=config.image_size)


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


def sample_shapes(dataset):
    """``(x_shape, y_shape)`` of the unpaired batches."""
    x_spec, y_spec = dataset.element_spec
    return tuple(x_spec.shape[1:]), tuple(y_spec.shape[1:])


def make_picture(config, dataset):
    """A `kgan.callbacks.TranslationGrid` of the first test images of each domain."""
    preview = unpaired.load_unpaired(
        config.dataset, "test", config.num_preview_images, shuffle=False, repeat=False, **_data_args(config)
    )
    inputs = next(iter(preview))
    return kgan.callbacks.TranslationGrid(inputs=tuple(t.numpy() for t in inputs), **train_lib.picture_options(config))


def evaluate(config, model):
    """For the footwear demos: L1 to the true pairs of the test split, both directions, with baselines."""
    if config.dataset not in configs.translation.DEMO_UNPAIRED_DATASETS:
        return {}, "kgan: no paired ground truth for this dataset; see samples/ for the translations."
    images_x, images_y = unpaired.paired_arrays(config.dataset, "test", **_data_args(config))
    results = kgan.metrics.paired_translation_errors(model, images_x, images_y)
    return results, "kgan: translation error on the test split (mean |output - truth|, [-1, 1] units):\n" + (
        kgan.metrics.format_translation_errors(results)
    )


RECIPE = train_lib.Recipe(
    kgan.registry.get("cycle_gan"), make_dataset=make_dataset, steps_per_epoch=steps_per_epoch, make_picture=make_picture,
    sample_shape=sample_shapes, evaluate=evaluate,
)

if __name__ == "__main__":
    app.run(train_lib.main_for(configs.CycleGANConfig, configs.CYCLE_GAN_PRESETS, RECIPE))
