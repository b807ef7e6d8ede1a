"""The loss modules take PyTorch's constructor arguments (class weights, ignore_index,
pos_weight, beta, delta, label_smoothing, reduction) and give torch's values and gradients
(float64, random cotangents for reduction='none'); weights are buffers, as torch registers
them (in the state dict when given)."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn

RNG = np.random.default_rng(3)
N, C = 5, 3
X = RNG.standard_normal((N, C))
LABELS = np.array([0, 2, 1, 2, 0])
PROBS = 1 / (1 + np.exp(-RNG.standard_normal((N, C))))
BITS = (RNG.random((N, C)) > 0.5).astype(np.float64)
REAL = RNG.standard_normal((N, C))
W = np.array([0.5, 2.0, 1.0])

# name -> (module class name, constructor kwargs (arrays become tensors), input, target,
#          input transform applied in both libraries)
SPECS = {
    "mse": ("MSELoss", {}, X, REAL),
    "l1": ("L1Loss", {}, X, REAL),
    "huber_delta": ("HuberLoss", {"delta": 0.5}, X, REAL),
    "smooth_l1_beta": ("SmoothL1Loss", {"beta": 0.3}, X, REAL),
    "smooth_l1_beta0": ("SmoothL1Loss", {"beta": 0.0}, X, REAL),
    "ce_weight_ignore_smooth": ("CrossEntropyLoss", {"weight": W, "ignore_index": 1,
                                                     "label_smoothing": 0.1}, X, LABELS),
    "nll_weight_ignore": ("NLLLoss", {"weight": W, "ignore_index": 2}, X, LABELS),
    "nll": ("NLLLoss", {}, X, LABELS),
    "bce_weight": ("BCELoss", {"weight": W}, PROBS, BITS),
    "bce": ("BCELoss", {}, PROBS, BITS),
    "bce_logits_weight_pos_weight": ("BCEWithLogitsLoss", {"weight": W,
                                                           "pos_weight": W[::-1].copy()},
                                     X, BITS),
    "bce_logits_pos_weight": ("BCEWithLogitsLoss", {"pos_weight": W}, X, BITS),
}


def _build(lib, name, kwargs, reduction):
    args = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    return getattr(lib.nn, name)(reduction=reduction, **args)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_loss_module_matches_torch(spec, reduction, backend):
    torch = pytest.importorskip("torch")
    name, kwargs, x, t = SPECS[spec]
    ours, theirs = _build(mg, name, kwargs, reduction), _build(torch, name, kwargs, reduction)
    target_dtype = np.int64 if t.dtype.kind == "i" else np.float64
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    lm = ours(xm, mg.tensor(t.astype(target_dtype)))
    lt = theirs(xt, torch.tensor(t.astype(target_dtype)))
    np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), rtol=1e-12, atol=1e-14)
    cot = RNG.standard_normal(lt.shape)
    lm.backward(mg.tensor(cot))
    lt.backward(torch.tensor(cot))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_weights_are_buffers_like_torch():
    loss = nn.BCEWithLogitsLoss(weight=mg.tensor(W), pos_weight=mg.tensor(W))
    assert list(loss.state_dict()) == ["weight", "pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == [] and nn.NLLLoss().weight is None
    assert loss.double().weight.dtype == mg.float64


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="beta must be >= 0"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.NLLLoss(reduction="avg")
