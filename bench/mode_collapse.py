r"""The lectures' remedies for mode collapse, measured: modes covered and high-quality samples on 2-D mixtures.

Trains every (loss, remedy) combination on ``ring8`` and ``grid25`` for the
same number of generator steps, over several seeds, and prints modes covered
and the percentage of high-quality samples beside the published figures of
VEEGAN's and PacGAN's Table 1 (checked against the authors' own copies).

Protocol (VEEGAN, Srivastava et al. 2017, Sec. 5.1; the mixtures of Metz et
al. 2017): 2,500 samples per run; a sample is *high quality* within 3
standard deviations of its nearest mode. Two mode counts
(`kgan.metrics.mode_coverage`): *modes covered*, kgan's, with at least 20 % of
its fair share of high-quality samples, and *modes hit*, with at least one --
VEEGAN's and PacGAN's definition, the one their tables (PUBLISHED) use. The
reverse KL is that of the high-quality samples' mode histogram to uniform
(PacGAN's third column).
Our mixtures follow VEEGAN's: 8 modes on a circle of radius 2 with sigma 0.02,
and a 5x5 grid with spacing 2 and sigma 0.05 (`kgan.data.mixtures`).

The two losses are `bench/mixtures.py`'s recipes: ``gan`` (non-saturating,
MLPs 2x256, latent 64, k=1, batch 256, Adam(0.5) 1e-3 -> 1e-4) and
``wgangp`` (one-sided penalty 10, n_critic 5, minibatch 64, G 4x256 with a 2-D
latent, critic 2x256, Adam(0.5, 0.9) 1e-3 -> 1e-4). Each remedy changes one
thing (REMEDIES; RECIPE_CHANGES lists the ones that change the recipe).
Consensus optimization and simultaneous updates step both networks at once,
so their WGAN-GP rows run with n_critic = 1; ``one_critic_step`` is their
control (alternating, n_critic 1). Minibatch discrimination at the GAN
recipes' batch of 256 takes over 40 min per 10,000-step run on one core, so it
also runs at batch 64 (``minibatch_discrimination_batch64``) beside the
plain GAN at batch 64 (``none_batch64``). DiffAugment
and virtual batch normalisation are image-only and are not in this table.

Every run's 2,500 samples are also drawn (``--plots_dir``), with one labelled
contact sheet per mixture (a row per combination, a column per seed).
Runs go row by row, and ``--json_out`` is rewritten after each one: an
interrupted bench keeps its finished runs, and ``--resume`` trains only the
runs the file lacks (runs are deterministic per seed, so a resumed table equals
an uninterrupted one).

Example (about 17 minutes on two CPU cores; minibatch discrimination compares every pair
of a 256-example batch and takes 200-500 s per 2,000-step run, so this example leaves it out)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/mode_collapse.py --seeds=0,1 --steps=2000 --jobs=2 \
        --remedies=none,label_smoothing,feature_matching,minibatch_stddev,historical_averaging,consensus,spectral_norm,generator_ema \
        --json_out=/tmp/mode_collapse.json
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

import mixtures  # noqa: E402  (bench/mixtures.py: recipes and one training run)
import seed_tables  # noqa: E402  (bench/seed_tables.py: the resume helpers)
from remedy_options import RECIPE_CHANGES, REMEDIES  # noqa: E402

FLAGS = flags.FLAGS
# bench/mixtures.py defines --mixtures, --steps, --seeds, --num_samples, --epochs, --jobs,
# --threads and --json_out; this bench uses them with its own defaults.
flags.DEFINE_list("losses", ["gan", "wgangp"], "Recipes of bench/mixtures.py to combine with the remedies.")
flags.DEFINE_list("remedies", None, "Subset of REMEDIES (default: all).")
flags.DEFINE_string("plots_dir", "mode_collapse_plots", "Scatter plot of every run, and one labelled sheet per mixture.")
flags.DEFINE_string("from_json", None, "Print the table of an earlier run's --json_out instead of training.")
flags.DEFINE_bool("resume", False, "Keep the runs already in --json_out (same steps) and train only the missing ones. "
                  "The JSON is rewritten after every run, so an interrupted bench loses only the runs in progress.")
for _name, _default in (("steps", ["2000"]), ("seeds", ["0", "1"]), ("epochs", 4), ("jobs", 2),
                        ("json_out", "mode_collapse_bench.json")):
    FLAGS.set_default(_name, _default)

# Published figures, {mixture: (modes captured, % high quality, reverse KL or None)}, checked against
# the sources: VEEGAN (Srivastava et al. 2017), Table 1, as on its authors' project page
# (akashgit/VEEGAN, tab.png); PacGAN (Lin et al. 2018), Table 1 (mean of 10 runs), as in its authors'
# repository (fjxmlzn/PacGAN, synthetic_data_experiments/results/Table1.png). Both count a mode as
# captured with >= 1 high-quality sample: compare them with the "modes hit" column.
PUBLISHED = {
    "GAN (VEEGAN Table 1)": {"ring8": (1.0, 99.3, None), "grid25": (3.3, 0.5, None)},
    "ALI (VEEGAN Table 1)": {"ring8": (2.8, 0.13, None), "grid25": (15.8, 1.6, None)},
    "Unrolled GAN (VEEGAN Table 1)": {"ring8": (7.6, 35.6, None), "grid25": (23.6, 16.0, None)},
    "VEEGAN (VEEGAN Table 1)": {"ring8": (8.0, 52.9, None), "grid25": (24.6, 40.0, None)},
    "GAN (PacGAN Table 1)": {"ring8": (6.3, 98.2, 0.45), "grid25": (17.3, 94.8, 0.70)},
    "ALI (PacGAN Table 1)": {"ring8": (6.6, 97.6, 0.36), "grid25": (24.1, 95.7, 0.14)},
    "PacGAN2 (PacGAN Table 1)": {"ring8": (7.9, 95.6, 0.07), "grid25": (23.8, 91.3, 0.13)},
    "PacGAN3 (PacGAN Table 1)": {"ring8": (7.8, 97.7, 0.10), "grid25": (24.6, 94.2, 0.06)},
    "PacGAN4 (PacGAN Table 1)": {"ring8": (7.8, 95.9, 0.07), "grid25": (24.8, 93.6, 0.04)},
}


# Saved runs name their scatter plots from this placeholder, not from the machine's --plots_dir; a
# resumed bench finds earlier plots again under its own --plots_dir.
PLOTS_DIR = "<plots_dir>"


def combinations(losses, remedies):
    """``[(loss, remedy)]`` for every remedy that applies to the loss."""
    return [(loss, remedy) for loss in losses for remedy in remedies if loss in REMEDIES[remedy][3]]


def run_combination(loss, remedy, mixture, steps, seed, epochs, num_samples, threads, plots_dir=None):
    """One training run of ``loss`` with ``remedy``; returns `bench/mixtures.py`'s result dict plus the names."""
    _, model_options, network_options, _ = REMEDIES[remedy]
    recipe = {**mixtures.RECIPES[loss], **RECIPE_CHANGES.get(remedy, {})}
    result = mixtures.run_one(
        loss, mixture, steps, seed, epochs, num_samples, threads,
        recipe=recipe, model_options=model_options, network_options=network_options,
        plot_path=plots_dir and os.path.join(plots_dir, f"{mixture}-{loss}-{remedy}-seed{seed}.png"),
    )
    return {**result, "remedy": remedy}


