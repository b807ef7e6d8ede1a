"""NAdam (Dozat 2016) and RAdam (Liu et al. 2020), PyTorch's formulas."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .optimizer import Optimizer, check_not_differentiable


class _AdamFamily(Optimizer):
    """Shared arguments of NAdam and RAdam: betas, eps, weight decay (L2 on the gradient, or
    ``p *= 1 - lr * weight_decay`` when ``decoupled_weight_decay``), maximize."""

    def _gradient(self, p: np.ndarray, g: np.ndarray, group: dict) -> np.ndarray:
        """The gradient the moments see; decays ``p`` in place when decoupled."""
        if group["maximize"]:
            g = -g
        wd = group["weight_decay"]
        if wd and group["decoupled_weight_decay"]:
            p *= 1 - group["lr"] * wd
        elif wd:
            g = g + wd * p
        return g

    @staticmethod
    def _moments(state: dict, g: np.ndarray, b1: float, b2: float) -> tuple:
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)          # torch's lerp_(g, 1 - beta1)
        v *= b2
        v += (1 - b2) * (g * g)
        return m, v


class NAdam(_AdamFamily):
    """PyTorch's NAdam, at step t (``psi = momentum_decay``)::

        mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi));   prod_t = mu_1 * ... * mu_t
        m, v as in Adam
        p -= lr * (1 - mu_t) / (1 - prod_t) * g / den
        p -= lr * mu_{t+1} / (1 - prod_t * mu_{t+1}) * m / den,   den = sqrt(v / (1 - beta2^t)) + eps
    """

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_not_differentiable("NAdam", differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        if group["momentum_decay"] < 0:
            raise ValueError(f"NAdam: invalid momentum_decay {group['momentum_decay']!r}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t, (b1, b2), lr, psi = state["step"], group["betas"], group["lr"], group["momentum_decay"]
        g = self._gradient(p, g, group)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        prod = state["mu_product"]
        m, v = self._moments(state, g, b1, b2)
        den = np.sqrt(v / (1 - b2 ** t))
        den += group["eps"]
        p -= lr * (1.0 - mu) / (1.0 - prod) * (g / den)
        p -= lr * mu_next / (1.0 - prod * mu_next) * (m / den)


class RAdam(_AdamFamily):
    """PyTorch's RAdam, at step t (``rho_inf = 2 / (1 - beta2) - 1``)::

        m, v as in Adam;  m_hat = m / (1 - beta1^t)
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        p -= lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps)    if rho_t > 5
        p -= lr * m_hat                                                 otherwise
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_not_differentiable("RAdam", differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t, (b1, b2), lr = state["step"], group["betas"], group["lr"]
        g = self._gradient(p, g, group)
        m, v = self._moments(state, g, b1, b2)
        m_hat = m / (1 - b1 ** t)
        bc2 = 1 - b2 ** t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2 ** t) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            den = np.sqrt(v)
            den += group["eps"]
            p -= m_hat * lr * (bc2 ** 0.5 / den) * rect
        else:
            p -= m_hat * lr
