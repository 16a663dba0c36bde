"""Two worker processes on 127.0.0.1 train through MultiWorkerMirroredStrategy (TF_CONFIG):
both end with identical weights, and only the chief exports."""

import json
import os
import socket
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r"""
import hashlib, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf, keras
import kgan
from kgan import distribute
from kgan.networks import mlp_discriminator, mlp_generator

strategy = distribute.make_strategy("multi_worker")  # the cluster comes from TF_CONFIG
keras.utils.set_random_seed(0)
with strategy.scope():
    # k = 2 exercises the cross-worker gather of the critic minibatches.
    model = kgan.GAN(mlp_generator(4, 2, (16,)), mlp_discriminator(2, (16,)), 4, discriminator_steps=2, seed=1)
    model.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16).repeat(), steps_per_epoch=3, epochs=1, verbose=0)
digest = hashlib.sha256(b"".join(v.numpy().tobytes() for v in model.weights)).hexdigest()
chief = strategy.extended.should_checkpoint
path = kgan.export.export_saved_model(model, sys.argv[1], name="gan") if chief else None
print(json.dumps({"digest": digest, "replicas": strategy.num_replicas_in_sync, "chief": chief, "export": path,
                  "steps": int(model.train_steps.numpy()), "d_loss": float(np.ravel(history.history["d_loss"])[-1])}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_train_identically_and_only_the_chief_exports(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "exports")], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-4000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    chief, other = reports
    assert chief["replicas"] == other["replicas"] == 2
    assert chief["steps"] == other["steps"] == 3
    assert chief["digest"] == other["digest"]
    assert chief["chief"] and not other["chief"] and other["export"] is None
    assert os.path.isfile(os.path.join(chief["export"], "saved_model.pb"))
    assert sorted(os.listdir(tmp_path / "exports" / "gan")) == ["1"]
