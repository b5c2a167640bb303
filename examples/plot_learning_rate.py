"""
===========================
Effect of the learning rate
===========================

Train the same small network eight times, with the learning rate going
down by factors of ten from 1 to 1e-7, and draw the training and test
accuracy after every epoch: the first study of the classic Keras tutorial
on learning rates, on its three-blob problem.

What to look for: at 1 the accuracy jumps from epoch to epoch and stays
poor; at 0.1 the network learns within a few epochs, but the curves stay
noisy; at 0.01 it takes a few dozen epochs and then holds steady; at 1e-3
and 1e-4 it is still learning after 200 epochs; below that the rate is so
small that the network learns nothing at all.
"""

# %%
# The data and the network
# ------------------------
# Three Gaussian blobs in two dimensions (1000 points, the first 500 for
# training and the last 500 for testing). The network has one hidden layer
# of 50 ReLU units and a softmax output, and trains for 200 epochs with
# plain minibatch SGD (batch size 32, no momentum). With
# ``n_iter_no_change=np.inf`` no fit stops early, so every run lasts
# exactly 200 epochs.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier
from sklr.inspection import TrainingHistoryDisplay
from sklr.model_selection import training_curves

# Every run lasts max_iter epochs on purpose: do not warn about it.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_blobs(n_samples=1000, centers=3, n_features=2,
                  cluster_std=2, random_state=2)
X_train, y_train = X[:500], y[:500]
X_test, y_test = X[500:], y[500:]

clf = MLPClassifier(
    hidden_layer_sizes=(50,), activation="relu", solver="sgd",
    momentum=0.0, batch_size=32, max_iter=200, n_iter_no_change=np.inf,
    record_train_score=True, random_state=1,
)

# %%
# One fit per learning rate
# -------------------------
# :func:`sklr.model_selection.training_curves` runs the eight fits. It
# passes the test set to each ``fit`` as ``X_val``/``y_val``, so every
# history holds the test accuracy per epoch (``'val_score'``);
# ``record_train_score=True`` adds the training accuracy (``'score'``).
rates = [1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7]
curves = training_curves(clf, X_train, y_train,
                         param_name="learning_rate_init",
                         param_range=rates, X_val=X_test, y_val=y_test)

# %%
# Final accuracy
# --------------
# The accuracy after the 200th epoch, one row per learning rate.
print("learning_rate_init  train accuracy  test accuracy")
for rate, history in zip(curves.param_range, curves.histories):
    train, test = history["score"][-1], history["val_score"][-1]
    print(f"{rate:18g}  {train:14.3f}  {test:13.3f}")

# %%
# Accuracy per epoch
# ------------------
# One panel per learning rate, as in the tutorial's figure.
title = "Training (score) and test (val_score) accuracy, by rate"
TrainingHistoryDisplay.from_training_curves(curves, ncols=2,
                                            title=title)
plt.show()

# %%
# A rate can also be so large that the weights overflow. With validation
# data, as here, ``fit`` then stops at the first non-finite epoch, keeps the
# weights of the best validation score (as scikit-learn's early stopping
# does) and warns; that epoch is recorded as NaN, so the panel shows where
# it blew up. Without validation data ``fit`` raises a ``ValueError`` and
# ``training_curves`` keeps the history up to the last finite epoch. On
# this data even a rate of 1 stays finite.
