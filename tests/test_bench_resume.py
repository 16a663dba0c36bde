"""The seed benches' saved files: --resume keeps saved runs, --extra_flags values keep their commas, summaries name no machine paths."""

import json

import pytest

from tests.test_case import import_bench

# bench/seed_tables.py defines no absl flags, so importing it cannot clash with a binary's flags
# (bench/mode_collapse.py's --num_samples and train/evaluate.py's would, in one xdist worker).
seed_tables = import_bench("seed_tables")


def _run(model, remedy, mixture, seed):
    return {"model": model, "remedy": remedy, "mixture": mixture, "seed": seed, "modes_covered": 8}


def test_resume_trains_only_the_runs_the_file_lacks_in_their_order():
    jobs = [("gan", remedy, mixture, 100, seed) for remedy in ("none", "pacgan2") for mixture in ("ring8", "grid25")
            for seed in (0, 1)]
    saved = [_run("gan", "none", "ring8", 0), _run("gan", "none", "grid25", 1), _run("wgangp", "pacgan2", "ring8", 0)]
    missing = seed_tables.missing_jobs(jobs, saved)
    assert missing == [("gan", "none", "ring8", 100, 1), ("gan", "none", "grid25", 100, 0)] + jobs[4:]
    assert seed_tables.missing_jobs(jobs, []) == jobs


def test_earlier_runs_are_read_back_and_a_file_of_other_steps_is_refused(tmp_path):
    path = str(tmp_path / "table.json")
    assert seed_tables.earlier_runs(path, {"ring8": 100}) == ([], 0.0)  # Nothing saved yet: train everything.
    runs = [_run("gan", "none", "ring8", 0)]
    with open(path, "w") as f:
        json.dump({"steps": {"ring8": 100}, "total_seconds": 12.5, "complete": False, "runs": runs}, f)
    assert seed_tables.earlier_runs(path, {"ring8": 100}) == (runs, 12.5)
    with pytest.raises(ValueError, match="trained with steps"):
        seed_tables.earlier_runs(path, {"ring8": 200})


def test_extra_flag_values_split_at_their_commas_are_rejoined():
    items = ["--diff_augment=translation", "cutout", "--identity_weight=2", "--tags=a", "b", "c"]
    assert seed_tables.rejoin_flag_values(items) == ["--diff_augment=translation,cutout", "--identity_weight=2",
                                                     "--tags=a,b,c"]
    assert seed_tables.rejoin_flag_values([]) == []


def test_saved_run_summaries_name_paths_from_the_run_directory_not_the_machine():
    summary = {"checkpoint_dir": "/tmp/runs/a/checkpoints", "grids": ["/tmp/runs/a/s.png", "/tmp/runs/ab/s.png"],
               "evaluation": {"fid": 3.0, "model_dir": "/tmp/runs/a"}}
    assert seed_tables.without_directory(summary, "/tmp/runs/a") == {
        "checkpoint_dir": "<model_dir>/checkpoints", "grids": ["<model_dir>/s.png", "/tmp/runs/ab/s.png"],
        "evaluation": {"fid": 3.0, "model_dir": "<model_dir>"}}


def test_a_saved_plot_path_comes_back_under_the_plots_directory_of_the_resumed_run():
    saved = seed_tables.without_directory([{"plot": "/scratch/a/ring8-seed0.png"}], "/scratch/a/", "<plots_dir>")
    assert saved == [{"plot": "<plots_dir>/ring8-seed0.png"}]
    assert seed_tables.with_directory(saved[0]["plot"], "/elsewhere/b", "<plots_dir>") == "/elsewhere/b/ring8-seed0.png"
    assert seed_tables.with_directory("/kept/x.png", "/elsewhere/b", "<plots_dir>") == "/kept/x.png"
    assert seed_tables.with_directory(None, "/elsewhere/b", "<plots_dir>") is None
    assert seed_tables.without_directory({"plot": "/scratch/a/x.png"}, "", "<plots_dir>") == {"plot": "/scratch/a/x.png"}
