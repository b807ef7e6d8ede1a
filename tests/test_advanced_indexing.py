"""Indexing as torch: integers select (basic indexing, a view) and only index tensors, lists and
bool masks gather, so mixes of ints, slices, None, ..., masks, lists and int64/int32/0-d index
tensors give torch's shapes, values and gradients, for reading and for ``t[index] = value``
(recorded: value's gradient is g at the region, the earlier t's is g with the region zeroed).
A spec table of named index expressions and a few hundred random ones on random shapes run
through micrograd and torch (float64, random cotangents); torch's errors; gradcheck on every
backend."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for indexing")
pytestmark = pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")

R = np.random.default_rng(11)
X = R.standard_normal((2, 3, 4, 5))
M23 = np.array([[True, False, True], [False, True, True]])
M45 = R.random((4, 5)) < 0.4


def _i(L, a, dtype="int64"):
    return L.tensor(a, dtype=getattr(L, dtype))


# name -> f(lib): an index of X (shape (2, 3, 4, 5)) built with that library's objects
GET = {
    "int_slice_list": lambda L: (0, slice(None), [1, 2]),          # numpy: (2, 3, 5)
    "list_slice_int": lambda L: ([0, 1], slice(None), 0),
    "int_list_slice_list": lambda L: (0, [0, 1], slice(None), [1, 2]),
    "slice_list_int_list": lambda L: (slice(None), [0, 1], 0, [1, 2]),
    "lists_apart": lambda L: ([1, 0], slice(1, None), slice(None), [4, 0]),
    "tensor_0d_selects": lambda L: L.tensor(1),
    "tensor_0d_between": lambda L: (0, L.tensor(-1), [0, 3]),
    "tensor_0d_int32": lambda L: (slice(None), _i(L, 2, "int32")),
    "true": lambda L: True,
    "false_then_int": lambda L: (False, 0),
    "none_true_int": lambda L: (None, True, 0),
    "tensor_true_lists": lambda L: (L.tensor(True), [0, 1], slice(None), [0, 1]),
    "list_slice_tensor_true": lambda L: ([0, 1], slice(None), L.tensor(True)),
    "mask_2d": lambda L: L.tensor(M23),
    "mask_after_ellipsis": lambda L: (Ellipsis, L.tensor(M45)),
    "int_then_mask": lambda L: (1, slice(None), L.tensor(M45)),
    "mask_and_list": lambda L: (L.tensor(M23[:, 2]), [1, 2], Ellipsis, [0, 3]),
    "uint8_mask": lambda L: _i(L, [1, 0], "uint8"),
    "bool_list_mask": lambda L: (slice(None), [True, False, True]),
    "negative_tensor": lambda L: (slice(None), L.tensor([-1, -3])),
    "int32_tensor": lambda L: _i(L, [1, 0, 1], "int32"),
    "broadcast_2d": lambda L: (slice(None), [[0], [2]], [[1, 3]]),
    "broadcast_with_slice_between": lambda L: ([[0], [1]], slice(None), [[1, 3, 0]]),
    "ellipsis_list_none": lambda L: (1, Ellipsis, [0, 1], None),
    "list_none_list": lambda L: ([0], None, [1]),
    "list_of_lists_is_a_tuple": lambda L: [[0, 1], [1, 0]],
    "list_with_a_slice_is_a_tuple": lambda L: [0, slice(None), [1, 2]],
    "list_with_tensors_is_a_tuple": lambda L: [L.tensor(0), 1],
    "empty_list": lambda L: [],
    "empty_list_second": lambda L: (slice(None), []),
    "repeats": lambda L: ([1, 1, 0],),
    "steps_and_list": lambda L: (slice(None, None, 2), slice(1, None), [3, 0]),
    "float_list_truncates": lambda L: [0.7, 1.2],
    "range": lambda L: range(2),
    "numpy_array": lambda L: (slice(None), np.array([2, 0])),
    "two_ellipses": lambda L: (Ellipsis, Ellipsis),
    "int_ellipsis_int_ellipsis": lambda L: (0, Ellipsis, 1, Ellipsis),
    "all_ints_0d": lambda L: (1, 2, 3, 4),
    "ints_and_none": lambda L: (1, None, 2),
    "slices_clamp": lambda L: (slice(-10, 1), slice(5, 100)),
    "index_tensor_2d": lambda L: L.tensor([[1, 0], [0, 0]]),
}


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warning for list-as-tuple indices
        return fn()


def _compare_get(make_index, x0, seed):
    cot = None
    results = []
    for L in (mg, torch):
        x = L.tensor(x0, requires_grad=True)
        out = _quiet(lambda: x[make_index(L)])
        if cot is None:
            cot = np.random.default_rng(seed).standard_normal(tuple(out.shape))
        (out * L.tensor(cot)).sum().backward()
        view = out._base is not None if L is mg else out._is_view()
        results.append((tuple(out.shape), out.detach().numpy(), x.grad.numpy(), view))
    (ms, mv, mgrad, mview), (ts, tv, tgrad, tview) = results
    assert ms == ts
    np.testing.assert_array_equal(mv, tv)
    np.testing.assert_allclose(mgrad, tgrad, rtol=1e-12, atol=0)
    assert mview == tview


def _compare_set(make_index, x0, seed, broadcast_value):
    """t = x * 1; t[index] = v (v requires grad): t's values, and the gradients of x and v."""
    rng = np.random.default_rng(seed)
    region = _quiet(lambda: torch.tensor(x0)[make_index(torch)]).shape
    vshape = tuple(region[-1:]) if broadcast_value and len(region) else tuple(region)
    v0, cot = rng.standard_normal(vshape), rng.standard_normal(x0.shape)
    places = _quiet(lambda: torch.arange(x0.size).reshape(x0.shape)[make_index(torch)])
    exact = places.unique().numel() == places.numel()  # torch leaves repeats' winner open
    results = []
    for L in (mg, torch):
        x, v = L.tensor(x0, requires_grad=True), L.tensor(v0, requires_grad=True)
        t = x * 1
        _quiet(lambda: t.__setitem__(make_index(L), v))
        (t * L.tensor(cot)).sum().backward()
        results.append((t.detach().numpy(), x.grad.numpy(), v.grad.numpy()))
    (mt, mx, mvg), (tt, tx, tvg) = results
    if exact:
        np.testing.assert_array_equal(mt, tt)
    np.testing.assert_allclose(mx, tx, rtol=1e-12, atol=0)
    np.testing.assert_allclose(mvg, tvg, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(GET))
