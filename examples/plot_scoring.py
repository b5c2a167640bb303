"""
=================
Watching a metric
=================

``scoring`` decides what every epoch measures on the validation data and
what early stopping watches, as in scikit-learn's
``HistGradientBoostingClassifier``. Here a digits classifier records the
validation log loss, one-vs-rest ROC AUC and accuracy after every epoch; the
first of them, the log loss, decides when training stops, and
:class:`sklr.schedules.ReduceOnPlateau` watches the same key, so the rate is
cut whenever the log loss stalls, before early stopping gives up on it.

The values are scikit-learn scorers' values, greater is better: the log loss
is recorded as ``'val_neg_log_loss'``, minus the log loss, and the plateau
maximises it (its ``mode='auto'`` knows the fit's scorers). All three come
from the one forward pass over the validation data that each epoch already
makes for ``'val_loss'``, and each equals
``sklearn.metrics.get_scorer(name)(clf, X_val, y_val)`` for that epoch's
weights. With early stopping the fit ends on the weights of its best epoch
(``restore_best_weights='auto'``, scikit-learn's behaviour).
"""

# %%
# The data and the network
# ------------------------
# The digits, scaled to [0, 1]: two thirds train, one third validates.
# SGD starts at a large rate, 0.2, that will need cutting.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split

from sklr import MLPClassifier
from sklr.inspection import TrainingHistoryDisplay
from sklr.schedules import ReduceOnPlateau

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=1 / 3, random_state=0,
                                                  stratify=y)

scoring = ["neg_log_loss", "roc_auc_ovr", "accuracy"]
clf = MLPClassifier(
    hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.2,
    early_stopping=True, n_iter_no_change=10, scoring=scoring,
    learning_rate=ReduceOnPlateau(monitor="val_neg_log_loss", factor=0.2, patience=3),
    max_iter=200, random_state=0,
)
clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)

# %%
# What the fit recorded
# ---------------------
# One column per metric, and the epoch the weights come from.
h = clf.history_
best = int(np.argmax(h["val_neg_log_loss"]))
cuts = np.flatnonzero(np.diff(h["learning_rate"])) + 2
print(f"stopped after {clf.n_iter_} epochs; rate cut after epochs {', '.join(map(str, cuts))}")
print(f"best epoch: {best + 1}")
print("metric          best epoch   final model")
for name in scoring:
    final = get_scorer(name)(clf, X_val, y_val)
    print(f"{name:14s}  {h['val_' + name][best]:10.4f}   {final:11.4f}")

# %%
# The metrics and the rate per epoch
# ----------------------------------
# The plateau cuts the rate by 5 each time the log loss has not improved
# for four epochs, and a cut can bring it down again (here the first one
# does); early stopping ends the fit once eleven epochs in a row bring no
# improvement of ``tol``. The ROC AUC and the accuracy, recorded alongside,
# follow. The dotted line marks the best epoch, whose weights the model
# keeps.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), layout="constrained")
TrainingHistoryDisplay.from_estimator(clf, metrics=["val_neg_log_loss"], ax=axes[0])
axes[0].set_ylim(-0.4, None)  # the tail, where the plateau acts
TrainingHistoryDisplay.from_estimator(clf, metrics=["val_roc_auc_ovr", "val_accuracy"],
                                      ax=axes[1])
TrainingHistoryDisplay.from_estimator(clf, metrics=["learning_rate"], ax=axes[2])
axes[2].set_yscale("log")
for ax in axes:
    ax.axvline(best + 1, color="grey", linestyle=":")
plt.show()
