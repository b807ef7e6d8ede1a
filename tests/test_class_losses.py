"""cross_entropy and nll_loss over every combination of weight, ignore_index, label_smoothing
and reduction: torch as the oracle for values and gradients (random cotangents), float64
finite differences (mg.gradcheck), the degenerate 'mean' (nothing counted), the shared
weighted-mean denominator, and errors that name the values at fault.

The composition under test: the fused CrossEntropy primitive (or -input[t] for nll_loss), and
class weights, ignored labels, smoothing and the reduction composed around it in one place
(F._class_loss)."""
from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F

N, C = 6, 4
WEIGHTS = {"none": None, "weight": np.array([0.5, 2.0, 1.0, 0.25]),
           "weight_with_zero": np.array([0.0, 2.0, 1.0, 0.25])}
TARGETS = {"all_counted": np.array([0, 1, 2, 3, 1, 0]),
           "some_ignored": np.array([0, -100, 2, 3, -100, 1]),
           "ignore_in_range": np.array([0, 1, 2, 3, 1, 0])}  # with ignore_index=1
IGNORE = {"all_counted": -100, "some_ignored": -100, "ignore_in_range": 1}
SMOOTHING = [0.0, 0.1, 1.0]
REDUCTIONS = ["none", "sum", "mean"]
LAYOUTS = {"rows": (N, C), "spatial": (2, C, 3), "one_sample": (C,)}

CASES = list(itertools.product(WEIGHTS, TARGETS, SMOOTHING, REDUCTIONS))


def _targets_for(layout: str, tname: str) -> np.ndarray:
    t = TARGETS[tname]
    if layout == "rows":
        return t
    if layout == "spatial":
        return t.reshape(2, 3)
    return np.array(t[1])  # one sample: a scalar target


def _seed(*case) -> int:
    """A seed per case, the same in every process (hash() of a str is salted)."""
    return zlib.crc32(repr(case).encode())


def _torch():
    return pytest.importorskip("torch", reason="torch not installed: reference comparison")


def _run(fn, x_np, target, weight, cot, lib, **kw):
    """Loss value and d(sum(loss * cot))/dx, by micrograd or by torch."""
    if lib == "mg":
        x = mg.tensor(x_np, requires_grad=True)
        w = None if weight is None else mg.tensor(weight)
        out = getattr(F, fn)(x, mg.tensor(target), weight=w, **kw)
        out.backward(mg.tensor(cot))
        return out.detach().numpy(), x.grad.numpy()
    torch = _torch()
    x = torch.tensor(x_np, requires_grad=True)
    w = None if weight is None else torch.tensor(weight)
    out = getattr(torch.nn.functional, fn)(x, torch.tensor(target), weight=w, **kw)
    out.backward(torch.tensor(cot))
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("wname,tname,eps,reduction", CASES)
def test_cross_entropy_matches_torch(wname, tname, eps, reduction, layout, backend):
    if layout == "one_sample" and tname == "some_ignored":
        tname = "all_counted"  # the one sample's label is t[1]: ignored is its own case below
    rng = np.random.default_rng(_seed(wname, tname, eps, reduction, layout))
    x = rng.standard_normal(LAYOUTS[layout]) * 3
    t = _targets_for(layout, tname)
    kw = dict(ignore_index=IGNORE[tname], reduction=reduction, label_smoothing=eps)
    out_shape = t.shape if reduction == "none" else ()
    cot = rng.standard_normal(out_shape)  # random, so a misplaced per-row factor shows
    got, dx = _run("cross_entropy", x, t, WEIGHTS[wname], cot, "mg", **kw)
    want, rdx = _run("cross_entropy", x, t, WEIGHTS[wname], cot, "torch", **kw)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)
    if not np.isnan(want).any():
        np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layout", ["rows", "spatial"])
@pytest.mark.parametrize("wname,tname,reduction",
                         list(itertools.product(WEIGHTS, TARGETS, REDUCTIONS)))
