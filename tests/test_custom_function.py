"""Custom autograd functions (micrograd.autograd.Function): PyTorch's tutorial runs unchanged and
gives torch's numbers; one spec table of Functions, each written once and defined on both
libraries' Function classes, compares values, gradients (random cotangents) and ctx fields with
torch; gradcheck in float64; the errors PyTorch raises for a malformed backward."""
from __future__ import annotations

import math

import numpy as np
import pytest

import micrograd as mg
from micrograd.autograd import Function

torch = pytest.importorskip("torch", reason="torch is the oracle for custom Functions")


# ---- PyTorch's "learning PyTorch with examples": polynomial_custom_function.py ----------------
def legendre_fit(lib, steps):
    """The tutorial's script with ``torch`` replaced by ``lib``; y = sin(x) comes from NumPy
    (sin is not this file's subject) and the update uses sub_ instead of ``a -= ...``."""
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    dtype = lib.float
    device = lib.device("cpu")
    x = lib.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = lib.tensor(np.sin(np.linspace(-math.pi, math.pi, 2000)), device=device, dtype=dtype)
    a = lib.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = lib.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = lib.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = lib.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p.sub_(learning_rate * p.grad)
                p.grad = None
    return losses, [p.item() for p in (a, b, c, d)]


def test_pytorch_tutorial_custom_function_learns_like_torch():
    ours, our_params = legendre_fit(mg, 2000)
    theirs, their_params = legendre_fit(torch, 2000)
    assert ours[-1] < ours[0] / 10  # it learns (from ~1e3 to ~9)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)
    np.testing.assert_allclose(our_params, their_params, rtol=1e-4, atol=1e-6)


# ---- one spec table: each Function written once, built on either library -------------------
def cube(F):
    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2
    return Cube


def scaled(F):
    """A non-Tensor argument passes through; backward returns None for it."""
    class Scaled(F):
        @staticmethod
        def forward(ctx, x, alpha):
            ctx.alpha = alpha
            return x * alpha

        @staticmethod
        def backward(ctx, g):
            return g * ctx.alpha, None
    return Scaled


def mul_add(F):
    """Two Tensor inputs; gradients computed only where ctx.needs_input_grad asks."""
    class MulAdd(F):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y + x

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gx = g * (y + 1) if ctx.needs_input_grad[0] else None
            gy = g * x if ctx.needs_input_grad[1] else None
            return gx, gy
    return MulAdd


def bias_add(F):
    """backward returns the bias gradient in the output's (broadcast) shape: summed to (3,)."""
    class BiasAdd(F):
        @staticmethod
        def forward(ctx, x, b):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, g
    return BiasAdd


def two_outputs(F):
    """Several differentiable outputs, each with its own gradient."""
    class ExpAndScale(F):
        @staticmethod
        def forward(ctx, x, y):
            e = x.exp()
            ctx.save_for_backward(e, y)
            return e, x * y

        @staticmethod
        def backward(ctx, g_e, g_p):
            e, y = ctx.saved_tensors
            return g_e * e + g_p * y, g_p * ctx.saved_tensors[0].log()
    return ExpAndScale


def with_index(F):
    """An output marked non-differentiable (and a bool one) next to a differentiable one."""
    class DoubleAndArgmax(F):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            return x * 2, x > 0, idx

        @staticmethod
        def backward(ctx, g, g_mask, g_idx):
            assert not g_mask.any() and g_idx.item() == 0  # zeros, as torch passes
            return g * 2
    return DoubleAndArgmax


def setup_context_style(F):
    """The newer form: forward without ctx, plus setup_context(ctx, inputs, output)."""
    class Square(F):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * g * x
    return Square


# name, builder, input shapes (None: the literal 1.5), which inputs require grad
SPECS = [
    ("cube", cube, [(3, 4)], [True]),
    ("scaled", scaled, [(5,), None], [True, False]),
    ("mul_add_both", mul_add, [(2, 3), (2, 3)], [True, True]),
    ("mul_add_first_only", mul_add, [(2, 3), (2, 3)], [True, False]),
    ("mul_add_second_only", mul_add, [(2, 3), (2, 3)], [False, True]),
    ("bias_add_broadcast", bias_add, [(4, 3), (3,)], [True, True]),
    ("two_outputs", two_outputs, [(3,), (3,)], [True, True]),
    ("non_differentiable_outputs", with_index, [(6,)], [True]),
    ("setup_context", setup_context_style, [(2, 2)], [True]),
]


