"""``micrograd.onnx.export``: a model of micrograd layers as an ONNX file (opset 17 by
default, 14 to 21), for onnxruntime and every other ONNX consumer.

How: the model runs once on the example inputs, in eval mode and without grad, with a forward
hook on every layer (a module with a converter, whose submodules are part of it, or else a
module without children). The hooks record which layer read which tensors and returned which,
so the calls form a dataflow graph; each layer then becomes ONNX nodes through its converter in
``CONVERTERS``, and its parameters become initializers named as in ``state_dict``. So a
``Sequential`` (nested or not) and a ``Module`` whose ``forward`` only chains its layers
(``x = self.fc1(x); out, (h, c) = self.lstm(x); ...``) export alike. The model's inputs (a
tensor or nested tuples of them) are the graph's inputs, and the tensors it returns (likewise)
its outputs.

What cannot be exported is refused with the reason, never approximated: a layer without a
converter (``NotImplementedError`` naming it and its place in the model), a ``forward`` that
computes outside its layers (a functional call or tensor op between them), a layer whose
behaviour in eval mode has no ONNX operator here (``BatchNorm1d`` without running statistics,
circular padding before opset 19, an LSTM's projection, ``is_causal=True``), parameters whose
dtype is not the model's.

Each converter writes torch's math with ONNX operators, e.g. exact GELU as
``0.5 x (1 + erf(x / sqrt 2))`` (``Gelu`` arrives in opset 20), softplus with its threshold
(``Where``), the recurrent layers as ONNX's RNN / LSTM / GRU with the gates reordered, attention
as its matrix products, so the file computes what the micrograd model computes. Converters for
more layers are one function each: ``CONVERTERS[Layer] = fn(graph, module, x, shape) -> output
name`` (``x`` the input's name, ``shape`` its traced shape; ``graph.out_shape`` the layer's
output's); a layer of several tensors registers with ``@converts(Layer, reads_call=True)``, reads
its arguments from ``graph.args`` and returns its outputs' names as the layer returns them.
"""
from __future__ import annotations

import contextlib
import inspect
import math
import os
from typing import Any, BinaryIO, Callable, Iterator, Sequence

import numpy as np

from ..core.autograd import no_grad
from ..core.tensor import Tensor
from .. import nn
from ..nn import activation as A
from ..nn import conv as C
from ..nn import functional as F
from ..nn import layers as L
from ..nn import pooling as P
from ..nn import recurrent as R
from ..nn import sparse as S
from ..nn import transformer as T
from ..nn.module import Module

__all__ = ["export", "supported_layers", "converts", "CONVERTERS", "READS_CALL", "OPSET", "OPSETS"]

OPSET = 17  # the default: LayerNormalization is one operator; onnxruntime has run it since 1.14
#: the opsets written, each with the IR version that goes with it (a newer IR would lock out
#: older runtimes); 14 brings HardSwish, 17 LayerNormalization (decomposed before it), 18 the
#: reductions' axes as an input, 19 Pad's 'wrap' mode (circular padding)
OPSETS = {14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}
_HINT = 'pip install "micrograd-tensor[onnx]"'


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(f"micrograd.onnx.export needs the onnx package, which is not "
                          f"installed: {_HINT}") from exc
    return onnx


class Graph:
    """The ONNX graph under construction: nodes, initializers, and unique value names.

    Converters call ``node`` (an operator; returns its output's name), ``param`` (a module's
    tensor as an initializer named like its ``state_dict`` key) and ``const`` (a number or small
    array in the graph's dtype)."""

    def __init__(self, onnx: Any, dtype: np.dtype, opset: int = OPSET) -> None:
        self.onnx, self.dtype, self.opset = onnx, dtype, opset
        self.nodes: list = []
        self.initializers: list = []
        self.names: set[str] = set()
        self.params: dict[tuple, str] = {}  # a layer called twice stores its weights once
        self.path = ""  # the layer being converted, for names and messages
        self.out_shape: tuple = ()  # that layer's output shape in the traced run
        self.traced: dict[str, Tensor] = {}  # each value's tensor in the traced run, by name
        self.args: dict[str, Any] = {}  # the call's arguments, tensors as names (reads_call)

    def _unique(self, name: str) -> str:
        out, k = name, 1
        while out in self.names:
            out, k = f"{name}_{k}", k + 1
        self.names.add(out)
        return out

    def node(self, op: str, inputs: Sequence[str], outputs: int = 1, **attrs: Any) -> Any:
        """Add ``op`` reading ``inputs``; its output name (a list of names if ``outputs > 1``)."""
        names = [self._unique(f"{self.path or 'model'}/{op}") for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), names,
                                                     name=self._unique(f"{self.path}:{op}"),
                                                     **attrs))
        return names[0] if outputs == 1 else names

    def param(self, module: Module, attr: str, shape: tuple | None = None,
              transpose: bool = False) -> str:
        """The tensor ``module.<attr>`` as an initializer (reshaped to ``shape``, or transposed,
        if asked); its dtype must be the graph's, as the model's arithmetic would otherwise
        differ."""
        def make() -> np.ndarray:
            array = getattr(module, attr)._array
            array = array.T if transpose else array
            return array if shape is None else array.reshape(shape)
        return self.derived(module, attr + ("_t" if transpose else ""), make, (shape, attr))

    def derived(self, module: Module, name: str, make: Callable[[], np.ndarray],
                key: Any = None) -> str:
        """An initializer computed from ``module``'s tensors by ``make`` (e.g. an RNN's gates
        reordered), named ``<path>.<name>``, made once per module (and ``key``); its dtype must
        be the graph's, as the model's arithmetic would otherwise differ."""
        key = (id(module), name, key)
        if key not in self.params:
            array = make()
            if array.dtype != self.dtype:
                raise TypeError(f"micrograd.onnx.export: {self.path}.{name} is {array.dtype} but "
                                f"the model computes in {self.dtype} (its input's dtype); "
                                "convert the model (model.float() or model.double()) or the "
                                "input so they match")
            self.params[key] = self._initializer(f"{self.path}.{name}" if self.path else name,
                                                 array)
        return self.params[key]

    @contextlib.contextmanager
    def inside(self, child: str) -> Iterator[None]:
        """Convert a submodule of the current layer: names and messages carry its path."""
        outer = self.path
        self.path = f"{outer}.{child}" if outer else child
        try:
            yield
        finally:
            self.path = outer

    def reduce(self, op: str, x: str, axes: Sequence[int], keepdims: bool) -> str:
        """``op`` (ReduceMean, ReduceMax, ...) over ``axes``: an attribute before opset 18 (but
        ReduceSum's, an input since 13), an input since."""
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.const(list(axes), np.int64)], keepdims=int(keepdims))
        return self.node(op, [x], axes=list(axes), keepdims=int(keepdims))

    def split(self, x: str, parts: int, axis: int) -> list[str]:
        """``x`` in ``parts`` equal parts along ``axis`` (Split; from opset 18 it must be told
        the number of parts)."""
        count = {"num_outputs": parts} if self.opset >= 18 else {}
        return self.node("Split", [x], outputs=parts, axis=axis, **count)

    def const(self, value: Any, dtype: Any = None) -> str:
        """A constant (a number, or an array such as a shape) as an initializer."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        return self._initializer(f"{self.path or 'model'}/const", array)

    def _initializer(self, name: str, array: np.ndarray) -> str:
        name = self._unique(name)
        # (np.array, not np.ascontiguousarray, which makes a scalar 1-d: Range needs scalars)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(array, order="C"),
                                                                   name))
        return name


Converter = Callable[[Graph, Module, str, tuple], Any]
CONVERTERS: dict[type, Converter] = {}
#: converters that read the whole call (``graph.args``) and may return a tuple, as their layer
READS_CALL: set[Converter] = set()


def converts(*classes: type, reads_call: bool = False) -> Callable[[Converter], Converter]:
    """Register a converter for ``classes``. With ``reads_call`` it gets the layer's first
    tensor argument as ``x`` and all its arguments, bound to its ``forward``'s parameters, as
    ``graph.args`` (tensors as value names, ``None`` as ``None``), and returns the names in the
    structure the layer returns (a tuple with ``None`` where the layer returns ``None``);
    otherwise the layer must take one tensor and return one."""
    def register(fn: Converter) -> Converter:
        for cls in classes:
            CONVERTERS[cls] = fn
        if reads_call:
            READS_CALL.add(fn)
        return fn
    return register


def _unsupported(g: Graph, m: Module, why: str) -> NotImplementedError:
    return NotImplementedError(f"micrograd.onnx.export: layer {g.path or '<model>'!r} "
                               f"({type(m).__name__}) cannot be exported: {why}")


# ---- small graph helpers ------------------------------------------------------------------------
def _slice0(g: Graph, x: str, start: int, stop: int) -> str:
    """x[start:stop] along dim 0."""
    return g.node("Slice", [x, g.const([start], np.int64), g.const([stop], np.int64),
                            g.const([0], np.int64)])


def _cast(g: Graph, x: str, dtype: Any = None) -> str:
    """``x`` as the graph's float dtype (or ``dtype``)."""
    to = g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype or g.dtype))
    return g.node("Cast", [x], to=to)


def _unsqueeze(g: Graph, x: str, axis: int) -> str:
    return g.node("Unsqueeze", [x, g.const([axis], np.int64)])


