"""mg.optim's Adagrad, Adadelta, NAdam, RAdam and LBFGS: each follows torch's parameter
trajectory over 20 steps of the same small regression model (float64), option by option;
their formulas on one step; arguments, param groups and state dicts."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn, optim

RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(16, 3)), RNG.normal(size=(16, 2))
START = [RNG.normal(size=(3, 4)) * 0.5, RNG.normal(size=4) * 0.1,
         RNG.normal(size=(4, 2)) * 0.5, RNG.normal(size=2) * 0.1]


def _loss(params, x, y):
    """The same expression under micrograd and torch: a one-hidden-layer tanh net, MSE."""
    w1, b1, w2, b2 = params
    return (((x @ w1 + b1).tanh() @ w2 + b2 - y) ** 2).mean()


def _torch_setup(torch):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in START]
    return params, torch.from_numpy(X), torch.from_numpy(Y)


def _ours_setup():
    return [nn.Parameter(a.copy()) for a in START], mg.tensor(X), mg.tensor(Y)


def _trajectories(torch, name, kwargs, steps=20, groups=False):
    """Parameters after each step, (ours, torch'), for optimizer ``name``."""
    runs = []
    for lib, (params, x, y) in ((optim, _ours_setup()), (torch.optim, _torch_setup(torch))):
        arg = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}] \
            if groups else params
        opt = getattr(lib, name)(arg, **kwargs)
        path = []
        for _ in range(steps):
            opt.zero_grad()
            _loss(params, x, y).backward()
            opt.step()
            path.append([p.detach().numpy().copy() for p in params])
        runs.append(path)
    return runs


CASES = [
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3,
                     eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),  # rho_t > 5 from step 6 on: both branches are run
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch", reason="torch not installed (the oracle)")
    torch.set_default_dtype(torch.float64)  # torch keeps NAdam's mu_product in this dtype
    try:
        ours, theirs = _trajectories(torch, name, kwargs)
    finally:
        torch.set_default_dtype(torch.float32)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
    assert not np.allclose(ours[-1][0], START[0])  # the parameters did move


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "NAdam", "RAdam"])
def test_param_groups_match_torch(name):
    torch = pytest.importorskip("torch", reason="torch not installed (the oracle)")
    torch.set_default_dtype(torch.float64)
    try:
        ours, theirs = _trajectories(torch, name, dict(lr=0.05), steps=5, groups=True)
    finally:
        torch.set_default_dtype(torch.float32)
    for p, q in zip(ours[-1], theirs[-1]):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


LBFGS_CASES = [
    dict(lr=1),
    dict(lr=0.5, history_size=3, max_iter=7),
    dict(lr=1, tolerance_grad=1e-3, tolerance_change=1e-4),
    dict(lr=1, line_search_fn="strong_wolfe"),
    dict(lr=1, line_search_fn="strong_wolfe", history_size=2, max_iter=5, max_eval=9),
]


@pytest.mark.parametrize("kwargs", LBFGS_CASES)
def test_lbfgs_matches_torch(kwargs):
    torch = pytest.importorskip("torch", reason="torch not installed (the oracle)")
    results = []
    for lib, (params, x, y) in ((optim, _ours_setup()), (torch.optim, _torch_setup(torch))):
        opt = lib.LBFGS(params, **kwargs)
        calls = [0]

        def closure():
            calls[0] += 1
            opt.zero_grad()
            loss = _loss(params, x, y)
            loss.backward()
            return loss
        losses = [float(opt.step(closure).detach()) for _ in range(4)]
        state = opt.state[params[0]]
        results.append(([p.detach().numpy().copy() for p in params], losses, calls[0],
                        state["n_iter"], state["func_evals"]))
    (ours, l1, c1, n1, e1), (theirs, l2, c2, n2, e2) = results
    assert (c1, n1, e1) == (c2, n2, e2)
    np.testing.assert_allclose(l1, l2, rtol=1e-9)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p, q, rtol=1e-7, atol=1e-10)
    assert l1[-1] < l1[0]


def test_lbfgs_minimises_a_quadratic_and_needs_a_closure():
    a = np.diag([1.0, 10.0, 100.0])
    p = nn.Parameter(np.ones(3))
    opt = optim.LBFGS([p], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = (p @ mg.tensor(a) @ p) / 2
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_allclose(p.detach().numpy(), 0.0, atol=1e-6)
    with pytest.raises(RuntimeError, match="closure"):
        opt.step(None)


def test_lbfgs_arguments():
    p = nn.Parameter(np.ones(3))
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [p]}, {"params": [nn.Parameter(np.ones(2))]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="history_size"):
        optim.LBFGS([p], history_size=0)
    assert optim.LBFGS([p], max_iter=8).param_groups[0]["max_eval"] == 10  # torch: 5/4


