"""micrograd.explain: the printed backward pass, checked against text written out by hand."""
from __future__ import annotations

import io
import random

import pytest

from micrograd import Tensor, explain
from micrograd.core import ops
from micrograd.core.graph import toposort
from micrograd.core.tensor import apply_op
from micrograd.engine import Value
from micrograd.explain import num, trace
from micrograd.nn import MLP


def explained(root, names=None) -> str:
    buffer = io.StringIO()
    explain(root, names=names, file=buffer)
    return buffer.getvalue()


# L = (a*b + c) * f with a=2, b=-3, c=10, f=-2. By hand: e = -6, s = 4, L = -8;
# dL/ds = f = -2, dL/df = s = 4, dL/de = dL/dc = dL/ds * 1 = -2,
# dL/da = b * dL/de = -3 * -2 = 6, dL/db = a * dL/de = 2 * -2 = -4.
EXPECTED_L = """\
backward pass from L = -8.0 through 7 nodes (chain rule: input.grad += local * upstream)
L.grad = 1.0 (dL/dL)
[1] L = s * f = -8.0 | upstream L.grad = 1.0
    s: local d(s * f)/ds = f = -2.0 | contribution -2.0 * 1.0 = -2.0 | s.grad 0.0 -> -2.0
    f: local d(s * f)/df = s = 4.0 | contribution 4.0 * 1.0 = 4.0 | f.grad 0.0 -> 4.0
[2] s = e + c = 4.0 | upstream s.grad = -2.0
    e: local d(e + c)/de = 1.0 | contribution 1.0 * -2.0 = -2.0 | e.grad 0.0 -> -2.0
    c: local d(e + c)/dc = 1.0 | contribution 1.0 * -2.0 = -2.0 | c.grad 0.0 -> -2.0
[3] e = a * b = -6.0 | upstream e.grad = -2.0
    a: local d(a * b)/da = b = -3.0 | contribution -3.0 * -2.0 = 6.0 | a.grad 0.0 -> 6.0
    b: local d(a * b)/db = a = 2.0 | contribution 2.0 * -2.0 = -4.0 | b.grad 0.0 -> -4.0
leaves: a.grad = 6.0, b.grad = -4.0, c.grad = -2.0, f.grad = 4.0
"""


def build_l():
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    s = e + c
    L = s * f
    return dict(a=a, b=b, c=c, f=f, e=e, s=s, L=L)


def test_explain_prints_every_chain_rule_step_exactly():
    nodes = build_l()
    assert explained(nodes["L"], names=nodes) == EXPECTED_L
    assert [nodes[k].grad for k in "abcfesL"] == [6.0, -4.0, -2.0, 4.0, -2.0, -2.0, 1]


# y = x*x + x at x = 3: dy/dx = 2x + 1 = 7, reached as 1 (from "+ x") then 3 and 3 (from x*x).
# The unnamed product is the node at topological index 1, so it is called v1.
EXPECTED_REUSE = """\
backward pass from y = 12.0 through 3 nodes (chain rule: input.grad += local * upstream)
y.grad = 1.0 (dy/dy)
[1] y = v1 + x = 12.0 | upstream y.grad = 1.0
    v1: local d(v1 + x)/dv1 = 1.0 | contribution 1.0 * 1.0 = 1.0 | v1.grad 0.0 -> 1.0
    x: local d(v1 + x)/dx = 1.0 | contribution 1.0 * 1.0 = 1.0 | x.grad 0.0 -> 1.0
[2] v1 = x * x = 9.0 | upstream v1.grad = 1.0
    x: local d(x * x)/dx = x = 3.0 | contribution 3.0 * 1.0 = 3.0 | x.grad 1.0 -> 4.0
    x: local d(x * x)/dx = x = 3.0 | contribution 3.0 * 1.0 = 3.0 | x.grad 4.0 -> 7.0
leaves: x.grad = 7.0
"""


def test_a_value_used_twice_shows_both_contributions_and_unnamed_nodes_get_indices():
    x = Value(3.0)
    y = x * x + x
    assert explained(y, names={"x": x, "y": y}) == EXPECTED_REUSE
    assert x.grad == 7.0


