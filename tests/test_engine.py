"""The scalar engine: hand-computed cases, finite differences, classic micrograd compatibility."""
from __future__ import annotations

import gc
import math
import random
import re

import numpy as np
import pytest

import micrograd as mg
from micrograd.apps import classic_demo as moons_demo
from micrograd.core.engine import sum_values
from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron


def numeric_grad(f, xs, i, eps=1e-6):
    """Central difference of f (a function of floats) with respect to xs[i]."""
    hi, lo = list(xs), list(xs)
    hi[i] += eps
    lo[i] -= eps
    return (f(*hi) - f(*lo)) / (2 * eps)


def check_grads(f_value, f_float, xs, tol=1e-6):
    """f_value builds a Value graph; f_float is the same math on floats (from the math module)."""
    vs = [Value(x) for x in xs]
    out = f_value(*vs)
    out.backward()
    assert out.data == pytest.approx(f_float(*xs), rel=1e-12)
    for i, v in enumerate(vs):
        assert v.grad == pytest.approx(numeric_grad(f_float, xs, i), rel=tol, abs=tol), i


UNARY = [
    ("exp", lambda a: a.exp(), math.exp, [-2.0, 0.3, 1.7]),
    ("log", lambda a: a.log(), math.log, [0.2, 1.0, 5.5]),
    ("tanh", lambda a: a.tanh(), math.tanh, [-1.5, 0.1, 2.0]),
    ("sigmoid", lambda a: a.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), [-30.0, -0.7, 0.0, 4.0]),
    ("relu", lambda a: a.relu(), lambda x: max(x, 0.0), [-1.3, 0.4, 2.5]),
    ("neg", lambda a: -a, lambda x: -x, [-1.0, 3.0]),
    ("square", lambda a: a ** 2, lambda x: x ** 2, [-1.2, 0.5]),
    ("pow_frac", lambda a: a ** 1.5, lambda x: x ** 1.5, [0.3, 2.0]),
    ("pow_neg", lambda a: a ** -2, lambda x: x ** -2, [0.7, -1.3]),
    ("radd", lambda a: 2 + a, lambda x: 2 + x, [0.5]),
    ("rsub", lambda a: 2 - a, lambda x: 2 - x, [0.5]),
    ("rmul", lambda a: 3 * a, lambda x: 3 * x, [0.5]),
    ("rdiv", lambda a: 3 / a, lambda x: 3 / x, [0.5, -2.0]),
    ("sub_num", lambda a: a - 1.5, lambda x: x - 1.5, [0.5]),
    ("div_num", lambda a: a / 4, lambda x: x / 4, [0.5]),
]


@pytest.mark.parametrize("name,fv,ff,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradients_match_finite_differences(name, fv, ff, points):
    for x in points:
        check_grads(fv, ff, [x])


BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
    ("mixed", lambda a, b: (a * b + b.exp()).tanh() / (a ** 2 + 1),
     lambda a, b: math.tanh(a * b + math.exp(b)) / (a ** 2 + 1)),
]


@pytest.mark.parametrize("name,fv,ff", BINARY, ids=[b[0] for b in BINARY])
def test_binary_gradients_match_finite_differences(name, fv, ff):
    for a, b in [(1.3, -0.4), (-2.0, 0.7), (0.25, 3.0)]:
        check_grads(fv, ff, [a, b])


def test_hand_computed_example():
    # L = (a*b + c) * f with a=2, b=-3, c=10, f=-2: L = 4*-2 = -8
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert L.data == -8.0
    assert (f.grad, d.grad, c.grad, e.grad) == (4.0, -2.0, -2.0, -2.0)
    assert (a.grad, b.grad) == (6.0, -4.0)   # dL/da = f * b, dL/db = f * a


def test_value_used_twice_accumulates():
    a = Value(3.0)
    b = a + a          # db/da = 2
    c = a * a          # dc/da = 2a = 6
    (b + c).backward()
    assert a.grad == 8.0


