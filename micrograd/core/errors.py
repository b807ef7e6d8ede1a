"""The exception for an op given shapes or arguments it cannot work with.

PyTorch raises ``RuntimeError`` for these (a matmul's inner dims, a reshape's element count,
a cat of mismatched tensors, ...); micrograd raised ``ValueError``. ``OpError`` is both, so
``except RuntimeError`` written for PyTorch catches it and older ``except ValueError`` code
keeps working. The message names the op and the shapes or values at fault.
"""


class OpError(RuntimeError, ValueError):
    """An op's operands or arguments do not fit (a RuntimeError in PyTorch)."""


class DTypeError(RuntimeError, TypeError):
    """Operands whose dtypes do not fit the op (a RuntimeError in PyTorch; a TypeError, as
    micrograd raised before, so both kinds of ``except`` catch it)."""
