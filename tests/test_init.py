"""The estimators' ``init`` parameter and :mod:`sklr.initializers`.

References, none of them sklr's code: scikit-learn's own ``_init_coef``
(the default, bit for bit); the laws the frameworks document, written out
here per scheme with scipy.stats (one-sample Kolmogorov-Smirnov tests on
120 000 draws, with fixed seeds so each test is deterministic); Keras 3's
initializers and PyTorch's ``nn.Linear`` and ``nn.init`` themselves where
installed (two-sample KS tests against their draws); and a Keras training
run from the weights sklr draws. H2O's rows are checked against a
transcription of H2O-3's source in tests/test_translations.py.
"""

import doctest
import os
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

import sklr.initializers
from sklr import MLPClassifier, MLPRegressor
from sklr.initializers import H2O, Initializer, VarianceScaling, get_initializer

FAN_IN, FAN_OUT = 400, 300  # 120 000 weights: KS resolves ~1 % between laws
P_MIN = 1e-3  # a KS p-value below this rejects "the same law"
KERAS_NAMES = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
               "lecun_uniform", "lecun_normal"]


def _truncated(sd):
    """A normal truncated to two of its own standard deviations, whose
    standard deviation after truncation is ``sd`` (Keras' documented law)."""
    spread = sd / stats.truncnorm(-2, 2).std()
    return stats.truncnorm(-2, 2, scale=spread)


def _uniform(limit):
    return stats.uniform(-limit, 2 * limit)


# The Keras documentation's formula for each name (keras.initializers).
def keras_law(name, fan_in, fan_out):
    return {
        "glorot_uniform": lambda: _uniform(np.sqrt(6 / (fan_in + fan_out))),
        "glorot_normal": lambda: _truncated(np.sqrt(2 / (fan_in + fan_out))),
        "he_uniform": lambda: _uniform(np.sqrt(6 / fan_in)),
        "he_normal": lambda: _truncated(np.sqrt(2 / fan_in)),
        "lecun_uniform": lambda: _uniform(np.sqrt(3 / fan_in)),
        "lecun_normal": lambda: _truncated(np.sqrt(1 / fan_in)),
    }[name]()


def _draw(init, units=(FAN_IN, FAN_OUT), seed=0, **kw):
    return get_initializer(init).draw(list(units), seed, **kw)


