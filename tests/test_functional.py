"""nn.functional: hand-computed values, numerical stability at extreme logits, the fused
cross-entropy node, and input validation (labels, shapes, dtypes)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd as mg
import micrograd.nn.functional as F

BIG = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 0.0, 0.0]])


def test_cross_entropy_hand_computed():
    # two equal logits: loss log 2, gradient (0.5 - 1, 0.5) / N
    x = mg.tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 1]))
    assert math.isclose(loss.item(), math.log(2), rel_tol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.25, 0.25], [0.25, -0.25]], rtol=1e-6)


def _graph(t):
    """The node names of t's graph, output first, depth first."""
    names, stack = [], [t]
    while stack:
        node = stack.pop()
        if node.grad_fn is not None:
            names.append(node.grad_fn.name())
            stack.extend(node._prev)
    return names


def test_cross_entropy_default_is_the_fused_primitive_and_a_mean():
    """The common case (no weight, nothing ignored, no smoothing): the fused primitive, then
    a mean (a multiply and a sum); no softmax or log_softmax node anywhere."""
    x = mg.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 1, 2, 0]))
    assert _graph(loss) == ["SumBackward", "MulBackward", "CrossEntropyBackward"]
    node = loss._prev[0]._prev[0]
    assert node._prev == (x,)
    assert _graph(F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), reduction="none")) == [
        "CrossEntropyBackward"]


