"""Ctrl-C during fit: seen between minibatches, and the model stays consistent."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = textwrap.dedent("""
    import signal, sys, time, warnings
    # A shell running us in the background may have started us with SIGINT
    # ignored (then Python installs no KeyboardInterrupt handler): restore it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    from sklearn.datasets import make_classification
    from sklr import MLPClassifier

    X, y = make_classification(n_samples=40000, n_features=200, random_state=0)
    params = dict(hidden_layer_sizes=(256, 128), batch_size=50, max_iter=20,
                  random_state=0, verbose=True, tol=0, n_iter_no_change=10**9)
    clf = MLPClassifier(**params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    print("RETURNED", time.time(), flush=True)
    assert any("interrupted" in str(w.message) for w in caught), "no warning"
    n = clf.n_iter_
    assert n == len(clf.loss_curve_) == clf.history_.n_epochs, "counters disagree"
    assert clf.t_ == n * X.shape[0], "t_ disagrees"
    # The weights are those of an uninterrupted fit of n epochs.
    ref = MLPClassifier(**dict(params, max_iter=n, verbose=False)).fit(X, y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clf.loss_curve_, ref.loss_curve_)
    print("CONSISTENT", n, flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_sigint_stops_fit_between_minibatches_and_rolls_back_the_epoch(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        # Wait for the end of the first epoch, then interrupt the second one
        # after it has run for a while (an epoch takes seconds here).
        first_epoch_seconds = None
        for line in child.stdout:
            if line.startswith("Iteration 1,"):  # verbose ends with ", time = 1.234s"
                first_epoch_seconds = float(line.rsplit("time = ", 1)[1].rstrip().rstrip("s"))
                break
        assert first_epoch_seconds is not None, child.stderr.read()
        time.sleep(min(0.5, first_epoch_seconds / 3))
        sent = time.time()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=600)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    returned = float(next(l for l in out.splitlines() if l.startswith("RETURNED")).split()[1])
    latency = returned - sent
    # Seen between minibatches: well before the epoch would have ended.
    assert latency < min(1.0, 0.5 * first_epoch_seconds), (latency, first_epoch_seconds)
    assert "CONSISTENT 1" in out, out + err