def _squeeze(g: Graph, x: str, axis: int) -> str:
    return g.node("Squeeze", [x, g.const([axis], np.int64)])


# ---- dense, shape and identity layers -----------------------------------------------------------
@converts(L.Linear)
def _linear(g: Graph, m: L.Linear, x: str, shape: tuple) -> str:
    """x @ W.T + b as MatMul (any rank) with W stored transposed, then Add."""
    y = g.node("MatMul", [x, g.param(m, "weight", transpose=True)])
    return y if m.bias is None else g.node("Add", [y, g.param(m, "bias")])


@converts(L.Identity, L.Dropout, L.Dropout2d)
def _identity(g: Graph, m: Module, x: str, shape: tuple) -> str:
    """Identity, and Dropout in eval mode (which the export always uses)."""
    return g.node("Identity", [x])


@converts(L.Flatten)
def _flatten(g: Graph, m: L.Flatten, x: str, shape: tuple) -> str:
    """Reshape: 0 keeps each dim before ``start_dim`` (the batch among them, whatever its
    size), -1 takes the flattened span, the dims after ``end_dim`` are the example's."""
    n = len(shape)
    start, end = m.start_dim % max(n, 1), m.end_dim % max(n, 1)
    target = [0] * start + [-1] + list(shape[end + 1:])
    return g.node("Reshape", [x, g.const(target, np.int64)])


@converts(L.Unflatten)
def _unflatten(g: Graph, m: L.Unflatten, x: str, shape: tuple) -> str:
    """Reshape: 0 keeps each dim before ``dim``, then the new sizes, then the example's dims
    after it (0 would copy the dim at the same index, which has moved)."""
    d = m.dim % len(shape)
    target = [0] * d + list(m.unflattened_size) + list(shape[d + 1:])
    return g.node("Reshape", [x, g.const(target, np.int64)])


@converts(L.CosineSimilarity, reads_call=True)
def _cosine_similarity(g: Graph, m: L.CosineSimilarity, x: str, shape: tuple) -> str:
    """sum((x1 / max(|x1|, eps)) (x2 / max(|x2|, eps))) along ``dim``, each 2-norm clamped
    as torch's; inputs of the same shape (a broadcast one's norm would need its expanded
    shape)."""
    x1, x2 = g.args["x1"], g.args["x2"]
    if g.traced[x1].shape != g.traced[x2].shape:
        raise _unsupported(g, m, f"inputs of different shapes {tuple(g.traced[x1].shape)} and "
                           f"{tuple(g.traced[x2].shape)} (broadcast); expand them first")
    d = m.dim % len(shape)

    def unit(v: str) -> str:
        norm = g.reduce("ReduceL2", v, [d], True)
        return g.node("Div", [v, g.node("Max", [norm, g.const(m.eps)])])

    return g.reduce("ReduceSum", g.node("Mul", [unit(x1), unit(x2)]), [d], False)


@converts(L.PairwiseDistance, reads_call=True)
def _pairwise_distance(g: Graph, m: L.PairwiseDistance, x: str, shape: tuple) -> str:
    """The ``p``-norm of x1 - x2 + eps along the last dim of the broadcast shape."""
    x1, x2 = g.args["x1"], g.args["x2"]
    diff = g.node("Add", [g.node("Sub", [x1, x2]), g.const(m.eps)])
    last = max(len(g.traced[x1].shape), len(g.traced[x2].shape)) - 1
    return _vector_norm(g, diff, float(m.norm), [last], m.keepdim)


def _vector_norm(g: Graph, x: str, p: float, axes: list[int], keepdim: bool) -> str:
    """torch.linalg.vector_norm's ``p``-norm over ``axes``: 2 and 1 as ReduceL2 / ReduceL1,
    inf / -inf the max / min of |x|, 0 the count of non-zeros, else (sum |x|^p)^(1/p)."""
    if p == 2:
        return g.reduce("ReduceL2", x, axes, keepdim)
    if p == 1:
        return g.reduce("ReduceL1", x, axes, keepdim)
    if math.isinf(p):
        return g.reduce("ReduceMax" if p > 0 else "ReduceMin", g.node("Abs", [x]), axes, keepdim)
    if p == 0:
        nonzero = _cast(g, g.node("Not", [g.node("Equal", [x, g.const(0.0)])]))
        return g.reduce("ReduceSum", nonzero, axes, keepdim)
    powered = g.node("Pow", [g.node("Abs", [x]), g.const(p)])
    return g.node("Pow", [g.reduce("ReduceSum", powered, axes, keepdim), g.const(1.0 / p)])


# ---- normalisation ------------------------------------------------------------------------------
@converts(L.BatchNorm1d)
def _batch_norm(g: Graph, m: L.BatchNorm1d, x: str, shape: tuple) -> str:
    """BatchNormalization with the running statistics (eval mode)."""
    if not m.track_running_stats:
        raise _unsupported(g, m, "without running statistics (track_running_stats=False) it "
                           "normalises with each batch's own statistics in eval mode too")
    c = m.num_features
    scale = g.param(m, "weight") if m.weight is not None else g.const(np.ones(c))
    bias = g.param(m, "bias") if m.bias is not None else g.const(np.zeros(c))
    return g.node("BatchNormalization", [x, scale, bias, g.param(m, "running_mean"),
                                         g.param(m, "running_var")], epsilon=float(m.eps))


@converts(L.LayerNorm)
def _layer_norm(g: Graph, m: L.LayerNorm, x: str, shape: tuple) -> str:
    """LayerNormalization over the trailing ``normalized_shape`` dims; before opset 17
    (x - mean) / sqrt(var + eps) * weight + bias, the biased variance as torch's."""
    ones = np.ones(m.normalized_shape)
    scale = g.param(m, "weight") if m.weight is not None else g.const(ones)
    bias = g.param(m, "bias") if m.bias is not None else g.const(ones * 0)
    k = len(m.normalized_shape)
    if g.opset >= 17:
        return g.node("LayerNormalization", [x, scale, bias], axis=-k, epsilon=float(m.eps))
    axes = list(range(-k, 0))
    centred = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    var = g.reduce("ReduceMean", g.node("Mul", [centred, centred]), axes, True)
    normed = g.node("Div", [centred, g.node("Sqrt", [g.node("Add", [var, g.const(m.eps)])])])
    return g.node("Add", [g.node("Mul", [normed, scale]), bias])


@converts(L.GroupNorm)
def _group_norm(g: Graph, m: L.GroupNorm, x: str, shape: tuple) -> str:
    """InstanceNormalization of (N, G, rest) normalises each sample's group, as GroupNorm does
    (GroupNormalization arrives in opset 18); then the per-channel weight and bias."""
    groups = m.num_groups
    grouped = g.node("Reshape", [x, g.const([0, groups, -1], np.int64)])
    normed = g.node("InstanceNormalization", [grouped, g.const(np.ones(groups)),
                                              g.const(np.zeros(groups))], epsilon=float(m.eps))
    out = g.node("Reshape", [normed, g.const([0] + list(shape[1:]), np.int64)])
    per_channel = (m.num_channels,) + (1,) * (len(shape) - 2)
    if m.weight is not None:
        out = g.node("Mul", [out, g.param(m, "weight", per_channel)])
    if m.bias is not None:
        out = g.node("Add", [out, g.param(m, "bias", per_channel)])
    return out


