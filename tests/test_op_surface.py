"""The op surface PyTorch code reaches after ``import micrograd as torch`` (issue 12).

A hard-coded table of the torch names micrograd promises (module functions, Tensor methods and
attributes, nn.functional, nn modules, optimizers, data utilities, autograd, linalg, devices),
checked to exist here without torch and, when torch is installed, to exist in torch too, so the
table cannot drift into inventing names. Then the ops of the second pass: one spec table run
through micrograd and torch in float64 with random cotangents (values and gradients), gradcheck
on every backend, exact tables for the integer / bool / counting ops, torch's errors, the random
ops (shape, dtype, range, statistics, seed repeatability: torch's streams differ), the memory
layout queries, the type promotion of 0-d operands and ``set_printoptions`` against torch's repr.
"""
from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pytest

import micrograd as mg


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for the op surface")


# ---- the names ---------------------------------------------------------------------------------
def _names(text: str) -> list:
    return text.split()


NAMES = {  # namespace (attribute path from the package) -> names micrograd promises there
    "": _names("""
        tensor as_tensor from_numpy zeros ones full empty zeros_like ones_like full_like
        empty_like rand randn randint rand_like randn_like arange linspace eye cat concat
        concatenate stack where maximum minimum matmul exp log sqrt abs relu sigmoid tanh
        softmax log_softmax sum mean amax amin argmax argmin logsumexp clamp reshape flatten
        squeeze unsqueeze transpose permute split chunk gather allclose is_tensor numel
        sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh arcsin arccos arctan
        floor ceil round trunc frac sign sgn erf erfc erfinv exp2 expm1 log2 log10 log1p
        logaddexp logaddexp2 hypot copysign fmod remainder lerp reciprocal rsqrt square
        nan_to_num isnan isinf isfinite isclose clamp_min clamp_max floor_divide pow neg
        add sub mul div subtract multiply divide true_divide max min
        bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift
        prod cumsum cumprod cummax cummin logcumsumexp var std std_mean var_mean norm median
        aminmax count_nonzero all any sort argsort topk kthvalue unique nonzero masked_select
        searchsorted scatter scatter_add scatter_reduce index_add index_copy index_fill
        take_along_dim index_select masked_fill flip fliplr flipud roll repeat_interleave tril
        triu diagonal diag diag_embed unflatten movedim narrow tensor_split unbind meshgrid
        einsum outer tensordot bmm addmm baddbmm cross kron
        long float double half bool float16 float32 float64 int8 int16 int32 int64 uint8
        get_default_dtype set_default_dtype manual_seed no_grad enable_grad set_grad_enabled
        is_grad_enabled inference_mode device set_default_device get_default_device save load
        clone detach t ravel select take put split_with_sizes broadcast_to broadcast_tensors
        broadcast_shapes clip is_floating_point is_nonzero is_complex isreal result_type
        promote_types can_cast set_printoptions eq ne lt le gt ge greater less greater_equal
        less_equal not_equal equal isin logical_and logical_or logical_not logical_xor signbit
        addcmul addcdiv heaviside xlogy float_power fmax fmin nanmean nansum diff histc
        bincount bucketize cartesian_prod combinations block_diag tril_indices triu_indices
        randperm randint_like normal bernoulli multinomial poisson seed initial_seed
        get_rng_state set_rng_state dist cosine_similarity pairwise_distance absolute positive
        isposinf isneginf index_put index_put_ masked_scatter prelu is_same_size is_signed
        abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_
        atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ detach_ erf_ erfc_ exp2_
        exp_ expm1_ fill_ fix_ floor_ frac_ log10_ log1p_ log2_ log_ nan_to_num_ neg_ negative_
        reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinh_ sqrt_ square_ tan_ tanh_ trunc_
        xlogy_ zero_"""),
    "Tensor": _names("""
        sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh floor ceil round trunc frac
        sign sgn erf erfc erfinv exp2 expm1 log2 log10 log1p logaddexp logaddexp2 hypot copysign
        fmod remainder lerp reciprocal rsqrt square nan_to_num isnan isinf isfinite isclose
        allclose clamp clamp_min clamp_max sin_ cos_ tan_ asin_ acos_ atan_ atan2_ sinh_ cosh_
        asinh_ acosh_ atanh_ floor_ ceil_ round_ trunc_ frac_ sign_ sgn_ erf_ erfc_ erfinv_ exp2_
        expm1_ log2_ log10_ log1p_ hypot_ copysign_ fmod_ remainder_ lerp_ reciprocal_ rsqrt_
        square_ nan_to_num_ clamp_min_ clamp_max_ __iadd__ __isub__ __imul__ __itruediv__
        __mod__ __floordiv__ __lshift__ __rshift__ __xor__ __and__ __or__ __invert__ __rmod__
        __rfloordiv__ __rlshift__ __rrshift__ __rxor__ __rand__ __ror__ add_ sub_ mul_ div_
        zero_ fill_ copy_ clamp_ neg_ pow_ exp_ uniform_ normal_ masked_fill_ index_fill_
        scatter_ scatter_add_ scatter_reduce_ index_add_ index_copy_ requires_grad_ prod cumsum
        cumprod cummax cummin logcumsumexp var std norm median amax amin aminmax count_nonzero
        all any sort argsort topk kthvalue unique nonzero masked_select where scatter
        scatter_add scatter_reduce index_add index_copy index_fill take_along_dim gather flip
        fliplr flipud roll repeat repeat_interleave tril triu tril_ triu_ diagonal diag
        diag_embed unflatten unfold movedim narrow chunk split tensor_split unbind outer bmm
        addmm baddbmm cross kron register_hook retain_grad data grad backward detach to max min
        div add sub mul pow item numpy tolist shape dtype ndim size dim numel T mT reshape
        view view_as expand expand_as permute transpose squeeze unsqueeze flatten contiguous
        float double long int bool half cpu cuda type is_leaf grad_fn requires_grad
        addcmul addcmul_ addcdiv addcdiv_ type_as new_zeros new_ones new_full new_empty
        new_tensor logical_and logical_or logical_not logical_xor logical_and_ logical_or_
        logical_not_ logical_xor_ greater less greater_equal less_equal not_equal greater_
        less_ greater_equal_ less_equal_ not_equal_ heaviside heaviside_ xlogy xlogy_ signbit
        float_power float_power_ fmax fmin nanmean nansum diff histc bincount dist equal ravel
        select take put put_ split_with_sizes masked_scatter masked_scatter_ index_put
        index_put_ element_size nbytes itemsize stride storage_offset is_contiguous data_ptr
        sum_to_size bernoulli bernoulli_ multinomial random_ exponential_ geometric_
        log_normal_ cauchy_ apply_ map_ clone t clip clip_ broadcast_to is_floating_point
        is_complex is_nonzero isreal is_signed is_same_size is_cpu is_cuda retains_grad
        nelement ndimension absolute absolute_ positive isposinf isneginf short char byte"""),
    "nn.functional": _names("""
        elu selu celu hardtanh relu6 hardsigmoid hardswish mish softsign logsigmoid softplus
        silu gelu glu prelu threshold softmin log_softmax softmax pad cross_entropy linear
        relu sigmoid tanh leaky_relu dropout mse_loss nll_loss"""),
    "nn": _names("""
        ELU SELU CELU Hardtanh ReLU6 Hardsigmoid Hardswish Mish Softsign LogSigmoid Softplus
        SiLU GELU GLU PReLU Threshold Softmin LogSoftmax Softmax Module Linear Sequential ReLU
        Parameter"""),
    "nn.Module": _names("""
        apply named_modules modules children register_buffer register_forward_hook
        register_forward_pre_hook parameters named_parameters state_dict load_state_dict
        zero_grad train eval"""),
    "optim": _names("SGD Adam AdamW Adagrad Adadelta NAdam RAdam LBFGS"),
    "utils.data": _names("""
        Dataset DataLoader TensorDataset random_split Subset SequentialSampler RandomSampler
        BatchSampler SubsetRandomSampler WeightedRandomSampler"""),
    "autograd": _names("Function grad"),
    "linalg": _names("norm vector_norm"),
    "cuda": _names("is_available"),
    "accelerator": _names("is_available"),
    "backends.mps": _names("is_available"),
}


