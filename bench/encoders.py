r"""BiGAN / ALI and the adversarial autoencoder on Fashion-MNIST within a time budget: what their encoders learned.

Runs ``train/bigan.py`` and ``train/aae.py`` presets once per seed, each
stopped after ``--max_minutes`` of ``fit`` (``--max_train_minutes``; the run
then evaluates as at its end), and prints, per run and as mean and spread over
seeds, what ``train/encoder_evaluation.py`` measured on every test image:

* linear-probe and 1-nearest-neighbour accuracy of E(x) (fitted on the
  encoded training split), beside the raw pixels' (784-d) and an untrained
  encoder's of the same architecture: issue 19's BiGAN target is E(x) at or
  above the pixels on both;
* the reconstructions' L1 error and how often kgan's Fashion-MNIST
  classifier gives them the class of the input (BiGAN target >= 0.70, AAE
  >= 0.90);
* the KID between E(x) and prior samples beside the prior-vs-prior floor;
* for the AAE's clustering variant, the clustering accuracy of its cluster
  code (target >= 0.60);
* FID of as many decoded prior samples as the test split has images, in the
  features of kgan's Fashion-MNIST classifier (``--features=inception`` for
  the usual protocol, the AAE target's: FID <= 30).

Rows: ``bigan`` (``train/bigan.py --preset=fashion_mnist``), ``ali`` (the
same with ``--encoder_type=gaussian``), ``aae`` (``train/aae.py
--preset=fashion_mnist``), ``aae_clustering`` (``--preset=clustering_fashion_mnist``).
Data as for bench/cat_gan.py: the full Fashion-MNIST when it is available
offline, else the embedded subset (every line printed says which).

Example::

    python bench/encoders.py --runs=bigan,aae,aae_clustering --seeds=0,1,2 --max_minutes=45 --json_out=/tmp/encoders.json
    python bench/encoders.py --runs=bigan --max_minutes=0.5 --seeds=0   # checks that it works
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import seed_tables  # noqa: E402  (bench/, beside this script)
from absl import app, flags, logging  # noqa: E402

#: Row name -> (binary, its flags).
RUNS = {
    "bigan": ("bigan", ["--preset=fashion_mnist"]),
    "ali": ("bigan", ["--preset=fashion_mnist", "--encoder_type=gaussian"]),
    "aae": ("aae", ["--preset=fashion_mnist"]),
    "aae_clustering": ("aae", ["--preset=clustering_fashion_mnist"]),
}
FLAGS = flags.FLAGS
flags.DEFINE_float("max_minutes", 45.0, "Minutes of fit per run (--max_train_minutes).")
flags.DEFINE_list("seeds", ["0"], "Seeds, one run per row each.")
flags.DEFINE_list("runs", ["bigan", "aae", "aae_clustering"], f"Rows to run: {', '.join(RUNS)}.")
flags.DEFINE_string("dataset", "auto", "fashion_mnist, embedded_fashion_mnist, or auto (the full set when it is available offline).")
flags.DEFINE_integer("epochs", 1000, "Epochs of the runs: the time budget, not this, ends them unless it is small.")
flags.DEFINE_string("features", "classifier", "FID/KID features (--evaluation_features): classifier or inception.")
flags.DEFINE_string("work_dir", "/tmp/kgan_bench_encoders", "Run directories go here (<row>_seed<k>, replaced by each run) with their logs.")
flags.DEFINE_list("extra_flags", [], "More flags for every run, e.g. --extra_flags=--latent_dim=32.")
flags.DEFINE_string("json_out", None, "Write every run's evaluation and speed here.")


def _row(name, seed, summary) -> dict:
    evaluation = summary["evaluation"]
    found = evaluation.get("representation", {})
    views = {view: found.get(view, {}) for view in ("encoder", "pixels", "random_encoder")}
    reconstruction, prior = found.get("reconstruction", {}), found.get("prior", {})
    return {
        "run": name, "seed": seed, "train_steps": summary["train_steps"], "steps_per_second": summary["steps_per_second"],
        **{f"{view}_probe": values.get("linear_probe") for view, values in views.items()},
        **{f"{view}_1nn": values.get("nearest_neighbour") for view, values in views.items()},
        "class_kept": reconstruction.get("class_kept"), "l1": reconstruction.get("l1"),
        "prior_kid": prior.get("kid"), "prior_floor": prior.get("floor"),
        "clustering_accuracy": found.get("clustering", {}).get("accuracy"), "fid": evaluation.get("fid"),
        "test_images": found.get("num_test"),
    }


_COLUMNS = (("encoder_probe", 3), ("pixels_probe", 3), ("random_encoder_probe", 3), ("encoder_1nn", 3), ("pixels_1nn", 3),
            ("random_encoder_1nn", 3), ("class_kept", 3), ("l1", 3), ("prior_kid", 4), ("prior_floor", 4),
            ("clustering_accuracy", 3), ("fid", 2))


def format_table(rows, note) -> str:
    lines = ["| run | seed | train steps | steps/s | probe E(x) | probe pixels | probe untrained E | 1-NN E(x) | 1-NN pixels "
             "| 1-NN untrained E | class kept | L1 | KID E(x) vs prior | prior vs prior | clustering acc | FID |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        cells = " | ".join("-" if r[key] is None else f"{r[key]:.{digits}f}" for key, digits in _COLUMNS)
        lines.append(f"| {r['run']} | {r['seed']} | {r['train_steps']} | {r['steps_per_second']:.1f} | {cells} |")
    lines += seed_tables.spread_rows(rows, "run", _COLUMNS)
    return note + "\n" + "\n".join(lines)


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)
    unknown = sorted(set(FLAGS.runs) - set(RUNS))
    if unknown:
        raise app.UsageError(f"--runs: unknown {unknown}; choose from {', '.join(RUNS)}.")
    dataset, test_images = seed_tables.training_data(FLAGS.dataset)
    note = seed_tables.data_note(dataset, test_images, "E(x)'s probes, reconstructions and FID", FLAGS.max_minutes, FLAGS.features)
    print(note, flush=True)
    os.makedirs(FLAGS.work_dir, exist_ok=True)
    rows, runs = [], []
    for seed in map(int, FLAGS.seeds):
        for name in FLAGS.runs:
            binary, preset_flags = RUNS[name]
            summary = seed_tables.train_run(binary, os.path.join(FLAGS.work_dir, f"{name}_seed{seed}"), [
                *preset_flags, f"--dataset={dataset}", f"--seed={seed}", f"--epochs={FLAGS.epochs}",
                f"--max_train_minutes={FLAGS.max_minutes}", f"--evaluation_samples={test_images}",
                f"--evaluation_features={FLAGS.features}", *seed_tables.rejoin_flag_values(FLAGS.extra_flags),
            ])
            rows.append(_row(name, seed, summary))
            runs.append({"run": name, "seed": seed, "dataset": dataset, "summary": summary})
            print(f"{name} seed {seed}: {json.dumps(rows[-1])}", flush=True)
    seed_tables.finish(rows, runs, format_table(rows, note), note, FLAGS.max_minutes, FLAGS.json_out)


if __name__ == "__main__":
    app.run(main)
