"""
===============================================
Learning dynamics of a good and a too-high rate
===============================================

Train the same network on the digits twice, with SGD (Nesterov momentum
0.9) at a learning rate of 0.01 and at 0.3, and record what happens inside
each layer with ``record_dynamics``: the size of each update relative to
the weights, the fraction of dead ReLU units, the weight norms, and the
sharpness of the loss (the top eigenvalue of its Hessian) against the
largest sharpness at which the rate is stable.

At 0.01 every layer's update stays near the rule of thumb of a thousandth
of its weights, almost no unit dies, and the sharpness stays far below the
stability limit. At 0.3 the first updates move the weights by several
percent; within two epochs most first-layer ReLU units are dead (no
training row activates them, so they never learn again), the weights grow
several-fold, and the sharpness reaches the limit, the "edge of
stability" (Cohen et al., 2021). The loss curve alone shows a network that
trains badly; these plots show why.
"""

# %%
# Two fits that record their dynamics
# -----------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklr import Dynamics, MLPClassifier
from sklr.inspection import DynamicsDisplay

# Both fits run max_iter epochs on purpose: no warning.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fits = {}
for rate in (0.01, 0.3):
    clf = MLPClassifier(
        hidden_layer_sizes=(64, 32), solver="sgd", learning_rate_init=rate,
        batch_size=32, max_iter=20, n_iter_no_change=np.inf, random_state=0,
        # per-layer statistics every epoch, the sharpness every other epoch
        record_dynamics=Dynamics(sharpness_every=2),
    )
    fits[rate] = clf.fit(X_train, y_train)

# %%
# What the history says
# ---------------------
# The first layer's update/weight ratio in the first and last epoch, its
# fraction of dead units at the end, and the largest sharpness measured as
# a fraction of the stability limit (1 = at the edge).
print("rate  train accuracy  test accuracy  ratio first  ratio last  dead  sharpness/limit")
for rate, clf in fits.items():
    h = clf.history_
    ratio = h["update_ratio_layer0"]
    edge = np.nanmax(h["sharpness"] / h["sharpness_limit"])
    print(f"{rate:4g}  {clf.score(X_train, y_train):14.3f}  {clf.score(X_test, y_test):13.3f}"
          f"  {ratio[0]:11.2g}  {ratio[-1]:10.2g}  {h['dead_fraction_layer0'][-1]:4.2f}"
          f"  {edge:15.2f}")

# %%
# The plots
# ---------
# One row per rate. The shaded band on the update ratios is the rule of
# thumb around 1e-3; the dashed line beside the sharpness is the stability
# limit of SGD with Nesterov momentum, (2 + 2 mu) / (rate (1 + 2 mu)).
panels = ["update_ratio", "dead_fraction", "weight_norm", "sharpness"]
fig, axes = plt.subplots(2, 4, figsize=(15, 6), layout="constrained")
for row, (rate, clf) in zip(axes, fits.items()):
    DynamicsDisplay.from_estimator(clf, panels=panels, ax=row)
    row[0].set_title(f"learning_rate_init={rate}", loc="left")
fig.suptitle("Learning dynamics on the digits: a good rate (top), a too-high one (bottom)")
plt.show()
