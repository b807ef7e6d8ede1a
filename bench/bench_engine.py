"""Scalar engine vs classic micrograd on the classic two-moons training step.

Same data, same MLP 2-16-16-1, same loss and SGD update (micrograd/classic_demo.py), default
interpreter settings (garbage collector on). Two ways to run it:

    python bench/bench_engine.py                       # readable table with the median ratio
    python -m pytest bench/bench_engine.py --benchmark-only
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classic_micrograd as classic  # noqa: E402

from micrograd.apps import classic_demo  # noqa: E402
from micrograd.apps.bench import median_seconds  # noqa: E402
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


def test_step_ours(benchmark):
    loss, _ = benchmark.pedantic(make_step("micrograd"), rounds=10, warmup_rounds=1)
    assert loss > 0


def test_step_classic(benchmark):
    loss, _ = benchmark.pedantic(make_step("classic"), rounds=3, warmup_rounds=1)
    assert loss > 0


def main() -> None:
    ours_step, classic_step = make_step("micrograd"), make_step("classic")
    # same starting weights and data, so the first losses must agree before we time anything
    ours_loss, classic_loss = ours_step()[0], classic_step()[0]
    assert abs(ours_loss - classic_loss) < 1e-9, (ours_loss, classic_loss)
    # the classic step takes ~1 s: a 5 s budget gives each engine at least 5 timed steps
    ours, cls = median_seconds(ours_step, budget=5.0), median_seconds(classic_step, budget=5.0)
    print("two-moons step (MLP 2-16-16-1, 100 points), median over at least 5 runs")
    print(f"{'engine':<12}{'ms/step':>10}")
    print(f"{'classic':<12}{cls * 1e3:>10.1f}")
    print(f"{'micrograd':<12}{ours * 1e3:>10.1f}")
    print(f"speed-up: {cls / ours:.1f}x")


if __name__ == "__main__":
    main()
