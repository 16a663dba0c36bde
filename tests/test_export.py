"""`kgan.export`: TF Serving layout, overwrite/crash safety, and reloads in a process without kgan.

The reload checks run one subprocess (TF only, no kgan on its path) that loads
both exports, records their signatures and runs them; the tests compare its
results with the in-process model.
"""

import json
import errno
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import export, networks, serving

LATENT_DIM = 8
IMAGE_SHAPE = (28, 28, 1)


def _randomize_generator(model, seed):
    """Gives the generator random weights (BN moving variances positive).

    Freshly initialised weights (zero biases, unit BN statistics) would let a
    reload that lost the saved values pass by accident.
    """
    rng = np.random.RandomState(seed)
    for variable in model.generator.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.path:
            value = rng.uniform(0.5, 2.0, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        variable.assign(value.astype(variable.dtype))


@pytest.fixture(scope="module")
def image_model():
    generator = networks.dcgan_generator(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, base_filters=8)
    discriminator = networks.dcgan_discriminator(image_shape=IMAGE_SHAPE, base_filters=8)
    model = kgan.GAN(generator, discriminator, latent_dim=LATENT_DIM)
    _randomize_generator(model, seed=1)
    return model


@pytest.fixture(scope="module")
def points_model():
    generator = networks.mlp_generator(latent_dim=LATENT_DIM, output_dim=2, hidden_units=(16, 16))
    discriminator = networks.mlp_discriminator(input_dim=2, hidden_units=(16, 16))
    model = kgan.GAN(generator, discriminator, latent_dim=LATENT_DIM, name="points_gan")
    _randomize_generator(model, seed=2)
    return model


def _entries(directory):
    return sorted(os.listdir(directory))


# ---------------------------------------------------------------------- layout and versions


def test_export_writes_numbered_versions(tmp_path, image_model):
    first = export.export_saved_model(image_model, tmp_path)
    model_dir = tmp_path / image_model.name  # name defaults to model.name
    assert first == str(model_dir / "1")
    assert (model_dir / "1" / "saved_model.pb").is_file()
    assert (model_dir / "1" / "variables").is_dir()

    second = export.export_saved_model(image_model, tmp_path)
    assert second == str(model_dir / "2")
    assert (model_dir / "2" / "saved_model.pb").is_file()
    # No temporary directories left behind.
    assert _entries(model_dir) == ["1", "2"]
    assert export.list_versions(model_dir) == [1, 2]
    assert export.latest_version(model_dir) == 2


def test_explicit_version_is_refused_unless_overwrite(tmp_path, image_model):
    path = export.export_saved_model(image_model, tmp_path, name="g", version=3)
    assert path == str(tmp_path / "g" / "3")
    marker = tmp_path / "g" / "3" / "marker"
    marker.write_text("old export")

    with pytest.raises(FileExistsError, match="overwrite=True") as info:
        export.export_saved_model(image_model, tmp_path, name="g", version=3)
    assert path in str(info.value)
    assert marker.exists()  # untouched

    assert export.export_saved_model(image_model, tmp_path, name="g", version=3, overwrite=True) == path
    assert not marker.exists()  # replaced by a fresh export
    assert (tmp_path / "g" / "3" / "saved_model.pb").is_file()
    assert _entries(tmp_path / "g") == ["3"]
    # The next automatic version follows the largest one, not the count.
    assert export.export_saved_model(image_model, tmp_path, name="g") == str(tmp_path / "g" / "4")


def test_version_listing_reads_names_as_tf_serving_does(tmp_path):
    model_dir = tmp_path / "m"
    assert export.list_versions(model_dir) == [] and export.latest_version(model_dir) is None
    for entry in ["2", "007", "notes", ".tmp-export-abc", "1.5"]:
        (model_dir / entry).mkdir(parents=True)
    (model_dir / "9").write_text("a file is not a version")
    assert export.list_versions(model_dir) == [2, 7]
    assert export.latest_version(model_dir) == 7


def test_version_written_with_leading_zeros_counts_as_existing(tmp_path, points_model):
    (tmp_path / "p" / "01").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="01"):
        export.export_saved_model(points_model, tmp_path, name="p", version=1)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"version": 0}, ValueError),
        ({"version": -2}, ValueError),
        ({"version": True}, TypeError),
        ({"version": "2"}, TypeError),
        ({"version": 1.0}, TypeError),
        ({"name": "a/b"}, ValueError),
        ({"name": ".."}, ValueError),
        ({"name": ""}, ValueError),
        # models.config is line-based text: a control character in one name breaks the file for every model.
        ({"name": "bad\nname"}, ValueError),
        ({"name": "tab\tname"}, ValueError),
        ({"name": "nul\x00"}, ValueError),
        ({"name": "line\u2028separator"}, ValueError),
        # Hidden directories are never listed in models.config (nor served).
        ({"name": ".hidden"}, ValueError),
    ],
)
def test_invalid_arguments_fail_before_writing(tmp_path, points_model, kwargs, error):
    with pytest.raises(error):
        export.export_saved_model(points_model, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_models_without_serving_endpoints_are_refused(tmp_path):
    import keras

    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match="serving_endpoints"):
        export.export_saved_model(plain, tmp_path)


