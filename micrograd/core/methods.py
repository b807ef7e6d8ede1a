"""Op families that live outside tensor.py become Tensor methods here, and every op that takes
``dim=``/``keepdim=`` also accepts NumPy's names ``axis=``/``keepdims=``, as torch does.

tensor.py holds the Tensor and the ops its own code needs; larger families of torch ops
(``reductions``: scans and statistics, ``movement``: flips, rolls, diagonals, ...,
``products``: einsum, bmm, kron, ..., ``dlpack``: the exchange protocol) each live in their own module, written as plain
functions with torch's signature (``def cumsum(input, dim, *, dtype=None)``). Each module
lists its public functions in ``__all__`` (they become ``micrograd.cumsum``, ...) and in
``TENSOR_METHODS`` the ones torch also has as Tensor methods (name -> function whose first
parameter is the tensor). ``install()`` binds them once, when micrograd is imported.
"""
from __future__ import annotations

import functools
import inspect
from types import ModuleType
from typing import Any, Callable

from . import dlpack, movement, products, reductions
from .tensor import Tensor

FAMILIES: tuple[ModuleType, ...] = (reductions, movement, products, dlpack)
NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}  # torch's parser accepts both spellings


def install(namespace: dict[str, Any], public: list[str]) -> None:
    """Bind every family's ``TENSOR_METHODS`` onto Tensor, then let the Tensor methods and the
    ``public`` functions of ``namespace`` (the micrograd package) accept ``axis=``/``keepdims=``."""
    for family in FAMILIES:
        for name, fn in family.TENSOR_METHODS.items():
            setattr(Tensor, name, fn)
    for name, fn in list(vars(Tensor).items()):
        if inspect.isfunction(fn) and _takes_dim(fn):
            setattr(Tensor, name, accept_numpy_names(fn))
    for name in public:
        fn = namespace.get(name)
        if inspect.isfunction(fn) and _takes_dim(fn):
            namespace[name] = accept_numpy_names(fn)


def _takes_dim(fn: Callable) -> bool:
    if getattr(fn, "__wrapped__", None) is not None and hasattr(fn, "_numpy_names"):
        return False  # already wrapped (install ran twice)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "dim" in params or "keepdim" in params


def accept_numpy_names(fn: Callable) -> Callable:
    """``fn`` that also takes ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``."""
    @functools.wraps(fn)
    def accepting(*args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs or "keepdims" in kwargs:
            for numpy_name, torch_name in NUMPY_NAMES.items():
                if numpy_name in kwargs:
                    if torch_name in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {torch_name}= and its alias "
                                        f"{numpy_name}=")
                    kwargs[torch_name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)
    accepting._numpy_names = True  # type: ignore[attr-defined]
    return accepting
