r"""Training throughput under process-wide settings (thread pools, oneDNN), side by side: which setting is faster?

Thread-pool sizes and oneDNN switches are read once, when TensorFlow starts,
so each setting needs its own process. For every round and every setting in
turn (``--settings``, ``name=VAR=value,VAR=value;...``), a fresh child builds
one model of `bench/throughput.py` (``--model``, ``--policy``), warms it up
and times ``--windows`` steady-state windows inside one `fit`
(`throughput.fit_window_rates`), and reports their median and the cores its
process kept busy (CPU time over wall time). Settings alternate within each
round, so a slow spell of a shared machine hits them alike; the table gives
each setting's median over rounds and its per-round ratio to the first.

Example (about 8 minutes on two CPU cores)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/environment_ab.py --model=gan --policy=float32 \
        --settings="default=;inter_op_1=TF_NUM_INTEROP_THREADS=1" --rounds=3

Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_settings(text: str) -> dict:
    """``"a=;b=X=1,Y=2"`` -> ``{"a": {}, "b": {"X": "1", "Y": "2"}}`` (order kept)."""
    settings = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, assignments = item.partition("=")
        variables = {}
        for assignment in filter(None, assignments.split(",")):
            key, separator, value = assignment.partition("=")
            if not separator:
                raise ValueError(f"Setting {name!r}: {assignment!r} is not VAR=value.")
            variables[key.strip()] = value.strip()
        settings[name.strip()] = variables
    if not settings:
        raise ValueError("--settings names no setting.")
    return settings


def child(model_name: str, policy: str, windows: int, seconds: float) -> dict:
    """In a fresh process: the median images/s of ``windows`` fit windows and the cores the process used."""
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(HERE))
    import numpy as np

    import throughput

    entry = throughput.warmed_up_entry(model_name, policy, False, seconds)
    wall, cpu = time.perf_counter(), time.process_time()
    rates = throughput.fit_window_rates(entry, windows)
    cores = (time.process_time() - cpu) / (time.perf_counter() - wall)
    return {"images_per_second": float(np.median(rates)), "windows": rates, "cores": cores}


def run_child(variables: dict, args) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **variables)
    code = (f"import sys, json; sys.path.insert(0, {HERE!r}); import environment_ab; "
            f"print(json.dumps(environment_ab.child({args.model!r}, {args.policy!r}, {args.windows}, {args.seconds})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode:
        raise RuntimeError(f"{variables} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def format_table(results: dict) -> str:
    """Markdown: one row per setting, medians over rounds and per-round ratios to the first setting."""
    import statistics

    names = list(results)
    first = results[names[0]]
    lines = ["| setting | images/s (median of rounds) | per round | cores used | vs first (median of per-round ratios) |",
             "| --- | --- | --- | --- | --- |"]
    for name in names:
        rates = [r["images_per_second"] for r in results[name]]
        ratios = [a["images_per_second"] / b["images_per_second"] for a, b in zip(results[name], first)]
        cores = statistics.median(r["cores"] for r in results[name])
        lines.append(f"| {name} | {statistics.median(rates):,.0f} | {', '.join(f'{r:,.0f}' for r in rates)} | {cores:.2f} | "
                     f"{statistics.median(ratios):.3f} ({min(ratios):.2f}-{max(ratios):.2f}) |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="gan")
    parser.add_argument("--policy", default="float32")
    parser.add_argument("--settings", default="default=;inter_op_1=TF_NUM_INTEROP_THREADS=1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args(argv)
    settings = parse_settings(args.settings)
    results = {name: [] for name in settings}
    for round_index in range(args.rounds):
        for name, variables in settings.items():
            results[name].append(run_child(variables, args))
            print(f"round {round_index}: {name}: {results[name][-1]['images_per_second']:,.0f} images/s", file=sys.stderr, flush=True)
    print(f"{args.model}, {args.policy}, {args.rounds} rounds of {args.windows} fit windows of ~{args.seconds:g} s:\n")
    print(format_table(results))


if __name__ == "__main__":
    main()
