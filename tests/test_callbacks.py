"""scikit-learn's callback API (``sklearn.callback``) on sklr's estimators.

The first part exercises the helper layer (``sklr._callbacks``) on two small
estimators written here, one per kind of training loop sklr has: an epoch loop
(gradient descent) and ``scipy.optimize.minimize``'s L-BFGS. The second part
checks the public behaviour of ``MLPClassifier``/``MLPRegressor``:
``set_callbacks(ProgressBar())`` shows a fit's progress, ``ScoringMonitor``
records one score per epoch equal to the score of a model refitted for that
many epochs, a callback can stop training, callbacks propagate from
``GridSearchCV``, callbacks do not change what is learned, and clone, pickle
and scikit-learn's estimator checks are unaffected. Without ``sklearn.callback``
(scikit-learn < 1.9) the estimators still fit and have no ``set_callbacks``.
"""

import importlib
import os
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import estimator_checks_generator
from sklearn.utils.validation import validate_data

import sklr
from sklr import MLPClassifier, MLPRegressor
from sklr import _callbacks
from sklr._compat import _fit_context

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin, ProgressBar, ScoringMonitor
except ImportError:  # only the tests of the fallback run
    CallbackSupportMixin = ProgressBar = ScoringMonitor = None

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
needs_callback_api = pytest.mark.skipif(
    not _callbacks.HAS_CALLBACKS, reason="scikit-learn < 1.9 has no sklearn.callback"
)

# Estimator attributes that only exist while a fit runs.
FIT_TIME_ATTRS = {"_sklr_fit_callbacks", "_callback_fit_ctx", "_skl_callbacks_to_teardown"}


# --- Callbacks written for the tests -----------------------------------------


