"""``micrograd.nn.functional`` (``F``): activations and losses as functions, as in torch.

Activations are compositions of Tensor ops with PyTorch's signatures, values and gradients,
including its choice of gradient at each kink (see the activations section).

Convolutions and pooling are one node each way (``Convolution``: im2col + GEMM in C on the C
backend; ``MaxPool``, ``AvgPool``: C loops).
Fused where it pays: ``linear`` is one node (x @ W^T + b through the backend's ``linear``, with
an optional activation as its epilogue), and ``cross_entropy``'s per-row loss is one node whose
backward is ``(softmax - onehot) * g`` (no softmax node in the graph); its class weights,
ignore_index, label smoothing and reduction are composed from Tensor ops in one place shared
with ``nll_loss``. Inputs are validated here, before any kernel runs: shapes, dtypes and class
labels.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..core import ops
from ..backends.base import check_linear_activation
from ..core.autograd import is_grad_enabled
from ..core.creation import cat, full
from ..core.errors import OpError
from ..core.random import keep_mask
from ..core.reductions import cosine_similarity, pairwise_distance  # noqa: F401 - F's names
from ..core.settings import settings as _settings
from ..core.shapes import count, dim_index
from ..core.tensor import (Tensor, apply_op, depends_on_values, lift_constant, numpy_call,
                           to_floating, where, wrap_array)
# torch.nn.functional's names for the sequence layers' functions (they live beside their
# modules). nn/attention.py adds scaled_dot_product_attention and multi_head_attention_forward
# to this module itself: it uses linear and dropout from here, so this module cannot import it.
from .sparse import embedding, embedding_bag

__all__ = ["linear", "relu", "relu_", "leaky_relu", "leaky_relu_", "sigmoid", "tanh", "elu",
           "elu_", "selu", "selu_", "celu", "celu_", "hardtanh", "hardtanh_", "relu6",
           "hardsigmoid", "hardswish", "gelu", "softplus", "silu", "mish", "softsign",
           "logsigmoid", "glu", "prelu", "threshold", "threshold_", "softmax", "log_softmax",
           "softmin", "dropout", "one_hot", "layer_norm", "pad", "mse_loss", "l1_loss", "huber_loss",
           "smooth_l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "max_unpool2d", "group_norm", "dropout2d", "interpolate", "unfold", "fold",
           "embedding", "embedding_bag", "scaled_dot_product_attention",
           "multi_head_attention_forward", "cosine_similarity", "pairwise_distance"]

_REDUCTIONS = ("mean", "sum", "none")


def _input(x: Any, name: str, arg: str = "input") -> Tensor:
    """``x`` when it is a Tensor; anything else (an ndarray, a list) is a TypeError naming the
    function and argument, not an AttributeError from deep inside."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: {arg} must be a Tensor, got {type(x).__name__} (wrap data "
                        "with mg.tensor(...))")
    return x


# ---- layers ------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None, *,  # noqa: A002
           activation: str | None = None) -> Tensor:
    """y = x @ W^T + b with x (..., K), W (M, K), b (M,) -> (..., M): one fused node.

    ``activation`` ("relu", "sigmoid" or "tanh"; not in PyTorch's signature) applies that
    function as the kernel's epilogue: ``linear(x, w, b, activation="relu")`` equals
    ``relu(linear(x, w, b))`` in one node and one kernel call each way. ``nn.Sequential`` uses
    it for every Linear followed by ReLU, Sigmoid or Tanh."""
    x, w = input, weight
    if not (isinstance(x, Tensor) and isinstance(w, Tensor)
            and (bias is None or isinstance(bias, Tensor))):  # one test on the hot path
        _input(x, "linear"), _input(w, "linear", "weight"), _input(bias, "linear", "bias")
    if activation is not None:
        check_linear_activation(activation)
    xs, ws = x._array.shape, w._array.shape  # read once: this is every layer's hot path
    if len(xs) < 1 or len(ws) != 2:
        raise OpError(f"linear: expected input (..., K) and weight (M, K), got shapes "
                      f"{xs} and {ws}")
    k = xs[-1]
    if ws[1] != k:
        raise OpError(f"linear: input {xs} @ weight.T {ws[::-1]}: inner dims "
                      f"{k} != {ws[1]}")
    if bias is not None and bias._array.shape != (ws[0],):
        raise OpError(f"linear: bias has shape {bias.shape}, expected ({ws[0]},)")
    dt = x._array.dtype
    if w._array.dtype != dt or (bias is not None and bias._array.dtype != dt):
        names = [x.dtype.name, w.dtype.name] + ([bias.dtype.name] if bias is not None else [])
        raise TypeError(f"linear: input, weight and bias must share a dtype, got {names}")
    args = (w,) if bias is None else (w, bias)
    if len(xs) == 2:
        return apply_op(ops.Linear, x, *args, activation=activation)
    # the rows spelled out: reshape(-1, k) is ambiguous for an empty x when K = 0
    y = apply_op(ops.Linear, x.reshape(count(xs[:-1]), k), *args, activation=activation)
    return y.reshape(xs[:-1] + (ws[0],))


# ---- convolution -------------------------------------------------------------------------------
# One primitive, ``Convolution``, for conv2d and conv_transpose2d (the one's forward is the
# other's input gradient); conv1d runs through conv2d with a unit height. The backend kernels
# take padding as ((top, bottom), (left, right)): 'same' with an odd total pads one more at the
# bottom/right as torch does, and conv_transpose2d's output_padding becomes a smaller bottom pad.

class Convolution(ops.Function):
    """out = conv2d(x, w) + b    dx = conv2d_input_grad(g, w)    dw = conv2d_weight_grad(x, g)
    db = sum of g over (N, H, W). Transposed (conv_transpose2d): out = conv2d_input_grad(x, w)
    + b, dx = conv2d(g, w), dw = conv2d_weight_grad(g, x). x (N, C, H, W), w (O, C/groups,
    kh, kw) (transposed: (C, O/groups, kh, kw)), b (O,) or absent."""
    recordable = True  # backend calls only (micrograd.compile)

    @property
    def saves_inputs(self) -> tuple:
        """dx reads w and dw reads x: only what a needed gradient reads is checked."""
        need = self.needs_input_grad
        return tuple(i for i, n in ((1, need[0]), (0, need[1])) if n)

    def forward(self, x, w, b=None, *, geometry, transposed=False, out_shape=None):
        self.x, self.w, self.geometry, self.transposed = x, w, geometry, transposed
        if not transposed:
            return self.be.conv2d(x, w, b, *geometry)
        y = self.be.conv2d_input_grad(x, w, out_shape, *geometry)
        return y if b is None else self.be.add(y, self.be.reshape(b, (-1, 1, 1)))

    def backward(self, g):
        be, need, x, w, geo = self.be, self.needs_input_grad, self.x, self.w, self.geometry
        if self.transposed:
            dx = be.conv2d(g, w, None, *geo) if need[0] else None
            dw = be.conv2d_weight_grad(g, x, w.shape, *geo) if need[1] else None
        else:
            dx = be.conv2d_input_grad(g, w, x.shape, *geo) if need[0] else None
            dw = be.conv2d_weight_grad(x, g, w.shape, *geo) if need[1] else None
        db = be.sum(g, (0, 2, 3)) if len(need) > 2 and need[2] else None
        return (dx, dw) if len(need) == 2 else (dx, dw, db)


