r"""kgan against PyTorch re-implementations with identical layers: training images/s, side by side, on this CPU.

Example (all models, float32 and bfloat16, 5 rounds of ~2 s windows -- 2 s
rather than 3 to fit in about 25 minutes on two CPU cores: 21 min for
docs/results/vs_pytorch.json, 7.5 of them warm-up, a third of it all
cycle_gan256's)::

    python bench/vs_pytorch.py --json_out=docs/results/vs_pytorch.json
    python bench/vs_pytorch.py --models=gan28 --precisions=float32 --rounds=1 --seconds=1   # a quick look, ~1 min
    python bench/vs_pytorch.py --from_json=docs/results/vs_pytorch.json                      # reprint a saved run

Models (kgan's builders; bench/torch_models.py repeats them layer for layer in
PyTorch, and the bench refuses to time anything unless every network has the
same trainable and non-trainable parameter counts on both sides):

* ``gan28``: ``kgan.GAN(dcgan_generator(100, (28, 28, 1), 64),
  dcgan_discriminator((28, 28, 1), 64), 100)``, batch 256;
* ``gan64``: the same at (64, 64, 3), batch 64 (pytorch/examples' DCGAN
  default batch and size);
* ``wgan_gp``: ``kgan.WGANGP`` with a layer-normalised critic, n_critic 5 x
  minibatches of 64 = 320 images per step;
* ``cycle_gan_demo``: the networks and options of CycleGAN's ``demo`` preset
  (kgan/configs/translation.py: 16 filters, 3 residual blocks, one stride-2
  layer, 2-layer PatchGANs, identity weight 0, pools of 50), batch 16 pairs;
* ``cycle_gan256``: ``resnet_generator((256, 256, 3))`` and
  ``patch_discriminator((256, 256, 3))`` defaults, ``kgan.CycleGAN``
  defaults (identity 0.5, pools of 50), batch 1 pair. A step takes 10-40 s
  on two shared cores, so its windows are one step, its warm-up one step,
  and it runs in at most 3 rounds.

Images/s count the real images a train step reads (both domains for
CycleGAN). One train step does the same work on both sides (see
bench/torch_models.py). Variants per model and precision:

* kgan: ``kgan`` (``model.fit``, what users run) and ``kgan_xla``
  (``compile(jit_compile=True)``); for the GANs also ``kgan_reuse_fakes``
  (``kgan.GAN(..., reuse_fakes=True)``: one G forward per step) and
  ``kgan_reuse_fakes_xla``. bfloat16 = ``keras.mixed_precision`` policy
  ``mixed_bfloat16`` while the model is built.
* PyTorch: ``torch_nchw`` and ``torch_channels_last`` memory formats; for the
  GANs ``torch_examples_*``, the pytorch/examples DCGAN step (one G forward
  per iteration), the counterpart of ``reuse_fakes``; with
  ``--torch_compile``, ``torch_compile`` (``torch.compile`` of every network,
  NCHW; dropped if its warm-up takes over 3 minutes; none for wgan_gp:
  torch 2.13's AOTAutograd does not do the penalty's double backward). bfloat16 =
  ``torch.autocast("cpu", dtype=torch.bfloat16)`` around the forwards.
  ``torch.set_num_threads(--torch_threads)`` (default: os.cpu_count());
  TensorFlow keeps its default thread pools.

Protocol (the machine is shared and noisy): two long-lived worker processes,
one importing only TensorFlow/kgan, one only torch, each building and warming
up all its variants first (tracing, XLA compilation, a step or more, which
sets the steps of a window to ~``--seconds``). Then ``--rounds`` rounds: in
each, every variant runs one window, kgan and PyTorch variants alternating
(which side starts alternates by round), while the parent -- idle, waiting
on a pipe -- records the CPU that *other* processes used during the window:
busy jiffies of /proc/stat minus both workers' and its own utime + stime,
over the window's wall time, in cores, and the cores the active worker
itself used. Reported: the median images/s per variant, per (kgan,
PyTorch) pair the per-round ratios and their median, and per model x
precision the headline ratio of kgan's best variant over the fastest
PyTorch variant doing the same work (and separately reuse_fakes against the
pytorch/examples step). kgan windows are ``model.fit`` calls on
``tf.data.Dataset.from_tensors(batch).repeat()`` (tf.data's autotuning off:
its model thread holds each iterator's teardown, so each fit call's end, until
the next of its doubling sleeps ends -- up to 2.6 s after a 2.5 s window in
TF 2.21, which an earlier run of this bench counted as kgan's time) with
``steps_per_epoch=n``, so each includes fit's per-call overhead; fit returns
after the work.

PyTorch is optional (``pip install -e ".[bench]"``); nothing else in kgan or
its tests needs it. Prints Markdown tables; compare ratios measured in one
run, not absolute numbers from another day.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

#: Every model of the bench: what both sides build (kgan's side reads the same numbers from its builders/presets).
MODELS = {
    "gan28": {"kind": "gan", "image_shape": (28, 28, 1), "batch": 256, "latent_dim": 100, "base_filters": 64},
    "gan64": {"kind": "gan", "image_shape": (64, 64, 3), "batch": 64, "latent_dim": 100, "base_filters": 64},
    "wgan_gp": {"kind": "wgan_gp", "image_shape": (28, 28, 1), "minibatch": 64, "n_critic": 5, "latent_dim": 100,
                "base_filters": 64, "penalty_weight": 10.0},
    "cycle_gan_demo": {"kind": "cycle_gan", "image_shape": (28, 28, 1), "batch": 16, "base_filters": 16, "num_downsampling": 1,
                       "num_residual_blocks": 3, "discriminator_layers": 2, "identity": 0.0, "cycle": 10.0, "pool_size": 50},
    # One step takes 10-40 s on 2 shared cores (longer than any window), so its windows are one step
    # each, warmed up by one step, and it runs in at most 3 rounds: with 5 it alone would take ~15 min.
    "cycle_gan256": {"kind": "cycle_gan", "image_shape": (256, 256, 3), "batch": 1, "base_filters": 64, "num_downsampling": 2,
                     "num_residual_blocks": 9, "discriminator_layers": 3, "identity": 0.5, "cycle": 10.0, "pool_size": 50,
                     "one_step_windows": True, "max_rounds": 3},
}
PRECISIONS = ("float32", "bfloat16")
#: name -> (reuse_fakes, XLA). The reuse_fakes rows exist for the GANs only.
KGAN_VARIANTS = {"kgan": (False, False), "kgan_xla": (False, True), "kgan_reuse_fakes": (True, False), "kgan_reuse_fakes_xla": (True, True)}
#: name -> (step, channels_last, torch.compile). "examples": the pytorch/examples DCGAN step (GANs only).
TORCH_VARIANTS = {
    "torch_nchw": ("default", False, False), "torch_channels_last": ("default", True, False),
    "torch_examples_nchw": ("examples", False, False), "torch_examples_channels_last": ("examples", True, False),
    "torch_compile": ("default", False, True),
}
#: The work a variant does per step: kgan's train_step, or one G forward per step (reuse_fakes / pytorch/examples).
WORK_NAMES = {"train_step": "kgan's train_step (fresh z for G's update)", "reuse_fakes": "one G forward per step (pytorch/examples)"}
TORCH_COMPILE_LIMIT_SECONDS = 180
#: A round counts as quiet when other processes used less than this many cores during both windows of a pair.
QUIET_CORES = 0.25
INSTALL_HINT = (
    'bench/vs_pytorch.py needs PyTorch: pip install -e ".[bench]" (on a machine without a GPU, install the CPU wheel '
    "first: pip install torch --index-url https://download.pytorch.org/whl/cpu)."
)


def images_per_step(spec: dict) -> int:
    """Real images one train step reads: the batch (GAN), n_critic minibatches (WGAN-GP), both domains (CycleGAN)."""
    if spec["kind"] == "wgan_gp":
        return spec["minibatch"] * spec["n_critic"]
    if spec["kind"] == "cycle_gan":
        return 2 * spec["batch"]
    return spec["batch"]


def variant_work(name: str) -> str:
    """``"reuse_fakes"`` for the one-G-forward variants (kgan reuse_fakes, pytorch/examples), else ``"train_step"``."""
    return "reuse_fakes" if ("reuse_fakes" in name or "examples" in name) else "train_step"


def variant_side(name: str) -> str:
    return "kgan" if name.startswith("kgan") else "torch"


def variant_key(model: str, precision: str, name: str) -> str:
    return f"{model}/{precision}/{name}"


def steps_for_window(step_seconds: float, seconds: float) -> int:
    """Steps of one window of about ``seconds`` (at least 1) at ``step_seconds`` a step."""
    return max(1, int(round(seconds / max(step_seconds, 1e-6))))


# ---------------------------------------------------------------------- CPU accounting (pure)


def cpu_ticks(proc_stat: str) -> dict:
    """``{"busy": ticks, "steal": ticks}`` of the machine-wide ``cpu`` line of /proc/stat's text.

    busy = user + nice + system + irq + softirq (guest time is already in user
    and nice); idle and iowait are not busy; steal (time the hypervisor gave
    other guests) is kept apart.
    """
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:]] + [0] * 10
            user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
            return {"busy": user + nice + system + irq + softirq, "steal": steal}
    raise ValueError("No aggregate 'cpu' line in the /proc/stat text.")


def process_ticks(pid_stat: str) -> int:
    """utime + stime (all threads) from the text of /proc/<pid>/stat.

    The command name (field 2) may hold spaces and parentheses, so fields are
    counted after its last ')': utime and stime are fields 14 and 15.
    """
    rest = pid_stat[pid_stat.rindex(")") + 2 :].split()
    return int(rest[11]) + int(rest[12])


def window_cpu(before: dict, after: dict, clock_ticks: int) -> dict:
    """CPU use during one window, in cores, from two `read_cpu_snapshot` results.

    Args:
      before, after: ``{"time": s, "stat": /proc/stat text, "pids": {role: /proc/<pid>/stat text}}``,
        roles ``"active"`` (the worker running the window), ``"idle"`` (the
        other worker) and ``"parent"``.
      clock_ticks: ticks per second (``os.sysconf("SC_CLK_TCK")``).

    Returns:
      ``{"wall": s, "other": cores used by every other process, "active": ...,
      "idle": ..., "parent": ..., "steal": ...}``.
    """
    wall = after["time"] - before["time"]
    if wall <= 0:
        raise ValueError(f"The window's wall time must be positive; got {wall}.")
    per_second = clock_ticks * wall
    machine_before, machine_after = cpu_ticks(before["stat"]), cpu_ticks(after["stat"])
    ours = {role: (process_ticks(after["pids"][role]) - process_ticks(before["pids"][role])) / per_second for role in before["pids"]}
    busy = (machine_after["busy"] - machine_before["busy"]) / per_second
    return {
        "wall": wall,
        "other": busy - sum(ours.values()),
        **ours,
        "steal": (machine_after["steal"] - machine_before["steal"]) / per_second,
    }


def read_cpu_snapshot(pids: dict) -> dict:
    """The /proc texts `window_cpu` takes, read now (``pids``: role -> pid)."""
    def read(path):
        with open(path, encoding="ascii") as f:
            return f.read()

    return {"time": time.perf_counter(), "stat": read("/proc/stat"), "pids": {role: read(f"/proc/{pid}/stat") for role, pid in pids.items()}}


# ---------------------------------------------------------------------- summaries (pure)


def median(values):
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def rates(variant: dict) -> dict:
    """``{round: images/s}`` of a variant's windows."""
    return {w["round"]: w["images_per_second"] for w in variant["windows"]}