class Recorder:
    """Records every hook call; optionally asks to stop after epoch ``stop_at``."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.events = []

    def setup(self, estimator, context):
        self.events.append(("setup", type(estimator).__name__, context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None):
        self.events.append(("begin", type(estimator).__name__, context.task_name))

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        root = context
        while root.parent is not None:
            root = root.parent
        self.events.append({
            "hook": "end",
            "estimator": type(estimator).__name__,
            "task_name": context.task_name,
            "task_id": context.task_id,
            "root_estimator": root.estimator_name,
            "is_leaf": context.max_subtasks == 0,
            "X": X,
            "y": y,
            "metadata": metadata,
            "fitted_estimator": fitted_estimator,
        })
        return (
            self.stop_at is not None
            and context.max_subtasks == 0
            and context.task_id + 1 >= self.stop_at
        )

    def teardown(self, estimator, context):
        self.events.append(("teardown", type(estimator).__name__, context.task_name))

    def ends(self, task_name):
        return [
            e for e in self.events if isinstance(e, dict) and e["task_name"] == task_name
        ]

    def count(self, hook):
        return sum(1 for e in self.events if isinstance(e, tuple) and e[0] == hook)


class AutoRecorder(Recorder):
    """A Recorder that a meta-estimator propagates to the estimators it fits."""

    max_propagation_depth = None


# --- The helper layer, on small estimators written here -----------------------


def _make_least_squares(cb):
    """A least-squares regressor using the helper module ``cb`` (reloadable)."""

    class LeastSquares(cb._CallbackSupport, RegressorMixin, BaseEstimator):
        """Least squares, by gradient descent (one step an epoch) or L-BFGS."""

        _parameter_constraints: dict = {}

        def __init__(self, max_iter=10, learning_rate=0.05, solver="gd"):
            self.max_iter = max_iter
            self.learning_rate = learning_rate
            self.solver = solver

        @_fit_context(prefer_skip_nested_validation=True)
        def fit(self, X, y, sample_weight=None, fail_at=None):
            X, y = validate_data(self, X, y)
            max_subtasks = self.max_iter + (self.solver == "lbfgs")
            with cb.fit_callbacks(self, X, y, sample_weight, max_subtasks=max_subtasks):
                self._train(X, y, sample_weight, fail_at)
            return self

        def _loss_grad(self, w, X, y, sw):
            r = X @ w - y
            return 0.5 * np.average(r**2, weights=sw), X.T @ (r * sw) / sw.sum()

        def _train(self, X, y, sample_weight, fail_at):
            sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
            callbacks = cb.current_callbacks(self)
            w = np.zeros(X.shape[1])
            if self.solver == "lbfgs":
                n_iter = [0]

                def callback(intermediate_result):
                    n_iter[0] += 1
                    callbacks.lbfgs_step(lambda: {
                        "coef_": intermediate_result.x.copy(), "n_iter_": n_iter[0]})

                callbacks.begin_epoch("iteration")
                res = scipy.optimize.minimize(
                    self._loss_grad, w, args=(X, y, sw), jac=True, method="L-BFGS-B",
                    callback=callback, options={"maxiter": self.max_iter, "gtol": 1e-12},
                )
                self.coef_, self.n_iter_ = res.x, res.nit
                self.stopped_by_callback_ = callbacks.lbfgs_stopped
                return
            self.coef_ = w
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                callbacks.begin_epoch()
                if self.n_iter_ == fail_at:
                    raise RuntimeError("failing on purpose")
                self.coef_ = self.coef_ - self.learning_rate * self._loss_grad(
                    self.coef_, X, y, sw)[1]
                self.n_iter_ += 1
                if callbacks.end_epoch(
                    lambda: {"coef_": self.coef_.copy(), "n_iter_": self.n_iter_}
                ):
                    break

        def predict(self, X):
            return validate_data(self, X, reset=False) @ self.coef_

    return LeastSquares


LeastSquares = _make_least_squares(_callbacks)


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_regression(n_samples=60, n_features=20, noise=1.0, random_state=0)
    X *= np.linspace(0.2, 3.0, X.shape[1])  # ill-conditioned: L-BFGS takes a while
    return X, y


@needs_callback_api
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_helpers_do_nothing_without_callbacks(regression_data, solver):
    X, y = regression_data
    est = LeastSquares(solver=solver)
    with _callbacks.fit_callbacks(est, X, y, max_subtasks=3) as cb:
        assert cb is _callbacks.NO_CALLBACKS
        assert _callbacks.current_callbacks(est) is _callbacks.NO_CALLBACKS
    assert _callbacks.current_callbacks(est) is _callbacks.NO_CALLBACKS
    est.fit(X, y)
    assert not FIT_TIME_ATTRS & set(vars(est))
    # set_callbacks() with nothing clears them.
    est.set_callbacks(Recorder()).set_callbacks()
    assert "_skl_callbacks" not in vars(est)


@needs_callback_api
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_helpers_scores_match_refits(regression_data, solver):
    """ScoringMonitor's score of each epoch is that of a refit for that many epochs."""
    X, y = regression_data
    max_iter = 6
    monitor = ScoringMonitor(scoring="r2")
    est = LeastSquares(max_iter=max_iter, solver=solver).set_callbacks(monitor)
    est.fit(X, y)
    sub = "iteration" if solver == "lbfgs" else "epoch"
    rows = [r for r in monitor.get_logs().data if r["task_name"] == sub]
    assert [r["task_id"] for r in rows] == list(range(max_iter)) == list(range(est.n_iter_))
    scores = [LeastSquares(max_iter=k + 1, solver=solver).fit(X, y).score(X, y)
              for k in range(max_iter)]
    assert_allclose([r["r2"] for r in rows], scores, rtol=1e-10)
    assert len(set(scores)) == max_iter  # the test can tell the epochs apart
    (root,) = [r for r in monitor.get_logs().data if r["task_name"] == "fit"]
    assert_allclose(root["r2"], est.score(X, y))
    assert not FIT_TIME_ATTRS & set(vars(est))


@needs_callback_api
def test_helpers_hook_sequence(regression_data):
    X, y = regression_data
    rec = Recorder()
    sw = np.full(len(y), 2.0)
    LeastSquares(max_iter=3).set_callbacks(rec).fit(X, y, sample_weight=sw)
    kinds = [e[0] if isinstance(e, tuple) else e["hook"] for e in rec.events]
    assert kinds == ["setup", "begin"] + ["begin", "end"] * 3 + ["end", "teardown"]
    for end in rec.ends("epoch") + rec.ends("fit"):
        assert end["X"] is not None and end["y"] is not None
        assert_array_equal(end["metadata"]["sample_weight"], sw)
        # The fitted copies hold their own state and not the running fit's.
        assert _callbacks.current_callbacks(end["fitted_estimator"]) is _callbacks.NO_CALLBACKS
    epochs = [e["fitted_estimator"] for e in rec.ends("epoch")]
    assert [e.n_iter_ for e in epochs] == [1, 2, 3]
    assert not np.allclose(epochs[0].coef_, epochs[1].coef_)


