"""Layers as Modules, PyTorch's names, arguments, initialisation and printed form (the
activation modules are in ``nn/activation.py``).

Every ``forward`` is a call into ``nn.functional`` or a Tensor op, so the C kernels (fused
linear, activations) run whenever the C backend is active.
"""
from __future__ import annotations

import math
import operator
from collections import OrderedDict
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ..core.dtypes import get_default_dtype
from ..core.errors import OpError
from ..core.reductions import cosine_similarity, pairwise_distance
from ..core.tensor import Tensor, numpy_call
from . import functional as F
from . import init
from .activation import ReLU, Sigmoid, Tanh
from .module import Module, Parameter, has_forward_hooks


def _default_float() -> np.dtype:
    """Parameters follow ``mg.set_default_dtype`` (float32 unless changed), as in PyTorch."""
    return get_default_dtype().np


def _check_positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative int, got {value!r}")
    return int(value)


class Identity(Module):
    """Returns its input unchanged (a placeholder that keeps layer indices stable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Linear(Module):
    """y = x @ W.T + b, W of shape (out_features, in_features).

    PyTorch's default init: W ~ kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and
    b ~ U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _check_positive_int("Linear", "in_features", in_features)
        self.out_features = _check_positive_int("Linear", "out_features", out_features)
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or _default_float())
        self.weight = Parameter(np.empty((self.out_features, self.in_features), np_dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), np_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight and bias again with PyTorch's default init (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"



class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size`` (Flatten's inverse)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim`` (torch.nn.CosineSimilarity)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance between the rows of two inputs (torch.nn.PairwiseDistance)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1-p);
    in eval mode, the identity. The mask comes from micrograd's generator."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p!r}")
        self.p, self.inplace = float(p), inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"



class Dropout2d(Dropout):
    """In training, zero whole channels of (N, C, H, W) or (C, H, W) with probability ``p``
    and scale the rest by 1/(1-p) (F.dropout2d); in eval mode, the identity."""

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Upsample(Module):
    """Resizes images with F.interpolate ('nearest' or 'bilinear')."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor is not None else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return f"{info}, mode={self.mode!r}"

class BatchNorm1d(Module):
    """Normalise each feature over the batch: (x - mean) / sqrt(var + eps) * weight + bias.

    Input (N, C) or (N, C, L). Training uses the batch's biased variance and updates the running
    estimates with the unbiased one (``momentum`` weights the new value, as PyTorch); eval mode
    uses the running estimates."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 bias: bool = True) -> None:
        super().__init__()
        self.num_features = _check_positive_int("BatchNorm1d", "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = bool(bias)
        if affine:
            self.weight = Parameter(np.ones(num_features, _default_float()))
            if bias:
                self.bias = Parameter(np.zeros(num_features, _default_float()))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, _default_float())))
            self.register_buffer("running_var", Tensor(np.ones(num_features, _default_float())))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _layout(self, x: Tensor) -> tuple:
        """(the dims statistics run over, the shape of a per-channel tensor) for input x."""
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise OpError(f"BatchNorm1d({self.num_features}): expected input (N, "
                          f"{self.num_features}) or (N, {self.num_features}, L), got shape "
                          f"{tuple(x.shape)}")
        dims = (0,) if x.ndim == 2 else (0, 2)
        return dims, (1, self.num_features) + (1,) * (x.ndim - 2)

    def forward(self, x: Tensor) -> Tensor:
        dims, shape = self._layout(x)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            count = x.numel() // self.num_features
            if count <= 1:
                raise ValueError(f"{type(self).__name__}: expected more than 1 value per "
                                 f"channel when training, got input shape {tuple(x.shape)}")
            mean = x.mean(dim=dims, keepdim=True)
            var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
            if self.training and self.track_running_stats:
                self._update_running(mean, var, count)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        out = (x - mean) / (var + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    def _update_running(self, mean: Tensor, var: Tensor, count: int) -> None:
        numpy_call(self._move_running, mean.detach()._array, var.detach()._array, count)

    def _move_running(self, batch_mean: np.ndarray, batch_var: np.ndarray, count: int) -> None:
        """The running statistics moved toward the batch's, in place, as torch (the variance
        unbiased; momentum None: a cumulative average). Reads the buffers where they live, so
        a captured step's replay updates the module's current ones."""
        self.num_batches_tracked._array[...] += 1
        m = self.momentum
        if m is None:  # cumulative moving average
            m = 1.0 / float(self.num_batches_tracked._array)
        rm, rv = self.running_mean._array, self.running_var._array
        batch_var = batch_var.reshape(-1) * (count / (count - 1))
        rm *= 1 - m
        rm += m * batch_mean.reshape(-1)
        rv *= 1 - m
        rv += m * batch_var

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")



class BatchNorm2d(BatchNorm1d):
    """BatchNorm1d's normalisation per channel of (N, C, H, W), statistics over N, H and W."""

    def _layout(self, x: Tensor) -> tuple:
        if x.ndim != 4:
            raise ValueError(f"expected 4D input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise OpError(f"BatchNorm2d({self.num_features}): expected input (N, "
                          f"{self.num_features}, H, W), got shape {tuple(x.shape)}")
        return (0, 2, 3), (1, self.num_features, 1, 1)


class GroupNorm(Module):
    """Normalise each sample over groups of C / num_groups channels (F.group_norm), then a
    per-channel weight and bias (ones and zeros at first)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or _default_float())
        self.weight = Parameter(np.ones(num_channels, np_dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, np_dtype)) if affine and bias else None
        if not affine:
            self.register_parameter("weight", None)
        if self.bias is None:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")

class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims of each sample (biased variance),
    then scale by ``weight`` and shift by ``bias``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.use_bias = bool(bias)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, _default_float()))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, _default_float()))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.use_bias}")


#: activation modules that Sequential fuses into the Linear before them (F.linear's epilogue)
_FUSED_ACTIVATIONS: dict[type, str] = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


class Sequential(Module):
    """Modules run one after another; ``Sequential(a, b)`` or ``Sequential(OrderedDict(...))``.

    Children are named "0", "1", ... (so state_dict keys read "0.weight"); indexing and slicing
    work as in PyTorch."""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(str(name), module)
        else:
            for i, module in enumerate(args):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, "
                                    "not a Module")
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        """Each module in turn, except that a ``Linear`` followed by ``ReLU``, ``Sigmoid`` or
        ``Tanh`` runs as one fused ``F.linear(..., activation=...)``: the same result, one graph
        node and one kernel call instead of two each way (the intermediate is never visible
        outside a Sequential). Only these exact classes fuse, so a subclass that overrides
        ``forward`` always runs its own code, and a pair with a forward hook on either module
        runs one by one, so the hooks see what they would see without the fusion."""
        modules = list(self._modules.values())
        i, count = 0, len(modules)
        while i < count:
            module = modules[i]
            if type(module) is Linear and i + 1 < count:
                activation = _FUSED_ACTIVATIONS.get(type(modules[i + 1]))
                if activation is not None and not (has_forward_hooks(module)
                                                   or has_forward_hooks(modules[i + 1])):
                    x = F.linear(x, module.weight, module.bias, activation=activation)
                    i += 2
                    continue
            x = module(x)
            i += 1
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._name_at(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        """``model[i] = layer`` replaces the i-th module under its name, as in PyTorch."""
        name = self._name_at(index)
        setattr(self, name, module)

    def __delitem__(self, index: int | slice) -> None:
        """``del model[i]`` (or a slice) removes modules; the rest are renumbered 0, 1, ..."""
        names = list(self._modules)
        for name in (names[index] if isinstance(index, slice) else [self._name_at(index)]):
            del self._modules[name]
        kept = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(kept):
            self._modules[str(i)] = module

    def _name_at(self, index: int) -> str:
        """The name of the module at position ``index`` (negative counts from the end)."""
        names = list(self._modules)
        if isinstance(index, bool):
            raise TypeError("Sequential indices must be integers, got bool")
        index = operator.index(index)  # TypeError for anything but an integer
        if not -len(names) <= index < len(names):
            raise IndexError(f"Sequential: index {index} out of range for {len(names)} modules")
        return names[index]

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end (named by its position); returns self."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (named "0", "1", ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for module in modules or ():
            self.append(module)

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` at the end (named by its position) and register its parameters;
        returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]


# ---- padding -----------------------------------------------------------------------------------
class _PadNd(Module):
    """Pads the last ``dims`` dims with ``F.pad``: ``padding`` is an int (every side) or
    torch's tuple, last dim first. Subclasses fix the mode and the number of dims."""
    mode = "constant"
    dims = 1

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = tuple(padding) if isinstance(padding, Sequence) else (padding,) * (
            2 * self.dims)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in (self.dims + 1, self.dims + 2):  # torch checks it here
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got "
                             f"{input.ndim}D input)")
        return super().forward(input)


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: ``padding`` is an int (both sides) or (left, right)."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``: ``padding`` is an int (every side) or (left,
    right, top, bottom)."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``: ``padding`` is an int or six sizes, last dim
    first."""
    dims = 3


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros: ``padding`` is an int (both sides) or (left, right)."""
    dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last two dims with zeros: ``padding`` is an int (every side) or (left, right,
    top, bottom)."""
    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last three dims with zeros: ``padding`` is an int or six sizes, last dim first."""
    dims = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection (the edge not repeated): ``padding`` an int or
    (left, right)."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last two dims with their reflection: ``padding`` an int or (left, right, top,
    bottom)."""
    mode, dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pads the last three dims with their reflection: ``padding`` an int or six sizes, last dim
    first."""
    mode, dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge values: ``padding`` an int or (left, right)."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last two dims by repeating their edge values: ``padding`` an int or (left,
    right, top, bottom)."""
    mode, dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pads the last three dims by repeating their edge values: ``padding`` an int or six sizes,
    last dim first."""
    mode, dims = "replicate", 3


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around (the other end's values): ``padding`` an int or
    (left, right)."""
    dims = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last two dims by wrapping around: ``padding`` an int or (left, right, top,
    bottom)."""
    dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last three dims by wrapping around: ``padding`` an int or six sizes, last dim
    first."""
    dims = 3
