"""The training-side remedies (kgan.remedies) and virtual batch normalisation: math on hand-computed
cases, then each remedy switched on for GAN, WGANGP and ConditionalGAN."""


import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import networks, remedies
from kgan.networks import stabilizers
from tests.test_case import TWO_LOGICAL_CPUS

IMAGE_SHAPE = (8, 8, 1)


# ---------------------------------------------------------------- math


def test_feature_matching_is_the_mean_squared_difference_of_feature_means_and_only_moves_fakes():
    real = tf.constant([[1.0, 2.0], [3.0, 4.0]])  # mean [2, 3]
    fake = tf.Variable([[0.0, 0.0], [2.0, 2.0]])  # mean [1, 1]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(real)
        loss = remedies.feature_matching_loss(real, fake)
    assert float(loss) == pytest.approx((1.0**2 + 2.0**2) / 2)
    # d/d fake_bj of mean_j (r_j - mean_b f_bj)^2 = -2 (r_j - f_j) / (J * B) = -(r_j - f_j) / 2.
    np.testing.assert_allclose(tape.gradient(loss, fake).numpy(), [[-0.5, -1.0], [-0.5, -1.0]])
    assert tape.gradient(loss, real) is None  # real features are constants


def test_historical_average_penalty_and_running_mean():
    weights = tf.Variable([1.0, 2.0])
    history = remedies.HistoricalAverage([weights])
    assert float(history.penalty()) == 0.0  # the mean starts at theta_0
    weights.assign([3.0, 4.0])
    with tf.GradientTape() as tape:
        penalty = history.penalty()
    assert float(penalty) == pytest.approx(2.0**2 + 2.0**2)
    np.testing.assert_allclose(tape.gradient(penalty, weights).numpy(), [4.0, 4.0])  # 2 (theta - mean)
    # After step 0 the mean holds theta_0 and theta_1: ([1, 2] + [3, 4]) / 2.
    (average,) = history.new_averages(0)
    np.testing.assert_allclose(average.numpy(), [2.0, 3.0])
    history.averages[0].assign(average)
    weights.assign([5.0, 6.0])
    (average,) = history.new_averages(1)  # mean of theta_0..theta_2
    np.testing.assert_allclose(average.numpy(), [3.0, 4.0])


def test_consensus_gradients_on_the_bilinear_game():
    # L1(x, y) = x y for player x, L2 = -x y for player y: v = (y, -x), 1/2 ||v||^2 = (x^2 + y^2) / 2.
    x, y, gamma = tf.Variable(2.0), tf.Variable(3.0), 0.5
    with tf.GradientTape() as outer:
        with tf.GradientTape(persistent=True) as inner:
            first, second = x * y, -x * y
        field = [inner.gradient(first, x), inner.gradient(second, y)]
    gradients, penalty = remedies.consensus_gradients(outer, field, [x, y], gamma)
    assert float(penalty) == pytest.approx((2.0**2 + 3.0**2) / 2)
    np.testing.assert_allclose([float(g) for g in gradients], [3.0 + gamma * 2.0, -2.0 + gamma * 3.0])


def test_exponential_average_averages_weights_and_copies_buffers():
    network = networks.dcgan_generator(4, IMAGE_SHAPE, 4)
    average = remedies.ExponentialAverage(network, 0.75)
    before = [w.numpy() for w in average.network.weights]
    for w in network.weights:
        w.assign(w + 1.0)
    for (mine, _, _), value in zip(average.pairs(), average.new_values(step=1000)):  # past the ramp-up
        mine.assign(value)
    trainable = {id(w) for w in network.trainable_weights}
    for old, mine, theirs in zip(before, average.network.weights, network.weights):
        expected = old + 0.25 if id(theirs) in trainable else theirs.numpy()  # 0.75 old + 0.25 (old + 1)
        np.testing.assert_allclose(mine.numpy(), expected, rtol=1e-6, atol=1e-6)
    # Ramp-up: update 0 uses min(0.75, 1 / 10) = 0.1, so the average is 90 % the current weights.
    first = average.network.weights[0].numpy()
    (value, *_) = average.new_values(step=0)
    np.testing.assert_allclose(value.numpy(), 0.1 * first + 0.9 * network.trainable_weights[0].numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="decay"):
        remedies.ExponentialAverage(network, 1.0)


