"""Anomaly detection: stop at the op that first turns finite numbers into NaN or Inf.

A NaN loss after an hour of training says nothing about where it came from: one ``log(0)`` deep in
the model poisons every value computed after it. In anomaly mode every op checks its result:

- forward: an op whose output holds NaN/Inf although all its inputs were finite raises
  ``AnomalyError`` naming the op, the output's shape and dtype, the first bad element and the
  input values there. An input that already holds NaN/Inf *and is a leaf* (data, a parameter, a
  Python constant) is reported too: then the data is the culprit, not an op.
- backward: an op whose backward returns a NaN/Inf gradient for a finite upstream gradient raises,
  naming the op, which input the gradient is for, the shapes, and where the op was created in
  the forward pass (the stack is recorded while the mode is on, as torch does).

Usage (as ``torch.autograd``)::

    with mg.autograd.detect_anomaly():
        loss = model(x).log().mean()
        loss.backward()

or ``mg.autograd.set_detect_anomaly(True)`` for the rest of the thread (the mode is a per-thread
setting, as grad mode is). It costs one attribute check per op when off (``settings.anomaly``,
read in ``tensor.py`` and in ``Tensor.backward``) and a scan of every result when on: a
debugging tool, not for production.
"""
from __future__ import annotations

import functools
import sys
import traceback
from typing import Any, Callable, Sequence

import numpy as np

from .settings import settings


class AnomalyError(RuntimeError):
    """An op produced NaN/Inf in forward or backward while anomaly detection was on."""


class set_detect_anomaly:
    """``set_detect_anomaly(True)`` turns detection on now; ``with set_detect_anomaly(m):``
    restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = settings.anomaly
        settings.anomaly = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        settings.anomaly = self.prev


class detect_anomaly:
    """``with detect_anomaly():`` (or as a decorator): anomaly detection inside the block."""

    def __enter__(self) -> None:
        self.prev = settings.anomaly
        settings.anomaly = True

    def __exit__(self, *exc: object) -> None:
        settings.anomaly = self.prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly():
                return fn(*args, **kwargs)
        return wrapper


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection (``detect_anomaly``) is on in the calling thread."""
    return settings.anomaly


# ---- the checks (called only when the mode is on) ----------------------------------------------
def _bad(a: Any) -> bool:
    """True for a floating array holding NaN or +-Inf."""
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all()


def _what(a: np.ndarray) -> str:
    """'2 nan, 1 inf of 6 values'."""
    nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    parts = [f"{nan} nan"] * bool(nan) + [f"{inf} inf"] * bool(inf)
    return f"{', '.join(parts)} of {a.size} values"


def _first(a: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])


def _describe(a: Any) -> str:
    if not isinstance(a, np.ndarray):
        return type(a).__name__
    return f"{a.dtype.name} {tuple(a.shape)}"


def _at(arrays: Sequence, idx: tuple, shape: tuple) -> str:
    """The inputs' values at ``idx`` (for inputs of the output's shape, or 0-d ones)."""
    vals = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray) and a.shape == shape:
            vals.append(f"input {i} = {float(a[idx])!r}")
        elif isinstance(a, np.ndarray) and a.ndim == 0:
            vals.append(f"input {i} = {float(a[()])!r}")
    return f" ({', '.join(vals)})" if vals else ""


def check_forward(fn: Any, inputs: Sequence, out: Any) -> None:
    """Raise if ``out`` (the result of op ``fn`` on Tensors ``inputs``) is the first NaN/Inf.
    Records where the op was created, for backward's messages."""
    # the caller's frames, outside micrograd's own (lines are read only if backward reports)
    frame = sys._getframe(2)
    fn.anomaly_stack = traceback.StackSummary.extract(traceback.walk_stack(frame), limit=6,
                                                      lookup_lines=False)
    if not _bad(out):
        return
    name = type(fn).__name__
    arrays = [t._array for t in inputs]
    for i, (t, a) in enumerate(zip(inputs, arrays)):
        if _bad(a):
            if t._ctx is None:
                raise AnomalyError(
                    f"detect_anomaly: {name} (forward) got input {i} ({_describe(a)}) that "
                    f"already holds {_what(a)}; it is a leaf (data, parameter or constant), so "
                    f"the NaN/Inf comes from there, first at index {_first(a)}")
            return  # produced upstream outside anomaly mode: that op was not checked
    idx = _first(out)
    ins = ", ".join(f"input {i} {_describe(a)}" for i, a in enumerate(arrays))
    raise AnomalyError(
        f"detect_anomaly: {name} (forward) produced {_what(out)} in its output "
        f"({_describe(out)}) from finite inputs [{ins}]; first at index {idx}: output = "
        f"{float(out[idx])!r}{_at(arrays, idx, out.shape)}")


def check_backward(fn: Any, g: Any, grads: Sequence, inputs: Sequence) -> None:
    """Raise if op ``fn``'s backward turned a finite upstream ``g`` into a NaN/Inf gradient."""
    for i, (pg, t) in enumerate(zip(grads, inputs)):
        if pg is None or not t.requires_grad or not _bad(pg):
            continue
        name = fn.name()
        stack = getattr(fn, "anomaly_stack", None)
        where = ("".join(reversed(stack.format())) if stack is not None
                 else "  (not recorded: the forward ran with anomaly mode off)\n")
        if _bad(g):
            what = (f"received an upstream gradient with {_what(g)} ({_describe(g)}): the "
                    f"seed passed to backward() or a sum of gradients overflowed")
        else:
            what = (f"returned {_what(pg)} in the gradient for input {i} ({_describe(pg)}) "
                    f"from a finite upstream gradient "
                    f"({_describe(g)}); first at index {_first(pg)}")
        raise AnomalyError(f"detect_anomaly: {name} (backward) {what}.\nThe forward op was "
                           f"created at:\n{where}")