def _namespace(root, path):
    return reduce(getattr, path.split("."), root) if path else root


@pytest.mark.parametrize("where", list(NAMES))
def test_micrograd_has_every_promised_name(where):
    space = _namespace(mg, where)
    assert [n for n in NAMES[where] if not hasattr(space, n)] == []


@pytest.mark.parametrize("where", list(NAMES))
def test_every_promised_name_is_torchs(where):
    space = _namespace(_torch(), where)
    assert [n for n in NAMES[where] if not hasattr(space, n)] == []


def test_torch_integer_dtype_aliases():
    assert mg.int is mg.int32 and mg.short is mg.int16


# ---- values and gradients against torch --------------------------------------------------------
R = np.random.default_rng(12)
X = R.standard_normal((3, 4))
Y = R.standard_normal((3, 4))
Y[0] = X[0]                                          # ties for fmax / fmin
MASK = R.random((3, 4)) > 0.5                        # a bool mask with both values in each row
MASK[:, 0], MASK[:, 1] = True, False
HOLES = np.where(MASK, 1.0, 0.0)                     # zeros where xlogy's x is 0
NANS = np.where(MASK, np.nan, 0.25)
ZERO_ROW = np.ones((3, 4))
ZERO_ROW[1] = 0.0                                    # a zero vector: cosine's eps clamp
NAN = float("nan")


def _i(lib, a):
    return lib.tensor(a, dtype=lib.int64)


# name -> f(lib, x, y) on float64 x, y (requiring grad), using only names both libraries share
SPEC = {
    "addcmul": lambda L, x, y: L.addcmul(x, y, y * 2.0, value=0.7),
    "addcmul_bcast": lambda L, x, y: x[:1].addcmul(y[:, :1], y[0], value=-2),
    "addcmul_": lambda L, x, y: (x * 1.0).addcmul_(y, x),
    "addcdiv": lambda L, x, y: L.addcdiv(x, y, x.abs() + 1.0, value=0.5),
    "addcdiv_": lambda L, x, y: (x * 1.0).addcdiv_(y, y * y + 1.0, value=2),
    "xlogy": lambda L, x, y: L.xlogy(x * L.tensor(HOLES), y.abs() + 0.1),
    "xlogy_scalar_input": lambda L, x, y: L.xlogy(2.0, y.abs() + 0.1),
    "xlogy_scalar_other": lambda L, x, y: x.xlogy(3.0),
    "xlogy_": lambda L, x, y: (x * 1.0).xlogy_(y.abs()),
    "float_power": lambda L, x, y: L.float_power(x.abs() + 0.5, y),
    "float_power_int_exp": lambda L, x, y: x.float_power(3),
    "float_power_number_base": lambda L, x, y: L.float_power(2.5, y),
    "float_power_": lambda L, x, y: (x.abs() + 0.5).float_power_(y),
    "fmax_ties": lambda L, x, y: L.fmax(x, y),
    "fmin_ties": lambda L, x, y: x.fmin(y),
    "fmax_nan": lambda L, x, y: L.fmax(x, L.tensor(NANS)),
    "fmin_nan_self": lambda L, x, y: L.fmin(L.tensor(NANS), y),
    "nansum": lambda L, x, y: L.nansum(L.where(L.tensor(MASK), x, NAN)),
    "nansum_dim": lambda L, x, y: L.where(L.tensor(MASK), x, NAN).nansum(1, keepdim=True),
    "nanmean": lambda L, x, y: L.nanmean(L.where(L.tensor(MASK), x, NAN), 1),
    "nanmean_all": lambda L, x, y: L.where(L.tensor(MASK), x, NAN).nanmean(),
    "diff": lambda L, x, y: L.diff(x),
    "diff_dim0_n2": lambda L, x, y: x.diff(2, 0),
    "diff_prepend_append": lambda L, x, y: L.diff(x, 1, -1, prepend=y[:, :1], append=y),
    "dist": lambda L, x, y: L.dist(x, y),
    "dist_p3_bcast": lambda L, x, y: L.dist(x, y[:1], 3),
    "dist_p1": lambda L, x, y: x.dist(y, 1),
    "dist_inf": lambda L, x, y: L.dist(x, y, float("inf")),
    "cosine_similarity": lambda L, x, y: L.cosine_similarity(x, y),
    "cosine_similarity_dim0_bcast": lambda L, x, y: L.cosine_similarity(x, y[:1], 0),
    "cosine_similarity_zero_row": lambda L, x, y: L.cosine_similarity(
        x * L.tensor(ZERO_ROW), y, dim=1),
    "pairwise_distance": lambda L, x, y: L.pairwise_distance(x, y * 2.0),
    "pairwise_distance_p1_keepdim": lambda L, x, y: L.pairwise_distance(x, y[1], 1.0,
                                                                        keepdim=True),
    "take": lambda L, x, y: L.take(x, _i(L, [[0, -1], [5, 5]])),
    "take_0d_index": lambda L, x, y: x.take(_i(L, 7)),
    "put": lambda L, x, y: L.put(x, _i(L, [1, -1, 4]), y[0, :3]),
    "put_accumulate": lambda L, x, y: x.put(_i(L, [[2, 2], [0, 11]]), y[1:, :2],
                                            accumulate=True),
    "put_": lambda L, x, y: (x * 1.0).put_(_i(L, [0, 3]), y[2, 1:3]),
    "index_put": lambda L, x, y: x.index_put((_i(L, [0, 2]), _i(L, [1, -1])), y[0, :2]),
    "index_put_accumulate": lambda L, x, y: x.index_put((_i(L, [0, 0, 2]),), y[:3],
                                                        accumulate=True),
    "index_put_mask_bcast": lambda L, x, y: x.index_put((L.tensor(MASK),), y[1, 1]),
    "index_put_": lambda L, x, y: (x * 1.0).index_put_((_i(L, [1]),), y[0]),
    "masked_scatter": lambda L, x, y: x.masked_scatter(L.tensor(MASK), y.reshape(-1)),
    "masked_scatter_bcast_self": lambda L, x, y: x[0].masked_scatter(L.tensor(MASK),
                                                                     y.reshape(-1)),
    "masked_scatter_": lambda L, x, y: (x * 1.0).masked_scatter_(L.tensor(MASK[0]), y),
    "select": lambda L, x, y: L.select(x, 1, -1),
    "select_method": lambda L, x, y: x.select(0, 2) * y[0],
    "split_with_sizes": lambda L, x, y: L.split_with_sizes(x, [1, 3], 1)[1],
    "ravel": lambda L, x, y: L.ravel(x.t()),
    "sum_to_size": lambda L, x, y: x.sum_to_size(1, 4),
    "sum_to_size_inner": lambda L, x, y: (x * y).sum_to_size((3, 1)),
    "block_diag": lambda L, x, y: L.block_diag(x, y[0], y[1, 1], y[:2, :1]),
    "cartesian_prod": lambda L, x, y: L.cartesian_prod(x[0], y[1, :2], x[2, :3]),
    "combinations": lambda L, x, y: L.combinations(x[0], 3),
    "combinations_with_replacement": lambda L, x, y: L.combinations(y[1], 2, True),
    "broadcast_tensors": lambda L, x, y: L.broadcast_tensors(x, y[:1])[1] * x,
    "broadcast_to": lambda L, x, y: L.broadcast_to(y[:, :1], (3, 4)) * x,
    "clone": lambda L, x, y: L.clone(x.t()) * y.t(),
    "t": lambda L, x, y: L.t(x),
    "clip": lambda L, x, y: L.clip(x, -0.5, 0.5),
    "type_as": lambda L, x, y: x.type_as(y) * y,
    "zero_dim_other_dtype": lambda L, x, y: x * L.tensor(2.0, dtype=L.float32),
}

