"""The classic micrograd demo: a 2-16-16-1 MLP of scalar Values learns the two moons.

The loop is written once for any ``Value``/``MLP`` pair, so bench/bench_engine.py can time our
engine against classic micrograd's on exactly the same work, and the tests can check that the
scalar engine learns (100% training accuracy, as in the classic notebook).
``python -m micrograd moons`` runs it.
"""
from __future__ import annotations

import random
import time

from ..data import make_moons


def moons_data(n: int = 100, seed: int = 1):
    X, y = make_moons(n_samples=n, noise=0.1, random_state=seed)
    return X.tolist(), (y * 2 - 1).tolist()   # labels in {-1, +1} for the max-margin loss


def make_model(MLP, seed: int = 1337):
    random.seed(seed)
    return MLP(2, [16, 16, 1])


def loss_and_accuracy(Value, model, X, y):
    """SVM max-margin loss + L2 regularisation, exactly as in the classic demo notebook."""
    inputs = [[Value(v) for v in row] for row in X]
    scores = [model(row) for row in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


def train_step(Value, model, X, y, k: int, steps: int = 100):
    total, acc = loss_and_accuracy(Value, model, X, y)
    model.zero_grad()
    total.backward()
    lr = 1.0 - 0.9 * k / steps
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data, acc


def run(steps: int = 100, seed: int = 1) -> float:
    """Train with our engine, printing progress; returns the final training accuracy."""
    from ..core.engine import Value
    from ..nn import MLP
    X, y = moons_data(seed=seed)
    model = make_model(MLP, seed)
    print(f"scalar engine: MLP 2-16-16-1 ({len(model.parameters())} Values of parameters), "
          f"{len(X)} two-moons points, SVM loss, SGD")
    start, acc = time.perf_counter(), 0.0
    for k in range(steps):
        loss, acc = train_step(Value, model, X, y, k, steps)
        if k % 10 == 0 or k == steps - 1:
            print(f"step {k:3d}  loss {loss:.4f}  accuracy {acc:.0%}")
    per_step = (time.perf_counter() - start) / steps
    print(f"final training accuracy {acc:.0%}, {per_step * 1e3:.0f} ms per step")
    return acc
