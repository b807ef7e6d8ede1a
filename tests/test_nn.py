"""mg.nn: Module mechanics, layers, losses, init; values against NumPy formulas and PyTorch."""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import micrograd as mg
from micrograd.core.graph import toposort
from micrograd import nn
from micrograd.engine import Value
from micrograd.nn import functional as F


def t64(a) -> mg.Tensor:
    return mg.Tensor(np.asarray(a, dtype=np.float64))


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2)
        self.scale = nn.Parameter(np.ones(2, np.float32))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# ---- Module mechanics -------------------------------------------------------------------------
def test_parameters_register_on_assignment_in_order():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [p.shape for p in m.parameters()] == [(2,), (4, 3), (4,), (2, 4), (2,)]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert len(list(m.modules())) == 4
    assert all(p.requires_grad for p in m.parameters())
    m.fc2 = nn.Identity()  # replacing a submodule drops its parameters
    assert [n for n, _ in m.named_parameters()] == ["scale", "fc1.weight", "fc1.bias"]
    del m.scale
    assert "scale" not in dict(m.named_parameters())


def test_assignment_rules_follow_pytorch():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = mg.zeros(2, 2)
    lin.bias = None  # None keeps the slot (as bias=False)
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.bias = nn.Parameter(np.zeros(2, np.float32))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="child module '0'"):
        setattr(seq, "0", 3)
    m = nn.Module()
    m.register_buffer("stat", mg.zeros(2))
    with pytest.raises(TypeError, match="buffer 'stat'"):
        m.stat = [1, 2]
    m.stat = mg.ones(2)
    assert np.all(dict(m.named_buffers())["stat"]._array == 1)


def test_shared_parameters_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


@pytest.mark.parametrize("backend_name", mg.available_backends())
def test_sequential_fuses_linear_and_activation(backend_name):
    """Linear + ReLU/Sigmoid/Tanh inside a Sequential run as one fused node; outputs and
    gradients equal running each module on its own (float64). GELU is never fused."""
    mg.manual_seed(3)
    seq = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.Sigmoid(),
                        nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2), nn.GELU()).double()
    x = mg.randn(7, 6, dtype=mg.float64)
    with mg.use_backend(backend_name):
        fused = seq(x)
        names = sorted(t.grad_fn.name() for t in toposort(fused) if t.grad_fn is not None)
        fused.sum().backward()
        grads = [p.grad.numpy().copy() for p in seq.parameters()]
        seq.zero_grad()
        step = x
        for module in seq:  # the unfused path: every module called by itself
            step = module(step)
        step.sum().backward()
    assert names == sorted(["GELUBackward", "LinearBackward", "LinearTanhBackward",
                            "LinearSigmoidBackward", "LinearReluBackward"])
    np.testing.assert_allclose(fused._array, step._array, rtol=1e-12, atol=1e-14)
    for got, p in zip(grads, seq.parameters()):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_sequential_does_not_fuse_a_linear_subclass():
    """A Linear subclass with its own forward keeps it (fusion is for the exact classes)."""
    class Doubled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    mg.manual_seed(0)
    lin = Doubled(3, 2)
    x = mg.randn(4, 3)
    out = nn.Sequential(lin, nn.ReLU())(x)
    want = np.maximum(2 * (x._array @ lin.weight._array.T + lin.bias._array), 0)
    np.testing.assert_allclose(out._array, want, rtol=1e-5, atol=1e-6)


