"""Shared builders for tests: tiny models that train in milliseconds, and a fresh-process runner."""

import os

import keras
import numpy as np

import kgan
from kgan.networks import dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator


def tiny_image_gan(image_shape=(28, 28, 1), latent_dim=8, base_filters=8, compile=True, **kwargs):
    """A DCGAN-shaped `kgan.GAN` small enough to step in milliseconds."""
    generator = dcgan_generator(latent_dim, image_shape, base_filters)
    discriminator = dcgan_discriminator(image_shape, base_filters)
    model = kgan.GAN(generator, discriminator, latent_dim, **kwargs)
    if compile:
        model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    return model


def points_gan(latent_dim=16, hidden=(64, 64), compile=True, **kwargs):
    """An MLP `kgan.GAN` for 2-D points."""
    model = kgan.GAN(mlp_generator(latent_dim, 2, hidden), mlp_discriminator(2, hidden), latent_dim, **kwargs)
    if compile:
        model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    return model


def random_images(n, shape=(28, 28, 1), seed=0):
    """Float32 images uniform in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype(np.float32)


def snapshot(variables):
    """Copies of the variables' values, in order (paths repeat across networks built alike)."""
    return [(v.path, np.array(v.numpy())) for v in variables]


def changed(before, variables):
    """Paths of the variables whose value differs from the snapshot taken of the same list."""
    variables = list(variables)
    if [path for path, _ in before] != [v.path for v in variables]:
        raise ValueError("changed() needs the same variable list the snapshot was taken of.")
    return {v.path for (_, value), v in zip(before, variables) if not np.array_equal(value, v.numpy())}


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_bench(name):
    """The module ``bench/<name>.py``, imported by name from ``bench/`` (once per process).

    Most benches define absl flags at import, and absl refuses a flag defined twice: loading a
    bench from its file a second time (``spec_from_file_location``) after another module has
    imported it by name fails. Importing by name shares one module object. It does not help
    when two modules define the same flag name (``bench/mixtures.py``'s ``--num_samples`` and
    ``train/evaluate.py``'s): a default-suite test must import only benches without such clashes.
    """
    import importlib
    import sys

    bench_dir = os.path.join(REPO, "bench")
    if bench_dir not in sys.path:
        sys.path.insert(0, bench_dir)
    return importlib.import_module(name)


