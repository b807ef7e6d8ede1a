"""The Tensor core as torch has it: pickling and deepcopy (data without the graph), what
``mg.tensor`` makes of big-endian arrays and of ints past int64, integer sums in int64,
sort/argsort/topk of a 0-d tensor, the in-place view ops (squeeze_, unsqueeze_, transpose_,
t_, swapaxes_, swapdims_), the in-place forms of comparisons, shifts and aliases, and
tensor_split's outputs (single views torch lets you change in place). Each runs on every
backend; torch, when installed, is the oracle for values, gradients and refusals."""
from __future__ import annotations

import copy
import inspect
import os
import pickle

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn


def _torch():
    if "asan" in os.environ.get("LD_PRELOAD", ""):  # the sanitizer job (scripts/sanitize.sh)
        pytest.skip("torch's C++ exceptions abort under the ASan preload; the main run compares")
    return pytest.importorskip("torch", reason="torch is the oracle here")


# ---- pickling and deepcopy -------------------------------------------------------------------
def _non_leaf():
    """A non-leaf whose graph holds backend objects (the fused linear layer's op, a matmul)."""
    lin = nn.Linear(3, 4).double()
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    return lin, (lin(x).relu() @ mg.ones(4, 2, dtype=mg.float64)) * 2.0


def test_pickling_a_non_leaf_keeps_the_data_not_the_graph(backend):
    lin, y = _non_leaf()
    back = pickle.loads(pickle.dumps(y))
    np.testing.assert_array_equal(back.detach().numpy(), y.detach().numpy())
    assert type(back) is mg.Tensor and back.is_leaf and back.grad_fn is None
    assert back.requires_grad and back.dtype == mg.float64  # as torch: a leaf requiring grad
    back.sum().backward()  # a usable leaf of its own
    np.testing.assert_array_equal(back.grad.numpy(), np.ones((2, 2)))


def test_pickling_keeps_the_class_and_drops_grad_as_torch(backend):
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    back = pickle.loads(pickle.dumps(p))
    assert type(back) is nn.Parameter and back.requires_grad and back.grad is None
    np.testing.assert_array_equal(back.detach().numpy(), [1.0, 2.0])
    view = mg.arange(12.0).reshape(3, 4)[:, 1::2]  # a strided view: its values, contiguous
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(view)).numpy(),
                                  view.numpy())
    t = _torch()
    tp = t.nn.Parameter(t.tensor([1.0, 2.0]))
    (tp * tp).sum().backward()
    assert pickle.loads(pickle.dumps(tp)).grad is None


def test_a_module_with_a_graph_around_pickles(backend):
    lin, y = _non_leaf()
    lin.cached = y  # a module attribute holding a non-leaf (e.g. kept for logging)
    back = pickle.loads(pickle.dumps(lin))
    np.testing.assert_array_equal(back.weight.detach().numpy(), lin.weight.detach().numpy())
    assert back.cached.is_leaf


def test_deepcopy_of_a_leaf_copies_data_and_grad(backend):
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    c = copy.deepcopy(w)
    assert c is not w and c.requires_grad and c.is_leaf
    np.testing.assert_array_equal(c.grad.numpy(), [3.0, 3.0])
    c.detach().add_(1.0)  # its own storage
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, -2.0])
    pair = copy.deepcopy([w, w])
    assert pair[0] is pair[1]  # one object stays one (memo)
    model = nn.Linear(2, 2)
    clone = copy.deepcopy(model)
    assert type(clone.weight) is nn.Parameter
    np.testing.assert_array_equal(clone.weight.detach().numpy(), model.weight.detach().numpy())


def test_deepcopy_of_a_non_leaf_is_torchs_error(backend):
    _, y = _non_leaf()
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(y)
    t = _torch()
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(t.ones(2, requires_grad=True) * 2)


# ---- conversions -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [">f4", ">f8", ">i4", ">i8", ">i2", "<f8"])
def test_big_endian_arrays_are_converted(dtype):
    a = np.arange(-3, 3).astype(dtype)
    for make in (mg.tensor, mg.as_tensor, mg.Tensor):
        t = make(a)
        assert t.dtype.name == np.dtype(dtype).newbyteorder("=").name
        assert t._array.dtype.isnative
        np.testing.assert_array_equal(t.numpy(), a)
    assert (mg.tensor(a) * 2).tolist() == (a * 2).tolist()


@pytest.mark.parametrize("data", [[2**64], [1, 2**63], 2**63, [[0], [-2**63 - 1]]])
def test_ints_past_int64_overflow_as_torch(data):
    with pytest.raises(ValueError, match="Overflow when unpacking long"):
        mg.tensor(data)
    t = _torch()
    with pytest.raises((ValueError, RuntimeError), match="Overflow when unpacking long"):
        t.tensor(data)