# ---- convolution and pooling --------------------------------------------------------------------
def _onnx_pads(torch_pairs: Sequence[int], n: int) -> list[int]:
    """F.pad's (left, right) pairs, last dim first, as ONNX's begins then ends over the last
    ``n`` dims."""
    begins, ends = [0] * n, [0] * n
    for j in range(len(torch_pairs) // 2):
        begins[n - 1 - j], ends[n - 1 - j] = torch_pairs[2 * j], torch_pairs[2 * j + 1]
    return begins + ends


def _batched(g: Graph, m: Module, shape: tuple, spatial: int) -> None:
    if len(shape) != spatial + 2:
        raise _unsupported(g, m, f"an unbatched input (shape {shape}); export it with a batch "
                           "dim")


@converts(C.Conv1d, C.Conv2d)
def _conv(g: Graph, m: C._ConvNd, x: str, shape: tuple) -> str:
    """Conv; a padding_mode other than 'zeros' is a Pad first, as the layer does it."""
    n = m._dims
    _batched(g, m, shape, n)
    pads = _onnx_pads(m._reversed_padding_repeated_twice, n)
    if m.padding_mode != "zeros":
        full = [0, 0] + pads[:n] + [0, 0] + pads[n:]
        x = g.node("Pad", [x, g.const(full, np.int64)], mode=_pad_mode(g, m, m.padding_mode))
        pads = [0] * (2 * n)
    inputs = [x, g.param(m, "weight")] + ([g.param(m, "bias")] if m.bias is not None else [])
    return g.node("Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                  pads=pads, dilations=list(m.dilation), group=m.groups)


@converts(C.ConvTranspose2d)
def _conv_transpose(g: Graph, m: C.ConvTranspose2d, x: str, shape: tuple) -> str:
    """ConvTranspose: the weight's (C_in, C_out / groups, kH, kW) is ONNX's layout too."""
    _batched(g, m, shape, 2)
    inputs = [x, g.param(m, "weight")] + ([g.param(m, "bias")] if m.bias is not None else [])
    return g.node("ConvTranspose", inputs, kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), pads=list(m.padding) * 2, dilations=list(m.dilation),
                  output_padding=list(m.output_padding), group=m.groups)


def _ints(value: Any, n: int) -> list[int]:
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * n


def _pool_ceil(g: Graph, m: Module, shape: tuple, kernel: list, stride: list, pad: list,
               dilation: list, allow_ceil: bool) -> int:
    """ONNX's ceil_mode for the output size the layer gave: 0 when flooring gives it (whatever
    the layer's ceil_mode), 1 when ONNX's ceiling does and ``allow_ceil``; else refused (torch
    drops a last window that would start in the padding, and AvgPool divides a window that hangs
    over the edge by its part inside)."""
    n = len(kernel)
    want = list(g.out_shape[-n:])
    span = [shape[-n + i] + 2 * pad[i] - dilation[i] * (kernel[i] - 1) - 1 for i in range(n)]
    if want == [s // st + 1 for s, st in zip(span, stride)]:
        return 0
    if allow_ceil and want == [-(-s // st) + 1 for s, st in zip(span, stride)]:
        return 1
    raise _unsupported(g, m, "ceil_mode=True with a last window that hangs over the input's "
                       "edge")


@converts(P.MaxPool1d, P.MaxPool2d, reads_call=True)
def _max_pool(g: Graph, m: P._MaxPoolNd, x: str, shape: tuple) -> Any:
    """MaxPool; with ``return_indices`` also its indices, which ONNX counts over the whole
    input and torch within each (N, C) plane: their remainder by the plane's size."""
    n = 1 if isinstance(m, P.MaxPool1d) else 2
    _batched(g, m, shape, n)
    kernel, stride = _ints(m.kernel_size, n), _ints(m.stride, n)
    pad, dilation = _ints(m.padding, n), _ints(m.dilation, n)
    ceil = _pool_ceil(g, m, shape, kernel, stride, pad, dilation, allow_ceil=True)
    attrs = {"kernel_shape": kernel, "strides": stride, "pads": pad * 2, "dilations": dilation,
             "ceil_mode": ceil}
    if not m.return_indices:
        return g.node("MaxPool", [x], **attrs)
    values, indices = g.node("MaxPool", [x], outputs=2, **attrs)
    plane = int(np.prod(shape[2:]))
    return values, g.node("Mod", [indices, g.const(plane, np.int64)])


@converts(P.MaxUnpool2d, reads_call=True)
def _max_unpool(g: Graph, m: P.MaxUnpool2d, x: str, shape: tuple) -> str:
    """MaxUnpool of the output size the layer gave; torch's per-plane indices plus each
    (N, C) plane's offset in the whole output, as ONNX counts them."""
    _batched(g, m, shape, 2)
    size = list(g.out_shape[-2:])
    leading = _slice0(g, g.node("Shape", [x]), 0, 2)  # [N, C]
    planes = g.node("Range", [g.const(0, np.int64),
                              g.reduce("ReduceProd", leading, [0], False),
                              g.const(1, np.int64)])  # n * C + c for every plane
    grid = g.node("Concat", [leading, g.const([1, 1], np.int64)], axis=0)
    offsets = g.node("Mul", [g.node("Reshape", [planes, grid]),
                             g.const(size[0] * size[1], np.int64)])  # (N, C, 1, 1)
    indices = g.node("Add", [g.args["indices"], offsets])
    out_shape = g.node("Concat", [leading, g.const(size, np.int64)], axis=0)
    return g.node("MaxUnpool", [x, indices, out_shape], kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), pads=list(m.padding) * 2)


@converts(P.AvgPool1d, P.AvgPool2d)
def _avg_pool(g: Graph, m: Module, x: str, shape: tuple) -> str:
    n = 1 if isinstance(m, P.AvgPool1d) else 2
    _batched(g, m, shape, n)
    if getattr(m, "divisor_override", None) is not None:
        raise _unsupported(g, m, "divisor_override (ONNX divides by the window's size)")
    kernel, stride, pad = _ints(m.kernel_size, n), _ints(m.stride, n), _ints(m.padding, n)
    _pool_ceil(g, m, shape, kernel, stride, pad, [1] * n, allow_ceil=False)
    return g.node("AveragePool", [x], kernel_shape=kernel, strides=stride, pads=pad * 2,
                  count_include_pad=int(m.count_include_pad))


def _adaptive_kernel(g: Graph, m: Module, shape: tuple) -> list[int] | None:
    """The one fixed window of an adaptive pooling whose output size divides the input's
    (None for a 1x1 output: the global pooling); refused otherwise."""
    _batched(g, m, shape, 2)
    size = list(g.out_shape[-2:])
    if size == [1, 1]:
        return None
    h, w = shape[-2:]
    if h % size[0] or w % size[1]:
        raise _unsupported(g, m, f"output size {tuple(size)} does not divide the input's "
                           f"{(h, w)} (adaptive windows of different sizes)")
    return [h // size[0], w // size[1]]


@converts(P.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g: Graph, m: P.AdaptiveAvgPool2d, x: str, shape: tuple) -> str:
    """GlobalAveragePool for a 1x1 output; an AveragePool when the output size divides the
    input's (then every adaptive window is one fixed window); refused otherwise."""
    kernel = _adaptive_kernel(g, m, shape)
    if kernel is None:
        return g.node("GlobalAveragePool", [x])
    return g.node("AveragePool", [x], kernel_shape=kernel, strides=kernel)


@converts(P.AdaptiveMaxPool2d)
def _adaptive_max_pool(g: Graph, m: P.AdaptiveMaxPool2d, x: str, shape: tuple) -> str:
    """GlobalMaxPool for a 1x1 output; a MaxPool when the output size divides the input's;
    refused otherwise (return_indices is refused as a tuple-returning layer)."""
    kernel = _adaptive_kernel(g, m, shape)
    if kernel is None:
        return g.node("GlobalMaxPool", [x])
    return g.node("MaxPool", [x], kernel_shape=kernel, strides=kernel)


@converts(L.Upsample)
def _upsample(g: Graph, m: L.Upsample, x: str, shape: tuple) -> str:
    """Resize of the spatial dims: 'bilinear' as linear interpolation with torch's source
    pixel ((dst + 0.5) * in / out - 0.5, clamped at 0; or with ``align_corners``
    dst * (in - 1) / (out - 1)); 'nearest' with torch's floor(dst * in / out), exported where
    the output is a whole multiple of the input (elsewhere ONNX's division and torch's
    multiplication may floor a boundary pixel differently). By ``scale_factor`` (the graph
    follows the input's size) or by output size."""
    n = len(shape) - 2
    _batched(g, m, shape, n)
    sizes_in, sizes_out = shape[2:], g.out_shape[2:]
    by_size = m.size is not None or bool(m.recompute_scale_factor)
    factors = [float(f) for f in (m.scale_factor if isinstance(m.scale_factor, tuple)
                                  else (m.scale_factor,) * n)] if not by_size else []
    if m.mode == "nearest":
        whole = (all(o % i == 0 for i, o in zip(sizes_in, sizes_out)) if by_size
                 else all(f.is_integer() for f in factors))
        if not whole:
            raise _unsupported(g, m, f"mode 'nearest' from {tuple(sizes_in)} to "
                               f"{tuple(sizes_out)} (scale_factor={m.scale_factor}) is not a "
                               "whole multiple: ONNX's Resize may pick another source pixel at "
                               "a boundary")
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}
    else:
        attrs = {"mode": "linear", "coordinate_transformation_mode":
                 "align_corners" if m.align_corners else "half_pixel"}
    if by_size:  # (N, C) of the input, then the output's spatial sizes
        leading = _slice0(g, g.node("Shape", [x]), 0, 2)
        sizes = g.node("Concat", [leading, g.const(list(sizes_out), np.int64)], axis=0)
        return g.node("Resize", [x, "", "", sizes], **attrs)
    return g.node("Resize", [x, "", g.const([1.0, 1.0] + factors, np.float32)], **attrs)


# ---- activations --------------------------------------------------------------------------------
def _simple(op: str, **attrs: Callable[[Module], Any]) -> Converter:
    """A converter to one ONNX operator whose attributes are read off the module."""
    def convert(g: Graph, m: Module, x: str, shape: tuple) -> str:
        return g.node(op, [x], **{k: get(m) for k, get in attrs.items()})
    return convert


CONVERTERS.update({
    A.ReLU: _simple("Relu"),
    A.Sigmoid: _simple("Sigmoid"),
    A.Tanh: _simple("Tanh"),
    A.Softsign: _simple("Softsign"),
    A.LeakyReLU: _simple("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    A.ELU: _simple("Elu", alpha=lambda m: float(m.alpha)),
    A.CELU: _simple("Celu", alpha=lambda m: float(m.alpha)),
    A.SELU: _simple("Selu", alpha=lambda m: F.SELU_ALPHA, gamma=lambda m: F.SELU_SCALE),
    A.Hardsigmoid: _simple("HardSigmoid", alpha=lambda m: 1 / 6, beta=lambda m: 0.5),
    A.Hardswish: _simple("HardSwish"),
})


@converts(A.Hardtanh)  # and ReLU6, its subclass
def _hardtanh(g: Graph, m: A.Hardtanh, x: str, shape: tuple) -> str:
    return g.node("Clip", [x, g.const(m.min_val), g.const(m.max_val)])


@converts(A.SiLU)
def _silu(g: Graph, m: Module, x: str, shape: tuple) -> str:
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


def _softplus_of(g: Graph, x: str, beta: float, threshold: float) -> str:
    """torch's softplus: log(1 + e^(beta x)) / beta where beta x <= threshold, else x (the
    exponent clamped at the threshold, so the branch not taken never overflows)."""
    z = x if beta == 1 else g.node("Mul", [x, g.const(beta)])
    limit = g.const(threshold)
    soft = g.node("Softplus", [g.node("Min", [z, limit])])
    if beta != 1:
        soft = g.node("Div", [soft, g.const(beta)])
    return g.node("Where", [g.node("Greater", [z, limit]), x, soft])


@converts(A.Softplus)
def _softplus(g: Graph, m: A.Softplus, x: str, shape: tuple) -> str:
    return _softplus_of(g, x, float(m.beta), float(m.threshold))


@converts(A.Mish)
def _mish(g: Graph, m: Module, x: str, shape: tuple) -> str:
    return g.node("Mul", [x, g.node("Tanh", [_softplus_of(g, x, 1.0, 20.0)])])


@converts(A.GELU)
def _gelu(g: Graph, m: A.GELU, x: str, shape: tuple) -> str:
    """0.5 x (1 + erf(x / sqrt 2)), or torch's tanh formula for ``approximate='tanh'``."""
    if m.approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(0.044715)])])
        core = g.node("Tanh", [g.node("Mul", [inner, g.const(math.sqrt(2 / math.pi))])])
    else:
        core = g.node("Erf", [g.node("Div", [x, g.const(math.sqrt(2))])])
    half_x = g.node("Mul", [x, g.const(0.5)])
    return g.node("Mul", [half_x, g.node("Add", [core, g.const(1.0)])])


