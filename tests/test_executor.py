"""micrograd.compile's C path (csrc/executor.c): on the C backend a recorded step is lowered to
mg_exec steps and replayed in one C call per segment. Checked here: the executor's own kernels
give NumPy's bits (full sums in NumPy's pairwise order, broadcast arithmetic, negation, fills);
whole steps are lowered (every call of the two-moons and cross-entropy steps) and replay bitwise
equal to eager, float32 and float64; calls that cannot be lowered stay Python calls between C
segments; ``.grad`` arrays and returned Tensors are new arrays at every replay, as in eager;
the learning rate follows a scheduler and other option changes re-record."""
from __future__ import annotations

import threading
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import micrograd as mg
from micrograd import backends, nn, optim
from micrograd.compile import _Plan, compile as mg_compile
from micrograd.nn import functional as F

from compile_helpers import compare, state_bytes, training_step

C = pytest.importorskip("micrograd.backends.c_backend", reason="the C core is not built")

RNG = np.random.default_rng(11)
DTYPES = [np.float32, np.float64]


# ---- the executor's kernels against NumPy, bit for bit ---------------------------------------
def run_one(name: str, dtype, arrays: list, ints: list, doubles=()) -> None:
    """mg_<name> as a one-step program through mg_exec (the replay's path)."""
    steps, table = C.exec_program(1, len(arrays))
    for k, a in enumerate(arrays):
        table[k] = C.pointer(a)
    C.exec_step(steps[0], name, np.dtype(dtype), list(range(len(arrays))), ints, list(doubles))
    assert C.run_steps(steps, 1, table) == -1


SUM_SIZES = [*range(0, 140), 255, 256, 257, 1000, 4097, 8192, 8193, 65537, 1_000_003]


def _numpy_sums_in_chunks() -> bool:
    """True for NumPy before 2.3: a sum of more than 8192 elements is its 8192-element chunks'
    pairwise sums added one after another (compile lowers only sums of one chunk)."""
    x = np.random.default_rng(1).standard_normal(3 * 8192 + 5).astype(np.float32) * 1e3
    chunked = np.float32(0)
    for i in range(0, x.size, 8192):
        chunked = np.float32(chunked + np.add.reduce(x[i:i + 8192]))
    return np.add.reduce(x).tobytes() == chunked.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_exec_sum_is_numpys_pairwise_sum(dtype):
    sizes = [n for n in SUM_SIZES if n <= 8192 or not _numpy_sums_in_chunks()]
    for n in sizes:
        x = (RNG.standard_normal(n) * RNG.uniform(0.1, 1e4)).astype(dtype)
        out = np.empty((), dtype)
        run_one("exec_sum", dtype, [out, x], [n])
        assert out.tobytes() == np.asarray(np.add.reduce(x), dtype).tobytes(), n
    shapes = [(16, 2), (16, 16), (3, 5, 7), (100,), (), (300, 300), (2, 3, 40000)]
    for shape in [s for s in shapes if np.prod(s) <= 8192 or not _numpy_sums_in_chunks()]:
        x = RNG.standard_normal(shape).astype(dtype)  # full sums of C-ordered arrays
        out = np.empty((), dtype)
        run_one("exec_sum", dtype, [out, x], [x.size])
        for axes in (None, tuple(range(x.ndim))):
            assert out.tobytes() == np.asarray(np.add.reduce(x, axis=axes), dtype).tobytes()
    zeros = np.full(20, -0.0, dtype)  # np.add.reduce starts from +0.0
    out = np.empty((), dtype)
    run_one("exec_sum", dtype, [out, zeros], [20])
    assert out.tobytes() == np.asarray(np.add.reduce(zeros)).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_exec_binary_is_numpys_arithmetic(dtype, op):
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3e38, -1.5], dtype)
    a = np.concatenate([special, RNG.standard_normal(37).astype(dtype)])
    b = np.concatenate([special[::-1], RNG.standard_normal(37).astype(dtype)])
    numpy_op = getattr(np, {"add": "add", "sub": "subtract", "mul": "multiply",
                            "div": "divide"}[op])
    with np.errstate(all="ignore"):
        for x, y in [(a, b), (a, b[3:4]), (a[5:6], b), (a[:1], b[:1])]:
            x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
            want = numpy_op(x, y)
            out = np.empty(want.shape, dtype)
            run_one("exec_binary", dtype, [out, x, y],
                    [want.size, int(x.size == want.size), int(y.size == want.size),
                     C.EXEC_OPS[op]])
            assert out.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_exec_neg_and_fill(dtype):
    x = np.array([0.0, -0.0, np.inf, np.nan, 2.5, -1e-40], dtype)
    out = np.empty_like(x)
    run_one("exec_neg", dtype, [out, x], [x.size])
    assert out.tobytes() == np.negative(x).tobytes()
    value = np.asarray(-0.0, dtype)
    run_one("exec_fill", dtype, [out, value], [x.size])
    assert out.tobytes() == np.full(x.shape, value, dtype).tobytes()