def _int_tuple(value: Any, n: int, name: str, arg: str, minimum: int) -> tuple:
    """An int or a sequence of n ints, as an n-tuple; torch's errors for a wrong length or a
    value below ``minimum`` (RuntimeError) and for a non-int (TypeError)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{name}(): argument '{arg}' must be an int or a tuple of {n} ints, "
                        f"got {value!r}")
    if len(items) == 1:
        items = items * n
    if len(items) != n:
        raise RuntimeError(f"expected {arg} to be a single integer value or a list of {n} values "
                           f"to match the convolution dimensions, but got {arg}={list(items)}")
    if min(items) < minimum:
        raise RuntimeError({"stride": "non-positive stride is not supported",
                            "dilation": "non-positive dilation is not supported",
                            "padding": "negative padding is not supported",
                            "output_padding": "negative output padding is not supported",
                            }.get(arg, f"{name}: {arg} must be >= {minimum}, got {value!r}"))
    return tuple(int(v) for v in items)


def _conv_operands(name: str, input: Any, weight: Any, bias: Any, groups: Any,  # noqa: A002
                   spatial: int, transposed: bool = False) -> tuple:
    """(x, w, b, unbatched) checked as torch checks them: ranks, dtypes, groups, channel counts
    and the bias's size. An unbatched input (no N) gets a batch dim of 1."""
    x, w = _input(input, name), _input(weight, name, "weight")
    if bias is not None:
        _input(bias, name, "bias")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'groups' must be int, got {type(groups).__name__}")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    if x.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input"
                           f" to {name}, but got input of size: {list(x.shape)}")
    if w.ndim != spatial + 2:
        raise RuntimeError(f"{name}: expected weight to be {spatial + 2}-D (out_channels, "
                           f"in_channels / groups, kernel...), but got weight of size "
                           f"{list(w.shape)}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"{name}: input type ({x.dtype.name}) and weight type "
                           f"({w.dtype.name}) should be the same")
    if bias is not None and bias.dtype != x.dtype:
        raise RuntimeError(f"Input type ({x.dtype.name}) and bias type ({bias.dtype.name}) should "
                           f"be the same")
    unbatched = x.ndim == spatial + 1
    if unbatched:
        x = x.unsqueeze(0)
    shape, ws = list(x.shape), list(w.shape)
    if ws[0] % groups or (ws[0] == 0 and not transposed):
        raise RuntimeError(f"Given groups={groups}, expected weight to be "
                           f"{'divisible by ' + str(groups) if ws[0] else 'at least 1'} at "
                           f"dimension 0, but got weight of size [{ws}] instead")
    want = ws[0] if transposed else ws[1] * groups
    if shape[1] != want:
        raise RuntimeError(f"Given {'transposed=1' if transposed else 'groups=' + str(groups)}, "
                           f"weight of size {ws}, expected input{shape} to have {want} channels,"
                           f" but got {shape[1]} channels instead")
    out_channels = ws[1] * groups if transposed else ws[0]
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"Given weight of size {ws}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size {list(bias.shape)} "
                           f"instead")
    return x, w, bias, unbatched


def _conv_padding(name: str, padding: Any, kernel: tuple, stride: tuple,
                  dilation: tuple) -> tuple:
    """((before, after), ...) per spatial dim for an int, a tuple or 'valid'/'same' (the odd
    extra of 'same' goes after, as torch pads it)."""
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    p = _int_tuple(padding, len(kernel), name, "padding", 0)
    return tuple((v, v) for v in p)


def _conv_output_check(x_shape: tuple, kernel: tuple, padding: tuple, dilation: tuple) -> None:
    """torch's check that the dilated kernel fits the padded input."""
    padded = [n + lo + hi for n, (lo, hi) in zip(x_shape, padding)]
    dilated = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(k > n for k, n in zip(dilated, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, dilated))}). Kernel size can't be greater "
                           f"than actual input size")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of x (N, C, H, W) or (C, H, W) with weight (O, C/groups, kH, kW),
    plus bias (O,): one node, im2col + GEMM in C on the C backend. ``padding`` is an int, a
    pair, 'valid' or 'same' (stride 1 only); the padding is zeros (nn.Conv2d applies other
    padding modes with ``pad`` first)."""
    x, w, b, unbatched = _conv_operands("conv2d", input, weight, bias, groups, 2)
    stride = _int_tuple(stride, 2, "conv2d", "stride", 1)
    dilation = _int_tuple(dilation, 2, "conv2d", "dilation", 1)
    pad = _conv_padding("conv2d", padding, tuple(w.shape[2:]), stride, dilation)
    _conv_output_check(tuple(x.shape[2:]), tuple(w.shape[2:]), pad, dilation)
    args = (x, w) if b is None else (x, w, b)
    out = apply_op(Convolution, *args, geometry=(stride, pad, dilation, int(groups)))
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of x (N, C, L) or (C, L) with weight (O, C/groups, k): conv2d on
    a unit height."""
    x, w, b, unbatched = _conv_operands("conv1d", input, weight, bias, groups, 1)
    s, d = _int_tuple(stride, 1, "conv1d", "stride", 1), _int_tuple(dilation, 1, "conv1d",
                                                                       "dilation", 1)
    pad = _conv_padding("conv1d", padding, tuple(w.shape[2:]), s, d)
    _conv_output_check(tuple(x.shape[2:]), tuple(w.shape[2:]), pad, d)
    args = (x.unsqueeze(2), w.unsqueeze(2)) + (() if b is None else (b,))
    out = apply_op(Convolution, *args,
                   geometry=((1,) + s, ((0, 0),) + pad, (1,) + d, int(groups))).squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The adjoint of conv2d in its input (a "deconvolution"): x (N, C, H, W) with weight
    (C, O/groups, kH, kW) -> (N, O, (H - 1) s - 2 p + d (k - 1) + output_padding + 1, ...)."""
    x, w, b, unbatched = _conv_operands("conv_transpose2d", input, weight, bias, groups, 2,
                                        transposed=True)
    name = "conv_transpose2d"
    stride = _int_tuple(stride, 2, name, "stride", 1)
    dilation = _int_tuple(dilation, 2, name, "dilation", 1)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be an int or a tuple of ints, "
                        f"got {padding!r}")
    pad = _int_tuple(padding, 2, name, "padding", 0)
    out_pad = _int_tuple(output_padding, 2, name, "output_padding", 0)
    if any(op >= s and op >= d for op, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but "
                           f"got output_padding_height: {out_pad[0]} output_padding_width: "
                           f"{out_pad[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
                           f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}")
    kernel = tuple(w.shape[2:])
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op
                 in zip(x.shape[2:], stride, pad, dilation, kernel, out_pad))
    if min(size) < 0 or (x.numel() and min(size) < 1):
        raise RuntimeError(f"{name}: the output size {size} of input {list(x.shape)} with "
                           f"weight {list(w.shape)} is too small")
    out_shape = (x.shape[0], w.shape[1] * int(groups)) + size
    # the equivalent conv2d's padding: output_padding rows extend y past the bottom/right pad
    geometry = (stride, tuple((p, p - op) for p, op in zip(pad, out_pad)), dilation, int(groups))
    args = (x, w) if b is None else (x, w, b)
    out = apply_op(Convolution, *args, geometry=geometry, transposed=True, out_shape=out_shape)
    return out.squeeze(0) if unbatched else out


# ---- pooling -----------------------------------------------------------------------------------
# max_pool2d and avg_pool2d are one node each (C kernels on the C backend); the 1-d forms run
# on a unit height. The adaptive pools reuse them: windows of equal size when the input divides
# evenly, else one kernel call per window row/column (adaptive windows overlap and vary).

class MaxPool(ops.Function):
    """out = x at idx in each (H, W) plane (the window maxima, found by the caller with the
    backend's max_pool2d)    dx = g added at idx (repeats add up)"""
    recordable = True  # when values and idx come from the backend's max_pool2d (compile checks)

    def forward(self, x, *, idx, values):
        self.idx, self.shape = idx, x.shape
        return values

    def backward(self, g):
        return (self.be.max_pool2d_backward(g, self.idx, self.shape),)


class AvgPool(ops.Function):
    """out = window sum / divisor    dx = g / divisor spread over each window (torch's divisor:
    divisor_override, else the window clipped to the padded input or, without
    count_include_pad, to the input)"""
    recordable = True  # backend calls only (micrograd.compile)

    def forward(self, x, *, geometry):
        self.shape, self.geometry = x.shape, geometry
        kernel, stride, padding, out_size, include, divisor = geometry
        return self.be.avg_pool2d(x, kernel, stride, padding, out_size, include, divisor)

    def backward(self, g):
        kernel, stride, padding, _, include, divisor = self.geometry
        return (self.be.avg_pool2d_backward(g, self.shape, kernel, stride, padding, include,
                                            divisor),)


def _pool_arg(value: Any, n: int, name: str, arg: str) -> tuple:
    """kernel_size / stride / padding / dilation as an n-tuple of ints (torch's message)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(items) == 1:
        items = items * n
    if len(items) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  for v in items):
        kind = "a single int, or a tuple of two ints" if n == 2 else "a single int"
        raise RuntimeError(f"{name}: {arg} must either be {kind}, got {value!r}")
    return tuple(int(v) for v in items)


def _pool_input(name: str, input: Any, spatial: int) -> tuple:  # noqa: A002
    """(x as 4-D (N, C, H, W), unbatched): torch's rank and empty-dim checks."""
    x = _input(input, name)
    if x.ndim not in (spatial + 1, spatial + 2) or 0 in x.shape[x.ndim - spatial - 1:]:
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D (batch mode) "
                           f"tensor with optional 0 dim batch size for input, but got:"
                           f"{list(x.shape)}")
    unbatched = x.ndim == spatial + 1
    if unbatched:
        x = x.unsqueeze(0)
    if spatial == 1:
        x = x.unsqueeze(2)
    return x, unbatched


