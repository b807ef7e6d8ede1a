"""Convolution benchmarks: conv2d forward + backward on ResNet-like shapes, and a LeNet-sized
CNN training step, micrograd's C backend side by side with PyTorch eager (when installed).

conv2d rows: one forward and the backward to input, weight and bias, float32, on one and on two
threads; GFLOP/s counts 3 x 2 N O oh ow (C / groups) kh kw (forward, input and weight
gradients) and is set against the FMA peak (one core's, measured, times the threads). The
LeNet step is PyTorch's MNIST example network without its dropout (conv 1->32, conv 32->64,
max pool, linear 9216->128->10) at batch 64 on 28x28 inputs: forward, cross-entropy, backward
and an SGD step. Both libraries start from the same weights and data, and the first results are
checked to agree before anything is timed. The two libraries alternate call by call (micrograd,
PyTorch, micrograd, ...), so a machine shared with other work slows both alike; every time is the
median of ``--repeat`` rounds and torch/mg the median of the rounds' ratios.

    python bench/bench_conv.py [--repeat 20] [--threads 1,2] [--quick] [--only lenet|conv]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import micrograd as mg
from micrograd import backends, optim
from micrograd.apps.bench import fma_peak
from micrograd.apps.train import cnn_layers
from micrograd.nn import functional as F

try:
    import torch
except ImportError:  # optional: the torch column is left empty
    torch = None

#: (name, N, C, H, W, O, k, stride, padding): ResNet-18/50 layer shapes at a small batch
CONV_SHAPES = [
    ("3x3 s1 64ch", 8, 64, 56, 56, 64, 3, 1, 1),
    ("3x3 s2 64->128", 8, 64, 56, 56, 128, 3, 2, 1),
    ("3x3 s1 256ch", 8, 256, 14, 14, 256, 3, 1, 1),
    ("1x1 s1 256->64", 8, 256, 56, 56, 64, 1, 1, 0),
    ("7x7 s2 stem", 8, 3, 112, 112, 64, 7, 2, 3),
]


def paired_medians(fn, other, repeat: int) -> tuple[float, float, float]:
    """(median seconds of fn, of other, median of other's time / fn's) over ``repeat`` rounds
    that call fn then other; other may be None (its columns are NaN)."""
    time.sleep(0.25)  # let the other library's worker threads stop spinning on the cores
    for f in (fn, other):  # warm up (allocations, thread pools)
        if f is not None:
            f()
    ours, theirs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        if other is not None:
            other()
        ours.append(t1 - t0)
        theirs.append(time.perf_counter() - t1)
    if other is None:
        return statistics.median(ours), float("nan"), float("nan")
    ratio = statistics.median(b / a for a, b in zip(ours, theirs))
    return statistics.median(ours), statistics.median(theirs), ratio


def conv_case(shape, rng):
    """(flops, micrograd fn, torch fn or None) for conv2d forward + backward."""
    _, n, c, h, w, o, k, s, p = shape
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((o, c, k, k)) * 0.05).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    g = rng.standard_normal((n, o, oh, ow)).astype(np.float32)
    flops = 3 * 2 * n * o * oh * ow * c * k * k
    mx, mw, mb = (mg.tensor(a, requires_grad=True) for a in (x, wt, b))
    mg_g = mg.tensor(g)

    def run_mg():
        mx.grad = mw.grad = mb.grad = None
        y = F.conv2d(mx, mw, mb, stride=s, padding=p)
        y.backward(mg_g)
        return y

    run_torch = None
    if torch is not None:
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
        tg = torch.tensor(g)

        def run_torch():
            tx.grad = tw.grad = tb.grad = None
            y = torch.nn.functional.conv2d(tx, tw, tb, stride=s, padding=p)
            y.backward(tg)
            return y

        np.testing.assert_allclose(run_mg().detach().numpy(), run_torch().detach().numpy(),
                                   rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-3,
                                   atol=1e-2 * float(np.abs(tw.grad.numpy()).max()))
    return flops, run_mg, run_torch


def lenet(lib):
    """PyTorch's MNIST example network without dropout, in ``lib`` (micrograd or torch): the
    CLI's layer list (``apps.train.cnn_layers``), so the benchmark times the demo's network."""
    return lib.nn.Sequential(*cnn_layers(lib.nn, 28, padding=0, dropout=False))


def lenet_case(rng):
    """(micrograd step, torch step or None), from the same weights and data."""
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    mg.manual_seed(0)
    model = lenet(mg)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    mx, my = mg.tensor(x), mg.tensor(y)

    def step_mg():
        opt.zero_grad()
        loss = F.cross_entropy(model(mx), my)
        loss.backward()
        opt.step()
        return loss.item()

    step_torch = None
    if torch is not None:
        tmodel = lenet(torch)
        tmodel.load_state_dict({k: torch.tensor(v.numpy())
                                for k, v in model.state_dict().items()})
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.tensor(x), torch.tensor(y)

        def step_torch():
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
            loss.backward()
            topt.step()
            return loss.item()

        first, tfirst = step_mg(), step_torch()
        assert abs(first - tfirst) < 1e-4 * max(1.0, abs(tfirst)), (first, tfirst)
    return step_mg, step_torch


def set_threads(n: int) -> None:
    backends.REGISTRY["c"].nthreads = n
    if torch is not None:
        torch.set_num_threads(n)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--quick", action="store_true", help="two conv shapes, 3 repeats")
    parser.add_argument("--only", choices=("lenet", "conv"), help="one part of the table")
    args = parser.parse_args(argv)
    if "c" not in backends.REGISTRY:
        raise SystemExit(f"the C backend is not built: {backends.C_IMPORT_ERROR}")
    repeat = 3 if args.quick else args.repeat
    shapes = [] if args.only == "lenet" else CONV_SHAPES[:2] if args.quick else CONV_SHAPES
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__ if torch is not None else 'not installed'}; "
          f"micrograd {mg.__version__} ({backends.info()['gemm_isa']})")
    core_peak = fma_peak(1)  # GFLOP/s of one core; n threads have n cores' FMA units
    with mg.use_backend("c"):
        for threads in [int(t) for t in args.threads.split(",")]:
            set_threads(threads)
            peak = threads * core_peak
            print(f"\n{threads} thread(s), FMA peak {peak:.0f} GFLOP/s (float32)")
            print(f"{'conv2d fwd+bwd':<18} {'shape':<22} {'micrograd ms':>12} {'GFLOP/s':>8} "
                  f"{'% peak':>7} {'torch ms':>9} {'GFLOP/s':>8} {'torch/mg':>9}")
            for shape in shapes:
                flops, run_mg, run_torch = conv_case(shape, rng)
                t_mg, t_t, ratio = paired_medians(run_mg, run_torch, repeat)
                name, n, c, h, w, o, k = shape[:7]
                print(f"{name:<18} {f'{n}x{c}x{h}x{w} -> {o}':<22} {t_mg * 1e3:12.2f} "
                      f"{flops / t_mg / 1e9:8.1f} {100 * flops / t_mg / 1e9 / peak:6.0f}% "
                      f"{t_t * 1e3:9.2f} {flops / t_t / 1e9:8.1f} {ratio:9.2f}")
            if args.only == "conv":
                continue
            step_mg, step_torch = lenet_case(rng)
            t_mg, t_t, ratio = paired_medians(step_mg, step_torch, repeat)
            print(f"{'LeNet step':<18} {'64x1x28x28':<22} {t_mg * 1e3:12.2f} {'':>8} {'':>7} "
                  f"{t_t * 1e3:9.2f} {'':>8} {ratio:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
