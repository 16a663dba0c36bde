"""bench/vs_pytorch.py: its accounting, summaries and tables on hand-made numbers; with torch, its re-implementations.

The tests that need PyTorch skip without it (CI has none; ``pip install -e ".[bench]"``).
"""

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"
spec = importlib.util.spec_from_file_location("vs_pytorch", BENCH / "vs_pytorch.py")
vs_pytorch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vs_pytorch)

# A /proc/stat text: user nice system idle iowait irq softirq steal guest guest_nice.
STAT = "cpu  {user} 5 {system} 9000 40 3 {softirq} {steal} 100 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\n"
# /proc/<pid>/stat with a command name holding spaces and parentheses; utime, stime are fields 14 and 15.
PID_STAT = "4242 (python (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 {utime} {stime} 0 0 20 0 8 0 100 1000 50\n"


def _snapshot(time, user, system, softirq, steal, active, idle, parent):
    return {"time": time, "stat": STAT.format(user=user, system=system, softirq=softirq, steal=steal),
            "pids": {"active": PID_STAT.format(utime=active, stime=0), "idle": PID_STAT.format(utime=idle, stime=1),
                     "parent": PID_STAT.format(utime=0, stime=parent)}}


def test_proc_parsers():
    assert vs_pytorch.cpu_ticks(STAT.format(user=100, system=20, softirq=2, steal=7)) == {"busy": 100 + 5 + 20 + 3 + 2, "steal": 7}
    assert vs_pytorch.process_ticks(PID_STAT.format(utime=31, stime=9)) == 40
    with pytest.raises(ValueError, match="cpu"):
        vs_pytorch.cpu_ticks("intr 1 2\n")


def test_other_processes_cpu_is_the_machine_busy_time_minus_ours():
    # 2 s at 100 ticks/s: the machine got 300 busy ticks (1.5 cores); the active worker 180 ticks
    # (0.9), the idle one 10 (0.05), the parent 4 (0.02): others used 106 ticks, 0.53 cores.
    before = _snapshot(10.0, user=1000, system=200, softirq=10, steal=50, active=500, idle=70, parent=3)
    after = _snapshot(12.0, user=1250, system=240, softirq=20, steal=60, active=680, idle=80, parent=7)
    cpu = vs_pytorch.window_cpu(before, after, clock_ticks=100)
    assert cpu["wall"] == 2.0
    assert cpu["active"] == pytest.approx(0.9) and cpu["idle"] == pytest.approx(0.05) and cpu["parent"] == pytest.approx(0.02)
    assert cpu["other"] == pytest.approx(0.53)
    assert cpu["steal"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="positive"):
        vs_pytorch.window_cpu(after, before, clock_ticks=100)


def _variant(model, precision, name, rates, other=None, images_per_step=256, steps=4):
    other = other or [0.0] * len(rates)
    return {"key": f"{model}/{precision}/{name}", "model": model, "precision": precision, "side": vs_pytorch.variant_side(name),
            "name": name, "work": vs_pytorch.variant_work(name), "images_per_step": images_per_step, "steps": steps,
            "windows": [{"round": r, "images_per_second": v, "steps": steps, "seconds": steps * images_per_step / v,
                         "cpu": {"other": o, "active": 1.9, "idle": 0.0, "parent": 0.0, "steal": 0.0, "wall": 1.0}}
                        for r, (v, o) in enumerate(zip(rates, other))]}


def _variants():
    return [
        _variant("gan28", "float32", "kgan", [100, 110, 90], other=[0.0, 0.5, 0.0]),
        _variant("gan28", "float32", "kgan_xla", [50, 60, 55]),
        _variant("gan28", "float32", "kgan_reuse_fakes", [150, 140, 160]),
        _variant("gan28", "float32", "torch_nchw", [200, 100, 180]),
        _variant("gan28", "float32", "torch_channels_last", [210, 220, 230]),
        _variant("gan28", "float32", "torch_examples_nchw", [300, 280, 320]),
        _variant("wgan_gp", "bfloat16", "kgan", [10, 12], images_per_step=320),
        _variant("wgan_gp", "bfloat16", "torch_nchw", [20, 20], images_per_step=320),
    ]


def test_pair_ratios_are_per_round_and_skip_noisy_rounds_when_asked():
    kgan, _, _, nchw, *_ = _variants()
    assert vs_pytorch.pair_ratios(kgan, nchw) == pytest.approx([0.5, 1.1, 0.5])
    assert vs_pytorch.pair_ratios(kgan, nchw, quiet_below=0.25) == pytest.approx([0.5, 0.5])
    # A round only one variant ran is left out.
    nchw["windows"].pop(0)
    assert vs_pytorch.pair_ratios(kgan, nchw) == pytest.approx([1.1, 0.5])