def _pool_output(x: Tensor, unbatched: bool, spatial: int) -> Tensor:
    """Undo _pool_input's reshapes."""
    if spatial == 1:
        x = x.squeeze(2)
    return x.squeeze(0) if unbatched else x


def _pool_geometry(name: str, shape: tuple, kernel: tuple, stride: tuple, padding: tuple,
                   dilation: tuple, ceil_mode: bool) -> tuple:
    """The output size (oh, ow) by torch's formula (ceil_mode: the last window may hang over
    the padding but must start inside the input or left padding), after torch's checks."""
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} "
                           f"kW: {kernel[1]}")
    if min(stride) <= 0:
        raise RuntimeError("stride should not be zero")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2 or p > k // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    out = []
    for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(o)
    if min(out) < 1:
        c, h, w = shape[1:]
        raise RuntimeError(f"{name}: Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{max(out[0], 0)}x{max(out[1], 0)}). Output size is too small")
    return tuple(out)


def _max_pool(x: Tensor, kernel: tuple, stride: tuple, padding: tuple,
              dilation: tuple, out_size: tuple) -> tuple:
    """(values, indices) of max pooling a 4-D x: the backend finds the maxima, MaxPool records
    them (indices are flat positions h * W + w in each plane, as torch)."""
    values, idx = _settings.backend.max_pool2d(x._array, kernel, stride, padding, dilation,
                                               out_size)
    return apply_op(MaxPool, x, idx=idx, values=values), wrap_array(idx)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The max of each window of (N, C, H, W) or (C, H, W); with ``return_indices`` also each
    max's flat position h * W + w in its plane (what max_unpool2d takes). Windows may be
    dilated and padded (with -inf, at most half the kernel); ``ceil_mode`` keeps a last partial
    window. NaN propagates."""
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """max_pool2d over the last dim of (N, C, L) or (C, L) (indices are positions in L)."""
    return _max_pool_nd("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def _max_pool_nd(name: str, spatial: int, input: Any, kernel_size: Any,  # noqa: A002
                 stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
                 return_indices: bool) -> Any:
    x, unbatched = _pool_input(name, input, spatial)
    kernel = _pool_arg(kernel_size, spatial, name, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else \
        _pool_arg(stride, spatial, name, "stride")
    padding = _pool_arg(padding, spatial, name, "padding")
    dilation = _pool_arg(dilation, spatial, name, "dilation")
    if spatial == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                             (1,) + dilation)
    out_size = _pool_geometry(name, tuple(x.shape), kernel, stride, padding, dilation,
                              bool(ceil_mode))
    values, idx = _max_pool(x, kernel, stride, padding, dilation, out_size)
    values = _pool_output(values, unbatched, spatial)
    return (values, _pool_output(idx, unbatched, spatial)) if return_indices else values


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, H, W) or (C, H, W), zero-padded; the divisor is
    torch's: ``divisor_override``, else the window's size (counting the padding with
    ``count_include_pad``, never what ``ceil_mode``'s last window hangs past it)."""
    return _avg_pool_nd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """avg_pool2d over the last dim of (N, C, L) or (C, L)."""
    return _avg_pool_nd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, None)


def _avg_pool_nd(name: str, spatial: int, input: Any, kernel_size: Any,  # noqa: A002
                 stride: Any, padding: Any, ceil_mode: bool, count_include_pad: bool,
                 divisor_override: int | None) -> Tensor:
    x, unbatched = _pool_input(name, input, spatial)
    if not x.is_floating_point():
        raise RuntimeError(f"{name}: integer inputs are not supported (torch divides with "
                           f"integer rounding); convert with .float() or .double()")
    kernel = _pool_arg(kernel_size, spatial, name, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else \
        _pool_arg(stride, spatial, name, "stride")
    padding = _pool_arg(padding, spatial, name, "padding")
    if spatial == 1:
        kernel, stride, padding = (1,) + kernel, (1,) + stride, (0,) + padding
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    out_size = _pool_geometry(name, tuple(x.shape), kernel, stride, padding, (1, 1),
                              bool(ceil_mode))
    out = apply_op(AvgPool, x, geometry=(kernel, stride, padding, out_size,
                                         bool(count_include_pad), divisor_override))
    return _pool_output(out, unbatched, spatial)


def _adaptive_size(name: str, output_size: Any, shape: tuple) -> tuple:
    """output_size as (oh, ow): an int, or a pair whose None entries keep the input's size."""
    items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(items) != 2:
        raise RuntimeError(f"{name}: output_size must be 2")
    out = tuple(n if v is None else v for v, n in zip(items, shape[-2:]))
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
               for v in out):
        raise RuntimeError(f"{name}: output_size must hold non-negative ints, got "
                           f"{output_size!r}")
    return tuple(int(v) for v in out)


