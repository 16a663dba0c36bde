"""A stand-in for ``tensorflow_model_server``, for kgan's serving contract tests only.

NOT part of kgan and not a model server anyone should deploy. No
``tensorflow_model_server`` binary can be installed on the machines kgan is
built and tested on (no registry carries one), so the tests in
``tests/test_serving.py`` run against this script instead. It implements the
part of TF Serving's public interface the tests exercise, as TF Serving
documents it (https://www.tensorflow.org/tfx/serving/api_rest):

* ``--model_config_file``: a ModelServerConfig in text format, parsed with the
  official proto (``tensorflow-serving-api``); each model serves the largest
  numbered version under its ``base_path`` (the default version policy).
* REST on ``--rest_api_port``:
  ``GET /v1/models/<name>`` (version status), ``GET /v1/models/<name>/metadata``
  (the SignatureDefs, as TF Serving returns them) and
  ``POST /v1/models/<name>[/versions/<v>]:predict`` with ``signature_name``
  and either the row format (``instances`` -> ``predictions``) or the columnar
  format (``inputs`` -> ``outputs``); a lone input or output is unwrapped the
  way TF Serving does; string outputs whose alias ends in ``_bytes`` come back
  as ``{"b64": ...}`` and ``{"b64": ...}`` inputs are decoded; errors are
  HTTP 400 with ``{"error": message}``.
* gRPC on ``--port``: ``tensorflow.serving.PredictionService/Predict`` with the
  official ``PredictRequest``/``PredictResponse`` protos.

It imports TensorFlow and the serving protos only (never kgan): the exports
must stand on their own. Once both servers listen it prints one JSON line
``{"rest_port": ..., "grpc_port": ...}`` on stdout.

Run: ``python tests/serving_fixture.py --model_config_file=saved_models/models.config
--rest_api_port=8501 --port=8500`` (0 picks free ports).
"""

import argparse
import base64
import json
import os
import re
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from google.protobuf import json_format, text_format  # noqa: E402
from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402
from tensorflow_serving.config import model_server_config_pb2  # noqa: E402

_PREDICT_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/([0-9]+))?:predict$")
_MODEL_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/([0-9]+))?(/metadata)?$")


class RequestError(ValueError):
    """A client error: HTTP 400 / gRPC INVALID_ARGUMENT."""


class ServedModel:
    """The latest version of one model: its signatures and SignatureDefs."""

    def __init__(self, name, base_path):
        versions = [int(v) for v in os.listdir(base_path) if v.isdigit() and os.path.isdir(os.path.join(base_path, v))]
        if not versions:
            raise FileNotFoundError(f"No versions of servable {name} found under base path {base_path}")
        self.name, self.version = name, max(versions)
        path = os.path.join(base_path, str(self.version))
        self.loaded = tf.saved_model.load(path)
        proto = saved_model_pb2.SavedModel()
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
        self.signature_defs = {k: v for k, v in proto.meta_graphs[0].signature_def.items() if not k.startswith("__")}

    def signature(self, name):
        name = name or "serving_default"
        if name not in self.loaded.signatures:
            raise RequestError(f"Serving signature name: \"{name}\" not found in signature def")
        return self.loaded.signatures[name]

    def predict(self, signature_name, inputs):
        """Runs a signature on ``{alias: numpy array}``; returns ``{alias: numpy array}``."""
        fn = self.signature(signature_name)
        specs = fn.structured_input_signature[1]
        missing = sorted(set(specs) - set(inputs))
        extra = sorted(set(inputs) - set(specs))
        if missing or extra:
            raise RequestError(f"Inputs {sorted(inputs)} do not match the signature's inputs {sorted(specs)}")
        try:
            feeds = {k: tf.constant(np.asarray(v, dtype=specs[k].dtype.as_numpy_dtype) if specs[k].dtype != tf.string else v, dtype=specs[k].dtype) for k, v in inputs.items()}
        except (TypeError, ValueError, OverflowError) as error:
            raise RequestError(f"Could not convert the inputs to the signature's dtypes: {error}") from error
        try:
            outputs = fn(**feeds)
        except (tf.errors.InvalidArgumentError, TypeError, ValueError) as error:
            raise RequestError(getattr(error, "message", str(error))) from error
        return {k: v.numpy() for k, v in outputs.items()}


# ---------------------------------------------------------------------- REST JSON


def _decode(value):
    """JSON value -> nested lists with {"b64": ...} decoded to bytes."""
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        raise RequestError(f"Unexpected object {value!r} in tensor values")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _encode(name, array):
    """numpy array -> JSON value; ``*_bytes`` string tensors base64-encoded as TF Serving does."""
    if array.dtype == object:
        if name.endswith("_bytes"):
            return np.vectorize(lambda b: {"b64": base64.b64encode(b).decode("ascii")}, otypes=[object])(array).tolist()
        return np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(array).tolist()
    return array.tolist()


