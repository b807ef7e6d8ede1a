"""DLPack: ``Tensor.__dlpack__`` / ``__dlpack_device__`` and ``micrograd.from_dlpack`` against
NumPy (always), torch (``torch.from_dlpack``, ``torch.tensor``, ``torch.as_tensor``) and JAX
(``jax.numpy.asarray``) where installed: every micrograd dtype, memory shared or copied as
each call promises, strided views, 0-d and empty tensors, legacy capsules, and torch's refusals
(a tensor that requires grad, a stream on the CPU, a device other than the CPU)."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg

R = np.random.default_rng(11)
# every dtype a micrograd Tensor can hold, as (name, array)
ARRAYS = {
    "float16": R.standard_normal((2, 3)).astype(np.float16),
    "float32": R.standard_normal((2, 3)).astype(np.float32),
    "float64": R.standard_normal((3, 2)),
    "int8": np.array([[-128, 0, 127]], np.int8),
    "int16": np.array([-3, 4], np.int16),
    "int32": np.arange(-4, 4, dtype=np.int32).reshape(2, 2, 2),
    "int64": np.array([2**40, -1], np.int64),
    "uint8": np.array([0, 255, 7], np.uint8),
    "bool": np.array([[True, False], [False, True]]),
    "0-d": np.array(2.5),
    "empty": np.zeros((0, 3), np.float32),
}
# name -> f(tensor): views whose strides a consumer must honour
VIEWS = {
    "transpose": lambda t: t.T,
    "row_slice": lambda t: t[1:],
    "step_slice": lambda t: t[:, ::2],
    "flip": lambda t: t.flip(1),
}
BASE = R.standard_normal((4, 5))


def _torch():
    return pytest.importorskip("torch", reason="torch is the consumer/producer under test")


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    return np.shares_memory(a, b)


# ---- NumPy: the protocol itself ---------------------------------------------------------------
@pytest.mark.parametrize("name", list(ARRAYS))
def test_numpy_reads_every_dtype_without_a_copy(name):
    t = mg.tensor(ARRAYS[name])
    out = np.from_dlpack(t)
    assert out.dtype == ARRAYS[name].dtype and out.shape == ARRAYS[name].shape
    np.testing.assert_array_equal(out, ARRAYS[name])
    assert _shares(out, t.numpy()) or out.size == 0


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_keep_their_strides(name):
    t = VIEWS[name](mg.tensor(BASE))
    np.testing.assert_array_equal(np.from_dlpack(t), VIEWS[name](mg.tensor(BASE)).numpy())


def test_device_is_the_cpu():
    assert tuple(mg.tensor([1.0]).__dlpack_device__()) == (1, 0)  # kDLCPU, device 0


@pytest.mark.parametrize("name", list(ARRAYS))
def test_from_dlpack_shares_the_producers_memory(name):
    a = ARRAYS[name].copy()
    t = mg.from_dlpack(a)
    assert isinstance(t, mg.Tensor) and not t.requires_grad and t.is_leaf
    assert t.dtype.np == a.dtype and t.shape == a.shape
    np.testing.assert_array_equal(t.numpy(), a)
    if a.size and a.dtype.kind == "f":
        a.reshape(-1)[0] = 42
        assert t.numpy().reshape(-1)[0] == 42


def test_copy_true_copies_and_copy_false_shares():
    a = np.arange(4.0)
    copied, shared = mg.from_dlpack(a, copy=True), mg.from_dlpack(a, copy=False)
    a[0] = 9.0
    assert copied.tolist() == [0.0, 1.0, 2.0, 3.0] and shared.tolist() == [9.0, 1.0, 2.0, 3.0]
    t = mg.tensor([1.0, 2.0])
    assert not _shares(np.from_dlpack(t, copy=True), t.numpy())


def test_micrograd_round_trip_and_a_legacy_capsule():
    t = mg.tensor(BASE)
    back = mg.from_dlpack(t)
    assert _shares(back.numpy(), t.numpy())
    a = np.arange(3.0)
    shared = mg.from_dlpack(a.__dlpack__())  # an unversioned capsule, as torch.to_dlpack gives
    copied = mg.from_dlpack(a.__dlpack__(), copy=True)
    a[0] = 7.0
    assert shared.tolist() == [7.0, 1.0, 2.0] and copied.tolist() == [0.0, 1.0, 2.0]


def test_an_imported_tensor_is_an_ordinary_leaf(backend):
    x = mg.from_dlpack(BASE.copy()).requires_grad_()
    cot = R.standard_normal(BASE.shape)
    ((x * x).sum(1, keepdim=True) * mg.tensor(cot[:, :1])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * BASE * cot[:, :1], rtol=1e-12)
    assert mg.gradcheck(lambda v: (v.exp() * mg.tensor(cot)).sum(), (x,))


def test_read_only_memory_stays_read_only():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = mg.from_dlpack(a)
    with pytest.raises(RuntimeError, match="add_: the tensor's memory is read-only"):
        t.add_(1.0)


# ---- refusals: torch's errors -------------------------------------------------------------------
def test_a_tensor_that_requires_grad_is_refused_as_torch_refuses():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BufferError, match=r"Can't export tensors that require gradient, use "
                                          r"tensor.detach\(\)"):
        p.__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        np.from_dlpack(p)
    with pytest.raises(BufferError, match="require gradient"):
        mg.from_dlpack(p)
    assert np.from_dlpack(p.detach()).tolist() == [1.0, 2.0]


def test_streams_and_devices():
    t = mg.tensor([1.0])
    assert t.__dlpack__(stream=-1) is not None  # torch's "no synchronisation"
    with pytest.raises(TypeError, match="stream must be ``int`` or ``none``"):
        t.__dlpack__(stream="default")
    with pytest.raises(AssertionError, match="stream should be None on cpu"):
        t.__dlpack__(stream=1)
    with pytest.raises(BufferError, match="unsupported device"):
        t.__dlpack__(dl_device=(2, 0))  # kDLCUDA
    assert mg.from_dlpack(np.ones(2), device="cpu").tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="CPU only"):
        mg.from_dlpack(np.ones(2), device="cuda")


def test_from_dlpack_errors_name_what_was_given():
    with pytest.raises(TypeError, match=r"from_dlpack: expected an object with __dlpack__.*list"):
        mg.from_dlpack([1.0, 2.0])
    with pytest.raises(TypeError, match="cannot make a tensor of dtype uint16"):
        mg.from_dlpack(np.arange(3, dtype=np.uint16))
    with pytest.raises(TypeError, match="from_dlpack: cannot import.*complex"):
        mg.from_dlpack(np.ones(2, np.complex128))


def test_numpy_gets_no_writable_view_of_a_parameter():
    p = mg.nn.Linear(2, 2).weight
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        np.asarray(p)


# ---- torch as consumer and producer -------------------------------------------------------------
@pytest.mark.parametrize("name", list(ARRAYS))
def test_torch_reads_every_dtype(name):
    torch = _torch()
    a = ARRAYS[name]
    t = mg.tensor(a)
    for convert, shares in ((torch.from_dlpack, True), (torch.as_tensor, True),
                            (torch.tensor, False)):
        out = convert(t)
        expect = torch.tensor(a)
        assert out.dtype == expect.dtype and tuple(out.shape) == a.shape, convert
        assert torch.equal(out, expect), convert
        if a.size:
            assert (out.data_ptr() == t.numpy().ctypes.data) is shares, convert


@pytest.mark.parametrize("name", list(VIEWS))
def test_torch_reads_views(name):
    torch = _torch()
    out = torch.from_dlpack(VIEWS[name](mg.tensor(BASE)))
    assert torch.equal(out, VIEWS[name](torch.tensor(BASE)))


def test_torch_sees_writes_through_a_shared_tensor():
    torch = _torch()
    t = mg.zeros(3, dtype=mg.float64)
    shared = torch.as_tensor(t)
    shared[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    t.add_(1.0)
    assert shared.tolist() == [1.0, 6.0, 1.0]


def test_torch_tensors_come_in_without_a_copy():
    torch = _torch()
    for src in (torch.arange(6.0).reshape(2, 3), torch.arange(6).reshape(3, 2).T,
                torch.tensor(True), torch.zeros(0, 2, dtype=torch.int16)):
        t = mg.from_dlpack(src)
        assert t.tolist() == src.tolist() and t.dtype.name == str(src.dtype).split(".")[1]
        if src.numel():
            assert t.numpy().ctypes.data == src.data_ptr()
    capsule = torch.utils.dlpack.to_dlpack(torch.tensor([1.5, 2.5]))
    assert mg.from_dlpack(capsule).tolist() == [1.5, 2.5]


def test_torch_and_micrograd_refuse_the_same_way():
    torch = _torch()
    for lib in (torch, mg):
        p = lib.ones(2, requires_grad=True)
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            torch.from_dlpack(p)
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            mg.from_dlpack(p)


def test_dtypes_micrograd_lacks_are_a_type_error():
    torch = _torch()
    with pytest.raises(TypeError, match="from_dlpack: cannot import.*bfloat16"):
        mg.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="uint16"):
        mg.from_dlpack(torch.ones(2, dtype=torch.uint16))


# ---- JAX ------------------------------------------------------------------------------------------
def test_jax_reads_and_writes():
    jnp = pytest.importorskip("jax.numpy", reason="JAX is an optional DLPack consumer")
    for name in ("float32", "int32", "bool", "0-d"):
        a = ARRAYS[name]
        out = jnp.asarray(mg.tensor(a))
        np.testing.assert_array_equal(np.asarray(out), a)
    back = mg.from_dlpack(jnp.arange(4.0))
    assert back.tolist() == [0.0, 1.0, 2.0, 3.0] and back.dtype == mg.float32