NONSMOOTH = {"fmax_ties", "fmin_ties", "cosine_similarity_zero_row", "clip", "dist_inf",
             "dist_p1"}  # finite differences straddle a kink (ties, |.|, eps's clamp)


@pytest.mark.parametrize("name", list(SPEC))
def test_values_and_gradients_match_torch(backend, name):
    torch = _torch()
    fn = SPEC[name]
    x, y = mg.tensor(X, requires_grad=True), mg.tensor(Y, requires_grad=True)
    tx, ty = torch.tensor(X, requires_grad=True), torch.tensor(Y, requires_grad=True)
    out, tout = fn(mg, x, y), fn(torch, tx, ty)
    assert out.dtype.name == str(tout.dtype).replace("torch.", "") and out.shape == tout.shape
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-15)
    cot = np.random.default_rng(3).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for mine, theirs in ((x.grad, tx.grad), (y.grad, ty.grad)):
        if theirs is None:
            assert mine is None or not np.any(mine.numpy())
        else:
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in SPEC if n not in NONSMOOTH])
def test_gradcheck_on_every_backend(backend, name):
    x, y = mg.tensor(X, requires_grad=True), mg.tensor(Y, requires_grad=True)
    assert mg.gradcheck(lambda a, b: SPEC[name](mg, a, b), (x, y))


def test_random_draws_have_zero_gradients_as_torch():
    torch = _torch()
    draws = {"normal": lambda L, m, s: L.normal(m, s), "normal_mean": lambda L, m, s: L.normal(m),
             "normal_std": lambda L, m, s: L.normal(0.5, s),
             "bernoulli": lambda L, m, s: L.bernoulli(s.sigmoid()),
             "poisson": lambda L, m, s: L.poisson(s.exp())}
    for name, draw in draws.items():
        grads = []
        for lib in (mg, torch):
            m = lib.tensor(X, requires_grad=True)
            s = lib.tensor(np.abs(Y), requires_grad=True)
            out = draw(lib, m, s)
            assert out.requires_grad and out.shape == (3, 4), name
            out.sum().backward()
            grads.append([None if g is None else np.asarray(g.detach().numpy())
                          for g in (m.grad, s.grad)])
        for mine, theirs in zip(*grads):
            assert (mine is None) == (theirs is None), name
            assert mine is None or not np.any(mine), name


# ---- exact results: comparisons, logical ops, counting, indices, dtypes ----------------------
A = np.array([[1.5, -0.0, 0.0, np.nan], [-2.0, 3.0, np.inf, -np.inf]])
B = np.array([[1.5, 2.0, -1.0, 0.0], [0.0, np.nan, np.inf, 1.0]])
INTS = np.array([[3, 0, -2, 7], [1, 1, 0, 5]])

