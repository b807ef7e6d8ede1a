"""LSTM training-step benchmark: forward, MSE loss, backward and an SGD step of a one-layer LSTM
(batch 32, sequence 64, input and hidden 256 by default; ``--model gru`` for a GRU), micrograd
vs PyTorch eager.

micrograd runs on each available backend, PyTorch (when installed) on one thread and on its
default threads; ``--threads N`` runs the C backend and PyTorch on N threads each. Both start
from the same weights and data, and the first losses are checked to agree before anything is
timed. Reports the median step time and, for micrograd, the
forward / backward / optimizer split; ``--profile`` adds where micrograd's time goes (the
projection and weight-gradient GEMMs, the recurrence: the layer's own code and its sequence or
gate kernels, which hold the per-step GEMMs; everything else).

    python bench/bench_lstm.py [--steps 20] [--batch 32] [--seq 64] [--hidden 256]
                               [--threads N] [--model lstm|gru] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

import numpy as np

import micrograd as mg
from micrograd import backends
from micrograd.nn.recurrent import GRU, LSTM

MODELS = {"lstm": LSTM, "gru": GRU}


def make_data(seq: int, batch: int, n_in: int, hidden: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((seq, batch, n_in)).astype(np.float32),
            rng.standard_normal((seq, batch, hidden)).astype(np.float32))


def micrograd_step(model, opt, x, target):
    """One training step, split into its three phases (seconds each)."""
    t0 = time.perf_counter()
    out, _ = model(x)
    loss = mg.nn.functional.mse_loss(out, target)
    t1 = time.perf_counter()
    opt.zero_grad()
    loss.backward()
    t2 = time.perf_counter()
    opt.step()
    t3 = time.perf_counter()
    return loss.item(), (t1 - t0, t2 - t1, t3 - t2)


def bench_micrograd(backend: str, X, Y, hidden: int, steps: int, profile: bool,
                    model_name: str = "lstm"):
    with mg.use_backend(backend):
        mg.manual_seed(0)
        model = MODELS[model_name](X.shape[2], hidden)
        init = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        opt = mg.optim.SGD(model.parameters(), lr=0.1)
        x, y = mg.from_numpy(X), mg.from_numpy(Y)
        first, _ = micrograd_step(model, opt, x, y)
        for _ in range(2):  # warm up
            micrograd_step(model, opt, x, y)
        phases = [micrograd_step(model, opt, x, y)[1] for _ in range(steps)]
        split = where_time_goes(model, opt, x, y) if profile else None
    totals = [sum(p) for p in phases]
    return first, statistics.median(totals), [statistics.median(p[i] for p in phases)
                                              for i in range(3)], init, split


def where_time_goes(model, opt, x, y, steps: int = 3) -> dict:
    """Seconds per step in the GEMM / fused linear calls made from Python (the input
    projection and the weight gradients), in the recurrence (the layer's own code and its
    kernels: lstm_sequence, gru_sequence, the gate kernels, and their backwards, NumPy or C;
    on the C backend they include each step's GEMM) and in everything else."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        micrograd_step(model, opt, x, y)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(v[2] for v in stats.values())
    recurrence_code = ("_gates", "_sequence")
    gemm = sum(v[2] for k, v in stats.items() if "gemm" in k[2] or "mg_linear" in k[2]
               or (k[2] in ("matmul", "linear") and "numpy_backend" in k[0]))
    layer = sum(v[2] for k, v in stats.items() if (k[0].endswith("recurrent.py")
                and k[2] in ("forward", "backward"))
                or any(name in k[2] for name in recurrence_code))
    return {"gemm": gemm / steps, "recurrence": layer / steps,
            "rest": (total - gemm - layer) / steps}


def bench_torch(X, Y, hidden: int, steps: int, init: dict, threads: int | None,
                model_name: str = "lstm"):
    try:
        import torch
    except ImportError:
        return None
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        model = getattr(torch.nn, model_name.upper())(X.shape[2], hidden)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()})
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.from_numpy(X), torch.from_numpy(Y)

        def step():
            out, _ = model(x)
            loss = torch.nn.functional.mse_loss(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.item()

        first = step()
        for _ in range(2):
            step()
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return first, statistics.median(times), torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--input", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for the C backend and PyTorch (default: theirs)")
    parser.add_argument("--model", choices=sorted(MODELS), default="lstm")
    parser.add_argument("--profile", action="store_true",
                        help="also show where micrograd's step time goes")
    args = parser.parse_args()
    if args.threads and "c" in backends.REGISTRY:
        backends.REGISTRY["c"].nthreads = args.threads
    X, Y = make_data(args.seq, args.batch, args.input, args.hidden)
    print(f"{args.model.upper()} {args.input}->{args.hidden}, batch {args.batch}, sequence "
          f"{args.seq}, float32; median of {args.steps} steps")
    print(f"{'engine':<20}{'step ms':>9}{'fwd':>8}{'bwd':>8}{'optim':>8}  {'vs torch':>8}")
    rows, firsts, init, splits = [], {}, None, {}
    for backend in mg.available_backends():
        first, total, phases, init, split = bench_micrograd(backend, X, Y, args.hidden,
                                                            args.steps, args.profile, args.model)
        firsts[f"micrograd/{backend}"] = first
        rows.append((f"micrograd/{backend}", total, phases))
        splits[backend] = split
    torch_rows = [r for r in (bench_torch(X, Y, args.hidden, args.steps, init, n, args.model)
                              for n in ((args.threads,) if args.threads else (1, None)))
                  if r is not None]
    for first, _, threads in torch_rows:
        firsts[f"torch ({threads} thr)"] = first
    ref = next(iter(firsts.values()))
    for engine, loss in firsts.items():  # same weights and data: the same first loss
        assert abs(loss - ref) < 1e-4 * max(1.0, abs(ref)), (engine, loss, ref)
    best_torch = min((t for _, t, _ in torch_rows), default=None)
    for engine, total, phases in rows:
        ratio = f"{best_torch / total:7.2f}x" if best_torch else "    n/a"
        print(f"{engine:<20}{total * 1e3:>9.1f}{phases[0] * 1e3:>8.1f}{phases[1] * 1e3:>8.1f}"
              f"{phases[2] * 1e3:>8.1f}  {ratio}")
    for _, total, threads in torch_rows:
        print(f"{'torch (' + str(threads) + ' thr)':<20}{total * 1e3:>9.1f}{'':>24}  "
              f"{best_torch / total:7.2f}x")
    print("'vs torch' > 1 means micrograd is faster than PyTorch's faster thread setting.")
    if args.profile:
        for backend, split in splits.items():
            parts = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in split.items())
            print(f"micrograd/{backend} step (profiled, so slower): {parts}")


if __name__ == "__main__":
    main()
