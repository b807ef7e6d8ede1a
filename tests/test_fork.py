"""Fork safety: a child process forked after the parent ran a threaded GEMM computes correct
results instead of hanging in its first threaded kernel (libgomp's thread pool does not survive
fork; the C core marks the child and runs its kernels on one thread, csrc/fork.c).

Every scenario runs in a fresh interpreter (the test process itself never forks) with two
OpenMP threads, so the parent's GEMM is threaded on any machine. A hang is bounded twice: the
script gives up on a silent child (``CHILD_WAIT`` seconds) and the subprocess has a timeout, so
a regression fails the test instead of hanging the suite."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import micrograd as mg

CHILD_WAIT = 30  # seconds a child may take; a healthy one needs well under one

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")

# The parent runs one threaded 512^3 product, then hands `work` to a forked child (os.fork) and
# waits at most CHILD_WAIT seconds for it. The child's exit code carries the verdict.
_FORK_SCRIPT = """
import os, sys, time
import numpy as np
import micrograd as mg
from micrograd import backends

def wait(pid):
    deadline = time.monotonic() + {wait}
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "hung"

def check(got, want):
    if not np.allclose(got, want, rtol=1e-4, atol=1e-3):
        sys.stderr.write("wrong result in pid %d\\n" % os.getpid())
        os._exit(3)

rng = np.random.default_rng(0)
a, b = (rng.standard_normal((512, 512)).astype(np.float32) for _ in range(2))
want = a.astype(np.float64) @ b.astype(np.float64)
check((mg.tensor(a) @ mg.tensor(b)).numpy(), want)     # threaded in the parent (C backend)
{work}
"""

# os.fork(): the child (and a grandchild) multiply, train a step of a wide layer and measure the
# FMA peak on "2" threads (another OpenMP region), each with a deadline.
_PLAIN_FORK = """
def child_work():
    check((mg.tensor(a) @ mg.tensor(b)).numpy(), want)
    x = mg.tensor(a, requires_grad=True)
    w = mg.tensor(b, requires_grad=True)
    mg.nn.functional.linear(x, w).sum().backward()       # forward and both gradients
    check(x.grad.numpy(), np.broadcast_to(b.astype(np.float64).sum(0), (512, 512)))
    backends.fma_peak_flops(1000, 2)
    info = backends.info()
    if info["built"] and info["max_threads"] != 1:
        sys.stderr.write("a forked child reports %d threads\\n" % info["max_threads"])
        os._exit(4)

pid = os.fork()
if pid == 0:
    child_work()
    grandchild = os.fork()
    if grandchild == 0:
        child_work()
        os._exit(0)
    os._exit(0 if wait(grandchild) == 0 else 5)
code = wait(pid)
if code != 0:
    sys.exit("child: %s" % code)
check((mg.tensor(a) @ mg.tensor(b)).numpy(), want)     # the parent still computes
info = backends.info()
if info["built"]:
    from micrograd._C import lib
    assert lib.mg_forked_child() == 0 and info["max_threads"] == 2, info
print("ok")
"""

# multiprocessing's fork start method (Linux's default before Python 3.14): workers predict
# with an MLPClassifier((512, 512)) fitted, and run, in the parent.
_POOL = """
import multiprocessing
from micrograd.sklearn import MLPClassifier
X = rng.standard_normal((256, 32)).astype(np.float32)
y = (X[:, 0] > 0).astype(int)
clf = MLPClassifier((512, 512), max_iter=2, random_state=0).fit(X, y)
Xp = rng.standard_normal((2048, 32)).astype(np.float32)
expected = clf.predict(Xp)                              # 2048 x 512 x 512: threaded
with multiprocessing.get_context("fork").Pool(2) as pool:
    try:
        got = pool.map_async(clf.predict, [Xp, Xp[::-1]]).get(timeout={wait})
    except multiprocessing.TimeoutError:
        sys.exit("child: hung")
assert (got[0] == expected).all() and (got[1] == expected[::-1]).all()
print("ok")
"""

# joblib's multiprocessing backend (fork), as cross_val_score uses it with n_jobs=2
_JOBLIB = """
import warnings
from joblib import parallel_backend
from sklearn.model_selection import cross_val_score
from micrograd.sklearn import MLPClassifier
X = rng.standard_normal((200, 32)).astype(np.float32)
y = (X[:, 0] > 0).astype(int)
clf = MLPClassifier((512, 512), max_iter=2, random_state=0)
warnings.simplefilter("ignore")
serial = cross_val_score(clf, X, y, cv=2)
with parallel_backend("multiprocessing", n_jobs=2):
    forked = cross_val_score(clf, X, y, cv=2)
assert (serial == forked).all(), (serial, forked)
print("ok")
"""


def run(work: str, backend: str, **env: str) -> None:
    """Runs the scenario in a fresh interpreter on ``backend`` with two OpenMP threads, in a
    session of its own: whatever it forked is killed with it, so a hung worker (joblib's pool
    has no timeout of its own) cannot outlive the test."""
    script = _FORK_SCRIPT.format(wait=CHILD_WAIT, work=textwrap.dedent(work).format(
        wait=CHILD_WAIT))
    full = {k: v for k, v in os.environ.items() if k != "MICROGRAD_NUM_THREADS"}
    full.update(MICROGRAD_BACKEND=backend, OMP_NUM_THREADS="2", **env)
    proc = subprocess.Popen([sys.executable, "-c", script], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=2 * CHILD_WAIT + 30)
    except subprocess.TimeoutExpired:
        out, err = "", "the forked scenario hung"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]


@pytest.mark.parametrize("threads", ["openmp-default", "MICROGRAD_NUM_THREADS"])
def test_child_of_os_fork_after_a_threaded_gemm(backend, threads):
    """Matmul, linear forward/backward and the FMA peak in a child and a grandchild, with the
    OpenMP default (two threads) and with an explicit thread count."""
    env = {"MICROGRAD_NUM_THREADS": "2"} if threads == "MICROGRAD_NUM_THREADS" else {}
    run(_PLAIN_FORK, backend, **env)


def test_pool_workers_predict_with_a_wide_mlp(backend):
    run(_POOL, backend)


def test_cross_val_score_under_joblib_multiprocessing(backend):
    pytest.importorskip("sklearn", reason="scikit-learn runs the cross-validation")
    run(_JOBLIB, backend)


def test_the_test_process_is_not_a_forked_child():
    """The flag is 0 in a process that was not forked (and the module reports it)."""
    if "c" not in mg.available_backends():
        pytest.skip("C backend not built")
    from micrograd._C import lib
    assert lib.mg_forked_child() == 0
