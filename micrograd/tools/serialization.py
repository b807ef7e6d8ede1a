"""``mg.save`` / ``mg.load``: state dicts on disk in a format that can never run code.

A file is a plain NumPy ``.npz`` archive (a zip of ``.npy`` arrays, stored uncompressed). Arrays
are stored as ``a0, a1, ...``; the nesting (dicts, lists, tuples, numbers, strings, None) lives
in one JSON document stored as a uint8 array under ``__micrograd__``. Loading parses JSON and raw
arrays only, so a hostile file can at worst fail to load: pickles (``torch.save`` output, renamed
files), object arrays, truncated or corrupt archives and unknown layouts all raise
``ValueError`` naming the file and the problem.

Loading is bounded by the file: the signature is checked before anything else is read, the
archive is read through its index (never as a whole), members may not declare more bytes than
the file holds (a zip bomb is refused before it is inflated), each array's header must agree
with its member's size before the array is allocated, and the data streams into the final array,
so a checkpoint needs about its own size in memory.
"""
from __future__ import annotations

import io
import json
import math
import os
import secrets
import zipfile
import zlib
from typing import Any, BinaryIO, Callable

import numpy as np

from ..core.device import as_device
from ..core.tensor import Tensor, wrap_array

FORMAT = "micrograd.save"
VERSION = 1
_TREE_KEY = "__micrograd__"
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 18  # bytes copied at a time from an archive member into its array
_DTYPES = {np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                                 np.float64)}


