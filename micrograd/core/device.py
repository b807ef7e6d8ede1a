"""Devices: this build computes on the CPU, so ``device("cpu")`` is the one device there is.

PyTorch code names devices everywhere (``device=`` on factories, ``.to(device)``,
``torch.device("cuda" if torch.cuda.is_available() else "cpu")``); that code runs unchanged.
Asking for any other device (``"cuda"``, ``"mps"``, ...) is an error that says so at once,
rather than a CPU answer under a GPU's name.

A ``device`` is a ``str`` subclass ("cpu" or "cpu:0"), so it equals the string "cpu" and works
wherever a device string does (PyTorch's ``device("cpu") == "cpu"`` is False; see
docs/pytorch-differences.md).
"""
from __future__ import annotations

from typing import Any

__all__ = ["device", "set_default_device", "get_default_device"]

#: the device kinds PyTorch names (a string starting with one is a device, not a dtype)
DEVICE_KINDS = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "hpu", "mtia",
                "privateuseone")


class device(str):  # noqa: N801 - torch's name
    """``device("cpu")``, ``device("cpu:0")``, ``device("cpu", 0)``, ``device(other_device)``."""

    def __new__(cls, type: Any, index: int | None = None) -> "device":  # noqa: A002
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or a device, got "
                            f"{type!r} ({_type_name(type)})")
        kind, _, number = type.partition(":")
        if number:
            if index is not None:
                raise RuntimeError(f"device: type {type!r} already has an index; "
                                   f"pass device({kind!r}, {index}) instead")
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(number)
        if kind != "cpu":
            if kind in DEVICE_KINDS:
                raise RuntimeError(
                    f"device {type!r}: this build of micrograd runs on the CPU only; use "
                    f"'cpu' (micrograd.cuda.is_available() is False)")
            raise RuntimeError(f"device: expected one of {', '.join(DEVICE_KINDS)} at the start of "
                               f"the device string, got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device: index must be a non-negative int, got {index!r}")
        self = super().__new__(cls, "cpu" if index is None else f"cpu:{index}")
        self._index = index
        return self

    @property
    def type(self) -> str:
        """The device kind: always "cpu" (the only device of this build)."""
        return "cpu"

    @property
    def index(self) -> int | None:
        """The device number given, e.g. 0 for "cpu:0"; None when none was given."""
        return self._index

    def __repr__(self) -> str:
        return (f"device(type='cpu')" if self._index is None
                else f"device(type='cpu', index={self._index})")

    __hash__ = str.__hash__

    def __reduce__(self) -> tuple:
        return (device, ("cpu", self._index))


def _type_name(x: Any) -> str:
    return type(x).__name__


def as_device(dev: Any) -> device:
    """``dev`` (a device, a device string, or None meaning the default) as a ``device``; an
    error for anything but the CPU. What every ``device=`` argument goes through."""
    return get_default_device() if dev is None else device(dev)


def set_default_device(dev: Any) -> None:
    """``torch.set_default_device``: only "cpu" (or None) exists here."""
    as_device(dev)


def get_default_device() -> device:
    """The device factories use when given none: ``device('cpu')``, the only one of this build."""
    return _CPU


_CPU = device("cpu")