def test_names_from_locals_ignore_everything_that_is_not_in_the_graph():
    x = Value(3.0)
    y = x * x + x
    unrelated = Value(1.0)     # in locals() on purpose
    assert explained(y, names=locals()) == EXPECTED_REUSE


def test_without_names_nodes_are_numbered_in_topological_order():
    x = Value(3.0)
    text = explained(x * x + x)
    assert text.splitlines()[2] == "[1] v2 = v1 + v0 = 12.0 | upstream v2.grad = 1.0"
    assert text.endswith("leaves: v0.grad = 7.0\n")


@pytest.mark.parametrize("build,x0,line", [
    (lambda x: x.log(), 2.0, "x: local d(log(x))/dx = 1/x = 0.5 | contribution 0.5 * 1.0 = 0.5"),
    (lambda x: x.exp(), 0.0, "x: local d(exp(x))/dx = exp(x) = 1.0 |"),
    (lambda x: x.tanh(), 0.0, "x: local d(tanh(x))/dx = 1 - tanh(x)**2 = 1.0 |"),
    (lambda x: x.sigmoid(), 0.0,
     "x: local d(sigmoid(x))/dx = sigmoid(x) * (1 - sigmoid(x)) = 0.25 |"),
    (lambda x: x.relu(), -1.5, "x: local d(relu(x))/dx = (1 if x > 0 else 0) = 0.0 |"),
    (lambda x: x.relu(), 1.5, "x: local d(relu(x))/dx = (1 if x > 0 else 0) = 1.0 |"),
    (lambda x: x ** 3, 2.0, "x: local d(x**3)/dx = 3 * x**(3 - 1) = 12.0 |"),
    (lambda x: x * 3, 2.0, "x: local d(x * 3.0)/dx = 3.0 | contribution 3.0 * 1.0 = 3.0"),
    (lambda x: x + 5, 2.0, "x: local d(x + const)/dx = 1.0 | contribution 1.0 * 1.0 = 1.0"),
], ids=["log", "exp", "tanh", "sigmoid", "relu_off", "relu_on", "pow", "mul_const", "add_const"])
def test_each_op_shows_its_local_derivative_formula(build, x0, line):
    x = Value(x0)
    text = explained(build(x), names={"x": x})
    assert "    " + line in text


def test_explain_computes_exactly_the_gradients_of_backward():
    def grads(run):
        random.seed(3)
        model = MLP(3, [4, 4, 1])
        xs = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]
        loss = sum(((model(x) - t) ** 2 for x, t in zip(xs, [1.0, -1.0])), Value(0.0)).tanh()
        run(loss)
        return [p.grad for p in model.parameters()]

    expected = grads(lambda loss: loss.backward())
    assert any(g != 0 for g in expected)
    assert grads(lambda loss: explain(loss, file=io.StringIO())) == expected


def test_explain_is_the_only_way_to_trace():
    """The engines print nothing themselves (they do not import this module): no trace=."""
    nodes = build_l()
    with pytest.raises(TypeError):
        nodes["L"].backward(trace=True)
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError):
        (x * 2).sum().backward(trace=True)


def test_gradients_accumulate_like_backward():
    twice, mixed = build_l(), build_l()
    twice["L"].backward()
    twice["L"].backward()      # intermediate grads are not reset either: a.grad = 6 + 18
    mixed["L"].backward()
    explain(mixed["L"], file=io.StringIO())
    assert [mixed[k].grad for k in "abcfes"] == [twice[k].grad for k in "abcfes"]
    assert mixed["a"].grad == 24.0


def test_trace_is_lazy_and_rejects_non_graphs():
    with pytest.raises(TypeError, match="expected a micrograd Value"):
        list(trace(3.0))
    nodes = build_l()
    lines = trace(nodes["L"], nodes)
    assert nodes["a"].grad == 0                   # nothing ran yet
    assert list(lines)[-1] == "leaves: a.grad = 6.0, b.grad = -4.0, c.grad = -2.0, f.grad = 4.0"


