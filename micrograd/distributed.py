"""``micrograd.distributed``: torch.distributed's process-group API over MPI (mpi4py).

Start N copies of a script with an MPI launcher (``mpirun -n 4 python train.py``, or with a
hostfile across machines); each calls ``init_process_group()`` and learns its rank and the
world size from MPI. The collectives (``all_reduce``, ``broadcast``, ``barrier``) work in place
on Tensors, as torch's do; ``nn.parallel.DistributedDataParallel`` and
``data.DistributedSampler`` are built on them.

mpi4py is imported (which starts MPI) only by ``init_process_group``, so ``import micrograd``
never touches MPI.

A job must not hang when one of its processes dies. MPI's blocking calls cannot be interrupted,
so every collective here is started non-blocking and waited for in Python: the wait polls,
notices when a rank on the same machine has exited (its process is gone) and gives up after
the group's ``timeout``, raising ``DistBackendError`` with the rank and the reason. A process
that ends with an uncaught exception (that one, or any other) while the group is up calls
``MPI_Abort``, so the launcher ends the whole job with a failure instead of leaving the other
ranks waiting for it. MPICH's ``mpiexec`` kills the other ranks as soon as one exits (before they
can say anything); ``mpiexec -disable-auto-cleanup`` lets them report it (docs/scaling.md).
"""
from __future__ import annotations

import atexit
import enum
import os
import pickle
import socket
import sys
import time
import warnings
from datetime import timedelta
from typing import Any, Callable

import numpy as np

from .core.tensor import Tensor, _check_writable, _own_scalar

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "is_mpi_available", "is_mpi_launched", "get_rank", "get_world_size", "get_backend",
           "barrier", "all_reduce", "broadcast", "all_gather_object", "ReduceOp", "Work",
           "DistError", "DistBackendError"]

DEFAULT_TIMEOUT = timedelta(minutes=30)  # torch's default for CPU process groups
_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")
_INSTALL_HINT = "pip install mpi4py mpich (or mpi4py built against your cluster's MPI)"


class DistError(RuntimeError):
    """A distributed operation failed (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """The communication itself failed: a rank died, stopped answering or MPI reported an
    error (torch.distributed.DistBackendError)."""


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the ranks' tensors."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


def is_available() -> bool:
    """True when mpi4py is installed (without importing it, which would start MPI)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available  # the only backend micrograd has


def is_mpi_launched() -> bool:
    """True when this process was started by an MPI launcher with more than one process
    (MPICH/Intel MPI's PMI_SIZE, Open MPI's OMPI_COMM_WORLD_SIZE): how ``micrograd train``
    knows to run data-parallel without importing MPI otherwise."""
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


_HAVE_PROC = os.path.isdir("/proc/self")


