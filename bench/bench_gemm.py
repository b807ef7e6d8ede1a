"""GEMM benchmark: micrograd's C GEMM side by side with NumPy's BLAS (OpenBLAS in the wheels)
and PyTorch (when installed), on one and on two threads; float32 unless --dtype float64.

    python bench/bench_gemm.py [--rounds 5] [--threads 1,2] [--sizes 256,512,1024,2048]
    python bench/bench_gemm.py --baseline OLD/_C.cpython-311-x86_64-linux-gnu.so  # before/after
    python bench/bench_gemm.py --linear [--baseline OLD/_C...so]  # the fused linear layer

Cases: float32 square products n = 256..2048 and the training shapes (the seed MLP's first
layer 128x784 @ (100x784)^T and its weight gradient, and a 1024-wide layer at batch 512).
Each round times every library on every case in turn (the median of several calls each), so
the libraries see the same machine state; the table gives the median over the rounds and the
range (min-max of the rounds' medians), because other processes share the cores. The header
names the machine (lscpu), the load (uptime) before and after, the caches the C core detected,
the GEMM blocking it derived from them, and the measured FMA peak.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (read by OpenBLAS when it loads) pin NumPy's BLAS to a
kernel that may not be this CPU's best; the script re-executes itself without them, so NumPy
runs the kernel OpenBLAS picks for this CPU. ``--baseline`` loads another build of the C core
(e.g. the previous commit's, built elsewhere) and times its GEMM as a fourth column.
``--linear`` times the fused linear layer instead (mg_linear_* forward, mg_linear_backward_*
giving dx, dw and db, no activation) on small-MLP and training layer shapes, against NumPy
doing the same products (x @ w.T + b; g @ w, g.T @ x, g.sum(0)), one thread.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

PINNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _unpinned_reexec() -> None:
    """Run this script again without OpenBLAS's pinning variables (before NumPy loads)."""
    if any(k in os.environ for k in PINNING):
        env = {k: v for k, v in os.environ.items() if k not in PINNING}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def lscpu() -> dict:
    """lscpu's fields (empty when lscpu is missing)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in out.splitlines()
                                             if ":" in ln)}


def load_text() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cases(sizes):
    """(name, m, n, k, trans_a, trans_b): op(a) is (m, k), op(b) (k, n)."""
    out = [(f"square {s}", s, s, s, False, False) for s in sizes]
    out += [("seed fwd x@W.T", 128, 100, 784, False, True),
            ("seed dW g.T@x", 100, 784, 128, True, False),
            ("wide fwd x@W.T", 512, 1024, 1024, False, True)]
    return out


def load_c_module(path: str):
    """Another build of micrograd._C (same module name, other file), not registered in
    sys.modules, so it sits beside the current one."""
    spec = importlib.util.spec_from_file_location("micrograd._C", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def c_gemm(mod, dtype: str):
    """A caller of mod's mg_gemm_f32 (or _f64): (a, b, trans_a, trans_b, out, nthreads)."""
    ffi, lib = mod.ffi, mod.lib
    fn, ctype = ((lib.mg_gemm_f32, "float[]") if dtype == "float32"
                 else (lib.mg_gemm_f64, "double[]"))

    def call(a, b, ta, tb, out, nt):
        m, n = out.shape
        k = a.shape[0] if ta else a.shape[1]
        fn(ffi.from_buffer(ctype, out, True), ffi.from_buffer(ctype, a),
           ffi.from_buffer(ctype, b), m, n, k, int(ta), int(tb), 1.0, 0.0,
           a.shape[1], b.shape[1], n, nt)
        return out
    return call


#: (batch, in, out) of the layers --linear times: the two-moons MLP's (k = 2 inputs, one
#: output), the seed MLP's first layer, and a wide layer at a small batch
LINEAR_SHAPES = [(100, 2, 16), (100, 16, 16), (100, 16, 1), (128, 784, 100), (32, 256, 1024)]


def c_linear(mod, dtype: str, x, w, b, g):
    """(forward, backward) callers of mod's fused linear on these arrays (one thread)."""
    import numpy as np

    ffi, lib = mod.ffi, mod.lib
    sfx, ctype = ("f32", "float[]") if dtype == "float32" else ("f64", "double[]")
    (m, k), n = x.shape, w.shape[0]
    y, dx, dw, db = (np.empty(s, dtype) for s in ((m, n), (m, k), (n, k), (n,)))
    p = {name: ffi.from_buffer(ctype, arr, True)
         for name, arr in dict(x=x, w=w, b=b, g=g, y=y, dx=dx, dw=dw, db=db).items()}
    fwd, bwd = getattr(lib, f"mg_linear_{sfx}"), getattr(lib, f"mg_linear_backward_{sfx}")
    return (lambda: fwd(p["y"], p["x"], p["w"], p["b"], m, n, k, 0, 1),
            lambda: bwd(p["dx"], p["dw"], p["db"], ffi.NULL, p["x"], p["w"], ffi.NULL, p["g"],
                        m, n, k, 0, 1))


