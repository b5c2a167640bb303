"""``scoring``, ``restore_best_weights`` and what ReduceOnPlateau may watch.

The references are independent of sklr's code paths: scikit-learn's own
scorers (``get_scorer(name)(estimator, X, y)``) on the same weights, the
weights of a fit stopped by ``max_iter`` at the best epoch, scikit-learn's
stopping rule replayed on the recorded values, and Keras' ``EarlyStopping``
on the same monitor sequences.
"""

import math
import os
import pickle
import sys
import types
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer, make_scorer, mean_absolute_error

from sklr import MLPClassifier, MLPRegressor
from sklr.schedules import ReduceOnPlateau

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _digits(n=600):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n]


def _split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


# -- every supported scorer gives what scikit-learn's gives -------------------

_BINARY = ["accuracy", "balanced_accuracy", "roc_auc", "neg_log_loss", "average_precision",
           "f1", "precision", "recall", "jaccard", "matthews_corrcoef", "neg_brier_score",
           "d2_log_loss_score", "d2_brier_score", "top_k_accuracy"]
_MULTICLASS = ["accuracy", "balanced_accuracy", "neg_log_loss", "roc_auc_ovr", "roc_auc_ovo",
               "roc_auc_ovr_weighted", "roc_auc_ovo_weighted", "f1_macro", "f1_micro",
               "f1_weighted", "precision_macro", "precision_weighted", "recall_macro",
               "recall_weighted", "jaccard_macro", "jaccard_micro", "jaccard_weighted",
               "matthews_corrcoef", "top_k_accuracy", "d2_log_loss_score"]
_MULTILABEL = ["accuracy", "f1_samples", "f1_micro", "f1_macro", "jaccard_samples",
               "precision_samples", "recall_samples", "roc_auc", "average_precision"]
_REGRESSION = ["r2", "explained_variance", "neg_mean_squared_error",
               "neg_root_mean_squared_error", "neg_mean_absolute_error",
               "neg_median_absolute_error", "neg_max_error",
               "neg_mean_absolute_percentage_error", "d2_absolute_error_score"]


def _classification(kind, dtype=np.float64, labels=None):
    if kind == "multilabel":
        rng = np.random.RandomState(0)
        X = rng.normal(size=(300, 6))
        Y = np.stack([X[:, 0] + X[:, 1] > 0, X[:, 2] > 0.3, X[:, 3] - X[:, 4] > 0],
                     axis=1).astype(int)
        return X.astype(dtype), Y
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5,
                               n_classes=2 if kind == "binary" else 4, random_state=0)
    if labels is not None:
        y = np.asarray(labels)[y]
    return X.astype(dtype), y


def _check_against_sklearn(est, names, X_val, y_val, sw_val=None, prefix="val_"):
    for name in names:
        kwargs = {} if sw_val is None else {"sample_weight": sw_val}
        expected = get_scorer(name)(est, X_val, y_val, **kwargs)
        got = est.history_[prefix + name][-1]
        assert got == expected, (name, got, expected)


@pytest.mark.parametrize("kind, names", [("binary", _BINARY), ("multiclass", _MULTICLASS),
                                         ("multilabel", _MULTILABEL)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_scorers_match_scikit_learn(kind, names, dtype):
    X, y = _classification(kind, dtype)
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                        scoring=names, record_train_score=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UndefinedMetricWarning of an untrained net
        clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
        _check_against_sklearn(clf, names, X_val, y_val)
        _check_against_sklearn(clf, names, X_tr, y_tr, prefix="")
    # The estimator's own score is still recorded, under its old keys.
    assert clf.history_["val_score"][-1] == clf.score(X_val, y_val)


def test_string_labels_and_pos_label():
    X, y = _classification("binary", labels=["no", "yes"])
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    scoring = {"f1_no": make_scorer(get_scorer("f1")._score_func, pos_label="no"),
               "roc_auc": "roc_auc", "neg_log_loss": "neg_log_loss"}
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                        scoring=scoring).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    for name, scorer in scoring.items():
        assert clf.history_["val_" + name][-1] == get_scorer(scorer)(clf, X_val, y_val)


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_scorers_match_scikit_learn(n_outputs):
    X, y = make_regression(n_samples=300, n_features=6, n_targets=n_outputs, noise=5.0,
                           random_state=0)
    y = y / np.std(y)
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    names = _REGRESSION if n_outputs == 1 else ["r2", "neg_mean_squared_error",
                                                "neg_mean_absolute_error"]
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                       scoring=names).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    _check_against_sklearn(reg, names, X_val, y_val)


