"""Every differentiable op: gradcheck in float64 (several shapes, broadcasting, size-1 and empty
dims) on every backend, and the same lines of code under torch give the same values and grads.

Each case is ``fn(m, F, *inputs)`` where ``m`` is the library (micrograd or torch) and ``F`` its
``nn.functional``, so one lambda is the spec for both.
"""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as MF

IDX = np.array([2, 0, 0, 1])            # repeated indices: scatter-add in backward
MASK = np.array([True, False, True])
TARGET = np.array([1, 0, 3])            # class labels for (3, 4) logits
W4 = np.array([0.5, 2.0, 1.0, 1.5])     # class weights


def linear_act(F, x, w, b, act):
    """F.linear with its fused epilogue; torch (no such argument) applies the activation after."""
    if F is MF:
        return F.linear(x, w, b, activation=act)
    return getattr(F, act)(F.linear(x, w, b))


def ints(m, a):
    return m.tensor(a)


def floats(m, a):
    return m.tensor(a, dtype=m.float64)


# name -> (fn, [(shape, kind)]); kind: n normal, p positive, a |x| >= 0.1, u in (0.05, 0.95)
CASES = {
    "add": (lambda m, F, a, b: a + b, [((3, 4), "n"), ((4,), "n")]),
    "add_both_broadcast": (lambda m, F, a, b: a + b, [((3, 1), "n"), ((1, 4), "n")]),
    "add_same": (lambda m, F, a, b: a + b, [((2, 3), "n"), ((2, 3), "n")]),
    "radd_scalar": (lambda m, F, a: 2.5 + a, [((3,), "n")]),
    "sub": (lambda m, F, a, b: a - b, [((2, 3), "n"), ((2, 1), "n")]),
    "rsub": (lambda m, F, a: 1 - a, [((4,), "n")]),
    "mul": (lambda m, F, a, b: a * b, [((2, 3, 4), "n"), ((3, 1), "n")]),
    "mul_self": (lambda m, F, a: a * a, [((5,), "n")]),
    "div": (lambda m, F, a, b: a / b, [((3, 4), "n"), ((4,), "p")]),
    "rdiv": (lambda m, F, a: 2 / a, [((3,), "p")]),
    "pow_int": (lambda m, F, a: a ** 3, [((2, 3), "n")]),
    "pow_square": (lambda m, F, a: a ** 2, [((2, 3), "n")]),
    "pow_frac": (lambda m, F, a: a ** 0.5, [((4,), "p")]),
    "pow_neg": (lambda m, F, a: a ** -1.5, [((4,), "p")]),
    "pow_tensor": (lambda m, F, a, b: a ** b, [((2, 3), "p"), ((3,), "n")]),
    "rpow": (lambda m, F, a: 2 ** a, [((4,), "n")]),
    "neg": (lambda m, F, a: -a, [((2, 2), "n")]),
    "exp": (lambda m, F, a: a.exp(), [((3, 2), "n")]),
    "log": (lambda m, F, a: a.log(), [((3, 2), "p")]),
    "log1p": (lambda m, F, a: a.log1p(), [((3,), "p")]),
    "sqrt": (lambda m, F, a: a.sqrt(), [((3, 2), "p")]),
    "rsqrt": (lambda m, F, a: a.rsqrt(), [((3,), "p")]),
    "abs": (lambda m, F, a: a.abs(), [((2, 3), "a")]),
    "clamp": (lambda m, F, a: a.clamp(-0.5, 0.5), [((4, 3), "n")]),
    "clamp_min": (lambda m, F, a: a.clamp(min=0.1), [((6,), "n")]),
    "maximum": (lambda m, F, a, b: m.maximum(a, b), [((3, 4), "n"), ((4,), "n")]),
    "minimum": (lambda m, F, a, b: m.minimum(a, b), [((3, 1), "n"), ((3, 4), "n")]),
    "where": (lambda m, F, a, b: m.where(m.tensor(MASK), a, b), [((2, 3), "n"), ((3,), "n")]),
    "relu": (lambda m, F, a: a.relu(), [((3, 4), "a")]),
    "leaky_relu": (lambda m, F, a: F.leaky_relu(a, 0.2), [((3, 4), "a")]),
    "sigmoid": (lambda m, F, a: a.sigmoid(), [((3, 4), "n")]),
    "tanh": (lambda m, F, a: a.tanh(), [((3, 4), "n")]),
    "gelu": (lambda m, F, a: F.gelu(a), [((3, 4), "n")]),
    "gelu_tanh": (lambda m, F, a: F.gelu(a, approximate="tanh"), [((5,), "n")]),
    "softplus": (lambda m, F, a: F.softplus(a), [((5,), "n")]),
    "silu": (lambda m, F, a: F.silu(a), [((5,), "n")]),
    "softmax_last": (lambda m, F, a: a.softmax(-1), [((3, 4), "n")]),
    "softmax_dim0": (lambda m, F, a: a.softmax(0), [((3, 4), "n")]),
    "softmax_3d_mid": (lambda m, F, a: F.softmax(a, dim=1), [((2, 3, 4), "n")]),
    "softmax_1d": (lambda m, F, a: a.softmax(0), [((5,), "n")]),
    "log_softmax": (lambda m, F, a: a.log_softmax(1), [((3, 4), "n")]),
    "log_softmax_3d": (lambda m, F, a: F.log_softmax(a, dim=0), [((2, 3, 2), "n")]),
    "sum_all": (lambda m, F, a: a.sum(), [((2, 3, 4), "n")]),
    "sum_dim": (lambda m, F, a: a.sum(1), [((2, 3, 4), "n")]),
    "sum_dims_keep": (lambda m, F, a: a.sum((0, 2), keepdim=True), [((2, 3, 4), "n")]),
    "mean_all": (lambda m, F, a: a.mean(), [((3, 4), "n")]),
    "mean_dim": (lambda m, F, a: a.mean(-1, keepdim=True), [((3, 4), "n")]),
    "amax_all": (lambda m, F, a: a.amax(), [((3, 4), "n")]),
    "max_all": (lambda m, F, a: a.max(), [((3, 4), "n")]),
    "amax_dim": (lambda m, F, a: a.amax(1), [((3, 4), "n")]),
    "amin_dims": (lambda m, F, a: a.amin((0, 2), keepdim=True), [((2, 3, 2), "n")]),
    "max_dim_values": (lambda m, F, a: a.max(1).values, [((3, 4), "n")]),
    "min_dim_keep": (lambda m, F, a: a.min(0, keepdim=True).values, [((3, 4), "n")]),
    "var": (lambda m, F, a: a.var(), [((3, 4), "n")]),
    "var_dim_biased": (lambda m, F, a: a.var(1, unbiased=False), [((3, 4), "n")]),
    "std_dim": (lambda m, F, a: a.std(0, keepdim=True), [((3, 4), "n")]),
    "logsumexp": (lambda m, F, a: a.logsumexp(1), [((3, 4), "n")]),
    "logsumexp_keep": (lambda m, F, a: a.logsumexp((0, 1), keepdim=True), [((2, 3), "n")]),
    "reshape": (lambda m, F, a: a.reshape(4, -1) * 1.5, [((2, 3, 2), "n")]),
    "view_flatten": (lambda m, F, a: a.flatten(1), [((2, 3, 2), "n")]),
    "transpose": (lambda m, F, a: a.transpose(0, 2) * 2, [((2, 3, 4), "n")]),
    "permute": (lambda m, F, a: a.permute(2, 0, 1).exp(), [((2, 3, 4), "n")]),
    "T": (lambda m, F, a: a.T.exp(), [((2, 3), "n")]),
    "squeeze": (lambda m, F, a: a.squeeze(1).exp(), [((2, 1, 3), "n")]),
    "unsqueeze": (lambda m, F, a: a.unsqueeze(0) * 3, [((2, 3), "n")]),
    "expand": (lambda m, F, a: a.expand(4, 2, 3).exp(), [((2, 1), "n")]),
    "cat": (lambda m, F, a, b: m.cat([a, b, a], 1), [((2, 3), "n"), ((2, 1), "n")]),
    "stack": (lambda m, F, a, b: m.stack([a, b], -1), [((2, 3), "n"), ((2, 3), "n")]),
    "split": (lambda m, F, a: a.split(2, 1)[1] * 2, [((3, 5), "n")]),
    "chunk": (lambda m, F, a: a.chunk(2)[0].exp(), [((5, 2), "n")]),
    "getitem_basic": (lambda m, F, a: a[1:, ::2, 0], [((3, 4, 2), "n")]),
    "getitem_int": (lambda m, F, a: a[1], [((3, 4), "n")]),
    "getitem_array": (lambda m, F, a: a[ints(m, IDX)] * 2, [((3, 4), "n")]),
    "getitem_mixed": (lambda m, F, a: a[1:, ints(m, IDX)], [((3, 4), "n")]),
    "getitem_mask": (lambda m, F, a: a[m.tensor(MASK)], [((3, 2), "n")]),
    "gather": (lambda m, F, a: a.gather(1, ints(m, np.array([[0, 0], [2, 1], [1, 3]]))),
               [((3, 4), "n")]),
    "matmul": (lambda m, F, a, b: a @ b, [((3, 4), "n"), ((4, 2), "n")]),
    "matmul_vv": (lambda m, F, a, b: a @ b, [((4,), "n"), ((4,), "n")]),
    "matmul_vm": (lambda m, F, a, b: a @ b, [((4,), "n"), ((4, 3), "n")]),
    "matmul_mv": (lambda m, F, a, b: m.matmul(a, b), [((2, 4), "n"), ((4,), "n")]),
    "matmul_batched": (lambda m, F, a, b: a @ b, [((2, 1, 3, 4), "n"), ((3, 4, 2), "n")]),
    "linear": (lambda m, F, x, w, b: F.linear(x, w, b), [((3, 4), "n"), ((2, 4), "n"),
                                                         ((2,), "n")]),
    "linear_nobias": (lambda m, F, x, w: F.linear(x, w), [((3, 4), "n"), ((2, 4), "n")]),
    "linear_relu": (lambda m, F, x, w, b: linear_act(F, x, w, b, "relu"),
                    [((3, 4), "n"), ((2, 4), "n"), ((2,), "n")]),
    "linear_sigmoid": (lambda m, F, x, w, b: linear_act(F, x, w, b, "sigmoid"),
                       [((3, 4), "n"), ((5, 4), "n"), ((5,), "n")]),
    "linear_tanh_nobias": (lambda m, F, x, w: linear_act(F, x, w, None, "tanh"),
                           [((3, 4), "n"), ((2, 4), "n")]),
    "linear_tanh_3d": (lambda m, F, x, w, b: linear_act(F, x, w, b, "tanh"),
                       [((2, 3, 4), "n"), ((2, 4), "n"), ((2,), "n")]),
    "linear_3d": (lambda m, F, x, w, b: F.linear(x, w, b), [((2, 3, 4), "n"), ((2, 4), "n"),
                                                            ((2,), "n")]),
    "cross_entropy": (lambda m, F, x: F.cross_entropy(x, ints(m, TARGET)), [((3, 4), "n")]),
    "cross_entropy_sum": (lambda m, F, x: F.cross_entropy(x, ints(m, TARGET), reduction="sum"),
                          [((3, 4), "n")]),
    "cross_entropy_none": (lambda m, F, x: F.cross_entropy(x, ints(m, TARGET),
                                                           reduction="none"), [((3, 4), "n")]),
    "cross_entropy_weight": (lambda m, F, x: F.cross_entropy(x, ints(m, TARGET),
                                                             weight=floats(m, W4)),
                             [((3, 4), "n")]),
    "cross_entropy_ignore": (lambda m, F, x: F.cross_entropy(
        x, ints(m, np.array([1, -100, 3])), weight=floats(m, W4)), [((3, 4), "n")]),
    "cross_entropy_smooth": (lambda m, F, x: F.cross_entropy(x, ints(m, TARGET),
                                                             label_smoothing=0.2),
                             [((3, 4), "n")]),
    "cross_entropy_all_options": (lambda m, F, x: F.cross_entropy(
        x, ints(m, np.array([1, 2, 3])), weight=floats(m, W4), ignore_index=2,
        label_smoothing=0.1), [((3, 4), "n")]),
    "cross_entropy_smooth_sum_ignore": (lambda m, F, x: F.cross_entropy(
        x, ints(m, np.array([1, 2, 3])), ignore_index=2, label_smoothing=0.3,
        reduction="sum"), [((3, 4), "n")]),
    "cross_entropy_spatial": (lambda m, F, x: F.cross_entropy(
        x, ints(m, np.array([[0, 2], [1, 1]])), reduction="none"), [((2, 3, 2), "n")]),
    "cross_entropy_1d": (lambda m, F, x: F.cross_entropy(x, ints(m, np.array(2))),
                         [((4,), "n")]),
    "cross_entropy_probs": (lambda m, F, x, y: F.cross_entropy(x, y.softmax(1)),
                            [((3, 4), "n"), ((3, 4), "n")]),
    "nll_loss": (lambda m, F, x: F.nll_loss(x.log_softmax(1), ints(m, TARGET),
                                            weight=floats(m, W4)), [((3, 4), "n")]),
    "mse_loss": (lambda m, F, a, b: F.mse_loss(a, b), [((3, 2), "n"), ((3, 2), "n")]),
    "l1_loss": (lambda m, F, a, b: F.l1_loss(a, b, reduction="sum"),
                [((3, 2), "n"), ((3, 2), "n")]),
    "huber_loss": (lambda m, F, a, b: F.huber_loss(a, b, delta=0.7),
                   [((4, 3), "n"), ((4, 3), "n")]),
    "smooth_l1_loss": (lambda m, F, a, b: F.smooth_l1_loss(a, b, beta=0.5),
                       [((4, 3), "n"), ((4, 3), "n")]),
    "bce": (lambda m, F, p, y: F.binary_cross_entropy(p, y), [((3, 2), "u"), ((3, 2), "u")]),
    "bce_logits": (lambda m, F, x, y: F.binary_cross_entropy_with_logits(x, y),
                   [((3, 2), "n"), ((3, 2), "u")]),
    "bce_logits_posweight": (lambda m, F, x, y: F.binary_cross_entropy_with_logits(
        x, y, pos_weight=floats(m, np.array([2.0, 0.5])), reduction="sum"),
        [((3, 2), "n"), ((3, 2), "u")]),
    "layer_norm": (lambda m, F, x, w, b: F.layer_norm(x, (3,), w, b),
                   [((2, 3), "n"), ((3,), "n"), ((3,), "n")]),
    "composite_mlp": (lambda m, F, x, w1, w2: ((x @ w1).tanh() @ w2).sigmoid().mean(),
                      [((4, 3), "n"), ((3, 5), "n"), ((5, 2), "n")]),
}

