"""``python -m micrograd bench --quick``: the CI smoke of the benchmarks (correctness only)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from micrograd.apps import bench


def test_quick_bench_checks_backends_agree_and_saves_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--no-torch", "--threads", "1", "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["quick"] is True
    cases = {row["case"] for row in saved["rows"]}
    assert {"gemm float32", "relu", "softmax-xent fwd+bwd", "tiny matmul", "train step CNN",
            "train step LSTM"} <= cases
    assert all(row["agree"] for row in saved["rows"])
    assert "backends agree" in capsys.readouterr().out


def test_disagreeing_backend_is_reported():
    fns = {"numpy": lambda: 1.0, "c": lambda: 2.0}
    with pytest.raises(AssertionError, match="c disagrees with numpy on case"):
        bench.check_agree("case", fns)


@pytest.mark.parametrize("threads", ["0", "x", ""])
def test_bad_thread_list_is_a_usage_error(threads):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--threads", threads])


def test_format_table_ratios():
    row = {"case": "gemm float32", "shape": "2x2x2", "threads": 1, "flops": 16e3,
           "median_s": {"numpy": 2e-6, "c": 1e-6}, "fma_peak_gflops": 32.0}
    text = bench.format_table([row])
    c_line = next(line for line in text.splitlines() if " c " in line)
    assert "16.0" in c_line and "50%" in c_line and "2.00" in c_line


def test_quick_training_steps_agree_with_torch(tmp_path):
    """The CNN and LSTM steps run the same network from the same weights in PyTorch: its loss
    and first gradient agree with every backend's (check_agree raises otherwise)."""
    torch = pytest.importorskip("torch")
    out = tmp_path / "steps.json"
    assert bench.main(["--quick", "--threads", "1", "--only", "train step", "--json",
                       str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["case"] for r in rows] == ["train step MLP", "train step moons", "train step CNN",
                                         "train step LSTM"]
    fns = dict(next(c for c in bench.cnn_step_case(torch, quick=True))[3])
    loss, grad = bench._as_numpy(fns["torch"]())
    assert grad.shape == (32, 1, 3, 3) and np.isfinite(loss)
    for backend in ("numpy", "c"):
        if fns.get(backend) is not None:
            mine = bench._as_numpy(fns[backend]())
            np.testing.assert_allclose(mine[0], loss, rtol=1e-5)
            np.testing.assert_allclose(mine[1], grad, rtol=1e-4, atol=1e-6)
