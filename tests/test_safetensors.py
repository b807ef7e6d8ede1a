"""safetensors files: ``save_safetensors`` / ``load_safetensors`` round-trip every micrograd dtype
(a dict, or a Module's state_dict with its outputs compared after loading), write what the
``safetensors`` package writes byte for byte, read what it and its torch API write (bfloat16
too, when asked), and refuse every malformed header the reference reader refuses, with the
problem named."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import micrograd as mg
from micrograd.tools.safetensors_io import (load_safetensors, read_safetensors_metadata,
                                            save_safetensors)

R = np.random.default_rng(5)
ARRAYS = {
    "w": R.standard_normal((3, 4)).astype(np.float32),
    "b": np.arange(5, dtype=np.int64),
    "flag": np.array(True),
    "half": R.standard_normal((2, 2)).astype(np.float16),
    "layer.0.i8": np.arange(-3, 3, dtype=np.int8).reshape(2, 3),
    "d": R.standard_normal(7),
    "u8": np.array([0, 200, 255], np.uint8),
    "i16": np.array([-300, 300], np.int16),
    "i32": np.arange(6, dtype=np.int32),
    "empty": np.zeros((2, 0), np.float32),
    "scalar": np.array(1.5, np.float64),
}


def _reference():
    return pytest.importorskip("safetensors.numpy", reason="the safetensors package is the "
                                                           "reference implementation")


def _same(got: dict, want: dict) -> None:
    assert list(sorted(got)) == list(sorted(want))
    for k, v in want.items():
        g = got[k].numpy() if isinstance(got[k], mg.Tensor) else got[k]
        assert g.dtype == v.dtype and g.shape == v.shape, k
        np.testing.assert_array_equal(g, v, err_msg=k)


# ---- round trips ----------------------------------------------------------------------------------
def test_round_trip_of_every_dtype(tmp_path):
    path = tmp_path / "all.safetensors"
    save_safetensors({k: mg.tensor(v) for k, v in ARRAYS.items()}, path)
    back = load_safetensors(path)
    _same(back, ARRAYS)
    assert all(isinstance(t, mg.Tensor) and not t.requires_grad for t in back.values())
    back["w"].add_(1.0)  # loaded tensors own writable memory
    assert read_safetensors_metadata(path) == {}


def test_arrays_strided_views_and_big_endian_input(tmp_path):
    a = np.arange(12.0).reshape(3, 4)
    src = {"t": a.T, "step": a[:, ::2], "be": a.astype(">f8"), "grad": mg.tensor(a,
                                                                             requires_grad=True)}
    save_safetensors(src, tmp_path / "v.safetensors")
    back = load_safetensors(tmp_path / "v.safetensors")
    _same(back, {"t": a.T, "step": a[:, ::2], "be": a, "grad": a})


def test_metadata_round_trips(tmp_path):
    meta = {"format": "pt", "note": "héllo ✓", "empty": ""}
    save_safetensors({"x": mg.ones(2)}, tmp_path / "m.safetensors", metadata=meta)
    assert read_safetensors_metadata(tmp_path / "m.safetensors") == meta


def test_a_module_saves_and_loads_into_a_fresh_copy(tmp_path, backend):
    def make():
        return mg.nn.Sequential(mg.nn.Linear(4, 6), mg.nn.BatchNorm1d(6), mg.nn.Tanh(),
                                mg.nn.Linear(6, 2)).double()
    mg.manual_seed(1)
    model = make()
    model(mg.tensor(R.standard_normal((8, 4))))  # moves the running statistics
    model.eval()
    save_safetensors(model, tmp_path / "model.safetensors")
    mg.manual_seed(2)
    fresh = make().eval()
    fresh.load_state_dict(load_safetensors(tmp_path / "model.safetensors"))
    x = mg.tensor(R.standard_normal((5, 4)))
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.safetensors"
    save_safetensors({"x": mg.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="'bad' has dtype complex128"):
        save_safetensors({"x": mg.zeros(2), "bad": np.ones(2, complex)}, path)
    assert path.read_bytes() == before
    with pytest.raises(RuntimeError, match="save_safetensors: cannot write .* does not exist"):
        save_safetensors({"x": mg.ones(2)}, tmp_path / "no" / "such.safetensors")


def test_save_argument_errors(tmp_path):
    path = tmp_path / "e.safetensors"
    with pytest.raises(TypeError, match="tensor names must be str, got 3"):
        save_safetensors({3: mg.ones(1)}, path)
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        save_safetensors({"__metadata__": mg.ones(1)}, path)
    with pytest.raises(TypeError, match="metadata must map str to str"):
        save_safetensors({"x": mg.ones(1)}, path, metadata={"epoch": 3})
    with pytest.raises(TypeError, match="tensor 'x' is a list; expected a Tensor or a NumPy"):
        save_safetensors({"x": [1.0]}, path)
    with pytest.raises(TypeError, match="expected a dict of tensors or a Module, got list"):
        save_safetensors([mg.ones(1)], path)
    assert not path.exists()


# ---- the reference implementation ------------------------------------------------------------------
@pytest.mark.parametrize("metadata", [None, {"format": "np"}])
def test_files_are_byte_identical_to_the_reference(tmp_path, metadata):
    ref = _reference()
    save_safetensors(ARRAYS, tmp_path / "ours.safetensors", metadata=metadata)
    ref.save_file(ARRAYS, str(tmp_path / "theirs.safetensors"), metadata=metadata)
    assert (tmp_path / "ours.safetensors").read_bytes() == \
        (tmp_path / "theirs.safetensors").read_bytes()


def test_each_reads_the_others_files(tmp_path):
    ref = _reference()
    save_safetensors(ARRAYS, tmp_path / "ours.safetensors", metadata={"by": "micrograd"})
    _same(ref.load_file(str(tmp_path / "ours.safetensors")), ARRAYS)
    ref.save_file(ARRAYS, str(tmp_path / "theirs.safetensors"), metadata={"by": "reference"})
    _same(load_safetensors(tmp_path / "theirs.safetensors"), ARRAYS)
    assert read_safetensors_metadata(tmp_path / "theirs.safetensors") == {"by": "reference"}


def test_torch_files_including_bfloat16(tmp_path):
    pytest.importorskip("safetensors", reason="the safetensors package writes the torch files")
    torch = pytest.importorskip("torch", reason="safetensors.torch needs torch")
    from safetensors.torch import load_file, save_file
    torch.manual_seed(0)
    tensors = {"w": torch.randn(3, 2, dtype=torch.float64), "n": torch.tensor(7),
               "bf": torch.randn(4, dtype=torch.bfloat16)}
    save_file(tensors, str(tmp_path / "t.safetensors"))
    with pytest.raises(TypeError, match="tensor 'bf' is bfloat16.*bfloat16_as_float32=True"):
        load_safetensors(tmp_path / "t.safetensors")
    back = load_safetensors(tmp_path / "t.safetensors", bfloat16_as_float32=True)
    assert back["bf"].dtype == mg.float32 and back["n"].dtype == mg.int64
    for k, v in tensors.items():
        np.testing.assert_array_equal(back[k].numpy(), v.float().numpy() if k == "bf"
                                      else v.numpy())
    save_safetensors({k: v for k, v in back.items() if k != "bf"}, tmp_path / "o.safetensors")
    again = load_file(str(tmp_path / "o.safetensors"))
    assert torch.equal(again["w"], tensors["w"]) and torch.equal(again["n"], tensors["n"])


# ---- malformed files: refused with the problem named, as the reference refuses them -----------------
def _file(tmp_path, header, data: bytes = b"", n: int | None = None) -> str:
    """A file of the length prefix (``n``, else the header's length), the header (JSON of an
    object, or raw bytes) and ``data``; with ``header`` None, just ``data``."""
    path = tmp_path / "bad.safetensors"
    if header is None:
        path.write_bytes(data)
        return str(path)
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes((len(text) if n is None else n).to_bytes(8, "little") + text + data)
    return str(path)


def _t(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


BAD = {  # name -> (header, data, n or None, what our message says)
    "too_short": (None, b"\x08\x00\x00", None, "3 bytes is too short"),
    "empty_header": (b"", b"", None, "does not start with '{'"),
    "huge_header": ({}, b"", 200_000_000, "over the 100000000-byte limit"),
    "header_past_end": ({"x": _t()}, b"", 500, "runs past the end"),
    "not_utf8": (b"{\xff\xfe}", b"", None, "not UTF-8"),
    "not_an_object_start": (b'["x"]', b"", None, "does not start with '{'"),
    "invalid_json": (b'{"x": ', b"", None, "not valid JSON"),
    "unknown_dtype": ({"x": _t("F128")}, bytes(8), None, "unknown dtype 'F128'"),
    "negative_shape": ({"x": _t(shape=(-2,))}, bytes(8), None, "not a list of non-negative"),
    "float_shape": ({"x": _t(shape=(2.0,))}, bytes(8), None, "not a list of non-negative"),
    "three_offsets": ({"x": _t(offsets=(0, 4, 8))}, bytes(8), None, "not a \\[begin, end\\]"),
    "missing_field": ({"x": {"dtype": "F32", "shape": [2]}}, bytes(8), None,
                      "expected dtype, shape and data_offsets"),
    "gap": ({"x": _t(offsets=(4, 12))}, bytes(12), None, "leave a gap"),
    "overlap": ({"x": _t(), "y": _t(offsets=(4, 12))}, bytes(12), None, "overlap"),
    "size_mismatch": ({"x": _t(shape=(3,))}, bytes(8), None, "takes 12 bytes, but .* span 8"),
    "trailing_data": ({"x": _t()}, bytes(9), None, "trailing data"),
    "truncated": ({"x": _t(shape=(4,), offsets=(0, 16))}, bytes(8), None, "truncated"),
    "metadata_not_strings": ({"__metadata__": {"epoch": 3}}, b"", None, "object of strings"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_files_are_refused(tmp_path, name):
    header, data, n, message = BAD[name]
    path = _file(tmp_path, header, data, n)
    with pytest.raises(ValueError, match=message):
        load_safetensors(path)
    with pytest.raises(ValueError, match=message):
        read_safetensors_metadata(path)
    try:
        ref = _reference()
    except pytest.skip.Exception:
        return
    with pytest.raises(Exception):  # the reference refuses each of them too
        ref.load_file(path)


def test_stricter_than_the_reference_on_duplicate_names(tmp_path):
    path = _file(tmp_path, b'{"x":' + json.dumps(_t()).encode() + b',"x":'
                 + json.dumps(_t()).encode() + b"}", bytes(8))
    with pytest.raises(ValueError, match=r"duplicate keys \['x'\]"):
        load_safetensors(path)


def test_dtypes_micrograd_lacks_are_refused_by_name(tmp_path):
    header = {"u": _t("U16", (2,), (0, 4)), "f8": _t("F8_E4M3", (2,), (4, 6))}
    path = _file(tmp_path, header, bytes(6))
    with pytest.raises(TypeError, match="tensor 'u' is U16, which micrograd has no dtype for"):
        load_safetensors(path)
    del header["u"]
    header["f8"]["data_offsets"] = [0, 2]
    with pytest.raises(TypeError, match="tensor 'f8' is F8_E4M3"):
        load_safetensors(_file(tmp_path, header, bytes(2)))


def test_a_pickle_is_not_a_safetensors_file(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04\x95" + os.urandom(64))
    with pytest.raises(ValueError, match="not a safetensors file|past the end"):
        load_safetensors(path)
