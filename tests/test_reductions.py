"""Reductions and scans (prod, cumsum, cumprod, cummax/cummin, logcumsumexp, var/std and their
_mean forms, norm / vector_norm / matrix_norm / linalg.norm, median/nanmedian, aminmax,
count_nonzero, all/any) against torch: float64 values and gradients with random cotangents
(one spec table), integer/bool/empty inputs compared exactly with their dtypes, in-place
cumsum_/cumprod_, torch's errors, and gradcheck (no torch needed) on every backend."""
from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import micrograd as mg
from micrograd.core.reductions import LINALG

R = np.random.default_rng(11)
INPUTS = {
    "x": R.standard_normal((3, 4)),                        # distinct values
    "zeros": np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 0.0, 1.0, 2.0], [1.0, 2.0, -3.0, 4.0],
                       [0.0, 1.5, 2.0, 0.5]]),             # one zero, two, none, a leading one
    "x3": R.standard_normal((2, 3, 4)),
    "ties": np.array([[1.0, 3.0, 3.0, -2.0], [2.0, -2.0, 0.5, 2.0], [1.0, 1.0, 1.0, 1.0]]),
    "zero_row": np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]),
    "const_row": np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]),
    "nans": np.array([[1.0, np.nan, 2.0, 0.5], [3.0, 1.0, -1.0, 2.0], [np.nan, np.nan, 5.0, 1.0]]),
    "wide": R.standard_normal((3, 5)) * 300,               # logcumsumexp far from 0
    "scalar": np.array(1.7),
}


def LA(L):
    """torch.linalg, or micrograd's LINALG functions under the same names."""
    return SimpleNamespace(**LINALG) if L is mg else L.linalg


