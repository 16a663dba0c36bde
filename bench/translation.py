r"""The translation models on their offline demos, per seed and as mean and spread: do they do their job?

Runs ``train/star_gan.py``, ``train/cycle_gan.py`` and ``train/pix2pix.py``
once per seed (``--jobs`` at a time, each in its own process) and prints what
their end-of-run evaluations measured on the test split:

* StarGAN on tinted Fashion-MNIST (``star_gan_demo``): how often an attribute
  classifier finds the requested attributes on translations to permuted
  targets, and how often a garment classifier still finds the input's class
  (issue 21's targets: attributes >= 0.98 and class kept >= 0.75; the
  classifier on the untouched inputs scores the ceiling, 0.813);
* footwear edges <-> images (`kgan.metrics.footwear_translation_scores`):
  edges -> shoe L1 beside the best constant image, the footwear class kept by
  kgan's Fashion-MNIST classifier and the classifier-feature FID beside its
  real-vs-real floor; shoe -> edges L1 and edge F1. CycleGAN
  (``cycle_gan_demo``, unpaired, both directions) beside Pix2Pix, the paired
  bound (``pix2pix_demo``: edges -> shoe; ``pix2pix_demo_btoa``: shoe -> edges).

Runs use the presets' own length unless ``--max_minutes`` caps the fit
(``--max_train_minutes``; with ``--epochs`` large, the budget ends them).

Example::

    python bench/translation.py --seeds=0,1,2 --jobs=2 --json_out=/tmp/translation.json
    python bench/translation.py --runs=cycle_gan_demo --seeds=0 --max_minutes=30 --epochs=1000
    python bench/translation.py --from_json=/tmp/translation.json     # reprints a saved run
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import seed_tables  # noqa: E402  (bench/, beside this script)
from absl import app, flags  # noqa: E402

#: Row name -> (binary, its flags).
RUNS = {
    "star_gan_demo": ("star_gan", ["--preset=demo"]),
    "cycle_gan_demo": ("cycle_gan", ["--preset=demo"]),
    "pix2pix_demo": ("pix2pix", ["--preset=demo"]),
    "pix2pix_demo_btoa": ("pix2pix", ["--preset=demo", "--direction=BtoA"]),
}
FLAGS = flags.FLAGS
flags.DEFINE_list("runs", list(RUNS), f"Rows to run: {', '.join(RUNS)}.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds, one run per row each.")
flags.DEFINE_integer("jobs", 2, "Runs at a time, each its own process (2 uses both cores of a 2-core machine).")
flags.DEFINE_float("max_minutes", None, "Minutes of fit per run (--max_train_minutes); unset: the preset's length.")
flags.DEFINE_integer("epochs", None, "Epochs of every run (with --max_minutes, make it large); unset: the preset's.")
flags.DEFINE_string("work_dir", "/tmp/kgan_bench_translation", "Run directories go here (<row>_seed<k>) with their logs.")
flags.DEFINE_list("extra_flags", [], "More flags for every run.")
flags.DEFINE_string("json_out", None, "Write every run's evaluation here.")
flags.DEFINE_string("from_json", None, "Reprint the tables of a saved --json_out instead of running.")

_STAR_GAN_COLUMNS = (("target_attribute_accuracy", 3), ("target_exact_match", 3), ("content_accuracy", 3),
                     ("content_accuracy_baseline", 3), ("perfect_l1", 3), ("perfect_l1_baseline", 3))
_FOOTWEAR_COLUMNS = (("edges_to_images/l1", 3), ("edges_to_images/l1_constant", 3), ("edges_to_images/class_kept", 3),
                     ("edges_to_images/class_kept_real", 3), ("edges_to_images/fid", 2), ("edges_to_images/fid_floor", 2),
                     ("images_to_edges/l1", 3), ("images_to_edges/l1_identity", 3), ("images_to_edges/edge_f1", 3))


def _row(name, seed, summary) -> dict:
    evaluation = summary.get("evaluation", {})
    columns = _STAR_GAN_COLUMNS if name.startswith("star_gan") else _FOOTWEAR_COLUMNS
    return {"run": name, "seed": seed, "train_steps": summary["train_steps"],
            "minutes": summary["bench_wall_seconds"] / 60, **{key: evaluation.get(key) for key, _ in columns}}


def _table(rows, columns, header) -> list:
    lines = [f"| run | seed | steps | wall min | {header} |", "|" + " --- |" * (4 + len(columns))]
    for r in rows:
        cells = " | ".join("-" if r.get(key) is None else f"{r[key]:.{digits}f}" for key, digits in columns)
        lines.append(f"| {r['run']} | {r['seed']} | {r['train_steps']} | {r['minutes']:.1f} | {cells} |")
    return lines + seed_tables.spread_rows(rows, "run", columns)


def format_tables(rows) -> str:
    star = [r for r in rows if r["run"].startswith("star_gan")]
    footwear = [r for r in rows if not r["run"].startswith("star_gan")]
    parts = []
    if star:
        parts += ["StarGAN, tinted Fashion-MNIST test split, translations to permuted targets:",
                  *_table(star, _STAR_GAN_COLUMNS, "target attributes | all K right | class kept | class kept, inputs "
                                                          "| L1 to perfect | L1 to perfect, inputs")]
    if footwear:
        parts += ["Footwear edges <-> images, test pairs ([-1, 1] L1; FID in kgan's classifier's features):",
                  *_table(footwear, _FOOTWEAR_COLUMNS, "edges->shoe L1 | best constant | class kept | class kept, real "
                          "| FID | FID real vs real | shoe->edges L1 | identity | edge F1")]
    return "\n".join(parts)


def _run(name, seed):
    binary, preset_flags = RUNS[name]
    budget = [f"--max_train_minutes={FLAGS.max_minutes}"] if FLAGS.max_minutes else []
    epochs = [f"--epochs={FLAGS.epochs}"] if FLAGS.epochs else []
    summary = seed_tables.train_run(binary, os.path.join(FLAGS.work_dir, f"{name}_seed{seed}"),
                                    [*preset_flags, f"--seed={seed}", *epochs, *budget, *seed_tables.rejoin_flag_values(FLAGS.extra_flags)])
    return name, seed, summary


def main(argv):
    del argv
    if FLAGS.from_json:
        with open(FLAGS.from_json, encoding="utf-8") as f:
            saved = json.load(f)
        print(saved["note"] + "\n" + format_tables(saved["rows"]))
        return
    unknown = sorted(set(FLAGS.runs) - set(RUNS))
    if unknown:
        raise app.UsageError(f"--runs: unknown {unknown}; choose from {', '.join(RUNS)}.")
    length = f"{FLAGS.max_minutes:g} min of fit" if FLAGS.max_minutes else "the presets' own length"
    note = f"Offline demos, {length} per run, {FLAGS.jobs} run(s) at a time on this machine."
    print(note, flush=True)
    os.makedirs(FLAGS.work_dir, exist_ok=True)
    order = [(name, int(seed)) for seed in FLAGS.seeds for name in FLAGS.runs]
    rows, runs = [], []
    with concurrent.futures.ThreadPoolExecutor(FLAGS.jobs) as pool:  # Threads only wait on the subprocesses.
        for name, seed, summary in pool.map(lambda job: _run(*job), order):
            rows.append(_row(name, seed, summary))
            runs.append({"run": name, "seed": seed, "summary": summary})
            print(f"{name} seed {seed}: {json.dumps(rows[-1])}", flush=True)
    seed_tables.finish(rows, runs, format_tables(rows), note, FLAGS.max_minutes, FLAGS.json_out)


if __name__ == "__main__":
    app.run(main)
