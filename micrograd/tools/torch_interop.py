"""Weights between micrograd and PyTorch modules: one call each way.

micrograd's layers use PyTorch's parameter names and layouts (``Linear.weight`` is
``(out_features, in_features)``, ``BatchNorm1d`` keeps ``running_mean``, ``running_var`` and
``num_batches_tracked``, a ``Sequential``'s children are ``"0"``, ``"1"``, ...), so the same
model written with either library has the same ``state_dict`` keys and shapes, and moving
weights is a conversion of each tensor:

- ``to_torch_state_dict(module)``: micrograd -> ``{name: torch.Tensor}`` for
  ``torch_model.load_state_dict``;
- ``load_torch_state_dict(module, sd)``: a torch ``state_dict`` (or a torch module, or the
  file ``torch.save`` wrote, or a ``.safetensors`` file) -> the micrograd module, in place.

Values are cast to the receiving tensor's dtype, as ``load_state_dict`` does in both libraries.
torch is needed only to make torch tensors and to read ``torch.save`` files (with
``weights_only=True``: a pickle that holds code is refused).
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from ..core.tensor import Tensor
from ..nn.module import Module
from .safetensors_io import load_safetensors

__all__ = ["to_torch_state_dict", "load_torch_state_dict"]

_HINT = 'pip install "micrograd-tensor[torch]"'


def _torch(what: str) -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"{what} needs PyTorch, which is not installed: {_HINT}") from exc
    return torch


def to_torch_state_dict(module: Module | Mapping[str, Tensor]) -> "OrderedDict[str, Any]":
    """``module.state_dict()`` (or a state dict) as torch tensors of the same names, shapes and
    dtypes, for ``torch_model.load_state_dict``. The tensors are copies: changing them leaves
    the micrograd module alone."""
    torch = _torch("to_torch_state_dict")
    state = module.state_dict() if isinstance(module, Module) else module
    if not isinstance(state, Mapping):
        raise TypeError(f"to_torch_state_dict: expected a Module or a state dict, got "
                        f"{type(module).__name__}")
    out: OrderedDict[str, Any] = OrderedDict()
    for name, value in state.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"to_torch_state_dict: {name!r} is a {type(value).__name__}, not a "
                            "Tensor")
        out[name] = torch.from_numpy(np.array(value._array, order="C", copy=True))
    return out


def _as_arrays(state: Mapping[str, Any]) -> dict[str, Any]:
    """A torch state dict's values as NumPy arrays; micrograd Tensors and arrays pass as they
    are. bfloat16 (which NumPy lacks) is read as float32 first: exact, and ``load_state_dict``
    then casts to the receiving tensor's dtype as torch's would."""
    out = {}
    for name, value in state.items():
        if type(value).__module__.startswith("torch"):
            value = value.detach().cpu()
            if str(value.dtype) == "torch.bfloat16":
                value = value.float()
            value = value.numpy()
        out[name] = value
    return out


def load_torch_state_dict(module: Module, state_dict: Any, strict: bool = True) -> Any:
    """Copy PyTorch weights into ``module`` in place; returns what ``module.load_state_dict``
    returns (the missing and unexpected keys when not ``strict``).

    ``state_dict`` is a torch ``state_dict`` (a dict of torch tensors), a torch ``nn.Module``
    (its ``state_dict()`` is taken), or a path: a ``.safetensors`` file (read without torch) or
    a file written by ``torch.save``, read with ``torch.load(weights_only=True)``."""
    if not isinstance(module, Module):
        raise TypeError(f"load_torch_state_dict: expected a micrograd Module, got "
                        f"{type(module).__name__}")
    if isinstance(state_dict, (str, os.PathLike)):
        path = os.fspath(state_dict)
        if path.endswith(".safetensors"):
            state_dict = load_safetensors(path)
        else:
            torch = _torch(f"load_torch_state_dict({path!r})")
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
    elif hasattr(state_dict, "state_dict") and not isinstance(state_dict, Mapping):
        state_dict = state_dict.state_dict()  # a torch module
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_torch_state_dict: expected a state dict, a torch module or a "
                        f"file path, got {type(state_dict).__name__}")
    return module.load_state_dict(_as_arrays(state_dict), strict=strict)
