r"""Input pipeline of ``folder:`` data against the model it feeds, and the time to the first training step.

Part ``pipeline`` (one child process per folder, so a folder's numbers and its
model's are measured side by side): ``kgan.data.load_images("folder:...",
batch_size=B, repeat=True, shuffle=True)`` iterated alone -- the first epoch
decodes every file (PNG/JPEG decode, crop, resize, into the in-memory uint8
cache; with the whole split shuffled, no batch leaves before the last file is
decoded), later epochs come from the cache -- against compiled train steps of
the `kgan.GAN` that would consume it, built as ``train/train_lib.py`` builds
it (``train_lib.build_compiled(registry.get("gan"), preset, shapes)``) and fed
an in-memory batch of the same size. Every round builds a fresh pipeline
(empty cache) and times: its decode epoch, ``--cached_epochs`` cached epochs,
one window of model steps, and one window of the model fed by that pipeline
(``fit`` on it, cached: the real thing, pipeline and model sharing the
cores). The table reports medians over ``--repeats`` rounds and the median of
the per-round ratios pipeline images/s / model images/s (> 1: the pipeline
alone outruns the model).

* ``png28``: ``--png_images`` 28x28 gray PNGs -> the ``demo`` preset's
  networks (latent 64, base_filters 32) at 28x28x1.
* ``jpeg256->S`` (S in ``--jpeg_sizes``): ``--jpeg_images`` 256x256 RGB JPEGs
  resized to SxS (``image_size=S``; bilinear, antialiased) -> the DCGAN
  paper's networks (the ``celeb_a`` preset: latent 128, base_filters 64) at
  SxSx3.

Part ``startup``: for a folder of ``--scan_images`` 28x28 gray PNGs, one
fresh process times `kgan.data.image_folder.scan_folder` cold (a fresh
process: nothing remembered; the OS page cache is warm) and warm (a rescan in
the same process: every header remembered), then ``load_images(...)`` to its
first batch (shuffle=True as the binaries call it, and shuffle=False);
another fresh process times ``load_images`` to the first batch with nothing
scanned before (what a script sees); with ``--evict`` a third scans after
the folder's pages were dropped from the OS page cache
(``posix_fadvise(DONTNEED)`` per file: a disk-cold scan, as for a folder not
read since boot).

Fixture folders are generated once into ``--cache_dir`` (PIL from numpy,
``--processes`` processes) and reused; a folder is complete once renamed from
``*.partial``. Disk: ~4 KB per small file on ext4 (100,000 PNGs: ~400 MB
allocated, ~50 MB of data), ~20 KB per 256x256 JPEG.

Example (about 5 minutes on two CPU cores, plus ~1 minute the first time to
write the fixtures, ~650 MB with the --quick ones)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/input_pipeline.py --json_out=/tmp/input_pipeline.json
    TF_CPP_MIN_LOG_LEVEL=3 python bench/input_pipeline.py --quick     # ~1 minute

Prints Markdown tables. The machine is shared: read the ratios (measured side
by side in one child), not the absolute numbers, across days.

Measured 2026-12-02 on a 2-vCPU AMD EPYC VM shared with other jobs (load
average 1-4.6 during the runs), TensorFlow 2.21.0, Keras 3.15.1; the
pipeline run wrote its two folders first (22 s, outside the numbers), the
startup run reused its own::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/input_pipeline.py --parts=pipeline    # 3 min 25 s

| folder | model (kgan.GAN, float32) | decode epoch images/s | cached epochs images/s | model steps images/s | decode / model | cached / model | model fed by the pipeline images/s | fed / in-memory |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| png28 (20,000 files, 28x28x1 as stored) | demo preset at 28x28x1 (latent 64, base_filters 32) | 7,477 | 219,062 | 1,176 | 5.6x | 182.6x | 991 | 0.82 |
| jpeg256 (5,000 files) resized to 64x64x3 | DCGAN (celeb_a preset) at 64x64x3 (latent 128, base_filters 64) | 1,309 | 133,603 | 25 | 52.5x | 5373.6x | 31 | 1.25 |
| jpeg256 (5,000 files) resized to 128x128x3 | DCGAN (celeb_a preset) at 128x128x3 (latent 128, base_filters 64) | 1,154 | 30,801 | 6 | 148.1x | 5455.9x | 6 | 0.98 |

(A DCGAN step at 64x64 takes ~2.5 s here, at 128x128 ~10 s, so their
windows are one step long and their "fed / in-memory" column is noise.)

    TF_CPP_MIN_LOG_LEVEL=3 python bench/input_pipeline.py --parts=startup

Before and after the scan fixes of commit "Folder scans as profiled" (one
thread, one open per file, no relpath; one scan per ``load_images``; the
first epoch streamed instead of a full shuffle buffer), each a separate run
of the command above on the same folder (machine load differs between them):

| step | before: seconds | after: seconds | after: files/s |
| --- | --- | --- | --- |
| `import kgan` (fresh process) | 3.12 | 3.91 | - |
| `scan_folder`, cold (fresh process, OS page cache warm) | 12.51 | 6.55 | 15,260 |
| `scan_folder`, cold, the folder's pages evicted from the page cache | 15.32 | 17.93 | 5,578 |
| `scan_folder` again, same process (warm) | 5.31 | 0.92 | 108,486 |
| `load_images` -> first batch, fresh process (its own scans) | 23.00 | 5.77 | 17,321 |
| `load_images` -> first batch after a scan, shuffle=True (training) | 23.66 | 2.40 | 41,729 |
| `load_images` -> first batch after a scan, shuffle=False | 11.11 | 1.57 | 63,590 |

(100,000 files. With the pages evicted the scan waits on the disk; those
runs swung from 10 to 28 s.) ``--quick`` took 59 s.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("parts", ["pipeline", "startup"], "Parts to run: pipeline, startup.")
flags.DEFINE_string("cache_dir", "/tmp/kgan_bench_input_pipeline", "Where the fixture folders are written once and reused.")
flags.DEFINE_integer("png_images", 20_000, "28x28 gray PNGs of the png28 pipeline folder.")
flags.DEFINE_integer("jpeg_images", 5_000, "256x256 RGB JPEGs of the jpeg256 pipeline folder.")
flags.DEFINE_list("jpeg_sizes", ["64", "128"], "Sides the JPEGs are resized to (one row and one model each).")
flags.DEFINE_integer("scan_images", 100_000, "28x28 gray PNGs of the startup folder.")
flags.DEFINE_integer("batch_size", 64, "Batch size of the pipeline and of the model.")
flags.DEFINE_integer("repeats", 3, "Rounds per folder (medians are reported).")
flags.DEFINE_integer("cached_epochs", 2, "Cached epochs timed per round after the decode epoch.")
flags.DEFINE_float("seconds", 3.0, "Approximate length of one model window.")
flags.DEFINE_boolean("evict", True, "Startup: also scan after dropping the folder's pages from the OS page cache.")
flags.DEFINE_integer("processes", max(1, os.cpu_count() or 1), "Processes writing the fixture files.")
flags.DEFINE_boolean("quick", False, "Small sizes (about a minute): 4,000 PNGs, 1,000 JPEGs resized to 64 only, a 10,000-file scan, 2 rounds.")
flags.DEFINE_string("json_out", None, "Also write every measurement here.")
flags.DEFINE_string("child", None, "Internal: run one job (JSON) and print its result.")

QUICK = dict(png_images=4_000, jpeg_images=1_000, jpeg_sizes=["64"], scan_images=10_000, repeats=2, cached_epochs=1,
             seconds=1.5)


# ---------------------------------------------------------------------- fixtures


def _png28(rng) -> np.ndarray:
    """A smooth 28x28 gray image with a little noise (compresses like a real one, unlike pure noise)."""
    from PIL import Image

    coarse = Image.fromarray(rng.integers(0, 256, (4, 4), dtype=np.uint8)).resize((28, 28), Image.BILINEAR)
    return np.clip(np.asarray(coarse, np.int16) + rng.integers(-8, 9, (28, 28)), 0, 255).astype(np.uint8)


def _jpeg256(rng) -> np.ndarray:
    from PIL import Image

    coarse = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((256, 256), Image.BICUBIC)
    return np.clip(np.asarray(coarse, np.int16) + rng.integers(-10, 11, (256, 256, 3)), 0, 255).astype(np.uint8)


def _write_chunk(job) -> None:
    """Writes files ``start..stop-1`` of one folder (runs in a worker process)."""
    from PIL import Image

    directory, kind, start, stop = job
    rng = np.random.default_rng(start)
    for i in range(start, stop):
        if kind == "png28":
            Image.fromarray(_png28(rng)).save(os.path.join(directory, f"{i:06d}.png"), compress_level=6)
        else:
            Image.fromarray(_jpeg256(rng)).save(os.path.join(directory, f"{i:06d}.jpg"), quality=90)


def fixture(kind: str, count: int) -> str:
    """The folder of ``count`` images of ``kind`` (png28, jpeg256) under ``--cache_dir``, written if missing."""
    final = os.path.join(FLAGS.cache_dir, f"{kind}_{count}")
    if os.path.isdir(final):
        return final
    partial = final + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    start = time.perf_counter()
    chunk = 500
    jobs = [(partial, kind, i, min(i + chunk, count)) for i in range(0, count, chunk)]
    with multiprocessing.get_context("spawn").Pool(FLAGS.processes) as pool:
        pool.map(_write_chunk, jobs, chunksize=1)
    os.sync()  # Written back now, not while a later scan is timed.
    os.rename(partial, final)
    size = subprocess.run(["du", "-sh", final], capture_output=True, text=True).stdout.split()[0]
    print(f"wrote {count:,} {kind} files to {final} ({size} on disk) in {time.perf_counter() - start:.1f} s",
          file=sys.stderr, flush=True)
    return final


def evict_page_cache(folder: str) -> float:
    """Drops the folder's file pages from the OS page cache (clean pages only; no root needed); returns seconds."""
    start = time.perf_counter()
    for entry in os.scandir(folder):
        fd = os.open(entry.path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return time.perf_counter() - start


# ---------------------------------------------------------------------- children


def _model(side: int, channels: int, batch_size: int):
    """``(compiled kgan.GAN, in-memory batch)`` as train/train_lib.py builds the model for ``side`` x ``side`` images."""
    import keras

    from kgan import configs, registry
    from train import train_lib

    keras.utils.set_random_seed(0)
    preset = configs.PRESETS["demo" if side == 28 else "celeb_a"]
    config = dataclasses.replace(preset, batch_size=batch_size, image_size=None if side == 28 else side)
    model = train_lib.build_compiled(registry.get("gan"), config, (side, side, channels))
    per_step = model.examples_per_step(batch_size)
    batch = np.random.default_rng(0).uniform(-1, 1, (per_step, side, side, channels)).astype(np.float32)
    return model, batch


def _fit_rate(model, data, steps: int, per_step: int) -> float:
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * per_step / (time.perf_counter() - start)


def measure_pipeline(job: dict) -> dict:
    """One folder: rounds of (fresh pipeline: decode epoch, cached epochs; model window; model fed by the pipeline)."""
    import tensorflow as tf

    import kgan

    batch_size = job["batch_size"]
    model, batch = _model(job["side"], job["channels"], batch_size)
    per_step = len(batch)
    in_memory = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(in_memory, steps_per_epoch=1, epochs=1, verbose=0)  # Tracing.
    start = time.perf_counter()
    model.fit(in_memory, steps_per_epoch=1, epochs=1, verbose=0)
    # At least one step: a 128x128 DCGAN step takes seconds on two cores.
    steps = max(1, round(job["seconds"] / max(time.perf_counter() - start, 1e-3)))

    def pipeline():
        return kgan.data.load_images(f"folder:{job['folder']}", batch_size=per_step, repeat=True, shuffle=True,
                                     seed=0, image_size=job["image_size"])

    rounds = []
    for _ in range(job["repeats"]):
        ds = pipeline()  # A fresh dataset: its in-memory cache starts empty.
        epoch = job["images"] // per_step
        iterator = iter(ds)
        start = time.perf_counter()
        for _ in range(epoch):
            next(iterator)
        decode = epoch * per_step / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(epoch * job["cached_epochs"]):
            next(iterator)
        cached = epoch * job["cached_epochs"] * per_step / (time.perf_counter() - start)
        del iterator
        model_rate = _fit_rate(model, in_memory, steps, per_step)
        fed = _fit_rate(model, ds, steps, per_step)  # The cache is full: later epochs are read from it.
        rounds.append({"decode": decode, "cached": cached, "model": model_rate, "fed": fed})
        del ds
        gc.collect()
    return {"rounds": rounds, "steps_per_window": steps, "images_per_step": per_step}


def measure_startup(job: dict) -> dict:
    """Startup times of one fresh process, in seconds; ``job["mode"]`` says which."""
    start = time.perf_counter()
    import kgan
    from kgan.data import image_folder

    result = {"import_kgan": time.perf_counter() - start}
    folder, batch_size = job["folder"], job["batch_size"]

    def first_batch(shuffle: bool) -> float:
        start = time.perf_counter()
        ds = kgan.data.load_images(f"folder:{folder}", batch_size=batch_size, repeat=True, shuffle=shuffle, seed=0)
        next(iter(ds))
        return time.perf_counter() - start

    if job["mode"] == "scan":
        for name in ("scan_cold", "scan_warm"):
            start = time.perf_counter()
            scan = image_folder.scan_folder(folder)
            result[name] = time.perf_counter() - start
        result["images"] = len(scan.splits["train"])
        result["first_batch_after_scan"] = first_batch(shuffle=True)
        result["first_batch_after_scan_noshuffle"] = first_batch(shuffle=False)
    elif job["mode"] == "scan_evicted":
        start = time.perf_counter()
        image_folder.scan_folder(folder)
        result["scan_evicted"] = time.perf_counter() - start
    else:
        result["first_batch_fresh"] = first_batch(shuffle=True)
    return result


def _run_child(job: dict) -> dict:
    command = [sys.executable, os.path.abspath(__file__), f"--child={json.dumps(job)}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if out.returncode:
        raise RuntimeError(f"{job} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- tables


def pipeline_table(results: list) -> str:
    lines = [
        f"Pipeline alone vs model alone, batch {FLAGS.batch_size} (medians of {FLAGS.repeats} rounds; "
        "ratios: median of per-round ratios):",
        "",
        "| folder | model (kgan.GAN, float32) | decode epoch images/s | cached epochs images/s | model steps images/s "
        "| decode / model | cached / model | model fed by the pipeline images/s | fed / in-memory |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rounds = r["rounds"]
        med = {k: float(np.median([x[k] for x in rounds])) for k in rounds[0]}
        ratio = {k: float(np.median([x[k] / x["model"] for x in rounds])) for k in ("decode", "cached", "fed")}
        lines.append(
            f"| {r['label']} | {r['model_label']} | {med['decode']:,.0f} | {med['cached']:,.0f} | {med['model']:,.0f} | "
            f"{ratio['decode']:.1f}x | {ratio['cached']:.1f}x | {med['fed']:,.0f} | {ratio['fed']:.2f} |"
        )
    return "\n".join(lines)


def startup_table(result: dict, images: int) -> str:
    rows = [
        ("`import kgan` (fresh process)", result.get("import_kgan")),
        ("`scan_folder`, cold (fresh process, OS page cache warm)", result.get("scan_cold")),
        ("`scan_folder`, cold, the folder's pages evicted from the page cache", result.get("scan_evicted")),
        ("`scan_folder` again, same process (warm)", result.get("scan_warm")),
        ("`load_images` -> first batch, fresh process (its own scans)", result.get("first_batch_fresh")),
        ("`load_images` -> first batch after a scan, shuffle=True (training)", result.get("first_batch_after_scan")),
        ("`load_images` -> first batch after a scan, shuffle=False", result.get("first_batch_after_scan_noshuffle")),
    ]
    lines = [f"Time to the first training step, folder of {images:,} 28x28 gray PNGs, batch {FLAGS.batch_size}:", "",
             "| step | seconds | files/s |", "| --- | --- | --- |"]
    for name, seconds in rows:
        if seconds is not None:
            rate = f"{images / seconds:,.0f}" if "import" not in name else "-"
            lines.append(f"| {name} | {seconds:.2f} | {rate} |")
    return "\n".join(lines)


def main(argv):
    del argv
    if FLAGS.child:
        job = json.loads(FLAGS.child)
        print(json.dumps(measure_pipeline(job) if job["kind"] == "pipeline" else measure_startup(job)))
        return
    if FLAGS.quick:
        for name, value in QUICK.items():
            if not FLAGS[name].present:
                FLAGS[name].value = value
    unknown = set(FLAGS.parts) - {"pipeline", "startup"}
    if unknown:
        raise app.UsageError(f"Unknown parts {sorted(unknown)}; choose from pipeline, startup.")
    os.makedirs(FLAGS.cache_dir, exist_ok=True)
    common = dict(batch_size=FLAGS.batch_size)
    output, record = [], {}
    if "pipeline" in FLAGS.parts:
        png = fixture("png28", FLAGS.png_images)
        jpeg = fixture("jpeg256", FLAGS.jpeg_images)
        jobs = [dict(label=f"png28 ({FLAGS.png_images:,} files, 28x28x1 as stored)", folder=png, images=FLAGS.png_images,
                     image_size=None, side=28, channels=1, model_label="demo preset at 28x28x1 (latent 64, base_filters 32)")]
        for side in map(int, FLAGS.jpeg_sizes):
            jobs.append(dict(label=f"jpeg256 ({FLAGS.jpeg_images:,} files) resized to {side}x{side}x3", folder=jpeg,
                             images=FLAGS.jpeg_images, image_size=side, side=side, channels=3,
                             model_label=f"DCGAN (celeb_a preset) at {side}x{side}x3 (latent 128, base_filters 64)"))
        results = []
        for job in jobs:
            job.update(common, kind="pipeline", repeats=FLAGS.repeats, cached_epochs=FLAGS.cached_epochs,
                       seconds=FLAGS.seconds)
            results.append(dict(job, **_run_child(job)))
            print(f"done: {job['label']}", file=sys.stderr, flush=True)
        output.append(pipeline_table(results))
        record["pipeline"] = results
    if "startup" in FLAGS.parts:
        folder = fixture("png28", FLAGS.scan_images)
        result = {}
        result.update(_run_child(dict(common, kind="startup", mode="scan", folder=folder)))
        fresh = _run_child(dict(common, kind="startup", mode="fresh", folder=folder))
        result["first_batch_fresh"] = fresh["first_batch_fresh"]
        if FLAGS.evict:
            result["evict_seconds"] = evict_page_cache(folder)
            result["scan_evicted"] = _run_child(dict(common, kind="startup", mode="scan_evicted", folder=folder))["scan_evicted"]
        output.append(startup_table(result, result["images"]))
        record["startup"] = result
    print("\n\n".join(output))
    if FLAGS.json_out:
        with open(FLAGS.json_out, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    app.run(main)
