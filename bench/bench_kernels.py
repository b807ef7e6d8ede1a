"""Kernel benchmarks as pytest-benchmark suites: the C backend, the NumPy backend and (when
installed) PyTorch, on the same cases as ``python -m micrograd bench`` (micrograd/bench.py
builds them; this file only hands them to pytest-benchmark).

    pytest bench/bench_kernels.py --benchmark-only --benchmark-group-by=param:case
    pytest bench/ --benchmark-only -k "gemm and 1024"

Each case first checks that all backends agree with the NumPy backend, then times one backend.
Thread counts are whatever the libraries default to (set OMP_NUM_THREADS /
MICROGRAD_NUM_THREADS / OPENBLAS_NUM_THREADS to pin them); ``python -m micrograd bench`` sets
them per row instead.
"""
from __future__ import annotations

import numpy as np
import pytest

from micrograd.apps import bench

try:
    import torch
except ImportError:  # optional: the torch columns are skipped
    torch = None


def _cases():
    cases = [bench.gemm_case(n, np.float32, torch) for n in (64, 256, 512, 1024, 2048)]
    cases += [bench.gemm_case(n, np.float64, torch) for n in (256, 1024)]
    cases += list(bench.mlp_gemm_cases(torch))
    cases += list(bench.fused_linear_cases(torch, quick=False))
    cases += list(bench.op_cases(torch, quick=False))
    cases += list(bench.tiny_autograd_cases(torch))
    cases += list(bench.optimizer_cases(torch))
    cases += list(bench.train_step_case(torch, quick=False))
    cases += list(bench.moons_step_case(torch))
    return cases


CASES = {f"{name} {shape}": fns for name, shape, _, fns in _cases()}
CHECKED: set[str] = set()


@pytest.mark.parametrize("backend", ["c", "numpy", "torch"])
@pytest.mark.parametrize("case", list(CASES))
def test_kernel(benchmark, case, backend):
    fns = CASES[case]
    if fns.get(backend) is None:
        pytest.skip(f"{backend} is not available")
    if case not in CHECKED:
        bench.check_agree(case, fns)  # correctness first, once per case
        CHECKED.add(case)
    benchmark.group = case
    benchmark(fns[backend])