def _exited(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie has: exited, not yet reaped)."""
    if _HAVE_PROC:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                return f.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
        except FileNotFoundError:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but is not ours to signal
        pass
    return False


class _Group:
    """The default process group: a private duplicate of MPI_COMM_WORLD, this process's rank
    and the world size, and where the other ranks run (to notice a dead one)."""

    def __init__(self, mpi: Any, timeout: timedelta) -> None:
        world = mpi.COMM_WORLD
        self.mpi, self.rank, self.size = mpi, world.Get_rank(), world.Get_size()
        self.timeout = timeout.total_seconds()
        self.broken: str | None = None  # why the group cannot be used any more
        self.peers: list[tuple[int, int]] = []  # (rank, pid) of the other ranks on this host
        self.comm, request = world.Idup()
        self.wait(request, "init_process_group")
        host = socket.gethostname().encode()[:248].ljust(248, b"\0")
        mine = np.frombuffer(host + np.int64(os.getpid()).tobytes(), dtype=np.uint8)
        table = np.empty((self.size, mine.size), dtype=np.uint8)
        self.wait(self.comm.Iallgather(mine, table), "init_process_group")
        for r, row in enumerate(table):
            if r != self.rank and row[:248].tobytes() == host:
                self.peers.append((r, int(row[248:].view(np.int64)[0])))

    def fail(self, what: str, reason: str) -> DistBackendError:
        """Mark the group broken; the error to raise, naming the operation and the cause."""
        global _broken
        self.broken = _broken = f"{what} on rank {self.rank} of {self.size} failed: {reason}"
        return DistBackendError(f"micrograd.distributed: {self.broken}. The job cannot "
                                "continue: this process aborts the MPI job when it exits")

    def check(self, what: str) -> None:
        if self.broken is not None:
            raise DistBackendError(f"micrograd.distributed: {what}: the process group is "
                                   f"broken ({self.broken})")

    def dead_peer(self) -> tuple[int, int] | None:
        """(rank, pid) of a rank on this machine whose process has exited, else None."""
        for rank, pid in self.peers:
            if _exited(pid):
                return rank, pid
        return None

    def wait(self, request: Any, what: str) -> None:
        """Wait for a non-blocking MPI request, polling it (MPI progresses inside the polls):
        busily for the first half second, as MPI's own blocking calls do, then with naps of a
        millisecond; a dead rank on this machine or the timeout ends the wait with
        ``DistBackendError``."""
        try:
            if request.Test():
                return
            start = time.monotonic()
            next_check = start + 0.05
            while not request.Test():
                now = time.monotonic()
                if now - start > 0.5:
                    time.sleep(1e-3)
                if now < next_check:
                    continue
                next_check = now + 0.1
                dead = self.dead_peer()
                if dead is not None:
                    raise self.fail(what, f"rank {dead[0]} (process {dead[1]} on this "
                                          "machine) has exited")
                if now - start > self.timeout:
                    raise self.fail(what, f"timed out after {self.timeout:g} s waiting for "
                                          "the other ranks (one died on another machine, is "
                                          "stuck, or did not call the same collective)")
        except self.mpi.Exception as exc:
            raise self.fail(what, f"MPI error: {exc}") from None


_group: _Group | None = None
_mpi: Any = None  # mpi4py's MPI module, once init_process_group has started MPI
_broken: str | None = None  # set when a collective failed: the job is aborted at exit


def _default_group(what: str) -> _Group:
    if _group is None:
        raise ValueError(_NOT_INITIALIZED)
    _group.check(what)
    return _group


def _abort_job() -> None:
    """End every rank of the job (MPI_Abort) after flushing this process's output and giving
    the launcher a moment to forward it (the abort tears down the pipes it reads)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream must not stop the abort
            pass
    time.sleep(0.25)
    _mpi.COMM_WORLD.Abort(1)


def _in_job() -> bool:
    return _mpi is not None and _mpi.COMM_WORLD.Get_size() > 1


def _abort_on_uncaught(previous: Callable) -> Callable:
    """sys.excepthook that prints as usual, then aborts the job (as ``python -m mpi4py``
    does): otherwise the failed rank waits in MPI_Finalize and the others in their next
    collective, for ever."""
    def hook(kind, value, tb):
        previous(kind, value, tb)
        if _in_job():
            _abort_job()
    hook.micrograd_abort = True  # type: ignore[attr-defined]
    return hook


