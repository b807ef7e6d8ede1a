"""Products (mm, bmm, mv, dot, inner, outer, the addmm family, tensordot, einsum, cross, kron,
multi_dot, trace, cdist, vecdot) against torch: one spec table of float64 values and gradients
with random cotangents on every backend, integer and bool results compared exactly (dtype too),
empty operands, in-place and out= forms, torch's errors, and gradcheck on every backend."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd.core import products

torch = pytest.importorskip("torch", reason="torch is the oracle for products")


def _linalg(L, name):
    """torch.linalg.<name> / micrograd.linalg.<name> (micrograd's from products.LINALG)."""
    return getattr(L.linalg, name)


def _ein(equation):
    return lambda L, *xs: L.einsum(equation, *xs)


def _cross_default_dim(L, a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dim=None's deprecation warning
        return L.cross(a, b)


# name -> (f(lib, *inputs), input shapes); every input is float64 and requires grad
SPEC = {
    "mm": (lambda L, a, b: L.mm(a, b), [(2, 3), (3, 4)]),
    "mm_method": (lambda L, a, b: a.mm(b), [(3, 1), (1, 2)]),
    "bmm": (lambda L, a, b: L.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    "bmm_method": (lambda L, a, b: a.bmm(b), [(1, 2, 2), (1, 2, 3)]),
    "mv": (lambda L, a, b: L.mv(a, b), [(3, 4), (4,)]),
    "dot": (lambda L, a, b: L.dot(a, b), [(5,), (5,)]),
    "vdot_method": (lambda L, a, b: a.vdot(b), [(4,), (4,)]),
    "inner_nd": (lambda L, a, b: L.inner(a, b), [(2, 3), (4, 5, 3)]),
    "inner_method_1d": (lambda L, a, b: a.inner(b), [(3,), (3,)]),
    "inner_0d": (lambda L, a, b: L.inner(a, b), [(), (2, 3)]),
    "outer": (lambda L, a, b: L.outer(a, b), [(3,), (4,)]),
    "ger_method": (lambda L, a, b: a.ger(b), [(2,), (3,)]),
    "addmm": (lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=-2.0),
              [(4,), (2, 3), (3, 4)]),
    "addmm_defaults": (lambda L, c, a, b: L.addmm(c, a, b), [(2, 4), (2, 3), (3, 4)]),
    "addmm_beta0": (lambda L, c, a, b: L.addmm(c, a, b, beta=0), [(2, 1), (2, 3), (3, 4)]),
    "addmm_method_0d": (lambda L, c, a, b: c.addmm(a, b, alpha=3), [(), (2, 3), (3, 4)]),
    "addmm_tensor_alpha": (lambda L, c, a, b: L.addmm(c, a, b, alpha=L.tensor(-0.5)),
                           [(2, 4), (2, 3), (3, 4)]),
    "addmv": (lambda L, c, a, b: L.addmv(c, a, b, beta=2, alpha=0.5), [(3,), (3, 4), (4,)]),
    "addmv_method_bcast": (lambda L, c, a, b: c.addmv(a, b), [(1,), (3, 4), (4,)]),
    "addbmm": (lambda L, c, a, b: L.addbmm(c, a, b, beta=-1, alpha=2),
               [(2, 4), (3, 2, 5), (3, 5, 4)]),
    "addbmm_method_bcast": (lambda L, c, a, b: c.addbmm(a, b), [(4,), (3, 2, 5), (3, 5, 4)]),
    "baddbmm": (lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.25, alpha=1.5),
                [(3, 2, 4), (3, 2, 5), (3, 5, 4)]),
    "baddbmm_bcast": (lambda L, c, a, b: c.baddbmm(a, b), [(2, 1), (3, 2, 5), (3, 5, 4)]),
    "baddbmm_beta0": (lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.0),
                      [(3, 2, 4), (3, 2, 5), (3, 5, 4)]),
    "addr": (lambda L, c, a, b: L.addr(c, a, b, beta=3, alpha=-0.5), [(3, 4), (3,), (4,)]),
    "addr_method_bcast": (lambda L, c, a, b: c.addr(a, b), [(4,), (3,), (4,)]),
    "tensordot_2": (lambda L, a, b: L.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    "tensordot_0": (lambda L, a, b: L.tensordot(a, b, 0), [(2, 3), (2,)]),
    "tensordot_lists": (lambda L, a, b: L.tensordot(a, b, ([0, 2], [2, 1])),
                        [(2, 3, 4), (5, 4, 2)]),
    "tensordot_neg_dims": (lambda L, a, b: L.tensordot(a, b, dims=([-1], [1])),
                           [(2, 3, 4), (3, 4, 5)]),
    "tensordot_tensor_dims": (lambda L, a, b: L.tensordot(a, b, L.tensor([[1], [0]])),
                              [(2, 3, 4), (3, 4, 5)]),
    "tensordot_size1": (lambda L, a, b: L.tensordot(a, b, ([1], [0])), [(2, 1), (3, 4)]),
    "einsum_matmul": (_ein("ij,jk->ik"), [(2, 3), (3, 4)]),
    "einsum_implicit": (_ein("ij,jk"), [(2, 3), (3, 4)]),
    "einsum_implicit_sorted": (_ein("ba,cb"), [(2, 3), (4, 2)]),
    "einsum_spaces": (_ein(" b i j , b j k -> b k i "), [(2, 3, 4), (2, 4, 5)]),
    "einsum_list": (lambda L, a, b: L.einsum("i,i->", [a, b]), [(4,), (4,)]),
    "einsum_tuple": (lambda L, a, b: L.einsum("ij,ij->i", (a, b)), [(2, 3), (2, 3)]),
    "einsum_sublist": (lambda L, a, b: L.einsum(a, [0, 1], b, [1, 2], [0, 2]),
                       [(2, 3), (3, 4)]),
    "einsum_sublist_ellipsis": (lambda L, a, b: L.einsum(a, [..., 1], b, [1, 27]),
                                [(5, 2, 3), (3, 4)]),
    "einsum_trace": (_ein("ii"), [(3, 3)]),
    "einsum_diagonal": (_ein("ii->i"), [(3, 3)]),
    "einsum_diagonal_3": (_ein("iji->ji"), [(3, 2, 3)]),
    "einsum_diag_times": (_ein("ii,i->i"), [(3, 3), (3,)]),
    "einsum_transpose": (_ein("ijk->kij"), [(2, 3, 4)]),
    "einsum_sum_all": (_ein("ij->"), [(2, 3)]),
    "einsum_sum_dim": (_ein("ijk->ik"), [(2, 3, 4)]),
    "einsum_outer": (_ein("i,j->ij"), [(3,), (4,)]),
    "einsum_hadamard": (_ein("ij,ij->ij"), [(2, 3), (2, 3)]),
    "einsum_batch": (_ein("bij,bjk->bik"), [(3, 2, 4), (3, 4, 5)]),
    "einsum_batch_out_first": (_ein("bij,bjk->kbi"), [(3, 2, 4), (3, 4, 5)]),
    "einsum_ellipsis": (_ein("...ij,...jk->...ik"), [(5, 2, 3), (3, 4)]),
    "einsum_ellipsis_bcast": (_ein("...ij,...jk"), [(5, 1, 2, 3), (6, 3, 4)]),
    "einsum_ellipsis_middle": (_ein("i...j->j...i"), [(2, 3, 4, 5)]),
    "einsum_ellipsis_summed": (_ein("...i->i"), [(3, 2, 4)]),
    "einsum_ellipsis_implicit": (_ein("i...,i"), [(2, 3, 4), (2,)]),
    "einsum_three": (_ein("ij,jk,kl->il"), [(2, 3), (3, 4), (4, 5)]),
    "einsum_bilinear": (_ein("bn,anm,bm->ba"), [(2, 3), (4, 3, 5), (2, 5)]),
    "einsum_lone_dims": (_ein("ijk,jl->il"), [(2, 3, 4), (3, 5)]),
    "einsum_shared_later": (_ein("ij,kl,jl->ik"), [(2, 3), (4, 5), (3, 5)]),
    "einsum_size1_bcast": (_ein("ij,jk->ik"), [(2, 1), (3, 4)]),
    "einsum_size1_batch": (_ein("bij,bjk->bik"), [(1, 2, 3), (4, 3, 5)]),
    "einsum_uppercase": (_ein("Ab,bA"), [(2, 3), (3, 2)]),
    "einsum_scalar": (_ein(",i->i"), [(), (3,)]),
    "cross_dim0": (lambda L, a, b: L.cross(a, b, dim=0), [(3, 4), (3, 4)]),
    "cross_method_neg_dim": (lambda L, a, b: a.cross(b, -1), [(2, 3), (2, 3)]),
    "cross_bcast": (lambda L, a, b: L.cross(a, b, dim=0), [(3, 1), (3, 5)]),
    "cross_default_dim": (_cross_default_dim, [(4, 3, 3), (4, 3, 3)]),
    "linalg_cross": (lambda L, a, b: _linalg(L, "cross")(a, b), [(4, 3), (1, 3)]),
    "linalg_cross_dim": (lambda L, a, b: _linalg(L, "cross")(a, b, dim=0), [(3, 2), (3, 2)]),
    "kron": (lambda L, a, b: L.kron(a, b), [(2, 3), (4, 5)]),
    "kron_ranks_method": (lambda L, a, b: a.kron(b), [(3,), (2, 4, 2)]),
    "kron_0d": (lambda L, a, b: L.kron(a, b), [(), (2, 3)]),
    "multi_dot": (lambda L, a, b, c, d: _linalg(L, "multi_dot")([a, b, c, d]),
                  [(5, 2), (2, 6), (6, 3), (3, 4)]),
    "multi_dot_vectors": (lambda L, a, b, c: _linalg(L, "multi_dot")((a, b, c)),
                          [(3,), (3, 4), (4,)]),
    "multi_dot_two": (lambda L, a, b: _linalg(L, "multi_dot")([a, b]), [(3,), (3, 2)]),
    "trace": (lambda L, a: L.trace(a), [(3, 3)]),
    "trace_tall_method": (lambda L, a: a.trace(), [(4, 2)]),
    "trace_wide": (lambda L, a: L.trace(a), [(2, 5)]),
    "cdist": (lambda L, a, b: L.cdist(a, b), [(3, 4), (5, 4)]),
    "cdist_p1": (lambda L, a, b: L.cdist(a, b, p=1), [(3, 4), (5, 4)]),
    "cdist_p3": (lambda L, a, b: L.cdist(a, b, p=3), [(3, 4), (5, 4)]),
    "cdist_p_half": (lambda L, a, b: L.cdist(a, b, p=0.5), [(3, 4), (5, 4)]),
    "cdist_p_inf": (lambda L, a, b: L.cdist(a, b, p=float("inf")), [(3, 4), (5, 4)]),
    "cdist_p0": (lambda L, a, b: L.cdist(a, b, p=0), [(3, 4), (5, 4)]),
    "cdist_batch_bcast": (lambda L, a, b: L.cdist(a, b), [(2, 1, 3, 4), (5, 2, 4)]),
    "cdist_mm_mode": (lambda L, a, b: L.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                      [(3, 2), (4, 2)]),
    "vecdot": (lambda L, a, b: _linalg(L, "vecdot")(a, b), [(2, 3), (3,)]),
    "vecdot_dim": (lambda L, a, b: _linalg(L, "vecdot")(a, b, dim=0), [(3, 2), (3, 1)]),
}


def _inputs(name: str, shapes: list) -> list:
    rng = np.random.default_rng(sum(map(ord, name)))
    return [rng.standard_normal(s) for s in shapes]


def _compare_gradients(xs: list, txs: list, rtol: float = 1e-10) -> None:
    for x, tx in zip(xs, txs):
        if tx.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy())
        else:
            assert x.grad is not None and x.grad.shape == tuple(tx.grad.shape)
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", list(SPEC))
def test_values_and_gradients_match_torch(backend, name):
    fn, shapes = SPEC[name]
    arrays = _inputs(name, shapes)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(mg, *xs), fn(torch, *txs)
    assert out.shape == tuple(tout.shape) and out.dtype == mg.float64
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    cot = np.random.default_rng(1).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    _compare_gradients(xs, txs)


