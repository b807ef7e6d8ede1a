"""In-place changes recorded on views, and on bases that have views, as torch: the base's graph
is rebased onto a write of the view's region (CopySlices), the views become views of the new
base (AsStridedBackward), earlier uses keep the earlier state, values are shared through the
storage. Scenarios run through micrograd and torch (float64, random cotangents: values and
gradients), torch's errors (leaf, view of a leaf, no_grad and multi-output views, expanded
tensors, saved tensors changed through a view), gradcheck on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for in-place autograd")

R = np.random.default_rng(21)
W = R.standard_normal((3, 4))
V = R.standard_normal((3, 4))
COT = R.standard_normal((3, 4))


def _t(L, a):
    return L.tensor(a, dtype=L.float64)


def _several_in_a_row(L, w, v):
    y = w * 1
    c = y[:, 1]
    c.mul_(2)
    c.add_(v[:, 0])
    c.mul_(v[:, 1])
    return y


def _base_after_view(L, w, v):
    y = w * 1
    r = y[1:, ::2]
    y.mul_(v)
    return r * 1              # read after the change: the new values, gradient through mul_


def _before_and_after(L, w, v):
    y = w * 1
    c = y[:, 1]
    d = c * 2.0 + v[:, 0]     # uses c before y changes: the earlier values and gradient
    y.mul_(v)
    e = c * v[:, 2]           # after: the new values and gradient
    return L.stack([d, e])


def _views_of_views(L, w, v):
    y = w * 1
    a = y[:, 1:]
    b = a.t()
    b[0].mul_(v[0, :3])
    b[1:].add_(b[:2] * 2)     # overlapping views of one base, read before the write
    return L.cat([y.reshape(-1), a.reshape(-1), b.reshape(-1)])


def _reshape_view(L, w, v):
    y = w * 1
    r = y.view(12)
    r[2:7].mul_(v.reshape(12)[:5])
    return y


def _transpose_view(L, w, v):
    y = w * 1
    y.t()[1].sub_(v[0, :3])
    return y


def _setitem_on_a_view(L, w, v):
    y = w * 1
    c = y[1]
    c[[0, 2]] = v[0, :2] * 3
    c[1:3] += v[1, :2]
    return L.cat([y.reshape(-1), c])


def _setitem_mixed(L, w, v):
    y = w * 1
    y[0, [1, 3]] = v[0, :2]
    y[:, 0] = v[:, 1]
    y[y > 0.5] = 0.0          # a bool mask, a constant
    y[L.tensor([True, False, True])] = v[1] * 2
    return y


def _copy_into_a_view_of_a_constant(L, w, v):
    y = L.zeros(3, 4, dtype=L.float64)
    col = y[:, 0]
    y[1].copy_(w[0])
    return L.cat([y.reshape(-1), col * v[:, 0]])


def _zero_and_fill_keep_earlier_uses(L, w, v):
    y = w * 1
    c = y + v                  # before: flows to w
    y.zero_()
    y.add_(v)
    a = w * 2
    d = a * 3
    a.fill_(2.0)
    a.mul_(v)
    return L.cat([c, y, d, a])


def _expand_read_after_base_change(L, w, v):
    y = w[0] * 1
    e = y.expand(3, 4)
    y.mul_(v[0])
    return e * v


def _detach_alias(L, w, v):
    y = w * 1
    d = y.detach()
    d.mul_(v)                  # recorded on the alias only; y's graph is untouched
    return L.cat([y, d])


def _unbind_split_read_before(L, w, v):
    y = w * 1
    rows = y.unbind()
    first = rows[0] + v[0]     # used before the base changes: fine, as torch
    y.mul_(2)
    return L.cat([first, y.reshape(-1)])


def _inplace_op_with_view_operand(L, w, v):
    y = w * 1
    y[1:].add_(y[:1])          # a view of the same base, in other memory
    y[:, :2].add_(y[:, 2:])
    y.add_(y)
    return y


def _many_views_one_base(L, w, v):
    y = w * 1
    cols = [y[:, i] for i in range(4)]
    for i, c in enumerate(cols):
        c.mul_(v[:, i])
    return L.stack([c * 1 for c in cols])


def _index_put_then_view_inplace(L, w, v):
    y = w * 1
    y[[2, 0]] = v[:2]
    y[0].exp_()
    return y


def _base_not_c_contiguous(L, w, v):
    y = w.t() * 1              # NumPy keeps the transposed (Fortran) layout
    y[1:3, 0].mul_(v[0, 1:3])
    y.t()[2].add_(v[2])
    r = y[:, 1]
    y[[0, 3], 1:] = v[:2, :2]
    return L.cat([y.reshape(-1), r])


def _contiguous_of_a_transpose_is_a_copy(L, w, v):
    y = w * 1
    y.t().contiguous()[0].mul_(5)  # changes the copy only
    c = y.contiguous()             # y itself: a view of nothing new
    c[1].mul_(v[1])
    return y


def _built_from_numbers(L, w, v):
    a = L.zeros(4, dtype=L.float64)
    a[1] = w[0, 0]
    a[2:] = w[1, :2] * v[0, 0]
    s = w[2, 3] * 1                # a 0-d result
    s.mul_(v[2, 2])
    return L.cat([a * a, s.reshape(1)])


SCENARIOS = {f.__name__.lstrip("_"): f for f in (
    _several_in_a_row, _base_after_view, _before_and_after, _views_of_views, _reshape_view,
    _transpose_view, _setitem_on_a_view, _setitem_mixed, _copy_into_a_view_of_a_constant,
    _zero_and_fill_keep_earlier_uses, _expand_read_after_base_change, _detach_alias,
    _unbind_split_read_before, _inplace_op_with_view_operand, _many_views_one_base,
    _index_put_then_view_inplace, _base_not_c_contiguous, _contiguous_of_a_transpose_is_a_copy,
    _built_from_numbers)}


def _run(L, fn):
    w, v = L.tensor(W, requires_grad=True), L.tensor(V, requires_grad=True)
    out = fn(L, w, v)
    cot = np.random.default_rng(out.numel()).standard_normal(tuple(out.shape))
    (out * L.tensor(cot)).sum().backward()
    grads = [np.zeros(W.shape) if t.grad is None else t.grad.numpy() for t in (w, v)]
    return [out.detach().numpy()] + grads


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_matches_torch_values_and_gradients(name):
    mine, theirs = _run(mg, SCENARIOS[name]), _run(torch, SCENARIOS[name])
    for what, a, b in zip(("values", "w.grad", "v.grad"), mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=what)


def test_the_issue_example():
    for L in (mg, torch):
        w = L.ones(3, requires_grad=True)
        y = w * 1
        y[0:2].mul_(3)
        y.sum().backward()
        assert w.grad.tolist() == [3.0, 3.0, 1.0]


def test_autograd_grad_through_in_place_changes():
    got = []
    for L in (mg, torch):
        w = L.tensor(W, requires_grad=True)
        y = w * 1
        z = y * 2
        y[0].mul_(3)
        got.append(L.autograd.grad((z * y).sum(), w)[0].numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


def test_grad_fns_as_torch():
    names = []
    for L in (mg, torch):
        w = L.ones(2, 3, requires_grad=True)
        y = w * 1
        a = y[:, 1:]
        b = a.t()
        b[0].mul_(5)
        y.mul_(2)
        names.append([t.grad_fn.name() if L is mg else type(t.grad_fn).__name__.rstrip("0")
                      for t in (y, a, b)])
        a.mul_(2)
        names[-1].append(y.grad_fn.name() if L is mg else type(y.grad_fn).__name__)
    assert names[0] == names[1] == ["MulBackward", "AsStridedBackward", "AsStridedBackward",
                                    "CopySlices"]


def test_storage_is_shared_and_versions_count_every_write():
    w = mg.ones(2, 3, requires_grad=True)
    y = w * 1
    a, b = y[0], y.t()
    a.mul_(2)
    y[1, 2] = 7.0
    b[0].add_(1)
    assert y.tolist() == [[3.0, 2.0, 2.0], [2.0, 1.0, 7.0]]
    assert a.tolist() == [3.0, 2.0, 2.0] and b.tolist() == [[3.0, 2.0], [2.0, 1.0], [2.0, 7.0]]
    assert y._version == a._version == b._version == 3


# ---- random programs: views and in-place ops in any order ----------------------------------------
def _random_program(rng):
    """Steps on the base y (shape (3, 4)) and the views taken so far: a new view (row, column,
    transpose, flatten, slice, unsqueeze, diagonal, one made under no_grad), an in-place op
    (mul_, add_ of v's entries, t[0] = c, zero_, exp_, t[...] = v's entries), or a use of it
    (t * 1.5, t * t: the latter saves t)."""
    return [(str(rng.choice(["view", "view", "mul_", "add_", "set0", "zero_", "exp_", "setv",
                             "use", "square", "nograd_view"])),
             int(rng.integers(0, step + 1)), str(rng.choice(["row", "col", "t", "flat", "slice",
                                                             "unsqueeze", "diagonal"])),
             int(rng.integers(0, 3))) for step in range(int(rng.integers(2, 7)))]


def _run_program(L, program, w, v):
    y = w * 1
    ts, uses = [y], []
    for op, k, kind, i in program:
        t = ts[min(k, len(ts) - 1)]
        if op in ("view", "nograd_view"):
            make = {"row": lambda: t[i % t.shape[0]], "col": lambda: t[..., i % t.shape[-1]],
                    "t": lambda: t.t() if t.ndim <= 2 else t[i % t.shape[0]],
                    "flat": lambda: t.reshape(-1), "slice": lambda: t[i % t.shape[0]:],
                    "unsqueeze": lambda: t.unsqueeze(0),
                    "diagonal": lambda: t.diagonal() if t.ndim == 2 else t[:1]}
            if op == "view":
                ts.append(make[kind]() if t.ndim else t.reshape(1))
            else:
                with L.no_grad():
                    ts.append(t[...] if t.ndim else t.reshape(1))
        elif op == "mul_":
            t.mul_(1.0 + i / 4)
        elif op == "add_":
            t.add_(v.reshape(-1)[:t.numel()].reshape(t.shape))
        elif op == "set0":
            t[0 if t.ndim else ...] = i - 1.0
        elif op == "zero_":
            t.zero_()
        elif op == "exp_":
            t.exp_()
        elif op == "setv":
            t[...] = (v.reshape(-1)[:t.numel()] * 2).reshape(t.shape)
        else:
            uses.append((t * (1.5 if op == "use" else t)).reshape(-1))
    return L.cat(uses + [u.reshape(-1) * 1 for u in ts])


@pytest.mark.parametrize("block", range(3))
def test_random_programs_match_torch_or_are_refused_as_torch(block):
    for seed in range(block * 100, block * 100 + 100):
        rng = np.random.default_rng(seed)
        program = _random_program(rng)
        results, errors = [], []
        for L in (mg, torch):
            try:
                results.append(_run(L, lambda L, w, v: _run_program(L, program, w, v)))
            except RuntimeError as exc:
                errors.append(exc)
        if errors:
            assert len(errors) == 2, (seed, program, errors)  # both refuse, or neither
            continue
        for what, a, b in zip(("values", "w.grad", "v.grad"), *results):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{what} {seed}")


# ---- torch's refusals ---------------------------------------------------------------------------
def _refused(fn, match):
    for L in (mg, torch):
        with pytest.raises(RuntimeError, match=match):
            fn(L)


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_raises():
    def view_mul(L):
        w = L.ones(3, requires_grad=True)
        w[0:2].mul_(2)

    def view_set(L):
        w = L.ones(3, requires_grad=True)
        v = w[1:]
        v[0] = 1.0
    _refused(view_mul, "a view of a leaf Variable that requires grad")
    _refused(view_set, "a view of a leaf Variable that requires grad")
    w = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        w[0:2].mul_(2)        # not recorded: fine, as torch
    assert w.tolist() == [2.0, 2.0, 1.0] and w.is_leaf


def test_a_view_made_under_no_grad_cannot_be_changed_in_place_with_grad_on():
    def modify(L, base_requires_grad, view_of_view):
        y = L.ones(4, requires_grad=True) * 1 if base_requires_grad else L.ones(4)
        with L.no_grad():
            v = y[0:3]
        v = v[0:2] if view_of_view else v
        v.copy_(L.ones(2, requires_grad=True)) if not base_requires_grad else v.mul_(2)
    for base in (True, False):
        for vv in (True, False):
            _refused(lambda L: modify(L, base, vv), "created in no_grad mode")
    y = mg.ones(4)
    with mg.no_grad():
        v = y[0:2]
    v.mul_(2)                 # nothing requires grad: not recorded, allowed
    assert y.tolist() == [2.0, 2.0, 1.0, 1.0]


def test_outputs_of_split_unbind_chunk_cannot_be_changed_in_place():
    for make, who in ((lambda y: y.split(2)[0], "Output 0 of Split"),
                      (lambda y: y.chunk(2)[1], "Output 1 of Split"),
                      (lambda y: y.unbind()[0], "Output 0 of Unbind"),
                      (lambda y: next(iter(y)), "Output 0 of Unbind")):  # iteration unbinds
        w = mg.ones(4, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match=f"{who} is a view and is being modified"):
            make(w * 1).mul_(2)
        with pytest.raises(RuntimeError, match="returns multiple views"):
            make(w * 1)[0:1].add_(1)   # views of them too
    _refused(lambda L: L.ones(4, requires_grad=True).mul(1).split(2)[0].mul_(2),
             "output of a function that returns multiple views")
    y = mg.ones(4)
    y.split(2)[0].mul_(2)     # nothing recorded: allowed, as torch
    assert y.tolist() == [2.0, 2.0, 1.0, 1.0]


def test_forbidden_views_raise_when_used_after_their_base_changed():
    w = mg.ones(2, 2, requires_grad=True)
    y = w * 1
    row = y.unbind()[0]
    with mg.no_grad():
        col = y[:, 0]
    y.mul_(2)
    for v, match in ((row, "Output 0 of Unbind is a view and its base or another view"),
                     (col, "created in no_grad mode and its base or another view")):
        out = v.sum()
        with pytest.raises(RuntimeError, match=match):
            out.backward()     # torch raises already at the use; the same error, later


def test_writing_into_an_expanded_tensor_raises():
    for L in (mg, torch):
        y = L.ones(3, requires_grad=True) * 1
        for write in (lambda e: e.mul_(2), lambda e: e.__setitem__(slice(None), 1.0),
                      lambda e: e.detach().add_(1)):
            with pytest.raises(RuntimeError, match="more than one element of the written-to"):
                write(y.expand(2, 3))
    # a region of it without repeats: torch writes it; micrograd keeps expanded tensors
    # read-only NumPy views, and says so
    with pytest.raises(RuntimeError, match="read-only here .* clone"):
        mg.ones(3).expand(2, 3)[0] = 1.0


def test_partly_overlapping_operands_raise_as_torch():
    for L in (mg, torch):
        for write in (lambda y: y[1:].add_(y[:2]), lambda y: y.add_(y.t()),
                      lambda y: y.__setitem__(slice(1, None), y[:2]),
                      lambda y: y.add_(y[0, 0])):
            with pytest.raises(RuntimeError, match="some elements of the input tensor"):
                write(L.ones(3, 3) * 1)
        y = L.tensor([[1.0, 2.0], [3.0, 4.0]])
        y.masked_fill_(y > 2, y[0, 0])   # a one-element value is read once: allowed
        y[1:] = y[:1]                    # other memory of the same storage: allowed
        assert y.tolist() == [[1.0, 2.0], [1.0, 2.0]]


def test_saved_tensors_changed_through_a_view_raise_at_backward():
    def saved_base(L):
        w = L.ones(3, requires_grad=True)
        y = w.exp()
        y[0:2].mul_(2)        # exp saved its output
        y.sum().backward()

    def saved_view(L):
        w = L.ones(3, requires_grad=True)
        y = w * 1
        v = y[0:2]
        z = v * v             # saves v
        y.mul_(2)
        z.sum().backward()

    def saved_through_setitem(L):
        w = L.ones(3, requires_grad=True)
        y = w * 1
        z = (y * y).sum()
        y[1] = 5.0
        z.backward()
    def self_as_operand(L):
        w = L.ones(3, requires_grad=True)
        y = w * 1
        y.mul_(y)             # mul saves its operand: y itself, which the op then changes
        y.sum().backward()
    def saved_by_an_in_place_op_on_a_view(L):
        w = L.ones(2, 3, requires_grad=True)
        y = w * 1
        y[0].exp_()           # exp saves its output: the view's new values
        y[0, 1] = 2.0
        y.sum().backward()
    for fn in (saved_base, saved_view, saved_through_setitem, self_as_operand,
               saved_by_an_in_place_op_on_a_view):
        _refused(fn, "modified by an inplace operation")


def test_a_reshape_that_copies_is_not_a_view():
    for L in (mg, torch):
        w = L.ones(2, 3, requires_grad=True)
        y = w * 1
        r = y.t().reshape(-1)  # non-contiguous: a copy
        r.mul_(2)
        y.sum().backward()
        assert w.grad.tolist() == [[1.0] * 3] * 2 and y.tolist() == [[1.0] * 3] * 2


# ---- gradcheck (finite differences, no torch needed) -------------------------------------------
@pytest.mark.parametrize("name", ["several_in_a_row", "views_of_views", "setitem_on_a_view",
                                  "before_and_after", "expand_read_after_base_change"])
def test_gradcheck_on_every_backend(backend, name):
    w, v = mg.tensor(W, requires_grad=True), mg.tensor(V, requires_grad=True)
    assert mg.gradcheck(lambda w, v: SCENARIOS[name](mg, w, v), (w, v))
