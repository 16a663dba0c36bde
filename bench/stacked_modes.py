r"""Mode collapse on 1,000 modes: GAN remedies on stacked Fashion-MNIST, modes counted by kgan's classifier.

The stacked-MNIST protocol of VEEGAN (Srivastava et al. 2017, Sec. 5.2) and
PacGAN (Lin et al. 2018, Sec. 5) with Fashion-MNIST in the channels
(`kgan.data.stacked`): a fixed training set of 128,000 triples of Fashion-MNIST
training images as R, G, B; after training, 26,000 samples, each channel
labelled by kgan's Fashion-MNIST classifier (`kgan.metrics.load_classifier`,
91 % test accuracy); a mode is a class triple with at least one sample; the
reverse KL is that of the mode histogram to uniform over all 1,000
(`kgan.metrics.stacked_mode_coverage`). The "real data" row is what the
measure gives data itself, the classifier's errors included: 26,000 stacked
*test* images.

The recipe is the DCGAN of kgan's demo (`train/gan.py --preset=demo`):
base_filters 32, latent 64, batch 64, Adam(2e-4, beta_1 0.5), non-saturating
loss; each remedy changes one thing (`bench/remedy_options.py`).
``--critic_filters`` sets D's width apart from G's: 8 filters, a quarter of
G's width, is PacGAN Table 3's weak-discriminator setting ("D is 1/4 size of
G"), where the plain GAN drops modes.
Modes are also counted every ``--eval_every`` steps, so each run has a curve.

The README's two tables (wall times there)::

    python bench/stacked_modes.py --critic_filters=8 --remedies=none,pacgan2,pacgan4,minibatch_stddev \
        --steps=6000 --eval_every=1000 --seeds=0,1,2 --jobs=2 --json_out=docs/results/stacked_modes_d8_6k.json
    python bench/stacked_modes.py --critic_filters=32 --remedies=none --steps=10000 --eval_every=2000 \
        --seeds=0,1 --jobs=2 --json_out=docs/results/stacked_modes_d32_10k.json
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

import seed_tables  # noqa: E402  (bench/seed_tables.py: saved paths without the machine's directories)
from remedy_options import REMEDIES  # noqa: E402

# Saved runs name their sample grids from this placeholder, not from the machine's --images_dir;
# --from_json finds them again under its own --images_dir.
IMAGES_DIR = "<images_dir>"

FLAGS = flags.FLAGS
flags.DEFINE_list("remedies", ["none", "pacgan2", "r1"], "Remedies (keys of bench/remedy_options.py REMEDIES).")
flags.DEFINE_integer("steps", 10_000, "Generator steps per run.")
flags.DEFINE_integer("critic_filters", 32, "Filters of D's first layer (G's last hidden layer has 32): 8 makes D a quarter "
                     "of G's width, PacGAN Table 3's weak-discriminator setting, where the plain GAN collapses.")
flags.DEFINE_integer("eval_every", 2_000, "Count modes every this many steps (the curve); a divisor of --steps.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds (weights, noise and the training triples).")
flags.DEFINE_integer("num_samples", 26_000, "Samples whose modes are counted (the papers use 26,000).")
flags.DEFINE_string("source", "fashion_mnist", "Source images: fashion_mnist (60,000, TFDS/offline) or embedded (6,000).")
flags.DEFINE_integer("jobs", 2, "Runs trained in parallel, one process each.")
flags.DEFINE_integer("threads", 1, "TensorFlow intra- and inter-op threads per run (0: TF default).")
flags.DEFINE_string("images_dir", "stacked_modes_samples", "A 10x10 sample grid of every run, and one labelled sheet.")
flags.DEFINE_string("json_out", "stacked_modes_bench.json", "Where to write every run's results.")
flags.DEFINE_string("from_json", None, "Print the table of an earlier run's --json_out instead of training (and draw "
                    "its contact sheet into --images_dir, named after the JSON, if its sample grids are there).")

#: The recipe: kgan's DCGAN demo.
RECIPE = dict(base_filters=32, latent_dim=64, batch_size=64, learning_rate=2e-4, beta_1=0.5)

# Stacked MNIST, checked against the authors' copy (github.com/fjxmlzn/PacGAN,
# stacked_MNIST_experiments/results/Table2.png and Table3.png): (modes, reverse KL).
# Table 2 is VEEGAN's architecture (its first four rows quote VEEGAN's paper);
# Table 3 the unrolled GAN's, with D at 1/4 or 1/2 of G's size. Their networks
# and budgets (50 epochs of 128,000) are not ours: read them as the scale of
# the effect, not as a race.
PUBLISHED = {
    "DCGAN (PacGAN Table 2, VEEGAN's networks)": (99.0, 3.40),
    "Unrolled GAN (PacGAN Table 2)": (48.7, 4.32),
    "VEEGAN (PacGAN Table 2)": (150.0, 2.95),
    "DCGAN, PacGAN's implementation (Table 2)": (78.9, 4.50),
    "PacDCGAN2 (PacGAN Table 2)": (1000.0, 0.06),
    "PacDCGAN4 (PacGAN Table 2)": (1000.0, 0.07),
    "DCGAN, D 1/4 of G, PacGAN's implementation (Table 3)": (78.5, 5.21),
    "Unrolled GAN 10 steps, D 1/4 of G (PacGAN Table 3)": (327.2, 4.66),
    "PacDCGAN2, D 1/4 of G (PacGAN Table 3)": (484.5, 2.61),
    "PacDCGAN4, D 1/4 of G (PacGAN Table 3)": (667.4, 1.81),
    "DCGAN, D 1/2 of G, PacGAN's implementation (Table 3)": (487.7, 2.24),
    "Unrolled GAN 10 steps, D 1/2 of G (PacGAN Table 3)": (817.4, 1.43),
    "PacDCGAN2, D 1/2 of G (PacGAN Table 3)": (840.7, 1.00),
}


def _count(classifier, images):
    from kgan.metrics import stacked_mode_coverage

    counted = stacked_mode_coverage(classifier, images)
    return dict(modes=counted.modes, reverse_kl=counted.reverse_kl,
                lowest_class_share=float(counted.channel_shares.min()))


def real_data_row(num_samples, source):
    """The reference: ``num_samples`` stacked triples of the source's *test* images, counted the same way."""
    from kgan.data import sources, stacked_dataset
    from kgan.metrics import load_classifier

    images, _ = sources.fashion_mnist_arrays("test", source)
    real = next(iter(stacked_dataset(images, batch_size=num_samples, num_examples=num_samples, seed=0))).numpy()
    return dict(_count(load_classifier("fashion_mnist"), real), num_samples=num_samples)