@needs_callback_api
def test_helpers_lbfgs_hook_sequence(regression_data):
    """As scikit-learn's L-BFGS bridge: one more iteration task, closed empty."""
    X, y = regression_data
    rec = Recorder()
    est = LeastSquares(max_iter=4, solver="lbfgs").set_callbacks(rec).fit(X, y)
    ends = rec.ends("iteration")
    assert len(ends) == est.n_iter_ + 1 == 5
    assert all(e["fitted_estimator"] is not None for e in ends[:-1])
    assert ends[-1]["fitted_estimator"] is None and ends[-1]["X"] is None


@needs_callback_api
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_helpers_stop_request(regression_data, solver):
    if solver == "lbfgs" and not _callbacks._SCIPY_CALLBACK_CAN_STOP:
        pytest.skip("scipy < 1.11 cannot stop minimize from its callback")
    X, y = regression_data
    est = LeastSquares(max_iter=8, solver=solver).set_callbacks(Recorder(stop_at=3))
    est.fit(X, y)
    assert est.n_iter_ == 3
    if solver == "lbfgs":
        assert est.stopped_by_callback_
        assert_allclose(est.coef_, LeastSquares(max_iter=3, solver=solver).fit(X, y).coef_)


@needs_callback_api
def test_helpers_teardown_after_failed_fit(regression_data):
    X, y = regression_data
    rec = Recorder()
    est = LeastSquares(max_iter=5).set_callbacks(rec)
    with pytest.raises(RuntimeError, match="on purpose"):
        est.fit(X, y, fail_at=2)
    assert rec.count("setup") == rec.count("teardown") == 1
    assert not FIT_TIME_ATTRS & set(vars(est))
    est.fit(X, y)  # and fits again
    assert rec.count("teardown") == 2


@needs_callback_api
def test_helpers_more_epochs_than_announced(regression_data):
    """Epochs past max_subtasks are not reported rather than failing the fit."""
    X, y = regression_data
    rec = Recorder()
    est = LeastSquares(max_iter=3).set_callbacks(rec)
    with _callbacks.fit_callbacks(est, X, y, max_subtasks=2) as cb:
        for _ in range(3):
            cb.begin_epoch()
            assert cb.end_epoch({}) is False
    assert len(rec.ends("epoch")) == 2


def test_no_callbacks_object_pickles_as_itself():
    none = _callbacks.NO_CALLBACKS
    assert pickle.loads(pickle.dumps(none)) is none


@needs_callback_api
def test_helpers_without_sklearn_callback(regression_data, monkeypatch):
    """scikit-learn < 1.9: the mixin adds nothing and the helpers do nothing."""
    X, y = regression_data
    saved = dict(vars(_callbacks))
    try:
        monkeypatch.setitem(sys.modules, "sklearn.callback", None)
        cb = importlib.reload(_callbacks)
        assert not cb.HAS_CALLBACKS
        assert cb._CallbackSupport is not CallbackSupportMixin
        Old = _make_least_squares(cb)
        est = Old(max_iter=3).fit(X, y)
        assert not hasattr(est, "set_callbacks")
        assert est.n_iter_ == 3
        # Even with callbacks smuggled in, nothing is called.
        est._skl_callbacks = [Recorder()]
        est.fit(X, y)
        assert est._skl_callbacks[0].events == []
    finally:
        vars(_callbacks).clear()
        vars(_callbacks).update(saved)
    assert _callbacks.HAS_CALLBACKS
    assert _callbacks._CallbackSupport is CallbackSupportMixin


# --- sklr's estimators ----------------------------------------------------------


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=120, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=120, n_features=6, noise=5.0, random_state=0)
    return X, y / y.std()


SMALL = dict(hidden_layer_sizes=(7,), random_state=0)

