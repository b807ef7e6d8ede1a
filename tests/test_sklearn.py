"""micrograd.sklearn: MLPClassifier / MLPRegressor with and without scikit-learn installed."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from micrograd.data import load_digits, make_blobs, make_moons, make_regression
from micrograd.sklearn import ConvergenceWarning, MLPClassifier, MLPRegressor, NotFittedError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # ConvergenceWarning on toy fits

SKLEARN_PARAMS = ["hidden_layer_sizes", "activation", "solver", "alpha", "batch_size",
                  "learning_rate", "learning_rate_init", "power_t", "max_iter", "shuffle",
                  "random_state", "tol", "verbose", "warm_start", "momentum",
                  "nesterovs_momentum", "early_stopping", "validation_fraction", "beta_1",
                  "beta_2", "epsilon", "n_iter_no_change", "max_fun"]


def _blobs(n=200, centers=3, seed=0):
    return make_blobs(n_samples=n, centers=centers, cluster_std=1.0, random_state=seed)


def test_parameters_and_defaults_match_scikit_learn():
    """scikit-learn's parameters and defaults, plus micrograd's one: compile=True."""
    params = MLPClassifier().get_params()
    assert sorted(params) == sorted(SKLEARN_PARAMS + ["compile"]) and params["compile"] is True
    assert sorted(MLPRegressor().get_params()) == sorted(SKLEARN_PARAMS + ["loss", "compile"])
    sk = pytest.importorskip("sklearn.neural_network", reason="scikit-learn not installed")
    for ours, theirs in ((MLPClassifier(), sk.MLPClassifier()),
                         (MLPRegressor(), sk.MLPRegressor())):
        params = ours.get_params()
        del params["compile"]
        assert params == theirs.get_params()


def test_fitted_attributes_multiclass():
    X, y = _blobs()
    clf = MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=30, learning_rate_init=0.05,
                        random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(2, 8), (8, 6), (6, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (6,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert clf.n_features_in_ == 2 and clf.classes_.tolist() == [0, 1, 2]
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30 and clf.t_ == 30 * 200
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 3) and np.allclose(proba.sum(1), 1)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert np.array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert clf.score(X, y) > 0.9


def test_one_epoch_matches_hand_computed_gradient_descent():
    """Full batch, no shuffling, plain SGD: one epoch is one step of W -= lr * (dL/dW + a W/n)
    with L = mean cross-entropy of softmax(relu(X W1 + b1) W2 + b2). float64 X trains in
    float64, so it agrees to float64's rounding."""
    X, y = _blobs(n=40, centers=3, seed=1)
    lr, alpha = 0.05, 0.01
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, batch_size=40,
                        shuffle=False, learning_rate_init=lr, alpha=alpha, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    W1, W2 = (c.astype(np.float64) for c in clf.coefs_)
    b1, b2 = (b.astype(np.float64) for b in clf.intercepts_)
    clf.partial_fit(X, y)
    n = len(X)
    h_pre = X @ W1 + b1
    h = np.maximum(h_pre, 0)
    z = h @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(3)[y]
    loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * alpha * (
        (W1 ** 2).sum() + (W2 ** 2).sum()) / n
    dz = (p - onehot) / n
    dW2, db2 = h.T @ dz + alpha * W2 / n, dz.sum(0)
    dh = (dz @ W2.T) * (h_pre > 0)
    dW1, db1 = X.T @ dh + alpha * W1 / n, dh.sum(0)
    np.testing.assert_allclose(clf.loss_, loss, rtol=1e-12)
    for got, before, grad in [(clf.coefs_[0], W1, dW1), (clf.coefs_[1], W2, dW2),
                              (clf.intercepts_[0], b1, db1), (clf.intercepts_[1], b2, db2)]:
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, before - lr * grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("solver, activation, binary", [("sgd", "relu", False),
                                                      ("adam", "tanh", False),
                                                      ("sgd", "logistic", True)])
