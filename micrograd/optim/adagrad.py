"""Adagrad (Duchi et al. 2011) and Adadelta (Zeiler 2012), PyTorch's formulas."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .optimizer import Optimizer, check_not_differentiable


class Adagrad(Optimizer):
    """PyTorch's Adagrad, at step t::

        g = grad + weight_decay * p
        s += g^2                                   (s starts at initial_accumulator_value)
        p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_not_differentiable("Adagrad", differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for key in ("lr_decay", "initial_accumulator_value", "eps"):
            if group[key] < 0:
                raise ValueError(f"Adagrad: invalid {key} {group[key]!r}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        std = np.sqrt(s)
        std += group["eps"]
        p -= clr * (g / std)


class Adadelta(Optimizer):
    """PyTorch's Adadelta::

        g = grad + weight_decay * p
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p -= lr * delta
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_not_differentiable("Adadelta", differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {group['rho']!r}; it must be in [0, 1]")
        if group["eps"] < 0:
            raise ValueError(f"Adadelta: invalid eps {group['eps']!r}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            state["acc_delta"] = np.zeros_like(p)
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        rho, eps = group["rho"], group["eps"]
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * (g * g)
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p -= group["lr"] * delta