@pytest.mark.parametrize("name", list(SPEC))
def test_gradcheck_on_every_backend(backend, name):
    fn, shapes = SPEC[name]
    if name == "cdist_p0":
        pytest.skip("p = 0 counts nonzeros: piecewise constant, its gradient is 0 (above)")
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(name, shapes)]
    assert mg.gradcheck(lambda *t: fn(mg, *t), xs)


I32, I64, B = "int32", "int64", "bool"


def _ints(dtype, *shape, seed=0):
    if dtype == B:
        return np.random.default_rng(seed).integers(0, 2, shape).astype(bool)
    return np.random.default_rng(seed).integers(-4, 5, shape).astype(dtype)


# name -> f(lib) on integer / bool operands: values and dtypes exactly torch's
EXACT = {
    "mm_int64": lambda L: L.mm(L.tensor(_ints(I64, 2, 3)), L.tensor(_ints(I64, 3, 4, seed=1))),
    "mm_int32": lambda L: L.tensor(_ints(I32, 2, 3)).mm(L.tensor(_ints(I32, 3, 2, seed=1))),
    "bmm_int": lambda L: L.bmm(L.tensor(_ints(I64, 2, 2, 3)), L.tensor(_ints(I64, 2, 3, 2))),
    "mv_int": lambda L: L.mv(L.tensor(_ints(I64, 2, 3)), L.tensor(_ints(I64, 3, seed=2))),
    "dot_int32": lambda L: L.dot(L.tensor(_ints(I32, 4)), L.tensor(_ints(I32, 4, seed=1))),
    "inner_int32": lambda L: L.inner(L.tensor(_ints(I32, 2, 3)), L.tensor(_ints(I32, 3))),
    "inner_0d_promotes": lambda L: L.inner(L.tensor(2), L.tensor([[0.5, 1.5]])),
    "outer_promotes": lambda L: L.outer(L.tensor([1, 2]), L.tensor([0.5, 1.0, 2.0])),
    "addmm_int_float_coefficients": lambda L: L.addmm(
        L.tensor(_ints(I64, 2, 2)), L.tensor(_ints(I64, 2, 3)), L.tensor(_ints(I64, 3, 2)),
        beta=2.7, alpha=-1.5),
    "addmv_int": lambda L: L.addmv(L.tensor(_ints(I64, 2)), L.tensor(_ints(I64, 2, 3)),
                                   L.tensor(_ints(I64, 3)), beta=3, alpha=2),
    "baddbmm_int": lambda L: L.baddbmm(L.tensor(_ints(I32, 1, 2, 2)),
                                       L.tensor(_ints(I32, 1, 2, 3)),
                                       L.tensor(_ints(I32, 1, 3, 2)), alpha=2),
    "addr_int": lambda L: L.addr(L.tensor(_ints(I64, 2, 3)), L.tensor(_ints(I64, 2)),
                                 L.tensor(_ints(I64, 3)), alpha=2),
    "addr_promotes": lambda L: L.addr(L.tensor([[1.0, 2.0]]), L.tensor([1, 2]),
                                      L.tensor([3, 4]), alpha=1.5),
    "addr_bool": lambda L: L.addr(L.tensor(_ints(B, 3, 2)), L.tensor(_ints(B, 3, seed=1)),
                                  L.tensor(_ints(B, 2, seed=2))),
    "addr_bool_beta_false": lambda L: L.addr(L.tensor(_ints(B, 3, 2)), L.tensor(_ints(B, 3)),
                                             L.tensor(_ints(B, 2)), beta=False),
    "tensordot_int": lambda L: L.tensordot(L.tensor(_ints(I64, 2, 3)), L.tensor(_ints(I64, 3)),
                                           1),
    "einsum_int": lambda L: L.einsum("ij,jk->ik", L.tensor(_ints(I64, 2, 3)),
                                     L.tensor(_ints(I64, 3, 4))),
    "einsum_int32_contraction": lambda L: L.einsum("ijk,jk->i", L.tensor(_ints(I32, 2, 3, 3)),
                                                   L.tensor(_ints(I32, 3, 3))),
    "einsum_int32_sum_promotes": lambda L: L.einsum("ij->", L.tensor(_ints(I32, 2, 3))),
    "einsum_int32_diagonal_keeps": lambda L: L.einsum("ii->i", L.tensor(_ints(I32, 3, 3))),
    "einsum_int32_lone_dim": lambda L: L.einsum("ij,i->i", L.tensor(_ints(I32, 2, 3)),
                                                L.tensor(_ints(I32, 2))),
    "einsum_bool_product": lambda L: L.einsum("i,i->i", L.tensor(_ints(B, 4)),
                                              L.tensor(_ints(B, 4, seed=1))),
    "einsum_mixed_float_product": lambda L: L.einsum("i,i->i", L.tensor([1.0, 2.0]),
                                                     L.tensor([1.0, 3.0], dtype=L.float64)),
    "cross_int": lambda L: L.cross(L.tensor(_ints(I64, 3)), L.tensor(_ints(I64, 3, seed=1)),
                                   dim=0),
    "kron_bool": lambda L: L.kron(L.tensor(_ints(B, 2, 2)), L.tensor(_ints(B, 2, seed=1))),
    "kron_promotes": lambda L: L.kron(L.tensor([1, 2]), L.tensor([0.5, 1.0])),
    "multi_dot_int": lambda L: _linalg(L, "multi_dot")([L.tensor(_ints(I64, 2, 3)),
                                                        L.tensor(_ints(I64, 3, 3)),
                                                        L.tensor(_ints(I64, 3))]),
    "trace_int32_sums_to_int64": lambda L: L.trace(L.tensor(_ints(I32, 3, 4))),
    "mm_float32": lambda L: L.mm(L.tensor([[1.5, 2.0]]), L.tensor([[2.0], [0.25]])),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_integer_and_bool_results_match_torch(backend, name):
    out, tout = EXACT[name](mg), EXACT[name](torch)
    assert out.dtype.name == str(tout.dtype).replace("torch.", ""), name
    np.testing.assert_array_equal(out.numpy(), tout.numpy())


# name -> (f(lib, *inputs), shapes) with a zero-size dim: the sum over nothing is 0
EMPTY = {
    "mm_k0": (lambda L, a, b: L.mm(a, b), [(2, 0), (0, 3)]),
    "mm_n0": (lambda L, a, b: L.mm(a, b), [(0, 2), (2, 3)]),
    "bmm_k0": (lambda L, a, b: L.bmm(a, b), [(2, 3, 0), (2, 0, 4)]),
    "bmm_b0": (lambda L, a, b: L.bmm(a, b), [(0, 3, 2), (0, 2, 4)]),
    "dot_empty": (lambda L, a, b: L.dot(a, b), [(0,), (0,)]),
    "mv_k0": (lambda L, a, b: L.mv(a, b), [(3, 0), (0,)]),
    "inner_k0": (lambda L, a, b: L.inner(a, b), [(2, 0), (3, 0)]),
    "addmm_k0": (lambda L, c, a, b: L.addmm(c, a, b, beta=2), [(2, 3), (2, 0), (0, 3)]),
    "addbmm_b0": (lambda L, c, a, b: L.addbmm(c, a, b), [(2, 3), (0, 2, 4), (0, 4, 3)]),
    "baddbmm_k0": (lambda L, c, a, b: L.baddbmm(c, a, b), [(2, 2, 3), (2, 2, 0), (2, 0, 3)]),
    "tensordot_k0": (lambda L, a, b: L.tensordot(a, b, 1), [(2, 0), (0, 3)]),
    "einsum_k0": (_ein("ij,jk->ik"), [(2, 0), (0, 4)]),
    "einsum_batch_k0": (_ein("bij,bjk->bik"), [(2, 3, 0), (2, 0, 4)]),
    "einsum_sum_empty": (_ein("ij->i"), [(3, 0)]),
    "kron_empty": (lambda L, a, b: L.kron(a, b), [(0, 2), (2, 3)]),
    "trace_empty": (lambda L, a: L.trace(a), [(0, 3)]),
    "cdist_m0": (lambda L, a, b: L.cdist(a, b), [(2, 0), (3, 0)]),
    "cdist_p0_rows": (lambda L, a, b: L.cdist(a, b), [(0, 3), (2, 3)]),
    "cross_empty": (lambda L, a, b: L.cross(a, b, dim=1), [(0, 3), (0, 3)]),
    "multi_dot_k0": (lambda L, a, b, c: _linalg(L, "multi_dot")([a, b, c]),
                     [(2, 0), (0, 3), (3, 2)]),
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_operands_match_torch(backend, name):
    fn, shapes = EMPTY[name]
    arrays = _inputs(name, shapes)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(mg, *xs), fn(torch, *txs)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    cot = np.random.default_rng(2).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    _compare_gradients(xs, txs)


def test_beta_zero_ignores_nan_and_sends_a_zero_gradient():
    c = mg.tensor([[float("nan"), float("inf")]], dtype=mg.float64, requires_grad=True)
    a, b = mg.ones(3, 2, dtype=mg.float64), mg.ones(2, 2, dtype=mg.float64)
    y = mg.addmm(c, a, b, beta=0)
    assert y.tolist() == [[2.0, 2.0]] * 3
    y.sum().backward()
    assert c.grad.tolist() == [[0.0, 0.0]]
    nan = mg.full((3, 4), float("nan"))
    assert not mg.addr(nan, mg.ones(3), mg.ones(4), beta=0).isnan().any()


X23 = np.random.default_rng(4).standard_normal((2, 3))
X33 = np.random.default_rng(5).standard_normal((3, 3))


@pytest.mark.parametrize("name,start,args,kwargs", [
    ("addmm_", X23, lambda L: (L.tensor(X23), L.tensor(X33)), {"beta": 0.5, "alpha": 2}),
    ("addmv_", X33[0], lambda L: (L.tensor(X33), L.tensor(X33[1])), {}),
    ("addbmm_", X23, lambda L: (L.tensor(X23[None]), L.tensor(X33[None])), {"alpha": -1}),
    ("baddbmm_", X23[None], lambda L: (L.tensor(X23[None]), L.tensor(X33[None])), {"beta": 2}),
    ("addr_", X33, lambda L: (L.tensor(X33[0]), L.tensor(X33[1])), {"alpha": 3}),
])
def test_in_place_forms_match_torch(name, start, args, kwargs):
    x, tx = mg.tensor(start), torch.tensor(start)
    assert getattr(x, name)(*args(mg), **kwargs) is x
    getattr(tx, name)(*args(torch), **kwargs)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12)


def test_in_place_form_records_the_gradient_as_torch():
    w, tw = mg.tensor(X23, requires_grad=True), torch.tensor(X23, requires_grad=True)
    m, tm = mg.tensor(X33, requires_grad=True), torch.tensor(X33, requires_grad=True)
    y, ty = w * 1, tw * 1
    y.addmm_(w * 2, m, beta=0.5)
    ty.addmm_(tw * 2, tm, beta=0.5)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _compare_gradients([w, m], [tw, tm])


def test_in_place_form_keeps_the_shape():
    with pytest.raises(RuntimeError, match="addmm_"):  # torch: "Bad in-place call"
        mg.ones(4).addmm_(mg.ones(2, 3), mg.ones(3, 4))


@pytest.mark.parametrize("call", [
    lambda L, o: L.mm(L.tensor(X23), L.tensor(X33), out=o),
    lambda L, o: L.addmm(L.tensor(X23), L.tensor(X23), L.tensor(X33), beta=2, out=o),
    lambda L, o: L.tensordot(L.tensor(X23), L.tensor(X33), 1, out=o),
    lambda L, o: L.outer(L.tensor(X23[0, :2]), L.tensor(X33[0]), out=o),
    lambda L, o: L.kron(L.tensor(X23[:1, :1]), L.tensor(X23), out=o),
    lambda L, o: _linalg(L, "multi_dot")([L.tensor(X23), L.tensor(X33)], out=o),
])
def test_out_argument_writes_the_result(call):
    out, tout = mg.empty(2, 3, dtype=mg.float64), torch.empty(2, 3, dtype=torch.float64)
    assert call(mg, out) is out
    call(torch, tout)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-12)


