"""autograd.grad, Tensor.register_hook and retain_grad against torch."""
import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for the autograd API")

RNG = np.random.default_rng(1)
X0, Y0, COT = RNG.normal(size=(3,)), RNG.normal(size=(3,)), RNG.normal(size=(3,))


def _both(fn):
    out = []
    for L in (mg, torch):
        x = L.tensor(X0, requires_grad=True)
        y = L.tensor(Y0, requires_grad=True)
        out.append(fn(L, x, y))
    return out


def _np(v):
    return None if v is None else np.array(v.detach().numpy(), np.float64)  # a copy


def test_grad_with_grad_outputs_matches_torch_and_leaves_dot_grad_alone():
    def f(L, x, y):
        z = x * y.exp()
        gx, gy = L.autograd.grad(z, (x, y), grad_outputs=L.tensor(COT))
        assert x.grad is None and y.grad is None
        return _np(gx), _np(gy)
    (a, b), (c, d) = _both(f)
    np.testing.assert_allclose(a, c, rtol=1e-12)
    np.testing.assert_allclose(b, d, rtol=1e-12)


def test_grad_allow_unused_and_its_error():
    def f(L, x, y):
        z = (x * x).sum()
        with pytest.raises(RuntimeError, match="not have been used in the graph"):
            L.autograd.grad(z, [x, y], retain_graph=True)
        gx, gy = L.autograd.grad(z, [x, y], allow_unused=True)
        return _np(gx), gy
    (a, b), (c, d) = _both(f)
    np.testing.assert_allclose(a, c, rtol=1e-12)
    assert b is None and d is None


def test_grad_of_several_outputs_and_a_non_leaf_input():
    def f(L, x, y):
        h = x * 3
        outs = [(h * y).sum(), (h ** 2).sum()]
        (gh,) = L.autograd.grad(outs, h)
        return _np(gh)
    a, b = _both(f)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_register_hook_changes_the_gradient_on_leaves_and_non_leaves():
    def f(L, x, y):
        seen = []
        h = x * y
        h.register_hook(lambda g: g * L.tensor(COT))
        handle = x.register_hook(lambda g: seen.append(_np(g)))
        (h.exp() + x).sum().backward()
        handle.remove()
        (x * 2).sum().backward()
        return seen, _np(x.grad), _np(y.grad)
    (s1, gx1, gy1), (s2, gx2, gy2) = _both(f)
    assert len(s1) == len(s2) == 1
    np.testing.assert_allclose(s1[0], s2[0], rtol=1e-12)
    np.testing.assert_allclose(gx1, gx2, rtol=1e-12)
    np.testing.assert_allclose(gy1, gy2, rtol=1e-12)


def test_retain_grad_keeps_a_non_leaf_gradient():
    def f(L, x, y):
        h = x * y
        h.retain_grad()
        (h * L.tensor(COT)).sum().backward()
        return _np(h.grad)
    a, b = _both(f)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hook_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mg.zeros(2).register_hook(lambda g: g)


def test_grad_through_the_version_check():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    z = (x * c).sum()
    c.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        mg.autograd.grad(z, x)