def test_number_format():
    assert [num(1), num(-2.5), num(1 / 3), num(1e-9), num(0.0), num(1e20)] == \
        ["1.0", "-2.5", "0.333333", "1e-09", "0.0", "1e+20"]


# ---- Tensors -------------------------------------------------------------------------------------
# y = sum(x * w + x) with x = [1, -2], w = [3, 0.5]: x*w = [3, -1], + x = [4, -3], y = 1.
# dy/dx = w + 1 = [4, 1.5] (1 from "+ x", then w from "x * w"), dy/dw = x = [1, -2].
EXPECTED_TENSOR = """\
backward pass from y = 1.0 through 5 nodes (chain rule: input.grad += what each op's backward \
returns for the upstream grad g)
y.grad = 1.0 (dy/dy)
[1] y = Sum(v3) = 1.0 | out = sum of x over axes    dx = g broadcast back to x's shape (x = v3) \
| upstream g = y.grad = 1.0
    v3: dx = g broadcast back to x's shape = [1.0, 1.0] | v3.grad 0 -> [1.0, 1.0]
[2] v3 = Add(v2, x) = [4.0, -3.0] | out = a + b    da = g    db = g (a = v2, b = x) \
| upstream g = v3.grad = [1.0, 1.0]
    v2: da = g = [1.0, 1.0] | v2.grad 0 -> [1.0, 1.0]
    x: db = g = [1.0, 1.0] | x.grad 0 -> [1.0, 1.0]
[3] v2 = Mul(x, w) = [3.0, -1.0] | out = a * b    da = g * b    db = g * a (a = x, b = w) \
| upstream g = v2.grad = [1.0, 1.0]
    x: da = g * b = [3.0, 0.5] | x.grad [1.0, 1.0] -> [4.0, 1.5]
    w: db = g * a = [1.0, -2.0] | w.grad 0 -> [1.0, -2.0]
leaves: x.grad = [4.0, 1.5], w.grad = [1.0, -2.0]
"""


def test_explain_tensor_graph_exactly():
    x = Tensor([1.0, -2.0], requires_grad=True)
    w = Tensor([3.0, 0.5], requires_grad=True)
    y = (x * w + x).sum()
    assert explained(y, names={"x": x, "w": w, "y": y}) == EXPECTED_TENSOR
    assert x.grad.tolist() == [4.0, 1.5] and w.grad.tolist() == [1.0, -2.0]


def test_explain_tensor_matches_backward_on_a_small_network():
    import numpy as np

    def run(backward):
        rng = np.random.default_rng(0)
        x = Tensor(rng.normal(size=(4, 3)), dtype="float64")
        w1 = Tensor(rng.normal(size=(3, 5)), dtype="float64", requires_grad=True)
        b1 = Tensor(rng.normal(size=(5,)), dtype="float64", requires_grad=True)
        w2 = Tensor(rng.normal(size=(5, 2)), dtype="float64", requires_grad=True)
        h = (x @ w1 + b1).tanh()
        out = (h @ w2).sigmoid() * h.sum(dim=1, keepdim=True)     # h used twice
        loss = (out - 0.5).abs().mean() + (w1 * w1).sum() * 0.01   # w1 used twice
        backward(loss)
        return [p.grad.numpy() for p in (w1, b1, w2)]

    expected = run(lambda loss: loss.backward())
    got = run(lambda loss: explain(loss, file=io.StringIO()))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)


def test_explain_tensor_frees_the_graph_like_backward_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    explain(y, file=io.StringIO(), retain_graph=True)
    y.backward()                                  # the graph is still there
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="second time|freed"):
        y.backward()


def test_explain_tensor_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        list(trace(Tensor([1.0])))
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one element.*\(2,\)"):
        list(trace(x * 2))


