r"""Trains `kgan.StarGAN` (Choi et al. 2018): one generator translating between many domains.

    python train/star_gan.py --preset=demo       # tinted Fashion-MNIST (known attributes), no network
    python train/star_gan.py --preset=multi_dataset_demo   # two datasets, two label sets: the mask vector
    python train/star_gan.py --preset=celeb_a    # the paper's CelebA setting (needs TFDS celeb_a)
    python train/star_gan.py --preset=celeb_a --attributes=Black_Hair,Blond_Hair,Male --image_size=64
    python train/star_gan.py --dataset=folder:/data/faces --image_size=64   # your images + /data/faces/attributes.csv
    python train/star_gan.py --help              # every flag (one per StarGANConfig field)

Batches are ``(images, attributes)`` with 0/1 attributes. Progress pictures
show fixed test images (row 0; a folder without test/ shows its first
training images) and, in row 1 + j, all of them translated to the attributes
of test image j. For the tinted demos the run ends with the accuracy of an
attribute classifier and a garment classifier, both trained on real images
only, on translations of the test split to permuted targets, and their L1
distance to the perfect translations (the gray sources rendered with the
targets), which no pattern that fools a classifier can lower. The two-dataset
demo (``tinted_shaded_fashion_mnist``: tints on half the images, brightness
levels on the other half, unified labels with the paper's mask vector) ends
with each label group's target accuracy, judged by a classifier of that
group's real images, and the L1 distance to the perfect translations (the
gray sources rendered in the target's group), both overall and for targets
from the other dataset, and the garment class kept. For ``folder:PATH`` data
(`kgan.data.attribute_folder`: the CSV's layout and every check made before
training) it ends with the accuracy of an attribute classifier trained on
``--evaluation_images`` real training images on translations of as many test
images (other training images when there is no test/ split) to permuted
targets, and the content kept: the L1 distance of each translation to its
input and of the reconstruction G(G(x, c'), c) to x.
data.json, the summary and the export record the attribute names. The
SavedModel serves ``serving_default(images, target_attributes)`` and
``translate_uint8``. Resuming, outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan import configs, metrics  # noqa: E402
from kgan.data import attribute_folder  # noqa: E402
from kgan.data import attributes as attribute_data  # noqa: E402
from kgan.data.ranges import to_model_range  # noqa: E402
from kgan.label_groups import group_bounds  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

config_flags.define_config_flags(configs.StarGANConfig, configs.STAR_GAN_PRESETS)
flags.adopt_module_key_flags(config_flags)


def _data_options(config) -> dict:
    """The config's keyword arguments of `kgan.data.attributes.load_attribute_images` and its describers."""
    options = dict(attributes=config.attributes, image_size=config.image_size)
    if attribute_data.is_attribute_folder(config.dataset):
        return dict(options, attributes_file=config.attributes_file, channels=config.channels, crop=config.crop,
                    on_bad_image=config.on_bad_image)
    return dict(options, data_dir=config.data_dir, manual_dir=config.manual_dir)


def _load(config, split, batch_size, **kwargs):
    # The config check made the tinted demos' attributes their fixed ones; the loader checks them again.
    return attribute_data.load_attribute_images(config.dataset, split, batch_size, **_data_options(config), **kwargs)


def make_dataset(config, seed, batch_size):
    """Endless ``(images, attributes)`` batches of ``batch_size`` (a train step's n_critic minibatches)."""
    return _load(config, config.split, batch_size, limit=config.limit, shuffle=True, repeat=True, seed=seed)


