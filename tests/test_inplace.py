"""In-place ops with PyTorch's rules: values, identity, version counters, the leaf error,
gradients through recorded in-place ops on non-leaves, .data/.grad setters; torch is the oracle."""
import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for in-place semantics")

# name -> f(t, lib): an in-place call on t (float64, shape (3, 4))
SPEC = {
    "add_": lambda t, L: t.add_(L.tensor(0.5, dtype=L.float64)),
    "add_alpha": lambda t, L: t.add_(L.ones(3, 4, dtype=L.float64) * 2.0, alpha=0.5),
    "sub_": lambda t, L: t.sub_(1.5),
    "mul_": lambda t, L: t.mul_(3.0),
    "div_": lambda t, L: t.div_(4.0),
    "pow_": lambda t, L: t.pow_(2),
    "neg_": lambda t, L: t.neg_(),
    "exp_": lambda t, L: t.exp_(),
    "abs_": lambda t, L: t.abs_(),
    "relu_": lambda t, L: t.relu_(),
    "sigmoid_": lambda t, L: t.sigmoid_(),
    "tanh_": lambda t, L: t.tanh_(),
    "clamp_": lambda t, L: t.clamp_(-0.5, 0.5),
    "masked_fill_": lambda t, L: t.masked_fill_(L.tensor([True, False, True, False]), 7.0),
    "index_fill_": lambda t, L: t.index_fill_(1, L.tensor([0, 2]), -1.0),
    "iadd": lambda t, L: t.__iadd__(2.0),
    "isub": lambda t, L: t.__isub__(2.0),
    "imul": lambda t, L: t.__imul__(-2.0),
    "itruediv": lambda t, L: t.__itruediv__(8.0),
    "setitem": lambda t, L: t.__setitem__((slice(None), 1), 9.0),
    "setitem_index_tensor": lambda t, L: t.__setitem__((slice(None), L.tensor([0, 2])),
                                                       L.ones(3, 1, dtype=L.float64) * 4),
    "setitem_mask": lambda t, L: t.__setitem__(t > 0, -1.0),
    "zero_": lambda t, L: t.zero_(),
    "fill_": lambda t, L: t.fill_(2.5),
    "copy_": lambda t, L: t.copy_(L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64)),
    "scatter_reduce_amax_": lambda t, L: t.scatter_reduce_(
        1, L.tensor([[0, 0], [3, 1], [2, 2]]), L.ones(3, 2, dtype=L.float64), "amax"),
}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_inplace_values_identity_and_gradients_match_torch(name):
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-2, 2, (3, 4))
    cot = rng.normal(size=(3, 4))
    results = []
    for L in (mg, torch):
        w = L.tensor(x0.copy(), requires_grad=True)
        y = w * 1.5                       # a non-leaf: the in-place op is recorded
        ident, v0 = id(y), y._version
        out = SPEC[name](y, L)
        assert out is None or out is y
        assert id(y) == ident and y.requires_grad and y._version > v0
        (y * L.tensor(cot)).sum().backward()
        results.append((y.detach().numpy().copy(), w.grad.numpy().copy()))
        with L.no_grad():                 # unrecorded on a leaf: storage and .grad kept
            g = w.grad
            SPEC[name](w, L)
            assert w.grad is g and w.requires_grad and w.is_leaf
        results.append(w.detach().numpy().copy())
    (mv, mg_grad), mw, (tv, t_grad), tw = results
    np.testing.assert_allclose(mv, tv, rtol=1e-12)
    np.testing.assert_allclose(mg_grad, t_grad, rtol=1e-12)
    np.testing.assert_allclose(mw, tw, rtol=1e-12)


def test_an_earlier_use_keeps_the_gradient_of_the_earlier_value():
    for L in (mg, torch):
        w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = w * 2
        c = a + 3                 # uses a before a.mul_(3): its gradient is 2, not 6
        a.mul_(3)
        (c.sum() + a.sum()).backward()
        assert w.grad.tolist() == [8.0, 8.0, 8.0]


def test_in_place_on_a_leaf_that_requires_grad_raises():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    for f in (lambda: w.add_(1), lambda: w.__isub__(1), lambda: w.zero_(),
              lambda: w.__setitem__(0, 1.0), lambda: w.normal_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            f()
    assert w.tolist() == [1.0, 2.0]


def _modified(fn):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        fn()


def test_saved_input_modified_in_place_raises_naming_the_op():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.add_(1)
    with pytest.raises(RuntimeError, match=r"MulBackward, is at version 1; expected version 0"):
        y.backward()


def test_detach_shares_the_version_counter():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.detach().mul_(2)
    _modified(y.backward)


def test_saved_output_modified_under_no_grad_raises():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    e = w.exp()
    with mg.no_grad():
        e.add_(1)
    _modified(lambda: e.sum().backward())


def test_writing_through_a_view_of_a_saved_tensor_raises():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = mg.tensor([[1.0, 1.0], [1.0, 1.0]], requires_grad=True)
    y = (w * x).sum()
    x[0][1] = 10.0            # a basic-index view of x
    _modified(y.backward)
    x2 = mg.tensor([1.0, 2.0, 3.0, 4.0])
    y2 = (w.reshape(-1) * x2).sum()
    x2.view(2, 2).zero_()
    _modified(y2.backward)


def test_optimizer_step_between_two_backwards_raises():
    lin = mg.nn.Linear(3, 2)
    opt = mg.optim.SGD(lin.parameters(), lr=0.1)
    loss = (lin(mg.randn(4, 3)) ** 2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    _modified(loss.backward)


def test_no_false_alarm_when_nothing_saved_was_changed():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([1.0, 1.0])
    y = x + c                 # Add saves nothing
    c.add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_data_is_a_tensor_sharing_storage_and_setters_validate():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad
    assert p.tolist() == [0.0, 0.0] and p.is_leaf and p.requires_grad
    assert isinstance(p.data, mg.Tensor) and not p.data.requires_grad
    p.data.fill_(3.0)
    assert p.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="has to be a Tensor"):
        p.data = 1.0
    with pytest.raises(TypeError, match="expected to be a Tensor or None"):
        p.grad = 1.0
    with pytest.raises(RuntimeError, match="size"):
        p.grad = mg.zeros(3)
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = mg.zeros(2, dtype=mg.float64)
    p.grad = None


def test_requires_grad_false_on_a_non_leaf_raises():
    y = mg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)


def test_in_place_result_of_the_wrong_shape_or_kind_raises():
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        mg.zeros(3).add_(mg.ones(2, 3))
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.zeros(3, dtype=mg.int64).add_(1.5)


def test_learning_pytorch_with_examples_manual_updates_reach_torchs_losses():
    """The tutorial's 'tensors and autograd' loop: w -= lr * w.grad under no_grad."""
    losses = []
    for L in (mg, torch):
        x = L.linspace(-3.14159, 3.14159, 200, dtype=L.float64)
        y = L.sin(x) if hasattr(L, "sin") else L.tensor(np.sin(x.numpy()))
        ws = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in (0.1, -0.2, 0.3, 0.05)]
        run = []
        for t in range(200):
            a, b, c, d = ws
            loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
            run.append(loss.item())
            loss.backward()
            with L.no_grad():
                for w in ws:
                    w -= 1e-6 * w.grad
                    w.grad = None if t % 2 else w.grad.zero_()
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
    assert losses[0][-1] < 0.5 * losses[0][0]
