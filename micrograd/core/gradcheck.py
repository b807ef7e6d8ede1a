"""``gradcheck``: autograd's gradients against central finite differences, in float64.

The backbone of the tests, and a tool for users writing their own ops.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .settings import thread_value
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when autograd and finite differences disagree."""


def gradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check ``fn``'s autograd gradients against central finite differences, in float64.

    ``fn(*inputs)`` returns a Tensor (any shape) or a tuple of Tensors. Every input Tensor that
    requires grad is checked, element by element: the analytic gradient of ``sum(out * c)`` for a
    fixed random cotangent ``c`` (all-ones would hide transposition mistakes) against
    ``(f(x + eps) - f(x - eps)) / (2 eps)``. Inputs must be float64: float32 differences at
    eps=1e-6 are noise. Returns True, or raises ``GradcheckError`` naming the worst element
    (input index, element index, analytic vs numeric) when ``|a - n| > atol + rtol * |n|``.
    """
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input Tensor has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != "float64":
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype.name}; use float64 "
                            "(finite differences in float32 are too noisy)")
    rng = np.random.default_rng(1234)

    def outputs() -> tuple:
        out = fn(*inputs)
        return out if isinstance(out, (tuple, list)) else (out,)

    with thread_value("grad_enabled", False):
        cots = [rng.standard_normal(o.shape) for o in outputs()]

    def scalar() -> float:
        with thread_value("grad_enabled", False):
            return float(sum((np.asarray(o._array, dtype=np.float64) * c).sum()
                             for o, c in zip(outputs(), cots)))

    # analytic: one backward of sum(out * c)
    for i in checked:
        inputs[i].grad = None
    with thread_value("grad_enabled", True):
        outs = outputs()
        total = None
        for o, c in zip(outs, cots):
            if not o.requires_grad:
                continue
            term = (o * Tensor(c, dtype=o.dtype)).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()

    worst = (-1.0, None)
    for i in checked:
        x = inputs[i]
        analytic = (np.zeros(x.shape) if x.grad is None
                    else np.asarray(x.grad._array, dtype=np.float64))
        for j in range(x._array.size):
            idx = np.unravel_index(j, x.shape)
            orig = x._array[idx]
            x._array[idx] = orig + eps
            fp = scalar()
            x._array[idx] = orig - eps
            fm = scalar()
            x._array[idx] = orig
            numeric = (fp - fm) / (2 * eps)
            a = float(analytic[idx])
            excess = abs(a - numeric) - (atol + rtol * abs(numeric))
            if excess > worst[0]:
                worst = (excess, (i, idx, a, numeric))
    if worst[1] is not None and worst[0] > 0:
        i, idx, a, numeric = worst[1]
        msg = (f"gradcheck failed: input {i} (shape {tuple(inputs[i].shape)}) element "
               f"{tuple(int(k) for k in idx)}: analytic {a!r} vs numeric {numeric!r} "
               f"(atol={atol}, rtol={rtol})")
        if raise_exception:
            raise GradcheckError(msg)
        return False
    return True
