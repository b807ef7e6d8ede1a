"""A classic micrograd program, verbatim but for the data import, runs on the unified Module."""
from __future__ import annotations

import random

import numpy as np


def test_classic_demo_program_runs_unchanged():
    from micrograd.engine import Value
    from micrograd.nn import MLP, Layer, Module, Neuron  # noqa: F401 - classic imports

    np.random.seed(1337)
    random.seed(1337)
    from micrograd.data import make_moons  # classic: from sklearn.datasets import make_moons
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    y = y * 2 - 1  # make y be -1 or 1

    model = MLP(2, [16, 16, 1])  # 2-layer neural network
    assert len(model.parameters()) == 337

    def loss(batch_size=None):
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum((p * p for p in model.parameters()))
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    first, _ = loss()
    for k in range(10):
        total_loss, acc = loss()
        model.zero_grad()
        assert all(p.grad == 0 for p in model.parameters())
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    total_loss, acc = loss()
    assert total_loss.data < 0.5 * first.data
    assert acc >= 0.85
    assert isinstance(model, Module)
    assert str(model).startswith("MLP of [Layer of [ReLUNeuron(2)")