def test_poisson_regressor_deviance_scorers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0])) + 0.5  # > 0 for the gamma deviance
    names = ["neg_mean_poisson_deviance", "neg_mean_gamma_deviance", "r2"]
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                       scoring=names).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    _check_against_sklearn(reg, names, X_val, y_val)


def test_sample_weight_val_reaches_the_scorers():
    X, y = _classification("multiclass")
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    sw = np.random.RandomState(1).uniform(0.1, 3.0, size=len(y_val))
    names = ["accuracy", "neg_log_loss", "f1_macro", "roc_auc_ovr"]
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0, scoring=names)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val, sample_weight_val=sw)
    _check_against_sklearn(clf, names, X_val, y_val, sw_val=sw)
    # Weighted and unweighted differ, so the weights did reach them.
    assert clf.history_["val_neg_log_loss"][-1] != get_scorer("neg_log_loss")(
        clf, X_val, y_val)


def test_a_callable_scorer_replaces_the_score():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    y = y / np.std(y)
    X_tr, y_tr, X_val, y_val = _split(X, y, 150)
    mae = make_scorer(mean_absolute_error, greater_is_better=False)
    seen = []

    def plain(estimator, X, y):  # not a scikit-learn scorer: called on the estimator
        seen.append(estimator)
        return -float(np.max(np.abs(estimator.predict(X) - y)))

    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=4, random_state=0, scoring=mae,
                       record_train_score=True).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert sorted(k for k in reg.history_ if "score" in k) == ["score", "val_score"]
    assert reg.history_["val_score"][-1] == mae(reg, X_val, y_val) < 0
    assert reg.history_["score"][-1] == mae(reg, X_tr, y_tr)
    reg2 = MLPRegressor(hidden_layer_sizes=(6,), max_iter=4, random_state=0,
                        scoring={"max_err": plain}).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert all(e is reg2 for e in seen) and len(seen) == 4
    assert reg2.history_["val_max_err"][-1] == plain(reg2, X_val, y_val)


def test_one_forward_pass_per_epoch_and_data_set():
    """The scikit-learn scorers share the epoch's forward pass (the cost claim)."""
    X, y = _classification("binary")
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    calls = []

    class Counting(MLPClassifier):
        def _forward_pass_fast(self, X, check_input=True):
            calls.append(X.shape[0])
            return super()._forward_pass_fast(X, check_input)

    names = ["roc_auc", "neg_log_loss", "accuracy", "f1", "neg_brier_score"]
    Counting(hidden_layer_sizes=(4,), max_iter=3, random_state=0, scoring=names,
             record_train_score=True).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert sorted(calls) == sorted([100] * 3 + [200] * 3)


def test_default_records_what_it_always_did():
    X, y = _digits(300)
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    clf = MLPClassifier(max_iter=2, random_state=0, record_train_score=True)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert sorted(clf.history_) == ["learning_rate", "loss", "momentum", "score", "time",
                                    "val_loss", "val_score"]
    named = MLPClassifier(max_iter=2, random_state=0, record_train_score=True,
                          scoring=["roc_auc_ovr", "loss"])
    named.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert sorted(named.history_) == ["learning_rate", "loss", "momentum", "roc_auc_ovr",
                                      "score", "time", "val_loss", "val_roc_auc_ovr",
                                      "val_score"]
    # The same trajectory: scoring only measures.
    assert_array_equal(named.history_["val_loss"], clf.history_["val_loss"])


