"""The scalar autograd engine: one number, one node, the chain rule. Read this file first.

A ``Value`` wraps a number and remembers how it was made: its inputs (``_prev``) and, for each
input, the *local derivative* of this node with respect to that input (``_local_grads``). For
``out = a * b`` the local derivatives are ``(b, a)``, because d(out)/da = b and d(out)/db = a.

``backward()`` applies the chain rule from the output back to every input:

    child.grad += local_derivative * parent.grad

visiting nodes in reverse topological order, so a node's gradient is complete before it is
passed on. Storing numbers instead of closures (classic micrograd stored a ``_backward``
closure per node) means no node refers to itself: graphs are freed by reference counting alone,
without waiting for the garbage collector. On the classic two-moons demo a training step is
7.5-13x faster than classic micrograd's with the collector on (Python's default: most of the
difference is the collector's work on classic's cycles) and 2.6-3x with it off
(bench/bench_engine.py measures both). Part of the gap is the graph's size: a neuron adds up its
inputs with one ``sum_values`` node (nn/scalar.py), so that step builds ~38,500 nodes to
classic's ~65,800.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, Sequence, Union

from .graph import toposort

Number = Union[int, float]
_REAL_NUMBERS = (int, float, numbers.Real)  # int and float first: the common cases, checked fast


class Value:
    """A scalar with a gradient. Supports + - * / ** with numbers on either side.
    ``label`` is a name for drawing the graph, as in the micrograd lecture."""

    __slots__ = ("data", "grad", "_prev", "_local_grads", "_op", "label")

    def __init__(self, data: Number, _children: tuple = (), _op: str = "",
                 _local_grads: tuple = (), label: str = "") -> None:
        if not _children and not isinstance(data, _REAL_NUMBERS):  # (computed nodes hold numbers)
            raise TypeError(f"Value: data must be a real number (int or float), got "
                            f"{type(data).__name__}"
                            + ("; a Value holds one number, micrograd.tensor holds arrays"
                               if hasattr(data, "shape") else ""))
        self.data = data
        self.grad = 0                    # d(output)/d(self), filled in by backward()
        self._prev = _children           # the Values this one was computed from
        self._local_grads = _local_grads  # d(self)/d(child) for each child, same order
        self._op = _op                   # the op that produced this node, for printing/drawing
        self.label = label

    # ---- operations: each returns a new Value with its inputs and local derivatives ----------
    def __add__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            # d(a+b)/da = 1, d(a+b)/db = 1
            return _node(self.data + other.data, (self, other), "+", (1, 1))
        if not isinstance(other, _REAL_NUMBERS):
            return NotImplemented  # Python then raises its TypeError naming both types
        # a plain number is a constant: it needs no node of its own and gets no gradient
        return _node(self.data + other, (self,), "+", (1,))

    def __mul__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            # d(a*b)/da = b, d(a*b)/db = a
            return _node(self.data * other.data, (self, other), "*", (other.data, self.data))
        if not isinstance(other, _REAL_NUMBERS):
            return NotImplemented
        return _node(self.data * other, (self,), "*", (other,))

    def __pow__(self, exponent: Value | Number) -> Value:
        if isinstance(exponent, Value):
            # d(a**b)/da = b * a**(b-1), d(a**b)/db = a**b * ln(a)
            a, b = self.data, exponent.data
            out = _power(a, b)
            return _node(out, (self, exponent), "**", (_power_grad(a, b), _log_grad(out, a, b)))
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"Value ** exponent: the exponent must be a Value, int or float, "
                            f"got {type(exponent).__name__}")
        # d(a**n)/da = n * a**(n-1)
        return _node(_power(self.data, exponent), (self,), f"**{exponent}",
                     (_power_grad(self.data, exponent),))

    def exp(self) -> Value:
        """e ** self, with local derivative e ** self."""
        e = _exp(self.data)
        return _node(e, (self,), "exp", (e,))                  # d(e^a)/da = e^a

    def log(self) -> Value:
        """The natural logarithm of self; self must be > 0 (a ValueError otherwise)."""
        if self.data <= 0:
            raise ValueError(f"Value.log: input must be > 0, got {self.data}")
        return _node(math.log(self.data), (self,), "log", (1 / self.data,))  # d(ln a)/da = 1/a

    def relu(self) -> Value:
        """max(self, 0), with local derivative 1 above 0 and 0 otherwise."""
        positive = self.data > 0
        return _node(self.data if positive else 0, (self,), "ReLU", (1 if positive else 0,))

    def tanh(self) -> Value:
        """The hyperbolic tangent of self, with local derivative 1 - tanh(self) ** 2."""
        t = math.tanh(self.data)
        return _node(t, (self,), "tanh", (1 - t * t,))          # d(tanh a)/da = 1 - tanh(a)^2

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self), computed without overflow; local derivative s * (1 - s)."""
        x = self.data
        s = 1 / (1 + _exp(-x)) if x >= 0 else _exp(x) / (1 + _exp(x))
        return _node(s, (self,), "sigmoid", (s * (1 - s),))     # d(s)/da = s * (1 - s)

    # ---- everything else is built from the operations above ----------------------------------
    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-other)

    def __truediv__(self, other: Value | Number) -> Value:
        if not isinstance(other, Value):
            other = Value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"Value division by zero: {self.data} / 0")
        return self * other ** -1

    def __radd__(self, other: Number) -> Value:   # other + self
        return self + other

    def __rmul__(self, other: Number) -> Value:   # other * self
        return self * other

    def __rsub__(self, other: Number) -> Value:   # other - self
        return Value(other) + (-self)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return Value(other) / self

    def __rpow__(self, other: Number) -> Value:   # other ** self, e.g. 2 ** v
        return Value(other) ** self

    # ---- backpropagation ----------------------------------------------------------------------
    def backward(self, hook: Callable | None = None) -> None:
        """Fill ``.grad`` of every Value this one depends on with d(self)/d(that Value).

        Gradients add up (``+=``) because a Value used twice receives a contribution from each
        use; call ``zero_grad`` (or set ``.grad = 0``) between steps, as in classic micrograd.
        ``hook(node, child, local)``, if given, is called after each chain-rule step; this is
        how ``micrograd.explain`` prints the steps of this very loop.
        """
        self.grad = 1
        for node in reversed(toposort(self)):
            grad, children, local_grads = node.grad, node._prev, node._local_grads
            if len(children) == 2 and hook is None:
                # most nodes are a + b or a * b: the same chain rule, unrolled (no zip object
                # per node, which takes the loop from ~15 to ~9 ms on the moons step's graph)
                (a, b), (da, db) = children, local_grads
                a.grad += da * grad
                b.grad += db * grad
                continue
            for child, local in zip(children, local_grads):
                child.grad += local * grad   # the chain rule
                if hook is not None:
                    hook(node, child, local)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def sum_values(terms: Sequence[Value]) -> Value:
    """``terms[0] + terms[1] + ...`` as one node instead of a chain of ``+`` nodes: the sum is
    added up left to right as the chain would add it, so it is the same number, and each term's
    local derivative is 1, as in ``a + b``, so the gradients are the same too. A neuron adds up
    its weighted inputs this way (nn/scalar.py): one node where the chain had one per input."""
    data = terms[0].data
    for term in terms[1:]:
        data = data + term.data
    return _node(data, tuple(terms), "sum", (1,) * len(terms))