def _initial_weights(est, X, y):
    """The estimator's initial weights: one SGD epoch at a rate too small to
    move a nonzero weight (zero biases move by ~1e-300)."""
    est = est.set_params(solver="sgd", momentum=0.0, learning_rate_init=1e-300, max_iter=1,
                         shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return [c.copy() for c in est.coefs_], [b.copy() for b in est.intercepts_]


X_CLF, Y_CLF = make_classification(n_samples=60, n_features=6, n_informative=4,
                                   n_classes=3, random_state=0)
X_REG, Y_REG = make_regression(n_samples=60, n_features=6, random_state=0)


# -- The default: scikit-learn's draws --------------------------------------------
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("binary", [False, True])
def test_default_is_sklearns_draws_bit_for_bit(activation, dtype, binary):
    y = Y_CLF % 2 if binary else Y_CLF
    units = [6, 7, 5, 1 if binary else 3]
    sk = SkMLPClassifier(activation=activation)
    sk._random_state = np.random.RandomState(3)
    expected = [sk._init_coef(a, b, dtype) for a, b in zip(units[:-1], units[1:])]
    est = MLPClassifier(hidden_layer_sizes=(7, 5), activation=activation, random_state=3)
    assert est.init == "sklearn"
    coefs, intercepts = _initial_weights(est, X_CLF.astype(dtype), y)
    for c, b, (ec, eb) in zip(coefs, intercepts, expected):
        assert c.dtype == dtype
        assert_array_equal(c, ec)
        assert_array_equal(b, eb)


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_sklearn_preset_is_a_variance_scaling_object(activation):
    """The object 'sklearn' stands for draws the same numbers as the string."""
    units = [6, 7, 5, 3]
    coefs, intercepts = get_initializer("sklearn", activation).draw(units, 1)
    sk = SkMLPClassifier(activation=activation)
    sk._random_state = np.random.RandomState(1)
    for c, b, (a, f) in zip(coefs, intercepts, zip(units[:-1], units[1:])):
        ec, eb = sk._init_coef(a, f, np.float64)
        assert_array_equal(c, ec)
        assert_array_equal(b, eb)


# -- Each scheme against the law its framework documents -------------------------------
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_names_follow_their_documented_law(name):
    (w,), (b,) = _draw(name)
    law = keras_law(name, FAN_IN, FAN_OUT)
    assert stats.kstest(w.ravel(), law.cdf).pvalue > P_MIN
    low, high = law.support()
    assert low <= w.min() and w.max() <= high
    assert w.max() > 0.99 * high  # the support is filled to its edge
    assert_allclose(w.std(), law.std(), rtol=0.02)
    assert_array_equal(b, 0.0)  # Keras' Dense: zero biases


def test_the_ks_check_can_tell_truncated_from_untruncated():
    """The power the checks above rely on: truncation changes 4.6 % of the mass."""
    (w,), _ = _draw(VarianceScaling(2.0, "fan_in", "untruncated_normal"))
    assert stats.kstest(w.ravel(), keras_law("he_normal", FAN_IN, FAN_OUT).cdf).pvalue < 1e-6
    assert stats.kstest(w.ravel(), stats.norm(scale=np.sqrt(2 / FAN_IN)).cdf).pvalue > P_MIN


@pytest.mark.parametrize("mode, n", [("fan_in", FAN_IN), ("fan_out", FAN_OUT),
                                     ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_variance_scaling_laws(mode, n, scale):
    sd = np.sqrt(scale / n)
    laws = {"uniform": _uniform(np.sqrt(3) * sd), "untruncated_normal": stats.norm(scale=sd),
            "truncated_normal": _truncated(sd)}
    for distribution, law in laws.items():
        (w,), _ = _draw(VarianceScaling(scale, mode, distribution))
        assert stats.kstest(w.ravel(), law.cdf).pvalue > P_MIN, distribution


def test_pytorch_preset_law():
    """``nn.Linear``: weights and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    (w,), (b,) = _draw("pytorch", units=(FAN_IN, 2000))
    bound = 1 / np.sqrt(FAN_IN)
    assert stats.kstest(w.ravel(), _uniform(bound).cdf).pvalue > P_MIN
    assert stats.kstest(b, _uniform(bound).cdf).pvalue > P_MIN
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound


@pytest.mark.parametrize("bias, law", [
    ("like_weights", _uniform(np.sqrt(6 / (FAN_IN + 4000)))),
    ("fan_in_uniform", _uniform(1 / np.sqrt(FAN_IN))),
])
def test_bias_laws(bias, law):
    _, (b,) = _draw(VarianceScaling(1.0, "fan_avg", "uniform", bias=bias), units=(FAN_IN, 4000))
    assert stats.kstest(b, law.cdf).pvalue > P_MIN
    _, (b,) = _draw(VarianceScaling(bias=-0.25), units=(FAN_IN, 40))
    assert_array_equal(b, -0.25)


def test_draw_order_weights_then_biases_layer_by_layer():
    """One stream, layer after layer: the weights, then the biases if drawn
    (scikit-learn's order); constant biases draw nothing."""
    units = [5, 4, 3]
    r = [np.sqrt(6 / 9), np.sqrt(6 / 7)]
    rs = np.random.RandomState(7)
    expected = [rs.uniform(-r[0], r[0], (5, 4)), rs.uniform(-1 / np.sqrt(5), 1 / np.sqrt(5), 4),
                rs.uniform(-r[1], r[1], (4, 3)), rs.uniform(-1 / 2, 1 / 2, 3)]
    coefs, intercepts = VarianceScaling(1.0, "fan_avg", "uniform",
                                        bias="fan_in_uniform").draw(units, 7)
    for ours, theirs in zip([coefs[0], intercepts[0], coefs[1], intercepts[1]], expected):
        assert_allclose(ours, theirs, rtol=1e-14)
    rs = np.random.RandomState(7)
    expected = [rs.uniform(-r[0], r[0], (5, 4)), rs.uniform(-r[1], r[1], (4, 3))]
    coefs, _ = VarianceScaling(1.0, "fan_avg", "uniform", bias=0.5).draw(units, 7)
    for ours, theirs in zip(coefs, expected):
        assert_allclose(ours, theirs, rtol=1e-14)


# -- Against the frameworks themselves -----------------------------------------------
def _keras():
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "torch"
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    return keras


def _to_numpy(keras, tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_names_match_keras_initializers(name):
    keras = _keras()
    theirs = _to_numpy(keras, keras.initializers.get({"class_name": name, "config": {
        "seed": 0}})(shape=(FAN_IN, FAN_OUT), dtype="float64"))
    (ours,), _ = _draw(name)
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > P_MIN
    assert_allclose(ours.std(), theirs.std(), rtol=0.02)
    # The same support: the edge (the uniform's limit, the truncated normal's
    # two spreads) and the 99.9 % quantile. Keras' torch backend keeps the
    # first of four normal draws inside the bounds, so about one value in
    # 250 000 (all four outside) lies beyond them.
    edge = keras_law(name, FAN_IN, FAN_OUT).support()[1]
    assert np.mean(np.abs(theirs) > edge) < 1e-4
    assert 0.99 * edge < np.abs(ours).max() <= edge
    q = [np.quantile(np.abs(w), 0.999) for w in (ours, theirs)]
    assert_allclose(q[0], q[1], rtol=0.02)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_keras_preset_is_dense_default():
    keras = _keras()
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(FAN_OUT, dtype="float64")
    layer.build((None, FAN_IN))
    kernel, bias = (_to_numpy(keras, v) for v in (layer.kernel, layer.bias))
    (ours,), (our_bias,) = _draw("keras")
    assert kernel.shape == ours.shape
    assert stats.ks_2samp(ours.ravel(), kernel.ravel()).pvalue > P_MIN
    assert_array_equal(bias, 0.0)
    assert_array_equal(our_bias, 0.0)


def test_pytorch_preset_is_linear_default():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    linear = torch.nn.Linear(FAN_IN, 2000, dtype=torch.float64)
    weight = linear.weight.detach().numpy().T  # torch stores (fan_out, fan_in)
    bias = linear.bias.detach().numpy()
    (ours,), (our_bias,) = _draw("pytorch", units=(FAN_IN, 2000))
    assert stats.ks_2samp(ours.ravel(), weight.ravel()).pvalue > P_MIN
    assert stats.ks_2samp(our_bias, bias).pvalue > P_MIN
    assert_allclose(np.abs(ours).max(), np.abs(weight).max(), rtol=1e-3)


@pytest.mark.parametrize("fill, init", [
    ("kaiming_normal_", VarianceScaling(2.0, "fan_in", "untruncated_normal")),
    ("xavier_normal_", VarianceScaling(1.0, "fan_avg", "untruncated_normal")),
    ("kaiming_uniform_", VarianceScaling(2.0, "fan_in", "uniform")),
    ("xavier_uniform_", VarianceScaling(1.0, "fan_avg", "uniform")),
])
def test_torch_nn_init_rows(fill, init):
    """The translation rows: ``nn.init.<fill>(weight)`` (ReLU gain for kaiming)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    weight = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)  # nn.Linear's layout
    getattr(torch.nn.init, fill)(weight, **({"nonlinearity": "relu"} if "kaiming" in fill
                                            else {}))
    theirs = weight.numpy().T
    (ours,), _ = _draw(init)
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > P_MIN
    if fill == "kaiming_normal_":  # not Keras' he_normal, which is truncated
        (keras_he,), _ = _draw("he_normal")
        assert stats.ks_2samp(keras_he.ravel(), theirs.ravel()).pvalue < 1e-6


# -- H2O ----------------------------------------------------------------------------------
@pytest.mark.parametrize("distribution, scale, law", [
    ("Uniform", 0.3, _uniform(0.3)), ("Normal", 0.2, stats.norm(scale=0.2)),
])
def test_h2o_scale_laws(distribution, scale, law):
    """H2O's documented ``initial_weight_scale``: the same law in every layer."""
    coefs, _ = H2O(distribution, scale).draw([FAN_IN, 300, 30], 0, classifier=True)
    for w in coefs:
        assert stats.kstest(w.ravel(), law.cdf).pvalue > P_MIN


def test_h2o_output_layer_factor():
    """The factor 4 is there for a classifier only, and shows in the support."""
    units = [20, 30, 2000]
    clf = H2O().draw(units, 0, classifier=True)[0][-1]
    reg = H2O().draw(units, 0, classifier=False)[0][-1]
    r = np.sqrt(6 / 2030)
    assert 3.9 * r < np.abs(clf).max() <= 4 * r
    assert 0.99 * r < np.abs(reg).max() <= r


@pytest.mark.parametrize("activation, first, later", [
    ("relu", 0.5, 1.0), ("tanh", 0.0, 0.0), ("logistic", 0.0, 0.0), ("identity", 0.0, 0.0)])
def test_h2o_bias_constants(activation, first, later):
    _, intercepts = H2O().draw([6, 8, 5, 4, 3], 0, activation=activation, classifier=True)
    for b, value in zip(intercepts, [first, later, later, 0.0]):
        assert_array_equal(b, value)


# -- The estimator's parameter --------------------------------------------------------
@pytest.mark.parametrize("init", sorted(sklr.initializers._INIT_NAMES)
                         + [VarianceScaling(0.5, "fan_out", "untruncated_normal", bias=0.1)])
@pytest.mark.parametrize("Estimator, X, y", [(MLPClassifier, X_CLF, Y_CLF),
                                             (MLPRegressor, X_REG, Y_REG)])
def test_estimator_draws_what_the_initializer_draws(init, Estimator, X, y):
    est = Estimator(hidden_layer_sizes=(7, 5), activation="tanh", init=init, random_state=4)
    coefs, intercepts = _initial_weights(est, X, y)
    units = [6, 7, 5, 3 if Estimator is MLPClassifier else 1]
    expected = get_initializer(init, "tanh").draw(
        units, np.random.RandomState(4), activation="tanh",
        classifier=Estimator is MLPClassifier)
    for ours, theirs in zip(coefs + intercepts, expected[0] + expected[1]):
        assert_allclose(ours, theirs, rtol=0, atol=1e-250)


def test_float32_draws_are_the_float64_draws_cast():
    est = MLPClassifier(hidden_layer_sizes=(7,), init="he_normal", random_state=0)
    coefs, _ = _initial_weights(est, X_CLF.astype(np.float32), Y_CLF)
    expected = get_initializer("he_normal").draw([6, 7, 3], 0)[0]
    for c, e in zip(coefs, expected):
        assert c.dtype == np.float32
        assert_array_equal(c, e.astype(np.float32))


def test_warm_start_and_partial_fit_never_draw_again():
    est = MLPClassifier(hidden_layer_sizes=(7,), init="he_normal", random_state=0)
    first, _ = _initial_weights(est, X_CLF, Y_CLF)
    est.set_params(warm_start=True, init="h2o", random_state=1)
    again, _ = _initial_weights(est, X_CLF, Y_CLF)
    for a, b in zip(first, again):
        assert_array_equal(a, b)
    # partial_fit: the first call draws, later ones continue whatever init says.
    kw = dict(hidden_layer_sizes=(7,), solver="sgd", learning_rate_init=0.1, random_state=0)
    a = MLPClassifier(init="lecun_normal", **kw)
    b = MLPClassifier(init="lecun_normal", **kw)
    for est in (a, b):
        est.partial_fit(X_CLF, Y_CLF, classes=[0, 1, 2])
    b.set_params(init="pytorch")
    for est in (a, b):
        est.partial_fit(X_CLF, Y_CLF)
    assert_array_equal(a.coefs_[0], b.coefs_[0])
    # A fit without warm_start draws anew, from the new init.
    b.set_params(warm_start=False)
    redrawn, _ = _initial_weights(b, X_CLF, Y_CLF)
    assert_allclose(redrawn[0], get_initializer("pytorch").draw([6, 7, 3], 0)[0][0], atol=0)


def test_unknown_names_and_bad_objects_raise_clearly():
    with pytest.raises(InvalidParameterError, match="'init' parameter.*'he_normal'.*Got 'he'"):
        MLPClassifier(init="he").fit(X_CLF, Y_CLF)
    with pytest.raises(InvalidParameterError, match="'mode' parameter of VarianceScaling"):
        MLPClassifier(init=VarianceScaling(mode="fan_sum")).fit(X_CLF, Y_CLF)
    with pytest.raises(InvalidParameterError, match="'distribution' parameter"):
        VarianceScaling(distribution="normal").draw([3, 2])  # ambiguous: Keras truncates
    with pytest.raises(InvalidParameterError, match="'scale' parameter"):
        H2O(scale=0.0).draw([3, 2])
    with pytest.raises(ValueError, match="init='keras' is a string.*VarianceScaling"):
        MLPClassifier(init="keras").set_params(init__bias="like_weights")
    with pytest.raises(ValueError, match="not an initializer"):
        get_initializer("kaiming")
    with pytest.raises(ValueError, match="at least two positive sizes"):
        VarianceScaling().draw([3])
    est = MLPClassifier(init="he")
    with pytest.raises(InvalidParameterError):
        est.fit(X_CLF, Y_CLF)
    assert not hasattr(est, "coefs_")


def test_init_is_searchable():
    assert isinstance(get_initializer("lecun_normal"), Initializer)
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                        init=VarianceScaling())
    params = est.get_params(deep=True)
    assert {"init__scale", "init__mode", "init__distribution", "init__bias"} <= set(params)
    grid = {"init__bias": ["zeros", "like_weights"], "init__scale": [1.0, 2.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(est, grid, cv=2).fit(X_CLF, Y_CLF)
        assert len(search.cv_results_["params"]) == 4
        assert search.best_estimator_.init.bias == search.best_params_["init__bias"]
        assert est.init == VarianceScaling()  # the original is untouched
        search = GridSearchCV(est, {"init": ["sklearn", "keras", "he_normal"]}, cv=2)
        search.fit(X_CLF, Y_CLF)
    assert search.best_estimator_.init in ("sklearn", "keras", "he_normal")


def test_clone_and_pickle_keep_the_initializer():
    import pickle

    from sklearn.base import clone

    init = VarianceScaling(0.5, "fan_out", "uniform", bias=0.25)
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, init=init, random_state=0)
    copy = clone(est)
    assert copy.init == init and copy.init is not init
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_REG, Y_REG)
    again = pickle.loads(pickle.dumps(est))
    assert again.init == init
    assert_array_equal(again.predict(X_REG), est.predict(X_REG))
    assert "init=VarianceScaling(scale=0.5, mode='fan_out'" in repr(est)


# -- Keras trains to the same weights from the same initial ones ---------------------
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("init", ["keras", "he_normal"])
def test_keras_trains_to_the_same_weights_from_sklrs_draw(init):
    """Given sklr's initial weights (zero biases, as Keras draws them), a Keras
    ``Dense`` network trained by ``SGD`` ends where sklr ends."""
    from sklr.optimizers import SGD

    keras = _keras()
    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        units = [6, 7, 3]
        coefs, intercepts = get_initializer(init).draw(units, 5)
        model = keras.Sequential([keras.Input((6,)),
                                  keras.layers.Dense(7, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.set_weights([coefs[0], intercepts[0], coefs[1], intercepts[1]])
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        model.fit(X_CLF, Y_CLF, batch_size=16, epochs=4, shuffle=False, verbose=0)
        est = MLPClassifier(hidden_layer_sizes=(7,), alpha=0.0, batch_size=16, max_iter=4,
                            shuffle=False, random_state=5, n_iter_no_change=np.inf,
                            solver=SGD(momentum=0.9, nesterov=False, convention="keras"),
                            learning_rate_init=0.05, init=init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_CLF, Y_CLF)
        ours = [w for pair in zip(est.coefs_, est.intercepts_) for w in pair]
        for theirs, mine, start in zip(model.get_weights(), ours,
                                       [coefs[0], intercepts[0], coefs[1], intercepts[1]]):
            assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)
            assert not np.allclose(mine, start, atol=1e-3)  # training moved them
    finally:
        keras.config.set_floatx(old)


def test_doctests():
    result = doctest.testmod(sklr.initializers, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
