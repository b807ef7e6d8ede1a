"""scikit-learn style estimators trained by micrograd: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: the same
parameter names and defaults, the same fitted attributes (``coefs_``, ``loss_curve_``, ...), the
same training algorithm (Glorot-uniform init, mini-batches, L2 penalty ``alpha``, adam or sgd with
sklearn's learning-rate schedules, stopping on ``tol`` / ``n_iter_no_change``, early stopping on a
validation split). The network is an ``mg.nn.Sequential`` trained with ``mg.optim``, so the C
kernels do the work. Its precision is scikit-learn's: float32 X trains in float32 and keeps
float32 ``coefs_``/``intercepts_``; any other X (float64, ints, bools, lists, float16) trains in
float64. A later ``partial_fit`` or warm-started ``fit`` keeps the first fit's precision. The
training step is recorded once and replayed by ``micrograd.compile`` (``compile=False``: every
step eager); both give bitwise-equal models.

Input is checked as scikit-learn checks it, with its messages: NaN/inf/complex in X, y or
sample_weight, pandas' pd.NA read as NaN, DataFrame column names recorded at fit and compared
at predict. A fit whose weights become non-finite raises scikit-learn's "Solver produced
non-finite parameter weights" instead of returning a NaN model. One difference: a model that
trains in float32 refuses y and sample_weight values beyond float32's range, and weights that
sum beyond it (scikit-learn keeps such y and weights in float64 next to float32 weights).

scikit-learn is optional. When it is installed the estimators derive from its ``BaseEstimator``
and mixins, so ``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and its estimator
checks see a native estimator; without it, small stand-ins provide ``get_params``/``set_params``/
``score``. The solver 'lbfgs' is not implemented (ValueError); ``max_fun`` is accepted for
compatibility and ignored.
"""
from __future__ import annotations

import inspect
import numbers
import textwrap
import warnings
from typing import Any

import numpy as np

from .. import nn, optim
from ..core import random as mg_random
from ..compile import compile as mg_compile
from ..core.autograd import no_grad
from ..core.settings import settings
from ..core.creation import from_numpy
from ..data.loader import train_test_split
from ..nn import functional as F
from ..core.tensor import Tensor

try:  # scikit-learn present: be a native estimator
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
    HAVE_SKLEARN = True
except ImportError:  # stand-ins with the same behaviour for what micrograd needs
    HAVE_SKLEARN = False

    class NotFittedError(ValueError, AttributeError):
        """Raised when predict/score run before fit (sklearn's class of the same name)."""

    class ConvergenceWarning(UserWarning):
        """The optimiser stopped at max_iter before meeting tol."""

    class DataConversionWarning(UserWarning):
        """The input was converted (a column vector y was flattened)."""

    class BaseEstimator:
        """get_params/set_params from the ``__init__`` signature, as scikit-learn's."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep: bool = True) -> dict[str, Any]:
            """The constructor's parameters and their values (scikit-learn's get_params)."""
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> "BaseEstimator":
            """Set constructor parameters by name; unknown names are a ValueError."""
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator "
                                     f"{type(self).__name__}. Valid parameters are: {valid!r}.")
                setattr(self, key, value)
            return self

        def __repr__(self) -> str:
            defaults = {p.name: p.default for p in
                        inspect.signature(type(self).__init__).parameters.values()}
            changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                       if not _same(v, defaults.get(k))]
            return f"{type(self).__name__}({', '.join(changed)})"

    class ClassifierMixin:
        _estimator_type = "classifier"

        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
            """Mean accuracy (exact match of all labels for multi-label targets)."""
            pred, y = self.predict(X), np.asarray(y)
            hit = np.all(pred == y, axis=1) if y.ndim == 2 else pred == y
            return float(np.average(hit, weights=sample_weight))

    class RegressorMixin:
        _estimator_type = "regressor"

        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
            """The coefficient of determination R^2 (averaged over outputs)."""
            return _r2(np.asarray(y, dtype=np.float64), self.predict(X), sample_weight)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return a is b


def _r2(y: np.ndarray, pred: np.ndarray, sample_weight=None) -> float:
    y, pred = y.reshape(len(y), -1), np.asarray(pred, np.float64).reshape(len(y), -1)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    ss_res = (w[:, None] * (y - pred) ** 2).sum(axis=0)
    ss_tot = (w[:, None] * (y - np.average(y, axis=0, weights=w)) ** 2).sum(axis=0)
    ok = ss_tot != 0
    scores = np.where(ok, 1 - ss_res / np.where(ok, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


#: how many compiled training steps (one per batch row count) an estimator keeps
_KEPT_STEPS = 4

_ACTIVATIONS = {"identity": nn.Identity, "logistic": nn.Sigmoid, "tanh": nn.Tanh,
                "relu": nn.ReLU}


# ---- parameter and input validation ------------------------------------------------------------
def _check_number(name: str, value: Any, low: float | None = None, high: float | None = None,
                  low_open: bool = False, high_open: bool = False, integer: bool = False) -> None:
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "an int" if integer else "a float"
        raise ValueError(f"The '{name}' parameter must be {kind}, got {value!r} "
                         f"({type(value).__name__}).")
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high or (isinstance(value, float) and not np.isfinite(value)):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        interval = f"{'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
        raise ValueError(f"The '{name}' parameter must be in the range {interval}, "
                         f"got {value!r}.")


def _check_choice(name: str, value: Any, choices: tuple) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"The '{name}' parameter must be one of {list(choices)}, got {value!r}.")


def _as_array(data: Any) -> np.ndarray:
    """data as a NumPy array. pandas' nullable columns (Int64, Float64, boolean) convert to
    objects holding pd.NA, on which float() fails; read them as float64 with NaN, as
    scikit-learn does, so a missing value is reported as one ("Input X contains NaN")."""
    if isinstance(data, Tensor):
        return data._array
    array = np.asarray(data)
    if array.dtype == object and hasattr(data, "to_numpy") and hasattr(data, "dtypes"):
        columns = list(data.dtypes) if hasattr(data, "columns") else [data.dtypes]
        if all(getattr(dtype, "kind", "O") in "iufb" for dtype in columns):
            array = data.to_numpy(dtype=np.float64, na_value=np.nan)
    return array


def _reject_complex(array: np.ndarray) -> None:
    """Complex input would lose its imaginary part in the float cast: refuse it (scikit-learn's
    message)."""
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported\n{array}\n")


def _check_finite(array: np.ndarray, name: str, estimator: str | None = None) -> None:
    """NaN or infinity in a float input is a ValueError, worded as scikit-learn's."""
    if array.dtype.kind != "f":
        return
    if np.isnan(array).any():
        hint = (f"\n{estimator} does not accept missing values encoded as NaN natively."
                if name == "X" and estimator else "")
        raise ValueError(f"Input {name} contains NaN.{hint}")
    if not np.isfinite(array).all():
        raise ValueError(f"Input {name} contains infinity or a value too large for "
                         f"{array.dtype!r}.")


