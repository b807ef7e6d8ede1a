"""``python -m micrograd bench --quick``: the CI smoke of the benchmarks (correctness only)."""
from __future__ import annotations

import json

import pytest

from micrograd.apps import bench


def test_quick_bench_checks_backends_agree_and_saves_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--no-torch", "--threads", "1", "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["quick"] is True
    cases = {row["case"] for row in saved["rows"]}
    assert {"gemm float32", "relu", "softmax-xent fwd+bwd", "tiny matmul"} <= cases
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