def test_classic_micrograd_sanity_check_against_torch():
    """The test from classic micrograd's test suite, against PyTorch when installed."""
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xt = torch.tensor([-4.0], dtype=torch.double, requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert y.data == pytest.approx(yt.item())
    assert x.grad == pytest.approx(xt.grad.item())


def test_classic_more_ops_against_hand_values():
    # classic micrograd's test_more_ops, with the values PyTorch gives (from its test suite)
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, abs=1e-6)
    assert a.grad == pytest.approx(138.83381924198252, abs=1e-6)
    assert b.grad == pytest.approx(645.5772594752186, abs=1e-6)


def test_backward_is_iterative_on_a_200k_chain():
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_nodes_are_freed_without_the_garbage_collector():
    """No node refers to itself, so dropping the output frees the graph by refcounting alone:
    the collector then finds nothing unreachable (classic micrograd leaves a cycle per node)."""
    gc.collect()
    gc.disable()
    try:
        a = Value(2.0)
        for _ in range(100):
            out = (a * 3 + 1).tanh() * a
            out.backward()
        del out
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_backward_gives_the_same_gradients_with_and_without_a_hook():
    """Backward unrolls the chain rule for two-input nodes when no hook observes it; the
    general loop (taken with a hook) must give bit-identical gradients on a mixed graph:
    binary and unary nodes, constants, a node used as both inputs, one used many times."""
    def build():
        random.seed(3)
        xs = [Value(random.uniform(-1, 1)) for _ in range(6)]
        nodes = list(xs)
        for k in range(200):
            a, b = random.choice(nodes), random.choice(nodes)
            op = k % 7
            nodes.append(a * b if op == 0 else a + b if op == 1 else (a * a).tanh() if op == 2
                         else a - 0.5 * b if op == 3 else (a + 1.5).relu() if op == 4
                         else a / (b * b + 1) if op == 5 else a.sigmoid() * b)
        return xs, sum(nodes[-20:], Value(0.0))

    xs, out = build()
    out.backward()
    plain = [x.grad for x in xs]
    xs, out = build()
    steps = []
    out.backward(lambda node, child, local: steps.append(node))
    assert [x.grad for x in xs] == plain
    assert any(g != 0 for g in plain)
    assert len(steps) == sum(len(n._prev) for n in set(steps))  # one call per chain-rule step


def test_computed_nodes_have_every_attribute_a_leaf_has():
    """Operators build their result without __init__ (engine._node): every slot is set, as
    __init__ sets it for a leaf, and the result can be labelled and drawn."""
    a, b = Value(1.5), Value(-0.5)
    results = [a + b, a + 1, a * b, a * 2, a ** b, a ** 2, a.exp(), a.log(), b.relu(),
               a.tanh(), a.sigmoid(), -a, a - b, a / b, 2 - a, 2 / a, 2 ** a]
    for out in results:
        assert type(out) is Value
        assert {s: getattr(out, s) is not None for s in Value.__slots__} == \
            {s: True for s in Value.__slots__}
        assert (out.grad, out.label) == (0, "") and out._op and out._prev
        assert len(out._prev) == len(out._local_grads)
    assert (a.grad, a.label, a._prev, a._local_grads, a._op) == (0, "", (), (), "")


def test_errors_are_clear():
    with pytest.raises(TypeError, match="exponent must be a Value, int or float, got str"):
        Value(2.0) ** "3"
    with pytest.raises(ValueError, match="> 0"):
        Value(-1.0).log()
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0


# base, exponent, how the exponent is given: a Value (Value ** Value), a number (Value ** n) or
# the base is the number (n ** Value, e.g. the lecture's 2 ** v)
POWERS = [(2.0, 3.0), (1.7, -0.5), (3.0, 0.0), (-2.0, 3.0), (-2.0, 2.0), (-2.0, 0.5),
          (-8.0, 1 / 3), (0.0, 2.0), (0.0, 0.0), (0.5, 2.5),
          (10.0, 400.0), (-10.0, 401.0), (-10.0, 400.0), (1e-300, -2.0)]  # overflow: +-inf


