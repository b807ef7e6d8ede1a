"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..core.settings import settings
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's SGD::

        g = grad + weight_decay * p
        buf = g                                  (first step)
        buf = momentum * buf + (1 - dampening) * g
        g = g + momentum * buf  if nesterov  else  buf
        p -= lr * g
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 maximize: bool = False, *, foreach: bool | None = None,
                 fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum {group['momentum']!r}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires a momentum and zero dampening")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        # one fused pass over p, g and the momentum buffer (C kernel; NumPy reference)
        momentum = group["momentum"]
        buf, first = None, False
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:  # the first step fills it
                buf = state["momentum_buffer"] = np.empty_like(p)
                first = True
        settings.backend.sgd_step(p, g, buf, group["lr"], momentum, group["dampening"],
                                 group["weight_decay"], group["nesterov"], group["maximize"],
                                 first)
