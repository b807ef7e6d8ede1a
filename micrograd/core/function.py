"""Custom autograd functions, PyTorch's way: subclass ``Function``, write static ``forward`` and
``backward`` on Tensors, call ``YourFunction.apply(...)``.

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * 3 * x ** 2

``apply`` records one graph node, a ``_CustomNode`` (an ``ops.Function`` like every primitive),
so ``Tensor.backward`` runs the user's ``backward`` in its one loop, with its checks (gradient
count and shape, anomaly mode, freed graphs). Both user methods run without recording a graph
(grad mode off), as in PyTorch without ``create_graph``: higher-order gradients are out of scope.
Tensor arguments are the node's inputs; any other argument passes through and gets no gradient
(``backward`` returns None for it). A tuple of outputs is one node whose output is the
differentiable outputs packed into one 1-D array; each output is a slice of it, so an output
that gets no gradient contributes zeros (gradients are always materialized).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import anomaly, ops
from .settings import settings, thread_value
from .tensor import Tensor, wrap_array

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` a custom Function's ``forward`` and ``backward`` receive. Store what backward
    needs with ``save_for_backward`` (Tensors) or as plain attributes (anything else)."""

    needs_input_grad: tuple = ()   # one bool per argument of apply(): does it need a gradient?

    def __init__(self) -> None:
        self._saved: tuple = ()
        self.non_differentiable: set = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep Tensors (or None) for backward; read them back from ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save Tensors or None, but argument "
                                f"{i} is a {type(t).__name__} (store other values as ctx "
                                "attributes, e.g. ctx.alpha = alpha)")
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The Tensors given to ``save_for_backward``, in order."""
        return self._saved

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs that get no gradient (indices, masks): they come out with requires_grad False
        and backward receives zeros for them."""
        self.non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch code; gradients are always materialized here (an output that got
        no gradient passes zeros to backward, never None): docs/pytorch-differences.md."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Not supported: a custom Function that modifies its inputs in place raises
        NotImplementedError; return a new Tensor instead."""
        raise NotImplementedError("mark_dirty: custom Functions that modify their inputs in "
                                  "place are not supported; return a new Tensor instead "
                                  "(docs/pytorch-differences.md)")


class Function:
    """Base class of user-defined differentiable operations (``torch.autograd.Function``).

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static
    methods, or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``; backward returns
    one gradient (or None) per argument of ``forward``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        """Override: compute the outputs from the inputs (``forward(ctx, *args)``, or
        ``forward(*args)`` with ``setup_context``); runs without recording a graph."""
        raise NotImplementedError("a custom Function must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        """Override: given one gradient per output, return one gradient (or None) per
        ``forward`` argument."""
        raise NotImplementedError("a custom Function must define a static backward(ctx, "
                                  "*grad_outputs) to be differentiated")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """Override (optional): save what backward needs on ``ctx`` when ``forward`` does not
        take ``ctx`` (PyTorch 2's style)."""
        raise NotImplementedError  # only called when a subclass defines it

    def __call__(self, *args: Any) -> Any:
        raise RuntimeError(f"{type(self).__name__}()(...): call custom Functions with the "
                           f"class's apply, {type(self).__name__}.apply(...), as in PyTorch")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on ``args`` and, when a Tensor argument requires grad (and grad mode
        is on), record one node whose backward calls ``cls.backward``."""
        ctx = FunctionCtx()
        record = settings.grad_enabled
        ctx.needs_input_grad = tuple(record and isinstance(a, Tensor) and a.requires_grad
                                     for a in args)
        with thread_value("grad_enabled", False):
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args)
            else:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if single and not isinstance(output, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple, got "
                            f"{type(output).__name__}")
        diff = [i for i, out in enumerate(outputs) if isinstance(out, Tensor)
                and out._array.dtype.kind == "f" and id(out) not in ctx.non_differentiable]
        # outputs leave the forward as fresh Tensors outside any graph (forward's own ops
        # recorded none); the differentiable ones become the node's output below
        results = [wrap_array(out._array) if isinstance(out, Tensor) else out
                   for out in outputs]
        if True in ctx.needs_input_grad and diff:
            node = _CustomNode(cls, ctx, args)
            inputs = tuple(a for a in args if isinstance(a, Tensor))
            node.track_saved(inputs, outputs)
            packed = node.pack(outputs, diff, several=not single)
            if settings.anomaly:
                anomaly.check_forward(node, inputs, packed)
            tensor = wrap_array(packed, inputs, node)
            if single:
                results[0] = tensor
            else:
                for i in diff:
                    _, start, stop, shape = node.slots[i]
                    results[i] = tensor[start:stop].reshape(shape)
        return results[0] if single else tuple(results)


class _CustomNode(ops.Function):
    """The graph node of one ``Function.apply`` call: backward hands the output gradients to the
    user's backward as Tensors and returns its results as arrays, one per Tensor argument."""

    def __init__(self, cls: type, ctx: FunctionCtx, args: tuple) -> None:
        self.be = settings.backend
        self.cls, self.ctx = cls, ctx
        self.is_tensor = [isinstance(a, Tensor) for a in args]
        self.needs_input_grad = tuple(n for n, t in zip(ctx.needs_input_grad, self.is_tensor)
                                      if t)
        self.input_meta = [(a.shape, a._array.dtype) for a in args if isinstance(a, Tensor)]
        self.slots: list = []  # per output of several: where its gradient comes from

    def name(self) -> str:
        return self.cls.__name__ + "Backward"

    def track_saved(self, inputs: tuple, outputs: tuple) -> None:
        """What the version check guards, as PyTorch: the inputs given to save_for_backward
        (at the versions they have now) and, when an output was saved, the output; a Tensor
        the user did not save may change in place before backward."""
        saved = [t for t in self.ctx.saved_tensors if t is not None]
        self.versions = tuple(0 if t._vc is None else t._vc.n for t in inputs)
        self.saves_inputs = tuple(i for i, t in enumerate(inputs)
                                  if any(s is t for s in saved))
        self.saves_output = any(s._array is out._array for s in saved for out in outputs
                                if isinstance(out, Tensor))

    def pack(self, outputs: tuple, diff: list, several: bool) -> np.ndarray:
        """The node's one output array: the only output itself, or the differentiable ones of
        ``several`` outputs raveled and joined (they must share a dtype). ``slots`` records, per
        output, ("slice", start, stop, shape) in that array, ("zeros", shape, dtype) for a
        non-differentiable Tensor (its gradient is zeros, as PyTorch's), or ("none",)."""
        arrays = [outputs[i]._array for i in diff]
        if not several:
            return arrays[0]
        kinds = {a.dtype for a in arrays}
        if len(kinds) > 1:
            raise NotImplementedError(
                f"{self.cls.__name__}.forward returned differentiable outputs of different "
                f"dtypes ({', '.join(sorted(str(k) for k in kinds))}); custom Functions with "
                "several outputs need one floating dtype (or mark the others with "
                "ctx.mark_non_differentiable)")
        start = 0
        for i, out in enumerate(outputs):
            if i in diff:
                self.slots.append(("slice", start, start + out.numel(), out.shape))
                start += out.numel()
            elif isinstance(out, Tensor):
                self.slots.append(("zeros", out.shape, out._array.dtype))
            else:
                self.slots.append(("none",))
        return self.be.concatenate([self.be.reshape(a, (-1,)) for a in arrays], 0)

    def _grad_output(self, g: np.ndarray, slot: tuple) -> Tensor | None:
        if slot[0] == "slice":
            _, start, stop, shape = slot
            return wrap_array(self.be.reshape(g[start:stop], shape))
        return wrap_array(np.zeros(slot[1], slot[2])) if slot[0] == "zeros" else None

    def backward(self, g: np.ndarray) -> tuple:
        cls, ctx = self.cls, self.ctx
        if self.slots:
            grad_outputs = [self._grad_output(g, slot) for slot in self.slots]
        else:
            grad_outputs = [wrap_array(g)]
        with thread_value("grad_enabled", False):
            grads = cls.backward(ctx, *grad_outputs)
        grads = grads if isinstance(grads, tuple) else (grads,)
        n_args = len(self.is_tensor)
        if len(grads) < n_args or any(x is not None for x in grads[n_args:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n_args}, got {len(grads)})")
        out = []
        meta = iter(self.input_meta)
        for i, (grad, is_tensor) in enumerate(zip(grads, self.is_tensor)):
            if not is_tensor:
                if grad is not None:
                    raise RuntimeError(f"function {self.name()} returned a gradient different "
                                       f"than None at position {i}, but the corresponding "
                                       "forward input was not a Tensor")
                continue
            shape, dtype = next(meta)
            out.append(None if grad is None else self._as_input_grad(grad, i, shape, dtype))
        return tuple(out)

    def _as_input_grad(self, grad: Any, i: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
        """``grad`` as an array of the input's shape and dtype: summed over broadcast dims when
        it has an expandable shape, as PyTorch does; any other shape is an error."""
        if not isinstance(grad, Tensor):
            raise TypeError(f"function {self.name()} returned a {type(grad).__name__} as the "
                            f"gradient at position {i}; expected a Tensor or None")
        a = grad._array
        if a.shape != shape:
            try:
                expandable = np.broadcast_shapes(shape, a.shape) == a.shape
            except ValueError:
                expandable = False
            if not expandable:
                raise RuntimeError(f"function {self.name()} returned an invalid gradient at "
                                   f"index {i} - got {list(a.shape)} but expected shape "
                                   f"compatible with {list(shape)}")
            lead = a.ndim - len(shape)
            axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape)
                                              if n == 1 and a.shape[lead + d] != 1)
            a = self.be.reshape(self.be.sum(a, axes, True), shape)
        return a if a.dtype == dtype else self.be.cast(a, dtype)


def once_differentiable(fn: Any) -> Any:
    """PyTorch's decorator for a backward that cannot itself be differentiated. Every backward
    here is once differentiable (no graph is built during backward), so it returns ``fn``."""
    return fn
