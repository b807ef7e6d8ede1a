"""Activation functions and modules against PyTorch: one spec table drives every activation
through micrograd and torch (values and gradients, random cotangents, float64 and float32), the
special points (each kink and breakpoint exactly, where PyTorch picks a subgradient; huge,
tiny and non-finite inputs), and ``mg.gradcheck`` on every backend. Then the modules:
constructor arguments and printed form against torch's, PReLU's parameter and state_dict, and
the errors.

Each case is ``fn(m, F, *inputs)`` where ``m`` is the library (micrograd or torch) and ``F`` its
``nn.functional``, so one lambda is the spec for both.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn as mnn
import micrograd.nn.functional as MF

torch = pytest.importorskip("torch", reason="torch is the oracle for activation values and "
                                            "gradients")

X = (4, 6)
# name -> (fn(m, F, *inputs), extra input shapes after x (x has shape X), x's special points)
# Special points: the kinks and breakpoints where PyTorch chooses a subgradient, checked
# exactly; every elementwise case is also checked at EXTREMES.
SPECS = {
    "relu": (lambda m, F, x: F.relu(x), (), (0.0,)),
    "leaky_relu": (lambda m, F, x: F.leaky_relu(x, 0.2), (), (0.0,)),
    "sigmoid": (lambda m, F, x: F.sigmoid(x), (), (0.0,)),
    "tanh": (lambda m, F, x: F.tanh(x), (), (0.0,)),
    "elu": (lambda m, F, x: F.elu(x), (), (0.0,)),
    "elu_alpha": (lambda m, F, x: F.elu(x, alpha=0.7), (), (0.0, -1.0, -1e-3, -1e-9)),
    "selu": (lambda m, F, x: F.selu(x), (), (0.0, -1.0, -1e-3)),
    "celu": (lambda m, F, x: F.celu(x), (), (0.0,)),
    "celu_alpha": (lambda m, F, x: F.celu(x, alpha=1.7), (), (0.0, -1.7, -1e-3)),
    "hardtanh": (lambda m, F, x: F.hardtanh(x), (), (-1.0, 1.0, 0.0)),
    "hardtanh_bounds": (lambda m, F, x: F.hardtanh(x, -0.5, 2.0), (), (-0.5, 2.0)),
    "relu6": (lambda m, F, x: F.relu6(x), (), (0.0, 6.0)),
    "hardsigmoid": (lambda m, F, x: F.hardsigmoid(x), (), (-3.0, 3.0, 0.0)),
    "hardswish": (lambda m, F, x: F.hardswish(x), (), (-3.0, 3.0, 0.0)),
    "mish": (lambda m, F, x: F.mish(x), (), (0.0, 20.0, 21.0)),
    "softsign": (lambda m, F, x: F.softsign(x), (), (0.0,)),
    "logsigmoid": (lambda m, F, x: F.logsigmoid(x), (), (0.0,)),
    "softplus": (lambda m, F, x: F.softplus(x), (), (0.0, 20.0, 19.999, 20.001)),
    "softplus_beta": (lambda m, F, x: F.softplus(x, beta=2.0, threshold=5.0), (),
                      (0.0, 2.5, 2.4999, 2.5001)),
    "softplus_neg_beta": (lambda m, F, x: F.softplus(x, beta=-0.5, threshold=3.0), (),
                          (0.0, -6.0, -5.999, -6.001)),
    "silu": (lambda m, F, x: F.silu(x), (), (0.0,)),
    "gelu": (lambda m, F, x: F.gelu(x), (), (0.0,)),
    "gelu_tanh": (lambda m, F, x: F.gelu(x, approximate="tanh"), (), (0.0,)),
    "threshold": (lambda m, F, x: F.threshold(x, 0.5, -2.0), (), (0.5, 0.0)),
    "prelu_shared": (lambda m, F, x, w: F.prelu(x, w), ((1,),), (0.0,)),
    "prelu_channels": (lambda m, F, x, w: F.prelu(x.reshape(2, 6, 2), w), ((6,),), None),
    "glu_last": (lambda m, F, x: F.glu(x), (), None),
    "glu_dim0": (lambda m, F, x: F.glu(x, 0), (), None),
    "softmax": (lambda m, F, x: F.softmax(x, 1), (), None),
    "softmax_dtype": (lambda m, F, x: F.softmax(x.float(), 0, dtype=m.float64), (), None),
    "log_softmax": (lambda m, F, x: F.log_softmax(x, dim=0), (), None),
    "log_softmax_dtype": (lambda m, F, x: F.log_softmax(x.float(), -1, dtype=m.float64), (),
                          None),
    "softmin": (lambda m, F, x: F.softmin(x, dim=1), (), None),
    "softmin_dtype": (lambda m, F, x: F.softmin(x.float(), 0, dtype=m.float64), (), None),
}
ELEMENTWISE = [n for n, (_, _, pts) in SPECS.items() if pts is not None]
# huge, tiny and non-finite inputs for every elementwise case: no overflow to nan (or inf)
# where PyTorch's result is finite
EXTREMES = (-100.0, 100.0, -30.0, 30.0, -1e-7, 1e-7, -np.inf, np.inf)
TOL = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=1e-5, atol=1e-6)}
# PyTorch's float64 kernels for these use float32 constants (1/6, 1/alpha): its gradients are
# off by ~3e-8 relative; micrograd's are exact (gradcheck and the near-zero test below check)
TORCH_F32_CONSTANTS = {("celu_alpha", "float64"), ("hardsigmoid", "float64"),
                       ("hardswish", "float64")}
DTYPES = {"float64": (mg.float64, torch.float64), "float32": (mg.float32, torch.float32)}


def run(name, m, F, arrays, dtype, cotangent):
    """Values and input gradients of SPECS[name] in library ``m`` for ``cotangent``."""
    fn = SPECS[name][0]
    ins = [m.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = fn(m, F, *ins)
    out.backward(m.tensor(cotangent, dtype=out.dtype))
    return [out.detach().numpy()] + [t.grad.numpy() for t in ins]


def assert_like_torch(name, arrays, dtype, cotangent=None):
    """Values and gradients equal torch's (nan where, and only where, torch's is nan)."""
    mg_dt, t_dt = DTYPES[dtype]
    out_shape = tuple(SPECS[name][0](torch, torch.nn.functional,
                                     *[torch.tensor(a) for a in arrays]).shape)
    if cotangent is None:
        cotangent = np.ones(out_shape)
    mine = run(name, mg, MF, arrays, mg_dt, cotangent)
    ref = run(name, torch, torch.nn.functional, arrays, t_dt, cotangent)
    tol = dict(rtol=1e-7, atol=1e-14) if (name, dtype) in TORCH_F32_CONSTANTS else TOL[dtype]
    for i, (a, b) in enumerate(zip(mine, ref)):
        what = "value" if i == 0 else f"grad of input {i - 1}"
        assert a.dtype == b.dtype, f"{name}: {what} dtype {a.dtype} != torch's {b.dtype}"
        np.testing.assert_allclose(a, b, **tol, err_msg=f"{name}: {what} at x={arrays[0].ravel()}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SPECS)
def test_values_and_gradients_match_torch(name, dtype):
    """Random inputs on both sides of every breakpoint (scale 4 reaches +-3 and 6) and a random
    cotangent."""
    rng = np.random.default_rng(sum(map(ord, name)))
    arrays = [rng.normal(0, 4, X)] + [rng.uniform(-0.5, 1.5, s) for s in SPECS[name][1]]
    out_shape = tuple(SPECS[name][0](torch, torch.nn.functional,
                                     *[torch.tensor(a) for a in arrays]).shape)
    assert_like_torch(name, arrays, dtype, cotangent=rng.normal(size=out_shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_kinks_and_extremes_match_torch(name, dtype):
    """Exactly at each breakpoint (PyTorch's subgradient there), just beside it, and at huge,
    tiny and infinite inputs: values and gradients, nan where (and only where) torch's is
    (e.g. softsign(inf) = inf / inf; NumPy's warnings about those are expected here)."""
    points = np.array(SPECS[name][2] + EXTREMES)
    if (name, dtype) == ("gelu", "float32"):
        points = points[points != np.inf]  # torch's float32 erf kernel gives nan there, not inf
    with np.errstate(invalid="ignore", over="ignore"):
        assert_like_torch(name, [points] + [np.full(s, 0.3) for s in SPECS[name][1]], dtype)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_nan_propagates(name):
    """A nan input gives a nan output (never a bound or a constant), as in torch."""
    x = np.array([np.nan, 1.0])
    inputs = [mg.tensor(x)] + [mg.tensor(np.full(s, 0.3)) for s in SPECS[name][1]]
    with np.errstate(invalid="ignore"):
        out = SPECS[name][0](mg, MF, *inputs).numpy()
    assert np.isnan(out[0]) and not np.isnan(out[1])


# name -> (value, gradient) of the ELU family's negative branch, exactly (NumPy's expm1)
NEAR_ZERO = {
    "elu_alpha": (lambda x: 0.7 * np.expm1(x), lambda x: 0.7 * np.exp(x)),
    "selu": (lambda x: MF.SELU_ALPHA * MF.SELU_SCALE * np.expm1(x),
             lambda x: MF.SELU_ALPHA * MF.SELU_SCALE * np.exp(x)),
    "celu_alpha": (lambda x: 1.7 * np.expm1(x / 1.7), lambda x: np.exp(x / 1.7)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NEAR_ZERO)
def test_elu_family_is_accurate_near_zero(name, dtype):
    """PyTorch uses expm1 for the negative branch: for tiny |x| the value (about alpha x) and
    the gradient keep their relative precision, where exp(x) - 1 would cancel (float32: a
    relative error of 1e-4 at x = -1e-3)."""
    x = -np.logspace(-12, 0.5, 40)
    value, grad = run(name, mg, MF, [x], DTYPES[dtype][0], np.ones(40))
    eps = np.finfo(value.dtype).eps
    xd = x.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(value, NEAR_ZERO[name][0](xd), rtol=8 * eps, atol=0)
    np.testing.assert_allclose(grad, NEAR_ZERO[name][1](xd), rtol=8 * eps, atol=0)


@pytest.mark.parametrize("name", SPECS)
def test_gradcheck(name, backend):
    """Finite differences in float64 on every backend, away from the kinks."""
    rng = np.random.default_rng(7)
    if "dtype" in name:
        pytest.skip("casts to float32 (finite differences need float64 throughout)")
    x = rng.normal(0, 4, X)
    for p in SPECS[name][2] or ():
        x[np.abs(x - p) < 1e-3] += 2e-3  # keep finite differences off a kink
    ins = [mg.tensor(x, dtype=mg.float64, requires_grad=True)] + [
        mg.tensor(rng.uniform(0.1, 1.0, s), dtype=mg.float64, requires_grad=True)
        for s in SPECS[name][1]]
    assert mg.gradcheck(lambda *t: SPECS[name][0](mg, MF, *t), ins)


# ---- modules -----------------------------------------------------------------------------------
# the same constructor call under both libraries: printed form and forward must agree
MODULES = [
    lambda nn: nn.ReLU(), lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.2, True),
    lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh(), lambda nn: nn.ELU(), lambda nn: nn.ELU(0.5),
    lambda nn: nn.ELU(alpha=0.5, inplace=True), lambda nn: nn.SELU(), lambda nn: nn.SELU(True),
    lambda nn: nn.CELU(1.5), lambda nn: nn.CELU(inplace=True), lambda nn: nn.Hardtanh(),
    lambda nn: nn.Hardtanh(-2, 3, True), lambda nn: nn.ReLU6(), lambda nn: nn.ReLU6(True),
    lambda nn: nn.Hardsigmoid(), lambda nn: nn.Hardsigmoid(inplace=True), lambda nn: nn.Hardswish(),
    lambda nn: nn.Hardswish(True), lambda nn: nn.Mish(), lambda nn: nn.Mish(True),
    lambda nn: nn.Softsign(), lambda nn: nn.LogSigmoid(), lambda nn: nn.Softplus(),
    lambda nn: nn.Softplus(beta=2, threshold=10), lambda nn: nn.SiLU(), lambda nn: nn.SiLU(True),
    lambda nn: nn.GELU(), lambda nn: nn.GELU(approximate="tanh"), lambda nn: nn.GLU(),
    lambda nn: nn.GLU(dim=0), lambda nn: nn.PReLU(), lambda nn: nn.PReLU(6, init=0.1),
    lambda nn: nn.Threshold(0.1, 20), lambda nn: nn.Threshold(0.5, -1.0, inplace=True),
    lambda nn: nn.Softmin(dim=1), lambda nn: nn.Softmax(0), lambda nn: nn.LogSoftmax(dim=-1),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_module_repr_and_forward_match_torch(i):
    mine, ref = MODULES[i](mnn), MODULES[i](torch.nn)
    assert repr(mine) == repr(ref)
    x = np.random.default_rng(i).normal(0, 4, X).astype(np.float32)  # PReLU's weight dtype
    with mg.no_grad(), torch.no_grad():  # inplace=True modules may write into their input
        got, want = mine(mg.tensor(x)).numpy(), ref(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, **TOL["float32"])


def test_prelu_parameter_state_dict_and_gradient():
    m = mnn.PReLU(3, init=0.1)
    assert isinstance(m.weight, mnn.Parameter) and m.weight.requires_grad
    assert m.weight.shape == (3,) and m.weight.dtype == mg.get_default_dtype()
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.full(3, 0.1, np.float32))
    assert list(m.state_dict()) == ["weight"] == list(torch.nn.PReLU(3).state_dict())
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert mnn.PReLU(dtype=mg.float64).weight.dtype == mg.float64

    w = np.array([0.3, -0.2, 1.5])
    m.load_state_dict({"weight": mg.tensor(w, dtype=mg.float32)})
    ref = torch.nn.PReLU(3)
    ref.load_state_dict({"weight": torch.tensor(w, dtype=torch.float32)})
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    g = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    m(mg.tensor(x)).backward(mg.tensor(g))
    ref(torch.tensor(x)).backward(torch.tensor(g))
    np.testing.assert_allclose(m.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-5)


def test_prelu_module_learns():
    """An optimizer step moves the slope toward the data's: the weight is really trained."""
    m = mnn.PReLU()
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    x = mg.tensor([-1.0, -2.0, 3.0])
    target = mg.tensor([-0.5, -1.0, 3.0])  # slope 0.5 on the negatives
    for _ in range(50):
        opt.zero_grad()
        MF.mse_loss(m(x), target).backward()
        opt.step()
    assert abs(m.weight.item() - 0.5) < 1e-3


def test_hardtanh_deprecated_argument_names_warn_as_torch():
    with pytest.warns(FutureWarning, match="min_value` is deprecated"):
        m = mnn.Hardtanh(min_value=-2.0)
    assert repr(m) == "Hardtanh(min_val=-2.0, max_val=1.0)"


# ---- softmax's implicit dim, dtype= and in-place forms -----------------------------------------
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_implicit_dim_is_torchs_with_its_warning(fn, shape):
    """dim=None picks dim 0 for 1- and 3-d inputs, else 1, and warns naming the caller."""
    x = np.random.default_rng(0).normal(size=shape)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn}") as record:
        got = getattr(MF, fn)(mg.tensor(x)).numpy()
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(torch.nn.functional, fn)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, **TOL["float64"])


