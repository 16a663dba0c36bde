r"""Mode coverage of GAN, WGAN and WGAN-GP on the 2-D Gaussian mixtures.

Trains each model family on ``ring8`` and ``grid25`` (`kgan.data.mixtures`) with
the *same number of generator steps* for every model on a mixture, for several
seeds, and reports modes covered and high-quality samples as
`kgan.metrics.mode_coverage` counts them: 2,500 samples; a sample is *high
quality* within 3 standard deviations of its nearest mode (VEEGAN, Srivastava et
al. 2017; PacGAN, Lin et al. 2018); a mode is *covered* when it gets at least
20 % of its fair share (2,500 / K) of high-quality samples (kgan's rule, stricter
than the papers' "at least one high-quality sample", which the JSON's ``counts``
also give).

One recipe per model family, used unchanged on both mixtures (see RECIPES):

* ``gan``: non-saturating GAN, MLP G and D 2x256, latent 64, k=1, batch 256,
  Adam(beta_1=0.5) with PolynomialDecay(1e-3 -> 1e-4) over the run (the
  recipe of the ring-of-8 learning test in tests/test_gan.py).
  ``gan_minimax`` and ``gan_maximum_likelihood``: the same with the other two
  generator losses of Goodfellow (2016), Sec. 3.2 (``loss="minimax"``,
  ``"maximum_likelihood"``; D's cross-entropy unchanged).
* ``gan_pacgan_nets``: the non-saturating GAN with the networks of PacGAN's
  mixture experiments (Lin et al. 2018, after VEEGAN's): G 4x400 with batch
  norm and a 2-D latent, D 3x200 with leaky ReLU (theirs: maxout); batch 256,
  Adam(beta_1=0.5) 1e-3 -> 1e-5 over the run.
* ``wgan``: weight clipping at 0.01, n_critic=5, minibatch 64, RMSprop(5e-5)
  for both networks (Arjovsky et al. 2017); ``wgan_fast``: the same with
  RMSprop(5e-4). Networks as for ``wgangp``.
* ``wgangp``: gradient penalty 10 (one-sided), n_critic=5, minibatch 64, G MLP
  4x256 with a 2-D latent, critic MLP 2x256, Adam(beta_1=0.5, beta_2=0.9) with
  PolynomialDecay(1e-3 -> 1e-4) for both networks (the recipe of
  tests/test_wgan_learning.py).

Example (about 15 minutes on two shared CPU cores)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/mixtures.py --models=gan,wgan,wgan_fast,wgangp \
        --mixtures=ring8,grid25 --steps=ring8=10000,grid25=5000 --seeds=0,1 --jobs=2 \
        --json_out=/tmp/mixtures.json

Prints a Markdown table and writes every run (per seed, with the epoch means of
the Wasserstein estimate) to ``--json_out``.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("models", ["gan", "wgan", "wgan_fast", "wgangp"], "Recipes to train (keys of RECIPES).")
flags.DEFINE_list("mixtures", ["ring8", "grid25"], "Mixtures: ring8, grid25, ring8_unequal (kgan.data.mixtures).")
flags.DEFINE_list(
    "steps",
    ["ring8=10000", "grid25=5000"],
    "Generator steps per mixture, the same for every model: one integer for all "
    "mixtures, or mixture=steps pairs.",
)
flags.DEFINE_list("seeds", ["0", "1"], "Seeds (model noise, dataset and weight initialisation).")
flags.DEFINE_integer("num_samples", 2500, "Samples for the coverage metric (the protocol uses 2,500).")
flags.DEFINE_integer("epochs", 10, "Epochs per run (the Wasserstein estimate is logged per epoch).")
flags.DEFINE_integer("jobs", 1, "Runs trained in parallel, one process each.")
flags.DEFINE_integer("threads", 1, "TensorFlow intra- and inter-op threads per run (0: TF default).")
flags.DEFINE_string("json_out", "mixtures_bench.json", "Where to write all results as JSON.")
flags.DEFINE_list("print_history", [], "Also print these metrics' epoch means per run (e.g. d_real,d_fake,g_loss).")

# Everything a run needs, as plain data (passed to worker processes).
RECIPES = {
    "gan": dict(
        label="GAN (non-saturating)",
        family="GAN",
        generator=(256, 256),
        critic=(256, 256),
        latent_dim=64,
        discriminator_steps=1,
        minibatch=256,
        optimizer="adam",
        learning_rate=1e-3,
        final_learning_rate=1e-4,
        betas=(0.5, 0.999),
    ),
    "wgan": dict(
        label="WGAN (clip 0.01, RMSprop 5e-5)",
        family="WGAN",
        generator=(256,) * 4,
        critic=(256, 256),
        latent_dim=2,
        discriminator_steps=5,
        minibatch=64,
        optimizer="rmsprop",
        learning_rate=5e-5,
        final_learning_rate=5e-5,
        clip_value=0.01,
    ),
    "wgangp": dict(
        label="WGAN-GP (lambda 10, one-sided)",
        family="WGANGP",
        generator=(256,) * 4,
        critic=(256, 256),
        latent_dim=2,
        discriminator_steps=5,
        minibatch=64,
        optimizer="adam",
        learning_rate=1e-3,
        final_learning_rate=1e-4,
        betas=(0.5, 0.9),
        gradient_penalty_weight=10.0,
        one_sided_penalty=True,
    ),
}
# The networks of PacGAN's mixture experiments (Lin et al. 2018, after VEEGAN's): G 4x400 with batch norm and a
# 2-D latent, D 3x200 (leaky ReLU here; theirs is maxout); Adam(0.5) 1e-3 -> 1e-5, batch 256.
RECIPES["gan_pacgan_nets"] = dict(
    RECIPES["gan"], label="GAN (non-saturating), PacGAN's networks", generator=(400,) * 4, generator_batch_norm=True,
    critic=(200,) * 3, critic_activation="leaky_relu", latent_dim=2, final_learning_rate=1e-5,
)
# The lectures' three generator losses side by side: the gan recipe otherwise unchanged.
RECIPES["gan_minimax"] = dict(RECIPES["gan"], label="GAN (minimax)", loss="minimax")
RECIPES["gan_maximum_likelihood"] = dict(RECIPES["gan"], label="GAN (maximum likelihood)", loss="maximum_likelihood")
# WGAN at 10x the paper's rate; the same recipe otherwise.
RECIPES["wgan_fast"] = dict(
    RECIPES["wgan"], label="WGAN (clip 0.01, RMSprop 5e-4)", learning_rate=5e-4, final_learning_rate=5e-4
)

PROTOCOL = (
    "Protocol: {n:,} samples per run; a sample is high quality within 3 sigma of its nearest mode "
    "(sigma 0.02 for ring8, 0.05 for grid25; VEEGAN/PacGAN); a mode is covered with >= 20 % of its fair "
    "share N/K (N w_k on ring8_unequal) of high-quality samples (kgan's rule; the papers count a mode with >= 1). Every model gets "
    "the same number of generator steps on a mixture."
)


def parse_steps(values, mixtures):
    """``["5000"]`` or ``["ring8=10000", "grid25=5000"]`` -> ``{mixture: steps}``."""
    if len(values) == 1 and "=" not in values[0]:
        return {m: int(values[0]) for m in mixtures}
    steps = {}
    for item in values:
        name, _, value = item.partition("=")
        if not value:
            raise ValueError(f"--steps: expected mixture=steps, got {item!r}.")
        steps[name.strip()] = int(value)
    missing = [m for m in mixtures if m not in steps]
    if missing:
        raise ValueError(f"--steps gives no budget for {missing}.")
    return steps


def build_model(recipe, seed, model_options=None, network_options=None):
    """Returns the (uncompiled) `kgan` model of ``recipe`` (a RECIPES entry).

    ``model_options`` (e.g. ``{"feature_matching": 1.0}``) go to the model,
    ``network_options`` (``minibatch``, ``spectral_norm``) to the critic.
    """
    import keras

    import kgan
    from kgan.networks import mlp_discriminator, mlp_generator

    keras.utils.set_random_seed(seed)
    latent_dim = recipe["latent_dim"]
    generator = mlp_generator(latent_dim, 2, tuple(recipe["generator"]), batch_norm=recipe.get("generator_batch_norm", False))
    # PacGAN: the critic judges packs of `pack` points (kgan.remedies.packed_shape).
    pack = (model_options or {}).get("pack", 1)
    critic = mlp_discriminator(2 * pack, tuple(recipe["critic"]), activation=recipe.get("critic_activation", "relu"),
                               **(network_options or {}))
    k = recipe["discriminator_steps"]
    options = dict(discriminator_steps=k, seed=seed, **(model_options or {}))
    if recipe["family"] == "GAN":
        model = kgan.GAN(generator, critic, latent_dim, loss=recipe.get("loss", "non_saturating"), **options)
    elif recipe["family"] == "WGAN":
        model = kgan.WGAN(generator, critic, latent_dim, clip_value=recipe["clip_value"], **options)
    elif recipe["family"] == "WGANGP":
        model = kgan.WGANGP(
            generator,
            critic,
            latent_dim,
            gradient_penalty_weight=recipe["gradient_penalty_weight"],
            one_sided_penalty=recipe["one_sided_penalty"],
            **options,
        )
    else:
        raise ValueError(f"Unknown family {recipe['family']!r}.")
    return model


def make_optimizer(recipe, steps):
    import keras

    rate = recipe["learning_rate"]
    if recipe["final_learning_rate"] != rate:
        rate = keras.optimizers.schedules.PolynomialDecay(rate, steps, recipe["final_learning_rate"])
    if recipe["optimizer"] == "adam":
        beta_1, beta_2 = recipe["betas"]
        return keras.optimizers.Adam(rate, beta_1=beta_1, beta_2=beta_2)
    if recipe["optimizer"] == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    raise ValueError(f"Unknown optimizer {recipe['optimizer']!r}.")


def run_one(model_name, mixture_name, steps, seed, epochs, num_samples, threads, recipe=None, model_options=None,
            network_options=None, plot_path=None):
    """Trains one (model, mixture, seed); returns a JSON-ready dict.

    ``recipe`` overrides ``RECIPES[model_name]``; the options go to `build_model`;
    ``plot_path``: also save the samples as a PNG scatter plot there.
    """
    import numpy as np
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    from kgan.data.mixtures import gaussian_mixture

    recipe = recipe or RECIPES[model_name]
    mixture = gaussian_mixture(mixture_name)
    if steps % epochs:
        raise ValueError(f"steps ({steps}) must be a multiple of --epochs ({epochs}).")
    start = time.perf_counter()
    model = build_model(recipe, seed, model_options, network_options)
    model.compile(make_optimizer(recipe, steps), make_optimizer(recipe, steps))
    batch = recipe["discriminator_steps"] * recipe["minibatch"]
    history = model.fit(
        mixture.dataset(batch, seed=seed + 1), steps_per_epoch=steps // epochs, epochs=epochs, verbose=0
    )
    train_seconds = time.perf_counter() - start
    samples = model.generate(num_samples, seed=1000 + seed).numpy()
    result = dict(model=model_name, mixture=mixture_name, steps=steps, seed=seed, train_seconds=train_seconds)
    if plot_path:
        from kgan.rendering import save_point_plot

        extent = 1.5 * float(np.abs(mixture.centers).max()) + 0.5
        result["plot"] = save_point_plot(np.nan_to_num(samples, nan=1e6), plot_path, extent=extent, size=192)
    if np.all(np.isfinite(samples)):
        coverage = mixture.coverage(samples)
        result.update(
            modes_covered=coverage.modes_covered,
            num_modes=coverage.num_modes,
            high_quality_fraction=coverage.high_quality_fraction,
            reverse_kl=coverage.reverse_kl,
            counts=coverage.counts.tolist(),
        )
    else:  # diverged: nothing is covered.
        result.update(modes_covered=0, num_modes=mixture.num_modes, high_quality_fraction=0.0, reverse_kl=None, diverged=True)
    if "wasserstein_estimate" in history.history:
        result["wasserstein_estimate"] = [float(v) for v in history.history["wasserstein_estimate"]]
    # Every logged metric's epoch means (d_real, d_fake, g_loss, ...): what went wrong in a failed run.
    result["history"] = {name: [float(v) for v in values] for name, values in history.history.items()}
    result["sample_norm_median"] = float(np.median(np.linalg.norm(np.nan_to_num(samples, nan=1e6), axis=1)))
    return result


def mean_std(values):
    import numpy as np

    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def markdown_table(results, models, mixtures, steps):
    lines = [
        "| Mixture | Model | Steps | Modes covered | High quality (%) | W estimate (first -> last epoch) | Train time (s) |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for mixture in mixtures:
        for model in models:
            runs = [r for r in results if r["model"] == model and r["mixture"] == mixture]
            if not runs:
                continue
            modes_mean, modes_std = mean_std([r["modes_covered"] for r in runs])
            hq_mean, hq_std = mean_std([100 * r["high_quality_fraction"] for r in runs])
            time_mean, _ = mean_std([r["train_seconds"] for r in runs])
            if "wasserstein_estimate" in runs[0]:
                w = "; ".join(f"{r['wasserstein_estimate'][0]:.3g} -> {r['wasserstein_estimate'][-1]:.3g}" for r in runs)
            else:
                w = "n/a"
            per_seed = ", ".join(str(r["modes_covered"]) for r in runs)
            lines.append(
                f"| {mixture} | {RECIPES[model]['label']} | {steps[mixture]:,} | "
                f"{modes_mean:.1f} ± {modes_std:.1f} / {runs[0]['num_modes']} ({per_seed}) | "
                f"{hq_mean:.1f} ± {hq_std:.1f} | {w} | {time_mean:.0f} |"
            )
    return "\n".join(lines)


def main(argv):
    del argv
    models = [m.strip() for m in FLAGS.models]
    unknown = [m for m in models if m not in RECIPES]
    if unknown:
        raise app.UsageError(f"Unknown models {unknown}; choose from {sorted(RECIPES)}.")
    mixtures = [m.strip() for m in FLAGS.mixtures]
    steps = parse_steps(FLAGS.steps, mixtures)
    seeds = [int(s) for s in FLAGS.seeds]
    jobs = [(model, mixture, steps[mixture], seed) for mixture in mixtures for seed in seeds for model in models]
    start = time.perf_counter()
    results = []
    common = dict(epochs=FLAGS.epochs, num_samples=FLAGS.num_samples, threads=FLAGS.threads)
    if FLAGS.jobs > 1:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(FLAGS.jobs, mp_context=context) as pool:
            futures = [pool.submit(run_one, *job, **common) for job in jobs]
            for future in concurrent.futures.as_completed(futures):
                results.append(future.result())
                _report_progress(results[-1])
    else:
        for job in jobs:
            results.append(run_one(*job, **common))
            _report_progress(results[-1])
    order = {job[:2] + (job[3],): i for i, job in enumerate(jobs)}
    results.sort(key=lambda r: order[(r["model"], r["mixture"], r["seed"])])
    total = time.perf_counter() - start

    print()
    print(PROTOCOL.format(n=FLAGS.num_samples))
    print(f"Seeds {seeds}; {FLAGS.jobs} parallel run(s), {FLAGS.threads or 'default'} TF thread(s) each; "
          f"total wall time {total / 60:.1f} min.")
    print()
    print(markdown_table(results, models, mixtures, steps))
    with open(FLAGS.json_out, "w") as f:
        json.dump(
            dict(
                protocol=PROTOCOL.format(n=FLAGS.num_samples),
                recipes={m: RECIPES[m] for m in models},
                steps=steps,
                seeds=seeds,
                jobs=FLAGS.jobs,
                threads=FLAGS.threads,
                total_seconds=total,
                machine=dict(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count()),
                runs=results,
            ),
            f,
            indent=1,
        )
    print(f"\nWrote {FLAGS.json_out}")


def _report_progress(result):
    print(
        f"{result['mixture']:7s} {result['model']:10s} seed {result['seed']}: "
        f"{result['modes_covered']}/{result['num_modes']} modes, "
        f"{100 * result['high_quality_fraction']:.1f} % high quality, {result['train_seconds']:.0f} s, "
        f"median sample norm {result['sample_norm_median']:.3g}",
        flush=True,
    )
    for name in FLAGS.print_history:
        values = result["history"].get(name.strip())
        if values is not None:
            print(f"    {name.strip()} per epoch: " + ", ".join(f"{v:.4g}" for v in values), flush=True)


if __name__ == "__main__":
    app.run(main)