def _check_fits_float32(array: np.ndarray, name: str) -> None:
    """For a model that trains in float32, where values past ~3.4e38 become inf and the model
    NaN: refuse them with the message scikit-learn gives for such float32 input. The cast is
    monotonic, so casting the extremes tells whether any value overflows."""
    if array.dtype.kind != "f" or array.dtype.itemsize <= 4 or array.size == 0:
        return
    with np.errstate(over="ignore"):
        extremes = np.array([array.min(), array.max()]).astype(np.float32)
    if not np.isfinite(extremes).all():
        raise ValueError(f"Input {name} contains infinity or a value too large for "
                         f"{np.dtype(np.float32)!r}.")


def _training_dtype(X: np.ndarray) -> np.dtype:
    """scikit-learn's ``dtype=(np.float64, np.float32)``: float32 stays, the rest is float64."""
    return np.dtype(np.float32 if X.dtype == np.float32 else np.float64)


def _feature_names(X: Any) -> np.ndarray | None:
    """A DataFrame's column names when all are strings (scikit-learn's rule; any other names
    are not recorded), else None. Strings mixed with other names are a TypeError, as there."""
    columns = getattr(X, "columns", None)
    if columns is None or len(columns) == 0:
        return None
    names = np.asarray(list(columns), dtype=object)
    types = sorted({type(n).__qualname__ for n in names})
    if len(types) > 1 and "str" in types:
        raise TypeError(
            "Feature names are only supported if all input features have string names, but "
            f"your input has {types} as feature name / column name types. If you want feature "
            "names to be stored and validated, you must convert them all to strings, by using "
            "X.columns = X.columns.astype(str) for example. Otherwise you can remove feature / "
            "column names from your input data, or convert them all to a non-string data type.")
    return names if types == ["str"] else None