@pytest.mark.parametrize(
    "scoring, match",
    [
        ("accuracy_typo", "neither 'loss' nor a scorer name"),
        (["accuracy", "accuracy"], "unique strings"),
        ([], "unique strings"),
        (["accuracy", len], "unique strings"),
        ({}, "map names"),
        ({"acc": 3}, "scorer name or a callable"),
        ({"loss": "accuracy"}, "'loss' names the fit's own loss"),
        ({"l": "loss"}, "'loss' names the fit's own loss"),
        ({"learning_rate": "accuracy"}, "is taken"),
        ({"val_acc": "accuracy"}, "is taken"),
        ({"grad_norm_layer0": "accuracy"}, "is taken"),
        (mean_absolute_error, "looks like it is a metric"),
    ],
)
def test_bad_scoring_raises(scoring, match):
    X, y = _digits(100)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=1, scoring=scoring).fit(X, y)


def test_bad_scoring_type_raises():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'scoring' parameter"):
        MLPClassifier(scoring=3).fit(*_digits(100))
    with pytest.raises(InvalidParameterError, match="'restore_best_weights' parameter"):
        MLPClassifier(restore_best_weights="yes").fit(*_digits(100))


def test_a_scorer_returning_a_dict_raises():
    X, y = _digits(200)
    with pytest.raises(TypeError, match="must return one number"):
        MLPClassifier(max_iter=1, early_stopping=True,
                      scoring={"two": lambda est, X, y: {"a": 1.0}}).fit(X, y)


# -- early stopping watches the first metric ------------------------------------


def _sklearn_stop_epoch(values, tol, n_iter_no_change):
    """scikit-learn's rule on a greater-is-better sequence: the epoch (1-based)
    after which the count of epochs without an improvement of tol exceeds
    n_iter_no_change."""
    best, count = -np.inf, 0
    for epoch, value in enumerate(values, start=1):
        count = count + 1 if value < best + tol else 0
        best = max(best, value)
        if count > n_iter_no_change:
            return epoch
    return None


def test_early_stopping_on_the_validation_loss():
    X, y = _digits(500)
    X_tr, y_tr, X_val, y_val = _split(X, y, 400)
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.3,
                        early_stopping=True, n_iter_no_change=3, max_iter=200,
                        random_state=0, scoring="loss").fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    val_loss = clf.history_["val_loss"]
    assert clf.n_iter_ < 200
    assert_array_equal(clf.validation_scores_, -val_loss)
    assert clf.best_validation_score_ == -val_loss.min()
    assert _sklearn_stop_epoch(-val_loss, clf.tol, 3) == clf.n_iter_
    # The best epoch's weights are restored (scikit-learn's default).
    assert np.argmin(val_loss) < clf.n_iter_ - 1
    assert_allclose(clf._objective(X_val, clf._encode_targets(y_val), None),
                    val_loss.min(), rtol=1e-12)


def test_the_first_metric_decides_and_the_others_only_record():
    X, y = _digits(1000)
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.2,
              early_stopping=True, n_iter_no_change=2, max_iter=100, random_state=0)
    alone = MLPClassifier(scoring="neg_log_loss", **kw).fit(X, y)
    first = MLPClassifier(scoring=["neg_log_loss", "accuracy"], **kw).fit(X, y)
    second = MLPClassifier(scoring=["accuracy", "neg_log_loss"], **kw).fit(X, y)
    default = MLPClassifier(**kw).fit(X, y)
    assert first.n_iter_ == alone.n_iter_
    assert_array_equal(first.coefs_[0], alone.coefs_[0])
    assert_array_equal(first.validation_scores_, first.history_["val_neg_log_loss"])
    # 'accuracy' as the first metric stops exactly as the default (the
    # estimator's score is accuracy), through scikit-learn's scorer.
    assert second.n_iter_ == default.n_iter_
    assert_array_equal(second.validation_scores_, default.validation_scores_)
    assert_array_equal(second.coefs_[0], default.coefs_[0])
    assert alone.n_iter_ != default.n_iter_  # the two monitors do differ here


def test_regressor_r2_scoring_stops_as_the_default():
    X, y = make_regression(n_samples=300, n_features=5, noise=10.0, random_state=0)
    y = y / np.std(y)
    kw = dict(hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=3,
              max_iter=300, random_state=0, learning_rate_init=0.01)
    default = MLPRegressor(**kw).fit(X, y)
    r2 = MLPRegressor(scoring="r2", **kw).fit(X, y)
    assert default.n_iter_ == r2.n_iter_ < 300
    assert_allclose(r2.validation_scores_, default.validation_scores_, rtol=1e-12)


