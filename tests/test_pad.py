"""F.pad and the padding modules against torch: one spec table (float64 values and gradients
with random cotangents), torch's errors, and mg.gradcheck on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F

# (input shape, pad, mode, value)
SPECS = [
    ((5,), (2, 3), "constant", None),
    ((2, 3, 4), (1, 2), "constant", 1.5),
    ((2, 3, 4), (-1, 2, 0, 1), "constant", -2.0),
    ((2, 3, 4), (1, 1, 2, 0, 1, 3), "constant", None),
    ((2, 3, 4), (-2, -2), "constant", None),
    ((3, 4), (1, 2), "reflect", None),
    ((2, 3, 5), (4, 1), "reflect", None),
    ((2, 3, 4), (-1, 1), "reflect", None),
    ((2, 3, 4), (3, 2, 1, 2), "reflect", 0.0),
    ((2, 3, 4, 5), (1, 2, 3, 0), "reflect", None),
    ((2, 3, 4, 3, 4), (1, 2, 2, 1, 3, 0), "reflect", None),
    ((2, 3, 4), (2, 5), "replicate", None),
    ((3, 4), (-2, 1), "replicate", None),
    ((1, 2, 3, 4), (1, 2, 3, 4), "replicate", None),
    ((2, 3, 2, 3), (1, 1, 2, 0, 1, 1), "replicate", None),
    ((2, 3, 4), (4, 2), "circular", None),
    ((2, 3, 4), (-1, 2), "circular", None),
    ((2, 3, 4), (2, -1), "circular", None),
    ((3, 4, 5), (1, 2, 4, 0), "circular", None),
    ((2, 3, 4, 5), (1, 2, 0, 3), "circular", None),
    ((2, 2, 3, 4, 2), (1, 1, 2, 1, 3, 0), "circular", None),
    ((0, 3, 4), (1, 2), "reflect", None),
]


@pytest.mark.parametrize("shape,pad,mode,value", SPECS,
                         ids=[f"{m}-{s}-{p}" for s, p, m, _ in SPECS])
def test_pad_matches_torch(shape, pad, mode, value):
    torch = pytest.importorskip("torch", reason="torch is the oracle for F.pad")
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = F.pad(x, pad, mode=mode, value=value)
    ty = torch.nn.functional.pad(tx, pad, mode=mode, value=value)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=0, atol=0)
    g = rng.standard_normal(y.shape)
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_pad_keeps_dtype_like_torch(dtype):
    torch = pytest.importorskip("torch", reason="torch is the oracle for F.pad")
    a = np.arange(12).reshape(1, 3, 4).astype(dtype)
    for mode, value in (("constant", 1.7), ("reflect", None), ("circular", None)):
        y = F.pad(mg.tensor(a), (2, 1), mode=mode, value=value)
        ty = torch.nn.functional.pad(torch.tensor(a), (2, 1), mode=mode, value=value)
        assert y.dtype.name == str(ty.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


ERRORS = [
    ((2, 3, 4), (1,), "constant", None),
    ((2, 3, 4), (1, 1, 1, 1, 1, 1, 1, 1), "constant", None),
    ((2, 3, 4), (1, 1), "foo", None),
    ((2, 3, 4), (4, 0), "reflect", None),
    ((2, 3, 4), (0, 4), "reflect", None),
    ((2, 3, 4), (1, 1, 1, 1, 1, 1), "reflect", None),
    ((4,), (1, 1), "reflect", None),
    ((1, 2, 3, 4, 5, 6), (1, 1), "replicate", None),
    ((3, 4), (1, 1, 1, 1), "circular", None),
    ((2, 0, 4), (1, 1), "reflect", None),
    ((2, 3, 0), (1, 1), "replicate", None),
    ((2, 3, 4), (5, 0), "circular", None),
    ((2, 3, 4), (1, 1), "reflect", 2.0),
    ((2, 3, 4), (-5, 1), "replicate", None),
    ((2, 3, 4), (-3, -2), "reflect", None),
]


@pytest.mark.parametrize("shape,pad,mode,value", ERRORS,
                         ids=[f"{m}-{s}-{p}" for s, p, m, _ in ERRORS])
def test_pad_errors_like_torch(shape, pad, mode, value):
    torch = pytest.importorskip("torch", reason="torch is the oracle for F.pad's errors")
    a = np.ones(shape)
    with pytest.raises(Exception) as theirs:
        torch.nn.functional.pad(torch.tensor(a), pad, mode=mode, value=value)
    with pytest.raises(type(theirs.value)):
        F.pad(mg.tensor(a), pad, mode=mode, value=value)


def test_pad_error_messages_name_the_fault():
    with pytest.raises(RuntimeError, match=r"padding \(4, 0\) at dimension 2 of input \[2, 3, 4\]"):
        F.pad(mg.zeros(2, 3, 4), (4, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="crops more than its size 4"):
        F.pad(mg.zeros(2, 3, 4), (-3, -2))
    with pytest.raises(TypeError, match="tuple of ints"):
        F.pad(mg.zeros(2, 3, 4), (1.5, 1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.pad(np.zeros((2, 3)), (1, 1))


@pytest.mark.parametrize("mode,pad", [("constant", (1, -1, 2, 0)), ("reflect", (2, 1, 1, 2)),
                                      ("replicate", (2, 3, 0, 1)), ("circular", (1, 3, 2, 0))])
def test_pad_gradcheck(backend, mode, pad):
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: F.pad(t, pad, mode=mode), (x,))


MODULES = [("ConstantPad1d", (2, 3.5), (2, 3, 4)), ("ConstantPad2d", ((1, 2, 0, 3), -1.0), (3, 4, 2)),
           ("ConstantPad3d", (1, 2), (1, 2, 2, 3, 2)), ("ZeroPad1d", ((1, 2),), (3, 4)),
           ("ZeroPad2d", (1,), (2, 3, 4, 2)), ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), (2, 3, 2, 3)),
           ("ReflectionPad1d", (2,), (2, 3, 4)), ("ReflectionPad2d", ((1, 2, 0, 1),), (3, 4, 3)),
           ("ReflectionPad3d", (1,), (1, 2, 2, 3, 2)), ("ReplicationPad1d", ((3, 1),), (3, 4)),
           ("ReplicationPad2d", (2,), (1, 2, 3, 2)), ("ReplicationPad3d", (1,), (2, 2, 3, 2)),
           ("CircularPad1d", ((2, 1),), (2, 3, 4)), ("CircularPad2d", (1,), (2, 3, 4, 2)),
           ("CircularPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 3, 2))]


@pytest.mark.parametrize("name,args,shape", MODULES, ids=[m[0] for m in MODULES])
def test_padding_modules_match_torch(name, args, shape):
    torch = pytest.importorskip("torch", reason="torch is the oracle for the padding modules")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = rng.standard_normal(y.shape)
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_circular_pad_module_checks_rank_like_torch():
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(mg.zeros(2, 3))