def _check_feature_names(fitted: np.ndarray | None, names: np.ndarray | None,
                         estimator: str) -> None:
    """X's column names against those seen at fit, as scikit-learn: a warning when only one of
    the two has names, a ValueError listing what is unseen/missing (or the order) otherwise."""
    if fitted is None and names is None:
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {estimator} was fitted without feature names",
                      UserWarning, stacklevel=4)
        return
    if names is None:
        warnings.warn(f"X does not have valid feature names, but {estimator} was fitted with "
                      "feature names", UserWarning, stacklevel=4)
        return
    if len(fitted) == len(names) and np.all(fitted == names):
        return

    def listed(found: list[str]) -> str:
        return "".join(f"- {n}\n" for n in found[:5]) + ("- ...\n" if len(found) > 5 else "")

    unexpected = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))
    message = "The feature names should match those that were passed during fit.\n"
    if unexpected:
        message += "Feature names unseen at fit time:\n" + listed(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listed(missing)
    if not unexpected and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    raise ValueError(message)


def _as_2d_float(X: Any, name: str, estimator: str) -> np.ndarray:
    """X as a finite float (N, D) array, with scikit-learn's error messages."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{estimator} does not accept sparse input (got {type(X).__name__}); "
                        "convert it with X.toarray().")
    array = _as_array(X)
    _reject_complex(array)
    if array.dtype.kind not in "fiub":
        array = array.astype(np.float64)  # object/str: raises float()'s own TypeError/ValueError
    if array.ndim != 2:
        what = "scalar array" if array.ndim == 0 else f"{array.ndim}D array"
        raise ValueError(f"Expected 2D array, got {what} instead:\n{name}={str(array)[:200]}.\n"
                         "Reshape your data either using array.reshape(-1, 1) if your data has a "
                         "single feature or array.reshape(1, -1) if it contains a single sample.")
    if array.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={array.shape}) while a minimum "
                         f"of 1 is required by {estimator}.")
    if array.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={array.shape}) while a minimum "
                         f"of 1 is required by {estimator}.")
    _check_finite(array, name, estimator)
    return array


def _check_sample_weight(sample_weight: Any, n: int, dtype: np.dtype) -> np.ndarray:
    """scikit-learn's checks (a number is that weight for every sample; finite, 1-D, one per
    sample, not all zero) plus micrograd's: no negative weight, and for a float32 model the
    values and their sum within float32. Returned in the model's ``dtype``."""
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n, sample_weight)
    sw = _as_array(sample_weight)
    _reject_complex(sw)
    sw = sw.astype(np.float64)
    if sw.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar, got {sw.ndim}D array. "
                         f"Expected either a scalar value or a 1D array of length {n}.")
    if sw.shape != (n,):
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected {(n,)}!")
    _check_finite(sw, "sample_weight")
    if (sw < 0).any():
        raise ValueError("Negative values in data passed to `sample_weight`")
    if not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    if dtype == np.float32:
        _check_fits_float32(sw, "sample_weight")
        total = sw.sum()
        with np.errstate(over="ignore"):
            if not np.isfinite(np.float32(total)):
                raise ValueError(f"sample_weight sums to {total:g}, more than float32 (in "
                                 "which this model trains) can hold: divide the weights and "
                                 "alpha by the same number, which leaves the trained model "
                                 "the same.")
    return sw.astype(dtype)


