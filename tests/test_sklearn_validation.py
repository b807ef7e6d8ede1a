"""micrograd.sklearn's estimators validate input as scikit-learn's MLPClassifier/MLPRegressor:
NaN/inf/complex in X, y and sample_weight, values beyond float32 (refused only by a model that
trains in float32), a diverged fit, and DataFrame column names and pd.NA. Each case runs through
micrograd and, when scikit-learn is installed, through scikit-learn: the same exception class,
and scikit-learn's message starting with ours (it sometimes adds a longer hint)."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from micrograd import sklearn as mg_sklearn

try:
    from sklearn import neural_network as sk_nn
except ImportError:
    sk_nn = None

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y_CLF = (X[:, 0] > 0).astype(int)
Y_REG = X[:, 0] - X[:, 1]
KW = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
NAMES = ["a", "b", "c"]


def _make(lib, kind: str):
    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    return getattr(lib, name)(**KW)


def _put(array: np.ndarray, index: int, value) -> np.ndarray:
    out = np.array(array, dtype=np.result_type(array, np.asarray(value)))
    out.flat[index] = value
    return out


def _raised(call) -> tuple[type, str]:
    """What call raises: (class, message)."""
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


def _same_as_sklearn(ours: tuple[type, str], theirs_call) -> None:
    if sk_nn is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _raised(theirs_call)
    assert theirs[0] is ours[0], (ours, theirs)
    assert theirs[1].startswith(ours[1]), (ours[1], theirs[1])


def _no_sklearn(X, y, sw):
    return None


X32 = X.astype(np.float32)  # a float32 model, as scikit-learn trains float32 X


ONES = np.ones(40)
# name -> (estimator, data() -> (X, y, sample_weight), error, message regex, data for
# scikit-learn's same check: identity, a transform, or _no_sklearn where it has none)
FIT_ERRORS = {
    "sample_weight_nan": ("clf", lambda: (X, Y_CLF, _put(ONES, 3, np.nan)),
                          ValueError, r"^Input sample_weight contains NaN\.$", None),
    "sample_weight_inf": ("reg", lambda: (X, Y_REG, _put(ONES, 0, np.inf)), ValueError,
                          r"^Input sample_weight contains infinity or a value too large for "
                          r"dtype\('float64'\)\.$", None),
    "sample_weight_minus_inf": ("clf", lambda: (X, Y_CLF, _put(ONES, 39, -np.inf)),
                                ValueError, r"sample_weight contains infinity", None),
    "sample_weight_nan_scalar": ("reg", lambda: (X, Y_REG, float("nan")), ValueError,
                                 r"^Input sample_weight contains NaN\.$", _no_sklearn),
    "sample_weight_complex": ("reg", lambda: (X, Y_REG, ONES + 0j), ValueError,
                              r"^Complex data not supported\n", None),
    "sample_weight_2d": ("clf", lambda: (X, Y_CLF, ONES[:, None]), ValueError,
                         r"^Sample weights must be 1D array or scalar, got 2D array\. Expected "
                         r"either a scalar value or a 1D array of length 40\.$", None),
    "sample_weight_length": ("clf", lambda: (X, Y_CLF, ONES[:5]), ValueError,
                             re.escape("sample_weight.shape == (5,), expected (40,)!"), None),
    "sample_weight_all_zero": ("reg", lambda: (X, Y_REG, 0.0), ValueError,
                               r"at least one non-zero number", None),
    "sample_weight_negative": ("clf", lambda: (X, Y_CLF, _put(ONES, 1, -1.0)), ValueError,
                               r"Negative values in data passed to `sample_weight`",
                               _no_sklearn),  # scikit-learn's MLP accepts negative weights
    "X_inf_float32": ("clf", lambda: (_put(X, 5, np.inf).astype(np.float32), Y_CLF, None),
                      ValueError, r"^Input X contains infinity or a value too large for "
                      r"dtype\('float32'\)\.$", None),
    # a float32 model refuses y and weights beyond float32 (scikit-learn keeps them float64)
    "y_overflows_float32_model": ("reg", lambda: (X32, _put(Y_REG, 2, 1e39), None), ValueError,
                                  r"^Input y contains infinity or a value too large for "
                                  r"dtype\('float32'\)\.$", _no_sklearn),
    "sample_weight_overflows_float32_model": ("clf", lambda: (X32, Y_CLF, _put(ONES, 4, 1e39)),
                                              ValueError, r"^Input sample_weight contains "
                                              r"infinity or a value too large for "
                                              r"dtype\('float32'\)\.$", _no_sklearn),
    "sample_weight_sum_overflows_float32_model": ("reg", lambda: (X32, Y_REG,
                                                                  np.full(40, 1e37)),
                                                  ValueError, r"sample_weight sums to 4e\+38, "
                                                  r"more than float32", _no_sklearn),
    "y_complex_classifier": ("clf", lambda: (X, Y_CLF + 1j, None), ValueError,
                             r"^Complex data not supported\n", None),
    "y_complex_regressor": ("reg", lambda: (X, Y_REG + 0j, None), ValueError,
                            r"^Complex data not supported\n", None),
    "y_complex_column": ("reg", lambda: (X, (Y_REG + 2j)[:, None], None), ValueError,
                         r"^Complex data not supported\n", None),
    "y_nan_classifier": ("clf", lambda: (X, _put(Y_CLF, 0, np.nan), None), ValueError,
                         r"^Input y contains NaN\.$", None),
    "y_inf_classifier": ("clf", lambda: (X, _put(Y_CLF, 0, np.inf), None), ValueError,
                         r"^Input y contains infinity or a value too large for "
                         r"dtype\('float64'\)\.$", None),
    "y_nan_regressor": ("reg", lambda: (X, _put(Y_REG, 9, np.nan), None), ValueError,
                        r"^Input y contains NaN\.$", None),
    "y_inf_regressor": ("reg", lambda: (X, _put(Y_REG, 9, -np.inf), None), ValueError,
                        r"^Input y contains infinity or a value too large for "
                        r"dtype\('float64'\)\.$", None),
    "X_nan": ("reg", lambda: (_put(X, 4, np.nan), Y_REG, None), ValueError,
              r"^Input X contains NaN\.\nMLPRegressor does not accept missing values", None),
    "X_complex": ("clf", lambda: (X + 1j, Y_CLF, None), ValueError,
                  r"^Complex data not supported\n", None),
}


@pytest.mark.parametrize("case", FIT_ERRORS)
def test_fit_rejects_input_as_scikit_learn(case, backend):
    kind, data, error, match, for_sklearn = FIT_ERRORS[case]
    Xc, yc, sw = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy cast warning on the way
        ours = _raised(lambda: _make(mg_sklearn, kind).fit(Xc, yc, sample_weight=sw))
    assert ours[0] is error and re.search(match, ours[1]), ours
    if for_sklearn is not _no_sklearn:
        Xs, ys, sws = (Xc, yc, sw) if for_sklearn is None else for_sklearn(Xc, yc, sw)
        _same_as_sklearn(ours, lambda: _make(sk_nn, kind).fit(Xs, ys, sample_weight=sws))


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_checks_each_batch(kind, backend):
    """A later partial_fit call is validated too: a batch that overflows the float32 network
    (trained so by the first, float32 call) is refused before it reaches it, and the network
    stays as it was."""
    est = _make(mg_sklearn, kind)
    y = Y_CLF if kind == "clf" else Y_REG
    extra = dict(classes=[0, 1]) if kind == "clf" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.partial_fit(X32, y, **extra)
    before = [c.copy() for c in est.coefs_]
    with pytest.raises(ValueError, match=r"Input X contains infinity .*float32"):
        est.partial_fit(_put(X, 0, 1e39), y)
    with pytest.raises(ValueError, match=r"Input sample_weight contains NaN"):
        est.partial_fit(X, y, sample_weight=_put(ONES, 0, np.nan))
    for a, b in zip(before, est.coefs_):
        np.testing.assert_array_equal(a, b)


def test_diverged_fit_raises_instead_of_a_nan_model(backend):
    """float32 X, finite, whose products overflow float32: the weights become NaN; scikit-learn's
    own check after the solver turns that into a ValueError (the same message as scikit-learn
    for data that overflows its float64 training)."""
    big = np.where(X > 1.5, 1e30, X).astype(np.float32)
    message = ("Solver produced non-finite parameter weights. The input data may contain "
               "large values and need to be preprocessed.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _raised(lambda: _make(mg_sklearn, "reg").fit(big, Y_REG))
    assert ours == (ValueError, message)
    _same_as_sklearn(ours, lambda: _make(sk_nn, "reg").fit(np.where(X > 1.5, 1e300, X), Y_REG))


@pytest.mark.parametrize("Xfit", [X, X32], ids=["float64_model", "float32_model"])
def test_predict_on_values_beyond_float32_is_finite(Xfit, backend):
    """float64 X predicts in float64 (NumPy's promotion of X @ coefs_, as scikit-learn), even
    with a float32 model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = _make(mg_sklearn, "clf").fit(Xfit, Y_CLF)
    proba = clf.predict_proba(_put(X, 0, 1e39))
    assert proba.dtype == np.float64 and np.isfinite(proba).all()


def test_scalar_sample_weight_is_every_samples_weight(backend):
    """A number is that weight for every sample (scikit-learn's _check_sample_weight)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = _make(mg_sklearn, "reg").fit(X, Y_REG, sample_weight=2.5)
        b = _make(mg_sklearn, "reg").fit(X, Y_REG, sample_weight=np.full(40, 2.5))
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(ca, cb)


def test_scikit_learn_complex_data_check():
    checks = pytest.importorskip("sklearn.utils.estimator_checks",
                                 reason="scikit-learn not installed")
    for est in (_make(mg_sklearn, "clf"), _make(mg_sklearn, "reg")):
        checks.check_complex_data(type(est).__name__, est)


# ---- DataFrames --------------------------------------------------------------------------------
@pytest.fixture
def pd():
    return pytest.importorskip("pandas", reason="pandas not installed: DataFrame input untested")


def _fitted(lib, kind: str, Xfit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _make(lib, kind).fit(Xfit, Y_CLF if kind == "clf" else Y_REG)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_scikit_learn_column_names_check(kind, pd):
    """scikit-learn's own check: names recorded at fit, a reordered, renamed or shorter frame
    refused by every method (predict, predict_proba, score, ...) and by partial_fit."""
    checks = pytest.importorskip("sklearn.utils.estimator_checks",
                                 reason="scikit-learn not installed")
    est = _make(mg_sklearn, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=mg_sklearn.ConvergenceWarning)
        checks.check_dataframe_column_names_consistency(type(est).__name__, est)


# name -> (columns at predict, the ValueError's message)
NAME_MISMATCHES = {
    "reordered": (["b", "a", "c"], "The feature names should match those that were passed "
                  "during fit.\nFeature names must be in the same order as they were in fit.\n"),
    "renamed": (["a", "z", "c"], "The feature names should match those that were passed "
                "during fit.\nFeature names unseen at fit time:\n- z\nFeature names seen at "
                "fit time, yet now missing:\n- b\n"),
    "missing": (["a", "b"], "The feature names should match those that were passed during "
                "fit.\nFeature names seen at fit time, yet now missing:\n- c\n"),
    "unexpected": (["a", "b", "c", "d"], "The feature names should match those that were "
                   "passed during fit.\nFeature names unseen at fit time:\n- d\n"),
    "many_unseen": ([f"x{i}" for i in range(7)], "The feature names should match those that "
                    "were passed during fit.\nFeature names unseen at fit time:\n- x0\n- x1\n"
                    "- x2\n- x3\n- x4\n- ...\nFeature names seen at fit time, yet now "
                    "missing:\n- a\n- b\n- c\n"),
}


@pytest.mark.parametrize("case", NAME_MISMATCHES)
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_predict_refuses_other_column_names(case, kind, pd):
    columns, message = NAME_MISMATCHES[case]
    frame = pd.DataFrame(RNG.normal(size=(5, len(columns))), columns=columns)
    est = _fitted(mg_sklearn, kind, pd.DataFrame(X, columns=NAMES))
    assert est.feature_names_in_.dtype == object and est.feature_names_in_.tolist() == NAMES
    methods = [est.predict, lambda F: est.score(F, np.zeros(5))]
    methods += [est.predict_proba, est.predict_log_proba] if kind == "clf" else []
    for method in methods:
        assert _raised(lambda: method(frame)) == (ValueError, message)
    _same_as_sklearn((ValueError, message), lambda: _fitted(
        sk_nn, kind, pd.DataFrame(X, columns=NAMES)).predict(frame))


def test_reordered_columns_no_longer_predict_silently(pd):
    """The issue's case: the same frame with its columns reordered was scored as if the order
    had not changed. The right order predicts as the array does, without a warning."""
    frame = pd.DataFrame(X, columns=NAMES)
    clf = _fitted(mg_sklearn, "clf", frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = clf.predict_proba(frame)
    np.testing.assert_array_equal(proba, _fitted(mg_sklearn, "clf", X).predict_proba(X))
    with pytest.raises(ValueError, match="same order"):
        clf.score(frame[["c", "b", "a"]], Y_CLF)


def _warned(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)
            and "feature names" in str(w.message)]


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_names_at_fit_xor_predict_warn(kind, pd):
    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    frame = pd.DataFrame(X, columns=NAMES)
    with_names, without = _fitted(mg_sklearn, kind, frame), _fitted(mg_sklearn, kind, X)
    assert not hasattr(without, "feature_names_in_")
    cases = [(with_names, X, f"X does not have valid feature names, but {name} was fitted "
                             "with feature names"),
             (without, frame, f"X has feature names, but {name} was fitted without feature "
                              "names"),
             (with_names, pd.DataFrame(X), f"X does not have valid feature names, but {name} "
                                           "was fitted with feature names")]  # int names
    for est, data, message in cases:
        with pytest.warns(UserWarning, match=re.escape(message)):
            est.predict(data)
        assert _warned(lambda: est.predict(data)) == [message]
    if sk_nn is not None:
        theirs = (_fitted(sk_nn, kind, frame), _fitted(sk_nn, kind, X))
        for est, (_, data, message) in zip(theirs + theirs[:1], cases):
            assert _warned(lambda: est.predict(data)) == [message]


def test_refit_without_names_forgets_them_and_warm_start_checks_them(pd):
    frame = pd.DataFrame(X, columns=NAMES)
    clf = _fitted(mg_sklearn, "clf", frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=mg_sklearn.ConvergenceWarning)
        clf.fit(X, Y_CLF)
        assert not hasattr(clf, "feature_names_in_")
        warm = _make(mg_sklearn, "clf").set_params(warm_start=True).fit(frame, Y_CLF)
        with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- z\n"):
            warm.fit(frame.rename(columns={"a": "z"}), Y_CLF)


def test_mixed_column_name_types_are_a_type_error(pd):
    mixed = pd.DataFrame(X, columns=["a", 1, "c"])
    message = ("Feature names are only supported if all input features have string names, "
               "but your input has ['int', 'str'] as feature name / column name types. If you "
               "want feature names to be stored and validated, you must convert them all to "
               "strings, by using X.columns = X.columns.astype(str) for example. Otherwise you "
               "can remove feature / column names from your input data, or convert them all "
               "to a non-string data type.")
    ours = _raised(lambda: _make(mg_sklearn, "clf").fit(mixed, Y_CLF))
    assert ours == (TypeError, message)
    _same_as_sklearn(ours, lambda: _make(sk_nn, "clf").fit(mixed, Y_CLF))
    clf = _fitted(mg_sklearn, "clf", pd.DataFrame(X, columns=NAMES))
    assert _raised(lambda: clf.predict(mixed)) == (TypeError, message)


def _with_na(pd, dtype: str):
    frame = pd.DataFrame(X, columns=NAMES)
    if dtype == "Int64":
        frame["c"] = pd.array(np.arange(40), dtype="Int64")
    elif dtype == "boolean":
        frame["c"] = pd.array(Y_CLF.astype(bool), dtype="boolean")
    else:
        frame = frame.astype(dtype)
    frame.iloc[2, 2] = pd.NA
    return frame


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "boolean"])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_pd_na_in_a_dataframe_is_a_nan(dtype, kind, pd):
    frame = _with_na(pd, dtype)
    y = Y_CLF if kind == "clf" else Y_REG
    ours = _raised(lambda: _make(mg_sklearn, kind).fit(frame, y))
    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    assert ours == (ValueError, f"Input X contains NaN.\n{name} does not accept missing values "
                                "encoded as NaN natively.")
    _same_as_sklearn(ours, lambda: _make(sk_nn, kind).fit(frame, y))
    est = _fitted(mg_sklearn, kind, pd.DataFrame(X, columns=NAMES))
    assert _raised(lambda: est.predict(frame))[1].startswith("Input X contains NaN.")


def test_nullable_frame_without_na_trains_as_its_array(pd, backend):
    frame = pd.DataFrame(X, columns=NAMES).astype("Float64")
    a, b = _fitted(mg_sklearn, "clf", frame), _fitted(mg_sklearn, "clf", X)
    for ca, cb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(a.predict_proba(frame), b.predict_proba(X))


def test_pd_na_in_an_object_column_is_scikit_learns_type_error(pd):
    """An object column is not a nullable numeric one: scikit-learn calls float() on its
    values and so fails on pd.NA with a TypeError; micrograd does the same."""
    frame = pd.DataFrame(X, columns=NAMES).astype(object)
    frame.iloc[2, 1] = pd.NA
    ours = _raised(lambda: _make(mg_sklearn, "clf").fit(frame, Y_CLF))
    assert ours[0] is TypeError and "NAType" in ours[1]
    _same_as_sklearn(ours, lambda: _make(sk_nn, "clf").fit(frame, Y_CLF))


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean"])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_pd_na_in_a_target_series_is_a_nan(dtype, kind, pd):
    y = pd.Series(Y_CLF, dtype=dtype)
    y[3] = pd.NA
    ours = _raised(lambda: _make(mg_sklearn, kind).fit(X, y))
    assert ours == (ValueError, "Input y contains NaN.")
    _same_as_sklearn(ours, lambda: _make(sk_nn, kind).fit(X, y))


def test_nullable_target_series_without_na_trains_as_its_array(pd):
    a = _fitted(mg_sklearn, "clf", X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = _make(mg_sklearn, "clf").fit(X, pd.Series(Y_CLF, dtype="Int64"))
    assert b.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_sample_weight_series_with_na_is_a_nan(pd):
    sw = pd.Series(ONES, dtype="Float64")
    sw[5] = pd.NA
    ours = _raised(lambda: _make(mg_sklearn, "reg").fit(X, Y_REG, sample_weight=sw))
    assert ours == (ValueError, "Input sample_weight contains NaN.")
    _same_as_sklearn(ours, lambda: _make(sk_nn, "reg").fit(X, Y_REG, sample_weight=sw))
