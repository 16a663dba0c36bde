r"""Training throughput of every model: images/s, achieved FLOP/s against a measured matmul peak, peak memory.

For each model (at its demo/paper-like size on 28x28 data), one subprocess
builds every variant -- dtype policy float32 or mixed_bfloat16, XLA off or
on -- warms each up (tracing, XLA compilation), then runs ``--repeats``
rounds of one long ``model.fit`` per variant, interleaved, on an in-memory
batch (no input pipeline in the numbers). A callback times ``--windows``
windows of about ``--seconds`` inside each ``fit``, after an untimed first
one that holds ``fit``'s start-up: steady state, as users run it, in
windows long enough that a one-off stall is one window among many. It
reports the median images/s over all windows. In the same run it times:

* ``<model>_baseline``: a plain float32 Keras ``train_step`` over the same
  networks doing the same work per step -- the pattern of the keras-io
  examples (one tape per update, losses inline, no dtype policy, no XLA;
  `bench/baselines.py`) -- so every row reads as a ratio to its model's;
* ``<model>_unchecked``: the model (float32, no XLA) with its in-graph
  check of every batch's values turned off (``check_every_batch = False``,
  `kgan.data.graph_checks`), which prices that check;
* ``<model>_train_function``: the float32 model's compiled ``train_function``
  called in a bare loop, without ``fit``'s epoch iterator, callbacks and
  logs, interleaved with its ``fit`` windows: the ratio prices ``fit``'s
  machinery;
* ``gan_reuse_fakes``: ``kgan.GAN(reuse_fakes=True)`` (one generator
  forward pass per step, as the pytorch/examples DCGAN loop);
* ``peak``: a 4096x4096 matmul in float32 and bfloat16 (median of 5), the
  FLOP/s ceiling the utilisation column refers to.

FLOPs per train step are counted by TensorFlow's profiler on the traced
(non-XLA, float32) train step: convolutions, their gradients and matmuls.
Peak memory is the maximum resident set size of a model's subprocess, which
holds all its variants at once (and TensorFlow itself, ~0.6 GB).

Example (about 25 minutes on two CPU cores; ``--repeats=1 --windows=2`` for a quick look)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/throughput.py --models=gan,wgan_gp,conditional_gan,cycle_gan,star_gan \
        --json_out=/tmp/throughput.json

``--variants=float32,unchecked --repeats=9`` times only the batch check's cost: as
the ratio of whole steps with and without it (which a shared machine's noise
swamps at this size) and as the check alone (median of 5 x 200 calls of the
compiled check on the same batch) over the step's time.

Prints a Markdown table. Machines here are shared: compare rows as ratios
measured in one run, not against numbers from another day.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = ("gan", "wgan_gp", "conditional_gan", "cycle_gan", "star_gan")
VARIANTS = (("float32", False), ("float32", True), ("mixed_bfloat16", False), ("mixed_bfloat16", True))
VARIANT_NAMES = {"float32": VARIANTS[0], "float32_xla": VARIANTS[1], "bfloat16": VARIANTS[2], "bfloat16_xla": VARIANTS[3]}
EXTRA_VARIANTS = ("baseline", "unchecked", "train_function", "reuse_fakes")


# ---------------------------------------------------------------------- models


def repeated_batch_dataset(batch):
    """``batch`` (arrays or a tuple of them) repeated forever, as a `tf.data.Dataset`, with tf.data's autotuning off.

    With autotuning on, every iterator starts a model thread whose sleeps
    double from 10 ms (10, 20, ..., 2,560 ms) and are not cut short when the
    iterator is deleted (TF 2.21): a `fit` call's teardown can wait until
    the next boundary at 0.63, 1.27, 2.55, 5.11, 10.23, ... s of the
    iterator's life (`bench/fit_teardown.py`: 2.0-2.3 s idle after 12 DCGAN
    steps in 5 of 6 calls).
    A bench that calls `fit` per window would count that wait. This pipeline
    has nothing to tune (one batch, repeated), so turning autotuning off
    changes nothing else.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensors(batch).repeat().with_options(options)


