"""``DistributedDataParallel``: data-parallel training over ``micrograd.distributed`` (MPI),
with PyTorch's wrapper and semantics (``torch.nn.parallel.DistributedDataParallel``).

Each rank runs the whole model on its own share of the batch. The wrapper

- broadcasts rank 0's parameters and buffers when it is built, so all replicas start equal
  (after checking that every rank has the same parameter names, shapes and dtypes);
- broadcasts rank 0's buffers again before each training forward (BatchNorm's statistics);
- averages the gradients during backward: a hook on every parameter copies its gradient (the
  value ``.grad`` is about to hold) into a flat bucket; a full bucket starts a non-blocking
  sum over the ranks (allreduce) while backward goes on with the layers below; when the
  last gradient has arrived it waits for the buckets, divides by the world size and writes
  the averages into ``.grad``. Buckets are filled in reverse parameter order (backward
  meets the last layers first) and always started in the same order on every rank.

So after ``loss.backward()`` every rank holds the gradient of the mean loss over the global
batch, and an optimizer step keeps the replicas equal: the same weights a single process gets
from the combined batch, to float rounding. ``no_sync()`` accumulates local gradients
without communication (gradient accumulation); the first synchronised backward after it
averages the accumulated sums.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from .. import distributed as dist
from ..core.autograd import is_grad_enabled
from ..core.creation import from_numpy
from ..core.tensor import Tensor, not_replayable
from .module import Module, Parameter


class _Bucket:
    """Gradients of some parameters (one dtype) packed into one flat array for one
    allreduce."""

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params]).tolist()
        self.flat = np.empty(self.offsets[-1], dtype=params[0]._array.dtype)
        self.arrived = [False] * len(params)  # which gradients this backward has packed
        self.missing = len(params)
        self.work: dist.Work | None = None

    def slot(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


class _Reducer:
    """The gradient averaging behind ``DistributedDataParallel``: hooks, buckets, order."""

    def __init__(self, named_params: list[tuple[str, Parameter]], bucket_bytes: int) -> None:
        self.names = {id(p): name for name, p in named_params}
        self.params = [p for _, p in named_params]
        self.buckets: list[_Bucket] = []
        self.where: dict[int, tuple[_Bucket, int]] = {}
        current: list[Parameter] = []
        for p in reversed(self.params):
            if current and (p._array.dtype != current[0]._array.dtype
                            or sum(q._array.nbytes for q in current) + p._array.nbytes
                            > bucket_bytes):
                self.buckets.append(_Bucket(current))
                current = []
            current.append(p)
        if current:
            self.buckets.append(_Bucket(current))
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                self.where[id(p)] = (bucket, i)
        self.handles = [p.register_hook(self._hook_for(p)) for p in self.params]
        self.armed = False
        self.remaining = 0
        self.next_bucket = 0

    def prepare(self) -> None:
        """Arm for the backward of the forward that is starting; raise, as torch does, if the
        previous armed backward reached some parameters but not all."""
        if self.armed and 0 < self.remaining < len(self.params):
            missing = [self.names[id(p)] for b in self.buckets
                       for p, arrived in zip(b.params, b.arrived) if not arrived]
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior "
                "iteration before starting a new one: its backward gave no gradient to "
                f"parameters {missing} (not used to compute the loss?). micrograd's "
                "DistributedDataParallel needs every parameter that requires grad to take "
                "part in the loss (find_unused_parameters=True is not supported); freeze the "
                "unused ones with requires_grad_(False) before wrapping")
        self.armed, self.remaining, self.next_bucket = True, len(self.params), 0
        for bucket in self.buckets:
            bucket.missing, bucket.work = len(bucket.params), None
            bucket.arrived = [False] * len(bucket.params)

    def _hook_for(self, p: Parameter):
        def hook(grad: Tensor) -> Tensor | None:
            return self._on_grad(p, grad) if self.armed else None
        return hook

    def _on_grad(self, p: Parameter, grad: Tensor) -> Tensor | None:
        """``p``'s gradient of this backward is ready: pack what ``.grad`` will hold, start the
        buckets that are full (in order), and finish after the last parameter."""
        bucket, i = self.where[id(p)]
        slot = bucket.slot(i)
        if p._array.dtype != slot.dtype or p._array.size != slot.size:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[id(p)]} is "
                f"{p._array.dtype.name} {tuple(p.shape)} now but was {slot.dtype.name} with "
                f"{slot.size} elements when it was wrapped; wrap the model after .to(), "
                "not before")
        g = grad._array.astype(p._array.dtype, copy=False)
        total = g if p.grad is None else p.grad._array + g
        slot[...] = total.reshape(-1)
        bucket.arrived[i] = True
        bucket.missing -= 1
        self.remaining -= 1
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].missing == 0:
            b = self.buckets[self.next_bucket]
            b.work = dist.all_reduce(from_numpy(b.flat), async_op=True)
            self.next_bucket += 1
        for b in self.buckets[:self.next_bucket]:
            b.work.is_completed()  # lets MPI progress the running sums
        if self.remaining:
            return None
        return self._finish(p)

    def _finish(self, last: Parameter) -> Tensor:
        """Wait for every bucket, average, write ``.grad``. ``last``'s hook is still running
        (its gradient is added into ``.grad`` after the hook): its average is returned as
        the hook's result, onto a cleared ``.grad``."""
        self.armed = False
        size = dist.get_world_size()
        result = None
        for bucket in self.buckets:
            bucket.work.wait()
            np.divide(bucket.flat, size, out=bucket.flat)
            for i, p in enumerate(bucket.params):
                avg = Tensor(bucket.slot(i).reshape(p.shape))  # a copy: .grad owns it
                if p is last:
                    p.grad, result = None, avg
                else:
                    p.grad = avg
        return result