def median_rate(variant: dict):
    return median([w["images_per_second"] for w in variant["windows"]])


def pair_ratios(numerator: dict, denominator: dict, quiet_below: float | None = None) -> list:
    """Per-round ratios numerator/denominator of images/s, over the rounds both variants ran, in round order.

    ``quiet_below``: only the rounds in which both windows saw less than this
    many cores of other processes' CPU.
    """
    a = {w["round"]: w for w in numerator["windows"]}
    b = {w["round"]: w for w in denominator["windows"]}
    rounds = [r for r in sorted(set(a) & set(b)) if b[r]["images_per_second"] > 0]
    if quiet_below is not None:
        rounds = [r for r in rounds if max(a[r]["cpu"]["other"], b[r]["cpu"]["other"]) < quiet_below]
    return [a[r]["images_per_second"] / b[r]["images_per_second"] for r in rounds]


def _noisy_rounds(numerator: dict, denominator: dict) -> list:
    """Per common round (in order): whether either window saw at least `QUIET_CORES` of other processes' CPU."""
    a = {w["round"]: w for w in numerator["windows"]}
    b = {w["round"]: w for w in denominator["windows"]}
    return [max(a[r]["cpu"]["other"], b[r]["cpu"]["other"]) >= QUIET_CORES for r in sorted(set(a) & set(b))
            if b[r]["images_per_second"] > 0]


