"""micrograd.compile: a recorded training step replays bitwise equal to eager (losses, weights,
gradients, optimizer state) over 100 steps on every backend, and every step it cannot replay
(random draws, values read mid-step, unknown ops, an optimizer that overrides step, in-place
changes, a graph that escapes the step) runs eagerly with one warning naming the reason, still equal to eager."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn, optim
from micrograd.compile import CompiledStep, _Plan, compile as mg_compile
from micrograd.nn import functional as F

from compile_helpers import as_tensors, compare, state_bytes

RNG = np.random.default_rng(7)
BATCHES = [(RNG.standard_normal((24, 6)).astype(np.float32), RNG.integers(0, 4, 24))
           for _ in range(100)]

OPTIMIZERS = {
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "adamw_amsgrad": lambda ps: optim.AdamW(ps, lr=1e-2, amsgrad=True),
    # NumPy updates: replayed by calling the optimizer's own _update
    "rmsprop_centered_momentum": lambda ps: optim.RMSprop(ps, lr=1e-3, momentum=0.9,
                                                          centered=True, weight_decay=1e-3),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-3),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=1e-2, lr_decay=1e-3, weight_decay=1e-3),
    "adadelta": lambda ps: optim.Adadelta(ps, lr=1.0, weight_decay=1e-3),
    "nadam": lambda ps: optim.NAdam(ps, lr=1e-2),
    "radam": lambda ps: optim.RAdam(ps, lr=1e-2, weight_decay=1e-3),
}


def make_step(opt_name: str = "sgd_momentum", dropout: float = 0.0, *, ret: str = "tensor",
              body=None):
    """A fresh 6-16-16-4 ReLU MLP (same weights every time), its optimizer, and its step."""
    mg.manual_seed(0)
    layers = [nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    model = nn.Sequential(*layers, nn.Linear(16, 4))
    opt = (OPTIMIZERS[opt_name] if isinstance(opt_name, str) else opt_name)(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        if body is not None:
            loss = body(loss)
        loss.backward()
        opt.step()
        return loss.item() if ret == "item" else loss
    return model, opt, step


def run_both(steps: int = 100, batches=BATCHES, **kwargs):
    """``make_step``'s MLP, eager and compiled, compared over ``steps`` batches."""
    return compare([make_step(**kwargs) for _ in range(2)], batches[:steps])


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_replay_bitwise_equal_to_eager(backend, opt_name):
    compiled = run_both(opt_name=opt_name)
    (plan,) = compiled.plans.values()
    assert isinstance(plan, _Plan), plan  # replayed, not a silent fallback


def test_replay_returns_a_float_read_at_the_end(backend):
    compiled = run_both(steps=10, ret="item")
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def test_source_is_straight_line_kernel_calls(backend):
    compiled = run_both(steps=3)
    source = next(iter(compiled.plans.values())).source
    if backend == "c":  # every call lowered: one C segment (tests/test_executor.py)
        assert source.count("run(") == 1 and "be_" not in source and "._update(" not in source
    else:
        assert "be_linear(" in source and "be_cross_entropy_backward(" in source
        assert "._update(" in source
    assert "return wrap(" in source


def test_new_shape_gets_its_own_plan(backend):
    short = [(x[:10], y[:10]) for x, y in BATCHES[40:50]]
    compiled = run_both(steps=60, batches=BATCHES[:20] + short + BATCHES[20:50])
    assert len(compiled.plans) == 2 and all(isinstance(p, _Plan) for p in compiled.plans.values())