# numpydoc entries of the constructor parameters: name -> (type and default, description)
_PARAMETERS = {
    "loss": ("{'squared_error'}, default='squared_error'",
             "The loss: half the mean squared error, the one scikit-learn's MLPRegressor has."),
    "hidden_layer_sizes": ("array-like of shape (n_layers - 2,), default=(100,)",
                           "The number of neurons of each hidden layer, in order (an int for "
                           "one hidden layer)."),
    "activation": ("{'identity', 'logistic', 'tanh', 'relu'}, default='relu'",
                   "The activation of the hidden layers: f(x) = x, 1 / (1 + exp(-x)), "
                   "tanh(x) or max(0, x)."),
    "solver": ("{'adam', 'sgd'}, default='adam'",
               "The weight optimiser. scikit-learn's 'lbfgs' is not implemented: it is a "
               "ValueError at fit."),
    "alpha": ("float, default=0.0001",
              "Strength of the L2 penalty on the weights (not the biases), divided by the "
              "batch's sample count (its total weight with sample_weight), as scikit-learn."),
    "batch_size": ("int or 'auto', default='auto'",
                   "Size of the mini-batches; 'auto' is min(200, n_samples). A size above "
                   "the sample count is clipped to it, with scikit-learn's warning."),
    "learning_rate": ("{'constant', 'invscaling', 'adaptive'}, default='constant'",
                      "The step-size schedule of solver='sgd' (adam ignores it): 'invscaling' "
                      "sets learning_rate_init / (t + 1) ** power_t after each epoch, t the "
                      "samples seen; 'adaptive' divides the rate by 5 whenever "
                      "n_iter_no_change epochs bring no improvement of tol, and stops once "
                      "it is below 1e-6."),
    "learning_rate_init": ("float, default=0.001", "The initial step size of adam or sgd."),
    "power_t": ("float, default=0.5",
                "The exponent of the 'invscaling' schedule (solver='sgd' only)."),
    "max_iter": ("int, default=200",
                 "The most epochs ``fit`` trains (each sample is seen once per epoch); "
                 "stopping there warns with ConvergenceWarning."),
    "shuffle": ("bool, default=True", "Whether to shuffle the samples at each epoch."),
    "random_state": ("int, RandomState, Generator or None, default=None",
                     "Seeds the weight initialisation, the shuffling and the early-stopping "
                     "split: an int gives the same model on every run (not scikit-learn's "
                     "numbers: the random streams differ). None draws from micrograd's "
                     "generator, so ``micrograd.manual_seed`` fixes it."),
    "tol": ("float, default=1e-4",
            "An epoch that improves the training loss (with early_stopping, the validation "
            "score) by less than tol counts as no improvement."),
    "verbose": ("bool, default=False", "Print the loss after each epoch."),
    "warm_start": ("bool, default=False",
                   "When True, ``fit`` continues from the previous fit's weights instead of "
                   "starting anew."),
    "momentum": ("float, default=0.9", "Momentum of solver='sgd', in [0, 1]."),
    "nesterovs_momentum": ("bool, default=True",
                           "Use Nesterov's momentum (solver='sgd' with momentum > 0)."),
    "early_stopping": ("bool, default=False",
                       "Hold out validation_fraction of the training data (stratified for a "
                       "classifier), stop when its score has not improved by tol for "
                       "n_iter_no_change epochs, and keep the best weights. Not with "
                       "``partial_fit``."),
    "validation_fraction": ("float, default=0.1",
                            "The share of the training data held out for early_stopping, in "
                            "(0, 1)."),
    "beta_1": ("float, default=0.9",
               "Adam's decay rate of the first-moment estimate, in [0, 1)."),
    "beta_2": ("float, default=0.999",
               "Adam's decay rate of the second-moment estimate, in [0, 1)."),
    "epsilon": ("float, default=1e-8", "Adam's term that keeps the division stable."),
    "n_iter_no_change": ("int, default=10",
                         "How many epochs in a row without an improvement of tol end the "
                         "training (or, for the 'adaptive' schedule, cut the rate)."),
    "max_fun": ("int, default=15000",
                "Accepted for compatibility and ignored: it bounds the loss evaluations of "
                "the 'lbfgs' solver, which micrograd does not implement."),
    "compile": ("bool, default=True",
                "micrograd's own parameter (scikit-learn has none such): train with the step "
                "recorded once and replayed by ``micrograd.compile``, which skips building "
                "the graph and gives a bitwise-equal model; False runs every step eagerly."),
}


def _with_parameters(cls: type) -> type:
    """``cls`` with a numpydoc "Parameters" section appended to its docstring, one entry per
    ``__init__`` parameter in order, as scikit-learn documents its estimators."""
    entries = []
    for name in inspect.signature(cls.__init__).parameters:
        if name in _PARAMETERS:
            kind, text = _PARAMETERS[name]
            entries.append(f"{name} : {kind}\n" + textwrap.indent(textwrap.fill(text, 88),
                                                                   "    "))
    cls.__doc__ = (f"{inspect.cleandoc(cls.__doc__ or '')}\n\nParameters\n----------\n"
                   + "\n\n".join(entries) + "\n")
    return cls