def linear_main(args, modules: dict) -> int:
    """--linear: forward and backward times (us, median over rounds, and the range), C builds
    and NumPy side by side in one process, alternating every round."""
    import numpy as np

    from micrograd.apps.bench import median_seconds
    rng = np.random.default_rng(0)
    print(f"fused linear, {args.dtype}, one thread; us: median [min-max of the rounds]")
    for m, k, n in LINEAR_SHAPES:
        x, w, g = (rng.standard_normal(s).astype(args.dtype) for s in ((m, k), (n, k), (m, n)))
        b = rng.standard_normal(n).astype(args.dtype)
        fns = {name: c_linear(mod, args.dtype, x, w, b, g) for name, mod in modules.items()}
        fns["numpy"] = (lambda: x @ w.T + b, lambda: (g @ w, g.T @ x, g.sum(0)))
        times: dict = {}
        for _ in range(args.rounds):
            for name, (fwd, bwd) in fns.items():
                times.setdefault((name, "fwd"), []).append(median_seconds(fwd, args.budget / 4))
                times.setdefault((name, "bwd"), []).append(median_seconds(bwd, args.budget / 4))
        line = f"({m}, {k}) -> {n:<5}"
        for phase in ("fwd", "bwd"):
            line += f" | {phase}"
            for name in fns:
                ts = [t * 1e6 for t in times[(name, phase)]]
                line += (f" {name} {statistics.median(ts):7.2f} [{min(ts):.2f}-"
                         f"{max(ts):.2f}]")
        print(line, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    parser.add_argument("--sizes", default="256,512,1024,2048", help="square sizes")
    parser.add_argument("--budget", type=float, default=0.15,
                        help="seconds of calls per library, case and round (default 0.15)")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--baseline", metavar="SO", help="another _C build to time beside")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="save every round's medians")
    parser.add_argument("--linear", action="store_true", help="time the fused linear layer")
    args = parser.parse_args(argv)
    _unpinned_reexec()

    import numpy as np

    from micrograd import backends
    from micrograd.apps.bench import Threads, fma_peak, median_seconds
    from micrograd.apps.cli import core_lines

    if "c" not in backends.REGISTRY:
        print(f"bench_gemm: the C core is not built ({backends.C_IMPORT_ERROR})", file=sys.stderr)
        return 1
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if args.linear:
        modules = {"c": sys.modules["micrograd._C"]}
        if args.baseline:
            modules["baseline"] = load_c_module(args.baseline)
        return linear_main(args, modules)
    threads = [int(t) for t in args.threads.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    libs = {"c": c_gemm(sys.modules["micrograd._C"], args.dtype)}
    if args.baseline:
        libs["baseline"] = c_gemm(load_c_module(args.baseline), args.dtype)

    cpu = lscpu()
    core = backends.info()
    print(f"lscpu: {cpu.get('Model name', '?')} (family {cpu.get('CPU family', '?')}, model "
          f"{cpu.get('Model', '?')}), {cpu.get('CPU(s)', '?')} CPUs, "
          f"{cpu.get('Thread(s) per core', '?')} thread(s) per core; L1d {cpu.get('L1d cache')}"
          f", L2 {cpu.get('L2 cache')}, L3 {cpu.get('L3 cache')}; "
          f"hypervisor {cpu.get('Hypervisor vendor', 'none')}")
    print(f"numpy {np.__version__}, torch {getattr(torch, '__version__', 'not installed')}; "
          f"load average (1, 5, 15 min) at start: {load_text()}")
    for line in core_lines(core):
        print(line)
    peak1 = fma_peak(1)
    print(f"FMA peak, measured: {peak1:.0f} GFLOP/s per core")

    ctl = Threads(torch)
    todo = [c for c in cases(sizes) if args.only in c[0]]
    rng = np.random.default_rng(0)
    data = {}
    for name, m, n, k, ta, tb in todo:
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(args.dtype)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(args.dtype)
        data[name] = (a, b, np.empty((m, n), args.dtype))
        want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b)
        got = libs["c"](a, b, ta, tb, data[name][2], 1)
        assert np.allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max()), name

    def fns(name, ta, tb, nt):
        a, b, out = data[name]
        out_np = np.empty_like(out)
        at, bt = (a.T if ta else a), (b.T if tb else b)
        f = {lib: (lambda g=g: g(a, b, ta, tb, out, nt)) for lib, g in libs.items()}
        f["numpy"] = lambda: np.matmul(at, bt, out=out_np)
        if torch is not None:
            ta_, tb_ = torch.from_numpy(a), torch.from_numpy(b)
            ta_, tb_ = (ta_.T if ta else ta_), (tb_.T if tb else tb_)
            out_t = torch.from_numpy(out_np.copy())
            f["torch"] = lambda: torch.mm(ta_, tb_, out=out_t)
        return f

    results: dict = {}
    for r in range(args.rounds):
        for nt in threads:
            ctl.set(nt)
            for name, m, n, k, ta, tb in todo:
                for lib, fn in fns(name, ta, tb, nt).items():
                    time.sleep(0.05 if lib != "numpy" else 0.2)  # let other pools go idle
                    results.setdefault((name, nt, lib), []).append(
                        median_seconds(fn, args.budget, min_reps=3, max_reps=200))
    ctl.restore()
    print(f"load average at end: {load_text()}")

    cols = list(libs) + ["numpy"] + (["torch"] if torch is not None else [])
    head = f"{'case':18} {'thr':>3} " + " ".join(f"{c + ' GF/s':>20}" for c in cols)
    head += "  c/numpy (range)    c/torch (range)"
    print(head)
    for nt in threads:
        for name, m, n, k, ta, tb in todo:
            flops = 2.0 * m * n * k
            line = f"{name:18} {nt:>3} "
            for lib in cols:
                ts = results[(name, nt, lib)]
                gf = [flops / t / 1e9 for t in ts]
                line += f"{statistics.median(gf):7.1f} [{min(gf):5.0f}-{max(gf):4.0f}]  "
            for other in ("numpy", "torch"):
                if other not in cols:
                    continue
                ratios = [o / c for o, c in zip(results[(name, nt, other)],
                                                results[(name, nt, "c")])]
                line += (f"  {statistics.median(ratios):4.2f} ({min(ratios):4.2f}-"
                         f"{max(ratios):4.2f})")
            print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu, "core": core, "fma_peak_gflops": peak1,
                       "rows": [{"case": k[0], "threads": k[1], "lib": k[2], "seconds": v}
                                for k, v in results.items()]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