def test_nll_loss_matches_torch(wname, tname, reduction, layout, backend):
    rng = np.random.default_rng(_seed(wname, tname, reduction, layout))
    x = rng.standard_normal(LAYOUTS[layout])  # any values: nll_loss only picks them
    t = _targets_for(layout, tname)
    kw = dict(ignore_index=IGNORE[tname], reduction=reduction)
    cot = rng.standard_normal(t.shape if reduction == "none" else ())
    got, dx = _run("nll_loss", x, t, WEIGHTS[wname], cot, "mg", **kw)
    want, rdx = _run("nll_loss", x, t, WEIGHTS[wname], cot, "torch", **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("eps", [0.0, 0.3])
@pytest.mark.parametrize("wname", ["none", "weight"])
def test_every_row_ignored_is_nan_with_zero_gradients_like_torch(fn, eps, wname, backend):
    if fn == "nll_loss" and eps:
        pytest.skip("nll_loss has no label smoothing")
    kw = dict(label_smoothing=eps) if eps else {}
    x = np.random.default_rng(0).standard_normal((3, C))
    t = np.array([-100, -100, -100])
    got, dx = _run(fn, x, t, WEIGHTS[wname], np.array(0.7), "mg", **kw)
    assert np.isnan(got)
    np.testing.assert_array_equal(dx, np.zeros_like(x))
    torch = pytest.importorskip("torch")
    want, rdx = _run(fn, x, t, WEIGHTS[wname], np.array(0.7), "torch", **kw)
    assert np.isnan(want) and torch is not None
    np.testing.assert_array_equal(dx, rdx)
    for red in ("sum", "none"):
        got, dx = _run(fn, x, t, WEIGHTS[wname], np.ones(() if red == "sum" else 3) * 0.7,
                       "mg", reduction=red, **kw)
        np.testing.assert_array_equal(got, 0.0)
        np.testing.assert_array_equal(dx, 0.0)


def test_empty_batch_mean_is_nan_sum_is_zero(backend):
    x = mg.zeros(0, 3, requires_grad=True)
    t = mg.zeros(0, dtype=mg.int64)
    assert np.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0
    assert F.cross_entropy(x, t, reduction="none").shape == (0,)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("wname,tname,eps,reduction",
                         [c for c in CASES if c[0] != "weight_with_zero" and c[2] != 1.0])
def test_gradcheck_float64(fn, wname, tname, eps, reduction, backend):
    if fn == "nll_loss" and eps:
        pytest.skip("nll_loss has no label smoothing")
    rng = np.random.default_rng(3)
    t = mg.tensor(TARGETS[tname])
    w = None if WEIGHTS[wname] is None else mg.tensor(WEIGHTS[wname])
    kw = dict(weight=w, ignore_index=IGNORE[tname], reduction=reduction)
    if eps:
        kw["label_smoothing"] = eps
    cot = mg.tensor(rng.standard_normal((N,) if reduction == "none" else ()))
    x = mg.tensor(rng.standard_normal((N, C)), requires_grad=True)
    f = getattr(F, fn)
    assert mg.gradcheck(lambda x: (f(x, t, **kw) * cot).sum(), [x])


def test_fast_path_is_the_fused_primitive_and_a_mean():
    """No weight, nothing ignored, no smoothing: CrossEntropy, one multiply by 1/N, one sum."""
    x = mg.randn(5, 3, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 1, 2, 0, 1]))
    mul = loss._prev[0]
    ce = mul._prev[0]
    assert (loss.grad_fn.name(), mul.grad_fn.name(), ce.grad_fn.name()) == (
        "SumBackward", "MulBackward", "CrossEntropyBackward")
    assert ce._prev == (x,)
    assert ce.shape == (5,)  # the primitive's per-row loss


