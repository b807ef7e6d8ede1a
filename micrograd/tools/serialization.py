"""``mg.save`` / ``mg.load``: state dicts on disk in a format that can never run code.

A file is a plain NumPy ``.npz`` archive (a zip of ``.npy`` arrays) read back with
``allow_pickle=False``. Arrays are stored as ``a0, a1, ...``; the nesting (dicts, lists, tuples,
numbers, strings, None) lives in one JSON document stored as a uint8 array under
``__micrograd__``. Loading parses JSON and raw arrays only, so a hostile file can at worst fail to
load: pickles (``torch.save`` output, renamed files), object arrays, truncated or corrupt archives
and unknown layouts all raise ``ValueError`` naming the file and the problem.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from typing import Any

import numpy as np

FORMAT = "micrograd.save"
VERSION = 1
_TREE_KEY = "__micrograd__"
_ZIP_MAGIC = b"PK\x03\x04"
_DTYPES = {np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                                 np.float64)}


def _tensor_type():
    from ..core.tensor import Tensor
    return Tensor


def _encode(obj: Any, arrays: list, where: str) -> Any:
    """Turn ``obj`` into JSON-able nodes, appending every array to ``arrays``."""
    Tensor = _tensor_type()
    if obj is None or isinstance(obj, (bool, str)):
        return {"t": "const", "v": obj}
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, (float, np.floating)):
        return {"t": "float", "v": repr(float(obj))}  # repr keeps nan/inf and every bit
    if isinstance(obj, np.bool_):
        return {"t": "const", "v": bool(obj)}
    if isinstance(obj, (Tensor, np.ndarray)):
        array = obj._array if isinstance(obj, Tensor) else obj
        if array.dtype not in _DTYPES:
            raise TypeError(f"mg.save: cannot store {where} of dtype {array.dtype}; "
                            f"supported dtypes are bool, ints and floats")
        arrays.append(np.asarray(array, order="C"))  # (ascontiguousarray turns 0-d into 1-d)
        node = {"t": "tensor" if isinstance(obj, Tensor) else "ndarray",
                "k": f"a{len(arrays) - 1}"}
        if isinstance(obj, Tensor) and obj.requires_grad:
            node["rg"] = True
        return node
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int, np.integer)):
                raise TypeError(f"mg.save: dict keys must be str or int, got {key!r} in {where}")
            kind = "s" if isinstance(key, str) else "i"
            items.append([kind, key if kind == "s" else int(key),
                          _encode(value, arrays, f"{where}[{key!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"t": "list" if isinstance(obj, list) else "tuple",
                "items": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"mg.save: cannot store {where} of type {type(obj).__name__}; use tensors, "
                    "arrays, numbers, strings, None, and dicts/lists/tuples of them")


def save(obj: Any, path) -> None:
    """Write ``obj`` (typically ``model.state_dict()`` or ``optimizer.state_dict()``) to ``path``.

    ``path`` is a file name (written atomically: a temporary file renamed into place) or a binary
    file object. Tensors come back as Tensors, NumPy arrays as arrays, containers as themselves.
    """
    arrays: list[np.ndarray] = []
    tree = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    payload = {f"a{i}": a for i, a in enumerate(arrays)}
    payload[_TREE_KEY] = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **payload)
        return
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".mg-save-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _decode(node: Any, arrays, name: str) -> Any:
    Tensor = _tensor_type()
    if not isinstance(node, dict) or "t" not in node:
        raise ValueError(f"mg.load: {name}: malformed structure entry {str(node)[:80]!r}")
    kind = node["t"]
    if kind == "const":
        value = node["v"]
        if value is not None and not isinstance(value, (bool, str)):
            raise ValueError(f"mg.load: {name}: malformed constant {str(value)[:80]!r}")
        return value
    if kind == "int":
        return int(node["v"])
    if kind == "float":
        return float(node["v"])
    if kind in ("tensor", "ndarray"):
        key = node.get("k")
        if key not in arrays.files:
            raise ValueError(f"mg.load: {name}: array {key!r} is missing from the archive")
        array = _member(arrays, key, name)
        if array.dtype not in _DTYPES:
            raise ValueError(f"mg.load: {name}: array {key!r} has unsupported dtype {array.dtype}")
        if kind == "ndarray":
            return array
        return Tensor(array, requires_grad=bool(node.get("rg", False)))
    if kind == "dict":
        return {(k if t == "s" else int(k)): _decode(v, arrays, name) for t, k, v in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, name) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"mg.load: {name}: unknown entry type {kind!r}")


def _member(arrays, key: str, name: str) -> np.ndarray:
    """One array of the archive. allow_pickle=False makes object arrays raise; a member that is
    not in .npy format at all comes back from NumPy as raw bytes, which is refused here."""
    array = arrays[key]
    if not isinstance(array, np.ndarray):
        raise ValueError(f"mg.load: {name}: entry {key!r} is not a .npy array "
                         f"({len(array)} bytes of something else)")
    return array


def load(path, map_location: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> Any:
    """Read what ``save`` wrote. Never unpickles: anything else is a ``ValueError``.

    ``map_location``, ``weights_only`` and ``mmap`` are PyTorch's keywords, accepted so that
    ``torch.load(path, weights_only=True)`` code runs: every load here is weights-only (the
    format holds tensors, arrays, numbers, strings and containers, no code), tensors load on
    the CPU (a device other than the CPU is the CPU-only RuntimeError), and the file is read,
    not memory-mapped."""
    if map_location is not None and not callable(map_location) and not isinstance(map_location,
                                                                                     dict):
        from ..core.device import as_device
        as_device(map_location)  # 'cpu' passes; 'cuda' and friends raise the CPU-only error
    name = repr(os.fspath(path)) if not hasattr(path, "read") else "file object"
    if hasattr(path, "read"):
        data = path.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    if not data.startswith(_ZIP_MAGIC):
        hint = ""
        if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q"):
            hint = " It looks like a Python pickle (e.g. torch.save); those can run code and are " \
                   "never loaded."
        elif data.startswith(b"\x93NUMPY"):
            hint = " It is a single .npy array, not an mg.save archive; use numpy.load."
        raise ValueError(f"mg.load: {name} is not an mg.save file (no zip signature; "
                         f"{len(data)} bytes).{hint}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            if _TREE_KEY not in arrays.files:
                raise ValueError(f"mg.load: {name} is an .npz archive but not an mg.save file "
                                 f"(no {_TREE_KEY!r} entry; it holds {arrays.files[:5]})")
            tree = json.loads(_member(arrays, _TREE_KEY, name).tobytes().decode("utf-8"))
            if not isinstance(tree, dict) or tree.get("format") != FORMAT:
                raise ValueError(f"mg.load: {name}: unknown format header")
            if tree.get("version") != VERSION:
                raise ValueError(f"mg.load: {name}: format version {tree.get('version')!r} "
                                 f"is not supported (this micrograd reads version {VERSION})")
            return _decode(tree["root"], arrays, name)
    except ValueError as exc:
        if str(exc).startswith("mg.load"):
            raise
        raise ValueError(f"mg.load: {name} is corrupt or not an mg.save file: {exc}") from exc
    except RecursionError as exc:  # a crafted, absurdly nested structure
        raise ValueError(f"mg.load: {name}: the structure is nested too deeply to be an mg.save "
                         "file") from exc
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, TypeError, zlib.error,
            NotImplementedError, RuntimeError) as exc:  # (zipfile: bad compression/encryption)
        raise ValueError(f"mg.load: {name} is corrupt or truncated: "
                         f"{type(exc).__name__}: {exc}") from exc