def _build(name: str, jit_compile: bool, reuse_fakes: bool = False):
    """``(model, batch, images_per_step)`` for one model at its benchmark size.

    ``<model>_baseline`` builds the same networks under the plain Keras
    ``train_step`` of `bench/baselines.py` (float32, no XLA). ``reuse_fakes``:
    ``kgan.GAN(reuse_fakes=True)`` (the ``gan`` model only).
    """
    import keras
    import numpy as np

    import kgan
    from kgan import networks

    import baselines

    unchecked = name.endswith("_unchecked")
    name = name.removesuffix("_unchecked")
    model_name, baseline = name.removesuffix("_baseline"), name.endswith("_baseline")
    rng = np.random.default_rng(0)
    images = lambda n, c=1: rng.uniform(-1, 1, (n, 28, 28, c)).astype(np.float32)  # noqa: E731
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    if model_name == "gan":
        generator, discriminator = networks.dcgan_generator(100, (28, 28, 1), 64), networks.dcgan_discriminator((28, 28, 1), 64)
        model = (baselines.DCGANBaseline(generator, discriminator, 100) if baseline
                 else kgan.GAN(generator, discriminator, 100, reuse_fakes=reuse_fakes))
        batch = images(256)
    elif model_name == "wgan_gp":
        generator = networks.dcgan_generator(100, (28, 28, 1), 64)
        critic = networks.dcgan_discriminator((28, 28, 1), 64, "layer")
        model = baselines.WGANGPBaseline(generator, critic, 100) if baseline else kgan.WGANGP(generator, critic, 100)
        batch = images(5 * 64)  # n_critic 5 minibatches of 64
    elif model_name == "conditional_gan":
        generator = networks.conditional_dcgan_generator(100, 10, (28, 28, 1), 64)
        discriminator = networks.conditional_dcgan_discriminator((28, 28, 1), 10, base_filters=64)
        model = (baselines.ConditionalGANBaseline(generator, discriminator, 100, 10) if baseline
                 else kgan.ConditionalGAN(generator, discriminator, 100, 10))
        batch = (images(256), rng.integers(0, 10, 256).astype(np.int32))
    elif model_name == "cycle_gan":  # the demo preset's networks
        shape = (28, 28, 1)
        nets = (
            networks.resnet_generator(shape, base_filters=16, num_residual_blocks=3),
            networks.resnet_generator(shape, base_filters=16, num_residual_blocks=3),
            networks.patch_discriminator(shape, 16, 2),
            networks.patch_discriminator(shape, 16, 2),
        )
        model = baselines.CycleGANBaseline(*nets) if baseline else kgan.CycleGAN(*nets)
        batch = (images(16), images(16))
    elif model_name == "star_gan":  # the demo preset's networks
        shape = (28, 28, 3)
        generator = networks.resnet_generator(
            shape, condition_dim=4, base_filters=16, num_residual_blocks=2, padding="zero", sampling_kernel_size=4
        )
        discriminator = networks.multi_task_patch_discriminator(shape, 4, 16, 3)
        model = (baselines.StarGANBaseline(generator, discriminator, n_critic=2) if baseline
                 else kgan.StarGAN(generator, discriminator, 4, discriminator_steps=2))
        batch = (images(32, 3), rng.integers(0, 2, (32, 4)).astype(np.float32))
    else:
        raise ValueError(f"Unknown model {name!r}; choose from {MODELS}.")
    if reuse_fakes and model_name != "gan":
        raise ValueError("reuse_fakes applies to the gan model only.")
    if baseline:
        # The generator-side optimizer first for CycleGAN (its pair order), the critic's first otherwise.
        model.compile(adam(), adam())
    else:
        model.compile(jit_compile=jit_compile)
        model.check_every_batch = not unchecked
    # Images a step reads: both domains for CycleGAN, the images of (images, labels) otherwise.
    images_per_step = 2 * len(batch[0]) if model_name == "cycle_gan" else len(batch[0] if isinstance(batch, tuple) else batch)
    return model, batch, images_per_step