def groups(variants: list) -> dict:
    """``{(model, precision): [variants]}`` in first-seen order."""
    grouped = {}
    for v in variants:
        grouped.setdefault((v["model"], v["precision"]), []).append(v)
    return grouped


def pairs(variants: list) -> list:
    """Every (kgan, PyTorch) pair of one model and precision doing the same work, with per-round ratios and their median."""
    rows = []
    for (model, precision), members in groups(variants).items():
        for k in (v for v in members if v["side"] == "kgan" and v["windows"]):
            for t in (v for v in members if v["side"] == "torch" and v["windows"] and v["work"] == k["work"]):
                ratios, quiet = pair_ratios(k, t), pair_ratios(k, t, QUIET_CORES)
                rows.append({"model": model, "precision": precision, "work": k["work"], "kgan": k["name"], "torch": t["name"],
                             "ratios": ratios, "median": median(ratios), "noisy": _noisy_rounds(k, t),
                             "quiet_median": median(quiet), "quiet_rounds": len(quiet)})
    return rows


def headlines(variants: list) -> list:
    """Per model, precision and work: kgan's best variant over the fastest PyTorch variant (medians of images/s).

    The ratio is the median of that pair's per-round ratios.
    """
    rows = []
    for (model, precision), members in groups(variants).items():
        for work in WORK_NAMES:
            sides = {side: [v for v in members if v["side"] == side and v["work"] == work and v["windows"]] for side in ("kgan", "torch")}
            if not sides["kgan"] or not sides["torch"]:
                continue
            best = max(sides["kgan"], key=median_rate)
            fastest = max(sides["torch"], key=median_rate)
            ratios, quiet = pair_ratios(best, fastest), pair_ratios(best, fastest, QUIET_CORES)
            rows.append({"model": model, "precision": precision, "work": work, "kgan": best["name"], "kgan_rate": median_rate(best),
                         "torch": fastest["name"], "torch_rate": median_rate(fastest), "ratios": ratios, "median": median(ratios),
                         "noisy": _noisy_rounds(best, fastest), "quiet_median": median(quiet), "quiet_rounds": len(quiet)})
    return rows


def other_cpu_by_side(variants: list) -> dict:
    """``{side: {"median": cores, "max": cores, "windows": n}}`` of the other processes' CPU over that side's windows."""
    summary = {}
    for side in ("kgan", "torch"):
        values = [w["cpu"]["other"] for v in variants if v["side"] == side for w in v["windows"]]
        if values:
            summary[side] = {"median": median(values), "max": max(values), "windows": len(values)}
    return summary


