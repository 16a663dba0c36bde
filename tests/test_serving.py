"""The TF Serving contract of every model's export, checked from outside kgan.

One export per model kind (GAN, WGAN-GP, conditional GAN, a points GAN,
CycleGAN, StarGAN) into one ``saved_models``-style directory with its
``models.config``. Then, in processes that never import kgan:

* ``saved_model_cli show`` and ``run`` on each export;
* ``tf.saved_model.load`` -> every signature's named, typed inputs and outputs,
  and the in-graph input checks' messages;
* TF Serving's REST JSON (row ``instances`` -> ``predictions``, columnar
  ``inputs`` -> ``outputs``, ``_bytes`` outputs base64-encoded) and gRPC
  ``PredictRequest`` built with the official ``tensorflow-serving-api`` protos,
  against ``tests/serving_fixture.py``: a stand-in for ``tensorflow_model_server``
  (which cannot be installed here), a test aid and not part of kgan.

Served results are compared with the same endpoints run in this process.
"""

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import grpc
import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from PIL import Image
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import op_def_registry
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
from tensorflow_serving.config import model_server_config_pb2

import kgan
from kgan import export, serving
from kgan.networks import (
    conditional_dcgan_discriminator,
    conditional_dcgan_generator,
    dcgan_discriminator,
    dcgan_generator,
    multi_task_patch_discriminator,
    patch_discriminator,
    resnet_generator,
)
from test_case import REPO, points_gan, random_images

LATENT_DIM = 8
MNIST = (28, 28, 1)
EDGES = (16, 16, 1)
FACES = (16, 16, 3)
NUM_CLASSES = 10
K = 4


def _build_models():
    keras.utils.set_random_seed(0)
    return {
        "gan": kgan.GAN(dcgan_generator(LATENT_DIM, MNIST, 8), dcgan_discriminator(MNIST, 8), LATENT_DIM, name="gan"),
        "wgan_gp": kgan.WGANGP(
            dcgan_generator(LATENT_DIM, MNIST, 8), dcgan_discriminator(MNIST, 8, normalization="layer"), LATENT_DIM, name="wgan_gp"
        ),
        "conditional_gan": kgan.ConditionalGAN(
            conditional_dcgan_generator(LATENT_DIM, NUM_CLASSES, MNIST, base_filters=8),
            conditional_dcgan_discriminator(MNIST, NUM_CLASSES, base_filters=8),
            LATENT_DIM, NUM_CLASSES, name="conditional_gan",
        ),
        "points_gan": points_gan(LATENT_DIM, hidden=(16,), compile=False, name="points_gan"),
        "cycle_gan": kgan.CycleGAN(
            resnet_generator(EDGES, base_filters=4, num_residual_blocks=1, num_downsampling=1, name="g_xy"),
            resnet_generator(EDGES, base_filters=4, num_residual_blocks=1, num_downsampling=1, name="g_yx"),
            patch_discriminator(EDGES, 4, 1, name="d_x"), patch_discriminator(EDGES, 4, 1, name="d_y"),
            name="cycle_gan",
        ),
        "star_gan": kgan.StarGAN(
            resnet_generator(FACES, condition_dim=K, base_filters=4, num_residual_blocks=1, num_downsampling=1, padding="zero", sampling_kernel_size=4),
            multi_task_patch_discriminator(FACES, K, 4, 2), K, name="star_gan",
        ),
    }


def _pixels(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape)).astype(np.uint8)


