r"""Sample quality after a fixed CPU budget, per model: a README table with its protocol.

For ``gan``, ``wgan_gp``, ``conditional_gan``, ``lapgan`` and ``gran``: train the binary's
``fashion_mnist`` preset (all 60,000 training images) for ``--budget_minutes``
of ``fit`` (``--max_train_minutes``; a fresh run directory), export, then
evaluate the export: FID and KID of ``--num_samples`` samples against the first
``--num_real`` Fashion-MNIST test images in the pool3 features of the FID
InceptionV3 (``--features=inception``; the standard protocol except that the
test split stands in for the training set, as Lucic et al. 2018 do), plus
precision/recall in the same features and the class balance seen by kgan's
Fashion-MNIST classifier. For ``cycle_gan`` and ``star_gan``: run the offline
demo preset (its own length) and report its end-of-run evaluation (translation
L1 vs true pairs; target-attribute and content accuracy).

    python bench/quality.py --models=gan,wgan_gp --budget_minutes=45      # ~2 h with evaluation
    python bench/quality.py --models=gan,lapgan,gran --budget_minutes=45  # the pyramid and the canvas beside one GAN
    python bench/quality.py --models=gan,lapgan --jobs=2 --train_flag=--epochs=200 \
        --model_flag=lapgan:--levels=2 --model_flag=lapgan:--coarse_network=dcgan  # both at once, sharing the 2 cores
    python bench/quality.py --models=gran --train_flag=--canvas_steps=5   # GRAN's canvas steps against FID and time
    python bench/quality.py --models=cycle_gan,star_gan                    # ~6 min

Prints a Markdown table and writes every number to ``--json_out``. Training
times are wall-clock on this machine; it is shared, so the number of steps a
budget buys varies from run to run (the table reports it).
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATENT_MODELS = {"gan": "gan.py", "wgan_gp": "wgan_gp.py", "conditional_gan": "conditional_gan.py", "lapgan": "lapgan.py",
                 "gran": "gran.py"}
TRANSLATION_MODELS = {"cycle_gan": "cycle_gan.py", "star_gan": "star_gan.py"}

_MODELS = flags.DEFINE_list("models", ["gan", "wgan_gp"], f"Any of {[*LATENT_MODELS, *TRANSLATION_MODELS]}.")
_BUDGET = flags.DEFINE_float("budget_minutes", 45.0, "Training budget (minutes of fit) per latent-variable model.")
_FEATURES = flags.DEFINE_enum("features", "inception", ["inception", "classifier"], "Feature network for FID/KID/PR.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 10_000, "Generated images per evaluation.")
_NUM_REAL = flags.DEFINE_integer("num_real", 10_000, "Fashion-MNIST test images (reference).")
_WORK_DIR = flags.DEFINE_string("work_dir", "runs/bench_quality", "Run directories and exports (deleted first).")
_EXTRA_FLAGS = flags.DEFINE_multi_string("train_flag", [], "Extra flag for every training binary, e.g. --train_flag=--batch_size=128.")
_JSON_OUT = flags.DEFINE_string("json_out", None, "Also write the results here.")
_MODEL_FLAGS = flags.DEFINE_multi_string(
    "model_flag", [], "A flag for one model's binary only, as <model>:<flag>, e.g. --model_flag=lapgan:--levels=2.")
_JOBS = flags.DEFINE_integer(
    "jobs", 1, "Training runs at once. With 2 the models share the CPU side by side (equal conditions, fewer steps "
    "each); every evaluation then runs alone, one after another.")


def _flags_of(name):
    """The ``--model_flag`` values addressed to model ``name``."""
    return [flag.split(":", 1)[1] for flag in _MODEL_FLAGS.value if flag.split(":", 1)[0] == name]


def _train(binary, preset, name, extra):
    run_dir = os.path.join(_WORK_DIR.value, name)
    export_dir = os.path.join(_WORK_DIR.value, "saved_models")
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.rmtree(os.path.join(export_dir, name), ignore_errors=True)
    command = [sys.executable, os.path.join(REPO, "train", binary), f"--preset={preset}", f"--model_dir={run_dir}",
               f"--export_dir={export_dir}", f"--export_name={name}", "--noresume", "--verbose=2", *extra,
               *_EXTRA_FLAGS.value, *_flags_of(name)]
    print("$", " ".join(command), flush=True)
    start = time.time()
    subprocess.run(command, check=True)
    with open(os.path.join(run_dir, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    summary["wall_seconds_with_setup"] = time.time() - start
    return summary


def _latent_training(name):
    return _train(LATENT_MODELS[name], "fashion_mnist", name, [f"--max_train_minutes={_BUDGET.value:g}"])


def _latent_row(name, summary):
    from kgan.metrics import quality

    report = quality.evaluate_generator(
        summary["export_path"], "fashion_mnist", "test", num_samples=_NUM_SAMPLES.value, num_real=_NUM_REAL.value,
        features=_FEATURES.value, num_classes=10 if name == "conditional_gan" else None,
    )
    return {"model": name, "train_steps": summary["train_steps"], "train_minutes": summary["wall_seconds"] / 60,
            "steps_per_second": summary["steps_per_second"], **report}


def _translation_training(name):
    return _train(TRANSLATION_MODELS[name], "demo", name, [])


def _translation_row(name, summary):
    return {"model": name, "train_steps": summary["train_steps"], "train_minutes": summary["wall_seconds"] / 60,
            "steps_per_second": summary["steps_per_second"], "evaluation": summary.get("evaluation")}


def _training(name):
    return (_latent_training if name in LATENT_MODELS else _translation_training)(name)


def _reference_row():
    """FID of 10k Fashion-MNIST *training* images against the test split: the floor a perfect generator hits."""
    import numpy as np

    from kgan.data import load_images
    from kgan.metrics import quality
    from kgan.metrics.features import feature_extractor
    from kgan.metrics.frechet import FeatureStatistics, frechet_distance
    from kgan.metrics.kernel_distance import kernel_distance

    start = time.time()
    extractor = feature_extractor(_FEATURES.value)
    real = quality.reference_features(extractor, "fashion_mnist", "test", _NUM_REAL.value)
    batches = load_images("fashion_mnist", "train", 500, shuffle=False, drop_remainder=False, limit=_NUM_SAMPLES.value)
    train = np.concatenate([extractor(b.numpy()) for b in batches])
    a, b = FeatureStatistics.of(real), FeatureStatistics.of(train)
    kid = kernel_distance(real, train)
    return {"model": "train split (reference)", "features": extractor.name, "num_samples": len(train), "num_real": len(real),
            "fid": frechet_distance(a.mean, a.covariance, b.mean, b.covariance), "kid": kid.mean, "kid_std": kid.std,
            "seconds": time.time() - start}


def _table(rows):
    lines = [
        "| model | train steps | train time | FID | KID x 1000 | precision | recall | classes covered | other |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        fmt = lambda key, spec: format(row[key], spec) if key in row else ""  # noqa: E731
        kid = f"{1000 * row['kid']:.2f} ± {1000 * row['kid_std']:.2f}" if "kid" in row else ""
        steps = str(row.get("train_steps", ""))
        minutes = f"{row['train_minutes']:.1f} min" if "train_minutes" in row else ""
        other = json.dumps(row["evaluation"], default=str)[:200] if row.get("evaluation") else ""
        lines.append(f"| {row['model']} | {steps} | {minutes} | {fmt('fid', '.2f')} | {kid} | {fmt('precision', '.3f')} "
                     f"| {fmt('recall', '.3f')} | {row.get('classes_covered', '')} | {other} |")
    return "\n".join(lines)


def main(argv):
    del argv
    unknown = sorted(set(_MODELS.value) - set(LATENT_MODELS) - set(TRANSLATION_MODELS) - {"reference"})
    if unknown:
        raise app.UsageError(f"Unknown models {unknown}.")
    misaddressed = [flag for flag in _MODEL_FLAGS.value if flag.split(":", 1)[0] not in _MODELS.value or ":" not in flag]
    if misaddressed:
        raise app.UsageError(f"--model_flag takes <model>:<flag> for a model of --models; got {misaddressed}.")
    trainings = {}
    trained = [name for name in _MODELS.value if name != "reference"]
    if _JOBS.value > 1:  # Train side by side first; evaluate alone afterwards, so no evaluation shares the CPU.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(_JOBS.value) as pool:
            trainings = dict(zip(trained, pool.map(_training, trained)))
    rows = []
    for name in _MODELS.value:
        if name == "reference":
            rows.append(_reference_row())
        else:
            summary = trainings[name] if name in trainings else _training(name)
            rows.append((_latent_row if name in LATENT_MODELS else _translation_row)(name, summary))
        print(json.dumps(rows[-1], default=str), flush=True)
        if _JSON_OUT.value:
            with open(_JSON_OUT.value, "w", encoding="utf-8") as f:
                json.dump(rows, f, indent=1, default=str)
    shared = f"; {_JOBS.value} trained at once, sharing the CPU" if _JOBS.value > 1 else ""
    protocol = (f"Protocol: {_NUM_SAMPLES.value} samples vs the first {_NUM_REAL.value} Fashion-MNIST test images, "
                f"features: {_FEATURES.value}; training budget {_BUDGET.value:g} min of fit per latent model{shared}.")
    print(protocol)
    print(_table(rows))


if __name__ == "__main__":
    app.run(main)
