r"""Training throughput of two checkouts of kgan side by side: did a change make a model slower?

For each model, a child process per checkout (``--trees``, e.g. the commit
before a change in a ``git worktree`` and the working copy) builds the
model at `bench/throughput.py`'s benchmark size (float32, no XLA) and its
plain-Keras baseline (`bench/baselines.py`), warms both up, then times
``--repeats`` interleaved ``fit`` windows of each and reports the medians.
The children of the two checkouts alternate, ``--rounds`` times, so slow
spells of a shared machine hit both alike. The baseline's code is the same
in both (it does not import kgan's models), so the ratio kgan / baseline is
the checkout's speed with the machine's drift divided out; the table compares
those ratios.

Example (about 12 minutes on two CPU cores)::

    git worktree add /tmp/kgan_before <commit>
    TF_CPP_MIN_LOG_LEVEL=3 python bench/throughput_ab.py --trees=/tmp/kgan_before,. --json_out=/tmp/ab.json

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ("gan", "wgan_gp", "conditional_gan", "cycle_gan", "star_gan")


def measure(model_name: str, repeats: int, seconds: float) -> dict:
    """Runs in a child whose ``sys.path`` starts at one checkout: medians of kgan's and the baseline's images/s."""
    import numpy as np
    import tensorflow as tf

    import throughput  # This checkout's bench/throughput.py (and so its kgan).

    entries = []
    for name in (model_name, f"{model_name}_baseline"):
        model, batch, images_per_step = throughput._build(name, jit_compile=False)
        # Built here, not by the checkout's throughput.py, which may predate repeated_batch_dataset:
        # autotuning off, or each fit call's end waits for tf.data's autotune thread (see there).
        options = tf.data.Options()
        options.autotune.enabled = False
        data = tf.data.Dataset.from_tensors(batch).repeat().with_options(options)
        model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # Tracing.
        start = time.perf_counter()
        model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)
        steps = max(3, int(seconds / max((time.perf_counter() - start) / 3, 1e-3)))
        entries.append({"model": model, "data": data, "steps": steps, "images_per_step": images_per_step, "rates": []})
    for _ in range(repeats):
        for entry in entries:
            start = time.perf_counter()
            entry["model"].fit(entry["data"], steps_per_epoch=entry["steps"], epochs=1, verbose=0)
            entry["rates"].append(entry["steps"] * entry["images_per_step"] / (time.perf_counter() - start))
    kgan_rate, baseline_rate = (float(np.median(e["rates"])) for e in entries)
    return {"kgan": kgan_rate, "baseline": baseline_rate, "ratio": kgan_rate / baseline_rate}


def _child(tree: str, model: str, repeats: int, seconds: float) -> dict:
    code = (
        f"import sys; sys.path[:0] = [{os.path.join(os.path.abspath(tree), 'bench')!r}, {os.path.abspath(tree)!r}]; "
        f"sys.path.insert(2, {HERE!r}); import json, throughput_ab; "
        f"print(json.dumps(throughput_ab.measure({model!r}, {repeats}, {seconds})))"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800, env=env, cwd=tree)
    if out.returncode:
        raise RuntimeError(f"{tree} {model} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", required=True, help="Two checkouts, before,after.")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rounds", type=int, default=2, help="Children per checkout and model (alternating).")
    parser.add_argument("--repeats", type=int, default=5, help="Timed windows per network set in a child.")
    parser.add_argument("--seconds", type=float, default=3.0, help="Approximate length of one window.")
    parser.add_argument("--json_out", default=None)
    args = parser.parse_args(argv)
    before, after = args.trees.split(",")
    import numpy as np

    rows, raw = [], {}
    for model in args.models.split(","):
        ratios = {"before": [], "after": []}
        for round_index in range(args.rounds):
            order = (("before", before), ("after", after)) if round_index % 2 == 0 else (("after", after), ("before", before))
            for side, tree in order:
                result = _child(tree, model, args.repeats, args.seconds)
                raw.setdefault(model, []).append({"side": side, **result})
                ratios[side].append(result["ratio"])
                print(f"{model} {side}: kgan {result['kgan']:,.0f} img/s, baseline {result['baseline']:,.0f}, "
                      f"ratio {result['ratio']:.3f}", file=sys.stderr, flush=True)
        b, a = float(np.median(ratios["before"])), float(np.median(ratios["after"]))
        rows.append(f"| {model} | {b:.3f} | {a:.3f} | {a / b:.3f} |")
    print("| model | before: kgan / baseline | after: kgan / baseline | after / before |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