def test_pairs_match_variants_doing_the_same_work():
    rows = vs_pytorch.pairs(_variants())
    found = {(r["model"], r["kgan"], r["torch"]) for r in rows}
    assert ("gan28", "kgan_reuse_fakes", "torch_examples_nchw") in found
    assert ("gan28", "kgan", "torch_examples_nchw") not in found and ("gan28", "kgan_reuse_fakes", "torch_nchw") not in found
    assert len(rows) == 2 * 2 + 1 + 1
    row = next(r for r in rows if r["kgan"] == "kgan" and r["torch"] == "torch_nchw")
    assert row["median"] == pytest.approx(0.5) and row["noisy"] == [False, True, False]
    assert row["quiet_median"] == pytest.approx(0.5) and row["quiet_rounds"] == 2


def test_headline_is_kgans_best_over_the_fastest_pytorch_variant_as_a_median_of_round_ratios():
    rows = {(h["model"], h["precision"], h["work"]): h for h in vs_pytorch.headlines(_variants())}
    gan = rows[("gan28", "float32", "train_step")]
    # Best kgan by median images/s: kgan (100) over kgan_xla (55); fastest PyTorch: channels_last (220) over nchw (180).
    assert (gan["kgan"], gan["torch"]) == ("kgan", "torch_channels_last")
    assert gan["kgan_rate"] == 100 and gan["torch_rate"] == 220
    assert gan["ratios"] == pytest.approx([100 / 210, 110 / 220, 90 / 230])
    assert gan["median"] == pytest.approx(100 / 210)
    reuse = rows[("gan28", "float32", "reuse_fakes")]
    assert (reuse["kgan"], reuse["torch"], reuse["median"]) == ("kgan_reuse_fakes", "torch_examples_nchw", pytest.approx(0.5))
    assert rows[("wgan_gp", "bfloat16", "train_step")]["median"] == pytest.approx(0.55)
    assert ("wgan_gp", "bfloat16", "reuse_fakes") not in rows


def test_other_cpu_by_side_and_medians():
    summary = vs_pytorch.other_cpu_by_side(_variants())
    assert summary["kgan"]["max"] == 0.5 and summary["kgan"]["windows"] == 11 and summary["kgan"]["median"] == 0.0
    assert summary["torch"]["windows"] == 11
    assert vs_pytorch.median([3, None, 1, 2]) == 2 and vs_pytorch.median([]) is None


def test_windows_steps_round_order_and_parameter_checks():
    assert vs_pytorch.steps_for_window(0.4, 3.0) == 8 and vs_pytorch.steps_for_window(20.0, 3.0) == 1
    assert vs_pytorch.round_order(["k1", "k2", "k3"], ["t1"], torch_first=False) == ["k1", "t1", "k2", "k3"]
    assert vs_pytorch.round_order(["k1", "k2"], ["t1", "t2"], torch_first=True) == ["t1", "k1", "t2", "k2"]
    counts = {"generator": {"trainable": 771969, "non_trainable": 12672}}
    assert vs_pytorch.compare_parameters("gan28", counts, counts) == []
    problems = vs_pytorch.compare_parameters("gan28", counts, {"generator": {"trainable": 771968, "non_trainable": 12672}})
    assert len(problems) == 1 and "generator" in problems[0]
    assert vs_pytorch.images_per_step(vs_pytorch.MODELS["wgan_gp"]) == 320
    assert vs_pytorch.images_per_step(vs_pytorch.MODELS["cycle_gan_demo"]) == 32


def test_calibrate_sets_steps_from_the_warm_up():
    calls = []
    result = vs_pytorch.calibrate(calls.append, seconds=0.5)
    assert calls[:2] == [1, 2] and len(calls) == 3 and calls[2] >= 2 and result["steps"] >= 1
    calls.clear()
    assert vs_pytorch.calibrate(calls.append, seconds=0.5, one_step=True)["steps"] == 1 and calls == [1]


def _run():
    return {"meta": {"started": "2030-01-01 00:00", "cpu": {"model": "Test CPU", "cores": 2, "flags": {"avx512_bf16": True, "amx_bf16": False}},
                     "kgan": {"TensorFlow": "9.9"}, "torch": {"torch": "9.9"}, "args": {"rounds": 3, "seconds": 3.0}, "wall_seconds": 600},
            "variants": _variants(), "notes": ["gan28/float32/kgan_reuse_fakes_xla skipped: test"],
            "parameters": {"gan28": {"generator": {"trainable": 771969, "non_trainable": 12672}}}}


