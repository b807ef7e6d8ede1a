"""Convolution layers: ``Conv1d``, ``Conv2d`` and ``ConvTranspose2d``, PyTorch's arguments,
parameter shapes and names (so a PyTorch ``state_dict`` loads), default initialisation and
printed form. ``forward`` calls ``nn.functional``; a ``padding_mode`` other than 'zeros' pads
with ``F.pad`` first and convolves without padding, as PyTorch does."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.device import as_device
from ..core.dtypes import as_dtype, get_default_dtype
from ..core.tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int, name: str) -> tuple:
    """An int or a sequence of n ints as an n-tuple (the module's stored form)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(items) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  for v in items):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in items)


class _ConvNd(Module):
    """What the convolution layers share: argument checks, parameters, init, repr."""

    _dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 output_padding: Any = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        n, layer = self._dims, type(self).__name__
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n, "stride")):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode={padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {layer}')
        if device is not None:
            as_device(device)  # a ValueError for a device this build does not have
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n, "padding")
        self.dilation = _ntuple(dilation, n, "dilation")
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.groups, self.padding_mode = int(groups), padding_mode
        # F.pad's order (last dim first) for the non-zeros modes; 'same' puts any odd extra after
        if isinstance(padding, str):
            total = [0 if padding == "valid" else d * (k - 1)
                     for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(pairs) for v in pair)
        np_dtype = (as_dtype(dtype) if dtype is not None else get_default_dtype()).np
        shape = ((in_channels, out_channels // groups) if self.transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, np_dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), np_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in),
        1/sqrt(fan_in)), and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = init._calculate_fan_in_and_fan_out(self.weight)[0]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _zero_padding(self) -> Any:
        """The padding F.conv* gets: the layer's own, or none after F.pad (other modes)."""
        if self.padding_mode == "zeros":
            return self.padding
        return 0

    def _pad(self, x: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return x
        return F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)

    def extra_repr(self) -> str:
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L); weight (C_out, C_in / groups, k)."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.conv1d(self._pad(input), self.weight, self.bias, self.stride,
                        self._zero_padding(), self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in / groups,
    kH, kW). im2col + GEMM in C on the C backend."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.conv2d(self._pad(input), self.weight, self.bias, self.stride,
                        self._zero_padding(), self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The transpose of Conv2d (its input gradient as a layer): (N, C_in, H, W) -> (N, C_out,
    (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1, ...); weight (C_in,
    C_out / groups, kH, kW). ``forward(x, output_size)`` picks the output_padding that gives
    ``output_size``, as PyTorch."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple:
        """output_padding for a requested output size (its last two entries), checked to be
        reachable as PyTorch checks it."""
        if output_size is None:
            return self.output_padding
        size = [int(v) for v in output_size][-2:]
        if len(size) != 2:
            raise ValueError(f"ConvTranspose2d: output_size must have 2 or more elements "
                             f"(got {len(size)})")
        pads = []
        for i, want in enumerate(size):
            n = x.shape[x.ndim - 2 + i]
            least = ((n - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not least <= want < least + self.stride[i]:
                raise ValueError(f"requested an output size of {size}, but valid sizes range "
                                 f"from {least} to {least + self.stride[i] - 1} (for an input "
                                 f"of {list(x.shape[-2:])})")
            pads.append(want - least)
        return tuple(pads)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)
