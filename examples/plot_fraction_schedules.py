"""
==========================
Schedules sized by the fit
==========================

Fit the three-blob network with the same one-cycle schedule under two
training lengths: 30 epochs in batches of 32 (16 updates an epoch, 480 in
all) and 60 epochs in batches of 128 (4 updates an epoch, 240 in all), as
a grid search over ``batch_size`` and ``max_iter`` would.

- :class:`~sklr.schedules.OneCycle` left at its defaults counts in
  ``unit='fraction'``: 0 at the first update of the fit, 1 at the last one
  it plans (``max_iter`` epochs of updates). Both fits run the whole
  cycle, warm up over their first quarter and end at the final rate.
- The same cycle written for the first setting, ``OneCycle(total=480,
  unit='step')``, is only right for it: the second fit stops half way
  through the cycle, still at three quarters of the peak rate, and a fit
  of 60 epochs in batches of 32 (960 updates) would finish the cycle
  after 30 epochs and train the other 30 at 4e-6 times the peak rate.
  ``fit`` warns about that one
  (:class:`~sklr.exceptions.ScheduleEndWarning`).

``history_['fraction']`` records how far through its plan each epoch of a
fit got, which is what the left panel draws the rates against.
"""

# %%
# The data and the fits
# ---------------------
# The tutorial's three blobs, split 500/500, one hidden layer of 50 ReLU
# units trained by SGD with momentum; ``learning_rate_init`` is the peak.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier
from sklr.exceptions import ScheduleEndWarning
from sklr.schedules import OneCycle

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_blobs(n_samples=1000, centers=3, n_features=2,
                  cluster_std=2, random_state=2)
X_train, y_train = X[:500], y[:500]
X_test, y_test = X[500:], y[500:]

settings = {"30 epochs of 16 updates": dict(batch_size=32, max_iter=30),
            "60 epochs of 4 updates": dict(batch_size=128, max_iter=60)}
schedules = {"OneCycle()": OneCycle(),
             "OneCycle(total=480, unit='step')": OneCycle(total=480, unit="step")}

fits = {}
for schedule_name, schedule in schedules.items():
    for setting, params in settings.items():
        clf = MLPClassifier(hidden_layer_sizes=(50,), solver="sgd",
                            learning_rate=schedule, learning_rate_init=0.1,
                            n_iter_no_change=np.inf, random_state=1, **params)
        fits[schedule_name, setting] = clf.fit(X_train, y_train)

print(f"{'schedule':34} {'setting':24} {'last lr':>9} {'test accuracy':>14}")
for (schedule_name, setting), clf in fits.items():
    print(f"{schedule_name:34} {setting:24} {clf.history_['learning_rate'][-1]:9.2g} "
          f"{clf.score(X_test, y_test):14.3f}")

# %%
# A plan that no longer matches the fit warns
# -------------------------------------------
# 60 epochs in batches of 32 make 960 updates; a cycle of 480 ends half way.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ScheduleEndWarning)
    MLPClassifier(hidden_layer_sizes=(50,), solver="sgd", batch_size=32, max_iter=60,
                  learning_rate=OneCycle(total=480, unit="step"), learning_rate_init=0.1,
                  n_iter_no_change=np.inf, random_state=1).fit(X_train, y_train)
print(*[str(w.message) for w in caught if w.category is ScheduleEndWarning], sep="\n")

# %%
# The rate at the end of each epoch
# ---------------------------------
# Left: sized by the fit, the two fits draw one cycle against the fraction
# of their plan. Right: counted in updates, the same cycle against the
# epoch: only the first setting completes it.
fig, (ax_fraction, ax_steps) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained",
                                            sharey=True)
for setting in settings:
    clf = fits["OneCycle()", setting]
    ax_fraction.plot(clf.history_["fraction"], clf.history_["learning_rate"],
                     marker=".", label=setting)
    clf = fits["OneCycle(total=480, unit='step')", setting]
    epochs = np.arange(1, clf.n_iter_ + 1)
    ax_steps.plot(epochs, clf.history_["learning_rate"], marker=".", label=setting)
ax_fraction.set(title="OneCycle()", xlabel="Fraction of the planned updates",
                ylabel="Learning rate", yscale="log")
ax_steps.set(title="OneCycle(total=480, unit='step')", xlabel="Epoch")
ax_fraction.legend()
ax_steps.legend()
plt.show()
