"""Checkpoints: saved during fit, atomic, distinct per fit, and resumed exactly.

The reference is always an uninterrupted fit with the same parameters: a fit
resumed from a checkpoint (written by a process killed mid-fit, or captured
in-process) must end bit for bit where that fit ends: weights, loss curve,
history, counters, optimizer arrays and the shuffling random state.
"""

import glob
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

import sklr
import sklr._checkpoint as checkpoint_module
from sklr import Checkpoint, MLPClassifier, MLPRegressor, load_checkpoint
from sklr import optimizers
from sklr import schedules as S
from sklr.averaging import EMA, SWA

from _same_fit import assert_same_fit

# Shared by this process and the child it kills: the data and the estimators.
CASES_SOURCE = """
from sklearn.datasets import load_digits
from sklr import MLPClassifier, optimizers, schedules as S

X, y = load_digits(return_X_y=True)
X = X / 16.0

def make_estimator(case, **extra):
    common = dict(hidden_layer_sizes=(32,), batch_size=64, max_iter=30, random_state=0)
    if case == "adam-stepdecay":
        return MLPClassifier(solver="adam", learning_rate_init=0.003,
                             learning_rate=S.StepDecay(step_size=4, gamma=0.5),
                             **common, **extra)
    if case == "sgd-early-stopping":
        return MLPClassifier(solver="sgd", momentum=0.9, learning_rate_init=0.05,
                             learning_rate=S.CosineAnnealing(period=40, unit="epoch"),
                             early_stopping=True, n_iter_no_change=100, **common, **extra)
    raise ValueError(case)
"""

CHILD = """
import sys, time
import sklr._checkpoint as checkpoint_module
from sklr import Checkpoint
{cases}
# Slow each save down, so that the parent can kill this process mid-fit.
dump = checkpoint_module.atomic_dump
def slow_dump(obj, path):
    dump(obj, path)
    time.sleep(0.05)
checkpoint_module.atomic_dump = slow_dump
make_estimator(sys.argv[1], checkpoint=Checkpoint(sys.argv[2])).fit(X, y)
print("FINISHED", flush=True)
"""


def _cases():
    namespace = {}
    exec(CASES_SOURCE, namespace)
    return namespace


class Capture:
    """A picklable checkpoint callable keeping each save as pickle bytes (not pickled)."""

    def __init__(self):
        self.saved = {}

    def __call__(self, est, epoch):
        self.saved[epoch] = pickle.dumps(est)

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.saved = {}


def _epoch_of(path):
    return int(re.search(r"-(\d+)\.joblib$", path).group(1))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("case", ["adam-stepdecay", "sgd-early-stopping"])
