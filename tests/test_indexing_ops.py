"""gather / scatter / scatter_add / scatter_reduce (every reduction) / index_add / index_copy /
index_fill / take_along_dim against torch: float64 values and gradients with random cotangents
(one spec table; scatter_reduce's ties and zeros), in-place forms, torch's errors (negative and
out-of-range indices, shapes, reductions), gradcheck on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for gather/scatter")

R = np.random.default_rng(7)
X = R.standard_normal((3, 4))
SRC = R.standard_normal((3, 5))
IDX = np.array([[0, 3], [2, 1]])            # smaller than X in both dims
PERM = np.array([[2, 0, 1, 2], [1, 2, 0, 0]])  # repeats along dim 0
ROWS = np.array([2, 0])
DIST = np.array([[3, 0, 1], [1, 2, 0], [0, 3, 2]])  # distinct per row: scatter is exact


def _idx(lib, a):
    return lib.tensor(a, dtype=lib.int64)


# name -> f(lib, x, src) using only names both libraries share; x and src require grad
SPEC = {
    "gather_dim1_small": lambda L, x, s: x.gather(1, _idx(L, IDX)),
    "gather_dim0_repeats": lambda L, x, s: x.gather(0, _idx(L, PERM)),
    "gather_fn_neg_dim": lambda L, x, s: L.gather(x, -1, _idx(L, IDX)),
    "scatter_src": lambda L, x, s: x.scatter(1, _idx(L, DIST), s[:, :3]),
    "scatter_value": lambda L, x, s: x.scatter(1, _idx(L, IDX), 2.5),
    "scatter_fn": lambda L, x, s: L.scatter(x, 0, _idx(L, [[2, 0, 1, 1]]), s[:1, :4]),
    "scatter_add_repeats": lambda L, x, s: x.scatter_add(0, _idx(L, PERM), s[:2, :4] * 1),
    "scatter_add_fn": lambda L, x, s: L.scatter_add(x, 1, _idx(L, IDX), s[:2, :2]),
    "scatter_reduce_sum": lambda L, x, s: x.scatter_reduce(0, _idx(L, PERM), s[:2, :4], "sum"),
    "scatter_reduce_sum_no_self": lambda L, x, s: L.scatter_reduce(
        x, 0, _idx(L, PERM), s[:2, :4], "sum", include_self=False),
    "scatter_reduce_mean": lambda L, x, s: x.scatter_reduce(1, _idx(L, [[1, 1, 3]] * 3),
                                                            s[:, :3], "mean"),
    "scatter_reduce_mean_no_self": lambda L, x, s: x.scatter_reduce(
        1, _idx(L, [[1, 1, 3]] * 3), s[:, :3], "mean", include_self=False),
    "scatter_reduce_prod": lambda L, x, s: x.scatter_reduce(0, _idx(L, PERM), s[:2, :4], "prod"),
    "scatter_reduce_prod_no_self": lambda L, x, s: L.scatter_reduce(
        x, 1, _idx(L, [[1, 1, 3]] * 3), s[:, :3], "prod", include_self=False),
    "scatter_reduce_amax": lambda L, x, s: x.scatter_reduce(0, _idx(L, PERM), s[:2, :4], "amax"),
    "scatter_reduce_amax_no_self": lambda L, x, s: x.scatter_reduce(
        1, _idx(L, [[1, 1, 3]] * 3), s[:, :3], "amax", include_self=False),
    "scatter_reduce_amin": lambda L, x, s: x.scatter_reduce(1, _idx(L, IDX), s[:2, :2], "amin"),
    "scatter_reduce_amin_no_self": lambda L, x, s: L.scatter_reduce(
        x, 0, _idx(L, PERM), s[:2, :4], "amin", include_self=False),
    "index_add": lambda L, x, s: x.index_add(0, _idx(L, ROWS), s[:2, :4]),
    "index_add_alpha_repeat": lambda L, x, s: L.index_add(x, 1, _idx(L, [1, 1, 3]), s[:, :3],
                                                          alpha=-2.0),
    "index_copy": lambda L, x, s: x.index_copy(1, _idx(L, [3, 0]), s[:, :2]),
    "index_fill": lambda L, x, s: x.index_fill(1, _idx(L, [0, 2]), -1.5),
    "index_fill_fn": lambda L, x, s: L.index_fill(x, 0, _idx(L, [1]), 4.0),
    "take_along_dim": lambda L, x, s: L.take_along_dim(x, _idx(L, [[1], [0], [3]]), 1),
    "take_along_dim_bcast": lambda L, x, s: x.take_along_dim(_idx(L, [[0, 2, 2, 1]]), 0),
    "take_along_dim_flat": lambda L, x, s: L.take_along_dim(x, _idx(L, [11, 0, 5, 5])),
}


@pytest.mark.parametrize("name", list(SPEC))
def test_matches_torch_values_and_gradients(name):
    fn = SPEC[name]
    x, s = mg.tensor(X, requires_grad=True), mg.tensor(SRC, requires_grad=True)
    tx, ts = torch.tensor(X, requires_grad=True), torch.tensor(SRC, requires_grad=True)
    out, tout = fn(mg, x, s), fn(torch, tx, ts)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=0)
    cot = np.random.default_rng(1).standard_normal(tout.shape)
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for mine, theirs in ((x.grad, tx.grad), (s.grad, ts.grad)):
        if theirs is None:
            assert mine is None or not np.any(mine.numpy())
        else:
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,args", [
    ("scatter_", lambda L: (1, _idx(L, DIST), L.tensor(SRC))),
    ("scatter_add_", lambda L: (0, _idx(L, PERM), L.tensor(SRC[:2, :4]))),
    ("index_add_", lambda L: (0, _idx(L, ROWS), L.tensor(SRC[:2, :4]))),
    ("index_copy_", lambda L: (1, _idx(L, [3, 0]), L.tensor(SRC[:, :2]))),
    ("index_fill_", lambda L: (1, _idx(L, [1]), 7.0)),
    ("scatter_reduce_", lambda L: (0, _idx(L, PERM), L.tensor(SRC[:2, :4]), "mean")),
    ("scatter_reduce_", lambda L: (0, _idx(L, PERM), L.tensor(SRC[:2, :4]), "prod")),
    ("scatter_reduce_", lambda L: (1, _idx(L, IDX), L.tensor(SRC[:2, :2]), "amin")),
])
def test_in_place_forms_match_torch(name, args):
    x, tx = mg.tensor(X), torch.tensor(X)
    assert getattr(x, name)(*args(mg)) is x
    getattr(tx, name)(*args(torch))
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12)


def test_src_larger_than_index_and_reduce_add_match_torch_values():
    # torch's gradients for these fail (src larger than index: a wrong-shape gradient error;
    # reduce="add"/"multiply": not implemented); micrograd's follow from scatter_add's and
    # scatter_reduce's
    x, s = mg.tensor(X), mg.tensor(SRC)
    tx, ts = torch.tensor(X), torch.tensor(SRC)
    for f in (lambda L, x, s: x.scatter(1, _idx(L, IDX), s, reduce="add"),
              lambda L, x, s: x.scatter(0, _idx(L, PERM), s[:2, :4], reduce="multiply"),
              lambda L, x, s: x.scatter(1, _idx(L, IDX), -1.5, reduce="multiply"),
              lambda L, x, s: x.scatter_reduce(1, _idx(L, IDX), s, "amax"),
              lambda L, x, s: x.scatter(1, _idx(L, DIST), s),
              lambda L, x, s: x.scatter_add(0, _idx(L, PERM), s)):
        np.testing.assert_allclose(f(mg, x, s).numpy(), f(torch, tx, ts).numpy(), rtol=1e-12)


# ties (with self and among src) and zeros (one and two per target): torch's rules for
# amax/amin (ties share; self counts even when not included) and prod (exact with zeros)
TIE_X = [[5.0, 1, 2, 0], [3, 3, 0, 1]]
TIE_SRC = [[5.0, 4, 2], [3, 0, 0]]
TIE_IDX = [[0, 0, 1], [2, 2, 2]]


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
def test_scatter_reduce_ties_and_zeros_match_torch(reduce, include_self):
    cot = np.arange(8.0).reshape(2, 4) + 1
    got = []
    for L in (mg, torch):
        x = L.tensor(TIE_X, dtype=L.float64, requires_grad=True)
        s = L.tensor(TIE_SRC, dtype=L.float64, requires_grad=True)
        out = x.scatter_reduce(1, L.tensor(TIE_IDX), s, reduce, include_self=include_self)
        (out * L.tensor(cot)).sum().backward()
        got.append([out.detach().numpy(), x.grad.numpy(), s.grad.numpy()])
    for mine, theirs in zip(*got):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_scatter_reduce_values_of_other_dtypes_and_nan_match_torch(reduce, dtype):
    x, idx, src = [[2, -3, 4], [0, 7, 1]], [[0, 0, 2, 0]], [[3, 5, -2, 1]]
    for include_self in (True, False):
        got = [L.tensor(x, dtype=getattr(L, dtype)).scatter_reduce(
            1, L.tensor(idx), L.tensor(src, dtype=getattr(L, dtype)), reduce,
            include_self=include_self) for L in (mg, torch)]
        assert got[0].dtype == getattr(mg, dtype) and got[0].tolist() == got[1].tolist()
    nan = mg.tensor([1.0, 2.0]).scatter_reduce(0, mg.tensor([0, 0]),
                                               mg.tensor([float("nan"), 3.0]), reduce)
    assert np.isnan(nan[0].item()) and nan[1].item() == 2.0  # NaN propagates, as torch


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_reduce_max_min_spellings_have_values_but_no_gradient_as_torch(reduce):
    outs = []
    for L in (mg, torch):
        x = L.tensor(TIE_X, dtype=L.float64, requires_grad=True)
        out = x.scatter_reduce(1, L.tensor(TIE_IDX), L.tensor(TIE_SRC, dtype=L.float64), reduce)
        outs.append(out.detach().numpy())
        with pytest.raises(RuntimeError, match=f"'amin' but got {reduce}"):
            out.sum().backward()
    np.testing.assert_array_equal(*outs)


def test_scatter_reduce_in_place_without_self_flows_to_src():
    got = []
    for L in (mg, torch):
        s = L.tensor(SRC[:2, :4], requires_grad=True)
        y = L.tensor(X) * 1
        y.scatter_reduce_(0, _idx(L, PERM), s, "amax", include_self=False)
        (y * L.tensor(X)).sum().backward()
        got.append((y.detach().numpy(), s.grad.numpy()))
    for mine, theirs in zip(*got):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_scatter_reduce_mean_on_integers_floors_as_torch():
    idx, src = [[0, 0, 1]], [[-5, -3, 5]]  # -7 / 3: floor -3, not trunc -2
    got = mg.tensor([[1, 2, 3]]).scatter_reduce(1, mg.tensor(idx), mg.tensor(src), "mean")
    want = torch.tensor([[1, 2, 3]]).scatter_reduce(1, torch.tensor(idx), torch.tensor(src),
                                                    "mean")
    assert got.tolist() == want.tolist()


def test_scatter_value_into_one_hot_as_the_transforms_tutorial():
    y = mg.zeros(10, dtype=mg.float32).scatter_(0, mg.tensor(3), value=1)
    assert y.tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_in_place_scatter_on_a_leaf_computation_flows_to_src():
    s = mg.tensor(SRC[:, :3], requires_grad=True)
    ts = torch.tensor(SRC[:, :3], requires_grad=True)
    y, ty = mg.zeros(3, 4, dtype=mg.float64), torch.zeros(3, 4, dtype=torch.float64)
    y.scatter_(1, _idx(mg, DIST), s)
    ty.scatter_(1, _idx(torch, DIST), ts)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call,exc,match", [
    (lambda x: x.gather(1, mg.tensor([[-1, 0]])), IndexError, "dim 1 of size 4: got index -1"),
    (lambda x: x.gather(1, mg.tensor([[4]])), IndexError, "dim 1 of size 4: got index 4"),
    (lambda x: x.gather(1, mg.tensor([[0]] * 4)), RuntimeError, r"\(4, 1\).*\(3, 4\)"),
    (lambda x: x.gather(1, mg.tensor([0, 1])), ValueError, "1 dims .* 2"),
    (lambda x: x.gather(1, mg.tensor([[0.5]])), IndexError, "integer"),
    (lambda x: x.scatter(1, mg.tensor([[-2]]), 1.0), IndexError, "got index -2"),
    (lambda x: x.scatter(1, mg.tensor([[0, 1, 2]]), mg.ones(1, 2, dtype=mg.float64)),
     RuntimeError, "src of shape"),
    (lambda x: x.scatter(1, mg.tensor([[0]]), mg.ones(1, 1)), TypeError, "float32"),
    (lambda x: x.scatter_add(0, mg.tensor([[3]]), mg.ones(1, 1, dtype=mg.float64)),
     IndexError, "dim 0 of size 3: got index 3"),
    (lambda x: x.index_add(0, mg.tensor([0, 1]), mg.ones(3, 4, dtype=mg.float64)),
     ValueError, r"\(3, 4\).*expected \(2, 4\)"),
    (lambda x: x.index_copy(0, mg.tensor([5]), mg.ones(1, 4, dtype=mg.float64)),
     IndexError, "got index 5"),
    (lambda x: x.scatter(1, mg.tensor([[0]]), mg.ones(1, 1, dtype=mg.float64), reduce="mean"),
     RuntimeError, "reduce argument must be either add or multiply"),
    (lambda x: x.scatter_reduce(0, mg.tensor([[0]]), mg.ones(1, 1, dtype=mg.float64), "add"),
     RuntimeError, "must be either sum, prod, mean, amax or amin, got add"),
    (lambda x: x.scatter_reduce(0, mg.tensor([[3]]), mg.ones(1, 1, dtype=mg.float64), "prod"),
     IndexError, "dim 0 of size 3: got index 3"),
    (lambda x: x.scatter_reduce(0, mg.tensor([[0]]), mg.ones(1, 1), "amax"), TypeError,
     "float32"),
])
def test_errors_name_the_index_and_size(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mg.tensor(X))


@pytest.mark.parametrize("name", ["gather_dim0_repeats", "scatter_src", "scatter_add_repeats",
                                  "index_add_alpha_repeat", "index_copy", "take_along_dim_bcast",
                                  "scatter_reduce_mean_no_self", "scatter_reduce_prod",
                                  "scatter_reduce_prod_no_self", "scatter_reduce_amax_no_self",
                                  "scatter_reduce_amin"])
def test_gradcheck_on_every_backend(backend, name):
    fn = SPEC[name]
    assert mg.gradcheck(lambda x, s: fn(mg, x, s), (mg.tensor(X, requires_grad=True),
                                                    mg.tensor(SRC, requires_grad=True)))