def _requests():
    """Per model: ``(signature, inputs)`` pairs that every client below sends."""
    z = np.random.default_rng(1).normal(size=(3, LATENT_DIM)).astype(np.float32)
    attributes = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 1]], np.float32)
    return {
        "gan": [("serving_default", {"z": z}), ("sample", {"num_images": np.int32(2), "seed": np.int64(7)})],
        "wgan_gp": [("serving_default", {"z": z}), ("sample", {"num_images": np.int32(2), "seed": np.int64(7)})],
        "conditional_gan": [
            ("serving_default", {"z": z, "labels": np.array([0, 9, 4], np.int32)}),
            ("sample", {"labels": np.array([3, 3], np.int32), "seed": np.int64(5)}),
        ],
        "points_gan": [("serving_default", {"z": z}), ("sample", {"num_images": np.int32(4), "seed": np.int64(1)})],
        "cycle_gan": [
            ("serving_default", {"images": random_images(2, EDGES, 3)}),
            ("y_to_x_uint8", {"images": _pixels(2, EDGES, 4)}),
        ],
        "star_gan": [
            ("serving_default", {"images": random_images(3, FACES, 5), "target_attributes": attributes}),
            ("translate_uint8", {"images": _pixels(3, FACES, 6), "target_attributes": attributes}),
        ],
    }


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Exports every model under one base directory; returns (base_dir, models, paths, expected outputs)."""
    base_dir = tmp_path_factory.mktemp("serving") / "saved_models"
    models = _build_models()
    paths = {name: export.export_saved_model(model, base_dir) for name, model in models.items()}
    expected = {}
    for name, model in models.items():
        endpoints = model.serving_endpoints()
        for signature, inputs in _requests()[name]:
            outputs = endpoints[signature](**{k: tf.constant(v) for k, v in inputs.items()})
            expected[name, signature] = {k: v.numpy() for k, v in outputs.items()}
    return base_dir, models, paths, expected


def _clean_env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # kgan must not be importable through the test's path
    return env


def _check_outputs(name, signature, got, expected):
    want = expected[name, signature]
    assert sorted(got) == sorted(want), (name, signature)
    for key, value in want.items():
        if value.dtype == object:  # PNG files: each decodes to the served uint8 image
            files = [bytes(b) for b in np.ravel(got[key])]
            assert len(files) == len(value)
            for png, pixels in zip(files, got["images_uint8"]):
                decoded = np.asarray(Image.open(io.BytesIO(png)))
                np.testing.assert_array_equal(decoded.reshape(np.shape(pixels)), np.asarray(pixels, np.uint8))
        elif value.dtype == np.uint8:
            # Float rounding across processes may move a pixel at .5 by one level.
            assert np.max(np.abs(np.asarray(got[key], np.int32) - value.astype(np.int32))) <= 1
        else:
            np.testing.assert_allclose(np.asarray(got[key], np.float32), value, atol=1e-5, err_msg=f"{name}/{signature}/{key}")


# ---------------------------------------------------------------------- the export directory


def test_models_config_lists_every_export_for_the_official_parser(exports):
    base_dir, models, paths, _ = exports
    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse((base_dir / "models.config").read_text(), config)
    entries = {c.name: c for c in config.model_config_list.config}
    assert sorted(entries) == sorted(models)
    for name, entry in entries.items():
        assert entry.model_platform == "tensorflow"
        assert entry.base_path == str(base_dir.resolve() / name)
        assert os.path.dirname(paths[name]) == entry.base_path


def test_models_config_for_a_docker_mount_and_its_root_is_kept(exports, tmp_path):
    base_dir, models, _, _ = exports
    text = export.models_config_text(base_dir, serving_root="/models")
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    assert {c.base_path for c in config.model_config_list.config} == {f"/models/{n}" for n in models}
    with pytest.raises(ValueError, match="absolute"):
        export.models_config_text(base_dir, serving_root="models")
    # A later export keeps the root the existing file uses.
    copy = tmp_path / "copy"
    shutil.copytree(base_dir, copy)
    export.write_models_config(copy, serving_root="/models")
    export.export_saved_model(models["points_gan"], copy, name="another")
    text = (copy / "models.config").read_text()
    assert 'base_path: "/models/another"' in text and 'base_path: "/models/gan"' in text


def test_exports_contain_only_stock_tensorflow_ops(exports):
    _, _, paths, _ = exports
    python_ops = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}
    for name, path in paths.items():
        proto = saved_model_pb2.SavedModel()
        proto.ParseFromString(open(os.path.join(path, "saved_model.pb"), "rb").read())
        graph = proto.meta_graphs[0].graph_def
        functions = {f.signature.name for f in graph.library.function}
        ops = {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}
        ops -= functions  # calls of the graph's own functions
        assert not ops & python_ops, (name, ops & python_ops)
        unknown = sorted(op for op in ops if op_def_registry.get(op) is None)
        assert unknown == [], (name, unknown)
        assert {"EncodePng", "Assert"} <= ops or name == "points_gan", name


# ---------------------------------------------------------------------- saved_model_cli


def _saved_model_cli(*args):
    command = shutil.which("saved_model_cli")
    prefix = [command] if command else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    result = subprocess.run([*prefix, *args], env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_saved_model_cli_show_lists_named_typed_signatures(exports):
    _, _, paths, _ = exports
    shown = _saved_model_cli("show", "--dir", paths["conditional_gan"], "--all")
    for text in ("signature_def['serving_default']", "signature_def['sample']", "inputs['labels'] tensor_info",
                 "dtype: DT_INT32", "outputs['images_png_bytes'] tensor_info", "dtype: DT_STRING",
                 "Method name is: tensorflow/serving/predict"):
        assert text in shown, text
    shown = _saved_model_cli("show", "--dir", paths["cycle_gan"], "--tag_set", "serve")
    for signature in ("serving_default", "x_to_y", "x_to_y_uint8", "y_to_x", "y_to_x_uint8"):
        assert f'"{signature}"' in shown


def test_saved_model_cli_run_matches_the_model(exports, tmp_path):
    _, _, paths, expected = exports
    for name, (signature, inputs) in [("gan", _requests()["gan"][1]), ("cycle_gan", _requests()["cycle_gan"][1]),
                                      ("star_gan", _requests()["star_gan"][0])]:
        outdir = tmp_path / name
        files = []
        for key, value in inputs.items():
            np.save(tmp_path / f"{name}_{key}.npy", value)
            files.append(f"{key}={tmp_path / f'{name}_{key}.npy'}")
        _saved_model_cli("run", "--dir", paths[name], "--tag_set", "serve", "--signature_def", signature,
                         "--inputs", ";".join(files), "--outdir", str(outdir))
        got = {f[:-4]: np.load(outdir / f, allow_pickle=True) for f in os.listdir(outdir)}
        _check_outputs(name, signature, got, expected)


# ---------------------------------------------------------------------- tf.saved_model.load, TF only

RELOAD_SCRIPT = r'''
import json, sys
import numpy as np
import tensorflow as tf

base_dir = sys.argv[1]
spec = lambda s: [s.dtype.name, s.shape.as_list()]
report = {}
for name in sorted(n for n in __import__("os").listdir(base_dir) if not n.endswith(".config")):
    loaded = tf.saved_model.load(f"{base_dir}/{name}/1")
    report[name] = {
        signature: {"inputs": {k: spec(v) for k, v in fn.structured_input_signature[1].items()},
                    "outputs": {k: spec(v) for k, v in fn.structured_outputs.items()}}
        for signature, fn in loaded.signatures.items()
    }
    errors = {}
    for label, signature, inputs in json.loads(sys.argv[2]).get(name, []):
        fn = loaded.signatures[signature]
        feeds = {k: tf.constant(np.asarray(v, fn.structured_input_signature[1][k].dtype.as_numpy_dtype)) for k, v in inputs.items()}
        try:
            fn(**feeds)
            errors[label] = None
        except tf.errors.InvalidArgumentError as error:
            errors[label] = error.message
    report[name]["errors"] = errors
assert "kgan" not in sys.modules
print(json.dumps(report))
'''

BAD_REQUESTS = {
    "gan": [
        ("z too wide", "serving_default", {"z": np.zeros((2, LATENT_DIM + 1)).tolist()}),
        ("z not finite", "serving_default", {"z": [[float("nan")] * LATENT_DIM]}),
        ("no images", "sample", {"num_images": 0, "seed": 1}),
        ("too many images", "sample", {"num_images": serving.MAX_SAMPLED_IMAGES + 1, "seed": 1}),
    ],
    "conditional_gan": [
        ("label too big", "sample", {"labels": [0, NUM_CLASSES], "seed": 1}),
        ("batch mismatch", "serving_default", {"z": np.zeros((2, LATENT_DIM)).tolist(), "labels": [1]}),
    ],
    "cycle_gan": [
        ("rgb into gray", "serving_default", {"images": np.zeros((1, 16, 16, 3)).tolist()}),
        ("wrong size", "x_to_y_uint8", {"images": np.zeros((1, 8, 16, 1)).tolist()}),
        ("pixels not scaled", "serving_default", {"images": np.full((1, 16, 16, 1), 255.0).tolist()}),
    ],
    "star_gan": [
        ("too few attributes", "serving_default", {"images": np.zeros((1, *FACES)).tolist(), "target_attributes": [[1, 0, 1]]}),
        ("attribute out of range", "translate_uint8", {"images": np.zeros((1, *FACES)).tolist(), "target_attributes": [[2, 0, 0, 0]]}),
    ],
}


@pytest.fixture(scope="module")
def reloaded(exports, tmp_path_factory):
    base_dir = exports[0]
    work = tmp_path_factory.mktemp("reload")
    (work / "reload.py").write_text(RELOAD_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(work / "reload.py"), str(base_dir), json.dumps(BAD_REQUESTS)],
        cwd=work, env=_clean_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


IMAGE_OUT = lambda shape: {  # noqa: E731
    "images": ["float32", [None, *shape]], "images_uint8": ["uint8", [None, *shape]], "images_png_bytes": ["string", [None]],
}


def test_every_signature_has_named_typed_inputs_and_outputs(reloaded):
    z = {"z": ["float32", [None, None]]}
    count = {"num_images": ["int32", []], "seed": ["int64", []]}
    images = lambda dtype: {"images": [dtype, [None, None, None, None]]}  # noqa: E731
    for name in ("gan", "wgan_gp"):
        assert reloaded[name]["serving_default"] == {"inputs": z, "outputs": IMAGE_OUT(MNIST)}
        assert reloaded[name]["sample"] == {"inputs": count, "outputs": IMAGE_OUT(MNIST)}
    assert reloaded["points_gan"]["sample"] == {"inputs": count, "outputs": {"samples": ["float32", [None, 2]]}}
    assert reloaded["conditional_gan"]["serving_default"] == {
        "inputs": {**z, "labels": ["int32", [None]]}, "outputs": IMAGE_OUT(MNIST)
    }
    assert reloaded["conditional_gan"]["sample"]["inputs"] == {"labels": ["int32", [None]], "seed": ["int64", []]}
    for signature, dtype in [("x_to_y", "float32"), ("y_to_x", "float32"), ("x_to_y_uint8", "uint8"), ("y_to_x_uint8", "uint8")]:
        assert reloaded["cycle_gan"][signature] == {"inputs": images(dtype), "outputs": IMAGE_OUT(EDGES)}
    assert reloaded["star_gan"]["translate_uint8"] == {
        "inputs": {**images("uint8"), "target_attributes": ["float32", [None, None]]}, "outputs": IMAGE_OUT(FACES)
    }


@pytest.mark.parametrize("name, label, pattern", [
    ("gan", "z too wide", r"z must have shape \[N, 8\]"),
    ("gan", "z not finite", "z must be finite"),
    ("gan", "no images", "num_images must be >= 1"),
    ("gan", "too many images", f"num_images must be <= {serving.MAX_SAMPLED_IMAGES}"),
    ("conditional_gan", "label too big", "labels must be < num_classes=10"),
    ("conditional_gan", "batch mismatch", "z and labels must have the same batch size"),
    ("cycle_gan", "rgb into gray", r"images must have shape \[N, 16, 16, 1\]"),
    ("cycle_gan", "wrong size", r"images must have shape \[N, 16, 16, 1\] \(uint8\)"),
    ("cycle_gan", "pixels not scaled", r"must be float32 in \[-1, 1\] \(uint8 pixels go to the \*_uint8 signature\)"),
    ("star_gan", "too few attributes", r"target_attributes must have shape \[N, 4\]"),
    ("star_gan", "attribute out of range", r"target_attributes must lie in \[0.0, 1.0\]"),
])
def test_bad_inputs_fail_inside_the_graph_with_a_clear_message(reloaded, name, label, pattern):
    import re

    message = reloaded[name]["errors"][label]
    assert message is not None and re.search(pattern, message), message


# ---------------------------------------------------------------------- REST and gRPC against the stand-in server


@pytest.fixture(scope="module")
def server(exports, tmp_path_factory):
    base_dir = exports[0]
    work = tmp_path_factory.mktemp("server")
    process = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "tests", "serving_fixture.py"), f"--model_config_file={base_dir / 'models.config'}"],
        cwd=work, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"serving fixture did not start: {process.stderr.read()[-4000:]}")
        yield json.loads(line)
    finally:
        process.kill()
        process.wait()


def _http(server, path, body=None):
    url = f"http://127.0.0.1:{server['rest_port']}{path}"
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _from_json(value):
    """Undo TF Serving's JSON encoding: {"b64": ...} -> bytes."""
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _as_arrays(outputs):
    return {k: np.array(_from_json(v), dtype=object if k.endswith("_bytes") else None) for k, v in outputs.items()}


