"""`GAN`'s step options: PacGAN's packs, the unrolled discriminator, simultaneous updates, reused fakes, R1."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import configs, remedies
from kgan.networks import dirac_gan_networks, mlp_discriminator, mlp_generator


def _points(n=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)


def _twins(*option_sets):
    """One small points GAN per option set, all with the same initial weights, compiled with SGD(0.1)."""
    models = []
    for options in option_sets:
        keras.utils.set_random_seed(3)
        pack = options.get("pack", 1)
        model = kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2 * pack, (16,)), 4, seed=1, **options)
        model.compile(optimizers={"generator": keras.optimizers.SGD(0.1), "discriminator": keras.optimizers.SGD(0.1)})
        models.append(model)
    return models


def _values(variables):
    return [v.numpy().copy() for v in variables]


# ------------------------------------------------------------------ PacGAN


def test_pack_samples_joins_consecutive_samples_along_the_last_axis():
    points = tf.constant([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    np.testing.assert_array_equal(remedies.pack_samples(points, 2), [[0, 1, 2, 3], [4, 5, 6, 7]])
    images = tf.reshape(tf.range(4 * 2 * 2 * 3, dtype=tf.float32), [4, 2, 2, 3])
    packed = remedies.pack_samples(images, 2)
    assert packed.shape == (2, 2, 2, 6)
    # Pack 1, pixel (1, 0): image 2's channels, then image 3's.
    np.testing.assert_array_equal(packed[1, 1, 0], np.concatenate([images[2, 1, 0], images[3, 1, 0]]))
    assert remedies.pack_samples(images, 1) is images
    assert remedies.packed_shape((28, 28, 1), 3) == (28, 28, 3) and remedies.packed_shape((2,), 4) == (8,)


def test_a_packed_discriminator_sees_one_row_per_pack_and_scores_each_once():
    model = kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(6, (16,)), 4, pack=3)
    x = tf.constant(_points(12))
    assert model.discriminator_view(x).shape == (4, 6)
    logits, _ = model.discriminate(x)
    assert logits.shape == (4, 1)
    np.testing.assert_allclose(logits, model.discriminator(tf.reshape(x, [4, 6])), atol=1e-6)


def test_a_batch_that_is_not_a_multiple_of_the_pack_is_refused_with_a_message():
    (model,) = _twins({"pack": 4})
    with pytest.raises(ValueError, match=r"pack=4 .*multiple of 4.*minibatches of 6"):
        model.fit(tf.data.Dataset.from_tensor_slices(_points(12)).batch(6), epochs=1, verbose=0)  # Before any step.
    with pytest.raises(ValueError, match=r"pack=4 .*multiple of 4; got 6"):
        model.fit(_points(12), batch_size=6, epochs=1, verbose=0)  # Arrays: when the step is traced.
    with pytest.raises(ValueError, match="multiple of 4; got 5"):
        remedies.pack_samples(tf.zeros([5, 2]), 4)
    with pytest.raises(ValueError, match="pack must be an integer >= 1"):
        kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, pack=0)


def test_a_discriminator_built_for_one_sample_is_refused_with_the_shape_to_build():
    with pytest.raises(ValueError, match=r"one input of shape \(4,\).*packed_shape\(\(2,\), 2\)"):
        kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, pack=2)


def test_models_whose_losses_do_not_fit_an_option_refuse_it():
    from kgan.networks import conditional_mlp_discriminator, conditional_mlp_generator

    with pytest.raises(ValueError, match="ConditionalGAN does not support pack="):
        kgan.ConditionalGAN(conditional_mlp_generator(4, 3, 2, (16,)), conditional_mlp_discriminator(2, 3, (16,)), 4, 3, pack=2)
    with pytest.raises(ValueError, match="discriminator_steps=1"):
        kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, updates="simultaneous", discriminator_steps=2)
    with pytest.raises(ValueError, match="do not combine"):
        kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, unrolled_steps=1, consensus=1.0)


# ------------------------------------------------------------------ unrolled GAN


def test_unrolling_changes_the_generator_step_only():
    """k = 0 is the plain step; with k = 2 D's own update is the plain one (the copies are discarded), G's is not."""
    plain, zero, unrolled = _twins({}, {"unrolled_steps": 0}, {"unrolled_steps": 2, "unrolled_learning_rate": 0.5})
    initial_generator = _values(plain.generator.trainable_variables)
    for model in (plain, zero, unrolled):
        model.fit(_points(16), batch_size=16, epochs=1, verbose=0)
    for a, b, c in zip(*(_values(m.discriminator.weights) for m in (plain, zero, unrolled))):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, atol=1e-7)
    for a, b in zip(_values(plain.generator.weights), _values(zero.generator.weights)):
        np.testing.assert_array_equal(a, b)
    plain_moves = [a - i for a, i in zip(_values(plain.generator.trainable_variables), initial_generator)]
    unrolled_moves = [a - i for a, i in zip(_values(unrolled.generator.trainable_variables), initial_generator)]
    assert max(np.abs(p - u).max() for p, u in zip(plain_moves, unrolled_moves)) > 1e-4


def _scalar_game(theta, w, b=None, **options):
    """The Dirac GAN: G(z) = theta for every z; D(x) = w x (+ b)."""
    return kgan.GAN(**dirac_gan_networks(theta, w, b), latent_dim=1, **options)


def test_the_unrolled_generator_gradient_is_the_hand_computed_one():
    """Metz et al. Eq. (4)-(5) by hand for one unrolled step of D(x) = w x + b against G = theta, real data r."""
    r, theta, w, b, eta = 1.0, -0.5, 0.8, 0.1, 0.5
    s = lambda u: 1.0 / (1.0 + np.exp(-u))  # noqa: E731
    # Non-saturating loss: L_D = softplus(-(w r + b)) + softplus(w theta + b); L_G = softplus(-(w' theta + b')).
    real, fake = s(-(w * r + b)), s(w * theta + b)
    w1 = w - eta * (-real * r + fake * theta)
    b1 = b - eta * (-real + fake)
    dw1 = -eta * (fake * (1 - fake) * w * theta + fake)
    db1 = -eta * fake * (1 - fake) * w
    expected_unrolled = -s(-(w1 * theta + b1)) * (w1 + theta * dw1 + db1)
    expected_plain = -s(-(w * theta + b)) * w
    batch = tf.fill([4, 1], r)
    gradients = {}
    for steps in (0, 1):
        model = _scalar_game(theta, w, b, unrolled_steps=steps, unrolled_learning_rate=eta)
        inputs = model.generator_inputs(batch, 1, {}, training=True)
        with tf.GradientTape() as tape:
            loss, _ = model.generator_loss(batch, inputs, training=True)
        gradients[steps] = float(tape.gradient(loss, model.generator.trainable_variables[0])[0])
        assert [float(v.numpy().ravel()[0]) for v in model.discriminator.trainable_variables] == pytest.approx([w, b])
    assert gradients[0] == pytest.approx(expected_plain, rel=1e-5)
    assert gradients[1] == pytest.approx(expected_unrolled, rel=1e-5)
    assert abs(gradients[1] - gradients[0]) > 0.05


# ------------------------------------------------------------------ simultaneous updates


def test_simultaneous_updates_take_both_gradients_at_the_same_parameters():
    simultaneous, alternating = _twins({"updates": "simultaneous"}, {})
    batch = tf.constant(_points(8))
    inputs = simultaneous.simultaneous_inputs(batch, 0, {}, training=True)
    with tf.GradientTape(persistent=True) as tape:
        losses, _ = simultaneous.simultaneous_loss(batch, inputs, training=True)
    expected = {
        group: [v.numpy() - 0.1 * g.numpy() for v, g in zip(simultaneous.group_variables(group), tape.gradient(losses[group], simultaneous.group_variables(group)))]
        for group in ("discriminator", "generator")
    }
    simultaneous.fit(batch, batch_size=8, epochs=1, verbose=0)
    alternating.fit(batch, batch_size=8, epochs=1, verbose=0)
    for group, values in expected.items():
        for want, got in zip(values, _values(simultaneous.group_variables(group))):
            np.testing.assert_allclose(got, want, atol=1e-6)
    for a, b in zip(_values(simultaneous.discriminator.weights), _values(alternating.discriminator.weights)):
        np.testing.assert_allclose(a, b, atol=1e-6)  # D's step is the same either way ...
    moved = [np.abs(a - b).max() for a, b in zip(_values(simultaneous.generator.weights), _values(alternating.generator.weights))]
    assert max(moved) > 1e-5  # ... G's differs: the alternating one sees the updated D.


def test_on_the_bilinear_game_simultaneous_steps_spiral_out_and_alternating_ones_stay_bounded():
    """f(x, y) = x y through the Wasserstein loss: D(v) = y v, G = x, real data 0 (so L_D = x y, L_G = -x y).

    Gradient steps of size eta: simultaneous ones multiply the radius by sqrt(1 + eta^2) each step; alternating
    ones are a rotation with bounded radius (Goodfellow 2016, Sec. 8; Mescheder et al. 2017).
    """
    radii = {}
    for updates in ("simultaneous", "alternating"):
        model = _scalar_game(1.0, 0.0, loss="wasserstein", updates=updates)
        model.compile(optimizers={"generator": keras.optimizers.SGD(0.1), "discriminator": keras.optimizers.SGD(0.1)})
        trajectory = []

        class Radius(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                x = float(model.generator.layers[-1].value.numpy()[0])
                y = float(model.discriminator.layers[-1].kernel.numpy()[0, 0])
                trajectory.append(np.hypot(x, y))

        data = tf.data.Dataset.from_tensors(tf.zeros([1, 1])).repeat()  # The data: a point mass at 0.
        model.fit(data, steps_per_epoch=50, epochs=4, verbose=0, callbacks=[Radius()])
        radii[updates] = trajectory
    assert radii["simultaneous"][-1] == pytest.approx(1.01 ** 100, rel=1e-3)  # sqrt(1 + 0.1^2)^200
    assert all(0.9 < r < 1.1 for r in radii["alternating"]), radii


# ------------------------------------------------------------------ reused fakes


def test_reused_fakes_step_is_d_then_g_on_one_forward_pass_by_hand():
    """D steps on G(z) (stopped), then G steps on the same G(z) against the updated D; z of update index 0."""
    reusing, reference, plain = _twins({"reuse_fakes": True}, {}, {})
    batch = tf.constant(_points(8))
    inputs = reference.discriminator_inputs(batch, 0, {}, training=True)
    with tf.GradientTape() as tape:
        d_loss, _ = reference.discriminator_loss(batch, inputs, training=True)
    for variable, gradient in zip(reference.discriminator_variables, tape.gradient(d_loss, reference.discriminator_variables)):
        variable.assign_sub(0.1 * gradient)
    with tf.GradientTape() as tape:
        g_loss, _ = reference.generator_loss(batch, {"z": inputs["z"]}, training=True)
    expected_generator = [v.numpy() - 0.1 * g.numpy()
                          for v, g in zip(reference.generator_variables, tape.gradient(g_loss, reference.generator_variables))]
    history = reusing.fit(batch, batch_size=8, epochs=1, verbose=0).history
    plain.fit(batch, batch_size=8, epochs=1, verbose=0)
    assert history["d_loss"][0] == pytest.approx(float(d_loss), rel=1e-5)
    for want, got in zip(_values(reference.discriminator.weights), _values(reusing.discriminator.weights)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    for want, got in zip(expected_generator, _values(reusing.generator_variables)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    # Algorithm 1 draws G's own z (update index 1), so the plain step moves G elsewhere.
    assert max(np.abs(a - b).max() for a, b in zip(_values(plain.generator_variables), expected_generator)) > 1e-5
    assert set(reusing.evaluate(batch, batch_size=8, verbose=0, return_dict=True)) >= {"d_loss", "g_loss"}


def test_reused_fakes_are_refused_where_they_do_not_apply():
    from kgan.networks import conditional_mlp_discriminator, conditional_mlp_generator

    def gan(**options):
        return kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, reuse_fakes=True, **options)

    with pytest.raises(ValueError, match="ConditionalGAN does not support reuse_fakes="):
        kgan.ConditionalGAN(conditional_mlp_generator(4, 3, 2, (16,)), conditional_mlp_discriminator(2, 3, (16,)), 4, 3, reuse_fakes=True)
    for options, message in (({"discriminator_steps": 2}, r"discriminator_steps \(got discriminator_steps=2"),
                             ({"updates": "simultaneous"}, r"updates \(got discriminator_steps=1, updates='simultaneous'"),
                             ({"unrolled_steps": 1}, "unrolled_steps"), ({"consensus": 1.0}, "consensus"),
                             ({"historical_averaging": 0.1}, "historical_averaging")):
        with pytest.raises(ValueError, match=f"does not combine with {message}"):
            gan(**options)
    with pytest.raises(ValueError, match="True or False"):
        kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, reuse_fakes="yes")


# ------------------------------------------------------------------ R1


@pytest.mark.parametrize("pack", [1, 2])
def test_the_r1_penalty_is_half_the_squared_input_gradient_of_d_on_real_data_by_hand(pack):
    """D(x) = w x + b: grad_x D = w at every real point, so R1 = w^2 / 2 and it adds gamma w to D's gradient in w.

    With packs of 2 (D(x1, x2) = w1 x1 + w2 x2 + b) each sample's gradient is its own w_i: R1 = (w1^2 + w2^2) / 4.
    """
    theta, w, b, gamma = -0.5, 0.8, 0.1, 3.0
    batch = tf.constant([[1.0], [1.5], [0.5], [2.0]])
    steps = {}
    kernel = np.array([w] if pack == 1 else [w, -0.3])
    for weight in (0.0, gamma):
        networks = dirac_gan_networks(theta, w, b)
        if pack > 1:  # D judges [x1, x2]: its slope in x1 is w, in x2 -0.3.
            x = keras.Input((pack,))
            layer = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(kernel[:, None]),
                                       bias_initializer=keras.initializers.Constant(b))
            networks["discriminator"] = keras.Model(x, layer(x))
        model = kgan.GAN(**networks, latent_dim=1, r1_penalty=weight, pack=pack)
        inputs = model.discriminator_inputs(batch, 0, {}, training=True)
        with tf.GradientTape() as tape:
            loss, extras = model.discriminator_loss(batch, inputs, training=True)
        steps[weight] = tape.gradient(loss, model.discriminator.layers[-1].kernel).numpy().ravel()
        if weight:
            expected = 0.5 * w**2 if pack == 1 else (w**2 + 0.3**2) / 4
            assert float(extras["r1_penalty"]) == pytest.approx(expected, rel=1e-5)
            assert "r1_penalty" in model.metric_names
        else:
            assert "r1_penalty" not in extras and "r1_penalty" not in model.metric_names
    np.testing.assert_allclose(steps[gamma] - steps[0.0], gamma * kernel / pack, rtol=1e-5)


def test_r1_is_checked_refused_where_it_does_not_apply_and_serialized():
    from kgan.networks import categorical_mlp_discriminator, conditional_mlp_discriminator, conditional_mlp_generator

    with pytest.raises(ValueError, match="r1_penalty"):
        kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, r1_penalty=-1.0)
    with pytest.raises(ValueError, match="CatGAN does not support r1_penalty="):
        kgan.CatGAN(mlp_generator(4, 2, (16,)), categorical_mlp_discriminator(2, 3, (16,)), 4, r1_penalty=1.0)
    # A conditional D's R1 is taken in x, with the real samples' own labels fed to D.
    conditional = kgan.ConditionalGAN(conditional_mlp_generator(4, 3, 2, (16,)), conditional_mlp_discriminator(2, 3, (16,)), 4, 3,
                                      r1_penalty=1.0)
    points, labels = tf.constant(_points(8)), tf.constant([0, 1, 2, 0, 1, 2, 0, 1])
    _, extras = conditional.discriminator_loss((points, labels), conditional.discriminator_inputs(points, 0, {}), training=True)
    with tf.GradientTape() as tape:
        tape.watch(points)
        scores = conditional.discriminator([points, labels], training=True)
    expected = 0.5 * np.mean(np.sum(tape.gradient(scores, points).numpy() ** 2, axis=1))
    assert float(extras["r1_penalty"]) == pytest.approx(expected, rel=1e-4)
    model = kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, r1_penalty=0.5)
    assert kgan.GAN.from_config(model.get_config()).r1_penalty == 0.5
    demo = configs.PRESETS["demo"]
    assert dataclasses.replace(demo, r1_penalty=10.0).model_options()["r1_penalty"] == 10.0
    assert any("--r1_penalty" in p for p in dataclasses.replace(demo, r1_penalty=-1.0).problems())


# ------------------------------------------------------------------ configs and flags


def test_configs_check_the_step_options_and_hide_those_their_model_lacks():
    from kgan.configs.info_gan import InfoGANConfig

    demo = configs.PRESETS["demo"]
    assert any("multiple of 3" in p for p in dataclasses.replace(demo, pack=3).problems())
    assert any("--discriminator_steps=1" in p for p in dataclasses.replace(demo, updates="simultaneous", discriminator_steps=2).problems())
    assert dataclasses.replace(demo, pack=2, unrolled_steps=3, updates="simultaneous").problems() == []
    networks = dataclasses.replace(demo, pack=2).build_networks((28, 28, 1))
    assert tuple(networks["discriminator"].inputs[0].shape[1:]) == (28, 28, 2)
    assert set(InfoGANConfig.flagless_fields()) == {"pack", "unrolled_steps", "unrolled_learning_rate", "updates", "reuse_fakes",
                                                    "r1_penalty"}
    assert any("--unrolled_steps does not apply" in p for p in InfoGANConfig(unrolled_steps=2).problems())
    assert configs.ConditionalGANConfig.flagless_fields() == ("pack", "reuse_fakes")
    assert any("--reuse_fakes (k = 1, alternating updates) does not combine with --discriminator_steps" in p
               for p in dataclasses.replace(demo, reuse_fakes=True, discriminator_steps=2).problems())
    assert dataclasses.replace(demo, reuse_fakes=True).problems() == []
    assert dataclasses.replace(demo, reuse_fakes=True).remedy_options()["reuse_fakes"] is True


def test_the_dirac_gan_networks_ignore_z_and_round_trip_through_keras_serialization():
    networks = dirac_gan_networks(theta=0.5, psi=-2.0, bias=0.25)
    np.testing.assert_array_equal(networks["generator"](tf.random.normal([3, 1])), [[0.5]] * 3)
    np.testing.assert_allclose(networks["discriminator"](tf.constant([[1.0], [2.0]])), [[-1.75], [-3.75]])
    clone = keras.models.model_from_json(networks["generator"].to_json())
    clone.set_weights(networks["generator"].get_weights())
    np.testing.assert_array_equal(clone(tf.zeros([2, 1])), [[0.5]] * 2)
    assert len(dirac_gan_networks()["discriminator"].trainable_variables) == 1  # No bias: D(x) = psi x.


def test_the_oscillation_figure_is_drawn_by_its_script(tmp_path):
    import subprocess
    import sys

    from tests.test_case import REPO

    out = tmp_path / "oscillation.png"
    result = subprocess.run([sys.executable, f"{REPO}/bench/oscillation.py", f"--out={out}", "--game_steps=20",
                             "--gradient_steps=2", "--seeds=0"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # 20 simultaneous steps of 0.1 on x y from (1, 1): radius sqrt(2) * 1.01^10.
    assert f"| x·y (Wasserstein loss) | {np.sqrt(2) * 1.01 ** 10:.3f} |" in result.stdout, result.stdout
