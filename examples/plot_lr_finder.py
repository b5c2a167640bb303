"""
=======================
Finding a learning rate
=======================

Run a learning-rate range test on the digits data set, plot it, and then
let the estimator run the same test by itself with
``learning_rate_init='auto'``.

:func:`sklr.find_learning_rate` trains a copy of the estimator for 100
minibatch updates while the rate grows geometrically from 1e-7 to 10, and
records the loss of each update. The loss first barely moves (the rate is
too small to matter), then falls, then explodes (the rate is too large).
Good rates lie on the falling part, somewhat before the minimum. The
result proposes a rate by several rules (``'steep'``, ``'minimum'``,
``'valley'`` and sklr's own ``'sklr'``); the plot marks them all.

These rules are heuristics read off one short, noisy run: treat the
suggestion as a good starting point, not as the best rate. The second part
compares the automatic choice with a few fixed rates; the third runs the
test on a regression, whose curve spikes and settles in a second, useless
valley that a lagging moving average mistakes for the minimum.
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklr import MLPClassifier, MLPRegressor, find_learning_rate

# The short fits below stop at max_iter on purpose: no warning.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities 0..16 scaled to [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y,
                                                    random_state=0)

clf = MLPClassifier(
    hidden_layer_sizes=(64,), solver="sgd", batch_size=32, max_iter=30,
    random_state=0,
)

# %%
# The range test
# --------------
# It clones ``clf`` and leaves it unfitted. The legend names each rule and
# how it reads the curve; ``'minimum'`` is a tenth of the rate at the
# lowest smoothed loss, to the left of that point.
result = find_learning_rate(clf, X_train, y_train)
for rule, rate in result.suggestions.items():
    print(f"{rule:>7}: {rate:.3g}")
result.plot(title="Range test on digits, SGD with momentum 0.9")

# %%
# The automatic rate against fixed ones
# -------------------------------------
# ``learning_rate_init='auto'`` runs the same test inside ``fit`` and
# trains with ``result.suggestion``.
auto = clone(clf).set_params(learning_rate_init="auto")
auto.fit(X_train, y_train)
print("learning_rate_init  test accuracy")
accuracy = auto.score(X_test, y_test)
print(f"{auto.learning_rate_init_:12.3g} (auto)  {accuracy:13.3f}")
for rate in [1e-3, 1e-2, 1e-1, 1.0]:
    fixed = clone(clf).set_params(learning_rate_init=rate)
    fixed.fit(X_train, y_train)
    accuracy = fixed.score(X_test, y_test)
    print(f"{rate:18g}  {accuracy:13.3f}")

# %%
# A regression
# ------------
# ``load_diabetes`` as shipped: the targets run from 25 to 346, so the loss
# starts near 14,500 and most of its fall is the network learning their
# mean. At a rate slightly too large the loss spikes once, then settles on
# a network of dead units that predicts the mean: a second valley, as low
# as the first. fastai's moving average (solid) remembers the spike for
# tens of updates, and its minimum moves into that valley; the ``'sklr'``
# rule reads the lag-free curve (dotted) and stops at the first rise. A log
# scale shows the whole descent.
X_reg, y_reg = load_diabetes(return_X_y=True)
X_reg_train, X_reg_test, y_reg_train, y_reg_test = train_test_split(
    X_reg, y_reg, random_state=2
)
reg = MLPRegressor(solver="sgd", max_iter=100, random_state=2)
reg_result = find_learning_rate(reg, X_reg_train, y_reg_train)
print(reg_result)
reg_result.plot(yscale="log", title="Range test on diabetes, SGD with momentum 0.9")

# %%
# The rate it suggests trains about as well as the default 1e-3; fastai's
# rules, read off the moving average, pick rates that end with a network
# that predicts the mean (R² near 0) or diverges.
print("learning_rate_init        test R²")
for label, rate in [("auto", "auto"), ("default", 1e-3),
                    ("'valley'", reg_result.suggestions["valley"]),
                    ("'minimum'", reg_result.suggestions["minimum"])]:
    fitted = clone(reg).set_params(learning_rate_init=rate)
    try:
        score = fitted.fit(X_reg_train, y_reg_train).score(X_reg_test, y_reg_test)
    except ValueError:  # diverged
        score = float("nan")
    used = fitted.learning_rate_init_ if rate == "auto" else rate
    print(f"{used:9.3g} {label:>11}  {score:9.3f}")

plt.show()