@converts(A.LogSigmoid)
def _logsigmoid(g: Graph, m: Module, x: str, shape: tuple) -> str:
    """min(x, 0) - log(1 + e^-|x|): finite for every x, as micrograd computes it."""
    tail = g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])])
    return g.node("Sub", [g.node("Min", [x, g.const(0.0)]),
                          g.node("Log", [g.node("Add", [tail, g.const(1.0)])])])


@converts(A.Threshold)
def _threshold(g: Graph, m: A.Threshold, x: str, shape: tuple) -> str:
    low = g.node("LessOrEqual", [x, g.const(m.threshold)])
    return g.node("Where", [low, g.const(m.value), x])


@converts(A.PReLU)
def _prelu(g: Graph, m: A.PReLU, x: str, shape: tuple) -> str:
    """PRelu with the slope shaped to broadcast along dim 1 (ONNX broadcasts from the right)."""
    n = m.num_parameters
    slope_shape = (1,) if n == 1 else (n,) + (1,) * (len(shape) - 2)
    return g.node("PRelu", [x, g.param(m, "weight", slope_shape)])


@converts(A.GLU)
def _glu(g: Graph, m: A.GLU, x: str, shape: tuple) -> str:
    a, b = g.split(x, 2, m.dim)
    return g.node("Mul", [a, g.node("Sigmoid", [b])])


def _softmax_axis(m: Module, shape: tuple) -> int:
    """The module's dim, or torch's implicit choice for dim=None (0 for 0-, 1- and 3-d inputs,
    else 1)."""
    if m.dim is not None:
        return m.dim
    return 0 if len(shape) in (0, 1, 3) else 1


@converts(A.Softmax)
def _softmax(g: Graph, m: Module, x: str, shape: tuple) -> str:
    return g.node("Softmax", [x], axis=_softmax_axis(m, shape))


@converts(A.LogSoftmax)
def _log_softmax(g: Graph, m: Module, x: str, shape: tuple) -> str:
    return g.node("LogSoftmax", [x], axis=_softmax_axis(m, shape))


@converts(A.Softmin)
def _softmin(g: Graph, m: Module, x: str, shape: tuple) -> str:
    return g.node("Softmax", [g.node("Neg", [x])], axis=_softmax_axis(m, shape))


# ---- padding ------------------------------------------------------------------------------------
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_mode(g: Graph, m: Module, mode: str) -> str:
    """ONNX's Pad mode for torch's ``mode``; 'wrap' (circular) arrived in opset 19."""
    if mode == "circular" and g.opset < 19:
        raise _unsupported(g, m, f"circular padding needs ONNX opset 19 (this export writes "
                           f"opset {g.opset}; pass opset=19 or newer)")
    return _PAD_MODES[mode]


@converts(L._PadNd, L._ConstantPadNd, L._CircularPadNd)
def _pad(g: Graph, m: L._PadNd, x: str, shape: tuple) -> str:
    """Pad: torch's (left, right) pairs from the last dim backwards become ONNX's begins and
    ends for every dim."""
    if min(m.padding) < 0:
        raise _unsupported(g, m, f"negative padding {m.padding} (cropping) is not exported")
    inputs = [x, g.const(_onnx_pads(m.padding, len(shape)), np.int64)]
    if m.mode == "constant":
        inputs.append(g.const(getattr(m, "value", 0.0)))
    return g.node("Pad", inputs, mode=_pad_mode(g, m, m.mode))


# ---- embeddings ---------------------------------------------------------------------------------
def _rows(g: Graph, m: Module, x: str) -> str:
    """The weight's rows at the indices ``x`` (a Gather); refused with ``max_norm``."""
    if m.max_norm is not None:
        raise _unsupported(g, m, "max_norm renormalises the looked-up rows of the weight in "
                           "place at every call, which an ONNX graph cannot do")
    return g.node("Gather", [g.param(m, "weight"), x], axis=0)


def _is_padding(g: Graph, m: Module, x: str) -> str:
    """True where the index ``x`` is ``padding_idx`` (compared in x's int type)."""
    return g.node("Equal", [x, g.const(m.padding_idx, g.traced[x]._array.dtype)])


@converts(S.Embedding)
def _embedding(g: Graph, m: S.Embedding, x: str, shape: tuple) -> str:
    """Gather of the weight's rows at the indices (any shape)."""
    return _rows(g, m, x)


@converts(S.EmbeddingBag, reads_call=True)
def _embedding_bag(g: Graph, m: S.EmbeddingBag, x: str, shape: tuple) -> str:
    """Gather, then each bag's sum, mean or max: over dim 1 of a 2-D input (B, n); for a 1-D
    input with ``offsets``, through a (B, n) membership matrix (position p is in bag b when b
    is the last offset <= p), a MatMul for sums and means. Entries equal to ``padding_idx``
    are left out (a mean divides by the entries left, an empty bag is 0)."""
    rows = _rows(g, m, x)  # (B, n, D) or (n, D)
    weights = g.args["per_sample_weights"]
    if weights is not None:
        rows = g.node("Mul", [rows, _unsqueeze(g, weights, len(shape))])
    if len(shape) == 1:
        return _bags_by_offsets(g, m, x, rows)
    if m.padding_idx is None:
        reduce = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax"}[m.mode]
        return g.reduce(reduce, rows, [1], False)
    pad = _unsqueeze(g, _is_padding(g, m, x), 2)  # (B, n, 1)
    if m.mode == "max":
        return _bag_max(g, g.node("Where", [pad, g.const(-np.inf), rows]))
    total = g.reduce("ReduceSum", g.node("Where", [pad, g.const(0.0), rows]), [1], False)
    if m.mode == "sum":
        return total
    kept = g.reduce("ReduceSum", _cast(g, g.node("Not", [pad])), [1], False)  # (B, 1)
    return g.node("Div", [total, g.node("Max", [kept, g.const(1.0)])])


def _bag_max(g: Graph, rows: str) -> str:
    """The max over dim 1 of (B, n, D) rows with -inf at the entries left out; 0 for a bag
    with none left."""
    top = g.reduce("ReduceMax", rows, [1], False)
    return g.node("Where", [g.node("IsInf", [top], detect_positive=0), g.const(0.0), top])


def _bags_by_offsets(g: Graph, m: S.EmbeddingBag, x: str, rows: str) -> str:
    """The bags of a 1-D input, from ``offsets`` (with ``include_last_offset``, its last entry
    is the input's length and ends the last bag)."""
    offsets = _cast(g, g.args["offsets"], np.int64)
    if m.include_last_offset:
        offsets = _slice0(g, offsets, 0, -1)

    def arange(v: str) -> str:
        """0, 1, ..., len(v) - 1."""
        length = g.node("Gather", [g.node("Shape", [v]), g.const(0, np.int64)], axis=0)
        return g.node("Range", [g.const(0, np.int64), length, g.const(1, np.int64)])

    started = g.node("GreaterOrEqual", [_unsqueeze(g, arange(x), 1),
                                        _unsqueeze(g, offsets, 0)])  # (n, B): p >= offset b
    bag_of = g.node("Sub", [g.reduce("ReduceSum", _cast(g, started, np.int64), [1], False),
                            g.const(1, np.int64)])  # (n,)
    member = g.node("Equal", [_unsqueeze(g, arange(offsets), 1), _unsqueeze(g, bag_of, 0)])
    if m.padding_idx is not None:
        member = g.node("And", [member, _unsqueeze(g, g.node("Not", [_is_padding(g, m, x)]), 0)])
    if m.mode == "max":
        return _bag_max(g, g.node("Where", [_unsqueeze(g, member, 2), _unsqueeze(g, rows, 0),
                                            g.const(-np.inf)]))
    share = _cast(g, member)  # (B, n)
    total = g.node("MatMul", [share, rows])
    if m.mode == "sum":
        return total
    count = g.reduce("ReduceSum", share, [1], True)
    return g.node("Div", [total, g.node("Max", [count, g.const(1.0)])])