def test_one_epoch_matches_scikit_learn_from_the_same_weights(solver, activation, binary):
    sk = pytest.importorskip("sklearn.neural_network", reason="scikit-learn not installed")
    X, y = _blobs(n=60, centers=3, seed=3)
    if binary:
        y = (y == 1).astype(int)
    kw = dict(hidden_layer_sizes=(6, 4), activation=activation, solver=solver, momentum=0.5,
              batch_size=60, shuffle=False, learning_rate_init=0.01, alpha=0.01,
              random_state=0)
    ours = MLPClassifier(**kw)
    ours.partial_fit(X, y, classes=np.unique(y))  # builds the network (and trains one epoch)
    theirs = sk.MLPClassifier(**kw, max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y)  # builds its network; now give it ours
        theirs.coefs_ = [c.astype(np.float64) for c in ours.coefs_]
        theirs.intercepts_ = [b.astype(np.float64) for b in ours.intercepts_]
        ours.set_params(max_iter=1, warm_start=True).fit(X, y)  # a fresh optimizer, as theirs
        theirs.fit(X, y)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-12)
    # mg.optim.Adam is PyTorch's Adam: eps is added to sqrt(v) / sqrt(1 - beta2^t), where
    # scikit-learn adds it to sqrt(v); steps differ where |grad| ~ eps (a first Adam step
    # moves each weight by ~lr), so allow 2% of lr there. Both train float64 X in float64.
    rtol, atol = (1e-4, 2e-2 * kw["learning_rate_init"]) if solver == "adam" else (1e-10, 1e-14)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_binary_string_labels():
    X, y = make_moons(200, noise=0.1, random_state=0)
    labels = np.array(["cat", "dog"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0, batch_size=20,
                        learning_rate_init=0.01).fit(X, labels)
    assert clf.classes_.tolist() == ["cat", "dog"]
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert clf.coefs_[-1].shape == (16, 1)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(1), 1)
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= {"cat", "dog"}
    assert np.array_equal(pred == "dog", proba[:, 1] > 0.5)
    assert clf.score(X, labels) > 0.95


def test_multilabel_indicator_targets():
    X, y = _blobs(n=300, centers=4, seed=2)
    Y = np.column_stack([y % 2, y // 2, (y == 3)]).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, learning_rate_init=0.01,
                        random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    assert clf.classes_.tolist() == [0, 1, 2]
    pred, proba = clf.predict(X), clf.predict_proba(X)
    assert pred.shape == proba.shape == (300, 3)
    assert set(np.unique(pred)) <= {0, 1}
    assert np.array_equal(pred, (proba > 0.5).astype(int))
    assert clf.score(X, Y) > 0.9  # exact-match accuracy


def test_regressor_single_and_multi_output():
    X, y = make_regression(n_samples=300, n_features=5, n_informative=3, noise=1.0,
                           random_state=0)
    y = y / y.std()
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01,
                       random_state=0).fit(X, y)
    assert reg.out_activation_ == "identity" and reg.n_outputs_ == 1
    assert reg.predict(X).shape == (300,) and reg.score(X, y) > 0.95
    Y = np.column_stack([y, -2 * y])
    reg2 = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01,
                        random_state=0).fit(X, Y)
    assert reg2.predict(X).shape == (300, 2) and reg2.n_outputs_ == 2
    assert reg2.score(X, Y) > 0.95


def test_regressor_loss_is_half_mse():
    X, y = make_regression(n_samples=50, n_features=3, random_state=1)
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", batch_size=50, shuffle=False,
                       learning_rate_init=1e-9, alpha=0.0, random_state=0)
    reg.partial_fit(X, y)
    before = reg.predict(X)  # lr ~ 0: the weights barely moved
    reg.partial_fit(X, y)
    np.testing.assert_allclose(reg.loss_, 0.5 * np.mean((y - before) ** 2), rtol=1e-4)


def test_reproducible_with_random_state_and_different_without():
    X, y = _blobs()
    a = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=3).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=3).fit(X, y)
    c = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=4).fit(X, y)
    assert np.array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    rs = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5,
                       random_state=np.random.RandomState(0)).fit(X, y)
    assert rs.coefs_[0].shape == (2, 5)


