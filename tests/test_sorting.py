"""sort / argsort / topk / kthvalue / msort / masked_select (values and gradients), unique /
nonzero / where / searchsorted (values) against torch in float64 with random cotangents, the
error cases, and gradcheck on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for sorting and selection")

X = np.random.default_rng(3).standard_normal((4, 5))  # distinct values: torch's tie order
MASK = X > 0.1                                         # is unspecified, so no ties here

# name -> f(lib, x): differentiable (x requires grad); outputs compared with their gradients
DIFF = {
    "sort": lambda L, x: L.sort(x)[0],
    "sort_dim0_desc": lambda L, x: x.sort(0, descending=True).values,
    "topk": lambda L, x: x.topk(3).values,
    "topk_smallest_dim0": lambda L, x: L.topk(x, 2, dim=0, largest=False)[0],
    "kthvalue": lambda L, x: x.kthvalue(2).values,
    "kthvalue_keepdim": lambda L, x: L.kthvalue(x, 3, 0, True)[0],
    "msort": lambda L, x: L.msort(x),
    "masked_select": lambda L, x: x.masked_select(L.tensor(MASK)),
    "masked_select_bcast": lambda L, x: L.masked_select(x, L.tensor(MASK[0])),
    "where_scalar_other": lambda L, x: L.where(x > 0, x, 0.5),
}

# name -> f(lib, x) with integer / bool / index outputs compared exactly (dtype too)
EXACT = {
    "sort_indices": lambda L, x: x.sort(descending=True).indices,
    "argsort": lambda L, x: L.argsort(x, 0),
    "argsort_stable_ties": lambda L, x: L.argsort(L.tensor([2, 1, 2, 1, 0]), stable=True),
    "sort_stable_desc_ties": lambda L, x: L.sort(L.tensor([2, 1, 2, 1, 0]), descending=True,
                                                 stable=True).indices,
    "sort_nan_largest": lambda L, x: L.sort(L.tensor([1.0, float("nan"), -1.0]))[1],
    "sort_nan_desc": lambda L, x: L.sort(L.tensor([1.0, float("nan"), -1.0]), 0, True)[1],
    "topk_indices": lambda L, x: x.topk(2, dim=1).indices,
    "kthvalue_indices": lambda L, x: x.kthvalue(4, dim=1).indices,
    "unique": lambda L, x: L.unique(L.tensor([3, 1, 3, 2, 1])),
    "unique_inverse": lambda L, x: L.unique(L.tensor([[3, 1], [3, 2]]), return_inverse=True)[1],
    "unique_counts": lambda L, x: L.tensor([3, 1, 3, 2, 1]).unique(return_counts=True)[1],
    "unique_dim0": lambda L, x: L.unique(L.tensor([[1, 2], [0, 1], [1, 2]]), dim=0),
    "nonzero": lambda L, x: L.nonzero(L.tensor(MASK)),
    "nonzero_tuple_1": lambda L, x: x.gt(0).nonzero(as_tuple=True)[1],
    "argwhere": lambda L, x: L.argwhere(L.tensor([0, 3, 0, 1])),
    "where_one_arg": lambda L, x: L.where(x > 0)[0],
    "where_float_scalars": lambda L, x: L.where(x > 0, 1.0, 0.0),
    "where_int_scalars": lambda L, x: L.where(x > 0, 1, 0),
    "where_mixed_scalars": lambda L, x: L.where(x > 0, 2, -0.5),
    "where_bool_scalars": lambda L, x: L.where(x > 0, True, False),
    "searchsorted": lambda L, x: L.searchsorted(L.tensor([1, 3, 5, 7]), L.tensor([0, 3, 6, 9])),
    "searchsorted_right": lambda L, x: L.searchsorted(L.tensor([1, 3, 3, 7]),
                                                      L.tensor([3, 8]), right=True),
    "searchsorted_side": lambda L, x: L.searchsorted(L.tensor([1, 3, 3, 7]), L.tensor([3]),
                                                     side="right"),
    "searchsorted_rows": lambda L, x: L.searchsorted(L.tensor([[1.0, 2.0], [0.0, 5.0]]),
                                                     L.tensor([[1.5], [-1.0]])),
    "searchsorted_int32": lambda L, x: L.searchsorted(L.tensor([1, 3]), L.tensor([2]),
                                                      out_int32=True),
    "searchsorted_sorter": lambda L, x: L.searchsorted(L.tensor([5, 1, 3]), L.tensor([2, 4]),
                                                       sorter=L.tensor([1, 2, 0])),
}


@pytest.mark.parametrize("name", list(DIFF))
def test_values_and_gradients_match_torch(name):
    x, tx = mg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, tout = DIFF[name](mg, x), DIFF[name](torch, tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=0, atol=0)
    cot = np.random.default_rng(5).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", list(EXACT))
def test_indices_and_selections_match_torch(name):
    out, tout = EXACT[name](mg, mg.tensor(X)), EXACT[name](torch, torch.tensor(X))
    assert out.dtype.name == str(tout.dtype).replace("torch.", ""), name
    np.testing.assert_array_equal(out.numpy(), tout.numpy())


def test_results_unpack_as_torch_return_types():
    values, indices = mg.tensor(X).sort()
    assert values.shape == indices.shape == (4, 5)
    res = mg.tensor(X).topk(2)
    assert res.values.shape == res.indices.shape == (4, 2)


@pytest.mark.parametrize("call,exc,match", [
    (lambda x: x.topk(6), RuntimeError, "k=6 .* dimension 1 of size 5"),
    (lambda x: x.kthvalue(0), RuntimeError, "k=0 .* size 5"),
    (lambda x: x.sort(2), IndexError, "2"),
    (lambda x: x.masked_select(x), TypeError, "bool"),
    (lambda x: x.masked_select(mg.tensor([True, False])), ValueError, r"\(4, 5\) and \(2,\)"),
    (lambda x: mg.searchsorted(mg.tensor([[1, 2]]), mg.tensor([[1], [2]])), ValueError,
     r"\(1, 2\).*\(2, 1\)"),
    (lambda x: mg.searchsorted(mg.tensor([1, 2]), mg.tensor([1]), side="middle"), ValueError,
     "middle"),
    (lambda x: mg.where(x, 1.0, 0.0), TypeError, "bool"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mg.tensor(X))


@pytest.mark.parametrize("name", ["sort_dim0_desc", "topk", "kthvalue_keepdim",
                                  "masked_select_bcast"])
def test_gradcheck_on_every_backend(backend, name):
    assert mg.gradcheck(lambda x: DIFF[name](mg, x), (mg.tensor(X, requires_grad=True),))