def test_exec_runs_kernels_of_the_core_and_stops_at_a_failure():
    """A library kernel through mg_exec (cross_entropy): the same values as the direct call;
    a target out of range stops the program at that step and returns its index."""
    logits, target = RNG.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])
    want_loss, want_prob = C.cross_entropy(logits, target)
    loss, prob = np.empty(5), np.empty((5, 3))
    run_one("cross_entropy", np.float64, [loss, prob, logits, target], [5, 3])
    assert loss.tobytes() == want_loss.tobytes() and prob.tobytes() == want_prob.tobytes()
    steps, table = C.exec_program(2, 4)
    for k, a in enumerate([loss, prob, logits, np.array([0, 2, 3, 1, 0])]):
        table[k] = C.pointer(a)
    for k in range(2):
        C.exec_step(steps[k], "cross_entropy", np.dtype(np.float64), [0, 1, 2, 3], [5, 3], [])
    assert C.run_steps(steps, 2, table) == 0


def test_exec_step_checks_its_arguments():
    steps, _ = C.exec_program(1, 1)
    with pytest.raises(ValueError, match="mg_relu.*1 pointers, 1 integers"):
        C.exec_step(steps[0], "relu", np.dtype(np.float32), [0], [3], [])
    with pytest.raises(KeyError):
        C.exec_step(steps[0], "conv2d", np.dtype(np.float32), [0, 1, 2, 3, 4], [1], [])


# ---- whole steps --------------------------------------------------------------------------
def moons_step(dtype=np.float32, opt=lambda ps: optim.SGD(ps, lr=0.05), extra=None):
    """The classic demo's step: MLP 2-16-16-1 (tanh), SVM max-margin loss + L2, SGD."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1)).to(mg.float64 if dtype == np.float64 else mg.float32)
    optimizer = opt(model.parameters())

    def step(x, y):
        optimizer.zero_grad()
        scores = model(x).reshape(-1)
        loss = (1 - y * scores).relu().mean()
        loss = loss + 1e-4 * sum((p * p).sum() for p in model.parameters())
        if extra is not None:
            loss = extra(loss, scores)
        loss.backward()
        optimizer.step()
        return loss
    return model, optimizer, step


def moons_batches(n: int, dtype=np.float32) -> list:
    out = []
    for _ in range(n):
        x = RNG.standard_normal((100, 2)).astype(dtype)
        out.append((x, np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0).astype(dtype)))
    return out


def side_by_side(make, batches, each=None):
    """Eager and compiled copies of one step on the same batches: bitwise equal after each."""
    return compare([make(), make()], batches, each)


def only_plan(compiled) -> _Plan:
    (plan,) = compiled.plans.values()
    assert isinstance(plan, _Plan), plan
    return plan


def count_runs(plan: _Plan) -> list:
    """Counts the C segments the plan's replay runs (the generated code calls ``run``)."""
    runs, run = [], plan.scope["run"]

    def counted(steps, n, table):
        runs.append(n)
        return run(steps, n, table)
    plan.scope["run"] = counted
    return runs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ["sgd", "sgd_momentum", "adam"])