class _BaseMLP(BaseEstimator):
    """The shared machinery; subclasses define the targets, output layer and loss."""

    _is_classifier = False

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: Any = None, tol: float = 1e-4, verbose: bool = False,
                 warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, compile: bool = True) -> None:  # noqa: A002
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.compile = compile

    # ---- validation ------------------------------------------------------------------------
    def _validate_params(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0:
                raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes}.")
        _check_choice("activation", self.activation, tuple(_ACTIVATIONS))
        if self.solver == "lbfgs":
            raise ValueError("The 'solver' parameter 'lbfgs' is not implemented in micrograd; "
                             "use 'adam' or 'sgd'.")
        _check_choice("solver", self.solver, ("adam", "sgd"))
        _check_number("alpha", self.alpha, 0.0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _check_number("batch_size", self.batch_size, 1, integer=True)
        _check_choice("learning_rate", self.learning_rate, ("constant", "invscaling", "adaptive"))
        _check_number("learning_rate_init", self.learning_rate_init, 0.0, low_open=True)
        _check_number("power_t", self.power_t, 0.0)
        _check_number("max_iter", self.max_iter, 1, integer=True)
        _check_number("tol", self.tol, 0.0)
        _check_number("momentum", self.momentum, 0.0, 1.0)
        _check_number("validation_fraction", self.validation_fraction, 0.0, 1.0,
                      low_open=True, high_open=True)
        _check_number("beta_1", self.beta_1, 0.0, 1.0, high_open=True)
        _check_number("beta_2", self.beta_2, 0.0, 1.0, high_open=True)
        _check_number("epsilon", self.epsilon, 0.0, low_open=True)
        _check_number("n_iter_no_change", self.n_iter_no_change, 1, integer=True)
        _check_number("max_fun", self.max_fun, 1, integer=True)
        for flag in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping", "compile"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise ValueError(f"The '{flag}' parameter must be a bool, "
                                 f"got {getattr(self, flag)!r}.")
        return tuple(int(s) for s in sizes)

    def _check_X(self, X: Any, reset: bool) -> np.ndarray:
        """X as a float array; at fit (``reset``) its width and column names are recorded,
        afterwards they are checked (names first, before the values, as scikit-learn)."""
        estimator = type(self).__name__
        names = _feature_names(X)  # a DataFrame's column names, read before converting
        if not reset:
            _check_feature_names(getattr(self, "feature_names_in_", None), names, estimator)
        X = _as_2d_float(X, "X", estimator)
        if reset:
            self.n_features_in_ = X.shape[1]
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")
        return X

    def _check_y_common(self, y: Any, n: int) -> np.ndarray:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")
        y = _as_array(y)
        _reject_complex(y)
        _check_finite(y, "y")
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples, ), for example using ravel().",
                          DataConversionWarning, stacklevel=4)
            y = y.ravel()
        if y.ndim not in (1, 2):
            raise ValueError(f"y should be a 1d array or a 2d array of targets, got shape "
                             f"{y.shape}.")
        if len(y) != n:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{n}, {len(y)}]")
        return y

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "_model"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit' with appropriate arguments before using this estimator.")

    # ---- the network -----------------------------------------------------------------------
    def _rng(self) -> np.random.Generator:
        rs = self.random_state
        if isinstance(rs, np.random.Generator):
            return rs
        if isinstance(rs, np.random.RandomState):
            return np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
        if rs is None:
            return np.random.default_rng(mg_random.generator().integers(2 ** 63))
        if isinstance(rs, bool) or not isinstance(rs, numbers.Integral):
            raise ValueError(f"random_state must be None, an int, a numpy RandomState or "
                             f"Generator, got {rs!r}.")
        return np.random.default_rng(int(rs))

    def _build(self, sizes: list[int], rng: np.random.Generator, dtype: np.dtype) -> None:
        """Glorot-uniform layers, as scikit-learn: bound sqrt(f / (fan_in + fan_out)), f = 6
        (2 for logistic), for weights and biases alike, drawn in float64 and stored in the
        training ``dtype``."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear = nn.Linear(fan_in, fan_out, dtype=dtype)
            bound = np.sqrt(factor / (fan_in + fan_out))
            linear.weight._array[...] = rng.uniform(-bound, bound, (fan_in, fan_out)).T
            linear.bias._array[...] = rng.uniform(-bound, bound, fan_out)
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[self.activation]())
        self._model = nn.Sequential(*layers)
        self._linears = [m for m in layers if isinstance(m, nn.Linear)]
        self.n_layers_ = len(sizes)
        self.n_outputs_ = sizes[-1]
        self.n_iter_, self.t_ = 0, 0
        self._no_improvement_count = 0
        self.loss_curve_ = []
        if self.early_stopping:
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = np.inf
        self._optimizer, self._best_state, self._steps = None, None, {}
        self._expose()

    def _expose(self) -> None:
        """coefs_ (fan_in, fan_out) and intercepts_ as views of the live parameters."""
        self.coefs_ = [m.weight._array.T for m in self._linears]
        self.intercepts_ = [m.bias._array for m in self._linears]

    def _make_optimizer(self) -> None:
        weights = [m.weight for m in self._linears]
        biases = [m.bias for m in self._linears]
        groups = [{"params": weights}, {"params": biases, "weight_decay": 0.0}]
        if self.solver == "adam":
            self._optimizer = optim.Adam(groups, lr=self.learning_rate_init,
                                         betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        else:
            nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
            self._optimizer = optim.SGD(groups, lr=self.learning_rate_init,
                                        momentum=self.momentum, nesterov=nesterov)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """Network output before the output activation, without a graph, in scikit-learn's
        precision: X's dtype and the weights' promoted as NumPy promotes ``X @ coefs_`` (a
        float32 model predicts float64 X in float64, its float32 X in float32)."""
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype)
        x = from_numpy(np.ascontiguousarray(X, dtype=dtype))
        with no_grad():
            for layer in self._model:
                if isinstance(layer, nn.Linear):
                    x = F.linear(x, from_numpy(layer.weight._array.astype(dtype, copy=False)),
                                 from_numpy(layer.bias._array.astype(dtype, copy=False)))
                else:
                    x = layer(x)
        return x._array

    # ---- training ----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_BaseMLP":
        """Train on (X, y) for up to ``max_iter`` epochs; returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        hidden = self._validate_params()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not (hasattr(self, "_model") and (self.warm_start or incremental))
        X = self._check_X(X, reset=first)
        # scikit-learn's precision: X's for a new model, else the model's (which it keeps)
        dtype = _training_dtype(X) if first else self.coefs_[0].dtype
        if dtype == np.float32:
            _check_fits_float32(X, "X")
        X = np.ascontiguousarray(X, dtype=dtype)
        y = self._check_y_common(y, len(X))
        T, n_outputs = self._encode_targets(y, first, classes)
        if T.dtype.kind == "f":
            if dtype == np.float32:
                _check_fits_float32(T, "y")
            T = T.astype(dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, len(X), dtype)
        rng = self._rng() if first or not hasattr(self, "_fit_rng") else self._fit_rng
        if first:
            self._build([X.shape[1], *hidden, n_outputs], rng, dtype)
        elif self.n_outputs_ != n_outputs:
            raise ValueError(f"warm_start/partial_fit: the network has {self.n_outputs_} "
                             f"outputs but y needs {n_outputs}; refit from scratch")
        self._fit_rng = rng
        if self._optimizer is None or not incremental:
            self._make_optimizer()
            self._steps = {}  # a recorded step belongs to one optimizer
        self._train(X, T, sample_weight, rng, incremental)
        self._expose()
        if not all(np.isfinite(p._array).all() for p in self._model.parameters()):
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        return self

    def _train(self, X: np.ndarray, T: np.ndarray, sw: np.ndarray | None,
               rng: np.random.Generator, incremental: bool) -> None:
        X_val = T_val = None
        if self.early_stopping:
            stratify = T if self._is_classifier and T.ndim == 1 else None
            parts = train_test_split(X, T, *(() if sw is None else (sw,)),
                                     test_size=self.validation_fraction, stratify=stratify,
                                     random_state=rng)
            X, X_val, T, T_val = parts[:4]
            sw = parts[4] if sw is not None else None
            if len(X_val) < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
        n = len(X)
        if self.batch_size == "auto":
            bs = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped", stacklevel=3)
            bs = int(np.clip(self.batch_size, 1, n))
        X, T = np.ascontiguousarray(X), np.ascontiguousarray(T)
        sw = None if sw is None else sw[:, None]  # (n, 1): scales a row's loss
        opt, weights = self._optimizer, [m.weight for m in self._linears]
        wgroup, alpha = opt.param_groups[0], float(self.alpha)
        step = self._training_step()
        self.n_iter_ = 0  # epochs of this call, as scikit-learn counts them (t_ accumulates)
        for _ in range(1 if incremental else self.max_iter):
            if self.shuffle:
                order = rng.permutation(n)
                Xe, Te = X[order], T[order]
                swe = None if sw is None else sw[order]
            else:
                Xe, Te, swe = X, T, sw
            total = 0.0
            for s in range(0, n, bs):
                xb, tb = Xe[s:s + bs], Te[s:s + bs]
                wb = None if swe is None else swe[s:s + bs]
                m = len(xb)
                # the weighted mean's denominator (an all-zero-weight batch adds nothing)
                denom = F.total_weight(wb, m) or 1.0
                penalty = 0.0
                if alpha:
                    penalty = 0.5 * alpha * sum(float(np.dot(w._array.ravel(), w._array.ravel()))
                                                for w in weights) / denom
                wgroup["weight_decay"] = alpha / denom  # d(penalty)/dW = alpha * W / denom
                if wb is None:
                    loss = step(from_numpy(xb), from_numpy(tb))
                else:  # the denominator as an argument: a number would key a plan per value
                    loss = step(from_numpy(xb), from_numpy(tb), from_numpy(wb),
                                from_numpy(np.array(denom, dtype=wb.dtype)))
                total += (float(loss._array) + penalty) * m
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = total / n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            self._update_no_improvement(X_val, T_val)
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                lr = self.learning_rate_init / (self.t_ + 1) ** self.power_t
                for group in opt.param_groups:
                    group["lr"] = lr
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if self.early_stopping else "Training loss"
                msg = (f"{what} did not improve more than tol={self.tol:f} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
                if self._stop_or_decay(msg):
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                              "reached and the optimization hasn't converged yet.",
                              ConvergenceWarning, stacklevel=3)
        if self.early_stopping and self._best_state is not None:
            for p, best in zip(self._model.parameters(), self._best_state):
                p._array[...] = best

    def _step_eager(self, x: Tensor, target: Tensor, weight: Tensor | None = None,
                    denom: Tensor | None = None) -> Tensor:
        """One optimisation step on a batch: the loss, its gradients, the update. Everything
        that changes from batch to batch is an argument, so ``micrograd.compile`` can replay
        it (the L2 penalty enters through the optimizer's weight_decay, read at each update)."""
        for p in self._model.parameters():
            p.grad = None
        loss = self._batch_loss(self._model(x), target, weight, denom)
        loss.backward()
        self._optimizer.step()
        return loss

    def _training_step(self):
        """The step, compiled unless ``compile=False``. Every configuration of these
        estimators (Linear layers, the four activations, the three losses, adam or sgd, no
        dropout) is one micrograd.compile replays, and the step is kept so that the caller
        never sees compile's warning of a fallback to eager:

        - one compiled step per batch row count, the last few kept across partial_fit calls
          (a fit has two: full batches and the remainder), so a compiled step never meets
          more argument shapes than compile keeps plans for, however partial_fit's data
          sizes vary (a size not seen lately is recorded anew);
        - a new optimizer or network starts afresh (``_steps`` emptied);
        - in anomaly mode, which compile does not record, the step runs eagerly."""
        if not self.compile:
            return self._step_eager
        steps = self.__dict__.setdefault("_steps", {})  # (absent in older pickles)

        def step(x: Tensor, *rest: Tensor) -> Tensor:
            if settings.anomaly:
                return self._step_eager(x, *rest)
            rows = x.shape[0]
            compiled = steps.get(rows)
            if compiled is None:
                if len(steps) >= _KEPT_STEPS:
                    del steps[next(iter(steps))]  # the oldest
                compiled = steps[rows] = mg_compile(self._step_eager)
            return compiled(x, *rest)
        return step

    def _stop_or_decay(self, msg: str) -> bool:
        """sklearn's trigger_stopping: adaptive sgd divides lr by 5 until it is below 1e-6."""
        if self.solver == "sgd" and self.learning_rate == "adaptive":
            lr = self._optimizer.param_groups[0]["lr"]
            if lr > 1e-6:
                for group in self._optimizer.param_groups:
                    group["lr"] = lr / 5.0
                if self.verbose:
                    print(msg + f" Setting learning rate to {lr / 5.0:f}")
                return False
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        if self.verbose:
            print(msg + " Stopping.")
        return True

    def _update_no_improvement(self, X_val, T_val) -> None:
        if self.early_stopping:
            score = self._validation_score(X_val, T_val)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_state = [p._array.copy() for p in self._model.parameters()]
        else:
            last = self.loss_curve_[-1]
            if last > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last < self.best_loss_:
                self.best_loss_ = last

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_BaseMLP":
        """One epoch over (X, y), keeping the network and optimizer state between calls."""
        return self._fit(X, y, sample_weight, incremental=True)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_fit_rng", None)  # re-seeded on the next warm/partial fit
        state["_steps"] = {}  # generated code: recorded again after loading
        return state


