"""Products with an empty dimension (k = 0 above all: the sum over nothing is 0) as torch gives
them, on every backend: matmul of every rank and F.linear on N-d inputs, values and gradients
against torch in float64 with random cotangents, and gradcheck where an input has elements.
The C backend runs them through its 2-D GEMM (the batched loop and the stacked-rows path), so
the shapes must reach it without ``reshape(-1, 0)``, which NumPy cannot resolve."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd.nn import functional as F


def _linear(L, act=None):
    """F.linear(x, w[, b]) followed by ``act`` (micrograd fuses it through activation=)."""
    def f(x, w, b=None):
        if L is mg:
            return F.linear(x, w, b, activation=act)
        import torch
        y = torch.nn.functional.linear(x, w, b)
        return y if act is None else getattr(torch, act)(y)
    return f


def _matmul(L):
    return lambda a, b: a @ b


# name -> (op factory taking the library, input shapes)
CASES = {
    "matmul_k0_3d_2d": (_matmul, [(2, 3, 0), (0, 4)]),
    "matmul_k0_batched": (_matmul, [(2, 3, 0), (2, 0, 4)]),
    "matmul_k0_4d": (_matmul, [(2, 2, 3, 0), (2, 2, 0, 4)]),
    "matmul_k0_broadcast_batch": (_matmul, [(2, 3, 0), (1, 0, 4)]),
    "matmul_k0_2d": (_matmul, [(3, 0), (0, 4)]),
    "matmul_k0_matrix_vector": (_matmul, [(2, 3, 0), (0,)]),
    "matmul_k0_transposed": (lambda L: lambda a, b: a.transpose(-1, -2) @ b,
                             [(2, 0, 3), (2, 0, 4)]),
    "matmul_m0_3d_2d": (_matmul, [(2, 0, 5), (5, 4)]),
    "matmul_n0_3d_2d": (_matmul, [(2, 3, 5), (5, 0)]),
    "matmul_batch0_2d": (_matmul, [(0, 3, 5), (5, 4)]),
    "matmul_batch0_batched": (_matmul, [(0, 3, 5), (0, 5, 4)]),
    "linear_k0_3d_bias": (_linear, [(2, 3, 0), (4, 0), (4,)]),
    "linear_k0_3d": (_linear, [(2, 3, 0), (4, 0)]),
    "linear_k0_4d_bias": (_linear, [(2, 2, 3, 0), (4, 0), (4,)]),
    "linear_k0_2d_bias": (_linear, [(3, 0), (4, 0), (4,)]),
    "linear_k0_3d_relu": (lambda L: _linear(L, "relu"), [(2, 3, 0), (4, 0), (4,)]),
    "linear_k0_3d_sigmoid": (lambda L: _linear(L, "sigmoid"), [(2, 3, 0), (4, 0), (4,)]),
    "linear_k0_3d_tanh": (lambda L: _linear(L, "tanh"), [(2, 3, 0), (4, 0), (4,)]),
    "linear_m0_3d_bias": (_linear, [(2, 0, 5), (4, 5), (4,)]),
    "linear_batch0_3d_bias": (_linear, [(0, 3, 5), (4, 5), (4,)]),
}


def _inputs(name: str) -> list[np.ndarray]:
    """Random float64 inputs (biases away from 0, so sigmoid/tanh/relu see both signs)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    return [rng.standard_normal(shape) for shape in CASES[name][1]]


@pytest.mark.parametrize("name", list(CASES))
def test_values_match_torch_without_grad(backend, name):
    """No input requires grad: the C backend's stacked-rows GEMM path for (..., m, k) @ (k, n)."""
    torch = pytest.importorskip("torch", reason="torch is the oracle for empty products")
    make, _ = CASES[name]
    arrays = _inputs(name)
    out = make(mg)(*[mg.tensor(a) for a in arrays])
    want = make(torch)(*[torch.tensor(a) for a in arrays])
    assert out.shape == tuple(want.shape)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(backend, name):
    torch = pytest.importorskip("torch", reason="torch is the oracle for empty products")
    make, _ = CASES[name]
    arrays = _inputs(name)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = make(mg)(*xs), make(torch)(*txs)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    cot = np.random.default_rng(7).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for x, tx in zip(xs, txs):
        assert x.grad is not None and x.grad.shape == tuple(tx.grad.shape), name
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_k0_product_is_zeros_and_linear_is_its_bias(backend):
    """The issue's two cases, spelled out without an oracle."""
    y = mg.zeros(2, 3, 0) @ mg.zeros(0, 4)
    assert y.shape == (2, 3, 4) and not y.numpy().any()
    x = mg.zeros(2, 3, 0, requires_grad=True)
    w = mg.zeros(4, 0, requires_grad=True)
    b = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to([1, 2, 3, 4], (2, 3, 4)))
    y.sum().backward()
    assert x.grad.shape == (2, 3, 0) and w.grad.shape == (4, 0)
    np.testing.assert_array_equal(b.grad.numpy(), [6, 6, 6, 6])


@pytest.mark.parametrize("name", [n for n in CASES
                                  if any(np.prod(s) for s in CASES[n][1])])
def test_gradcheck_on_every_backend(backend, name):
    make, _ = CASES[name]
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(name)]
    assert mg.gradcheck(make(mg), xs)


@pytest.mark.parametrize("call, match", [
    (lambda: mg.zeros(2, 3, 0) @ mg.zeros(1, 4), "inner dims 0 != 1"),
    (lambda: mg.zeros(2, 3, 0) @ mg.zeros(2, 1, 4), "inner dims 0 != 1"),
    (lambda: F.linear(mg.zeros(2, 3, 0), mg.zeros(4, 1)), "inner dims 0 != 1"),
    (lambda: F.linear(mg.zeros(2, 3, 0), mg.zeros(4, 0), mg.zeros(3)), r"bias .*\(4,\)"),
])
def test_mismatched_empty_products_are_errors(backend, call, match):
    with pytest.raises(ValueError, match=match):
        call()
