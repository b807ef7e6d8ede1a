"""``.safetensors`` files: the weights format of the model-sharing ecosystem, read and written here
without the ``safetensors`` package (files round-trip with its NumPy and torch APIs).

The format is three parts:

1. 8 bytes: ``N``, the header's length, an unsigned little-endian 64-bit integer;
2. ``N`` bytes: a UTF-8 JSON object. Each key names a tensor and maps to
   ``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}``; the optional key
   ``"__metadata__"`` maps to a flat object of strings. Writers pad it with spaces so the data
   starts at a multiple of 8 bytes;
3. the data: each tensor's elements in C order, little-endian, at ``[begin, end)`` relative to
   the end of the header. The tensors tile the data exactly: no gaps, no overlaps, nothing after.

Nothing in a file is code, and loading checks what the reference reader checks before it
allocates anything: the header's length against the file and a 100 MB cap, UTF-8, JSON that
starts with ``{``, known dtypes, non-negative integer shapes and offsets, each tensor's byte count
against its shape and dtype, and offsets that tile the data to the file's end. (Duplicate keys
in the JSON are refused too, so a name cannot mean two tensors.)

Writing follows the reference writer byte for byte: tensors ordered by dtype alignment
(largest first) then name, compact JSON with ``__metadata__`` first, space padding to 8 bytes.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, BinaryIO, Mapping

import numpy as np

from ..core.dtypes import BY_NUMPY
from ..core.tensor import Tensor, as_array, wrap_array
from ..nn.module import Module
from .serialization import _write_atomically

__all__ = ["save_safetensors", "load_safetensors", "read_safetensors_metadata"]

MAX_HEADER_SIZE = 100_000_000  # the reference reader's cap on N
_METADATA = "__metadata__"
# the format's dtype names, in the reference's enum order (the writer sorts by it, descending)
_ORDER = ("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32",
          "F32", "F64", "I64", "U64")
_TO_NUMPY = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
             "I32": "<i4", "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8"}
_SIZES = {"F8_E5M2": 1, "F8_E4M3": 1, "BF16": 2,
          **{name: np.dtype(code).itemsize for name, code in _TO_NUMPY.items()}}
_FROM_NUMPY = {np.dtype(code).newbyteorder("="): name for name, code in _TO_NUMPY.items()}


# ---- writing -----------------------------------------------------------------------------------
def _as_numpy(value: Any, name: str) -> np.ndarray:
    """The array to store for one entry: a Tensor's storage, an ndarray, or another library's
    tensor read through DLPack (so a torch tensor needs no torch-specific code)."""
    if isinstance(value, Tensor):
        return value._array
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__dlpack__"):
        return np.from_dlpack(value)
    raise TypeError(f"save_safetensors: tensor {name!r} is a {type(value).__name__}; expected a "
                    "Tensor or a NumPy array")


def _prepare(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None
             ) -> tuple[bytes, list[np.ndarray]]:
    """The header bytes (length prefix included) and the arrays in the order they are written."""
    entries = []
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: tensor names must be str, got {name!r}")
        if name == _METADATA:
            raise ValueError(f"save_safetensors: {_METADATA!r} is reserved for the metadata; "
                             "pass metadata= instead")
        array = _as_numpy(value, name)
        dtype = _FROM_NUMPY.get(array.dtype.newbyteorder("="))
        if dtype is None:
            raise TypeError(f"save_safetensors: tensor {name!r} has dtype {array.dtype}, which "
                            f"the format cannot store")
        array = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")  # keeps 0-d
        entries.append((name, dtype, array))
    entries.sort(key=lambda e: e[0])                                  # by name, then (stable)
    entries.sort(key=lambda e: _ORDER.index(e[1]), reverse=True)      # by dtype, largest first
    header: dict[str, Any] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError(f"save_safetensors: metadata must map str to str, got {metadata!r}")
        header[_METADATA] = dict(metadata)
    offset = 0
    for name, dtype, array in entries:
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text, [a for _, _, a in entries]


def save_safetensors(tensors: Mapping[str, Any] | Module, path: str | os.PathLike,
                     metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (a dict of Tensors or NumPy arrays, or a Module: its ``state_dict()``)
    to ``path`` as a ``.safetensors`` file, with optional string ``metadata``.

    As ``mg.save``, the file is written to a temporary name and renamed over ``path``, so an
    interrupted save keeps the old file."""
    if isinstance(tensors, Module):
        tensors = tensors.state_dict()
    if not isinstance(tensors, Mapping):
        raise TypeError(f"save_safetensors: expected a dict of tensors or a Module, got "
                        f"{type(tensors).__name__}")
    head, arrays = _prepare(tensors, metadata)

    def write(f: BinaryIO) -> None:
        f.write(head)
        for array in arrays:
            f.write(array.reshape(-1).view(np.uint8).data)

    try:
        _write_atomically(os.fspath(path), write)
    except RuntimeError as exc:  # its messages name mg.save
        raise RuntimeError(str(exc).replace("mg.save:", "save_safetensors:", 1)) from exc


# ---- reading -----------------------------------------------------------------------------------
def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"duplicate keys {twice}")
    return dict(pairs)