# ---- recurrent layers ---------------------------------------------------------------------------
#: ONNX's gate order as indices into PyTorch's: LSTM i, o, f, c from i, f, g, o; GRU z, r, h
#: from r, z, n; RNN one gate
_ONNX_GATES = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
_ONNX_RNN = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


@converts(R.RNN, R.LSTM, R.GRU, reads_call=True)
def _recurrent(g: Graph, m: R.RNNBase, x: str, shape: tuple) -> tuple:
    """One ONNX RNN / LSTM / GRU node per layer (both directions in it), on time-major input;
    PyTorch's stacked weights with the gates reordered for ONNX (GRU with
    ``linear_before_reset=1``: PyTorch applies the reset gate to h W_hn^T + b_hn). Between
    layers ONNX's (L, D, N, H) output becomes the next input (L, N, D * H). Returns (output,
    h_n) or, for an LSTM, (output, (h_n, c_n)), as the layer does."""
    if m.proj_size:
        raise _unsupported(g, m, "proj_size (ONNX's LSTM has no projection)")
    lstm, batched = m.mode == "LSTM", len(shape) == 3
    hx = g.args["hx"]
    h0, c0 = (hx if hx is not None else (None, None)) if lstm else (hx, None)
    if not batched:  # (L, H_in) and states (D * num_layers, H): a batch of 1 at dim 1
        x = _unsqueeze(g, x, 1)
        h0, c0 = (None if h is None else _unsqueeze(g, h, 1) for h in (h0, c0))
    directions = 2 if m.bidirectional else 1
    gates, hid = _ONNX_GATES[m.mode], m.hidden_size
    attrs: dict[str, Any] = {"hidden_size": hid,
                             "direction": "bidirectional" if m.bidirectional else "forward"}
    if m.mode.startswith("RNN"):
        attrs["activations"] = ["Tanh" if m.mode == "RNN_TANH" else "Relu"] * directions
    if m.mode == "GRU":
        attrs["linear_before_reset"] = 1

    def reorder(a: np.ndarray) -> np.ndarray:
        return a.reshape((len(gates), hid) + a.shape[1:])[gates].reshape(a.shape)

    def stacked(layer: int, index: int) -> np.ndarray:
        """Parameter ``index`` (0 w_ih, 1 w_hh, 2 b_ih, 3 b_hh) of each direction, reordered,
        stacked as ONNX's leading num_directions dim."""
        return np.stack([reorder(getattr(m, m._all_weights[layer * directions + d][index])._array)
                         for d in range(directions)])

    y = g.node("Transpose", [x], perm=[1, 0, 2]) if m.batch_first and batched else x
    h_n, c_n = [], []
    for layer in range(m.num_layers):
        inputs = [y, g.derived(m, f"W_l{layer}", lambda: stacked(layer, 0)),
                  g.derived(m, f"R_l{layer}", lambda: stacked(layer, 1))]
        inputs.append(g.derived(m, f"B_l{layer}",
                                lambda: np.concatenate([stacked(layer, 2), stacked(layer, 3)],
                                                       1)) if m.bias else "")
        inputs.append("")  # sequence_lens: every sequence is the whole length
        span = (layer * directions, (layer + 1) * directions)
        for state in (h0, c0) if lstm else (h0,):  # this layer's initial states, if given
            inputs.append("" if state is None else state if m.num_layers == 1
                          else _slice0(g, state, *span))
        while inputs[-1] == "":
            inputs.pop()
        outs = g.node(_ONNX_RNN[m.mode], inputs, outputs=3 if lstm else 2, **attrs)
        h_n.append(outs[1])
        if lstm:
            c_n.append(outs[2])
        y = g.node("Reshape", [g.node("Transpose", [outs[0]], perm=[0, 2, 1, 3]),
                               g.const([0, 0, -1], np.int64)])  # (L, N, D * H)
    h = h_n[0] if len(h_n) == 1 else g.node("Concat", h_n, axis=0)
    c = (c_n[0] if len(c_n) == 1 else g.node("Concat", c_n, axis=0)) if lstm else None
    if not batched:
        y, h, c = (None if v is None else _squeeze(g, v, 1) for v in (y, h, c))
    out = g.node("Transpose", [y], perm=[1, 0, 2]) if m.batch_first and batched else y
    return (out, (h, c)) if lstm else (out, h)


@converts(R.RNNCell, R.LSTMCell, R.GRUCell, reads_call=True)
def _cell(g: Graph, m: R.RNNCellBase, x: str, shape: tuple) -> Any:
    """One step, as the cells compute it (batched (N, I) or unbatched (I,)): the gates
    x W_ih^T + b_ih and h W_hh^T + b_hh, then RNNCell's tanh / relu, LSTMCell's
    (h', c') = (o tanh(c'), f c + i g), GRUCell's (h - n) z + n with n = tanh(x_n + r h_n).
    Missing states are zeros of (N, H) (or (H,))."""
    hx = g.args["hx"]
    states = 2 if isinstance(m, R.LSTMCell) else 1
    given = [None] * states if hx is None else ([hx] if states == 1 else list(hx))
    if any(h is None for h in given):
        zeros = _zeros_like_rows(g, x, m.hidden_size)
        given = [zeros if h is None else h for h in given]

    def gates(inp: str, weight: str, bias: str) -> str:
        y = g.node("MatMul", [inp, g.param(m, weight, transpose=True)])
        return y if getattr(m, bias) is None else g.node("Add", [y, g.param(m, bias)])

    gi, gh = gates(x, "weight_ih", "bias_ih"), gates(given[0], "weight_hh", "bias_hh")
    if isinstance(m, R.LSTMCell):
        i, f, c, o = g.split(g.node("Add", [gi, gh]), 4, -1)
        cell = g.node("Add", [g.node("Mul", [g.node("Sigmoid", [f]), given[1]]),
                              g.node("Mul", [g.node("Sigmoid", [i]), g.node("Tanh", [c])])])
        return g.node("Mul", [g.node("Sigmoid", [o]), g.node("Tanh", [cell])]), cell
    if isinstance(m, R.GRUCell):
        (x_r, x_z, x_n), (h_r, h_z, h_n) = g.split(gi, 3, -1), g.split(gh, 3, -1)
        r = g.node("Sigmoid", [g.node("Add", [x_r, h_r])])
        z = g.node("Sigmoid", [g.node("Add", [x_z, h_z])])
        n = g.node("Tanh", [g.node("Add", [x_n, g.node("Mul", [r, h_n])])])
        return g.node("Add", [g.node("Mul", [g.node("Sub", [given[0], n]), z]), n])
    return g.node("Tanh" if m.nonlinearity == "tanh" else "Relu", [g.node("Add", [gi, gh])])


def _zeros_like_rows(g: Graph, x: str, size: int) -> str:
    """Zeros of x's shape but its last dim, which is ``size``."""
    leading = g.node("Slice", [g.node("Shape", [x]), g.const([0], np.int64),
                               g.const([-1], np.int64)])
    shape = g.node("Concat", [leading, g.const([size], np.int64)], axis=0)
    zero = g.onnx.numpy_helper.from_array(np.zeros(1, g.dtype))
    return g.node("ConstantOfShape", [shape], value=zero)


# ---- attention and the Transformer encoder ------------------------------------------------------
def _not_causal(g: Graph, m: Module, is_causal: Any) -> None:
    if is_causal:
        raise _unsupported(g, m, "is_causal=True (a hint that the mask is causal, which "
                           "PyTorch may act on without reading the mask); pass the causal mask "
                           "itself and is_causal=False")


def _additive(g: Graph, m: Module, mask: str, what: str) -> str:
    """A mask as the float to add to the scores: a bool mask's True (not allowed) is -inf, a
    float mask is added as it is (it must be the model's dtype)."""
    dtype = g.traced[mask]._array.dtype
    if dtype == np.bool_:
        return g.node("Where", [mask, g.const(-np.inf), g.const(0.0)])
    if dtype != g.dtype:
        raise _unsupported(g, m, f"{what} is {dtype}; a bool mask or one of the model's dtype "
                           f"({g.dtype}) is exported")
    return mask


