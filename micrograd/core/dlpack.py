"""DLPack: hand a Tensor's memory to PyTorch, JAX, NumPy, ... and take theirs, without a copy.

DLPack is the array libraries' common exchange protocol: the consumer calls the producer's
``__dlpack__`` and gets a capsule describing the memory (pointer, dtype, shape, strides, device).
A Tensor's storage is a NumPy array, so NumPy's own ``ndarray.__dlpack__`` and
``np.from_dlpack`` do the work; this module adds PyTorch's rules on top:

- a tensor that requires grad is refused, as torch refuses it (the consumer would see a plain
  array and a later in-place change would bypass autograd): export ``t.detach()`` instead;
- ``stream`` must be None (or torch's -1, "no synchronisation"): there is no device stream on
  the CPU;
- ``from_dlpack`` shares memory with the producer (``copy=True`` asks for a copy), accepts a
  legacy capsule as torch does, and gives a Tensor of one of micrograd's dtypes or a TypeError.

With ``__dlpack__`` defined, ``torch.tensor(t)`` and ``torch.as_tensor(t)`` take the DLPack
path too (without it torch walks a Tensor as a nested sequence and fails at its 0-d items).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .device import as_device
from .tensor import Tensor, as_array, wrap_array

__all__: list[str] = ["from_dlpack"]


def __dlpack__(self: Tensor, *, stream: Any = None, max_version: tuple[int, int] | None = None,
               dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
    """A DLPack capsule of this tensor's memory (the array API's protocol, torch's arguments).

    ``max_version`` (the consumer's highest DLPack version) picks the capsule's version;
    ``dl_device`` may only name the CPU; ``copy=True`` exports a copy, ``False`` never copies."""
    if self.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if stream is not None and stream != -1:  # torch's answer on its CPU tensors
        raise AssertionError(f"stream should be None on cpu (got stream={stream}); micrograd "
                             "tensors live on the CPU")
    if dl_device is not None and tuple(dl_device) != (1, 0):  # kDLCPU, device 0
        raise BufferError(f"unsupported device requested: {tuple(dl_device)} (micrograd "
                          "tensors live on the CPU, (1, 0))")
    kwargs: dict[str, Any] = {} if copy is None else {"copy": copy}  # older NumPy lacks these
    if max_version is not None:
        kwargs["max_version"] = tuple(max_version)
    return self._array.__dlpack__(**kwargs)


def __dlpack_device__(self: Tensor) -> tuple:
    """``(DLDeviceType.kDLCPU, 0)``: where the memory ``__dlpack__`` hands out lives."""
    return self._array.__dlpack_device__()


class _Capsule:
    """A legacy DLPack capsule (``torch.utils.dlpack.to_dlpack``'s result) in the protocol's
    clothes, so that ``np.from_dlpack`` reads it: NumPy takes only objects with ``__dlpack__``."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU; NumPy checks the capsule's own device and refuses any other


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """``torch.from_dlpack``: a Tensor sharing the memory of ``ext_tensor``, any object with
    ``__dlpack__`` (a torch or JAX array, a NumPy array, a micrograd Tensor) or a legacy
    capsule. ``copy=True`` copies, ``copy=False`` refuses to; ``device`` may only be the CPU.

    The result is a leaf that does not require grad. Memory that the producer marks read-only
    (a read-only NumPy array) stays read-only: in-place changes of the result raise."""
    as_device(device)  # "cuda" and friends: the CPU-only RuntimeError
    legacy = type(ext_tensor).__name__ == "PyCapsule"
    if legacy:
        ext_tensor = _Capsule(ext_tensor)
    elif not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a tensor or array of "
                        f"another library) or a DLPack capsule, got {type(ext_tensor).__name__}")
    try:
        array = np.from_dlpack(ext_tensor, copy=None if legacy else copy)
        if legacy and copy:  # a capsule is memory as it is: the copy is ours to make
            array = array.copy()
    except RuntimeError as exc:  # NumPy's "Unsupported dtype in DLTensor." (bfloat16, ...)
        dtype = getattr(ext_tensor, "dtype", "its dtype")
        raise TypeError(f"from_dlpack: cannot import {dtype}, which NumPy and micrograd do not "
                        f"have ({exc})") from exc
    if array.dtype.kind == "c":
        raise TypeError(f"from_dlpack: cannot import {array.dtype}: micrograd has no complex "
                        "dtypes")
    return wrap_array(as_array(array, None, copy=False))  # micrograd's dtypes only, aligned


TENSOR_METHODS: dict[str, Callable] = {"__dlpack__": __dlpack__,
                                       "__dlpack_device__": __dlpack_device__}