@pytest.mark.parametrize("form", ["value_value", "value_number", "number_value"])
@pytest.mark.parametrize("base,exponent", POWERS, ids=[f"{a}**{b:.3g}" for a, b in POWERS])
def test_powers_match_torch(form, base, exponent):
    """Values and gradients equal torch's, nan included: a negative base with a fractional
    exponent has no real power (Python's ** would return a complex number)."""
    torch = pytest.importorskip("torch", reason="torch is the oracle for ** (optional)")
    a, b = Value(base), Value(exponent)
    at = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    out, out_t = {"value_value": (a ** b, at ** bt),
                  "value_number": (a ** exponent, at ** exponent),
                  "number_value": (base ** b, base ** bt)}[form]
    out.backward()
    out_t.backward()
    assert isinstance(out.data, float) or isinstance(out.data, int)
    np.testing.assert_allclose(out.data, out_t.item(), rtol=1e-12)
    for v, t, used in [(a, at, form != "number_value"), (b, bt, form != "value_number")]:
        np.testing.assert_allclose(v.grad, t.grad.item() if used else 0, rtol=1e-12)


def test_the_lecture_runs():
    """The micrograd lecture's first example (Karpathy, "The spelled-out intro to neural
    networks and backpropagation"): labels, 2 ** v, and the gradients it derives by hand."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    L.backward()
    assert (a.label, L.label, L.data) == ("a", "L", -8.0)
    assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)
    x = Value(0.5, label="x")
    y = 2 ** x            # d(2^x)/dx = 2^x ln 2
    y.backward()
    assert y.data == pytest.approx(2 ** 0.5) and x.grad == pytest.approx(2 ** 0.5 * math.log(2))
    assert (Value(-8.0) ** (1 / 3)).data != (Value(-8.0) ** (1 / 3)).data  # nan, not complex


@pytest.mark.parametrize("data", ["3", b"3", None, 1j, [1.0], np.array([1.0, 2.0]),
                                  np.array(2.0), mg.tensor([1.0, 2.0]), mg.tensor(2.0)],
                         ids=["str", "bytes", "None", "complex", "list", "array", "0-d array",
                              "Tensor", "0-d Tensor"])
def test_value_data_must_be_a_number(data):
    """A Value holds one real number; anything else was stored and failed (or broadcast)
    later, far from the cause."""
    hint = "; a Value holds one number, micrograd.tensor holds arrays" \
        if hasattr(data, "shape") else ""
    with pytest.raises(TypeError, match=rf"Value: data must be a real number \(int or float\), "
                                        rf"got {type(data).__name__}{re.escape(hint)}$"):
        Value(data)


@pytest.mark.parametrize("data", [2, -1.5, True, np.float32(0.5), np.int64(3), np.float64(2.5),
                                  math.inf, math.nan])
def test_value_data_accepts_python_and_numpy_numbers(data):
    v = Value(data) * 2
    v.backward()
    assert v.data == data * 2 or math.isnan(data)


def test_constants_that_are_not_numbers_are_refused():
    """Value + str is Python's TypeError; Value * array broadcasts as a float does, one Value
    per element (it made a single Value holding an array)."""
    with pytest.raises(TypeError, match="unsupported operand type.*'Value' and 'str'"):
        Value(1.0) + "2"
    with pytest.raises(TypeError, match="data must be a real number"):
        Value(1.0) / "2"
    with pytest.raises(TypeError):
        Value(1.0) * "2"
    for out in (Value(2.0) * np.array([1.0, 3.0]), Value(2.0) + np.array([1.0, 3.0]),
                np.array([1.0, 3.0]) * Value(2.0)):
        assert isinstance(out, np.ndarray) and all(isinstance(v, Value) for v in out)
        assert all(isinstance(v.data, float) for v in out)


def test_exp_overflows_to_inf_as_torch():
    """math.exp raises OverflowError; floats and torch give inf (and an inf gradient), so a
    Value does too: a loss can become inf or nan and be seen, as in the lecture's training
    loops, rather than stop the program with a math range error."""
    torch = pytest.importorskip("torch", reason="torch is the oracle (optional)")
    for x in (1000, 710.0, -1000.0, 1e308):
        a = Value(x)
        out = a.exp()
        out.backward()
        at = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
        at.exp().backward()
        assert out.data == at.exp().item() and a.grad == at.grad.item()
    x = Value(1000.0)  # the lecture's tanh, composed from exp: nan where torch's is nan too
    e = (2 * x).exp()
    o = (e - 1) / (e + 1)
    xt = torch.tensor(1000.0, dtype=torch.float64)
    et = (2 * xt).exp()
    assert math.isnan(o.data) and torch.isnan((et - 1) / (et + 1))
    assert Value(-10 ** 400).sigmoid().data == 0.0 and Value(10 ** 400).sigmoid().data == 1.0


def test_sigmoid_does_not_overflow():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_classic_nn_api():
    random.seed(0)
    model = MLP(3, [4, 4, 1])
    assert isinstance(model, Module)
    assert len(model.parameters()) == (3 * 4 + 4) + (4 * 4 + 4) + (4 + 1)
    out = model([1.0, -2.0, Value(0.5)])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert len(Layer(2, 3)([1.0, 2.0])) == 3
    assert repr(MLP(2, [1])).startswith("MLP of [Layer of [LinearNeuron(2)")


def test_sum_values_is_the_chain_of_additions_in_one_node():
    terms = [Value(0), Value(0.1), Value(0.2), Value(-0.3), Value(1e-17)]
    total = sum_values(terms)
    chain = terms[0]
    for t in terms[1:]:
        chain = chain + t
    assert total.data == chain.data and total._op == "sum" and total._prev == tuple(terms)
    assert total._local_grads == (1,) * len(terms) and (total.grad, total.label) == (0, "")
    (total * 3.0).backward()
    assert [t.grad for t in terms] == [3.0] * len(terms)


def _chain_neuron(neuron, x):
    """A neuron's output as it was built before sum_values: b + w0 x0 + w1 x1 + ... as a chain
    of + nodes (the reference for the test below)."""
    act = neuron.b
    for wi, xi in zip(neuron.w, x):
        act = act + wi * xi
    return act.relu() if neuron.nonlin else act


def _chain_mlp(model, x):
    for layer in model.layers:
        x = [_chain_neuron(n, x) for n in layer.neurons]
        x = x[0] if len(x) == 1 else x
    return x


@pytest.mark.parametrize("graph", ["moons", "shared_inputs"])
def test_neurons_sum_node_gives_the_chain_of_additions_numbers_bit_for_bit(graph):
    """Neuron adds up its products with one sum_values node where it used to build a chain of +
    nodes: the loss and every gradient (parameters and inputs) must be exactly the chain's, on
    the moons loss over a few SGD steps and on inputs that are shared, repeated or plain
    numbers."""
    def run(forward):
        if graph == "moons":
            X, y = moons_demo.moons_data(n=30)
            model = moons_demo.make_model(MLP)
            shared, history = [], []
            for k in range(3):
                scores = [forward(model, [Value(v) for v in row]) for row in X]
                losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
                loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(
                    p * p for p in model.parameters())
                model.zero_grad()
                loss.backward()
                history.append((loss.data, [p.grad for p in model.parameters()]))
                for p in model.parameters():
                    p.data -= 0.5 * p.grad
            return history
        random.seed(5)
        model = MLP(3, [4, 4, 2])
        a, b = Value(0.3), Value(-1.2)
        outs = []
        for row in ([a, b, 0.7], [b, b, a], [a, -2.0, b * a]):
            outs += forward(model, row)
        loss = sum((o * o).tanh() for o in outs)
        loss.backward()
        return loss.data, [p.grad for p in model.parameters()], a.grad, b.grad

    assert run(lambda model, x: model(x)) == run(_chain_mlp)


def test_user_subclass_of_module_like_classic():
    class Affine(Module):
        def __init__(self):
            self.w, self.b = Value(2.0), Value(1.0)

        def parameters(self):
            return [self.w, self.b]

    m = Affine()
    (m.w * 3 + m.b).backward()
    assert (m.w.grad, m.b.grad) == (3, 1)
    m.zero_grad()
    assert (m.w.grad, m.b.grad) == (0, 0)


@pytest.mark.slow
def test_two_moons_reaches_full_training_accuracy():
    X, y = moons_demo.moons_data()
    model = moons_demo.make_model(MLP)
    acc = 0.0
    for k in range(100):
        _, acc = moons_demo.train_step(Value, model, X, y, k)
        if acc == 1.0:
            break
    assert acc == 1.0