def _attention_mask(g: Graph, m: T.MultiheadAttention, attn_mask: str | None,
                    key_padding_mask: str | None, batched: bool) -> str | None:
    """The masks as one float to add to the scores (N or 1, heads or 1, L, S), as
    ``multi_head_attention_forward`` forms it: ``attn_mask`` (L, S) or (N * heads, L, S),
    ``key_padding_mask`` (N, S) (unbatched: (S,)), each with a 0 (allowed) column for each
    extra key row (``add_bias_kv``, ``add_zero_attn``). None without masks."""
    parts = []
    if attn_mask is not None:
        a = _additive(g, m, attn_mask, "attn_mask")
        if len(g.traced[attn_mask].shape) == 3:  # (N * heads, L, S) -> (N, heads, L, S)
            size = g.node("Concat", [g.const([-1, m.num_heads], np.int64),
                                     _slice0(g, g.node("Shape", [a]), 1, 3)], axis=0)
            parts.append(g.node("Reshape", [a, size]))
        else:
            parts.append(g.node("Unsqueeze", [a, g.const([0, 1], np.int64)]))  # (1, 1, L, S)
    if key_padding_mask is not None:
        k = _additive(g, m, key_padding_mask, "key_padding_mask")
        axes = [1, 2] if batched else [0, 1, 2]
        parts.append(g.node("Unsqueeze", [k, g.const(axes, np.int64)]))  # (N, 1, 1, S)
    if not parts:
        return None
    mask = parts[0] if len(parts) == 1 else g.node("Add", parts)
    extra = (m.bias_k is not None) + bool(m.add_zero_attn)
    if extra:
        mask = g.node("Pad", [mask, g.const([0] * 7 + [extra], np.int64)], mode="constant")
    return mask


def _dead_rows(g: Graph, mask: str) -> str:
    """True (…, L, 1) for each query whose every key the mask forbids (-inf)."""
    allowed = _cast(g, g.node("Not", [g.node("IsInf", [mask], detect_positive=0)]))
    return g.node("Equal", [g.reduce("ReduceMax", allowed, [-1], True), g.const(0.0)])


def _attention(g: Graph, m: T.MultiheadAttention, q: str, k: str, v: str, need_weights: bool,
               average: bool, mask: str | None = None, zero_dead: bool = False) -> tuple:
    """(output, weights or None) of batch-first (N, L, E) inputs: the projections, the extra
    key and value rows (``add_bias_kv``, ``add_zero_attn``), softmax(q k^T / sqrt(d) + mask) v
    per head, the heads joined and the output projection, as MatMul, Add, Concat, Reshape,
    Transpose and Softmax nodes; the weights (N, L, S) averaged over the heads, or
    (N, heads, L, S). A query with every key masked gets NaN from the softmax, as the explicit
    softmax and PyTorch's fused kernels give, or with ``zero_dead`` zero weights, as
    ``scaled_dot_product_attention`` gives."""
    e, heads, hd = m.embed_dim, m.num_heads, m.head_dim
    packed = m._qkv_same_embed_dim

    def project(x: str, i: int, which: str) -> str:
        """x W_i^T + b_i: (N, L, E)."""
        if packed:
            w = g.derived(m, f"in_proj_weight_{which}_t",
                          lambda: m.in_proj_weight._array[i * e:(i + 1) * e].T)
        else:
            w = g.param(m, f"{which}_proj_weight", transpose=True)
        y = g.node("MatMul", [x, w])
        if m.in_proj_bias is not None:
            y = g.node("Add", [y, g.derived(m, f"in_proj_bias_{which}",
                                            lambda: m.in_proj_bias._array[i * e:(i + 1) * e])])
        return y

    def extended(y: str, row: str | None) -> str:
        """(N, S, E) with one more key / value: ``row`` (1, 1, E) and/or a zero row, for each
        sample."""
        rows = ([row] if row is not None else []) + ([g.const(np.zeros((1, 1, e)))]
                                                    if m.add_zero_attn else [])
        if not rows:
            return y
        size = g.node("Concat", [_slice0(g, g.node("Shape", [y]), 0, 1),
                                 g.const([1, e], np.int64)], axis=0)  # (N, 1, E)
        return g.node("Concat", [y] + [g.node("Expand", [r, size]) for r in rows], axis=1)

    def heads_of(y: str) -> str:
        """(N, L, E) -> (N, heads, L, hd)."""
        return g.node("Transpose", [g.node("Reshape", [y, g.const([0, 0, heads, hd], np.int64)])],
                      perm=[0, 2, 1, 3])

    bias_k = g.param(m, "bias_k") if m.bias_k is not None else None
    bias_v = g.param(m, "bias_v") if m.bias_v is not None else None
    qh = heads_of(project(q, 0, "q"))
    kh = heads_of(extended(project(k, 1, "k"), bias_k))
    vh = heads_of(extended(project(v, 2, "v"), bias_v))
    scaled = g.node("Mul", [qh, g.const(math.sqrt(1.0 / hd))])
    scores = g.node("MatMul", [scaled, g.node("Transpose", [kh], perm=[0, 1, 3, 2])])
    if mask is not None:
        scores = g.node("Add", [scores, mask])
    weights = g.node("Softmax", [scores], axis=-1)  # (N, heads, L, S)
    if mask is not None and zero_dead:
        weights = g.node("Where", [_dead_rows(g, mask), g.const(0.0), weights])
    joined = g.node("Reshape", [g.node("Transpose", [g.node("MatMul", [weights, vh])],
                                       perm=[0, 2, 1, 3]), g.const([0, 0, e], np.int64)])
    with g.inside("out_proj"):
        out = _linear(g, m.out_proj, joined, ())
    if not need_weights:
        return out, None
    if average:
        weights = g.reduce("ReduceMean", weights, [1], False)
    return out, weights


def _batch_first(g: Graph, x: str, batch_first: bool) -> str:
    return x if batch_first else g.node("Transpose", [x], perm=[1, 0, 2])


def _traced(g: Graph, name: str | None) -> Tensor | None:
    return None if name is None else g.traced[name]


@converts(T.MultiheadAttention, reads_call=True)
def _multihead_attention(g: Graph, m: T.MultiheadAttention, x: str, shape: tuple) -> tuple:
    """(output, weights or None), as the layer returns them; sequence-first inputs are
    transposed to batch-first and the output back, unbatched (L, E) ones get a batch of 1.
    With masks, a query whose every key is masked gets what the layer gives in inference
    (eval mode, no grad): NaN, or zero weights without ``need_weights`` off PyTorch's fused
    path."""
    a = g.args
    _not_causal(g, m, a["is_causal"])
    batched = len(shape) == 3
    seen: dict[str, str] = {}  # self-attention: the one input transposed once

    def batch_first(name: str) -> str:
        if name not in seen:
            seen[name] = (_batch_first(g, name, m.batch_first) if batched
                          else _unsqueeze(g, name, 0))
        return seen[name]

    mask = _attention_mask(g, m, a["attn_mask"], a["key_padding_mask"], batched)
    with no_grad():  # inference: the fused path's conditions but for the grad mode
        fast = m._fast_path(*(g.traced[a[n]] for n in ("query", "key", "value")),
                            _traced(g, a["attn_mask"]), _traced(g, a["key_padding_mask"]))
    need_weights = bool(a["need_weights"])
    out, weights = _attention(g, m, batch_first(a["query"]), batch_first(a["key"]),
                              batch_first(a["value"]), need_weights,
                              bool(a["average_attn_weights"]), mask,
                              zero_dead=not need_weights and not fast)
    if not batched:
        return _squeeze(g, out, 0), None if weights is None else _squeeze(g, weights, 0)
    return _batch_first(g, out, m.batch_first), weights


def _activation(g: Graph, m: T.TransformerEncoderLayer, x: str, shape: tuple) -> str:
    act = m.activation
    if act is F.relu:
        return g.node("Relu", [x])
    if act is F.gelu:
        return _gelu(g, A.GELU(), x, shape)
    if isinstance(act, Module) and _converter(type(act)) is not None:
        with g.inside("activation"):
            return _converter(type(act))(g, act, x, shape)
    raise _unsupported(g, m, f"activation {act!r} (relu, gelu or an exported activation "
                       "layer are)")


def _encoder_layer(g: Graph, m: T.TransformerEncoderLayer, x: str, shape: tuple,
                   src_mask: str | None, padding: str | None, src: Tensor) -> str:
    """Self-attention and the feed-forward block, each with its residual and LayerNorm, after
    (post-norm) or before (``norm_first``) the block; dropout is the identity (eval mode).
    With masks, a query whose every key is masked gets zero attention weights, and its row
    NaN where PyTorch's fused layer runs (in inference). ``src`` is the traced input."""
    if type(m).forward is not T.TransformerEncoderLayer.forward:
        raise _unsupported(g, m, "a subclass with its own forward")
    batch_first = m.self_attn.batch_first
    batched = len(shape) == 3
    with g.inside("self_attn"):
        mask = _attention_mask(g, m.self_attn, src_mask, padding, batched)

    def norm(name: str, y: str) -> str:
        with g.inside(name):
            return _layer_norm(g, getattr(m, name), y, shape)

    def attention(y: str) -> str:
        with g.inside("self_attn"):  # masks reach it as floats: never its fused path
            return _attention(g, m.self_attn, y, y, y, False, False, mask, zero_dead=True)[0]

    def feed_forward(y: str) -> str:
        with g.inside("linear1"):
            y = _linear(g, m.linear1, y, shape)
        y = _activation(g, m, y, shape)
        with g.inside("linear2"):
            return _linear(g, m.linear2, y, shape)

    y = _batch_first(g, x, batch_first) if batched else _unsqueeze(g, x, 0)
    if m.norm_first:
        y = g.node("Add", [y, attention(norm("norm1", y))])
        y = g.node("Add", [y, feed_forward(norm("norm2", y))])
    else:
        y = norm("norm1", g.node("Add", [y, attention(y)]))
        y = norm("norm2", g.node("Add", [y, feed_forward(y)]))
    with no_grad():
        fast = m._fast_path(src)
    if mask is not None and fast:  # (N or 1, heads or 1, L, 1) -> any head: (N or 1, L, 1)
        dead = g.reduce("ReduceMax", _cast(g, _dead_rows(g, mask)), [1], False)
        y = g.node("Where", [_cast(g, dead, np.bool_), g.const(np.nan), y])
    return _batch_first(g, y, batch_first) if batched else _squeeze(g, y, 0)