def test_primitive_is_the_per_row_loss(backend):
    """CrossEntropy alone: logsumexp(x_i) - x_i[t_i], dx_i = g_i (softmax(x_i) - onehot)."""
    from micrograd.core import ops
    from micrograd.core.tensor import apply_op
    rng = np.random.default_rng(1)
    xn, t, g = rng.standard_normal((4, 5)), np.array([4, 0, 2, 2]), rng.standard_normal(4)
    x = mg.tensor(xn, requires_grad=True)
    out = apply_op(ops.CrossEntropy, x, target=t)
    lse = np.log(np.exp(xn).sum(1))
    np.testing.assert_allclose(out.detach().numpy(), lse - xn[np.arange(4), t], rtol=1e-13)
    out.backward(mg.tensor(g))
    p = np.exp(xn - lse[:, None])
    p[np.arange(4), t] -= 1
    np.testing.assert_allclose(x.grad.numpy(), p * g[:, None], rtol=1e-12, atol=1e-15)


def test_total_weight_is_the_one_weighted_mean_denominator():
    assert F.total_weight(None, 7) == 7.0
    assert F.total_weight(np.array([0.5, 0.25, 0.0]), 3) == 0.75
    assert F.total_weight(np.zeros(0), 0) == 0.0


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_errors_name_the_values_at_fault(fn):
    f = getattr(F, fn)
    x = mg.randn(3, 4)
    with pytest.raises(IndexError, match=fr"{fn}: target label 4 is out of range for 4 "
                                         r"classes \(expected 0 <= label < 4, or "
                                         r"ignore_index=-100\)"):
        f(x, mg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match=fr"{fn}: target label -1 is out of range"):
        f(x, mg.tensor([0, -1, 1]))
    with pytest.raises(IndexError, match=fr"{fn}: target label -100 is out of range .*"
                                         r"ignore_index=2\)"):
        f(x, mg.tensor([0, -100, 2]), ignore_index=2)
    with pytest.raises(ValueError, match=fr"{fn}: weight must have shape \(4,\) \(one per "
                                         r"class\), got \(3,\)"):
        f(x, mg.tensor([0, 1, 2]), weight=mg.ones(3))
    with pytest.raises(ValueError, match=fr"{fn}: input shape \(3, 4\) needs target shape "
                                         r"\(3,\), got \(2,\)"):
        f(x, mg.tensor([0, 1]))
    with pytest.raises(ValueError, match=fr"{fn}: reduction must be one of .*got 'avg'"):
        f(x, mg.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(TypeError, match=fr"{fn}: class targets must be integers"):
        f(x, mg.tensor([0.0, 1.0, 2.0]) if fn == "nll_loss" else np.array([0.0, 1.0, 2.0]))


def test_nll_loss_rejects_integer_input_like_torch():
    with pytest.raises(TypeError, match="nll_loss: input must be floating point "
                                        "log-probabilities, got int64"):
        F.nll_loss(mg.tensor([[0, 1], [1, 0]]), mg.tensor([0, 1]))


def test_cross_entropy_is_nll_of_log_softmax_for_every_option():
    """The two share one composition: cross_entropy(x) == nll_loss(log_softmax(x)) with the
    same weight / ignore_index / reduction, values and gradients."""
    rng = np.random.default_rng(5)
    xn = rng.standard_normal((N, C))
    for wname, tname, red in itertools.product(WEIGHTS, ["all_counted", "some_ignored"],
                                               REDUCTIONS):
        w = None if WEIGHTS[wname] is None else mg.tensor(WEIGHTS[wname])
        t = mg.tensor(TARGETS[tname])
        cot = mg.tensor(rng.standard_normal((N,) if red == "none" else ()))
        a, b = mg.tensor(xn, requires_grad=True), mg.tensor(xn, requires_grad=True)
        la = F.cross_entropy(a, t, weight=w, reduction=red)
        lb = F.nll_loss(b.log_softmax(1), t, weight=w, reduction=red)
        np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-12)
        (la * cot).sum().backward()
        (lb * cot).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-15)