def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _read_header(f: BinaryIO, where: str) -> tuple[int, dict[str, str] | None, list[tuple]]:
    """Check and parse the header of the open file ``f``: (start of the data, the metadata,
    [(name, dtype, shape, begin, end)] in data order). ValueError naming the problem otherwise."""
    size = os.fstat(f.fileno()).st_size
    prefix = f.read(8)
    if len(prefix) < 8:
        raise ValueError(f"{where}: {size} bytes is too short for a safetensors file (the header "
                         "length alone takes 8)")
    n = int.from_bytes(prefix, "little")
    if n > MAX_HEADER_SIZE:
        raise ValueError(f"{where}: header length {n} is over the {MAX_HEADER_SIZE}-byte limit; "
                         "not a safetensors file")
    if 8 + n > size:
        raise ValueError(f"{where}: header length {n} runs past the end of the {size}-byte file")
    try:
        text = f.read(n).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: the header is not UTF-8 ({exc})") from None
    if not text.startswith("{"):
        raise ValueError(f"{where}: the header does not start with '{{' (it starts with "
                         f"{text[:16]!r}); not a safetensors file")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as exc:  # JSONDecodeError is one
        raise ValueError(f"{where}: the header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: the header is not a JSON object")
    metadata = header.pop(_METADATA, None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise ValueError(f"{where}: {_METADATA!r} must be an object of strings, got "
                         f"{str(metadata)[:80]}")
    entries = []
    for name, info in header.items():
        if not (isinstance(info, dict) and {"dtype", "shape", "data_offsets"} <= info.keys()):
            raise ValueError(f"{where}: tensor {name!r}: expected dtype, shape and data_offsets, "
                             f"got {str(info)[:80]}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _SIZES:
            raise ValueError(f"{where}: tensor {name!r}: unknown dtype {dtype!r}")
        if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
            raise ValueError(f"{where}: tensor {name!r}: shape {shape!r} is not a list of "
                             "non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(_is_count(o) for o in offsets)):
            raise ValueError(f"{where}: tensor {name!r}: data_offsets {offsets!r} is not a "
                             "[begin, end] pair of non-negative integers")
        entries.append((name, dtype, tuple(shape), offsets[0], offsets[1]))
    entries.sort(key=lambda e: (e[3], e[4]))
    end = 0
    for name, dtype, shape, begin, stop in entries:
        if begin != end or stop < begin:
            raise ValueError(f"{where}: tensor {name!r}: data_offsets [{begin}, {stop}] "
                             f"{'overlap' if begin < end else 'leave a gap after'} the data "
                             f"before it (which ends at {end})")
        nbytes = math.prod(shape) * _SIZES[dtype]
        if stop - begin != nbytes:
            raise ValueError(f"{where}: tensor {name!r}: shape {list(shape)} of {dtype} takes "
                             f"{nbytes} bytes, but its data_offsets span {stop - begin}")
        end = stop
    if 8 + n + end != size:
        raise ValueError(f"{where}: the tensors' data ends at byte {8 + n + end}, but the file "
                         f"has {size} bytes (truncated, or trailing data)")
    return 8 + n, metadata, entries


def _bfloat16_to_float32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32: shifting the bits up is exact."""
    return (raw.astype("<u4") << 16).view("<f4")


def load_safetensors(path: str | os.PathLike, *,
                     bfloat16_as_float32: bool = False) -> dict[str, Tensor]:
    """Read a ``.safetensors`` file into ``{name: Tensor}`` (leaves that do not require grad;
    ``module.load_state_dict`` takes the result).

    micrograd has no bfloat16 or 8-bit float dtype: a file holding one is refused with the
    tensor's name, unless ``bfloat16_as_float32=True``, which reads bfloat16 as float32 (exact:
    every bfloat16 is a float32). Unsigned 16/32/64-bit tensors are refused likewise."""
    where = f"load_safetensors: {os.fspath(path)!r}"
    with open(path, "rb") as f:
        start, _, entries = _read_header(f, where)
        out: dict[str, Tensor] = {}
        for name, dtype, shape, begin, stop in entries:
            if dtype == "BF16" and not bfloat16_as_float32:
                raise TypeError(f"{where}: tensor {name!r} is bfloat16, which micrograd does not "
                                "have; pass bfloat16_as_float32=True to read it as float32 "
                                "(exact)")
            code = "<u2" if dtype == "BF16" else _TO_NUMPY.get(dtype)
            if dtype != "BF16" and (code is None or np.dtype(code).newbyteorder("=")
                                    not in BY_NUMPY):
                raise TypeError(f"{where}: tensor {name!r} is {dtype}, which micrograd has no "
                                f"dtype for")
            array = np.empty(shape, code)
            f.seek(start + begin)
            if f.readinto(array.reshape(-1).view(np.uint8)) != stop - begin:
                raise ValueError(f"{where}: tensor {name!r} is cut short")
            if dtype == "BF16":
                array = _bfloat16_to_float32(array)
            out[name] = wrap_array(as_array(array.astype(array.dtype.newbyteorder("="),
                                                         copy=False), None, copy=False))
    return out


def read_safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` strings of a ``.safetensors`` file ({} when it has none); the header
    is checked as by ``load_safetensors``, the data is not read."""
    with open(path, "rb") as f:
        _, metadata, _ = _read_header(f, f"read_safetensors_metadata: {os.fspath(path)!r}")
    return dict(metadata or {})

