#!/usr/bin/env python
"""Random-configuration parity check of sklr against scikit-learn's MLP.

Draws N random configurations (target type, network, activation, solver,
batch size, learning-rate shape, momentum, early stopping, sample weights,
...) from a seed, fits scikit-learn's estimator and sklr's on the same data
and reports every configuration whose loss curve (rtol 1e-6), n_iter_ or
coefficients (atol 1e-6) differ, or where only one of them raises.

    python benchmarks/parity_fuzz.py SEED N      # e.g. 1 250

Large rates with batch size 1 are chaotic: rounding differences of 1e-16 can
grow past 1e-6 within a few epochs, so an occasional such report is expected;
a systematic one is a bug. The regular test suite (tests/test_parity.py)
holds the deterministic matrix.
"""
import random
import sys
import warnings

import numpy as np
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification, make_regression, make_multilabel_classification
from sklearn.neural_network import MLPClassifier as SKC, MLPRegressor as SKR
from sklr import MLPClassifier as SLC, MLPRegressor as SLR
rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
bad = 0
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 60):
    kind = rng.choice(["bin", "multi", "multilabel", "reg", "poisson"])
    n = rng.choice([7, 40, 123])
    f = rng.choice([1, 3, 11])
    if kind in ("bin", "multi"):
        X, y = make_classification(n_samples=n, n_features=max(f, 4), n_informative=2, n_redundant=0, n_classes=2 if kind == "bin" else 3, n_clusters_per_class=1, random_state=i)
    elif kind == "multilabel":
        X, y = make_multilabel_classification(n_samples=n, n_features=f, n_classes=3, random_state=i)
    else:
        X, y = make_regression(n_samples=n, n_features=f, random_state=i); y = y / 100
        if kind == "poisson": y = np.abs(y)
    kw = dict(hidden_layer_sizes=rng.choice([(3,), (5, 4), (2, 3, 2)]), activation=rng.choice(["relu", "tanh", "logistic", "identity"]),
              solver=rng.choice(["sgd", "adam", "lbfgs"]), alpha=rng.choice([0, 1e-4, 0.1]), batch_size=rng.choice(["auto", 1, 5, 500]),
              learning_rate=rng.choice(["constant", "invscaling", "adaptive"]), learning_rate_init=rng.choice([0.001, 0.01, 0.1]),
              max_iter=rng.choice([1, 5, 12]), shuffle=rng.choice([True, False]), random_state=i, tol=rng.choice([0, 1e-4, 0.1]),
              momentum=rng.choice([0, 0.5, 0.9]), nesterovs_momentum=rng.choice([True, False]),
              early_stopping=rng.choice([False, True]) if n >= 40 and kind != "multilabel" else False, n_iter_no_change=rng.choice([1, 3, 10]),
              validation_fraction=0.2)
    if kind in ("reg", "poisson"):
        kw["loss"] = "poisson" if kind == "poisson" else "squared_error"
        A, B = SKR, SLR
    else:
        A, B = SKC, SLC
    sw = np.random.RandomState(i).uniform(0.5, 2, n) if rng.random() < 0.3 else None
    try:
        a = A(**kw).fit(X, y, sample_weight=sw); ea = None
    except Exception as e:
        ea = type(e).__name__
    try:
        b = B(**kw).fit(X, y, sample_weight=sw); eb = None
    except Exception as e:
        eb = type(e).__name__ + ": " + str(e)[:80]
    if ea or eb:
        if (ea is None) != (eb is None):
            bad += 1; print("EXC MISMATCH", kind, kw, ea, eb)
        continue
    la = np.array(getattr(a, "loss_curve_", [a.loss_])); lb = np.array(getattr(b, "loss_curve_", [b.loss_]))
    ok = a.n_iter_ == b.n_iter_ and len(la) == len(lb) and np.allclose(la, lb, rtol=1e-6, atol=1e-12) and all(np.allclose(p, q, atol=1e-6) for p, q in zip(a.coefs_, b.coefs_))
    if not ok:
        bad += 1; print("MISMATCH", kind, kw, a.n_iter_, b.n_iter_, la[-3:], lb[-3:])
print("bad", bad)