def test_report_tables(tmp_path, capsys):
    report = vs_pytorch.format_report(_run())
    assert "Test CPU" in report and "avx512_bf16 yes" in report and "amx_bf16 no" in report
    assert "| gan28 | float32 | train_step | kgan | 100 | torch_channels_last | 220 | 0.48 0.50* 0.39 | **0.48** | 0.43 (2) |" in report
    assert "| gan28 | float32 | reuse_fakes | kgan_reuse_fakes | 150 | torch_examples_nchw | 300 |" in report
    assert "| wgan_gp | bfloat16 | kgan | torch_nchw | 0.50 0.60 | 0.55 | 0.55 (2) |" in report
    assert "| gan28 | float32 | kgan | train_step | 256 | 4 | 3 | 100 | 90-110 | 1.90 (1.90-1.90) | 0.00 / 0.50 |" in report
    assert "| gan28 | generator | 771,969 | 12,672 |" in report
    assert "note: gan28/float32/kgan_reuse_fakes_xla skipped" in report
    assert "kgan windows median 0.00, max 0.50" in report
    # --from_json reprints a saved run.
    path = tmp_path / "run.json"
    path.write_text(json.dumps(_run()))
    vs_pytorch.main([f"--from_json={path}"])
    assert capsys.readouterr().out.strip() == report.strip()


def test_without_torch_the_bench_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "torch" else real(name, *args))
    with pytest.raises(SystemExit, match=r'pip install -e "\.\[bench\]".*download\.pytorch\.org/whl/cpu'):
        vs_pytorch.main(["--models=gan28", "--rounds=1"])


# ---------------------------------------------------------------------- with PyTorch


@pytest.fixture(scope="module")
def torch_models():
    pytest.importorskip("torch")
    sys.path.insert(0, str(BENCH))
    try:
        import torch_models
    finally:
        sys.path.remove(str(BENCH))
    return torch_models


def test_every_torch_reimplementation_has_kgans_parameter_counts(torch_models):
    kgan_side = vs_pytorch.KganSide({})
    torch_side = vs_pytorch.TorchSide({"torch_threads": 1})
    import keras

    for model, spec in vs_pytorch.MODELS.items():
        _, kwargs = kgan_side._networks(model, spec)
        kgan_counts = vs_pytorch.keras_parameter_counts({k: v for k, v in kwargs.items() if isinstance(v, keras.Model)})
        for name in ("torch_nchw", "torch_channels_last"):
            torch_counts = torch_side.make_step(model, "float32", name).parameter_counts()
            assert vs_pytorch.compare_parameters(model, kgan_counts, torch_counts) == [], (model, name)
    assert kgan_counts["generator_xy"]["trainable"] == 11_383_427  # cycle_gan256 (resnet_generator((256, 256, 3)))


