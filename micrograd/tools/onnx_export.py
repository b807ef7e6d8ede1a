"""``micrograd.onnx.export``: a model of micrograd layers as an ONNX file (opset 17), for
onnxruntime and every other ONNX consumer.

How: the model runs once on the example input, in eval mode and without grad, with a forward hook
on every layer (a module without children). The hooks record which layer read which tensor and
wrote which, so the calls form a dataflow graph; each layer then becomes ONNX nodes through its
converter in ``CONVERTERS``, and its parameters become initializers named as in ``state_dict``.
So a ``Sequential`` (nested or not) and a ``Module`` whose ``forward`` only chains its layers
(``x = self.fc1(x); x = self.act(x); ...``) export alike.

What cannot be exported is refused with the reason, never approximated: a layer without a
converter (``NotImplementedError`` naming it and its place in the model), a ``forward`` that
computes outside its layers (a functional call or tensor op between them), a layer whose
behaviour in eval mode has no ONNX operator here (``BatchNorm1d`` without running statistics,
circular padding), parameters whose dtype is not the input's.

Each converter writes torch's math with ONNX operators, e.g. exact GELU as
``0.5 x (1 + erf(x / sqrt 2))`` (``Gelu`` arrives in opset 20) and softplus with its threshold
(``Where``), so the file computes what the micrograd model computes. Converters for more layers
are one function each: ``CONVERTERS[Layer] = fn(graph, module, x, shape) -> output name``
(``x`` the input's name, ``shape`` its traced shape; ``graph.out_shape`` the layer's output's).
"""
from __future__ import annotations

import math
import os
from typing import Any, BinaryIO, Callable, Sequence

import numpy as np

from ..core.autograd import no_grad
from ..core.tensor import Tensor
from .. import nn
from ..nn import activation as A
from ..nn import conv as C
from ..nn import functional as F
from ..nn import layers as L
from ..nn import pooling as P
from ..nn.module import Module

__all__ = ["export", "supported_layers", "CONVERTERS", "OPSET"]