def test_state_dict_keys_and_round_trip():
    mg.manual_seed(0)
    a = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    assert list(a.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    mg.manual_seed(1)
    b = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    assert not np.array_equal(a[0].weight._array, b[0].weight._array)
    b.load_state_dict(a.state_dict())
    for (ka, pa), (kb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(pa._array, pb._array)
    x = mg.randn(4, 3)
    assert np.array_equal(a(x)._array, b(x)._array)
    # state_dict shares memory with the model (as PyTorch); load_state_dict copies
    state = a.state_dict()
    b.load_state_dict(state)
    state["0.bias"]._array[...] = 7
    assert np.all(a[0].bias._array == 7) and not np.any(b[0].bias._array == 7)
    assert not state["0.weight"].requires_grad


def test_load_state_dict_strict_and_mismatches():
    m = nn.Sequential(nn.Linear(3, 2))
    state = m.state_dict()
    with pytest.raises(KeyError, match="missing keys"):
        m.load_state_dict({"0.weight": state["0.weight"]})
    with pytest.raises(KeyError, match="unexpected keys"):
        m.load_state_dict({**state, "extra": state["0.bias"]})
    missing, unexpected = m.load_state_dict({"0.weight": state["0.weight"], "x": 1},
                                            strict=False)
    assert missing == ["0.bias"] and unexpected == ["x"]
    with pytest.raises(ValueError, match=r"size mismatch for '0.weight'.*\(2, 4\).*\(2, 3\)"):
        m.load_state_dict({"0.weight": np.zeros((2, 4)), "0.bias": np.zeros(2)})
    with pytest.raises(TypeError):
        m.load_state_dict([1, 2])


def test_repr_matches_pytorch_layout():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1),
                      nn.Sequential(nn.Linear(3, 1, bias=False), nn.Sigmoid()))
    expected = (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1, inplace=False)\n"
        "  (3): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=False)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")
    assert repr(m) == expected
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    tm = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                             torch.nn.Sequential(torch.nn.Linear(3, 1, bias=False),
                                                 torch.nn.Sigmoid()))
    assert repr(tm) == expected
    assert repr(nn.BatchNorm1d(4)) == repr(torch.nn.BatchNorm1d(4))
    assert repr(nn.LayerNorm(4)) == repr(torch.nn.LayerNorm(4))
    assert repr(nn.LeakyReLU(0.2)) == repr(torch.nn.LeakyReLU(0.2))
    assert repr(nn.Softmax(dim=1)) == repr(torch.nn.Softmax(dim=1))
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())


def test_train_eval_propagate():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(TypeError):
        m.train("no")


def test_zero_grad_tensor_none_and_value_zero():
    m = TwoLayer()
    m(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad._array == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_classic_subclass_without_super_init_works():
    class Affine(nn.Module):  # classic micrograd style: no super().__init__()
        def __init__(self):
            self.w, self.b = Value(2.0), Value(1.0)
            self.child = nn.Linear(1, 1)  # registering still works without Module.__init__

        def parameters(self):
            return [self.w, self.b]

        def __call__(self, x):
            return self.w * x + self.b

    m = Affine()
    m(3.0).backward()
    assert (m.w.grad, m.b.grad) == (3, 1)
    m.zero_grad()
    assert (m.w.grad, m.b.grad) == (0, 0)
    assert [n for n, _ in m.named_children()] == ["child"]


def test_scalar_mlp_is_a_module():
    assert issubclass(nn.MLP, nn.Module) and issubclass(nn.Neuron, nn.Module)
    mlp = nn.MLP(2, [3, 1])
    out = mlp([1.0, 2.0])
    out.backward()
    mlp.zero_grad()
    assert all(p.grad == 0 for p in mlp.parameters())


def test_to_dtype_casts_parameters_in_place():
    m = nn.Sequential(nn.Linear(2, 3))
    assert m.to(mg.float64) is m
    assert all(p.dtype == mg.float64 for p in m.parameters())
    assert isinstance(m[0].weight, nn.Parameter) and m[0].weight.requires_grad
    out = m(t64([[1.0, 2.0]]))
    assert out.dtype == mg.float64
    m.float()
    assert m[0].weight.dtype == mg.float32
    weight = m[0].weight
    assert m.to(mg.float32) is m and m.to("cpu") is m and m.cpu() is m
    assert m[0].weight is weight  # unchanged dtype: the same Parameter (optimizers keep it)


def test_sequential_indexing_and_ordered_dict():
    seq = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.ReLU)
    assert len(seq[:1]) == 1 and len(seq) == 2
    with pytest.raises(IndexError):
        seq[2]
    with pytest.raises(TypeError, match="argument 0"):
        nn.Sequential(lambda x: x)
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    assert len(list(ml.parameters())) == 4 and len(ml) == 2


def test_register_errors():
    m = nn.Module()
    with pytest.raises(TypeError):
        m.register_parameter("w", np.zeros(2))
    with pytest.raises(TypeError):
        m.register_buffer("b", [1, 2])
    with pytest.raises(TypeError):
        m.add_module("c", 3)
    with pytest.raises(NotImplementedError):
        m(1)


