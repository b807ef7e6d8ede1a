"""The step hook of both engines' backward: what micrograd.explain observes.

``Value.backward(hook)`` calls ``hook(node, child, local)`` after each chain-rule step;
``Tensor.backward(hook=...)`` calls ``hook(node, g, in_grads, pending)`` after each op's step.
A hook only observes: the gradients are the same with and without one.
"""
from __future__ import annotations

import numpy as np
import pytest

from micrograd import Tensor
from micrograd.engine import Value


def test_value_hook_sees_every_chain_rule_step_in_order():
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    s = e + c
    L = s * f
    calls = []
    L.backward(lambda node, child, local: calls.append((node, child, local, child.grad)))
    assert calls == [(L, s, -2.0, -2.0), (L, f, 4.0, 4.0),          # child.grad already added
                     (s, e, 1, -2.0), (s, c, 1, -2.0),
                     (e, a, -3.0, 6.0), (e, b, 2.0, -4.0)]


def test_value_hook_sees_an_input_used_twice_once_per_use():
    x = Value(3.0)
    y = x * x
    grads = []
    y.backward(lambda node, child, local: grads.append(child.grad))
    assert grads == [3.0, 6.0] and x.grad == 6.0


def test_value_backward_still_takes_no_argument_like_classic_micrograd():
    x = Value(3.0)
    (x * x + x).backward()
    assert x.grad == 7.0


def small_graph():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(3, 2)), dtype="float64", requires_grad=True)
    w = Tensor(rng.normal(size=(2, 2)), dtype="float64", requires_grad=True)
    h = (x @ w).tanh()
    h.retain_grad()
    loss = (h * h + x).sum() * 0.5
    return x, w, h, loss


def test_tensor_hook_is_called_once_per_op_with_the_checked_step():
    x, w, h, loss = small_graph()
    steps = []

    def hook(node, g, in_grads, pending):
        assert not node._ctx.freed                     # before the saved arrays are dropped
        assert len(in_grads) == len(node._prev)
        for parent, pg in zip(node._prev, in_grads):
            if pg is not None and parent.requires_grad:
                assert pg.shape == parent.shape and parent in pending
        steps.append((type(node._ctx).__name__, g.shape))
    loss.backward(hook=hook)
    assert steps == [("Mul", ()), ("Sum", ()), ("Add", (3, 2)), ("Mul", (3, 2)),
                     ("Tanh", (3, 2)), ("MatMul", (3, 2))]
    assert loss.grad_fn.freed                          # freed after the hook, as without one


def test_tensor_hook_only_observes():
    plain = small_graph()
    plain[-1].backward()
    hooked = small_graph()
    hooked[-1].backward(hook=lambda *step: None)
    for want, got in zip(plain[:3], hooked[:3]):
        np.testing.assert_array_equal(got.grad._array, want.grad._array)


def test_tensor_hook_is_keyword_only():
    *_, loss = small_graph()
    with pytest.raises(TypeError):
        loss.backward(None, False, lambda *step: None)
