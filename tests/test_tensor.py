"""Tensor semantics: construction and dtypes, conversions, printing, autograd bookkeeping
(accumulation, freeing, retain_graph, no_grad), errors, factories and seeding."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import backends
from micrograd.core.graph import toposort


# ---- construction and dtypes -------------------------------------------------------------------
def test_dtype_inference_follows_torch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor(3.5).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True, False]).dtype == mg.bool
    assert mg.tensor(np.zeros(3)).dtype == mg.float64          # arrays keep their dtype
    assert mg.tensor(np.zeros(3, np.int32)).dtype == mg.int32
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == mg.float64
    assert mg.tensor([1, 2], dtype="float32").dtype == mg.float32
    assert mg.tensor([1, 2], dtype=np.float64).dtype == mg.float64


def test_dtype_compares_with_numpy_and_names():
    assert mg.float32 == np.float32 and mg.float32 == "float32" and mg.float32 != mg.float64
    assert mg.double is mg.float64 and mg.long is mg.int64
    assert repr(mg.float64) == "micrograd.float64"
    assert {mg.float32: 1}[mg.dtypes.as_dtype("float")] == 1


def test_bad_data_and_dtypes_are_clear_errors():
    with pytest.raises(TypeError, match="complex128"):
        mg.tensor(np.zeros(2, complex))
    with pytest.raises(TypeError, match="unknown dtype 'float13'"):
        mg.tensor([1.0], dtype="float13")
    with pytest.raises(ValueError, match="cannot make a tensor"):
        mg.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="only floating point tensors can require gradients"):
        mg.tensor([1, 2], requires_grad=True)


def test_tensor_copies_but_from_numpy_shares():
    a = np.arange(3.0)
    t, shared = mg.tensor(a), mg.from_numpy(a)
    a[0] = 42
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert shared.tolist() == [42.0, 1.0, 2.0]


def test_attributes_and_conversions():
    t = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(-1) == 3
    assert t.numel() == 6 and len(t) == 2 and t.device == "cpu"
    assert t.is_leaf and t.grad_fn is None and t.grad is None
    assert isinstance(t._array, np.ndarray)
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert mg.tensor([[2.5]]).item() == 2.5 and isinstance(mg.tensor(3).item(), int)
    assert np.asarray(t).dtype == np.float32 and np.asarray(t, dtype=np.float64).dtype == np.float64
    assert [r.tolist() for r in t] == t.tolist()
    assert float(mg.tensor([1.5])) == 1.5 and int(mg.tensor(7)) == 7
    with pytest.raises(ValueError, match="6 elements"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t > 0)
    with pytest.raises(RuntimeError, match="detach"):
        mg.tensor([1.0], requires_grad=True).numpy()


def test_repr_like_torch():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1.5, 0.25])) == "tensor([1.5000, 0.2500])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor([1.0], dtype=mg.float64)) == "tensor([1.], dtype=micrograd.float64)"
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(x.sum().grad_fn) == "<SumBackward>" and (x + 1).grad_fn.name() == "AddBackward"


def test_hash_is_identity_while_eq_is_elementwise():
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0])
    assert len({a, b}) == 2 and a in {a}
    mask = a == b
    assert isinstance(mask, mg.Tensor) and mask.dtype == mg.bool and mask.tolist() == [True] * 2
    assert (a < 1.5).tolist() == [True, False] and (a != b).tolist() == [False, False]


def test_type_promotion():
    i, f32, f64 = mg.tensor([1, 2]), mg.tensor([1.0, 2.0]), mg.tensor([1.0], dtype=mg.float64)
    assert (i + 0.5).dtype == mg.float32 and (i + 1).dtype == mg.int64
    assert (i / i).dtype == mg.float32 and (i / i).tolist() == [1.0, 1.0]
    assert (f32 + f64).dtype == mg.float64 and (i + f32).dtype == mg.float32
    assert (f32 * 2).dtype == mg.float32 and (2.0 ** f32).dtype == mg.float32
    assert (i ** 2).dtype == mg.int64 and (i ** 0.5).dtype == mg.float32
    assert (i > 1.5).tolist() == [False, True]


# ---- autograd bookkeeping ----------------------------------------------------------------------
def test_backward_accumulates_and_frees_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0, 12.0]        # 2 * (2x)
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [7.0, 11.0, 15.0]
    assert isinstance(x.grad, mg.Tensor) and x.grad.dtype == mg.float32


def test_backward_needs_gradient_for_non_scalar():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\)"):
        y.backward(mg.tensor([1.0, 1.0, 1.0]))
    y.backward(mg.tensor([1.0, -1.0]))
    assert x.grad.tolist() == [3.0, -3.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor(1.0).backward()


def test_non_leaf_grad_is_kept_only_with_retain_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h + k).sum().backward()
    assert h.grad is None and not h.is_leaf
    assert k.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [5.0, 5.0]


def test_gradients_are_not_aliased():
    """Add passes one array to both inputs; each .grad must own its memory."""
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    with mg.no_grad():
        a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]
    c = mg.tensor([[1.0, 2.0]], requires_grad=True)
    c.T.sum().backward()           # the gradient arrives as a transposed view
    assert c.grad._array.flags.writeable and c.grad._array.base is None


def test_gradient_passed_by_user_is_copied():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    g = mg.tensor([1.0, 1.0])
    x.backward(g)
    x.grad._array[0] = 99
    assert g.tolist() == [1.0, 1.0]


def test_no_grad_builds_no_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y._prev == ()
    assert z.requires_grad and z._prev[0] is x  # the constant 2 is _prev[1]

    @mg.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad and mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not (x + 1).requires_grad
    assert (x + 1).requires_grad


def test_no_graph_when_no_input_requires_grad():
    a, b = mg.tensor([1.0]), mg.tensor([2.0])
    c = a * b
    assert not c.requires_grad and c._prev == () and c.grad_fn is None


def test_graph_fields_for_drawing():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (a * b).relu().sum()
    order = toposort(loss)
    assert order[-1] is loss and any(n is a for n in order) and any(n is b for n in order)
    relu = loss._prev[0]
    prod = relu._prev[0]
    assert relu.grad_fn.name() == "ReLUBackward" and prod._prev[0] is a and prod._prev[1] is b
    assert relu._ctx is relu.grad_fn


def test_deep_chain_does_not_recurse():
    x = mg.tensor(1.0, dtype=mg.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert np.isclose(x.grad.item(), 1.0001 ** 5000)


def test_detach_and_clone():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d._array is x._array
    c = x.clone()
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and c._array is not x._array


def test_inplace_on_tensors_that_need_grad_is_refused_outside_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 5.0
    with mg.no_grad():
        w.sub_(mg.tensor([0.5, 0.5]), alpha=2)
        w.mul_(2)
        w[1] = 7.0
    assert w.tolist() == [0.0, 7.0] and w.requires_grad


def test_ops_use_the_active_backend(backend):
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = x.relu()
    assert y.grad_fn.be is backends.REGISTRY[backend]


def test_to_and_casts_keep_the_gradient_path():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 2
    assert y.dtype == mg.float64
    y.sum().backward()
    assert x.grad.dtype == mg.float32 and x.grad.tolist() == [2.0, 2.0]
    assert x.long().dtype == mg.int64 and not x.long().requires_grad
    assert x.to("cpu") is x and x.to(mg.float32) is x


# ---- errors name the op, the shapes and the dtypes ---------------------------------------------
def test_shape_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: \(3, 4\) @ \(5, 2\): inner dims 4 != 5"):
        mg.zeros(3, 4) @ mg.zeros(5, 2)
    with pytest.raises(ValueError, match=r"matmul: \(2, 3, 4\) @ \(5,\): inner dims 4 != 5"):
        mg.zeros(2, 3, 4) @ mg.zeros(5)
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        mg.zeros(3, 4) + mg.zeros(5)
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\) \(6 elements\) into \(4, 2\)"):
        mg.zeros(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match="sum: dim 2 is out of range"):
        mg.zeros(2, 3).sum(2)
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        mg.zeros(2, 3)[5]
    with pytest.raises(IndexError, match="float"):
        mg.zeros(2, 3)[mg.tensor([0.5])]
    with pytest.raises(IndexError, match="size 0"):
        mg.zeros(0, 3).max()
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 2\)"):
        mg.cat([mg.zeros(3, 2), mg.zeros(2, 2)], 1)


def test_dtype_errors_name_the_dtypes():
    with pytest.raises(TypeError, match="float32 @ float64"):
        mg.zeros(2, 2) @ mg.zeros(2, 2, dtype=mg.float64)
    with pytest.raises(TypeError, match="int64"):
        mg.tensor([1, 2]).mean()


# ---- reductions, shapes, indexing --------------------------------------------------------------
def test_reductions_match_numpy():
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    t = mg.tensor(a)
    np.testing.assert_allclose(t.sum((0, 2)).numpy(), a.sum((0, 2)))
    np.testing.assert_allclose(t.mean(1, keepdim=True).numpy(), a.mean(1, keepdims=True))
    np.testing.assert_allclose(t.var(2).numpy(), a.var(2, ddof=1))
    np.testing.assert_allclose(t.std(correction=0).numpy(), a.std())
    values, indices = t.max(1)
    np.testing.assert_allclose(values.numpy(), a.max(1))
    assert indices.dtype == mg.int64 and (indices.numpy() == a.argmax(1)).all()
    assert t.argmax().item() == a.argmax() and (t.argmin(2).numpy() == a.argmin(2)).all()
    np.testing.assert_allclose(t.logsumexp(0).numpy(), np.log(np.exp(a).sum(0)))
    assert (t > 0).sum().dtype == mg.int64 and (t > 0).any().item()


def test_max_gradient_is_shared_by_ties_like_amax():
    x = mg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    y = mg.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    y.max(1).values.sum().backward()         # max(dim): all to the returned index (torch)
    assert y.grad.tolist() == [[0.0, 1.0, 0.0]]


def test_shape_ops():
    t = mg.arange(24).reshape(2, 3, 4)
    assert t.permute(2, 0, 1).shape == (4, 2, 3) and t.transpose(0, 2).shape == (4, 3, 2)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert t.unsqueeze(-1).shape == (2, 3, 4, 1) and t[:, :1].squeeze().shape == (2, 4)
    assert t.view(-1, 4).shape == (6, 4) and t.T.shape == (4, 3, 2)
    assert [p.shape for p in t.split([1, 3], dim=2)] == [(2, 3, 1), (2, 3, 3)]
    assert [p.shape for p in t.chunk(2, 1)] == [(2, 2, 4), (2, 1, 4)]
    assert mg.zeros(3, 1).expand(3, 4).shape == (3, 4)
    assert mg.zeros(3, 1).expand(2, -1, 5).shape == (2, 3, 5)
    assert mg.stack([mg.zeros(2), mg.ones(2)], 1).tolist() == [[0.0, 1.0], [0.0, 1.0]]
    assert t[1, 2, [0, 3]].tolist() == [20, 23] and t[t > 21].tolist() == [22, 23]


def test_where_and_clamp():
    x = mg.tensor([-2.0, 0.5, 3.0])
    assert mg.where(x > 0, x, 0.0).tolist() == [0.0, 0.5, 3.0]
    assert x.clamp(-1, 1).tolist() == [-1.0, 0.5, 1.0] and x.clamp(min=0).tolist()[0] == 0.0
    with pytest.raises(ValueError, match="at least one"):
        x.clamp()


# ---- factories and seeding ---------------------------------------------------------------------
def test_factories():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == mg.float32
    assert mg.ones(2, dtype=mg.int64).tolist() == [1, 1]
    assert mg.full((2,), 7).dtype == mg.int64 and mg.full((2,), 0.5).dtype == mg.float32
    assert mg.arange(3).tolist() == [0, 1, 2] and mg.arange(0, 1, 0.5).dtype == mg.float32
    assert mg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert mg.zeros_like(mg.tensor([1, 2])).dtype == mg.int64
    assert mg.ones_like(mg.zeros(2, 2), requires_grad=True).requires_grad
    assert mg.empty(0, 3).shape == (0, 3)
    r = mg.rand(1000)
    assert r.dtype == mg.float32 and 0 <= r.min().item() and r.max().item() < 1
    ri = mg.randint(3, 6, (500,))
    assert ri.dtype == mg.int64 and set(ri.tolist()) == {3, 4, 5}
    assert mg.randint(4, (3,)).shape == (3,)
    with pytest.raises(ValueError, match="non-negative"):
        mg.zeros(-1)


def test_manual_seed_makes_random_factories_repeat():
    mg.manual_seed(123)
    a = (mg.randn(4), mg.rand(2), mg.randint(0, 10, (3,)), mg.zeros(3).uniform_(-1, 1))
    mg.manual_seed(123)
    b = (mg.randn(4), mg.rand(2), mg.randint(0, 10, (3,)), mg.zeros(3).uniform_(-1, 1))
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    assert mg.randn(4).tolist() != a[0].tolist()


def test_module_level_functions_mirror_methods():
    x = mg.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert mg.exp(x).tolist() == x.exp().tolist() and mg.relu(x).tolist() == x.relu().tolist()
    assert mg.sum(x, 1).tolist() == x.sum(1).tolist()
    assert mg.matmul(x, x).tolist() == (x @ x).tolist()
    assert mg.maximum(x, 0.0).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert mg.allclose(mg.softmax(x, 1).sum(1), mg.ones(2))
    assert mg.is_tensor(x) and not mg.is_tensor(1.0)


def test_numpy_operands_on_the_left_give_tensors():
    t = mg.tensor([1.0, 2.0])
    assert isinstance(np.float32(2) * t, mg.Tensor) and isinstance(np.ones(2) + t, mg.Tensor)
    assert (np.ones(2, np.float32) - t).tolist() == [0.0, -1.0]


def test_empty_softmax_rows_and_columns():
    for shape in [(0, 3), (3, 0)]:
        x = mg.zeros(*shape, requires_grad=True)
        y = x.softmax(1)
        assert y.shape == shape
        y.sum().backward()
        assert x.grad.shape == shape


@pytest.mark.parametrize("left", ["bool", "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("right", ["bool", "int32", "int64", "float32", "float64", 2, 2.5, True])
def test_promotion_matches_torch(left, right):
    torch = pytest.importorskip("torch", reason="torch not installed: reference comparison")
    a = np.array([1, 0, 1]).astype(left)
    ours = mg.tensor(a)
    theirs = torch.tensor(a)
    if isinstance(right, str):
        b = np.array([1, 1, 0]).astype(right)
        ob, tb = mg.tensor(b), torch.tensor(b)
    else:
        ob = tb = right
    for op in ("add", "mul"):
        r = getattr(theirs, op)(tb)
        o = getattr(ours, op)(ob)
        assert o.dtype.name == str(r.dtype).removeprefix("torch."), (op, left, right)
        np.testing.assert_array_equal(o.numpy(), r.numpy())


def test_comparison_with_none_and_contains():
    t = mg.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711 - the point of the test
    assert 2.0 in t and 3.0 not in t


def test_format_masked_fill_index_select():
    loss = mg.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and f"{mg.tensor([1.0])}" == "tensor([1.])"
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.masked_fill(x > 2.5, 0.0)
    assert y.tolist() == [[1.0, 2.0], [0.0, 0.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert x.index_select(1, mg.tensor([1, 1, 0])).tolist() == [[2.0, 2.0, 1.0], [4.0, 4.0, 3.0]]
    with mg.inference_mode():
        assert not (x * 2).requires_grad