# ---- Linear -----------------------------------------------------------------------------------
def test_linear_default_init_bounds_and_reproducibility():
    mg.manual_seed(123)
    a = nn.Linear(400, 30)
    mg.manual_seed(123)
    b = nn.Linear(400, 30)
    assert np.array_equal(a.weight._array, b.weight._array)
    assert a.weight.shape == (30, 400) and a.bias.shape == (30,)
    assert a.weight.dtype == mg.float32
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), +)
    for p in (a.weight._array, a.bias._array):
        assert np.abs(p).max() <= bound
    # a uniform on [-bound, bound] has std bound/sqrt(3)
    assert abs(a.weight._array.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(a.weight._array.mean()) < 0.05 * bound
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)


def test_linear_forward_matches_numpy(backend):
    mg.manual_seed(0)
    lin = nn.Linear(5, 3)
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    out = lin(mg.Tensor(x))
    np.testing.assert_allclose(out._array, x @ lin.weight._array.T + lin.bias._array, rtol=1e-5,
                               atol=1e-6)


def test_mlp_gradients_match_finite_differences():
    mg.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    x = t64(np.random.default_rng(1).normal(size=(5, 3)))
    y = mg.Tensor(np.array([0, 2, 1, 1, 0]))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    w = model[0].weight
    analytic = w.grad._array.copy()
    numeric = np.zeros_like(analytic)
    eps = 1e-6
    with mg.no_grad():
        for idx in np.ndindex(*w.shape):
            old = w._array[idx]
            w._array[idx] = old + eps
            up = F.cross_entropy(model(x), y).item()
            w._array[idx] = old - eps
            down = F.cross_entropy(model(x), y).item()
            w._array[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_linear_matches_torch():
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    lin = nn.Linear(6, 4).double()
    tl = torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(lin.weight._array))
        tl.bias.copy_(torch.from_numpy(lin.bias._array))
    x = np.random.default_rng(2).normal(size=(3, 6))
    out = lin(t64(x))
    out.sum().backward()
    tout = tl(torch.from_numpy(x))
    tout.sum().backward()
    np.testing.assert_allclose(out._array, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.weight.grad._array, tl.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad._array, tl.bias.grad.numpy(), rtol=1e-12)


# ---- activations and other layers -------------------------------------------------------------
@pytest.mark.parametrize("layer, ref", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU("tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.Identity(), lambda x: x),
    (nn.Flatten(), lambda x: x.reshape(len(x), -1)),
])
def test_activation_layers_match_formulas(layer, ref):
    x = np.random.default_rng(0).normal(size=(4, 5)) * 2
    np.testing.assert_allclose(layer(t64(x))._array, ref(x), rtol=1e-7, atol=1e-10)


def test_flatten_dims():
    x = mg.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)


def test_dropout_train_and_eval():
    mg.manual_seed(0)
    d = nn.Dropout(0.25)
    x = mg.ones(200, 100)
    y = d(x)._array
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert np.array_equal(d(x)._array, x._array)
    with pytest.raises(ValueError, match="p"):
        nn.Dropout(1.5)