def test_diff_augment_ops_on_hand_computed_cases():
    images = tf.reshape(tf.range(16, dtype=tf.float32), [1, 4, 4, 1]) / 16.0
    half = 0.5 * tf.ones([1, remedies.AUGMENT_PARAMS])
    # Brightness +0.25; saturation is a no-op on one channel; contrast x1.
    params = tf.constant([[0.75, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_allclose(remedies.diff_augment(images, params, "color").numpy(), images.numpy() + 0.25, atol=1e-6)
    # Contrast u=0: m + (x - m) * 0.5.
    params = tf.constant([[0.5, 0.5, 0.0, 0.5, 0.5, 0.5, 0.5]])
    mean = float(tf.reduce_mean(images))
    np.testing.assert_allclose(remedies.diff_augment(images, params, "color").numpy(), mean + (images.numpy() - mean) * 0.5, atol=1e-6)
    # Translation of an 8x8 image by round((2u - 1) * 1): u_y = 1 -> one row down, u_x = 0 -> one column left.
    eight = tf.reshape(tf.range(64, dtype=tf.float32), [1, 8, 8, 1])
    params = tf.constant([[0.5, 0.5, 0.5, 1.0, 0.0, 0.5, 0.5]])
    shifted = remedies.diff_augment(eight, params, "translation").numpy()[0, :, :, 0]
    expected = np.zeros((8, 8), np.float32)
    expected[1:, :7] = eight.numpy()[0, :7, 1:, 0]
    np.testing.assert_array_equal(shifted, expected)
    # Cutout of a 2x2 square (half of 4) centred at floor(0.5 * 5) = 2: rows and columns 1..2.
    with tf.GradientTape() as tape:
        tape.watch(images)
        cut = remedies.diff_augment(images, half, "cutout")
        total = tf.reduce_sum(cut)
    mask = np.ones((4, 4), np.float32)
    mask[1:3, 1:3] = 0.0
    np.testing.assert_allclose(cut.numpy()[0, :, :, 0], images.numpy()[0, :, :, 0] * mask)
    np.testing.assert_allclose(tape.gradient(total, images).numpy()[0, :, :, 0], mask)  # differentiable
    with pytest.raises(ValueError, match="Unknown DiffAugment"):
        remedies.parse_augment_policy("color,flip")
    with pytest.raises(ValueError, match="images"):
        remedies.diff_augment(tf.zeros([2, 2]), tf.zeros([2, remedies.AUGMENT_PARAMS]))


def test_virtual_batch_normalization_on_a_hand_computed_case():
    layer = stabilizers.VirtualBatchNormalization(reference_size=2, epsilon=0.0)
    # Reference rows [0], [2]: mean 1, mean square 2, variance 1. Example [4]:
    # m = (2 * 1 + 4) / 3 = 2, s = (2 * 2 + 16) / 3 = 20 / 3, variance 8 / 3.
    out = layer(tf.constant([[0.0], [2.0], [4.0]])).numpy()[:, 0]
    np.testing.assert_allclose(out, [-1.0, 1.0, 2.0 / np.sqrt(8.0 / 3.0)], rtol=1e-5)


def test_virtual_batch_generator_output_does_not_depend_on_the_rest_of_the_batch():
    generator = networks.dcgan_generator(4, IMAGE_SHAPE, 4, normalization="virtual_batch", reference_size=8)
    z = tf.random.stateless_normal([6, 4], seed=[1, 2])
    alone = generator(z[:1], training=True)
    together = generator(z, training=True)
    assert together.shape == (6, *IMAGE_SHAPE)
    np.testing.assert_allclose(alone.numpy()[0], together.numpy()[0], atol=1e-5)
    batch_norm = networks.dcgan_generator(4, IMAGE_SHAPE, 4)
    assert not np.allclose(batch_norm(z[:1], training=True).numpy()[0], batch_norm(z, training=True).numpy()[0], atol=1e-3)
    with pytest.raises(ValueError, match="virtual_batch"):
        networks.dcgan_generator(4, IMAGE_SHAPE, 4, normalization="layer")


# ---------------------------------------------------------------- models

REMEDIES = {
    "feature_matching": dict(feature_matching=1.0),
    "historical_averaging": dict(historical_averaging=0.01),
    "consensus": dict(consensus=1.0, discriminator_steps=1),
    "generator_ema": dict(generator_ema=0.9),
    "diff_augment": dict(diff_augment="color,translation,cutout"),
    "label_smoothing": dict(label_smoothing=0.1),
    "minibatch_stddev": {},
    "minibatch_discrimination": {},
    "spectral_norm": {},
    "virtual_batch_norm": {},
}
NETWORK_OPTIONS = {
    "minibatch_stddev": dict(minibatch="stddev"),
    "minibatch_discrimination": dict(minibatch="discrimination"),
    "spectral_norm": dict(spectral_norm=True),
}


def build(model_name, remedy):
    keras.utils.set_random_seed(0)
    options = dict(REMEDIES[remedy])
    network_options = NETWORK_OPTIONS.get(remedy, {})
    if model_name == "conditional_gan":
        if remedy == "virtual_batch_norm":
            pytest.skip("the conditional generators use batch normalisation only")
        generator = networks.conditional_dcgan_generator(4, 3, IMAGE_SHAPE, 4)
        discriminator = networks.conditional_dcgan_discriminator(IMAGE_SHAPE, 3, 4, **network_options)
        return kgan.ConditionalGAN(generator, discriminator, 4, 3, **options)
    normalization = "virtual_batch" if remedy == "virtual_batch_norm" else "batch"
    generator = networks.dcgan_generator(4, IMAGE_SHAPE, 4, normalization=normalization, reference_size=4)
    if model_name == "gan":
        return kgan.GAN(generator, networks.dcgan_discriminator(IMAGE_SHAPE, 4, **network_options), 4, **options)
    if remedy == "label_smoothing":
        pytest.skip("label smoothing is not defined for the Wasserstein loss")
    critic = networks.dcgan_discriminator(IMAGE_SHAPE, 4, "layer", **network_options)
    return kgan.WGANGP(generator, critic, 4, **{"discriminator_steps": 2, **options})


@pytest.mark.parametrize("remedy", list(REMEDIES))
@pytest.mark.parametrize("model_name", ["gan", "wgan_gp", "conditional_gan"])
def test_each_remedy_trains_each_model_with_finite_losses(model_name, remedy):
    model = build(model_name, remedy)
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, *IMAGE_SHAPE)).astype(np.float32)
    labels = np.arange(16) % 3
    before = [w.numpy().copy() for w in model.generator.trainable_weights]
    if model_name == "conditional_gan":
        history = model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
        samples = model.generate(6)
    else:
        history = model.fit(images, batch_size=8, epochs=1, verbose=0)
        samples = model.generate(6)
    for name, values in history.history.items():
        assert np.isfinite(values).all(), (name, values)
    assert samples.shape == (6, *IMAGE_SHAPE) and np.isfinite(samples.numpy()).all()
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.generator.trainable_weights))
    if remedy == "feature_matching":
        assert history.history["feature_matching"][0] > 0
    if remedy == "consensus":
        assert history.history["consensus_penalty"][0] > 0