def _adaptive_input(name: str, input: Any) -> tuple:  # noqa: A002
    x = _input(input, name)
    if x.ndim not in (3, 4) or 0 in x.shape[-2:] or (x.ndim == 4 and x.shape[1] == 0):
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor with non-zero size for "
                           f"non-batch dimensions, but input has sizes {list(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _adaptive_windows(n: int, o: int) -> list:
    """torch's adaptive windows along one dim: [floor(i n / o), ceil((i + 1) n / o))."""
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (oh, ow) with torch's windows
    [floor(i H / oh), ceil((i + 1) H / oh)). When oh divides H and ow divides W these are
    avg_pool2d's equal windows (one kernel call); otherwise the mean of each window row, then
    of each window column, composed from slices."""
    x, unbatched = _adaptive_input("adaptive_avg_pool2d", input)
    if not x.is_floating_point():
        raise RuntimeError("adaptive_avg_pool2d: integer inputs are not supported; convert with "
                           ".float() or .double()")
    (h, w), (oh, ow) = x.shape[2:], _adaptive_size("adaptive_avg_pool2d", output_size, x.shape)
    if oh and ow and h % oh == 0 and w % ow == 0:
        k = (h // oh, w // ow)
        out = apply_op(AvgPool, x, geometry=(k, k, (0, 0), (oh, ow), True, None))
    else:
        rows = [x[:, :, a:b].mean(2, keepdim=True) for a, b in _adaptive_windows(h, oh)]
        out = cat(rows, 2) if rows else x[:, :, :0]
        cols = [out[:, :, :, a:b].mean(3, keepdim=True) for a, b in _adaptive_windows(w, ow)]
        out = cat(cols, 3) if cols else out[:, :, :, :0]
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """Max pooling to a fixed output size with torch's adaptive windows (see
    adaptive_avg_pool2d); indices as max_pool2d's. One max_pool2d kernel call when the sizes
    divide evenly, else one per window, gathered into one MaxPool node."""
    x, unbatched = _adaptive_input("adaptive_max_pool2d", input)
    if not x.is_floating_point():
        raise NotImplementedError(f'"adaptive_max_pool2d" not implemented for '
                                  f"'{x.dtype.name}' (as torch)")
    (n, c, h, w), (oh, ow) = x.shape, _adaptive_size("adaptive_max_pool2d", output_size,
                                                     x.shape)
    be, a = _settings.backend, x._array
    if oh and ow and h % oh == 0 and w % ow == 0:
        k = (h // oh, w // ow)
        values, idx = be.max_pool2d(a, k, k, (0, 0), (1, 1), (oh, ow))
    else:
        values, idx = np.empty((n, c, oh, ow), a.dtype), np.empty((n, c, oh, ow), np.int64)
        for i, (r0, r1) in enumerate(_adaptive_windows(h, oh)):
            for j, (c0, c1) in enumerate(_adaptive_windows(w, ow)):
                v, at = be.max_pool2d(a[:, :, r0:r1, c0:c1], (r1 - r0, c1 - c0), (1, 1), (0, 0),
                                      (1, 1), (1, 1))
                values[:, :, i, j] = v[:, :, 0, 0]
                idx[:, :, i, j] = (at[:, :, 0, 0] // (c1 - c0) + r0) * w + at[:, :, 0, 0] % (
                    c1 - c0) + c0
    out, ind = apply_op(MaxPool, x, idx=idx, values=values), wrap_array(idx)
    if unbatched:
        out, ind = out.squeeze(0), ind.squeeze(0)
    return (out, ind) if return_indices else out


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of max_pool2d: zeros of the pooled input's size with each value written at
    its index (flat h * W + w in its plane). The default size is (H - 1) stride - 2 padding +
    kernel; ``output_size`` may ask for up to stride - 1 more."""
    x = _input(input, "max_unpool2d")
    ind = _input(indices, "max_unpool2d", "indices")
    if ind.dtype.name != "int64":
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{ind.dtype.name}")
    if x.ndim not in (3, 4) or tuple(ind.shape) != tuple(x.shape):
        raise RuntimeError(f"max_unpool2d: expected 3D or 4D input and indices of its shape, got "
                           f"input {list(x.shape)} and indices {list(ind.shape)}")
    kernel = _pool_arg(kernel_size, 2, "max_unpool2d", "kernel_size")
    stride = kernel if stride is None else _pool_arg(stride, 2, "max_unpool2d", "stride")
    padding = _pool_arg(padding, 2, "max_unpool2d", "padding")
    default = [(n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[-2:], stride, padding,
                                                             kernel)]
    size = default
    if output_size is not None:
        size = [int(v) for v in output_size][-2:]
        for d, (want, least, s) in enumerate(zip(size, default, stride)):
            if not least - s < want < least + s:
                raise ValueError(f'invalid output_size "{tuple(size)}" (dim {d} must be between '
                                 f'{least - s} and {least + s})')
    oh, ow = size
    unbatched = x.ndim == 3
    if unbatched:
        x, ind = x.unsqueeze(0), ind.unsqueeze(0)
    n, c = x.shape[:2]
    flat_idx = ind._array.reshape(n, c, -1) if n * c else ind._array.reshape(n, c, 0)
    bad = (flat_idx < 0) | (flat_idx >= oh * ow)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {int(flat_idx[bad][0])} (output volumes "
                           f"are of size {oh}x{ow})")
    out = full((n, c, oh * ow), 0.0, dtype=x.dtype).scatter(
        2, wrap_array(flat_idx), x.reshape(n, c, flat_idx.shape[2]))
    out = out.reshape(n, c, oh, ow)
    return out.squeeze(0) if unbatched else out


# ---- image helpers: normalisation by groups, channel dropout, resizing, patches ----------------
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) over each sample's group of C / num_groups channels (and
    all their positions; biased variance), then weight and bias per channel."""
    x = _input(input, "group_norm")
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected input of at least 2 dims (N, C, *), got "
                           f"{list(x.shape)}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={num_groups}")
    g = x.reshape(n, num_groups, count(x.shape[1:]) // num_groups)
    mu = g.mean(2, keepdim=True)
    d = g - mu
    out = (d * ((d * d).mean(2, keepdim=True) + eps).rsqrt()).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) with probability p and scale the rest
    by 1/(1-p) (training only); the mask comes from micrograd's generator."""
    x = _input(input, "dropout2d")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if x.ndim not in (3, 4):
        raise RuntimeError(f"dropout2d: expected 3D (C, H, W) or 4D (N, C, H, W) input, got "
                           f"{list(x.shape)}")
    if not training or p == 0.0:
        return x
    mask = keep_mask(x.shape[:-2] + (1, 1), p, x._array.dtype)  # one draw per channel
    return _inplace(x, x * wrap_array(mask), "dropout2d", inplace)


_INTERPOLATE_MODES = ("nearest", "bilinear")


def _interpolate_sizes(x: Tensor, size: Any, scale_factor: Any,
                       recompute_scale_factor: bool | None) -> tuple:
    """(output sizes, scales: in/out per spatial dim as torch uses them)."""
    k = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * k
        if len(out) != k:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(x.shape[2:])} and "
                             f"output size of {list(out)}. Please provide input tensor in (N, C, "
                             f"d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        out = tuple(int(v) for v in out)
        return out, tuple(n / o if o else 0.0 for n, o in zip(x.shape[2:], out))
    sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * k
    if len(sf) != k:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(x.shape[2:])} and scale_factor of shape {list(sf)}.")
    out = tuple(int(math.floor(n * float(f))) for n, f in zip(x.shape[2:], sf))
    if recompute_scale_factor:
        return out, tuple(n / o if o else 0.0 for n, o in zip(x.shape[2:], out))
    return out, tuple(1.0 / float(f) for f in sf)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) to ``size`` or by
    ``scale_factor``: 'nearest' copies pixel floor(dst * in / out) (torch's legacy rule),
    'bilinear' (4-D) blends the two nearest pixels per dim, with torch's align_corners rule.
    Composed from indexing and arithmetic, so the gradient is the adjoint of the blend."""
    x = _input(input, "interpolate")
    if mode not in _INTERPOLATE_MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (micrograd has "
                                  f"{', '.join(_INTERPOLATE_MODES)})")
    if align_corners is not None and mode == "nearest":
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if x.ndim not in (3, 4) or (mode == "bilinear" and x.ndim != 4):
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs "
                                  f"{'4D' if mode == 'bilinear' else '3D or 4D'} input")
    out_size, scales = _interpolate_sizes(x, size, scale_factor, recompute_scale_factor)
    if min(out_size) <= 0 or 0 in x.shape[1:]:
        raise RuntimeError(f"interpolate: input {list(x.shape)} and output size "
                           f"{list(out_size)} should be greater than 0")
    for i, (n, o, scale) in enumerate(zip(x.shape[2:], out_size, scales)):
        dim = 2 + i
        lead = (slice(None),) * dim
        dst = np.arange(o, dtype=np.float64)
        if mode == "nearest":
            src = np.minimum(np.floor(dst * scale).astype(np.int64), n - 1)
            x = x[lead + (src,)]
            continue
        if align_corners:
            pos = dst * ((n - 1) / (o - 1)) if o > 1 else np.zeros(o)
        else:
            pos = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
        lo = np.minimum(np.floor(pos).astype(np.int64), n - 1)
        hi = np.minimum(lo + 1, n - 1)
        frac = (pos - lo).reshape((o,) + (1,) * (x.ndim - dim - 1)).astype(x._array.dtype)
        x = x[lead + (lo,)] * wrap_array(1 - frac) + x[lead + (hi,)] * wrap_array(frac)
    return x


def _patch_index(name: str, size: tuple, kernel: tuple, dilation: tuple, padding: tuple,
                 stride: tuple) -> tuple:
    """(rows, cols, (oh, ow)): for each kernel tap (kh * kw) and block position (L = oh * ow),
    the pixel of the padded image it reads."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = size, kernel, dilation, padding, stride
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{name}: Given input with spatial size ({h}, {w}), kernel_size="
                           f"{kernel}, dilation={dilation}, padding={padding}, calculated shape "
                           f"of the array of sliding blocks as ({oh}, {ow}), but its components "
                           f"must be at least one.")
    taps_r = np.repeat(np.arange(kh) * dh, kw)[:, None]          # (kh * kw, 1)
    taps_c = np.tile(np.arange(kw) * dw, kh)[:, None]
    pos_r = np.repeat(np.arange(oh) * sh, ow)[None, :]           # (1, L)
    pos_c = np.tile(np.arange(ow) * sw, oh)[None, :]
    return taps_r + pos_r, taps_c + pos_c, (oh, ow)