def test_a_crash_while_writing_leaves_no_version(tmp_path, image_model, monkeypatch):
    existing = export.export_saved_model(image_model, tmp_path, name="g")
    before = sorted(os.listdir(existing))

    def crash(obj, export_dir, *args, **kwargs):
        with open(os.path.join(export_dir, "saved_model.pb"), "wb") as f:
            f.write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_saved_model(image_model, tmp_path, name="g")
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_saved_model(image_model, tmp_path, name="g", version=1, overwrite=True)
    # Neither a version 2 nor a temporary directory; version 1 intact.
    assert _entries(tmp_path / "g") == ["1"]
    assert sorted(os.listdir(existing)) == before


def test_a_version_published_concurrently_is_not_clobbered(tmp_path, points_model, monkeypatch):
    save = tf.saved_model.save
    model_dir = tmp_path / "p"
    rival_version = {}

    def save_while_another_exporter_publishes(obj, export_dir, *args, **kwargs):
        save(obj, export_dir, *args, **kwargs)
        # After the existence check, before the rename.
        rival = model_dir / rival_version["value"]
        rival.mkdir()
        (rival / "saved_model.pb").write_text("the other exporter's model")

    monkeypatch.setattr(tf.saved_model, "save", save_while_another_exporter_publishes)
    # Automatic version: takes the next free one.
    rival_version["value"] = "1"
    assert export.export_saved_model(points_model, tmp_path, name="p") == str(model_dir / "2")
    assert (model_dir / "1" / "saved_model.pb").read_text() == "the other exporter's model"
    # Explicit version: refuses.
    rival_version["value"] = "4"
    with pytest.raises(FileExistsError, match="another process"):
        export.export_saved_model(points_model, tmp_path, name="p", version=4)
    assert (model_dir / "4" / "saved_model.pb").read_text() == "the other exporter's model"
    assert _entries(model_dir) == ["1", "2", "4"]


# ---------------------------------------------------------------------- reload without kgan

