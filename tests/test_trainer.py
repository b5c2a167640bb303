"""The training core: normalisation into a plan, the single state object,
rollback, and the user-facing messages of the trainer."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from sklr import MLPClassifier, MLPRegressor, schedules
from sklr._history import History
from sklr.optimizers import LBFGS, SGD, Adam, AdamW, Optimizer


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


# ---------------------------------------------------------------------------
# Normalisation: strings become objects through one registry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "nadam", "adamax", "rmsprop",
                                  "adagrad", "adadelta", "lbfgs"])
def test_every_solver_string_names_a_registered_class(name):
    from sklr.optimizers import _SOLVERS

    cls = _SOLVERS[name]
    assert cls._alias == name
    assert issubclass(cls, Optimizer) != (name == "lbfgs")


def test_string_solvers_read_scikit_learn_knobs():
    from sklr._plan import Plan

    est = MLPClassifier(solver="sgd", momentum=0.3, nesterovs_momentum=False)
    assert Plan(est, [5]).solver == SGD(momentum=0.3, nesterov=False)
    est = MLPClassifier(solver="adam", beta_1=0.8, beta_2=0.95, epsilon=1e-6)
    assert Plan(est, [5]).solver == Adam(beta_1=0.8, beta_2=0.95, epsilon=1e-6)
    est = MLPClassifier(solver="adamw", weight_decay=0.2)
    assert Plan(est, [5]).solver.weight_decay == 0.2
    assert Plan(MLPClassifier(solver="adamw"), [5]).solver == AdamW()


def test_momentum_bound_is_declared_by_the_optimizer(digits):
    X, y = digits
    # beta_1 = 1 is out of range for Adam, momentum = 1 allowed for SGD.
    ramp = schedules.MomentumRamp(start=1.0, stable=1.0)
    with pytest.raises(ValueError, match=r"beta_1 of Adam"):
        MLPClassifier(solver="adam", momentum=ramp, max_iter=1).fit(X, y)
    MLPClassifier(solver="sgd", momentum=ramp, max_iter=1, learning_rate_init=1e-4).fit(X, y)


# ---------------------------------------------------------------------------
# Messages a new user meets
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("grid, match", [
    ({"solver__beta_2": [0.9]}, r"solver='adam' is a string.*optimizers\.Adam\(\)"),
    ({"learning_rate__gamma": [0.5]}, r"learning_rate='constant' is not a schedule"),
    ({"momentum__stable": [0.9]}, r"momentum=0.9 is not a schedule"),
])
def test_nested_key_on_a_plain_value_says_what_to_pass(digits, grid, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        GridSearchCV(MLPClassifier(max_iter=1), grid, cv=2).fit(X, y)
    with pytest.raises(ValueError, match=match):
        MLPClassifier().set_params(**{k: v[0] for k, v in grid.items()})


def test_nested_key_works_on_objects_and_with_the_object_in_the_same_call():
    est = MLPClassifier(solver=Adam()).set_params(solver__beta_2=0.95)
    assert est.solver.beta_2 == 0.95
    est = MLPClassifier().set_params(solver=Adam(), solver__beta_2=0.9)
    assert est.solver.beta_2 == 0.9
    est = MLPClassifier().set_params(learning_rate=schedules.StepDecay(),
                                     learning_rate__gamma=0.5)
    assert est.learning_rate.gamma == 0.5


def test_schedule_with_lbfgs_warns(digits):
    X, y = digits
    with pytest.warns(UserWarning, match="ignored by solver='lbfgs'"):
        MLPClassifier(solver="lbfgs", learning_rate=schedules.StepDecay(),
                      max_iter=2).fit(X, y)
    with pytest.warns(UserWarning, match="ignored by solver='lbfgs'"):
        MLPClassifier(solver=LBFGS(), momentum=schedules.MomentumRamp(),
                      max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        # scikit-learn ignores the strings silently with lbfgs; so does sklr.
        MLPClassifier(solver="lbfgs", learning_rate="invscaling", max_iter=2).fit(X, y)


@pytest.mark.parametrize("solver, label", [("adam", "beta_1"), ("sgd", "momentum"),
                                           ("rmsprop", "momentum")])
def test_verbose_labels_what_the_momentum_value_drives(digits, capsys, solver, label):
    X, y = digits
    MLPClassifier(solver=solver, momentum=0.5, beta_1=0.8, max_iter=1, verbose=True).fit(X, y)
    line = capsys.readouterr().out.splitlines()[0]
    assert re.search(rf", {label} = ", line), line
    if solver == "adam":
        assert ", beta_1 = 0.8," in line and "momentum" not in line


@pytest.mark.parametrize("sizes, match", [
    ((2.5,), r"2\.5 is not an integer"),
    ((8, None), r"None is not an integer"),
    ((8, 0), r"must be > 0"),
])
def test_hidden_layer_sizes_messages_name_the_problem(digits, sizes, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        MLPClassifier(hidden_layer_sizes=sizes, max_iter=1).fit(X, y)


def test_integral_float_layer_sizes_are_accepted(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8.0,), max_iter=1).fit(X, y)
    assert est.coefs_[0].shape == (64, 8)


# ---------------------------------------------------------------------------
# The single state object and rollback
# ---------------------------------------------------------------------------


def test_history_appends_backfills_and_truncates():
    h = History()
    h.append({"loss": 1.0})
    h.append({"loss": 0.5, "val_loss": 0.7})
    assert list(h) == ["loss", "val_loss"]
    np.testing.assert_array_equal(h["loss"], [1.0, 0.5])
    np.testing.assert_array_equal(h["val_loss"], [np.nan, 0.7])
    for i in range(100):  # past the initial capacity
        h.append({"loss": float(i)})
    assert h.n_epochs == 102 and h["loss"][-1] == 99.0
    h.truncate(1, {"loss"})
    assert list(h) == ["loss"]
    np.testing.assert_array_equal(h["loss"], [1.0])
    with pytest.raises(ValueError):
        h["loss"][0] = 3.0  # read-only views


def test_failing_partial_fit_rolls_back_a_long_record(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    for _ in range(40):
        est.partial_fit(X, y, classes=np.unique(y))
    before = {k: est.history_[k].copy() for k in est.history_}
    curve = list(est.loss_curve_)
    coefs = [c.copy() for c in est.coefs_]
    state = {k: np.copy(v) for k, v in est._state.optimizer.items()}
    with pytest.raises(ValueError):
        est.partial_fit(X[:, :10], y)  # wrong number of features
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        est.partial_fit(bad, y)
    assert est.loss_curve_ == curve
    assert set(est.history_) == set(before)
    for key, value in before.items():
        np.testing.assert_array_equal(est.history_[key], value)
    for a, b in zip(est.coefs_, coefs):
        np.testing.assert_array_equal(a, b)
    for key, value in state.items():
        np.testing.assert_array_equal(est._state.optimizer[key], value)
    # and it goes on exactly as an uninterrupted run
    est.partial_fit(X, y)
    ref = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    for _ in range(41):
        ref.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(est.loss_curve_, ref.loss_curve_)


def test_history_and_loss_curve_survive_pickle_together(digits):
    import pickle

    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    assert again.history_ is again._state.history
    np.testing.assert_array_equal(again.history_["loss"], est.history_["loss"])
    again.partial_fit(X, y)
    assert again.history_.n_epochs == 4 and est.history_.n_epochs == 3


def test_string_learning_rates_follow_scikit_learn_with_warm_start(digits):
    X, y = digits
    for lr in ("invscaling", "adaptive"):
        kw = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate=lr, max_iter=4,
                  learning_rate_init=0.05, warm_start=True, random_state=0, tol=1e9,
                  n_iter_no_change=1)
        ours, theirs = MLPClassifier(**kw), SkMLPClassifier(**kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(2):
                ours.fit(X, y)
                theirs.fit(X, y)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)


def test_regressor_uses_the_same_trainer(digits):
    X, y = digits
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    assert est.history_.n_epochs == 3 == len(est.loss_curve_)


def test_concurrent_fits_restore_the_blas_thread_count(digits):
    """Fits in several Python threads share one BLAS limit and restore it."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    X, y = digits

    def blas_threads():
        return sorted(m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas")

    def fit(seed):
        return MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=seed).fit(X, y)

    before = blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS runs one thread here: a lost thread cannot be observed")
    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(fit, range(8)))
        assert blas_threads() == before
        # and a plain fit in the main thread afterwards restores it too
        fit(0)
        assert blas_threads() == before