def test_moons_step_runs_as_one_c_segment(backend, dtype, opt):
    make_opt = {"sgd": lambda ps: optim.SGD(ps, lr=0.05),
                "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                "adam": lambda ps: optim.Adam(ps, lr=1e-2)}[opt]
    runs = []

    def each(i, first, second, compiled):
        if i == 1 and backend == "c":  # the plan is made after the second call
            runs.append(count_runs(only_plan(compiled)))

    compiled = side_by_side(lambda: moons_step(dtype, make_opt), moons_batches(12, dtype), each)
    plan = only_plan(compiled)
    if backend != "c":
        assert plan.lowering is None and "run(" not in plan.source
        return
    count = plan.lowering.count()
    assert count["lowered_calls"] == count["calls"] and count["steps"] >= 60
    assert plan.source.count("run(") == 1 and "be_" not in plan.source
    assert runs[0] == [count["steps"]] * 10  # calls 3..12: one C segment each
    assert plan.lowering.r is None  # the recordings' arrays and tensors are not kept


def test_cross_entropy_step_is_lowered_whole(backend):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    opt = optim.AdamW(model.parameters(), lr=1e-3, amsgrad=True)
    compiled = mg_compile(training_step(opt, lambda x, y: F.cross_entropy(model(x), y)))
    x, y = mg.from_numpy(RNG.standard_normal((16, 20)).astype(np.float32)), \
        mg.from_numpy(RNG.integers(0, 5, 16))
    for _ in range(4):
        compiled(x, y)
    plan = only_plan(compiled)
    if backend == "c":
        count = plan.lowering.count()
        assert count["lowered_calls"] == count["calls"]
        names = {s[1] for s in plan.lowering.steps_list}
        assert {"linear", "linear_backward", "cross_entropy", "cross_entropy_backward",
                "adam_step", "exec_sum"} <= names


def test_calls_that_cannot_be_lowered_run_between_c_segments(backend):
    """exp runs on NumPy's ufunc (routing.py) and is not one the executor repeats: it stays a
    Python call; the steps before and after it are two C segments, still bitwise eager."""
    extra = lambda loss, scores: loss + (scores * 0.01).exp().mean()  # noqa: E731
    compiled = side_by_side(lambda: moons_step(extra=extra), moons_batches(8))
    plan = only_plan(compiled)
    if backend == "c":
        assert "be_exp(" in plan.source and plan.source.count("run(") >= 2
        assert plan.lowering.count()["lowered_calls"] == plan.lowering.count()["calls"] - 1


def test_a_sum_longer_than_numpys_buffer_stays_numpys(backend):
    """NumPy before 2.3 sums more than 8192 elements in chunks: such a sum is not lowered (it
    stays NumPy's call, whatever the version), and the replay is still bitwise eager."""
    big = mg.from_numpy(RNG.standard_normal((90, 100)).astype(np.float32))
    extra = lambda loss, scores: loss + 1e-6 * (scores.mean() * big).sum()  # noqa: E731
    compiled = side_by_side(lambda: moons_step(extra=extra), moons_batches(5))
    plan = only_plan(compiled)
    if backend == "c":
        assert "be_sum(" in plan.source
        sums = [s for s in plan.lowering.steps_list if s[1] == "exec_sum"]
        assert sums and all(s[4][0] <= 8192 for s in sums)


def test_grads_and_outputs_are_new_arrays_each_replay(backend):
    """As in eager (zero_grad sets .grad to None; backward makes new arrays): a .grad or a loss
    kept from one call is not changed by the next, and each call hands out new arrays."""
    _, opt, step = moons_step()
    compiled = mg_compile(step)
    batches = moons_batches(6)
    kept = []
    for x, y in batches:
        loss = compiled(mg.from_numpy(x), mg.from_numpy(y))
        grads = [p.grad for p in opt.param_groups[0]["params"]]
        kept.append((loss, loss._array.copy(), grads, [g._array.copy() for g in grads]))
    for loss, loss_then, grads, grads_then in kept:
        assert loss._array.tobytes() == loss_then.tobytes()
        assert all(g._array.tobytes() == t.tobytes() for g, t in zip(grads, grads_then))
    for (_, _, g1, _), (_, _, g2, _) in zip(kept[2:], kept[3:]):  # replayed calls
        assert all(a is not b and not np.shares_memory(a._array, b._array)
                   for a, b in zip(g1, g2))


def test_lr_schedule_is_read_each_replay_and_option_changes_record_again(backend):
    sgd = lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)  # noqa: E731
    scheds = []

    def each(i, first, second, compiled):
        if i == 0:
            scheds.extend(optim.lr_scheduler.StepLR(o, 2, 0.5) for o in (first[1], second[1]))
        for s in scheds:
            s.step()
        if i == 7:  # an option other than lr: the lowered update is recorded again
            for o in (first[1], second[1]):
                o.param_groups[0]["momentum"] = 0.5

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = side_by_side(lambda: moons_step(opt=sgd), moons_batches(14), each)
    changed = [w for w in caught if "changed since the step was recorded" in str(w.message)]
    assert len(changed) == (1 if backend == "c" else 0)
    only_plan(compiled)


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-3),
    lambda ps: optim.AdamW(ps, lr=0.01)], ids=["sgd", "adam", "adamw"])
