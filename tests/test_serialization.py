"""mg.save / mg.load: round trips, and every kind of bad file is a clear ValueError."""
from __future__ import annotations

import errno
import io
import json
import os
import pickle
import re
import stat
import zipfile

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn


def test_nested_round_trip(tmp_path):
    obj = {
        "weights": mg.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "grad_needed": mg.Tensor([1.0, 2.0], requires_grad=True),
        "array": np.array([1, 2, 3], dtype=np.int64),
        "nested": {"list": [1, 2.5, "s", None, True], "tuple": (0.1, float("nan"), -np.inf)},
        7: {"step": 3, "flags": [False]},
        "empty": {},
        "f64": np.float64(1.0) / 3,
        "scalar": mg.Tensor(np.array(3, dtype=np.int64)),
    }
    path = tmp_path / "obj.npz"
    mg.save(obj, path)
    back = mg.load(path)
    assert isinstance(back["weights"], mg.Tensor) and back["weights"].dtype == mg.float32
    np.testing.assert_array_equal(back["weights"]._array, obj["weights"]._array)
    assert back["grad_needed"].requires_grad
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int64
    assert back["nested"]["list"] == [1, 2.5, "s", None, True]
    t = back["nested"]["tuple"]
    assert isinstance(t, tuple) and t[0] == 0.1 and np.isnan(t[1]) and t[2] == -np.inf
    assert back[7] == {"step": 3, "flags": [False]} and back["empty"] == {}
    assert back["f64"] == obj["f64"]  # bit-exact float
    assert back["scalar"].shape == () and back["scalar"].item() == 3  # 0-d stays 0-d
    assert list(back) == list(obj)  # key order kept