def test_blas_limit_nests_across_threads_in_any_order():
    """A enters, B enters, A leaves, B leaves: the original setting comes back."""
    import threading

    from threadpoolctl import threadpool_info, threadpool_limits

    from sklr._threads import blas_single_threaded

    def blas_threads():
        return sorted(m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas")

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        inside = []

        def a():
            with blas_single_threaded():
                a_in.set()
                b_in.wait(5)
            a_out.set()

        def b():
            a_in.wait(5)
            with blas_single_threaded():
                b_in.set()
                a_out.wait(5)
                inside.append(blas_threads())

        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert inside == [[1] * len(before)]  # still limited while B trains
        assert blas_threads() == before


# ---------------------------------------------------------------------------
# Errors that say what is wrong
# ---------------------------------------------------------------------------


def test_zero_weight_minibatch_says_so(digits):
    X, y = digits
    sw = np.ones(len(y))
    sw[:50] = 0
    est = MLPClassifier(hidden_layer_sizes=(4,), batch_size=50, shuffle=False, max_iter=2)
    with pytest.raises(ValueError, match=r"Weights sum to zero.*minibatch 1 of 6 in epoch 1"):
        est.fit(X, y, sample_weight=sw)
    assert not hasattr(est, "coefs_")
    # with the zero rows spread over the batches, it trains
    MLPClassifier(hidden_layer_sizes=(4,), batch_size=50, shuffle=True, max_iter=1,
                  random_state=0).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_overflow_names_the_column(digits, sparse):
    import scipy.sparse as sp

    X, y = digits
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1).fit(X.astype(np.float32), y)
    big = X.copy()
    big[7, 5] = 1e300
    big = sp.csr_matrix(big) if sparse else big
    coefs = [c.copy() for c in est.coefs_]
    with pytest.raises(ValueError, match=r"X\[:, 5\] holds 1e\+300, which overflows float32"):
        est.partial_fit(big, y)
    with pytest.raises(ValueError, match=r"y\[:, 0\] holds 1e\+300"):
        est.partial_fit(X, y * 1e300 + 1)
    for a, b in zip(est.coefs_, coefs):
        np.testing.assert_array_equal(a, b)