def test_int64_bounds_and_big_floats_still_convert():
    assert mg.tensor([2**63 - 1, -2**63]).tolist() == [2**63 - 1, -2**63]
    assert mg.tensor([2**64, 1.5]).dtype == mg.float32  # a float makes it floating, as torch
    assert mg.tensor([2**64], dtype=mg.float64).item() == 2.0**64
    with pytest.raises(ValueError, match="Overflow when unpacking long"):
        mg.tensor([2**63], dtype=mg.int64)
    for bad in (None, [1, None], [2**64, None]):  # not numbers: the dtype error, as before
        with pytest.raises(TypeError, match="dtype object"):
            mg.tensor(bad)


# ---- integer sums, 0-d sorting -----------------------------------------------------------------
SUMS = {  # name -> f(lib): an integer or bool sum; dtype and value compared with torch's
    "uint8": lambda L: L.tensor(np.full((2, 3), 200, np.uint8)).sum(),
    "uint8_dim": lambda L: L.tensor(np.full((2, 3), 200, np.uint8)).sum(1),
    "int8_keepdim": lambda L: L.tensor(np.full((2, 3), -100, np.int8)).sum(0, keepdim=True),
    "int16": lambda L: L.tensor(np.full(4, 30000, np.int16)).sum(),
    "int32": lambda L: L.tensor(np.full(3, 2**30, np.int32)).sum(),
    "bool": lambda L: L.tensor([True, True, False]).sum(),
    "uint8_dtype_uint8": lambda L: L.tensor(np.full(3, 200, np.uint8)).sum(dtype=L.uint8),
    "int32_dtype_int32": lambda L: L.tensor(np.full(3, 7, np.int32)).sum(dtype=L.int32),
    "int64_dtype_float": lambda L: L.tensor([1, 2]).sum(dtype=L.float64),
}


@pytest.mark.parametrize("name", list(SUMS))
def test_integer_sums_have_torchs_dtype_and_value(name, backend):
    out = SUMS[name](mg)
    assert out.dtype.name in ("int64", "uint8", "int32", "float64")
    t = _torch()
    ref = SUMS[name](t)
    assert out.dtype.name == str(ref.dtype)[len("torch."):]
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


ZERO_D = {  # name -> f(lib, x) on a 0-d x
    "sort": lambda L, x: x.sort(),
    "sort_desc": lambda L, x: L.sort(x, 0, descending=True),
    "sort_dim_minus_1": lambda L, x: x.sort(dim=-1),
    "argsort": lambda L, x: (x.argsort(),),
    "argsort_desc": lambda L, x: (L.argsort(x, descending=True),),
    "topk_1": lambda L, x: x.topk(1),
    "topk_0": lambda L, x: L.topk(x, 0),
    "kthvalue": lambda L, x: x.kthvalue(1),
    "msort": lambda L, x: (L.msort(x.reshape(1)),),
}


@pytest.mark.parametrize("name", list(ZERO_D))
def test_sorting_a_0d_tensor_as_torch(name, backend):
    x = mg.tensor(2.5, dtype=mg.float64, requires_grad=True)
    out = ZERO_D[name](mg, x)
    t = _torch()
    tx = t.tensor(2.5, dtype=t.float64, requires_grad=True)
    ref = ZERO_D[name](t, tx)
    for a, b in zip(out, ref):
        assert a.shape == tuple(b.shape) and a.dtype.name == str(b.dtype)[len("torch."):]
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    if out[0].requires_grad:
        (out[0] * 3.0).sum().backward()
        (ref[0] * 3.0).sum().backward()
        assert x.grad.item() == tx.grad.item() == 3.0


def test_sorting_a_0d_tensor_checks_dim_as_torch():
    for call in (lambda x: x.sort(dim=1), lambda x: x.argsort(dim=-2)):
        with pytest.raises(IndexError, match="out of range"):
            call(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match="out of range"):
        mg.tensor(1.0).topk(2)
    t = _torch()
    with pytest.raises(IndexError):
        t.tensor(1.0).sort(dim=1)


# ---- in-place view ops -------------------------------------------------------------------------
VIEW_OPS = {  # name -> (shape, f(t)): the in-place view op
    "squeeze_": ((3, 1, 2), lambda t: t.squeeze_()),
    "squeeze_dim": ((3, 1, 2), lambda t: t.squeeze_(1)),
    "squeeze_dims": ((1, 3, 1, 2), lambda t: t.squeeze_((0, 2))),
    "squeeze_not_one": ((3, 1, 2), lambda t: t.squeeze_(0)),
    "unsqueeze_": ((3, 2), lambda t: t.unsqueeze_(1)),
    "unsqueeze_last": ((3, 2), lambda t: t.unsqueeze_(-1)),
    "transpose_": ((2, 3, 4), lambda t: t.transpose_(0, 2)),
    "t_": ((3, 2), lambda t: t.t_()),
    "t_1d": ((3,), lambda t: t.t_()),
    "swapaxes_": ((2, 3, 4), lambda t: t.swapaxes_(1, -1)),
    "swapdims_": ((2, 3, 4), lambda t: t.swapdims_(0, 1)),
}