def test_out_dtype_rules_as_torch():
    with pytest.raises(RuntimeError, match="dtype float32, but got float64"):
        mg.mm(mg.ones(2, 2), mg.ones(2, 2), out=mg.empty(2, 2, dtype=mg.float64))
    widened = mg.outer(mg.ones(2), mg.ones(2), out=mg.empty(2, 2, dtype=mg.float64))
    assert widened.dtype == mg.float64  # outer promotes: its out may be wider, as torch's
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        mg.mm(mg.ones(2, 2, requires_grad=True), mg.ones(2, 2), out=mg.empty(2, 2))


def test_cross_default_dim_warns_and_takes_the_first_dim_of_size_3():
    a, b = np.random.default_rng(6).standard_normal((2, 3, 3, 4))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        got = mg.cross(mg.tensor(a), mg.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="no dimension of size 3"):
        with pytest.warns(UserWarning):
            mg.cross(mg.ones(2, 4), mg.ones(2, 4))


def test_chain_matmul_warns_and_multiplies():
    mats = [np.random.default_rng(i).standard_normal(s) for i, s in
            enumerate([(2, 3), (3, 4), (4, 2)])]
    with pytest.warns(UserWarning, match="multi_dot"):
        got = mg.chain_matmul(*[mg.tensor(m) for m in mats])
    np.testing.assert_allclose(got.numpy(), mats[0] @ mats[1] @ mats[2], rtol=1e-12)
    with pytest.warns(UserWarning):
        one = mg.chain_matmul(mg.tensor(mats[0]))
    np.testing.assert_array_equal(one.numpy(), mats[0])


