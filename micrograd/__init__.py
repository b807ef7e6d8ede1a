"""micrograd: a small, fast, readable deep-learning framework.

``micrograd.engine.Value`` is the scalar autograd engine (read it first); the compute kernels live
behind ``micrograd.backends`` (C through cffi, NumPy as the reference).
"""
from .backends import available_backends, get_backend, set_backend, use_backend
from .engine import Value
from .explain import explain  # the function; the module stays importable as micrograd.explain

__version__ = "0.1.0"
__all__ = ["Value", "explain", "get_backend", "set_backend", "use_backend", "available_backends"]
