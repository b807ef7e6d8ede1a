"""The eager fast paths keep PyTorch's semantics: backward in creation order through diamonds,
shared inputs, in-place rebases and partial graphs; a leaf or freed root; ``x * x``; ``mean``;
the one-input ``apply_op`` path; the gradient checks kept for ops written outside micrograd;
``Module.parameters``' order; the optimizer's step. No timings: the work a step does is
counted (graph nodes, kernel calls), and values and gradients are compared with torch in
float64 with random cotangents, and checked by ``mg.gradcheck`` on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn, optim
from micrograd.core import ops
from micrograd.core.tensor import _walk, apply_op

X = np.random.default_rng(5).standard_normal((4, 3))
W = np.random.default_rng(6).standard_normal((3, 3))


def _diamond(L, x):
    a = x * 2.0
    b = a.tanh() + a           # a feeds two ops
    c = (b * b).sum(1)         # an input used twice by one op
    return c + a.mean(1)


def _inplace(L, x):
    y = x * 1.0
    z = y.sigmoid()
    y.mul_(3.0)                # y's node is rebased after z used it
    return z + y


def _view_inplace(L, x):
    y = x * 1.0
    v = y[1:]
    s = y.exp()
    v.add_(1.0)                # a write through a view rebases y
    return s.sum(0) + y.sum(0)


def _shared_leaf(L, x):
    w = L.tensor(W) if L is mg else L.from_numpy(W)
    return (x @ w).relu() * x + x.reshape(-1).mean()


def _reductions(L, x):
    return (x.mean() + x.mean(0) * x.sum(1, keepdim=True)).tanh()


# name -> f(lib, x): run under micrograd and torch, values and gradients compared
CASES = {"diamond": _diamond, "inplace": _inplace, "view_inplace": _view_inplace,
         "shared_leaf": _shared_leaf, "reductions": _reductions,
         "square": lambda L, x: x * x, "square_sum": lambda L, x: (x * x).sum(),
         "square_one_side": lambda L, x: x * x.detach() + 2 * (x.detach() * x)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_values_and_gradients(name, backend):
    torch = pytest.importorskip("torch", reason="torch is the oracle")
    f = CASES[name]
    x = mg.tensor(X, dtype=mg.float64, requires_grad=True)
    tx = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    out, tout = f(mg, x), f(torch, tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    g = np.random.default_rng(7).standard_normal(tout.shape)
    out.backward(mg.tensor(g, dtype=mg.float64))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["diamond", "shared_leaf", "reductions", "square"])
def test_gradcheck(name, backend):
    f = CASES[name]
    x = mg.tensor(X, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: f(mg, t), (x,))


def test_backward_visits_each_op_once_in_creation_order():
    x = mg.tensor(X, requires_grad=True)
    c = mg.tensor(X)                                  # a constant: never walked
    loss = _diamond(mg, x * c)
    order = _walk(loss)
    assert order[-1] is loss and all(n._prev for n in order)
    assert len({id(n) for n in order}) == len(order)
    assert [n._ctx.seq for n in order] == sorted(n._ctx.seq for n in order)
    position = {id(n): i for i, n in enumerate(order)}
    for n in order:                                   # every op after the ops of its inputs
        assert all(position[id(p)] < position[id(n)] for p in n._prev if p._prev)


def test_leaf_root_and_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.backward(mg.tensor([3.0, 4.0]))                 # the root is a leaf: hooks, .grad
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(seen[0], [3.0, 4.0])
    y = (x * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    h = x * 3.0
    (h * 1.0).sum().backward()                        # frees h's op
    with pytest.raises(RuntimeError, match="MulBackward's saved arrays were freed"):
        (h + 1.0).sum().backward()                    # a new op reaching a freed one


def test_retain_graph_accumulates_and_autograd_grad_leaves_grad_alone():
    x = mg.tensor(X, requires_grad=True)
    h = (x * x).tanh()
    h.retain_grad()
    loss = h.sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(h.grad.numpy(), 2 * np.ones_like(X))
    y = mg.tensor(X, requires_grad=True)
    (gy,) = mg.autograd.grad((y * y).sum(), y)
    np.testing.assert_allclose(gy.numpy(), 2 * X, rtol=1e-6)
    assert y.grad is None


def test_square_computes_its_gradient_product_once():
    calls = []
    be = mg.core.settings.settings.backend

    class Counting(type(be)):
        def mul(self, a, b):
            calls.append("mul")
            return super().mul(a, b)

    x = mg.tensor(X, requires_grad=True)
    y = x * x
    y._ctx.be = Counting()
    y.backward(mg.ones_like(y))
    assert calls == ["mul"]                           # g * x once, used for both inputs
    np.testing.assert_allclose(x.grad.numpy(), 2 * X, rtol=1e-6)


def test_mean_is_one_sum_and_one_scale():
    x = mg.tensor(X, requires_grad=True)
    m = x.mean()
    assert m.grad_fn.name() == "MulBackward"
    assert m._prev[0].grad_fn.name() == "SumBackward" and not m._prev[1].requires_grad
    assert np.isnan(mg.zeros(0).mean().item())
    with pytest.raises(RuntimeError, match="mean: needs a floating point tensor"):
        mg.tensor([1, 2]).mean()


def test_one_input_apply_op_records_versions_and_views():
    x = mg.tensor(X, requires_grad=True) * 1.0
    x.add_(1.0)                                       # version 1
    y = apply_op(ops.Neg, x)
    assert y._ctx.needs_input_grad == (True,) and y._ctx.versions == (x._version,)
    r = x.reshape(-1)                                 # a view: one version counter
    assert r._vc is x._vc and r._base is x
    with mg.no_grad():
        assert apply_op(ops.Neg, x)._ctx is None


class _WrongShape(ops.Function):
    """out = 2 a, with a backward that returns a gradient of the wrong shape."""

    def forward(self, a):
        return a * 2

    def backward(self, g):
        return (2 * g[:1],)


class _TooMany(_WrongShape):
    def backward(self, g):
        return 2 * g, g


def test_ops_written_outside_micrograd_are_checked():
    assert ops.Mul.trusted and not _WrongShape.trusted
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_WrongShapeBackward returned a gradient of shape "
                                           r"\(1,\) for an input of shape \(2,\)"):
        apply_op(_WrongShape, x).sum().backward()
    with pytest.raises(RuntimeError, match="_TooManyBackward returned 2 gradients for 1 inputs"):
        apply_op(_TooMany, x).sum().backward()


def test_parameters_follow_named_parameters():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), shared, nn.Sequential(shared),
                          nn.Linear(2, 1, bias=False))
    named = [p for _, p in model.named_parameters()]
    assert [id(p) for p in model.parameters()] == [id(p) for p in named]
    assert len(named) == 5                            # the shared layer's two once
    assert [id(p) for p in model.parameters(recurse=False)] == []


def test_sgd_step_updates_bumps_and_zero_grad_clears():
    torch = pytest.importorskip("torch", reason="torch is the oracle")
    model = nn.Linear(3, 2)
    tmodel = torch.nn.Linear(3, 2)
    with torch.no_grad():
        tmodel.weight.copy_(torch.from_numpy(model.weight.detach().numpy().copy()))
        tmodel.bias.copy_(torch.from_numpy(model.bias.detach().numpy().copy()))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    x = np.random.default_rng(8).standard_normal((5, 3)).astype(np.float32)
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        assert model.weight.grad is None
        before = model.weight._version
        ((model(mg.tensor(x)) ** 2).mean()).backward()
        ((tmodel(torch.from_numpy(x)) ** 2).mean()).backward()
        opt.step()
        topt.step()
        assert model.weight._version == before + 1
    np.testing.assert_allclose(model.weight.detach().numpy(), tmodel.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    opt.zero_grad(set_to_none=False)                  # zeros in place, as torch
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((2, 3), np.float32))


def _moons_step():
    """The classic demo's step (bench/bench_compile.py): MLP 2-16-16-1, SVM loss + L2, SGD."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((100, 2)).astype(np.float32))
    y = mg.tensor(np.sign(rng.standard_normal(100)).astype(np.float32))
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 1))
    opt = optim.SGD(model.parameters(), lr=0.01)

    def forward():
        scores = model(x).reshape(-1)
        loss = (1 - y * scores).relu().mean()
        return loss + 1e-4 * sum((p * p).sum() for p in model.parameters())

    return model, opt, forward


