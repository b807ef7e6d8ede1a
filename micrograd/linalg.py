"""``micrograd.linalg``: the part of ``torch.linalg`` a training script uses (norms, cross,
products, matmul). The functions live in the core op families (each lists the names torch keeps
under ``torch.linalg`` in its ``LINALG`` dict); this module only names them."""
from .core import products as _products
from .core import reductions as _reductions
from .core.tensor import matmul

_FUNCTIONS = {**getattr(_reductions, "LINALG", {}), **getattr(_products, "LINALG", {}),
              "matmul": matmul}
globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS)
