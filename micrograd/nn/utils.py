"""Gradient utilities (``mg.nn.utils``): clipping and flattening, in place, vectorised;
``mg.nn.utils.rnn`` is nn/utils_rnn.py (``pad_sequence``), at torch's path."""
from __future__ import annotations

import math
import sys
from typing import Iterable

import numpy as np

from ..core.errors import OpError
from ..core.tensor import Tensor, numpy_call, wrap_array
from . import utils_rnn as rnn

sys.modules[__name__ + ".rnn"] = rnn  # `from micrograd.nn.utils.rnn import pad_sequence` works


def _params(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d Tensor), as PyTorch does. Gradients are
    multiplied in place by min(1, max_norm / (norm + 1e-6))."""
    grads = [p.grad._array for p in _params(parameters) if p.grad is not None]
    if not grads:
        return Tensor(np.array(0.0, np.float32))
    return wrap_array(numpy_call(_clip_by_norm, float(max_norm), float(norm_type),
                                 bool(error_if_nonfinite), *grads))


def _clip_by_norm(max_norm: float, norm_type: float, error_if_nonfinite: bool,
                  *grads: np.ndarray) -> np.ndarray:
    """clip_grad_norm_'s work on the gradient arrays, in place; their total norm (0-d)."""
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g, dtype=np.float64) ** norm_type)) for g in grads) \
            ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is non-finite ({total}); set error_if_nonfinite=False "
                           "to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= g.dtype.type(coef)
    return np.array(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    grads = [p.grad._array for p in _params(parameters) if p.grad is not None]
    if grads:
        numpy_call(_clip_values, float(clip_value), *grads)


def _clip_values(clip_value: float, *grads: np.ndarray) -> None:
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one (detached) vector."""
    return Tensor(np.concatenate([p._array.reshape(-1) for p in parameters]))


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of ``vec`` back into ``parameters``, in place."""
    flat = vec._array if isinstance(vec, Tensor) else np.asarray(vec)
    params = list(parameters)
    total = sum(int(np.prod(p.shape)) for p in params)
    if flat.ndim != 1 or flat.shape[0] != total:
        raise OpError(f"vector_to_parameters: expected a vector of {total} values, got shape "
                         f"{tuple(flat.shape)}")
    offset = 0
    for p in params:
        n = int(np.prod(p.shape))
        p._array[...] = flat[offset:offset + n].reshape(p.shape)
        offset += n