def _patch_args(name: str, kernel_size: Any, dilation: Any, padding: Any,
                stride: Any) -> tuple:
    return (_int_tuple(kernel_size, 2, name, "kernel_size", 1),
            _int_tuple(dilation, 2, name, "dilation", 1),
            _int_tuple(padding, 2, name, "padding", 0),
            _int_tuple(stride, 2, name, "stride", 1))


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """im2col: the sliding blocks of (N, C, H, W) (or (C, H, W)) as columns, (N, C kh kw, L)
    with L = oh ow blocks; row c kh kw + p kw + q holds tap (p, q) of channel c. One gather
    from the zero-padded input, so the gradient adds each column back where it was read."""
    x = _input(input, "unfold")
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{x.ndim}D)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    kernel, dilation, padding, stride = _patch_args("unfold", kernel_size, dilation, padding,
                                                    stride)
    rows, cols, (oh, ow) = _patch_index("unfold", tuple(x.shape[2:]), kernel, dilation,
                                        padding, stride)
    if any(padding):
        x = pad(x, (padding[1], padding[1], padding[0], padding[0]))
    n, c = x.shape[:2]
    out = x[:, :, rows, cols].reshape(n, c * kernel[0] * kernel[1], oh * ow)
    return out.squeeze(0) if unbatched else out


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """col2im, the adjoint of unfold: columns (N, C kh kw, L) summed back into an image
    (N, C, H, W) of ``output_size`` (overlapping blocks add up): one scatter_add into the
    padded image, then a crop."""
    x = _input(input, "fold")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors "
                           f"are supported (got {x.ndim}D)")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(0)
    size = _int_tuple(output_size, 2, "fold", "output_size", 1)
    kernel, dilation, padding, stride = _patch_args("fold", kernel_size, dilation, padding,
                                                    stride)
    taps = kernel[0] * kernel[1]
    n, ck, length = x.shape
    if ck % taps:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={kernel}.")
    rows, cols, (oh, ow) = _patch_index("fold", size, kernel, dilation, padding, stride)
    if length != oh * ow:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={padding}, stride={stride}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {oh} * {ow} = {oh * ow}, but got input.size(2)={length}.")
    c = ck // taps
    hp, wp = size[0] + 2 * padding[0], size[1] + 2 * padding[1]
    flat = np.broadcast_to((rows * wp + cols).reshape(1, 1, -1), (n, c, taps * length))
    out = full((n, c, hp * wp), 0.0, dtype=x.dtype).scatter_add(
        2, wrap_array(np.ascontiguousarray(flat)), x.reshape(n, c, taps * length))
    out = out.reshape(n, c, hp, wp)[:, :, padding[0]:padding[0] + size[0],
                                    padding[1]:padding[1] + size[1]]
    return out.squeeze(0) if unbatched else out


# ---- activations -------------------------------------------------------------------------------
# Each is composed from Tensor ops (no backward of its own). Where PyTorch picks a subgradient
# at a kink, the where() conditions below are written as PyTorch's backward writes them, so the
# branch chosen at the breakpoint (and for nan) is PyTorch's.

def _floating(input: Any, name: str) -> Tensor:
    """``input`` when it holds floats. PyTorch has no integer kernel for these activations and
    raises; so does micrograd, rather than promoting where PyTorch would not."""
    x = _input(input, name)
    if not x.is_floating_point():
        raise TypeError(f"{name}: input must be a floating point tensor, got {x.dtype.name} "
                        "(convert it with .float() or .double())")
    return x


def _inplace(input: Tensor, out: Tensor, name: str, inplace: bool) -> Tensor:
    """``out``, or with ``inplace=True`` PyTorch's in-place form: ``out`` written into
    ``input``, which is returned. There is no in-place autograd yet, so that is refused while a
    graph is being recorded through ``input`` (a copy would leave other references to it
    stale: a silent wrong answer); with no graph (``no_grad``, plain data) it is done."""
    if not inplace:
        return out
    if is_grad_enabled() and (input.requires_grad or input.grad_fn is not None):
        raise NotImplementedError(
            f"{name}(inplace=True): in-place activations on a tensor that requires grad are not "
            "supported yet (no in-place autograd); use inplace=False, which gives the same "
            "values and gradients (docs/pytorch-differences.md)")
    return input.copy_(out)