CONFIGS = {
    "adam": dict(learning_rate_init=0.01),
    "sgd": dict(solver="sgd", learning_rate_init=0.05),
    "lbfgs": dict(solver="lbfgs"),
    "early-stopping": dict(learning_rate_init=0.01, early_stopping=True,
                           validation_fraction=0.2, n_iter_no_change=50),
}


def _subtask_name(params):
    return "iteration" if params.get("solver") == "lbfgs" else "epoch"


@needs_callback_api
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_scoring_monitor_one_score_per_epoch(Estimator, config, clf_data, reg_data):
    """Each epoch's score is the score of the model refitted for that many epochs."""
    X, y = clf_data if Estimator is MLPClassifier else reg_data
    scoring = "neg_log_loss" if Estimator is MLPClassifier else "r2"
    params = dict(SMALL, **CONFIGS[config])
    max_iter = 4
    monitor = ScoringMonitor(scoring=scoring)
    est = Estimator(max_iter=max_iter, **params).set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs().data
    rows = [r for r in log if r["task_name"] == _subtask_name(params)]
    assert len(rows) == est.n_iter_ == max_iter
    scorer = check_scoring(est, scoring)
    expected = [scorer(Estimator(max_iter=k, **params).fit(X, y), X, y)
                for k in range(1, max_iter + 1)]
    assert len(set(expected)) > 1
    assert_allclose([r[scoring] for r in rows], expected, rtol=1e-9)
    (root,) = [r for r in log if r["task_name"] == "fit"]
    assert_allclose(root[scoring], scorer(est, X, y), rtol=1e-12)
    assert root["estimator_name"] == Estimator.__name__


@needs_callback_api
@pytest.mark.parametrize("config", ["adam", "lbfgs"])
def test_fitted_estimators_of_epochs_are_independent(config, clf_data):
    """A callback may keep an epoch's model: later epochs do not change it."""
    X, y = clf_data
    params = dict(SMALL, **CONFIGS[config])
    rec = Recorder()
    MLPClassifier(max_iter=3, **params).set_callbacks(rec).fit(X, y)
    models = [e["fitted_estimator"] for e in rec.ends(_subtask_name(params))][:3]
    for k, model in enumerate(models, start=1):
        refit = MLPClassifier(max_iter=k, **params).fit(X, y)
        assert_allclose(model.predict_proba(X), refit.predict_proba(X), rtol=1e-9)
        assert model.n_iter_ == k
        pickle.loads(pickle.dumps(model)).predict(X)
    assert all(np.array_equal(e["y"], y) for e in rec.ends("fit"))  # the labels, not codes


@needs_callback_api
@pytest.mark.parametrize("config", list(CONFIGS))
def test_callbacks_do_not_change_training(config, clf_data):
    X, y = clf_data
    params = dict(SMALL, **CONFIGS[config])
    plain = MLPClassifier(max_iter=5, **params).fit(X, y)
    watched = MLPClassifier(max_iter=5, **params).set_callbacks(
        Recorder(), ScoringMonitor(scoring="accuracy")).fit(X, y)
    cleared = MLPClassifier(max_iter=5, **params).set_callbacks(Recorder()).set_callbacks()
    cleared.fit(X, y)
    for other in (watched, cleared):
        assert_array_equal(other.history_["loss"], plain.history_["loss"])
        for a, b in zip(other.coefs_ + other.intercepts_, plain.coefs_ + plain.intercepts_):
            assert_array_equal(a, b)
        assert other.n_iter_ == plain.n_iter_
        assert not FIT_TIME_ATTRS & set(vars(other))
    if config != "lbfgs":
        assert_array_equal(watched.loss_curve_, plain.loss_curve_)


@needs_callback_api
@pytest.mark.parametrize("config", ["adam", "sgd", "lbfgs"])
def test_callback_stops_training(config, clf_data):
    if config == "lbfgs" and not _callbacks._SCIPY_CALLBACK_CAN_STOP:
        pytest.skip("scipy < 1.11 cannot stop minimize from its callback")
    X, y = clf_data
    params = dict(SMALL, **CONFIGS[config])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPClassifier(max_iter=20, **params).set_callbacks(Recorder(stop_at=3))
        est.fit(X, y)
    assert est.n_iter_ == 3
    assert len(est.history_["loss"]) == 3
    refit = MLPClassifier(max_iter=3, **params).fit(X, y)
    assert_allclose(est.predict_proba(X), refit.predict_proba(X), rtol=1e-9)