def test_lr_schedule_and_replaced_state_follow_eager(backend):
    m1, o1, eager = make_step("adam")
    m2, o2, step = make_step("adam")
    compiled = mg_compile(step)
    s1, s2 = optim.lr_scheduler.StepLR(o1, 3, 0.5), optim.lr_scheduler.StepLR(o2, 3, 0.5)
    for i, (x, y) in enumerate(BATCHES[:20]):
        if i == 12:  # a restored optimizer has new state dicts: the plan is recorded again
            for o in (o1, o2):
                o.load_state_dict(o.state_dict())
        eager(*as_tensors((x, y)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled(*as_tensors((x, y)))
        s1.step(), s2.step()
        assert state_bytes(m1, o1) == state_bytes(m2, o2)


def test_dropout_replays_drawing_new_masks(backend):
    """Dropout's mask is a backend call (keep_mask): the replay draws it again from the
    generator, so compiled and eager draw the same masks, step after step."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = run_both(steps=30, dropout=0.3)
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def test_dropout_replay_draws_from_a_reseeded_generator(backend):
    """manual_seed makes a new generator: the replay draws from the one current then."""
    m1, o1, eager = make_step(dropout=0.4)
    m2, o2, step = make_step(dropout=0.4)
    compiled = mg_compile(step)
    for k, (x, y) in enumerate(BATCHES[:8]):
        mg.manual_seed(100 + k)
        a = eager(*as_tensors((x, y)))
        mg.manual_seed(100 + k)
        b = compiled(*as_tensors((x, y)))
        assert a._array.tobytes() == b._array.tobytes()
        assert state_bytes(m1, o1) == state_bytes(m2, o2)
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def _random_factory(loss):
    return loss + mg.randn(1).sum() * 0.0  # a draw outside the backend's keep_mask


def test_a_dropout_after_another_draw_still_falls_back(backend):
    """A random factory before the dropout mask: the mask's own draw must not hide it."""
    with pytest.warns(RuntimeWarning, match="draws random numbers outside"):
        run_both(steps=5, dropout=0.3, body=_random_factory)


@pytest.mark.parametrize("body, match", [
    (lambda loss: loss * 2 if loss.item() > 0 else loss, "reads a tensor's value"),
    (lambda loss: (loss + mg.from_numpy(np.asarray(loss._array).reshape(1) * 0.5)).sum(),
     "values change from call to call"),
    (lambda loss: loss + mg.erfinv(loss.tanh() * 0.5),
     "op Erfinv is not recorded"),
    (_random_factory, "draws random numbers outside"),
], ids=["item_mid_step", "tensor_from_data", "unknown_op", "random_factory"])
def test_uncapturable_steps_fall_back(backend, body, match):
    with pytest.warns(RuntimeWarning, match=match):
        compiled = run_both(steps=6, body=body)
    assert isinstance(next(iter(compiled.plans.values())), str)


def test_every_optimizer_is_in_the_replay_table():
    """Each optimizer micrograd ships replays (the table above), except LBFGS (below)."""
    from micrograd.optim.optimizer import Optimizer
    shipped = {c for c in vars(optim).values()
               if isinstance(c, type) and issubclass(c, Optimizer) and c is not Optimizer}
    tested = {type(make_step(name)[1]) for name in OPTIMIZERS}
    assert shipped - tested == {optim.LBFGS}


def test_lbfgs_falls_back(backend):
    """LBFGS overrides step (it reads the loss's value to decide, and changes the parameters in
    place outside _update): the step runs eagerly, still equal to eager."""
    def make():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
        opt = optim.LBFGS(model.parameters(), lr=0.5, max_iter=2)

        def step(x, y):
            def closure():
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                return loss
            return opt.step(closure)
        return model, step
    (m1, eager), (m2, step) = make(), make()
    compiled = mg_compile(step)
    with pytest.warns(RuntimeWarning, match="running eagerly"):
        for x, y in BATCHES[:4]:
            a, b = eager(*as_tensors((x, y))), compiled(*as_tensors((x, y)))
            assert a._array.tobytes() == b._array.tobytes()
            assert [p._array.tobytes() for p in m1.parameters()] == \
                [p._array.tobytes() for p in m2.parameters()]


def test_warning_is_given_once(backend):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_both(steps=6, body=_random_factory)
    assert len([w for w in caught if "micrograd.compile" in str(w.message)]) == 1


def test_fullgraph_raises_instead(backend):
    _, _, step = make_step(body=_random_factory)
    compiled = mg_compile(step, fullgraph=True)
    x, y = as_tensors(BATCHES[0])
    with pytest.raises(RuntimeError, match="fullgraph=True.*random"):
        compiled(x, y)


def test_graph_escaping_the_step_falls_back(backend):
    mg.manual_seed(0)
    model = nn.Linear(6, 4)
    compiled = mg_compile(model)
    x = mg.from_numpy(BATCHES[0][0])
    with pytest.warns(RuntimeWarning, match="graph is still needed"):
        out = compiled(x)
    out.sum().backward()  # eager: the graph is there
    assert model.weight.grad is not None


def test_inference_under_no_grad_replays(backend):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2))
    compiled = mg_compile(model)
    with mg.no_grad():
        for x, _ in BATCHES[:5]:
            x = mg.from_numpy(x)
            assert compiled(x)._array.tobytes() == model(x)._array.tobytes()
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def test_decorator_forms_and_errors():
    @mg_compile
    def f(x):
        return x
    assert isinstance(f, CompiledStep) and f.__name__ == "f"
    assert isinstance(mg_compile(fullgraph=True)(lambda x: x), CompiledStep)
    g = lambda x: x  # noqa: E731
    assert mg_compile(g, disable=True) is g
    with pytest.raises(TypeError, match="expected a callable"):
        mg_compile(3)