def _expm1(x: Tensor) -> Tensor:
    """e^x - 1 for x <= 0 (callers clamp), the ELU family's negative branch. Near 0 exp(x) - 1
    cancels (float32: a relative error of 1e-4 at x = -1e-3, where PyTorch uses expm1), so there
    it is tanh(x/2) (e^x + 1), an identity with no cancellation in its value or gradient; below
    -1 it is exp(x) - 1, whose gradient e^x stays exact where tanh(x/2) rounds to -1. A
    Tensor.expm1 primitive would replace this."""
    e = x.exp()
    return where(x > -1.0, (x * 0.5).tanh() * (e + 1.0), e - 1.0)


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    """PyTorch's one ELU kernel: x <= 0: expm1(x input_scale) alpha scale, else x scale;
    elu, selu and celu are its three settings. At 0 the exponential branch's gradient is taken."""
    neg = _expm1(x.clamp(max=0.0) * input_scale) * (alpha * scale)
    return where(x <= 0, neg, x if scale == 1.0 else x * scale)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) elementwise; ``inplace=True`` overwrites ``input`` (as ``relu_``)."""
    x = _input(input, "relu")
    return _inplace(x, x.relu(), "relu", inplace)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place ``relu``: sets the negative entries of ``input`` to 0 and returns it."""
    return relu(input, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x; ``inplace=True`` overwrites ``input``."""
    x = _floating(input, "leaky_relu")
    return _inplace(x, apply_op(ops.LeakyReLU, x, slope=float(negative_slope)), "leaky_relu",
                    inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """In-place ``leaky_relu``: scales the negative entries of ``input`` by
    ``negative_slope`` and returns it."""
    return leaky_relu(input, negative_slope, inplace=True)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + e^-x) elementwise, the logistic function mapping reals into (0, 1)."""
    return _input(input, "sigmoid").sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x) elementwise, into (-1, 1)."""
    return _input(input, "tanh").tanh()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha (e^x - 1)."""
    x = _floating(input, "elu")
    return _inplace(x, _elu(x, alpha, 1.0, 1.0), "elu", inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``elu``: x if x > 0 else alpha (e^x - 1), written into ``input``."""
    return elu(input, alpha, inplace=True)


#: SELU's constants (Klambauer et al. 2017), to PyTorch's digits
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants ``SELU_ALPHA``, ``SELU_SCALE``."""
    x = _floating(input, "selu")
    return _inplace(x, _elu(x, SELU_ALPHA, SELU_SCALE, 1.0), "selu", inplace)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place ``selu``: the self-normalising activation, written into ``input``."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha (e^(x/alpha) - 1): continuously differentiable for every alpha."""
    x = _floating(input, "celu")
    if alpha == 0:
        raise OpError("celu: alpha cannot be 0 (the result divides x by alpha)")
    return _inplace(x, _elu(x, alpha, 1.0, 1.0 / alpha), "celu", inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``celu``: x if x > 0 else alpha (e^(x/alpha) - 1), written into
    ``input``."""
    return celu(input, alpha, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; no gradient at or beyond the bounds (PyTorch)."""
    x = _input(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val="
                         f"{min_val} > max_val={max_val}")
    flat = x.clamp(min_val, max_val).detach()  # the bound, as a constant
    return _inplace(x, where((x <= min_val) | (x >= max_val), flat, x), "hardtanh", inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0,  # noqa: A002
              max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``: clamps ``input`` to [min_val, max_val] and returns it."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6): hardtanh on [0, 6], so no gradient at 0 or 6 (PyTorch)."""
    x = _input(input, "relu6")
    return _inplace(x, hardtanh(x, 0.0, 6.0), "relu6", inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6: gradient 1/6 strictly inside (-3, 3), 0 elsewhere (PyTorch)."""
    x = _floating(input, "hardsigmoid")
    flat = ((x + 3.0).clamp(0.0, 6.0) / 6.0).detach()
    return _inplace(x, where((x > -3.0) & (x < 3.0), (x + 3.0) / 6.0, flat), "hardsigmoid",
                    inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x relu6(x + 3) / 6; gradient 0 for x <= -3, x/3 + 1/2 inside, 1 from 3 on (PyTorch)."""
    x = _floating(input, "hardswish")
    gate = (x + 3.0).clamp(0.0, 6.0)
    gate = where((x > -3.0) & (x < 3.0), gate, gate.detach())  # its gradient: inside only
    return _inplace(x, x * gate / 6.0, "hardswish", inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x) (exact, erf); ``approximate="tanh"`` uses torch's tanh formula."""
    x = _floating(input, "gelu")
    if approximate == "none":
        return apply_op(ops.GELU, x)
    if approximate == "tanh":
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)).tanh())
    raise OpError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + e^(beta x)) / beta where beta x <= threshold, else x (PyTorch's formula and
    comparison, so the value and gradient at the threshold itself are PyTorch's)."""
    x = _floating(input, "softplus")
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero (the result is log(1 + e^(beta x)) / "
                         "beta), got 0")
    z = x * beta
    # the exp sees at most the threshold, so the branch where() drops never overflows
    soft = z.clamp(max=threshold).exp().log1p() / beta
    return where(z > threshold, x, soft)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (swish)."""
    x = _floating(input, "silu")
    return _inplace(x, x * x.sigmoid(), "silu", inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x)); softplus's threshold keeps e^x finite for large x."""
    x = _floating(input, "mish")
    return _inplace(x, x * softplus(x).tanh(), "mish", inplace)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    x = _input(input, "softsign")
    return x / (x.abs() + 1)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|): no overflow for any x, and at 0 the
    minimum's tie gives PyTorch's gradient 1/2."""
    x = _floating(input, "logsigmoid")
    return x.minimum(0.0) - (-x.abs()).exp().log1p()


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    x = _floating(input, "glu")
    if x.ndim == 0:
        raise OpError("glu: does not support scalars (0-d tensors): the input is split in "
                      "two halves along dim")
    d = dim_index(dim, x.ndim, "glu")
    n = x.shape[d]
    if n % 2:
        raise OpError(f"glu: halving dimension must be even, but dim {d} of input shape "
                      f"{x.shape} has size {n}")
    a, b = x.split(n // 2, d)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x if x > 0 else weight * x; ``weight`` has one element, or one per channel (dim 1 of
    ``input``; inputs of fewer than 2 dims have one channel)."""
    x = _floating(input, "prelu")
    w = _input(weight, "prelu", "weight")
    if w.ndim > 1:
        raise OpError(f"prelu: weight must be a scalar or 1-D tensor, got shape {w.shape}")
    if w.dtype != x.dtype:
        raise TypeError(f"prelu: input and weight must share a dtype, got {x.dtype.name} and "
                        f"{w.dtype.name}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.numel() != 1 and w.numel() != channels:
        raise OpError(f"prelu: weight has {w.numel()} parameters but the input (shape "
                      f"{x.shape}) has {channels} channels (dim 1); use 1 or {channels}")
    if w.numel() != 1:  # one per channel: broadcast along dim 1
        w = w.reshape((channels,) + (1,) * (x.ndim - 2))
    elif w.ndim:
        w = w.reshape(())
    # w times min(x, 0), not x: where() drops this branch for x > 0, and its weight gradient
    # must be 0 there (x = inf would make it 0 * inf = nan)
    return where(x > 0, x, w * x.clamp(max=0.0))


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """``value`` where x <= threshold, else x (no gradient there)."""
    x = _input(input, "threshold")
    return _inplace(x, where(x <= threshold, value, x), "threshold", inplace)


_threshold = threshold  # the function, for threshold_ (whose argument has its name)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """In-place ``threshold``: entries of ``input`` not above ``threshold`` become
    ``value``."""
    return _threshold(input, threshold, value, inplace=True)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's implicit dim when none is given (deprecated there, with this warning): 0 for
    0-, 1- and 3-d inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input: Any, dim: int | None, dtype: Any, name: str,
                   stacklevel: int) -> tuple:
    """(x cast to ``dtype`` if given, the dim): the shared front of softmax, log_softmax and
    softmin."""
    x = _input(input, name)
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():
        raise TypeError(f"{name}: input must be a floating point tensor, got {x.dtype.name} "
                        "(pass dtype=, e.g. dtype=torch.float32)")
    return x, _softmax_dim(name, x.ndim, stacklevel + 1) if dim is None else dim


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """e^x / sum(e^x) along ``dim``; ``dtype`` casts the input first."""
    x, d = _softmax_input(input, dim, dtype, "softmax", _stacklevel)
    return x.softmax(d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``; ``dtype`` casts the input first."""
    x, d = _softmax_input(input, dim, dtype, "log_softmax", _stacklevel)
    return x.log_softmax(d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x, d = _softmax_input(input, dim, dtype, "softmin", _stacklevel)
    return (-x).softmax(d)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only).
    The mask is ``core.random.keep_mask``'s, drawn from micrograd's generator (reproducible
    with manual_seed)."""
    _input(input, "dropout")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    out = input * wrap_array(keep_mask(input.shape, p, input._array.dtype))
    return _inplace(input, out, "dropout", inplace)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (..., num_classes) with a 1 at each label (num_classes=-1: max label + 1)."""
    t = _class_array(tensor, "one_hot")
    n = int(t.max()) + 1 if num_classes == -1 and t.size else num_classes
    if t.size and (t.min() < 0 or t.max() >= n):
        raise IndexError(f"one_hot: labels must be in [0, {n}), got min {t.min()} max {t.max()}")
    return wrap_array((t[..., None] == np.arange(max(n, 0))).astype(np.int64))


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing ``normalized_shape``."""
    _input(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape:
        raise OpError(f"layer_norm: normalized_shape {shape} does not match the end of "
                      f"input shape {input.shape}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    mu = input.mean(dims, keepdim=True)
    d = input - mu
    out = d * ((d * d).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


# ---- padding -----------------------------------------------------------------------------------
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_tuple(pad: Any, ndim: int) -> tuple:
    """torch's pad sequence checked: ints, even length, at most two per dim."""
    p = tuple(pad)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in p):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, got {pad!r}")
    if len(p) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(p) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(p)} and input of "
                           f"dimension {ndim}")
    return tuple(int(v) for v in p)


def _pad_source(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """For each output position along one dim, the input position it copies (torch's rule):
    reflect mirrors about the edge element, replicate repeats it, circular wraps within the
    input left after cropping (negative pads crop in every mode)."""
    i = np.arange(n + lo + hi) - lo
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    start, m = max(-lo, 0), n + min(lo, 0) + min(hi, 0)  # circular: the cropped window
    return start + (i - start) % m


def _pad_check(mode: str, shape: tuple, p: tuple) -> None:
    """torch's checks for the non-constant modes: supported ranks, non-empty dims, pad sizes."""
    k, ndim = len(p) // 2, len(shape)
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(p)} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode != "circular" and 0 in shape[ndim - k - 1:] and (ndim == k + 2 or 0 in shape):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    for j in range(k):
        dim = ndim - 1 - j
        n, lo, hi = shape[dim], p[2 * j], p[2 * j + 1]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding"
                               f" input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{dim} of input {list(shape)}")
        if mode == "circular":
            m = n + min(lo, 0) + min(hi, 0)
            if lo > n or hi > n or max(lo, hi) > m:
                raise RuntimeError(f"Padding value causes wrapping around more than once: "
                                   f"padding ({lo}, {hi}) at dimension {dim} of input "
                                   f"{list(shape)}")
        elif n + lo + hi < 1:
            raise RuntimeError(f"input (size {n} at dimension {dim}) is too small for padding "
                               f"({lo}, {hi}): calculated output size {n + lo + hi}")


