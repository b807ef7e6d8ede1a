"""micrograd.sklearn's precision follows scikit-learn's MLP (``dtype=(np.float64, np.float32)``:
float32 X trains in float32 and keeps float32 coefs_, any other X trains in float64; predict
promotes X with the coefs as NumPy does), and its training step runs through
``micrograd.compile`` by default with bitwise the same result as ``compile=False``."""
from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd.sklearn import MLPClassifier, MLPRegressor

try:
    from sklearn import neural_network as sk_nn
except ImportError:
    sk_nn = None

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
Y = {"clf": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0), "reg": X[:, 0] - 2 * X[:, 1]}
KW = dict(hidden_layer_sizes=(5,), max_iter=4, random_state=0)


def _make(lib, kind: str, **kw):
    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    return getattr(lib, name)(**{**KW, **kw})


def _fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ConvergenceWarning on 4 epochs
        warnings.simplefilter("error", RuntimeWarning)  # compile's fallback must not show
        return est.fit(*args, **kw)


def _frame(kind: str):
    pd = pytest.importorskip("pandas", reason="pandas not installed")
    if kind == "float32":
        return pd.DataFrame(X.astype(np.float32), columns=list("abc"))
    if kind == "mixed":  # a float32 and a float64 column: NumPy's promotion, float64
        return pd.DataFrame({"a": X[:, 0].astype(np.float32), "b": X[:, 1]})
    return pd.DataFrame(X, columns=list("abc")).astype("Float32")  # nullable, no NA


# input name -> (X, the dtype scikit-learn trains it in)
INPUTS = {
    "float32": (lambda: X.astype(np.float32), np.float32),
    "float64": (lambda: X, np.float64),
    "float16": (lambda: X.astype(np.float16), np.float64),
    "int64": (lambda: (X * 10).astype(np.int64), np.float64),
    "int8": (lambda: (X * 10).astype(np.int8), np.float64),
    "bool": (lambda: X > 0, np.float64),
    "list_of_float32": (lambda: X.astype(np.float32).tolist(), np.float64),
    "pandas_float32": (lambda: _frame("float32"), np.float32),
    "pandas_mixed": (lambda: _frame("mixed"), np.float64),
    "pandas_nullable_Float32": (lambda: _frame("nullable"), np.float64),
}


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("name", INPUTS)
def test_training_precision_is_scikit_learns(name, kind):
    make, expected = INPUTS[name]
    data = make()
    ours = _fit(_make(mg.sklearn, kind), data, Y[kind])
    assert {a.dtype for a in ours.coefs_ + ours.intercepts_} == {np.dtype(expected)}
    out = ours.predict_proba(data) if kind == "clf" else ours.predict(data)
    assert out.dtype == expected
    assert np.isfinite(out).all()
    if sk_nn is not None:
        theirs = _fit(_make(sk_nn, kind), data, Y[kind])
        assert [c.dtype for c in ours.coefs_ + ours.intercepts_] == \
            [c.dtype for c in theirs.coefs_ + theirs.intercepts_]
        theirs_out = theirs.predict_proba(data) if kind == "clf" else theirs.predict(data)
        assert out.dtype == theirs_out.dtype


# (the model's training data, the data predicted on) -> output dtype: X @ coefs_ as NumPy
PREDICT_CASES = {
    "float32_model_float64_X": (np.float32, np.float64, np.float64),
    "float32_model_int64_X": (np.float32, np.int64, np.float64),
    "float32_model_int8_X": (np.float32, np.int8, np.float32),
    "float32_model_bool_X": (np.float32, np.bool_, np.float32),
    "float64_model_float32_X": (np.float64, np.float32, np.float64),
}