def run(lib, builder, arrays, grads_on, cotangents):
    """Apply the Function built on ``lib``; backprop ``cotangents`` through its float outputs.
    Returns (outputs as arrays, input gradients as arrays or None, the ctx's needs_input_grad)."""
    seen = {}
    fn_cls = builder(lib.autograd.Function)
    original = fn_cls.backward

    def spying_backward(ctx, *g):
        seen["needs"] = tuple(ctx.needs_input_grad)
        return original(ctx, *g)
    fn_cls.backward = staticmethod(spying_backward)
    args = [1.5 if a is None else lib.tensor(a, dtype=lib.float64, requires_grad=r)
            for a, r in zip(arrays, grads_on)]
    out = fn_cls.apply(*args)
    outs = out if isinstance(out, tuple) else (out,)
    total = sum((o * lib.tensor(c)).sum() for o, c in zip(outs, cotangents)
                if o.requires_grad)
    total.backward()
    grads = [a.grad.numpy() if isinstance(a, lib.Tensor) and a.grad is not None else None
             for a in args]
    return [o.detach().numpy() for o in outs], [o.requires_grad for o in outs], grads, seen


@pytest.mark.parametrize("name,builder,shapes,grads_on", SPECS, ids=[s[0] for s in SPECS])
def test_custom_function_matches_torch(name, builder, shapes, grads_on):
    rng = np.random.default_rng(sum(map(ord, name)))
    arrays = [None if s is None else rng.uniform(0.5, 2.0, s) for s in shapes]
    with torch.no_grad():  # output shapes, to draw one random cotangent per output
        probe = builder(torch.autograd.Function).apply(
            *[1.5 if a is None else torch.tensor(a) for a in arrays])
    probe = probe if isinstance(probe, tuple) else (probe,)
    cotangents = [rng.normal(size=tuple(o.shape)) for o in probe]
    ours = run(mg, builder, arrays, grads_on, cotangents)
    theirs = run(torch, builder, arrays, grads_on, cotangents)
    for got, want in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ours[1] == theirs[1]  # which outputs require grad
    for got, want in zip(ours[2], theirs[2]):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ours[3] == theirs[3]  # ctx.needs_input_grad


@pytest.mark.parametrize("builder", [cube, mul_add, bias_add, two_outputs],
                         ids=["cube", "mul_add", "bias_add", "two_outputs"])
def test_custom_function_gradcheck(builder):
    rng = np.random.default_rng(3)
    fn = builder(Function)
    shapes = {bias_add: [(4, 3), (3,)]}.get(builder, [(3, 2), (3, 2)][:fn.forward.__code__
                                                                        .co_argcount - 1])
    inputs = [mg.tensor(rng.uniform(0.5, 2.0, s), dtype=mg.float64, requires_grad=True)
              for s in shapes]
    assert mg.gradcheck(fn.apply, inputs)


def test_a_wrong_backward_fails_gradcheck():
    class WrongCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x ** 2  # should be 3 x^2

    x = mg.tensor(np.linspace(0.5, 1.5, 4), dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError):
        mg.gradcheck(WrongCube.apply, [x])


# ---- graph recording ----------------------------------------------------------------------------
def test_grad_fn_names_the_function_and_is_absent_without_grad():
    Cube = cube(Function)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.requires_grad and y.grad_fn.name() == "CubeBackward"
    assert not Cube.apply(mg.tensor([1.0, 2.0])).requires_grad
    with mg.no_grad():
        assert not Cube.apply(x).requires_grad


def test_forward_and_backward_record_no_graph():
    grad_modes = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            grad_modes.append(mg.is_grad_enabled())
            out = x * 2
            assert not out.requires_grad
            return out

        @staticmethod
        def backward(ctx, g):
            grad_modes.append(mg.is_grad_enabled())
            return g * 2

    x = mg.tensor([1.0, -1.0], requires_grad=True)
    Spy.apply(x).sum().backward()
    assert grad_modes == [False, False]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_backward_twice_needs_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = cube(Function).apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    x.grad = None
    z = cube(Function).apply(x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3 * np.array([1.0, 4.0]))