def pad(input: Tensor, pad: Any, mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Tensor:
    """Pads the last ``len(pad) // 2`` dims, torch's order: ``(left, right)`` of the last dim
    first, then ``(top, bottom)`` of the one before, ... Negative pads crop.

    ``constant`` fills with ``value`` (0 by default) and pads any dims; ``reflect``,
    ``replicate`` and ``circular`` pad the last 1, 2 or 3 dims of an input with at most one
    batch and one channel dim in front, as torch does. Composed from Tensor ops: constant is
    a crop (slicing) and ``cat`` with filled blocks, the other modes one index-array gather
    per padded dim, so gradients are the GetItem / Cat backward (the sum of each input
    element's copies)."""
    x = _input(input, "pad")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    p = _pad_tuple(pad, x.ndim)
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        _pad_check(mode, x.shape, p)
    out = x
    for j in range(len(p) // 2):
        dim, lo, hi = x.ndim - 1 - j, p[2 * j], p[2 * j + 1]
        if not lo and not hi:
            continue
        n = out.shape[dim]
        lead = (slice(None),) * dim
        if mode != "constant":
            out = out[lead + (_pad_source(mode, n, lo, hi),)]
            continue
        if n + lo + hi < 0:
            raise RuntimeError(f"pad: padding ({lo}, {hi}) at dimension {dim} crops more than "
                               f"its size {n}")
        if lo < 0 or hi < 0:
            out = out[lead + (slice(max(-lo, 0), n - max(-hi, 0)),)]
        if lo > 0 or hi > 0:
            shape = list(out.shape)
            parts = []
            for size, part in ((lo, None), (0, out), (hi, None)):
                if part is not None:
                    parts.append(part)
                elif size > 0:
                    shape[dim] = size
                    parts.append(full(tuple(shape), 0.0 if value is None else value,
                                      dtype=out.dtype))
            out = cat(parts, dim)
    return out if out is not x else x[...]


# ---- regression losses -------------------------------------------------------------------------
def _pair(input: Tensor, target: Any, name: str) -> tuple:
    """input/target as float tensors of one dtype; warns on shape mismatch (torch broadcasts)."""
    _input(input, name)
    target = lift_constant(target, input) if not isinstance(target, Tensor) else target
    x = to_floating(input, name)
    if target._array.dtype != x._array.dtype:
        target = target.to(x._array.dtype)
    if target.shape != x.shape:
        warnings.warn(f"{name}: target shape {target.shape} differs from input shape {x.shape};"
                      " they will be broadcast, which is probably not what you want",
                      UserWarning, stacklevel=3)
    return x, target


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error: the (input - target)^2 terms, averaged (``reduction="mean"``),
    summed ("sum") or kept elementwise ("none")."""
    x, y = _pair(input, target, "mse_loss")
    d = x - y
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error: the |input - target| terms, averaged (``reduction="mean"``),
    summed ("sum") or kept elementwise ("none")."""
    x, y = _pair(input, target, "l1_loss")
    return _reduce((x - y).abs(), reduction, "l1_loss")


def huber_loss(input: Tensor, target: Any, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    if delta <= 0:
        raise OpError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pair(input, target, "huber_loss")
    d = x - y
    a = d.abs()
    # the quadratic branch squares min(|d|, delta), not d: the branch where() does not pick
    # still gets a zero gradient, and 0 * (2 d) is nan when d = +-inf
    c = a.clamp(max=delta)
    loss = where(a < delta, 0.5 * c * c, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction, "huber_loss")


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """huber_loss / beta (torch's smooth L1); beta=0 is the L1 loss."""
    if beta < 0:
        raise OpError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    return huber_loss(input, target, reduction, beta) * (1.0 / beta)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), the logs clamped at -100 (torch). p must be in [0, 1]."""
    p, y = _pair(input, target, "binary_cross_entropy")
    numpy_call(_check_probabilities, p._array)  # a captured step's replay checks them too
    p, y = _broadcast_pair(p, y, "binary_cross_entropy")
    loss = apply_op(ops.BCE, p, y)
    if weight is not None:
        loss = loss * lift_constant(weight, loss)
    return _reduce(loss, reduction, "binary_cross_entropy")


def _check_probabilities(p: np.ndarray) -> None:
    """torch's rule: every element in [0, 1] (a nan is not)."""
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        raise OpError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                      f"(got min {p.min():.4g}, max {p.max():.4g}); for logits use "
                      "binary_cross_entropy_with_logits")


def binary_cross_entropy_with_logits(input: Tensor, target: Any,  # noqa: A002
                                     weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """BCE on logits, stable for any logit (no sigmoid overflow): one fused elementwise node."""
    x, y = _pair(input, target, "binary_cross_entropy_with_logits")
    x, y = _broadcast_pair(x, y, "binary_cross_entropy_with_logits")
    pw = None
    if pos_weight is not None:
        pw = lift_constant(pos_weight, x).to(x._array.dtype)._array
        try:
            np.broadcast_shapes(pw.shape, x.shape)
        except ValueError:
            raise OpError(f"binary_cross_entropy_with_logits: pos_weight shape {pw.shape} "
                          f"does not broadcast to input shape {x.shape}") from None
    loss = apply_op(ops.BCEWithLogits, x, y, pos_weight=pw)
    if weight is not None:
        loss = loss * lift_constant(weight, loss)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _broadcast_pair(a: Tensor, b: Tensor, name: str) -> tuple:
    if a.shape == b.shape:
        return a, b
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise OpError(f"{name}: input shape {a.shape} and target shape {b.shape} cannot "
                      "be broadcast together") from None
    return a.expand(shape), b.expand(shape)


# ---- classification losses ---------------------------------------------------------------------
def _class_array(target: Any, name: str) -> np.ndarray:
    """Class labels as an int64 array (Tensors, arrays and lists of ints accepted)."""
    t = target._array if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: class targets must be integers (int64), got dtype {t.dtype}")
    return t.astype(np.int64, copy=False)


def _as_rows(input: Tensor, t: np.ndarray, name: str) -> tuple:
    """(N, C) logits and (N,) labels from torch's accepted layouts:
    (C,) with a scalar target, (N, C) with (N,), (N, C, d1, ...) with (N, d1, ...).
    Returns them and the shape a 'none' reduction must have."""
    shape = input._array.shape
    if len(shape) == 1:
        if t.ndim != 0:
            raise ValueError(f"{name}: input of shape {shape} (one sample) needs a scalar "
                             f"target, got shape {t.shape}")
        return input.reshape(1, -1), t.reshape(1), ()
    if not shape:
        raise OpError(f"{name}: input must have a class dim, got a 0-d tensor")
    n, c = shape[0], shape[1]
    expected = (n,) + shape[2:]
    if t.shape != expected:
        raise OpError(f"{name}: input shape {shape} needs target shape {expected}, "
                      f"got {t.shape}")
    if len(shape) == 2:
        return input, t, (n,)
    rows = input.permute((0,) + tuple(range(2, input.ndim)) + (1,))  # classes last
    return rows.reshape(-1, c), t.reshape(-1), expected


def _all_count(t: np.ndarray, c: int, ignore_index: int) -> bool:
    """Every label is in [0, c) and none is ignore_index, in one pass: seen as unsigned, a
    negative label is >= 2^63, so the largest is < c exactly when every label is in [0, c);
    and then none is ignore_index unless ignore_index is itself in [0, c)."""
    return t.size == 0 or (int(t.view(np.uint64).max()) < c and not 0 <= ignore_index < c)


def _counted(t: np.ndarray, c: int, ignore_index: int) -> Any:
    """What the class losses decide from the labels' values: None (every label counts), the
    mask of counted labels, or "out of range" (an error)."""
    if _all_count(t, c, ignore_index):
        return None
    valid = t != ignore_index
    if ((t < 0) | (t >= c))[valid].any():
        return "out of range"
    return valid.tobytes()


def _check_labels(t: np.ndarray, c: int, ignore_index: int, name: str) -> np.ndarray | None:
    """Raise IndexError for a label outside [0, c) that is not ignore_index; return the mask
    of counted labels, or None when every label counts."""
    depends_on_values(t, lambda a: _counted(a, c, ignore_index))  # for micrograd.compile
    if _all_count(t, c, ignore_index):
        return None
    valid = t != ignore_index
    bad = t[valid & ((t < 0) | (t >= c))]
    if bad.size:
        raise IndexError(f"{name}: target label {int(bad[0])} is out of range for {c} classes "
                         f"(expected 0 <= label < {c}, or ignore_index={ignore_index})")
    return None if valid.all() else valid


def _class_weight(weight: Any, c: int, dt: np.dtype, name: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight._array if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise OpError(f"{name}: weight must have shape ({c},) (one per class), got {w.shape}")
    return w.astype(dt, copy=False)


def total_weight(weight: np.ndarray | None, n: int) -> float:
    """The denominator of a weighted mean sum_i(w_i l_i) / sum_i(w_i): the weights' sum, or n
    when there are none (every w_i = 1). The one place this is computed: the class losses'
    'mean' below and the scikit-learn estimators' sample-weighted batch losses use it."""
    return float(n) if weight is None else float(weight.sum())


def _class_loss(name: str, input: Tensor, target: Any, weight: Any,  # noqa: A002
                ignore_index: int, reduction: str, label_smoothing: float,
                logits: bool) -> Tensor:
    """Negative log-likelihood of integer class labels, shared by cross_entropy (``logits``:
    the fused CrossEntropy primitive gives each row's -log softmax(x)[t]) and nll_loss (input
    already log-probabilities: -input[t]), with everything else composed from Tensor ops:

    row loss  l_i = s_i ((1 - eps) nll_i + eps/C * (-sum_c w_c logp_ic))  (s_i: 0 if ignored)
    'none' l (target's shape), 'sum' sum_i l_i, 'mean' sum_i l_i / sum_i s_i w[t_i] (torch's
    weighted mean; nan when every row is ignored, with zero gradients as in torch).

    The per-row factors are NumPy constants folded into one multiply, so the common case (no
    weight, nothing ignored, no smoothing, 'mean') is the primitive, one multiply and one sum.
    """
    t = _class_array(target, name)
    rows, t, out_shape = _as_rows(input, t, name)
    n, c = rows._array.shape
    dt = rows._array.dtype
    valid = _check_labels(t, c, ignore_index, name)
    if valid is not None:
        t = np.where(valid, t, 0)  # any in-range label: the row's factor below is 0
    w = _class_weight(weight, c, dt, name)
    if logits:
        nll = apply_op(ops.CrossEntropy, rows, target=t)
    else:  # labels already checked: index directly, without gather's checks
        nll = -apply_op(ops.GetItem, rows, index=(np.arange(n), t))
    # r_i, row i's share of the reduction: 0 where ignored, else 1 ('none', 'sum') or
    # 1 / sum of the counted rows' weights ('mean'; nan when that is 0, torch's 0/0).
    # None: 1 for every row.
    r = None if valid is None else valid.astype(dt)
    wt = None if w is None else w[t]  # each row's class weight
    denom = 1.0
    if reduction == "mean":
        denom = total_weight(r if wt is None else wt if r is None else wt * r, n)
        inv = dt.type(1 / denom) if denom else dt.type(np.nan)
        r = inv if r is None else np.where(valid, inv, dt.type(0))
    factor = r if wt is None else (wt if r is None else wt * r)  # the nll term's factor
    if label_smoothing:
        eps = label_smoothing
        logp = rows.log_softmax(1) if logits else rows
        smooth = -(logp.sum(1) if w is None else (logp * wrap_array(w)).sum(1))
        # the smoothing term -sum_c w_c logp_ic gets r_i, without the row's own w[t_i]
        sk, nk = dt.type(eps / c), dt.type(1 - eps)
        loss = (_times(nll, nk if factor is None else factor * nk)
                + _times(smooth, sk if r is None else r * sk))
    else:
        loss = nll if factor is None else _times(nll, factor)
    if reduction == "none":
        return loss if loss.shape == out_shape else loss.reshape(out_shape)
    total = apply_op(ops.Sum, loss, axes=None, keepdims=False)  # loss.sum(), minus its checks
    if not denom:
        total = total + float("nan")  # nothing counted: torch's nan, its gradients stay 0
    return total


def _times(x: Tensor, factor: Any) -> Tensor:
    """x (N,) times a constant per-row factor ((N,) array or a scalar, of x's dtype): one Mul
    node, made directly (the constant needs no gradient, so Mul may broadcast it; this is
    every classifier's training step, so Tensor.__mul__'s promotion checks are skipped)."""
    return apply_op(ops.Mul, x, wrap_array(np.asarray(factor, x._array.dtype)))


def cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits against integer class labels.

    input (N, C) with target (N,) int64; also (C,) with a scalar target and (N, C, d1, ...)
    with (N, d1, ...). A float target of the input's shape is read as class probabilities.
    ``weight`` (C,) rescales each class; labels equal to ``ignore_index`` add nothing (and do
    not count in the mean); ``label_smoothing`` mixes the one-hot target with uniform 1/C.
    The per-row loss is the fused ``CrossEntropy`` primitive (softmax and NLL in one kernel
    each way); the rest is composed in ``_class_loss``, shared with ``nll_loss``.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, "
                         f"got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise OpError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                      f"{label_smoothing}")
    x = _input(input, "cross_entropy")
    if x._array.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must be floating point logits, got "
                        f"{x.dtype.name}")
    if isinstance(target, Tensor) and target._array.dtype.kind == "f":
        return _soft_cross_entropy(x, target, weight, reduction, label_smoothing)
    return _class_loss("cross_entropy", x, target, weight, ignore_index, reduction,
                       float(label_smoothing), logits=True)


def _soft_cross_entropy(x: Tensor, target: Tensor, weight: Any, reduction: str,
                        label_smoothing: float) -> Tensor:
    """Cross-entropy against class probabilities (target has the input's shape)."""
    if target.shape != x.shape:
        raise OpError(f"cross_entropy: probability targets must have the input's shape "
                      f"{x.shape}, got {target.shape}")
    dim = 0 if x.ndim == 1 else 1
    c = x.shape[dim]
    y = target.to(x._array.dtype)
    if label_smoothing:
        y = y * (1 - label_smoothing) + label_smoothing / c
    logp = x.log_softmax(dim)
    if weight is not None:
        w = _class_weight(weight, c, x._array.dtype, "cross_entropy")
        logp = logp * wrap_array(w.reshape((c,) + (1,) * (x.ndim - dim - 1)))
    loss = -(logp * y).sum(dim)
    # torch's 'mean' here divides by every position (N * d1 * ...), not by N, and ignores weight
    return _reduce(loss, reduction, "cross_entropy")


def nll_loss(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) at integer labels (N,); the same
    layouts, weights, ignore_index and reductions as cross_entropy (``_class_loss``)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    x = _input(input, "nll_loss")
    if x._array.dtype.kind != "f":
        raise TypeError(f"nll_loss: input must be floating point log-probabilities, got "
                        f"{x.dtype.name}")
    return _class_loss("nll_loss", x, target, weight, ignore_index, reduction, 0.0,
                       logits=False)