@pytest.mark.parametrize("case", PREDICT_CASES)
def test_prediction_precision_is_numpys_promotion_as_in_scikit_learn(case, backend):
    fit_dtype, x_dtype, expected = PREDICT_CASES[case]
    Xp = (X * 10).astype(x_dtype) if x_dtype is not np.bool_ else X > 0
    for kind in ("clf", "reg"):
        est = _fit(_make(mg.sklearn, kind), X.astype(fit_dtype), Y[kind])
        out = est.predict_proba(Xp) if kind == "clf" else est.predict(Xp)
        assert out.dtype == expected, (kind, out.dtype)
        if kind == "clf":
            assert est.predict_log_proba(Xp).dtype == expected
        if sk_nn is not None:
            theirs = _fit(_make(sk_nn, kind), X.astype(fit_dtype), Y[kind])
            assert (theirs.predict_proba(Xp) if kind == "clf" else theirs.predict(Xp)).dtype \
                == out.dtype


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_float64_input_really_trains_in_float64(kind, backend):
    """Same seed, same data: the float64 fit is not the float32 fit widened (its weights are
    not float32 numbers), and the two predict differently."""
    a = _fit(_make(mg.sklearn, kind), X, Y[kind])
    b = _fit(_make(mg.sklearn, kind), X.astype(np.float32), Y[kind])
    for c64, c32 in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert c64.dtype == np.float64 and c32.dtype == np.float32
        np.testing.assert_allclose(c64, c32, rtol=1e-3, atol=1e-4)  # the same training
        assert not np.array_equal(c64, c32.astype(np.float64))
        assert not np.array_equal(c64, c64.astype(np.float32).astype(np.float64))


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_values_beyond_float32_train_in_float64(kind, backend):
    """1e39 is finite in float64, where scikit-learn trains it: accepted, finite model."""
    for data in (X * 1e39, np.where(X > 1.5, -4e38, X)):
        ours = _fit(_make(mg.sklearn, kind), data, Y[kind])
        assert ours.coefs_[0].dtype == np.float64
        assert all(np.isfinite(c).all() for c in ours.coefs_ + ours.intercepts_)
        if sk_nn is not None:
            _fit(_make(sk_nn, kind), data, Y[kind])  # scikit-learn accepts it too
    reg = _fit(_make(mg.sklearn, "reg"), X, Y["reg"] * 1e39)  # targets too
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_keep_scikit_learns_error_in_both_precisions(dtype, bad):
    data = X.astype(dtype)
    data[3, 1] = bad
    what = "NaN" if np.isnan(bad) else f"infinity or a value too large for {np.dtype(dtype)!r}."
    match = "^" + re.escape(f"Input X contains {what}")
    for kind in ("clf", "reg"):
        with pytest.raises(ValueError, match=match):
            _make(mg.sklearn, kind).fit(data, Y[kind])
        if sk_nn is not None:
            with pytest.raises(ValueError, match=match):
                _make(sk_nn, kind).fit(data, Y[kind])


@pytest.mark.parametrize("first, then", [(np.float64, np.float32), (np.float32, np.float64)])
def test_partial_fit_and_warm_start_keep_the_first_precision(first, then, backend):
    """As scikit-learn: the network keeps the dtype of the fit that built it."""
    clf = _make(mg.sklearn, "clf")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf.partial_fit(X.astype(first), Y["clf"], classes=[0, 1, 2])
        clf.partial_fit(X.astype(then), Y["clf"])
    assert {c.dtype for c in clf.coefs_} == {np.dtype(first)}
    warm = _fit(_make(mg.sklearn, "reg", warm_start=True), X.astype(first), Y["reg"])
    _fit(warm, X.astype(then), Y["reg"])
    assert {c.dtype for c in warm.coefs_ + warm.intercepts_} == {np.dtype(first)}
    cold = _fit(_make(mg.sklearn, "reg"), X.astype(first), Y["reg"])
    _fit(cold, X.astype(then), Y["reg"])  # a new fit: the new data's precision
    assert {c.dtype for c in cold.coefs_} == {np.dtype(then)}
    if sk_nn is not None:
        theirs = _make(sk_nn, "clf")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.partial_fit(X.astype(first), Y["clf"], classes=[0, 1, 2])
            theirs.partial_fit(X.astype(then), Y["clf"])
        assert theirs.coefs_[0].dtype == first


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_early_stopping_sample_weight_and_names_in_both_precisions(dtype, backend):
    pd = pytest.importorskip("pandas", reason="pandas not installed")
    frame = pd.DataFrame(X.astype(dtype), columns=list("abc"))
    sw = RNG.uniform(0.5, 2.0, len(X))
    clf = _fit(_make(mg.sklearn, "clf", early_stopping=True, max_iter=8), frame, Y["clf"],
               sample_weight=sw)
    assert clf.coefs_[0].dtype == dtype and len(clf.validation_scores_) == clf.n_iter_
    assert clf.feature_names_in_.tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        clf.predict(frame[["c", "b", "a"]])
    reg = _fit(_make(mg.sklearn, "reg", batch_size=16), frame, Y["reg"], sample_weight=sw)
    assert reg.predict(frame).dtype == dtype and reg.score(frame, Y["reg"]) > -1