# Runs in a fresh interpreter with TensorFlow only. Argument: a JSON request
# {key: {"path": export dir, "z": .npy path}}; writes report.json and outputs.npz
# next to the request.
RELOAD_SCRIPT = r'''
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2


def spec(s):
    return {"name": s.name, "dtype": s.dtype.name, "shape": s.shape.as_list() if s.shape.rank is not None else None}


request_path = sys.argv[1]
with open(request_path) as f:
    request = json.load(f)
report, arrays = {}, {}
for key, job in request.items():
    loaded = tf.saved_model.load(job["path"])
    signatures = {}
    for name, fn in loaded.signatures.items():
        args, kwargs = fn.structured_input_signature
        signatures[name] = {
            "positional": len(args),
            "inputs": {k: spec(v) for k, v in kwargs.items()},
            "outputs": {k: spec(v) for k, v in fn.structured_outputs.items()},
        }
    # What TF Serving reads: the SignatureDefs of the MetaGraph.
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(job["path"], "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    signature_defs = {
        name: {"inputs": sorted(d.inputs), "outputs": sorted(d.outputs), "method": d.method_name}
        for name, d in proto.meta_graphs[0].signature_def.items()
        if not name.startswith("__")
    }
    report[key] = {"signatures": signatures, "signature_defs": signature_defs}

    z = np.load(job["z"])
    for k, v in loaded.signatures["serving_default"](z=tf.constant(z)).items():
        arrays[f"{key}/serving_default/{k}"] = v.numpy().astype(bytes) if v.dtype == tf.string else v.numpy()
    sample = loaded.signatures["sample"](num_images=tf.constant(4, tf.int32), seed=tf.constant(7, tf.int64))
    for k, v in sample.items():
        arrays[f"{key}/sample/{k}"] = v.numpy().astype(bytes) if v.dtype == tf.string else v.numpy()

assert "kgan" not in sys.modules, "the reload must not need kgan"
report["modules_named_kgan"] = sorted(m for m in sys.modules if m.split(".")[0] == "kgan")
out_dir = os.path.dirname(request_path)
np.savez(os.path.join(out_dir, "outputs.npz"), **arrays)
with open(os.path.join(out_dir, "report.json"), "w") as f:
    json.dump(report, f)
'''


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory, image_model, points_model):
    """Exports both models, reloads them in a TF-only subprocess, returns what it saw.

    Returns ``(report, outputs, zs)``: the subprocess's JSON report, its
    outputs keyed ``"<model>/<signature>/<output>"`` and the z batches used.
    """
    work = tmp_path_factory.mktemp("reload")
    request, zs = {}, {}
    for key, model in [("image", image_model), ("points", points_model)]:
        zs[key] = np.random.RandomState(3).normal(size=(5, LATENT_DIM)).astype(np.float32)
        np.save(work / f"z_{key}.npy", zs[key])
        request[key] = {"path": export.export_saved_model(model, work / "exports"), "z": str(work / f"z_{key}.npy")}
    (work / "request.json").write_text(json.dumps(request))
    (work / "reload.py").write_text(RELOAD_SCRIPT)

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # kgan must not be importable via the test's path either
    result = subprocess.run(
        [sys.executable, str(work / "reload.py"), str(work / "request.json")],
        cwd=work,  # not the repository: `import kgan` would fail there
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads((work / "report.json").read_text())
    with np.load(work / "outputs.npz") as data:
        outputs = {k: data[k] for k in data.files}
    return report, outputs, zs


def test_reload_does_not_import_kgan(reloaded):
    report, _, _ = reloaded
    assert report["modules_named_kgan"] == []


def test_reloaded_serving_default_matches_the_model(reloaded, image_model):
    _, outputs, zs = reloaded
    expected = serving.generator_outputs(image_model(zs["image"]))
    got = outputs["image/serving_default/images"]
    assert got.dtype == np.float32 and got.shape == (5,) + IMAGE_SHAPE
    np.testing.assert_allclose(got, expected["images"].numpy(), rtol=0, atol=1e-6)
    # Random weights: the images really vary (a lost restore would not match).
    assert got.std() > 0.05
    np.testing.assert_array_equal(outputs["image/serving_default/images_uint8"], expected["images_uint8"].numpy())


def test_reloaded_sample_matches_generate(reloaded, image_model):
    _, outputs, _ = reloaded
    expected = serving.generator_outputs(image_model.generate(4, seed=7))
    np.testing.assert_allclose(outputs["image/sample/images"], expected["images"].numpy(), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(outputs["image/sample/images_uint8"], expected["images_uint8"].numpy())


def test_reloaded_points_model_matches(reloaded, points_model):
    _, outputs, zs = reloaded
    assert sorted(k for k in outputs if k.startswith("points/")) == [
        "points/sample/samples",
        "points/serving_default/samples",
    ]
    np.testing.assert_allclose(
        outputs["points/serving_default/samples"], points_model(zs["points"]).numpy(), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        outputs["points/sample/samples"], points_model.generate(4, seed=7).numpy(), rtol=0, atol=1e-6
    )


def _spec(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": shape}


def test_image_signatures_have_named_typed_inputs_and_outputs(reloaded):
    report, _, _ = reloaded
    signatures = report["image"]["signatures"]
    assert sorted(signatures) == ["sample", "serving_default"]
    image_outputs = {
        "images": _spec("images", "float32", [None, *IMAGE_SHAPE]),
        "images_uint8": _spec("images_uint8", "uint8", [None, *IMAGE_SHAPE]),
        "images_png_bytes": _spec("images_png_bytes", "string", [None]),
    }
    assert signatures["serving_default"] == {
        "positional": 0,
        "inputs": {"z": _spec("z", "float32", [None, None])},
        "outputs": image_outputs,
    }
    assert signatures["sample"] == {
        "positional": 0,
        "inputs": {"num_images": _spec("num_images", "int32", []), "seed": _spec("seed", "int64", [])},
        "outputs": image_outputs,
    }


def test_points_signatures(reloaded):
    report, _, _ = reloaded
    signatures = report["points"]["signatures"]
    samples = {"samples": _spec("samples", "float32", [None, 2])}
    assert signatures["serving_default"]["inputs"] == {"z": _spec("z", "float32", [None, None])}
    assert signatures["serving_default"]["outputs"] == samples
    assert signatures["sample"]["outputs"] == samples


def test_signature_defs_seen_by_tf_serving(reloaded):
    report, _, _ = reloaded
    defs = report["image"]["signature_defs"]
    assert defs["serving_default"]["inputs"] == ["z"]
    assert defs["sample"]["inputs"] == ["num_images", "seed"]
    for name in ("serving_default", "sample"):
        assert defs[name]["outputs"] == ["images", "images_png_bytes", "images_uint8"]
        assert defs[name]["method"] == "tensorflow/serving/predict"


# ---------------------------------------------------------------------- refusals before writing


def test_non_finite_weights_are_refused_before_writing(tmp_path):
    model = kgan.GAN(
        networks.mlp_generator(latent_dim=LATENT_DIM, output_dim=2, hidden_units=(4,)),
        networks.mlp_discriminator(input_dim=2, hidden_units=(4,)), latent_dim=LATENT_DIM,
    )
    kernel = model.generator.trainable_weights[0]
    kernel.assign(np.where(np.arange(kernel.shape[-1]) == 1, np.nan, kernel.numpy()))
    bias = model.generator.trainable_weights[-1]
    bias.assign(np.full(bias.shape, np.inf, np.float32))
    with pytest.raises(ValueError, match="non-finite") as info:
        export.export_saved_model(model, tmp_path / "out")
    assert kernel.path in str(info.value) and bias.path in str(info.value)
    assert not (tmp_path / "out").exists()
    # Variables the export does not serve are not its concern: the discriminator's.
    kernel.assign(np.zeros(kernel.shape, np.float32))
    bias.assign(np.zeros(bias.shape, np.float32))
    model.discriminator.trainable_weights[0].assign(np.full(model.discriminator.trainable_weights[0].shape, np.nan, np.float32))
    assert os.path.isdir(export.export_saved_model(model, tmp_path / "out"))


def test_with_the_ema_on_the_served_average_is_checked(tmp_path):
    model = kgan.GAN(
        networks.mlp_generator(latent_dim=LATENT_DIM, output_dim=2, hidden_units=(4,)),
        networks.mlp_discriminator(input_dim=2, hidden_units=(4,)), latent_dim=LATENT_DIM, generator_ema=0.99,
    )
    averaged = model.sampling_network().weights[0]  # the average's kernel (non-trainable)
    assert all(averaged is not v for v in model.generator.weights)
    averaged.assign(np.full(averaged.shape, np.nan, np.float32))
    with pytest.raises(ValueError, match="non-finite") as info:
        export.export_saved_model(model, tmp_path / "out")
    assert f"generator_average/{averaged.path}" in str(info.value)  # the average, not the trained generator
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- models.config round trip


def test_a_quoted_serving_root_survives_every_rewrite(tmp_path, points_model):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    base = tmp_path / "saved_models"
    export.export_saved_model(points_model, base, name="p")
    root = '/srv/"quoted" \\\\ root'
    config = base / "models.config"
    export.write_models_config(base, serving_root=root)
    first = config.read_text()
    export.write_models_config(base)  # keeps the file's root
    export.write_models_config(base)
    assert config.read_text() == first
    export.export_saved_model(points_model, base, name="q")  # an export rewrites it too
    parsed = text_format.Parse(config.read_text(), model_server_config_pb2.ModelServerConfig())
    assert {c.name: c.base_path for c in parsed.model_config_list.config} == {"p": root + "/p", "q": root + "/q"}


def test_serving_root_with_a_control_character_is_refused(tmp_path):
    with pytest.raises(ValueError, match="control character"):
        export.models_config_text(tmp_path, serving_root="/models\nbad")


# ---------------------------------------------------------------------- leftovers of crashed exports


def _dead_pid():
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(process.stdout)


def test_leftovers_of_dead_exporters_are_removed_and_live_ones_kept(tmp_path, points_model):
    base = tmp_path / "saved_models"
    export.export_saved_model(points_model, base, name="p")
    dead = [base / "p" / (export._temporary_prefix(_dead_pid()) + "crashed"),
            base / "other" / (export._temporary_prefix(_dead_pid()) + "crashed")]
    live = [base / "p" / (export._temporary_prefix(os.getpid()) + "running"),
            base / "p" / (export._temporary_prefix(_dead_pid(), host="elsewhere") + "running")]
    legacy_old, legacy_new = base / "p" / ".tmp-export-abc123", base / "p" / ".tmp-export-def456"
    for directory in dead + live + [legacy_old, legacy_new]:
        (directory / "variables").mkdir(parents=True)
        (directory / "saved_model.pb").write_text("half")
    two_days_ago = __import__("time").time() - 2 * 86400
    os.utime(legacy_old, (two_days_ago, two_days_ago))

    export.export_saved_model(points_model, base, name="p")
    for directory in dead + [legacy_old]:
        assert not directory.exists(), directory
    for directory in live + [legacy_new]:
        assert (directory / "saved_model.pb").exists(), directory
    assert export.list_versions(base / "p") == [1, 2]


def test_an_overwrites_leftover_copy_is_removed_once_its_version_is_back_and_kept_while_it_is_the_only_one(tmp_path, points_model):
    base = tmp_path / "saved_models"
    export.export_saved_model(points_model, base, name="p")  # Version 1.
    superseded, only_copy = base / "p" / ".old-export-1-0a1b", base / "p" / ".old-export-7-0a1b"  # No version 7.
    for directory in (superseded, only_copy):
        (directory / "variables").mkdir(parents=True)
        (directory / "saved_model.pb").write_text("an old version")
    export.export_saved_model(points_model, base, name="p")
    assert not superseded.exists() and (only_copy / "saved_model.pb").exists()
    assert export.list_versions(base / "p") == [1, 2]


def test_a_failed_publish_puts_the_old_copy_back(tmp_path, points_model, monkeypatch):
    base = tmp_path / "saved_models"
    first = export.export_saved_model(points_model, base, name="p")
    real_rename = os.rename

    def failing(source, target):
        if ".tmp-export-" in os.fspath(source):
            raise OSError(errno.EIO, "disk gone")
        return real_rename(source, target)

    monkeypatch.setattr(export.os, "rename", failing)
    with pytest.raises(OSError, match="disk gone"):
        export.export_saved_model(points_model, base, name="p", version=1, overwrite=True)
    assert os.path.exists(os.path.join(first, "saved_model.pb"))  # Version 1 still served.
    assert not [e for e in os.listdir(base / "p") if e.startswith(".old-export-")]


# ---------------------------------------------------------------------- train/evaluate.py's export records


EVALUATE_CHECK = r'''
import json, os, sys
sys.argv = ["evaluate"]
from train.evaluate import resolve_saved_model
report = {}
for path in json.loads(os.environ["PATHS"]):
    try:
        report[path] = resolve_saved_model(path)
    except ValueError as error:
        report[path] = "ValueError: " + str(error)
    except RecursionError as error:
        report[path] = "RecursionError: " + str(error)
print(json.dumps(report))
'''


def test_evaluate_explains_export_records_that_point_in_a_cycle(tmp_path, points_model):
    from test_case import REPO

    own, a, b, good = tmp_path / "own", tmp_path / "a", tmp_path / "b", tmp_path / "good"
    for directory in (own, a, b, good):
        directory.mkdir()
    (own / "export.json").write_text(json.dumps({"path": str(own)}))
    (a / "export.json").write_text(json.dumps({"path": str(b)}))
    (b / "export.json").write_text(json.dumps({"path": str(a)}))
    version = export.export_saved_model(points_model, tmp_path / "exports", name="p")
    (good / "export.json").write_text(json.dumps({"path": version}))
    (tmp_path / "check.py").write_text(EVALUATE_CHECK)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PATHS=json.dumps([str(own), str(a), str(good)]), PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, str(tmp_path / "check.py")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report[str(good)] == version
    for path in (own, a):
        assert report[str(path)].startswith("ValueError:") and "cycle" in report[str(path)], report[str(path)]
        assert str(path / "export.json") in report[str(path)]


# ---------------------------------------------------------------------- check_export_dir


def test_check_export_dir(tmp_path):
    writable = tmp_path / "not" / "yet" / "there"
    assert export.check_export_dir(writable) == str(writable)
    assert not (tmp_path / "not").exists()  # checking creates nothing

    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    for path in (a_file, a_file / "saved_models"):
        with pytest.raises(ValueError, match="not a directory"):
            export.check_export_dir(path)

    if os.geteuid() == 0:  # root ignores permission bits: the file case above is what fails here
        return
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        for path in (read_only, read_only / "saved_models"):
            with pytest.raises(PermissionError, match="not writable"):
                export.check_export_dir(path)
    finally:
        read_only.chmod(0o755)
