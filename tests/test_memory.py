"""Memory: training keeps resident memory flat, graphs are freed by reference counting (no cycles
that only the garbage collector could break), and very deep graphs backpropagate and free
without recursion.

RSS comes from /proc/self/statm (Linux); elsewhere those tests are skipped.
"""
from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import tracemalloc
import weakref
from pathlib import Path

import numpy as np
import pytest

import micrograd as mg
from micrograd import Value, nn, optim
from micrograd.core.graph import toposort
from micrograd.nn import functional as F

STATM = "/proc/self/statm"
needs_statm = pytest.mark.skipif(not os.path.exists(STATM), reason="needs Linux /proc/self/statm")
# ASan (scripts/sanitize.sh) keeps freed memory in quarantine on purpose: RSS grows there
not_asan = pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""),
                              reason="AddressSanitizer's quarantine holds freed memory")


def rss_bytes() -> int:
    with open(STATM) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _tiny_setup(seed: int = 0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 3, 8))
    return model, opt, x, y


def _step(model, opt, x, y) -> float:
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


@needs_statm
@not_asan
def test_10k_training_steps_keep_rss_flat(backend):
    """A leak of one small graph per step (a few KB: arrays, Functions, Tensors) would add tens
    of MB over 10,000 steps; the budget after warm-up is 4 MB (allocator noise)."""
    model, opt, x, y = _tiny_setup()
    for _ in range(1000):                       # warm-up: caches, allocator pools, Adam state
        _step(model, opt, x, y)
    gc.collect()
    before = rss_bytes()
    for _ in range(9000):
        loss = _step(model, opt, x, y)
    gc.collect()
    grown = rss_bytes() - before
    assert math.isfinite(loss)
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB over 9,000 training steps"


def test_training_graphs_are_freed_by_refcounting_alone(backend):
    """With the collector off, 300 steps must leave nothing for it to find: each step's graph
    is freed as soon as the loss goes out of scope (a cycle per step would pile up)."""
    model, opt, x, y = _tiny_setup()
    _step(model, opt, x, y)
    gc.collect()
    gc.disable()
    try:
        for _ in range(300):
            _step(model, opt, x, y)
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0, f"{found} objects were only reclaimable by the garbage collector"


def test_graph_and_saved_arrays_die_with_the_loss(backend):
    """Dropping the output frees every intermediate Tensor, and backward frees the saved arrays
    even while the output is still alive (retain_graph=False)."""
    model, _, x, y = _tiny_setup()
    hidden = model[1](model[0](x))
    probe = weakref.ref(hidden)
    loss = F.cross_entropy(model[2](hidden), y)
    del hidden
    assert probe() is not None                  # kept alive by the graph
    ops = [t.grad_fn for t in toposort(loss) if t.grad_fn is not None]

    def saved_arrays():
        return [v for fn in ops for v in vars(fn).values() if isinstance(v, np.ndarray)]
    assert saved_arrays()
    loss.backward()
    assert all(fn.freed for fn in ops) and not saved_arrays()
    del loss, ops
    assert probe() is None                      # no cycle: refcounting freed it at once


def test_scalar_chain_of_200k_nodes_backprops_and_frees():
    """Deep scalar graph with a non-trivial gradient: d/dx (x * c^200000) = c^200000. Dropping
    it must not overflow the C stack (deallocation of a 200k-long chain)."""
    c = 1.0 + 1e-5
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * c
    y.backward()
    assert x.grad == pytest.approx(c ** 200_000, rel=1e-9)
    del y                                       # a recursive dealloc would crash here
    assert x.grad > 0


def test_tensor_chain_of_10k_ops_backprops_and_frees(backend):
    """10,000 recorded ops (alternating kinds) in one graph: backward is iterative, the
    gradient is exact, and the graph is freed when the output goes."""
    x = mg.tensor(np.linspace(-1, 1, 16), dtype=mg.float64, requires_grad=True)
    y = x
    for i in range(10_000):
        y = y * 1.0001 if i % 2 else y + 0.5
    out = y.sum()
    first = weakref.ref(out._prev[0]._prev[0])
    out.backward()
    np.testing.assert_allclose(x.grad._array, np.full(16, 1.0001 ** 5000), rtol=1e-10)
    want = x._array.copy()
    for i in range(10_000):
        want = want * 1.0001 if i % 2 else want + 0.5
    np.testing.assert_allclose(y._array, want, rtol=1e-12)
    assert first() is None  # backward (no retain_graph) already let go of the intermediates


