"""StarGAN learns to translate tinted Fashion-MNIST images to requested attributes and keeps the garment.

The attributes (colour tint red/green/blue, inversion) are known by
construction (kgan.data.attributes). An attribute classifier and a garment
classifier, both trained on real images only, judge translations of the test
split to permuted targets (kgan.metrics.translation_scores). Doing nothing
scores 0.53 per attribute; chance for the garment is 0.10; the garment
classifier reaches 0.81 on untranslated test images, and as much on perfect
translations (the renderer applied to the targets).
"""

import functools

import keras
import pytest

import kgan
from kgan import metrics, networks
from kgan.data import attributes as attribute_data

SHAPE = (28, 28, 3)


@functools.lru_cache(maxsize=1)
def judges():
    # The binary's evaluation settings, so the judges cached by its smoke test (or by this test) serve both.
    images, attributes, classes = attribute_data.tinted_arrays("tinted_fashion_mnist", "train")
    return metrics.train_attribute_classifier(images, attributes), metrics.train_content_classifier(images, classes)


def train_and_score(steps, seed=0, discriminator_steps=2, learning_rate=5e-4, downsampling=0, identity_weight=10.0,
                    output_head="affine", conditional_critic=True):
    """The demo preset's recipe (full-resolution affine-head generator, identity term, conditional critic) unless told otherwise."""
    images, attributes, _ = attribute_data.tinted_arrays("tinted_fashion_mnist", "train")
    keras.utils.set_random_seed(seed)
    model = kgan.StarGAN(
        networks.resnet_generator(SHAPE, condition_dim=4, base_filters=16, num_residual_blocks=2, padding="zero",
                                  sampling_kernel_size=4, num_downsampling=downsampling, output_head=output_head),
        networks.multi_task_patch_discriminator(SHAPE, 4, 16, 3, condition_dim=4 if conditional_critic else 0),
        4,
        discriminator_steps=discriminator_steps,
        identity_weight=identity_weight,
        seed=seed,
    )
    adam = lambda: keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.999)  # noqa: E731
    model.compile(adam(), adam(), jit_compile=True)
    data = attribute_data.attribute_dataset(images, attributes, 16 * discriminator_steps, repeat=True, seed=seed)
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    test_images, test_attributes, test_classes = attribute_data.tinted_arrays("tinted_fashion_mnist", "test")
    attribute_judge, content_judge = judges()
    return metrics.translation_scores(
        model, test_images, test_classes, metrics.permuted_targets(test_attributes, seed=1), attribute_judge, content_judge
    )


def test_short_training_sets_the_requested_attributes_and_keeps_the_garment():
    # 200 steps of the demo's recipe (~40 s alone, ~80 s on one thread). Measured over seeds 0-2: per
    # attribute 0.952 / 0.941 / 0.963, all four right 0.809 / 0.765 / 0.850, garment kept 0.625 /
    # 0.565 / 0.615 (the classifier on the inputs: 0.813; doing nothing sets 0.53 of the attributes).
    # The recipe before the affine head and the conditional critic kept 0.508 / 0.509 / 0.500 (all
    # four right 0.907 / 0.939 / 0.853); the paper's generator (two stride-2 layers, no identity
    # term) kept 0.26 at 400 steps.
    scores = train_and_score(200)
    assert scores["target_attribute_accuracy_baseline"] < 0.6  # doing nothing
    assert scores["target_attribute_accuracy"] > 0.9, scores
    assert scores["target_exact_match"] > 0.7, scores
    assert scores["content_accuracy"] > 0.53, scores


@pytest.mark.slow
def test_longer_training_keeps_the_garment_in_most_translations():
    # 1,500 steps (the demo's length, ~3-5 min). Measured through the binary (bench/translation.py,
    # seeds 0-2): exact match 1.000, garment kept 0.635-0.654 (0.581-0.594 before the affine head and
    # the conditional critic).
    scores = train_and_score(1500)
    assert scores["target_exact_match"] > 0.95, scores
    assert scores["content_accuracy"] > 0.6, scores