def test_reading_matches_torch_shapes_values_gradients_and_views(name):
    _compare_get(GET[name], X, 1)


@pytest.mark.parametrize("name", list(GET))
def test_writing_matches_torch_values_and_gradients(name):
    _compare_set(GET[name], X, 2, broadcast_value=False)
    _compare_set(GET[name], X, 3, broadcast_value=True)


# ---- random index expressions on random shapes -----------------------------------------------
def _random_index(rng: np.random.Generator, shape: tuple):
    """A random torch index of ``shape`` (as f(lib)): ints, slices, None, True, one ``...``,
    lists, int64/int32/0-d index tensors, one bool mask; the index arrays broadcast together."""
    ndim, items, d = len(shape), [], 0
    group = [(2,), (3,), (2, 1), (1, 3)][rng.integers(4)]  # the arrays' broadcast shape
    have_mask = have_array = have_ellipsis = False
    while d < ndim:
        kind = rng.choice(["int", "slice", "none", "true", "list", "tensor", "tensor32",
                           "tensor0d", "mask", "ellipsis", "stop"])
        n = shape[d]
        if kind == "stop" and not have_ellipsis:
            break
        if kind == "ellipsis" and not have_ellipsis:
            have_ellipsis, skip = True, int(rng.integers(0, ndim - d + 1))
            items.append(("ellipsis", None))
            d += skip
        elif kind == "none":
            items.append(("none", None))
        elif kind == "true":
            items.append(("true", None))
        elif kind == "slice":
            lo, hi = rng.integers(-n - 1, n + 2, 2)
            items.append(("slice", slice(int(lo), int(hi), int(rng.integers(1, 3)))))
            d += 1
        elif kind == "mask" and not have_mask and not have_array:
            k = int(rng.integers(1, min(2, ndim - d) + 1))
            items.append(("mask", rng.random(shape[d:d + k]) < 0.5))
            have_mask, d = True, d + k
        elif kind in ("list", "tensor", "tensor32") and not have_mask:
            sub = [group, group[-1:], (1,)][rng.integers(3)]
            items.append((kind, rng.integers(-n, n, sub)))
            have_array, d = True, d + 1
        elif kind == "tensor0d":
            items.append(("tensor0d", int(rng.integers(-n, n))))
            d += 1
        else:
            items.append(("int", int(rng.integers(-n, n))))
            d += 1

    def build(L):
        out = []
        for kind, v in items:
            out.append({"int": lambda: v, "slice": lambda: v, "none": lambda: None,
                        "true": lambda: True, "ellipsis": lambda: Ellipsis,
                        "list": lambda: v.tolist(), "tensor": lambda: L.tensor(v),
                        "tensor32": lambda: L.tensor(v, dtype=L.int32),
                        "tensor0d": lambda: L.tensor(v), "mask": lambda: L.tensor(v)}[kind]())
        return tuple(out)
    return build


