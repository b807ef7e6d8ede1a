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


@pytest.mark.parametrize("bad", [1.5, -0.25, float("nan")])
def test_a_replay_checks_computed_probabilities_as_eager(backend, bad):
    """binary_cross_entropy's check that its input holds probabilities runs on values made
    inside the step (a ``numpy_call``): a replay raises eager's error where it would have
    given nan, and the parameters are left as eager leaves them (no update)."""
    copies = []
    for _ in range(2):
        mg.manual_seed(0)
        w = nn.Parameter(mg.full((6,), 0.05))
        opt = optim.SGD([w], lr=0.1)

        def step(x, y, w=w, opt=opt):
            opt.zero_grad()
            loss = F.binary_cross_entropy((x * w).sum(1) + 0.5, y)
            loss.backward()
            opt.step()
            return loss
        copies.append((w, opt, step))
    xs = [RNG.uniform(-1, 1, (24, 6)).astype(np.float32) for _ in range(4)]
    y = RNG.integers(0, 2, 24).astype(np.float32)
    compiled = mg_compile(copies[1][2])
    for x in xs:
        a, b = copies[0][2](*as_tensors((x, y))), compiled(*as_tensors((x, y)))
        assert a._array.tobytes() == b._array.tobytes()
    assert isinstance(next(iter(compiled.plans.values())), _Plan)
    x = xs[0].copy()
    x[3] = (bad - 0.5) / copies[0][0]._array.sum()  # (x * w).sum(1) + 0.5 = bad in row 3
    for run in (copies[0][2], compiled):
        with pytest.raises(RuntimeError, match="should be between 0 and 1"):
            run(*as_tensors((x, y)))
    assert copies[0][0]._array.tobytes() == copies[1][0]._array.tobytes()


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


@pytest.mark.parametrize("make_model, after_backward", [
    (lambda: nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                           nn.Linear(400, 3)), None),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(288, 8), nn.BatchNorm1d(8, momentum=None),
                           nn.Linear(8, 3)), None),
    (_img(3)["conv_bias_pool"], lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.05)),
    (_img(3)["conv_bias_pool"],
     lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.01, norm_type=float("inf"))),
    (_img(3)["conv_bias_pool"], lambda m: nn.utils.clip_grad_value_(m.parameters(), 0.001)),
], ids=["batchnorm2d_train", "batchnorm1d_cumulative", "clip_grad_norm", "clip_grad_norm_inf",
        "clip_grad_value"])