def predict_json(model, body):
    """TF Serving's REST predict on a parsed JSON body."""
    signature_name = body.get("signature_name")
    input_names = list(model.signature(signature_name).structured_input_signature[1])
    if ("instances" in body) == ("inputs" in body):
        raise RequestError("JSON Value: must have exactly one of 'instances' (row format) or 'inputs' (columnar format)")
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise RequestError("'instances' must be a non-empty list")
        if all(isinstance(row, dict) and "b64" not in row for row in rows):
            inputs = {k: [_decode(row.get(k)) for row in rows] for k in input_names}
        elif len(input_names) == 1:
            inputs = {input_names[0]: [_decode(row) for row in rows]}
        else:
            raise RequestError(f"The signature has inputs {input_names}: each instance must be an object with them")
        outputs = model.predict(signature_name, inputs)
        sizes = {v.shape[0] if v.ndim else None for v in outputs.values()}
        if len(sizes) != 1 or None in sizes:
            raise RequestError("Batch size of the outputs differs; use the columnar ('inputs') format")
        columns = {k: _encode(k, v) for k, v in outputs.items()}
        if len(columns) == 1:
            return {"predictions": next(iter(columns.values()))}
        return {"predictions": [{k: columns[k][i] for k in columns} for i in range(sizes.pop())]}
    given = body["inputs"]
    if isinstance(given, dict):
        inputs = {k: _decode(v) for k, v in given.items()}
    elif len(input_names) == 1:
        inputs = {input_names[0]: _decode(given)}
    else:
        raise RequestError(f"The signature has inputs {input_names}: 'inputs' must be an object with them")
    outputs = {k: _encode(k, v) for k, v in model.predict(signature_name, inputs).items()}
    return {"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs}


def make_rest_handler(models):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _reply(self, status, payload):
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _model(self, name, version):
            if name not in models:
                raise LookupError(f"Servable not found for request: Latest({name})")
            model = models[name]
            if version is not None and int(version) != model.version:
                raise LookupError(f"Servable not found for request: Specific({name}, {version})")
            return model

        def _route(self, pattern, method):
            """``(match, model)`` for the request path, or ``(None, None)`` after replying 404."""
            match = pattern.match(self.path)
            if not match:
                self._reply(404, {"error": f"Malformed request: {method} {self.path}"})
                return None, None
            try:
                return match, self._model(match.group(1), match.group(2))
            except LookupError as error:
                self._reply(404, {"error": str(error)})
                return None, None

        def do_GET(self):
            match, model = self._route(_MODEL_PATH, "GET")
            if model is None:
                return None
            if match.group(3):
                signature_def = {k: json_format.MessageToDict(v) for k, v in model.signature_defs.items()}
                return self._reply(200, {
                    "model_spec": {"name": model.name, "signature_name": "", "version": str(model.version)},
                    "metadata": {"signature_def": {"signature_def": signature_def}},
                })
            return self._reply(200, {"model_version_status": [
                {"version": str(model.version), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            ]})

        def do_POST(self):
            _, model = self._route(_PREDICT_PATH, "POST")
            if model is None:
                return None
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                return self._reply(200, predict_json(model, body))
            except (RequestError, json.JSONDecodeError) as error:
                return self._reply(400, {"error": str(error)})

    return Handler


# ---------------------------------------------------------------------- gRPC


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, models):
        self.models = models

    def Predict(self, request, context):  # noqa: N802 (the proto's name)
        model = self.models.get(request.model_spec.name)
        if model is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({request.model_spec.name})")
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        try:
            outputs = model.predict(request.model_spec.signature_name, inputs)
        except RequestError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        response = predict_pb2.PredictResponse()
        response.model_spec.name = model.name
        response.model_spec.version.value = model.version
        response.model_spec.signature_name = request.model_spec.signature_name or "serving_default"
        for name, value in outputs.items():
            if request.output_filter and name not in request.output_filter:
                continue
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response


def load_models(config_path):
    config = model_server_config_pb2.ModelServerConfig()
    with open(config_path, encoding="utf-8") as f:
        text_format.Parse(f.read(), config)
    models = {}
    for entry in config.model_config_list.config:
        if entry.model_platform != "tensorflow":
            raise ValueError(f"{entry.name}: model_platform {entry.model_platform!r} is not 'tensorflow'")
        if not os.path.isabs(entry.base_path):
            raise ValueError(f"Expected model {entry.name} to have an absolute path or URI; got base_path()={entry.base_path}")
        models[entry.name] = ServedModel(entry.name, entry.base_path)
    return models


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_config_file", required=True)
    parser.add_argument("--rest_api_port", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    models = load_models(args.model_config_file)

    rest = ThreadingHTTPServer(("127.0.0.1", args.rest_api_port), make_rest_handler(models))
    threading.Thread(target=rest.serve_forever, daemon=True).start()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionService(models), server)
    grpc_port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    print(json.dumps({"rest_port": rest.server_address[1], "grpc_port": grpc_port}), flush=True)
    assert "kgan" not in sys.modules
    server.wait_for_termination()


if __name__ == "__main__":
    main()
