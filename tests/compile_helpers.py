"""Helpers shared by the micrograd.compile tests: a training step, what must stay bitwise
equal (parameters, gradients, optimizer state, buffers), and eager and compiled copies run
side by side."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import micrograd as mg
from micrograd.compile import CompiledStep, compile as mg_compile


def training_step(opt: Any, loss_of: Callable) -> Callable:
    """``step(*args)``: zero the gradients, ``loss_of(*args)``, backward, update; returns the
    loss."""
    def step(*args):
        opt.zero_grad()
        loss = loss_of(*args)
        loss.backward()
        opt.step()
        return loss
    return step


def state_bytes(model, opt) -> list:
    """Every parameter, its .grad and its optimizer state, as bytes."""
    out = []
    for p in model.parameters():
        out += [p._array.tobytes(), None if p.grad is None else p.grad._array.tobytes()]
        out += [(k, v.tobytes() if isinstance(v, np.ndarray) else v)
                for k, v in sorted(opt.state.get(p, {}).items())]
    return out


def as_tensors(v: Any) -> Any:
    """Fresh tensors (copies) for arrays, also inside tuples: a step's arguments."""
    if isinstance(v, tuple):
        return tuple(as_tensors(x) for x in v)
    return mg.from_numpy(np.array(v, copy=True))


def compare(copies: list, batches, each: Callable | None = None) -> CompiledStep:
    """Two (model, optimizer, step) copies from the same weights, the second's step compiled,
    side by side over ``batches`` (argument tuples of arrays, copied with their layout);
    asserts bitwise equality (output, parameters, gradients, optimizer state, buffers) after
    every step, then calls ``each(i, (model, opt), (model, opt), compiled)`` if given.
    Returns the compiled step."""
    (m1, o1, eager), (m2, o2, step) = copies
    compiled = mg_compile(step)
    for i, args in enumerate(batches):
        rng = mg.get_rng_state()  # both copies draw the same numbers (dropout)
        a = eager(*as_tensors(args))
        mg.set_rng_state(rng)
        b = compiled(*as_tensors(args))
        if isinstance(a, float):
            assert isinstance(b, float) and a == b
        else:
            assert isinstance(b, mg.Tensor) and a._array.tobytes() == b._array.tobytes()
            assert b.shape == a.shape and b.dtype == a.dtype
            assert type(b._array) is type(a._array)  # an array or a NumPy scalar, as eager
        assert state_bytes(m1, o1) == state_bytes(m2, o2)
        assert [t._array.tobytes() for t in m1.buffers()] == \
            [t._array.tobytes() for t in m2.buffers()]
        if each is not None:
            each(i, (m1, o1), (m2, o2), compiled)
    return compiled
