"""
===================
Adaptive optimizers
===================

Train the three-blob network of :ref:`sphx_glr_auto_examples_plot_learning_rate.py`
with four optimizers, plain SGD, Adagrad, RMSprop and Adam, and draw the
training and test accuracy per epoch: the adaptive-rate study of the
classic Keras tutorial.

Each optimizer is an object from :mod:`sklr.optimizers`, passed as
``solver``, so ``training_curves`` varies ``solver`` over whole objects.
An object can carry its own ``learning_rate``, which then replaces the
estimator's ``learning_rate_init``, so each optimizer here runs at a rate
that suits it: 0.01 for SGD and for Adagrad (whose steps shrink as squared
gradients accumulate), 0.001, the usual default, for RMSprop and Adam.
RMSprop uses ``rho=0.9``, Keras' default, rather than sklr's default of
0.99, which follows PyTorch.

On a problem this easy all four end at about the same accuracy. The
adaptive methods scale each weight's step by the history of its
gradients, which mostly changes how fast and how smoothly they get there.
"""

# %%
# The data and the network
# ------------------------
# The tutorial's three blobs, split 500/500, and one hidden layer of 50
# ReLU units trained for 200 epochs in batches of 32.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier
from sklr.inspection import TrainingHistoryDisplay
from sklr.model_selection import training_curves
from sklr.optimizers import SGD, Adagrad, Adam, RMSprop

# Every run lasts max_iter epochs on purpose: do not warn about it.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_blobs(n_samples=1000, centers=3, n_features=2,
                  cluster_std=2, random_state=2)
X_train, y_train = X[:500], y[:500]
X_test, y_test = X[500:], y[500:]

clf = MLPClassifier(
    hidden_layer_sizes=(50,), activation="relu", batch_size=32,
    max_iter=200, n_iter_no_change=np.inf, record_train_score=True,
    random_state=1,
)

# %%
# One fit per optimizer
# ---------------------
optimizers = [
    SGD(momentum=0.0, learning_rate=0.01),
    Adagrad(learning_rate=0.01),
    RMSprop(rho=0.9, learning_rate=0.001),
    Adam(learning_rate=0.001),
]
curves = training_curves(clf, X_train, y_train, param_name="solver",
                         param_range=optimizers,
                         X_val=X_test, y_val=y_test)

# %%
# Final accuracy
# --------------
# The accuracy after the 200th epoch, one row per optimizer.
print("optimizer  learning rate  train accuracy  test accuracy")
for optimizer, history in zip(curves.param_range, curves.histories):
    name, rate = type(optimizer).__name__, optimizer.learning_rate
    train, test = history["score"][-1], history["val_score"][-1]
    print(f"{name:>9}  {rate:13g}  {train:14.3f}  {test:13.3f}")

# %%
# Accuracy per epoch
# ------------------
title = "Training (score) and test (val_score) accuracy, by optimizer"
display = TrainingHistoryDisplay.from_training_curves(curves,
                                                      title=title)
# The default panel titles ("solver=<repr>") are long: shorten them.
for ax, optimizer in zip(display.axes_.flat, curves.param_range):
    name, rate = type(optimizer).__name__, optimizer.learning_rate
    ax.set_title(f"{name}, learning rate {rate:g}")
plt.show()