# ---------------------------------------------------------------------- measurements


def _step_flops(model, batch) -> float:
    """FLOPs of one train step, counted by the TF profiler on the traced (non-XLA) step."""
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    spec = tf.nest.map_structure(lambda x: tf.TensorSpec(x.shape, tf.as_dtype(x.dtype)), batch)
    concrete = tf.function(model.train_step).get_concrete_function(spec)
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(model_analyzer.profile(concrete.graph, options=options).total_float_ops)


def check_seconds(model, batch, calls: int = 200, rounds: int = 5) -> float:
    """Median seconds of the in-graph check of one batch on its own (`kgan.data.graph_checks`), compiled like a step."""
    import numpy as np
    import tensorflow as tf

    from kgan.data import graph_checks

    tensors = tf.nest.map_structure(tf.constant, batch)
    check = tf.function(lambda b: graph_checks.assert_batch_values(model.batch_value_checks(b), tf.constant(0, tf.int64)))
    check(tensors)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            check(tensors)
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def window_timer(steps: int):
    """A Keras callback that records the seconds of every ``steps`` batches of one long `fit` (``.durations``, in order)."""
    import keras

    class WindowTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.durations = []

        def on_train_begin(self, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % steps == 0:
                now = time.perf_counter()
                self.durations.append(now - self._start)
                self._start = now

    return WindowTimer()


def warmed_up_entry(model_name: str, policy: str, jit_compile: bool, seconds: float, reuse_fakes: bool = False) -> dict:
    """One variant, built under ``policy``, traced and warmed up: ``{"model", "batch", "data", "steps", "images_per_step"}``.

    ``steps`` makes a window of about ``seconds``, from the time of 3 steps
    after tracing (at least 3).
    """
    import keras

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    try:
        model, batch, images_per_step = _build(model_name, jit_compile, reuse_fakes=reuse_fakes)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    data = repeated_batch_dataset(batch)
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # tracing + compilation
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)
    steps = max(3, int(seconds / max((time.perf_counter() - start) / 3, 1e-3)))
    return {"model": model, "batch": batch, "data": data, "steps": steps, "images_per_step": images_per_step}


def fit_window_rates(entry: dict, windows: int) -> list:
    """images/s of ``windows`` windows inside one `fit` call (what users run), after one untimed window.

    The first window holds `fit`'s start-up (its iterator, callbacks and the
    first step's checks) and is dropped: the rest are steady state.
    """
    timer = window_timer(entry["steps"])
    entry["model"].fit(entry["data"], steps_per_epoch=entry["steps"] * (windows + 1), epochs=1, verbose=0, callbacks=[timer])
    return [entry["steps"] * entry["images_per_step"] / t for t in timer.durations[1:]]


def train_function_window_rates(entry: dict, windows: int) -> list:
    """images/s of ``windows`` windows of the model's compiled ``train_function`` called in a bare loop (no `fit`).

    The same work per step as `fit_window_rates` without `fit`'s machinery
    (its epoch iterator, callbacks, logs), so the ratio of the two prices that
    machinery. One untimed window first, as there.
    """
    model = entry["model"]
    model.make_train_function()
    iterator = iter(entry["data"])
    rates = []
    for window in range(windows + 1):
        start = time.perf_counter()
        for _ in range(entry["steps"]):
            logs = model.train_function(iterator)
        float(next(iter(logs.values())))  # The window ends when its last step has.
        if window:
            rates.append(entry["steps"] * entry["images_per_step"] / (time.perf_counter() - start))
    return rates


