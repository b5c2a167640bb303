"""
==================
Effect of momentum
==================

Train the three-blob network of :ref:`sphx_glr_auto_examples_plot_learning_rate.py`
at a fixed learning rate of 0.01, with the SGD momentum set to 0, 0.5, 0.9
and 0.99, and draw the training and test accuracy per epoch: the momentum
study of the classic Keras tutorial.

Momentum keeps a running velocity of past updates, ``v = momentum * v -
learning_rate * gradient``, and moves the weights by ``v``
(``nesterovs_momentum=False`` selects this classical form; scikit-learn's
default is Nesterov's). A larger momentum reaches a good accuracy in fewer
epochs, because consecutive steps in the same direction add up; at 0.99 the
steps are about a hundred times larger than the gradient alone would give,
and the accuracy curves become noisier.
"""

# %%
# The data and the network
# ------------------------
# The tutorial's three blobs, split 500/500, and one hidden layer of 50
# ReLU units trained by SGD for 200 epochs in batches of 32.
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
    learning_rate_init=0.01, nesterovs_momentum=False, batch_size=32,
    max_iter=200, n_iter_no_change=np.inf, record_train_score=True,
    random_state=1,
)

# %%
# One fit per momentum
# --------------------
curves = training_curves(clf, X_train, y_train, param_name="momentum",
                         param_range=[0.0, 0.5, 0.9, 0.99],
                         X_val=X_test, y_val=y_test)

# %%
# Final accuracy
# --------------
# The accuracy after the 200th epoch, and the first epoch at which the
# training accuracy reached 80%: momentum mostly changes how fast the
# network gets there.
print("momentum  train accuracy  test accuracy  80% train at epoch")
for momentum, history in zip(curves.param_range, curves.histories):
    train, test = history["score"][-1], history["val_score"][-1]
    reached = np.flatnonzero(history["score"] >= 0.8)
    first = str(reached[0] + 1) if reached.size else "never"
    print(f"{momentum:8g}  {train:14.3f}  {test:13.3f}  {first:>18}")

# %%
# Accuracy per epoch
# ------------------
title = "Training (score) and test (val_score) accuracy, by momentum"
TrainingHistoryDisplay.from_training_curves(curves, title=title)
plt.show()
