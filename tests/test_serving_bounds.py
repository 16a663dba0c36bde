"""Bounded requests: every batch-taking signature caps its batch in-graph, and `generate` checks its count.

The serving checks run where TF Serving runs them: the exports are reloaded in
one fresh process with TensorFlow only (kgan never imported), which feeds each
request to the loaded signature and records the error message, the output
shapes and the process's resident-memory growth during the call (peak RSS,
``VmHWM`` after resetting it through ``/proc/self/clear_refs``).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import export, serving
from test_case import CONTRACT_CASES, points_gan

LATENT_DIM = 8
CAP = serving.MAX_SAMPLED_IMAGES
SMALL_CAP = 3  # the custom max_batch_size
TINY_CAP = 2  # the other models' exports
HUGE = 100_000  # z [HUGE, 8] is 3.2 MB of request; unchecked, the wide generator's activations take > 400 MB

# Runs in a fresh interpreter with TensorFlow only. Arguments: a JSON file
# {label: [export path, signature, {input: [dtype, shape, fill]}]}; prints one
# JSON line {label: {"error": message or None, "outputs": {name: shape},
# "growth_mb": peak RSS growth during the call}}.
REQUEST_SCRIPT = r'''
import json, re, sys, threading
import numpy as np
import tensorflow as tf


def status(field):
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1)) / 1024.0  # MB


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


with open(sys.argv[1]) as f:
    jobs = json.load(f)
loaded, report = {}, {}
for label, (path, signature, inputs) in jobs.items():
    if path not in loaded:
        loaded[path] = tf.saved_model.load(path)
    fn = loaded[path].signatures[signature]
    feeds = {k: tf.constant(np.full(shape, fill, dtype)) for k, (dtype, shape, fill) in inputs.items()}
    before = status("VmRSS")
    samples, done = [before], threading.Event()
    exact = reset_peak()
    if not exact:  # sample the RSS instead of reading the kernel's peak
        def watch():
            while not done.wait(0.001):
                samples.append(status("VmRSS"))
        watcher = threading.Thread(target=watch)
        watcher.start()
    entry = {"error": None, "outputs": None}
    try:
        entry["outputs"] = {k: v.shape.as_list() for k, v in fn(**feeds).items()}
    except tf.errors.InvalidArgumentError as error:
        entry["error"] = error.message
    if exact:
        entry["growth_mb"] = status("VmHWM") - before
    else:
        done.set()
        watcher.join()
        entry["growth_mb"] = max(samples) - before
    report[label] = entry
assert "kgan" not in sys.modules
print(json.dumps(report))
'''


def _clean_env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # kgan must not be importable through the test's path
    return env


def _z(n, width=LATENT_DIM):
    return {"z": ["float32", [n, width], 0.0]}


def _images(n, shape=(8, 8, 1), dtype="float32"):
    return {"images": [dtype, [n, *shape], 0]}


def _requests(paths):
    """``{label: (path, signature, inputs)}``: every batch-taking signature over and at its cap, and bad ranks."""
    wide, small = paths["wide"], paths["small_cap"]
    cgan, cycle, star = paths["conditional_gan"], paths["cycle_gan"], paths["star_gan"]
    attributes = lambda n: {"target_attributes": ["float32", [n, 2], 0.0]}  # noqa: E731
    count = lambda n, seed=1: {"num_images": ["int32", [], n], "seed": ["int64", [], seed]}  # noqa: E731
    return {
        # The default cap (kgan.serving.MAX_SAMPLED_IMAGES).
        "over the cap": (wide, "serving_default", _z(CAP + 1)),
        "far over the cap": (wide, "serving_default", _z(HUGE)),
        "at the cap": (wide, "serving_default", _z(CAP)),
        # A custom cap at export: the batch signature and `sample` alike.
        "over a custom cap": (small, "serving_default", _z(SMALL_CAP + 1)),
        "at a custom cap": (small, "serving_default", _z(SMALL_CAP)),
        "sample over a custom cap": (small, "sample", count(SMALL_CAP + 1)),
        "sample at a custom cap": (small, "sample", count(SMALL_CAP)),
        # Every other batch-taking signature (exported with max_batch_size=TINY_CAP).
        "cgan over": (cgan, "serving_default", {**_z(TINY_CAP + 1, 4), "labels": ["int32", [TINY_CAP + 1], 0]}),
        "cgan at": (cgan, "serving_default", {**_z(TINY_CAP, 4), "labels": ["int32", [TINY_CAP], 0]}),
        "cgan sample over": (cgan, "sample", {"labels": ["int32", [TINY_CAP + 1], 0], "seed": ["int64", [], 1]}),
        "cycle x_to_y over": (cycle, "x_to_y", _images(TINY_CAP + 1)),
        "cycle y_to_x_uint8 over": (cycle, "y_to_x_uint8", _images(TINY_CAP + 1, dtype="uint8")),
        "cycle at": (cycle, "serving_default", _images(TINY_CAP)),
        "star over": (star, "serving_default", {**_images(TINY_CAP + 1), **attributes(TINY_CAP + 1)}),
        "star uint8 over": (star, "translate_uint8", {**_images(TINY_CAP + 1, dtype="uint8"), **attributes(TINY_CAP + 1)}),
        "star at": (star, "translate_uint8", {**_images(TINY_CAP, dtype="uint8"), **attributes(TINY_CAP)}),
        # Ranks and scalars the specs promise but a server does not enforce.
        "rank-1 z": (wide, "serving_default", {"z": ["float32", [LATENT_DIM], 0.0]}),
        "vector num_images": (wide, "sample", {"num_images": ["int32", [2], 2], "seed": ["int64", [], 1]}),
        "vector seed": (wide, "sample", {"num_images": ["int32", [], 2], "seed": ["int64", [2], 1]}),
        "rank-2 labels": (cgan, "serving_default", {**_z(2, 4), "labels": ["int32", [2, 1], 0]}),
        "rank-3 images": (cycle, "x_to_y_uint8", {"images": ["uint8", [8, 8, 1], 0]}),
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Exports the models, sends every request of `_requests` from a TF-only process; returns its report."""
    work = tmp_path_factory.mktemp("bounds")
    base = work / "saved_models"
    # A wide hidden layer makes an unchecked huge batch expensive (HUGE x 1024 float32 activations).
    wide = points_gan(LATENT_DIM, hidden=(1024,), compile=False, name="wide")
    paths = {
        "wide": export.export_saved_model(wide, base),
        "small_cap": export.export_saved_model(wide, base, name="small_cap", max_batch_size=SMALL_CAP),
    }
    for name in ("conditional_gan", "cycle_gan", "star_gan"):
        paths[name] = export.export_saved_model(CONTRACT_CASES[name].make(), base, name=name, max_batch_size=TINY_CAP)
    (work / "bounds_requests.json").write_text(json.dumps(_requests(paths)))
    (work / "bounds_client.py").write_text(REQUEST_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(work / "bounds_client.py"), str(work / "bounds_requests.json")],
        cwd=work, env=_clean_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _refused(report, label, pattern):
    import re

    message = report[label]["error"]
    assert message is not None, f"{label}: not refused; outputs {report[label]['outputs']}"
    assert re.search(pattern, message), f"{label}: {message}"