@pytest.mark.parametrize("block", range(4))
def test_random_index_expressions_match_torch(block):
    for seed in range(block * 60, block * 60 + 60):
        rng = np.random.default_rng(seed)
        shape = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 5)))
        x0 = rng.standard_normal(shape)
        make_index = _random_index(rng, shape)
        try:
            _quiet(lambda: torch.tensor(x0)[make_index(torch)])
        except (IndexError, RuntimeError, ValueError) as exc:  # torch refuses: so must we
            with pytest.raises(type(exc)):
                mg.tensor(x0)[make_index(mg)]
            continue
        _compare_get(make_index, x0, seed)
        _compare_set(make_index, x0, seed, broadcast_value=bool(seed % 2))


# ---- views, dtypes, values --------------------------------------------------------------------
def test_integer_indices_give_views_and_index_arrays_copies():
    x = mg.tensor(np.zeros((2, 3)))
    x[1][2] = 5.0            # x[1] is a view
    x[0, 1] = 4.0
    x[mg.tensor(0)][0] = 3.0  # a 0-d index tensor selects: a view too
    x[[0]][0, 2] = 9.0       # an index list gathers: a copy, x unchanged
    assert x.tolist() == [[3.0, 4.0, 0.0], [0.0, 0.0, 5.0]]
    s = x[1, 2]
    assert s.shape == () and s._base is x
    s.fill_(7.0)             # a 0-d view writes through, as torch
    assert x[1, 2].item() == 7.0 and x._version == 4


def test_setitem_values_cast_and_broadcast_as_torch():
    cases = [
        (lambda L, t: t.__setitem__(0, 1.7), "int64"),
        (lambda L, t: t.__setitem__(0, L.tensor([1.7, 2.2, -3.9])), "int64"),
        (lambda L, t: t.__setitem__((slice(None), 1), L.tensor([1, 2])), "float32"),
        (lambda L, t: t.__setitem__(0, L.ones(1, 1, 3)), "float32"),
        (lambda L, t: t.__setitem__([1], L.ones(1, 1, 3)), "float32"),
        (lambda L, t: t.__setitem__(L.tensor([[True, False, True]] * 2), 5), "float32"),
        (lambda L, t: t.__setitem__(L.tensor([[True, False, True]] * 2),
                                    L.tensor([1.0, 2, 3, 4])), "float32"),
        (lambda L, t: t.__setitem__(L.tensor([True, False]), L.tensor(3.0, dtype=L.float64)),
         "float32"),
        (lambda L, t: t.__setitem__((None, 0), L.ones(1, 3)), "float32"),
        (lambda L, t: t.__setitem__(True, L.ones(2, 3) * 2), "float32"),
        (lambda L, t: t.__setitem__((Ellipsis, 1), L.tensor([4.0, 5.0])), "float32"),
        (lambda L, t: t.__setitem__(L.tensor(1), True), "float32"),
    ]
    for set_, dtype in cases:
        got = []
        for L in (mg, torch):
            t = L.zeros(2, 3, dtype=getattr(L, dtype))
            set_(L, t)
            got.append(t)
        assert got[0].dtype == getattr(mg, dtype) and got[0].tolist() == got[1].tolist()


def test_setitem_takes_numpy_arrays_and_lists_too():
    # torch raises TypeError for these values; micrograd casts them (its own code relies on it)
    t = mg.zeros(2, 3, dtype=mg.int64)
    t[0] = np.array([1.5, 2.5, -3.5])
    t[1, [0, 2]] = [7, 8]
    assert t.tolist() == [[1, 2, -3], [7, 0, 8]]


def test_repeated_index_last_write_wins_and_every_write_gets_its_gradient():
    got = []
    for L in (mg, torch):
        w = L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64, requires_grad=True)
        v = L.tensor([10.0, 20.0, 30.0], dtype=L.float64, requires_grad=True)
        t = w * 1
        t[[0, 2, 0]] = v
        (t * L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64)).sum().backward()
        got.append((t.tolist(), w.grad.tolist(), v.grad.tolist()))
    assert got[0] == got[1] == ([30.0, 2.0, 20.0, 4.0], [0.0, 2.0, 0.0, 4.0], [1.0, 3.0, 1.0])


def test_setitem_grad_fn_names_as_torch():
    for index, name in [((slice(None), [0]), "IndexPutBackward"), ((0, [0]), "CopySlices"),
                        (1, "CopySlices"), (slice(None), "CopyBackwards"),
                        (Ellipsis, "CopyBackwards")]:
        for L in (mg, torch):
            t = L.ones(3, 2, requires_grad=True) * 1
            t[index] = L.ones(1, requires_grad=True)
            assert (t.grad_fn.name() if L is mg else type(t.grad_fn).__name__).rstrip("0") == name