def set_threads(threads):
    """A worker process's TensorFlow thread pools (0: TF's default); set before anything runs."""
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def run_one(remedy, steps, seed, eval_every, num_samples, source, critic_filters=RECIPE["base_filters"], images_dir=None):
    """Trains the DCGAN recipe with ``remedy`` on stacked Fashion-MNIST; returns a JSON-ready dict."""
    import keras
    import numpy as np

    import kgan
    from kgan.data import stacked_fashion_mnist
    from kgan.metrics import load_classifier
    from kgan.networks import dcgan_discriminator, dcgan_generator
    from kgan.rendering import save_image_grid

    _, model_options, critic_options, _ = REMEDIES[remedy]
    keras.utils.set_random_seed(seed)
    latent_dim, filters = RECIPE["latent_dim"], RECIPE["base_filters"]
    pack = model_options.get("pack", 1)  # PacGAN's D sees `pack` images on the channel axis.
    generator = dcgan_generator(latent_dim, (28, 28, 3), filters)
    critic = dcgan_discriminator((28, 28, 3 * pack), critic_filters, **critic_options)
    model = kgan.GAN(generator, critic, latent_dim, seed=seed, **model_options)

    def adam():
        return keras.optimizers.Adam(RECIPE["learning_rate"], beta_1=RECIPE["beta_1"])

    model.compile(adam(), adam())
    data = stacked_fashion_mnist(RECIPE["batch_size"], source=source, seed=seed)
    classifier = load_classifier("fashion_mnist")

    class CountModes(keras.callbacks.Callback):
        """Counts the modes after every ``eval_every`` steps (one epoch), outside the training time."""

        def __init__(self):
            super().__init__()
            self.curve, self.seconds, self.samples = [], 0.0, None

        def on_epoch_end(self, epoch, logs=None):
            start = time.perf_counter()
            self.samples = self.model.generate(num_samples, seed=1000 + seed).numpy()
            diverged = not np.all(np.isfinite(self.samples))
            counted = (dict(modes=0, reverse_kl=None, lowest_class_share=0.0, diverged=True) if diverged
                       else _count(classifier, self.samples))
            self.curve.append(dict(steps=(epoch + 1) * eval_every, **counted))
            self.seconds += time.perf_counter() - start

    # One fit for the whole run: one pass over the data iterator, reshuffled every 128,000 examples
    # (a fit per evaluation would restart the iterator and replay the same examples each time).
    counter = CountModes()
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=eval_every, epochs=steps // eval_every, verbose=0, callbacks=[counter])
    train_seconds = time.perf_counter() - start - counter.seconds
    curve, samples = counter.curve, counter.samples
    result = dict(curve[-1], remedy=remedy, seed=seed, critic_filters=critic_filters, train_seconds=train_seconds, curve=curve)
    if images_dir:
        name = f"{remedy}-d{critic_filters}-seed{seed}.png"
        result["samples"] = save_image_grid(samples[:100], os.path.join(images_dir, name), rows=10)
    return result


