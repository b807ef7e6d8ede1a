"""mg.gradcheck: passes correct ops, names the worst element of a wrong one, refuses float32."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd.core import ops
from micrograd.autograd import GradcheckError
from micrograd.core.tensor import apply_op


class WrongSquare(ops.Function):
    """out = x^2 with a deliberately wrong derivative (x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return self.be.mul(x, x)

    def backward(self, g):
        return (self.be.mul(g, self.x),)


class TransposedGrad(ops.Function):
    """out = a @ b with da using b instead of b^T: all-ones cotangents can hide this for
    square symmetric-looking cases; a random cotangent must not."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.matmul(a, b)

    def backward(self, g):
        return self.be.matmul(g, self.b), self.be.matmul(self.a, g, trans_a=True)


def test_gradcheck_passes_correct_ops():
    x = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    w = mg.tensor(np.ones((3, 2)), requires_grad=True)
    assert mg.gradcheck(lambda a, b: (a @ b).tanh(), [x, w]) is True
    assert mg.gradcheck(lambda a: (a.exp(), a.sum()), [x])  # several outputs


def test_gradcheck_names_the_worst_element():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3,\)\) element \(2,\): "
                                             r"analytic [-0-9.e]+ vs numeric [-0-9.e]+"):
        mg.gradcheck(lambda a: apply_op(WrongSquare, a), [x])
    assert mg.gradcheck(lambda a: apply_op(WrongSquare, a), [x], raise_exception=False) is False


def test_gradcheck_catches_a_transposition_mistake():
    rng = np.random.default_rng(0)
    a = mg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0"):
        mg.gradcheck(lambda p, q: apply_op(TransposedGrad, p, q), [a, b])


def test_gradcheck_only_checks_inputs_that_require_grad():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    c = mg.tensor([5.0, 6.0], dtype=mg.float64)
    assert mg.gradcheck(lambda a, k: a * k, [x, c])


def test_gradcheck_input_validation():
    with pytest.raises(TypeError, match="float32.*float64"):
        mg.gradcheck(lambda a: a * 2, [mg.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda a: a * 2, [mg.tensor([1.0], dtype=mg.float64)])