def test_multi_dot_picks_the_cheapest_order():
    # (10x1000)(1000x2)(2x1000): ((AB)C) costs 40,000 multiply-adds, (A(BC)) 12,000,000
    split = products._chain_order([10, 1000, 2, 1000])
    assert split[0][2] == 1
    split = products._chain_order([1000, 2, 1000, 10])
    assert split[0][2] == 0


def test_einsum_contracts_through_matmul(monkeypatch):
    calls = []
    real = products.matmul
    monkeypatch.setattr(products, "matmul", lambda a, b: calls.append((a.shape, b.shape))
                        or real(a, b))
    mg.einsum("bij,bjk->bik", mg.ones(3, 2, 4), mg.ones(3, 4, 5))
    mg.einsum("ij,jk->ik", mg.ones(2, 4), mg.ones(4, 5))
    assert calls == [((3, 2, 4), (3, 4, 5)), ((2, 4), (4, 5))]


def test_linalg_names():
    assert set(products.LINALG) == {"cross", "multi_dot", "vecdot"}
    for name, fn in products.LINALG.items():
        assert hasattr(torch.linalg, name) and inspect.unwrap(getattr(mg.linalg, name)) is fn


def test_tensor_methods_are_torch_tensor_methods():
    for name in products.TENSOR_METHODS:
        assert hasattr(torch.Tensor, name), name
        assert inspect.unwrap(getattr(mg.Tensor, name)) is products.TENSOR_METHODS[name]
    for name in products.__all__:  # unwrap: ops taking dim= also take axis= (core/methods.py)
        assert hasattr(torch, name), name
        assert inspect.unwrap(getattr(mg, name)) is getattr(products, name), name


