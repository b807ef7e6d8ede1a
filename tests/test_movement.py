"""Movement ops (flip, roll, rot90, repeat, tile, repeat_interleave, tril/triu, diagonal, diag,
diag_embed, unflatten, unfold, movedim, swapaxes, narrow, tensor_split, h/v/dsplit, meshgrid,
atleast_Nd, h/v/d/column_stack) against torch: one spec table of float64 values and gradients
with random cotangents, one of integer / bool / 0-d / empty inputs compared exactly (dtype
too), views and copies, in-place forms, torch's errors, gradcheck on every backend."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd.core import movement

torch = pytest.importorskip("torch", reason="torch is the oracle for the movement ops")

R = np.random.default_rng(11)
X = R.standard_normal((3, 4))
B = R.standard_normal((2, 3, 4))

# name -> f(lib, x, b) using only names both libraries share; x (3, 4) and b (2, 3, 4) require
# grad; the result is a tensor or a tuple of tensors
DIFF = {
    "flip_fn": lambda L, x, b: L.flip(x, (0, 1)),
    "flip_method": lambda L, x, b: b.flip(0, 2),
    "flip_method_tuple_neg": lambda L, x, b: b.flip((-1,)),
    "flip_method_kw": lambda L, x, b: b.flip(dims=[0, -1]),
    "flip_no_dims": lambda L, x, b: L.flip(x, []),
    "fliplr": lambda L, x, b: L.fliplr(b),
    "flipud": lambda L, x, b: x.flipud(),
    "roll_flat": lambda L, x, b: L.roll(x, 5),
    "roll_dims": lambda L, x, b: L.roll(b, (1, -2), (0, 2)),
    "roll_same_dim_twice": lambda L, x, b: x.roll((1, 2), (1, 1)),
    "roll_method": lambda L, x, b: x.roll(-1, 0),
    "rot90": lambda L, x, b: L.rot90(x),
    "rot90_k2": lambda L, x, b: x.rot90(2),
    "rot90_k-1": lambda L, x, b: L.rot90(x, -1),
    "rot90_dims": lambda L, x, b: L.rot90(b, 1, (2, 0)),
    "rot90_k5_reversed": lambda L, x, b: b.rot90(5, [-1, 1]),
    "rot90_k0": lambda L, x, b: L.rot90(x, 4),
    "repeat": lambda L, x, b: x.repeat(2, 1, 3),
    "repeat_tuple": lambda L, x, b: x.repeat((1, 2)),
    "repeat_zero": lambda L, x, b: b.repeat(1, 0, 2),
    "tile_fewer": lambda L, x, b: L.tile(x, (2,)),
    "tile_method": lambda L, x, b: b.tile(2, 1, 1, 2),
    "tile_method_kw": lambda L, x, b: x.tile(dims=(2,)),
    "repeat_kw": lambda L, x, b: x.repeat(repeats=(2, 1)),
    "repeat_interleave_flat": lambda L, x, b: L.repeat_interleave(x, 2),
    "repeat_interleave_dim": lambda L, x, b: x.repeat_interleave(3, dim=1),
    "repeat_interleave_counts": lambda L, x, b: L.repeat_interleave(x, L.tensor([1, 0, 2]), 0),
    "repeat_interleave_one_count": lambda L, x, b: b.repeat_interleave(L.tensor([2]), -1),
    "repeat_interleave_0d_count": lambda L, x, b: L.repeat_interleave(x, L.tensor(2), 0,
                                                                      output_size=6),
    "tril": lambda L, x, b: L.tril(x),
    "triu_1": lambda L, x, b: x.triu(1),
    "tril_batched": lambda L, x, b: L.tril(b, -1),
    "triu_far": lambda L, x, b: L.triu(b, diagonal=5),
    "diagonal": lambda L, x, b: L.diagonal(x),
    "diagonal_offset": lambda L, x, b: x.diagonal(1),
    "diagonal_dims": lambda L, x, b: L.diagonal(b, -1, 2, 0),
    "diagonal_kw": lambda L, x, b: b.diagonal(offset=1, dim1=-1, dim2=1),
    "diagonal_empty": lambda L, x, b: x.diagonal(7),
    "diag_of_matrix": lambda L, x, b: L.diag(x, 1),
    "diag_of_vector": lambda L, x, b: L.diag(x[0]),
    "diag_of_vector_below": lambda L, x, b: x[1].diag(-2),
    "diag_embed": lambda L, x, b: L.diag_embed(x),
    "diag_embed_dims": lambda L, x, b: L.diag_embed(x, 1, 0, 2),
    "diag_embed_neg": lambda L, x, b: b.diag_embed(-1, -1, 0),
    "unflatten": lambda L, x, b: x.unflatten(1, (2, -1)),
    "unflatten_fn": lambda L, x, b: L.unflatten(b, -1, [2, 1, 2]),
    "unfold": lambda L, x, b: x.unfold(1, 2, 1),
    "unfold_step": lambda L, x, b: b.unfold(2, 2, 2),
    "unfold_dim0": lambda L, x, b: x.unfold(0, 2, 1),
    "unfold_gap": lambda L, x, b: b.unfold(-1, 1, 3),
    "unfold_twice": lambda L, x, b: b.unfold(1, 2, 1).unfold(2, 3, 1),
    "movedim": lambda L, x, b: L.movedim(b, 0, 2),
    "moveaxis_tuples": lambda L, x, b: L.moveaxis(b, (0, 1), (2, 0)),
    "movedim_method": lambda L, x, b: b.movedim([-1], [0]),
    "swapaxes": lambda L, x, b: L.swapaxes(b, 0, 2),
    "swapdims_method": lambda L, x, b: b.swapdims(-1, 1),
    "narrow": lambda L, x, b: L.narrow(x, 1, 1, 2),
    "narrow_negative_start": lambda L, x, b: x.narrow(0, -2, 2),
    "narrow_tensor_start": lambda L, x, b: L.narrow(x, 1, L.tensor(1), 3),
    "narrow_copy": lambda L, x, b: L.narrow_copy(b, 2, 0, 3),
    "tensor_split_sections": lambda L, x, b: L.tensor_split(x, 3, 1),
    "tensor_split_indices": lambda L, x, b: x.tensor_split([1, 3], 1),
    "tensor_split_unordered": lambda L, x, b: L.tensor_split(x, [3, 1, 9], dim=1),
    "tensor_split_tensor": lambda L, x, b: L.tensor_split(b, L.tensor([1]), dim=-1),
    "tensor_split_0d_tensor": lambda L, x, b: L.tensor_split(b, L.tensor(2), dim=2),
    "tensor_split_sections_kw": lambda L, x, b: L.tensor_split(x, sections=2, dim=0),
    "tensor_split_indices_kw": lambda L, x, b: L.tensor_split(x, indices=[-1]),
    "hsplit": lambda L, x, b: L.hsplit(x, 2),
    "hsplit_1d": lambda L, x, b: x[0].hsplit([1]),
    "vsplit": lambda L, x, b: L.vsplit(b, [1]),
    "dsplit": lambda L, x, b: b.dsplit(2),
    "meshgrid_ij": lambda L, x, b: L.meshgrid(x[0], x[1, :3], indexing="ij"),
    "meshgrid_xy": lambda L, x, b: L.meshgrid(x[0], x[1, :3], indexing="xy"),
    "meshgrid_list_0d": lambda L, x, b: L.meshgrid([x[0, :2], x[1, 1], x[2]], indexing="xy"),
    "meshgrid_one": lambda L, x, b: L.meshgrid(x[2], indexing="xy"),
    "atleast_1d": lambda L, x, b: L.atleast_1d(x[0, 0]),
    "atleast_2d_many": lambda L, x, b: L.atleast_2d(x[0, 0], x[1], b),
    "atleast_3d_list": lambda L, x, b: L.atleast_3d([x[0, 0], x[1], x]),
    "hstack": lambda L, x, b: L.hstack([x, x * 2]),
    "hstack_1d": lambda L, x, b: L.hstack((x[0], x[1, 0], x[2])),
    "vstack": lambda L, x, b: L.vstack([x[0], x]),
    "row_stack": lambda L, x, b: L.row_stack([x[0, 0:1], x[1, 2:3]]),
    "dstack": lambda L, x, b: L.dstack([x, x * 0.5, b[0]]),
    "column_stack": lambda L, x, b: L.column_stack([x[:, 0], x, x[:, 1]]),
}


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("name", list(DIFF))
def test_values_and_gradients_match_torch(name):
    fn = DIFF[name]
    x, b = mg.tensor(X, requires_grad=True), mg.tensor(B, requires_grad=True)
    tx, tb = torch.tensor(X, requires_grad=True), torch.tensor(B, requires_grad=True)
    outs, touts = _outputs(fn(mg, x, b)), _outputs(fn(torch, tx, tb))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(5)
    loss, tloss = 0, 0
    for out, tout in zip(outs, touts):
        assert out.shape == tuple(tout.shape), name
        np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
        cot = rng.standard_normal(tuple(tout.shape))
        loss = loss + (out * mg.tensor(cot)).sum()
        tloss = tloss + (tout * torch.tensor(cot)).sum()
    loss.backward()
    tloss.backward()
    for mine, theirs in ((x.grad, tx.grad), (b.grad, tb.grad)):
        if theirs is None:
            assert mine is None or not np.any(mine.numpy())
        else:
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)


I = np.arange(12).reshape(3, 4)
M = I % 3 == 0


def _lib_inputs(L):
    """int (3, 4), bool (3, 4), 0-d float, empty (0, 3) float."""
    return (L.tensor(I), L.tensor(M), L.tensor(2.5, dtype=L.float64),
            L.zeros(0, 3, dtype=L.float64))


# name -> f(lib, i, m, s, e) on integer / bool / 0-d / empty inputs; compared exactly, dtype too
EXACT = {
    "flip_int": lambda L, i, m, s, e: i.flip(1),
    "flip_0d": lambda L, i, m, s, e: s.flip(0),
    "flip_empty": lambda L, i, m, s, e: L.flip(e, (0, 1)),
    "roll_bool": lambda L, i, m, s, e: L.roll(m, 2, 1),
    "roll_0d": lambda L, i, m, s, e: L.roll(s, 3),
    "roll_empty": lambda L, i, m, s, e: e.roll(1, 0),
    "rot90_bool": lambda L, i, m, s, e: L.rot90(m, 3),
    "rot90_empty": lambda L, i, m, s, e: L.rot90(e),
    "repeat_bool": lambda L, i, m, s, e: m.repeat(2, 1),
    "repeat_0d": lambda L, i, m, s, e: s.repeat(3, 2),
    "repeat_0d_no_sizes": lambda L, i, m, s, e: s.repeat([]),
    "repeat_empty": lambda L, i, m, s, e: e.repeat(3, 2),
    "tile_0d": lambda L, i, m, s, e: L.tile(s, (2,)),
    "tile_0d_empty_dims": lambda L, i, m, s, e: L.tile(s, ()),
    "repeat_interleave_bool": lambda L, i, m, s, e: L.repeat_interleave(m[0], 2),
    "repeat_interleave_int_counts": lambda L, i, m, s, e: i.repeat_interleave(
        L.tensor([0, 3, 1, 0]), dim=1),
    "repeat_interleave_one_arg": lambda L, i, m, s, e: L.repeat_interleave(L.tensor([1, 0, 3])),
    "repeat_interleave_one_arg_int32": lambda L, i, m, s, e: L.repeat_interleave(
        L.tensor([2, 1], dtype=L.int32), output_size=3),
    "repeat_interleave_int32_counts": lambda L, i, m, s, e: L.repeat_interleave(
        i, L.tensor([2, 0, 1], dtype=L.int32), 0),
    "repeat_interleave_0d": lambda L, i, m, s, e: L.repeat_interleave(s, 3),
    "repeat_interleave_empty": lambda L, i, m, s, e: L.repeat_interleave(e, 2, 0),
    "repeat_interleave_zero": lambda L, i, m, s, e: L.repeat_interleave(i, 0, 1),
    "tril_int": lambda L, i, m, s, e: L.tril(i, 1),
    "triu_bool": lambda L, i, m, s, e: L.triu(m),
    "tril_empty": lambda L, i, m, s, e: L.tril(e),
    "diagonal_int": lambda L, i, m, s, e: L.diagonal(i, -1),
    "diagonal_empty": lambda L, i, m, s, e: e.diagonal(),
    "diag_bool": lambda L, i, m, s, e: L.diag(m[0], 1),
    "diag_int_matrix": lambda L, i, m, s, e: L.diag(i),
    "diag_embed_int": lambda L, i, m, s, e: L.diag_embed(i[:2, :2], -1),
    "diag_embed_empty": lambda L, i, m, s, e: L.diag_embed(e),
    "unflatten_int": lambda L, i, m, s, e: L.unflatten(i, 0, (3, 1)),
    "unflatten_empty": lambda L, i, m, s, e: e.unflatten(1, (3, 1)),
    "unflatten_empty_dim": lambda L, i, m, s, e: e.unflatten(0, (0, 5)),
    "unfold_bool": lambda L, i, m, s, e: m.unfold(1, 3, 1),
    "unfold_0d": lambda L, i, m, s, e: s.unfold(0, 1, 1),
    "unfold_0d_size0": lambda L, i, m, s, e: s.unfold(-1, 0, 2),
    "unfold_size0": lambda L, i, m, s, e: i.unfold(1, 0, 1),
    "unfold_empty": lambda L, i, m, s, e: e.unfold(0, 0, 1),
    "unfold_empty_other": lambda L, i, m, s, e: e.unfold(1, 2, 1),
    "movedim_0d": lambda L, i, m, s, e: L.movedim(s, 0, 0),
    "movedim_0d_tuples": lambda L, i, m, s, e: L.movedim(s, (), ()),
    "movedim_bool": lambda L, i, m, s, e: m.movedim(0, 1),
    "narrow_int_end": lambda L, i, m, s, e: L.narrow(i, 1, 4, 0),
    "narrow_tensor_neg": lambda L, i, m, s, e: L.narrow(i, 1, L.tensor(-1), 1),
    "tensor_split_empty": lambda L, i, m, s, e: L.tensor_split(e, 2)[1],
    "tensor_split_more_sections": lambda L, i, m, s, e: L.tensor_split(i, 6, 1)[5],
    "tensor_split_no_indices": lambda L, i, m, s, e: L.tensor_split(i, [])[0],
    "tensor_split_clamped": lambda L, i, m, s, e: L.tensor_split(i[0], [-7, 9])[1],
    "meshgrid_int": lambda L, i, m, s, e: L.meshgrid(i[0], i[1, :2], indexing="xy")[1],
    "meshgrid_0d": lambda L, i, m, s, e: L.meshgrid(s, indexing="ij")[0],
    "meshgrid_empty": lambda L, i, m, s, e: L.meshgrid(e[:, 0], s[None], indexing="ij")[0],
    "atleast_2d_0d": lambda L, i, m, s, e: L.atleast_2d(s),
    "atleast_3d_bool": lambda L, i, m, s, e: L.atleast_3d(m[0]),
    "hstack_0d": lambda L, i, m, s, e: L.hstack([s, s]),
    "vstack_promotes": lambda L, i, m, s, e: L.vstack([i[0], i[1].double()]),
    "dstack_int": lambda L, i, m, s, e: L.dstack([i[0], i[1]]),
    "column_stack_0d": lambda L, i, m, s, e: L.column_stack([s, s]),
    "column_stack_3d": lambda L, i, m, s, e: L.column_stack([i[None], i[None]]),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_integer_bool_0d_and_empty_inputs_match_torch(name):
    out, tout = EXACT[name](mg, *_lib_inputs(mg)), EXACT[name](torch, *_lib_inputs(torch))
    assert out.dtype.name == str(tout.dtype).replace("torch.", ""), name
    assert out.shape == tuple(tout.shape), name
    np.testing.assert_array_equal(out.numpy(), tout.numpy())


def test_the_public_names_are_torch_names():
    for name in movement.__all__:
        assert hasattr(torch, name) and hasattr(mg, name), name
    for name in movement.TENSOR_METHODS:
        assert hasattr(torch.Tensor, name) and hasattr(mg.Tensor, name), name


def test_one_tensor_in_one_tensor_out_and_no_copy_when_the_dims_are_there():
    x = mg.tensor(X)
    assert mg.atleast_2d(x) is x and mg.atleast_1d(x) is x
    assert isinstance(mg.atleast_1d(x[0, 0]), mg.Tensor)
    assert mg.atleast_1d() == ()
    assert isinstance(mg.tensor_split(x, 2), tuple) and isinstance(mg.meshgrid(
        x[0], indexing="ij"), tuple)


# ---- views and copies, as torch -------------------------------------------------------------
@pytest.mark.parametrize("view", [
    lambda L, t: t.diagonal(),
    lambda L, t: L.diagonal(t, -1),
    lambda L, t: t.unfold(1, 2, 2),
    lambda L, t: L.narrow(t, 1, 1, 2),
    lambda L, t: L.movedim(t, 0, 1),
    lambda L, t: t.swapaxes(0, 1),
    lambda L, t: t.unflatten(1, (2, 2)),
    lambda L, t: L.tensor_split(t, 2, 1)[1],
    lambda L, t: L.hsplit(t, [1])[0],
])
def test_views_share_storage_both_ways(view):
    for L in (mg, torch):  # write through the view, then into the base, in each library
        t = L.tensor(X.copy())
        v = view(L, t)
        v.add_(100.0)
        t.mul_(2.0)
        if L is mg:
            got_base, got_view = t.numpy().copy(), v.numpy().copy()
        else:
            np.testing.assert_array_equal(got_base, t.numpy())
            np.testing.assert_array_equal(got_view, v.numpy())


@pytest.mark.parametrize("copy", [
    lambda L, t: L.flip(t, (0,)), lambda L, t: t.roll(1, 1), lambda L, t: t.repeat(1, 1),
    lambda L, t: L.tile(t, (1,)), lambda L, t: L.repeat_interleave(t, 1, 0),
    lambda L, t: L.tril(t, 5), lambda L, t: L.diag(t), lambda L, t: L.narrow_copy(t, 0, 0, 3),
    lambda L, t: L.rot90(t, 4), lambda L, t: L.diag_embed(t),
])
def test_copies_do_not_see_later_writes(copy):
    t = mg.tensor(X.copy())
    out = copy(mg, t)
    before = out.numpy().copy()
    t.add_(1.0)
    np.testing.assert_array_equal(out.numpy(), before)


def test_overlapping_unfold_windows_are_read_only():
    # torch leaves a write to elements that two windows share undefined; here it is an error
    v = mg.arange(4.0).unfold(0, 2, 1)
    with pytest.raises((ValueError, RuntimeError), match="read-only|memory location"):
        v.add_(1.0)
    assert mg.arange(4.0).unfold(0, 2, 2).add_(1.0).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_diagonal_of_a_leaf_set_under_no_grad_as_torch():
    w, tw = mg.tensor(X.copy(), requires_grad=True), torch.tensor(X.copy(), requires_grad=True)
    with mg.no_grad():
        w.diagonal().fill_(0.5)
    with torch.no_grad():
        tw.diagonal().fill_(0.5)
    np.testing.assert_array_equal(w.detach().numpy(), tw.detach().numpy())


def test_in_place_triangles_match_torch_with_gradients():
    for L in (mg, torch):
        x = L.tensor(B, requires_grad=True)
        y = x * 1.0
        assert y.tril_(1) is y
        z = (x * 2.0).triu_(-1)
        cot = np.random.default_rng(2).standard_normal(B.shape)
        ((y + z) * L.tensor(cot)).sum().backward()
        if L is mg:
            got = (y.detach().numpy().copy(), z.detach().numpy().copy(), x.grad.numpy().copy())
    np.testing.assert_array_equal(got[0], y.detach().numpy())
    np.testing.assert_array_equal(got[1], z.detach().numpy())
    np.testing.assert_array_equal(got[2], x.grad.numpy())


def test_in_place_triangle_on_integers():
    i, ti = mg.tensor(I), torch.tensor(I)
    i.triu_(1)
    ti.triu_(1)
    assert i.tolist() == ti.tolist()


def test_meshgrid_warns_without_indexing_as_torch_and_not_with_it():
    v = mg.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="indexing"):
        a, = mg.meshgrid(v)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b, c = mg.meshgrid(v, v, indexing="ij")
    assert a.tolist() == [1.0, 2.0] and b.tolist() == [[1.0, 1.0], [2.0, 2.0]]


# ---- errors: micrograd's type and message, and torch raises the same type ----------------------
ERRORS = [
    (lambda L, x: L.flip(x, 0), TypeError, "tuple or list"),
    (lambda L, x: x.flip(0, 0), RuntimeError, "dim 0 appears multiple times"),
    (lambda L, x: x.flip(2), IndexError, "dim 2 is out of range"),
    (lambda L, x: L.fliplr(x[0]), RuntimeError, r"at least 2 dims.*\(4,\)"),
    (lambda L, x: L.flipud(x[0, 0]), RuntimeError, "at least 1 dims"),
    (lambda L, x: L.roll(x, (1, 2)), RuntimeError, r"shifts and dims must align.*\[1, 2\]"),
    (lambda L, x: L.roll(x, (1, 2), 0), RuntimeError, "must align"),
    (lambda L, x: L.roll(x, (), ()), RuntimeError, "shifts"),
    (lambda L, x: L.roll(x, 1.5), TypeError, "shifts must be an int, got float"),
    (lambda L, x: L.roll(x, 1, 2), IndexError, "dim 2 is out of range"),
    (lambda L, x: L.roll(x[0, 0], 1, 0), IndexError, "no dims"),
    (lambda L, x: L.rot90(x, 1, (0,)), RuntimeError, r"2 rotation dims.*\[0\]"),
    (lambda L, x: L.rot90(x[0]), RuntimeError, r"at least 2 dims.*\(4,\)"),
    (lambda L, x: L.rot90(x, 1, (0, -2)), RuntimeError, "different rotation dims"),
    (lambda L, x: L.rot90(x, 1.0), TypeError, "k must be an int"),
    (lambda L, x: x.repeat(2), RuntimeError, r"sizes \(1: \[2\]\) .* shape \(3, 4\)"),
    (lambda L, x: x.repeat(-1, 2), RuntimeError, "non-negative"),
    (lambda L, x: x.repeat(), TypeError, "sizes"),
    (lambda L, x: L.tile(x, 2), TypeError, "tuple or list"),
    (lambda L, x: L.repeat_interleave(x, -1), RuntimeError, "non-negative, got -1"),
    (lambda L, x: L.repeat_interleave(x, L.tensor([1, 2]), 0), RuntimeError,
     r"2 repeats for size 3 .*\(3, 4\)"),
    (lambda L, x: L.repeat_interleave(x, L.tensor([1.0, 2.0, 3.0]), 0), NotImplementedError,
     "int32 or int64 tensor, got float32"),
    (lambda L, x: L.repeat_interleave(x, L.tensor([1, 0, 2], dtype=L.uint8), 0),
     NotImplementedError, "got uint8"),
    (lambda L, x: L.repeat_interleave(x, L.tensor([[1, 0, 2]]), 0), RuntimeError,
     "0-dim or 1-dim"),
    (lambda L, x: L.repeat_interleave(x, L.tensor([1, -1, 2]), 0), RuntimeError,
     "can not be negative"),
    (lambda L, x: L.repeat_interleave(x, 2, 0, output_size=5), RuntimeError,
     "output_size=5 .* give 6"),
    (lambda L, x: L.repeat_interleave(x[0, 0], 3, 0), IndexError, "0-dim"),
    (lambda L, x: L.repeat_interleave(L.tensor([[1, 2]])), RuntimeError, "1-D tensor of counts"),
    (lambda L, x: L.repeat_interleave(x, 2.0), TypeError, "repeats must be an int"),
    (lambda L, x: L.tril(x[0]), RuntimeError, r"at least 2 dimensions.*\(4,\)"),
    (lambda L, x: L.triu(x, 1.0), TypeError, "diagonal must be an int"),
    (lambda L, x: L.diagonal(x, 0, 0, 0), RuntimeError, "cannot be identical"),
    (lambda L, x: L.diagonal(x[0]), IndexError, "dim 1 is out of range"),
    (lambda L, x: L.diagonal(x, 0, 0, 2), IndexError, "dim 2 is out of range"),
    (lambda L, x: L.diag(x[0, 0]), RuntimeError, r"1-D or 2-D .*\(\)"),
    (lambda L, x: L.diag(x[None]), RuntimeError, r"1-D or 2-D .*\(1, 3, 4\)"),
    (lambda L, x: L.diag_embed(x, 0, 0, 0), RuntimeError, "cannot be identical"),
    (lambda L, x: L.diag_embed(x[0, 0]), IndexError, "dim -2 is out of range"),
    (lambda L, x: x.unflatten(1, (3, 2)), RuntimeError, r"\[3, 2\] don't multiply up .* \(4\)"),
    (lambda L, x: x.unflatten(1, ()), RuntimeError, "non-empty"),
    (lambda L, x: x.unflatten(1, (-1, -1)), RuntimeError, "at most one -1"),
    (lambda L, x: x.unflatten(1, (0, -1)), RuntimeError, r"\[0, -1\]"),
    (lambda L, x: x.unflatten(2, (1, 4)), IndexError, "dim 2 is out of range"),
    (lambda L, x: x.unflatten(1, 4), TypeError, "tuple or list"),
    (lambda L, x: x.unflatten(1, (2.0, 2)), TypeError, "ints"),
    (lambda L, x: x[0, 0].unflatten(0, (1,)), RuntimeError, "0-dim"),
    (lambda L, x: x.unfold(1, 5, 1), RuntimeError, "dimension 1 is 4 but size is 5"),
    (lambda L, x: x.unfold(1, 2, 0), RuntimeError, "step is 0"),
    (lambda L, x: x.unfold(1, -1, 1), RuntimeError, "size is -1"),
    (lambda L, x: x.unfold(2, 1, 1), IndexError, "dim 2 is out of range"),
    (lambda L, x: x[0, 0].unfold(0, 2, 1), RuntimeError, "dimension 0 is 1 but size is 2"),
    (lambda L, x: L.movedim(x[None], (0, 0), (1, 2)), RuntimeError, r"repeated dim in `source`"),
    (lambda L, x: L.movedim(x[None], (0, 1), (1, 1)), RuntimeError,
     r"repeated dim in `destination`"),
    (lambda L, x: L.movedim(x, (0, 1), 1), TypeError, "both be ints or both be sequences"),
    (lambda L, x: L.movedim(x, 2, 0), IndexError, "dim 2 is out of range"),
    (lambda L, x: L.narrow(x, 1, -5, 1), IndexError, r"\[-4, 4\], but got -5"),
    (lambda L, x: L.narrow(x, 1, 5, 0), IndexError, "got 5"),
    (lambda L, x: L.narrow(x, 1, 3, 2), RuntimeError, r"start \(3\) \+ length \(2\) exceeds"),
    (lambda L, x: L.narrow(x, 1, 1, -1), RuntimeError, "length must be non-negative"),
    (lambda L, x: L.narrow(x[0, 0], 0, 0, 1), RuntimeError, "0-dim"),
    (lambda L, x: L.narrow(x, 1, L.tensor([1]), 2), RuntimeError, "0-dim integral"),
    (lambda L, x: L.narrow(x, 1, L.tensor(1.0), 2), RuntimeError, "0-dim integral"),
    (lambda L, x: L.narrow(x, 1, 1.0, 2), TypeError, "start must be an int"),
    (lambda L, x: L.tensor_split(x, 0), RuntimeError, "larger than 0, got 0"),
    (lambda L, x: L.tensor_split(x, L.tensor([1.0])), RuntimeError, "int64, got float32"),
    (lambda L, x: L.tensor_split(x, L.tensor(1, dtype=L.int32)), RuntimeError, "got int32"),
    (lambda L, x: L.tensor_split(x, L.tensor([[1]])), RuntimeError, r"0-D or 1-D.*\(1, 1\)"),
    (lambda L, x: L.tensor_split(x[0, 0], 2), RuntimeError, "at least a 1-dimensional"),
    (lambda L, x: L.tensor_split(x, 2, 2), IndexError, "dim 2 is out of range"),
    (lambda L, x: L.hsplit(x, 3), RuntimeError, "dimension 1, but the size of the dimension 4 "
                                                 "is not divisible by the split_size 3"),
    (lambda L, x: L.hsplit(x, 0), RuntimeError, "split_size 0"),
    (lambda L, x: L.hsplit(x[0, 0], 1), RuntimeError, "at least 1 dimension"),
    (lambda L, x: L.vsplit(x[0], 1), RuntimeError, "at least 2 dimension"),
    (lambda L, x: L.dsplit(x, 2), RuntimeError, "at least 3 dimension"),
    (lambda L, x: L.hsplit(x, L.tensor([1])), TypeError, "Tensor"),
    (lambda L, x: L.meshgrid(x[0], x, indexing="ij"), RuntimeError, r"0-D or 1-D.*\(3, 4\)"),
    (lambda L, x: L.meshgrid(indexing="ij"), RuntimeError, "non-empty"),
    (lambda L, x: L.meshgrid(x[0], x[0].long(), indexing="ij"), RuntimeError, "same dtype"),
    (lambda L, x: L.meshgrid(x[0], indexing="ji"), RuntimeError, "'xy' or 'ij'"),
    (lambda L, x: L.atleast_1d(1.0), TypeError, "expected a Tensor, got float"),
    (lambda L, x: L.hstack([]), RuntimeError, "non-empty"),
    (lambda L, x: L.hstack(x), TypeError, "tuple or list of Tensors"),
    (lambda L, x: L.column_stack([x, 1.0]), TypeError, "expected a Tensor"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS)
def test_errors_as_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mg, mg.tensor(X))
    with pytest.raises(exc):
        call(torch, torch.tensor(X))


# ---- gradcheck (finite differences, no torch needed) on every backend -------------------------
@pytest.mark.parametrize("name", [
    "flip_method", "roll_flat", "roll_dims", "rot90_dims", "repeat", "tile_method",
    "repeat_interleave_counts", "tril_batched", "diagonal_dims", "diag_of_vector_below",
    "diag_embed_neg", "unfold", "unfold_twice", "moveaxis_tuples", "narrow_tensor_start",
    "tensor_split_indices", "meshgrid_xy", "column_stack",
])
def test_gradcheck_on_every_backend(backend, name):
    x, b = mg.tensor(X, requires_grad=True), mg.tensor(B, requires_grad=True)
    assert mg.gradcheck(lambda x, b: DIFF[name](mg, x, b), (x, b))