def _describe(entry: tuple | None) -> str:
    """('parameter', '0.weight', (3, 2), 'float32') -> 'parameter 0.weight (3, 2) float32'."""
    return "nothing more" if entry is None else " ".join(str(part) for part in entry)


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training: call it as the module; gradients are
    averaged over the ranks during ``backward``. Needs ``micrograd.distributed``'s process
    group (``init_process_group()``); CPU only."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work "
                "with single-device/multiple-device GPU modules or CPU modules, but got "
                f"device_ids {device_ids}, output_device {output_device}, and module "
                "parameters {device(type='cpu')}.")
        if process_group is not None:
            raise ValueError("DistributedDataParallel: micrograd has only the default process "
                             "group; pass process_group=None")
        if find_unused_parameters:
            raise ValueError("DistributedDataParallel: find_unused_parameters=True is not "
                             "supported; every parameter that requires grad must take part "
                             "in the loss (freeze the others with requires_grad_(False))")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25.0  # torch's default
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) \
                or not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive "
                             f"number, got {bucket_cap_mb!r}")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        self.dim, self.broadcast_buffers, self.static_graph = dim, broadcast_buffers, \
            static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._check_same_model()
        self._broadcast([t for _, t in module.named_parameters()]
                        + [t for _, t in module.named_buffers()])
        self.reducer = _Reducer(named, int(bucket_cap_mb * 1024 * 1024))

    def _check_same_model(self) -> None:
        """Every rank must wrap the same architecture, or the broadcasts and sums would mix
        unrelated arrays (or hang): compare names, shapes and dtypes first."""
        mine = [(kind, name, tuple(t.shape), t._array.dtype.name)
                for kind, named in (("parameter", self.module.named_parameters()),
                                    ("buffer", self.module.named_buffers()))
                for name, t in named]
        everyone: list = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, mine)
        first = everyone[0]
        for rank, theirs in enumerate(everyone):
            if theirs != first:  # the same message on every rank: rank 0 against the first other
                i = next(i for i, (a, b) in enumerate(zip(first + [None], theirs + [None]))
                         if a != b)
                raise RuntimeError(
                    f"DistributedDataParallel expects the same model on all ranks, but rank 0 "
                    f"has {len(first)} parameters and buffers and rank {rank} has "
                    f"{len(theirs)}; the first difference: rank 0 has "
                    f"{_describe((first + [None])[i])} where rank {rank} has "
                    f"{_describe((theirs + [None])[i])}")

    @staticmethod
    def _broadcast(tensors: list[Tensor]) -> None:
        """Rank 0's values into ``tensors`` on every rank, one broadcast per dtype."""
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for t in tensors:
            by_dtype.setdefault(t._array.dtype, []).append(t)
        if by_dtype:
            not_replayable("DistributedDataParallel broadcasts buffers into place with NumPy")
        for group in by_dtype.values():
            flat = np.concatenate([t._array.reshape(-1) for t in group])
            dist.broadcast(from_numpy(flat), src=0)
            start = 0
            for t in group:
                t._array[...] = flat[start:start + t.numel()].reshape(t.shape)
                start += t.numel()

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Rank 0's buffers first (if the last forward trained), then the module; a forward
        under grad mode outside ``no_sync`` arms the gradient averaging of its backward."""
        buffers = [b for _, b in self.module.named_buffers()]
        if self.require_forward_param_sync and self.broadcast_buffers and buffers:
            self._broadcast(buffers)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare()
            self.require_forward_param_sync = True
        else:
            self.require_forward_param_sync = False
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside accumulate local gradients only; the first
        synchronised backward afterwards averages the sums. The forward must be inside."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