@pytest.mark.parametrize("name", list(VIEW_OPS))
def test_inplace_view_ops_on_a_non_leaf_match_torch(name, backend):
    """Recorded: self (same object) takes the new shape, the version goes up, and gradients
    reach the leaf through later uses (new shape) and earlier ones (old shape)."""
    shape, op = VIEW_OPS[name]
    x0 = np.random.default_rng(0).standard_normal(shape)
    results = []
    for L in (mg, _torch()):
        w = L.tensor(x0, requires_grad=True)
        y = w * 2.0
        before = (y * y).sum()  # an earlier use: y's old shape (its saved y is y's old state)
        early = y.exp()         # saves its output, not y: unaffected by y's change
        v0 = y._version
        assert op(y) is y
        assert y._version == v0 + 1
        cot = np.random.default_rng(1).standard_normal(tuple(y.shape))
        loss = (y * L.tensor(cot)).sum() + early.sum()
        loss.backward()
        results.append((tuple(y.shape), y.detach().numpy().copy(), w.grad.numpy().copy()))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            before.backward()
    (ms, mv, mgrad), (ts, tv, tgrad) = results
    assert ms == ts
    np.testing.assert_array_equal(mv, tv)
    np.testing.assert_allclose(mgrad, tgrad, rtol=1e-14)


@pytest.mark.parametrize("name", list(VIEW_OPS))
def test_inplace_view_ops_refuse_a_leaf_requiring_grad_and_run_under_no_grad(name, backend):
    shape, op = VIEW_OPS[name]
    results = []
    for L in (mg, _torch()):
        w = L.ones(shape, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op(w)
        assert tuple(w.shape) == shape
        with L.no_grad():
            assert op(w) is w
        assert w.is_leaf and w.requires_grad and w._version == 1
        plain = L.tensor(np.arange(float(np.prod(shape))).reshape(shape))
        view = plain.reshape(-1)  # shares plain's storage, which the op keeps
        op(plain)
        view.add_(1.0)
        results.append((tuple(w.shape), plain.numpy().copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_inplace_view_op_through_gradcheck(backend):
    def f(a):
        y = a * 1.0
        y.unsqueeze_(0).transpose_(0, 2)
        return (y * y.sum()).t_() if y.ndim <= 2 else y.squeeze_(1) ** 3
    assert mg.gradcheck(f, (mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3),
                                      dtype=mg.float64, requires_grad=True),))


def test_t_on_more_than_2_dims_is_torchs_error():
    with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions"):
        mg.ones(2, 3, 4).t_()
    with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions"):
        _torch().ones(2, 3, 4).t_()


# ---- in-place forms of comparisons, shifts and aliases -----------------------------------------
INPLACE = {  # name -> f(t, lib) on a float64 non-leaf (3, 4)
    "divide_": lambda t, L: t.divide_(L.tensor(2.5, dtype=L.float64)),
    "divide_floor": lambda t, L: t.divide_(0.7, rounding_mode="floor"),
    "multiply_": lambda t, L: t.multiply_(-1.5),
    "subtract_": lambda t, L: t.subtract_(L.ones(4, dtype=L.float64), alpha=2.0),
    "true_divide_": lambda t, L: t.true_divide_(4.0),
    "negative_": lambda t, L: t.negative_(),
    "eq_": lambda t, L: t.eq_(t.detach().round()),
    "ne_": lambda t, L: t.ne_(0.0),
    "lt_": lambda t, L: t.lt_(0.25),
    "le_": lambda t, L: t.le_(L.zeros(4, dtype=L.float64)),
    "gt_": lambda t, L: t.gt_(-0.5),
    "ge_": lambda t, L: t.ge_(0.0),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_match_torch(name, backend):
    x0 = np.random.default_rng(2).uniform(-2, 2, (3, 4))
    cot = np.random.default_rng(3).standard_normal((3, 4))
    results = []
    for L in (mg, _torch()):
        w = L.tensor(x0, requires_grad=True)
        y = w * 1.0
        assert INPLACE[name](y, L) is y
        assert y.dtype == L.float64 and y._version == 1
        (y * L.tensor(cot)).sum().backward()
        with pytest.raises(RuntimeError, match="leaf Variable"):
            INPLACE[name](L.tensor(x0, requires_grad=True), L)
        results.append((y.detach().numpy().copy(), w.grad.numpy().copy()))
    (mv, mgrad), (tv, tgrad) = results
    np.testing.assert_allclose(mv, tv, rtol=1e-14)
    np.testing.assert_allclose(mgrad, tgrad, rtol=1e-14)


INT_INPLACE = {  # name -> f(t, lib) on an int64 tensor
    "bitwise_left_shift_": lambda t, L: t.bitwise_left_shift_(2),
    "bitwise_right_shift_": lambda t, L: t.bitwise_right_shift_(L.tensor([1, 0, 2, 3])),
    "floor_divide_": lambda t, L: t.floor_divide_(-3),
    "eq_": lambda t, L: t.eq_(5),
    "lt_float": lambda t, L: t.lt_(2.5),
    "ge_": lambda t, L: t.ge_(L.tensor([0, 9, 1, 2])),
    "negative_": lambda t, L: t.negative_(),
    "multiply_": lambda t, L: t.multiply_(3),
    "subtract_": lambda t, L: t.subtract_(2, alpha=3),
}


@pytest.mark.parametrize("name", list(INT_INPLACE))
def test_integer_inplace_forms_match_torch(name):
    results = []
    for L in (mg, _torch()):
        t = L.tensor([5, -7, 12, 1])
        assert INT_INPLACE[name](t, L) is t
        results.append((t.dtype == L.int64, t.numpy().tolist()))
    assert results[0] == results[1]


def test_floor_divide_in_place_on_floats_gives_torchs_values():
    """(torch has no derivative for floor_divide; micrograd's is zero, as div's floor mode.)"""
    x0 = np.random.default_rng(2).uniform(-2, 2, (3, 4))
    ours, theirs = mg.tensor(x0), _torch().tensor(x0)
    ours.floor_divide_(0.3)
    theirs.floor_divide_(0.3)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call", [lambda t: t.true_divide_(2), lambda t: t.divide_(2),
                                  lambda t: t.multiply_(0.5)])