_new_object = object.__new__


def _node(data: Number, children: tuple, op: str, local_grads: tuple) -> Value:
    """The Value an operation returns: what ``Value(data, children, op, local_grads)`` makes,
    without the call through ``type`` and ``__init__`` and its argument check (the data of a
    computed node is a number already). Every operator makes one, and this way costs about a
    quarter less. Sets the same attributes as ``__init__``."""
    out = _new_object(Value)
    out.data = data
    out.grad = 0
    out._prev = children
    out._local_grads = local_grads
    out._op = op
    out.label = ""
    return out


# ---- exponentials and powers of real numbers, as PyTorch computes them ------------------------
def _exp(a: Number) -> float:
    """e ** a, inf when it overflows (as float arithmetic and torch.exp give; math.exp raises
    OverflowError)."""
    try:
        return math.exp(a)
    except OverflowError:  # (also an int too large for a float: its exp is inf or 0)
        return math.inf if a > 0 else 0.0


def _power(a: Number, b: Number) -> float:
    """a ** b: nan where no real number is (a negative base, a fractional exponent: Python
    would return a complex number), +-inf where a float result overflows (Python raises)."""
    if a < 0 and math.isfinite(b) and b != math.floor(b):
        return math.nan
    try:
        return a ** b
    except OverflowError:
        return -math.inf if a < 0 and b % 2 == 1 else math.inf


def _power_grad(a: Number, b: Number) -> float:
    """d(a**b)/da = b * a**(b-1); 0 for b = 0 (the limit; the formula gives 0 * inf at a = 0)."""
    return 0 if b == 0 else b * _power(a, b - 1)


def _log_grad(out: float, a: Number, b: Number) -> float:
    """d(a**b)/db = a**b * ln(a): nan for a < 0 (no real log), 0 at a = 0 with b >= 0 (torch)."""
    if a > 0:
        return out * math.log(a)
    return 0 if a == 0 and b >= 0 else math.nan
