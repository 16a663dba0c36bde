"""PatchGAN discriminators: receptive fields, map sizes, the StarGAN two-head variant."""

import numpy as np
import pytest

from kgan.networks import multi_task_patch_discriminator, patch_discriminator, patch_map_size, receptive_field


def test_70x70_patchgan_matches_the_reference():
    assert receptive_field(3) == 70
    discriminator = patch_discriminator((256, 256, 3))
    assert discriminator.output_shape == (None, 30, 30, 1)
    assert 2.76e6 < discriminator.count_params() < 2.77e6  # Reference: 2,765,633.


def test_map_size_formula_matches_the_built_model():
    for size, layers in ((28, 1), (28, 2), (28, 3), (64, 2)):
        discriminator = patch_discriminator((size, size, 1), 8, layers)
        assert discriminator.output_shape[1] == patch_map_size(size, layers)


def test_each_logit_sees_only_its_receptive_field():
    discriminator = patch_discriminator((64, 64, 1), 4, 1, normalization="none")  # 16x16 patches
    x = np.zeros((1, 64, 64, 1), np.float32)
    changed = x.copy()
    changed[0, 60:, 60:, 0] = 1.0  # Bottom-right corner only.
    difference = np.abs(np.asarray(discriminator(changed)) - np.asarray(discriminator(x)))[0, :, :, 0]
    assert difference[-1, -1] > 0
    assert np.all(difference[:10, :10] == 0)  # Far away patches do not see it.


def test_too_small_images_are_rejected_with_a_hint():
    with pytest.raises(ValueError, match="fewer layers"):
        patch_discriminator((8, 8, 1), 8, 3)


def test_multi_task_discriminator_has_source_map_and_domain_logits():
    discriminator = multi_task_patch_discriminator((128, 128, 3), 5)
    assert discriminator.output_shape == [(None, 2, 2, 1), (None, 5)]
    small = multi_task_patch_discriminator((28, 28, 3), 4, 8, 3)
    source, domains = small(np.zeros((2, 28, 28, 3), np.float32))
    assert source.shape == (2, 3, 3, 1) and domains.shape == (2, 4)
    assert source.dtype == "float32" and domains.dtype == "float32"


def test_conditional_multi_task_discriminator_scores_the_image_for_its_labels():
    discriminator = multi_task_patch_discriminator((28, 28, 3), 4, 8, 3, condition_dim=4)
    assert [tuple(t.shape) for t in discriminator.inputs] == [(None, 28, 28, 3), (None, 4)]
    images = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 3)).astype(np.float32)
    source_a, domains_a = discriminator([images, np.array([[1, 0, 0, 0]] * 2, np.float32)])
    source_b, domains_b = discriminator([images, np.array([[0, 0, 0, 1]] * 2, np.float32)])
    assert source_a.shape == (2, 3, 3, 1)
    assert not np.allclose(source_a, source_b)  # D_src depends on the labels ...
    np.testing.assert_array_equal(domains_a, domains_b)  # ... D_cls only on the image.
