"""Bit ops on integer and bool tensors against torch: bit by bit on integers (not logical),
logical on bools, reflected and in-place forms, torch's type promotion, errors on floats."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for the bit ops")

A = [5, 3, -7, 0, 12, -1]
B = [3, 6, 2, 1, 4, 0]
SHIFT = [0, 1, 2, 3, 4, 5]

# (name, function of (a, b) for either library, right operand)
SPEC = [
    ("and", lambda a, b: a & b, B), ("or", lambda a, b: a | b, B),
    ("xor", lambda a, b: a ^ b, B), ("not", lambda a, b: ~a, B),
    ("lshift", lambda a, b: a << b, SHIFT), ("rshift", lambda a, b: a >> b, SHIFT),
    ("and_scalar", lambda a, b: a & 6, B), ("rand_scalar", lambda a, b: 6 & a, B),
    ("ror_scalar", lambda a, b: 9 | a, B), ("rxor_scalar", lambda a, b: 9 ^ a, B),
    ("rlshift", lambda a, b: 1 << b, SHIFT), ("rrshift", lambda a, b: 200 >> b, SHIFT),
    ("rshift_scalar", lambda a, b: a >> 1, B),
    ("fn_and", lambda a, b: _lib(a).bitwise_and(a, b), B),
    ("fn_or", lambda a, b: _lib(a).bitwise_or(a, b), B),
    ("fn_xor", lambda a, b: _lib(a).bitwise_xor(a, b), B),
    ("fn_not", lambda a, b: _lib(a).bitwise_not(a), B),
    ("fn_lshift", lambda a, b: _lib(a).bitwise_left_shift(a, b), SHIFT),
    ("fn_rshift", lambda a, b: _lib(a).bitwise_right_shift(a, b), SHIFT),
    ("broadcast", lambda a, b: a.reshape(6, 1) & b, B),
]


def _lib(t):
    return torch if isinstance(t, torch.Tensor) else mg


@pytest.mark.parametrize("name,fn,right", SPEC, ids=[s[0] for s in SPEC])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16"])
def test_bit_ops_match_torch(name, fn, right, dtype):
    a_np = np.array(A)
    if dtype == "uint8":
        a_np = np.abs(a_np)
    got = fn(mg.tensor(a_np, dtype=getattr(mg, dtype)), mg.tensor(right, dtype=getattr(mg, dtype)))
    want = fn(torch.tensor(a_np, dtype=getattr(torch, dtype)),
              torch.tensor(right, dtype=getattr(torch, dtype)))
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_bool_ops_are_logical_and_int_ops_are_bitwise():
    m, n = [True, False, True, False], [True, True, False, False]
    for fn in (lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b,
               lambda a, b: ~a, lambda a, b: a & True, lambda a, b: False | a):
        got, want = fn(mg.tensor(m), mg.tensor(n)), fn(torch.tensor(m), torch.tensor(n))
        assert got.dtype == mg.bool
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    # the former wrong answer: 2 & 1 was logical True (1); bitwise it is 0
    assert (mg.tensor([2]) & mg.tensor([1])).tolist() == [0]


@pytest.mark.parametrize("pair", [("int32", "int64"), ("bool", "int64"), ("uint8", "int16")])
def test_promotion_matches_torch(pair):
    x, y = [mg.tensor([1, 0, 1], dtype=getattr(mg, d)) for d in pair]
    tx, ty = [torch.tensor([1, 0, 1], dtype=getattr(torch, d)) for d in pair]
    for fn in (lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b):
        assert fn(x, y).dtype.name == str(fn(tx, ty).dtype).replace("torch.", "")


def test_in_place_forms_match_torch():
    for name, arg in [("bitwise_and_", B), ("bitwise_or_", B), ("bitwise_xor_", B),
                      ("bitwise_not_", None), ("__ilshift__", SHIFT), ("__irshift__", SHIFT)]:
        x, tx = mg.tensor(A), torch.tensor(A)
        args = () if arg is None else (mg.tensor(arg),)
        targs = () if arg is None else (torch.tensor(arg),)
        out = getattr(x, name)(*args)
        getattr(tx, name)(*targs)
        assert out is x, name
        np.testing.assert_array_equal(x.numpy(), tx.numpy(), err_msg=name)
    x = mg.tensor(A)
    x &= 6
    x ^= mg.tensor(B)
    np.testing.assert_array_equal(x.numpy(), (np.array(A) & 6) ^ np.array(B))


@pytest.mark.parametrize("fn", [lambda a: a & a, lambda a: a | 1, lambda a: ~a,
                                lambda a: a << 1, lambda a: mg.bitwise_xor(a, a)])
def test_float_operands_raise_naming_the_dtype(fn):
    with pytest.raises(TypeError, match="float32"):
        fn(mg.tensor([1.0, 2.0]))


def test_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        mg.tensor([1, 2]) & mg.tensor([1, 2, 3])


def test_mod_floordiv_reflected_match_torch():
    a, ta = mg.tensor(A), torch.tensor(A)
    for fn in (lambda x: x % 4, lambda x: 7 % (x.abs() + 1), lambda x: x // 3,
               lambda x: 7 // (x.abs() + 1), lambda x: x % -3, lambda x: x // -4):
        np.testing.assert_array_equal(fn(a).numpy(), fn(ta).numpy())
