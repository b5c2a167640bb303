"""The README's Python snippets run, in order, as one session, and say what they show.

The snippets are the first code a user copies: each block must run as
written (one namespace, as a reader pasting them one after the other), and
the plateau example must do what its text claims.
"""

import pathlib
import re
import warnings

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _snippets():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def namespace():
    if not README.is_file():  # pragma: no cover - an installed copy without the README
        pytest.skip("README.md is not next to the tests")
    matplotlib = pytest.importorskip("matplotlib")  # the tour draws a display
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
        for code in _snippets():
            exec(compile(code, str(README), "exec"), ns)
    plt.close("all")
    return ns


def test_there_are_snippets():
    assert len(_snippets()) >= 5


def test_the_snippets_run(namespace):
    assert "plateau" in namespace and "clf" in namespace


def test_the_plateau_example_reduces_the_rate(namespace):
    """Early stopping and the plateau watch the same validation loss, so the
    plateau, with less patience, reduces the rate before the fit stops."""
    est = namespace["plateau"]
    rates = est.history_["learning_rate"]
    assert rates[0] == pytest.approx(0.2)
    assert rates[-1] <= 0.02 + 1e-12
    assert np.all(np.diff(rates) <= 0)
    # Each drop follows 6 epochs without a relative improvement of 1e-4 of
    # the validation loss (PyTorch's rule, patience 5), read off the record.
    val_loss = est.history_["val_loss"]
    for drop in np.flatnonzero(np.diff(rates)) + 1:
        window = val_loss[drop - 6:drop]
        assert np.all(window >= val_loss[:drop - 6].min() * (1 - 1e-4))
    assert est.n_iter_ < est.max_iter  # early stopping ended it


def test_the_scoring_example_records_both(namespace):
    watch = namespace["watch"]
    assert {"val_neg_log_loss", "val_f1_macro"} <= set(watch.history_)
    np.testing.assert_array_equal(watch.validation_scores_,
                                  watch.history_["val_neg_log_loss"])
