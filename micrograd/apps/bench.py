"""``python -m micrograd bench``: kernel benchmarks, C backend side by side with NumPy (and
PyTorch and JAX when they are installed), in one process and one run.

The header says which machine the table belongs to: the CPU, the caches the C core detected and
the GEMM blocking derived from them (``micrograd info``'s lines), the measured FMA peak, the
versions, the command, the date and the load average.

Every case first checks that the backends agree (``allclose``), then times each one: warm-up,
then the median of many calls (``time.perf_counter``); ``--runs N`` repeats that over the whole
case list and shows each row's range over the runs (quote the range, not one run). The table
shows the median, GFLOP/s and percent of the FMA peak (one core's, measured here with a loop of
independent FMAs in csrc/info.c, times the thread count) for GEMM, and the ratio of each other
library's time to the C backend's (``numpy/c`` = NumPy time / C time, so above 1 means C is
faster). Besides kernels, whole training steps run through micrograd's Tensor/nn/optim and
through PyTorch eager from the same weights: the seed MLP, the moons demo, a LeNet-sized CNN
(batch 64, 28x28) and an LSTM (batch 32, sequence 64, hidden 256). The seed and moons steps
also run captured (``micrograd.compile``) and as JAX ``jit`` of the same step.
``--quick`` runs small shapes and only checks agreement: it is the CI smoke test and makes no
timing claim.

NumPy's own threads are set with OpenBLAS's ``*_set_num_threads`` and PyTorch's with
``torch.set_num_threads``, so those backends use the same thread count in each row. XLA fixes
JAX's threads when JAX is imported: one when every row asks for one, else its own pool.
Environment variables read at load time (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, XLA_FLAGS) are
reported in the header, because they change NumPy's and JAX's speed.
"""
from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from .. import backends
from ..core.settings import settings
from .cli import core_lines, fma_peak  # noqa: F401  fma_peak: also imported from here

GEMM_SIZES = (256, 512, 1024, 2048)
QUICK_GEMM_SIZES = (1, 17, 64)


# ---- thread control for each library -------------------------------------------------------
def _openblas_setter() -> Callable[[int], None] | None:
    """OpenBLAS's set_num_threads from the library NumPy loaded, or None when not found."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                     "openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                return fn
    return None


class Threads:
    """Sets the thread count of the C backend, NumPy's OpenBLAS and PyTorch together."""

    def __init__(self, torch_module) -> None:
        self.blas = _openblas_setter()
        self.torch = torch_module
        c = backends.REGISTRY.get("c")
        self.saved = (getattr(c, "nthreads", 0),
                      torch_module.get_num_threads() if torch_module else 0)

    def restore(self) -> None:
        if "c" in backends.REGISTRY:
            backends.REGISTRY["c"].nthreads = self.saved[0]
        if self.blas is not None:
            self.blas(os.cpu_count() or 1)
        if self.torch is not None:
            self.torch.set_num_threads(self.saved[1])

    def set(self, n: int) -> None:
        if "c" in backends.REGISTRY:
            backends.REGISTRY["c"].nthreads = n
        if self.blas is not None:
            self.blas(n)
        if self.torch is not None:
            self.torch.set_num_threads(n)


# ---- timing ----------------------------------------------------------------------------------
def median_seconds(fn: Callable[[], object], budget: float = 0.25, min_reps: int = 5,
                   max_reps: int = 2000) -> float:
    """Median wall time of fn() over as many calls as fit in ``budget`` seconds."""
    fn()  # warm-up (first-touch allocation, thread start, caches)
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    reps = int(min(max_reps, max(min_reps, budget / once)))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---- cases: name, shape text, flops, {backend: fn}, check --------------------------------------
def _torch_fns(torch, arrays, op):
    if torch is None:
        return None
    ts = [torch.from_numpy(a) for a in arrays]
    return lambda: op(torch, *ts)


def gemm_case(n: int, dtype, torch):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    fns = {name: (lambda be=be: be.matmul(a, b)) for name, be in backends.REGISTRY.items()}
    fns["torch"] = _torch_fns(torch, (a, b), lambda t, x, y: t.mm(x, y))
    return f"gemm {np.dtype(dtype).name}", f"{n}x{n}x{n}", 2.0 * n**3, fns