@_with_parameters
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (scikit-learn's API, micrograd's engine).

    Multi-class targets use a softmax output and cross-entropy; binary and multi-label
    (indicator matrix) targets use logistic outputs and binary cross-entropy. Labels may be any
    sortable values (ints, strings)."""

    _is_classifier = True

    def _encode_targets(self, y: np.ndarray, first: bool, classes) -> np.ndarray:
        if y.ndim == 2:  # multi-label indicator matrix
            if not np.isin(y, (0, 1)).all():
                raise ValueError("Unknown label type: multilabel targets must be a 0/1 "
                                 "indicator matrix (continuous-multioutput given).")
            if first:
                self.classes_ = np.arange(y.shape[1])
                self.out_activation_, self._multilabel = "logistic", True
            elif not self._multilabel or y.shape[1] != len(self.classes_):
                raise ValueError("y has a different label layout than in the first fit")
            return y.astype(np.float64), y.shape[1]
        if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a "
                             "classifier, which expects discrete classes on a regression "
                             "target with continuous values.")
        if first:
            if classes is not None:
                labels = np.unique(np.asarray(classes))
            else:
                labels = np.unique(y)
            if len(labels) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                                 f"in the data, but the data contains only one class: "
                                 f"{labels[0]!r}")
            self.classes_, self._multilabel = labels, False
            self.out_activation_ = "logistic" if len(labels) == 2 else "softmax"
        elif self._multilabel:
            raise ValueError("y has a different label layout than in the first fit")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"y contains labels not seen in the first fit or given in "
                             f"classes: {unknown.tolist()}")
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:  # one logistic unit: P(classes_[1])
            return index.astype(np.float64), 1
        return index.astype(np.int64), len(self.classes_)

    def _batch_loss(self, out: Tensor, target: Tensor, weight: Tensor | None,
                    denom: Tensor | None) -> Tensor:
        """Cross-entropy, summed over labels and averaged over the samples, or their weights
        (``weight`` (B, 1), ``denom`` their sum)."""
        if self.out_activation_ == "softmax":  # target: (B,) class indices
            if weight is None:
                return F.cross_entropy(out, target)
            per = F.cross_entropy(out, target, reduction="none")
            return (per * weight.reshape(-1)).sum() / denom
        if target.ndim == 1:  # binary: (B,) in {0, 1} for the single logistic unit
            target = target.reshape(-1, 1)
        per = F.binary_cross_entropy_with_logits(out, target, reduction="none")
        if weight is None:
            return per.sum() / len(target)
        return (per * weight).sum() / denom

    def _validation_score(self, X, T) -> float:
        pred = self._predict_index(X)
        hit = np.all(pred == T, axis=1) if self._multilabel else pred == T
        return float(np.mean(hit))

    def _predict_index(self, X: np.ndarray) -> np.ndarray:
        z = self._forward(X)
        if self.out_activation_ == "softmax":
            return z.argmax(1)
        return (z > 0).astype(np.int64)[:, 0] if not self._multilabel else (z > 0).astype(int)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_BaseMLP":
        """Train on (X, y) for up to ``max_iter`` epochs; returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None,
                    classes: Any = None) -> "MLPClassifier":
        """One epoch over (X, y). The first call needs ``classes`` (every label that will ever
        appear), as in scikit-learn."""
        if not hasattr(self, "classes_") and classes is None and np.ndim(y) == 1:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if hasattr(self, "classes_") and classes is not None and \
                not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={list(classes)}` is not the same as on last call to "
                             f"partial_fit, was: {list(self.classes_)}")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (an indicator matrix for multi-label targets)."""
        self._check_is_fitted()
        idx = self._predict_index(self._check_X(X, reset=False))
        return idx if self._multilabel else self.classes_[idx]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (N, n_classes); for multi-label, each label's probability."""
        self._check_is_fitted()
        z = self._forward(self._check_X(X, reset=False))
        if self.out_activation_ == "softmax":
            z = np.exp(z - z.max(axis=1, keepdims=True))
            return z / z.sum(axis=1, keepdims=True)
        p = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))),
                     np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
        return p if self._multilabel else np.hstack([1 - p, p])

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The natural logarithm of ``predict_proba(X)`` (-inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"multilabel": True}


@_with_parameters
class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: identity output, loss = mean squared error / 2 (as
    scikit-learn); one or several targets."""

    def __init__(self, loss: str = "squared_error", hidden_layer_sizes: Any = (100,),
                 activation: str = "relu", *, solver: str = "adam", alpha: float = 0.0001,
                 batch_size: int | str = "auto", learning_rate: str = "constant",
                 learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200,
                 shuffle: bool = True, random_state: Any = None, tol: float = 1e-4,
                 verbose: bool = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, compile: bool = True) -> None:  # noqa: A002
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, activation=activation,
                         solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init,
                         power_t=power_t, max_iter=max_iter, shuffle=shuffle,
                         random_state=random_state, tol=tol, verbose=verbose,
                         warm_start=warm_start, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
                         compile=compile)
        self.loss = loss

    def _validate_params(self) -> tuple[int, ...]:
        _check_choice("loss", self.loss, ("squared_error",))
        return super()._validate_params()

    def _encode_targets(self, y: np.ndarray, first: bool, classes) -> np.ndarray:
        if y.dtype.kind not in "fiub":
            y = y.astype(np.float64)
            _check_finite(y, "y")  # None in an object array reads as NaN
        if first:
            self.out_activation_ = "identity"
            self._single_output = y.ndim == 1
        return (y[:, None] if y.ndim == 1 else y).astype(np.float64), (y.shape[1:] or (1,))[0]

    def _batch_loss(self, out: Tensor, target: Tensor, weight: Tensor | None,
                    denom: Tensor | None) -> Tensor:
        """Squared error / 2, averaged over outputs and over the samples, or their weights
        (``weight`` (B, 1), ``denom`` their sum): scikit-learn's loss."""
        if weight is None:
            return F.mse_loss(out, target) * 0.5
        per = (out - target) ** 2 * weight
        return per.sum() / (denom * (2.0 * target.shape[1]))

    def _validation_score(self, X, T) -> float:
        return _r2(T.astype(np.float64), self._forward(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, (N,) for one target else (N, n_outputs)."""
        self._check_is_fitted()
        out = self._forward(self._check_X(X, reset=False))
        return out[:, 0] if self._single_output else out