ERRORS = [
    (lambda L: L.mm(L.ones(3), L.ones(3, 2)), RuntimeError, "self must be a 2-D tensor"),
    (lambda L: L.mm(L.ones(2, 3), L.ones(4, 2)), RuntimeError, r"\(2x3 and 4x2\)"),
    (lambda L: L.mm(L.ones(2, 3), L.ones(3, 2, dtype=L.float64)), RuntimeError,
     "float32, mat2 float64"),
    (lambda L: L.mm(L.ones(1, 1, dtype=L.bool), L.ones(1, 1, dtype=L.bool)),
     NotImplementedError, "bool"),
    (lambda L: L.mm([[1.0]], L.ones(1, 1)), TypeError, "must be Tensor, not list"),
    (lambda L: L.bmm(L.ones(2, 3), L.ones(3, 2)), RuntimeError, "batch1 must be a 3-D"),
    (lambda L: L.bmm(L.ones(2, 2, 3), L.ones(3, 3, 2)), RuntimeError,
     r"\[2, 3\] for batch1 of shape \[2, 2, 3\].*\[3, 3, 2\]"),
    (lambda L: L.bmm(L.ones(1, 2, 2, 3), L.ones(1, 2, 3, 2)), RuntimeError, "3-D"),
    (lambda L: L.mv(L.ones(2, 3), L.ones(4)), RuntimeError, r"mat \(2x3\), vec \(4\)"),
    (lambda L: L.mv(L.ones(2, 3), L.ones(3, 1)), RuntimeError, "matrix and a vector"),
    (lambda L: L.dot(L.ones(2, 3), L.ones(3)), RuntimeError, "1D tensors expected.*2D and 1D"),
    (lambda L: L.dot(L.ones(3), L.ones(4)), RuntimeError, "3 and 4 elements"),
    (lambda L: L.vdot(L.ones(3), L.ones(3, dtype=L.float64)), RuntimeError, "same dtype"),
    (lambda L: L.inner(L.ones(2, 3), L.ones(4)), RuntimeError, r"\[2, 3\] and \[4\]"),
    (lambda L: L.outer(L.ones(2, 3), L.ones(4)), RuntimeError, "1-D argument self.*2-D"),
    (lambda L: L.addmm(L.ones(3), L.ones(2, 3), L.ones(3, 4)), RuntimeError,
     r"input of shape \[3\] cannot be expanded to .*\[2, 4\]"),
    (lambda L: L.addmm(L.ones(2, 4, dtype=L.float64), L.ones(2, 3), L.ones(3, 4)),
     RuntimeError, "input float64, mat1 float32"),
    (lambda L: L.addmm(L.ones(2, 2), L.ones(2, 2), L.ones(2, 2), alpha=L.tensor([2.0, 3.0])),
     TypeError, "alpha"),
    (lambda L: L.addmm(L.ones(2, 2), L.ones(2, 2), L.ones(2, 2), beta="1"), TypeError,
     "beta"),
    (lambda L: L.addmv(L.ones(3), L.ones(2, 3), L.ones(3)), RuntimeError, r"\[3\].*\[2\]"),
    (lambda L: L.addbmm(L.ones(2, 4), L.ones(5, 2, 3), L.ones(4, 3, 4)), RuntimeError,
     r"\[5, 3\]"),
    (lambda L: L.baddbmm(L.ones(3, 4), L.ones(5, 2, 3), L.ones(5, 3, 4)), RuntimeError,
     r"\[3, 4\] cannot be expanded to .*\[5, 2, 4\]"),
    (lambda L: L.addr(L.ones(2, 2, dtype=L.int64), L.ones(2, dtype=L.int64),
                     L.ones(2, dtype=L.int64), alpha=1.5), RuntimeError,
     "argument alpha must not be a floating point"),
    (lambda L: L.addr(L.ones(2, 2), L.ones(2), L.ones(2), beta=True), RuntimeError,
     "Boolean beta"),
    (lambda L: L.addr(L.ones(2, 4), L.ones(3), L.ones(4)), RuntimeError, r"\[2, 4\]"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(2, 3), ([0], [1])), RuntimeError,
     "size 2 in dim 0 and second has size 3 in dim 1"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3), -1), RuntimeError, "dims >= 0"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3), 2), RuntimeError, "dims=2"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3, 3), ([1, 0], [0])), RuntimeError,
     "same length"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3, 3), ([1, 1], [0, 1])), RuntimeError,
     "dim 1 appears multiple times"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3), ([2], [0])), IndexError, "dim 2"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3), (1, 0)), TypeError, "pair of lists"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3), 1.0), RuntimeError, "dims=1.0"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(3, 2, dtype=L.float64), 1), RuntimeError,
     "same dtype"),
    (lambda L: L.einsum("i,i->i", L.ones(2), L.ones(3)), RuntimeError,
     "subscript i has size 3 for operand 1 .* previously seen size 2"),
    (lambda L: L.einsum("...,...", L.ones(2), L.ones(3)), RuntimeError,
     "dimension 0 covered by the ellipsis has size 3"),
    (lambda L: L.einsum("ii->i", L.ones(3, 4)), RuntimeError,
     "subscript i is repeated for operand 0 but the sizes don't match, 4 != 3"),
    (lambda L: L.einsum("i,i->i", L.ones(2, 2), L.ones(2)), RuntimeError,
     r"subscripts in the equation \(1\) does not match the number of dimensions \(2\) for "
     "operand 0"),
    (lambda L: L.einsum("ij...->i", L.ones(2)), RuntimeError, r"\(2\) is more than .*\(1\)"),
    (lambda L: L.einsum("i->i", L.ones(2), L.ones(2)), RuntimeError, "more operands"),
    (lambda L: L.einsum("i,i->i", L.ones(2)), RuntimeError, "fewer operands"),
    (lambda L: L.einsum("i->i"), ValueError, "at least one operand"),
    (lambda L: L.einsum("i1->i", L.ones(2, 2)), RuntimeError, "invalid subscript given at "
     "index 1"),
    (lambda L: L.einsum("ij->i-", L.ones(2, 2)), RuntimeError, "at index 5"),
    (lambda L: L.einsum("i->j", L.ones(2)), RuntimeError, "output subscript j does not appear"),
    (lambda L: L.einsum("i->ii", L.ones(2)), RuntimeError, "appears more than once"),
    (lambda L: L.einsum("......", L.ones(2)), RuntimeError, "ellipsis was already found"),
    (lambda L: L.einsum("i.->i", L.ones(2)), RuntimeError, "not part of any ellipsis"),
    (lambda L: L.einsum(". ..i->i", L.ones(2, 3)), RuntimeError, "not part of any ellipsis"),
    (lambda L: L.einsum("i,i", L.ones(2), 3), TypeError, "operand 1"),
    (lambda L: L.einsum(3, L.ones(2)), TypeError, "must be str"),
    (lambda L: L.einsum(L.ones(2), [60]), ValueError, r"\[0, 52\)"),
    (lambda L: L.einsum("i,i", L.ones(2), L.ones(2, dtype=L.float64)), RuntimeError,
     "float32 and float64"),
    (lambda L: L.einsum("ij,j->", L.ones(2, 3, dtype=L.int32), L.ones(3, dtype=L.int32)),
     RuntimeError, "int64 and int32"),  # torch's int64 sum of a lone dim meets an int32
    (lambda L: L.einsum("i,i", L.ones(2, dtype=L.bool), L.ones(2, dtype=L.bool)),
     NotImplementedError, "bool"),
    (lambda L: L.cross(L.ones(3, 4), L.ones(3, 4), dim=1), RuntimeError,
     "dimension 1 must have length 3. Got 4 and 4"),
    (lambda L: L.cross(L.ones(3), L.ones(2, 3), dim=-1), RuntimeError,
     "same number of dimensions"),
    (lambda L: L.cross(L.ones(3, 4), L.ones(3, 5), dim=0), RuntimeError,
     r"\[3, 4\] and \[3, 5\] cannot be broadcast"),
    (lambda L: L.cross(L.ones(3), L.ones(3), dim=1), IndexError, "dim 1 is out of range"),
    (lambda L: L.cross(L.ones(3), L.ones(3, dtype=L.float64), dim=0), RuntimeError,
     "same dtype"),
    (lambda L: L.cross(L.ones(3, dtype=L.bool), L.ones(3, dtype=L.bool), dim=0),
     NotImplementedError, "bool"),
    (lambda L: _linalg(L, "cross")(L.ones(3, 4), L.ones(3, 4)), RuntimeError,
     "dimension -1 must have length 3"),
    (lambda L: _linalg(L, "multi_dot")([L.ones(2, 3)]), RuntimeError,
     "at least 2 tensors but got 1"),
    (lambda L: _linalg(L, "multi_dot")([L.ones(2, 3), L.ones(2, 3, 4)]), RuntimeError,
     "last tensor must be 1D or 2D but got 3D"),
    (lambda L: _linalg(L, "multi_dot")([L.ones(2, 3), L.ones(3), L.ones(3, 4)]),
     RuntimeError, "tensor 1 must be 2D but got 1D"),
    (lambda L: _linalg(L, "multi_dot")([L.ones(2, 3), L.ones(4, 4), L.ones(4)]),
     RuntimeError, r"tensors 0 and 1 with shapes \[2, 3\] and \[4, 4\]"),
    (lambda L: _linalg(L, "multi_dot")([L.ones(2, 3), L.ones(3, 2, dtype=L.float64)]),
     RuntimeError, "same dtype"),
    (lambda L: _linalg(L, "vecdot")(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
     RuntimeError, "floating point"),
    (lambda L: _linalg(L, "vecdot")(L.ones(3), L.ones(3, dtype=L.float64)),
     RuntimeError, "same dtype"),
    (lambda L: L.trace(L.ones(3)), RuntimeError, "expected a matrix, but got tensor with dim 1"),
    (lambda L: L.trace(L.ones(2, 2, dtype=L.bool)), NotImplementedError, "bool"),
    (lambda L: L.cdist(L.ones(3), L.ones(4, 3)), RuntimeError, "X1 got: 1D"),
    (lambda L: L.cdist(L.ones(2, 3), L.ones(4, 2)), RuntimeError, "X1: 3 X2: 2"),
    (lambda L: L.cdist(L.ones(2, 3, dtype=L.int64), L.ones(4, 3)), RuntimeError,
     "floating-point dtypes, X1 got: int64"),
    (lambda L: L.cdist(L.ones(2, 3), L.ones(4, 3), p=-1), RuntimeError, "non-negative p"),
    (lambda L: L.cdist(L.ones(5, 2, 3), L.ones(6, 4, 3)), RuntimeError, "cannot be broadcast"),
    (lambda L: L.cdist(L.ones(2, 3), L.ones(4, 3), compute_mode="bad"), ValueError,
     "bad is not a valid value"),
    (lambda L: L.cdist(L.ones(2, 3, dtype=L.float16), L.ones(4, 3, dtype=L.float16)),
     NotImplementedError, "float16"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS)
def test_errors_as_torch_raises_them(call, exc, match):
    """micrograd's message names the op and the shapes / dtypes / values at fault; torch
    raises the same exception type on the same call."""
    with pytest.raises(exc, match=match):
        call(mg)
    with pytest.raises(exc), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(torch)
