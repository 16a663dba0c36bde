r"""Where a train step's time goes: TensorFlow profiler op times, summed by op type, per step.

Builds one model of `bench/throughput.py` (``--model``, at its benchmark size)
under a dtype policy, warms it up with ``fit``, then records ``--steps``
steps of ``fit`` with `tf.profiler.experimental` and reads the trace it
writes (the ``.xplane.pb`` of the host plane, parsed with TensorFlow's own
protobuf). Every op the executor ran is summed by its type (``Conv2D``,
``Conv2DBackpropFilter``, ``Cast``, ``FusedBatchNormV3``, ...) over all
threads. An op's duration is timed on the executor thread that runs it; the
threads its kernel fans out to (oneDNN's intra-op work) are not counted
again, so the op total over the wall time says how much ops overlap each
other (1.0: one after another), and the process's CPU time over the wall
time how many cores the step kept busy. The table gives each type's
milliseconds per step and share of the op total.

Example (about a minute on two CPU cores)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/profile_step.py --model=gan --policy=mixed_bfloat16 --steps=20

``--compare=float32,mixed_bfloat16`` profiles both in one process and prints
their op types side by side. Prints Markdown.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# An executor event's name is "<op name>:<op type>" (e.g. "generator/up0/conv2d_transpose:Conv2DBackpropInput"); its
# display name is the type alone. oneDNN kernels show as their "_Mkl..." types.
_OP_EVENT = re.compile(r"^(?P<name>[^:]+):(?P<type>[A-Za-z0-9_]+)$")


def op_times_by_type(xplane_path: str) -> collections.Counter:
    """Seconds per op type in one profiler ``.xplane.pb`` (host plane, every thread), from ``name:type`` events."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.Counter()
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                match = _OP_EVENT.match(names.get(event.metadata_id, ""))
                if match:
                    totals[match["type"]] += event.duration_ps * 1e-12
    return totals


def profile(model_name: str, policy: str, steps: int, jit_compile: bool = False, reuse_fakes: bool = False) -> dict:
    """``{"wall": seconds per step, "ops": {type: seconds per step}}`` for ``steps`` profiled steps of ``fit``."""
    import tensorflow as tf

    import throughput

    entry = throughput.warmed_up_entry(model_name, policy, jit_compile, 1.0, reuse_fakes=reuse_fakes)
    model, data = entry["model"], entry["data"]
    logdir = tempfile.mkdtemp(prefix="kgan_profile_")
    tf.profiler.experimental.start(logdir)
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    tf.profiler.experimental.stop()
    (path,) = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    return {"wall": wall / steps, "cpu": cpu / steps, "ops": {k: v / steps for k, v in op_times_by_type(path).items()}}


def format_table(profiles: dict, top: int = 25) -> str:
    """Markdown: op types (rows, by the first profile's time) x profiles (ms per step and % of their op time)."""
    names = list(profiles)
    first = profiles[names[0]]["ops"]
    types = sorted(set().union(*(p["ops"] for p in profiles.values())), key=lambda t: -first.get(t, 0.0))
    totals = {n: sum(p["ops"].values()) for n, p in profiles.items()}
    header = "| op type | " + " | ".join(f"{n} ms/step | {n} %" for n in names) + " |"
    lines = [header, "|" + " --- |" * (1 + 2 * len(names))]
    shown, rest = types[:top], types[top:]
    for t in shown:
        cells = [f"{1e3 * profiles[n]['ops'].get(t, 0.0):.2f} | {100 * profiles[n]['ops'].get(t, 0.0) / totals[n]:.1f}" for n in names]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    if rest:
        cells = [f"{1e3 * sum(profiles[n]['ops'].get(t, 0.0) for t in rest):.2f} | "
                 f"{100 * sum(profiles[n]['ops'].get(t, 0.0) for t in rest) / totals[n]:.1f}" for n in names]
        lines.append(f"| ({len(rest)} other types) | " + " | ".join(cells) + " |")
    lines.append("| **all ops (thread time)** | " + " | ".join(f"{1e3 * totals[n]:.1f} | 100" for n in names) + " |")
    lines.append("| **wall time per step** | " + " | ".join(f"{1e3 * profiles[n]['wall']:.1f} | -" for n in names) + " |")
    lines.append("| **ops side by side** (op time / wall) | " + " | ".join(f"{totals[n] / profiles[n]['wall']:.2f} | -" for n in names) + " |")
    lines.append("| **cores used** (process CPU time / wall) | " + " | ".join(f"{profiles[n]['cpu'] / profiles[n]['wall']:.2f} | -" for n in names) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="gan", help="A model of bench/throughput.py: gan, wgan_gp, conditional_gan, cycle_gan, star_gan.")
    parser.add_argument("--compare", default="float32,mixed_bfloat16", help="Comma-separated dtype policies to profile side by side.")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--xla", action="store_true", help="compile(jit_compile=True).")
    parser.add_argument("--reuse_fakes", action="store_true", help="GAN(reuse_fakes=True) (gan only).")
    parser.add_argument("--top", type=int, default=25, help="Op types shown (the rest summed in one row).")
    args = parser.parse_args(argv)
    profiles = {policy: profile(args.model, policy, args.steps, args.xla, args.reuse_fakes) for policy in args.compare.split(",")}
    print(f"{args.model}, {args.steps} profiled steps of fit, XLA {'on' if args.xla else 'off'}"
          f"{', reuse_fakes' if args.reuse_fakes else ''}:\n")
    print(format_table(profiles, args.top))


if __name__ == "__main__":
    main()
