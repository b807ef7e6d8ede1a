"""Data-parallel training over MPI (``micrograd.distributed``, ``nn.parallel.
DistributedDataParallel``, ``data.distributed.DistributedSampler``), the ``train`` command
under ``mpiexec``, and the estimators under joblib's parallel backends.

MPI never starts in the pytest process (its threads and signal handlers do not survive the
forks other tests make): ``mpiexec -n 2 python tests/test_distributed.py SCENARIO OUT`` runs
this file's ``main`` on each rank, the ranks write what they saw to OUT and the test compares
it with values computed here in one process. The launcher runs in a session of its own under
a timeout, so a hang fails the test and is killed with everything it started. Without mpi4py
or a launcher those tests skip with the reason; CI installs both (``pip install mpi4py
mpich``).
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

import micrograd as mg
import micrograd.distributed as dist
from micrograd import nn
from micrograd.data import DataLoader, TensorDataset
from micrograd.data.distributed import DistributedSampler
from micrograd.nn import functional as F
from micrograd.nn.parallel import DistributedDataParallel

ROOT = Path(__file__).resolve().parents[1]
NOT_INITIALIZED = "Default process group has not been initialized"


# ---- shared by the ranks and by the single-process reference --------------------------------
RNG = np.random.default_rng(11)
X = RNG.standard_normal((48, 6))
Y = RNG.integers(0, 3, 48)
BATCH = 4  # per rank; the single process takes BATCH * world size


def make_mlp(seed: int, dtype=mg.float64) -> nn.Module:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 3)).to(dtype)


def fit(model: nn.Module, sampler: DistributedSampler, batch_size: int,
        ddp: DistributedDataParallel | None = None) -> nn.Module:
    """Two shuffled epochs of SGD steps, then an epoch of gradient accumulation (two
    micro-batches per step, the first under ``no_sync``)."""
    net = model if ddp is None else ddp
    dtype = next(model.parameters()).dtype
    data = TensorDataset(mg.tensor(X, dtype=dtype), mg.tensor(Y))
    loader = DataLoader(data, batch_size=batch_size, sampler=sampler)
    opt = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            opt.step()
    sampler.set_epoch(2)
    batches = list(loader)
    for (x1, y1), (x2, y2) in zip(batches[0::2], batches[1::2]):
        opt.zero_grad()
        with contextlib.nullcontext() if ddp is None else ddp.no_sync():
            F.cross_entropy(net(x1), y1).backward()
        F.cross_entropy(net(x2), y2).backward()
        opt.step()
    return model


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


class TwoHeads(nn.Module):
    """Leaves its second layer out when asked: a parameter the loss does not use."""

    def __init__(self) -> None:
        super().__init__()
        self.used, self.unused = nn.Linear(6, 3), nn.Linear(6, 3)

    def forward(self, x, both: bool = True):
        return self.used(x) + self.unused(x) if both else self.used(x)


# ---- the ranks' side: python tests/test_distributed.py SCENARIO OUT ------------------------
def main(scenario: str, out: Path) -> None:
    if scenario == "hang":  # rank 1 starts MPI but never joins the group
        if os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK")) == "1":
            from mpi4py import MPI  # noqa: F401
            time.sleep(120)
        dist.init_process_group(timeout=timedelta(seconds=1))
        return
    dist.init_process_group(timeout=timedelta(seconds=60))
    rank = dist.get_rank()
    if scenario == "collectives":
        result = collectives(rank, dist.get_world_size())
        (out / f"rank{rank}.json").write_text(json.dumps(result))
    elif scenario == "train":
        for name, dtype in (("float64", mg.float64), ("float32", mg.float32)):
            model = make_mlp(100 + rank, dtype)  # different starts: DDP broadcasts rank 0's
            ddp = DistributedDataParallel(model, bucket_cap_mb=0.002)  # several buckets
            buckets = [len(b.params) for b in ddp.reducer.buckets]
            fit(model, DistributedSampler(TensorDataset(X, Y), seed=5), BATCH, ddp)
            np.savez(out / f"{name}-rank{rank}.npz", buckets=buckets, **weights(model))
    elif scenario in ("die", "raise"):
        model = make_mlp(0)
        ddp = DistributedDataParallel(model)
        opt = mg.optim.SGD(model.parameters(), lr=0.1)
        for step in range(200):
            if step == 1 and rank == 1:
                if scenario == "die":
                    os._exit(3)
                raise ValueError("rank 1 failed on purpose")
            opt.zero_grad()
            F.cross_entropy(ddp(mg.tensor(X)), mg.tensor(Y)).backward()
            opt.step()
        print("rank 0 finished training without rank 1")


def collectives(rank: int, size: int) -> dict:
    """Every collective and error the API has, as seen from one rank (JSON-able)."""
    seen: dict = {}

    def error(fn) -> str:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the type and message are the result
            return f"{type(exc).__name__}: {exc}"
        return "no error"

    for dtype in ("float64", "float32", "int64", "int32", "uint8"):
        for op in ("SUM", "MAX", "MIN", "PRODUCT"):
            t = mg.tensor(np.array([[1, 2, 3], [4, 5, 6]], dtype=dtype) + rank)
            dist.all_reduce(t.t(), op=dist.ReduceOp[op])  # non-contiguous: written back
            seen[f"{op}-{dtype}"] = [t.numpy().tolist(), str(t.dtype)]
    for op in ("BAND", "BOR", "BXOR"):
        t = mg.tensor([6, 5, 12]) + rank
        dist.all_reduce(t, op=dist.ReduceOp[op])
        seen[f"{op}-int64"] = t.numpy().tolist()
    for op in ("SUM", "MIN", "BXOR"):
        t = mg.tensor([True, rank == 0, False])
        dist.all_reduce(t, op=dist.ReduceOp[op])
        seen[f"{op}-bool"] = t.numpy().tolist()
    scalar, empty = mg.tensor(2.0) * (rank + 1), mg.zeros(3, 0)  # 0-d: a NumPy scalar
    dist.all_reduce(scalar)
    dist.all_reduce(empty)
    seen["0-d and empty"] = [scalar.item(), list(empty.shape)]
    t = mg.tensor([1.0, 2.0]) * (rank + 1)
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    seen["avg-async"] = [work.wait(), work.is_completed(), t.numpy().tolist()]
    b = (mg.zeros(2, 3) + rank).t()  # non-contiguous
    dist.broadcast(b, src=size - 1)
    seen["broadcast"] = b.numpy().tolist()
    dist.barrier()
    gathered: list = [None] * size
    dist.all_gather_object(gathered, {"rank": rank})
    seen["all_gather_object"] = gathered
    seen["errors"] = {
        "broadcast src": error(lambda: dist.broadcast(mg.ones(2), src=size)),
        "not a tensor": error(lambda: dist.all_reduce([1.0])),
        "BAND float": error(lambda: dist.all_reduce(mg.ones(2), op=dist.ReduceOp.BAND)),
        "op string": error(lambda: dist.all_reduce(mg.ones(2), op="sum")),
        "twice": error(lambda: dist.init_process_group()),
        "group": error(lambda: dist.get_rank(group="world")),
        "other model": error(lambda: DistributedDataParallel(make_mlp(0) if rank == 0
                                                             else nn.Linear(6, 3))),
    }
    # buffers: rank 0's at the start, and again before every forward after a training one
    norm = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4)).double()
    norm[1].running_mean.data.fill_(float(rank + 1))
    ddp = DistributedDataParallel(norm)
    seen["buffers at start"] = norm[1].running_mean.numpy().tolist()
    ddp(mg.tensor(X[rank::2]))            # training forward: each rank updates its own stats
    norm.eval()
    with mg.no_grad():
        ddp(mg.tensor(X))                 # broadcasts rank 0's stats first
    seen["buffers after"] = norm[1].running_mean.numpy().tolist()
    # a parameter the loss leaves out: the next forward names it (last: its bucket is left
    # unfinished)
    ddp = DistributedDataParallel(TwoHeads().double(), bucket_cap_mb=1e-5)
    ddp(mg.tensor(X), both=False).sum().backward()
    seen["errors"]["unused"] = error(lambda: ddp(mg.tensor(X)))
    return seen


# ---- the pytest side: the launcher ------------------------------------------------------------
def _launcher() -> tuple[list[str], str] | None:
    """(the command that starts N ranks, 'mpich' or 'openmpi'), None without one."""
    here = Path(sys.executable).parent / "mpiexec"
    exe = str(here) if here.exists() else shutil.which("mpiexec") or shutil.which("mpirun")
    if exe is None:
        return None
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    if "HYDRA" in version.stdout + version.stderr:
        return [exe], "mpich"
    return [exe, "--oversubscribe"], "openmpi"


LAUNCHER = _launcher()
needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or LAUNCHER is None,
    reason="needs mpi4py and an MPI launcher (mpiexec): pip install mpi4py mpich")


def mpirun(n: int, args: list[str], cwd: Path, env: dict | None = None, timeout: float = 90,
           survivors_report: bool = False) -> tuple[int, str, str, float]:
    """(exit status, stdout, stderr, seconds) of ``args`` started on ``n`` ranks.
    ``survivors_report``: the launcher leaves the other ranks running when one exits (MPICH's
    ``-disable-auto-cleanup``), so they can say what happened."""
    command, flavour = LAUNCHER
    command = list(command)
    if survivors_report and flavour == "mpich":
        command.append("-disable-auto-cleanup")
    full = {**os.environ, "OMP_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
            "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", **(env or {})}
    start = time.monotonic()
    proc = subprocess.Popen([*command, "-n", str(n), *args], cwd=cwd, env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the MPI job hung (killed after {timeout} s)\n{err[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out, err, time.monotonic() - start


def run_scenario(scenario: str, tmp_path: Path, n: int = 2, **kwargs) -> tuple:
    return mpirun(n, [sys.executable, __file__, scenario, str(tmp_path)], tmp_path, **kwargs)


def backend_env(backend: str) -> dict:
    """The ranks run on the test's backend, with the C routing's size rule off as here."""
    return {"MICROGRAD_BACKEND": backend, "MICROGRAD_FORCE_C": "1" if backend == "c" else "0"}


# ---- DistributedDataParallel: the same weights as one process with the combined batch --------
@needs_mpi
def test_ddp_trains_to_the_weights_of_one_process_with_the_combined_batch(backend, tmp_path):
    """Different initial weights per rank (rank 0's are broadcast), several buckets, shuffled
    epochs through DistributedSampler, gradient accumulation under no_sync; float64 to 1e-12,
    float32 to float rounding."""
    status, out, err, _ = run_scenario("train", tmp_path, env=backend_env(backend))
    assert status == 0, err[-3000:]
    for name, dtype, tol in (("float64", mg.float64, 1e-12), ("float32", mg.float32, 2e-5)):
        ranks = [np.load(tmp_path / f"{name}-rank{r}.npz") for r in range(2)]
        assert len(ranks[0]["buckets"]) > 2, ranks[0]["buckets"]
        one = weights(fit(make_mlp(100, dtype), DistributedSampler(
            TensorDataset(X, Y), num_replicas=1, rank=0, seed=5), 2 * BATCH))
        for key, value in one.items():
            assert ranks[0][key].dtype == value.dtype
            np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
            np.testing.assert_allclose(ranks[0][key], value, rtol=tol, atol=tol, err_msg=key)


@needs_mpi
def test_collectives_values_and_errors_on_two_ranks(tmp_path):
    status, out, err, _ = run_scenario("collectives", tmp_path)
    assert status == 0, err[-3000:]
    seen = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    other_model = [s["errors"].pop("other model") for s in seen]
    assert seen[0] == seen[1]
    got = seen[0]
    base = np.array([[1, 2, 3], [4, 5, 6]])
    for dtype in ("float64", "float32", "int64", "int32", "uint8"):
        parts = [(base + r).astype(dtype) for r in range(2)]
        expected = {"SUM": parts[0] + parts[1], "MAX": np.maximum(*parts),
                    "MIN": np.minimum(*parts), "PRODUCT": parts[0] * parts[1]}
        for op, value in expected.items():
            assert got[f"{op}-{dtype}"] == [value.tolist(), f"micrograd.{dtype}"], (op, dtype)
    a, b = np.array([6, 5, 12]), np.array([7, 6, 13])
    assert got["BAND-int64"] == (a & b).tolist()
    assert got["BOR-int64"] == (a | b).tolist()
    assert got["BXOR-int64"] == (a ^ b).tolist()
    assert got["SUM-bool"] == [True, True, False]     # logical or, as torch sums bools
    assert got["MIN-bool"] == [True, False, False]
    assert got["BXOR-bool"] == [False, True, False]
    assert got["0-d and empty"] == [6.0, [3, 0]]
    assert got["avg-async"] == [True, True, [1.5, 3.0]]
    assert got["broadcast"] == [[1.0, 1.0]] * 3
    assert got["all_gather_object"] == [{"rank": 0}, {"rank": 1}]
    errors = got["errors"]
    assert errors["broadcast src"] == "RuntimeError: broadcast: invalid root rank: 2 " \
                                      "(world size 2)"
    assert errors["not a tensor"].startswith("TypeError: Invalid function argument. Expected "
                                             "parameter `tensor`")
    assert errors["BAND float"] == "TypeError: all_reduce: ReduceOp.BAND needs an integer " \
                                   "or bool tensor, got float32"
    assert errors["op string"].startswith("TypeError: all_reduce: op must be")
    assert errors["twice"] == "ValueError: trying to initialize the default process group " \
                              "twice!"
    assert errors["group"].startswith("ValueError: get_rank: micrograd has only the default")
    assert other_model[0] == other_model[1] == (
        "RuntimeError: DistributedDataParallel expects the same model on all ranks, but rank "
        "0 has 6 parameters and buffers and rank 1 has 2; the first difference: rank 0 has "
        "parameter 0.weight (32, 6) float64 where rank 1 has parameter weight (3, 6) float32")
    assert errors["unused"].startswith("RuntimeError: DistributedDataParallel: expected to "
                                       "have finished reduction in the prior iteration")
    assert "parameters ['unused.bias', 'unused.weight']" in errors["unused"]
    # rank 0's buffers at the start, and again before a forward that follows a training one
    assert got["buffers at start"] == [1.0] * 4
    assert got["buffers after"] != [1.0] * 4  # equal on both ranks (compared above)


# ---- a rank that fails ends the job with a clear error, never a hang --------------------------
@needs_mpi
def test_a_rank_that_dies_makes_the_survivor_fail_with_a_clear_error(tmp_path):
    """Rank 1 exits (os._exit) in the middle of training. With the launcher leaving the
    survivor running, rank 0 notices in its next allreduce, names the dead rank and aborts
    the job; by default MPICH's launcher kills it at once: the job fails, with rank 1's
    status."""
    status, out, err, seconds = run_scenario("die", tmp_path, survivors_report=True)
    assert status != 0 and "finished training" not in out
    assert "DistBackendError: micrograd.distributed: all_reduce on rank 0 of 2 failed: rank 1 " \
           "(process" in err and "has exited" in err, err[-3000:]
    assert seconds < 60
    status, out, err, seconds = run_scenario("die", tmp_path)
    assert status != 0 and "finished training" not in out
    assert seconds < 60


@needs_mpi
def test_an_uncaught_exception_in_one_rank_aborts_the_job(tmp_path):
    """Without the abort, rank 1 would wait in MPI_Finalize and rank 0 in its allreduce."""
    status, out, err, seconds = run_scenario("raise", tmp_path, survivors_report=True)
    assert status != 0 and "finished training" not in out
    assert "ValueError: rank 1 failed on purpose" in err
    assert seconds < 60


@needs_mpi
def test_a_rank_that_never_joins_times_out_with_a_clear_error(tmp_path):
    status, out, err, seconds = run_scenario("hang", tmp_path, survivors_report=True)
    assert status != 0
    assert "init_process_group on rank 0 of 2 failed: timed out after 1 s" in err, err[-3000:]
    assert seconds < 60


# ---- micrograd train under mpiexec ------------------------------------------------------------
@needs_mpi
def test_train_command_runs_data_parallel_and_prints_once(tmp_path):
    status, out, err, _ = mpirun(2, [sys.executable, "-m", "micrograd", "train", "--data",
                                     "blobs", "--epochs", "3", "--lr", "0.01", "--no-progress", "--save",
                                     "model.npz"], tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert status == 0, err[-3000:]
    assert "data-parallel over 2 MPI processes: batch size 64 per process, 128 per step" in out
    assert out.count("train accuracy") == 1 and out.count("epoch 3/3") == 1, out
    accuracy = float(out.split("test accuracy ")[1].split(";")[0])
    assert accuracy > 0.9, out
    from micrograd.apps.train import load_model
    model, contents = load_model(str(tmp_path / "model.npz"))
    assert contents["architecture"]["n_in"] == 2


@needs_mpi
def test_the_example_trains_on_two_processes_and_prints_once(tmp_path):
    status, out, err, _ = mpirun(2, [sys.executable, str(ROOT / "examples" / "ddp_train.py"),
                                     "4"], tmp_path)
    assert status == 0, err[-3000:]
    assert out.startswith("2 process(es), 22 steps per epoch of 64 images"), out
    assert out.count("test accuracy") == 1
    assert float(out.split("test accuracy ")[1]) >= 0.9, out


def test_train_under_a_launcher_without_mpi4py_says_what_to_install(monkeypatch, capsys):
    from micrograd.apps.cli import main as cli
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed: import fails
    with pytest.raises(SystemExit) as exit_:
        cli(["train", "--epochs", "1"])
    assert exit_.value.code == 2
    assert "started by an MPI launcher with several processes, but init_process_group: the " \
           "MPI backend needs mpi4py and an MPI library" in capsys.readouterr().err
    assert not dist.is_initialized()


def test_is_mpi_launched_reads_the_launchers_environment(monkeypatch):
    """How train knows it runs under mpiexec with several processes, without starting MPI."""
    monkeypatch.delenv("PMI_SIZE", raising=False)
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE", raising=False)
    assert not dist.is_mpi_launched()
    monkeypatch.setenv("PMI_SIZE", "1")
    assert not dist.is_mpi_launched()
    monkeypatch.setenv("PMI_SIZE", "4")
    assert dist.is_mpi_launched()


# ---- the API without a process group (no MPI needed) ------------------------------------------
UNINITIALIZED = {
    "get_rank": lambda d, lib: d.get_rank(),
    "get_world_size": lambda d, lib: d.get_world_size(),
    "get_backend": lambda d, lib: d.get_backend(),
    "barrier": lambda d, lib: d.barrier(),
    "all_reduce": lambda d, lib: d.all_reduce(lib.ones(2)),
    "broadcast": lambda d, lib: d.broadcast(lib.ones(2), src=0),
}


@pytest.mark.parametrize("name", list(UNINITIALIZED))
def test_uninitialized_group_errors_as_torch(name):
    torch = pytest.importorskip("torch")
    import torch.distributed as tdist
    with pytest.raises(ValueError, match=NOT_INITIALIZED) as theirs:
        UNINITIALIZED[name](tdist, torch)
    with pytest.raises(ValueError, match=NOT_INITIALIZED) as ours:
        UNINITIALIZED[name](dist, mg)
    assert str(ours.value) == str(theirs.value)
    assert not dist.is_initialized()


def test_destroy_without_group_and_bad_init_arguments():
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    with pytest.raises(RuntimeError, match="backend 'nccl' is not available; "
                                           "micrograd.distributed has the 'mpi' backend only"):
        dist.init_process_group("nccl")
    with pytest.raises(TypeError, match="Expected timeout argument to be of type "
                                        "datetime.timedelta, got int"):
        dist.init_process_group(timeout=30)
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group(timeout=timedelta(0))
    with pytest.raises(ValueError, match="device_id='cuda:0': micrograd runs on the CPU"):
        dist.init_process_group(device_id="cuda:0")
    assert not dist.is_initialized()
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)


def test_ddp_needs_a_group_and_checks_its_arguments():
    with pytest.raises(ValueError, match=NOT_INITIALIZED):
        DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="device_ids and output_device arguments only work"):
        DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(ValueError, match="find_unused_parameters=True is not supported"):
        DistributedDataParallel(nn.Linear(2, 2), find_unused_parameters=True)
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number, got 0"):
        DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)
    with pytest.raises(RuntimeError, match="not needed when a module doesn't have any "
                                           "parameter that requires a gradient"):
        DistributedDataParallel(nn.Linear(2, 2).requires_grad_(False))
    with pytest.raises(TypeError, match="module must be an nn.Module, got function"):
        DistributedDataParallel(lambda x: x)


# ---- DistributedSampler: torch's indices --------------------------------------------------------
# (dataset length, num_replicas, drop_last): even, uneven, padding past the dataset, empty
SAMPLER_CASES = [(10, 2, False), (10, 3, False), (10, 3, True), (11, 4, False), (11, 4, True),
                 (3, 8, False), (3, 8, True), (5, 1, False), (0, 2, False), (7, 7, True)]


@pytest.mark.parametrize("n,replicas,drop_last", SAMPLER_CASES)
def test_sampler_indices_match_torch_without_shuffle(n, replicas, drop_last):
    pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs), rank
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("n,replicas,drop_last", SAMPLER_CASES)
def test_sampler_shuffle_splits_one_permutation_per_epoch(n, replicas, drop_last):
    """Torch's arithmetic on NumPy's permutation: the ranks' shares interleave into the
    padded (or cut) permutation of seed + epoch, the same on every rank."""
    def shares(epoch):
        out = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, seed=3, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append(list(s))
        return out
    for epoch in (0, 1):
        parts = shares(epoch)
        order = np.random.default_rng(3 + epoch).permutation(n)
        total = len(parts[0]) * replicas
        expected = np.resize(order, total) if total > n else order[:total]
        woven = [parts[i % replicas][i // replicas] for i in range(total)]
        assert woven == expected.tolist()
        assert {len(p) for p in parts} == {len(parts[0])}
    if total > 2:
        assert shares(0) != shares(1)


def test_sampler_errors_as_torch():
    pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler
    for make in (lambda S: S(range(5), num_replicas=2, rank=2),
                 lambda S: S(range(5), num_replicas=2, rank=-1)):
        with pytest.raises(ValueError) as theirs:
            make(TorchSampler)
        with pytest.raises(ValueError) as ours:
            make(DistributedSampler)
        assert str(ours.value) == str(theirs.value)
    for make in (lambda S: S(range(5)), lambda S: S(range(5), num_replicas=2)):
        with pytest.raises(ValueError, match=NOT_INITIALIZED):
            make(TorchSampler)
        with pytest.raises(ValueError, match=NOT_INITIALIZED):
            make(DistributedSampler)
    with pytest.raises(ValueError, match="num_replicas must be positive, got 0"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="rank must be an int, got float"):
        DistributedSampler(range(5), num_replicas=2, rank=1.0)


def test_sampler_feeds_a_dataloader_in_batches():
    data = TensorDataset(np.arange(10.0)[:, None])
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    batches = [xb.numpy().ravel().tolist() for (xb,) in DataLoader(data, 2, sampler=sampler)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]]


# ---- hyperparameter search: the estimators under joblib's backends -------------------------------
def _search(n_jobs: int | None):
    pytest.importorskip("sklearn", reason="scikit-learn runs the grid search")
    import warnings

    from sklearn.model_selection import GridSearchCV

    from micrograd.sklearn import MLPClassifier
    X2 = np.random.default_rng(2).standard_normal((120, 6))
    y2 = (X2[:, 0] + X2[:, 1] > 0).astype(int)
    grid = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=30 does not converge: not the point here
        search = GridSearchCV(MLPClassifier(max_iter=30, random_state=0), grid, cv=2,
                              n_jobs=n_jobs).fit(X2, y2)
    return search.cv_results_["mean_test_score"]


@pytest.mark.parametrize("name", ["threading", "dask"])
def test_grid_search_under_joblib_backends_gives_the_serial_scores(name):
    """threading: in this process; dask: an in-process dask.distributed cluster, the same
    `parallel_backend("dask")` that runs on a real cluster's scheduler. (multiprocessing:
    tests/test_fork.py; Ray registers its backend the same way: docs/scaling.md.)"""
    joblib = pytest.importorskip("joblib")
    serial = _search(None)
    if name == "dask":
        distributed = pytest.importorskip("distributed", reason="dask's joblib backend needs "
                                          "dask.distributed: pip install 'dask[distributed]'")
        with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                                dashboard_address=None), joblib.parallel_backend("dask"):
            scores = _search(2)
    else:
        with joblib.parallel_backend(name, n_jobs=2):
            scores = _search(2)
    np.testing.assert_array_equal(scores, serial)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