OPSET = 17  # LayerNormalization needs 17; onnxruntime has run it since 1.14
IR_VERSION = 8  # the IR version that goes with opset 17 (newer IRs would lock out older runtimes)
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

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self.onnx, self.dtype = onnx, dtype
        self.nodes: list = []
        self.initializers: list = []
        self.names: set[str] = set()
        self.params: dict[tuple, str] = {}  # a layer called twice stores its weights once
        self.path = ""  # the layer being converted, for names and messages
        self.out_shape: tuple = ()  # that layer's output shape in the traced run

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
        key = (id(module), attr, shape, transpose)
        if key in self.params:
            return self.params[key]
        t: Tensor = getattr(module, attr)
        if t._array.dtype != self.dtype:
            raise TypeError(f"micrograd.onnx.export: {self.path}.{attr} is {t._array.dtype} but "
                            f"the input is {self.dtype}; convert the model (model.float() or "
                            f"model.double()) or the input so they match")
        array = t._array.T if transpose else t._array
        array = array if shape is None else array.reshape(shape)
        name = (f"{self.path}.{attr}" if self.path else attr) + ("_t" if transpose else "")
        self.params[key] = self._initializer(name, array)
        return self.params[key]

    def const(self, value: Any, dtype: Any = None) -> str:
        """A constant (a number, or an array such as a shape) as an initializer."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        return self._initializer(f"{self.path or 'model'}/const", array)

    def _initializer(self, name: str, array: np.ndarray) -> str:
        name = self._unique(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array),
                                                                   name))
        return name


Converter = Callable[[Graph, Module, str, tuple], str]
CONVERTERS: dict[type, Converter] = {}


def converts(*classes: type) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


def _unsupported(g: Graph, m: Module, why: str) -> NotImplementedError:
    return NotImplementedError(f"micrograd.onnx.export: layer {g.path!r} "
                               f"({type(m).__name__}) cannot be exported: {why}")


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
    """LayerNormalization over the trailing ``normalized_shape`` dims."""
    ones = np.ones(m.normalized_shape)
    scale = g.param(m, "weight") if m.weight is not None else g.const(ones)
    bias = g.param(m, "bias") if m.bias is not None else g.const(ones * 0)
    return g.node("LayerNormalization", [x, scale, bias], axis=-len(m.normalized_shape),
                  epsilon=float(m.eps))


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
        if m.padding_mode not in _PAD_MODES:
            raise _unsupported(g, m, f"padding_mode={m.padding_mode!r} needs ONNX opset 19 "
                               f"(this export writes opset {OPSET})")
        full = [0, 0] + pads[:n] + [0, 0] + pads[n:]
        x = g.node("Pad", [x, g.const(full, np.int64)], mode=_PAD_MODES[m.padding_mode])
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


@converts(P.MaxPool1d, P.MaxPool2d)
def _max_pool(g: Graph, m: P._MaxPoolNd, x: str, shape: tuple) -> str:
    n = 1 if isinstance(m, P.MaxPool1d) else 2
    _batched(g, m, shape, n)
    kernel, stride = _ints(m.kernel_size, n), _ints(m.stride, n)
    pad, dilation = _ints(m.padding, n), _ints(m.dilation, n)
    ceil = _pool_ceil(g, m, shape, kernel, stride, pad, dilation, allow_ceil=True)
    return g.node("MaxPool", [x], kernel_shape=kernel, strides=stride, pads=pad * 2,
                  dilations=dilation, ceil_mode=ceil)


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


@converts(P.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g: Graph, m: P.AdaptiveAvgPool2d, x: str, shape: tuple) -> str:
    """GlobalAveragePool for a 1x1 output; an AveragePool when the output size divides the
    input's (then every adaptive window is one fixed window); refused otherwise."""
    _batched(g, m, shape, 2)
    size = list(g.out_shape[-2:])
    if size == [1, 1]:
        return g.node("GlobalAveragePool", [x])
    h, w = shape[-2:]
    if h % size[0] or w % size[1]:
        raise _unsupported(g, m, f"output size {tuple(size)} does not divide the input's "
                           f"{(h, w)} (adaptive windows of different sizes)")
    kernel = [h // size[0], w // size[1]]
    return g.node("AveragePool", [x], kernel_shape=kernel, strides=kernel)


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
    a, b = g.node("Split", [x], outputs=2, axis=m.dim)
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
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


@converts(L._PadNd, L._ConstantPadNd)
def _pad(g: Graph, m: L._PadNd, x: str, shape: tuple) -> str:
    """Pad: torch's (left, right) pairs from the last dim backwards become ONNX's begins and
    ends for every dim."""
    if min(m.padding) < 0:
        raise _unsupported(g, m, f"negative padding {m.padding} (cropping) is not exported")
    inputs = [x, g.const(_onnx_pads(m.padding, len(shape)), np.int64)]
    if m.mode == "constant":
        inputs.append(g.const(getattr(m, "value", 0.0)))
    return g.node("Pad", inputs, mode=_PAD_MODES[m.mode])


# ---- tracing ------------------------------------------------------------------------------------
#: layers whose ONNX operator needs a newer opset than the one written, and why
NEWER_OPSET: dict[type, str] = {L._CircularPadNd: "circular padding needs ONNX opset 19"}


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
    """The model's layers (modules without children); every one must have a converter, and a
    container may not hold parameters of its own (its forward would use them outside layers)."""
    layers = []
    for path, m in model.named_modules():
        has_children = any(True for _ in m.children())
        if not has_children:
            newer = next((why for cls, why in NEWER_OPSET.items() if isinstance(m, cls)), None)
            if newer:
                raise NotImplementedError(
                    f"micrograd.onnx.export: layer {path!r} ({type(m).__name__}) cannot be "
                    f"exported: {newer} (this export writes opset {OPSET})")
            if _converter(type(m)) is None:
                raise NotImplementedError(
                    f"micrograd.onnx.export: layer {path or '<model>'!r} ({type(m).__name__}) "
                    f"is not supported (a subclass must keep its base class's forward); "
                    f"supported layers: {', '.join(supported_layers())}")
            layers.append((path, m))
        elif _converter(type(m)) is None and (any(True for _ in m.parameters(recurse=False))
                                        or any(True for _ in m.buffers(recurse=False))):
            raise NotImplementedError(
                f"micrograd.onnx.export: {path or '<model>'!r} ({type(m).__name__}) has "
                "parameters or buffers of its own, which its forward uses outside its layers; "
                "only forwards that chain layers can be exported")
    return layers


def _trace(model: Module, example: Tensor, layers: list) -> tuple[list, Any]:
    """Run ``model`` once in eval mode with a hook on every layer: [(path, module, input,
    output)] in call order, and the model's output. The modules' modes are restored."""
    calls: list = []
    modes = [(m, m.training) for m in model.modules()]

    def hook_for(path: str) -> Callable:
        def hook(module: Module, args: tuple, output: Any) -> None:
            if len(args) != 1 or not isinstance(args[0], Tensor):
                raise NotImplementedError(f"micrograd.onnx.export: layer {path!r} "
                                          f"({type(module).__name__}) was called with "
                                          f"{len(args)} arguments; only layers of one tensor "
                                          "in and one out are exported")
            if not isinstance(output, Tensor):
                raise NotImplementedError(f"micrograd.onnx.export: layer {path!r} "
                                          f"({type(module).__name__}) returned a "
                                          f"{type(output).__name__}; only layers of one tensor "
                                          "in and one out are exported")
            calls.append((path, module, args[0], output, tuple(args[0].shape)))
        return hook

    handles = [m.register_forward_hook(hook_for(path)) for path, m in layers]
    try:
        model.eval()
        with no_grad():
            output = model(example)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    return calls, output


def _outside(model: Module, what: str) -> NotImplementedError:
    return NotImplementedError(
        f"micrograd.onnx.export: {what}: {type(model).__name__}.forward computes with "
        "operations outside its layers (a functional call or a tensor operation); only "
        "forwards that chain layers can be exported (use the layer modules, e.g. nn.ReLU() "
        "for F.relu, nn.Flatten() for x.flatten(1))")


def export(model: Module, example_input: Any, path: str | os.PathLike | BinaryIO, *,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           dynamic_batch: bool = True) -> Any:
    """Write ``model`` as an ONNX model (opset 17) to ``path`` (a file name or a binary file
    object) and return the ``onnx.ModelProto``.

    ``example_input`` is one Tensor (or a 1-tuple of it, as torch passes arguments); the model
    runs on it once, in eval mode (Dropout is the identity, BatchNorm uses its running
    statistics, as ``torch.onnx.export`` does), and its modules' modes are restored. The graph's
    input and output are named by ``input_names`` / ``output_names`` ("input" and "output"
    by default). With ``dynamic_batch`` the first dim of the input (and of the output, when it
    is the batch) is symbolic, so the file runs on any batch size; the input then needs a batch
    dim (2-d or more)."""
    onnx = _onnx()
    if not isinstance(model, Module):
        raise TypeError(f"micrograd.onnx.export: expected a Module, got {type(model).__name__}")
    if isinstance(example_input, tuple):
        if len(example_input) != 1:
            raise NotImplementedError(f"micrograd.onnx.export: models of one input only; got "
                                      f"{len(example_input)} example inputs")
        example_input = example_input[0]
    if not isinstance(example_input, Tensor):
        raise TypeError(f"micrograd.onnx.export: example_input must be a Tensor, got "
                        f"{type(example_input).__name__}")
    dtype = example_input._array.dtype
    if dtype.kind != "f":
        raise TypeError(f"micrograd.onnx.export: example_input must be floating point, got "
                        f"{dtype}")
    if dynamic_batch and example_input.ndim < 2:
        raise ValueError(f"micrograd.onnx.export: dynamic_batch needs an input with a batch "
                         f"dim (2-d or more), got shape {tuple(example_input.shape)}; pass "
                         "dynamic_batch=False to export this fixed shape")
    in_name = _one_name(input_names, "input", "input_names")
    out_name = _one_name(output_names, "output", "output_names")

    layers = _check_layers(model)
    example = example_input.detach().clone()  # an in-place layer must not change the caller's
    calls, output = _trace(model, example, layers)
    if not isinstance(output, Tensor):
        raise NotImplementedError(f"micrograd.onnx.export: the model returned a "
                                  f"{type(output).__name__}; models returning one tensor only")

    g = Graph(onnx, dtype)
    names = {id(example): in_name}
    g.names.add(in_name)
    for where, module, x, y, shape in calls:
        if id(x) not in names:
            raise _outside(model, f"layer {where!r} ({type(module).__name__}) reads a tensor "
                                  "no layer made")
        g.path, g.out_shape = where, tuple(y.shape)
        names[id(y)] = _converter(type(module))(g, module, names[id(x)], shape)
    if id(output) not in names:
        raise _outside(model, "the output is not what a layer returned")
    g.path = ""
    g.node("Identity", [names[id(output)]])
    g.nodes[-1].output[0] = out_name

    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    in_shape = list(example.shape)
    out_shape: list = list(output.shape)
    if dynamic_batch:
        in_shape[0] = "batch"
        if out_shape:  # the batch, or (a Flatten from dim 0) a multiple of it: unknown
            out_shape[0] = "batch" if output.shape[0] == example.shape[0] else None
    graph = onnx.helper.make_graph(
        g.nodes, type(model).__name__,
        [onnx.helper.make_tensor_value_info(in_name, elem, in_shape)],
        [onnx.helper.make_tensor_value_info(out_name, elem, out_shape)],
        initializer=g.initializers)
    proto = onnx.helper.make_model(graph, producer_name="micrograd",
                                   opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto, full_check=True)
    if hasattr(path, "write"):
        path.write(proto.SerializeToString())
    else:
        onnx.save(proto, os.fspath(path))
    return proto


def _one_name(names: Sequence[str] | None, default: str, arg: str) -> str:
    if names is None:
        return default
    if isinstance(names, str) or len(names) != 1 or not isinstance(names[0], str):
        raise ValueError(f"micrograd.onnx.export: {arg} must be a list of one name (one "
                         f"{'input' if arg == 'input_names' else 'output'}), got {names!r}")
    return names[0]