def _jsonable(value):
    return value.tolist() if isinstance(value, np.ndarray) else value.item()


def test_rest_status_and_metadata(server, exports):
    status, body = _http(server, "/v1/models/star_gan")
    assert status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"
    status, body = _http(server, "/v1/models/cycle_gan/metadata")
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert set(signatures) == {"serving_default", "x_to_y", "x_to_y_uint8", "y_to_x", "y_to_x_uint8"}
    assert signatures["x_to_y_uint8"]["inputs"]["images"]["dtype"] == "DT_UINT8"


def test_rest_columnar_format_for_every_model(server, exports):
    _, models, _, expected = exports
    for name in models:
        for signature, inputs in _requests()[name]:
            body = {"signature_name": signature, "inputs": {k: _jsonable(v) for k, v in inputs.items()}}
            status, reply = _http(server, f"/v1/models/{name}:predict", body)
            assert status == 200, reply
            outputs = reply["outputs"] if isinstance(reply["outputs"], dict) else {"samples": reply["outputs"]}
            _check_outputs(name, signature, _as_arrays(outputs), expected)


def test_rest_row_format_for_batched_signatures(server, exports):
    _, _, _, expected = exports
    for name, (signature, inputs) in [("gan", _requests()["gan"][0]), ("conditional_gan", _requests()["conditional_gan"][0]),
                                      ("points_gan", _requests()["points_gan"][0]), ("cycle_gan", _requests()["cycle_gan"][1]),
                                      ("star_gan", _requests()["star_gan"][1])]:
        n = len(next(iter(inputs.values())))
        if len(inputs) == 1:  # a lone input: each instance is the bare value
            instances = [_jsonable(next(iter(inputs.values()))[i]) for i in range(n)]
        else:
            instances = [{k: _jsonable(v[i]) for k, v in inputs.items()} for i in range(n)]
        status, reply = _http(server, f"/v1/models/{name}/versions/1:predict", {"signature_name": signature, "instances": instances})
        assert status == 200, reply
        rows = reply["predictions"]
        assert len(rows) == n
        if isinstance(rows[0], dict):
            outputs = {k: [row[k] for row in rows] for k in rows[0]}
        else:  # a lone output (points): each prediction is the bare value
            outputs = {"samples": rows}
        _check_outputs(name, signature, _as_arrays(outputs), expected)


