"""`kgan.networks.stabilizers`: minibatch stddev / discrimination by hand, spectral norm, and each in GAN, WGAN-GP, cGAN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.networks import (
    conditional_dcgan_discriminator,
    conditional_dcgan_generator,
    conditional_mlp_discriminator,
    conditional_mlp_generator,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)
from kgan.networks.stabilizers import MinibatchDiscrimination, MinibatchStddev


def test_minibatch_stddev_by_hand():
    x = np.array([[0, 0], [2, 4], [1, 1], [3, 8]], np.float32)
    # group_size 2 on a batch of 4: groups {x0, x2} and {x1, x3} (stride B / 2).
    # {x0, x2}: per-feature std 0.5, 0.5 -> 0.5; {x1, x3}: 0.5, 2.0 -> 1.25.
    out = MinibatchStddev(group_size=2)(x).numpy()
    np.testing.assert_allclose(out[:, :2], x)
    np.testing.assert_allclose(out[:, 2], [0.5, 1.25, 0.5, 1.25], atol=1e-6)
    # Not a multiple of the group size: one group, the whole batch.
    whole = MinibatchStddev(group_size=4)(x[:3]).numpy()[:, 2]
    np.testing.assert_allclose(whole, np.full(3, np.mean(np.std(x[:3], axis=0))), atol=1e-6)
    # Images: a constant extra map per example; a collapsed batch gets ~0.
    images = np.repeat(np.random.default_rng(0).normal(size=(1, 4, 4, 3)), 4, axis=0).astype(np.float32)
    maps = MinibatchStddev()(images).numpy()
    assert maps.shape == (4, 4, 4, 4)
    np.testing.assert_allclose(maps[..., 3], 1e-4, atol=1e-6)  # sqrt(1e-8)
    with pytest.raises(ValueError, match="group_size"):
        MinibatchStddev(group_size=1)


def test_minibatch_discrimination_by_hand():
    layer = MinibatchDiscrimination(num_kernels=2, kernel_dim=1)
    x = np.array([[0.0, 0.0], [1.0, 2.0]], np.float32)
    layer.build(x.shape)
    layer.projection.assign(np.eye(2, dtype=np.float32))  # M_i,b = x_i,b
    out = layer(x).numpy()
    expected = [[1 + np.exp(-1), 1 + np.exp(-2)], [np.exp(-1) + 1, np.exp(-2) + 1]]
    np.testing.assert_allclose(out, np.concatenate([x, expected], axis=1), rtol=1e-6)
    with pytest.raises(ValueError, match="Flatten"):
        MinibatchDiscrimination().build((2, 4, 4, 3))


def test_spectral_norm_bounds_every_layer_by_one():
    keras.utils.set_random_seed(0)
    discriminator = mlp_discriminator(2, (32, 32), spectral_norm=True)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    for _ in range(30):  # one power iteration per training call
        discriminator(x, training=True)
    wrapped = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 3
    for layer in wrapped:
        sigma = np.linalg.svd(np.asarray(layer.layer.kernel), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.02), layer.name
    assert dcgan_discriminator((28, 28, 1), 8, spectral_norm=True).get_layer("logit_sn") is not None


def test_builders_refuse_unknown_minibatch_features():
    with pytest.raises(ValueError, match="minibatch_features"):
        mlp_discriminator(2, (8,), minibatch="pac")


def _image_data(n=16):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, n).astype(np.int32)


def _models(option):
    images = dict(image_shape=(28, 28, 1), base_filters=8)
    return {
        "gan": lambda: kgan.GAN(dcgan_generator(8, (28, 28, 1), 8), dcgan_discriminator(**images, **option), 8),
        "wgan_gp": lambda: kgan.WGANGP(
            dcgan_generator(8, (28, 28, 1), 8), dcgan_discriminator(**images, normalization="layer", **option), 8, discriminator_steps=2
        ),
        "conditional_gan": lambda: kgan.ConditionalGAN(
            conditional_dcgan_generator(8, 10, (28, 28, 1), base_filters=8),
            conditional_dcgan_discriminator((28, 28, 1), 10, base_filters=8, conditioning="projection", **option), 8, 10,
        ),
        "points_conditional_gan": lambda: kgan.ConditionalGAN(
            conditional_mlp_generator(8, 3, 2, (16,)), conditional_mlp_discriminator(2, 3, (16,), **option), 8, 3,
        ),
        "points_gan": lambda: kgan.GAN(mlp_generator(8, 2, (16,)), mlp_discriminator(2, (16,), **option), 8),
    }


@pytest.mark.parametrize("option", [{"minibatch": "stddev"}, {"minibatch": "discrimination"}, {"spectral_norm": True}],
                         ids=["stddev", "discrimination", "spectral_norm"])
@pytest.mark.parametrize("name", ["gan", "wgan_gp", "conditional_gan", "points_gan", "points_conditional_gan"])
def test_each_option_trains_every_model(option, name):
    keras.utils.set_random_seed(0)
    model = _models(option)[name]()
    model.compile()
    images, labels = _image_data()
    rng = np.random.default_rng(1)
    if name == "points_gan":
        data = (rng.normal(size=(16, 2)).astype(np.float32),)
    elif name == "points_conditional_gan":
        data = (rng.normal(size=(16, 2)).astype(np.float32), rng.integers(0, 3, 16).astype(np.int32))
    elif name == "conditional_gan":
        data = (images, labels)
    else:
        data = (images,)
    before = [v.numpy() for v in model.discriminator_variables]
    history = model.fit(tf.data.Dataset.from_tensors(data if len(data) > 1 else data[0]).repeat(), steps_per_epoch=3, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values()), history.history
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, model.discriminator_variables))


def test_patch_discriminators_take_a_stddev_map_and_spectral_norm():
    from kgan.networks import multi_task_patch_discriminator, patch_discriminator

    patch = patch_discriminator((32, 32, 1), 8, 2, minibatch="stddev", spectral_norm=True)
    names = [layer.name for layer in patch.layers]
    assert "minibatch_stddev" in names and "logits_sn" in names and "conv0_sn" in names
    assert patch(np.zeros((4, 32, 32, 1), np.float32), training=True).shape == (4, 6, 6, 1)
    star = multi_task_patch_discriminator((32, 32, 3), 4, 8, 3, minibatch="stddev", spectral_norm=True)
    source, domains = star(np.zeros((4, 32, 32, 3), np.float32), training=True)
    assert source.shape == (4, 4, 4, 1) and domains.shape == (4, 4)
    assert "domain_conv_sn" in [layer.name for layer in star.layers]
    # Without the options the layers (and so old checkpoints) are unchanged.
    assert "conv0" in [layer.name for layer in patch_discriminator((32, 32, 1), 8, 2).layers]
    with pytest.raises(ValueError, match="stddev"):
        patch_discriminator((32, 32, 1), 8, 2, minibatch="discrimination")