@needs_callback_api
def test_training_stopped_by_tol_reports_its_epochs(clf_data):
    X, y = clf_data
    rec = Recorder()
    est = MLPClassifier(max_iter=50, tol=10.0, n_iter_no_change=1, **SMALL)
    est.set_callbacks(rec).fit(X, y)
    assert est.n_iter_ < 50
    assert len(rec.ends("epoch")) == est.n_iter_
    assert rec.count("teardown") == 1


@needs_callback_api
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_partial_fit_is_one_task_of_one_epoch(Estimator, clf_data, reg_data):
    X, y = clf_data if Estimator is MLPClassifier else reg_data
    rec = Recorder()
    est = Estimator(**SMALL).set_callbacks(rec)
    extra = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    for _ in range(3):
        est.partial_fit(X, y, **extra)
    assert rec.count("setup") == rec.count("teardown") == 3
    assert len(rec.ends("partial_fit")) == 3
    epochs = rec.ends("epoch")
    assert len(epochs) == 3
    assert [e["fitted_estimator"].n_iter_ for e in epochs] == [1, 1, 1]
    assert [e["fitted_estimator"].t_ for e in epochs] == [len(y), 2 * len(y), 3 * len(y)]
    assert not FIT_TIME_ATTRS & set(vars(est))


@needs_callback_api
def test_failed_fit_tears_callbacks_down(clf_data):
    X, y = clf_data
    rec = Recorder()
    est = MLPClassifier(**SMALL).set_callbacks(rec)
    with pytest.raises(ValueError):
        est.fit(X, y[:-1])
    assert rec.count("setup") == rec.count("teardown")
    assert not FIT_TIME_ATTRS & set(vars(est))


@needs_callback_api
def test_grid_search_propagates_callbacks(clf_data):
    """An auto-propagated callback set on GridSearchCV sees the MLPs' epochs."""
    X, y = clf_data
    rec = AutoRecorder()
    search = GridSearchCV(
        MLPClassifier(max_iter=2, **SMALL), {"alpha": [1e-4, 1e-2]}, cv=2
    ).set_callbacks(rec)
    search.fit(X, y)
    epochs = rec.ends("epoch")
    assert len(epochs) == (2 * 2 + 1) * 2  # (candidates x folds + refit) x epochs
    assert {e["estimator"] for e in epochs} == {"MLPClassifier"}
    assert {e["root_estimator"] for e in epochs} == {"GridSearchCV"}
    # Propagated callbacks are set up once, by the search, and removed afterwards.
    assert rec.count("setup") == rec.count("teardown") == 1
    assert "_skl_callbacks" not in vars(search.best_estimator_)


# --- ProgressBar (needs rich) ---------------------------------------------------


@needs_callback_api
@pytest.mark.parametrize("config", ["adam", "lbfgs"])
def test_progress_bar(config, clf_data, capsys):
    pytest.importorskip("rich")
    X, y = clf_data
    params = dict(SMALL, **CONFIGS[config])
    MLPClassifier(max_iter=4, **params).set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"MLPClassifier - fit", out)
    assert re.search(r"100%", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)


@needs_callback_api
def test_progress_bar_advances_one_step_per_epoch(clf_data):
    pytest.importorskip("rich")
    from sklearn.callback._progressbar import RichProgressMonitor

    X, y = clf_data
    records = []
    on_task_end = RichProgressMonitor._on_task_end

    def recording_on_task_end(self, task_info):
        on_task_end(self, task_info)
        records.append(self.root_rich_task.progress)

    max_iter = 5
    with mock.patch.object(RichProgressMonitor, "_on_task_end", recording_on_task_end):
        MLPClassifier(max_iter=max_iter, **SMALL).set_callbacks(ProgressBar()).fit(X, y)
    assert_allclose(records, [k / max_iter for k in range(1, max_iter + 1)] + [1.0])