def steps_per_epoch(config, examples_per_step):
    """``--steps_per_epoch``, or one pass over the split (each step reads n_critic minibatches)."""
    if config.steps_per_epoch:
        return config.steps_per_epoch
    examples = attribute_data.split_size(config.dataset, config.split, **_data_options(config))
    if examples is None:
        raise ValueError(f"The size of split {config.split!r} is unknown here: set --steps_per_epoch.")
    examples = min(examples, config.limit or examples)
    return max(1, examples // examples_per_step)


def describe_data(config):
    """data.json's report: `train_lib.data_report`'s keys plus the attribute names (folders: the CSV's checks too).

    For ``folder:`` data this is where the CSV is checked against the images,
    before any model is built; what is dropped or suspicious is printed here.
    """
    described = attribute_data.describe_attribute_data(config.dataset, **_data_options(config))
    report = dict(train_lib.data_report(described.info), attributes=list(described.attribute_names))
    if described.label_groups is not None:
        report["label_groups"] = [list(group) for group in described.label_groups]
    if described.attributes_file is not None:
        dropped = described.dropped_rows
        report.update(
            attributes_file=described.attributes_file, dropped_rows=len(dropped),
            dropped_rows_listed=[{"line": line, "name": name, "reason": reason} for line, name, reason in dropped[:1000]],
            warnings=list(described.warnings),
        )
        note = attribute_folder.describe_dropped_rows(dropped, described.attributes_file, described.info.name)
        if note:
            print(f"kgan: {note}", flush=True)
        for warning in described.warnings:
            print(f"kgan: warning: {warning}", flush=True)
    return report


def make_picture(config, dataset):
    """A `kgan.callbacks.TranslationGrid`: the first test images (folders without test/: training images)."""
    count = config.num_preview_images
    if config.dataset == "celeb_a":
        split = "validation"
    elif attribute_data.is_attribute_folder(config.dataset):
        splits = attribute_data.describe_attribute_data(config.dataset, **_data_options(config)).info.splits
        split = "test" if "test" in splits else "train"
        count = min(count, splits[split])
    else:
        split = "test"
    inputs = next(iter(_load(config, split, count, shuffle=False)))
    return kgan.callbacks.TranslationGrid(inputs=tuple(t.numpy() for t in inputs), **train_lib.picture_options(config))


def sample_shapes(dataset):
    """``(image_shape, num_domains)`` of the ``(images, attributes)`` batches."""
    image_spec, attribute_spec = dataset.element_spec
    return tuple(image_spec.shape[1:]), int(attribute_spec.shape[-1])


def folder_translation_scores(model, images, attributes, targets, attribute_classifier, attribute_names, batch_size=64):
    """What translations to ``targets`` change and keep, for data without content labels.

    Args:
      model: a `kgan.StarGAN`.
      images: real images ``[N, H, W, C]`` uint8.
      attributes: their own 0/1 attributes ``[N, K]``.
      targets: the requested 0/1 attributes ``[N, K]`` (`kgan.metrics.permuted_targets`).
      attribute_classifier: images in [-1, 1] -> attribute logits, trained on other real images only.
      attribute_names: the K names.

    Returns:
      A dict: ``target_attribute_accuracy`` (the classifier finds each
      requested attribute in G(x, c'), mean over images and attributes),
      ``target_exact_match`` (all K), their ``*_baseline`` on the untranslated
      inputs (what doing nothing scores), ``attribute_accuracy/<name>``;
      ``classifier_accuracy`` (the classifier on the inputs against their own
      attributes: how far to trust it); and, in [-1, 1] pixel units (0: equal,
      2: opposite), ``l1_to_input`` (|G(x, c') - x|: how much changed),
      ``reconstruction_l1`` (|G(G(x, c'), c) - x|: the content kept through a
      round trip) and ``l1_between_inputs`` (|x - x'| for other real inputs:
      what an output unrelated to its input costs); ``num_images``.
    """
    x = to_model_range(np.asarray(images))
    attributes, targets = np.asarray(attributes, np.float32), np.asarray(targets, np.float32)

    def translate(batch_images, batch_targets):
        return np.asarray(model.translate(batch_images, batch_targets, batch_size))

    def present(batch):  # The classifier's verdict per attribute.
        return np.asarray(attribute_classifier.predict(batch, batch_size=256, verbose=0)) > 0

    translated = translate(x, targets)
    reconstructed = translate(translated, attributes)
    hits, baseline = present(translated) == (targets > 0.5), present(x) == (targets > 0.5)
    scores = {
        "target_attribute_accuracy": float(hits.mean()),
        "target_exact_match": float(hits.all(axis=-1).mean()),
        "target_attribute_accuracy_baseline": float(baseline.mean()),
        "target_exact_match_baseline": float(baseline.all(axis=-1).mean()),
        "classifier_accuracy": float((present(x) == (attributes > 0.5)).mean()),
        "l1_to_input": float(np.mean(np.abs(translated - x))),
        "reconstruction_l1": float(np.mean(np.abs(reconstructed - x))),
        "l1_between_inputs": float(np.mean(np.abs(x - np.roll(x, 1, axis=0)))) if len(x) > 1 else float("nan"),
        "num_images": len(x),
    }
    for k, name in enumerate(attribute_names):
        scores[f"attribute_accuracy/{name}"] = float(hits[:, k].mean())
    return scores


def format_folder_scores(scores: dict) -> str:
    """A small text table of `folder_translation_scores` (with the split and classifier size)."""
    rows = [("target attributes (per attribute)", "target_attribute_accuracy"),
            ("target attributes (all K right)", "target_exact_match")]
    lines = [f"kgan: translations of {scores['num_images']} {scores['split']} images to permuted targets, judged by an "
             f"attribute classifier of {scores['classifier_images']} real training images:",
             f"{'':<40}{'translated':>11}{'input':>8}"]
    lines += [f"{label:<40}{scores[key]:>11.3f}{scores[key + '_baseline']:>8.3f}" for label, key in rows]
    labels = ("classifier on the inputs' own attributes", "L1 to the input ([-1, 1] units)", "reconstruction L1 to the input")
    lines += [
        f"{labels[0]:<40}{'':>11}{scores['classifier_accuracy']:>8.3f}",
        f"{labels[1]:<40}{scores['l1_to_input']:>11.3f}",
        f"{labels[2]:<40}{scores['reconstruction_l1']:>11.3f}   (two different inputs: {scores['l1_between_inputs']:.3f})",
    ]
    return "\n".join(lines)


def _evaluate_folder(config, model):
    count = config.evaluation_images
    if not count:
        return {"skipped": "--evaluation_images=0"}, "kgan: no end-of-run evaluation (--evaluation_images=0)."
    options = _data_options(config)
    described = attribute_data.describe_attribute_data(config.dataset, **options)
    train_images, train_values = attribute_data.folder_arrays(config.dataset, "train", count, seed=config.seed, **options)
    split = "test" if "test" in described.info.splits else "train"
    # Without test/, the translated images are training images the classifier never saw (when there are any left).
    offset = 0 if split == "test" else len(train_images)
    images, values = attribute_data.folder_arrays(config.dataset, split, count, offset=offset, seed=config.seed, **options)
    held_out = len(images) > 0
    if not held_out:  # Every training image taught the classifier: judge translations of those.
        images, values = train_images, train_values
    classifier = metrics.train_attribute_classifier(train_images, train_values, seed=config.seed)
    targets = metrics.permuted_targets(values, seed=config.seed)
    scores = folder_translation_scores(model, images, values, targets, classifier, described.attribute_names)
    scores.update(split=split, classifier_images=len(train_images), held_out=held_out)
    return scores, format_folder_scores(scores)


def _evaluate_tinted_shaded(config, model):
    """Per-group target accuracy, L1 to the truth, the garment kept (`kgan.metrics.grouped_translation_scores`), test split.

    Each group's classifier learns from that group's real training images
    only (the tinted half, the shaded half); the garment classifier from both.
    Targets permute the test split's unified labels, so about half ask for
    the other dataset's labels; the perfect translations
    (`kgan.data.attributes.tinted_shaded_perfect_translations`) render each
    image's gray source in its target's group.
    """
    train_images, train_labels, train_classes, train_groups = attribute_data.tinted_shaded_arrays(config.dataset, "train")
    images, labels, classes, _ = attribute_data.tinted_shaded_arrays(config.dataset, "test")
    groups = attribute_data.TINTED_SHADED_GROUPS
    classifiers = [
        metrics.train_attribute_classifier(train_images[train_groups == g], train_labels[train_groups == g, start:stop])
        for g, (start, stop) in enumerate(group_bounds(groups))
    ]
    names = attribute_data.TINTED_SHADED_GROUP_NAMES
    targets = metrics.permuted_targets(labels, seed=config.seed)
    scores = metrics.grouped_translation_scores(
        model, images, labels, classes, targets, groups, classifiers,
        metrics.train_content_classifier(train_images, train_classes), group_names=names,
        perfect=attribute_data.tinted_shaded_perfect_translations(targets, config.dataset, "test"),
    )
    return scores, ("kgan: translations of the test split to permuted unified targets, judged per label group by classifiers "
                    "of real images:\n" + metrics.format_grouped_translation_scores(scores, names))


def evaluate(config, model):
    """The end-of-run evaluation: classifiers of real images judge translations to permuted targets.

    Tinted demos: target-attribute and garment (content) accuracy on the
    test split, and the L1 distance to the perfect translations; the
    two-dataset demos: target accuracy and L1 to the perfect translations
    per label group (also for targets from the other dataset), and the
    garment kept.
    Folders: `folder_translation_scores` (attributes, L1 to the input,
    reconstruction). CelebA: none (see samples/).
    """
    if attribute_data.is_attribute_folder(config.dataset):
        return _evaluate_folder(config, model)
    if config.dataset in attribute_data.TINTED_SHADED_SOURCES:
        return _evaluate_tinted_shaded(config, model)
    if config.dataset not in attribute_data.TINTED_SOURCES:
        return {}, "kgan: no attribute ground truth for this dataset; see samples/ for the translations."
    train_images, train_attributes, train_classes = attribute_data.tinted_arrays(config.dataset, "train")
    images, attributes, classes = attribute_data.tinted_arrays(config.dataset, "test")
    targets = metrics.permuted_targets(attributes, seed=config.seed)
    scores = metrics.translation_scores(
        model, images, classes, targets,
        metrics.train_attribute_classifier(train_images, train_attributes),
        metrics.train_content_classifier(train_images, train_classes),
        attribute_names=attribute_data.TINT_ATTRIBUTES,
        perfect=attribute_data.tinted_perfect_translations(targets, config.dataset, "test"),
    )
    return scores, "kgan: translations of the test split to permuted targets, judged by classifiers of real images:\n" + (
        metrics.format_translation_scores(scores)
    )


RECIPE = train_lib.Recipe(
    kgan.registry.get("star_gan"), make_dataset=make_dataset, steps_per_epoch=steps_per_epoch, make_picture=make_picture,
    sample_shape=sample_shapes, evaluate=evaluate, describe_data=describe_data,
)

if __name__ == "__main__":
    app.run(train_lib.main_for(configs.StarGANConfig, configs.STAR_GAN_PRESETS, RECIPE))