def contact_sheet(results, remedies, seeds, path, tiles=6):
    """One PNG: a row per remedy, a column per seed (the first ``tiles x tiles`` samples of each run), labelled.

    Stored with a 256-colour palette: the sheet is for looking at, and a fraction of the size. Returns ``path``.
    """
    from PIL import Image, ImageDraw

    runs = {(r["remedy"], r["seed"]): r for r in results}
    side = 2 + tiles * (28 + 2)  # The top-left corner of kgan.rendering.image_grid's 28-pixel tiles, 2-pixel borders.
    cell, caption, label_width = side + 8, 14, 150
    sheet = Image.new("RGB", (label_width + cell * len(seeds), (side + caption) * len(remedies)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, remedy in enumerate(remedies):
        top = row * (side + caption)
        draw.text((8, top + side // 2), REMEDIES[remedy][0], fill="black")
        for column, seed in enumerate(seeds):
            run = runs.get((remedy, seed))
            samples = run and seed_tables.with_directory(run.get("samples"), os.path.dirname(path), IMAGES_DIR)
            if samples and os.path.exists(samples):
                left = label_width + column * cell
                sheet.paste(Image.open(samples).convert("RGB").crop((0, 0, side, side)), (left, top))
                draw.text((left, top + side), f"seed {seed}: {run['modes']} modes", fill="black")
    sheet.quantize(256).save(path)
    return path


def markdown_table(results, remedies, reference, steps):
    """Modes (mean, per seed), reverse KL (median, per seed), the lowest class share of any channel,
    modes at each evaluation (mean over seeds) and the median training seconds per run."""
    import numpy as np

    checkpoints = [point["steps"] for point in results[0]["curve"]] if results else []
    lines = [
        "| remedy | modes (of 1,000) | reverse KL | lowest class share | modes at "
        + ", ".join(f"{s:,}" for s in checkpoints) + " steps | s / run (median) |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for remedy in remedies:
        runs = sorted((r for r in results if r["remedy"] == remedy), key=lambda r: r["seed"])
        if not runs:
            continue
        modes = [r["modes"] for r in runs]
        kls = [r["reverse_kl"] for r in runs]
        known = [v for v in kls if v is not None]
        kl_cell = (f"{np.median(known):.2f}" if known else "-") + " (" + ", ".join("-" if v is None else f"{v:.2f}" for v in kls) + ")"
        share = min(r["lowest_class_share"] for r in runs)
        curve = ", ".join(f"{np.mean([r['curve'][i]['modes'] for r in runs]):.0f}" for i in range(len(checkpoints)))
        seconds = np.median([r["train_seconds"] for r in runs])
        lines.append(f"| {REMEDIES[remedy][0]} | {np.mean(modes):.1f} ({', '.join(map(str, modes))}) | {kl_cell} | "
                     f"{100 * share:.1f} % | {curve} | {seconds:.0f} |")
    if reference:
        lines.append(f"| *real data* ({reference['num_samples']:,} stacked test images) | {reference['modes']} | {reference['reverse_kl']:.2f} | "
                     f"{100 * reference['lowest_class_share']:.1f} % | | |")
    for name, (modes, kl) in PUBLISHED.items():
        lines.append(f"| *published:* {name} | {modes} | {kl} | | | |")
    return "\n".join(lines)


def table_from_json(path, sheet_path=None):
    """The table of a saved run; with ``sheet_path``, also its contact sheet (when the runs' sample grids exist)."""
    with open(path) as f:
        saved = json.load(f)
    remedies = list(dict.fromkeys(r["remedy"] for r in saved["runs"]))
    # A sheet only when this machine has some of the runs' grids (a table saved elsewhere may have none here).
    if sheet_path and any(os.path.exists(grid) for r in saved["runs"]
                          if (grid := seed_tables.with_directory(r.get("samples"), os.path.dirname(sheet_path), IMAGES_DIR))):
        print("Samples:", contact_sheet(saved["runs"], remedies, saved["seeds"], sheet_path))
    return markdown_table(saved["runs"], remedies, saved.get("real_data"), saved["steps"])


def main(argv):
    del argv
    if FLAGS.from_json:
        sheet = FLAGS.images_dir and os.path.join(FLAGS.images_dir, os.path.splitext(os.path.basename(FLAGS.from_json))[0] + ".png")
        print(table_from_json(FLAGS.from_json, sheet))
        return
    remedies = [name.strip() for name in FLAGS.remedies]
    unknown = [r for r in remedies if r not in REMEDIES or "dcgan" not in REMEDIES[r][3]]
    if unknown:
        raise app.UsageError(f"Unknown remedies {unknown}; choose from {sorted(r for r in REMEDIES if 'dcgan' in REMEDIES[r][3])}.")
    if FLAGS.steps % FLAGS.eval_every:
        raise app.UsageError(f"--eval_every ({FLAGS.eval_every}) must divide --steps ({FLAGS.steps}).")
    seeds = [int(s) for s in FLAGS.seeds]
    jobs = [(remedy, FLAGS.steps, seed) for seed in seeds for remedy in remedies]
    common = dict(eval_every=FLAGS.eval_every, num_samples=FLAGS.num_samples, source=FLAGS.source,
                  critic_filters=FLAGS.critic_filters, images_dir=FLAGS.images_dir)
    print(f"{len(jobs)} runs ({len(remedies)} remedies x {len(seeds)} seeds), {FLAGS.jobs} at a time.", flush=True)
    start = time.perf_counter()
    results = []
    with concurrent.futures.ProcessPoolExecutor(FLAGS.jobs, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=set_threads, initargs=(FLAGS.threads,)) as pool:
        reference = pool.submit(real_data_row, FLAGS.num_samples, FLAGS.source)
        futures = [pool.submit(run_one, *job, **common) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            results.append(result)
            curve = " -> ".join(str(point["modes"]) for point in result["curve"])
            print(f"[{len(results)}/{len(jobs)}] {result['remedy']:20s} seed {result['seed']}: modes {curve}; "
                  f"{result['train_seconds']:.0f} s", flush=True)
        reference = reference.result()
    total = time.perf_counter() - start
    print(f"\n{FLAGS.steps:,} generator steps per run; D's first layer {FLAGS.critic_filters} filters; seeds {seeds}; "
          f"{FLAGS.num_samples:,} samples counted; "
          f"total wall time {total / 60:.1f} min.\n")
    print(markdown_table(results, remedies, reference, FLAGS.steps))
    if FLAGS.images_dir:
        print("Samples:", contact_sheet(results, remedies, seeds, os.path.join(FLAGS.images_dir, f"stacked_modes_d{FLAGS.critic_filters}.png")))
    with open(FLAGS.json_out, "w") as f:
        json.dump(dict(recipe=dict(RECIPE, critic_filters=FLAGS.critic_filters), steps=FLAGS.steps, seeds=seeds, num_samples=FLAGS.num_samples, source=FLAGS.source,
                       remedies={r: REMEDIES[r][:3] for r in remedies}, published=PUBLISHED, real_data=reference,
                       total_seconds=total, runs=seed_tables.without_directory(results, FLAGS.images_dir or "", IMAGES_DIR)),
                  f, indent=1)
    print(f"\nWrote {FLAGS.json_out}")


if __name__ == "__main__":
    app.run(main)