EXACT = {
    "eq_fn": lambda L: L.eq(L.tensor(A), L.tensor(B)),
    "ne_number": lambda L: L.ne(L.tensor(INTS), 1),
    "greater": lambda L: L.greater(L.tensor(A), L.tensor(B)),
    "less_equal_bcast": lambda L: L.less_equal(L.tensor(INTS), L.tensor([1, 0, 0, 9])),
    "greater_equal_method": lambda L: L.tensor(INTS).greater_equal(0),
    "not_equal_": lambda L: L.tensor(INTS).not_equal_(1),
    "lt_fn": lambda L: L.lt(L.tensor(A), 0.5),
    "le_ge_gt": lambda L: L.stack([L.le(L.tensor(INTS), 1), L.ge(L.tensor(INTS), 1),
                                   L.gt(L.tensor(INTS), 1)]),
    "logical_and": lambda L: L.logical_and(L.tensor(A), L.tensor(INTS)),
    "logical_or_bcast": lambda L: L.logical_or(L.tensor(INTS), L.tensor([[0], [1]])),
    "logical_xor": lambda L: L.tensor(INTS).logical_xor(L.tensor(B)),
    "logical_not": lambda L: L.logical_not(L.tensor(A)),
    "logical_and_float_inplace": lambda L: L.tensor(A).logical_and_(L.tensor(INTS)),
    "logical_not_int_inplace": lambda L: L.tensor(INTS).logical_not_(),
    "signbit": lambda L: L.signbit(L.tensor(A)),
    "signbit_int": lambda L: L.tensor(INTS).signbit(),
    "isin": lambda L: L.isin(L.tensor(INTS), L.tensor([0.0, 7.0])),
    "isin_number": lambda L: L.isin(L.tensor(INTS), 1, invert=True),
    "isin_number_first": lambda L: L.isin(5, L.tensor(INTS)),
    "isreal": lambda L: L.isreal(L.tensor(A)),
    "isposinf_isneginf": lambda L: L.stack([L.isposinf(L.tensor(A)), L.tensor(A).isneginf()]),
    "heaviside": lambda L: L.heaviside(L.tensor(A), L.tensor(np.array([0.5, 0.5, 9.0, 1.0]))),
    "heaviside_int_": lambda L: L.tensor(INTS).heaviside_(L.tensor(4)),
    "xlogy_ints": lambda L: L.xlogy(L.tensor(INTS).abs(), L.tensor([2, 3, 4, 5])),
    "xlogy_nan_inf": lambda L: L.xlogy(L.tensor([0.0, 0.0, 0.0, 1.0]),
                                       L.tensor([NAN, np.inf, -1.0, 0.0])),
    "float_power_ints": lambda L: L.float_power(L.tensor(INTS), 2),
    "fmax_ints": lambda L: L.fmax(L.tensor(INTS), L.tensor([2, 2, 2, 2])),
    "fmin_nans": lambda L: L.fmin(L.tensor(A), L.tensor(B)),
    "addcmul_int_float_value": lambda L: L.addcmul(L.tensor(INTS), L.tensor(INTS),
                                                   L.tensor(INTS), value=2.5),
    "nansum_ints": lambda L: L.nansum(L.tensor(INTS, dtype=L.int32), 1),
    "nansum_bool": lambda L: L.nansum(L.tensor([True, False, True])),
    "nanmean_all_nan": lambda L: L.nanmean(L.tensor([[NAN, 1.0], [NAN, NAN]]), 1),
    "diff_bool": lambda L: L.diff(L.tensor([True, False, False, True])),
    "diff_uint8_wraps": lambda L: L.diff(L.tensor([1, 5, 2], dtype=L.uint8)),
    "diff_n_past_size": lambda L: L.diff(L.tensor([1.0, 2.0]), n=5),
    "diff_n0": lambda L: L.diff(L.tensor(INTS), n=0),
    "histc": lambda L: L.histc(L.tensor([1.0, 2.0, 1.0, 3.7, 0.5, -1.0, 3.0]), 4, 0, 3),
    "histc_data_range": lambda L: L.histc(L.tensor(X), bins=7),
    "histc_float32_edges": lambda L: L.histc(L.tensor(np.linspace(0, 1, 101), dtype=L.float32),
                                             bins=10, min=0, max=1),
    "histc_constant": lambda L: L.histc(L.tensor([2.0, 2.0]), bins=4),
    "histc_empty": lambda L: L.histc(L.tensor([]), bins=3),
    "bincount": lambda L: L.bincount(L.tensor([1, 1, 3, 0, 1])),
    "bincount_minlength": lambda L: L.tensor([2, 2]).bincount(minlength=5),
    "bincount_float32_weights": lambda L: L.bincount(L.tensor([1, 1, 3]),
                                                     L.tensor([0.5, 2.0, 3.0])),
    "bincount_int_weights": lambda L: L.bincount(L.tensor([1, 1, 3]), L.tensor([1, 2, 3])),
    "bincount_empty": lambda L: L.bincount(L.tensor([], dtype=L.int64), minlength=3),
    "bucketize": lambda L: L.bucketize(L.tensor([[0, 3, 6], [9, 1, 5]]), L.tensor([1, 3, 5])),
    "bucketize_right_int32": lambda L: L.bucketize(L.tensor([3.0, 6.0]), L.tensor([1, 3, 5]),
                                                   out_int32=True, right=True),
    "bucketize_number": lambda L: L.bucketize(3, L.tensor([1, 3, 5])),
    "tril_indices": lambda L: L.tril_indices(3, 4, 1),
    "triu_indices": lambda L: L.triu_indices(4, 3, -1),
    "tril_indices_int32_empty": lambda L: L.tril_indices(0, 3, dtype=L.int32),
    "triu_indices_past_corner": lambda L: L.triu_indices(4, 2, 5),
    "combinations_r0": lambda L: L.combinations(L.tensor([1, 2, 3]), r=0),
    "combinations_r_past_n": lambda L: L.combinations(L.tensor([1, 2, 3]), r=4),
    "cartesian_prod_one": lambda L: L.cartesian_prod(L.tensor([4, 5])),
    "block_diag_none": lambda L: L.block_diag(),
    "block_diag_promotes": lambda L: L.block_diag(L.tensor(1), L.tensor([2.0, 3.0]),
                                                  L.tensor([[4, 5], [6, 7]]), L.tensor([])),
    "take_ints": lambda L: L.take(L.tensor(INTS), L.tensor([[0, -1], [5, 2]])),
    "select_int": lambda L: L.select(L.tensor(INTS), -1, 2),
    "index_put_accumulate_mask": lambda L: L.zeros(3, 4).index_put(
        (L.tensor([True, False, True]),), L.tensor([1.0, 2.0, 3.0, 4.0]), accumulate=True),
    "put_negative": lambda L: L.zeros(2, 3).put_(L.tensor([0, 5, -1]), L.tensor([1.0, 2.0, 3.0])),
    "new_tensor_dtype": lambda L: L.tensor([1, 2]).new_tensor([1.5, -2.7]),
    "new_full_int": lambda L: L.tensor([1, 2]).new_full((2,), 1.5),
    "new_zeros_varargs": lambda L: L.tensor([1.0]).new_zeros(2, 3),
    "new_ones_dtype": lambda L: L.tensor([1.0]).new_ones((2,), dtype=L.int32),
    "new_empty_shape": lambda L: L.tensor([1, 2]).new_empty((0, 2)),
    "type_as_int": lambda L: L.tensor([1.7, -2.5]).type_as(L.tensor([1])),
    "short_char_byte": lambda L: L.stack([L.tensor([-1, 2]).short().long(),
                                          L.tensor([-1, 2]).char().long(),
                                          L.tensor([1, 2]).byte().long()]),
    "absolute_": lambda L: L.tensor(INTS).absolute_(),
    "module_in_place_forms": lambda L: [
        L.relu_(L.tensor([-1.0, 2.0])), L.abs_(L.tensor(INTS)), L.zero_(L.tensor(B)),
        L.clamp_(L.tensor(X), -0.1, 0.2), L.xlogy_(L.tensor([0.0, 2.0]), L.tensor([0.0, 3.0])),
        L.index_put_(L.zeros(2, 2), (L.tensor([1]),), L.tensor(5.0)),
        L.masked_scatter(L.tensor(1.0), L.tensor(True), L.tensor([5.0]))],
    "positive": lambda L: L.positive(L.tensor(INTS)),
    "broadcast_tensors": lambda L: L.broadcast_tensors(L.tensor(INTS[0]), L.tensor([[1], [2]]))[0],
    "clip_int": lambda L: L.clip(L.tensor(INTS), -1, 2),
    "result_ops_int32_0d_int64": lambda L: L.tensor([1, 2], dtype=L.int32) + L.tensor(5),
    "result_ops_uint8_0d": lambda L: L.tensor([250], dtype=L.uint8) + L.tensor(10),
    "result_ops_int32_0d_float64": lambda L: L.tensor([1], dtype=L.int32) * L.tensor(
        1.5, dtype=L.float64),
    "result_ops_compare_0d": lambda L: L.tensor([1.0, 2.0]) > L.tensor(1.5, dtype=L.float64),
    "result_ops_where_0d": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]),
                                             L.tensor(7.0, dtype=L.float64)),
    "result_ops_bitwise_0d": lambda L: L.tensor([6], dtype=L.int16) & L.tensor(3),
}


def _plain(v):
    """A comparable form: (dtype name, shape, values) for tensors, recursively for tuples."""
    if isinstance(v, (tuple, list)):
        return [_plain(u) for u in v]
    if hasattr(v, "numpy"):
        return (str(v.dtype).split(".")[-1], tuple(v.shape), v.detach().numpy().tolist())
    return v


@pytest.mark.parametrize("name", list(EXACT))
def test_exact_results_match_torch(name):
    torch = _torch()
    mine, theirs = _plain(EXACT[name](mg)), _plain(EXACT[name](torch))
    np.testing.assert_equal(mine, theirs)