# -- restore_best_weights --------------------------------------------------------


def _fit_quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_restore_best_weights_without_early_stopping():
    X, y = _digits(500)
    X_tr, y_tr, X_val, y_val = _split(X, y, 350)
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.5, max_iter=25,
              random_state=0, scoring="neg_log_loss")
    best = _fit_quiet(MLPClassifier(restore_best_weights=True, **kw),
                      X_tr, y_tr, X_val=X_val, y_val=y_val)
    last = _fit_quiet(MLPClassifier(**kw), X_tr, y_tr, X_val=X_val, y_val=y_val)
    values = best.history_["val_neg_log_loss"]
    k = int(np.argmax(values))
    assert k < len(values) - 1  # the best epoch is not the last one here
    # Re-evaluation of the restored weights gives the best recorded value...
    assert get_scorer("neg_log_loss")(best, X_val, y_val) == values.max()
    # ...and they are the weights of the same fit stopped after epoch k + 1.
    stopped = _fit_quiet(MLPClassifier(**{**kw, "max_iter": k + 1}),
                         X_tr, y_tr, X_val=X_val, y_val=y_val)
    for a, b in zip(best.coefs_ + best.intercepts_, stopped.coefs_ + stopped.intercepts_):
        assert_array_equal(a, b)
    # The default ('auto', no early stopping) keeps the last weights.
    assert get_scorer("neg_log_loss")(last, X_val, y_val) == values[-1]


def test_restore_best_weights_on_the_training_loss():
    X, y = _digits(300)
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=1.5, max_iter=15,
              random_state=0, momentum=0.95)
    best = _fit_quiet(MLPClassifier(restore_best_weights=True, **kw), X, y)
    k = int(np.argmin(best.loss_curve_))
    assert k < len(best.loss_curve_) - 1
    stopped = _fit_quiet(MLPClassifier(**{**kw, "max_iter": k + 1}), X, y)
    assert_array_equal(best.coefs_[0], stopped.coefs_[0])


def test_restore_best_weights_false_keeps_the_last_weights_with_early_stopping():
    X, y = _digits(500)
    X_tr, y_tr, X_val, y_val = _split(X, y, 350)
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.3,
              early_stopping=True, n_iter_no_change=3, random_state=0)
    last = MLPClassifier(restore_best_weights=False, **kw).fit(
        X_tr, y_tr, X_val=X_val, y_val=y_val)
    auto = MLPClassifier(**kw).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    scores = last.history_["val_score"]
    assert scores[-1] < scores.max()
    assert last.score(X_val, y_val) == scores[-1]
    assert auto.score(X_val, y_val) == scores.max() == auto.best_validation_score_


def test_restore_best_weights_needs_a_stochastic_solver():
    with pytest.raises(ValueError, match="restore_best_weights=True needs a stochastic"):
        MLPClassifier(solver="lbfgs", restore_best_weights=True).fit(*_digits(100))


def test_lbfgs_records_the_scoring():
    X, y = _digits(300)
    X_tr, y_tr, X_val, y_val = _split(X, y, 200)
    clf = _fit_quiet(MLPClassifier(solver="lbfgs", max_iter=5, random_state=0,
                                   scoring=["neg_log_loss", "f1_macro"]),
                     X_tr, y_tr, X_val=X_val, y_val=y_val)
    _check_against_sklearn(clf, ["neg_log_loss", "f1_macro"], X_val, y_val)


# -- ReduceOnPlateau on any recorded key ------------------------------------------


def test_plateau_on_a_scorer_key_is_maximised_and_fed_the_record():
    X, y = _digits(500)
    X_tr, y_tr, X_val, y_val = _split(X, y, 350)
    plateau = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0,
                              monitor="val_neg_log_loss")
    clf = _fit_quiet(MLPClassifier(hidden_layer_sizes=(16,), solver="sgd",
                                   learning_rate_init=0.5, max_iter=20, random_state=0,
                                   scoring="neg_log_loss", learning_rate=plateau),
                     X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert clf._state.feedback[0]["mode"] == "max"
    # The rates are what the pure rule gives on the recorded values, maximised.
    values = clf.history_["val_neg_log_loss"]
    expected = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0, monitor="v",
                               mode="max").preview(len(values), monitored=values)
    assert_allclose(clf.history_["learning_rate"], 0.5 * expected, rtol=1e-15)
    assert expected.min() < 1  # it did reduce


