"""mg.load on hostile files, beyond tests/test_serialization.py (which covers a renamed pickle, an
object array, a few truncations, wrong formats and bad headers): truncation at every byte,
random byte corruption, zip-level tricks (unsupported compression, the encryption flag),
absurdly nested structures, malformed entries, and a crafted pickle that would leave a trace if
it ever ran. Every case is a ValueError naming the file, and nothing is executed."""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import tracemalloc
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


def _npy_header(descr: str, shape: tuple, version=(1, 0)) -> bytes:
    out = io.BytesIO()
    write = (np.lib.format.write_array_header_1_0 if version == (1, 0)
             else np.lib.format.write_array_header_2_0)
    write(out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue()


def _with_member(data: bytes, compression=zipfile.ZIP_STORED) -> bytes:
    """An mg.save archive whose root is the ndarray stored in member a0.npy = data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        tree = io.BytesIO()
        np.save(tree, np.frombuffer(json.dumps({**HEADER, "root": {"t": "ndarray", "k": "a0"}})
                                    .encode(), np.uint8))
        z.writestr("__micrograd__.npy", tree.getvalue())
        z.writestr("a0.npy", data, compress_type=compression)
    return buf.getvalue()


def _peak_bytes(fn) -> int:
    """Peak Python + NumPy allocations while fn runs (NumPy reports its buffers to
    tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_of_refusal(fn, match: str, exc: type = ValueError) -> int:
    """fn() must raise exc matching match; returns the peak memory while it ran."""
    def refused():
        with pytest.raises(exc, match=match):
            fn()
    return _peak_bytes(refused)


@pytest.mark.parametrize("shape", [(1000000, 1000000), (2 ** 40,), (2 ** 62, 2 ** 62)])
def test_array_header_lying_about_its_size_is_a_value_error(shape):
    """A .npy member claiming terabytes with 64 bytes of data is a ValueError naming the shape,
    raised before anything is allocated (it was a MemoryError from the allocator)."""
    blob = _with_member(_npy_header("<f8", shape) + b"\0" * 64)
    match = rf"array 'a0' declares shape \({shape[0]},.*but its member holds 64 bytes"
    assert _peak_of_refusal(lambda: _load(blob), match) < 1 << 20


def test_array_header_and_member_size_must_agree():
    data = np.arange(10, dtype=np.float64)
    for shape, held in [((9,), 80), ((11,), 80), ((), 80)]:
        with pytest.raises(ValueError, match=rf"declares shape {re.escape(str(shape))} of float64 "
                                             rf"\({8 * math.prod(shape)} bytes\), but its member "
                                             rf"holds {held}"):
            _load(_with_member(_npy_header("<f8", shape) + data.tobytes()))
    back = _load(_with_member(_npy_header("<f8", (2, 5), version=(2, 0)) + data.tobytes()))
    np.testing.assert_array_equal(back, data.reshape(2, 5))
    with pytest.raises(ValueError, match="version"):
        _load(_with_member(b"\x93NUMPY\x03\x00" + _npy_header("<f8", (10,))[8:]
                           + data.tobytes()))


def test_fortran_order_members_load_as_numpy_wrote_them():
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    member = io.BytesIO()
    np.save(member, a)
    back = _load(_with_member(member.getvalue()))
    np.testing.assert_array_equal(back, a)


def test_zip_bomb_is_refused_before_inflating():
    """A member inflating to 32 MiB from a ~32 KB file: the index declares more bytes than the
    file holds, so it is refused, naming the member, without inflating it (it was inflated and
    loaded)."""
    n = 32 << 20
    bomb_member = _npy_header("|u1", (n,)) + bytes(n)
    blob = _with_member(bomb_member, zipfile.ZIP_DEFLATED)
    assert len(blob) < 100_000
    match = (rf"member 'a0.npy' declares {len(bomb_member)} bytes .*more than the "
             rf"{len(blob)}-byte file holds; refused without inflating it")
    assert _peak_of_refusal(lambda: _load(blob), match) < 1 << 20


def test_member_lying_about_its_inflated_size_is_bounded():
    """The index says 1000 bytes, the deflate stream inflates to 8 MiB: reading stops at the
    declared size, where the checksum disagrees: a ValueError naming the member, memory flat."""
    n = 8 << 20
    blob = bytearray(_with_member(_npy_header("|u1", (n,)) + bytes(n), zipfile.ZIP_DEFLATED))
    local, index = blob.find(b"a0.npy") - 30, blob.rfind(b"a0.npy") - 46
    assert blob[local:local + 4] == b"PK\x03\x04" and blob[index:index + 4] == b"PK\x01\x02"
    for size_field in (local + 22, index + 24):
        blob[size_field:size_field + 4] = (1000).to_bytes(4, "little")
    match = r"corrupt or truncated: BadZipFile: Bad CRC-32 for file 'a0.npy'"
    assert _peak_of_refusal(lambda: _load(bytes(blob)), match) < 1 << 20


def test_non_zip_data_is_refused_after_a_few_bytes():
    """An endless stream of zeros (what a symlink to /dev/zero gives) is refused after its
    first 8 bytes: mg.load used to read it all before looking at the signature."""
    class Zeros(io.RawIOBase):
        read_so_far = 0

        def readable(self):
            return True

        def readinto(self, buf):
            Zeros.read_so_far += len(buf)
            assert Zeros.read_so_far < 1 << 20, "mg.load keeps reading a non-zip stream"
            buf[:] = bytes(len(buf))
            return len(buf)

    with pytest.raises(ValueError, match=r"no zip signature; it starts with b'\\x00"):
        mg.load(Zeros())
    assert Zeros.read_so_far <= 8


def test_a_1_gib_file_is_refused_without_reading_it(tmp_path):
    """Sparse 1 GiB files (no disk use): without a zip signature, refused after 8 bytes; with
    one but no valid index at the end, refused after reading the index region only. Memory
    stays under 1 MiB either way (it grew by the file's size)."""
    plain, zipish = tmp_path / "plain.npz", tmp_path / "zipish.npz"
    with open(plain, "wb") as f:
        f.truncate(1 << 30)
    with open(zipish, "wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(1 << 30)
    for path, match in ((plain, "no zip signature"), (zipish, "corrupt")):
        assert _peak_of_refusal(lambda: mg.load(path), match) < 1 << 20


@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "symlink"),
                    reason="needs /dev/zero and symlinks")
def test_symlink_to_dev_zero_is_refused(tmp_path):
    """It read until MemoryError."""
    link = tmp_path / "model.npz"
    link.symlink_to("/dev/zero")
    assert _peak_of_refusal(lambda: mg.load(link), "is not an mg.save file") < 1 << 20


@pytest.mark.parametrize("source", ["path", "file object"])
def test_loading_peaks_at_about_the_checkpoints_size(tmp_path, source):
    """The arrays stream from the archive into their final storage: no copy of the whole file,
    no second copy of an array, no Tensor copy (it peaked at 3x)."""
    rng = np.random.default_rng(0)
    obj = {"w": mg.tensor(rng.standard_normal((512, 1024), dtype=np.float32)),  # 2 MiB
           "v": mg.tensor(rng.standard_normal(256 * 1024)),                     # 2 MiB
           "step": 3}
    path = tmp_path / "ck.npz"
    mg.save(obj, path)
    size = path.stat().st_size
    blob = path.read_bytes()
    out = []

    def run():
        out.append(mg.load(path if source == "path" else io.BytesIO(blob)))

    peak = _peak_bytes(run)
    assert peak < 1.5 * size, f"peak {peak} for a {size}-byte checkpoint"
    back = out[0]
    for k in ("w", "v"):
        assert back[k].dtype == obj[k].dtype
        np.testing.assert_array_equal(back[k]._array, obj[k]._array)
    assert back["step"] == 3


def test_an_array_used_twice_is_refused():
    """One member, one array: a tree naming the same member many times would otherwise multiply
    the memory a small file needs."""
    tree = {**HEADER, "root": {"t": "list", "items": [{"t": "ndarray", "k": "a0"}] * 2}}
    with pytest.raises(ValueError, match="'a0' is missing from the archive or used twice"):
        _load(_archive(tree, a0=np.zeros(3)))


def test_streams_that_cannot_seek_are_refused_as_torch_does():
    class Stream(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buf):
            return self.data.readinto(buf)

    with pytest.raises(io.UnsupportedOperation, match="file object cannot seek.*io.BytesIO"):
        mg.load(Stream(GOOD))
    with pytest.raises(ValueError, match="pickle"):           # the signature comes first
        mg.load(Stream(pickle.dumps({"w": 1})))
    prefixed = io.BytesIO(b"some header" + GOOD)
    prefixed.seek(len(b"some header"))                        # read from the current position
    assert _same_as_saved(mg.load(prefixed))
