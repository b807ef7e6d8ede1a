"""mg.load on hostile files, beyond tests/test_serialization.py (which covers a renamed pickle, an
object array, a few truncations, wrong formats and bad headers): truncation at every byte,
random byte corruption, zip-level tricks (unsupported compression, the encryption flag),
absurdly nested structures, malformed entries, and a crafted pickle that would leave a trace if
it ever ran. Every case is a ValueError naming the file, and nothing is executed."""
from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd as mg

HEADER = {"format": "micrograd.save", "version": 1}
OBJ = {"w": mg.ones(20, 10), "b": mg.zeros(10), "step": 3, "cfg": {"lr": 0.1, "name": "x"}}


def _good() -> bytes:
    buf = io.BytesIO()
    mg.save(OBJ, buf)
    return buf.getvalue()


GOOD = _good()


def _load(blob: bytes):
    return mg.load(io.BytesIO(blob))


def _archive(tree, **arrays) -> bytes:
    raw = tree if isinstance(tree, bytes) else json.dumps(tree).encode()
    buf = io.BytesIO()
    np.savez(buf, __micrograd__=np.frombuffer(raw, dtype=np.uint8), **arrays)
    return buf.getvalue()


def _same_as_saved(back) -> bool:
    return (list(back) == list(OBJ) and back["step"] == 3 and back["cfg"] == OBJ["cfg"]
            and all(back[k].dtype == OBJ[k].dtype and np.array_equal(back[k]._array, OBJ[k]._array)
                    for k in ("w", "b")))


def test_truncation_at_every_byte_is_a_value_error():
    for n in range(len(GOOD)):
        with pytest.raises(ValueError, match="mg.load: file object"):
            _load(GOOD[:n])


@settings(max_examples=max(60, settings.default.max_examples * 3))
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)),
                      min_size=1, max_size=4))
def test_random_corruption_is_an_error_or_the_exact_object(flips):
    """A flipped byte either breaks the file (ValueError) or lands somewhere harmless (a
    timestamp, padding) and the object comes back bit-identical: never a silently different
    tensor, and never another exception type."""
    blob = bytearray(GOOD)
    for pos, value in flips:
        blob[pos] = value
    try:
        back = _load(bytes(blob))
    except ValueError as exc:
        assert str(exc).startswith("mg.load")
        return
    assert _same_as_saved(back)