SCALARS = {  # name -> f(lib): Python values (bools, ints, dtypes, shapes)
    "equal": lambda L: (L.equal(L.tensor([1, 2]), L.tensor([1.0, 2.0])),
                        L.tensor([1, 2]).equal(L.tensor([[1, 2]])),
                        L.equal(L.tensor([NAN]), L.tensor([NAN]))),
    "is_nonzero": lambda L: (L.is_nonzero(L.tensor([0.0])), L.tensor(2).is_nonzero()),
    "is_floating_point": lambda L: (L.is_floating_point(L.tensor([1])),
                                    L.is_floating_point(L.tensor([1.0])),
                                    L.is_complex(L.tensor([1.0]))),
    "signed_same_size": lambda L: (L.tensor([1]).is_signed(), L.tensor([1], dtype=L.uint8)
                                   .is_signed(), L.zeros(2, 3).is_same_size(L.ones(2, 3))),
    "device_flags": lambda L: (L.zeros(1).is_cpu, L.zeros(1).is_cuda, L.zeros(2, 3).nelement(),
                               L.zeros(2, 3).ndimension()),
    "broadcast_shapes": lambda L: tuple(L.broadcast_shapes(2, (3, 1), [1], ())),
    "result_type": lambda L: [str(d).split(".")[-1] for d in (
        L.result_type(L.tensor([1], dtype=L.int32), L.tensor(1)),
        L.result_type(L.tensor([1]), 1.0),
        L.result_type(L.tensor([1.0], dtype=L.float16), L.tensor(1.0, dtype=L.float64)),
        L.result_type(L.tensor(1, dtype=L.int32), L.tensor(1.0, dtype=L.float64)),
        L.result_type(2, 3.0), L.result_type(L.tensor([True]), 2),
        L.result_type(L.tensor([1], dtype=L.uint8), -1),
        L.result_type(L.tensor(1, dtype=L.int8), L.tensor(1, dtype=L.uint8)),
        L.result_type(True, L.tensor(1, dtype=L.int8)),
        L.result_type(L.tensor([1, 2], dtype=L.int16), 2.5),
        L.result_type(L.tensor([1], dtype=L.int32), L.tensor(1.0, dtype=L.float64)))],
    "promote_types": lambda L: [str(d).split(".")[-1] for d in (
        L.promote_types(L.uint8, L.int8), L.promote_types(L.int64, L.float16),
        L.promote_types(L.bool, L.int8), L.promote_types(L.float32, L.float64))],
    "can_cast": lambda L: [L.can_cast(a, b) for a, b in (
        (L.float64, L.float32), (L.float32, L.int32), (L.int64, L.bool), (L.bool, L.uint8),
        (L.int8, L.uint8), (L.float16, L.bool), (L.int64, L.float16))],
    "layout": lambda L: [(t.stride(), t.storage_offset(), t.is_contiguous(), t.element_size(),
                          t.nbytes, t.itemsize) for t in (
        L.zeros(3, 4), L.zeros(3, 4).t(), L.zeros(3, 4)[1:, ::2], L.zeros(3, 1).expand(2, 3, 4),
        L.zeros(3, 4)[1], L.zeros(3, 4)[:, None], L.zeros(3, 4)[..., None],
        L.zeros(2, 3, 4, dtype=L.float64).permute(2, 0, 1), L.zeros(3, 4).narrow(1, 1, 2),
        L.zeros(4, 6).chunk(2, 1)[1], L.zeros(3, 4)[1:].detach(), L.zeros(0, 3),
        L.zeros(3, 0), L.tensor(1.0), L.zeros(4, 3).t().clone(), L.zeros(4, 3).t().contiguous(),
        L.zeros(3, 4, dtype=L.int16).flip(0), L.zeros(10).unfold(0, 3, 2),
        L.zeros(3, 4, dtype=L.uint8).diagonal())],
    "stride_dim": lambda L: (L.zeros(2, 3, 4).stride(-1), L.zeros(2, 3, 4).stride(0)),
}


@pytest.mark.parametrize("name", list(SCALARS))
def test_python_results_match_torch(name):
    torch = _torch()
    assert SCALARS[name](mg) == SCALARS[name](torch)


def test_result_type_is_the_dtype_ops_produce():
    """result_type agrees with what the arithmetic does, for every pair of these operands."""
    operands = [mg.tensor([1, 2], dtype=mg.int32), mg.tensor(3), mg.tensor([1.0]),
                mg.tensor(2.0, dtype=mg.float64), mg.tensor([True]), mg.tensor(4, dtype=mg.uint8),
                2, 2.5, True]
    for a in operands:
        for b in operands:
            if isinstance(a, mg.Tensor) or isinstance(b, mg.Tensor):
                first, second = (a, b) if isinstance(a, mg.Tensor) else (b, a)
                assert (first * second).dtype == mg.result_type(a, b), (a, b)


def test_data_ptr_moves_with_views():
    x = mg.zeros(3, 4)
    assert x[1].data_ptr() - x.data_ptr() == 4 * x.element_size()
    assert x.detach().data_ptr() == x.data_ptr() and x.clone().data_ptr() != x.data_ptr()
    assert mg.zeros(0).data_ptr() == 0


def test_take_put_and_index_put_write_where_torch_does():
    torch = _torch()
    for lib in (mg, torch):
        x = lib.arange(12.0).reshape(3, 4)
        x.index_put_((lib.tensor([0, 0, 2]), lib.tensor([1, 1, -1])), lib.tensor([1.0, 2.0, 5.0]),
                     accumulate=True)
        x.put_(lib.tensor([4, 4]), lib.tensor([10.0, 20.0]), accumulate=True)
        x.masked_scatter_(lib.tensor([True, False, False, True]), lib.tensor([-1.0, -2.0, -3.0,
                                                                             -4.0, -5.0, -6.0]))
        if lib is mg:
            mine = x.numpy().copy()
    np.testing.assert_array_equal(mine, x.numpy())


def test_sum_to_size_is_the_gradient_of_expand():
    g = mg.tensor(R.standard_normal((2, 3, 4)))
    x = mg.tensor(R.standard_normal((3, 1)), requires_grad=True)
    x.expand(2, 3, 4).backward(g)
    np.testing.assert_allclose(x.grad.numpy(), g.sum_to_size(3, 1).numpy())