def test_partial_fit_and_warm_start():
    X, y = _blobs()
    clf = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    first = clf.loss_
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.loss_ < first and len(clf.loss_curve_) == 21 and clf.n_iter_ == 1
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X, y, classes=[0, 1, 5])
    with pytest.raises(ValueError, match="labels not seen"):
        clf.partial_fit(X, np.full(len(y), 7))
    warm = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, warm_start=True,
                         random_state=0).fit(X, y)
    w0 = warm.coefs_[0].copy()
    warm.fit(X, y)
    assert len(warm.loss_curve_) == 10 and warm.t_ == 10 * len(X)
    assert not np.array_equal(w0, warm.coefs_[0])
    cold = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=0).fit(X, y)
    cold.fit(X, y)
    assert len(cold.loss_curve_) == 5  # without warm_start every fit starts afresh
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_early_stopping_tracks_validation_and_restores_best():
    X, y = _blobs(n=300)
    clf = MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, max_iter=60,
                        validation_fraction=0.2, random_state=0).fit(X, y)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.01).fit(X[:20], y[:20])


def test_stopping_on_tol_and_convergence_warning():
    X, y = _blobs()
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=500, tol=10.0, n_iter_no_change=2,
                        random_state=0).fit(X, y)
    # epoch 1 sets best_loss_; no later epoch beats best_loss_ - tol, so the count of bad
    # epochs exceeds n_iter_no_change at epoch n_iter_no_change + 2 (scikit-learn's rule)
    assert clf.n_iter_ == 4


def test_sgd_learning_rate_schedules():
    X, y = _blobs()
    inv = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", learning_rate="invscaling",
                        learning_rate_init=0.1, power_t=0.5, max_iter=4,
                        random_state=0).fit(X, y)
    assert inv._optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / (inv.t_ + 1) ** 0.5)
    ada = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive",
                        learning_rate_init=0.1, tol=100.0, n_iter_no_change=1, max_iter=6,
                        random_state=0).fit(X, y)
    # no epoch improves by tol: the bad-epoch count passes n_iter_no_change=1 at epochs 3
    # and 5, and each time 'adaptive' divides lr by 5 instead of stopping
    assert ada._optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 5 ** 2)
    assert ada.n_iter_ == 6


def test_sample_weight_zero_equals_dropping_rows():
    X, y = _blobs(n=60)
    w = np.ones(60)
    w[::3] = 0
    kw = dict(hidden_layer_sizes=(6,), max_iter=20, batch_size=60, random_state=0,
              shuffle=False)
    a = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    b = MLPClassifier(**kw, ).fit(X[w > 0], y[w > 0])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="non-zero"):
        MLPClassifier().fit(X, y, sample_weight=np.zeros(60))


@pytest.mark.parametrize("params, match", [
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(activation="softplus"), "activation"),
    (dict(solver="lbfgs"), "lbfgs"),
    (dict(solver="newton"), "solver"),
    (dict(alpha=-1.0), "alpha"),
    (dict(batch_size=0), "batch_size"),
    (dict(learning_rate="fast"), "learning_rate"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(momentum=1.5), "momentum"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(beta_1=1.0), "beta_1"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(n_iter_no_change=0), "n_iter_no_change"),
    (dict(shuffle="yes"), "shuffle"),
    (dict(random_state="seed"), "random_state"),
])
def test_invalid_parameters_name_the_parameter(params, match):
    X, y = _blobs(n=20)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_input_errors():
    X, y = _blobs(n=30)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(NotFittedError, match="not fitted"):
        clf.predict(X)
    with pytest.raises(ValueError, match="Expected 2D array"):
        clf.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(np.where(X > 5, np.nan, X), y)
    with pytest.raises(ValueError, match="infinity"):
        clf.fit(np.where(X > 5, np.inf, X), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        clf.fit(X, None)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        clf.fit(X, y + 0.5)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="0 sample"):
        clf.fit(X[:0], y[:0])
    clf.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 2"):
        clf.predict(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="sparse"):
        sparse = pytest.importorskip("scipy.sparse", reason="scipy not installed")
        clf.fit(sparse.csr_matrix(X), y)