def test_remedies_survive_a_keras_round_trip_and_ema_drives_sampling(tmp_path):
    keras.utils.set_random_seed(0)
    model = kgan.GAN(
        networks.dcgan_generator(4, IMAGE_SHAPE, 4), networks.dcgan_discriminator(IMAGE_SHAPE, 4), 4, feature_matching=0.5, historical_averaging=0.01,
        generator_ema=0.5, diff_augment="translation",
    )
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, *IMAGE_SHAPE)).astype(np.float32)
    model.fit(images, batch_size=8, epochs=1, verbose=0)
    z = tf.random.stateless_normal([4, 4], seed=[0, 3])
    # Sampling uses the average, which lags the trained generator.
    np.testing.assert_allclose(model(z).numpy(), model.generator_average.network(z, training=False).numpy())
    assert not np.allclose(model(z).numpy(), model.generator(z, training=False).numpy(), atol=1e-4)
    # Historical averages after 2 steps: the mean of theta_0, theta_1, theta_2 is neither theta_0 nor theta_2.
    first = model.generator_history.averages[0].numpy()
    assert not np.allclose(first, model.generator.trainable_weights[0].numpy())
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    for key in ("feature_matching", "historical_averaging", "generator_ema", "diff_augment"):
        assert loaded.get_config()[key] == model.get_config()[key]
    np.testing.assert_allclose(loaded(z).numpy(), model(z).numpy(), atol=1e-6)
    np.testing.assert_allclose(loaded.generator_history.averages[0].numpy(), first)


def test_weight_clipping_still_applies_under_consensus_optimization():
    critic = networks.mlp_discriminator(2, (8,))
    for weight in critic.trainable_weights:
        weight.assign(weight + 1.0)  # far outside the clip range
    model = kgan.WGAN(networks.mlp_generator(4, 2, (8,)), critic, 4, clip_value=0.01, discriminator_steps=1, consensus=1.0)
    model.compile()
    model.fit(np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32), batch_size=8, verbose=0)
    assert max(float(np.abs(w.numpy()).max()) for w in critic.trainable_weights) <= 0.01 + 1e-7


