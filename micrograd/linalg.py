"""``micrograd.linalg``: the part of ``torch.linalg`` a training script uses (norms, cross,
matmul). The functions live in the core op families; this module only names them."""
from .core.tensor import matmul  # noqa: F401

__all__ = ["matmul"]