def measure_model(name: str, repeats: int, seconds: float, variant_names=tuple(VARIANT_NAMES) + EXTRA_VARIANTS,
                  windows: int = 3) -> list:
    """Runs in a subprocess: every variant of one model, timed in steady-state windows, interleaved.

    All variants (and the model's plain-Keras baseline) are built and warmed
    up first; then each of ``repeats`` rounds runs one `fit` per variant in
    turn, timing ``windows`` windows of about ``seconds`` inside it after an
    untimed one (`fit_window_rates`), so slow spells of a shared machine hit
    every variant alike and `fit`'s start-up is not in the numbers. The
    ``train_function`` variant times the float32 model's compiled step in a
    bare loop (`train_function_window_rates`) beside its `fit`. The median
    over all windows is reported.
    """
    import numpy as np

    variants = [(f"{name}_baseline", "float32", False)] if "baseline" in variant_names else []
    variants += [(name, *VARIANT_NAMES[v]) for v in VARIANT_NAMES if v in variant_names]
    if "unchecked" in variant_names:
        variants.append((f"{name}_unchecked", "float32", False))
    if "reuse_fakes" in variant_names and name == "gan":
        variants.append(("gan_reuse_fakes", "float32", False))
    built = []
    for model_name, policy, xla in variants:
        reuse = model_name.endswith("_reuse_fakes")
        entry = warmed_up_entry(model_name.removesuffix("_reuse_fakes"), policy, xla, seconds, reuse_fakes=reuse)
        entry.update(name=model_name, policy=policy, xla=xla, rates=[], timer=fit_window_rates)
        built.append(entry)
        if "train_function" in variant_names and model_name == name and policy == "float32" and not xla:
            built.append({**entry, "name": f"{name}_train_function", "rates": [], "timer": train_function_window_rates})
    for _ in range(repeats):
        for entry in built:
            entry["rates"].extend(entry["timer"](entry, windows))
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = []
    for entry in built:
        result = {
            "model": entry["name"], "policy": entry["policy"], "xla": entry["xla"],
            "images_per_second": float(np.median(entry["rates"])), "runs": entry["rates"],
            "steps_per_window": entry["steps"], "images_per_step": entry["images_per_step"], "peak_rss_mb": peak_rss,
        }
        if entry["policy"] == "float32" and not entry["xla"] and entry["name"] == name:
            result["flops_per_step"] = _step_flops(entry["model"], entry["batch"])
            result["check_seconds"] = check_seconds(entry["model"], entry["batch"])
        if entry["name"].endswith("_reuse_fakes"):  # Less work per step than the model's: counted on its own.
            result["flops_per_step"] = _step_flops(entry["model"], entry["batch"])
        results.append(result)
    return results


def matmul_peak(dtype_name: str, n: int = 4096, repeats: int = 5) -> float:
    """Median FLOP/s of an n x n matmul in ``dtype_name``."""
    import numpy as np
    import tensorflow as tf

    dtype = tf.as_dtype(dtype_name)
    a = tf.cast(tf.random.normal([n, n]), dtype)
    b = tf.cast(tf.random.normal([n, n]), dtype)
    matmul = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32)))
    matmul()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul().numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(times))