def test_rest_png_output_is_base64_of_a_png_of_the_uint8_images(server):
    status, reply = _http(server, "/v1/models/star_gan:predict", {
        "signature_name": "serving_default",
        "inputs": {"images": random_images(2, FACES, 9).tolist(), "target_attributes": [[0, 1, 0, 1], [1, 0, 0, 0]]},
    })
    assert status == 200
    for encoded, pixels in zip(reply["outputs"]["images_png_bytes"], reply["outputs"]["images_uint8"]):
        assert set(encoded) == {"b64"}
        decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded["b64"]))))
        np.testing.assert_array_equal(decoded, np.array(pixels, np.uint8))


def test_rest_errors_carry_the_in_graph_message(server):
    status, reply = _http(server, "/v1/models/cycle_gan:predict", {"inputs": {"images": np.zeros((1, 16, 16, 3)).tolist()}})
    assert status == 400 and "images must have shape [N, 16, 16, 1]" in reply["error"]
    status, reply = _http(server, "/v1/models/gan:predict", {"signature_name": "sample", "inputs": {"num_images": 100000, "seed": 1}})
    assert status == 400 and "num_images must be <=" in reply["error"]
    status, reply = _http(server, "/v1/models/nope:predict", {"inputs": {}})
    assert status == 404