def test_fit_killed_mid_fit_resumes_bit_for_bit(tmp_path, case):
    template = str(tmp_path / "mlp-{fit_id}-{epoch}.joblib")
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(cases=CASES_SOURCE))
    child = subprocess.Popen([sys.executable, str(script), case, template],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and child.poll() is None:
            if any(_epoch_of(p) >= 5 for p in glob.glob(str(tmp_path / "mlp-*.joblib"))):
                break
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, out + err
    assert "FINISHED" not in out

    files = sorted(glob.glob(str(tmp_path / "mlp-*.joblib")), key=_epoch_of)
    assert len({re.search(r"mlp-([0-9a-f]+)-", p).group(1) for p in files}) == 1
    for path in files:  # every file there is complete (atomic writes)
        assert joblib.load(path).n_iter_ == _epoch_of(path)
    resumed = load_checkpoint(template)
    assert resumed.n_iter_ == _epoch_of(files[-1]) < 30

    cases = _cases()
    X, y = cases["X"], cases["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = cases["make_estimator"](case).fit(X, y)
        resumed.set_params(warm_start=True).fit(X, y)
    assert reference.n_iter_ == 30
    assert_same_fit(resumed, reference)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16, y[:500], X[500:600] / 16, y[500:600]


IN_PROCESS = {
    "ema-dropout": (MLPClassifier, dict(solver="adam", dropout=0.2, averaging=EMA(momentum=0.9))),
    "nadam-swa-plateau-xval": (MLPClassifier, dict(
        solver=optimizers.NAdam(), averaging=SWA(start_epoch=3),
        learning_rate=S.ReduceOnPlateau(monitor="val_loss", patience=0))),
    "sgd-invscaling-noshuffle": (MLPClassifier, dict(
        solver="sgd", learning_rate="invscaling", shuffle=False)),
    "sgd-adaptive": (MLPClassifier, dict(
        solver="sgd", learning_rate="adaptive", n_iter_no_change=1, tol=1.0)),
    "early-stopping-stops": (MLPClassifier, dict(
        solver="sgd", early_stopping=True, n_iter_no_change=2, tol=0.05)),
    "lr-auto": (MLPClassifier, dict(learning_rate_init="auto")),
    "schedule-free": (MLPClassifier, dict(solver="sfadamw")),
    "regressor-rmsprop-onecycle": (MLPRegressor, dict(
        solver="rmsprop", learning_rate=S.OneCycle(total=80, unit="step"))),
    "onecycle-fraction": (MLPClassifier, dict(solver="sgd", learning_rate=S.OneCycle())),
}


@pytest.mark.parametrize("name", IN_PROCESS)
def test_resume_from_every_checkpoint_matches_uninterrupted_fit(digits, name):
    X, y, X_val, y_val = digits
    cls, params = IN_PROCESS[name]
    if cls is MLPRegressor:
        y, y_val = y.astype(float), y_val.astype(float)
    fit_kw = dict(X_val=X_val, y_val=y_val) if "xval" in name else {}
    capture = Capture()
    saved = capture.saved

    common = dict(hidden_layer_sizes=(16,), batch_size=50, max_iter=12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = cls(**common, **params).fit(X, y, **fit_kw)
        cls(**common, **params, checkpoint=Checkpoint(capture, every=2)).fit(X, y, **fit_kw)
    mid_fit = [epoch for epoch in saved if epoch < reference.n_iter_]
    assert mid_fit and max(saved) == reference.n_iter_
    for epoch in mid_fit:
        resumed = pickle.loads(saved[epoch])
        assert resumed.n_iter_ == epoch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resumed.set_params(warm_start=True).fit(X, y, **fit_kw)
        assert_same_fit(resumed, reference)
    final = pickle.loads(saved[max(saved)])  # the end save is the fitted model
    for a, b in zip(final.coefs_, reference.coefs_):
        assert_array_equal(a, b)


def test_partial_fit_loop_resumes_from_its_checkpoints(tmp_path, digits):
    X, y, _, _ = digits
    template = str(tmp_path / "m-{fit_id}-{epoch:03d}.joblib")
    params = dict(hidden_layer_sizes=(16,), batch_size=50, random_state=0,
                  solver=optimizers.Adam(), learning_rate=S.StepDecay(step_size=2))
    reference = MLPClassifier(**params)
    interrupted = MLPClassifier(**params, checkpoint=Checkpoint(template, every=2))
    classes = np.unique(y)
    for _ in range(6):
        reference.partial_fit(X, y, classes=classes)
    for _ in range(5):  # saves after epochs 2 and 4 only
        interrupted.partial_fit(X, y, classes=classes)
    names = sorted(os.listdir(tmp_path))
    assert [name[-10:] for name in names] == ["002.joblib", "004.joblib"]
    resumed = load_checkpoint(template)
    assert resumed.n_iter_ == 1 and resumed._state.n_epochs == 4
    for _ in range(2):
        resumed.partial_fit(X, y)
    assert_same_fit(resumed, reference)


def _raise_from_epoch(epoch):
    """A Lambda schedule that presses Ctrl-C when asked for epoch >= STOP_AT."""
    if _raise_from_epoch.stop_at is not None and np.max(epoch) >= _raise_from_epoch.stop_at:
        raise KeyboardInterrupt
    return np.ones_like(epoch)


_raise_from_epoch.stop_at = None


def test_ctrl_c_saves_a_resumable_checkpoint(tmp_path, digits):
    X, y, _, _ = digits
    template = str(tmp_path / "m-{fit_id}-{epoch}.joblib")
    params = dict(hidden_layer_sizes=(16,), batch_size=50, max_iter=10, random_state=0,
                  learning_rate=S.Lambda(_raise_from_epoch))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = MLPClassifier(**params).fit(X, y)
        _raise_from_epoch.stop_at = 6  # inside the 7th epoch
        try:
            with pytest.warns(UserWarning, match="interrupted"):
                MLPClassifier(**params, checkpoint=Checkpoint(template, every=4)).fit(X, y)
        finally:
            _raise_from_epoch.stop_at = None
        resumed = load_checkpoint(template)
        assert resumed.n_iter_ == 6
        resumed.set_params(warm_start=True).fit(X, y)
    assert_same_fit(resumed, reference)


def test_grid_search_in_parallel_writes_distinct_loadable_files(tmp_path, digits):
    X, y, _, _ = digits
    template = str(tmp_path / "m-{fit_id}-{epoch}.joblib")
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                        checkpoint=Checkpoint(template))
    grid = {"learning_rate_init": [1e-3, 1e-2, 3e-2]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X, y)
    files = glob.glob(str(tmp_path / "*"))
    # 3 candidates x 2 folds + the refit, 3 epochs each: one file per fit and epoch.
    assert len(files) == 7 * 3
    by_fit = {}
    for path in files:
        fit_id, epoch = re.fullmatch(r".*m-([0-9a-f]{12})-(\d)\.joblib", path).groups()
        model = joblib.load(path)
        assert model.n_iter_ == int(epoch)
        by_fit.setdefault(fit_id, set()).add(model.learning_rate_init)
    assert len(by_fit) == 7
    assert all(len(rates) == 1 for rates in by_fit.values())
    rates = sorted(r for (r,) in by_fit.values())
    assert rates.count(1e-3) + rates.count(1e-2) + rates.count(3e-2) == 7


def test_keep_deletes_older_files_of_the_fit(tmp_path, digits):
    X, y, _, _ = digits
    template = str(tmp_path / "sub" / "m-{fit_id}-{epoch:02d}.joblib")  # sub/ is created
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=7, random_state=0,
                      checkpoint=Checkpoint(template, every=2, keep=2)).fit(X, y)
    names = sorted(os.listdir(tmp_path / "sub"))
    assert [n[-9:] for n in names] == ["06.joblib", "07.joblib"]


def test_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, digits, monkeypatch):
    X, y, _, _ = digits
    template = str(tmp_path / "m-{fit_id}.joblib")  # no {epoch}: each save replaces
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0,
                        checkpoint=Checkpoint(template, every=2))
    real_dump = joblib.dump
    calls = []

    def failing_dump(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            f.write(b"partial")
            raise OSError("disk full")
        return real_dump(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.joblib, "dump", failing_dump)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OSError, match="disk full"):
            est.fit(X, y)
    (name,) = os.listdir(tmp_path)
    assert joblib.load(tmp_path / name).n_iter_ == 2


