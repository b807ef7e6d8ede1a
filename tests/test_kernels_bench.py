"""``python -m micrograd bench --quick``: the CI smoke of the benchmarks (correctness only)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from micrograd.apps import bench


def test_quick_bench_checks_backends_agree_and_saves_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--no-torch", "--no-jax", "--threads", "1",
                       "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["quick"] is True
    cases = {row["case"] for row in saved["rows"]}
    assert {"gemm float32", "relu", "softmax-xent fwd+bwd", "tiny matmul", "train step CNN",
            "train step LSTM", "train step MLP, captured", "train step moons, captured"} <= cases
    assert all(row["agree"] for row in saved["rows"])
    assert "backends agree" in capsys.readouterr().out


def test_header_says_which_machine_and_command(tmp_path, capsys):
    """The header names the CPU, the caches and blocking the C core detected (``micrograd
    info``'s lines), the command and the date, and the JSON keeps them."""
    out = tmp_path / "bench.json"
    argv = ["--quick", "--no-torch", "--no-jax", "--threads", "1", "--only", "tiny add",
            "--json", str(out)]
    assert bench.main(argv) == 0
    text = capsys.readouterr().out
    machine = json.loads(out.read_text())["machine"]
    assert machine["command"] == ("python -m micrograd bench --quick --no-torch --no-jax "
                                  f"--threads 1 --only 'tiny add' --json {out}")
    assert text.startswith(f"micrograd bench, {machine['date_utc']}: {machine['command']}")
    assert f"machine: {machine['cpu']}, {machine['cores']} logical CPUs" in text
    if bench.backends.info()["built"]:
        assert "caches (" in text and "GEMM blocking float32: micro-kernel" in text
        assert set(machine["caches"]) >= {"l1d", "l2", "l3", "source"}


def test_disagreeing_backend_is_reported():
    fns = {"numpy": lambda: 1.0, "c": lambda: 2.0}
    with pytest.raises(AssertionError, match="c disagrees with numpy on case"):
        bench.check_agree("case", fns)


def test_header_without_the_c_core(monkeypatch):
    """Without the C core the header says so and names the machine from the platform."""
    monkeypatch.setattr(bench.backends, "info", lambda: {"built": False, "error": "not built"})
    info = bench.machine_info(None, None, ["--quick"])
    assert info["cpu"] and "caches" not in info
    lines = bench.header_lines(info, None)
    assert lines[0].endswith("python -m micrograd bench --quick")
    assert "C core: not available (not built)" in lines
    assert not any(line.startswith("FMA peak") for line in lines)


@pytest.mark.parametrize("args", [["--threads", "0"], ["--threads", "x"], ["--threads", ""],
                                  ["--runs", "0"]])
def test_bad_thread_list_or_run_count_is_a_usage_error(args, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--no-jax", *args])
    assert "must" in capsys.readouterr().err


def test_format_table_ratios():
    row = {"case": "gemm float32", "shape": "2x2x2", "threads": 1, "flops": 16e3,
           "median_s": {"numpy": 2e-6, "c": 1e-6}, "fma_peak_gflops": 32.0}
    text = bench.format_table([row])
    c_line = next(line for line in text.splitlines() if " c " in line)
    assert "16.0" in c_line and "50%" in c_line and "2.00" in c_line


def test_format_table_ranges_and_jax_ratio():
    row = {"case": "train step moons", "shape": "2-16-16-1", "threads": 1, "flops": 0.0,
           "median_s": {"c": 2e-4, "torch": 3e-4, "jax": 1e-4},
           "range_s": {"c": (1.9e-4, 2.1e-4), "torch": (3e-4, 3e-4), "jax": (1e-4, 1.2e-4)},
           "runs": 3, "fma_peak_gflops": 32.0}
    lines = bench.format_table([row]).splitlines()
    assert lines[0].split()[-3:] == ["numpy/c", "torch/c", "jax/c"]
    c_line = next(line for line in lines if " c " in line)
    assert "190.0 us-210.0 us" in c_line and c_line.split()[-2:] == ["1.50", "0.50"]
    jax_line = next(line for line in lines if " jax " in line)
    assert "100.0 us-120.0 us" in jax_line


def test_quick_training_steps_agree_with_torch(tmp_path):
    """The CNN and LSTM steps run the same network from the same weights in PyTorch: its loss
    and first gradient agree with every backend's (check_agree raises otherwise)."""
    torch = pytest.importorskip("torch")
    out = tmp_path / "steps.json"
    assert bench.main(["--quick", "--no-jax", "--threads", "1", "--only", "train step",
                       "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["case"] for r in rows] == ["train step MLP", "train step MLP, captured",
                                         "train step moons", "train step moons, captured",
                                         "train step CNN", "train step CNN, captured",
                                         "train step LSTM", "train step LSTM, captured"]
    for row in bench.cnn_step_case(torch, quick=True):  # eager, then captured (replaying)
        fns = dict(row[3])
        loss, grad = bench._as_numpy(fns["torch"]())
        assert grad.shape == (32, 1, 3, 3) and np.isfinite(loss)
        for backend in ("numpy", "c"):
            if fns.get(backend) is not None:
                mine = bench._as_numpy(fns[backend]())
                np.testing.assert_allclose(mine[0], loss, rtol=1e-5)
                np.testing.assert_allclose(mine[1], grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", ["seed", "moons"])
def test_captured_and_jax_steps_agree_with_eager(case, monkeypatch):
    """The captured step (micrograd.compile, fullgraph: a fallback to eager would raise) is
    replaying, and JAX's jit of the same step from the same weights gives the same loss."""
    if "asan" in os.environ.get("LD_PRELOAD", ""):  # the sanitizer job (scripts/sanitize.sh)
        pytest.skip("JAX's runtime aborts under the ASan preload; the main run compares")
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                    "intra_op_parallelism_threads=1")
    jax = pytest.importorskip("jax")
    rows = list(bench.train_step_case(None, quick=True, jax=jax) if case == "seed"
                else bench.moons_step_case(None, jax=jax))
    assert [r[0].endswith(", captured") for r in rows] == [False, True]
    for name, shape, _, fns in rows:
        assert fns["torch"] is None and fns["jax"] is not None
        bench.check_agree(f"{name} {shape}", fns)
        eager = float(bench._as_numpy(rows[0][3]["numpy"]()))
        for backend, fn in fns.items():
            if fn is not None:
                assert float(bench._as_numpy(fn())) == pytest.approx(eager, rel=1e-5), backend