def mlp_gemm_cases(torch):
    """The GEMMs of the 784-100-50-10 MLP's first layer at batch 128 (forward and backward)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = rng.standard_normal((100, 784)).astype(np.float32)
    g = rng.standard_normal((128, 100)).astype(np.float32)
    for label, args, kw, top in [
            ("x @ W.T", (x, w), {"trans_b": True}, lambda t, p, q: t.mm(p, q.T)),
            ("g @ W", (g, w), {}, lambda t, p, q: t.mm(p, q)),
            ("g.T @ x", (g, x), {"trans_a": True}, lambda t, p, q: t.mm(p.T, q))]:
        fns = {name: (lambda be=be, args=args, kw=kw: be.matmul(*args, **kw))
               for name, be in backends.REGISTRY.items()}
        fns["torch"] = _torch_fns(torch, args, top)
        m = args[0].shape[1] if kw.get("trans_a") else args[0].shape[0]
        k = args[0].shape[0] if kw.get("trans_a") else args[0].shape[1]
        n = args[1].shape[0] if kw.get("trans_b") else args[1].shape[1]
        yield "gemm mlp", f"{label} ({m}x{k})@({k}x{n})", 2.0 * m * n * k, fns


def fused_linear_cases(torch, quick: bool):
    """The MLP's first layer, relu(x @ W.T + b) at batch 128, forward and backward (dW, db;
    the input needs no gradient): one fused backend call each way, against PyTorch's
    linear + relu + autograd."""
    rng = np.random.default_rng(8)
    n, k, m = (8, 16, 4) if quick else (128, 784, 100)
    x = rng.standard_normal((n, k)).astype(np.float32)
    w = (rng.standard_normal((m, k)) * 0.05).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    g = rng.standard_normal((n, m)).astype(np.float32)

    def ours(be):
        y = be.linear(x, w, b, "relu")
        return (y,) + be.linear_backward(x, w, y, g, "relu", (False, True, True))[1:]

    def theirs(t, tx, tw, tb, tg):
        tw, tb = tw.detach().requires_grad_(True), tb.detach().requires_grad_(True)
        y = t.relu(t.nn.functional.linear(tx, tw, tb))
        y.backward(tg)
        return y, tw.grad, tb.grad

    fns = {name: (lambda be=be: ours(be)) for name, be in backends.REGISTRY.items()}
    fns["torch"] = _torch_fns(torch, (x, w, b, g), theirs)
    yield "linear+relu fwd+bwd", f"{n}x{k} -> {m}", 2.0 * 2 * n * k * m, fns


def op_cases(torch, quick: bool):
    """Activations, softmax-cross-entropy and tiny ops (per-call overhead)."""
    rng = np.random.default_rng(3)
    big = (8, 16) if quick else (128, 1024)
    x = rng.standard_normal(big).astype(np.float32)
    for name, top in [("relu", lambda t, v: t.relu(v)), ("sigmoid", lambda t, v: t.sigmoid(v)),
                      ("tanh", lambda t, v: t.tanh(v)),
                      ("gelu", lambda t, v: t.nn.functional.gelu(v)),
                      ("exp", lambda t, v: t.exp(v))]:
        fns = {b: (lambda be=be, name=name: getattr(be, name)(x))
               for b, be in backends.REGISTRY.items()}
        fns["torch"] = _torch_fns(torch, (x,), top)
        yield name, f"{big[0]}x{big[1]}", 0.0, fns
    for n, c in ([(4, 3)] if quick else [(128, 10), (1024, 1000)]):
        logits = rng.standard_normal((n, c)).astype(np.float32)
        target = rng.integers(0, c, n)
        g = np.ones(n, np.float32)

        def xent(be, logits=logits, target=target, g=g):
            loss, prob = be.cross_entropy(logits, target)
            return loss, be.cross_entropy_backward(prob, target, g)

        def xent_torch(t, lg, tg):
            lg = lg.detach().requires_grad_(True)
            loss = t.nn.functional.cross_entropy(lg, tg, reduction="none")
            loss.backward(t.ones_like(loss))
            return loss, lg.grad

        fns = {b: (lambda be=be, f=xent: f(be)) for b, be in backends.REGISTRY.items()}
        fns["torch"] = _torch_fns(torch, (logits, target), xent_torch)
        yield "softmax-xent fwd+bwd", f"{n}x{c}", 0.0, fns
    for shape in [(1,), (64, 64)]:
        a = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(shape).astype(np.float32)
        a2, b2 = a.reshape(len(a), -1), b.reshape(-1, len(b))  # 2-D views for matmul
        for name, call, top in [("add", lambda be, p, q: be.add(p, q), lambda t, p, q: t.add(p, q)),
                                ("relu", lambda be, p, q: be.relu(p), lambda t, p, q: t.relu(p)),
                                ("matmul", lambda be, p, q: be.matmul(p, q),
                                 lambda t, p, q: t.mm(p, q))]:
            p, q = (a2, b2) if name == "matmul" else (a, b)
            fns = {bn: (lambda be=be, call=call, p=p, q=q: call(be, p, q))
                   for bn, be in backends.REGISTRY.items()}
            fns["torch"] = _torch_fns(torch, (p, q), top)
            yield f"tiny {name}", "x".join(map(str, shape)), 0.0, fns


MLP_SIZES = (784, 100, 50, 10)


def _mlp_step_rows(name: str, shape: str, weights: list, x: np.ndarray, y: np.ndarray,
                   loss: str, torch, jax):
    """Two rows for one MLP training step (ReLU between the layers ``weights``, a list of
    (W, b); SGD with lr 0, so every call redoes the same full step and the libraries can be
    compared at any time): eager, and captured (``micrograd.compile``, fullgraph, so a fallback
    to eager raises instead of being timed). ``loss`` is "ce" (cross-entropy on labels y) or
    "svm" (the classic demo's max-margin loss on y in {-1, 1}, + 1e-4 L2 of every parameter).
    PyTorch eager and JAX ``jit`` (the whole step one XLA computation) sit in both rows; the
    captured row is the one to hold against JAX."""
    import micrograd as mg
    import micrograd.nn.functional as F

    def build(lib, tensor):
        layers = []
        for w, b in weights:
            lin = lib.nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data[...] = tensor(w)   # .data: the same line for micrograd and torch
            lin.bias.data[...] = tensor(b)
            layers += [lin, lib.nn.ReLU()]
        model = lib.nn.Sequential(*layers[:-1])
        opt = lib.optim.SGD(model.parameters(), lr=0.0)
        fn = lib.nn.functional if lib is not mg else F

        def step(xt, yt):
            opt.zero_grad()
            out = model(xt)
            if loss == "ce":
                value = fn.cross_entropy(out, yt)
            else:
                value = (1 - yt * out.reshape(-1)).relu().mean()
                value = value + 1e-4 * sum((p * p).sum() for p in model.parameters())
            value.backward()
            opt.step()
            return value.detach()
        return step

    eager, captured = {}, {}
    for b in backends.REGISTRY:
        with mg.use_backend(b):
            step, xt, yt = build(mg, np.asarray), mg.tensor(x), mg.tensor(y)
            compiled = mg.compile(step, fullgraph=True)
            compiled(xt, yt), compiled(xt, yt)   # the two recordings: every later call replays
        eager[b] = _on(b, lambda step=step, xt=xt, yt=yt: step(xt, yt))
        captured[b] = _on(b, lambda c=compiled, xt=xt, yt=yt: c(xt, yt))
    theirs = None
    if torch is not None:
        step, xt, yt = build(torch, torch.from_numpy), torch.from_numpy(x), torch.from_numpy(y)
        theirs = lambda: step(xt, yt)  # noqa: E731
    jit = None if jax is None else jax_mlp_step(jax, weights, x, y, loss)
    yield name, shape, 0.0, {**eager, "torch": theirs, "jax": jit}
    yield f"{name}, captured", shape, 0.0, {**captured, "torch": theirs, "jax": jit}


def jax_mlp_step(jax, weights: list, x: np.ndarray, y: np.ndarray, loss: str,
                 lr: float = 0.0):
    """The same MLP step in JAX (ReLU MLP; ``loss`` "ce" or the SVM max-margin loss + L2):
    ``jax.jit`` of value_and_grad and the SGD update (lr 0 by default, as the other columns),
    the data passed as arguments (not baked into the program as constants); returns the loss,
    waited for (JAX dispatches asynchronously)."""
    jnp = jax.numpy

    def loss_fn(params, xj, yj):
        h = xj
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        if loss == "ce":
            return -jnp.take_along_axis(jax.nn.log_softmax(h), yj[:, None], axis=1).mean()
        value = jax.nn.relu(1 - yj * h[:, 0]).mean()
        return value + 1e-4 * sum((w * w).sum() + (b * b).sum() for w, b in params)

    @jax.jit
    def update(params, xj, yj):
        value, grads = jax.value_and_grad(loss_fn)(params, xj, yj)
        return value, jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)

    state = [[(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]]
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def step():
        value, state[0] = update(state[0], xj, yj)
        return value.block_until_ready()
    return step


def train_step_case(torch, quick: bool, jax=None):
    """One SGD step of the seed network (784-100-50-10 ReLU MLP, softmax cross-entropy) at
    batch 128, through micrograd's Tensor/nn/optim on each backend, eager and captured, and
    through PyTorch eager and JAX jit, all from the same initial weights. Yields nothing if
    the tensor stack is not importable."""
    try:
        import micrograd  # noqa: F401  the tensor layer is optional for the kernel benchmarks
    except ImportError as exc:
        print(f"bench: training step skipped ({exc})", file=sys.stderr)
        return
    rng = np.random.default_rng(11)
    batch = 8 if quick else 128
    x = rng.standard_normal((batch, MLP_SIZES[0])).astype(np.float32)
    y = rng.integers(0, MLP_SIZES[-1], batch)
    weights = [(rng.uniform(-0.1, 0.1, (o, i)).astype(np.float32), np.zeros(o, np.float32))
               for i, o in itertools.pairwise(MLP_SIZES)]
    yield from _mlp_step_rows("train step MLP", f"784-100-50-10 batch {batch}", weights, x, y,
                              "ce", torch, jax)


def moons_step_case(torch, jax=None):
    """The classic demo's training step on tensors: MLP 2-16-16-1 (ReLU), the 100 two-moons
    points, SVM max-margin loss + 1e-4 L2, SGD, the same code through micrograd (eager and
    captured), PyTorch eager and JAX jit from the same weights. Yields nothing if the tensor
    stack is not importable."""
    try:
        import micrograd  # noqa: F401
    except ImportError:
        return
    from .classic_demo import moons_data
    X, y = (np.asarray(v, np.float32) for v in moons_data())
    rng = np.random.default_rng(12)
    weights = [(rng.uniform(-0.5, 0.5, (o, i)).astype(np.float32),
                rng.uniform(-0.5, 0.5, o).astype(np.float32))
               for i, o in itertools.pairwise((2, 16, 16, 1))]
    yield from _mlp_step_rows("train step moons", "2-16-16-1, 100 points", weights, X, y,
                              "svm", torch, jax)


def _training_steps(torch, build, data, loss) -> tuple[dict, dict]:
    """({backend: step, "torch": step or None}, the same with micrograd's steps captured): one
    training step (forward, ``loss(lib, output, target)``, backward, SGD) of the network
    ``build(lib)`` makes from ``lib.nn``, micrograd's or torch's, on the ``data`` arrays
    (input, target). Every copy loads one initialisation (the parameter names are the same in
    both libraries). The learning rate is 0 so every call redoes the same step and the backends
    can be compared at any time; a step returns its loss and the first parameter's gradient.
    The captured steps are ``micrograd.compile(step, fullgraph=True)`` after its two
    recordings (a step it cannot replay raises here rather than being timed eagerly)."""
    import micrograd as mg
    mg.manual_seed(0)
    weights = {k: v.numpy() for k, v in build(mg).state_dict().items()}

    def make(lib, tensor, compiled=False):
        model = build(lib)
        model.load_state_dict({k: tensor(v.copy()) for k, v in weights.items()})
        opt = lib.optim.SGD(model.parameters(), lr=0.0)
        first = next(iter(model.parameters()))
        x, y = (tensor(a) for a in data)

        def step(x, y):  # the data as arguments, as a captured step needs them
            opt.zero_grad()
            value = loss(lib, model(x), y)
            value.backward()
            opt.step()
            return value.detach(), first.grad
        if compiled:
            step = mg.compile(step, fullgraph=True)
            step(x, y), step(x, y)  # the two recordings: every later call replays
        return lambda: step(x, y)

    fns, captured = {}, {}
    for b in backends.REGISTRY:
        fns[b] = _on(b, make(mg, mg.tensor))
        with mg.use_backend(b):
            captured[b] = _on(b, make(mg, mg.tensor, compiled=True))
    fns["torch"] = captured["torch"] = (None if torch is None
                                        else make(torch, torch.from_numpy))
    return fns, captured


def cnn_step_case(torch, quick: bool):
    """A LeNet-sized CNN training step: PyTorch's MNIST example network without its dropout
    (conv 1->32, conv 32->64, 2x2 max pool, linear 9216->128->10, log_softmax + nll_loss;
    ``train.cnn_layers``, the network of ``demo --model cnn``, at the example's 28x28) at
    batch 64. Yields nothing if the tensor stack is not importable."""
    try:
        from .train import cnn_layers
    except ImportError as exc:
        print(f"bench: CNN step skipped ({exc})", file=sys.stderr)
        return
    rng = np.random.default_rng(13)
    batch = 2 if quick else 64
    data = (rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch))
    fns, captured = _training_steps(
        torch, lambda lib: lib.nn.Sequential(*cnn_layers(lib.nn, 28, padding=0, dropout=False)),
        data, lambda lib, out, y: lib.nn.functional.nll_loss(out, y))
    yield "train step CNN", f"LeNet 28x28 batch {batch}", 0.0, fns
    yield "train step CNN, captured", f"LeNet 28x28 batch {batch}", 0.0, captured


def lstm_step_case(torch, quick: bool):
    """An LSTM training step: one layer, input and hidden 256, sequence 64, batch 32
    (float32), MSE loss of its outputs against a random target, as bench/bench_lstm.py."""
    try:
        import micrograd  # noqa: F401  the tensor layer is optional for the kernel benchmarks
    except ImportError:
        return
    seq, batch, width = (4, 2, 8) if quick else (64, 32, 256)
    rng = np.random.default_rng(14)
    data = tuple(rng.standard_normal((seq, batch, width)).astype(np.float32) for _ in "xy")
    fns, captured = _training_steps(
        torch, lambda lib: lib.nn.LSTM(width, width), data,
        lambda lib, out, y: lib.nn.functional.mse_loss(out[0], y))
    yield "train step LSTM", f"{width}->{width} seq {seq} batch {batch}", 0.0, fns
    yield "train step LSTM, captured", f"{width}->{width} seq {seq} batch {batch}", 0.0, captured


def tiny_autograd_cases(torch):
    """Tiny ops with autograd recording: y = op(a, b) on tensors that require grad."""
    try:
        import micrograd as mg
    except ImportError:
        return
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (64, 64)]:
        a = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(shape).astype(np.float32)
        ta, tb = (mg.tensor(v, requires_grad=True) for v in (a, b))
        for name, ours, theirs in [("add", lambda p, q: p + q, lambda p, q: p + q),
                                   ("relu", lambda p, q: p.relu(), lambda p, q: p.relu()),
                                   ("matmul", lambda p, q: p @ q, lambda p, q: p @ q)]:
            fns = {be: _on(be, lambda f=ours, ta=ta, tb=tb: f(ta, tb)._array)
                   for be in backends.REGISTRY}
            if torch is not None:
                pa, pb = (torch.from_numpy(v.copy()).requires_grad_(True) for v in (a, b))
                fns["torch"] = lambda f=theirs, pa=pa, pb=pb: f(pa, pb)
            else:
                fns["torch"] = None
            yield f"autograd {name}", "x".join(map(str, shape)), 0.0, fns


def optimizer_cases(torch):
    """One Adam and one SGD-momentum update of the MLP's parameters (84,060 floats in six
    arrays) through the backends' fused in-place kernels, and through torch.optim. lr = 0
    keeps the parameters fixed so the backends can be compared at any time (the moments
    still update); the update math itself is parity-tested in tests/test_backend_parity.py."""
    rng = np.random.default_rng(9)
    shapes = [(o, i) for i, o in itertools.pairwise(MLP_SIZES)]
    shapes = [s for w in shapes for s in (w, (w[0],))]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    for name in ("adam", "sgd momentum"):
        fns = {}
        for b, be in backends.REGISTRY.items():
            ps = [p.copy() for p in params]
            ms = [np.zeros_like(p) for p in params]
            vs = [np.zeros_like(p) for p in params]
            if name == "adam":
                def step(be=be, ps=ps, ms=ms, vs=vs):
                    for p, g, m, v in zip(ps, grads, ms, vs):
                        be.adam_step(p, g, m, v, None, 10, 0.0, 0.9, 0.999, 1e-8)
                    return ps[0]
            else:
                def step(be=be, ps=ps, ms=ms):
                    for p, g, m in zip(ps, grads, ms):
                        be.sgd_step(p, g, m, 0.0, 0.9)
                    return ps[0]
            fns[b] = step
        fns["torch"] = None
        if torch is not None:
            tp = [torch.from_numpy(p.copy()).requires_grad_(True) for p in params]
            for t, g in zip(tp, grads):
                t.grad = torch.from_numpy(g)
            opt = (torch.optim.Adam(tp, lr=0.0) if name == "adam"
                   else torch.optim.SGD(tp, lr=0.0, momentum=0.9))
            fns["torch"] = lambda opt=opt, tp=tp: (opt.step(), tp[0].detach())[1]
        yield f"{name} update", "MLP params (84,060)", 0.0, fns


def _on(backend: str, fn):
    """``fn`` made to run on ``backend``, restoring the thread's choice after each call. A plain
    swap of ``settings.backend``: ``use_backend``'s context manager costs ~1 us, as much as
    the tiny ops timed with this, and would be timed with them."""
    chosen = backends.REGISTRY[backend]

    def call():
        previous = settings.backend
        settings.backend = chosen
        try:
            return fn()
        finally:
            settings.backend = previous
    return call


def _as_numpy(result):
    if isinstance(result, tuple):
        return tuple(_as_numpy(r) for r in result)
    if hasattr(result, "detach"):
        return result.detach().numpy()
    return np.asarray(getattr(result, "data", result))


def check_agree(name: str, fns: dict) -> None:
    """All backends give the NumPy backend's answer (float32 tolerances)."""
    want = _as_numpy(fns["numpy"]())
    for backend, fn in fns.items():
        if fn is None or backend == "numpy":
            continue
        got = _as_numpy(fn())
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            scale = max(float(np.max(np.abs(w))) if w.size else 1.0, 1.0)
            if not np.allclose(g, w, rtol=1e-4, atol=1e-4 * scale):
                raise AssertionError(f"bench: {backend} disagrees with numpy on {name}")


# ---- the run ---------------------------------------------------------------------------------
def import_jax(threads: list[int]):
    """JAX, imported on first use (an optional comparison), or None when it is not installed.
    XLA fixes its CPU threads when JAX is imported: one thread if every row asks for one
    (``XLA_FLAGS``, unless already set), else XLA's own pool over all cores in every row."""
    if set(threads) == {1}:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1")
    try:
        import jax
    except ImportError:
        return None
    return jax


def machine_info(torch, jax=None, argv: list[str] | None = None) -> dict:
    """Where the figures come from: the CPU and the caches the C core detected (the same facts
    as ``micrograd info``), versions, load and the environment variables that change speed."""
    core = backends.info()
    argv = sys.argv[1:] if argv is None else argv
    info = {"cpu": core.get("cpu") or platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "torch": getattr(torch, "__version__", None),
            "jax": getattr(jax, "__version__", None),
            "backends": backends.available_backends(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": shlex.join(["python", "-m", "micrograd", "bench", *argv]),
            "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                               "OMP_NUM_THREADS", "MICROGRAD_NUM_THREADS",
                                               "XLA_FLAGS")
                    if k in os.environ}}
    if core["built"]:
        info["c_gemm_isa"], info["c_openmp"] = core["gemm_isa"], core["openmp"]
        info["caches"], info["gemm_blocking"] = core["caches"], core["gemm_blocking"]
    return info


def header_lines(info: dict, core_peak: float | None) -> list[str]:
    """The table's provenance: machine, caches, blocking, measured peak, versions, date, load."""
    lines = [f"micrograd bench, {info['date_utc']}: {info['command'].strip()}",
             f"machine: {info['cpu']}, {info['cores']} logical CPUs; Python {info['python']}, "
             f"numpy {info['numpy']}, torch {info['torch'] or 'not installed'}, "
             f"jax {info['jax'] or 'not installed (no jax column)'}"]
    lines += core_lines(backends.info())
    if core_peak is not None:
        lines.append(f"FMA peak, measured: {core_peak:.0f} GFLOP/s per core" if core_peak
                     else "FMA peak: not measured (no C core or no FMA unit)")
    if info["load_average_1min"] is not None:
        lines.append(f"load average (1 min) at start: {info['load_average_1min']:.2f} on "
                     f"{info['cores']} CPUs (other processes make timings noisy)")
    if info["env"]:
        lines.append(f"environment: {info['env']} (OPENBLAS_* change NumPy's speed, XLA_FLAGS "
                     "JAX's threads)")
    if info["jax"]:
        one = "intra_op_parallelism_threads=1" in info["env"].get("XLA_FLAGS", "")
        lines.append("jax threads: " + ("one (XLA_FLAGS)" if one else
                                        "XLA's own pool in every row (fixed when JAX is "
                                        "imported; --threads 1 asks for one)"))
    return lines


def run(quick: bool, threads: list[int], torch, only: str = "", jax=None,
        core_peak: float | None = None, runs: int = 1) -> tuple[dict, list[dict]]:
    """Check every case's backends agree, then (unless ``quick``) time each backend: ``runs``
    times over the whole case list, each a median of many calls. A row's ``median_s`` is the
    median over the runs, ``range_s`` the (min, max) of the runs' medians."""
    ctl = Threads(torch)
    rows = []
    cases = [gemm_case(n, np.float32, torch) for n in (QUICK_GEMM_SIZES if quick else GEMM_SIZES)]
    if not quick:
        cases += [gemm_case(n, np.float64, torch) for n in (256, 1024)]
        cases += list(mlp_gemm_cases(torch))
    cases += list(fused_linear_cases(torch, quick))
    cases += list(op_cases(torch, quick))
    cases += list(tiny_autograd_cases(torch))
    cases += list(optimizer_cases(torch))
    cases += list(train_step_case(torch, quick, jax))
    cases += list(moons_step_case(torch, jax))
    cases += list(cnn_step_case(torch, quick))
    cases += list(lstm_step_case(torch, quick))
    cases = [c for c in cases if only in f"{c[0]} {c[1]}"]
    if core_peak is None:
        core_peak = 0.0 if quick else fma_peak(1)
    peaks = {}
    for nt in threads:
        ctl.set(nt)
        # the FMA loop is measured on one core; n threads have n cores' worth of FMA units
        peaks[nt] = nt * core_peak
        for name, shape, _, fns in cases:
            check_agree(f"{name} {shape}", fns)
        if quick:
            rows += [{"case": name, "shape": shape, "threads": nt, "agree": True}
                     for name, shape, _, _ in cases]
            continue
        timed: list[dict[str, list[float]]] = [{} for _ in cases]
        for _ in range(runs):
            for (name, shape, flops, fns), times in zip(cases, timed):
                for backend, fn in fns.items():
                    if fn is not None:
                        # let the previous library's worker threads stop spinning (OpenBLAS
                        # spins for ~2^28 cycles after a call), else they steal the second core
                        time.sleep(0.25)
                        times.setdefault(backend, []).append(median_seconds(fn))
        for (name, shape, flops, fns), times in zip(cases, timed):
            rows.append({"case": name, "shape": shape, "threads": nt, "flops": flops,
                         "median_s": {b: statistics.median(t) for b, t in times.items()},
                         "range_s": {b: (min(t), max(t)) for b, t in times.items()},
                         "runs": runs, "fma_peak_gflops": peaks[nt]})
    ctl.restore()
    return {"peak_gflops": peaks}, rows


RATIO_COLUMNS = ("numpy", "torch", "jax")


def format_table(rows: list[dict]) -> str:
    """One line per case and backend: median (and the range over runs), GFLOP/s, % of peak,
    and on the C backend's line the ratios of the other libraries' times to C's."""
    header = (f"{'case':28} {'shape':28} {'thr':>3} {'backend':7} {'median':>10} "
              f"{'range over runs':>21} {'GFLOP/s':>8} {'%peak':>6} "
              + " ".join(f"{lib + '/c':>8}" for lib in RATIO_COLUMNS))
    out = [header]
    for r in rows:
        if "median_s" not in r:
            out.append(f"{r['case']:28} {r['shape']:28} {r['threads']:>3} backends agree")
            continue
        t = r["median_s"]
        for backend, sec in t.items():
            gf = r["flops"] / sec / 1e9 if r["flops"] else None
            peak = r["fma_peak_gflops"]
            lo, hi = r.get("range_s", {}).get(backend, (sec, sec))
            spread = f"{_fmt_time(lo)}-{_fmt_time(hi)}" if r.get("runs", 1) > 1 else ""
            ratios = [f"{t[other] / t['c']:8.2f}" if backend == "c" and other in t else " " * 8
                      for other in RATIO_COLUMNS]
            out.append(f"{r['case']:28} {r['shape']:28} {r['threads']:>3} {backend:7} "
                       f"{_fmt_time(sec):>10} {spread:>21} "
                       f"{(f'{gf:8.1f}' if gf else ''):>8} "
                       f"{(f'{100 * gf / peak:5.0f}%' if gf and peak else ''):>6} "
                       + " ".join(ratios))
    return "\n".join(out)


def _fmt_time(sec: float) -> str:
    return f"{sec * 1e6:.1f} us" if sec < 1e-3 else f"{sec * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="micrograd bench",
        description="Kernel benchmarks: the C backend side by side with NumPy (and PyTorch and "
                    "JAX when installed), in one process; see docs/BENCHMARKS.md.")
    parser.add_argument("--quick", action="store_true",
                        help="small shapes, check the backends agree, no timing (CI smoke)")
    parser.add_argument("--json", metavar="PATH", help="also save machine info and rows as JSON")
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated thread counts to run (default 1,2)")
    parser.add_argument("--runs", type=int, default=1,
                        help="time every case this many times and show the range (default 1)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX even if installed")
    parser.add_argument("--only", default="", metavar="TEXT",
                        help="run only the cases whose name and shape contain TEXT (e.g. gemm)")
    args = parser.parse_args(argv)
    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        parser.error(f"--threads must be comma-separated integers, got {args.threads!r}")
    if not threads or min(threads) < 1:
        parser.error(f"--threads must list counts >= 1, got {args.threads!r}")
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    if "c" not in backends.REGISTRY:
        print(f"bench: the C backend is not built ({backends.C_IMPORT_ERROR}); "
              "only NumPy (and PyTorch) will run", file=sys.stderr)
    torch = None
    if not args.no_torch:
        try:
            import torch  # optional, for the comparison columns
        except ImportError:
            torch = None
    jax = None if args.no_jax else import_jax(threads)
    info = machine_info(torch, jax, argv)
    core_peak = 0.0 if args.quick or "c" not in backends.REGISTRY else fma_peak(1)
    for line in header_lines(info, None if args.quick else core_peak):
        print(line)
    if jax is None and not args.no_jax:
        print("jax: not installed, its column is left out (pip install jax)")
    extra, rows = run(args.quick, threads, torch, args.only, jax, core_peak, args.runs)
    info.update(extra)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rows": rows, "quick": args.quick}, f, indent=1)
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