# ---- compile: on by default, bitwise equal to eager, never a warning -------------------------
def _coefs(est) -> list[np.ndarray]:
    return [c.copy() for c in est.coefs_ + est.intercepts_]


def _assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


CONFIGS = {
    "adam_relu": dict(solver="adam"),
    "sgd_nesterov_tanh": dict(solver="sgd", activation="tanh", learning_rate_init=0.05),
    "sgd_invscaling_logistic": dict(solver="sgd", learning_rate="invscaling", momentum=0.0,
                                    activation="logistic", learning_rate_init=0.1),
    "adam_identity_two_layers": dict(solver="adam", activation="identity",
                                     hidden_layer_sizes=(6, 4)),
    "sgd_adaptive_early_stopping": dict(solver="sgd", learning_rate="adaptive",
                                        early_stopping=True),
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["clf", "binary", "multilabel", "reg"])
def test_compile_on_and_off_give_bitwise_equal_models(kind, config, dtype, weighted, backend):
    y = {"clf": Y["clf"], "binary": Y["clf"] > 0, "reg": Y["reg"],
         "multilabel": np.stack([X[:, 0] > 0, X[:, 2] > 0], axis=1).astype(int)}[kind]
    sw = RNG.uniform(0.1, 3.0, len(X)) if weighted else None
    kw = dict(KW, batch_size=16, max_iter=6, **CONFIGS[config])
    est = MLPRegressor if kind == "reg" else MLPClassifier
    on = _fit(est(**kw), X.astype(dtype), y, sample_weight=sw)
    off = _fit(est(compile=False, **kw), X.astype(dtype), y, sample_weight=sw)
    assert on.compile is True and off.compile is False
    assert on.loss_curve_ == off.loss_curve_ and on.n_iter_ == off.n_iter_
    _assert_same(_coefs(on), _coefs(off))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_compile_partial_fit_pickle_and_continue(solver, backend):
    """partial_fit keeps one compiled step across calls; a pickled estimator drops it and
    records anew after loading. Every stage equals the eager estimator's."""
    on = _make(mg.sklearn, "clf", solver=solver, batch_size=16)
    off = _make(mg.sklearn, "clf", solver=solver, batch_size=16, compile=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for est in (on, off):
            for _ in range(4):
                est.partial_fit(X, Y["clf"], classes=[0, 1, 2])
        _assert_same(_coefs(on), _coefs(off))
        on, off = pickle.loads(pickle.dumps(on)), pickle.loads(pickle.dumps(off))
        for est in (on, off):
            for _ in range(3):
                est.partial_fit(X, Y["clf"])
    _assert_same(_coefs(on), _coefs(off))
    np.testing.assert_array_equal(on.predict_proba(X), off.predict_proba(X))


def test_partial_fit_on_chunks_of_many_sizes_stays_silent_and_equal(backend):
    """Streaming chunks of ever new sizes (more than compile keeps plans for): each size is
    recorded or runs as recorded, never compile's fallback warning, and the eager result."""
    on = _make(mg.sklearn, "reg", batch_size=16)
    off = _make(mg.sklearn, "reg", batch_size=16, compile=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for est in (on, off):
            for size in [*range(20, 36), 20, 21, 20, 21, 20, 21]:
                est.partial_fit(X[:size], Y["reg"][:size])
    assert len(on._steps) <= 4
    _assert_same(_coefs(on), _coefs(off))


def test_compile_is_a_parameter_scikit_learn_tools_keep():
    clf = MLPClassifier(compile=False)
    assert clf.get_params()["compile"] is False and "compile=False" in repr(clf)
    assert clf.set_params(compile=True).compile is True
    with pytest.raises(ValueError, match="'compile' parameter must be a bool, got 'yes'"):
        MLPRegressor(compile="yes").fit(X, Y["reg"])
    base = pytest.importorskip("sklearn.base", reason="scikit-learn not installed")
    assert base.clone(MLPRegressor(compile=False)).compile is False


def test_anomaly_mode_trains_eagerly_without_a_warning():
    """micrograd.compile does not record in anomaly mode (it would warn and run eagerly); the
    estimator runs the step eagerly itself, with the same result."""
    plain = _fit(_make(mg.sklearn, "reg"), X, Y["reg"])
    with mg.autograd.detect_anomaly():
        checked = _fit(_make(mg.sklearn, "reg"), X, Y["reg"])
    _assert_same(_coefs(plain), _coefs(checked))
