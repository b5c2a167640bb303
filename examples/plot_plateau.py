"""
=======================================
Reducing the learning rate on a plateau
=======================================

Divide the learning rate by ten whenever the validation loss has stopped
improving for a while, for four values of the patience (2, 5, 10 and 15
epochs), and draw the training and test accuracy of the three-blob network
of :ref:`sphx_glr_auto_examples_plot_learning_rate.py` per epoch, then the
learning rate itself: the plateau study of the classic Keras tutorial.

:class:`sklr.schedules.ReduceOnPlateau` is a feedback schedule: after each
epoch the estimator hands it the monitored value, here ``'val_loss'``, the
loss on the data given to ``fit`` as ``X_val``/``y_val`` (the test half of
the blobs). ``threshold_mode='abs'`` with the default ``threshold=1e-4``
and ``patience_convention='keras'`` make it count exactly as Keras'
``ReduceLROnPlateau`` callback with its default ``min_delta=1e-4``: an
epoch improves when the loss drops by more than 1e-4 below the best so
far, and the rate is cut once ``patience`` epochs in a row have not
improved.

``min_value=1e-4`` stops the reductions at a rate of 1e-6 (the floor is a
multiple of ``learning_rate_init``, like every schedule value).

The shorter the patience, the earlier the first cut, and once the rate is
tiny the loss cannot improve any more, so the cuts then follow one another
every ``patience`` epochs down to the floor and the accuracy curves go flat.
On this easy problem the network has learned most of what it can before the
first cut, so the final accuracies hardly differ; the second figure, drawn
from the same histories, shows when each run was cut.
"""

# %%
# The data and the network
# ------------------------
# The tutorial's three blobs, split 500/500, and one hidden layer of 50
# ReLU units trained by SGD without momentum for 200 epochs in batches of
# 32, starting at a rate of 0.01.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier
from sklr.inspection import TrainingHistoryDisplay
from sklr.model_selection import training_curves
from sklr.schedules import ReduceOnPlateau

# Every run lasts max_iter epochs on purpose: do not warn about it.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_blobs(n_samples=1000, centers=3, n_features=2,
                  cluster_std=2, random_state=2)
X_train, y_train = X[:500], y[:500]
X_test, y_test = X[500:], y[500:]

plateau = ReduceOnPlateau(
    monitor="val_loss", factor=0.1, threshold_mode="abs",
    min_value=1e-4, patience_convention="keras",
)
clf = MLPClassifier(
    hidden_layer_sizes=(50,), activation="relu", solver="sgd",
    learning_rate_init=0.01, learning_rate=plateau, momentum=0.0,
    batch_size=32, max_iter=200, n_iter_no_change=np.inf,
    record_train_score=True, random_state=1,
)

# %%
# One fit per patience
# --------------------
curves = training_curves(clf, X_train, y_train,
                         param_name="learning_rate__patience",
                         param_range=[2, 5, 10, 15],
                         X_val=X_test, y_val=y_test)

# %%
# Final accuracy
# --------------
# The accuracy after the 200th epoch, and the epochs whose rate is a tenth
# of the previous epoch's: the cuts.
print("patience  train accuracy  test accuracy  rate cut at epochs")
for patience, history in zip(curves.param_range, curves.histories):
    train, test = history["score"][-1], history["val_score"][-1]
    rate = history["learning_rate"]
    cuts = np.flatnonzero(rate[1:] < 0.5 * rate[:-1]) + 2
    cut_list = ", ".join(map(str, cuts))
    print(f"{patience:8d}  {train:14.3f}  {test:13.3f}  {cut_list}")

# %%
# Accuracy per epoch
# ------------------
title = "Training (score) and test (val_score) accuracy, by patience"
TrainingHistoryDisplay.from_training_curves(curves, title=title)

# %%
# The learning rate per epoch
# ---------------------------
# The same histories hold the rate of every epoch: no refit needed.
rates = TrainingHistoryDisplay.from_training_curves(
    curves, metrics="learning_rate", title="Learning rate, by patience")
for ax in rates.axes_.flat:
    ax.set_yscale("log")
plt.show()