def test_serving_default_refuses_one_more_than_the_cap_before_allocating(served):
    _refused(served, "over the cap", rf"z holds more than {CAP} examples.*send several requests")
    _refused(served, "far over the cap", rf"z holds more than {CAP} examples.*send several requests")
    # Refused before the generator runs: an unchecked HUGE batch takes > 400 MB here.
    for label in ("over the cap", "far over the cap"):
        assert served[label]["growth_mb"] < 100, (label, served[label])
    assert served["at the cap"]["error"] is None and served["at the cap"]["outputs"] == {"samples": [CAP, 2]}


def test_a_custom_cap_at_export_bounds_batches_and_sample(served):
    _refused(served, "over a custom cap", rf"z holds more than {SMALL_CAP} examples.*max_batch_size.*send several requests")
    assert served["at a custom cap"]["outputs"] == {"samples": [SMALL_CAP, 2]}
    _refused(served, "sample over a custom cap", rf"num_images must be <= {SMALL_CAP} per request.*send several requests")
    assert served["sample at a custom cap"]["outputs"] == {"samples": [SMALL_CAP, 2]}


@pytest.mark.parametrize("label, name", [
    ("cgan over", "(z|labels)"), ("cgan sample over", "labels"), ("cycle x_to_y over", "images"),
    ("cycle y_to_x_uint8 over", "images"), ("star over", "(images|target_attributes)"),
    ("star uint8 over", "(images|target_attributes)"),
])
def test_every_batch_taking_signature_is_capped(served, label, name):
    _refused(served, label, rf"{name} holds more than {TINY_CAP} examples.*send several requests")
    assert served[label]["growth_mb"] < 100, served[label]