def test_matches_torch_sgd_momentum():
    torch = pytest.importorskip("torch")
    m, o, step = make_step("sgd_momentum")
    compiled = mg_compile(step)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                             torch.nn.ReLU(), torch.nn.Linear(16, 4))
    with torch.no_grad():
        for p, q in zip(tm.parameters(), m.parameters(), strict=True):
            p.copy_(torch.from_numpy(q._array.copy()))
    to = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    for x, y in BATCHES[:6]:
        loss = compiled(*as_tensors((x, y)))
        to.zero_grad()
        ref = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y))
        ref.backward()
        to.step()
        np.testing.assert_allclose(float(loss.item()), ref.item(), rtol=1e-5)
    for p, q in zip(tm.parameters(), m.parameters(), strict=True):
        np.testing.assert_allclose(q._array, p.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_labels_a_loss_ignores_or_refuses_are_guarded(backend):
    """F.cross_entropy decides from the labels' values (ignore_index, range): a replayed step
    must never reuse a decision made from other labels. Recorded on labels that all count, a
    batch with an ignored label or an out-of-range one runs eagerly (equal to eager; the
    out-of-range label is eager's IndexError), and replay resumes after."""
    plain = BATCHES[:3]
    x, y = BATCHES[3]
    ignored = y.copy()
    ignored[:5] = -100
    batches = [*plain, (x, ignored), *BATCHES[4:8]]
    with pytest.warns(RuntimeWarning, match="decide otherwise"):
        compiled = run_both(steps=len(batches), batches=batches)
    assert isinstance(next(iter(compiled.plans.values())), _Plan)
    bad = y.copy()
    bad[0] = 4
    with pytest.raises(IndexError, match="target label 4 is out of range"):
        compiled(*as_tensors((x, bad)))


# ---- the nn modules: layers defined outside core/ops.py, normalisation, clipping ------------
def _img(n_out: int):
    """Model factories on (8, 2, 12, 12) images with 3 classes."""
    return {
        "conv_bias_pool": lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, bias=False),
            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(24, n_out)),
        "conv_groups_reflect_stride": lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3, stride=2, groups=2, padding=1, padding_mode="reflect"), nn.Tanh(),
            nn.Flatten(), nn.Linear(144, n_out)),
        "conv_transpose_bias": lambda: nn.Sequential(
            nn.ConvTranspose2d(2, 3, 3, stride=2), nn.Flatten(), nn.Linear(3 * 25 * 25, n_out)),
        "adaptive_avg_uneven_groupnorm": lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.AdaptiveAvgPool2d(3), nn.Flatten(),
            nn.Linear(36, n_out)),
        "layernorm_gelu": lambda: nn.Sequential(
            nn.Flatten(), nn.Linear(288, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, n_out)),
        "conv1d_maxpool1d": lambda: nn.Sequential(
            nn.Flatten(2), nn.Conv1d(2, 4, 5), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(280, n_out)),
        "transformer_layer": lambda: nn.Sequential(
            nn.Flatten(2), nn.TransformerEncoderLayer(144, 2, 32, dropout=0.1, batch_first=True),
            nn.Flatten(), nn.Linear(288, n_out)),
        "dropout2d": lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3), nn.Dropout2d(0.3), nn.Flatten(), nn.Linear(400, n_out)),
        "batchnorm_eval": lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4).eval(), nn.Flatten(), nn.Linear(400, n_out)),
    }


IMAGES = [(RNG.standard_normal((8, 2, 12, 12)).astype(np.float32), RNG.integers(0, 3, 8))
          for _ in range(12)]


def run_model(make_model, make_opt, *, steps: int = 12, after_backward=None, replays=True):
    """``compare`` for any image model on IMAGES (cross-entropy, ``after_backward(model)``
    between backward and the update); asserts whether the step replayed."""
    copies = []
    for _ in range(2):
        mg.manual_seed(0)
        model = make_model()
        opt = make_opt(model.parameters())

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if after_backward is not None:
                after_backward(model)
            opt.step()
            return loss
        copies.append((model, opt, step))
    compiled = compare(copies, IMAGES[:steps])
    (plan,) = compiled.plans.values()
    assert isinstance(plan, _Plan) == replays, plan
    return compiled


@pytest.mark.parametrize("name", sorted(_img(3)))
@pytest.mark.parametrize("opt", ["sgd_momentum", "adam"])
def test_nn_layers_replay_bitwise_equal_to_eager(backend, name, opt):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback warning fails the test
        run_model(_img(3)[name], OPTIMIZERS[opt])


@pytest.mark.parametrize("make_model, after_backward, reason", [
    (lambda: nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                           nn.Linear(400, 3)), None, "running statistics"),
    (_img(3)["conv_bias_pool"],
     lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.05), "clip_grad_norm_"),
    (_img(3)["conv_bias_pool"],
     lambda m: nn.utils.clip_grad_value_(m.parameters(), 0.001), "clip_grad_value_"),
    (lambda: nn.Sequential(nn.Conv2d(2, 4, 3), nn.AdaptiveMaxPool2d(3), nn.Flatten(),
                           nn.Linear(36, 3)), None, "MaxPool's output was not made by a backend"),
    (_img(3)["transformer_layer"],
     lambda m: m[1].self_attn.in_proj_bias.detach()[:4].mul_(0.5), "in place"),
], ids=["batchnorm_train", "clip_grad_norm", "clip_grad_value", "adaptive_max_uneven",
        "write_through_a_view"])
def test_numpy_writes_and_numpy_outputs_fall_back(backend, make_model, after_backward, reason):
    """In-place NumPy writes (running statistics, gradient clipping) and op outputs made by
    NumPy are what a replay cannot repeat: the step runs eagerly, equal to eager (a replay
    skipping the clipping gave different weights from the third step on)."""
    with pytest.warns(RuntimeWarning, match=reason):
        run_model(make_model, OPTIMIZERS["sgd_momentum"], steps=5,
                  after_backward=after_backward, replays=False)
