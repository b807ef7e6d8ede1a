"""Activation layers: PyTorch's ``torch.nn`` activation modules, names, arguments and printed form.

Each ``forward`` is one call into ``nn.functional``, where the math lives; a module only holds
its arguments (and, for ``PReLU``, its learnable slope). ``inplace=True`` is accepted where
PyTorch has it and means what ``F.<name>(..., inplace=True)`` means.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core import dtypes
from ..core.tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "SELU", "CELU", "Hardtanh",
           "Hardsigmoid", "Hardswish", "GELU", "Softplus", "SiLU", "Mish", "Softsign",
           "LogSigmoid", "GLU", "PReLU", "Threshold", "Softmax", "LogSoftmax", "Softmin"]


def _inplace_repr(inplace: bool, sep: str = ", ") -> str:
    """PyTorch prints ``inplace=True`` only when it is set."""
    return f"{sep}inplace=True" if inplace else ""


class _InplaceOnly(Module):
    """Base of the activations whose one argument is ``inplace``."""

    #: False for Hardsigmoid and Hardswish, which PyTorch prints without arguments
    show_inplace = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace and self.show_inplace, sep="")


class ReLU(_InplaceOnly):
    """max(x, 0) elementwise (``F.relu``); ``inplace=True`` writes into the input."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, inplace=self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace)}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """The hyperbolic tangent elementwise, (e^x - e^-x) / (e^x + e^-x) (``F.tanh``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class ELU(Module):
    """x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class SELU(_InplaceOnly):
    """scale * elu(x, alpha) with the self-normalising constants (F.SELU_ALPHA, F.SELU_SCALE)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x, self.inplace)


class CELU(Module):
    """x if x > 0 else alpha (e^(x/alpha) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (``min_value``/``max_value``: PyTorch's deprecated
    spellings, with its FutureWarning)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than "
                             f"min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh on [0, 6], as in PyTorch."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, sep="")


class Hardsigmoid(_InplaceOnly):
    """relu6(x + 3) / 6."""

    show_inplace = False

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x, self.inplace)


class Hardswish(_InplaceOnly):
    """x * relu6(x + 3) / 6."""

    show_inplace = False

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x, self.inplace)


class Mish(_InplaceOnly):
    """x * tanh(softplus(x))."""

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x, self.inplace)


class SiLU(_InplaceOnly):
    """x * sigmoid(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x, self.inplace)


class GELU(Module):
    """x * Phi(x) (the exact, erf form; approximate='tanh' uses the tanh formula)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, and x where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed without overflow."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class GLU(Module):
    """a * sigmoid(b) for the two halves a, b of the input along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x if x > 0 else a * x with a learnable slope ``weight`` of shape (num_parameters,): one
    shared slope (1) or one per channel (dim 1 of the input), all starting at ``init``. The
    weight follows ``dtype``, else ``mg.set_default_dtype``; ``device`` may only be the CPU."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"PReLU: device {device!r}: micrograd runs on the CPU only")
        self.num_parameters, self.init = int(num_parameters), init
        np_dtype = dtypes.as_dtype(dtype if dtype is not None else dtypes.get_default_dtype()).np
        self.weight = Parameter(np.empty((self.num_parameters,), np_dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set every slope back to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """``value`` where x <= threshold, else x."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace)}"


class _AlongDim(Module):
    """Base of Softmax, LogSoftmax and Softmin: ``dim`` None is PyTorch's implicit, deprecated
    choice, with its warning (``_stacklevel`` makes it name the line that called the module)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """exp(x) / sum(exp(x)) along ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim, _stacklevel=5)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along ``dim``, computed stably."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim, _stacklevel=5)


class Softmin(_AlongDim):
    """softmax(-x) along ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmin(x, self.dim, _stacklevel=5)
