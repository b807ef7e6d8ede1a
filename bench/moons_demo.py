"""The classic micrograd two-moons training step, written once for any Value/MLP pair.

Used by bench/bench_engine.py to compare our engine with the classic one on the same loop, and by
tests to check that the scalar engine learns (100% training accuracy, as in the classic demo).
"""
from __future__ import annotations

import random

from micrograd.data import make_moons


def moons_data(n: int = 100, seed: int = 1337):
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