def _param(values, grad):
    p = nn.Parameter(np.array(values, dtype=np.float64))
    p.grad = mg.tensor(np.array(grad, dtype=np.float64))
    return p


P0, G0 = np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.3, -0.2])


def test_one_step_formulas():
    """The first step of each, written out (the docstrings' math)."""
    p = _param(P0, G0)
    optim.Adagrad([p], lr=0.1, initial_accumulator_value=1.0).step()
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * G0 / (np.sqrt(1 + G0 ** 2) + 1e-10))
    p = _param(P0, G0)
    optim.Adadelta([p], rho=0.9, eps=1e-6).step()
    v = 0.1 * G0 ** 2
    np.testing.assert_allclose(p.detach().numpy(), P0 - np.sqrt(1e-6) / np.sqrt(v + 1e-6) * G0)
    p = _param(P0, G0)
    optim.RAdam([p], lr=0.1).step()  # rho_1 = 1 <= 5: a plain bias-corrected momentum step
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * G0)
    p = _param(P0, G0)
    optim.NAdam([p], lr=0.1).step()
    mu1, mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    den = np.abs(G0) + 1e-8
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * (1 - mu1) / (1 - mu1) * G0 / den
                               - 0.1 * mu2 / (1 - mu1 * mu2) * 0.1 * G0 / den)


@pytest.mark.parametrize("cls, kwargs, match", [
    (optim.Adagrad, dict(lr_decay=-1), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), "initial_accumulator_value"),
    (optim.Adagrad, dict(eps=-1), "eps"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adadelta, dict(lr=-1), "learning rate"),
    (optim.NAdam, dict(betas=(1.0, 0.9)), "betas"),
    (optim.NAdam, dict(momentum_decay=-1), "momentum_decay"),
    (optim.RAdam, dict(betas=(0.9, -0.1)), "betas"),
    (optim.RAdam, dict(weight_decay=-1), "weight_decay"),
])
def test_invalid_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([_param(P0, G0)], **kwargs)
    with pytest.raises(TypeError, match="finite number"):
        cls([_param(P0, G0)], lr=float("nan"))


@pytest.mark.parametrize("cls", [optim.Adagrad, optim.Adadelta, optim.NAdam, optim.RAdam])
def test_state_dict_resumes_the_same_trajectory(cls):
    def run(opt, p, steps):
        for k in range(steps):
            p.grad = mg.tensor(np.sin(np.arange(3.0) + k))
            opt.step()
    p = _param(P0, G0)
    opt = cls([p], lr=0.1)
    run(opt, p, 3)
    saved, at = opt.state_dict(), p.detach().numpy().copy()
    run(opt, p, 3)
    q = nn.Parameter(at)
    opt2 = cls([q], lr=0.7)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.1
    run(opt2, q, 3)
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_lbfgs_state_dict_round_trip():
    p = nn.Parameter(np.ones(3))
    opt = optim.LBFGS([p], max_iter=3)

    def closure():
        opt.zero_grad()
        loss = ((p - mg.tensor([1.0, 2.0, 3.0])) ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    q = nn.Parameter(p.detach().numpy().copy())
    opt2 = optim.LBFGS([q], max_iter=3)
    opt2.load_state_dict(opt.state_dict())

    def closure2():
        opt2.zero_grad()
        loss = ((q - mg.tensor([1.0, 2.0, 3.0])) ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    opt2.step(closure2)
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize("cls", [optim.Adagrad, optim.Adadelta, optim.NAdam, optim.RAdam])
def test_torch_only_keywords(cls):
    p = _param(P0, G0)
    cls([p], lr=0.1, foreach=True).step()  # accepted: every update is whole-array already
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        cls([p], differentiable=True)


def test_lbfgs_step_counts_as_an_inplace_change():
    """A graph that saved a parameter before LBFGS moved it must not backward through it (the
    gradient would use the new values): the version check raises, as in torch."""
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    old = (w * w).sum()                       # Mul saves w
    opt = mg.optim.LBFGS([w], max_iter=2)

    def closure():
        opt.zero_grad()
        loss = ((w - 3.0) ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        old.backward()