def _encode(obj: Any, arrays: list, where: str) -> Any:
    """Turn ``obj`` into JSON-able nodes, appending every array to ``arrays``."""
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

    ``path`` is a file name or a binary file object. Tensors come back as Tensors, NumPy arrays
    as arrays, containers as themselves. A file name is written atomically: a temporary file
    next to the target is renamed over it, so a failed or interrupted save keeps the old file.
    As with ``open(path, "wb")``, a symlink is written through (its target changes, the link
    stays) and the file's mode is the old file's, or for a new file 0o666 less the umask.
    """
    arrays: list[np.ndarray] = []
    tree = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    payload = {f"a{i}": a for i, a in enumerate(arrays)}
    payload[_TREE_KEY] = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **payload)
    else:
        _write_atomically(os.fspath(path), lambda f: np.savez(f, **payload))


def _write_atomically(path: str, write: Callable[[BinaryIO], None]) -> None:
    """``write`` into a temporary file in the target's folder, then rename it over the target.

    OS errors are PyTorch's RuntimeError and name ``path`` as the user gave it (the temporary
    file is an implementation detail)."""
    target = os.path.realpath(path)  # through symlinks: the link itself is left in place
    if os.path.isdir(target):
        raise RuntimeError(f"mg.save: cannot write {path!r}: it is a directory")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise RuntimeError(f"mg.save: cannot write {path!r}: its directory {folder!r} does not "
                           "exist")
    tmp = os.path.join(folder, f".mg-save-{secrets.token_hex(8)}.tmp")
    try:
        # mode 0o666, which the kernel masks with the umask as for open() (mkstemp: 0o600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as exc:
        raise RuntimeError(f"mg.save: cannot write {path!r}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            if os.path.exists(target):  # overwriting keeps the file's mode, as open() would
                os.chmod(tmp, os.stat(target).st_mode & 0o7777)
            write(f)
        os.replace(tmp, target)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise RuntimeError(f"mg.save: cannot write {path!r}: {exc.strerror or exc}") from exc
        raise


def _decode(node: Any, read: Callable[[str, str], np.ndarray], name: str) -> Any:
    """The object a JSON node describes; ``read(key, name)`` returns the array stored as key."""
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
        array = read(node.get("k"), name)
        if kind == "ndarray":
            return array
        return wrap_array(array).requires_grad_(bool(node.get("rg", False)))  # no copy
    if kind == "dict":
        return {(k if t == "s" else int(k)): _decode(v, read, name) for t, k, v in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(v, read, name) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"mg.load: {name}: unknown entry type {kind!r}")


def load(path, map_location: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> Any:
    """Read what ``save`` wrote. Never unpickles: anything else is a ``ValueError``.

    ``map_location``, ``weights_only`` and ``mmap`` are PyTorch's keywords, accepted so that
    ``torch.load(path, weights_only=True)`` code runs: every load here is weights-only (the
    format holds tensors, arrays, numbers, strings and containers, no code), tensors load on
    the CPU (a device other than the CPU is the CPU-only RuntimeError), and the file is read,
    not memory-mapped. A file object is read from its current position and must be seekable,
    as in PyTorch."""
    if map_location is not None and not callable(map_location) and not isinstance(map_location,
                                                                                     dict):
        as_device(map_location)  # 'cpu' passes; 'cuda' and friends raise the CPU-only error
    if hasattr(path, "read"):
        return _load_from(path, "file object")
    with open(path, "rb") as f:
        return _load_from(f, repr(os.fspath(path)))


def _load_from(f: BinaryIO, name: str) -> Any:
    head = f.read(8)
    if not head.startswith(_ZIP_MAGIC):  # decided on 8 bytes, whatever the file's size
        hint = ""
        if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q"):
            hint = " It looks like a Python pickle (e.g. torch.save); those can run code and are " \
                   "never loaded."
        elif head.startswith(b"\x93NUMPY"):
            hint = " It is a single .npy array, not an mg.save file; use numpy.load."
        raise ValueError(f"mg.load: {name} is not an mg.save file (no zip signature; it starts "
                         f"with {head!r}).{hint}")
    if not (hasattr(f, "seek") and (not hasattr(f, "seekable") or f.seekable())):
        raise io.UnsupportedOperation(  # as torch.load: a zip is indexed from its end
            f"mg.load: {name} cannot seek. You can only load from a file that is seekable; "
            "read the data into a buffer like io.BytesIO and load from it instead.")
    start = f.seek(-len(head), io.SEEK_CUR)
    size = f.seek(0, io.SEEK_END) - start
    f.seek(start)
    try:
        with zipfile.ZipFile(f) as archive:
            return _read_archive(archive, size, name)
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


def _read_archive(archive: zipfile.ZipFile, size: int, name: str) -> Any:
    """Check what the archive's index declares against the file's ``size``, then decode the
    tree, reading each array member once, when the tree reaches it."""
    members: dict[str, zipfile.ZipInfo] = {}
    declared = 0
    for info in archive.infolist():
        declared += info.file_size
        if declared > size:  # more data than the file can hold: a zip bomb or a lying index
            raise ValueError(f"mg.load: {name}: member {info.filename!r} declares "
                             f"{info.file_size} bytes ({info.compress_size} stored), more than "
                             f"the {size}-byte file holds; refused without inflating it")
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        members[key] = info
    if _TREE_KEY not in members:
        raise ValueError(f"mg.load: {name} is an .npz archive but not an mg.save file "
                         f"(no {_TREE_KEY!r} entry; it holds {list(members)[:5]})")
    tree = json.loads(_read_array(archive, members[_TREE_KEY], _TREE_KEY, name)
                      .tobytes().decode("utf-8"))
    if not isinstance(tree, dict) or tree.get("format") != FORMAT:
        raise ValueError(f"mg.load: {name}: unknown format header")
    if tree.get("version") != VERSION:
        raise ValueError(f"mg.load: {name}: format version {tree.get('version')!r} "
                         f"is not supported (this micrograd reads version {VERSION})")
    unread = {k: v for k, v in members.items() if k != _TREE_KEY}

    def read(key: str, where: str) -> np.ndarray:
        if key not in unread:  # absent, or a second reference (one member, one array)
            raise ValueError(f"mg.load: {where}: array {key!r} is missing from the archive"
                             + (" or used twice" if key in members else ""))
        return _read_array(archive, unread.pop(key), key, where)

    return _decode(tree["root"], read, name)


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str,
                name: str) -> np.ndarray:
    """Stream one ``.npy`` member into a new array. The header's dtype is checked (no object
    arrays, so no pickles) and its shape against the member's size before the array is
    allocated; the data is then copied in chunks straight into the array."""
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError:
            raise ValueError(f"mg.load: {name}: entry {key!r} is not a .npy array") from None
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"mg.load: {name}: array {key!r} has .npy format version "
                             f"{version}, which mg.save never writes")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member)
        if dtype not in _DTYPES:
            pickled = " (object arrays are pickles, never loaded)" if dtype.hasobject else ""
            raise ValueError(f"mg.load: {name}: array {key!r} has unsupported dtype "
                             f"{dtype}{pickled}")
        nbytes = math.prod(shape) * dtype.itemsize
        held = info.file_size - member.tell()
        if nbytes != held:
            raise ValueError(f"mg.load: {name}: array {key!r} declares shape {shape} of {dtype} "
                             f"({nbytes} bytes), but its member holds {held} bytes")
        array = np.empty(shape[::-1] if fortran_order else shape, dtype)
        flat = array.reshape(-1).view(np.uint8)
        done = 0
        while done < nbytes:
            chunk = member.read(min(_CHUNK, nbytes - done))
            if not chunk:
                raise EOFError(f"array {key!r} ends after {done} of {nbytes} bytes")
            flat[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
            done += len(chunk)
    return array.T if fortran_order else array