def test_setitem_into_a_tensor_without_grad_makes_it_require_grad():
    got = []
    for L in (mg, torch):
        t = L.zeros(3, dtype=L.float64)
        v = L.tensor(2.0, dtype=L.float64, requires_grad=True)
        t[1] = v
        assert t.requires_grad and not t.is_leaf
        (t * L.tensor([1.0, 5.0, 7.0], dtype=L.float64)).sum().backward()
        got.append(v.grad.item())
    assert got == [5.0, 5.0]


# ---- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("index,exc,match", [
    (5, IndexError, r"index 5 is out of bounds for dimension 0 with size 2"),
    ((0, slice(None), 9), IndexError, "index 9 is out of bounds for dimension 2 with size 4"),
    ((0, slice(None), [9]), IndexError, "index 9 is out of bounds for dimension 2 with size 4"),
    ((slice(None), mg.tensor([-4])), IndexError, "index -4 is out of bounds for dimension 1"),
    (mg.tensor(2), IndexError, "index 2 is out of bounds for dimension 0 with size 2"),
    ((0, 0, 0, 0, 0), IndexError, "too many indices for tensor of dimension 4"),
    ((mg.tensor([True, False, True]),), IndexError,
     r"shape of the mask \[3\] at index 0 does not match .* \[2, 3, 4, 5\] at index 0"),
    ((0, mg.tensor([[True, False]] * 2)), IndexError, r"mask \[2, 2\] at index 0 .* index 1"),
    (([0, 1], [0, 1, 2]), IndexError, r"could not be broadcast together with shapes \[2\], \[3\]"),
    (1.5, IndexError, r"valid indices \(got float\)"),
    (mg.tensor([1.0]), IndexError, "must be long, int, byte or bool"),
    (mg.tensor([1], dtype=mg.int16), IndexError, "must be long, int, byte or bool"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (slice(None, None, 0), ValueError, "slice step cannot be zero"),
    ((Ellipsis, Ellipsis, 0), IndexError, "out of range"),
])
def test_index_errors_as_torch_naming_index_and_shape(index, exc, match):
    x = mg.tensor(X)
    with pytest.raises(exc, match=match) as info:
        x[index]
    if exc is IndexError:
        assert "shape (2, 3, 4, 5)" in str(info.value)
    with pytest.raises(exc, match=match):
        x[index] = 1.0


@pytest.mark.parametrize("set_,exc,match", [
    (lambda t: t.__setitem__((0, [1, 2]), mg.ones(2, dtype=mg.float64)), RuntimeError,
     "source and destination dtypes match, got float32 for the destination and float64"),
    (lambda t: t.__setitem__([0], mg.tensor([1, 2, 3])), RuntimeError, "got float32 .* int64"),
    (lambda t: t.__setitem__(slice(0, 2), mg.ones(4)), RuntimeError,
     r"value tensor of shape \[4\] cannot be broadcast to indexing result of shape \[2, 3\]"),
    (lambda t: t.__setitem__([0, 1], mg.ones(4)), RuntimeError, r"shape \[4\] .* \[2, 3\]"),
    (lambda t: t.__setitem__(0, mg.ones(2, 3)), RuntimeError, r"\[2, 3\] .* shape \[3\]"),
    (lambda t: t.__setitem__(0, "a"), TypeError, "can't assign a str"),
    (lambda t: t.__setitem__(0, {1: 2}), TypeError, "can't assign a dict"),
])
def test_setitem_errors_as_torch(set_, exc, match):
    with pytest.raises(exc, match=match):
        set_(mg.zeros(2, 3))
    with pytest.raises(exc, match=match):  # recorded too
        set_(mg.zeros(2, 3, requires_grad=True) * 1)


# ---- gradcheck (finite differences, no torch needed) -------------------------------------------
GRADCHECK = ["int_slice_list", "mask_and_list", "broadcast_with_slice_between", "repeats",
             "tensor_true_lists", "ellipsis_list_none"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck_reading_and_writing_on_every_backend(backend, name):
    index = _quiet(lambda: GET[name](mg))
    x = mg.tensor(X[:, :, :4, :4], requires_grad=True)
    assert mg.gradcheck(lambda x: x[index] * 1, (x,))
    if name == "repeats":  # only the last of repeated writes shows in the values; torch's
        return             # gradient (and ours) gives every write g, so no finite difference
    region = x[index].shape
    v = mg.tensor(np.random.default_rng(5).standard_normal(region), requires_grad=True)

    def write(x, v):
        t = x * 1
        t[index] = v
        return t
    assert mg.gradcheck(write, (x, v))
