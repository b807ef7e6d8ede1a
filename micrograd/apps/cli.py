"""Command line: ``python -m micrograd <command>`` (also installed as ``micrograd``).

The top level only dispatches: each command parses its own options (``<command> --help``), so
``main`` prints the usage, the command list and the version itself.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time

COMMANDS = {
    # name: (module, function, one-line help)
    "demo": ("micrograd.apps.train", "demo", "train the seed network on shipped digit images "
             "(--model cnn: a CNN)"),
    "train": ("micrograd.apps.train", "train", "train an MLP or a CNN with your own settings "
              "(--save MODEL keeps it)"),
    "predict": ("micrograd.apps.train", "predict", "predict with a saved model: predict MODEL "
                "INPUT (CSV or .npy rows)"),
    "bench": ("micrograd.apps.bench", "main", "benchmarks: C vs NumPy (vs PyTorch and JAX when "
              "installed)"),
    "moons": ("micrograd.apps.cli", "moons", "classic scalar-engine two-moons demo"),
    "info": ("micrograd.apps.cli", "info", "version, active backend, build facts, the CPU's "
             "caches and the GEMM's blocking"),
}


def moons(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="micrograd moons", description=COMMANDS["moons"][2])
    parser.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="data and weight seed (default 1)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    from .classic_demo import run
    run(args.steps, args.seed)
    return 0


def _size(nbytes: int) -> str:
    if nbytes >= 1 << 20 and nbytes % (1 << 20) == 0:
        return f"{nbytes >> 20} MiB"
    return f"{nbytes >> 10} KiB" if nbytes % 1024 == 0 else f"{nbytes} B"


def core_lines(core: dict) -> list[str]:
    """The C core's facts as text (``backends.info()``): build, CPU, the caches it detected and
    the GEMM blocking derived from them. Shared by ``info`` and the benchmarks' headers, so a
    reader can tell which machine a table belongs to."""
    if not core["built"]:
        return [f"C core: not available ({core['error']})"]
    lines = [f"C core: built, GEMM kernel {core['gemm_isa']}, OpenMP "
             f"{'on' if core['openmp'] else 'off'}, max threads {core['max_threads']}",
             f"CPU: {core['cpu'] or 'unknown'}",
             "allocator: " + ("keeps freed memory for the next step (glibc thresholds raised; "
                              "MICROGRAD_KEEP_FREED_MEMORY=0 leaves them)"
                              if core.get("keeps_freed_memory") else "the system's defaults")]
    caches = core["caches"]
    parts = []
    for name, label in (("l1d", "L1d"), ("l2", "L2"), ("l3", "L3")):
        lv = caches[name]
        if not lv["size"]:
            parts.append(f"{label} unknown")
            continue
        text = f"{label} {_size(lv['size'])}"
        if lv["ways"]:
            text += f" {lv['ways']}-way"
        if lv["shared_by"] > 1:
            text += f" (shared by {lv['shared_by']} logical CPUs)"
        parts.append(text)
    source = {"cpuid": "from CPUID", "sysconf": "from sysconf",
              "unknown": "not reported: the GEMM uses defaults"}[caches["source"]]
    lines.append(f"caches ({source}): " + ", ".join(parts))
    for dtype, b in core["gemm_blocking"].items():
        lines.append(f"GEMM blocking {dtype}: micro-kernel {b['mr']}x{b['nr']}, KC {b['kc']}, "
                     f"MC {b['mc']}, NC {b['nc']} (BLIS's analytical model on these caches)")
    return lines


def fma_peak(nthreads: int) -> float:
    """GFLOP/s of the FMA loop kernel on ``nthreads`` threads, best of three (0 when not
    measurable): ``info`` and the benchmarks' headers report it."""
    from micrograd import backends
    backends.fma_peak_flops(10**5, nthreads)  # warm-up
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        flops = backends.fma_peak_flops(2 * 10**7, nthreads)
        best = max(best, flops / (time.perf_counter() - t) / 1e9)
    return best


def info(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="micrograd info", description=COMMANDS["info"][2])
    parser.add_argument("--no-peak", action="store_true",
                        help="skip measuring the FMA peak (about 0.2 s)")
    args = parser.parse_args(argv)
    import micrograd
    from micrograd import backends
    print(f"micrograd {micrograd.__version__}")
    print(f"active backend: {micrograd.get_backend()} (available: {micrograd.available_backends()})")
    core = backends.info()
    for line in core_lines(core):
        print(line)
    if core["built"] and not args.no_peak:
        peak = fma_peak(1)
        print(f"FMA peak, measured: {peak:.0f} GFLOP/s per core" if peak else
              "FMA peak: not measured (no FMA unit)")
    return 0


USAGE = "usage: python -m micrograd [-h] [--version] <command> [options]"


def usage() -> str:
    """The ``--help`` text: the usage line, one line per command, where each command's help is."""
    width = max(map(len, COMMANDS))
    lines = [USAGE, "", "A small, fast, readable deep-learning framework.", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += ["", "options:", "  -h, --help  show this message and exit",
              "  --version   print micrograd's version and exit", "",
              "python -m micrograd <command> --help shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv and argv[0] in ("-V", "--version"):
        import micrograd
        print(f"micrograd {micrograd.__version__}")
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(usage(), file=sys.stderr)
        problem = f"unknown command {argv[0]!r}" if argv else "a command is required"
        print(f"\nmicrograd: error: {problem}", file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), function)(argv[1:]) or 0