def test_model_state_dict_round_trip_and_file_objects(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    model(mg.randn(5, 4))  # move the running statistics
    buffer = io.BytesIO()
    mg.save(model.state_dict(), buffer)
    buffer.seek(0)
    state = mg.load(buffer)
    assert list(state) == list(model.state_dict())
    mg.manual_seed(1)
    other = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    other.load_state_dict(state)
    for (k, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a._array, b._array, err_msg=k)


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "m.npz"
    mg.save({"a": 1}, path)
    mg.save({"a": 2}, str(path))
    assert mg.load(path) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    with pytest.raises(TypeError, match="type object"):
        mg.save({"bad": object()}, path)
    assert mg.load(path) == {"a": 2}  # a failed save keeps the old file
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_save_writes_through_a_symlink(tmp_path):
    """As open(link, "wb"): the link's target gets the new contents and the link stays (the
    atomic replace used to turn the link into a regular file)."""
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "model-v7.npz"
    mg.save({"a": 1}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.join("runs", "model-v7.npz"))   # relative, as `ln -s` makes them
    mg.save({"a": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "model-v7.npz")
    assert mg.load(target) == {"a": 2}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["latest.npz", "model-v7.npz", "runs"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], ids=["022", "077", "002"])
def test_save_gives_new_files_the_umasks_mode_and_keeps_an_old_files(tmp_path, umask):
    """New files: 0o666 less the umask, as open() and torch.save (they were 0o600, the
    temporary file's mode). Overwritten files keep their mode, as with open()."""
    old = os.umask(umask)
    try:
        path = tmp_path / "new.npz"
        mg.save({"a": 1}, path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
        path.chmod(0o640)
        mg.save({"a": 2}, path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640 and mg.load(path) == {"a": 2}
    finally:
        os.umask(old)


def test_save_errors_name_the_path_given(tmp_path, monkeypatch):
    """A folder, or a file in a missing folder: PyTorch's RuntimeError naming the user's path
    (the error named the temporary file)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(RuntimeError, match=r"mg.save: cannot write 'ckpt': it is a directory"):
        mg.save({"a": 1}, "ckpt")
    with pytest.raises(RuntimeError, match=r"mg.save: cannot write 'missing/m.npz': its "
                                           r"directory '.*missing' does not exist") as info:
        mg.save({"a": 1}, os.path.join("missing", "m.npz"))
    assert ".mg-save" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_a_failed_write_keeps_the_old_file_and_names_the_path(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    mg.save({"a": 1}, path)

    def disk_full(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(RuntimeError, match=rf"cannot write {re.escape(repr(str(path)))}: "
                                           rf"{os.strerror(errno.ENOSPC)}"):
        mg.save({"a": 2}, str(path))
    monkeypatch.undo()
    assert mg.load(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.parametrize("obj, match", [
    ({"f": lambda: 0}, "function"),
    ({(1, 2): 3}, "keys must be str or int"),
    ({"o": np.array([object()], dtype=object)}, "dtype object"),
    ({"c": np.array([1j])}, "dtype complex"),
])
def test_unsupported_objects_are_refused(tmp_path, obj, match):
    with pytest.raises(TypeError, match=match):
        mg.save(obj, tmp_path / "x.npz")


def _good_file(tmp_path) -> bytes:
    path = tmp_path / "good.npz"
    mg.save({"w": mg.ones(100, 10), "step": 1}, path)
    return path.read_bytes()


def test_pickle_renamed_npz_is_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("the pickle was executed",))
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(ValueError, match="pickle"):
        mg.load(path)


def test_npz_with_object_array_is_refused(tmp_path):
    # a hand-made archive with our header but a pickled object array inside
    path = tmp_path / "evil.npz"
    tree = {"format": "micrograd.save", "version": 1, "root": {"t": "ndarray", "k": "a0"}}
    np.savez(path, a0=np.array([{"x": 1}], dtype=object),
             __micrograd__=np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="corrupt|pickle"):
        mg.load(path)


def test_truncated_and_corrupt_files(tmp_path):
    good = _good_file(tmp_path)
    for name, blob in [("truncated", good[: len(good) // 2]), ("header_only", good[:30]),
                       ("flipped", good[:200] + bytes(b ^ 0xFF for b in good[200:400])
                        + good[400:]),
                       ("empty", b"")]:
        path = tmp_path / f"{name}.npz"
        path.write_bytes(blob)
        with pytest.raises(ValueError, match="mg.load"):
            mg.load(path)


def test_wrong_formats(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(3))
    with pytest.raises(ValueError, match="not an mg.save file"):
        mg.load(plain)
    npy = tmp_path / "a.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        mg.load(npy)
    text = tmp_path / "t.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="no zip signature; it starts with b'hello'"):
        mg.load(text)
    other_zip = tmp_path / "z.npz"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match="not an mg.save file"):
        mg.load(other_zip)


def test_bad_headers(tmp_path):
    def write(tree, name, **arrays):
        path = tmp_path / name
        raw = tree if isinstance(tree, bytes) else json.dumps(tree).encode()
        np.savez(path, __micrograd__=np.frombuffer(raw, dtype=np.uint8), **arrays)
        return path
    with pytest.raises(ValueError, match="version 99"):
        mg.load(write({"format": "micrograd.save", "version": 99, "root": None}, "v.npz"))
    with pytest.raises(ValueError, match="unknown format"):
        mg.load(write({"format": "other"}, "f.npz"))
    with pytest.raises(ValueError, match="corrupt"):
        mg.load(write(b"{not json", "j.npz"))
    with pytest.raises(ValueError, match="missing"):
        mg.load(write({"format": "micrograd.save", "version": 1,
                       "root": {"t": "tensor", "k": "a5"}}, "m.npz"))
    with pytest.raises(ValueError, match="unknown entry type"):
        mg.load(write({"format": "micrograd.save", "version": 1,
                       "root": {"t": "exec", "v": "os.system"}}, "e.npz"))


def test_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.zeros(2)}, path)  # a zip holding a pickle: no micrograd header
    with pytest.raises(ValueError, match="not an mg.save file|corrupt"):
        mg.load(path)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="pickle"):
        mg.load(legacy)


def test_load_accepts_torchs_keywords(tmp_path):
    """torch.load(path, weights_only=True, map_location="cpu") code runs; a GPU map_location is
    the CPU-only error, not a silent CPU load."""
    path = tmp_path / "m.pt"
    mg.save({"w": mg.tensor([1.0, 2.0])}, path)
    for kwargs in ({"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
                   {"map_location": mg.device("cpu"), "mmap": False}):
        assert mg.load(path, **kwargs)["w"].tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="CPU"):
        mg.load(path, map_location="cuda:0")