def test_moons_step_graph_size_and_kernel_calls():
    """The step's graph and backward's kernel calls, counted (a regression would add nodes
    or calls): 29 ops (3 fused Linear, reshape, mul, sub, relu, mean's sum and scale, the L2
    term's 6 x (mul, sum, add), its scale and the final add); backward calls the fused layer's
    kernel once per layer."""
    model, opt, forward = _moons_step()
    loss = forward()
    order = _walk(loss)
    assert len(order) == 29
    names = [n._ctx.name() for n in order]
    assert names.count("LinearReluBackward") == 2 and names.count("LinearBackward") == 1
    counted = []
    be = mg.core.settings.settings.backend
    original = type(be).linear_backward

    def counting(self, *args):
        counted.append(1)
        return original(self, *args)

    type(be).linear_backward = counting
    try:
        loss.backward()
    finally:
        type(be).linear_backward = original
    assert len(counted) == 3
    assert all(p.grad is not None for p in model.parameters())
    opt.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_step_routing_matches_the_reference_for_unusual_arrays(backend, dtype):
    """The routed step checks p and g inline: a gradient of another dtype or shape, an ndarray
    subclass or a read-only p never reach the C kernel (it would misread or lose them); the
    step then runs the reference, whose answer (or error) is the one every backend gives."""
    be, ref = mg.core.settings.settings.backend, mg.backends.REGISTRY["numpy"]
    rng = np.random.default_rng(11)
    p0, g = rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    cases = [(g, {}), (g.view(np.matrix), {}), (g.astype(np.float32 if dtype == np.float64
                                                         else np.float64), {}),
             (g, dict(weight_decay=0.1, maximize=True))]
    for grad, kw in cases:
        p, q = p0.copy(), p0.copy()
        be.sgd_step(p, grad, None, 0.1, **kw)
        ref.sgd_step(q, grad, None, 0.1, **kw)
        np.testing.assert_allclose(p, q, rtol=1e-6)
        np.testing.assert_allclose(p, p0 - 0.1 * ((-1 if kw.get("maximize") else 1)
                                                  * np.asarray(grad) + kw.get("weight_decay", 0)
                                                  * p0), rtol=1e-5)
    locked = p0.copy()
    locked.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        be.sgd_step(locked, g, None, 0.1)


def test_backend_reshape_and_transpose_match_numpy(backend):
    """The backend's reshape and transpose (the array methods): a view where NumPy gives one,
    a copy of a transposed input, NumPy's error for a size mismatch."""
    be = mg.core.settings.settings.backend
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(be.reshape(x, (4, 3)), np.reshape(x, (4, 3)))
    assert np.shares_memory(be.reshape(x, (-1,)), x)
    np.testing.assert_array_equal(be.reshape(x.T, (-1,)), np.reshape(x.T, (-1,)))
    np.testing.assert_array_equal(be.transpose(x, (1, 0)), x.T)
    np.testing.assert_array_equal(be.transpose(x, None), x.T)
    with pytest.raises(ValueError, match="cannot reshape"):
        be.reshape(x, (5, 3))