def _grpc_predict(server, name, signature, inputs):
    channel = grpc.insecure_channel(f"127.0.0.1:{server['grpc_port']}")
    try:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = name
        request.model_spec.signature_name = signature
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = stub.Predict(request, timeout=120)
        return response, {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
    finally:
        channel.close()


def test_grpc_predict_for_every_model(server, exports):
    _, models, _, expected = exports
    for name in models:
        for signature, inputs in _requests()[name]:
            response, outputs = _grpc_predict(server, name, signature, inputs)
            assert response.model_spec.name == name and response.model_spec.version.value == 1
            _check_outputs(name, signature, outputs, expected)


def test_grpc_errors_are_invalid_argument_with_the_message(server):
    with pytest.raises(grpc.RpcError) as caught:
        _grpc_predict(server, "star_gan", "serving_default",
                      {"images": np.zeros((1, *FACES), np.float32), "target_attributes": np.full((1, K), 3.0, np.float32)})
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "target_attributes must lie in [0.0, 1.0]" in caught.value.details()


def test_models_config_binary_rewrites_the_root(exports, tmp_path):
    copy = tmp_path / "saved_models"
    shutil.copytree(exports[0], copy)
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "models_config.py"), f"--export_dir={copy}", "--serving_root=/models"],
        env=_clean_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = text_format.Parse((copy / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    assert {c.base_path for c in config.model_config_list.config} == {f"/models/{name}" for name in exports[1]}
    assert result.stdout == (copy / "models.config").read_text()