def test_lambda_with_the_wrong_shape_says_so(digits):
    X, y = digits
    bad = schedules.Lambda(lambda t: np.ones(3))
    with pytest.raises(ValueError, match=r"Lambda: <lambda> must return one number per"):
        MLPClassifier(solver="sgd", learning_rate=bad, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"returned None"):
        schedules.Lambda(lambda t: None).preview(2)


# ---------------------------------------------------------------------------
# weight_decay as a schedule
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weight_decay_schedule_equals_changing_the_float_between_updates(digits, solver, dtype):
    """A step-unit schedule equals setting weight_decay to its value before each update.

    The reference runs one full-batch update per partial_fit with a plain
    float weight_decay (the constant path of the kernel), changed between calls.
    """
    X, y = digits
    X = X.astype(dtype)
    values = [0.5 * (k + 1) for k in range(5)]
    schedule = schedules.Lambda(lambda t: 0.5 * (t + 1), unit="step")
    kw = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=len(y), random_state=0,
              learning_rate_init=0.01)
    ours = MLPClassifier(weight_decay=schedule, **kw)
    ref = MLPClassifier(weight_decay=values[0], **kw)
    for k, value in enumerate(values):
        ours.partial_fit(X, y, classes=np.unique(y))
        ref.set_params(weight_decay=value)
        ref.partial_fit(X, y, classes=np.unique(y))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_array_equal(ours.history_["weight_decay"], values)
    # and the decay did something: without it the weights differ
    plain = MLPClassifier(**kw)
    for _ in values:
        plain.partial_fit(X, y, classes=np.unique(y))
    assert np.abs(plain.coefs_[0] - ours.coefs_[0]).max() > 1e-6


def test_momentum_cannot_be_a_feedback_schedule(digits):
    X, y = digits
    clf = MLPClassifier(solver="sgd", momentum=schedules.ReduceOnPlateau(), max_iter=1)
    with pytest.raises(ValueError, match="momentum cannot be a feedback schedule"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_weight_decay_schedule_checks(digits):
    X, y = digits
    with pytest.raises(ValueError, match="weight_decay cannot be a feedback schedule"):
        MLPClassifier(weight_decay=schedules.ReduceOnPlateau(), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="negative or non-finite"):
        MLPClassifier(weight_decay=schedules.Lambda(lambda t: -1.0), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="weight_decay.*need a stochastic solver"):
        MLPClassifier(solver="lbfgs", weight_decay=schedules.Constant(), max_iter=1).fit(X, y)
    # a constant schedule of value c is the float c, exactly
    a = MLPClassifier(hidden_layer_sizes=(6,), weight_decay=0.1, max_iter=3, random_state=0)
    b = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0,
                      weight_decay=schedules.Lambda(lambda t: 0.1 + 0 * t, unit="step"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y)
        b.fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
