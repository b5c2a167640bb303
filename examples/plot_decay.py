"""
==============================
Time-based learning-rate decay
==============================

Lower the learning rate as training goes on with time-based decay,
``lr0 / (1 + decay * t)``, for four values of ``decay`` (1e-1 to 1e-4),
starting from ``learning_rate_init=0.01``, and draw the training and test
accuracy of the three-blob network of
:ref:`sphx_glr_auto_examples_plot_learning_rate.py` per epoch: the decay
study of the classic Keras tutorial.

In sklr the decay is a schedule object, :class:`sklr.schedules.InverseTimeDecay`,
passed as ``learning_rate``; its values multiply ``learning_rate_init``.
Its parameters are ordinary nested parameters, so ``training_curves``
varies ``learning_rate__decay``.

Mind the unit of ``t``. This study counts minibatch updates
(``unit='step'``), the convention of the ``decay`` argument of the legacy
Keras ``SGD`` optimizer; ``InverseTimeDecay`` counts epochs unless told
otherwise. With 500 training rows and batches of 32 an
epoch makes 16 updates, so ``decay=0.1`` has already divided the rate by
about 2.6 after the first epoch and by about 320 after 200 epochs, and
training stalls early. ``decay=1e-4`` hardly changes the rate at all.
``unit='epoch'`` or ``unit='sample'`` (H2O's ``rate_annealing``) count
time differently, and the same ``decay`` then means a much slower or a much
faster decay.
"""

# %%
# The data and the network
# ------------------------
# The tutorial's three blobs, split 500/500, and one hidden layer of 50
# ReLU units trained by SGD without momentum for 200 epochs in batches of 32.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier
from sklr.inspection import TrainingHistoryDisplay
from sklr.model_selection import training_curves
from sklr.schedules import InverseTimeDecay

# Every run lasts max_iter epochs on purpose: do not warn about it.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_blobs(n_samples=1000, centers=3, n_features=2,
                  cluster_std=2, random_state=2)
X_train, y_train = X[:500], y[:500]
X_test, y_test = X[500:], y[500:]

clf = MLPClassifier(
    hidden_layer_sizes=(50,), activation="relu", solver="sgd",
    learning_rate_init=0.01,
    learning_rate=InverseTimeDecay(unit="step"), momentum=0.0,
    batch_size=32, max_iter=200, n_iter_no_change=np.inf,
    record_train_score=True, random_state=1,
)

# %%
# One fit per decay
# -----------------
curves = training_curves(clf, X_train, y_train,
                         param_name="learning_rate__decay",
                         param_range=[1e-1, 1e-2, 1e-3, 1e-4],
                         X_val=X_test, y_val=y_test)

# %%
# Final accuracy
# --------------
# The accuracy after the 200th epoch, and the learning rate the last epoch
# ran at (the history records it).
print(" decay  train accuracy  test accuracy  final learning rate")
for decay, history in zip(curves.param_range, curves.histories):
    train, test = history["score"][-1], history["val_score"][-1]
    rate = history["learning_rate"][-1]
    print(f"{decay:6g}  {train:14.3f}  {test:13.3f}  {rate:19.2e}")

# %%
# Accuracy per epoch
# ------------------
title = "Training (score) and test (val_score) accuracy, by decay"
TrainingHistoryDisplay.from_training_curves(curves, title=title)
plt.show()
