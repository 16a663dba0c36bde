r"""InfoGAN on Fashion-MNIST within a time budget: clustering of Q on the test images, and FID.

Runs ``train/info_gan.py --preset=fashion_mnist`` once per seed, each stopped
after ``--max_minutes`` of ``fit`` (``--max_train_minutes``; the run then
evaluates as at its end), and prints, per seed and as mean and spread:

* the clustering accuracy (best one-to-one assignment), NMI and ARI of the
  argmax of Q's categorical code on every image of the test split
  (`kgan.metrics.code_scores.test_split_clustering`), the issue's target being
  accuracy >= 0.65 (ClusterGAN reports 0.63, InfoGAN about 0.61, on
  Fashion-MNIST; Mukherjee et al. 2019, table 2);
* the conditional-sample view: samples per value of that code classified
  by kgan's Fashion-MNIST classifier (purity, one-to-one accuracy;
  `kgan.metrics.code_scores.code_sample_scores`);
* FID and KID of as many samples as the test split has images (at most
  10,000) against it, in the features of kgan's Fashion-MNIST classifier
  (the end-of-run evaluation of every latent-variable binary; ``--features``).

With ``--baseline_gan`` each seed also trains ``train/gan.py
--preset=fashion_mnist`` with the same data and budget, for the FID row of
`GAN` in the same table.

Data: the full Fashion-MNIST (60,000 training / 10,000 test images) when it
is prepared for TFDS or Debian's ``dataset-fashion-mnist`` files are
installed (`kgan.data.offline.debian_files_available`); otherwise the run
falls back to the embedded subset (6,000 / 1,000 images, shipped with kgan)
and says so in every line it prints: those numbers are not the target's.

Example (3 x 45 minutes; ``--max_minutes=1 --seeds=0`` checks that it works in
about 2.5 minutes per model: on the full data that check gave 398 steps,
accuracy 0.343, NMI 0.236, ARI 0.153, FID 61.1 for InfoGAN and FID 95.4 for
GAN after 450 steps, on the shared 2-core machine)::

    python bench/info_gan.py --seeds=0,1,2 --max_minutes=45 --json_out=/tmp/info_gan.json
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import seed_tables  # noqa: E402  (bench/, beside this script)
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_float("max_minutes", 45.0, "Minutes of fit per run (train/*.py --max_train_minutes).")
flags.DEFINE_list("seeds", ["0"], "Seeds, one run each.")
flags.DEFINE_string("dataset", "auto", "fashion_mnist, embedded_fashion_mnist, or auto (the full set when it is available offline).")
flags.DEFINE_integer("epochs", 1000, "Epochs of the runs: the time budget, not this, ends them unless it is small.")
flags.DEFINE_string("features", "classifier", "FID/KID features (train/*.py --evaluation_features): classifier or inception.")
flags.DEFINE_boolean("baseline_gan", False, "Also train train/gan.py --preset=fashion_mnist per seed with the same budget.")
flags.DEFINE_string("work_dir", "/tmp/kgan_bench_info_gan", "Run directories go here (<model>_seed<k>, replaced by each run) with their logs.")
flags.DEFINE_list("extra_flags", [], "More flags for train/info_gan.py, e.g. --extra_flags=--learn_continuous_variance.")
flags.DEFINE_string("json_out", None, "Write every run's evaluation and speed here.")


def run(binary: str, model_dir: str, dataset: str, seed: int, test_images: int, extra=()) -> dict:
    """One training run of ``train/<binary>.py``; returns its summary.json (plus the wall time)."""
    return seed_tables.train_run(binary, model_dir, [
        "--preset=fashion_mnist", f"--dataset={dataset}", f"--seed={seed}", f"--epochs={FLAGS.epochs}",
        f"--max_train_minutes={FLAGS.max_minutes}", f"--evaluation_samples={test_images}",
        f"--evaluation_features={FLAGS.features}", *extra,
    ])


def _row(name, seed, summary) -> dict:
    evaluation, clustering = summary["evaluation"], summary["evaluation"].get("clustering", {})
    view = evaluation.get("code_samples", {})  # Samples per code value, classified (the conditional-sample view).
    return {"model": name, "seed": seed, "train_steps": summary["train_steps"], "steps_per_second": summary["steps_per_second"],
            "accuracy": clustering.get("accuracy"), "nmi": clustering.get("nmi"), "ari": clustering.get("ari"),
            "test_images": clustering.get("num_examples"), "fid": evaluation.get("fid"), "kid": evaluation.get("kid"),
            "sample_purity": view.get("purity"), "sample_accuracy": view.get("accuracy")}


def _cell(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(rows, note) -> str:
    lines = ["| model | seed | train steps | steps/s | clustering acc | NMI | ARI | samples per code: purity | one-to-one acc "
             "| FID | KID x 1000 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['seed']} | {r['train_steps']} | {r['steps_per_second']:.1f} | {_cell(r['accuracy'], 3)} | "
                     f"{_cell(r['nmi'], 3)} | {_cell(r['ari'], 3)} | {_cell(r.get('sample_purity'), 3)} | "
                     f"{_cell(r.get('sample_accuracy'), 3)} | {_cell(r['fid'], 2)} | "
                     f"{_cell(None if r['kid'] is None else 1000 * r['kid'], 2)} |")
    lines += seed_tables.spread_rows(rows, "model", (("accuracy", 3), ("nmi", 3), ("ari", 3), ("sample_purity", 3),
                                                         ("sample_accuracy", 3), ("fid", 2)))
    return note + "\n" + "\n".join(lines)


def main(argv):
    del argv
    dataset, test_images = seed_tables.training_data(FLAGS.dataset)
    note = seed_tables.data_note(dataset, test_images, "Q clustering and FID", FLAGS.max_minutes, FLAGS.features)
    print(note, flush=True)
    os.makedirs(FLAGS.work_dir, exist_ok=True)
    rows, runs = [], []
    binaries = [("info_gan", "info_gan", seed_tables.rejoin_flag_values(FLAGS.extra_flags))] + ([("gan", "gan", ())] if FLAGS.baseline_gan else [])
    for seed in map(int, FLAGS.seeds):
        for name, binary, extra in binaries:
            summary = run(binary, os.path.join(FLAGS.work_dir, f"{name}_seed{seed}"), dataset, seed, test_images, extra)
            rows.append(_row(name, seed, summary))
            runs.append({"model": name, "seed": seed, "dataset": dataset, "summary": summary})
            print(f"{name} seed {seed}: {json.dumps(rows[-1])}", flush=True)
    seed_tables.finish(rows, runs, format_table(rows, note), note, FLAGS.max_minutes, FLAGS.json_out)


if __name__ == "__main__":
    app.run(main)