def test_inplace_float_results_into_integers_are_refused_as_torch(call):
    with pytest.raises(RuntimeError, match="can't be cast"):
        call(mg.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError):
        call(_torch().tensor([1, 2, 3]))


def test_bit_shifts_in_place_refuse_floats_as_torch():
    with pytest.raises(TypeError, match="bitwise_left_shift"):
        mg.ones(3).bitwise_left_shift_(1)
    with pytest.raises((NotImplementedError, RuntimeError)):
        _torch().ones(3).bitwise_left_shift_(1)


# ---- tensor_split's outputs --------------------------------------------------------------------
SPLITS = {
    "tensor_split": lambda L, x: x.tensor_split(2),
    "tensor_split_indices": lambda L, x: x.tensor_split([1, 3], dim=1),
    "hsplit": lambda L, x: L.hsplit(x, 2),
    "vsplit": lambda L, x: L.vsplit(x, [1]),
    "dsplit": lambda L, x: L.dsplit(x.reshape(2, 2, 2), 2),
}


@pytest.mark.parametrize("name", list(SPLITS))
def test_tensor_split_outputs_change_in_place_as_torch(name, backend):
    """torch builds tensor_split (and h/v/dsplit) of slices, so unlike split's outputs each
    piece is a view of its own that may change in place while recorded; writes reach the
    input and gradients match torch's."""
    results = []
    for L in (mg, _torch()):
        a = L.tensor(np.arange(8.0).reshape(2, 4), requires_grad=True)
        x = a * 1.0
        pieces = SPLITS[name](L, x)
        pieces[0].mul_(3.0)
        pieces[1].exp_()
        loss = (x.reshape(-1) * L.arange(8.0, dtype=L.float64)).sum() + (pieces[0] ** 2).sum()
        loss.backward()
        results.append((x.detach().numpy().copy(), a.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-14)


def test_split_outputs_still_refuse_in_place_changes_as_torch():
    for L in (mg, _torch()):
        x = L.ones(4, 2, requires_grad=True) * 1.0
        with pytest.raises(RuntimeError, match="Output 0 of Split"):
            x.split(2)[0].add_(1.0)


# ---- var / std / all / any: one definition ---------------------------------------------------
@pytest.mark.parametrize("name", ["var", "std", "all", "any"])
def test_var_std_all_any_methods_are_the_reductions_family(name):
    """Tensor.var/std/all/any come from core/reductions.py alone (tensor.py's older copies,
    which the family replaced at import, are gone)."""
    from micrograd.core import reductions, tensor
    assert inspect.unwrap(getattr(mg.Tensor, name)) is getattr(reductions, name)
    assert f"def {name}(self" not in inspect.getsource(tensor)