def _patch_local_header(blob: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite a field of the first local file header and of its central-directory entry."""
    out = bytearray(blob)
    out[offset:offset + len(value)] = value                      # local header
    cd = blob.rfind(b"PK\x01\x02", 0, len(blob))
    first_cd = blob.find(b"PK\x01\x02")
    assert cd >= 0 and first_cd >= 0
    out[first_cd + offset + 2:first_cd + offset + 2 + len(value)] = value  # CD is 2 bytes longer
    return bytes(out)


@pytest.mark.parametrize("field, offset, value, what", [
    ("compression method 99", 8, (99).to_bytes(2, "little"), "NotImplementedError"),
    ("encryption flag", 6, (1).to_bytes(2, "little"), "encrypted"),
])
def test_zip_level_tricks_are_value_errors(field, offset, value, what):
    """zipfile raises NotImplementedError / RuntimeError for these; mg.load must translate."""
    with pytest.raises(ValueError, match=rf"mg.load: .*corrupt.*{what}"):
        _load(_patch_local_header(GOOD, offset, value))


def test_absurdly_nested_structures_are_value_errors():
    deep_json = (b'{"format": "micrograd.save", "version": 1, "root": ' + b"[" * 100_000
                 + b"]" * 100_000 + b"}")
    with pytest.raises(ValueError, match="nested too deeply|corrupt"):
        _load(_archive(deep_json))
    node = {"t": "const", "v": None}
    text = json.dumps(node)
    for _ in range(5000):
        text = '{"t": "list", "items": [' + text + "]}"
    with pytest.raises(ValueError, match="nested too deeply|corrupt"):
        _load(_archive(b'{"format": "micrograd.save", "version": 1, "root": ' + text.encode()
                       + b"}"))


@pytest.mark.parametrize("root, arrays, match", [
    ({"t": "list", "items": 5}, {}, "corrupt"),
    ({"t": "dict", "items": [["s", "a"]]}, {}, "corrupt"),
    ({"t": "dict", "items": [["s", ["unhashable"], {"t": "const", "v": True}]]}, {}, "corrupt"),
    ({"t": "int", "v": "abc"}, {}, "corrupt"),
    ({"t": "int", "v": "9" * 5000}, {}, "corrupt"),        # int() digit limit
    ({"t": "float", "v": [1]}, {}, "corrupt"),
    ({"t": "const", "v": {"__class__": "os.system"}}, {}, "malformed constant"),
    ({"t": "tensor", "k": "a0", "rg": True}, {"a0": np.arange(3)}, "corrupt"),  # int + grad
    ({"t": "tensor", "k": ["a0"]}, {"a0": np.arange(3)}, "corrupt|missing"),
    ({"t": "ndarray", "k": "a0"}, {"a0": np.array([1j])}, "unsupported dtype complex"),
    ({"t": "ndarray", "k": "a0"}, {"a0": np.zeros(2, dtype=[("a", "f4")])}, "unsupported dtype"),
    ({"t": "ndarray", "k": "a0"}, {"a0": np.array(["text"])}, "unsupported dtype"),
    (None, {}, "malformed structure"),
])
def test_malformed_entries_are_value_errors(root, arrays, match):
    with pytest.raises(ValueError, match=rf"mg.load: .*({match})"):
        _load(_archive({**HEADER, "root": root}, **arrays))
    with pytest.raises(ValueError, match="mg.load"):
        _load(_archive(b"\xff\xfe not utf-8"))
    with pytest.raises(ValueError, match="mg.load"):
        _load(_archive({**HEADER}))                           # no root


_TRACE: list = []


def _side_effect(tag):
    _TRACE.append(tag)
    return tag


class _Payload:
    """Unpickling this calls _side_effect: proof that a pickle ran, if it ever does."""

    def __reduce__(self):
        return (_side_effect, ("pickle ran",))


@pytest.mark.parametrize("wrap", ["raw", "as .npy member", "as tree member", "protocol 0"])
def test_crafted_pickles_never_run(tmp_path, wrap):
    payload = pickle.dumps({"w": _Payload()}, protocol=0 if wrap == "protocol 0" else 4)
    if wrap in ("raw", "protocol 0"):
        blob = payload
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            tree = np.frombuffer(json.dumps({**HEADER, "root": {"t": "ndarray", "k": "a0"}})
                                 .encode(), np.uint8)
            member = io.BytesIO()
            np.save(member, tree)
            if wrap == "as .npy member":
                z.writestr("__micrograd__.npy", member.getvalue())
                z.writestr("a0.npy", payload)
            else:
                z.writestr("__micrograd__.npy", payload)
        blob = buf.getvalue()
    path = tmp_path / "model.npz"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match="mg.load"):
        mg.load(path)
    assert _TRACE == []


def test_array_header_lying_about_its_size_does_not_allocate():
    """A .npy member claiming (10**6, 10**6) float64 (7 TiB) with 64 bytes of data: refused at
    once (MemoryError from the allocator or ValueError), without touching that memory."""
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    hdr = hdr + " " * (118 - len(hdr)) + "\n"
    member = b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode() + b"\0" * 64
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        tree = io.BytesIO()
        np.save(tree, np.frombuffer(json.dumps({**HEADER, "root": {"t": "ndarray", "k": "a0"}})
                                    .encode(), np.uint8))
        z.writestr("__micrograd__.npy", tree.getvalue())
        z.writestr("a0.npy", member)
    with pytest.raises((ValueError, MemoryError)):
        _load(buf.getvalue())