def test_batchnorm1d_training_and_running_stats():
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3).double()
    bn.running_mean._array = bn.running_mean._array.astype(np.float64)
    bn.running_var._array = bn.running_var._array.astype(np.float64)
    x = rng.normal(2.0, 3.0, size=(16, 3))
    out = bn(t64(x))._array
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(bn.running_mean._array, 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_var._array, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-6)
    assert int(bn.num_batches_tracked._array) == 1
    bn.eval()
    out = bn(t64(x))._array
    expected = (x - bn.running_mean._array) / np.sqrt(bn.running_var._array + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(16, 4\)"):
        bn(mg.zeros(16, 4))
    bn.train()
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(mg.zeros(1, 3))


def test_batchnorm_and_layernorm_match_torch():
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 4, 5)).astype(np.float32)
    bn, tbn = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    for _ in range(2):
        np.testing.assert_allclose(bn(mg.Tensor(x))._array,
                                   tbn(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(bn.running_var._array, tbn.running_var.numpy(), rtol=1e-5)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(mg.Tensor(x))._array,
                               tbn(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    ln, tln = nn.LayerNorm(5), torch.nn.LayerNorm(5)
    xt = mg.Tensor(x, requires_grad=True)
    ln(xt).sum().backward()
    txt = torch.from_numpy(x).requires_grad_()
    tln(txt).sum().backward()
    np.testing.assert_allclose(ln(mg.Tensor(x))._array, tln(torch.from_numpy(x)).detach().numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(xt.grad._array, txt.grad.numpy(), atol=1e-4)


def test_layernorm_gradcheck():
    ln = nn.LayerNorm(4).double()
    ln.weight._array[...] = np.array([1.0, 2.0, -1.0, 0.5])
    x = t64(np.random.default_rng(3).normal(size=(3, 4))).requires_grad_()
    assert mg.gradcheck(lambda a: ln(a), [x])


# ---- losses -----------------------------------------------------------------------------------
def _losses_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), rng.integers(0, 4, 6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_formulas(reduction):
    x, y, _ = _losses_data()
    red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    d = x - y
    cases = [(nn.MSELoss(reduction=reduction), d ** 2),
             (nn.L1Loss(reduction=reduction), np.abs(d)),
             (nn.HuberLoss(reduction=reduction, delta=0.7),
              np.where(np.abs(d) < 0.7, 0.5 * d ** 2, 0.7 * (np.abs(d) - 0.35)))]
    for loss, per in cases:
        np.testing.assert_allclose(loss(t64(x), t64(y))._array, red(per), rtol=1e-10)


def test_classification_losses_match_formulas():
    x, _, labels = _losses_data()
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    ce = -logp[np.arange(6), labels]
    target = mg.Tensor(labels)
    np.testing.assert_allclose(nn.CrossEntropyLoss()(t64(x), target).item(), ce.mean())
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="sum")(t64(x), target).item(),
                               ce.sum())
    np.testing.assert_allclose(nn.NLLLoss()(t64(logp), target).item(), ce.mean())
    p = 1 / (1 + np.exp(-x))
    t = (x > 0.3).astype(np.float64)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.BCELoss()(t64(p), t64(t)).item(), bce.mean(), rtol=1e-10)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss()(t64(x), t64(t)).item(), bce.mean(),
                               rtol=1e-10)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_losses_match_torch():
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    x, y, labels = _losses_data()
    tx, ty, tl = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(labels)
    pairs = [(nn.MSELoss(), torch.nn.MSELoss(), ty), (nn.L1Loss(), torch.nn.L1Loss(), ty),
             (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), ty),
             (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), tl),
             (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), (ty > 0).double())]
    for ours, theirs, target in pairs:
        xi = t64(x).requires_grad_()
        out = ours(xi, mg.Tensor(target.numpy()))
        out.backward()
        txi = tx.clone().requires_grad_()
        tout = theirs(txi, target)
        tout.backward()
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-10)
        np.testing.assert_allclose(xi.grad._array, txi.grad.numpy(), rtol=1e-8, atol=1e-12)


# ---- init -------------------------------------------------------------------------------------
def test_init_functions():
    w = mg.zeros(200, 300)
    mg.manual_seed(0)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / 500)
    assert np.abs(w._array).max() <= bound and w._array.std() > 0.9 * bound / math.sqrt(3)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w._array.std() - math.sqrt(2 / 300)) < 0.05 * math.sqrt(2 / 300)
    nn.init.constant_(w, 0.5)
    assert np.all(w._array == 0.5)
    nn.init.zeros_(w)
    assert not w._array.any()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="fan in"):
        nn.init.xavier_uniform_(mg.zeros(3))
    with pytest.raises(ValueError):
        nn.init.calculate_gain("swish")


# ---- training end to end ----------------------------------------------------------------------
def test_tiny_mlp_learns_moons_on_every_backend(backend):
    X, y = mg.data.make_moons(200, noise=0.1, random_state=0)
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 2))
    opt = mg.optim.Adam(model.parameters(), lr=0.02)
    xb, yb = mg.Tensor(X.astype(np.float32)), mg.Tensor(y)
    first = None
    for _ in range(150):
        loss = F.cross_entropy(model(xb), yb)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first
    with mg.no_grad():
        acc = (model(xb)._array.argmax(1) == y).mean()
    assert acc > 0.97


def test_composite_layers_gradcheck():
    rng = np.random.default_rng(4)
    bn = nn.BatchNorm1d(3).double()
    bn.weight._array[...] = [1.5, -0.5, 2.0]
    x = t64(rng.normal(size=(6, 3))).requires_grad_()
    assert mg.gradcheck(lambda a: bn(a), [x])  # training mode: batch statistics
    gelu = nn.GELU("tanh")
    assert mg.gradcheck(lambda a: gelu(a), [t64(rng.normal(size=(4, 3))).requires_grad_()])
    lin = nn.Linear(3, 2).double()
    assert mg.gradcheck(lambda a: F.linear(a, lin.weight, lin.bias),
                        [t64(rng.normal(size=(5, 3))).requires_grad_()])


