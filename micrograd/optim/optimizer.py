"""``Optimizer``: param groups, per-parameter state, zero_grad, state_dict (PyTorch's layout).

Subclasses implement ``_update(p, g, state, group)`` on raw arrays: ``p`` is the parameter's
storage (updated in place), ``g`` its gradient. Every update runs over whole arrays, never a
Python loop over elements: SGD and Adam through the backend's fused ``sgd_step``/``adam_step``
kernels (one pass over memory in C), the others as a few in-place NumPy operations. An update
depends only on its arguments (and the optimizer's options), so ``micrograd.compile`` can
replay a step's updates by calling ``_update`` again.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..core.tensor import Tensor, _bump


#: set by micrograd.compile while it records a step: ``hook(optimizer, p, state, group)``
#: runs ``optimizer._update`` of parameter ``p`` in ``step`` and notes it
_update_hook: Callable | None = None


def check_not_differentiable(name: str, differentiable: bool) -> None:
    """PyTorch's ``differentiable=True`` records the update in the graph; here updates run on
    raw arrays, so it is refused rather than ignored."""
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True (gradients through the "
                                  "optimizer step) is not supported; updates run outside the "
                                  "graph")


def _is_finite_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) \
        and math.isfinite(value)


def _index(key: Any) -> int:
    """A parameter's number in a state dict (an int; a str of one after a JSON round trip)."""
    try:
        return int(key)
    except (TypeError, ValueError):
        raise ValueError(f"load_state_dict: {key!r} is not a parameter index") from None


class Optimizer:
    """Base class. ``params`` is an iterable of Tensors or of dicts (param groups) with a
    ``"params"`` list and per-group overrides of the defaults (``{"params": ..., "lr": 0.1}``).

    The subclasses accept PyTorch's ``foreach``/``fused`` keywords so PyTorch code runs
    unchanged; they change nothing here (every update is already whole-array operations)."""

    state_shaped_like_params = True  # each state array has its param's shape (not LBFGS)
    counters: tuple[str, ...] = ("step",)  # state entries that count steps: non-negative ints

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            "dicts, got a single Tensor (wrap it in a list)")
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}  # keyed by the param itself, as PyTorch
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a param group (a dict with a ``"params"`` list and optional per-group options,
        the others taken from the defaults); a parameter may belong to one group only."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a param group is a dict with a 'params' key")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, but param "
                                f"{i} is a {type(p).__name__}")
            if not p.dtype.is_floating_point:
                raise TypeError(f"{type(self).__name__}: param {i} has dtype {p.dtype}; only "
                                "floating-point tensors can be optimized")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one "
                             "parameter group")
        full = {**self.defaults, **group, "params": params}
        self._check_group(full)
        self.param_groups.append(full)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate hyper-parameters: the one check of the constructor (through
        ``add_param_group``) and of ``load_state_dict``. Subclasses extend it."""
        for key in ("lr", "momentum", "dampening", "weight_decay", "eps", "alpha", "rho",
                    "lr_decay", "initial_accumulator_value", "momentum_decay",
                    "tolerance_grad", "tolerance_change"):
            value = group.get(key, 0.0)
            if not _is_finite_number(value):
                raise TypeError(f"{type(self).__name__}: {key} must be a finite number, "
                                f"got {value!r}")
        if group.get("lr", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']!r}")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay "
                             f"{group['weight_decay']!r}")
        if group.get("eps", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {group['eps']!r}")
        if "betas" in group:
            betas = group["betas"]
            if not (hasattr(betas, "__len__") and len(betas) == 2
                    and all(_is_finite_number(b) for b in betas)):
                raise TypeError(f"{type(self).__name__}: betas must be a pair of finite "
                                f"numbers, got {betas!r}")
            b1, b2 = betas
            if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
                raise ValueError(f"{type(self).__name__}: invalid betas {group['betas']!r}; "
                                 "each must be in [0, 1)")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: to None (the default, as in PyTorch 2) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p._grad = None  # the grad setter's checks are for other values
                elif p._grad is not None:
                    p._grad._array[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss."""
        loss = closure() if closure is not None else None
        states, update, hook = self.state, self._update, _update_hook
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                if hook is None:
                    update(p._array, grad._array, state, group)
                else:  # micrograd.compile is recording: it runs the update and notes it
                    hook(self, p, state, group)
                _bump(p)  # an in-place change: a graph that saved p must not backward again
        return loss

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    # state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``: params
        are numbered in group order, as in PyTorch; arrays in the state are copies."""
        index: dict[Tensor, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(p, len(index))
                ids.append(index[p])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[p]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                              for k, v in s.items()}
                 for p, s in self.state.items() if p in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by ``state_dict`` (e.g. via mg.load).

        Everything is checked before anything changes: the hyper-parameters by ``_check_group``,
        the constructor's own validation (a saved ``lr=-1`` is refused with the constructor's
        error), the state by ``_restore_state``. A refused state dict leaves the optimizer as
        it was."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if not isinstance(groups, (list, tuple)) or not isinstance(state_dict.get("state"), dict):
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups'")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the saved state has {len(groups)} param groups, "
                             f"this optimizer {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        merged_groups = []
        for saved, group in zip(groups, self.param_groups):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError("load_state_dict: a saved param group is a dict with a 'params' "
                                 "list")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"load_state_dict: a saved param group has "
                                 f"{len(saved['params'])} params, this one "
                                 f"{len(group['params'])}")
            by_index.update(zip((_index(i) for i in saved["params"]), group["params"]))
            merged = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            self._check_group(merged)
            merged_groups.append(merged)
        state = {}
        for key, saved_state in state_dict["state"].items():
            p = by_index.get(_index(key))
            if p is None:
                raise ValueError(f"load_state_dict: state for unknown param index {key!r}")
            if not isinstance(saved_state, dict):
                raise ValueError(f"load_state_dict: the state of param {key} is a "
                                 f"{type(saved_state).__name__}, not a dict")
            state[p] = {k: self._restore_state(k, v, p, key) for k, v in saved_state.items()}
        self.state = state
        for group, merged in zip(self.param_groups, merged_groups):
            group.update(merged)  # in place: schedulers hold these dicts

    def _restore_state(self, name: str, value: Any, p: Tensor, index: Any) -> Any:
        """One saved state entry of param ``p``, checked and as ``step`` would have made it:
        counters non-negative ints, arrays (Tensors are unwrapped) private copies of ``p``'s
        shape and dtype."""
        where = f"load_state_dict: state {name!r} of param {index}"
        array = value._array if isinstance(value, Tensor) else value
        if name in self.counters:
            number = array.item() if isinstance(array, np.ndarray) and array.size == 1 else array
            if not _is_finite_number(number) or number != int(number):
                raise TypeError(f"{where} must be a whole number, got {value!r}")
            if number < 0:
                raise ValueError(f"{where} must be >= 0, got {value!r}")
            return int(number)
        if not isinstance(array, np.ndarray):
            return array
        if array.ndim and array.shape != p.shape and self.state_shaped_like_params:
            raise ValueError(f"{where} has shape {array.shape}, the param {tuple(p.shape)}")
        return np.array(array, dtype=p._array.dtype if array.ndim else array.dtype)  # a copy

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