@pytest.mark.parametrize(
    "params, fit_kw, match",
    [
        (dict(monitor="val_roc_auc_ovr"), dict(scoring="roc_auc_ovr"), "needs validation data"),
        (dict(monitor="roc_auc_ovr"), dict(scoring="roc_auc_ovr"), "record_train_score=True"),
        (dict(monitor="grad_norm_mean"), dict(clip_norm=np.inf), "cannot tell"),
        (dict(monitor="val_f1"), dict(early_stopping=True), "cannot tell"),
    ],
)
def test_plateau_monitor_checks(params, fit_kw, match):
    X, y = _digits(200)
    clf = MLPClassifier(max_iter=2, learning_rate=ReduceOnPlateau(**params), **fit_kw)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_plateau_on_any_key_with_an_explicit_mode():
    X, y = _digits(200)
    plateau = ReduceOnPlateau(monitor="grad_norm_mean", mode="min", patience=0, factor=0.5)
    clf = _fit_quiet(MLPClassifier(max_iter=6, clip_norm=np.inf, random_state=0,
                                   learning_rate=plateau), X, y)
    norms = clf.history_["grad_norm_mean"]
    expected = clone_plateau(plateau).preview(len(norms), monitored=norms)
    assert_allclose(clf.history_["learning_rate"], 1e-3 * expected, rtol=1e-15)


def clone_plateau(p):
    from sklearn.base import clone

    return clone(p)


# Hand sequences: PyTorch's counting with a baseline and a warm-up.
#            e0   e1   e2   e3   e4   e5   e6   e7
_SEQ = [5.0, 4.0, 3.5, 3.4, 3.3, 3.3, 2.0, 2.0]


@pytest.mark.parametrize(
    "params, expected",
    [
        # No baseline, patience 1: e4 improves, e5 bad, e6 improves, e7 bad -> no 2 in a row.
        (dict(), [1.0] * 8),
        # Baseline 3.0: e0..e5 never beat it, so each counts as bad; reduce after
        # e1 (2 bad > 1), cleared; after e3, after e5; e6 beats it (count 0), e7 bad.
        (dict(baseline=3.0), [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]),
        # start_from_epoch=3: e0..e2 ignored; e3 is the first best.
        (dict(baseline=3.0, start_from_epoch=3), [1, 1, 1, 1, 1, 0.5, 0.5, 0.5]),
    ],
)
def test_plateau_baseline_and_start_by_hand_pytorch(params, expected):
    s = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0, monitor="loss", **params)
    assert_allclose(s.preview(len(_SEQ), monitored=_SEQ), expected, rtol=1e-15)


def test_plateau_start_from_epoch_ignores_the_first_epochs():
    s = ReduceOnPlateau(patience=0, threshold=0.0, monitor="loss", start_from_epoch=2)
    state = s.init_state()
    for value in (1.0, 9.0):
        state = s.update(state, value)
    assert state["best"] == math.inf and state["epochs"] == 2 and state["scale"] == 1.0
    state = s.update(state, 9.0)
    assert state["best"] == 9.0


def test_plateau_mode_override_and_old_states():
    s = ReduceOnPlateau(monitor="val_loss", mode="max", patience=0, threshold=0.0)
    assert s.init_state()["best"] == -math.inf
    assert s.update(s.init_state(), 1.0)["best"] == 1.0
    # A state saved before 'mode' and 'epochs' existed.
    old = {"best": 2.0, "bad_epochs": 0, "cooldown_counter": 0, "scale": 1.0}
    new = ReduceOnPlateau(monitor="val_score", patience=0, factor=0.5).update(old, 1.0)
    assert new["mode"] == "max" and new["scale"] == 0.5
    with pytest.raises(ValueError, match="cannot tell"):
        ReduceOnPlateau(monitor="val_f1").init_state()
    assert ReduceOnPlateau(monitor="val_f1", mode="max").init_state()["mode"] == "max"


