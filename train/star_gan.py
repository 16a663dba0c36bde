r"""Trains `kgan.StarGAN` (Choi et al. 2018): one generator translating between many domains.

    python train/star_gan.py --preset=demo       # tinted Fashion-MNIST (known attributes), no network
    python train/star_gan.py --preset=celeb_a    # the paper's CelebA setting (needs TFDS celeb_a)
    python train/star_gan.py --preset=celeb_a --attributes=Black_Hair,Blond_Hair,Male --image_size=64
    python train/star_gan.py --help              # every flag (one per StarGANConfig field)

Batches are ``(images, attributes)`` with 0/1 attributes. Progress pictures
show fixed test images (row 0) and, in row 1 + j, all of them translated to
the attributes of test image j. For the tinted demos the run ends with the accuracy of an
attribute classifier and a garment classifier, both trained on real images
only, on translations of the test split to permuted targets. The SavedModel
serves ``serving_default(images, target_attributes)`` and ``translate_uint8``.
Resuming, outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan import configs, metrics  # noqa: E402
from kgan.data import attributes as attribute_data  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.StarGANConfig, configs.STAR_GAN_PRESETS)
flags.adopt_module_key_flags(config_flags)

def _load(config, split, batch_size, **kwargs):
    return attribute_data.load_attribute_images(
        # The config check made the tinted demos' attributes their fixed ones; the loader checks them again.
        config.dataset, split, batch_size, attributes=config.attributes,
        image_size=config.image_size, data_dir=config.data_dir, manual_dir=config.manual_dir, **kwargs,
    )


def make_dataset(config, seed, batch_size):
    """Endless ``(images, attributes)`` batches of ``batch_size`` (a train step's n_critic minibatches)."""
    return _load(config, config.split, batch_size, limit=config.limit, shuffle=True, repeat=True, seed=seed)


def steps_per_epoch(config, examples_per_step):
    """``--steps_per_epoch``, or one pass over the split (each step reads n_critic minibatches)."""
    if config.steps_per_epoch:
        return config.steps_per_epoch
    examples = attribute_data.split_size(config.dataset, config.split)
    if examples is None:
        raise ValueError(f"The size of split {config.split!r} is unknown here: set --steps_per_epoch.")
    examples = min(examples, config.limit or examples)
    return max(1, examples // examples_per_step)


def make_picture(config, dataset):
    """A `kgan.callbacks.TranslationGrid`: the first test images, translated to each other's attributes."""
    split = "test" if config.dataset != "celeb_a" else "validation"
    inputs = next(iter(_load(config, split, config.num_preview_images, shuffle=False)))
    return kgan.callbacks.TranslationGrid(inputs=tuple(t.numpy() for t in inputs), **train_lib.picture_options(config))


def sample_shapes(dataset):
    """``(image_shape, num_domains)`` of the ``(images, attributes)`` batches."""
    image_spec, attribute_spec = dataset.element_spec
    return tuple(image_spec.shape[1:]), int(attribute_spec.shape[-1])


def evaluate(config, model):
    """For the tinted demos: target-attribute and content accuracy of translations of the test split."""
    if config.dataset not in attribute_data.TINTED_SOURCES:
        return {}, "kgan: no attribute ground truth for this dataset; see samples/ for the translations."
    train_images, train_attributes, train_classes = attribute_data.tinted_arrays(config.dataset, "train")
    images, attributes, classes = attribute_data.tinted_arrays(config.dataset, "test")
    scores = metrics.translation_scores(
        model, images, classes, metrics.permuted_targets(attributes, seed=config.seed),
        metrics.train_attribute_classifier(train_images, train_attributes),
        metrics.train_content_classifier(train_images, train_classes),
        attribute_names=attribute_data.TINT_ATTRIBUTES,
    )
    return scores, "kgan: translations of the test split to permuted targets, judged by classifiers of real images:\n" + (
        metrics.format_translation_scores(scores)
    )


RECIPE = train_lib.Recipe(
    kgan.registry.get("star_gan"), make_dataset=make_dataset, steps_per_epoch=steps_per_epoch, make_picture=make_picture,
    sample_shape=sample_shapes, evaluate=evaluate,
)

if __name__ == "__main__":
    app.run(train_lib.main_for(configs.StarGANConfig, configs.STAR_GAN_PRESETS, RECIPE))
