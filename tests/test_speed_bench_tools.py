"""The pure parts of the speed benches: settings parsing and tables (bench/environment_ab.py, profile_step.py, throughput.py)."""

import pytest

from tests.test_case import import_bench

environment_ab = import_bench("environment_ab")
profile_step = import_bench("profile_step")
throughput = import_bench("throughput")


def test_settings_parse_in_order_and_refuse_a_bare_name():
    settings = environment_ab.parse_settings("default=; two= TF_NUM_INTEROP_THREADS=1 ,OMP_NUM_THREADS=2")
    assert list(settings) == ["default", "two"]
    assert settings == {"default": {}, "two": {"TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "2"}}
    with pytest.raises(ValueError, match="not VAR=value"):
        environment_ab.parse_settings("x=TF_NUM_INTEROP_THREADS")
    with pytest.raises(ValueError, match="no setting"):
        environment_ab.parse_settings(" ; ")


def test_the_settings_table_gives_per_round_ratios_to_the_first_setting():
    results = {"a": [{"images_per_second": 100.0, "cores": 1.9}, {"images_per_second": 50.0, "cores": 1.0}],
               "b": [{"images_per_second": 110.0, "cores": 1.9}, {"images_per_second": 60.0, "cores": 1.0}]}
    table = environment_ab.format_table(results)
    assert "| b | 85 | 110, 60 | 1.45 | 1.150 (1.10-1.20) |" in table  # Ratios of rounds, not of medians.


def test_the_profile_table_sums_the_rest_and_states_overlap_and_cores():
    profiles = {"f32": {"wall": 0.1, "cpu": 0.19, "ops": {"Conv2D": 0.1, "Mean": 0.05, "Cast": 0.05}}}
    table = profile_step.format_table(profiles, top=2)
    assert "| Conv2D | 100.00 | 50.0 |" in table
    assert "| (1 other types) | 50.00 | 25.0 |" in table
    assert "| **ops side by side** (op time / wall) | 2.00 | - |" in table
    assert "| **cores used** (process CPU time / wall) | 1.90 | - |" in table


def test_the_throughput_table_prices_fit_against_the_bare_train_function():
    base = {"policy": "float32", "xla": False, "images_per_step": 256, "peak_rss_mb": 1000.0}
    results = [
        {**base, "model": "gan", "images_per_second": 90.0, "runs": [90.0, 80.0, 100.0], "flops_per_step": 1e9},
        {**base, "model": "gan_train_function", "images_per_second": 100.0, "runs": [100.0, 100.0, 100.0]},
        {**base, "model": "gan_reuse_fakes", "images_per_second": 120.0, "runs": [120.0], "flops_per_step": 0.8e9},
    ]
    table = throughput.format_table(results, {"float32": 1e12, "bfloat16": 2e12})
    assert "| gan | 90 | 100 | 0.900 | 0.800-1.000 |" in table
    assert "| gan_reuse_fakes | float32 | off | 120 | - | 1.33x |" in table
    assert "gan_train_function |" not in table.split("Cost of fit")[0]  # Only in its own table.
