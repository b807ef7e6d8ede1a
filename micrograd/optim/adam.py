"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's formulas."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..core.settings import settings
from .optimizer import Optimizer


class Adam(Optimizer):
    """PyTorch's Adam, at step t::

        g = grad + weight_decay * p                  (L2 penalty; AdamW decays p instead)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2            (amsgrad: v_max = max(v_max, v))
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False, *,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        b1, b2 = group["betas"]
        # one fused pass over p, g, m, v (C kernel; NumPy reference in numpy_backend.adam_step)
        settings.backend.adam_step(p, g, state["exp_avg"], state["exp_avg_sq"],
                                  state.get("max_exp_avg_sq"), state["step"], group["lr"], b1, b2,
                                  group["eps"], group["weight_decay"], self.decoupled,
                                  group["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step
    (default weight_decay 1e-2, as in PyTorch)."""

    decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False, *,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