def test_pickle_round_trip_keeps_predictions_and_training_state():
    X, y = _blobs()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    back.partial_fit(X, y)  # the Adam state survives pickling (keyed by the parameters)
    assert back._optimizer.state[back._model[0].weight]["step"] == 11 * 1


NO_SKLEARN_SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["sklearn"] = None  # make `import sklearn` fail, as when it is not installed
    import numpy as np
    from micrograd import sklearn as est
    from micrograd.data import make_blobs
    assert not est.HAVE_SKLEARN
    X, y = make_blobs(n_samples=150, centers=3, random_state=0)
    clf = est.MLPClassifier(hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.05,
                            random_state=0)
    assert "hidden_layer_sizes=(8,)" in repr(clf) and "alpha" not in repr(clf), repr(clf)
    clf.set_params(alpha=0.001)
    assert clf.get_params()["alpha"] == 0.001
    try:
        clf.set_params(bogus=1)
    except ValueError as e:
        assert "Invalid parameter 'bogus'" in str(e)
    else:
        raise AssertionError("set_params accepted a bogus name")
    try:
        clf.predict(X)
    except est.NotFittedError:
        pass
    assert clf.fit(X, y).score(X, y) > 0.9
    reg = est.MLPRegressor(hidden_layer_sizes=(8,), max_iter=200, learning_rate_init=0.05,
                           random_state=0)
    assert reg.fit(X, X[:, 0]).score(X, X[:, 0]) > 0.8
    print("ok")
""")


def test_works_without_scikit_learn():
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, "-c", NO_SKLEARN_SCRIPT], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---- inside scikit-learn's tools ---------------------------------------------------------------
def test_clone_pipeline_cross_val_and_grid_search():
    pytest.importorskip("sklearn", reason="scikit-learn not installed")
    from sklearn.base import clone, is_classifier, is_regressor
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = load_digits(return_X_y=True, n_class=4)
    X = X / 16
    clf = MLPClassifier(hidden_layer_sizes=(20,), max_iter=30, learning_rate_init=0.01,
                        random_state=0)
    assert is_classifier(clf) and is_regressor(MLPRegressor())
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    assert pipe.score(X, y) > 0.95
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85
    grid = GridSearchCV(clf, {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(10,), (20,)]},
                        cv=2).fit(X, y)
    assert set(grid.best_params_) == {"alpha", "hidden_layer_sizes"}
    assert grid.best_score_ > 0.85


def test_digits_accuracy_within_a_point_of_scikit_learn():
    pytest.importorskip("sklearn", reason="scikit-learn not installed")
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLP
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
    settings = dict(hidden_layer_sizes=(100, 50), activation="relu", max_iter=300,
                    random_state=42)
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency
    with warnings.catch_warnings(), threadpool_limits(1):  # BLAS threads thrash on busy CI
        warnings.simplefilter("ignore")
        ours = MLPClassifier(**settings).fit(X_train, y_train).score(X_test, y_test)
        theirs = SkMLP(**settings).fit(X_train, y_train).score(X_test, y_test)
    assert ours >= theirs - 0.01, (ours, theirs)
    assert ours > 0.95


def _sklearn_checks():
    """scikit-learn's estimator checks, every one expected to pass (float64 input trains in
    float64, so the sample-weight equivalence check's rtol=1e-7 holds)."""
    try:
        from sklearn.utils.estimator_checks import parametrize_with_checks
    except ImportError:
        return pytest.mark.skip(reason="scikit-learn not installed")
    return parametrize_with_checks(
        [MLPClassifier(max_iter=100, random_state=0), MLPRegressor(max_iter=200, random_state=0),
         MLPClassifier(solver="sgd", learning_rate="adaptive", max_iter=100, random_state=0)])


@_sklearn_checks()
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
