"""mg.optim: one step of each optimizer against its formula, several against PyTorch; groups,
state dicts, schedulers, gradient clipping."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn, optim
from micrograd.optim import lr_scheduler


def _param(values, grad) -> mg.Tensor:
    p = nn.Parameter(np.array(values, dtype=np.float64))
    p.grad = mg.Tensor(np.array(grad, dtype=np.float64))
    return p


P0, G0 = [1.0, -2.0, 0.5], [0.1, 0.3, -0.2]


def test_sgd_plain_step():
    p = _param(P0, G0)
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p._array, np.array(P0) - 0.1 * np.array(G0))


def test_sgd_momentum_nesterov_weight_decay_two_steps():
    lr, mu, wd = 0.1, 0.9, 0.01
    for nesterov in (False, True):
        p = _param(P0, G0)
        opt = optim.SGD([p], lr=lr, momentum=mu, weight_decay=wd, nesterov=nesterov)
        x, g, buf = np.array(P0), np.array(G0), None
        for _ in range(2):
            opt.step()
            d = g + wd * x
            buf = d.copy() if buf is None else mu * buf + d
            x = x - lr * (d + mu * buf if nesterov else buf)
            np.testing.assert_allclose(p._array, x, rtol=1e-12)


def test_adam_step_formula():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p = _param(P0, G0)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    x, g = np.array(P0), np.array(G0)
    m, v = np.zeros(3), np.zeros(3)
    for t in (1, 2, 3):
        opt.step()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr / (1 - b1 ** t) * m / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
        np.testing.assert_allclose(p._array, x, rtol=1e-12)
    assert opt.state[p]["step"] == 3


def test_adam_first_step_is_lr_times_sign():
    p = _param(P0, G0)
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p._array, np.array(P0) - 0.1 * np.sign(G0), rtol=1e-6)


def test_adamw_decouples_weight_decay():
    lr, wd = 0.01, 0.1
    p, q = _param(P0, G0), _param(P0, G0)
    optim.AdamW([p], lr=lr, weight_decay=wd).step()
    optim.Adam([q], lr=lr).step()
    np.testing.assert_allclose(p._array, q._array - lr * wd * np.array(P0), rtol=1e-12)


def test_rmsprop_step_formula():
    lr, alpha, eps = 0.01, 0.99, 1e-8
    p = _param(P0, G0)
    optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps).step()
    g = np.array(G0)
    s = (1 - alpha) * g * g
    np.testing.assert_allclose(p._array, np.array(P0) - lr * g / (np.sqrt(s) + eps), rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
])
def test_optimizers_match_torch_over_several_steps(name, kwargs):
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    rng = np.random.default_rng(0)
    start = rng.normal(size=(4, 3))
    ours = nn.Parameter(start.copy())
    theirs = torch.tensor(start.copy(), requires_grad=True)
    opt = getattr(optim, name)([ours], **kwargs)
    topt = getattr(torch.optim, name)([theirs], **kwargs)
    for _ in range(5):
        g = rng.normal(size=(4, 3))
        ours.grad = mg.Tensor(g)
        theirs.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        np.testing.assert_allclose(ours._array, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_pytorch_only_keywords_are_accepted():
    p = _param(P0, G0)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop):
        cls([p], lr=0.1, foreach=True, fused=False).step()


def test_update_is_in_place_and_keeps_dtype():
    lin = nn.Linear(3, 2)
    w = lin.weight._array
    lin(mg.ones(1, 3)).sum().backward()
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad, optim.Adadelta,
                optim.NAdam, optim.RAdam):
        cls(lin.parameters(), lr=0.1).step()
        assert lin.weight._array is w and w.dtype == np.float32


def test_params_without_grad_are_skipped_and_zero_grad():
    p, q = _param(P0, G0), nn.Parameter(np.array(P0))
    opt = optim.Adam([p, q], lr=0.1)
    opt.step()
    assert np.array_equal(q._array, P0) and q not in opt.state
    opt.zero_grad(set_to_none=False)
    assert np.all(p.grad._array == 0)
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_have_their_own_hyperparameters():
    a, b = _param(P0, G0), _param(P0, G0)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    opt.step()
    np.testing.assert_allclose(a._array, np.array(P0) - 0.1 * np.array(G0))
    np.testing.assert_allclose(b._array, np.array(P0) - 1.0 * np.array(G0))
    assert opt.param_groups[1]["momentum"] == 0.0  # defaults fill the rest
    c = _param(P0, G0)
    opt.add_param_group({"params": c, "lr": 0.5})
    assert len(opt.param_groups) == 3
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})


def test_invalid_arguments():
    p = _param(P0, G0)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(TypeError, match="lr must be a finite number"):
        optim.SGD([p], lr="0.1")
    with pytest.raises(TypeError, match="weight_decay"):
        optim.Adam([p], weight_decay=float("nan"))
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(p)
    with pytest.raises(TypeError, match="param 0"):
        optim.Adam([np.zeros(3)])
    with pytest.raises(TypeError, match="floating"):
        optim.SGD([mg.Tensor([1, 2])], lr=0.1)


def test_state_dict_round_trip_through_save_and_load(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam([{"params": model[0].parameters()},
                      {"params": model[2].parameters(), "lr": 0.01}], lr=0.001)
    x = mg.randn(8, 3)
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    mg.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ck.npz")
    ck = mg.load(tmp_path / "ck.npz")
    assert set(ck["optim"]["state"]) == {0, 1, 2, 3}
    assert ck["optim"]["param_groups"][1]["lr"] == 0.01
    assert ck["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)

    mg.manual_seed(5)
    model2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    model2.load_state_dict(ck["model"])
    opt2 = optim.Adam([{"params": model2[0].parameters()},
                       {"params": model2[2].parameters()}], lr=0.5)
    opt2.load_state_dict(ck["optim"])
    assert opt2.param_groups[1]["lr"] == 0.01
    for m, o in ((model, opt), (model2, opt2)):  # one more identical step on both
        o.zero_grad()
        (m(x) ** 2).mean().backward()
        o.step()
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p._array, q._array)
    assert opt2.state[model2[0].weight]["step"] == 4

    with pytest.raises(ValueError, match="param groups"):
        optim.Adam(model2.parameters()).load_state_dict(ck["optim"])


# name: (valid constructor arguments, the hyper-parameter values its constructor refuses)
VALIDATED = {
    "SGD": (dict(lr=0.1, momentum=0.9), dict(momentum=-1, dampening="x")),
    "Adam": (dict(lr=0.1, amsgrad=True), dict(betas=(5, 0.999))),
    "AdamW": (dict(lr=0.1), dict(betas=(0.9, 1.0), weight_decay=float("inf"))),
    "RMSprop": (dict(lr=0.1, momentum=0.5, centered=True), dict(alpha=-0.5, momentum=-1)),
    "Adagrad": (dict(lr=0.1), dict(lr_decay=-1, initial_accumulator_value=-1)),
    "Adadelta": (dict(lr=0.1), dict(rho=1.5)),
    "NAdam": (dict(lr=0.1), dict(betas=(0.9, "x"), momentum_decay=-1)),
    "RAdam": (dict(lr=0.1), dict(betas=0.9, eps=-1)),
    "LBFGS": (dict(lr=0.1, history_size=3), dict(max_iter=0, history_size=2.5,
                                                  line_search_fn="wolfe")),
}
REFUSED_BY_EVERY_OPTIMIZER = dict(lr=-1, weight_decay=-1)
CASES = [(name, key, value) for name, (_, bad) in VALIDATED.items()
         for key, value in {**dict(lr="x"), **REFUSED_BY_EVERY_OPTIMIZER, **bad}.items()
         if not (name == "LBFGS" and key == "weight_decay")]


def _stepped(name: str, p: mg.Tensor) -> optim.Optimizer:
    """The optimizer with the valid arguments, after two steps (so it has state)."""
    opt = getattr(optim, name)([p], **VALIDATED[name][0])
    for _ in range(2):
        opt.zero_grad()
        opt.step(lambda: ((p * p).sum().backward(), (p * p).sum())[1])
    return opt


def _same_state(a: dict, b: dict) -> bool:
    def flat(sd):
        return ([sorted((k, str(v)) for k, v in g.items()) for g in sd["param_groups"]],
                {i: {k: np.asarray(v).tolist() if isinstance(v, np.ndarray) else repr(v)
                     for k, v in st.items()} for i, st in sd["state"].items()})
    return flat(a) == flat(b)


@pytest.mark.parametrize("name, key, value", CASES,
                         ids=[f"{n}-{k}={v!r}" for n, k, v in CASES])
def test_load_state_dict_refuses_what_the_constructor_refuses(backend, name, key, value):
    """One check (``_check_group``) serves both: the saved hyper-parameter is refused with the
    constructor's exception and message, and the optimizer is left as it was (load_state_dict
    took lr=-1, betas=(5, .999), ... and failed at the next step, or trained on them)."""
    p = nn.Parameter(np.array(P0))
    with pytest.raises((TypeError, ValueError)) as from_constructor:
        getattr(optim, name)([nn.Parameter(np.array(P0))], **{**VALIDATED[name][0], key: value})
    opt = _stepped(name, p)
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0][key] = value
    with pytest.raises(type(from_constructor.value),
                       match=f"^{re.escape(str(from_constructor.value))}$"):
        opt.load_state_dict(bad)
    assert _same_state(opt.state_dict(), before)


@pytest.mark.parametrize("step, error, match", [
    ("x", TypeError, "must be a whole number, got 'x'"),
    (1.5, TypeError, "must be a whole number, got 1.5"),
    (float("nan"), TypeError, "must be a whole number, got nan"),
    (None, TypeError, "must be a whole number, got None"),
    (True, TypeError, "must be a whole number, got True"),
    (-1, ValueError, "must be >= 0, got -1"),
])
@pytest.mark.parametrize("name", ["Adam", "RMSprop", "NAdam"])
def test_load_state_dict_refuses_a_bad_step_count(backend, name, step, error, match):
    p = nn.Parameter(np.array(P0))
    opt = _stepped(name, p)
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][0]["step"] = step
    with pytest.raises(error, match=rf"load_state_dict: state 'step' of param 0 {match}"):
        opt.load_state_dict(bad)
    assert _same_state(opt.state_dict(), before)


def test_load_state_dict_accepts_whole_number_steps_and_resumes(backend):
    """A step saved as a float or a 0-d tensor (torch keeps it as a float tensor) is restored
    as an int, and training resumes exactly where it stopped."""
    for saved_step in (2, 2.0, np.float32(2), mg.tensor(2.0), np.array(2)):
        p, q = nn.Parameter(np.array(P0)), nn.Parameter(np.array(P0))
        opt, other = _stepped("Adam", p), _stepped("Adam", q)
        sd = opt.state_dict()
        sd["state"][0]["step"] = saved_step
        other.load_state_dict(sd)
        assert type(other.state[q]["step"]) is int and other.state[q]["step"] == 2
        for o, t in ((opt, p), (other, q)):
            o.zero_grad()
            (t * t).sum().backward()
            o.step()
        np.testing.assert_array_equal(p._array, q._array)


def test_betas_may_be_any_pair_of_numbers():
    for betas in ((0.8, 0.9), [0.8, 0.9], np.array([0.8, 0.9])):
        p = _param(P0, G0)
        opt = optim.Adam([p], lr=0.1, betas=betas)
        opt.step()
        opt.load_state_dict(opt.state_dict())
        assert list(opt.param_groups[0]["betas"]) == [0.8, 0.9]


def test_load_state_dict_refuses_malformed_layouts():
    p = nn.Parameter(np.array(P0))
    opt = _stepped("SGD", p)
    sd = opt.state_dict()
    for bad, match in [
        ({"state": [], "param_groups": sd["param_groups"]}, "expected a dict with 'state'"),
        ({"state": {}, "param_groups": [{"lr": 0.1}]}, "a dict with a 'params' list"),
        ({"state": {"w": {}}, "param_groups": sd["param_groups"]}, "'w' is not a parameter"),
        ({"state": {0: [1]}, "param_groups": sd["param_groups"]}, "is a list, not a dict"),
        ({"state": {0: {"momentum_buffer": np.zeros(4)}}, "param_groups": sd["param_groups"]},
         r"has shape \(4,\), the param \(3,\)"),
    ]:
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(bad)
    assert _same_state(opt.state_dict(), sd)


def test_optimizer_pickles_with_its_state():
    import pickle
    p = _param(P0, G0)
    opt = optim.Adam([p], lr=0.1)
    opt.step()
    opt2 = pickle.loads(pickle.dumps(opt))
    q = opt2.param_groups[0]["params"][0]
    assert opt2.state[q]["step"] == 1


# ---- lr schedulers ----------------------------------------------------------------------------
def _opt(lr=1.0):
    return optim.SGD([_param(P0, G0)], lr=lr)


def _lrs(scheduler, steps):
    out = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
    return out


def test_step_exponential_cosine_closed_forms():
    assert _lrs(lr_scheduler.StepLR(_opt(), step_size=2, gamma=0.5), 5) == \
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    np.testing.assert_allclose(_lrs(lr_scheduler.ExponentialLR(_opt(), gamma=0.9), 4),
                               [0.9 ** k for k in range(5)])
    T, eta = 4, 0.1
    expected = [eta + (1 - eta) * (1 + math.cos(math.pi * k / T)) / 2 for k in range(5)]
    np.testing.assert_allclose(_lrs(lr_scheduler.CosineAnnealingLR(_opt(), T, eta), 4),
                               expected)
    opt = _opt()
    lr_scheduler.StepLR(opt, step_size=1, gamma=0.5).step()
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["initial_lr"] == 1.0


def test_reduce_lr_on_plateau():
    opt = _opt(1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1,
                                           min_lr=0.2)
    lrs = []
    for metric in [1.0] + [0.9] * 12:
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    # 0.9 improves once; then 3 bad epochs (> patience 2) cut lr; the cooldown epoch does not
    # count; 3 more bad epochs cut again; the next cut stops at min_lr
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="up")


def test_schedulers_match_torch():
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    cases = [("StepLR", dict(step_size=3, gamma=0.3)), ("ExponentialLR", dict(gamma=0.8)),
             ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01))]
    for name, kwargs in cases:
        ours = getattr(lr_scheduler, name)(_opt(0.5), **kwargs)
        w = torch.zeros(1, requires_grad=True)
        topt = torch.optim.SGD([w], lr=0.5)
        theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
        for _ in range(7):
            topt.step()
            theirs.step()
            ours.optimizer.step()
            ours.step()
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-9)
    ours_opt = _opt(1.0)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, factor=0.5, patience=1, cooldown=1)
    w = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([w], lr=1.0)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=1,
                                                        cooldown=1)
    for metric in [3, 2, 2, 2, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.0]:
        ours.step(metric)
        theirs.step(metric)
        assert ours_opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]


def test_scheduler_state_dict_resume():
    opt = _opt()
    s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        s.step()
    state = s.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    s2 = lr_scheduler.StepLR(_opt(), step_size=1, gamma=0.1)
    s2.load_state_dict(state)
    assert s2.step_size == 2 and s2.last_epoch == 3
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_opt(), step_size=1, last_epoch=4)
    with pytest.raises(TypeError, match="optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


# ---- gradient clipping ------------------------------------------------------------------------
def test_clip_grad_norm_scales_all_grads_together():
    a, b = _param([0.0, 0.0], [3.0, 0.0]), _param([0.0], [4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad._array, [3 / 5, 0], rtol=1e-5)
    np.testing.assert_allclose(b.grad._array, [4 / 5], rtol=1e-5)
    c = _param([0.0], [0.5])
    assert nn.utils.clip_grad_norm_(c, 1.0).item() == pytest.approx(0.5)
    assert c.grad._array[0] == 0.5  # under the limit: untouched
    d = _param([0.0, 0.0], [-3.0, 2.0])
    assert nn.utils.clip_grad_norm_([d], 1.0, norm_type=math.inf).item() == pytest.approx(3)
    e = _param([0.0], [math.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([e], 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    rng = np.random.default_rng(0)
    gs = [rng.normal(size=s) for s in [(3, 4), (4,), (2, 2)]]
    ours = [_param(np.zeros(g.shape), g) for g in gs]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
    for t, g in zip(theirs, gs):
        t.grad = torch.from_numpy(g.copy())
    for norm_type in (2.0, 1.0):
        n1 = nn.utils.clip_grad_norm_(ours, 0.5, norm_type=norm_type)
        n2 = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type)
        assert n1.item() == pytest.approx(n2.item(), rel=1e-9)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad._array, t.grad.numpy(), rtol=1e-9)


def test_clip_grad_value_and_vector_round_trip():
    a = _param([1.0, 2.0], [-3.0, 0.2])
    nn.utils.clip_grad_value_([a], 0.5)
    np.testing.assert_allclose(a.grad._array, [-0.5, 0.2])
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(mg.Tensor(np.arange(8.0)), lin.parameters())
    np.testing.assert_allclose(lin.bias._array, [6, 7])
    with pytest.raises(ValueError, match="8 values"):
        nn.utils.vector_to_parameters(mg.zeros(5), lin.parameters())