def test_large_tensors_are_summarised():
    import numpy as np

    from micrograd.explain import array_text
    assert array_text(np.arange(20.0)) == "shape (20,) [0.0, 1.0, 2.0, 3.0, ...]"
    assert array_text(np.array([[1, 2], [3, 4]])) == "[[1.0, 2.0], [3.0, 4.0]]"
    assert array_text(np.float32(0.5)) == "0.5"


def test_an_input_used_twice_by_one_tensor_op_shows_the_running_sum():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + x).sum()
    lines = list(trace(y, {"x": x, "y": y}))
    assert lines[-4:] == [
        "[3] v1 = Mul(x, x) = [1.0, 4.0] | out = a * b    da = g * b    db = g * a "
        "(a = x, b = x) | upstream g = v1.grad = [1.0, 1.0]",
        "    x: da = g * b = [1.0, 2.0] | x.grad [1.0, 1.0] -> [2.0, 3.0]",
        "    x: db = g * a = [1.0, 2.0] | x.grad [2.0, 3.0] -> [3.0, 5.0]",
        "leaves: x.grad = [3.0, 5.0]",
    ]


# ---- explain is backward, observed: same gradients, same checks --------------------------------
def random_value_graph(seed: int) -> list:
    """A random DAG of Values (nodes reused, sometimes as both inputs of one op); the root last."""
    rnd = random.Random(seed)
    nodes = [Value(rnd.uniform(-2, 2)) for _ in range(4)]
    ops = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: (a - b).tanh(),
           lambda a, b: a.relu() * 0.5 + b, lambda a, b: (a * b).sigmoid(),
           lambda a, b: (a ** 2 + 1).log() - b, lambda a, b: (a / 4).exp() * b]
    for _ in range(30):
        a, b = rnd.choice(nodes), rnd.choice(nodes[-6:])
        nodes.append(rnd.choice(ops)(a, b).tanh() * 2)    # bounded: no overflow
    nodes.append(sum(nodes[-5:], Value(0.0)))
    return nodes


@pytest.mark.parametrize("seed", range(8))
def test_explain_gives_backwards_gradients_on_random_scalar_graphs(seed):
    plain, explained_ = random_value_graph(seed), random_value_graph(seed)
    plain[-1].backward()
    text = list(trace(explained_[-1]))
    assert [v.grad for v in explained_] == [v.grad for v in plain]
    order = toposort(plain[-1])
    assert text[-1] == "leaves: " + ", ".join(
        f"v{i}.grad = {num(v.grad)}" for i, v in enumerate(order) if not v._prev)
    assert any(v.grad != 0 for v in plain[:4])


def random_tensor_graph(seed: int):
    """Random DAG of float64 Tensors: leaves w, x (grad), c (constant); ops mixing them, an
    intermediate that retains its grad, and an input used twice by one op. Returns the leaves
    that require grad, the retained tensor and the one-element root."""
    import numpy as np
    rng = np.random.default_rng(seed)
    w = Tensor(rng.normal(size=(2, 2)), dtype="float64", requires_grad=True)
    x = Tensor(rng.normal(size=(3, 2)), dtype="float64", requires_grad=True)
    c = Tensor(rng.normal(size=(3, 2)), dtype="float64")
    nodes = [x, x * c]
    ops = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: (a - c).tanh() * b,
           lambda a, b: a @ w + b, lambda a, b: (a * a).sigmoid() - b, lambda a, b: a.relu() / 2]
    for i in range(14):
        a, b = (nodes[int(k)] for k in rng.integers(0, len(nodes), 2))
        nodes.append(ops[int(rng.integers(len(ops)))](a, b))
        if i == 7:
            nodes[-1].retain_grad()
            kept = nodes[-1]
    root = (nodes[-1] * nodes[-2]).mean() + (nodes[-3] @ w).sum()
    return [w, x], kept, root