def test_deep_chain_through_every_op_kind(backend):
    """A deep graph through reshapes, permutes, matmuls and activations (not only + and *).
    Every op's backward runs, but each branch through w is multiplied by 0: w's gradient is
    exactly zero (a finite number times 0), the value stays ones."""
    w = mg.eye(8, dtype=mg.float64, requires_grad=True)
    h = mg.ones(2, 8, dtype=mg.float64)
    for _ in range(1500):
        h = (h @ w).reshape(8, 2).T.tanh() * 0 + h
    h.sum().backward()
    assert w.grad is not None and w.grad.shape == (8, 8)
    np.testing.assert_array_equal(w.grad._array, np.zeros((8, 8)))
    np.testing.assert_array_equal(h._array, np.ones((2, 8)))


def test_losses_kept_after_backward_hold_no_activations(backend):
    """A loss appended to a list for logging, after a backward without retain_graph, keeps
    none of its step's activations or saved arrays (about 1 MB a step for this MLP before):
    over 50 kept steps NumPy's traced memory stays flat. A second backward through such a
    loss is torch's error."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = optim.SGD(model.parameters(), lr=0.01)
    x, y = mg.randn(256, 784), mg.randint(0, 10, (256,))
    losses = []

    def step() -> None:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss)
    tracemalloc.start()
    try:
        for _ in range(10):  # the step's live gradients are counted in both measurements
            step()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(40):
            step()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(losses) == 50
    assert grown < 2**20, f"{grown / 2**20:.1f} MiB kept by 40 more losses"
    assert np.isfinite(losses[-1].item())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        losses[-1].backward()


def test_backward_frees_intermediates_but_not_what_the_user_holds(backend):
    """After backward (no retain_graph) an intermediate the user holds keeps its values, and
    a backward from it is torch's second-time error; with retain_graph=True the graph stays
    whole and a second backward adds the same gradient again."""
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    h = x.exp()
    inner = weakref.ref(h * 2.0)  # only the graph holds it
    loss = (h * 2.0).sum()
    mid = weakref.ref(loss._prev[0])
    loss.backward()
    assert inner() is None and mid() is None
    np.testing.assert_allclose(h.detach().numpy(), np.exp([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        h.sum().backward()
    y = x * x
    out = y.sum()
    out.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), first + 2 * x.detach().numpy())


_REUSE = """
import resource, sys, numpy as np
import micrograd  # loads the C core, which sets the allocator
from micrograd.backends import c_backend
def step():  # a step's activations: blocks of 8 MiB made, written and freed
    arrays = [np.ones((2048, 1024), np.float32) for _ in range(4)]
    return sum(float(a[0, 0]) for a in arrays)
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(c_backend.KEEPS_FREED_MEMORY, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


@pytest.mark.skipif(not os.path.exists(STATM) or sys.platform != "linux", reason="glibc on Linux")
@not_asan
@pytest.mark.parametrize("keep", ["", "0"])
def test_steps_reuse_the_memory_the_previous_step_freed(keep):
    """With the C core loaded, glibc keeps the blocks a step frees (csrc/memory.c): the next
    step's 8 MiB arrays take no page faults; MICROGRAD_KEEP_FREED_MEMORY=0 leaves glibc's
    defaults, under which every step faults its 32 MiB in again (about 2,000 faults here; an
    LSTM step took 5,100 and 14 ms of system time)."""
    pytest.importorskip("micrograd._C", reason="the C core is not built")
    env = {**os.environ, "MICROGRAD_KEEP_FREED_MEMORY": keep}
    out = subprocess.run([sys.executable, "-c", _REUSE], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    if os.environ.get("LD_PRELOAD") or "libc.so" not in Path("/proc/self/maps").read_text():
        pytest.skip("not glibc's malloc")
    kept, faults = out[0] == "True", float(out[1])
    if keep == "0":
        assert not kept and faults > 1000
    else:
        assert kept and faults < 50