def test_bad_remedy_options_fail_with_a_message():
    generator, discriminator = networks.mlp_generator(4, 2, (8,)), networks.mlp_discriminator(2, (8,))
    with pytest.raises(ValueError, match="consensus"):
        kgan.GAN(generator, discriminator, 4, consensus=1.0, discriminator_steps=2)
    with pytest.raises(ValueError, match="augments images"):
        kgan.GAN(generator, discriminator, 4, diff_augment="color")
    with pytest.raises(ValueError, match="feature_matching must be >= 0"):
        kgan.GAN(generator, discriminator, 4, feature_matching=-1.0)
    with pytest.raises(ValueError, match="not a layer"):
        kgan.GAN(generator, discriminator, 4, feature_matching=1.0, feature_matching_layer="nope")
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model16 = kgan.GAN(networks.mlp_generator(4, 2, (8,)), networks.mlp_discriminator(2, (8,)), 4, consensus=1.0)
        model16.compile()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    with pytest.raises(ValueError, match="mixed_float16"):
        model16.fit(np.zeros((8, 2), np.float32), batch_size=8, verbose=0)


MIRRORED_SCRIPT = TWO_LOGICAL_CPUS + r"""
import keras, numpy as np, kgan
from kgan import networks

def make():
    keras.utils.set_random_seed(0)
    # Virtual batch norm in G and layer norm in D: no per-replica batch statistics.
    generator = networks.dcgan_generator(4, (8, 8, 1), 4, normalization="virtual_batch", reference_size=4)
    model = kgan.GAN(generator, networks.dcgan_discriminator((8, 8, 1), 4, "layer"), 4, discriminator_steps=2,
                     historical_averaging=0.01, generator_ema=0.5, diff_augment="color,translation,cutout", seed=1)
    model.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
    return model

x = np.random.default_rng(0).uniform(-1, 1, size=(32, 8, 8, 1)).astype(np.float32)
data = tf.data.Dataset.from_tensor_slices(x).batch(16)
single = make()
single.fit(data, verbose=0)
with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
    mirrored = make()
mirrored.fit(data, verbose=0)
print(max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(single.weights, mirrored.weights)))
"""


def test_two_replicas_with_ema_historical_averaging_diff_augment_and_virtual_bn_train_like_one_device(tmp_path):
    """Augmentation parameters come from the replica-sliced noise streams, the averages are assigned
    alike on every replica, and virtual batch norm has no per-replica statistics: every weight
    (networks, EMA copy, historical averages) matches one device after two steps."""
    from tests.test_case import run_script

    difference = float(run_script(tmp_path, MIRRORED_SCRIPT).split()[-1])
    assert difference < 1e-5, difference


# ---------------------------------------------------------------- the translation models


@pytest.mark.parametrize("name", ["cycle_gan", "star_gan"])
def test_translation_models_take_the_base_remedies_and_sample_from_the_average(name):
    """Generator EMA, historical averaging and DiffAugment are the base's: CycleGAN and StarGAN have them too."""
    from tests.test_case import CONTRACT_CASES

    case = CONTRACT_CASES[name]
    options = dict(generator_ema=0.5, historical_averaging=0.1, diff_augment="color,translation,cutout")
    model = type(case.make()).from_config({**case.make().get_config(), **options})
    model.compile()
    history = model.fit(tf.data.Dataset.from_tensors(case.batch()).repeat(), steps_per_epoch=3, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values()), history.history
    generators = model.groups["generator"]
    averages = [getattr(model, f"{g}_average").network for g in generators]
    for network, average in zip(generators, averages):
        trained, averaged = _flat(getattr(model, network).weights), _flat(average.weights)
        assert not np.allclose(trained, averaged), f"{network}'s average equals the trained weights"
    images = case.serving_inputs["serving_default"]["images"]
    if name == "cycle_gan":
        np.testing.assert_allclose(model.translate(images), averages[0](images, training=False), atol=1e-6)
        for network in generators:
            assert getattr(model, f"{network}_average") is not None
    else:
        targets = case.serving_inputs["serving_default"]["target_attributes"]
        np.testing.assert_allclose(model.translate(images, targets), averages[0]([images, targets], training=False), atol=1e-6)
    for group in model.groups:  # One running mean per optimizer group, moved by training.
        history_layer = getattr(model, f"{group}_history")
        assert not np.allclose(_flat(history_layer.averages), _flat(model.group_variables(group)))


def _flat(variables):
    return np.concatenate([np.ravel(v.numpy()) for v in variables])
