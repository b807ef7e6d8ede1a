"""``micrograd.utils``: PyTorch's ``torch.utils`` paths (``micrograd.utils.data``)."""
from . import data

__all__ = ["data"]