def contact_sheet(results, pairs, mixture, seeds, path):
    """One PNG per mixture: a row per (loss, remedy), a column per seed, labelled; returns ``path``."""
    from PIL import Image, ImageDraw

    plots = {(r["model"], r["remedy"], r["seed"]): seed_tables.with_directory(r.get("plot"), os.path.dirname(path), PLOTS_DIR)
             for r in results if r["mixture"] == mixture}
    cell, label_width = 192, 300
    sheet = Image.new("RGB", (label_width + cell * len(seeds), cell * len(pairs)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, (loss, remedy) in enumerate(pairs):
        draw.text((8, row * cell + cell // 2 - 12), f"{loss}\n{REMEDIES[remedy][0]}", fill="black")
        for column, seed in enumerate(seeds):
            plot = plots.get((loss, remedy, seed))
            if plot and os.path.exists(plot):
                sheet.paste(Image.open(plot).convert("RGB").resize((cell, cell)), (label_width + column * cell, row * cell))
    sheet.save(path)
    return path


def markdown_table(results, pairs, mixture_names, steps):
    """Per mixture: kgan's modes covered (>= 20 % of the fair share), modes hit (>= 1 high-quality sample,
    the papers' count), % high quality and reverse KL; means (modes, % HQ) or medians (KL) over seeds;
    last, the median training time of a run over every seed and mixture (runs share the CPU: compare
    within one table)."""
    import numpy as np

    columns = ("modes covered", "modes hit", "% HQ", "reverse KL")
    lines = [
        "| loss | remedy | " + " | ".join(f"{m}: {c}" for m in mixture_names for c in columns) + " | s / run (median) |",
        "|---|---|" + "---:|" * (len(columns) * len(mixture_names) + 1),
    ]
    for loss, remedy in pairs:
        cells = []
        for mixture in mixture_names:
            runs = [r for r in results if (r["model"], r["remedy"], r["mixture"]) == (loss, remedy, mixture)]
            if not runs:
                cells += [""] * len(columns)
                continue
            covered = [r["modes_covered"] for r in runs]
            hit = [int(np.count_nonzero(r["counts"])) if "counts" in r else 0 for r in runs]
            hq_mean, _ = mixtures.mean_std([100 * r["high_quality_fraction"] for r in runs])
            cells += [f"{np.mean(covered):.1f} ({', '.join(map(str, covered))})", f"{np.mean(hit):.1f} ({', '.join(map(str, hit))})",
                      f"{hq_mean:.1f}", _reverse_kl_cell(runs)]
        seconds = [r["train_seconds"] for r in results if (r["model"], r["remedy"]) == (loss, remedy)]
        cells.append(f"{np.median(seconds):.0f}" if seconds else "")
        lines.append(f"| {mixtures.RECIPES[loss]['label']} | {REMEDIES[remedy][0]} | " + " | ".join(cells) + " |")
    for name, figures in PUBLISHED.items():
        cells = []
        for mixture in mixture_names:
            modes, hq, kl = figures.get(mixture, ("", "", None))
            cells += ["", f"{modes}", f"{hq}", "" if kl is None else f"{kl}"]
        lines.append(f"| *published:* {name} | | " + " | ".join(cells) + " | |")
    return "\n".join(lines)


def _reverse_kl_cell(runs):
    """Median reverse KL over seeds, and the per-seed values ("-": no high-quality sample in that run)."""
    import numpy as np

    values = [r.get("reverse_kl") for r in runs]
    known = [v for v in values if v is not None]
    per_seed = ", ".join("-" if v is None else f"{v:.2f}" for v in values)
    return f"{np.median(known):.2f} ({per_seed})" if known else f"- ({per_seed})"


def table_from_json(path):
    """The table of a saved run (its own losses, remedies, mixtures and steps)."""
    with open(path) as f:
        saved = json.load(f)
    runs = saved["runs"]
    order = {remedy: i for i, remedy in enumerate(saved.get("remedies", {}))}  # The run's --remedies order.
    pairs = sorted(dict.fromkeys((r["model"], r["remedy"]) for r in runs), key=lambda p: (p[0], order.get(p[1], len(order))))
    mixture_names = list(dict.fromkeys(r["mixture"] for r in runs))
    return markdown_table(runs, pairs, mixture_names, saved["steps"])


def main(argv):
    del argv
    if FLAGS.from_json:
        print(table_from_json(FLAGS.from_json))
        return
    losses = [name.strip() for name in FLAGS.losses]
    remedies = [name.strip() for name in (FLAGS.remedies or REMEDIES)]
    unknown = [r for r in remedies if r not in REMEDIES] + [loss for loss in losses if loss not in mixtures.RECIPES]
    if unknown:
        raise app.UsageError(f"Unknown names {unknown}; remedies: {sorted(REMEDIES)}; losses: {sorted(mixtures.RECIPES)}.")
    pairs = combinations(losses, remedies)
    mixture_names = [m.strip() for m in FLAGS.mixtures]
    steps = mixtures.parse_steps(FLAGS.steps, mixture_names)
    if any(value % FLAGS.epochs for value in steps.values()):
        raise app.UsageError(f"--steps ({FLAGS.steps}) must be multiples of --epochs ({FLAGS.epochs}).")
    seeds = [int(s) for s in FLAGS.seeds]
    # Row by row (each remedy on every mixture and seed), so an interrupted bench leaves whole rows.
    jobs = [(loss, remedy, mixture, steps[mixture], seed) for loss, remedy in pairs for mixture in mixture_names for seed in seeds]
    try:
        results, earlier_seconds = seed_tables.earlier_runs(FLAGS.json_out, steps) if FLAGS.resume else ([], 0.0)
    except ValueError as error:
        raise app.UsageError(f"--resume: {error}") from error
    jobs = seed_tables.missing_jobs(jobs, results)
    common = dict(epochs=FLAGS.epochs, num_samples=FLAGS.num_samples, threads=FLAGS.threads, plots_dir=FLAGS.plots_dir)
    print(f"{len(jobs)} runs ({len(pairs)} combinations x {len(mixture_names)} mixtures x {len(seeds)} seeds"
          f"{f', {len(results)} kept from {FLAGS.json_out}' if results else ''}), {FLAGS.jobs} at a time.", flush=True)
    protocol = mixtures.PROTOCOL.format(n=FLAGS.num_samples)
    start = time.perf_counter()

    def save(complete):
        from kgan import atomic_files  # Crash-safe: a reader sees the previous file or this one.

        payload = dict(protocol=protocol, steps=steps, seeds=seeds, remedies={r: REMEDIES[r][:3] for r in remedies},
                       published=PUBLISHED, total_seconds=earlier_seconds + time.perf_counter() - start,
                       complete=complete, runs=seed_tables.without_directory(results, FLAGS.plots_dir or "", PLOTS_DIR))
        atomic_files.write_text(FLAGS.json_out, json.dumps(payload, indent=1))

    finished = 0
    with concurrent.futures.ProcessPoolExecutor(FLAGS.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_combination, *job, **common) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            results.append(result)
            finished += 1
            save(complete=False)
            print(
                f"[{finished}/{len(jobs)}] {result['mixture']:6s} {result['model']:6s} {result['remedy']:24s} seed {result['seed']}: "
                f"{result['modes_covered']}/{result['num_modes']} modes, {100 * result['high_quality_fraction']:.1f} % HQ, "
                f"{result['train_seconds']:.0f} s",
                flush=True,
            )
    save(complete=True)
    total = earlier_seconds + time.perf_counter() - start
    print()
    print(protocol)
    print(f"Generator steps per run: {steps}; seeds {seeds}; modes: mean over seeds (per seed); "
          f"total wall time {total / 60:.1f} min.")
    print()
    print(markdown_table(results, pairs, mixture_names, steps))
    if FLAGS.plots_dir:
        for mixture in mixture_names:
            print("Samples:", contact_sheet(results, pairs, mixture, seeds, os.path.join(FLAGS.plots_dir, f"{mixture}.png")))
    print(f"\nWrote {FLAGS.json_out}")


if __name__ == "__main__":
    app.run(main)