# Opening of a `run_script` program that trains on two replicas: the CPU split into two
# logical devices (before TensorFlow initialises them, hence a fresh process).
TWO_LOGICAL_CPUS = r"""
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


def run_script(tmp_path, text, *args, in_repo=True, timeout=300):
    """Runs Python source ``text`` in a fresh process; returns its stdout's last line.

    ``in_repo``: run from the repository (kgan importable from the working
    tree); False runs from ``tmp_path``, where ``import kgan`` would only find
    an installed copy (the TF-only reload checks never import it). Fails the
    test with the child's stderr when it exits non-zero.
    """
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(text)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, str(script), *map(str, args)], cwd=REPO if in_repo else tmp_path, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


# ---------------------------------------------------------------------- the model contract harness
#
# Every registered model (kgan.registry) passes the same checks: a model's own
# test file then keeps only its math and learning tests. A model takes part
# with a `ContractCase` (`register_contract_case`) and one class:
#
#     class TestMyModelContract(ModelContract):
#         case = register_contract_case(ContractCase("my_model", make=..., batch=..., ...))
#
# tests/test_contract.py makes that class for every case defined here.

import dataclasses  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


@dataclasses.dataclass
class ContractCase:
    """A tiny instance of one registered model and the data it takes.

    Attributes:
      name: the model's `kgan.registry` name.
      make: ``() -> uncompiled model``, tiny, with no batch normalisation (two
        replicas must train like one device).
      batch: ``() -> one training batch`` (numpy; what ``fit`` takes as ``x``).
      bad_batch: ``() -> (batch, message regex)``: a batch ``fit`` must refuse.
      bad_values: ``() -> (batch, message regex)``: a batch of the right
        shapes and dtypes whose values the in-graph check must refuse.
      serving_inputs: ``{signature: {input: numpy array}}`` to call the export with.
      module: the module that defines the case (imported by fresh processes).
    """

    name: str
    make: object
    batch: object
    bad_batch: object
    serving_inputs: object
    bad_values: object = None
    module: str = "tests.test_case"


CONTRACT_CASES: dict = {}


def register_contract_case(case: ContractCase) -> ContractCase:
    """Adds ``case`` to `CONTRACT_CASES` (so tests/test_contract.py can check every registered model has one)."""
    CONTRACT_CASES[case.name] = case
    return case


def _points(n=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)


def _points_gan(model_class, **kwargs):
    return lambda: model_class(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, seed=1, **kwargs)


_Z = {"serving_default": {"z": np.random.default_rng(5).normal(size=(3, 4)).astype(np.float32)}}
_BAD_POINTS = (lambda: (np.zeros((8, 3), np.float32), "shape"))


def _nan_points():
    points = _points()
    points[5, 1] = np.nan
    return points, r"samples contain NaN or Inf values \(1 of 16\)"


for _name, _cls, _options in (("gan", kgan.GAN, {}), ("wgan", kgan.WGAN, {"discriminator_steps": 2}),
                              ("wgan_gp", kgan.WGANGP, {"discriminator_steps": 2})):
    register_contract_case(ContractCase(_name, _points_gan(_cls, **_options), _points, _BAD_POINTS, _Z, _nan_points))

# GAN's step options (not a registry name; the contract holds with them on): PacGAN packs of 2
# with a 2-step unrolled discriminator and R1 (simultaneous updates: tests/test_step_options.py).
register_contract_case(ContractCase(
    "gan_pacgan_unrolled", lambda: kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(4, (16,)), 4, seed=1, pack=2, unrolled_steps=2,
                                            r1_penalty=1.0),
    _points, _BAD_POINTS, _Z, _nan_points,
))
# One generator forward pass per step (reuse_fakes), with WGAN-GP's penalty on the reused samples.
register_contract_case(ContractCase(
    "wgan_gp_reuse_fakes", _points_gan(kgan.WGANGP, discriminator_steps=1, reuse_fakes=True), _points, _BAD_POINTS, _Z, _nan_points,
))


def _conditional_gan():
    from kgan.networks import conditional_mlp_discriminator, conditional_mlp_generator

    return kgan.ConditionalGAN(
        conditional_mlp_generator(4, 3, 2, (16,)), conditional_mlp_discriminator(2, 3, (16,), auxiliary_classifier=True), 4, 3, seed=1,
    )


register_contract_case(ContractCase(
    "conditional_gan", _conditional_gan, lambda: (_points(), np.arange(8, dtype=np.int32) % 3),
    lambda: ((_points(), np.arange(8, dtype=np.int32)), r"\[0, 3\)"),
    {"serving_default": {**_Z["serving_default"], "labels": np.array([0, 2, 1], np.int32)}},
    lambda: ((_points(), np.array([0, 1, 2, 0, 1, 3, 0, 1], np.int32)), r"labels must be integer class indices in \[0, 3\); got values in \[0, 3\]"),
))


def _info_gan():
    from kgan.models.info_gan import InfoGAN
    from kgan.networks.info_gan import info_mlp_discriminator

    # One categorical code of 3 values and one continuous code with a learned variance: every part of L_I.
    return InfoGAN(mlp_generator(4 + 3 + 1, 2, (16,)), info_mlp_discriminator(2, 3 + 2, (16,), 8), 4, (3,), 1,
                   learn_continuous_variance=True, seed=1)


_INFO_CODES = {"categorical": np.array([[0], [2], [1]], np.int32), "continuous": np.array([[-0.5], [0.0], [1.5]], np.float32)}
register_contract_case(ContractCase(
    "info_gan", _info_gan, _points, _BAD_POINTS,
    {"serving_default": {**_Z["serving_default"], **_INFO_CODES}, "sample": {**_INFO_CODES, "seed": np.array(3, np.int64)},
     "sample_prior": {"num_images": np.array(3, np.int32), "seed": np.array(3, np.int64)}},
    _nan_points,
))


def _cat_gan():
    from kgan.models.cat_gan import CatGAN
    from kgan.networks.categorical import categorical_mlp_discriminator

    return CatGAN(mlp_generator(4, 2, (16,)), categorical_mlp_discriminator(2, 3, (16,)), 4, seed=1)


# Semi-supervised: -1 = unlabelled. Rows 0-3 hold three labels, rows 4-7 one, so two replicas
# match one device only if the cross-entropy is normalised by the labels of both.
_CAT_LABELS = np.array([0, 2, -1, 1, -1, -1, -1, 0], np.int32)
register_contract_case(ContractCase(
    "cat_gan", _cat_gan, lambda: (_points(), _CAT_LABELS),
    lambda: ((_points(), np.where(_CAT_LABELS < 0, 3, _CAT_LABELS)), r"-1 \(unlabelled\) or class indices in \[0, 3\)"),
    {"serving_default": _Z["serving_default"], "classify": {"points": _points(3, seed=4)}},
    lambda: ((_points(), np.where(_CAT_LABELS < 0, -2, _CAT_LABELS)),
             r"labels must be -1 \(unlabelled\) or class indices in \[0, 3\); got values in \[-2, 2\]"),
))

def _bigan():
    from kgan.networks.bigan import joint_mlp_discriminator, mlp_encoder

    # ALI's Gaussian encoder: its epsilon is one more noise draw the replicas must share out like z.
    return kgan.BiGAN(mlp_generator(4, 2, (16,)), mlp_encoder(2, 4, (16,), gaussian=True), joint_mlp_discriminator(2, 4, (16,)), 4,
                      encoder_type="gaussian", seed=1)


register_contract_case(ContractCase(
    "bigan", _bigan, _points, _BAD_POINTS,
    {**_Z, "encode": {"points": _points(3, seed=4)}, "reconstruct": {"points": _points(3, seed=4)}},
    _nan_points,
))

def _aae():
    from kgan.networks.bigan import mlp_encoder

    # The clustering variant (Sec. 6): four networks, the category discriminator too.
    return kgan.AdversarialAutoencoder(
        mlp_encoder(2, 3 + 2, (16,)), mlp_generator(3 + 2, 2, (16,), name="decoder"), mlp_discriminator(2, (16,)), 2,
        category_discriminator=mlp_discriminator(3, (16,), name="category_discriminator"), num_clusters=3, seed=1,
    )


register_contract_case(ContractCase(
    "aae", _aae, _points, _BAD_POINTS,
    {"serving_default": {"codes": np.random.default_rng(5).normal(size=(3, 5)).astype(np.float32)},
     "sample": {"num_images": np.array(3, np.int32), "seed": np.array(3, np.int64)},
     "encode": {"points": _points(3, seed=4)}, "reconstruct": {"points": _points(3, seed=4)}},
    _nan_points,
))

def _lapgan():
    from kgan.networks import lapgan

    # Two levels (4x4, then the 8x8 residual): a network pair per level, each its own two groups.
    return kgan.LapGAN(
        [lapgan.coarse_generator(3, (4, 4, 1), (16,)), lapgan.residual_generator((8, 8, 1), 2, 4, name="generator_1")],
        [lapgan.coarse_discriminator((4, 4, 1), (16,)), lapgan.residual_discriminator((8, 8, 1), 4, name="discriminator_1")],
        seed=1,
    )


def _nan_images():
    images = random_images(8, (8, 8, 1))
    images[5, 2, 3, 0] = np.nan
    return images, r"images contain NaN or Inf values \(1 of 512\)"


register_contract_case(ContractCase(
    "lapgan", _lapgan, lambda: random_images(8, (8, 8, 1)), lambda: (random_images(8, (8, 8, 3)), "channel"),
    {"serving_default": {"z": np.random.default_rng(5).normal(size=(3, 5)).astype(np.float32)},
     "sample": {"num_images": np.array(3, np.int32), "seed": np.array(3, np.int64)},
     "level_0": {"num_images": np.array(3, np.int32), "seed": np.array(3, np.int64)}},
    _nan_images,
))

def _gran():
    from kgan.networks import dcgan_discriminator
    from kgan.networks.gran import gran_generator

    # Two canvas steps share the encoder and decoder; no batch norm (two replicas must match one device).
    return kgan.GRAN(gran_generator(4, (8, 8, 1), 2, 8, 4, normalization=False), dcgan_discriminator((8, 8, 1), 4, "none"), 4, seed=1)


register_contract_case(ContractCase(
    "gran", _gran, lambda: random_images(8, (8, 8, 1)), lambda: (random_images(8, (8, 8, 3)), "channel"),
    {"serving_default": {"z": np.random.default_rng(5).normal(size=(3, 4)).astype(np.float32)},
     "canvases": {"num_images": np.array(3, np.int32), "seed": np.array(3, np.int64)}},
    _nan_images,
))

_TRANSLATION_SHAPE = (8, 8, 1)
# One stride-2 layer down and up (the papers have two): both layer kinds are still traced, and
# XLA compiles the case in less than half the time (the CycleGAN step: 32 s against 78 s on a
# loaded core); the layer plans themselves are tests/test_resnet_generator.py's.
_TRANSLATION_GENERATOR = dict(base_filters=4, num_residual_blocks=1, num_downsampling=1)


def _cycle_gan():
    from kgan.networks import patch_discriminator, resnet_generator

    shape = _TRANSLATION_SHAPE
    return kgan.CycleGAN(
        resnet_generator(shape, **_TRANSLATION_GENERATOR, name="g_xy"),
        resnet_generator(shape, **_TRANSLATION_GENERATOR, name="g_yx"),
        patch_discriminator(shape, 4, 1, name="d_x"), patch_discriminator(shape, 4, 1, name="d_y"), pool_size=2, seed=1,
    )


register_contract_case(ContractCase(
    "cycle_gan", _cycle_gan, lambda: (random_images(4, _TRANSLATION_SHAPE), random_images(4, _TRANSLATION_SHAPE, 1)),
    lambda: (random_images(4, _TRANSLATION_SHAPE), "unpaired batches"),
    {"serving_default": {"images": random_images(3, _TRANSLATION_SHAPE, 2)}},
    lambda: ((random_images(4, _TRANSLATION_SHAPE), (random_images(4, _TRANSLATION_SHAPE, 1) + 1) * 127.5),
             r"images_y must be in \[-1, 1\].*They look like \[0, 255\] pixels"),
))


def _star_gan():
    from kgan.networks import multi_task_patch_discriminator, resnet_generator

    shape = _TRANSLATION_SHAPE
    return kgan.StarGAN(
        resnet_generator(shape, condition_dim=2, **_TRANSLATION_GENERATOR, padding="zero", sampling_kernel_size=4),
        multi_task_patch_discriminator(shape, 2, 4, 1), 2, discriminator_steps=2, seed=1,
    )


register_contract_case(ContractCase(
    "star_gan", _star_gan, lambda: (random_images(4, _TRANSLATION_SHAPE), np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]),
    lambda: ((random_images(4, _TRANSLATION_SHAPE), np.full((4, 2), 0.5, np.float32)), "0/1"),
    {"serving_default": {"images": random_images(3, _TRANSLATION_SHAPE, 2), "target_attributes": np.eye(2, dtype=np.float32)[[1, 0, 1]]}},
    lambda: ((random_images(4, _TRANSLATION_SHAPE), np.full((4, 2), 0.5, np.float32)), "attributes must be 0/1"),
))

# Two datasets' label sets in one unified vector (sec. 3.2): 2 attributes, 2 exclusive domains, the mask.
_STAR_GAN_GROUPS = ((2, "multi_label"), (2, "single_label"))


def _star_gan_label_groups():
    from kgan.networks import multi_task_patch_discriminator, resnet_generator

    shape = _TRANSLATION_SHAPE
    return kgan.StarGAN(
        resnet_generator(shape, condition_dim=6, **_TRANSLATION_GENERATOR, padding="zero", sampling_kernel_size=4),
        multi_task_patch_discriminator(shape, 4, 4, 1), 6, label_groups=_STAR_GAN_GROUPS, discriminator_steps=2, seed=1,
    )


def _unified_labels():
    from kgan.label_groups import unify_labels

    # Minibatch 0 (rows 0-3) holds group 0 three times, minibatch 1 group 1 three times: split over two
    # replicas, each group's mean matches one device's only if normalised by the global minibatch's count.
    attributes = unify_labels(np.array([[1, 0], [0, 1], [1, 1], [0, 0]]), 0, _STAR_GAN_GROUPS)
    domains = unify_labels(np.eye(2)[[1, 0, 0, 1]], 1, _STAR_GAN_GROUPS)
    return np.concatenate([attributes[:3], domains[:1], domains[1:2], attributes[3:], domains[2:]])


register_contract_case(ContractCase(
    "star_gan_label_groups", _star_gan_label_groups, lambda: (random_images(8, _TRANSLATION_SHAPE), _unified_labels()),
    lambda: ((random_images(8, _TRANSLATION_SHAPE), _unified_labels()[:, [0, 1, 2, 3, 4, 4]]), r"the mask .* must be one-hot"),
    {"serving_default": {"images": random_images(3, _TRANSLATION_SHAPE, 2), "target_attributes": _unified_labels()[[0, 3, 5]]}},
    lambda: ((random_images(8, _TRANSLATION_SHAPE), np.full((8, 6), 0.5, np.float32)), "attributes must be 0/1"),
))



def _pix2pix():
    from kgan.networks import conditional_patch_discriminator, unet_generator

    # No batch norm and no dropout: two replicas must train like one device, and Keras' dropout
    # masks come from its own seed generators, not kgan's noise bands (kgan/models/pix2pix.py).
    shape = _TRANSLATION_SHAPE
    return kgan.Pix2Pix(
        unet_generator(shape, base_filters=4, dropout=0.0, normalization="none"),
        conditional_patch_discriminator(shape, shape, 4, 1, normalization="none"), seed=1,
    )


register_contract_case(ContractCase(
    "pix2pix", _pix2pix, lambda: (random_images(4, _TRANSLATION_SHAPE), random_images(4, _TRANSLATION_SHAPE, 1)),
    lambda: (random_images(4, _TRANSLATION_SHAPE), "paired batches"),
    {"serving_default": {"images": random_images(3, _TRANSLATION_SHAPE, 2)},
     "translate_uint8": {"images": ((random_images(3, _TRANSLATION_SHAPE, 3) + 1) * 127.5).astype(np.uint8)}},
    lambda: ((random_images(4, _TRANSLATION_SHAPE), (random_images(4, _TRANSLATION_SHAPE, 1) + 1) * 127.5),
             r"targets must be in \[-1, 1\].*They look like \[0, 255\] pixels"),
))

def _compiled(case, optimizer=lambda: keras.optimizers.Adam(1e-3), jit_compile=False, seed=0):
    keras.utils.set_random_seed(seed)
    model = case.make()
    model.compile(optimizers={g: optimizer() for g in model.groups}, jit_compile=jit_compile)
    return model


def _one_batch_dataset(case):
    return tf.data.Dataset.from_tensors(case.batch())


def _values(variables):
    return [np.array(v.numpy()) for v in variables]


_FRESH_PROCESS_CHECK = TWO_LOGICAL_CPUS + r"""
import contextlib, importlib, json, sys
import numpy as np
repo, module, name, export_path, arrays_path = sys.argv[1:6]
# The export, reloaded by TensorFlow alone: serving needs none of kgan's code.
loaded = tf.saved_model.load(export_path)
arrays = np.load(arrays_path)
export_error = 0.0
for key in arrays.files:
    if key.startswith("expected/"):
        _, signature, output = key.split("/")
        inputs = {k.split("/")[2]: tf.constant(arrays[k]) for k in arrays.files if k.startswith(f"inputs/{signature}/")}
        value = loaded.signatures[signature](**inputs)[output]
        if value.dtype.is_floating:
            export_error = max(export_error, float(np.abs(value.numpy() - arrays[key]).max()))
