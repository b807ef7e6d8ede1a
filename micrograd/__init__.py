"""micrograd: a small, fast, readable deep-learning framework.

``micrograd.engine.Value`` is the scalar autograd engine (read it first); the compute kernels live
behind ``micrograd.backends`` (C through cffi, NumPy as the reference).
"""
from .backends import available_backends
from .core.settings import get_backend, set_backend, use_backend
from .engine import Value  # the public paths (engine, dtypes, autograd) name core modules
from . import dtypes
from .autograd import (enable_grad, gradcheck, inference_mode, is_grad_enabled, no_grad,
                       set_grad_enabled)
from .core.creation import *  # noqa: F401,F403 - factories and torch-style functions (see __all__)
from .core.creation import __all__ as _creation_all
from .core import methods as _methods
from .core.dlpack import *  # noqa: F401,F403
from .core.movement import *  # noqa: F401,F403 - op families outside tensor.py (core/methods.py)
from .core.products import *  # noqa: F401,F403
from .core.reductions import *  # noqa: F401,F403
from .dtypes import (bool, double, float, float16, float32, float64,  # noqa: A004
                     get_default_dtype, half, int, int8, int16, int32, int64, long,
                     set_default_dtype, short, uint8)
from .core.random import manual_seed
from .core.tensor import Tensor
from .core.device import device, get_default_device, set_default_device
from . import accelerator, cuda  # torch.cuda / torch.accelerator queries: CPU only
from .backends import mps as _mps  # noqa: F401 - makes micrograd.backends.mps importable
from .explain import explain  # the function; the module stays importable as micrograd.explain
from .compile import compile  # noqa: A004 - torch.compile's name; the module stays importable
from . import data, distributed, interop, linalg, nn, onnx, optim, utils  # noqa: E402 - after Tensor: they build on it
from .tools.serialization import load, save

__version__ = "0.1.0"
__all__ = ["Value", "Tensor", "dtypes", "no_grad", "enable_grad", "inference_mode",
           "set_grad_enabled", "is_grad_enabled", "gradcheck", "manual_seed", "float16", "float32", "float64",
           "int8", "int16", "int32", "int64", "uint8", "int", "short", "bool", "half", "float", "double",
           "long", "get_default_dtype", "set_default_dtype", *_creation_all,
           *_methods.dlpack.__all__, *_methods.movement.__all__, *_methods.products.__all__, *_methods.reductions.__all__,
           "explain", "nn", "optim", "data", "utils", "linalg", "interop", "onnx", "distributed", "compile", "save", "load", "get_backend", "set_backend", "use_backend", "available_backends",
           "device", "get_default_device", "set_default_device", "cuda", "accelerator"]

_methods.install(globals(), __all__)  # family methods onto Tensor; axis=/keepdims= accepted
