"""Neurons, layers and MLPs made of scalar ``Value`` objects: classic micrograd's ``nn``.

Programs written for the classic micrograd run unchanged: ``MLP(nin, nouts)``, calling it on a
list of numbers or Values, ``parameters()`` and ``zero_grad()``. Weights are drawn with Python's
``random`` module, so ``random.seed(...)`` reproduces classic results.
"""
from __future__ import annotations

import random
from typing import Any, Sequence

from ..core.engine import Value, sum_values
from .module import Module  # the one Module: zero_grad sets a Value's grad to 0


class Neuron(Module):
    """act(w . x + b): one weight per input, a bias, and ReLU unless ``nonlin=False``."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence) -> Value:
        # b + w0 x0 + w1 x1 + ...: one node for the sum of the products (sum_values) rather
        # than one + node per input, half the nodes of a neuron, same number, same gradients
        products = [wi * xi for wi, xi in zip(self.w, x)]
        act = sum_values([self.b] + products) if products else self.b
        return act.relu() if self.nonlin else act

    def parameters(self) -> list:
        """The weights, then the bias: a list of ``Value``s."""
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that all see the same inputs."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list:
        """Every neuron's parameters, in order: a list of ``Value``s."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nouts`` after ``nin`` inputs; ReLU everywhere but the last layer."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list:
        """Every layer's parameters, in order: a list of ``Value``s."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