def _rate(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _ratios(values, noisy=()) -> str:
    """``0.81 0.79* 0.83``: a star marks a round in which some other process used >= `QUIET_CORES` cores."""
    noisy = list(noisy) + [False] * len(values)
    return " ".join(f"{r:.2f}{'*' if n else ''}" for r, n in zip(values, noisy)) or "-"


def _quiet(row) -> str:
    return "-" if row["quiet_median"] is None else f"{row['quiet_median']:.2f} ({row['quiet_rounds']})"


def format_report(run: dict) -> str:
    """The Markdown report of a run (what `main` prints, and ``--from_json`` reprints)."""
    meta, variants = run["meta"], run["variants"]
    lines = [f"## kgan vs PyTorch, training images/s ({meta.get('started', '')})", ""]
    cpu = meta.get("cpu", {})
    lines.append(f"- CPU: {cpu.get('model', '?')}, {cpu.get('cores', '?')} cores; flags: "
                 + ", ".join(f"{flag} {'yes' if on else 'no'}" for flag, on in cpu.get("flags", {}).items()))
    for side in ("kgan", "torch"):
        info = meta.get(side)
        if info:
            lines.append(f"- {side}: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    args = meta.get("args", {})
    lines.append(f"- rounds {args.get('rounds')}, windows of ~{args.get('seconds')} s; wall time {meta.get('wall_seconds', 0) / 60:.1f} min")
    cpu_sides = other_cpu_by_side(variants)
    lines.append("- other processes' CPU during the windows (cores): " + "; ".join(
        f"{side} windows median {s['median']:.2f}, max {s['max']:.2f}" for side, s in cpu_sides.items()))
    idle = [w["cpu"].get("idle", 0.0) for v in variants for w in v["windows"]]
    if idle:
        lines.append(f"- the idle worker's CPU during the other's windows (cores): median {median(idle):.3f}, max {max(idle):.3f}")
    for note in run.get("notes", []):
        lines.append(f"- note: {note}")
    lines += ["", "### Headline: kgan's best variant / the fastest PyTorch variant doing the same work", "",
              f"Best and fastest by median images/s; the ratio is the median of the pair's per-round ratios (* : a round in "
              f"which another process used >= {QUIET_CORES} cores during either window; the last column keeps the other rounds).", "",
              "| model | precision | work | kgan best | images/s | PyTorch fastest | images/s | per-round ratios | median ratio | quiet rounds' median (n) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for h in headlines(variants):
        ratio = "-" if h["median"] is None else f"**{h['median']:.2f}**"
        lines.append(f"| {h['model']} | {h['precision']} | {h['work']} | {h['kgan']} | {_rate(h['kgan_rate'])} | {h['torch']} | "
                     f"{_rate(h['torch_rate'])} | {_ratios(h['ratios'], h['noisy'])} | {ratio} | {_quiet(h)} |")
    lines += ["", "### Every variant", "",
              "Own CPU: the cores the variant's worker used during its windows (median, min-max).", "",
              "| model | precision | variant | work | images/step | steps/window | windows | images/s (median) | min-max | own CPU (cores) "
              "| other CPU median / max (cores) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for v in variants:
        ips = [w["images_per_second"] for w in v["windows"]]
        other = [w["cpu"]["other"] for w in v["windows"]]
        own = [w["cpu"]["active"] for w in v["windows"]]
        spread = f"{_rate(min(ips))}-{_rate(max(ips))}" if ips else "-"
        own_text = f"{median(own):.2f} ({min(own):.2f}-{max(own):.2f})" if own else "-"
        cpu_text = f"{median(other):.2f} / {max(other):.2f}" if other else "-"
        lines.append(f"| {v['model']} | {v['precision']} | {v['name']} | {v['work']} | {v['images_per_step']} | {v['steps']} | "
                     f"{len(v['windows'])} | {_rate(median_rate(v))} | {spread} | {own_text} | {cpu_text} |")
    lines += ["", "### Every (kgan, PyTorch) pair doing the same work: kgan / PyTorch images/s per round", "",
              "| model | precision | kgan | PyTorch | per-round ratios | median | quiet rounds' median (n) |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in pairs(variants):
        lines.append(f"| {p['model']} | {p['precision']} | {p['kgan']} | {p['torch']} | {_ratios(p['ratios'], p['noisy'])} | "
                     f"{'-' if p['median'] is None else format(p['median'], '.2f')} | {_quiet(p)} |")
    lines += ["", "### Parameters (trainable / non-trainable, equal on both sides)", "", "| model | network | trainable | non-trainable |",
              "| --- | --- | --- | --- |"]
    for model, counts in run.get("parameters", {}).items():
        for network, c in counts.items():
            lines.append(f"| {model} | {network} | {c['trainable']:,} | {c['non_trainable']:,} |")
    return "\n".join(line for line in lines if line is not None)


def compare_parameters(model: str, kgan_counts: dict, torch_counts: dict) -> list:
    """The differences between both sides' ``{network: {"trainable", "non_trainable"}}`` counts (empty: equal)."""
    problems = []
    for network in sorted(set(kgan_counts) | set(torch_counts)):
        k, t = kgan_counts.get(network), torch_counts.get(network)
        if k != t:
            problems.append(f"{model}: {network} has {k} parameters in kgan and {t} in PyTorch")
    return problems


# ---------------------------------------------------------------------- workers


def calibrate(run_steps, seconds: float, one_step: bool = False) -> dict:
    """Warms up ``run_steps(n)`` and returns ``{"first_seconds", "step_seconds", "steps"}`` for windows of ~``seconds``.

    The first call (one step) traces/compiles. Then two steps are timed: the
    first steps after it are still slow on both sides (PyTorch's first ones
    here took 2-30x a later step: fresh memory pages, oneDNN primitives,
    optimizer state). Unless a step is longer than a window anyway, about half
    a window more refines the estimate, with per-call overheads amortised as
    in a window. The faster estimate is kept: on a shared machine a slow spell
    only ever lengthens a timing.

    ``one_step``: windows of one step; the first call is the whole warm-up.
    """
    start = time.perf_counter()
    run_steps(1)
    first = time.perf_counter() - start
    if one_step:
        # Windows of one step whatever the estimate (cycle_gan256: 10-40 s a step here): more
        # warm-up steps would only cost time.
        return {"first_seconds": first, "step_seconds": None, "steps": 1}
    start = time.perf_counter()
    run_steps(2)
    step = (time.perf_counter() - start) / 2
    if step < seconds:
        n = max(2, int(round(seconds / 2 / step)))
        start = time.perf_counter()
        run_steps(n)
        step = min(step, (time.perf_counter() - start) / n)
    return {"first_seconds": first, "step_seconds": step, "steps": steps_for_window(step, seconds)}


def _count(variables) -> int:
    total = 0
    for v in variables:
        size = 1
        for s in v.shape:
            size *= int(s)
        total += size
    return total


def keras_parameter_counts(networks: dict) -> dict:
    """``{name: {"trainable": n, "non_trainable": m}}`` of Keras networks (BatchNorm's moving statistics are non-trainable)."""
    return {name: {"trainable": _count(net.trainable_variables), "non_trainable": _count(net.non_trainable_variables)}
            for name, net in networks.items()}


class _Side:
    """What both workers share: ``entries[key]`` holds a built variant's ``run_steps`` and window length."""

    def run(self, key: str) -> dict:
        """Times one window of variant ``key``: ``{"steps", "seconds"}``."""
        entry = self.entries[key]
        start = time.perf_counter()
        entry["run_steps"](entry["steps"])
        return {"steps": entry["steps"], "seconds": time.perf_counter() - start}


class KganSide(_Side):
    """The TensorFlow worker: kgan models, timed with ``model.fit``."""

    def __init__(self, options):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
        import tensorflow as tf

        import kgan  # noqa: F401

        self.keras, self.tf = keras, tf
        self.options = options
        self.entries = {}

    def info(self):
        import kgan

        tf = self.tf
        threading = tf.config.threading
        return {"TensorFlow": tf.__version__, "Keras": self.keras.__version__, "kgan": getattr(kgan, "__version__", "0.1.0"),
                "threads": f"TF defaults (intra-op {threading.get_intra_op_parallelism_threads()}, inter-op "
                           f"{threading.get_inter_op_parallelism_threads()}; 0 = TF's choice)",
                "oneDNN": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")}

    def _networks(self, model: str, spec: dict):
        """``(model_class_kwargs, networks)`` built by kgan's own builders/presets for ``model``."""
        import kgan
        from kgan import configs, networks

        shape = spec["image_shape"]
        if spec["kind"] == "gan":
            return kgan.GAN, {"generator": networks.dcgan_generator(spec["latent_dim"], shape, spec["base_filters"]),
                              "discriminator": networks.dcgan_discriminator(shape, spec["base_filters"]), "latent_dim": spec["latent_dim"]}
        if spec["kind"] == "wgan_gp":
            return kgan.WGANGP, {"generator": networks.dcgan_generator(spec["latent_dim"], shape, spec["base_filters"]),
                                 "discriminator": networks.dcgan_discriminator(shape, spec["base_filters"], "layer"),
                                 "latent_dim": spec["latent_dim"], "gradient_penalty_weight": spec["penalty_weight"],
                                 "discriminator_steps": spec["n_critic"]}
        if model == "cycle_gan_demo":
            # The preset's own networks and options, as train/cycle_gan.py builds them; the spec (the
            # PyTorch side's numbers) must agree with the preset, or the comparison is of other models.
            config = configs.CYCLE_GAN_PRESETS["demo"]
            expected = {"batch": config.batch_size, "base_filters": config.base_filters, "num_downsampling": config.generator_downsampling,
                        "num_residual_blocks": config.num_residual_blocks, "discriminator_layers": config.discriminator_layers,
                        "identity": config.identity_loss_weight, "cycle": config.cycle_loss_weight, "pool_size": config.pool_size}
            differ = {k: (v, spec[k]) for k, v in expected.items() if spec[k] != v}
            if differ or config.generator_skips or config.loss != "least_squares":
                raise RuntimeError(f"CycleGAN's demo preset changed: (preset, bench) {differ}; update MODELS['cycle_gan_demo'].")
            return kgan.CycleGAN, {**config.build_networks((shape, shape)), **config.model_options((shape, shape))}
        if model == "cycle_gan256":
            nets = {"generator_xy": networks.resnet_generator(shape, name="generator_xy"),
                    "generator_yx": networks.resnet_generator(shape, name="generator_yx"),
                    "discriminator_x": networks.patch_discriminator(shape, name="discriminator_x"),
                    "discriminator_y": networks.patch_discriminator(shape, name="discriminator_y")}
            # kgan.CycleGAN's defaults (the paper's); the PyTorch side reads them from the spec.
            defaults = {name: p.default for name, p in inspect.signature(kgan.CycleGAN).parameters.items()}
            expected = {"cycle_loss_weight": spec["cycle"], "identity_loss_weight": spec["identity"], "pool_size": spec["pool_size"],
                        "loss": "least_squares"}
            if any(defaults[name] != value for name, value in expected.items()):
                raise RuntimeError(f"kgan.CycleGAN's defaults changed ({defaults}); update MODELS['cycle_gan256'].")
            return kgan.CycleGAN, nets
        raise ValueError(f"Unknown model {model!r}.")

    def _batch(self, spec):
        import numpy as np

        rng = np.random.default_rng(0)
        images = lambda n: rng.uniform(-1, 1, (n, *spec["image_shape"])).astype(np.float32)  # noqa: E731
        if spec["kind"] == "cycle_gan":
            return images(spec["batch"]), images(spec["batch"])
        return images(images_per_step(spec))

    def build(self, model: str, precision: str, seconds: float, names: list) -> dict:
        keras, tf = self.keras, self.tf
        spec = MODELS[model]
        variants, notes, parameters = [], [], None
        for name in names:
            reuse_fakes, xla = KGAN_VARIANTS[name]
            if reuse_fakes and spec["kind"] != "gan":
                continue
            keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
            try:
                keras.utils.set_random_seed(0)
                model_class, kwargs = self._networks(model, spec)
                if reuse_fakes:
                    kwargs["reuse_fakes"] = True
                try:
                    gan = model_class(**kwargs)
                except TypeError as error:
                    if not reuse_fakes:
                        raise
                    notes.append(f"{variant_key(model, precision, name)} skipped: kgan.GAN does not take reuse_fakes here ({error}).")
                    continue
            finally:
                keras.mixed_precision.set_global_policy("float32")
            counts = keras_parameter_counts({n: getattr(gan, n) for n in gan.network_names()})
            parameters = parameters or counts
            gan.compile(jit_compile=xla)
            # Autotuning off: its model thread would hold each fit call's teardown for up to seconds
            # (bench/throughput.py's repeated_batch_dataset says why); nothing here needs tuning.
            options = tf.data.Options()
            options.autotune.enabled = False
            data = tf.data.Dataset.from_tensors(self._batch(spec)).repeat().with_options(options)
            entry = {"model": gan, "data": data}

            def run_steps(n, entry=entry):
                before = int(entry["model"].train_steps.numpy())
                entry["model"].fit(entry["data"], steps_per_epoch=n, epochs=1, verbose=0)
                # A variable read: returns once the steps' updates are done (and checks they all ran).
                if int(entry["model"].train_steps.numpy()) != before + n:
                    raise RuntimeError(f"fit ran {int(entry['model'].train_steps.numpy()) - before} steps, not {n}.")

            key = variant_key(model, precision, name)
            try:
                calibration = calibrate(run_steps, seconds, spec.get("one_step_windows", False))
            except Exception as error:  # noqa: BLE001 -- a variant that cannot run is reported, the others go on.
                notes.append(f"{key} skipped: {type(error).__name__}: {str(error).splitlines()[0][:300]}")
                continue
            entry.update(run_steps=run_steps, steps=calibration["steps"])
            self.entries[key] = entry
            variants.append({"key": key, "name": name, "calibration": calibration, "steps": calibration["steps"],
                             "dtype_policy": gan.dtype_policy.name, "parameters": counts})
        return {"variants": variants, "notes": notes, "parameters": parameters}


class TorchSide(_Side):
    """The PyTorch worker: bench/torch_models.py's steps, timed as a loop of ``step()`` calls."""

    def __init__(self, options):
        import torch

        import torch_models

        self.torch, self.models = torch, torch_models
        self.options = options
        torch.set_num_threads(int(options.get("torch_threads") or os.cpu_count()))
        self.entries = {}

    def info(self):
        torch = self.torch
        return {"torch": torch.__version__, "threads": f"torch.set_num_threads({torch.get_num_threads()}), "
                f"interop {torch.get_num_interop_threads()}", "CPU capability": torch.backends.cpu.get_cpu_capability(),
                "oneDNN": torch.backends.mkldnn.is_available(), "Adam": "fused=True"}

    def make_step(self, model: str, precision: str, name: str):
        spec = MODELS[model]
        step, channels_last, _ = TORCH_VARIANTS[name]
        options = {"bfloat16": precision == "bfloat16", "channels_last": channels_last}
        shape = tuple(spec["image_shape"])
        if spec["kind"] == "gan":
            cls = self.models.ExamplesGANStep if step == "examples" else self.models.GANStep
            return cls(shape, spec["batch"], spec["latent_dim"], spec["base_filters"], **options)
        if spec["kind"] == "wgan_gp":
            return self.models.WGANGPStep(shape, spec["minibatch"], spec["n_critic"], spec["latent_dim"], spec["base_filters"],
                                          spec["penalty_weight"], **options)
        return self.models.CycleGANStep(shape, spec["batch"], spec["base_filters"], spec["num_downsampling"], spec["num_residual_blocks"],
                                        spec["discriminator_layers"], spec["identity"], spec["cycle"], spec["pool_size"], **options)

    def build(self, model: str, precision: str, seconds: float, names: list) -> dict:
        torch = self.torch
        spec = MODELS[model]
        one_step = spec.get("one_step_windows", False)
        variants, notes, parameters = [], [], None
        for name in names:
            kind, _, compiled = TORCH_VARIANTS[name]
            if kind == "examples" and spec["kind"] != "gan":
                continue
            key = variant_key(model, precision, name)
            torch.manual_seed(0)
            step = self.make_step(model, precision, name)
            counts = step.parameter_counts()
            parameters = parameters or counts

            def run_steps(n, step=step):
                for _ in range(n):
                    step.step()

            try:
                if compiled:
                    step.compile()
                    calibration = _with_time_limit(lambda: calibrate(run_steps, seconds, one_step), TORCH_COMPILE_LIMIT_SECONDS)
                else:
                    calibration = calibrate(run_steps, seconds, one_step)
            except Exception as error:  # noqa: BLE001 -- reported; the other variants go on.
                notes.append(f"{key} skipped: {type(error).__name__}: {str(error).strip().splitlines()[0][:300] if str(error).strip() else ''}")
                continue
            self.entries[key] = {"run_steps": run_steps, "steps": calibration["steps"]}
            variants.append({"key": key, "name": name, "calibration": calibration, "steps": calibration["steps"], "parameters": counts})
        return {"variants": variants, "notes": notes, "parameters": parameters}


def _with_time_limit(function, seconds: int):
    """``function()``, or TimeoutError once ``seconds`` have passed (SIGALRM; the worker's main thread)."""
    def expire(signum, frame):
        raise TimeoutError(f"warm-up (compilation) took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        return function()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def worker_main(side: str, options: dict) -> None:
    """A worker's loop: one JSON request per stdin line, one JSON reply per line on the original stdout.

    Anything else printed (library warnings) goes to stderr, so the pipe
    carries replies only. Requests: ``{"op": "info"}``, ``{"op": "build",
    "model", "precision", "seconds", "variants"}``, ``{"op": "run", "key"}``,
    ``{"op": "quit"}``; a failure replies ``{"error": traceback}``.
    """
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.path.insert(0, HERE)
    try:
        worker = (KganSide if side == "kgan" else TorchSide)(options)
        replies.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    except Exception:  # noqa: BLE001
        replies.write(json.dumps({"error": traceback.format_exc()}) + "\n")
        return
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "quit":
                break
            if request["op"] == "info":
                reply = worker.info()
            elif request["op"] == "build":
                reply = worker.build(request["model"], request["precision"], request["seconds"], request["variants"])
            else:
                reply = worker.run(request["key"])
        except Exception:  # noqa: BLE001 -- the parent reports it.
            reply = {"error": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")


class WorkerError(RuntimeError):
    pass


class Worker:
    """A worker process driven over pipes; its stderr goes to a temporary log, shown when it fails."""

    def __init__(self, side: str, options: dict):
        self.side = side
        self.log = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), f"--worker={side}", f"--worker_options={json.dumps(options)}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1, env=env,
        )
        self.pid = self.process.pid
        self._reply()

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise WorkerError(f"The {self.side} worker exited ({self.process.poll()}):\n{self.log_tail()}")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"The {self.side} worker failed:\n{reply['error']}")
        return reply

    def call(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def log_tail(self, chars: int = 4000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.flush()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.log.close()


# ---------------------------------------------------------------------- the parent


def cpu_info() -> dict:
    """CPU model, core count and the bf16/AMX flags of /proc/cpuinfo."""
    model, flags = platform.processor() or "?", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    names = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"model": model, "cores": os.cpu_count(), "flags": {name: name in flags for name in names}}


def round_order(kgan_keys: list, torch_keys: list, torch_first: bool) -> list:
    """One round's windows of one model and precision: the sides alternating, ``torch_first`` choosing who starts."""
    first, second = (torch_keys, kgan_keys) if torch_first else (kgan_keys, torch_keys)
    order = []
    for i in range(max(len(first), len(second))):
        order += first[i : i + 1] + second[i : i + 1]
    return order


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_bench(args) -> dict:
    models = args.models.split(",")
    precisions = args.precisions.split(",")
    unknown = [m for m in models if m not in MODELS] + [p for p in precisions if p not in PRECISIONS]
    if unknown:
        raise SystemExit(f"Unknown models/precisions {unknown}; models: {', '.join(MODELS)}; precisions: {', '.join(PRECISIONS)}.")
    kgan_names = [n for n in args.kgan_variants.split(",") if n]
    torch_names = [n for n in args.torch_variants.split(",") if n]
    if args.torch_compile and "torch_compile" not in torch_names:
        torch_names.append("torch_compile")
    for name in kgan_names + torch_names:
        if name not in KGAN_VARIANTS and name not in TORCH_VARIANTS:
            raise SystemExit(f"Unknown variant {name!r}; kgan: {', '.join(KGAN_VARIANTS)}; PyTorch: {', '.join(TORCH_VARIANTS)}.")
    started = time.time()
    run = {"meta": {"started": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)), "cpu": cpu_info(),
                    "args": {k: v for k, v in vars(args).items() if k not in ("worker", "worker_options", "from_json")},
                    "python": platform.python_version()},
           "variants": [], "notes": [], "parameters": {}}
    clock_ticks = os.sysconf("SC_CLK_TCK")
    workers = {}
    try:
        workers["kgan"] = Worker("kgan", {})
        workers["torch"] = Worker("torch", {"torch_threads": args.torch_threads})
        for side, worker in workers.items():
            run["meta"][side] = worker.call(op="info")
        by_key = {}
        for model in models:
            for precision in precisions:
                built = {}
                for side, names in (("kgan", kgan_names), ("torch", torch_names)):
                    start = time.perf_counter()
                    reply = workers[side].call(op="build", model=model, precision=precision, seconds=args.seconds, variants=names)
                    run["notes"] += reply["notes"]
                    for note in reply["notes"]:
                        log(f"note: {note}")
                    built[side] = reply
                    log(f"built {model} {precision} {side}: {', '.join(v['name'] for v in reply['variants'])} "
                        f"({time.perf_counter() - start:.0f} s)")
                    for v in reply["variants"]:
                        record = {"key": v["key"], "model": model, "precision": precision, "side": side, "name": v["name"],
                                  "work": variant_work(v["name"]), "images_per_step": images_per_step(MODELS[model]), "steps": v["steps"],
                                  "calibration": v["calibration"], "windows": []}
                        run["variants"].append(record)
                        by_key[v["key"]] = record
                if built["kgan"]["parameters"] and built["torch"]["parameters"]:
                    problems = compare_parameters(model, built["kgan"]["parameters"], built["torch"]["parameters"])
                    if problems:
                        raise SystemExit("The PyTorch re-implementation differs from kgan's networks; nothing timed:\n" + "\n".join(problems))
                    run["parameters"][model] = built["kgan"]["parameters"]
        pids = {side: worker.pid for side, worker in workers.items()}
        for r in range(args.rounds):
            start = time.perf_counter()
            for model in models:
                if r >= MODELS[model].get("max_rounds", args.rounds):
                    continue
                for precision in precisions:
                    members = [v for v in run["variants"] if v["model"] == model and v["precision"] == precision]
                    order = round_order([v["key"] for v in members if v["side"] == "kgan"],
                                        [v["key"] for v in members if v["side"] == "torch"], torch_first=r % 2 == 1)
                    for key in order:
                        record = by_key[key]
                        side = record["side"]
                        roles = {"active": pids[side], "idle": pids["torch" if side == "kgan" else "kgan"], "parent": os.getpid()}
                        before = read_cpu_snapshot(roles)
                        reply = workers[side].call(op="run", key=key)
                        after = read_cpu_snapshot(roles)
                        record["windows"].append({
                            "round": r, "steps": reply["steps"], "seconds": reply["seconds"],
                            "images_per_second": reply["steps"] * record["images_per_step"] / reply["seconds"],
                            "cpu": window_cpu(before, after, clock_ticks),
                        })
            log(f"round {r + 1}/{args.rounds} done ({time.perf_counter() - start:.0f} s)")
    finally:
        for worker in workers.values():
            worker.close()
    run["meta"]["wall_seconds"] = time.time() - started
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"Comma-separated subset of {', '.join(MODELS)}.")
    parser.add_argument("--precisions", default=",".join(PRECISIONS), help="float32, bfloat16 or both.")
    parser.add_argument("--rounds", type=int, default=5, help="Timed windows per variant (the median is reported).")
    # 2 s, not 3: with 3 s windows the default run took well over 25 minutes on 2 shared cores.
    parser.add_argument("--seconds", type=float, default=2.0, help="Approximate length of one window (at least one step).")
    parser.add_argument("--kgan_variants", default=",".join(KGAN_VARIANTS), help=f"Subset of {', '.join(KGAN_VARIANTS)}.")
    parser.add_argument("--torch_variants", default=",".join(n for n in TORCH_VARIANTS if n != "torch_compile"),
                        help=f"Subset of {', '.join(TORCH_VARIANTS)}.")
    parser.add_argument("--torch_compile", action="store_true",
                        help=f"Add the torch.compile variant (dropped if its warm-up takes over {TORCH_COMPILE_LIMIT_SECONDS} s).")
    parser.add_argument("--torch_threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: os.cpu_count()).")
    parser.add_argument("--json_out", default=None, help="Write the run (every window) to this JSON file.")
    parser.add_argument("--from_json", default=None, help="Reprint the tables of a saved run and exit.")
    parser.add_argument("--worker", choices=("kgan", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--worker_options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker, json.loads(args.worker_options))
        return
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as f:
            print(format_report(json.load(f)))
        return
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise SystemExit(INSTALL_HINT)
    run = run_bench(args)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(run, f, indent=1)
            f.write("\n")
    print(format_report(run))


if __name__ == "__main__":
    main()