def test_output_used_twice_and_input_used_twice():
    Cube = cube(Function)
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    y = Cube.apply(x)
    (y * y + mul_add(Function).apply(x, x)).sum().backward()
    xt = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    yt = cube(torch.autograd.Function).apply(xt)
    (yt * yt + mul_add(torch.autograd.Function).apply(xt, xt)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


# ---- errors, as PyTorch raises them -------------------------------------------------------------
def make(forward, backward):
    return type("Bad", (Function,), {"forward": staticmethod(forward),
                                     "backward": staticmethod(backward)})


@pytest.mark.parametrize("forward,backward,args,error,match", [
    (lambda ctx, x, y: x * y, lambda ctx, g: g, 2, RuntimeError,
     "incorrect number of gradients \\(expected 2, got 1\\)"),
    (lambda ctx, x, a: x * a, lambda ctx, g: (g, g), 1, RuntimeError,
     "different than None at position 1"),
    (lambda ctx, x: x * 2, lambda ctx, g: g.sum(), 3, RuntimeError,
     "invalid gradient at index 0 - got \\[\\] but expected shape compatible with \\[3\\]"),
    (lambda ctx, x: x * 2, lambda ctx, g: 2.0, 3, TypeError, "returned a float"),
], ids=["too_few", "grad_for_non_tensor", "bad_shape", "not_a_tensor"])
def test_malformed_backward_is_a_clear_error(forward, backward, args, error, match):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    inputs = {1: (x, 2.0), 2: (x, mg.tensor([1.0, 1.0, 1.0])), 3: (x,)}[args]
    out = make(forward, backward).apply(*inputs)
    with pytest.raises(error, match=match):
        out.sum().backward()


def test_misuse_is_a_clear_error():
    Cube = cube(Function)
    with pytest.raises(RuntimeError, match="Cube.apply"):
        Cube()(mg.tensor([1.0]))
    with pytest.raises(TypeError, match="must return a Tensor or a tuple"):
        make(lambda ctx, x: 3.0, lambda ctx, g: g).apply(mg.tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="save_for_backward can only save Tensors"):
        make(lambda ctx, x: ctx.save_for_backward(x, 2.0), lambda ctx, g: g).apply(
            mg.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="mark_dirty"):
        make(lambda ctx, x: ctx.mark_dirty(x), lambda ctx, g: g).apply(mg.tensor([1.0]))
    mixed = make(lambda ctx, x: (x, x.to(mg.float32)), lambda ctx, g, h: g)
    with pytest.raises(NotImplementedError, match="different dtypes"):
        mixed.apply(mg.tensor([1.0], dtype=mg.float64, requires_grad=True))


def test_torch_import_paths():
    assert mg.autograd.Function is Function
    ctx_cls = mg.autograd.FunctionCtx
    ctx = ctx_cls()
    ctx.save_for_backward(None, mg.tensor([1.0]))
    assert ctx.saved_tensors[0] is None and len(ctx.saved_tensors) == 2


# ---- version counters: only what save_for_backward kept is guarded, as in PyTorch ------------
class _Scale(mg.autograd.Function):
    """out = 2 x; saves nothing (its gradient is a constant)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


class _Square(mg.autograd.Function):
    """out = x^2; saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class _ExpSavesOutput(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


def test_custom_function_guards_only_what_it_saved():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 1.0                       # a non-leaf, so it may be changed in place
    with mg.no_grad():
        x.add_(0.0)                   # version 1 before apply: no false alarm later
    y = _Scale.apply(x)
    with mg.no_grad():
        x.mul_(3.0)                   # not saved by _Scale: backward still fine (as torch)
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]

    x2 = w * 1.0
    z = _Square.apply(x2)
    with mg.no_grad():
        x2.mul_(3.0)                  # saved: the gradient would be wrong, so backward raises
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()

    e = _ExpSavesOutput.apply(w * 1.0)
    with mg.no_grad():
        e.mul_(2.0)                   # the saved output changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()