def test_dropout_backward_uses_the_same_mask():
    mg.manual_seed(1)
    x = mg.ones(50, 40, requires_grad=True)
    y = nn.Dropout(0.4)(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._array, y._array)  # d(sum(x * m))/dx = m = y when x = 1


def test_apply_requires_grad_and_shared_submodules():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Sequential(shared, nn.ReLU()))
    names = [n for n, _ in model.named_modules()]
    assert names == ["", "0", "1", "1.1"]  # a shared module is listed once, like PyTorch
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    # children first, recursively: the shared Linear is visited under each parent (PyTorch's
    # order; tests/test_module_hooks.py compares it with torch)
    assert seen == ["Linear", "Linear", "ReLU", "Sequential", "Sequential"]
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert not shared.weight._array.any()
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    out = model(mg.ones(1, 2))
    assert not out.requires_grad


def test_subset_through_dataloader_and_eval_batchnorm_in_sequential():
    ds = mg.data.TensorDataset(np.arange(20.0, dtype=np.float32).reshape(10, 2), np.arange(10))
    sub = mg.data.Subset(ds, [1, 3, 5])
    batches = list(mg.data.DataLoader(sub, batch_size=2))
    assert [b[1].tolist() for b in batches] == [[1, 3], [5]]
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU()).eval()
    out = model(batches[1][0])  # one sample: fine in eval mode (running statistics)
    assert out.shape == (1, 3)


def test_training_steps_agree_across_backends():
    if len(mg.available_backends()) < 2:
        pytest.skip("only one backend is built")
    X, y = mg.data.make_blobs(64, n_features=5, centers=3, random_state=0)
    results = {}
    for name in mg.available_backends():
        with mg.use_backend(name):
            mg.manual_seed(0)
            model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                                  nn.Linear(8, 3))
            opt = mg.optim.Adam(model.parameters(), lr=0.01)
            for _ in range(3):
                loss = F.cross_entropy(model(mg.tensor(X, dtype=mg.float32)), mg.tensor(y))
                opt.zero_grad()
                loss.backward()
                opt.step()
            results[name] = [p._array.copy() for p in model.parameters()]
    ref = results.pop("numpy")
    for name, params in results.items():
        for a, b in zip(params, ref):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_layers_follow_the_default_dtype_like_torch():
    import micrograd as mg
    previous = mg.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.nn.Linear(2, 3).weight.dtype == mg.float64
        assert mg.nn.Linear(2, 3).bias.dtype == mg.float64
        assert mg.nn.BatchNorm1d(3).running_var.dtype == mg.float64
        assert mg.nn.LayerNorm(3).bias.dtype == mg.float64
        assert mg.nn.Linear(2, 3, dtype=mg.float32).weight.dtype == mg.float32
    finally:
        mg.set_default_dtype(previous)
    assert mg.nn.Linear(2, 3).weight.dtype == previous


def test_sequential_item_assignment_and_deletion_as_torch():
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Tanh())
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1),
                                 torch.nn.Tanh())
    ours[1], theirs[1] = nn.Sigmoid(), torch.nn.Sigmoid()
    ours[-1], theirs[-1] = nn.Identity(), torch.nn.Identity()
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    del ours[0]
    del theirs[0]
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    del ours[0:2]
    del theirs[0:2]
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    with pytest.raises(IndexError):
        ours[5] = nn.ReLU()
    with pytest.raises(TypeError):
        ours["0"] = nn.ReLU()


def test_batchnorm_repr_says_bias_false_without_affine_as_torch():
    assert "affine=False, bias=False" in repr(mg.nn.BatchNorm1d(3, affine=False))
    assert "affine=True, bias=True" in repr(mg.nn.BatchNorm2d(3))


@pytest.mark.parametrize("name,args,kwargs", [("CosineSimilarity", (), {"dim": 1}),
                                              ("PairwiseDistance", (), {"p": 3.0, "keepdim": True})])
def test_distance_modules_match_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    ours = getattr(mg.nn, name)(*args, **kwargs)(mg.tensor(a), mg.tensor(b))
    theirs = getattr(torch.nn, name)(*args, **kwargs)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