def test_module_implicit_dim_warning_names_the_calling_line():
    with pytest.warns(UserWarning, match="Implicit dimension") as record:
        mnn.Softmax()(mg.tensor(np.zeros((2, 3, 4))))
    assert record[0].filename == __file__


INPLACE = {
    "relu": lambda F, x: F.relu(x, inplace=True), "relu_": lambda F, x: F.relu_(x),
    "elu": lambda F, x: F.elu(x, 0.5, inplace=True), "elu_": lambda F, x: F.elu_(x),
    "selu_": lambda F, x: F.selu_(x), "celu_": lambda F, x: F.celu_(x, 2.0),
    "leaky_relu_": lambda F, x: F.leaky_relu_(x, 0.1),
    "hardtanh_": lambda F, x: F.hardtanh_(x, -0.5, 0.5),
    "threshold_": lambda F, x: F.threshold_(x, 0.1, 7.0),
    "relu6": lambda F, x: F.relu6(x, inplace=True), "silu": lambda F, x: F.silu(x, True),
    "mish": lambda F, x: F.mish(x, True), "hardswish": lambda F, x: F.hardswish(x, True),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x, True),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_into_the_input_without_a_graph(name):
    x = np.random.default_rng(0).normal(0, 4, X)
    mine, ref = mg.tensor(x), torch.tensor(x)
    out = INPLACE[name](MF, mine)
    assert INPLACE[name](torch.nn.functional, ref) is ref
    assert out is mine
    np.testing.assert_allclose(mine.numpy(), ref.numpy(), **TOL["float64"])


