"""fit(X_val=...), the training score per epoch, and the verbose line."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_regression
from sklearn.metrics import accuracy_score, log_loss, r2_score

from sklr import MLPClassifier, MLPRegressor
from sklr.schedules import ReduceOnPlateau


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:600], y[:600], X[600:900], y[600:900]


def _clf(**kw):
    params = dict(hidden_layer_sizes=(16,), max_iter=4, random_state=0, batch_size=64)
    params.update(kw)
    return MLPClassifier(**params)


def _l2_term(est, n):
    return 0.5 * est.alpha * sum((c**2).sum() for c in est.coefs_) / n


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_val_history_matches_models_stopped_at_each_epoch(digits_split, solver):
    """val_score/val_loss of epoch k equal the scores of a k-epoch model."""
    X, y, Xv, yv = digits_split
    clf = _clf(solver=solver).fit(X, y, X_val=Xv, y_val=yv)
    assert len(clf.history_["val_score"]) == 4
    for k in range(1, 5):
        ref = _clf(solver=solver, max_iter=k).fit(X, y)
        assert clf.history_["val_score"][k - 1] == pytest.approx(
            accuracy_score(yv, ref.predict(Xv)), abs=1e-12
        )
        expected_loss = log_loss(yv, ref.predict_proba(Xv), labels=ref.classes_)
        expected_loss += _l2_term(ref, len(yv))
        assert clf.history_["val_loss"][k - 1] == pytest.approx(expected_loss, rel=1e-9)


def test_validation_data_does_not_change_training(digits_split):
    X, y, Xv, yv = digits_split
    a = _clf().fit(X, y)
    b = _clf().fit(X, y, X_val=Xv, y_val=yv)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    for ca, cb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(ca, cb)
    assert b.validation_scores_ is None  # as scikit-learn without early stopping


def test_early_stopping_uses_given_validation_set(digits_split):
    X, y, Xv, yv = digits_split
    clf = _clf(early_stopping=True, max_iter=30, n_iter_no_change=3, learning_rate_init=0.01)
    clf.fit(X, y, X_val=Xv, y_val=yv)
    # All of X trains: no validation_fraction is held out.
    assert clf.t_ == clf.n_iter_ * X.shape[0]
    np.testing.assert_allclose(clf.validation_scores_, clf.history_["val_score"], rtol=0)
    # The restored weights are those of the best epoch on (Xv, yv).
    assert clf.score(Xv, yv) == pytest.approx(clf.best_validation_score_, abs=1e-12)
    assert clf.best_validation_score_ == max(clf.history_["val_score"])
    best = int(np.argmax(clf.history_["val_score"]))
    assert clf.n_iter_ - 1 - best >= clf.n_iter_no_change or clf.n_iter_ == 30


def test_sample_weight_val_weights_the_scores(digits_split):
    X, y, Xv, yv = digits_split
    w = np.random.RandomState(0).uniform(0.1, 2, len(yv))
    clf = _clf(max_iter=2).fit(X, y, X_val=Xv, y_val=yv, sample_weight_val=w)
    ref = _clf(max_iter=2).fit(X, y)
    assert clf.history_["val_score"][-1] == pytest.approx(
        accuracy_score(yv, ref.predict(Xv), sample_weight=w), abs=1e-12
    )
    proba = ref.predict_proba(Xv)
    expected = log_loss(yv, proba, sample_weight=w, labels=ref.classes_)
    expected += 0.5 * ref.alpha * sum((c**2).sum() for c in ref.coefs_) / w.sum()
    assert clf.history_["val_loss"][-1] == pytest.approx(expected, rel=1e-9)


def test_plateau_on_val_loss_with_validation_data(digits_split):
    X, y, Xv, yv = digits_split
    plateau = ReduceOnPlateau(monitor="val_loss", factor=0.5, patience=0)
    clf = _clf(solver="sgd", learning_rate=plateau, max_iter=12, learning_rate_init=0.5)
    with pytest.raises(ValueError, match="X_val"):
        clf.fit(X, y)  # no validation data, no early stopping
    clf.fit(X, y, X_val=Xv, y_val=yv)
    # Replay the rule on the recorded validation losses: the scale in effect
    # in each epoch must be the recorded rate / learning_rate_init.
    expected = plateau.preview(12, 1, monitored=clf.history_["val_loss"])
    np.testing.assert_allclose(clf.history_["learning_rate"] / 0.5, expected, rtol=1e-12)
    assert expected.min() < 1  # the schedule did reduce


@pytest.mark.parametrize(
    "convention, expected",
    [
        # Validation losses rise every epoch, so epoch 1's is the best.
        # PyTorch: bad epochs 2, 3 -> count 2 > patience 1 -> halve from
        # epoch 4; bad 4, 5 -> from epoch 6; bad 6, 7 -> from epoch 8.
        ("pytorch", [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]),
        # Keras: each bad epoch makes the count reach patience 1 -> halve
        # after every epoch from epoch 2 on.
        ("keras", [1, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625]),
    ],
)
def test_plateau_is_fed_the_first_epoch(digits_split, convention, expected):
    """A plateau schedule counts from epoch 1: here epoch 1 is the best epoch,
    so reductions come one epoch earlier than if the count began at epoch 2
    (PyTorch: 4, 6, 8 instead of 5, 7; Keras: 3, 4, ... instead of 4, 5, ...)."""
    X, y, Xv, yv = digits_split
    plateau = ReduceOnPlateau(monitor="val_loss", factor=0.5, patience=1, threshold=0.0,
                              patience_convention=convention)
    clf = _clf(solver="sgd", learning_rate=plateau, max_iter=8, learning_rate_init=0.1)
    # Validation labels shifted by one class: the better the model fits the
    # training data, the worse its validation loss.
    clf.fit(X, y, X_val=Xv, y_val=(yv + 1) % 10)
    assert np.all(np.diff(clf.history_["val_loss"]) > 0)  # the case's premise
    np.testing.assert_allclose(clf.history_["learning_rate"], 0.1 * np.array(expected),
                               rtol=1e-12)


def test_regressor_validation_and_train_score():
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    Xt, yt, Xv, yv = X[:200], y[:200], X[200:], y[200:]
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, learning_rate_init=0.01)
    reg = MLPRegressor(record_train_score=True, **kw).fit(Xt, yt, X_val=Xv, y_val=yv)
    for k in range(1, 4):
        ref = MLPRegressor(**{**kw, "max_iter": k}).fit(Xt, yt)
        assert reg.history_["val_score"][k - 1] == pytest.approx(
            r2_score(yv, ref.predict(Xv)), abs=1e-12
        )
        assert reg.history_["score"][k - 1] == pytest.approx(
            r2_score(yt, ref.predict(Xt)), abs=1e-12
        )
        expected = 0.5 * np.mean((yv - ref.predict(Xv)) ** 2) + _l2_term(ref, len(yv))
        assert reg.history_["val_loss"][k - 1] == pytest.approx(expected, rel=1e-9)


def test_record_train_score(digits_split):
    X, y, Xv, yv = digits_split
    clf = _clf(record_train_score=True).fit(X, y)
    assert "score" in clf.history_ and "val_score" not in clf.history_
    for k in (1, 4):
        ref = _clf(max_iter=k).fit(X, y)
        assert clf.history_["score"][k - 1] == pytest.approx(ref.score(X, y), abs=1e-12)
    assert "score" not in _clf().fit(X, y).history_  # off by default


def test_record_train_score_with_early_stopping_scores_the_training_part(digits_split):
    X, y, _, _ = digits_split
    clf = _clf(record_train_score=True, early_stopping=True, max_iter=2)
    clf.fit(X, y)
    # validation_fraction=0.1 of 600 rows are held out; the training score is
    # on the other 540, so it differs from the score on all of X in general
    # but must be an accuracy on 540 rows: a multiple of 1/540.
    scores = clf.history_["score"] * 540
    np.testing.assert_allclose(scores, np.round(scores), atol=1e-9)


def test_lbfgs_records_validation_per_iteration(digits_split):
    X, y, Xv, yv = digits_split
    clf = _clf(solver="lbfgs", max_iter=15, record_train_score=True)
    clf.fit(X, y, X_val=Xv, y_val=yv)
    n = len(clf.history_["loss"])
    assert n == clf.n_iter_
    assert len(clf.history_["val_score"]) == n == len(clf.history_["score"])
    assert clf.history_["val_score"][-1] == pytest.approx(clf.score(Xv, yv), abs=1e-12)
    assert clf.history_["score"][-1] == pytest.approx(clf.score(X, y), abs=1e-12)
    # Iteration k's validation loss and score are those of the model L-BFGS
    # stops at after k iterations (scipy's iterates do not depend on maxiter),
    # computed by scikit-learn's metrics.
    for k in (1, 6, n):
        ref = _clf(solver="lbfgs", max_iter=k).fit(X, y)
        assert ref.n_iter_ == k
        expected_loss = log_loss(yv, ref.predict_proba(Xv), labels=ref.classes_)
        expected_loss += _l2_term(ref, len(yv))
        assert clf.history_["val_loss"][k - 1] == pytest.approx(expected_loss, rel=1e-9)
        assert clf.history_["val_score"][k - 1] == pytest.approx(
            accuracy_score(yv, ref.predict(Xv)), abs=1e-12)


def test_warm_start_pads_keys_new_to_a_refit(digits_split):
    X, y, Xv, yv = digits_split
    clf = _clf(warm_start=True, max_iter=2).fit(X, y)
    clf.fit(X, y, X_val=Xv, y_val=yv)
    clf.fit(X, y)
    hist = clf.history_
    assert {len(v) for v in hist.values()} == {6}
    assert np.isnan(hist["val_score"][[0, 1, 4, 5]]).all()
    assert np.isfinite(hist["val_score"][2:4]).all()


def test_sparse_and_float32_validation_data(digits_split):
    X, y, Xv, yv = digits_split
    dense = _clf().fit(X, y, X_val=Xv, y_val=yv)
    sparse = _clf().fit(sp.csr_matrix(X), y, X_val=sp.csr_matrix(Xv), y_val=yv)
    np.testing.assert_allclose(dense.history_["val_loss"], sparse.history_["val_loss"],
                               rtol=1e-10)
    f32 = _clf().fit(X.astype(np.float32), y, X_val=Xv, y_val=yv)
    np.testing.assert_allclose(dense.history_["val_loss"], f32.history_["val_loss"], rtol=1e-3)


def test_string_labels_and_dataframes(digits_split):
    pd = pytest.importorskip("pandas")
    X, y, Xv, yv = digits_split
    names = np.array(list("abcdefghij"))
    cols = [f"f{i}" for i in range(X.shape[1])]
    clf = _clf(max_iter=2).fit(
        pd.DataFrame(X, columns=cols), names[y],
        X_val=pd.DataFrame(Xv, columns=cols), y_val=names[yv],
    )
    ref = _clf(max_iter=2).fit(X, y)
    assert clf.history_["val_score"][-1] == pytest.approx(ref.score(Xv, yv), abs=1e-12)


def test_multilabel_validation(digits_split):
    X, y, Xv, yv = digits_split
    Y = np.stack([y % 2, y > 4], axis=1).astype(int)
    Yv = np.stack([yv % 2, yv > 4], axis=1).astype(int)
    clf = _clf(max_iter=2).fit(X, Y, X_val=Xv, y_val=Yv)
    ref = _clf(max_iter=2).fit(X, Y)
    assert clf.history_["val_score"][-1] == pytest.approx(ref.score(Xv, Yv), abs=1e-12)
    with pytest.raises(ValueError, match="same kind"):
        _clf(max_iter=1).fit(X, Y, X_val=Xv, y_val=yv)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (lambda Xv, yv: dict(X_val=Xv), "without y_val"),
        (lambda Xv, yv: dict(y_val=yv), "need X_val"),
        (lambda Xv, yv: dict(X_val=Xv, y_val=yv[:-1]), "inconsistent numbers of samples"),
        (lambda Xv, yv: dict(X_val=Xv[:, :-1], y_val=yv), "features"),
        (lambda Xv, yv: dict(X_val=np.where(Xv > 0.5, np.nan, Xv), y_val=yv), "NaN"),
        (lambda Xv, yv: dict(X_val=Xv, y_val=np.where(yv == 3, 42, yv)), r"not seen .*\[42\]"),
        (lambda Xv, yv: dict(X_val=Xv, y_val=yv, sample_weight_val=np.ones(3)), "sample_weight"),
        (lambda Xv, yv: dict(X_val=Xv, y_val=yv, sample_weight_val=-np.ones(len(yv))),
         "(?i)negative"),
    ],
)
def test_bad_validation_data_raises_and_keeps_the_model(digits_split, kwargs, match):
    X, y, Xv, yv = digits_split
    clf = _clf(max_iter=2, warm_start=True).fit(X, y)
    coefs = [c.copy() for c in clf.coefs_]
    history = {k: v.copy() for k, v in clf.history_.items()}
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, **kwargs(Xv, yv))
    for before, after in zip(coefs, clf.coefs_):
        np.testing.assert_array_equal(before, after)
    assert history.keys() == clf.history_.keys()
    assert clf.n_iter_ == 2


def test_regressor_bad_validation_targets():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1)
    with pytest.raises(ValueError, match="outputs"):
        reg.fit(X, y, X_val=X[:10], y_val=np.c_[y[:10], y[:10]])
    with pytest.raises(ValueError, match="non-negative"):
        MLPRegressor(loss="poisson", max_iter=1).fit(X, np.abs(y), X_val=X[:5], y_val=-np.ones(5))


def test_verbose_prints_one_line_per_epoch(digits_split, capsys):
    X, y, Xv, yv = digits_split
    clf = _clf(max_iter=3, verbose=True, record_train_score=True, solver="sgd")
    clf.fit(X, y, X_val=Xv, y_val=yv)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Iter")]
    assert len(lines) == 3
    pattern = re.compile(
        r"Iteration (\d+), loss = ([\d.]+), learning_rate = ([\d.e-]+), momentum = ([\d.]+), "
        r"score = ([\d.]+), val_loss = ([\d.]+), val_score = ([\d.]+), time = ([\d.]+)s"
    )
    for epoch, line in enumerate(lines):
        match = pattern.fullmatch(line)
        assert match, line
        fields = [float(v) for v in match.groups()]
        assert fields[0] == epoch + 1
        assert fields[1] == pytest.approx(clf.history_["loss"][epoch], abs=1e-8)
        assert fields[2] == pytest.approx(clf.learning_rate_init)
        assert fields[3] == pytest.approx(clf.momentum)
        assert fields[6] == pytest.approx(clf.history_["val_score"][epoch], abs=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_per_epoch_scores_equal_scikit_learn_metrics(weighted):
    """The fast per-epoch score (no re-validation) equals accuracy_score /
    r2_score, including multi-output, binary and degenerate targets."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    w = rng.uniform(0.5, 2, 120) if weighted else None
    cases = [
        (MLPRegressor, np.c_[X[:, 0], X[:, 1] * 3]),  # two outputs
        (MLPRegressor, X[:, 0]),
        (MLPClassifier, np.where(X[:, 0] > 0, "yes", "no")),  # binary, strings
        (MLPClassifier, (X[:, :3] > 0).astype(int)),  # multilabel
    ]
    for cls, y in cases:
        est = cls(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
        out = est._forward_pass_fast(X, check_input=False)
        metric = r2_score if cls is MLPRegressor else accuracy_score
        assert est._score_output(out, y, w) == pytest.approx(
            metric(y, est.predict(X), sample_weight=w), abs=1e-14)
    # Constant targets: r2_score's conventions (1 if perfect, else 0).
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, X[:, 0])
    out = reg._forward_pass_fast(X, check_input=False)
    const = np.full(120, 2.0)
    assert reg._score_output(out, const, w) == r2_score(const, reg.predict(X), sample_weight=w)
    assert reg._score_output(np.full((120, 1), 2.0), const, w) == 1.0