# -- Keras EarlyStopping: baseline and start_from_epoch --------------------------


def _keras():
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "torch"
    pytest.importorskip("torch")
    return pytest.importorskip("keras")


def _keras_early_stopping(values, mode, **params):
    """Keras' EarlyStopping on a value sequence: the stopping epoch and its wait."""
    keras = _keras()
    callback = keras.callbacks.EarlyStopping(monitor="m", mode=mode, **params)
    callback.set_model(types.SimpleNamespace(stop_training=False))
    callback.on_train_begin()
    waits = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"m": float(value)})
        waits.append(callback.wait)
        if callback.model.stop_training:
            return epoch, waits
    return None, waits


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("seed", range(6))
def test_keras_convention_stops_where_keras_early_stopping_does(seed):
    """With cooldown 0, the first reduction of patience_convention='keras' is
    the epoch Keras' EarlyStopping stops at, and the counts agree until then,
    for baselines and warm-ups too."""
    rng = np.random.default_rng(seed)
    n_compared = 0
    for mode in ("min", "max"):
        drift = -0.02 if mode == "min" else 0.02
        values = np.round(np.cumsum(rng.normal(drift, 0.05, 50)) + 3, 2)
        for patience in (1, 3, 5):
            # Off the values' 0.01 grid: Keras compares in float32, so a
            # difference equal to the threshold could go either way.
            for min_delta in (0.0, 0.025):
                for baseline in (None, values[0] + 4 * drift + 0.005,
                                 values[0] + 20 * drift + 0.005):
                    for start in (0, 4):
                        stop, waits = _keras_early_stopping(
                            values, mode, patience=patience, min_delta=min_delta,
                            baseline=baseline, start_from_epoch=start)
                        s = ReduceOnPlateau(
                            factor=0.5, patience=patience, threshold=min_delta,
                            threshold_mode="abs", monitor="m", mode=mode, baseline=baseline,
                            start_from_epoch=start, patience_convention="keras")
                        state, first = s.init_state(), None
                        for epoch, value in enumerate(values):
                            state = s.update(state, value)
                            if epoch >= start:
                                assert state["bad_epochs"] == waits[epoch] or (
                                    state["scale"] < 1), (epoch, state, waits[epoch])
                            if state["scale"] < 1:
                                first = epoch
                                break
                        assert first == stop
                        n_compared += stop is not None
    assert n_compared > 20  # many cases do stop


class _Capture:
    """A checkpoint callable keeping each save as pickle bytes."""

    def __init__(self):
        self.saved = {}

    def __call__(self, est, epoch):
        self.saved[epoch] = pickle.dumps(est)

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.saved = {}


def test_a_fit_resumed_from_a_checkpoint_restores_the_same_best_epoch():
    """The best epoch so far travels with a checkpoint saved mid-fit."""
    from sklr import Checkpoint

    X, y = _digits(500)
    X_tr, y_tr, X_val, y_val = _split(X, y, 350)
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.5, max_iter=20,
              random_state=0, scoring="neg_log_loss", restore_best_weights=True)
    reference = _fit_quiet(MLPClassifier(**kw), X_tr, y_tr, X_val=X_val, y_val=y_val)
    best = int(np.argmax(reference.history_["val_neg_log_loss"]))
    capture = _Capture()
    _fit_quiet(MLPClassifier(**kw, checkpoint=Checkpoint(capture, every=4)),
               X_tr, y_tr, X_val=X_val, y_val=y_val)
    # Saved after the best epoch, before the end: the best is in the save.
    epoch = min(e for e in capture.saved if best + 1 < e < reference.n_iter_)
    resumed = pickle.loads(capture.saved[epoch])
    _fit_quiet(resumed.set_params(warm_start=True), X_tr, y_tr, X_val=X_val, y_val=y_val)
    for a, b in zip(resumed.coefs_ + resumed.intercepts_,
                    reference.coefs_ + reference.intercepts_):
        assert_array_equal(a, b)