def test_batches_at_the_cap_are_served(served):
    assert served["cgan at"]["outputs"] == {"samples": [TINY_CAP, 2]}
    assert served["cycle at"]["outputs"]["images"] == [TINY_CAP, 8, 8, 1]
    assert served["star at"]["outputs"]["images_uint8"] == [TINY_CAP, 8, 8, 1]


@pytest.mark.parametrize("label, pattern", [
    ("rank-1 z", r"z must have rank 2 \(\[N, \?\], N examples\); got rank\D*1"),
    ("vector num_images", r"num_images must be a scalar"),
    ("vector seed", r"seed must be a scalar"),
    ("rank-2 labels", r"labels must have rank 1"),
    ("rank-3 images", r"images must have rank 4"),
])
def test_wrong_ranks_fail_in_the_graph_with_a_clear_message(served, label, pattern):
    _refused(served, label, pattern)


def test_max_batch_size_is_checked_before_writing(tmp_path):
    model = points_gan(LATENT_DIM, hidden=(4,), compile=False)
    for bad in (0, -1, 2.0, True, 2**31):
        with pytest.raises((TypeError, ValueError), match="max_batch_size must be"):
            export.export_saved_model(model, tmp_path / "out", max_batch_size=bad)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- generate


@pytest.fixture(scope="module")
def models():
    return {"gan": points_gan(LATENT_DIM, hidden=(16,), compile=False), "conditional_gan": CONTRACT_CASES["conditional_gan"].make()}


def _no_noise(*args, **kwargs):
    raise AssertionError("generate drew noise for a count it should have refused")


@pytest.mark.parametrize("name", ["gan", "conditional_gan"])
@pytest.mark.parametrize("count", [10**9, 2**40])
def test_generate_refuses_absurd_counts_before_allocating(models, monkeypatch, name, count):
    monkeypatch.setattr(tf.random, "stateless_normal", _no_noise)
    with pytest.raises(ValueError, match=r"at most [0-9,]+ samples per call.*batches"):
        models[name].generate(count)


@pytest.mark.parametrize("count", [0, -1, 2.0, True, np.array([3]), "4", None])
def test_generate_refuses_counts_that_are_not_positive_ints(models, count):
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        models["gan"].generate(count)


@pytest.mark.parametrize("seed", [1.5, 2**64, True, "7"])
def test_generate_refuses_bad_seeds_with_a_value_error(models, seed):
    with pytest.raises(ValueError, match="seed must be an int"):
        models["gan"].generate(2, seed=seed)
    with pytest.raises(ValueError, match="seed must be an int"):
        models["conditional_gan"].generate(2, seed=seed)


def test_generate_runs_big_counts_in_chunks_equal_to_one_batch(models):
    model = models["gan"]
    count = serving.MAX_SAMPLED_IMAGES * 2 + 5
    whole = model(model.latent_vectors(count, seed=3), training=False)
    got = model.generate(count, seed=3)
    assert got.shape == (count, 2)
    np.testing.assert_allclose(got.numpy(), whole.numpy(), rtol=0, atol=1e-6)
    # A count at most one chunk is one call of the network, as the `sample` signature makes it.
    np.testing.assert_array_equal(model.generate(7, seed=3).numpy(), model(model.latent_vectors(7, seed=3)).numpy())
    labels = np.arange(count) % 3
    conditional = models["conditional_gan"]
    np.testing.assert_allclose(
        conditional.generate(labels=labels, seed=2).numpy(),
        conditional([conditional.latent_vectors(count, 2), tf.constant(labels, tf.int32)]).numpy(), rtol=0, atol=1e-6,
    )