def _abort_if_broken() -> None:
    """At exit: after a failed collective (its error caught by the program) abort the job
    rather than wait in MPI_Finalize for a dead rank."""
    if _broken is not None and _in_job():
        _abort_job()


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the job's default process group over MPI (the only backend: ``backend`` is None
    or ``"mpi"``). Rank and world size come from the MPI launcher, as with torch's MPI
    backend (``rank``/``world_size`` given anyway are ignored with a warning, ``init_method``
    and ``store`` are not used). ``timeout`` bounds every wait of a collective."""
    global _group, _mpi
    if _group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend not in (None, "mpi"):
        raise RuntimeError(f"init_process_group: backend {backend!r} is not available; "
                           "micrograd.distributed has the 'mpi' backend only (CPU processes "
                           "started by mpirun), give backend='mpi' or None")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if not isinstance(timeout, timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout}")
    if device_id is not None:
        raise ValueError(f"init_process_group: device_id={device_id!r}: micrograd runs on the "
                         "CPU only; leave device_id None")
    try:
        from mpi4py import MPI  # starts MPI (MPI_Init) unless the program already did
    except ImportError as exc:
        raise RuntimeError(f"init_process_group: the MPI backend needs mpi4py and an MPI "
                           f"library ({exc}); {_INSTALL_HINT}") from None
    if world_size != -1 or rank != -1:
        warnings.warn(f"For MPI backend, world_size ({world_size}) and rank ({rank}) are "
                      "ignored since they are assigned by the MPI runtime.", stacklevel=2)
    _mpi = MPI
    if not getattr(sys.excepthook, "micrograd_abort", False):
        sys.excepthook = _abort_on_uncaught(sys.excepthook)
        atexit.register(_abort_if_broken)  # registered after mpi4py's MPI_Finalize: runs first
    _group = _Group(MPI, timeout)


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (MPI itself stays up until the process exits, as MPI cannot
    start twice); ``init_process_group`` may be called again."""
    global _group
    if group is not None:
        raise ValueError("destroy_process_group: micrograd has only the default group; pass "
                         "None")
    if _group is None:
        raise AssertionError("Process group cannot be None")
    if _group.broken is None:  # after a failure the job is aborted at exit anyway
        _group.comm.Free()
    _group = None


def is_initialized() -> bool:
    """Whether ``init_process_group`` has set up the default process group (and it
    has not been destroyed since)."""
    return _group is not None


def get_rank(group: Any = None) -> int:
    """This process's rank in the default group (0 .. world size - 1)."""
    _check_group_argument(group, "get_rank")
    if _group is None:
        raise ValueError(_NOT_INITIALIZED)
    return _group.rank


def get_world_size(group: Any = None) -> int:
    """How many processes the default group has."""
    _check_group_argument(group, "get_world_size")
    if _group is None:
        raise ValueError(_NOT_INITIALIZED)
    return _group.size


def get_backend(group: Any = None) -> str:
    """The default group's backend name: "mpi", the only one micrograd runs on;
    ValueError before ``init_process_group``."""
    _check_group_argument(group, "get_backend")
    if _group is None:
        raise ValueError(_NOT_INITIALIZED)
    return "mpi"


def _check_group_argument(group: Any, what: str) -> None:
    if group is not None:
        raise ValueError(f"{what}: micrograd has only the default process group; pass "
                         "group=None")


class Work:
    """The handle of a collective started with ``async_op=True``: ``wait()`` finishes it
    (and writes the result into the tensor)."""

    def __init__(self, group: _Group, request: Any, what: str,
                 finish: Callable[[], None] | None = None) -> None:
        self._group, self._request, self._what, self._finish = group, request, what, finish
        self._done = False

    def is_completed(self) -> bool:
        """True once the communication has finished (polling also drives MPI's progress)."""
        if not self._done and self._group.broken is None:
            try:
                return bool(self._request.Test())
            except self._group.mpi.Exception as exc:
                raise self._group.fail(self._what, f"MPI error: {exc}") from None
        return self._done

    def wait(self, timeout: timedelta | None = None) -> bool:
        """Finish the collective (the group's timeout bounds the wait; ``timeout`` is
        accepted for torch's signature)."""
        if not self._done:
            self._group.check(self._what)
            self._group.wait(self._request, self._what)
            if self._finish is not None:
                self._finish()
            self._done = True
        return True