def test_in_place_forms_follow_torchs_rules():
    leaf = mg.tensor(X, requires_grad=True)
    for call in (lambda t: t.addcmul_(t, t), lambda t: t.logical_not_(),
                 lambda t: t.masked_scatter_(mg.tensor(MASK), t), lambda t: t.random_(3),
                 lambda t: t.exponential_(), lambda t: t.bernoulli_(0.5)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            call(leaf)
    x = mg.tensor([1.0, 0.0, 2.0])
    version = x._version
    assert x.logical_and_(mg.tensor([1, 1, 0])) is x and x._version == version + 1
    assert x.tolist() == [1.0, 0.0, 0.0]


# ---- errors ----------------------------------------------------------------------------------
ERRORS = [
    (lambda: mg.logical_and(mg.tensor([1.0]), 1), TypeError, "argument 'other' must be Tensor"),
    (lambda: mg.logical_or(mg.tensor([1, 2]), mg.tensor([0, 2, 0])), RuntimeError,
     r"\(2,\) and \(3,\)"),
    (lambda: mg.addcmul(mg.tensor([1.0]), 2, mg.tensor([2.0])), TypeError, "tensor1"),
    (lambda: mg.addcdiv(mg.tensor([1.0]), mg.tensor([1]), mg.tensor([2])), RuntimeError,
     "integer division"),
    (lambda: mg.tensor([1.0]).addcmul_(mg.tensor([[1.0], [2.0]]), mg.tensor([1.0, 2.0])),
     RuntimeError, r"output with shape \[1\] doesn't match the broadcast shape \[2, 2\]"),
    (lambda: mg.heaviside(mg.tensor([0.0]), mg.tensor([1])), RuntimeError, "different dtypes"),
    (lambda: mg.heaviside(mg.tensor([0.0]), 0.5), TypeError, "values"),
    (lambda: mg.heaviside(mg.tensor([0.0, 1.0], requires_grad=True), mg.tensor([0.5]))
     .sum().backward(), RuntimeError, "derivative for heaviside is not implemented"),
    (lambda: mg.bincount(mg.tensor([1]), mg.tensor([1.0], requires_grad=True)).sum().backward(),
     RuntimeError, "derivative for bincount is not implemented"),
    (lambda: mg.bernoulli(mg.ones(2, requires_grad=True), 0.5).sum().backward(), RuntimeError,
     "derivative for bernoulli is not implemented"),
    (lambda: mg.tensor([1.0, 2.0]).float_power_(2), RuntimeError, "float32 .* float64"),
    (lambda: mg.fmax(mg.tensor([1.0]), 1.5), TypeError, "other"),
    (lambda: mg.nanmean(mg.tensor([1, 2])), RuntimeError, "floating point .* int64"),
    (lambda: mg.nanmean(mg.tensor([1, 2]), dtype=mg.float64), RuntimeError, "int64"),
    (lambda: mg.bincount(mg.tensor([True])), NotImplementedError, "bool"),
    (lambda: mg.addcmul(*[mg.tensor([True])] * 3), NotImplementedError, "bool"),
    (lambda: mg.diff(mg.tensor(1.0)), RuntimeError, "at least one-dimensional"),
    (lambda: mg.diff(mg.tensor([1.0]), n=-1), RuntimeError, "non-negative but got -1"),
    (lambda: mg.diff(mg.tensor([1.0]), prepend=mg.tensor(0.0)), RuntimeError,
     "same dimension as input"),
    (lambda: mg.histc(mg.tensor([1, 2])), NotImplementedError, "int64"),
    (lambda: mg.histc(mg.tensor([1.0]), bins=0), RuntimeError, "bins must be > 0, but got 0"),
    (lambda: mg.histc(mg.tensor([1.0]), 4, 3, 1), RuntimeError, "max must be larger than min"),
    (lambda: mg.histc(mg.tensor([1.0, NAN])), RuntimeError, "not finite"),
    (lambda: mg.bincount(mg.tensor([-1, 1])), RuntimeError, "1-d non-negative integral"),
    (lambda: mg.bincount(mg.tensor([[1]])), RuntimeError, "1-d non-negative integral"),
    (lambda: mg.bincount(mg.tensor([1.0])), NotImplementedError, "float32"),
    (lambda: mg.bincount(mg.tensor([1]), minlength=-1), RuntimeError, "minlength should be >= 0"),
    (lambda: mg.bincount(mg.tensor([1, 2]), mg.tensor([1.0])), RuntimeError,
     "same length as input"),
    (lambda: mg.bucketize(mg.tensor([1]), mg.tensor([[1, 2]])), RuntimeError, "1 dimension"),
    (lambda: mg.cartesian_prod(mg.tensor([1]), mg.tensor([1.0])), RuntimeError, "same dtype"),
    (lambda: mg.cartesian_prod(mg.tensor([[1]])), RuntimeError, r"1D vector.*\[1, 1\]"),
    (lambda: mg.combinations(mg.tensor([1, 2]), r=-1), RuntimeError, "non-negative.*-1"),
    (lambda: mg.block_diag(mg.zeros(1, 1, 1)), RuntimeError, "Input 0 has 3 dimensions"),
    (lambda: mg.tril_indices(-1, 4), RuntimeError, "row must be non-negative, got -1"),
    (lambda: mg.triu_indices(3, 3, dtype=mg.float32), NotImplementedError, "float32"),
    (lambda: mg.zeros(2).masked_scatter(mg.tensor([True, True]), mg.tensor([1.0])),
     RuntimeError, r"source \(1\) < number of ones in mask \(2\)"),
    (lambda: mg.zeros(2).masked_scatter(mg.tensor([1, 1]), mg.tensor([1.0])), RuntimeError,
     "boolean masks.*int64"),
    (lambda: mg.zeros(2).masked_scatter(mg.tensor([True, True]), mg.tensor([1, 2])),
     RuntimeError, "same dtypes but got float32 and int64"),
    (lambda: mg.zeros(2).masked_scatter_(mg.ones(2, 2).bool(), mg.ones(4)), RuntimeError,
     r"shape \[2\] doesn't match the broadcast shape \[2, 2\]"),
    (lambda: mg.zeros(3).index_put((None,), mg.tensor(1.0)), TypeError,
     "expected Tensor as element 0"),
    (lambda: mg.zeros(3).index_put((mg.tensor([0]),), mg.tensor(1)), RuntimeError,
     "float32 for the destination and int64 for the source"),
    (lambda: mg.zeros(3).index_put((mg.tensor([3]),), mg.tensor(1.0)), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: mg.zeros(2, 3).put_(mg.tensor([6]), mg.tensor([1.0])), IndexError,
     "index 6 on a tensor of 6 elements"),
    (lambda: mg.zeros(2, 3).put_(mg.tensor([1, 2]), mg.tensor([1.0])), IndexError,
     "source.numel\\(\\) = 1, index.numel\\(\\) = 2"),
    (lambda: mg.zeros(2, 3).put_(mg.tensor([1]), mg.tensor([1])), RuntimeError, "same dtype"),
    (lambda: mg.take(mg.zeros(4), mg.tensor([-5])), IndexError, "index -5 on a tensor of 4"),
    (lambda: mg.take(mg.zeros(4), mg.tensor([1], dtype=mg.int32)), RuntimeError,
     "long tensor for index, but got int32"),
    (lambda: mg.select(mg.zeros(2, 2), 1, 2), IndexError,
     r"index 2 out of range for tensor of size \[2, 2\] at dimension 1"),
    (lambda: mg.select(mg.tensor(1.0), 0, 0), IndexError, "0-dim"),
    (lambda: mg.select(mg.zeros(2), 1, 0), IndexError, "dim 1 is out of range"),
    (lambda: mg.split_with_sizes(mg.zeros(3), [1, 1]), RuntimeError,
     r"sum exactly to 3 .* split_sizes=\[1, 1\]"),
    (lambda: mg.zeros(2, 3).stride(2), IndexError, "dim 2 is out of range"),
    (lambda: mg.ones(2, 3).sum_to_size(2), RuntimeError,
     r"size \{\[2\]\} is not expandable to size \{\[2, 3\]\}"),
    (lambda: mg.ones(2, 3).sum_to_size(4, 2, 3), RuntimeError, "not expandable"),
    (lambda: mg.ones(2).new_ones(-1), RuntimeError, "non-negative"),
    (lambda: mg.ones(1).type_as(1), TypeError, "other"),
    (lambda: mg.is_nonzero(mg.tensor([1, 2])), RuntimeError, "more than one value"),
    (lambda: mg.is_nonzero(mg.tensor([])), RuntimeError, "no values"),
    (lambda: mg.positive(mg.tensor([True])), RuntimeError, "bool"),
    (lambda: mg.broadcast_shapes((2,), (3,)), RuntimeError, r"\(2,\), \(3,\)"),
    (lambda: mg.broadcast_tensors(mg.zeros(2), mg.zeros(3)), RuntimeError, r"\(2,\), \(3,\)"),
    (lambda: mg.dist(mg.tensor([1, 2]), mg.tensor([3, 5])), RuntimeError, "floating point"),
    (lambda: mg.cosine_similarity(mg.tensor([[1, 2]]), mg.tensor([[1, 2]])), RuntimeError,
     "common dtype to be floating point, yet common dtype is int64"),
    (lambda: mg.promote_types(mg.float32, "complex64"), TypeError, "complex64"),
    (lambda: mg.result_type(mg.ones(1), "a"), TypeError, "str"),
    (lambda: mg.set_printoptions(precision=-1), ValueError, "precision"),
    (lambda: mg.set_printoptions(profile="long"), ValueError, "profile"),
    (lambda: mg.set_printoptions(sci_mode="yes"), ValueError, "sci_mode"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- random sampling -------------------------------------------------------------------------
RANDOM = {  # name -> f(): a fresh draw from the global generator
    "randperm": lambda: mg.randperm(50),
    "randint_like": lambda: mg.randint_like(mg.zeros(4, 5, dtype=mg.int32), 3, 9),
    "normal_tensors": lambda: mg.normal(mg.zeros(3, 4), mg.ones(4)),
    "normal_numbers": lambda: mg.normal(1.0, 2.0, (3, 4), dtype=mg.float64),
    "bernoulli": lambda: mg.bernoulli(mg.full((3, 4), 0.3)),
    "bernoulli_p": lambda: mg.zeros(3, 4).bernoulli(0.7),
    "multinomial": lambda: mg.multinomial(mg.tensor([[1.0, 2.0, 0.0, 3.0]] * 2), 3),
    "multinomial_replacement": lambda: mg.tensor([0.2, 0.8]).multinomial(6, True),
    "poisson": lambda: mg.poisson(mg.full((3, 4), 4.0)),
    "random_": lambda: mg.zeros(3, 4).random_(2, 9),
    "exponential_": lambda: mg.zeros(3, 4).exponential_(2.0),
    "geometric_": lambda: mg.zeros(3, 4, dtype=mg.int64).geometric_(0.3),
    "log_normal_": lambda: mg.zeros(3, 4).log_normal_(0.5, 0.25),
    "cauchy_": lambda: mg.zeros(3, 4).cauchy_(1.0, 0.5),
    "bernoulli_tensor_p": lambda: mg.zeros(3, 4).bernoulli_(mg.tensor([0.1, 0.5, 0.9, 0.3])),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_ops_repeat_after_manual_seed(name):
    mg.manual_seed(5)
    first = RANDOM[name]()
    mg.manual_seed(5)
    again = RANDOM[name]()
    assert first.dtype == again.dtype and np.array_equal(first.numpy(), again.numpy())


def test_random_shapes_dtypes_and_ranges():
    mg.manual_seed(1)
    p = mg.randperm(50)
    assert p.dtype == mg.int64 and sorted(p.tolist()) == list(range(50))
    assert mg.randperm(4, dtype=mg.float32).dtype == mg.float32 and mg.randperm(0).shape == (0,)
    r = mg.randint_like(mg.zeros(4, 5, dtype=mg.int32), 3, 9)
    assert r.dtype == mg.int32 and r.shape == (4, 5) and 3 <= r.min().item() <= r.max().item() < 9
    assert mg.randint_like(mg.zeros(9), 2).dtype == mg.float32
    assert set(mg.randint_like(mg.zeros(50), high=2).tolist()) == {0.0, 1.0}
    assert mg.normal(mg.zeros(3, 1, dtype=mg.float64), mg.ones(4)).shape == (3, 4)
    assert mg.normal(mg.zeros(2, dtype=mg.float64), mg.ones(2)).dtype == mg.float64
    assert mg.normal(0.0, mg.ones(5)).shape == (5,) and mg.normal(mg.ones(2, 2)).shape == (2, 2)
    assert set(mg.bernoulli(mg.full((50,), 0.5)).tolist()) == {0.0, 1.0}
    assert mg.tensor([3, 4]).bernoulli_(1.0).tolist() == [1, 1]
    m = mg.multinomial(mg.tensor([[1.0, 2.0, 0.0, 3.0]] * 20), 3)
    assert m.dtype == mg.int64 and m.shape == (20, 3)
    assert all(len(set(row)) == 3 and 2 not in row for row in m.tolist())
    assert sorted(mg.multinomial(mg.tensor([0.0, 1.0, 0.0]), 3).tolist()) == [0, 1, 2]
    assert set(mg.multinomial(mg.tensor([0.0, 1.0, 0.0]), 50, True).tolist()) == {1}
    assert mg.poisson(mg.full((3,), 2.0, dtype=mg.float64)).dtype == mg.float64
    for dtype, (lo, hi) in ((mg.bool, (0, 1)), (mg.uint8, (0, 255)), (mg.int8, (0, 127))):
        got = mg.zeros(400, dtype=dtype).random_()
        assert got.dtype == dtype and lo <= int(got.min()) and int(got.max()) <= hi
    f = mg.zeros(1000).random_()
    assert 0 <= f.min().item() and f.max().item() <= 2**24 and f.max().item() > 2**20
    assert set(mg.zeros(200).random_(to=3).tolist()) == {0.0, 1.0, 2.0}
    assert set(mg.zeros(200).random_(1, to=3).tolist()) == {1.0, 2.0}
    assert set(mg.zeros(200).random_(3).tolist()) == {0.0, 1.0, 2.0}
    assert mg.zeros(50).exponential_().min().item() >= 0
    g = mg.zeros(100, dtype=mg.int64).geometric_(0.5)
    assert g.dtype == mg.int64 and g.min().item() >= 1
    assert mg.zeros(50).log_normal_().min().item() > 0
    assert mg.tensor([1.0, 2.0]).apply_(lambda v: v * 10).tolist() == [10.0, 20.0]
    assert mg.tensor([1, 2]).apply_(lambda v: v * 2.7).tolist() == [2, 5]
    assert mg.tensor([[1.0, 2.0]]).map_(mg.tensor([3.0]), lambda a, b: a * b).tolist() == \
        [[3.0, 6.0]]


STATISTICS = [  # (draw of a large sample, expected mean, tolerance)
    (lambda: mg.zeros(40000).exponential_(2.0), 0.5, 0.02),
    (lambda: mg.zeros(40000, dtype=mg.float64).geometric_(0.25), 4.0, 0.1),
    (lambda: mg.zeros(40000).log_normal_(0.5, 0.25).log(), 0.5, 0.01),
    (lambda: mg.poisson(mg.full((40000,), 3.0)), 3.0, 0.05),
    (lambda: mg.bernoulli(mg.full((40000,), 0.3)), 0.3, 0.01),
    (lambda: mg.zeros(40000).bernoulli_(0.8), 0.8, 0.01),
    (lambda: mg.normal(mg.full((40000,), 2.0), 3.0), 2.0, 0.05),
    (lambda: mg.normal(-1.0, mg.full((40000,), 0.5)), -1.0, 0.02),
    (lambda: mg.zeros(40000).random_(0, 10), 4.5, 0.06),
    (lambda: mg.zeros(40000).cauchy_(1.5, 0.5).median(), 1.5, 0.02),
    (lambda: mg.tensor([1.0, 3.0]).multinomial(40000, replacement=True).double(), 0.75, 0.01),
    (lambda: (mg.normal(0.0, 2.0, (40000,)) ** 2), 4.0, 0.1),
]


@pytest.mark.parametrize("draw,mean,tol", STATISTICS)
def test_random_statistics(draw, mean, tol):
    mg.manual_seed(11)
    assert abs(float(draw().double().mean()) - mean) < tol


def test_multinomial_without_replacement_prefers_heavy_categories():
    mg.manual_seed(2)
    first = mg.multinomial(mg.tensor([[1.0, 8.0, 1.0]] * 4000), 2)[:, 0]
    assert abs((first == 1).double().mean().item() - 0.8) < 0.02


def test_rng_state_round_trips_and_seeds_are_reported():
    mg.manual_seed(7)
    assert mg.initial_seed() == 7
    state = mg.get_rng_state()
    assert state.dtype == mg.uint8 and state.ndim == 1
    first = (mg.rand(4), mg.randperm(5), mg.zeros(3).exponential_())
    mg.manual_seed(99)
    mg.set_rng_state(state)
    again = (mg.rand(4), mg.randperm(5), mg.zeros(3).exponential_())
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(first, again))
    assert mg.initial_seed() == 7  # the state holds the seed too
    chosen = mg.seed()
    assert isinstance(chosen, int) and 0 <= chosen < 2**64 and mg.initial_seed() == chosen
    drawn = mg.rand(3)
    mg.manual_seed(chosen)
    assert np.array_equal(mg.rand(3).numpy(), drawn.numpy())
    with pytest.raises(TypeError, match="uint8"):
        mg.set_rng_state(state.float())
    with pytest.raises(TypeError, match="list"):
        mg.set_rng_state(state.tolist())
    with pytest.raises(RuntimeError, match=f"{state.numel()} bytes"):
        mg.set_rng_state(state[:-1])


def test_random_draws_check_their_arguments():
    for call, exc, match in [
            (lambda: mg.normal(0.0, -1.0, (2,)), RuntimeError, "std >= 0.0"),
            (lambda: mg.normal(mg.zeros(2), -mg.ones(2)), RuntimeError, "all elements of std"),
            (lambda: mg.normal(0.0, 1.0), TypeError, "size"),
            (lambda: mg.normal(mg.zeros(2, 3), mg.ones(6)), RuntimeError, r"\(2, 3\).*\(6,\)"),
            (lambda: mg.normal(mg.zeros(2, dtype=mg.int64)), NotImplementedError, "int64"),
            (lambda: mg.bernoulli(mg.tensor([1.5])), RuntimeError, r"\[0, 1\]"),
            (lambda: mg.bernoulli(mg.tensor([1])), NotImplementedError, "int64"),
            (lambda: mg.zeros(2).bernoulli_(2.0), RuntimeError, r"\[0, 1\]"),
            (lambda: mg.multinomial(mg.tensor([-1.0, 1.0]), 1), RuntimeError, "element < 0"),
            (lambda: mg.multinomial(mg.tensor([0.0, 0.0]), 1), RuntimeError, "sum of prob"),
            (lambda: mg.multinomial(mg.ones(1, 1, 2), 1), RuntimeError, "1 or 2 dim"),
            (lambda: mg.multinomial(mg.ones(2), 0), RuntimeError, "n_sample <= 0"),
            (lambda: mg.multinomial(mg.ones(2), 3), RuntimeError, "without replacement"),
            (lambda: mg.multinomial(mg.tensor([1, 1]), 1), RuntimeError, "floating-point"),
            (lambda: mg.poisson(mg.tensor([-1.0])), RuntimeError, "non-negative"),
            (lambda: mg.poisson(mg.tensor([1])), NotImplementedError, "int64"),
            (lambda: mg.zeros(2).random_(5, 2), RuntimeError, "from=5 >= to=2"),
            (lambda: mg.zeros(2, dtype=mg.uint8).random_(0, 300), RuntimeError, "uint8"),
            (lambda: mg.zeros(2).exponential_(0), RuntimeError, "lambda > 0.0"),
            (lambda: mg.zeros(2, dtype=mg.int64).exponential_(), RuntimeError, "floating"),
            (lambda: mg.zeros(2).geometric_(1.0), RuntimeError, r"\(0, 1\)"),
            (lambda: mg.zeros(2).log_normal_(1.0, 0.0), RuntimeError, "std > 0.0"),
            (lambda: mg.zeros(2, dtype=mg.int64).log_normal_(), NotImplementedError, "floating"),
            (lambda: mg.zeros(2).cauchy_(0.0, -1.0), RuntimeError, "sigma > 0.0"),
            (lambda: mg.zeros(2, dtype=mg.int64).uniform_(), NotImplementedError, "floating"),
            (lambda: mg.randperm(-1), RuntimeError, "non-negative"),
            (lambda: mg.randperm(3, dtype=mg.bool), NotImplementedError, "bool"),
            (lambda: mg.randint_like(mg.zeros(2), 5, 3), RuntimeError, "from=5 >= to=3"),
            (lambda: mg.tensor([1.0], requires_grad=True).apply_(abs), RuntimeError, "apply_"),
            (lambda: mg.tensor([1.0]).map_(mg.tensor([1]), max), TypeError, "int64"),
            (lambda: mg.tensor([1.0]).map_(mg.ones(2, 1), max), RuntimeError, r"\(2, 1\)")]:
        with pytest.raises(exc, match=match):
            call()


# ---- printing ----------------------------------------------------------------------------------
@pytest.fixture
def print_options():
    """Both libraries' print options, reset to the defaults afterwards."""
    torch = _torch()
    yield torch
    for lib in (mg, torch):
        lib.set_printoptions(profile="default", sci_mode=None)


PRINTED = [np.arange(12.0).reshape(3, 4) / 7, np.linspace(0, 1, 30), np.array([1e-5, 1.0, 3e5]),
           np.arange(2000.0), np.array([1.5, np.nan, np.inf]), np.array([1.0, 2000.0]),
           np.arange(100.0).reshape(2, 50) * 1.123456, np.array([123456789.0, 1.0]),
           np.array(3.25), np.arange(5), np.zeros((0, 3)), np.array([], np.float32),
           np.array([True, False]), np.arange(3000).reshape(10, 300), np.array([0.0, np.nan]),
           np.random.default_rng(0).standard_normal((12, 12, 3)), np.array([-0.5, 1e-5])]
OPTIONS = [{}, {"precision": 2}, {"threshold": 5}, {"edgeitems": 1, "threshold": 10},
           {"linewidth": 40}, {"sci_mode": True}, {"sci_mode": False}, {"profile": "short"},
           {"profile": "full"}, {"edgeitems": 0, "threshold": 3}]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_printing_matches_torchs_repr(print_options, options):
    torch = print_options
    for lib in (mg, torch):
        lib.set_printoptions(**options)
    for values in PRINTED:  # float32 / int64 / bool: no dtype suffix, whose name differs
        data = values.astype(np.float32) if values.dtype == np.float64 else values
        assert repr(mg.tensor(data)) == repr(torch.tensor(data)), (options, values)
    assert repr(mg.tensor([1.5, 2.0], requires_grad=True)) == \
        repr(torch.tensor([1.5, 2.0], requires_grad=True))