kgan_free = "kgan" not in sys.modules
# Two train steps on two replicas against one device, from the same weights: the
# second step sees what the first left (image pools, averages, counters).
sys.path.insert(0, repo)
import keras
from tests.test_case import CONTRACT_CASES
importlib.import_module(module)
case = CONTRACT_CASES[name]
def trained(strategy=None):
    keras.utils.set_random_seed(0)
    with (strategy.scope() if strategy else contextlib.nullcontext()):
        model = case.make()
        # SGD(0.01): two steps of 0.05 make the tiny StarGAN's critic explode (1e24 on both sides).
        model.compile(optimizers={g: keras.optimizers.SGD(0.01) for g in model.groups})
    batch = case.batch()
    global_batch = len(tf.nest.flatten(batch)[0])
    model.fit(tf.data.Dataset.from_tensor_slices(batch).batch(global_batch).repeat(2), verbose=0)
    return model
single = trained()
mirrored = trained(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
assert [w.path for w in single.weights] == [w.path for w in mirrored.weights]
replica_error = max(float(np.abs(np.asarray(a.numpy(), np.float64) - np.asarray(b.numpy(), np.float64)).max())
                    for a, b in zip(single.weights, mirrored.weights))
print(json.dumps({"export": export_error, "kgan_free": kgan_free, "replicas": replica_error,
                  "steps": [int(single.train_steps.numpy()), int(mirrored.train_steps.numpy())]}))
"""


class ModelContract:
    """The checks every registered model passes; subclass it with ``case = <ContractCase>``."""

    case: ContractCase

    def test_each_phase_moves_only_its_own_groups(self):
        model = _compiled(self.case, lambda: keras.optimizers.SGD(0.1))
        minibatches = model.split_minibatches(model.prepare_batch(tf.nest.map_structure(tf.constant, self.case.batch())))
        state = {}
        for index, phase in enumerate(model.phases()):
            before = {g: snapshot(model.group_variables(g)) for g in model.groups}
            _, extras = model.update(phase, minibatches[-1], index, state)
            state.update(extras)
            for group in model.groups:
                moved = changed(before[group], model.group_variables(group))
                if group in phase.groups:
                    assert moved, f"phase {phase.name!r} did not move {group}"
                else:
                    assert not moved, f"phase {phase.name!r} moved {group}: {sorted(moved)[:3]}"

    def test_groups_partition_the_weights_and_optimizers_hold_slots_for_their_own_only(self):
        model = _compiled(self.case)
        ids = [id(v) for g in model.groups for v in model.group_variables(g)]
        assert len(ids) == len(set(ids)), "a variable belongs to two optimizer groups"
        assert set(ids) == {id(v) for v in model.trainable_variables}, "some trainable variable has no optimizer group"
        for group, optimizer in model.group_optimizers.items():
            variables = model.group_variables(group)
            assert [tuple(m.shape) for m in optimizer._momentums] == [tuple(v.shape) for v in variables], group
            assert len(optimizer.variables) == 2 * len(variables) + 2, group  # Adam: 2 slots, iterations, rate.

    def test_get_config_round_trips_whole(self):
        model = self.case.make()
        config = model.get_config()
        parameters = set(inspect.signature(type(model).__init__).parameters) - {"self", "kwargs"}
        assert parameters <= set(config), f"get_config misses {sorted(parameters - set(config))}"
        clone = type(model).from_config(json.loads(json.dumps(config)))
        assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)

    def test_keras_file_round_trip_resumes_with_every_optimizer_state(self, tmp_path):
        model = _compiled(self.case)
        data = _one_batch_dataset(self.case)
        model.fit(data, verbose=0)
        model.save(tmp_path / "model.keras")
        loaded = keras.models.load_model(tmp_path / "model.keras")
        assert set(loaded.group_optimizers) == set(model.groups)
        for group, optimizer in model.group_optimizers.items():
            for a, b in zip(_values(optimizer.variables), _values(loaded.group_optimizers[group].variables)):
                np.testing.assert_array_equal(a, b)
        for a, b in zip(_values(model.weights), _values(loaded.weights)):
            np.testing.assert_array_equal(a, b)
        model.fit(data, verbose=0)
        loaded.fit(data, verbose=0)
        for a, b in zip(_values(model.trainable_weights), _values(loaded.trainable_weights)):
            np.testing.assert_allclose(a, b, atol=1e-6)

    def test_export_reloads_in_a_fresh_process_and_two_replicas_train_like_one_device(self, tmp_path):
        from kgan import export

        model = _compiled(self.case)
        model.fit(_one_batch_dataset(self.case), verbose=0)
        path = export.export_saved_model(model, tmp_path / "exports", name="contract")
        endpoints = model.serving_endpoints()
        arrays = {}
        for signature, inputs in self.case.serving_inputs.items():
            arrays.update({f"inputs/{signature}/{k}": v for k, v in inputs.items()})
            for key, value in endpoints[signature](**{k: tf.constant(v) for k, v in inputs.items()}).items():
                arrays[f"expected/{signature}/{key}"] = value.numpy()
        np.savez(tmp_path / "arrays.npz", **arrays)
        result = json.loads(run_script(tmp_path, _FRESH_PROCESS_CHECK, REPO, self.case.module, self.case.name, path, tmp_path / "arrays.npz",
                                       in_repo=False))
        assert result["export"] < 1e-5 and result["kgan_free"], result
        assert result["steps"] == [2, 2], result
        # Float32 rounding of per-replica vs whole-batch reductions only (<= 6.7e-6
        # measured over every weight, pools included, after two steps); a replica
        # seeing the other's noise or pool draws, or an unscaled loss, gives >= 1e-3.
        assert result["replicas"] < 1e-4, result

    def test_xla_step_matches_the_plain_step(self):
        updates = []
        for jit_compile in (False, True):
            model = _compiled(self.case, lambda: keras.optimizers.SGD(0.1), jit_compile=jit_compile)
            initial = _values(model.trainable_weights)
            model.fit(_one_batch_dataset(self.case), verbose=0)
            assert model.xla_gradients == jit_compile
            updates.append([after - before for after, before in zip(_values(model.trainable_weights), initial)])
        # XLA reorders float32 arithmetic: the updates (SGD: the gradients) agree to
        # rounding, relative to each variable's largest update (a critic's unclipped
        # first step can be ~1e2); a missing or doubled term differs by O(1).
        for plain, xla in zip(*updates):
            assert np.abs(plain - xla).max() <= 1e-3 * np.abs(plain).max() + 1e-6

    def test_float16_overflow_in_the_last_update_leaves_every_network_unchanged(self):
        keras.mixed_precision.set_global_policy("mixed_float16")
        try:
            model = _compiled(self.case)
            data = _one_batch_dataset(self.case)
            model.fit(data, verbose=0)
            counters = ("train_steps", "overflow_step")
            state = [np.array(v.numpy()) for v in model.variables if v.path not in counters]  # Pools and averages too.
            last_group = model.phases()[-1].groups[-1]
            optimizers = model.group_optimizers
            for group, optimizer in optimizers.items():  # Only the step's last update overflows.
                optimizer.dynamic_scale.assign(1e38 if group == last_group else 1.0)
            slots = {g: _values(o.inner_optimizer.variables) for g, o in optimizers.items()}
            model.fit(data, verbose=0)
            for a, b in zip(state, [v.numpy() for v in model.variables if v.path not in counters]):
                np.testing.assert_array_equal(a, b)
            for group, optimizer in optimizers.items():  # Every update of the step was undone, slots included.
                for a, b in zip(slots[group], _values(optimizer.inner_optimizer.variables)):
                    np.testing.assert_array_equal(a, b)
                # The earlier updates had gone through (their scales held); the overflowing one's halved.
                assert float(optimizer.dynamic_scale.numpy()) == (pytest.approx(5e37, rel=1e-3) if group == last_group else 1.0)
            assert int(model.train_steps.numpy()) == 2 and int(model.overflow_step.numpy()) == 1
            optimizers[last_group].dynamic_scale.assign(1024.0)
            model.fit(data, verbose=0)
            assert not all(np.array_equal(a, b.numpy()) for a, b in zip(state, [v for v in model.variables if v.path not in counters]))
        finally:
            keras.mixed_precision.set_global_policy("float32")

    def test_bad_values_in_a_later_batch_stop_fit_before_that_step_updates_anything(self):
        from kgan.data.graph_checks import BadBatchError

        bad, message = self.case.bad_values()
        good = tf.data.Dataset.from_tensors(self.case.batch())
        reference = _compiled(self.case)
        reference.fit(good, verbose=0)
        model = _compiled(self.case)
        with pytest.raises(BadBatchError, match=r"The batch of train step 1 \(0 = the first step\): " + message):
            model.fit(good.concatenate(tf.data.Dataset.from_tensors(bad)), verbose=0)
        assert int(model.train_steps.numpy()) == 1
        for a, b in zip(_values(reference.variables), _values(model.variables)):
            np.testing.assert_array_equal(a, b)  # The bad batch's step changed nothing.
        with pytest.raises(BadBatchError, match=r"The batch of evaluation step 1 .*" + message):
            model.evaluate(good.concatenate(tf.data.Dataset.from_tensors(bad)), verbose=0)

    def test_a_bad_batch_is_refused_with_a_message(self):
        model = _compiled(self.case)
        batch, message = self.case.bad_batch()
        with pytest.raises(ValueError, match=message):
            model.fit(tf.data.Dataset.from_tensors(batch), verbose=0)