# 0-sized and size-1 dims: shape edge cases that must neither crash nor give wrong gradients
EDGE_CASES = {
    "add_empty": (lambda m, F, a, b: a + b, [((0, 3), "n"), ((3,), "n")]),
    "mul_size1": (lambda m, F, a, b: a * b, [((1, 1), "n"), ((1,), "n")]),
    "sum_empty": (lambda m, F, a: a.sum(0), [((0, 4), "n")]),
    "mean_keep_size1": (lambda m, F, a: a.mean(0, keepdim=True), [((1, 3), "n")]),
    "matmul_empty_inner": (lambda m, F, a, b: a @ b, [((2, 0), "n"), ((0, 3), "n")]),
    "matmul_empty_rows": (lambda m, F, a, b: a @ b, [((0, 3), "n"), ((3, 2), "n")]),
    "softmax_empty_rows": (lambda m, F, a: a.softmax(1), [((0, 5), "n")]),
    "linear_empty_batch": (lambda m, F, x, w: F.linear(x, w), [((0, 3), "n"), ((2, 3), "n")]),
    "relu_0d": (lambda m, F, a: a.relu() * a, [((), "a")]),
    "reshape_empty": (lambda m, F, a: a.reshape(3, 0, 2), [((0, 6), "n")]),
    "cat_empty": (lambda m, F, a, b: m.cat([a, b]), [((0, 2), "n"), ((2, 2), "n")]),
    "getitem_empty": (lambda m, F, a: a[ints(m, np.zeros(0, np.int64))], [((3, 2), "n")]),
}
ALL = {**CASES, **EDGE_CASES}


