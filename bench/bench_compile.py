"""The captured training step (micrograd.compile) against eager micrograd, a hand-written NumPy
step and JAX ``jit`` (when installed), on one thread, medians side by side.

Steps: the two-moons MLP 2-16-16-1 (ReLU), 100 points, SVM max-margin loss + 1e-4 L2, SGD
(the classic demo's step, as ``micrograd bench`` runs it); the seed MLP 784-100-50-10 (ReLU),
batch 128, cross-entropy, SGD. Each implementation starts from the same weights; the losses of
their first steps are printed so a reader can see they compute the same thing. The columns are
timed side by side: each round times every implementation once, in turn, and the medians over
the rounds are printed (the machine's load then weighs on all columns alike). The "bare tape"
column runs the moons step on a minimal Python tape (``tape_step``: a node and a closure per
op, the same C kernels, none of micrograd's checks and features): the least a Python graph
costs, for reading the eager column. The last column says how many of the compiled step's
recorded calls run as C steps (csrc/executor.c).

    MICROGRAD_NUM_THREADS=1 OMP_NUM_THREADS=1 python bench/bench_compile.py [--repeat 15]
"""
from __future__ import annotations

import argparse
import os
import statistics
import timeit
import warnings

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")
import numpy as np  # noqa: E402

import micrograd as mg  # noqa: E402
from micrograd import nn, optim  # noqa: E402
from micrograd.apps.bench import jax_mlp_step  # noqa: E402
from micrograd.apps.classic_demo import moons_data  # noqa: E402
from micrograd.compile import compile as mg_compile  # noqa: E402
from micrograd.nn import functional as F  # noqa: E402

LR = 0.01


def side_by_side_us(fns: dict, number: int, repeat: int) -> dict:
    """{name: median us per call}, each round timing every function once, in turn."""
    rounds: dict = {k: [] for k, f in fns.items() if f}
    for f in fns.values():
        if f:
            f()
    for _ in range(repeat):
        for k in rounds:
            rounds[k].append(timeit.timeit(fns[k], number=number) / number * 1e6)
    return {k: statistics.median(rounds[k]) if k in rounds else float("nan") for k in fns}


def init(sizes: tuple, seed: int = 12) -> list:
    rng = np.random.default_rng(seed)
    return [((rng.uniform(-0.5, 0.5, (o, i)) / np.sqrt(i / 2)).astype(np.float32),
             rng.uniform(-0.5, 0.5, o).astype(np.float32) * 0.1)
            for i, o in zip(sizes, sizes[1:])]