def _run_child(args) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(args)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise RuntimeError(f"{args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def format_table(results: list, peaks: dict) -> str:
    import numpy as np

    flops = {r["model"]: r["flops_per_step"] for r in results if "flops_per_step" in r}
    baselines = {r["model"].removesuffix("_baseline"): r["images_per_second"] for r in results if r["model"].endswith("_baseline")}
    unchecked = {r["model"].removesuffix("_unchecked"): r for r in results if r["model"].endswith("_unchecked")}
    float32 = {(r["model"], r["xla"]): r["images_per_second"] for r in results if r["policy"] == "float32"}
    lines = [
        f"matmul peak (4096^2): float32 {peaks['float32'] / 1e9:.0f} GFLOP/s, bfloat16 {peaks['bfloat16'] / 1e9:.0f} GFLOP/s",
        "",
        "| model | policy | XLA | images/s (median) | vs plain-Keras baseline | vs float32, same XLA | GFLOP/s | % of matmul peak | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = []
    machinery = {r["model"].removesuffix("_train_function"): r for r in results if r["model"].endswith("_train_function")}
    for r in results:
        if r["model"].endswith(("_unchecked", "_train_function")):
            continue
        model = r["model"].removesuffix("_baseline").removesuffix("_reuse_fakes")
        rate = r["images_per_second"]
        step_flops = flops.get(r["model"], flops.get(model))
        achieved = step_flops * rate / r["images_per_step"] if step_flops else None
        peak = peaks["bfloat16" if r["policy"] == "mixed_bfloat16" else "float32"]
        versus_baseline = f"{rate / baselines[model]:.2f}x" if model in baselines else "-"
        versus_float32 = f"{rate / float32[(model, r['xla'])]:.2f}x" if (model, r["xla"]) in float32 else "-"
        lines.append(
            f"| {r['model']} | {r['policy']} | {'on' if r['xla'] else 'off'} | {rate:,.0f} | {versus_baseline} | {versus_float32} | "
            f"{(achieved or 0) / 1e9:.1f} | {100 * achieved / peak if achieved else 0:.0f} % | {r['peak_rss_mb']:.0f} MB |"
        )
    if unchecked:
        rows += ["", "Cost of the in-graph check of every batch (float32, XLA off; per-round ratios, interleaved windows):", "",
                 "| model | checked images/s | unchecked images/s | checked / unchecked (median of rounds) | the check alone | step | check / step |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        for model, plain in unchecked.items():
            checked = next(r for r in results if r["model"] == model and r["policy"] == "float32" and not r["xla"])
            ratios = [a / b for a, b in zip(checked["runs"], plain["runs"])]
            step = checked["images_per_step"] / checked["images_per_second"]
            rows.append(f"| {model} | {checked['images_per_second']:,.0f} | {plain['images_per_second']:,.0f} | "
                        f"{float(np.median(ratios)):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f}) | "
                        f"{checked['check_seconds'] * 1e3:.3f} ms | {step * 1e3:.1f} ms | {100 * checked['check_seconds'] / step:.2f} % |")
    if machinery:
        rows += ["", "Cost of fit's machinery (float32, XLA off): fit windows against the compiled train_function in a bare loop, "
                 "interleaved; per-window ratios:", "",
                 "| model | fit images/s | train_function images/s | fit / train_function (median) | range |",
                 "| --- | --- | --- | --- | --- |"]
        for model, bare in machinery.items():
            fitted = next(r for r in results if r["model"] == model and r["policy"] == "float32" and not r["xla"])
            ratios = [a / b for a, b in zip(fitted["runs"], bare["runs"])]
            rows.append(f"| {model} | {fitted['images_per_second']:,.0f} | {bare['images_per_second']:,.0f} | "
                        f"{float(np.median(ratios)):.3f} | {min(ratios):.3f}-{max(ratios):.3f} |")
    return "\n".join(lines + rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=3, help="Rounds: one fit per variant each, interleaved.")
    parser.add_argument("--windows", type=int, default=3, help="Timed windows inside each fit (after an untimed one); the median of all is reported.")
    parser.add_argument("--seconds", type=float, default=5.0, help="Approximate length of one timed window.")
    parser.add_argument("--variants", default=",".join((*VARIANT_NAMES, *EXTRA_VARIANTS)),
                        help=f"Comma-separated subset of {', '.join((*VARIANT_NAMES, *EXTRA_VARIANTS))}.")
    parser.add_argument("--json_out", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        job = json.loads(args.child)
        if job["kind"] == "peak":
            print(json.dumps({"float32": matmul_peak("float32"), "bfloat16": matmul_peak("bfloat16")}))
        else:
            print(json.dumps(measure_model(job["model"], args.repeats, args.seconds, job["variants"], args.windows)))
        return
    peaks = _run_child({"kind": "peak"})
    results = []
    for model in args.models.split(","):
        results.extend(_run_child({"kind": "model", "model": model, "variants": args.variants.split(",")}))
        for r in results:
            if r["model"] in (model, f"{model}_baseline", f"{model}_unchecked"):
                print(f"{r['model']} {r['policy']} XLA={r['xla']}: {r['images_per_second']:,.0f} images/s", file=sys.stderr, flush=True)
    table = format_table(results, peaks)
    print(table)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({"peaks": peaks, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
