"""Elementwise math (torch.sin, ..., torch.lerp), the module-level arithmetic (torch.add/div/
max/..., out=) and small Tensor items (device, to('cuda'), softmax's dtype=, prelu), all
against torch: values and gradients in float64 with random cotangents, special values,
integer promotion, the in-place forms, and ``mg.gradcheck`` on every backend.

One spec table, ``OPS``: name -> (fn(lib, *inputs), the inputs' domains). Each ``fn`` is run
with ``lib`` = micrograd and ``lib`` = torch, so both libraries see the same call.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="torch is the oracle for these tests")

R, POS, UNIT, ABOVE1 = (-3.0, 3.0), (0.1, 4.0), (-0.9, 0.9), (1.1, 4.0)
NONZERO = ((-3.0, -0.2), (0.2, 3.0))  # a union: either sign, away from 0

OPS = {
    "sin": (lambda L, x: L.sin(x), [R]),
    "cos": (lambda L, x: L.cos(x), [R]),
    "tan": (lambda L, x: L.tan(x), [(-1.4, 1.4)]),
    "asin": (lambda L, x: L.asin(x), [UNIT]),
    "acos": (lambda L, x: L.acos(x), [UNIT]),
    "atan": (lambda L, x: L.atan(x), [R]),
    "sinh": (lambda L, x: L.sinh(x), [R]),
    "cosh": (lambda L, x: L.cosh(x), [R]),
    "asinh": (lambda L, x: L.asinh(x), [R]),
    "acosh": (lambda L, x: L.acosh(x), [ABOVE1]),
    "atanh": (lambda L, x: L.atanh(x), [UNIT]),
    "exp2": (lambda L, x: L.exp2(x), [R]),
    "expm1": (lambda L, x: L.expm1(x), [R]),
    "log2": (lambda L, x: L.log2(x), [POS]),
    "log10": (lambda L, x: L.log10(x), [POS]),
    "erf": (lambda L, x: L.erf(x), [R]),
    "erfc": (lambda L, x: L.erfc(x), [R]),
    "erfinv": (lambda L, x: L.erfinv(x), [(-0.999, 0.999)]),
    "erfinv_method": (lambda L, x: (x * 0.5).erfinv(), [UNIT]),
    "floor": (lambda L, x: L.floor(x), [R]),
    "ceil": (lambda L, x: L.ceil(x), [R]),
    "round": (lambda L, x: L.round(x), [R]),
    "round_decimals": (lambda L, x: L.round(x * 10, decimals=2), [R]),
    "round_negative_decimals": (lambda L, x: L.round(x * 100, decimals=-1), [R]),
    "trunc": (lambda L, x: L.trunc(x), [R]),
    "frac": (lambda L, x: L.frac(x), [R]),
    "sign": (lambda L, x: L.sign(x), [R]),
    "sgn": (lambda L, x: L.sgn(x), [R]),
    "reciprocal": (lambda L, x: L.reciprocal(x), [NONZERO]),
    "rsqrt": (lambda L, x: L.rsqrt(x), [POS]),
    "square": (lambda L, x: L.square(x), [R]),
    "atan2": (lambda L, a, b: L.atan2(a, b), [NONZERO, NONZERO]),
    "hypot": (lambda L, a, b: L.hypot(a, b), [NONZERO, NONZERO]),
    "hypot_broadcast": (lambda L, a, b: L.hypot(a, b[0]), [NONZERO, NONZERO]),
    "logaddexp": (lambda L, a, b: L.logaddexp(a, b), [R, R]),
    "logaddexp2": (lambda L, a, b: L.logaddexp2(a, b), [R, R]),
    "copysign": (lambda L, a, b: L.copysign(a, b), [NONZERO, NONZERO]),
    "fmod": (lambda L, a, b: L.fmod(a, b), [R, NONZERO]),
    "remainder": (lambda L, a, b: L.remainder(a, b), [R, NONZERO]),
    "lerp": (lambda L, a, b, w: L.lerp(a, b, w), [R, R, (-0.5, 1.5)]),
    "lerp_scalar_weight": (lambda L, a, b: L.lerp(a, b, 0.7), [R, R]),
    "clamp_min": (lambda L, x: L.clamp_min(x, 0.5), [R]),
    "clamp_max": (lambda L, x: L.clamp_max(x, 0.5), [R]),
    "nan_to_num": (lambda L, x: L.nan_to_num(x), [R]),
    # the module-level forms of everyday methods
    "add_alpha": (lambda L, a, b: L.add(a, b, alpha=2.5), [R, R]),
    "sub_alpha": (lambda L, a, b: L.sub(a, b, alpha=-0.5), [R, R]),
    "mul": (lambda L, a, b: L.mul(a, b), [R, R]),
    "div": (lambda L, a, b: L.div(a, b), [R, NONZERO]),
    "div_trunc": (lambda L, a, b: L.div(a * 3, b, rounding_mode="trunc"), [R, NONZERO]),
    "div_floor": (lambda L, a, b: L.div(a * 3, b, rounding_mode="floor"), [R, NONZERO]),
    "pow": (lambda L, a, b: L.pow(a, b), [POS, R]),
    "pow_scalar_base": (lambda L, x: L.pow(2.0, x), [R]),
    "neg": (lambda L, x: L.neg(x), [R]),
    "abs": (lambda L, x: L.abs(x), [NONZERO]),
    "max_all": (lambda L, x: L.max(x), [R]),
    "max_dim": (lambda L, x: L.max(x, 1)[0], [R]),
    "min_dim_keepdim": (lambda L, x: L.min(x, 0, keepdim=True)[0], [R]),
    "max_binary": (lambda L, a, b: L.max(a, b), [R, R]),
    "sum_dim": (lambda L, x: L.sum(x, 1), [R]),
    "mean": (lambda L, x: L.mean(x), [R]),
    "softmax_dtype": (lambda L, x: x.float().softmax(1, dtype=L.float64), [R]),
    "log_softmax_dtype": (lambda L, x: x.float().log_softmax(0, dtype=L.float64), [R]),
    "softmax_function_dtype": (lambda L, x: L.softmax(x.float(), 0, dtype=L.float64), [R]),
    "prelu_shared": (lambda L, x, w: x.prelu(w[0, :1]), [R, R]),
    "prelu_channels": (lambda L, x, w: x.reshape(2, 3, 2).prelu(w[0, :3]), [R, R]),
}
SHAPE = (3, 4)
UNARY = [n for n, (_, doms) in OPS.items() if len(doms) == 1]


def draw(rng: np.random.Generator, domain, shape=SHAPE) -> np.ndarray:
    """Values in ``domain``: an interval (lo, hi), or a tuple of intervals (a random one each)."""
    if isinstance(domain[0], tuple):
        parts = np.stack([rng.uniform(lo, hi, shape) for lo, hi in domain])
        return np.choose(rng.integers(0, len(domain), shape), parts)
    return rng.uniform(*domain, shape)


def inputs(name: str, seed: int = 0) -> list:
    rng = np.random.default_rng(seed + sum(map(ord, name)))
    return [draw(rng, d) for d in OPS[name][1]]


def as_numpy(t) -> np.ndarray:
    """The values (torch's zero-gradient tensors, e.g. sgn's, need force=True)."""
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else t.detach().numpy()


@pytest.mark.parametrize("name", list(OPS))
def test_values_and_gradients_match_torch(name):
    fn, _ = OPS[name]
    arrays = inputs(name)
    ours = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, ref = fn(mg, *ours), fn(torch, *theirs)
    assert out.shape == tuple(ref.shape) and out.dtype.name == str(ref.dtype)[len("torch."):]
    np.testing.assert_allclose(as_numpy(out), as_numpy(ref), rtol=1e-13, atol=1e-15)
    cot = np.random.default_rng(7).standard_normal(ref.shape)
    out.backward(mg.tensor(cot, dtype=out.dtype))
    ref.backward(torch.tensor(cot, dtype=ref.dtype))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy()), f"input {i}"
            continue
        np.testing.assert_allclose(a.grad.numpy(), as_numpy(b.grad), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name}: gradient of input {i}")


@pytest.mark.parametrize("name", [n for n in OPS if not n.startswith("softmax")
                                  and not n.startswith("log_softmax")])
def test_gradcheck_on_every_backend(name, backend):
    fn, _ = OPS[name]
    ts = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in inputs(name, seed=1)]
    assert mg.gradcheck(lambda *xs: fn(mg, *xs), ts)


@pytest.mark.parametrize("name", [n for n in UNARY if not n.startswith(("softmax", "log_soft",
                                                                         "max", "min", "sum",
                                                                         "mean"))])
def test_float32_values_match_torch(name):
    fn, _ = OPS[name]
    x = inputs(name)[0].astype(np.float32)
    out, ref = fn(mg, mg.tensor(x)), fn(torch, torch.tensor(x))
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=2e-6, atol=1e-7)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-300, 1e300, -1e300, math.inf,
           -math.inf, math.nan, 0.9999999, 1.0000001, 710.0, -745.0]
SPECIAL_UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
                 "atanh", "exp2", "expm1", "log2", "log10", "erf", "erfc", "erfinv", "floor",
                 "ceil", "round", "trunc", "frac", "sign", "sgn", "reciprocal", "rsqrt", "square",
                 "nan_to_num"]
SPECIAL_BINARY = ["atan2", "hypot", "logaddexp", "logaddexp2", "copysign", "fmod", "remainder",
                  "div_trunc", "div_floor"]


def assert_same_values(ours, theirs):
    """Same dtype, same signs of zero, same nan/inf, values to the dtype's last bit or so
    (float32 results from integer inputs: NumPy's and torch's float32 libm differ by an ulp)."""
    a, b = as_numpy(ours), as_numpy(theirs)
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.signbit(a[a == 0]), np.signbit(b[a == 0]))
    rtol = 1e-14 if a.dtype != np.float32 else 2e-7
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", SPECIAL_UNARY)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_special_values_match_torch(name):
    fn, _ = OPS[name]
    x = np.array(SPECIAL)
    assert_same_values(fn(mg, mg.tensor(x)), fn(torch, torch.tensor(x)))


@pytest.mark.parametrize("name", SPECIAL_BINARY)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_special_value_pairs_match_torch(name):
    fn, _ = OPS[name]
    vals = [0.0, -0.0, 1.0, -2.5, 3.0, math.inf, -math.inf, math.nan]
    a, b = (np.array(v) for v in zip(*[(p, q) for p in vals for q in vals]))
    assert_same_values(fn(mg, mg.tensor(a), mg.tensor(b)), fn(torch, torch.tensor(a),
                                                                   torch.tensor(b)))


INT_OPS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
           "atanh", "exp2", "expm1", "log2", "log10", "erf", "erfc", "erfinv", "floor", "ceil",
           "round", "trunc", "sign", "sgn", "reciprocal", "rsqrt", "square", "atan2", "copysign",
           "fmod", "remainder", "div", "div_trunc", "div_floor", "nan_to_num", "neg", "abs",
           "max_dim", "pow_scalar_base"]


@pytest.mark.parametrize("name", INT_OPS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_integer_inputs_promote_as_torch(name):
    fn, doms = OPS[name]
    rng = np.random.default_rng(3)
    arrays = [rng.integers(-4, 5, SHAPE) for _ in doms]
    if len(arrays) > 1:
        arrays[1][arrays[1] == 0] = 3  # no integer division by zero
    out = fn(mg, *[mg.tensor(a) for a in arrays])
    ref = fn(torch, *[torch.tensor(a) for a in arrays])
    assert_same_values(out, ref)


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2"])
def test_float_only_ops_refuse_two_integer_tensors_as_torch(name):
    a, b = np.array([1, 2]), np.array([3, 4])
    with pytest.raises(NotImplementedError, match="not implemented for int64"):
        getattr(mg, name)(mg.tensor(a), mg.tensor(b))
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    out = getattr(mg, name)(mg.tensor(a), mg.tensor(b, dtype=mg.float64))  # one float: fine
    ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b, dtype=torch.float64))
    assert_same_values(out, ref)


def test_integer_division_by_zero_raises_as_torch():
    a, b = mg.tensor([3, 4]), mg.tensor([1, 0])
    for op in (lambda: a.fmod(b), lambda: a.remainder(b), lambda: a.div(b, rounding_mode="trunc"),
               lambda: a // b):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.tensor([3, 4]).fmod(torch.tensor([1, 0]))


def test_frac_of_integers_is_an_error_as_torch():
    with pytest.raises(RuntimeError, match="frac"):
        mg.tensor([1, 2]).frac()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).frac()


def test_div_rejects_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode"):
        mg.div(mg.ones(2), 2.0, rounding_mode="round")
    with pytest.raises(RuntimeError, match="rounding_mode"):
        torch.div(torch.ones(2), 2.0, rounding_mode="round")


INPLACE = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
           "atanh", "exp2", "expm1", "log2", "log10", "erf", "erfc", "erfinv", "floor", "ceil",
           "round", "trunc", "frac", "sign", "sgn", "reciprocal", "rsqrt", "square", "atan2", "hypot",
           "copysign", "fmod", "remainder", "lerp", "clamp_min", "clamp_max", "nan_to_num"]
EXTRA_ARGS = {"clamp_min": (0.5,), "clamp_max": (0.5,)}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_forms_match_torch(name):
    """``x.<name>_(...)`` on a non-leaf: the values, and the gradients through it to the leaf
    and to the other operands, as torch's out-of-place ``x.<name>(...)`` (torch's own
    in-place asinh_/acosh_/atanh_ have no derivative)."""
    doms = OPS[name][1]
    arrays = inputs(name, seed=2)
    results = []
    for lib, method in ((mg, name + "_"), (torch, name)):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        x = leaves[0] * 1.0
        out = getattr(x, method)(*leaves[1:], *EXTRA_ARGS.get(name, ()))
        assert out is x or lib is torch
        x = out
        cot = np.random.default_rng(5).standard_normal(SHAPE)
        x.backward(lib.tensor(cot))
        results.append([as_numpy(x)] + [as_numpy(t.grad) for t in leaves])
    assert len(doms) == len(results[0]) - 1
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_inplace_on_a_leaf_that_requires_grad_raises():
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.sin_()
    with mg.no_grad():
        x.sin_()
    assert x.item() == pytest.approx(math.sin(0.5))


def test_inplace_float_result_into_an_integer_tensor_raises():
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).sin_()


def test_tan_is_its_own_primitive_and_matches_torch_to_the_bit():
    """sin/cos is not tan: near pi/2 the quotient is off in the last bits."""
    x = np.linspace(1.5, 1.5707963, 101)
    np.testing.assert_array_equal(mg.tan(mg.tensor(x)).numpy(), torch.tan(torch.tensor(x)).numpy())


def test_isnan_isinf_isfinite_isclose_allclose_match_torch():
    vals = [0.0, 1.0, 1.0 + 1e-7, math.inf, -math.inf, math.nan]
    a, b = (np.array(v) for v in zip(*[(p, q) for p in vals for q in vals]))
    ma, mb, ta, tb = mg.tensor(a), mg.tensor(b), torch.tensor(a), torch.tensor(b)
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(mg, name)(ma).numpy(),
                                      getattr(torch, name)(ta).numpy())
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 1e-6}):
        np.testing.assert_array_equal(mg.isclose(ma, mb, **kw).numpy(),
                                      torch.isclose(ta, tb, **kw).numpy())
    assert mg.allclose(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0 + 1e-9]))
    assert not mg.allclose(mg.tensor([1.0, math.nan]), mg.tensor([1.0, math.nan]))
    assert mg.allclose(mg.tensor([1.0, math.nan]), mg.tensor([1.0, math.nan]), equal_nan=True)
    ints = mg.tensor([1, 2])
    assert mg.isclose(ints, ints).all() and mg.isinf(ints).any().item() is False
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.isclose(mg.tensor([1.0]), mg.tensor([1.0], dtype=mg.float64))


def test_nan_to_num_values_and_gradient_match_torch():
    x = np.array([1.5, math.nan, math.inf, -math.inf, -2.0])
    for kw in ({}, {"nan": 7.0, "posinf": 3.0, "neginf": -4.0}):
        for dtype in ("float32", "float64"):
            a = mg.tensor(x, dtype=getattr(mg, dtype), requires_grad=True)
            b = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
            out, ref = mg.nan_to_num(a, **kw), torch.nan_to_num(b, **kw)
            np.testing.assert_array_equal(as_numpy(out), as_numpy(ref))
            out.sum().backward()
            ref.sum().backward()
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_rounding_ops_pass_a_zero_gradient_as_torch():
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        x = mg.tensor([0.3, -1.7], requires_grad=True)
        y = getattr(x, name)()
        assert y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


# ---- out= ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["add", "mul", "matmul", "sub", "div"])
def test_out_writes_into_the_given_tensor(name):
    a = np.arange(6.0).reshape(2, 3) - 2
    b = np.arange(9.0).reshape(3, 3) + 1 if name == "matmul" else np.full((2, 3), 1.5)
    results = []
    for lib in (mg, torch):
        out = lib.zeros(2, 3, dtype=lib.float64)
        got = getattr(lib, name)(lib.tensor(a), lib.tensor(b), out=out)
        assert got is out
        results.append(as_numpy(out).copy())
    np.testing.assert_allclose(*results, rtol=1e-15)


def test_out_resizes_casts_and_refuses_autograd_as_torch():
    out = mg.zeros(5)
    with pytest.warns(UserWarning, match="resized"):
        mg.add(mg.ones(2, 2), 1.0, out=out)
    assert out.shape == (2, 2) and out.dtype == mg.float32 and out.tolist() == [[2, 2], [2, 2]]
    empty = mg.tensor([], dtype=mg.float64)
    mg.mul(mg.ones(3), 2.0, out=empty)  # an empty out is resized without a warning
    assert empty.tolist() == [2.0, 2.0, 2.0] and empty.dtype == mg.float64
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.add(mg.ones(2), 0.5, out=mg.zeros(2, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        mg.matmul(mg.ones(2, 2, requires_grad=True), mg.ones(2, 2), out=mg.zeros(2, 2))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.matmul(torch.ones(2, 2, requires_grad=True), torch.ones(2, 2),
                     out=torch.zeros(2, 2))


def test_max_min_with_dim_return_values_and_indices():
    x = np.array([[3.0, 1.0, 3.0], [0.0, 5.0, -1.0]])
    for dim in (0, 1, -1):
        ours, theirs = mg.max(mg.tensor(x), dim), torch.max(torch.tensor(x), dim)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        ours, theirs = mg.min(mg.tensor(x), dim), torch.min(torch.tensor(x), dim)
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


# ---- small Tensor items ---------------------------------------------------------------------
def test_device_is_the_cpu_device_and_other_devices_raise():
    x = mg.ones(2)
    assert isinstance(x.device, mg.device) and x.device == "cpu" and x.device.type == "cpu"
    assert x.to("cpu") is x and x.to(mg.device("cpu"), mg.float64).dtype == mg.float64
    for call in (lambda: x.to("cuda"), lambda: x.to("cuda:0"), lambda: x.to(device="cuda"),
                 lambda: x.cuda(), lambda: x.cuda(0), lambda: x.to("mps")):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()


def test_prelu_rejects_a_weight_of_the_wrong_size():
    with pytest.raises(RuntimeError, match="one per channel"):
        mg.ones(2, 3).prelu(mg.ones(2))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_erfinv_is_accurate_to_double_precision_across_its_domain(backend):
    """No SciPy: Giles' approximation refined by Newton steps on erf (log erfc in the tails)
    must agree with torch to a few ulps everywhere, the last doubles below 1 included; the
    gradient sqrt(pi)/2 e^(erfinv(x)^2) too; float32 is rounded from it."""
    rng = np.random.default_rng(11)
    y = np.concatenate([rng.uniform(-1, 1, 4000), 1 - 10.0 ** -rng.uniform(1, 16, 2000),
                        -(10.0 ** -rng.uniform(0, 300, 500)),
                        [0.0, -0.0, 0.5, -0.5, 1 - 2**-53, -1 + 2**-53, 5e-324, 1.0, -1.0,
                         1.5, -7.0, math.nan, math.inf]])
    x = mg.tensor(y, requires_grad=True)
    out = x.erfinv()
    tx = torch.tensor(y, requires_grad=True)
    ref = tx.erfinv()
    assert_same_values(out, ref)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=4e-16, atol=0,
                               equal_nan=True)
    out.sum().backward()
    ref.sum().backward()
    # e^(x^2) turns an ulp of x into 2 x^2 ulps (x ~ 6 in the tail)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13, equal_nan=True)
    y32 = y.astype(np.float32)
    np.testing.assert_allclose(mg.tensor(y32).erfinv().numpy(), torch.tensor(y32).erfinv(),
                               rtol=2.5e-7, atol=0, equal_nan=True)


def test_erfinv_module_method_and_inplace_forms():
    x = mg.tensor([0.25, -0.75], dtype=mg.float64)
    want = torch.erfinv(torch.tensor([0.25, -0.75], dtype=torch.float64)).numpy()
    np.testing.assert_allclose(mg.erfinv(x).numpy(), want, rtol=1e-15)
    assert x.erfinv_() is x
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-15)
    assert mg.tensor([0, 1]).erfinv().dtype == mg.float32  # integers promote, as torch
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([0, 1]).erfinv_()
    with pytest.raises(RuntimeError):
        torch.tensor([0, 1]).erfinv_()