def test_lbfgs_saves_at_the_end(tmp_path, digits):
    X, y, _, _ = digits
    template = str(tmp_path / "m-{fit_id}-{epoch}.joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(solver="lbfgs", hidden_layer_sizes=(8,), max_iter=5,
                            random_state=0, checkpoint=template).fit(X, y)
    (name,) = os.listdir(tmp_path)
    assert name.endswith(f"-{est.n_iter_}.joblib")
    assert_array_equal(load_checkpoint(template).coefs_[0], est.coefs_[0])


def test_resuming_needs_warm_start_and_the_same_rows(tmp_path, digits):
    X, y, _, _ = digits
    capture = Capture()
    saved = capture.saved
    params = dict(hidden_layer_sizes=(8,), max_iter=6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(**params, checkpoint=Checkpoint(capture, every=3)).fit(X, y)
    loaded = pickle.loads(saved[3])
    loaded.set_params(checkpoint=None)
    with pytest.warns(UserWarning, match="set warm_start=True"):
        loaded.fit(X, y)
    assert loaded.n_iter_ == 6 and len(loaded.loss_curve_) == 6  # a fresh fit
    loaded = pickle.loads(saved[3]).set_params(warm_start=True, checkpoint=None)
    with pytest.raises(ValueError, match="500 training rows; this fit has 400"):
        loaded.fit(X[:400], y[:400])


def test_parameter_object_and_template_validation(tmp_path, digits):
    X, y, _, _ = digits
    est = MLPClassifier(checkpoint=Checkpoint("a/m-{fit_id}-{epoch}.joblib", every=5))
    params = est.get_params(deep=True)
    assert params["checkpoint__every"] == 5 and params["checkpoint__keep"] is None
    est.set_params(checkpoint__every=7)
    assert clone(est).checkpoint == Checkpoint("a/m-{fit_id}-{epoch}.joblib", every=7)
    bad = {
        str(tmp_path / "m-{epoch}.joblib"): "no {fit_id} field",
        str(tmp_path / "m-{fit_id}-{step}.joblib"): "unknown field {step}",
        str(tmp_path / "m-{fit_id}-{epoch"): "not a valid template",
        str(tmp_path / "m-{fit_id:>4}.joblib"): "takes no format spec",
    }
    for path, message in bad.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            MLPClassifier(max_iter=1, checkpoint=path).fit(X, y)
    with pytest.raises(ValueError, match="needs a path template"):
        MLPClassifier(max_iter=1, checkpoint=Checkpoint(print, keep=2)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="every"):
        MLPClassifier(max_iter=1, checkpoint=Checkpoint(print, every=0)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="checkpoint"):
        MLPClassifier(max_iter=1, checkpoint=3).fit(X, y)
    assert os.listdir(tmp_path) == []


def test_load_checkpoint_finds_the_newest_file_of_a_template(tmp_path, digits):
    X, y, _, _ = digits
    template = str(tmp_path / "m-{fit_id}-{epoch}.joblib")
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in (0, 1):
            fits.append(MLPClassifier(hidden_layer_sizes=(8,), max_iter=11, random_state=seed,
                                      checkpoint=Checkpoint(template, every=5)).fit(X, y))
    ids = sorted({re.search(r"m-([0-9a-f]+)-", n).group(1) for n in os.listdir(tmp_path)})
    assert len(ids) == 2
    with pytest.raises(ValueError, match="Checkpoints of 2 fits match"):
        load_checkpoint(template)
    for fit_id in ids:
        est = load_checkpoint(template, fit_id=fit_id)
        assert est.n_iter_ == 11  # 11 > 10 > 5: numbers, not strings, are compared
        (original,) = [f for f in fits if f.random_state == est.random_state]
        assert_array_equal(est.coefs_[0], original.coefs_[0])
    (tmp_path / "m-abc-3.joblib.tmp").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="No checkpoint file matches"):
        load_checkpoint(template, fit_id="abc")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.joblib")
    joblib.dump({"not": "an estimator"}, tmp_path / "other.joblib")
    with pytest.raises(TypeError, match="not an sklr estimator"):
        load_checkpoint(tmp_path / "other.joblib")


def test_public_names_and_doctests():
    import doctest

    assert sklr.Checkpoint is Checkpoint and "load_checkpoint" in sklr.__all__
    result = doctest.testmod(checkpoint_module)
    assert result.attempted > 0 and result.failed == 0
