"""RMSprop (Hinton's lecture 6e; Graves 2013 for the centered form), PyTorch's formulas."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """PyTorch's RMSprop::

        g = grad + weight_decay * p
        s = alpha * s + (1 - alpha) * g^2
        avg = sqrt(s - a^2) + eps  with  a = alpha * a + (1 - alpha) * g   (centered)
        avg = sqrt(s) + eps                                                 (otherwise)
        buf = momentum * buf + g / avg;  p -= lr * buf     (momentum > 0)
        p -= lr * g / avg                                  (otherwise)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False, *, foreach: bool | None = None,
                 fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"RMSprop: invalid alpha {group['alpha']!r}")
        if group["momentum"] < 0:
            raise ValueError(f"RMSprop: invalid momentum {group['momentum']!r}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        state["step"] += 1
        alpha = group["alpha"]
        s = state["square_avg"]
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * g
            avg = s - a * a
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(s)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (g / avg)
