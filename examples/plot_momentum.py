"""
==================
Effect of momentum
==================

Train the three-blob network of :ref:`example_plot_learning_rate` at a
fixed learning rate of 0.01, with the SGD momentum set to 0, 0.5, 0.9 and
0.99, and draw the training and test accuracy per epoch.

Momentum keeps a running velocity of past updates, ``v = momentum * v -
learning_rate * gradient``, and moves the weights by ``v``
(``nesterovs_momentum=False`` selects this classical form; scikit-learn's
default is Nesterov's). A larger momentum reaches a good accuracy in fewer
epochs, because consecutive steps in the same direction add up; at 0.99 the
steps are about a hundred times larger than the gradient alone would give,
and the accuracy curves become noisier.
"""

# %%
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

X, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2,
                  random_state=2)
X_train, y_train = X[:500], y[:500]
X_test, y_test = X[500:], y[500:]

clf = MLPClassifier(hidden_layer_sizes=(50,), activation="relu", solver="sgd",
                    learning_rate_init=0.01, nesterovs_momentum=False,
                    batch_size=32, max_iter=200, n_iter_no_change=np.inf,
                    record_train_score=True, random_state=1)

curves = training_curves(clf, X_train, y_train, param_name="momentum",
                         param_range=[0.0, 0.5, 0.9, 0.99],
                         X_val=X_test, y_val=y_test)

for momentum, history in zip(curves.param_range, curves.histories):
    # First epoch at which the training accuracy reaches 80%, if any.
    reached = np.flatnonzero(history["score"] >= 0.8)
    first = reached[0] + 1 if reached.size else "never"
    print(f"momentum={momentum:<5g} 80% training accuracy at epoch {first}, "
          f"final test accuracy {history['val_score'][-1]:.3f}")

display = TrainingHistoryDisplay.from_training_curves(curves, ncols=2)
display.figure_.suptitle("Training (score) and test (val_score) accuracy per epoch")
plt.show()