@converts(T.TransformerEncoderLayer, reads_call=True)
def _transformer_encoder_layer(g: Graph, m: T.TransformerEncoderLayer, x: str,
                               shape: tuple) -> str:
    a = g.args
    _not_causal(g, m, a["is_causal"])
    return _encoder_layer(g, m, x, shape, a["src_mask"], a["src_key_padding_mask"],
                          g.traced[x])


@converts(T.TransformerEncoder, reads_call=True)
def _transformer_encoder(g: Graph, m: T.TransformerEncoder, x: str, shape: tuple) -> str:
    """The layers in turn, then ``norm`` (any layer that exports). A causal ``mask`` is used as
    the mask it is (PyTorch may use its own causal mask instead: the same numbers). With
    ``src_key_padding_mask`` where PyTorch would run nested tensors (inference, post-norm,
    batch-first, no ``mask``), the padded positions are 0 before ``norm``, as there; that
    path needs the padding at the end of each sequence, checked in the graph as the layer
    checks it."""
    a = g.args
    _not_causal(g, m, a["is_causal"])
    mask, padding = a["mask"], a["src_key_padding_mask"]
    for i, layer in enumerate(m.layers):
        if not isinstance(layer, T.TransformerEncoderLayer):
            raise _unsupported(g, m, f"layers.{i} is a {type(layer).__name__}, not a "
                               "TransformerEncoderLayer")
        with g.inside(f"layers.{i}"):
            x = _encoder_layer(g, layer, x, shape, mask, padding, g.traced[a["src"]])
    if padding is not None and _may_nest(m, shape, mask):
        x = _zero_padded(g, m, x, padding)
    if m.norm is None:
        return x
    convert = _converter(type(m.norm))
    if convert is None or convert in READS_CALL:
        raise _unsupported(g, m, f"its norm, a {type(m.norm).__name__}, does not export")
    with g.inside("norm"):
        return convert(g, m.norm, x, shape)


def _may_nest(m: T.TransformerEncoder, shape: tuple, mask: str | None) -> bool:
    """TransformerEncoder._nested's conditions that do not read the padding mask's values."""
    return m.use_nested_tensor and len(shape) == 3 and mask is None


def _zero_padded(g: Graph, m: T.TransformerEncoder, x: str, padding: str) -> str:
    """x (N, S, E) with 0 at the padded positions (a non-zero float mask entry, or True),
    when every sequence's padding is at its end (or ``mask_check`` is off)."""
    pad = g.node("Not", [g.node("Equal", [_cast(g, padding), g.const(0.0)])])  # (N, S)
    zero = _unsqueeze(g, pad, 2)
    if m.mask_check:  # a padded position before a real one anywhere: no nested path
        pairs = [g.node("Slice", [pad, g.const([start], np.int64), g.const([stop], np.int64),
                                  g.const([1], np.int64)])
                 for start, stop in ((0, -1), (1, 2 ** 62))]  # pad[:, :-1], pad[:, 1:]
        early = g.node("And", [pairs[0], g.node("Not", [pairs[1]])])
        any_early = g.reduce("ReduceMax", _cast(g, early), [0, 1], False)
        zero = g.node("And", [zero, g.node("Equal", [any_early, g.const(0.0)])])
    return g.node("Where", [zero, g.const(0.0), x])


# ---- tracing ------------------------------------------------------------------------------------
def _converter(layer: type) -> Converter | None:
    """The converter of the nearest class of ``layer`` that has one, provided ``layer`` runs
    that class's ``forward`` (a subclass with its own forward computes something else)."""
    for cls in layer.__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls] if layer.forward is cls.forward else None
    return None


def supported_layers() -> list[str]:
    """The names of the ``micrograd.nn`` layers that export."""
    return sorted(name for name, cls in vars(nn).items()
                  if isinstance(cls, type) and issubclass(cls, Module) and _converter(cls))


def _check_layers(model: Module) -> list[tuple[str, Module]]:
    """The model's layers: the modules with a converter (their submodules are part of them)
    and the modules without children, each of which must have one; a container without a
    converter may not hold parameters of its own (its forward would use them outside layers)."""
    layers: list = []
    seen: set[int] = set()

    def visit(path: str, m: Module) -> None:
        if id(m) in seen:
            return
        seen.add(id(m))
        if _converter(type(m)) is not None:
            layers.append((path, m))
            return
        children = list(m.named_children())
        if not children:
            raise NotImplementedError(
                f"micrograd.onnx.export: layer {path or '<model>'!r} ({type(m).__name__}) "
                f"is not supported (a subclass must keep its base class's forward); "
                f"supported layers: {', '.join(supported_layers())}")
        if (any(True for _ in m.parameters(recurse=False))
                or any(True for _ in m.buffers(recurse=False))):
            raise NotImplementedError(
                f"micrograd.onnx.export: {path or '<model>'!r} ({type(m).__name__}) has "
                "parameters or buffers of its own, which its forward uses outside its layers; "
                "only forwards that chain layers can be exported")
        for name, child in children:
            visit(f"{path}.{name}" if path else name, child)

    visit("", model)
    return layers


def _leaves(value: Any) -> list:
    """The leaves of nested tuples and lists (a layer's arguments or results), in order."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _map(fn: Callable, value: Any) -> Any:
    """``value`` (nested tuples and lists) with ``fn`` applied to each leaf."""
    if isinstance(value, (tuple, list)):
        return type(value)(_map(fn, v) for v in value)
    return fn(value)


@contextlib.contextmanager
def _eval_mode(model: Module) -> Iterator[None]:
    """Every module in eval mode (tracing and converting: a converter may ask a module how it
    runs in inference), the modes restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        yield
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)


def _trace(model: Module, examples: tuple, layers: list) -> tuple[list, Any]:
    """Run ``model`` once without grad with a hook on every layer: [(path, module, args,
    kwargs, output)] in call order, and the model's output."""
    calls: list = []

    def hook_for(path: str) -> Callable:
        def hook(module: Module, args: tuple, kwargs: dict, output: Any) -> None:
            if _converter(type(module)) not in READS_CALL:
                if len(args) != 1 or kwargs or not isinstance(args[0], Tensor):
                    raise NotImplementedError(
                        f"micrograd.onnx.export: layer {path!r} ({type(module).__name__}) was "
                        f"called with {len(args) + len(kwargs)} arguments; only one tensor in "
                        "and one out are exported for this layer")
                if not isinstance(output, Tensor):
                    raise NotImplementedError(
                        f"micrograd.onnx.export: layer {path!r} ({type(module).__name__}) "
                        f"returned a {type(output).__name__}; only one tensor in and one out "
                        "are exported for this layer")
            calls.append((path, module, args, kwargs, output))
        return hook

    handles = [m.register_forward_hook(hook_for(path), with_kwargs=True) for path, m in layers]
    try:
        with no_grad():
            output = model(*examples)
    finally:
        for h in handles:
            h.remove()
    return calls, output


def _outside(model: Module, what: str) -> NotImplementedError:
    return NotImplementedError(
        f"micrograd.onnx.export: {what}: {type(model).__name__}.forward computes with "
        "operations outside its layers (a functional call or a tensor operation); only "
        "forwards that chain layers can be exported (use the layer modules, e.g. nn.ReLU() "
        "for F.relu, nn.Flatten() for x.flatten(1))")


def _convert_call(g: Graph, model: Module, names: dict, call: tuple) -> None:
    """One traced layer call as ONNX nodes; its output tensors' names into ``names``."""
    where, module, args, kwargs, output = call

    def named(value: Any) -> Any:
        """``value`` with every tensor replaced by its value name."""
        if isinstance(value, Tensor):
            if id(value) not in names:
                raise _outside(model, f"layer {where!r} ({type(module).__name__}) reads a "
                                      "tensor no layer made")
            return names[id(value)]
        return value

    convert = _converter(type(module))
    if convert in READS_CALL:
        bound = inspect.signature(module.forward).bind(*args, **kwargs)
        bound.apply_defaults()
        g.args = {k: _map(named, v) for k, v in bound.arguments.items()}
        first = next(t for t in _leaves(list(bound.arguments.values())) if isinstance(t, Tensor))
    else:
        first = args[0]
    x = named(first)
    out_leaves = _leaves(output)
    g.path = where
    g.out_shape = next((tuple(t.shape) for t in out_leaves if isinstance(t, Tensor)), ())
    result = convert(g, module, x, tuple(first.shape))
    got = _leaves(result)
    assert len(got) == len(out_leaves), (where, result, output)  # a converter's own bug
    for tensor, name in zip(out_leaves, got):
        if isinstance(tensor, Tensor):
            names[id(tensor)] = name
            g.traced[name] = tensor


