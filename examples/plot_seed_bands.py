"""
=====================
Effect or seed noise?
=====================

One training curve per setting hides how much of the difference between two
settings is luck: another ``random_state`` draws other initial weights and
another minibatch order, and the curves move. Here the three-blob network of
:ref:`sphx_glr_auto_examples_plot_learning_rate.py` is trained at three
learning rates, each with five seeds, through
``training_curves(..., n_seeds=5)``; the display draws each rate's mean
accuracy per epoch with a band of one standard deviation over the seeds.
Where two bands overlap, the seeds disagree as much as the rates do.
"""

# %%
# Five seeds per learning rate
# ----------------------------
# The tutorial's three blobs, split 500/500, one hidden layer of 50 ReLU
# units trained by plain SGD in batches of 32, for 40 epochs. ``n_seeds=5``
# fits every rate with ``random_state`` 0 to 4: the same five seeds for each
# rate.
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

clf = MLPClassifier(hidden_layer_sizes=(50,), solver="sgd", momentum=0.0,
                    batch_size=32, max_iter=40, n_iter_no_change=np.inf)
rates = [0.001, 0.003, 0.03]
curves = training_curves(clf, X_train, y_train, param_name="learning_rate_init",
                         param_range=rates, X_val=X_test, y_val=y_test, n_seeds=5)

# %%
# Final test accuracy over the seeds
# ----------------------------------
# ``curves.histories[i]`` holds the five histories of rate ``i``;
# ``curves.mean``, ``curves.std``, ``curves.min`` and ``curves.max`` hold
# their per-epoch summaries.
print(f"{'rate':>6} {'mean':>6} {'std':>6} {'min':>6} {'max':>6}   test accuracy, last epoch")
for rate, mean, std, low, high in zip(rates, curves.mean, curves.std, curves.min, curves.max):
    print(f"{rate:>6g} {mean['val_score'][-1]:6.3f} {std['val_score'][-1]:6.3f} "
          f"{low['val_score'][-1]:6.3f} {high['val_score'][-1]:6.3f}")

# %%
# One panel per rate
# ------------------
# Mean loss per epoch with its band (mean ± one standard deviation);
# ``band='minmax'`` would shade the range of the seeds instead.
TrainingHistoryDisplay.from_training_curves(curves, metrics=["loss", "val_loss"])

# %%
# The rates side by side
# ----------------------
# The test accuracy of the three rates in one axes. The bands of 0.001 and
# 0.003 overlap all along: with these seeds, 0.001 ends anywhere between
# about 0.5 and 0.75, so five runs do not separate the two smaller rates.
# 0.03 leaves both behind within a few epochs, and its seeds agree (a
# standard deviation below 0.01 at the end): there the effect is far larger
# than the noise.
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
epochs = np.arange(1, len(curves.mean[0]["val_score"]) + 1)
for rate, mean, std in zip(rates, curves.mean, curves.std):
    (line,) = ax.plot(epochs, mean["val_score"], label=f"learning_rate_init={rate:g}")
    ax.fill_between(epochs, mean["val_score"] - std["val_score"],
                    mean["val_score"] + std["val_score"], color=line.get_color(), alpha=0.2)
ax.set_xlabel("Epoch")
ax.set_ylabel("Test accuracy")
ax.set_title("Mean over 5 seeds ± one standard deviation")
ax.legend()
plt.show()