def micrograd_step(sizes, weights, loss_kind, x, y):
    layers = []
    for w, b in weights:
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data[...] = w
        lin.bias.data[...] = b
        layers += [lin, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = mg.from_numpy(x), mg.from_numpy(y)

    def step(xt, yt):
        opt.zero_grad()
        if loss_kind == "svm":
            scores = model(xt).reshape(-1)
            loss = (1 - yt * scores).relu().mean()
            loss = loss + 1e-4 * sum((p * p).sum() for p in model.parameters())
        else:
            loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss
    return (lambda: step(xt, yt)), step, (xt, yt)


def numpy_step(weights, loss_kind, x, y):
    """Forward, backward and SGD by hand on float32 arrays (what a careful NumPy user writes)."""
    params = [(w.copy(), b.copy()) for w, b in weights]
    n = len(x)

    def step():
        acts, h = [x], x
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        if loss_kind == "svm":
            s = h[:, 0]
            margin = 1 - y * s
            loss = np.maximum(margin, 0).mean() + 1e-4 * sum((w * w).sum() + (b * b).sum()
                                                             for w, b in params)
            g = (np.where(margin > 0, -y, 0) / n).astype(np.float32)[:, None]
        else:
            z = h - h.max(1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(1, keepdims=True)
            loss = -np.log(p[np.arange(n), y]).mean()
            g = p
            g[np.arange(n), y] -= 1
            g /= n
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            dw, db = g.T @ acts[i], g.sum(0)
            if loss_kind == "svm":
                dw += 2e-4 * w
                db += 2e-4 * b
            if i:
                g = (g @ w) * (acts[i] > 0)
            w -= LR * dw
            b -= LR * db
        return loss
    return step


class _Node:
    """A node of ``tape_step``'s bare tape: its array, inputs and a backward closure."""

    __slots__ = ("a", "prev", "backward", "grad", "seq")
    count = 0

    def __init__(self, a, prev=(), backward=None):
        self.a, self.prev, self.backward, self.grad = a, prev, backward, None
        _Node.count += 1
        self.seq = _Node.count

    def __mul__(self, other):
        other = other if isinstance(other, _Node) else _Node(np.float32(other))
        a, b = self.a, other.a
        return _Node(a * b, (self, other), lambda g: (g * b, g * a))

    __rmul__ = __mul__

    def __add__(self, other):
        other = other if isinstance(other, _Node) else _Node(np.float32(other))
        return _Node(self.a + other.a, (self, other), lambda g: (g, g))

    __radd__ = __add__

    def __rsub__(self, other):
        other = _Node(np.float32(other))
        return _Node(other.a - self.a, (other, self), lambda g: (g, -g))

    def relu(self):
        a = self.a
        return _Node(np.maximum(a, 0), (self,), lambda g: (np.where(a > 0, g, 0).astype(g.dtype),))

    def sum(self):
        shape = self.a.shape

        def backward(g):
            out = np.empty(shape, np.float32)
            out.fill(g)
            return (out,)
        return _Node(np.add.reduce(self.a, axis=None), (self,), backward)

    def mean(self):
        return self.sum() * (1.0 / self.a.size)

    def reshape(self, *shape):
        old = self.a.shape
        return _Node(self.a.reshape(shape), (self,), lambda g: (g.reshape(old),))

    def backward_all(self):
        """Reverse creation order over the nodes reachable from self (micrograd's order)."""
        nodes, seen, stack = [], {self}, [self]
        while stack:
            for p in stack.pop().prev:
                if p.prev and p not in seen:
                    seen.add(p)
                    nodes.append(p)
                    stack.append(p)
        nodes.sort(key=lambda n: n.seq)
        grads = {self: np.ones((), np.float32)}
        for node in reversed(nodes + [self]):
            g = grads.pop(node, None)
            if g is not None:
                for p, pg in zip(node.prev, node.backward(g)):
                    if pg is not None:
                        grads[p] = grads[p] + pg if p in grads else pg
        for p, g in grads.items():
            if p.backward is None:
                p.grad = g


def tape_step(weights, loss_kind, x, y):
    """The moons step on a bare Python tape (a node per op, a closure per backward, micrograd's
    C kernels for the layers and the update) with none of micrograd's features: no dtype or
    shape checks, version counters, hooks, views, grad modes or modules. What a Python graph
    costs at the least, beside micrograd's eager step; None for the other step."""
    try:
        from micrograd.backends import c_backend as C
    except ImportError:  # no C core
        return None
    if loss_kind != "svm":
        return None
    params = [(_Node(w.copy()), _Node(b.copy())) for w, b in weights]
    xt, yt = _Node(x), _Node(y)

    def linear(h, w, b, relu):
        xa, wa, ba = h.a, w.a, b.a
        act = C.ACTIVATIONS["relu" if relu else None]
        out = C.linear(xa, wa, ba, act, 1)
        need = (h.backward is not None, True, True)
        return _Node(out, (h, w, b), lambda g: C.linear_backward(
            xa, wa, out if relu else None, g, act, need, 1))

    def step():
        h = xt
        for i, (w, b) in enumerate(params):
            h = linear(h, w, b, i < len(params) - 1)
        loss = (1 - yt * h.reshape(-1)).relu().mean()
        loss = loss + 1e-4 * sum((p * p).sum() for w, b in params for p in (w, b))
        loss.backward_all()
        for w, b in params:
            for p in (w, b):
                C.sgd_step(p.a, p.grad, None, LR, 0.0, 0.0, 0.0, False, False, False)
        return loss.a
    return step


def jax_step(weights, loss_kind, x, y):
    """The same step under ``jax.jit`` (micrograd bench's JAX step at this script's LR), or
    None without JAX."""
    try:
        import jax
    except ImportError:
        return None
    return jax_mlp_step(jax, weights, x, y, loss_kind, lr=LR)


def cases():
    X, y = (np.asarray(v, np.float32) for v in moons_data())
    yield "moons 2-16-16-1, batch 100", (2, 16, 16, 1), "svm", X, y
    rng = np.random.default_rng(0)
    X = rng.standard_normal((128, 784)).astype(np.float32)
    yield "seed 784-100-50-10, batch 128", (784, 100, 50, 10), "ce", X, rng.integers(0, 10, 128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backend", default="c")
    args = parser.parse_args()
    mg.set_backend(args.backend)
    print(f"backend {args.backend}; median us per step over {args.repeat} repeats")
    print(f"{'case':32s} {'eager':>9s} {'compiled':>9s} {'numpy':>9s} {'jax jit':>9s} "
          f"{'bare tape':>9s}   first losses (eager, compiled, numpy, jax, tape); C steps")
    for name, sizes, kind, X, Y in cases():
        w = init(sizes)
        number = 200 if sizes[0] == 2 else 20
        eager, _, _ = micrograd_step(sizes, w, kind, X, Y)
        _, step, inputs = micrograd_step(sizes, w, kind, X, Y)
        compiled = mg_compile(step)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback would make the column meaningless
            first = [float(eager()), float(compiled(*inputs))]
            compiled(*inputs), compiled(*inputs)
        fns = {"eager": eager, "compiled": lambda: compiled(*inputs),
               "numpy": numpy_step(w, kind, X, Y), "jax": jax_step(w, kind, X, Y),
               "tape": tape_step(w, kind, X, Y)}
        first += [float(f()) for k, f in fns.items() if f and k in ("numpy", "jax", "tape")]
        times = side_by_side_us(fns, number, args.repeat)
        (plan,) = compiled.plans.values()
        lowering = getattr(plan, "lowering", None)
        steps = "none" if lowering is None else \
            "{lowered_calls} of {calls} calls, {steps} steps".format(**lowering.count())
        cells = (f"{times[k]:9.1f}" if fns[k] else f"{'-':>9s}" for k in fns)
        print(f"{name:32s} " + " ".join(cells)
              + "   " + ", ".join(f"{v:.5f}" for v in first) + f"; {steps}")


if __name__ == "__main__":
    main()