def _float_dtype_of(model: Module, examples: tuple) -> np.dtype:
    """The dtype the model computes in: its first floating input's, else its first floating
    parameter's (a model of indices, e.g. an Embedding first), else float32."""
    for t in list(examples) + list(model.parameters()):
        if t._array.dtype.kind == "f":
            return t._array.dtype
    return np.dtype(np.float32)


def _names(given: Sequence[str] | None, count: int, default: str, arg: str) -> list[str]:
    """``given``, or ``default`` (one value) / ``default_0``, ``default_1``, ... (several)."""
    if given is None:
        return [default] if count == 1 else [f"{default}_{i}" for i in range(count)]
    if (isinstance(given, str) or len(given) != count
            or not all(isinstance(n, str) for n in given)):
        what = "input" if arg == "input_names" else "output"
        raise ValueError(f"micrograd.onnx.export: {arg} must be a list of {count} name(s) (one "
                         f"per {what}), got {given!r}")
    if len(set(given)) != count:
        raise ValueError(f"micrograd.onnx.export: {arg} must be different names, got {given!r}")
    return list(given)


def _dynamic(dynamic_axes: Any, dynamic_batch: bool, inputs: list, examples: tuple) -> dict:
    """{value name: {dim: symbolic name}}: ``dynamic_axes`` as torch.onnx.export takes it
    ({name: {dim: label}} or {name: [dims]}), or with ``dynamic_batch`` dim 0 of every input
    (which must then be the same size in every input)."""
    if dynamic_axes is not None:
        out = {}
        for name, dims in dict(dynamic_axes).items():
            if isinstance(dims, dict):
                out[name] = {int(d): str(label) for d, label in dims.items()}
            else:
                out[name] = {int(d): f"{name}_dynamic_axes_{i + 1}" for i, d in enumerate(dims)}
        return out
    if not dynamic_batch:
        return {}
    for name, t in zip(inputs, examples):
        if t.ndim < 2:
            raise ValueError(f"micrograd.onnx.export: dynamic_batch needs inputs with a batch "
                             f"dim (2-d or more), got shape {tuple(t.shape)} for {name!r}; pass "
                             "dynamic_batch=False to export this fixed shape, or dynamic_axes")
        if t.shape[0] != examples[0].shape[0]:
            raise ValueError(f"micrograd.onnx.export: dynamic_batch makes dim 0 of every input "
                             f"the batch, but {name!r} has shape {tuple(t.shape)} and "
                             f"{inputs[0]!r} {tuple(examples[0].shape)}; name the dynamic dims "
                             "with dynamic_axes (e.g. {'input': {1: 'batch'}})")
    return {name: {0: "batch"} for name in inputs}


def _value_info(onnx: Any, name: str, t: Tensor, dims: dict[int, str]) -> Any:
    shape = [dims.get(d, size) for d, size in enumerate(t.shape)]
    return onnx.helper.make_tensor_value_info(
        name, onnx.helper.np_dtype_to_tensor_dtype(t._array.dtype), shape)


def _convert(onnx: Any, model: Module, layers: list, args: tuple, examples: tuple,
             inputs: list[str], output_names: Sequence[str] | None, dims: dict,
             opset: int) -> tuple:
    """Trace ``model`` on ``args`` and convert each layer call: (the Graph, the output names,
    the output tensors)."""
    calls, output = _trace(model, args, layers)
    results = [t for t in _leaves(output) if t is not None]
    if not results or not all(isinstance(t, Tensor) for t in results):
        raise NotImplementedError(f"micrograd.onnx.export: the model returned "
                                  f"{type(output).__name__}; models returning tensors (or "
                                  "tuples of them) only")
    outputs = _names(output_names, len(results), "output", "output_names")
    unknown = set(dims) - set(inputs) - set(outputs)
    if unknown:
        raise ValueError(f"micrograd.onnx.export: dynamic_axes names {sorted(unknown)}, which "
                         f"are not among the inputs {inputs} or outputs {outputs}")

    g = Graph(onnx, _float_dtype_of(model, examples), opset)
    names: dict[int, str] = {}
    for name, t in zip(inputs, examples):
        names[id(t)] = name
        g.names.add(name)
        g.traced[name] = t
    g.names.update(outputs)
    for call in calls:
        _convert_call(g, model, names, call)
    g.path = ""
    for name, t in zip(outputs, results):
        if id(t) not in names:
            raise _outside(model, "the output is not what a layer returned")
        g.nodes.append(onnx.helper.make_node("Identity", [names[id(t)]], [name],
                                             name=g._unique(f"{name}:Identity")))
    return g, outputs, results


def export(model: Module, example_input: Any, path: str | os.PathLike | BinaryIO, *,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           dynamic_batch: bool = True,
           dynamic_axes: dict[str, dict[int, str] | Sequence[int]] | None = None,
           opset: int = OPSET) -> Any:
    """Write ``model`` as an ONNX model (``opset``, 17 by default; 14 to 21) to ``path`` (a
    file name or a binary file object) and return the ``onnx.ModelProto``.

    ``example_input`` is a Tensor, or a tuple of them (the model's positional arguments, as
    torch passes them); floating point, int64 / int32 indices (an Embedding's) or bool
    (attention masks). The model
    runs on it once, in eval mode (Dropout is the identity, BatchNorm uses its running
    statistics, as ``torch.onnx.export`` does), and its modules' modes are restored. Each
    input is a graph input, and each tensor the model returns (a tensor, or nested tuples of
    them, e.g. an LSTM's (output, (h_n, c_n)); ``None`` left out) a graph output, named by
    ``input_names`` / ``output_names`` ("input" and "output", or "input_0", ... when there are
    several). With ``dynamic_batch`` dim 0 of every input is the symbolic "batch", so the file
    runs on any batch size; ``dynamic_axes`` ({name: {dim: label}} or {name: [dims]}, as
    torch's) names the dynamic dims instead (e.g. dim 1 of a sequence-first RNN's input). The
    outputs' shapes are what ONNX shape inference derives."""
    onnx = _onnx()
    if not isinstance(model, Module):
        raise TypeError(f"micrograd.onnx.export: expected a Module, got {type(model).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in OPSETS:
        raise ValueError(f"micrograd.onnx.export: opset must be one of {min(OPSETS)} to "
                         f"{max(OPSETS)}, got {opset!r}")
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    examples = tuple(_leaves(args))
    if not examples:
        raise ValueError("micrograd.onnx.export: example_input is an empty tuple")
    for t in examples:
        if not isinstance(t, Tensor):
            raise TypeError(f"micrograd.onnx.export: example_input must be a Tensor or a tuple "
                            f"of Tensors, got {type(t).__name__}")
        kind = t._array.dtype
        if kind.kind != "f" and kind not in (np.int64, np.int32, np.bool_):
            raise TypeError(f"micrograd.onnx.export: example_input must be floating point, "
                            f"int64 / int32 indices or bool masks, got {kind}")
    inputs = _names(input_names, len(examples), "input", "input_names")
    dims = _dynamic(dynamic_axes, dynamic_batch, inputs, examples)

    layers = _check_layers(model)
    # an in-place layer must not change the caller's tensors
    args = _map(lambda t: t.detach().clone(), args)
    examples = tuple(_leaves(args))
    with _eval_mode(model):
        g, outputs, results = _convert(onnx, model, layers, args, examples, inputs,
                                       output_names, dims, opset)
    graph = onnx.helper.make_graph(
        g.nodes, type(model).__name__,
        [_value_info(onnx, n, t, dims.get(n, {})) for n, t in zip(inputs, examples)],
        [onnx.helper.make_tensor_value_info(
            n, onnx.helper.np_dtype_to_tensor_dtype(t._array.dtype), None) for n, t in
         zip(outputs, results)],
        initializer=g.initializers)
    proto = onnx.helper.make_model(graph, producer_name="micrograd",
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = OPSETS[opset]
    _output_shapes(onnx, proto, outputs, results, dims)
    onnx.checker.check_model(proto, full_check=True)
    if hasattr(path, "write"):
        path.write(proto.SerializeToString())
    else:
        onnx.save(proto, os.fspath(path))
    return proto


def _output_shapes(onnx: Any, proto: Any, outputs: list, results: list, dims: dict) -> None:
    """Each output's shape as ONNX shape inference derives it from the inputs' (a dim it
    cannot derive is left unknown), with the labels ``dims`` gives; with no dynamic dims at
    all, the traced shapes."""
    graph = onnx.shape_inference.infer_shapes(proto).graph
    inferred = {v.name: v for v in list(graph.value_info) + list(graph.output)}
    for value, name, t in zip(proto.graph.output, outputs, results):
        shape = value.type.tensor_type.shape
        labels = dims.get(name, {})
        found = inferred.get(name)
        known = (found.type.tensor_type.shape.dim
                 if found is not None and found.type.tensor_type.HasField("shape") else None)
        for d, size in enumerate(t.shape):
            dim = shape.dim.add()
            if d in labels:
                dim.dim_param = labels[d]
            elif not dims:
                dim.dim_value = size
            elif known is not None and len(known) == len(t.shape):
                # (inference names a dim it cannot derive "unk__<k>": left unknown here)
                if known[d].HasField("dim_value") or not known[d].dim_param.startswith("unk__"):
                    dim.CopyFrom(known[d])