def test_cross_entropy_equals_log_softmax_nll():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((5, 4)))
    t = mg.tensor(rng.integers(0, 4, 5))
    for red in ("mean", "sum", "none"):
        a = F.cross_entropy(x, t, reduction=red)
        b = F.nll_loss(x.log_softmax(1), t, reduction=red)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_cross_entropy_ignore_everything_is_nan_like_torch():
    x = mg.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([-100, -100]))
    assert math.isnan(loss.item())
    assert F.cross_entropy(x, mg.tensor([-100, -100]), reduction="sum").item() == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_stable(dtype, backend):
    """Logits of +-1e4: finite values, exact limits, no overflow warnings."""
    x = mg.tensor(BIG.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sm = x.softmax(1)
        lsm = x.log_softmax(1)
        ce = F.cross_entropy(x, mg.tensor([1, 0, 2]), reduction="none")
        sig, th = x.sigmoid(), x.tanh()
        bce = F.binary_cross_entropy_with_logits(x, mg.tensor(np.ones_like(BIG, dtype)),
                                                 reduction="none")
        lse = x.logsumexp(1)
        sp, ge = F.softplus(x), F.gelu(x)
        total = (sm.sum() + lsm.clamp(min=-50).sum() + ce.sum() + sig.sum() + th.sum()
                 + bce.sum() + lse.sum() + sp.sum() + ge.sum())
        total.backward()
    for t in (sm, lsm, ce, sig, th, bce, lse, sp, ge, x.grad):
        assert np.isfinite(t.detach().numpy()).all()
    np.testing.assert_allclose(sm.detach().numpy()[0], [1, 0, 0])
    np.testing.assert_allclose(ce.detach().numpy(), [2e4, 2e4, math.log(3)], rtol=1e-6)
    np.testing.assert_allclose(sig.detach().numpy()[0], [1, 0, 0.5])
    np.testing.assert_allclose(bce.detach().numpy()[0], [0, 1e4, math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(lse.detach().numpy(), [1e4, 1e4, math.log(3)], rtol=1e-6)


def test_bce_with_logits_gradient_at_zero():
    """sigmoid(0) - y = 0.5 - y: a formula built from abs/relu would get 0 here."""
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    F.binary_cross_entropy_with_logits(x, mg.tensor([0.0, 1.0]), reduction="sum").backward()
    assert x.grad.tolist() == [0.5, -0.5]


def test_bce_values_and_clamp():
    p = mg.tensor([0.0, 1.0, 0.5])
    y = mg.tensor([1.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 0.0, math.log(2)], rtol=1e-5)
    for bad in (1.5, -0.5, float("nan")):  # torch's rule: a nan is not a probability either
        with pytest.raises(RuntimeError, match="should be between 0 and 1"):
            F.binary_cross_entropy(mg.tensor([0.5, bad]), mg.tensor([1.0, 1.0]))


def test_regression_losses_hand_computed():
    x, y = mg.tensor([1.0, 2.0, 4.0]), mg.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx((0 + 4 + 9) / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(5.0)
    assert F.huber_loss(x, y, delta=1.0, reduction="none").tolist() == [0.0, 1.5, 2.5]
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(mg.zeros(3, 1), mg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, y, reduction="avg")


def test_cross_entropy_label_errors():
    x = mg.randn(3, 4)
    with pytest.raises(IndexError, match="label 4 is out of range for 4 classes"):
        F.cross_entropy(x, mg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="label -1 is out of range"):
        F.cross_entropy(x, mg.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"needs target shape \(3,\), got \(2,\)"):
        F.cross_entropy(x, mg.tensor([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="floating point logits"):
        F.cross_entropy(mg.tensor([[1, 2]]), mg.tensor([0]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]), weight=mg.ones(3))


def test_cross_entropy_accepts_numpy_and_int32_targets():
    x = mg.randn(3, 4)
    a = F.cross_entropy(x, np.array([0, 1, 2], np.int32))
    b = F.cross_entropy(x, mg.tensor([0, 1, 2]))
    assert a.item() == b.item()


def test_linear_validation():
    x, w, b = mg.randn(2, 3), mg.randn(4, 3), mg.randn(4)
    assert F.linear(x, w, b).shape == (2, 4) and F.linear(mg.randn(3), w).shape == (4,)
    with pytest.raises(ValueError, match="inner dims 3 != 5"):
        F.linear(x, mg.randn(4, 5))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\), expected \(4,\)"):
        F.linear(x, w, mg.randn(3))
    with pytest.raises(TypeError, match="float32.*float64"):
        F.linear(x, w.double())
    np.testing.assert_allclose(F.linear(x, w, b).numpy(),
                               x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match=r"activation must be None or one of \('relu', "
                                         r"'sigmoid', 'tanh'\), got 'gelu'"):
        F.linear(x, w, b, activation="gelu")


@pytest.mark.parametrize("backend_name", mg.available_backends())
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_linear_activation_equals_linear_then_activation(backend_name, act):
    """The fused epilogue gives the values of the two-step composition (float32, each backend),
    on a batch large enough for the C GEMM's packed path."""
    mg.manual_seed(4)
    x, w, b = mg.randn(130, 70), mg.randn(90, 70) * 0.1, mg.randn(90)
    with mg.use_backend(backend_name):
        fused = F.linear(x, w, b, activation=act).numpy()
        twostep = getattr(F, act)(F.linear(x, w, b)).numpy()
    np.testing.assert_allclose(fused, twostep, rtol=2e-6, atol=2e-6)


def test_dropout():
    x = mg.ones(10000)
    assert F.dropout(x, 0.5, training=False) is x
    mg.manual_seed(0)
    y = F.dropout(x, 0.25)
    kept = y.numpy() != 0
    np.testing.assert_allclose(np.unique(y.numpy()), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.03
    mg.manual_seed(0)
    assert F.dropout(x, 0.25).tolist() == y.tolist()
    assert F.dropout(x, 1.0).sum().item() == 0
    with pytest.raises(ValueError, match="p must be"):
        F.dropout(x, 1.5)


def test_one_hot_and_layer_norm():
    assert F.one_hot(mg.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(IndexError, match="labels must be in"):
        F.one_hot(mg.tensor([3]), 3)
    x = mg.tensor([[1.0, 2.0, 3.0]], dtype=mg.float64)
    y = F.layer_norm(x, 3, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[-math.sqrt(1.5), 0, math.sqrt(1.5)]], rtol=1e-12)


def test_gelu_matches_erf_definition():
    v = np.linspace(-5, 5, 11)
    ref = [0.5 * t * (1 + math.erf(t / math.sqrt(2))) for t in v]
    np.testing.assert_allclose(F.gelu(mg.tensor(v)).numpy(), ref, rtol=1e-14, atol=1e-15)


@st.composite
def ce_cases(draw):
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    extra = draw(st.lists(st.integers(1, 3), max_size=2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    logits = rng.standard_normal((n, c, *extra)) * draw(st.sampled_from([0.1, 1.0, 30.0]))
    target = rng.integers(0, c, (n, *extra))
    ignore = draw(st.sampled_from([-100, 0]))
    if draw(st.booleans()):
        target.flat[0] = ignore if ignore != 0 else target.flat[0]
    return dict(logits=logits, target=target,
                weight=rng.uniform(0.1, 2.0, c) if draw(st.booleans()) else None,
                ignore_index=ignore,
                reduction=draw(st.sampled_from(["mean", "sum", "none"])),
                label_smoothing=draw(st.sampled_from([0.0, 0.1, 0.5])))


@given(ce_cases())
def test_cross_entropy_matches_torch_on_random_cases(case):
    torch = pytest.importorskip("torch", reason="torch not installed: reference comparison")
    x = mg.tensor(case["logits"], requires_grad=True)
    rx = torch.tensor(case["logits"], requires_grad=True)
    w = case["weight"]
    kw = dict(ignore_index=case["ignore_index"], reduction=case["reduction"],
              label_smoothing=case["label_smoothing"])
    out = F.cross_entropy(x, mg.tensor(case["target"]),
                          weight=None if w is None else mg.tensor(w), **kw)
    ref = torch.nn.functional.cross_entropy(rx, torch.tensor(case["target"]),
                                            weight=None if w is None else torch.tensor(w), **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-9,
                               atol=1e-12, equal_nan=True)
    if not np.isnan(ref.detach().numpy()).any():
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), rx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4, 5), (2, 3, 4, 2), (5,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,smoothing", [(False, 0.0), (True, 0.0), (False, 0.2),
                                                (True, 0.3)])
def test_cross_entropy_probability_targets_match_torch(shape, reduction, weighted, smoothing):
    """Class-probability targets of any rank: 'mean' divides by every position (N * d1 * ...),
    not by N alone, whatever the weight; values and gradients as torch's, float64."""
    torch = pytest.importorskip("torch", reason="torch is the oracle for cross_entropy")
    rng = np.random.default_rng(len(shape) + 7 * weighted)
    c = shape[0] if len(shape) == 1 else shape[1]
    a = rng.standard_normal(shape)
    p = rng.random(shape)
    p /= p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    w = rng.random(c) + 0.5 if weighted else None
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = F.cross_entropy(x, mg.tensor(p), weight=None if w is None else mg.tensor(w),
                        reduction=reduction, label_smoothing=smoothing)
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(p),
                                           weight=None if w is None else torch.tensor(w),
                                           reduction=reduction, label_smoothing=smoothing)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