# name -> (f(lib, x), input): x requires grad; outputs (tuples too) compared with gradients
SPEC = {
    "prod_all": (lambda L, x: L.prod(x), "x"),
    "prod_dim1": (lambda L, x: x.prod(1), "x"),
    "prod_dim0_keepdim": (lambda L, x: L.prod(x, 0, keepdim=True), "x"),
    "prod_neg_dim_3d": (lambda L, x: x.prod(-2), "x3"),
    "prod_zeros_rows": (lambda L, x: x.prod(1), "zeros"),
    "prod_zeros_cols": (lambda L, x: L.prod(x, 0), "zeros"),
    "prod_zeros_all": (lambda L, x: x[2:].prod(), "zeros"),
    "prod_one_zero_all": (lambda L, x: x[:1].prod(), "zeros"),
    "prod_0d": (lambda L, x: L.prod(x, 0), "scalar"),
    "cumsum_dim0": (lambda L, x: L.cumsum(x, 0), "x"),
    "cumsum_neg_dim": (lambda L, x: x.cumsum(-1), "x3"),
    "cumsum_0d": (lambda L, x: x.cumsum(0), "scalar"),
    "cumprod_dim1": (lambda L, x: L.cumprod(x, 1), "x"),
    "cumprod_zeros": (lambda L, x: x.cumprod(1), "zeros"),
    "cumprod_zeros_dim0": (lambda L, x: L.cumprod(x, 0), "zeros"),
    "cumprod_3d": (lambda L, x: x.cumprod(dim=1), "x3"),
    "cummax": (lambda L, x: L.cummax(x, 1).values, "x"),
    "cummax_ties": (lambda L, x: x.cummax(1)[0], "ties"),
    "cummin_ties_dim0": (lambda L, x: L.cummin(x, 0).values, "ties"),
    "cummax_nan": (lambda L, x: x.cummax(1).values, "nans"),
    "cummin_0d": (lambda L, x: x.cummin(0).values, "scalar"),
    "logcumsumexp": (lambda L, x: L.logcumsumexp(x, 1), "x"),
    "logcumsumexp_wide": (lambda L, x: x.logcumsumexp(1), "wide"),
    "logcumsumexp_dim0": (lambda L, x: x.logcumsumexp(0), "wide"),
    "var_all": (lambda L, x: x.var(), "x"),
    "var_dim": (lambda L, x: L.var(x, 1), "x"),
    "var_tuple_keepdim": (lambda L, x: x.var((0, 2), keepdim=True), "x3"),
    "var_list": (lambda L, x: L.var(x, [0, -1]), "x3"),
    "var_unbiased_false": (lambda L, x: x.var(0, unbiased=False), "x"),
    "var_legacy_positional": (lambda L, x: L.var(x, 1, False, True), "x"),
    "var_legacy_unbiased_only": (lambda L, x: x.var(False), "x"),
    "var_correction_0": (lambda L, x: L.var(x, dim=1, correction=0), "x"),
    "var_correction_2": (lambda L, x: x.var(correction=2), "x"),
    "var_correction_half": (lambda L, x: x.var(0, correction=0.5), "x"),
    "std_all": (lambda L, x: x.std(), "x"),
    "std_dim_keepdim": (lambda L, x: L.std(x, 0, keepdim=True), "x"),
    "std_correction_0": (lambda L, x: x.std((1, 2), correction=0), "x3"),
    "std_const_row": (lambda L, x: x.std(1), "const_row"),
    "var_mean": (lambda L, x: L.var_mean(x, 1), "x"),
    "var_mean_all_correction": (lambda L, x: L.var_mean(x, correction=0), "x"),
    "std_mean": (lambda L, x: L.std_mean(x, (0, 1), keepdim=True), "x3"),
    "std_mean_const": (lambda L, x: L.std_mean(x, 1), "const_row"),
    "norm_default": (lambda L, x: L.norm(x), "x"),
    "norm_method_p1_dim": (lambda L, x: x.norm(1, 1), "x"),
    "norm_p3": (lambda L, x: L.norm(x, 3), "x"),
    "norm_inf_dim": (lambda L, x: L.norm(x, math.inf, 1), "ties"),
    "norm_neg_inf": (lambda L, x: x.norm(-math.inf), "x"),
    "norm_p0": (lambda L, x: L.norm(x, 0, 1), "zeros"),
    "norm_half_keepdim": (lambda L, x: L.norm(x, 0.5, 1, True), "zeros"),
    "norm_neg1": (lambda L, x: L.norm(x, -1), "x"),
    "norm_fro_tuple": (lambda L, x: L.norm(x, "fro", (0, 2)), "x3"),
    "norm_nuc": (lambda L, x: L.norm(x, "nuc"), "x"),
    "norm_nuc_dims": (lambda L, x: x.norm("nuc", (2, 0), keepdim=True), "x3"),
    "norm_zero_row": (lambda L, x: L.norm(x, dim=1), "zero_row"),
    "norm_p_none": (lambda L, x: L.norm(x, None, 0), "x"),
    "vector_norm": (lambda L, x: LA(L).vector_norm(x), "x"),
    "vector_norm_zero_row_2": (lambda L, x: LA(L).vector_norm(x, 2, 1), "zero_row"),
    "vector_norm_zero_row_3": (lambda L, x: LA(L).vector_norm(x, 3, -1), "zero_row"),
    "vector_norm_zero_row_1_5": (lambda L, x: LA(L).vector_norm(x, 1.5, 1), "zero_row"),
    "vector_norm_zero_row_half": (lambda L, x: LA(L).vector_norm(x, 0.5, 1), "zero_row"),
    "vector_norm_neg2": (lambda L, x: LA(L).vector_norm(x, -2, 1), "zeros"),
    "vector_norm_inf_ties": (lambda L, x: LA(L).vector_norm(x, math.inf, 1), "ties"),
    "vector_norm_neg_inf_ties": (lambda L, x: LA(L).vector_norm(x, -math.inf, (0, 1)),
                                 "ties"),
    "vector_norm_tuple_keepdim": (lambda L, x: LA(L).vector_norm(x, 2.5, (0, 2), True), "x3"),
    "vector_norm_empty_dims": (lambda L, x: LA(L).vector_norm(x, 1, ()), "x"),
    "vector_norm_0d": (lambda L, x: LA(L).vector_norm(x), "scalar"),
    "matrix_norm_fro": (lambda L, x: LA(L).matrix_norm(x), "x"),
    "matrix_norm_nuc": (lambda L, x: LA(L).matrix_norm(x, "nuc"), "x3"),
    "matrix_norm_2": (lambda L, x: LA(L).matrix_norm(x, 2), "x3"),
    "matrix_norm_neg2": (lambda L, x: LA(L).matrix_norm(x, -2), "x"),
    "matrix_norm_1": (lambda L, x: LA(L).matrix_norm(x, 1), "x"),
    "matrix_norm_neg1": (lambda L, x: LA(L).matrix_norm(x, -1), "x"),
    "matrix_norm_inf": (lambda L, x: LA(L).matrix_norm(x, math.inf), "x"),
    "matrix_norm_neg_inf": (lambda L, x: LA(L).matrix_norm(x, -math.inf), "x"),
    "matrix_norm_1_ties": (lambda L, x: LA(L).matrix_norm(x, 1), "ties"),
    "matrix_norm_inf_dims_keepdim": (lambda L, x: LA(L).matrix_norm(x, math.inf, (2, 0),
                                                                    True), "x3"),
    "matrix_norm_neg1_dims": (lambda L, x: LA(L).matrix_norm(x, -1, (0, 2)), "x3"),
    "matrix_norm_2_dims_keepdim": (lambda L, x: LA(L).matrix_norm(x, 2, (0, 2), True), "x3"),
    "linalg_norm_default": (lambda L, x: LA(L).norm(x), "x3"),
    "linalg_norm_matrix_ord": (lambda L, x: LA(L).norm(x, 2), "x"),
    "linalg_norm_vector_dim": (lambda L, x: LA(L).norm(x, 3, 1), "x"),
    "linalg_norm_two_dims": (lambda L, x: LA(L).norm(x, -math.inf, (1, 2)), "x3"),
    "linalg_norm_nuc": (lambda L, x: LA(L).norm(x, "nuc"), "x"),
    "linalg_norm_none_two_dims": (lambda L, x: LA(L).norm(x, None, (0, 1), True), "x"),
    "median_all": (lambda L, x: L.median(x), "x"),
    "median_all_ties": (lambda L, x: x.median(), "ties"),
    "median_all_nan": (lambda L, x: x.median(), "nans"),
    "median_dim": (lambda L, x: L.median(x, 1).values, "x"),
    "median_dim0_keepdim": (lambda L, x: x.median(0, keepdim=True)[0], "x"),
    "median_nan_rows": (lambda L, x: x.median(1).values, "nans"),
    "median_0d": (lambda L, x: L.median(x, 0).values, "scalar"),
    "nanmedian_all": (lambda L, x: L.nanmedian(x), "nans"),
    "nanmedian_dim": (lambda L, x: x.nanmedian(1).values, "nans"),
    "aminmax": (lambda L, x: tuple(L.aminmax(x)), "ties"),
    "aminmax_dim_keepdim": (lambda L, x: tuple(x.aminmax(dim=0, keepdim=True)), "ties"),
    "aminmax_keepdim_all": (lambda L, x: tuple(L.aminmax(x, keepdim=True)), "x"),
}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch is the oracle for reductions")


