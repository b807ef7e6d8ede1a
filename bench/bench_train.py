"""Training-step benchmark: one forward + backward + Adam step of an MLP, micrograd vs PyTorch.

Configurations: 784-100-50-10 at batch 128 (MNIST-sized) and 64-100-50-10 at batch 200 (the
digits demo). micrograd runs on each available backend, PyTorch (when installed) on its default
threads. All start from the same weights and data, and the losses of the first step are checked
to agree before anything is timed. Reports the median step time over many steps and, for
micrograd, the forward / backward / optimizer split.

    python bench/bench_train.py [--steps 300]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import micrograd as mg
from micrograd import nn, optim
from micrograd import from_numpy
from micrograd.nn import functional as F

CONFIGS = [(784, (100, 50), 10, 128), (64, (100, 50), 10, 200)]


def make_data(n_in: int, n_out: int, batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, n_in), dtype=np.float32), rng.integers(0, n_out, batch)


def micrograd_step(model, opt, x, y):
    """The training step, split into its three phases (seconds each)."""
    t0 = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    t1 = time.perf_counter()
    opt.zero_grad()
    loss.backward()
    t2 = time.perf_counter()
    opt.step()
    t3 = time.perf_counter()
    return loss.item(), (t1 - t0, t2 - t1, t3 - t2)


def bench_micrograd(backend: str, sizes, X, y, steps: int):
    with mg.use_backend(backend):
        mg.manual_seed(0)
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        init = [p._array.copy() for p in model.parameters()]
        opt = optim.Adam(model.parameters(), lr=1e-3)
        x, t = from_numpy(X), from_numpy(y)
        first, _ = micrograd_step(model, opt, x, t)
        for _ in range(20):  # warm up
            micrograd_step(model, opt, x, t)
        phases = [micrograd_step(model, opt, x, t)[1] for _ in range(steps)]
    totals = [sum(p) for p in phases]
    split = [statistics.median(p[i] for p in phases) for i in range(3)]
    return first, statistics.median(totals), split, init


def bench_torch(sizes, X, y, steps: int, init):
    try:
        import torch
    except ImportError:
        return None
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, a in zip(model.parameters(), init):
            p.copy_(torch.from_numpy(a))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, t = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    first = step()
    for _ in range(20):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times), torch.get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="timed steps (default 300)")
    args = parser.parse_args()
    print(f"{'network':<16}{'batch':>6}  {'engine':<18}{'step us':>9}{'fwd':>7}{'bwd':>7}"
          f"{'optim':>7}  {'vs torch':>8}")
    for n_in, hidden, n_out, batch in CONFIGS:
        sizes = [n_in, *hidden, n_out]
        X, y = make_data(n_in, n_out, batch)
        name = "-".join(map(str, sizes))
        rows, init, first_losses = [], None, {}
        for backend in mg.available_backends():
            first, total, split, init = bench_micrograd(backend, sizes, X, y, args.steps)
            first_losses[backend] = first
            rows.append((f"micrograd/{backend}", total, split))
        torch_result = bench_torch(sizes, X, y, args.steps, init)
        if torch_result is not None:
            first_losses["torch"] = torch_result[0]
        ref = next(iter(first_losses.values()))
        for engine, loss in first_losses.items():  # same weights and data: same first loss
            assert abs(loss - ref) < 1e-4 * max(1.0, abs(ref)), (engine, loss, ref)
        torch_time = torch_result[1] if torch_result else None
        for engine, total, split in rows:
            ratio = f"{torch_time / total:7.2f}x" if torch_time else "    n/a"
            print(f"{name:<16}{batch:>6}  {engine:<18}{total * 1e6:>9.0f}"
                  f"{split[0] * 1e6:>7.0f}{split[1] * 1e6:>7.0f}{split[2] * 1e6:>7.0f}  {ratio}")
        if torch_result:
            print(f"{name:<16}{batch:>6}  {'torch (' + str(torch_result[2]) + ' thr)':<18}"
                  f"{torch_time * 1e6:>9.0f}{'':>21}  {1.0:7.2f}x")
    print("'vs torch' > 1 means micrograd is faster. Median of the timed steps.")


if __name__ == "__main__":
    main()