def _mpi_op(mpi: Any, op: ReduceOp, dtype: np.dtype, what: str) -> Any:
    """The MPI operation for ``op`` on ``dtype`` (AVG is a SUM divided afterwards; bools
    combine logically, as torch's do)."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{what}: op must be a micrograd.distributed.ReduceOp, got {op!r}")
    if dtype == np.bool_:
        logical = {ReduceOp.SUM: mpi.LOR, ReduceOp.MAX: mpi.LOR, ReduceOp.BOR: mpi.LOR,
                   ReduceOp.PRODUCT: mpi.LAND, ReduceOp.MIN: mpi.LAND, ReduceOp.BAND: mpi.LAND,
                   ReduceOp.BXOR: mpi.LXOR}
        if op not in logical:
            raise TypeError(f"{what}: ReduceOp.{op.name} does not apply to a bool tensor")
        return logical[op]
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "iu":
        raise TypeError(f"{what}: ReduceOp.{op.name} needs an integer or bool tensor, got "
                        f"{dtype.name}")
    if op is ReduceOp.AVG and dtype.kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype.name}")
    return {ReduceOp.SUM: mpi.SUM, ReduceOp.AVG: mpi.SUM, ReduceOp.PRODUCT: mpi.PROD,
            ReduceOp.MIN: mpi.MIN, ReduceOp.MAX: mpi.MAX, ReduceOp.BAND: mpi.BAND,
            ReduceOp.BOR: mpi.BOR, ReduceOp.BXOR: mpi.BXOR}[op]


def _buffer(tensor: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(the tensor's storage array, a C-contiguous array MPI can work on in place: the same
    array when it is one, else a copy that is written back afterwards)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `tensor` of type "
                        f"micrograd.Tensor\n             but got {type(tensor)} instead.")
    _own_scalar(tensor)  # a 0-d result held as a NumPy scalar gets a writable storage
    array = tensor._array
    _check_writable(array, what)
    if array.flags.c_contiguous:
        return array, array
    return array, np.ascontiguousarray(array)


def _run(group: _Group, request: Any, what: str, finish: Callable[[], None] | None,
         async_op: bool) -> Work | None:
    work = Work(group, request, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over all ranks with ``op``, in place on every rank (torch's
    in-place semantics: the storage changes, autograd does not see it)."""
    _check_group_argument(group, "all_reduce")
    array, buf = _buffer(tensor, "all_reduce")
    g = _default_group("all_reduce")
    mpi_op = _mpi_op(g.mpi, op, buf.dtype, "all_reduce")

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buf, g.size, out=buf)
        if buf is not array:
            np.copyto(array, buf)
    return _run(g, g.comm.Iallreduce(g.mpi.IN_PLACE, buf, mpi_op), "all_reduce", finish,
                async_op)


def broadcast(tensor: Tensor, src: int, group: Any = None,
              async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank (same shape and
    dtype everywhere)."""
    _check_group_argument(group, "broadcast")
    array, buf = _buffer(tensor, "broadcast")
    g = _default_group("broadcast")
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)):
        raise TypeError(f"broadcast: src must be an int rank, got {type(src).__name__}")
    if not 0 <= src < g.size:
        raise RuntimeError(f"broadcast: invalid root rank: {src} (world size {g.size})")

    def finish() -> None:
        if buf is not array:
            np.copyto(array, buf)
    return _run(g, g.comm.Ibcast(buf, root=int(src)), "broadcast", finish, async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank has reached this barrier."""
    _check_group_argument(group, "barrier")
    g = _default_group("barrier")
    return _run(g, g.comm.Ibarrier(), "barrier", None, async_op)


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """``object_list[r]`` = rank r's ``obj`` (pickled; any picklable object), on every rank."""
    _check_group_argument(group, "all_gather_object")
    g = _default_group("all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != g.size:
        raise ValueError(f"all_gather_object: object_list must be a list of world size "
                         f"({g.size}) entries, got {object_list!r}")
    data = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
    sizes = np.empty(g.size, dtype=np.int64)
    g.wait(g.comm.Iallgather(np.array([data.size], dtype=np.int64), sizes), "all_gather_object")
    gathered = np.empty(int(sizes.sum()), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    g.wait(g.comm.Iallgatherv(data, [gathered, (sizes, offsets)]), "all_gather_object")
    for r in range(g.size):
        object_list[r] = pickle.loads(gathered[offsets[r]:offsets[r] + sizes[r]].tobytes())