def test_dropout_inplace_writes_its_result_into_the_input():
    x = mg.tensor(np.ones(1000))
    with mg.no_grad():
        assert MF.dropout(x, 0.25, inplace=True) is x
    assert set(np.unique(x.numpy())) == {0.0, 1 / 0.75}
    assert MF.dropout(x, 0.25, training=False, inplace=True) is x  # eval: the identity


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_a_tensor_that_requires_grad_is_refused(name):
    """No in-place autograd yet: a clear error, never a copy that leaves the graph stale."""
    x = mg.tensor(np.ones(X), requires_grad=True)
    for t in (x, x * 2):  # a leaf and an intermediate
        with pytest.raises(NotImplementedError, match=r"inplace=True.*use inplace=False"):
            INPLACE[name](MF, t)


# ---- errors ------------------------------------------------------------------------------------
INTS = mg.tensor([[-2, 0, 3, 4]])
FLOATS = mg.tensor(np.ones((2, 3)))
ERRORS = {
    "elu(int)": (lambda: MF.elu(INTS), TypeError, r"elu: input must be a floating point .*int64"),
    "softplus(int)": (lambda: MF.softplus(INTS), TypeError, r"softplus: input must be a float"),
    "softmax(int)": (lambda: MF.softmax(INTS, 1), TypeError, r"softmax: .*int64 \(pass dtype="),
    "mish(ndarray)": (lambda: MF.mish(np.ones(3)), TypeError, r"mish: input must be a Tensor"),
    "celu alpha=0": (lambda: MF.celu(FLOATS, 0.0), ValueError, r"celu: alpha cannot be 0"),
    "hardtanh min>max": (lambda: MF.hardtanh(FLOATS, 2.0, 1.0), ValueError,
                         r"min_val cannot be greater than max_val"),
    "Hardtanh max<=min": (lambda: mnn.Hardtanh(1.0, 1.0), ValueError,
                          r"max_val \(1.0\) must be greater than min_val \(1.0\)"),
    "glu odd": (lambda: MF.glu(FLOATS), ValueError,
                r"glu: halving dimension must be even, but dim 1 .*\(2, 3\) has size 3"),
    "glu 0-d": (lambda: MF.glu(mg.tensor(1.0)), ValueError, r"glu: does not support scalars"),
    "glu dim": (lambda: MF.glu(FLOATS, 2), IndexError, r"glu: dim 2 is out of range"),
    "prelu channels": (lambda: MF.prelu(FLOATS, mg.tensor([0.1, 0.2], dtype=mg.float64)),
                       ValueError,
                       r"prelu: weight has 2 parameters but the input \(shape \(2, 3\)\) has 3 "
                       r"channels"),
    "prelu 1-d channels": (lambda: MF.prelu(mg.tensor([1.0, -1.0]), mg.tensor([0.1, 0.2])),
                           ValueError, r"has 1 channels"),
    "prelu 2-d weight": (lambda: MF.prelu(FLOATS, mg.tensor(np.ones((1, 1)))), ValueError,
                         r"prelu: weight must be a scalar or 1-D tensor, got shape \(1, 1\)"),
    "prelu dtypes": (lambda: MF.prelu(FLOATS, mg.tensor([0.25], dtype=mg.float32)), TypeError,
                     r"prelu: input and weight must share a dtype, got float64 and float32"),
    "PReLU(0)": (lambda: mnn.PReLU(0), ValueError, r"num_parameters must be a positive int"),
    "PReLU cuda": (lambda: mnn.PReLU(device="cuda"), RuntimeError, r"CPU only"),
    "softmax dim": (lambda: MF.softmax(FLOATS, 2), IndexError, r"softmax: dim 2 is out of range"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_name_what_is_wrong(case):
    fn, exc, match = ERRORS[case]
    with pytest.raises(exc, match=match):
        fn()