def test_weight_decay_is_read_each_replay(backend, make_opt):
    """The scikit-learn estimators scale weight_decay to each batch (scikit-learn's L2 term
    over the batch's sample count): a changed weight_decay is replayed, not re-recorded."""
    def each(i, first, second, compiled):
        for o in (first[1], second[1]):
            o.param_groups[0]["weight_decay"] = 1e-3 * (i + 2)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = side_by_side(lambda: moons_step(opt=make_opt), moons_batches(8), each)
    only_plan(compiled)


def test_a_strided_argument_gets_its_own_plan(backend):
    """A transposed view is another key; its kernels read a contiguous copy, so those calls
    stay Python calls; both plans replay bitwise as eager."""
    batches = moons_batches(6)
    strided = [(np.ascontiguousarray(x.T).T, y) for x, y in batches]
    compiled = side_by_side(moons_step, batches[:3] + strided + batches[3:])
    plans = list(compiled.plans.values())
    assert len(plans) == 2 and all(isinstance(p, _Plan) for p in plans)
    if backend == "c":
        assert "be_linear(" not in plans[0].source and "be_linear(" in plans[1].source


def test_a_kernel_failure_during_replay_is_an_error(backend):
    if backend != "c":
        pytest.skip("the C path only")
    compiled = side_by_side(moons_step, moons_batches(3))
    low = only_plan(compiled).lowering
    with pytest.raises(RuntimeError, match="kernel mg_linear_f32 reported a failure"):
        low.failed(0)


def test_numpy_backend_replays_without_the_executor():
    with mg.use_backend("numpy"):
        compiled = side_by_side(moons_step, moons_batches(4))
    assert only_plan(compiled).lowering is None


def test_the_backend_fixture_forces_c_and_the_key_sees_it(backend):
    """Plans recorded with the force-C switch on and off are different plans (its routing
    chose other kernels)."""
    if backend != "c":
        pytest.skip("the C path only")
    _, _, step = moons_step()
    compiled = mg_compile(step)
    x, y = moons_batches(1)[0]
    args = mg.from_numpy(x), mg.from_numpy(y)
    for _ in range(3):
        compiled(*args)
    with backends.force_c(False):
        for _ in range(3):
            compiled(*args)
    assert len(compiled.plans) == 2


def matmul_step():
    mg.manual_seed(0)
    w = nn.Parameter(mg.randn(6, 4))
    opt = optim.SGD([w], lr=0.05, momentum=0.9)
    step = training_step(opt, lambda x, y: ((x @ w).relu() * y).mean())
    return SimpleNamespace(parameters=lambda: [w], buffers=lambda: []), opt, step


MATMUL_BATCHES = [(RNG.standard_normal((5, 6)).astype(np.float32),
                   RNG.standard_normal((5, 4)).astype(np.float32)) for _ in range(6)]


def test_gemm_on_transposed_views_is_lowered(backend):
    """matmul's backward multiplies by transposed views (w.T, x.T): the GEMM reads them as
    their C-ordered storage with the transpose flag, and the executor finds that storage."""
    plan = only_plan(side_by_side(matmul_step, MATMUL_BATCHES))
    if backend == "c":
        count = plan.lowering.count()
        assert count["lowered_calls"] == count["calls"]
        assert [s[1] for s in plan.lowering.steps_list].count("gemm") == 2  # forward, dw


def test_calls_routed_to_numpy_stay_python_calls(backend):
    """A small matmul runs on NumPy (routing.py's size rule, with the force-C switch off): no C
    kernel and no executor twin, so the call stays a backend call; the calls around it are
    lowered and the replay is bitwise eager."""
    with backends.force_c(False):
        plan = only_plan(side_by_side(matmul_step, MATMUL_BATCHES))
    if backend == "c":
        assert "be_matmul(" in plan.source and "run(" in plan.source
        assert 0 < plan.lowering.count()["lowered_calls"] < plan.lowering.count()["calls"]


def test_replays_from_two_threads_take_turns(backend):
    """A plan's buffers are shared, so its replays run one at a time: two threads replaying
    the same batch 10 times each end where 23 eager steps on it end (every order is the same
    here), bitwise. (The backend is a per-thread setting: the threads choose the test's.)"""
    x, y = (mg.from_numpy(a) for a in moons_batches(1)[0])
    m1, o1, eager = moons_step()
    m2, o2, step = moons_step()
    compiled = mg_compile(step)
    for _ in range(3):
        eager(x, y), compiled(x, y)
    def replays():
        with mg.use_backend(backend):
            for _ in range(10):
                compiled(x, y)
    threads = [threading.Thread(target=replays) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(20):
        eager(x, y)
    assert state_bytes(m1, o1) == state_bytes(m2, o2)