def make_inputs(spec: list, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in spec:
        if kind == "p":
            x = rng.uniform(0.5, 2.0, shape)
        elif kind == "u":
            x = rng.uniform(0.05, 0.95, shape)
        elif kind == "a":
            x = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            x = rng.standard_normal(shape)
        out.append(np.asarray(x, dtype=np.float64))
    return out


@pytest.mark.parametrize("name", list(ALL))
def test_gradcheck(name, backend):
    fn, spec = ALL[name]
    xs = [mg.tensor(x, requires_grad=True) for x in make_inputs(spec)]
    assert mg.gradcheck(lambda *a: fn(mg, MF, *a), xs)


@pytest.mark.parametrize("name", list(ALL))
def test_matches_torch(name):
    torch = pytest.importorskip("torch", reason="torch not installed: reference comparison")
    import torch.nn.functional as TF
    fn, spec = ALL[name]
    arrays = make_inputs(spec, seed=1)
    ours = [mg.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    out, ref = fn(mg, MF, *ours), fn(torch, TF, *theirs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    cot = np.random.default_rng(2).standard_normal(out.shape)
    (out * mg.tensor(cot)).sum().backward()
    (ref * torch.tensor(cot)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy()), f"input {i}"
            continue
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("name", list(CASES))
def test_backends_agree_float32(name):
    """Forward and gradients agree between backends in float32 (the dtype the C kernels are
    fast in); NumPy is the specification."""
    names = mg.available_backends()
    if len(names) < 2:
        pytest.skip("only one backend available")
    fn, spec = CASES[name]
    arrays = make_inputs(spec, seed=3)
    results = {}
    for be in names:
        with mg.use_backend(be):
            xs = [mg.tensor(x.astype(np.float32), requires_grad=True) for x in arrays]
            out = fn(mg, MF, *xs)
            assert out.dtype == mg.float32
            out.sum().backward()
            results[be] = (out.detach().numpy(), [x.grad.numpy() if x.grad is not None
                                                  else None for x in xs])
    ref_out, ref_grads = results["numpy"]
    for be, (o, grads) in results.items():
        np.testing.assert_allclose(o, ref_out, rtol=2e-5, atol=2e-6, err_msg=be)
        for g, r in zip(grads, ref_grads):
            if r is not None:
                np.testing.assert_allclose(g, r, rtol=2e-4, atol=2e-5, err_msg=be)