def _outputs(out) -> list:
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("name", list(SPEC))
def test_values_and_gradients_match_torch(torch, name):
    fn, key = SPEC[name]
    data = INPUTS[key]
    x, tx = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        outs, touts = _outputs(fn(mg, x)), _outputs(fn(torch, tx))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(5)
    loss, tloss = 0, 0
    for out, tout in zip(outs, touts):
        assert out.shape == tuple(tout.shape) and out.dtype == mg.float64, name
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
        cot = rng.standard_normal(tuple(tout.shape))
        loss = loss + (out * mg.tensor(cot)).sum()
        tloss = tloss + (tout * torch.tensor(cot)).sum()
    loss.backward()
    tloss.backward()
    if tx.grad is None:
        assert x.grad is None or not np.any(x.grad.numpy()), name
    else:
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


I32 = np.array([[3, -1, 2], [0, 5, 5]], dtype=np.int32)
U8 = np.array([[0, 3], [2, 1]], dtype=np.uint8)
B = np.array([[True, False, True], [True, True, True]])
NANS = INPUTS["nans"]
F = INPUTS["x"]


def _t(L, a, dtype=None):
    return L.tensor(a) if dtype is None else L.tensor(a, dtype=dtype)


# name -> f(lib): results (tuples too) compared exactly, dtype included
EXACT = {
    "prod_int32": lambda L: L.prod(_t(L, I32)),
    "prod_int32_dim": lambda L: _t(L, I32).prod(1),
    "prod_uint8": lambda L: L.prod(_t(L, U8), 0),
    "prod_bool": lambda L: _t(L, B).prod(),
    "prod_bool_dim": lambda L: L.prod(_t(L, B), 1, keepdim=True),
    "prod_dtype_float": lambda L: L.prod(_t(L, I32), 1, dtype=L.float32),
    "prod_float_dtype_int": lambda L: L.prod(_t(L, [1.5, 2.0]), dtype=L.int64),
    "prod_empty": lambda L: L.prod(L.zeros(0, 3)),
    "prod_empty_dim": lambda L: L.zeros(0, 3).prod(0),
    "cumsum_int32": lambda L: L.cumsum(_t(L, I32), 1),
    "cumsum_bool": lambda L: _t(L, B).cumsum(0),
    "cumsum_uint8": lambda L: L.cumsum(_t(L, U8), 0),
    "cumsum_dtype_int32": lambda L: L.cumsum(_t(L, I32), 0, dtype=L.int32),
    "cumsum_dtype_float64": lambda L: _t(L, [[1.0, 2.0]]).cumsum(1, dtype=L.float64),
    "cumsum_float32": lambda L: L.cumsum(_t(L, F.astype(np.float32)), 0),
    "cumsum_empty": lambda L: L.cumsum(L.zeros(0, 2), 1),
    "cumprod_int8": lambda L: L.cumprod(_t(L, I32).to(L.int8), 1),
    "cumprod_bool": lambda L: _t(L, B).cumprod(1),
    "cummax_int": lambda L: tuple(L.cummax(_t(L, [1, 3, 3, 2, 5]), 0)),
    "cummin_int_dim0": lambda L: tuple(_t(L, I32).cummin(0)),
    "cummax_bool": lambda L: tuple(L.cummax(_t(L, [True, False, True]), 0)),
    "cummax_nan": lambda L: tuple(L.cummax(_t(L, [1.0, np.nan, 3.0, np.nan]), 0)),
    "cummin_nan": lambda L: tuple(_t(L, NANS).cummin(1)),
    "cummax_empty": lambda L: tuple(L.cummax(L.zeros(0), 0)),
    "cummax_0d": lambda L: tuple(L.cummax(_t(L, 2.0), 0)),
    "logcumsumexp_inf": lambda L: L.logcumsumexp(_t(L, [-np.inf, -np.inf, 1.0, np.inf]), 0),
    "logcumsumexp_float32": lambda L: L.logcumsumexp(_t(L, F.astype(np.float32)), 1),
    "logcumsumexp_empty": lambda L: L.logcumsumexp(L.zeros(0, 2), 1),
    "var_empty_dims": lambda L: L.var(_t(L, F), ()),
    "var_float32": lambda L: _t(L, F.astype(np.float32)).var(1),
    "var_empty_dim0": lambda L: L.var(L.zeros(0, 3), 0),
    "var_empty_dim1": lambda L: L.var(L.zeros(0, 3), 1),
    "var_one_element": lambda L: L.var(_t(L, [1.0])),
    "var_negative_dof": lambda L: L.var(_t(L, [1.0, 2.0]), correction=3),
    "var_0d": lambda L: L.var(_t(L, 2.0), correction=0),
    "std_mean_float32": lambda L: L.std_mean(_t(L, F.astype(np.float32)), 0),
    "norm_float32": lambda L: L.norm(_t(L, F.astype(np.float32))),
    "norm_dtype_float64": lambda L: L.norm(_t(L, F.astype(np.float32)), dtype=L.float64),
    "norm_empty": lambda L: L.norm(L.zeros(0)),
    "norm_method_positional_dtype": lambda L: _t(L, F.astype(np.float32)).norm(2, 1, False,
                                                                             L.float64),
    "norm_positional_out_dtype": lambda L: L.norm(_t(L, F.astype(np.float32)), 2, 1, False,
                                                  None, L.float64),
    "vector_norm_p0_empty": lambda L: LA(L).vector_norm(L.zeros(0), 0),
    "vector_norm_inf_empty_rows": lambda L: LA(L).vector_norm(L.zeros(0, 2), math.inf, 1),
    "matrix_norm_empty_rows": lambda L: tuple(LA(L).matrix_norm(L.zeros(0, 3), o)
                                              for o in ("fro", "nuc", 1, -1, math.inf, 2)),
    "matrix_norm_empty_cols": lambda L: tuple(LA(L).matrix_norm(L.zeros(3, 0), o)
                                              for o in ("fro", "nuc", 1, math.inf, -math.inf)),
    "matrix_norm_empty_batch": lambda L: LA(L).matrix_norm(L.zeros(0, 2, 3), 2),
    "median_int": lambda L: L.median(_t(L, I32)),
    "median_int_dim": lambda L: tuple(_t(L, [[5, 1, 4], [3, 9, 7]]).median(1)),
    "median_uint8": lambda L: L.median(_t(L, U8)),
    "median_even_lower": lambda L: L.median(_t(L, [3.0, 1.0, 2.0, 4.0])),
    "median_nan_indices": lambda L: tuple(L.median(_t(L, NANS), 1)),
    "median_empty": lambda L: L.median(L.zeros(0)),
    "median_empty_rows": lambda L: tuple(L.median(L.zeros(0, 2), 1)),
    "nanmedian_nan_indices": lambda L: tuple(L.nanmedian(_t(L, NANS), 1)),
    "nanmedian_all_nan_row": lambda L: tuple(L.nanmedian(_t(L, [[1.0, np.nan, 2.0],
                                                                [np.nan, np.nan, np.nan]]), 1)),
    "nanmedian_all_nan": lambda L: L.nanmedian(_t(L, [np.nan, np.nan])),
    "nanmedian_int": lambda L: tuple(L.nanmedian(_t(L, I32), 0)),
    "aminmax_int": lambda L: tuple(L.aminmax(_t(L, I32), dim=1)),
    "aminmax_bool": lambda L: tuple(_t(L, B).aminmax()),
    "aminmax_empty_rows": lambda L: tuple(L.aminmax(L.zeros(0, 3), dim=1)),
    "count_nonzero": lambda L: L.count_nonzero(_t(L, I32)),
    "count_nonzero_dim": lambda L: _t(L, I32).count_nonzero(dim=1),
    "count_nonzero_tuple": lambda L: L.count_nonzero(_t(L, I32) - 2, dim=(0, 1)),
    "count_nonzero_empty_tuple": lambda L: L.count_nonzero(_t(L, I32), dim=()),
    "count_nonzero_bool_list": lambda L: L.count_nonzero(_t(L, B), dim=[0]),
    "count_nonzero_float_nan": lambda L: L.count_nonzero(_t(L, NANS), 0),
    "count_nonzero_empty": lambda L: L.count_nonzero(L.zeros(0, 3), 0),
    "all_int": lambda L: L.all(_t(L, I32)),
    "all_dim": lambda L: _t(L, I32).all(1),
    "any_dim_keepdim": lambda L: L.any(_t(L, I32), 0, keepdim=True),
    "all_tuple": lambda L: L.all(_t(L, F), (0, 1)),
    "all_empty_tuple": lambda L: L.all(_t(L, I32), dim=()),
    "all_keepdim_no_dim": lambda L: L.all(_t(L, I32), keepdim=True),
    "all_uint8": lambda L: L.all(_t(L, U8)),
    "any_uint8_dim": lambda L: _t(L, U8).any(1),
    "any_bool": lambda L: L.any(_t(L, B), -1),
    "any_nan": lambda L: L.any(_t(L, [0.0, np.nan])),
    "all_empty": lambda L: L.all(L.zeros(0)),
    "any_empty_dim": lambda L: L.any(L.zeros(0, 2), 0),
    "all_0d_dim": lambda L: L.all(_t(L, 2.0), 0),
}


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name", list(EXACT))
def test_dtypes_integers_and_edge_cases_match_torch(torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        outs, touts = _outputs(EXACT[name](mg)), _outputs(EXACT[name](torch))
    assert len(outs) == len(touts)
    for out, tout in zip(outs, touts):
        assert out.dtype.name == str(tout.dtype).replace("torch.", ""), name
        assert out.shape == tuple(tout.shape), name
        if out.dtype.is_floating_point:
            tol = 1e-6 if out.dtype == mg.float32 else 1e-12
            np.testing.assert_allclose(_np(out), _np(tout), rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(_np(out), _np(tout))


def test_named_results_unpack_as_torch_return_types():
    x = mg.tensor(F)
    assert x.cummax(1).indices.dtype == mg.int64
    values, indices = mg.median(x, 0)
    assert values.shape == indices.shape == (4,)
    mn, mx = x.aminmax()
    assert x.aminmax().min.item() == mn.item() and mx.item() == F.max()
    assert isinstance(mg.var_mean(x), tuple) and not hasattr(x, "var_mean")


@pytest.mark.parametrize("name,args", [("cumsum_", (1,)), ("cumprod_", (0,))])
def test_in_place_scans_match_torch(torch, name, args):
    for data in (F, I32):
        t, tt = mg.tensor(data), torch.tensor(data)
        assert getattr(t, name)(*args) is t
        getattr(tt, name)(*args)
        assert t.dtype.name == str(tt.dtype).replace("torch.", "")
        np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-12)
    # recorded in the graph: the gradient flows through the in-place scan
    x, tx = mg.tensor(F, requires_grad=True), torch.tensor(F, requires_grad=True)
    y, ty = x * 2, tx * 2
    getattr(y, name)(*args)
    getattr(ty, name)(*args)
    cot = np.random.default_rng(2).standard_normal(F.shape)
    (y * mg.tensor(cot)).sum().backward()
    (ty * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("data,call", [
    ([3.0], lambda L, x: x.var()),                           # n = 1 over all dims: nan
    ([1.0, 2.0], lambda L, x: L.var(x, correction=3)),       # all dims, n - c < 0: inf
    ([1.0, 2.0], lambda L, x: L.var(x, 0, correction=2)),    # dim given, n - c = 0
    ([1.0, 2.0], lambda L, x: L.var(x, 0, correction=3)),    # dim given, n - c < 0
    ([1.0, 2.0], lambda L, x: x.std(correction=3)),
    ([[1.0, 2.0]], lambda L, x: L.std(x, 0)),
], ids=["n_1", "negative_dof_all_dims", "zero_dof_dim", "negative_dof_dim", "std", "std_dim"])
def test_variance_without_degrees_of_freedom_warns_and_matches_torch(torch, data, call):
    """torch's nan / inf values and its gradients there (which differ with and without dim)."""
    x, tx = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = call(mg, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tout = call(torch, tx)
    np.testing.assert_array_equal(_np(out), _np(tout))
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_var_over_dim_empty_tuple_is_over_all_dims():
    """torch reads dim=() as every dim for the value but its gradient then divides by
    1 - correction (inf); micrograd's gradient is var()'s, a deliberate difference."""
    x, y = mg.tensor(F, requires_grad=True), mg.tensor(F, requires_grad=True)
    mg.var(x, ()).backward()
    y.var().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())


# (call taking the framework module, exception, words micrograd's message must contain)
ERRORS = [
    (lambda L: L.prod(L.ones(2, 3), 2), IndexError, "dim 2"),
    (lambda L: L.prod(L.ones(2, 3), (0, 1)), TypeError, "tuple"),
    (lambda L: L.cumsum(L.ones(2, 3), -3), IndexError, "dim -3"),
    (lambda L: L.ones(2).cumprod(1), IndexError, "dim 1"),
    (lambda L: L.cummax(L.ones(2, 3), 2), IndexError, "cummax"),
    (lambda L: L.logcumsumexp(L.tensor([1, 2]), 0), NotImplementedError, "int64"),
    (lambda L: L.var(L.tensor([1, 2, 3])), RuntimeError, "floating point"),
    (lambda L: L.std(L.tensor([True, False])), RuntimeError, "floating point"),
    (lambda L: L.var(L.ones(2, 3), 3), IndexError, "dim 3"),
    (lambda L: L.ones(2, 3).std(1, unbiased=True, correction=0), TypeError, "not both"),
    (lambda L: L.var(L.ones(2, 3), 1.0), TypeError, "float"),
    (lambda L: L.tensor([1.0, 2.0]).cumsum_(0, dtype=L.float64), RuntimeError,
     "float32 and output tensor dtype float64"),
    (lambda L: L.norm(L.tensor([1, 2])), RuntimeError, "floating point"),
    (lambda L: L.norm(L.ones(2, 2), "abc"), RuntimeError, "Order abc"),
    (lambda L: L.norm(L.ones(2, 2, 2), "nuc"), RuntimeError, "2-tuple"),
    (lambda L: L.norm(L.ones(2, 2), "fro", 2), IndexError, "dim 2"),
    (lambda L: LA(L).vector_norm(L.ones(2), dtype=L.int64), RuntimeError, "int64"),
    (lambda L: LA(L).vector_norm(L.ones(2, dtype=L.float64), dtype=L.float32), RuntimeError,
     "narrowing"),
    (lambda L: LA(L).vector_norm(L.ones(2), "fro"), TypeError, "ord"),
    (lambda L: LA(L).vector_norm(L.zeros(0), math.inf), RuntimeError, "empty tensor"),
    (lambda L: LA(L).vector_norm(L.zeros(3, 0), -1, 1), RuntimeError, "dimension 1"),
    (lambda L: LA(L).matrix_norm(L.ones(2, 2), 3), RuntimeError, "Order 3"),
    (lambda L: LA(L).matrix_norm(L.ones(2)), RuntimeError, "at least 2 dimensions"),
    (lambda L: LA(L).matrix_norm(L.ones(2, 2), dim=(0, 0)), RuntimeError, "different"),
    (lambda L: LA(L).matrix_norm(L.ones(2, 2), dim=(0,)), RuntimeError, "2-tuple"),
    (lambda L: LA(L).matrix_norm(L.ones(2, 2), dim=(0, 2)), IndexError, "dim 2"),
    (lambda L: LA(L).matrix_norm(L.zeros(3, 0), -2), IndexError, "amin"),
    (lambda L: LA(L).norm(L.ones(2, 2, 2), 2), RuntimeError, "1D or 2D. Got 3D"),
    (lambda L: LA(L).norm(L.ones(2, 2), 2, (0, 1, 1)), RuntimeError, "length 1 or 2"),
    (lambda L: LA(L).norm(L.ones(2), "fro"), RuntimeError, "at least 2 dimensions"),
    (lambda L: L.median(L.ones(2, 3), 2), IndexError, "dim 2"),
    (lambda L: L.median(L.zeros(0, 2), 0), IndexError, "non-zero size"),
    (lambda L: L.median(L.tensor([True])), NotImplementedError, "bool"),
    (lambda L: L.aminmax(L.zeros(0)), RuntimeError, "empty"),
    (lambda L: L.aminmax(L.zeros(0, 2), dim=0), IndexError, "dim 0 to have non-zero size"),
    (lambda L: L.aminmax(L.ones(2), dim=1), IndexError, "dim 1"),
    (lambda L: L.count_nonzero(L.ones(2), 1), IndexError, "dim 1"),
    (lambda L: L.all(L.ones(2, 3), 2), IndexError, "dim 2"),
    (lambda L: L.ones(2).any(-2), IndexError, "dim -2"),
]


@pytest.mark.parametrize("call,exc,words", ERRORS)
def test_errors(call, exc, words):
    with pytest.raises(exc, match=words):
        call(mg)


@pytest.mark.parametrize("call,exc", [e[:2] for e in ERRORS])
def test_torch_raises_the_same_exception_type(torch, call, exc):
    with pytest.raises(exc):
        call(torch)


def test_errors_micrograd_only():
    """Where torch answers with an arbitrary number or accepts a call we refuse: clear errors."""
    with pytest.raises(RuntimeError, match="empty int64"):
        mg.median(mg.tensor([], dtype=mg.int64))
    with pytest.raises(TypeError, match="keepdim"):
        mg.prod(mg.ones(2), keepdim=True)
    with pytest.raises(TypeError, match="Tensor"):
        mg.cumsum([1.0, 2.0], 0)


GRADCHECK = ["prod_zeros_rows", "prod_neg_dim_3d", "cumsum_neg_dim", "cumprod_zeros",
             "cumprod_3d", "cummax", "logcumsumexp_wide", "var_tuple_keepdim",
             "var_correction_half", "std_mean", "norm_p3", "norm_half_keepdim",
             "vector_norm_zero_row_3", "vector_norm_neg2", "matrix_norm_nuc", "matrix_norm_2",
             "matrix_norm_neg2", "matrix_norm_neg1_dims", "matrix_norm_inf_dims_keepdim",
             "linalg_norm_two_dims", "median_all", "median_dim0_keepdim", "aminmax_keepdim_all"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck_on_every_backend(backend, name):
    fn, key = SPEC[name]
    assert mg.gradcheck(lambda x: fn(mg, x), (mg.tensor(INPUTS[key], requires_grad=True),))


def test_norm_out_and_in_place_change_of_a_saved_output(torch):
    x = mg.tensor(F)
    out = mg.empty((), dtype=mg.float64)
    assert mg.norm(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.linalg.norm(F), rtol=1e-12)
    for L in (mg, torch):  # backward reads the norm: changing it in place is an error
        v = L.tensor(F, requires_grad=True)
        n = LA(L).vector_norm(v * 1, 3, 1)
        n.mul_(2)
        with pytest.raises(RuntimeError, match="inplace"):
            n.sum().backward()
    np.testing.assert_allclose(LA(mg).vector_norm(x, True).numpy(), np.abs(F).sum(), rtol=1e-12)
