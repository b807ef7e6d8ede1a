"""Scalar engine vs classic micrograd on the classic two-moons training step, with the garbage
collector on and with it off.

Same data, same MLP 2-16-16-1, same loss and SGD update (micrograd/apps/classic_demo.py), same
starting weights (the first losses are checked to agree before anything is timed).

Why the collector matters: every classic node holds a ``_backward`` closure that refers back to
the node, so each step leaves ~65,000 reference cycles that only the collector frees, and the
collector also walks the live graph while it is being built. Our nodes hold numbers, not
closures: a graph is freed by reference counting when the loss is dropped. So:

- **collector on** (Python's default): the gap is large (10-13x on the machine measured last,
  docs/BENCHMARKS.md), most of it the collector's work on classic's graph.
- **collector off**: only the two libraries' own work is compared (the classic engine leaks its graphs
  in a real program with the collector off; here they are collected between steps, outside the
  timed region, which is the best case for it).

The graphs differ in size: our ``Neuron`` adds up its weighted inputs with one ``sum`` node
(``sum_values``) where classic chains one ``+`` node per input, so a step builds ~38,500 nodes
against classic's ~65,800 (the same loss and gradients as the chain, bit for bit).

Both engines run alternately in one process, with ``gc.collect()`` before every timed step in
both settings (so neither step pays for the other's garbage), and each setting reports the
median of its rounds. ``--runs`` repeats the whole measurement and prints each run's figures and
the range of the ratios: quote the range, not one run.

    python bench/bench_engine.py                  # 3 runs, both collector settings
    python bench/bench_engine.py --runs 5 --rounds 15
    python -m pytest bench/bench_engine.py --benchmark-only
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classic_micrograd as classic  # noqa: E402

from micrograd.apps import classic_demo  # noqa: E402
from micrograd.engine import Value  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

ENGINES = {"micrograd": (Value, MLP), "classic": (classic.Value, classic.MLP)}


def make_step(engine: str):
    """A zero-argument function doing one training step; the step counter advances each call."""
    V, M = ENGINES[engine]
    X, y = classic_demo.moons_data()
    model = classic_demo.make_model(M)
    k = iter(range(10 ** 9))
    return lambda: classic_demo.train_step(V, model, X, y, next(k) % 100)


class collector:
    """``with collector(on):`` runs the block with the garbage collector on or off, then puts
    back the setting it found."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.enable() if self.on else gc.disable()

    def __exit__(self, *exc) -> None:
        gc.enable() if self.was else gc.disable()


def measure(gc_on: bool, rounds: int) -> dict[str, float]:
    """Median seconds per step of each engine, alternating them (the order rotates every
    round), with ``gc.collect()`` outside the timed region before each step."""
    steps = {name: make_step(name) for name in ENGINES}
    first = {name: step()[0] for name, step in steps.items()}
    # same starting weights and data, so the first losses must agree before we time anything
    assert abs(first["micrograd"] - first["classic"]) < 1e-9, first
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    with collector(gc_on):
        for r in range(rounds):
            for name in names[r % 2:] + names[:r % 2]:
                gc.collect()
                start = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - start)
    gc.collect()
    return {name: statistics.median(t) for name, t in times.items()}


def _timed_step(benchmark, engine: str, gc_on: bool) -> None:
    step = make_step(engine)
    with collector(gc_on):
        loss, _ = benchmark.pedantic(step, rounds=5 if engine == "micrograd" else 3,
                                     warmup_rounds=1, setup=_collect)
    assert loss > 0


def _collect() -> None:
    gc.collect()


def test_step_ours_gc_on(benchmark):
    _timed_step(benchmark, "micrograd", gc_on=True)


def test_step_classic_gc_on(benchmark):
    _timed_step(benchmark, "classic", gc_on=True)


def test_step_ours_gc_off(benchmark):
    _timed_step(benchmark, "micrograd", gc_on=False)


def test_step_classic_gc_off(benchmark):
    _timed_step(benchmark, "classic", gc_on=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="whole measurements (default 3)")
    parser.add_argument("--rounds", type=int, default=9,
                        help="timed steps of each engine per run and setting (default 9)")
    args = parser.parse_args(argv)
    print("two-moons step (MLP 2-16-16-1, 100 points, SVM loss, SGD): our Value engine vs "
          f"classic micrograd, Python {sys.version.split()[0]}")
    print(f"median ms per step over {args.rounds} alternated steps per run; gc.collect() "
          "before every step, outside the timing")
    print(f"{'run':>3} {'collector':<10}{'classic':>10}{'micrograd':>11}{'speed-up':>10}")
    ratios: dict[bool, list[float]] = {True: [], False: []}
    for run in range(1, args.runs + 1):
        for gc_on in (True, False):
            m = measure(gc_on, args.rounds)
            ratios[gc_on].append(m["classic"] / m["micrograd"])
            print(f"{run:>3} {'on' if gc_on else 'off':<10}{m['classic'] * 1e3:>10.1f}"
                  f"{m['micrograd'] * 1e3:>11.1f}{ratios[gc_on][-1]:>9.2f}x")
    for gc_on, r in ratios.items():
        print(f"speed-up with the collector {'on ' if gc_on else 'off'}: "
              f"{min(r):.2f}-{max(r):.2f}x over {len(r)} runs")


if __name__ == "__main__":
    main()