@needs_callback_api
def test_progress_bar_partial_fit(clf_data, capsys):
    pytest.importorskip("rich")
    X, y = clf_data
    MLPClassifier(**SMALL).set_callbacks(ProgressBar()).partial_fit(X, y, classes=np.unique(y))
    out = capsys.readouterr().out
    assert re.search(r"MLPClassifier - partial_fit", out) and re.search(r"100%", out)


@needs_callback_api
def test_progress_bar_in_grid_search(clf_data, capsys):
    pytest.importorskip("rich")
    X, y = clf_data
    GridSearchCV(
        MLPClassifier(max_iter=2, **SMALL), {"alpha": [1e-4, 1e-2]}, cv=2
    ).set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"GridSearchCV - fit", out)
    assert re.search(r"GridSearchCV - candidate-split-evaluation \| MLPClassifier - fit", out)
    assert re.search(r"refit-with-best-params \| MLPClassifier - fit", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)


# --- clone, pickle, estimator checks --------------------------------------------


@needs_callback_api
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_clone_and_pickle_with_callbacks(Estimator, clf_data, reg_data):
    X, y = clf_data if Estimator is MLPClassifier else reg_data
    monitor = ScoringMonitor(scoring="r2" if Estimator is MLPRegressor else "accuracy")
    est = Estimator(max_iter=3, **SMALL).set_callbacks(monitor)
    params = est.get_params()
    assert "callbacks" not in params and "_skl_callbacks" not in params
    twin = clone(est)
    assert twin.get_params() == params
    assert twin._skl_callbacks == [monitor]  # shared, as scikit-learn's clone does
    restored = pickle.loads(pickle.dumps(est))
    assert len(restored._skl_callbacks) == 1
    est.fit(X, y)
    assert est.get_params() == params
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(restored.predict(X), est.predict(X))
    restored.fit(X, y)  # a restored estimator fits again with its callbacks
    assert not FIT_TIME_ATTRS & set(vars(restored))


CHECKS = {
    "check_no_attributes_set_in_init",
    "check_estimators_dtypes",
    "check_fit_score_takes_y",
    "check_estimators_pickle",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_partial_fit_n_features",
    "check_estimators_unfitted",
    "check_methods_sample_order_invariance",
}


def _checks():
    for Estimator in (MLPClassifier, MLPRegressor):
        for config in ("adam", "lbfgs"):
            est = Estimator(max_iter=5, **dict(SMALL, **CONFIGS[config]))
            if hasattr(est, "set_callbacks"):  # else the test fails, not the collection
                est.set_callbacks(Recorder())
            for estimator, check in estimator_checks_generator(est, mark=None):
                name = getattr(check, "func", check).__name__
                if name in CHECKS:
                    yield pytest.param(
                        estimator, check, id=f"{Estimator.__name__}-{config}-{name}")


@needs_callback_api
@pytest.mark.parametrize("estimator, check", list(_checks()))
def test_estimator_checks_with_callbacks(estimator, check):
    assert estimator._skl_callbacks
    check(estimator)


# --- scikit-learn without sklearn.callback ---------------------------------------


def test_estimators_without_sklearn_callback(tmp_path):
    """A fresh interpreter where sklearn.callback cannot be imported."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(sklr.__file__)))
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {root!r})
        # What scikit-learn itself imports from sklearn.callback, before it goes:
        # these modules import it at import time, _fit_context at each fit.
        try:
            import sklearn.callback._callback_support
        except ImportError:
            pass
        import sklearn.linear_model, sklearn.model_selection, sklearn.pipeline
        import sklearn.preprocessing
        sys.modules["sklearn.callback"] = None
        import warnings
        import numpy as np
        from sklearn.datasets import make_classification
        import sklr
        from sklr import _callbacks
        assert not _callbacks.HAS_CALLBACKS
        warnings.simplefilter("ignore")
        X, y = make_classification(n_samples=60, random_state=0)
        for solver in ("adam", "lbfgs"):
            clf = sklr.MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, solver=solver)
            clf.fit(X, y)
            assert not hasattr(clf, "set_callbacks")
        clf = sklr.MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X, y.astype(float))
        print("fallback ok")
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "fallback ok" in result.stdout
