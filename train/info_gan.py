r"""Trains `kgan.InfoGAN` (Chen et al. 2016): a GAN whose latent codes learn to mean something, without labels.

    python train/info_gan.py --preset=demo            # embedded Fashion-MNIST subset, a few minutes, no network
    python train/info_gan.py --preset=ring8           # ring of 8 Gaussians: one code value per mode
    python train/info_gan.py --preset=demo --categorical_codes=10,4 --continuous_codes=3 --learn_continuous_variance
    python train/info_gan.py --help                   # every flag (one per InfoGANConfig field)

Batches are images (or points) only. Progress pictures vary one code per row
with z and the other codes fixed (`kgan.callbacks.CodeGrid`; points: a
scatter plot). The run ends with the usual FID/KID (points: mode coverage)
plus, under ``"clustering"``, the clustering accuracy, NMI and ARI of Q's
first categorical code on the labelled test split (points: how purely each
code value picks one mode, and Q's clusters of real points); both go into
summary.json's ``"evaluation"``. On Fashion-MNIST, ``"code_samples"`` adds the
conditional-sample view: --evaluation_samples samples spread over the code's
values, each classified by kgan's Fashion-MNIST classifier (purity, one-to-one
accuracy, NMI, ARI of code value -> garment class). The SavedModel serves ``serving_default(z,
categorical, continuous)``, ``sample(categorical, continuous, seed)`` and
``sample_prior(num_images, seed)`` (every code drawn; `train/evaluate.py --saved_model` uses it).
Resuming, outputs and export work as in ``train/gan.py``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import kgan  # noqa: E402
from kgan.metrics import code_scores  # noqa: E402
from train import flags as config_flags  # noqa: E402
from train import train_lib  # noqa: E402

SPEC = kgan.registry.get("info_gan")
config_flags.define_config_flags(SPEC.config_class, SPEC.presets)
flags.adopt_module_key_flags(config_flags)


def make_picture(config, dataset):
    """Image models: the code traversal (`kgan.callbacks.CodeGrid`); points: `train_lib.sample_grid`'s scatter plot."""
    if config.is_points:
        return train_lib.sample_grid(config, dataset)
    return kgan.callbacks.CodeGrid(seed=config.seed, **train_lib.picture_options(config))


def evaluate(config, model):
    """`train_lib.evaluate_samples` plus ``"clustering"``: Q's first categorical code against the data's classes."""
    numbers, table = train_lib.evaluate_samples(config, model)
    if not model.codes.categorical:
        return numbers, table + "\nkgan: no categorical code, no clustering evaluation."
    if config.is_points:
        mixture = kgan.data.gaussian_mixture(config.dataset)
        numbers["clustering"] = code_scores.mixture_code_scores(model, mixture, config.clustering_images or 500, seed=config.seed)
        return numbers, table + "\nkgan: " + code_scores.format_mixture_scores(numbers["clustering"])
    info = kgan.data.dataset_info(config.dataset, **config.data_options())
    if not info.has_labels:
        return numbers, table + f"\nkgan: {config.dataset} has no class labels, no clustering evaluation."
    split = "test" if "test" in info.splits else "train"
    numbers["clustering"] = code_scores.test_split_clustering(
        model, config.dataset, split, config.clustering_images, config.data_options())
    table += "\nkgan: " + code_scores.format_clustering(numbers["clustering"])
    if config.evaluation_samples and config.dataset in FASHION_MNIST_SOURCES and tuple(info.image_shape) == (28, 28, 1):
        numbers["code_samples"] = code_sample_view(config, model, info)
        table += "\nkgan: " + code_scores.format_code_sample_scores(numbers["code_samples"])
    return numbers, table


# Data whose classes are kgan's Fashion-MNIST classifier's, so its predictions on samples mean the data's classes.
FASHION_MNIST_SOURCES = ("fashion_mnist", "embedded_fashion_mnist")


def code_sample_view(config, model, info):
    """`code_scores.code_sample_scores` with kgan's Fashion-MNIST classifier: samples per code value, classified."""
    from kgan.metrics import classifier

    dataset = train_lib.classifier_at_hand(config)
    scores = code_scores.code_sample_scores(
        model, classifier.load_classifier(dataset), max(1, config.evaluation_samples // model.codes.categorical[0]),
        seed=config.seed, class_names=info.class_names)
    return {**scores, "classifier": dataset}


RECIPE = train_lib.Recipe(SPEC, make_picture=make_picture, evaluate=evaluate)

if __name__ == "__main__":
    app.run(train_lib.main_for(SPEC.config_class, SPEC.presets, RECIPE))
