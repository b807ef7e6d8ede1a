"""Python-overhead benchmark: tiny ops with autograd recording and one MLP training step,
micrograd vs PyTorch eager side by side in one process.

Tiny ops: ``a + b``, ``a.relu()``, ``a @ b`` on 1x1 and 64x64 float32 tensors that require
grad (so the op is recorded). Training step: a 784-100-50-10 ReLU MLP (nn.Sequential of
Linear/ReLU), batch 128, ``F.cross_entropy``, ``zero_grad`` + ``backward`` + ``SGD(lr=0.01)``
step, eager and captured (``micrograd.compile``: recorded on its first two calls, then replayed
without building Tensors or a graph; the torch column of that row is the same eager step, so
the row shows what capturing buys against eager PyTorch). Figures are medians over repeats of timeit loops; set ``MICROGRAD_NUM_THREADS`` and
``--threads`` to the same count for a fair comparison.

    MICROGRAD_NUM_THREADS=1 python bench/bench_overhead.py --threads 1
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import micrograd as mg
from micrograd import nn, optim
from micrograd.nn import functional as F


def median_us(stmt, number: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the per-call time of ``number`` calls, in microseconds."""
    return statistics.median(timeit.repeat(stmt, number=number, repeat=repeat)) / number * 1e6


def tiny_ops(lib: str, n: int) -> dict:
    """The three tiny ops on n x n float32 tensors that require grad."""
    rng = np.random.default_rng(0)
    a_np, b_np = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    if lib == "torch":
        import torch
        a = torch.from_numpy(a_np).requires_grad_()
        b = torch.from_numpy(b_np).requires_grad_()
    else:
        a = mg.tensor(a_np, requires_grad=True)
        b = mg.tensor(b_np, requires_grad=True)
    return {"add": lambda: a + b, "relu": lambda: a.relu(), "matmul": lambda: a @ b}


def mlp_step(lib: str, X: np.ndarray, y: np.ndarray):
    """A function running one training step on (input, labels), and those two tensors; both
    libraries start from the same weights."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(),
                          nn.Linear(50, 10))
    if lib == "micrograd":
        opt = optim.SGD(model.parameters(), lr=0.01)
        x, t = mg.from_numpy(X), mg.from_numpy(y)
        cross_entropy = F.cross_entropy
    else:
        import torch
        init = [p._array.copy() for p in model.parameters()]
        model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(),
                                    torch.nn.Linear(100, 50), torch.nn.ReLU(),
                                    torch.nn.Linear(50, 10))
        with torch.no_grad():
            for p, a in zip(model.parameters(), init, strict=True):
                p.copy_(torch.from_numpy(a))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x, t = torch.from_numpy(X), torch.from_numpy(y)
        cross_entropy = torch.nn.functional.cross_entropy

    def step(x, t):
        loss = cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step, x, t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeat", type=int, default=15, help="timeit repeats (default 15)")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(args.threads)
        libs = ["micrograd", "torch"]
    except ImportError:
        libs = ["micrograd"]
    rows = []
    for n in (1, 64):
        ops = {lib: tiny_ops(lib, n) for lib in libs}
        for name in ("add", "relu", "matmul"):
            rows.append((f"{name} {n}x{n}", [median_us(ops[lib][name], 2000, args.repeat)
                                             for lib in libs]))
    rng = np.random.default_rng(0)
    X, y = rng.random((128, 784), dtype=np.float32), rng.integers(0, 10, 128)
    steps = {}
    for lib in libs:
        step, x, t = mlp_step(lib, X, y)
        steps[lib] = lambda step=step, x=x, t=t: step(x, t)
    losses = {lib: steps[lib]().detach().item() for lib in libs}
    ref = losses["micrograd"]
    assert all(abs(v - ref) < 1e-4 * max(1.0, abs(ref)) for v in losses.values()), losses
    for lib in libs:  # warm up
        for _ in range(30):
            steps[lib]()
    rows.append(("MLP train step", [median_us(steps[lib], 50, args.repeat) for lib in libs]))
    step, x, t = mlp_step("micrograd", X, y)
    compiled = mg.compile(step, fullgraph=True)  # a fallback to eager raises instead
    captured = lambda: compiled(x, t)  # noqa: E731
    for _ in range(30):  # two recordings, then replays
        captured()
    rows.append(("  captured", [median_us(captured, 50, args.repeat)]
                 + [median_us(steps[lib], 50, args.repeat) for lib in libs[1:]]))
    print(f"backend {mg.get_backend()}, torch threads {args.threads}; median us per call")
    print(f"{'':<16}{'micrograd':>10}" + (f"{'torch':>10}{'torch/mg':>10}" if
                                          len(libs) > 1 else ""))
    for name, t in rows:
        line = f"{name:<16}{t[0]:>10.2f}"
        if len(t) > 1:
            line += f"{t[1]:>10.2f}{t[1] / t[0]:>9.2f}x"
        print(line)


if __name__ == "__main__":
    main()