@pytest.mark.parametrize("seed", range(8))
def test_explain_gives_backwards_gradients_on_random_tensor_graphs(seed):
    import numpy as np
    (w, x), kept, root = random_tensor_graph(seed)
    root.backward()
    (w2, x2), kept2, root2 = random_tensor_graph(seed)
    list(trace(root2))
    assert x.grad is not None
    for want, got in [(w, w2), (x, x2), (kept, kept2)]:
        assert (got.grad is None) == (want.grad is None)
        if want.grad is not None:
            np.testing.assert_array_equal(got.grad._array, want.grad._array)
    (w3, x3), _, root3 = random_tensor_graph(seed)     # accumulation: a second pass adds up
    x3.grad = x2.grad
    explain(root3, file=io.StringIO())
    np.testing.assert_array_equal(x3.grad._array, x.grad._array + x.grad._array)


class TwoGradients(ops.Function):
    """out = 2 * a (a broken op: its backward returns a gradient too many)"""

    def forward(self, a):
        return a * 2

    def backward(self, g):
        return 2 * g, g


class WrongShape(TwoGradients):
    """out = 2 * a (a broken op: its backward returns a gradient of the wrong shape)"""

    def backward(self, g):
        return (2 * g[:1],)


@pytest.mark.parametrize("op,message", [
    (TwoGradients, r"TwoGradientsBackward returned 2 gradients for 1 inputs"),
    (WrongShape, r"WrongShapeBackward returned a gradient of shape \(1,\) for an input of "
                 r"shape \(2,\)"),
], ids=["count", "shape"])
def test_explain_raises_backwards_errors_for_a_broken_op(op, message):
    def loss():
        return apply_op(op, Tensor([1.0, 2.0], requires_grad=True)).sum()
    with pytest.raises(RuntimeError, match=message):
        loss().backward()
    printed = io.StringIO()
    with pytest.raises(RuntimeError, match=message):
        explain(loss(), file=printed)
    assert printed.getvalue().splitlines()[2].startswith("[1] v2 = Sum(v1)")  # steps before it


def test_anomaly_mode_fires_under_explain():
    from micrograd.autograd import AnomalyError, detect_anomaly
    import numpy as np
    x = Tensor([4.0, 0.0, 1.0], requires_grad=True)
    with detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt().sum()                 # d sqrt(0) = inf
        with pytest.raises(AnomalyError, match=r"SqrtBackward \(backward\).*input 0"):
            explain(y, file=io.StringIO())


def test_explain_through_a_freed_graph_is_backwards_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        explain(y, file=io.StringIO())


@pytest.mark.parametrize("act, fused", [("ReLU", "Linear+ReLU"), ("Sigmoid", "Linear+Sigmoid"),
                                        ("Tanh", "Linear+Tanh")])
def test_explain_names_the_steps_a_sequential_fused(act, fused):
    """Sequential runs Linear then an activation as one op: the trace names both."""
    from micrograd import nn
    import micrograd as mg
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), getattr(nn, act)(), nn.Linear(4, 1))
    h = model[1](model[0](Tensor([[1.0, -2.0, 0.5]])))   # the unfused modules, for the values
    loss = model(Tensor([[1.0, -2.0, 0.5]])).sum()
    out = io.StringIO()
    explain(loss, file=out)
    steps = [line for line in out.getvalue().splitlines() if line.startswith("[")]
    assert [s.split(" = ")[1].split("(")[0] for s in steps] == ["Sum", "Linear", fused]
    assert f"v3 = {fused}(v0, v1, v2) = {num_list(h)}" in steps[2]


def num_list(t) -> str:
    """A (1, n) tensor as explain prints it."""
    return "[[" + ", ".join(num(float(v)) for v in t.tolist()[0]) + "]]"


def test_a_neurons_sum_node_reads_as_a_sum_with_unit_derivatives():
    """nn.scalar's Neuron adds its terms in one "sum" node (engine.sum_values)."""
    from micrograd.core.engine import Value, sum_values
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    s = sum_values([a, b * c])
    out = io.StringIO()
    explain(s, names={"a": a, "b": b, "c": c, "s": s}, file=out)
    text = out.getvalue()
    assert "s = a + v3 = 7.0" in text
    assert "a: local d(a + v3)/da = 1.0" in text and "v3: local d(a + v3)/dv3 = 1.0" in text
    assert "b.grad 0.0 -> 3.0" in text
