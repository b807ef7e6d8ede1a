"""Bad-input audit: wrong types, wrong shapes, wrong dtypes, empty inputs, out-of-range labels and
negative sizes across the public API. Each one must raise ValueError, TypeError or IndexError
(never AttributeError, ZeroDivisionError, a NumPy-internal message or a crash) and the message
must name the function and the offending argument or value.

Cases already pinned by the module's own tests (test_tensor.py, test_functional.py, test_nn.py,
test_optim.py, test_data.py, test_sklearn.py) are not repeated here.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd import data, nn, optim
from micrograd.nn import functional as F

ARR = np.zeros((2, 3), np.float32)
X = mg.zeros(3, 4)
LABELS = mg.tensor([0, 1, 2])


def _p():
    return mg.zeros(2, requires_grad=True)


# (call, exception type, regex the message must match)
CASES = {
    # ---- a non-Tensor where a Tensor is required: TypeError naming the function ----------
    "F.linear(ndarray)": (lambda: F.linear(ARR, mg.zeros(4, 3)), TypeError,
                          r"linear: input must be a Tensor, got ndarray"),
    "F.linear(weight=ndarray)": (lambda: F.linear(mg.zeros(2, 3), np.zeros((4, 3))), TypeError,
                                 r"linear: weight must be a Tensor"),
    "F.linear(bias=list)": (lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 3), [0.0] * 4),
                            TypeError, r"linear: bias must be a Tensor, got list"),
    "nn.Linear()(ndarray)": (lambda: nn.Linear(3, 2)(ARR), TypeError,
                             r"linear: input must be a Tensor, got ndarray"),
    "nn.Linear()(list)": (lambda: nn.Linear(3, 2)([[0.0] * 3]), TypeError,
                          r"linear: input must be a Tensor, got list"),
    "F.relu(ndarray)": (lambda: F.relu(ARR), TypeError, r"relu: input must be a Tensor"),
    "F.sigmoid(list)": (lambda: F.sigmoid([1.0]), TypeError, r"sigmoid: input must be"),
    "F.tanh(float)": (lambda: F.tanh(1.0), TypeError, r"tanh: input must be a Tensor, got float"),
    "F.gelu(ndarray)": (lambda: F.gelu(ARR), TypeError, r"gelu: input must be a Tensor"),
    "F.leaky_relu(ndarray)": (lambda: F.leaky_relu(ARR), TypeError, r"leaky_relu: input"),
    "F.softplus(ndarray)": (lambda: F.softplus(ARR), TypeError, r"softplus: input"),
    "F.silu(ndarray)": (lambda: F.silu(ARR), TypeError, r"silu: input"),
    "F.softmax(list)": (lambda: F.softmax([1.0, 2.0], 0), TypeError, r"softmax: input"),
    "F.log_softmax(ndarray)": (lambda: F.log_softmax(ARR, 1), TypeError, r"log_softmax: input"),
    "F.dropout(ndarray)": (lambda: F.dropout(ARR), TypeError, r"dropout: input"),
    "F.layer_norm(ndarray)": (lambda: F.layer_norm(ARR, (3,)), TypeError, r"layer_norm: input"),
    "F.mse_loss(ndarray, ...)": (lambda: F.mse_loss(ARR, ARR), TypeError, r"mse_loss: input"),
    "F.l1_loss(ndarray, ...)": (lambda: F.l1_loss(ARR, ARR), TypeError, r"l1_loss: input"),
    "F.huber_loss(ndarray, ...)": (lambda: F.huber_loss(ARR, ARR), TypeError,
                                   r"huber_loss: input"),
    "F.bce(ndarray, ...)": (lambda: F.binary_cross_entropy(ARR, ARR), TypeError,
                            r"binary_cross_entropy: input"),
    "F.bce_logits(ndarray, ...)": (lambda: F.binary_cross_entropy_with_logits(ARR, ARR),
                                   TypeError, r"binary_cross_entropy_with_logits: input"),
    "F.cross_entropy(ndarray, ...)": (lambda: F.cross_entropy(ARR, np.array([0, 1])),
                                      TypeError, r"cross_entropy: input must be a Tensor"),
    "F.nll_loss(ndarray, ...)": (lambda: F.nll_loss(ARR, np.array([0, 1])), TypeError,
                                 r"nll_loss: input must be a Tensor"),
    "mg.exp(list)": (lambda: mg.exp([1.0]), TypeError, r"exp: expected a Tensor, got list"),
    "mg.sum(ndarray)": (lambda: mg.sum(ARR), TypeError, r"sum: expected a Tensor, got ndarray"),
    "mg.mean(ndarray)": (lambda: mg.mean(ARR), TypeError, r"mean: expected a Tensor"),
    "mg.argmax(ndarray)": (lambda: mg.argmax(ARR), TypeError, r"argmax: expected a Tensor"),
    "mg.amax(list)": (lambda: mg.amax([1.0]), TypeError, r"amax: expected a Tensor"),
    "mg.softmax(ndarray)": (lambda: mg.softmax(ARR, 0), TypeError, r"softmax: expected a"),
    "mg.clamp(ndarray)": (lambda: mg.clamp(ARR, 0.0), TypeError, r"clamp: expected a Tensor"),
    "mg.reshape(list)": (lambda: mg.reshape([1, 2], (2,)), TypeError, r"reshape: expected"),
    "mg.numel(ndarray)": (lambda: mg.numel(ARR), TypeError, r"numel: expected a Tensor"),
    "mg.zeros_like(ndarray)": (lambda: mg.zeros_like(ARR), TypeError, r"zeros_like.*ndarray"),
    # ---- wrong argument types and values ----------------------------------------------------
    "clamp(min='a')": (lambda: X.clamp(min="a"), TypeError, r"clamp: min must be a number or "
                       r"a Tensor, got 'a'"),
    "clamp(max=[1])": (lambda: X.clamp(max=[1.0]), TypeError, r"clamp: max must be"),
    "clamp_(max='b')": (lambda: mg.zeros(3).clamp_(max="b"), TypeError, r"clamp_: max must"),
    "F.softplus(beta=0)": (lambda: F.softplus(X, beta=0), ValueError,
                           r"softplus: beta must be non-zero"),
    "x + 'a'": (lambda: X + "a", TypeError, r"cannot make a tensor of dtype <U1"),
    "x * None": (lambda: X * None, TypeError, r"cannot make a tensor of dtype object"),
    "x.sum('a')": (lambda: X.sum("a"), TypeError, r"sum: dim must be an int, got str"),
    "x.sum((0, 0))": (lambda: X.sum((0, 0)), ValueError, r"sum: dim \(0, 0\) repeats a dim"),
    "x.softmax(None)": (lambda: X.softmax(None), TypeError, r"softmax: dim must be an int"),
    "x.permute(0, 0)": (lambda: X.permute(0, 0), ValueError, r"permute: dims \(0, 0\) are not a "
                        r"permutation"),
    "x.reshape(2.5)": (lambda: X.reshape(2.5), TypeError, r"reshape: sizes must be ints"),
    "x.reshape(-1, -1)": (lambda: X.reshape(-1, -1), ValueError, r"reshape: invalid shape"),
    "x.expand(2, 4)": (lambda: X.expand(2, 4), ValueError, r"expand: cannot expand shape "
                       r"\(3, 4\) to \(2, 4\): dim 0 has size 3"),
    "x.flatten(1, 0)": (lambda: X.flatten(1, 0), ValueError, r"flatten: start_dim 1 comes "
                        r"after end_dim 0"),
    "x.split(0)": (lambda: X.split(0), ValueError, r"split: split_size must be positive, got 0"),
    "x.split([1, 1])": (lambda: X.split([1, 1]), ValueError, r"split: sizes \[1, 1\] do not add "
                        r"up to dim 0 of size 3"),
    "x.chunk(0)": (lambda: X.chunk(0), ValueError, r"chunk: chunks must be positive, got 0"),
    "x.to('float13')": (lambda: X.to("float13"), TypeError, r"unknown dtype 'float13'"),
    "x.gather(float index)": (lambda: X.gather(1, mg.tensor([[0.5]])), IndexError,
                              r"integer or bool, got float32"),
    "x.gather(index 9)": (lambda: X.gather(1, mg.tensor([[9]])), IndexError,
                          r"gather: index out of range for dim 1 of size 4"),
    "x['a']": (lambda: X["a"], IndexError, r"on a tensor of shape \(3, 4\)"),
    "x[[0, 5]]": (lambda: X[[0, 5]], IndexError, r"shape \(3, 4\): index 5 is out of bounds"),
    "x[bad mask]": (lambda: X[mg.tensor([True, False])], IndexError, r"shape \(3, 4\)"),
    "where(float cond)": (lambda: mg.where(mg.tensor([1.0]), X, 0.0), TypeError,
                          r"where: condition must be a bool tensor, got float32"),
    "where(shapes)": (lambda: mg.where(mg.tensor([True, False]), X, 0.0), ValueError,
                      r"where: shapes \(2,\), \(3, 4\) and \(\) cannot be broadcast"),
    "maximum(shapes)": (lambda: mg.maximum(mg.zeros(3), mg.zeros(4)), ValueError,
                        r"maximum: shapes \(3,\) and \(4,\) cannot be broadcast"),
    "maximum(1, 2)": (lambda: mg.maximum(1, 2), TypeError, r"at least one Tensor"),
    "cat([x, x], dim=5)": (lambda: mg.cat([X, X], 5), IndexError, r"cat: dim 5 is out of "
                           r"range for a tensor with 2 dims"),
    "stack([])": (lambda: mg.stack([]), ValueError, r"stack: expected a non-empty sequence"),
    "stack(shapes)": (lambda: mg.stack([X, mg.zeros(2, 4)]), ValueError,
                      r"stack: tensor 1 has shape \(2, 4\), tensor 0 has \(3, 4\)"),
    "tensor(None)": (lambda: mg.tensor(None), TypeError, r"cannot make a tensor of dtype "
                     r"object"),
    "tensor(dtype=5)": (lambda: mg.tensor([1.0], dtype=5), TypeError, r"not a dtype: 5"),
    # ---- negative and non-integer sizes ----------------------------------------------------
    "zeros(2.5)": (lambda: mg.zeros(2.5), TypeError, r"zeros: sizes must be ints, got \(2.5,\)"),
    "ones(-2, 3)": (lambda: mg.ones(-2, 3), ValueError, r"ones: sizes must be non-negative, got "
                    r"\(-2, 3\)"),
    "full(-1, 0)": (lambda: mg.full(-1, 0), ValueError, r"full: sizes must be non-negative"),
    "randn(-1)": (lambda: mg.randn(-1), ValueError, r"randn: sizes must be non-negative"),
    "rand(2.0)": (lambda: mg.rand(2.0), TypeError, r"rand: sizes must be ints"),
    "randint(5, 2)": (lambda: mg.randint(5, 2, (3,)), ValueError, r"randint: empty range "
                      r"\[5, 2\)"),
    "randint(size=(-1,))": (lambda: mg.randint(0, 5, (-1,)), ValueError, r"randint: sizes must "
                            r"be non-negative"),
    "arange(step=0)": (lambda: mg.arange(0, 10, 0), ValueError, r"arange: step must be "
                       r"nonzero"),
    "linspace(steps=-1)": (lambda: mg.linspace(0, 1, -1), ValueError, r"linspace: steps must be "
                           r"non-negative, got -1"),
    "nn.Linear(3, -2)": (lambda: nn.Linear(3, -2), ValueError, r"Linear: out_features must be a "
                         r"non-negative int, got -2"),
    "nn.Linear(True, 2)": (lambda: nn.Linear(True, 2), ValueError, r"in_features.*got True"),
    "nn.BatchNorm1d(-1)": (lambda: nn.BatchNorm1d(-1), ValueError, r"BatchNorm1d: num_features "
                           r"must be a non-negative int, got -1"),
    "nn.Dropout(-1)": (lambda: nn.Dropout(-1), ValueError, r"Dropout: p must be between 0 and "
                       r"1, got -1"),
    "F.dropout(p=-0.1)": (lambda: F.dropout(X, -0.1), ValueError, r"dropout: p must be in "
                          r"\[0, 1\], got -0.1"),
    "DataLoader(batch_size=-1)": (lambda: data.DataLoader(data.TensorDataset(np.zeros((3, 1))),
                                                          batch_size=-1),
                                  ValueError, r"DataLoader: batch_size must be a positive int, "
                                  r"got -1"),
    "make_moons(-1)": (lambda: data.make_moons(-1), ValueError, r"n_samples must be an integer "
                       r">= 2, got -1"),
    "make_regression(n_features=-1)": (lambda: data.make_regression(10, n_features=-1),
                                       ValueError, r"n_features must be an integer >= 1, got "
                                       r"-1"),
    "make_blobs(cluster_std=-1)": (lambda: data.make_blobs(10, cluster_std=-1), ValueError,
                                   r"cluster_std must be >= 0, got -1"),
    "load_digits(n_class=11)": (lambda: data.load_digits(n_class=11), ValueError,
                                r"n_class must be between 1 and 10, got 11"),
    "manual_seed(-1)": (lambda: mg.manual_seed(-1), ValueError, r"manual_seed: seed must be "
                        r"non-negative, got -1"),
    "manual_seed(1.5)": (lambda: mg.manual_seed(1.5), TypeError, r"manual_seed: seed must be "
                         r"an int, got float"),
    # ---- labels, targets and losses -----------------------------------------------------------
    "cross_entropy(bool target)": (lambda: F.cross_entropy(X, mg.tensor([True, False, True])),
                                   TypeError, r"cross_entropy: class targets must be integers "
                                   r"\(int64\), got dtype bool"),
    "cross_entropy(label 9, list)": (lambda: F.cross_entropy(X, [0, 1, 9]), IndexError,
                                     r"target label 9 is out of range for 4 classes"),
    "cross_entropy(0 classes)": (lambda: F.cross_entropy(mg.zeros(2, 0), mg.tensor([0, 0])),
                                 IndexError, r"out of range for 0 classes"),
    "cross_entropy(0-d input)": (lambda: F.cross_entropy(mg.tensor(1.0), mg.tensor(0)),
                                 ValueError, r"cross_entropy: input must have a class dim"),
    "cross_entropy(smoothing -0.1)": (lambda: F.cross_entropy(X, LABELS, label_smoothing=-0.1),
                                      ValueError, r"label_smoothing must be in \[0, 1\], got "
                                      r"-0.1"),
    "CrossEntropyLoss(float target)": (lambda: nn.CrossEntropyLoss()(
        X, mg.tensor([0.0, float("nan"), 1.0])), ValueError,
        r"probability targets must have the input's shape \(3, 4\), got \(3,\)"),
    "nll_loss(label 7)": (lambda: F.nll_loss(X, mg.tensor([0, 1, 7])), IndexError,
                          r"nll_loss: target label 7 is out of range for 4 classes"),
    "nll_loss(float target)": (lambda: F.nll_loss(X, mg.tensor([0.0, 1.0, 2.0])), TypeError,
                               r"nll_loss: class targets must be integers"),
    "one_hot(-1)": (lambda: F.one_hot(mg.tensor([-1]), 3), IndexError, r"one_hot: labels must "
                    r"be in \[0, 3\), got min -1"),
    "one_hot(float)": (lambda: F.one_hot(mg.tensor([1.0])), TypeError, r"one_hot: class "
                       r"targets must be integers"),
    "huber_loss(delta=-1)": (lambda: F.huber_loss(mg.zeros(3), mg.zeros(3), delta=-1),
                             ValueError, r"huber_loss: delta must be positive, got -1"),
    "bce_logits(pos_weight shape)": (lambda: F.binary_cross_entropy_with_logits(
        mg.zeros(3), mg.zeros(3), pos_weight=mg.zeros(4)), ValueError,
        r"pos_weight shape \(4,\) does not broadcast to input shape \(3,\)"),
    "layer_norm(shape)": (lambda: F.layer_norm(X, (5,)), ValueError, r"layer_norm: "
                          r"normalized_shape \(5,\) does not match the end of input shape"),
    "BatchNorm1d(4-d input)": (lambda: nn.BatchNorm1d(3)(mg.zeros(2, 3, 4, 5)), ValueError,
                               r"BatchNorm1d\(3\): expected input \(N, 3\) or \(N, 3, L\), got "
                               r"shape \(2, 3, 4, 5\)"),
    "BatchNorm1d(empty batch)": (lambda: nn.BatchNorm1d(3)(mg.zeros(0, 3)), ValueError,
                                 r"more than 1 value per channel.*\(0, 3\)"),
    "LayerNorm(3)(x of 4)": (lambda: nn.LayerNorm(3)(mg.zeros(2, 4)), ValueError,
                             r"normalized_shape \(3,\) does not match.*\(2, 4\)"),
    "Softmax(dim=5)": (lambda: nn.Softmax(dim=5)(X), IndexError, r"softmax: dim 5 is out of "
                       r"range"),
    "Flatten(3)": (lambda: nn.Flatten(3)(X), IndexError, r"flatten: dim 3 is out of range"),
    "Sequential(1)": (lambda: nn.Sequential(1), TypeError, r"Sequential: argument 0 is a int, "
                      r"not a Module"),
    "ModuleList([1])": (lambda: nn.ModuleList([1]), TypeError, r"must be a Module, got int"),
    "CrossEntropyLoss(reduction)": (lambda: nn.CrossEntropyLoss(reduction="x"), ValueError,
                                    r"CrossEntropyLoss: reduction must be one of"),
    # ---- optimizers ------------------------------------------------------------------------------
    "SGD(lr=nan)": (lambda: optim.SGD([_p()], lr=float("nan")), (ValueError, TypeError),
                    r"SGD: (lr|invalid learning rate).*nan"),
    "SGD(lr='a')": (lambda: optim.SGD([_p()], lr="a"), TypeError, r"SGD: lr"),
    "SGD(momentum=-1)": (lambda: optim.SGD([_p()], lr=0.1, momentum=-1), ValueError,
                         r"SGD: invalid momentum -1"),
    "Adam(eps=-1)": (lambda: optim.Adam([_p()], eps=-1), ValueError, r"Adam: invalid eps -1"),
    "SGD(None)": (lambda: optim.SGD(None, lr=0.1), TypeError, r"NoneType|iterable"),
    "SGD(duplicate params)": (lambda: optim.SGD([X.requires_grad_(), X], lr=0.1), ValueError,
                              r"more than one parameter group"),
    "StepLR(step_size=0)": (lambda: optim.lr_scheduler.StepLR(optim.SGD([_p()], lr=0.1),
                                                              step_size=0),
                            ValueError, r"StepLR: step_size must be a positive int, got 0"),
    "CosineAnnealingLR(T_max=0)": (lambda: optim.lr_scheduler.CosineAnnealingLR(
        optim.SGD([_p()], lr=0.1), T_max=0), ValueError, r"T_max must be > 0, got 0"),
    # ---- backends, data, misc ----------------------------------------------------------------
    "set_backend(5)": (lambda: mg.set_backend(5), ValueError, r"unknown backend 5"),
    "TensorDataset(str)": (lambda: data.TensorDataset("abc"), TypeError, r"dtype <U3"),
    "TensorDataset(0-d)": (lambda: data.TensorDataset(np.float64(1)), ValueError,
                           r"same first dimension, got shapes \[\(\)\]"),
    "TensorDataset()[5]": (lambda: data.TensorDataset(np.zeros((3, 1)))[5], IndexError,
                           r"index 5 is out of bounds"),
    "random_split(negative)": (lambda: data.random_split(data.TensorDataset(np.zeros((3, 1))),
                                                         [-1, 4]),
                               ValueError, r"random_split: lengths \[-1, 4\]"),
    "train_test_split(test_size=1.5)": (lambda: data.train_test_split(np.zeros(10),
                                                                      test_size=1.5),
                                        ValueError, r"test_size=1.5 leaves an empty part"),
    "set_default_dtype(int64)": (lambda: mg.set_default_dtype(mg.int64), TypeError,
                                 r"set_default_dtype: only floating dtypes are allowed, got "
                                 r"int64"),
    "gradcheck(no grad inputs)": (lambda: mg.gradcheck(lambda: None, []), ValueError,
                                  r"gradcheck: no input Tensor has requires_grad=True"),
    "gradcheck(float32)": (lambda: mg.gradcheck(lambda t: t, [mg.zeros(2, requires_grad=True)]),
                           TypeError, r"gradcheck: input 0 is float32; use float64"),
    "explain(5)": (lambda: mg.explain(5), TypeError, r"explain: expected a micrograd Value or "
                   r"Tensor, got int"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_a_clear_error(name, backend):
    call, exc, pattern = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=pattern) as info:
            call()
    # the error is ours, not a NumPy internal one surfacing (UFuncTypeError, AxisError, ...)
    assert not type(info.value).__module__.startswith("numpy"), type(info.value)


def test_linear_with_zero_features_initialises_like_torch():
    """nn.Linear(0, n) used to raise ZeroDivisionError in kaiming_uniform_; torch warns that
    initialising a zero-element tensor is a no-op and the layer outputs its bias (0 here)."""
    with pytest.warns(UserWarning, match="zero-element"):
        layer = nn.Linear(0, 3)
    np.testing.assert_array_equal(layer(mg.zeros(2, 0))._array, np.zeros((2, 3)))
    assert nn.Linear(3, 0)(mg.zeros(2, 3)).shape == (2, 0)
    for init in (nn.init.kaiming_normal_, nn.init.xavier_uniform_, nn.init.xavier_normal_):
        with pytest.warns(UserWarning, match="zero-element"):
            assert init(mg.zeros(0, 4)).shape == (0, 4)


def test_empty_inputs_give_torch_results_not_errors(backend):
    """Empty is not bad input: shapes propagate as in torch."""
    assert nn.Linear(3, 2)(mg.zeros(0, 3)).shape == (0, 2)
    assert np.isnan(mg.zeros(0).mean().item())             # torch: nan
    assert mg.zeros(0).sum().item() == 0
    assert F.cross_entropy(mg.zeros(0, 3), mg.zeros(0, dtype=mg.int64),
                           reduction="sum").item() == 0
    assert len(data.TensorDataset(np.zeros((0, 1)))) == 0
    x = mg.zeros(0, 4, requires_grad=True)
    (x * 2).sum().backward()
    assert x.grad.shape == (0, 4)


def test_nan_targets_are_rejected_by_estimators_and_located_by_anomaly_mode():
    """Functional losses follow torch (a NaN target gives a NaN loss, no per-call scan); the
    estimator API rejects NaN targets up front, and anomaly mode names the NaN leaf."""
    pytest.importorskip("sklearn", reason="scikit-learn not installed (optional)")
    from micrograd.sklearn import MLPRegressor
    X_ = np.random.default_rng(0).standard_normal((20, 2))
    y = X_[:, 0].copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPRegressor(max_iter=2).fit(X_, y)
    pred = mg.zeros(3, requires_grad=True)
    target = mg.tensor([0.0, float("nan"), 1.0])
    with mg.autograd.detect_anomaly(), pytest.raises(mg.autograd.AnomalyError,
                                                     match=r"input 1 .*1 nan.*leaf"):
        F.mse_loss(pred, target)


def test_as_tensor_with_a_dtype_casts():
    """Regression: as_tensor(array, dtype=...) called np.array(copy=False), which NumPy 2 turns
    into 'Unable to avoid copy' whenever a cast is needed; torch casts (copying)."""
    a = np.arange(3)
    t = mg.as_tensor(a, dtype=mg.float32)
    assert t.dtype == mg.float32
    np.testing.assert_array_equal(t._array, [0.0, 1.0, 2.0])
    same = mg.as_tensor(a)
    a[0] = 7
    assert same._array[0] == 7        # no cast: memory is shared, as torch