def _copy_keras_weights(keras_model, torch_model, channels_last):
    """Keras weights into the PyTorch network built as its twin (layers in the same order)."""
    import keras
    import torch

    keras_layers = [layer for layer in keras_model.layers if layer.weights]
    # By class, subclasses included (kgan's FusedBatchNormalization is a BatchNormalization).
    kinds = ("Dense", "Conv2DTranspose", "Conv2D", "BatchNormalization", "LayerNormalization", "GroupNormalization")
    torch_layers = [m for m in torch_model.modules() if list(m.parameters(recurse=False))]
    assert len(keras_layers) == len(torch_layers), ([type(l).__name__ for l in keras_layers], [type(m).__name__ for m in torch_layers])
    projection = None  # The generator's (H, W, C) projection features in the order PyTorch's NCHW reshape takes.
    for layer, module in zip(keras_layers, torch_layers):
        weights = [np.asarray(w) for w in layer.weights]
        kind = next((k for k in kinds if isinstance(layer, getattr(keras.layers, k))), type(layer).__name__)
        if kind == "Dense":
            kernel = weights[0]
            if hasattr(torch_model, "project") and not channels_last:
                # The generator's projection: Keras reshapes its features as (H, W, C), NCHW PyTorch as (C, H, W).
                s, f = torch_model.start, torch_model.filters
                projection = np.arange(s * s * f).reshape(s, s, f).transpose(2, 0, 1).reshape(-1)
                kernel = kernel[:, projection]
            elif not channels_last:
                # The discriminator's score: Keras flattens (H, W, C), NCHW PyTorch (C, H, W).
                c = [m for m in torch_model.features if isinstance(m, torch.nn.Conv2d)][-1].out_channels
                s = int(round((kernel.shape[0] // c) ** 0.5))
                kernel = kernel.reshape(s, s, c, 1).transpose(2, 0, 1, 3).reshape(-1, 1)
            module.weight.data = torch.tensor(kernel.T.copy())
            if len(weights) > 1:
                module.bias.data = torch.tensor(weights[1])
        elif kind in ("Conv2D", "Conv2DTranspose"):
            module.weight.data = torch.tensor(weights[0].transpose(3, 2, 0, 1).copy())
            if len(weights) > 1:
                module.bias.data = torch.tensor(weights[1])
        elif kind == "BatchNormalization":
            order = projection if (projection is not None and weights[0].shape[0] == len(projection)) else slice(None)
            gamma, beta, mean, variance = (w[order] for w in weights)
            module.weight.data, module.bias.data = torch.tensor(gamma), torch.tensor(beta)
            module.running_mean.data, module.running_var.data = torch.tensor(mean), torch.tensor(variance)
        elif kind == "LayerNormalization":
            gamma, beta = weights if channels_last else (w.transpose(2, 0, 1) for w in weights)
            module.weight.data, module.bias.data = torch.tensor(np.ascontiguousarray(gamma)), torch.tensor(np.ascontiguousarray(beta))
        elif kind == "GroupNormalization":
            module.weight.data, module.bias.data = torch.tensor(weights[0]), torch.tensor(weights[1])
        else:
            raise AssertionError(f"No weight copy for {kind}.")


def _randomize(keras_model, seed):
    """Random non-default values for every weight (BatchNorm's gamma, beta and statistics included)."""
    rng = np.random.default_rng(seed)
    for w in keras_model.weights:
        value = rng.normal(0, 0.2, w.shape)
        if "variance" in w.name:
            value = rng.uniform(0.5, 1.5, w.shape)
        w.assign(value.astype(np.float32))


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_the_torch_networks_compute_kgans_numbers(torch_models, channels_last):
    """Same weights, same inputs -> same outputs (training mode: batch statistics), so the layers are the same."""
    import torch

    from kgan import networks

    def compare(keras_model, torch_model, inputs, image_input=True):
        _randomize(keras_model, 0)
        _copy_keras_weights(keras_model, torch_model, channels_last)
        torch_model.train()
        if channels_last:
            torch_model.to(memory_format=torch.channels_last)
        expected = np.asarray(keras_model(inputs, training=True))
        given = torch.tensor(inputs.transpose(0, 3, 1, 2).copy()) if image_input else torch.tensor(inputs)
        if image_input and channels_last:
            given = given.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            got = torch_model(given).numpy()
        if got.ndim == 4:
            got = got.transpose(0, 2, 3, 1)
        np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-4)

    rng = np.random.default_rng(1)
    images = lambda n, shape: rng.uniform(-1, 1, (n, *shape)).astype(np.float32)  # noqa: E731
    z = rng.normal(size=(8, 100)).astype(np.float32)
    compare(networks.dcgan_generator(100, (28, 28, 1), 16), torch_models.DCGANGenerator(100, (28, 28, 1), 16, channels_last), z, False)
    compare(networks.dcgan_generator(100, (32, 32, 3), 8), torch_models.DCGANGenerator(100, (32, 32, 3), 8, channels_last), z, False)
    for normalization in ("batch", "layer"):
        compare(networks.dcgan_discriminator((28, 28, 1), 16, normalization),
                torch_models.DCGANDiscriminator((28, 28, 1), 16, normalization, channels_last), images(8, (28, 28, 1)))
    # CycleGAN's demo networks, the up-sampling aligned as TF's (tf_alignment; see bench/torch_models.py).
    norm = "instance" if channels_last else "group"
    compare(networks.resnet_generator((28, 28, 1), base_filters=8, num_downsampling=1, num_residual_blocks=2),
            torch_models.ResnetGenerator((28, 28, 1), base_filters=8, num_downsampling=1, num_residual_blocks=2, norm=norm,
                                         tf_alignment=True), images(2, (28, 28, 1)))
    compare(networks.resnet_generator((32, 32, 3), base_filters=8, num_residual_blocks=1),
            torch_models.ResnetGenerator((32, 32, 3), base_filters=8, num_residual_blocks=1, norm=norm, tf_alignment=True),
            images(2, (32, 32, 3)))
    compare(networks.patch_discriminator((32, 32, 3), 8, 2), torch_models.PatchDiscriminator((32, 32, 3), 8, 2, norm), images(2, (32, 32, 3)))


def test_every_torch_step_runs_and_trains(torch_models):
    import torch

    steps = [
        torch_models.GANStep((28, 28, 1), 4, 100, 8), torch_models.ExamplesGANStep((28, 28, 1), 4, 100, 8, bfloat16=True),
        torch_models.WGANGPStep((28, 28, 1), 2, 2, 100, 8, channels_last=True),
        torch_models.CycleGANStep((28, 28, 1), 2, 4, 1, 1, 2, identity=0.5, pool_size=3),
    ]
    for step in steps:
        before = {name: [p.detach().clone() for p in net.parameters()] for name, net in step.networks.items()}
        for _ in range(2):
            d_loss, g_loss = step.step()
        assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
        for name, net in step.networks.items():
            assert all(p.requires_grad for p in net.parameters()), name  # Unfrozen after each update.
            assert any(not torch.equal(a, p) for a, p in zip(before[name], net.parameters())), name
    assert steps[-1].pool_x.count == 3  # Full after 2 steps of 2 images, capacity 3.