def test_numpy_calls_replay_bitwise_equal_to_eager(backend, make_model, after_backward):
    """Library code's in-place NumPy writes (BatchNorm's running statistics, gradient clipping)
    go through ``numpy_call``: the replay calls them again on its own arrays, so buffers,
    weights and optimizer state stay bitwise equal to eager, between C segments on the C
    backend (clipping decides from the norm each step: a replay skipping it would differ from
    the third step on)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback warning fails the test
        compiled = run_model(make_model, OPTIMIZERS["sgd_momentum"], steps=8,
                             after_backward=after_backward)
    (plan,) = compiled.plans.values()
    assert "= U" in plan.source  # the update is a Python call of the replay
    if backend == "c":
        assert plan.lowering is not None and plan.lowering.count()["lowered_calls"] > 0


def test_batchnorm_replay_updates_the_buffers_the_module_holds_now(backend):
    """The running statistics are read where they live at each replay: buffers loaded after
    the step was captured are the ones updated, as eager; a changed momentum is used."""
    def make(model):
        opt = optim.SGD(model.parameters(), lr=0.1)
        return model, opt, _image_step(model, opt)
    mg.manual_seed(0)
    copies = [make(nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                                 nn.Linear(400, 3))) for _ in range(2)]
    copies[1][0].load_state_dict(copies[0][0].state_dict())
    fresh = {k: v.clone() for k, v in copies[0][0].state_dict().items() if "running" in k}

    def each(i, eager, replayed, compiled):
        if i == 4:  # new buffer tensors, and another momentum, in both copies
            for model, _ in (eager, replayed):
                model.load_state_dict({**model.state_dict(), **fresh})
                model[1].running_mean = fresh["1.running_mean"].clone()
                model[1].momentum = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = compare(copies, IMAGES[:9], each)
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def _image_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def test_clip_grad_norm_replay_returns_the_norm_and_raises_as_eager(backend):
    """The total norm clip_grad_norm_ returns is an output of the replay (a new value each
    step), and error_if_nonfinite raises from a replay as it would eagerly."""
    mg.manual_seed(0)
    model = _img(3)["conv_bias_pool"]()
    opt = optim.SGD(model.parameters(), lr=0.1)

    @mg_compile(fullgraph=True)
    def step(x, y, scale):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) * scale
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5, error_if_nonfinite=True)
        opt.step()
        return loss, norm
    norms = [step(*as_tensors(args), mg.tensor(1.0))[1].item() for args in IMAGES[:5]]
    assert isinstance(next(iter(step.plans.values())), _Plan)
    assert len(set(norms)) == 5 and all(np.isfinite(norms))
    with pytest.raises(RuntimeError, match="non-finite"):
        step(*as_tensors(IMAGES[5]), mg.tensor(float("inf")))


def test_a_forward_hook_added_after_capture_records_the_step_again(backend):
    """A forward hook registered on a layer inside a Sequential after the step was captured
    changes the forward's ops (the hook's own, and Sequential's fused Linear + ReLU is no
    longer taken): the step is recorded again, and equals eager with the hook; removing the
    hook records it once more."""
    handles = []

    def each(i, eager, replayed, compiled):
        if i == 3:
            handles.extend(model[0].register_forward_hook(lambda mod, args, out: out * 0.5)
                           for model, _ in (eager, replayed))
        if i == 7:
            for h in handles:
                h.remove()
    with pytest.warns(RuntimeWarning, match="had forward hooks added or removed"):
        compiled = compare([make_step() for _ in range(2)], BATCHES[:12], each)
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def test_freezing_a_parameter_records_the_step_again(backend):
    """A parameter frozen after the step was captured (requires_grad_(False)) gets no gradient
    and no update from then on, as eager: the plan that computed and applied them is dropped
    (it kept updating the frozen weight), and unfreezing records it again too."""
    def each(i, eager, replayed, compiled):
        if i in (3, 7):
            for model, _ in (eager, replayed):
                model[0].weight.requires_grad_(i == 7)
    with pytest.warns(RuntimeWarning, match="requires_grad was changed"):
        compiled = compare([make_step() for _ in range(2)], BATCHES[:12], each)
    assert isinstance(next(iter(compiled.plans.values())), _Plan)


def test_a_module_switched_to_eval_or_back_is_recorded_again(backend):
    """Dropout and BatchNorm run other ops in eval mode: a plan recorded in one mode never
    replays in the other (it gave dropped-out outputs in eval mode). The switch is noticed,
    the step recorded again in its new mode (one warning), and every call equals eager."""
    def make():
        mg.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(16, 4))
    eager_model, model = make(), make()

    @mg_compile
    def forward(x):
        with mg.no_grad():
            return model(x)
    with pytest.warns(RuntimeWarning, match="switched between train and eval"):
        for i, (x, _) in enumerate(BATCHES[:16]):
            mode = "eval" if 4 <= i < 10 else "train"
            for m in (eager_model, model):
                getattr(m, mode)()
            rng = mg.get_rng_state()
            with mg.no_grad():
                want = eager_model(mg.from_numpy(x))
            mg.set_rng_state(rng)
            got = forward(mg.from_numpy(x.copy()))
            assert got._array.tobytes() == want._array.tobytes(), (i, mode)
            assert [b._array.tobytes() for b in model.buffers()] == \
                [b._array.tobytes() for b in eager_model.buffers()]
    assert isinstance(next(iter(forward.plans.values())), _Plan)


@pytest.mark.parametrize("make_model, after_backward, reason", [
    (lambda: nn.Sequential(nn.Conv2d(2, 4, 3), nn.AdaptiveMaxPool2d(3), nn.Flatten(),
                           nn.Linear(36, 3)), None, "MaxPool's output was not made by a backend"),
    (_img(3)["transformer_layer"],
     lambda m: m[1].self_attn.in_proj_bias.detach()[:4].mul_(0.5), "in place"),
], ids=["adaptive_max_uneven", "write_through_a_view"])
def test_numpy_writes_and_numpy_outputs_fall_back(backend, make_model, after_backward, reason):
    """In-place writes the step makes itself and op outputs made by NumPy are what a replay
    cannot repeat: the step runs eagerly, equal to eager."""
    with pytest.warns(RuntimeWarning, match=reason):
        run_model(make_model, OPTIMIZERS["sgd_momentum"], steps=5,
                  after_backward=after_backward, replays=False)
