"""What the seed-sweep benches (info_gan.py, cat_gan.py, ...) share: the data they train on, the spread rows,
and their --extra_flags lists."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def earlier_runs(path, steps):
    """``(runs, seconds)`` saved in ``path`` by an earlier run of a resumable bench; none if the file does not exist.

    Raises ``ValueError`` when the file was trained with other ``steps``.
    """
    if not os.path.exists(path):
        return [], 0.0
    with open(path) as f:
        saved = json.load(f)
    if saved["steps"] != steps:
        raise ValueError(f"{path} was trained with steps {saved['steps']}, not {steps}; "
                         "pass another --json_out or the same --steps.")
    return saved["runs"], float(saved.get("total_seconds", 0.0))


def missing_jobs(jobs, runs):
    """The ``(loss, remedy, mixture, steps, seed)`` jobs that no saved run answers, in their order."""
    done = {(run["model"], run["remedy"], run["mixture"], run["seed"]) for run in runs}
    return [job for job in jobs if (job[0], job[1], job[2], job[4]) not in done]


def rejoin_flag_values(items):
    """``--extra_flags`` items as whole ``--name=value`` flags.

    absl's list flags split on every comma, so a value that holds commas
    (``--extra_flags=--diff_augment=translation,cutout``) comes back as items
    without a leading ``--``; each such item rejoins the flag before it.
    """
    joined = []
    for item in items:
        if joined and not item.startswith("-"):
            joined[-1] += "," + item
        else:
            joined.append(item)
    return joined


def train_run(binary: str, model_dir: str, flags: list) -> dict:
    """Runs ``train/<binary>.py`` afresh in ``model_dir`` (log beside it); returns its summary.json plus the wall time.

    The directory is emptied first: resuming an old run would train past the time budget.
    """
    command = [sys.executable, os.path.join(REPO, "train", f"{binary}.py"), f"--model_dir={model_dir}", "--noexport",
               "--notensorboard", "--verbose=2", "--checkpoint_every_n_steps=2000", *flags]
    start = time.time()
    shutil.rmtree(model_dir, ignore_errors=True)
    with open(model_dir + ".log", "w") as log:
        result = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed (exit {result.returncode}); see {model_dir}.log")
    with open(os.path.join(model_dir, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    summary["bench_wall_seconds"] = time.time() - start
    return without_directory(summary, model_dir)


def without_directory(value, directory: str, placeholder: str = "<model_dir>"):
    """``value`` with every path under ``directory`` written from ``placeholder``: saved tables name no scratch paths.

    Nested dicts and lists are rewritten; other values are returned as they are, and so is
    everything when ``directory`` is empty.
    `with_directory` turns the placeholder back into a directory.
    """
    directory = os.fspath(directory).rstrip("/")
    if not directory:  # No directory (e.g. no --plots_dir): nothing to rewrite.
        return value
    if isinstance(value, dict):
        return {key: without_directory(item, directory, placeholder) for key, item in value.items()}
    if isinstance(value, list):
        return [without_directory(item, directory, placeholder) for item in value]
    if isinstance(value, str) and (value == directory or value.startswith(directory + "/")):
        return placeholder + value[len(directory):]
    return value


def with_directory(path, directory: str, placeholder: str) -> str | None:
    """A saved ``path`` under ``placeholder`` as a path under ``directory`` (other paths and None unchanged)."""
    if isinstance(path, str) and path.startswith(placeholder):
        return os.fspath(directory).rstrip("/") + path[len(placeholder):]
    return path


def training_data(choice: str) -> tuple:
    """``(dataset, test images)``: ``choice``, or for ``"auto"`` the full Fashion-MNIST when it is here offline."""
    from kgan import data
    from kgan.data import offline

    dataset = choice
    if dataset == "auto":
        dataset = "fashion_mnist" if offline.full_fashion_mnist_available() else "embedded_fashion_mnist"
    return dataset, min(10000, data.dataset_info(dataset).splits["test"])


def data_note(dataset: str, test_images: int, scored: str, max_minutes: float, features: str) -> str:
    """The protocol line printed above a table; a loud note when the run is not on the full data."""
    if dataset == "fashion_mnist":
        return (f"Fashion-MNIST, full training split; {scored} on the {test_images} test images; "
                f"{max_minutes:g} min of fit per run, {features} features.")
    return (f"NOTE: these runs train on {dataset} and score its {test_images} test images, not the full "
            f"Fashion-MNIST (--dataset=auto takes it when a prepared TFDS copy or Debian's dataset-fashion-mnist "
            f"is here): not the issue's target protocol. {max_minutes:g} min of fit per run.")


def spread_rows(rows, group: str, columns, leading_blanks: int = 2) -> list:
    """One ``| <group> mean (min-max) | n seeds | ... |`` row per group with two or more seeds.

    Args:
      rows: dicts holding ``group`` and every key of ``columns``.
      group: the key that names a row's model or preset.
      columns: ``(key, digits)`` of the numeric columns, in table order.
      leading_blanks: empty cells between the seed count and the first numeric column.
    """
    lines = []
    for name in dict.fromkeys(r[group] for r in rows):
        mine = [r for r in rows if r[group] == name]
        if len(mine) < 2:
            continue
        cells = []
        for key, digits in columns:
            values = [r[key] for r in mine if r.get(key) is not None]
            cells.append(f"{sum(values) / len(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
                         if values else "-")
        lines.append(f"| {name} mean (min-max) | {len(mine)} seeds |" + " |" * leading_blanks + " "
                     + " | ".join(cells) + " | |")
    return lines


def finish(rows: list, runs: list, table: str, note: str, max_minutes: float, json_out) -> None:
    """Prints a bench's table and, with ``json_out``, writes its rows and every run's summary there."""
    print(table, flush=True)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump({"note": note, "max_minutes": max_minutes, "rows": rows, "runs": runs}, f, indent=1, default=str)
