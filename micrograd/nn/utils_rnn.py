"""``nn.utils.rnn``: ``pad_sequence``, batching sequences of different lengths for the recurrent
layers. (PyTorch's packed sequences are not supported: the layers take padded batches.)"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core.creation import cat, full, stack
from ..core.tensor import Tensor

__all__ = ["pad_sequence"]


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (L_max, B, *) (``batch_first``: (B, L_max, *)),
    each filled up to the longest with ``padding_value`` after it (``padding_side="left"``:
    before it). The result has the first sequence's dtype, as PyTorch's; gradients flow to
    every sequence."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    seqs = tuple(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(s).__name__}")
        if s.ndim == 0:
            raise RuntimeError(f"pad_sequence: element {i} is a 0-d tensor; each sequence needs "
                               "a first (length) dim")
        if s.shape[1:] != seqs[0].shape[1:]:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {s.shape}, sequence 0 "
                               f"{seqs[0].shape}; all must match after the first (length) dim")
    dtype = seqs[0].dtype
    longest = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        s = s if s.dtype == dtype else s.to(dtype)
        missing = longest - s.shape[0]
        if missing:
            fill = full((missing,) + s.shape[1:], _cast(padding_value, dtype), dtype=dtype)
            s = cat([s, fill] if padding_side == "right" else [fill, s])
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def _cast(value: Any, dtype: Any) -> Any:
    """The padding value as the result's element type holds it (PyTorch truncates 0.5 to 0 in
    an integer result)."""
    return dtype.np.type(value).item()
