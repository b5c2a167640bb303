"""
==================================
Checkpoints: stop, resume, go back
==================================

``checkpoint=`` saves the estimator while it trains. Each file is a fitted
model, so it can be scored like any other, and a file saved during ``fit``
also holds what that call had not finished yet (its epoch count, shuffling
state, early-stopping state), so ``warm_start=True`` finishes it exactly as
if it had never stopped. Here a network on the digits trains for 30 epochs
with a ``OneCycle()`` schedule sized by the fit, saving every 5 epochs; the
checkpoint of epoch 10 is then resumed, and the resumed fit ends on the same
weights, bit for bit, as the uninterrupted one. The saved files also give
the test accuracy the model had at each checkpoint, after the fact.
"""

# %%
# Train, saving every five epochs
# -------------------------------
# The path template needs ``{fit_id}`` (a random id per fit, so fits running
# side by side, e.g. in a grid search, never write the same file) and may
# use ``{epoch}``. ``Checkpoint(path, every=5)`` saves after epochs 5, 10,
# ..., 30; files are written to a temporary name and renamed, so a process
# killed during a save leaves no partial file.
import shutil
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklr import Checkpoint, MLPClassifier, load_checkpoint
from sklr.schedules import OneCycle

# Every run lasts max_iter epochs on purpose: do not warn about it.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.3,
                                                    random_state=0)

directory = Path(tempfile.mkdtemp())
template = str(directory / "digits-{fit_id}-{epoch:03d}.joblib")
clf = MLPClassifier(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.2,
                    learning_rate=OneCycle(), batch_size=64, max_iter=30,
                    n_iter_no_change=np.inf, random_state=0,
                    checkpoint=Checkpoint(template, every=5))
clf.fit(X_train, y_train)
files = sorted(directory.glob("*.joblib"))
print("\n".join(f.name for f in files))

# %%
# Resume from epoch 10
# --------------------
# ``load_checkpoint`` with the template picks the newest file; here we want
# an earlier one, so we pass its path. The loaded model has trained 10
# epochs; ``warm_start=True`` runs the 20 left of ``max_iter``, with the
# schedule, the optimizer state and the minibatch order where they were.
resumed = load_checkpoint(next(f for f in files if f.name.endswith("-010.joblib")))
print("epochs in the checkpoint:", len(resumed.loss_curve_))
resumed.set_params(warm_start=True).fit(X_train, y_train)

difference = max(np.max(np.abs(a - b)) for a, b in zip(clf.coefs_, resumed.coefs_))
print("epochs after resuming:", len(resumed.loss_curve_))
print("largest weight difference to the uninterrupted fit:", difference)

# %%
# Look back at every checkpoint
# -----------------------------
# Each file is a fitted model: score it on the test set.
epochs = [load_checkpoint(f).n_iter_ for f in files]
accuracies = [load_checkpoint(f).score(X_test, y_test) for f in files]

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.plot(np.arange(1, 31), clf.loss_curve_, lw=3, alpha=0.4,
             label="uninterrupted fit")
ax_loss.plot(np.arange(1, 31), resumed.loss_curve_, "k.", ms=5,
             label="resumed from epoch 10")
ax_loss.axvline(10, color="grey", ls=":")
ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log",
            title="A resumed fit retraces the uninterrupted one")
ax_loss.legend()
ax_acc.plot(epochs, accuracies, "o-")
ax_acc.set(xlabel="epoch of the checkpoint", ylabel="test accuracy",
           title="Test accuracy of each saved model")
fig.tight_layout()
plt.show()

shutil.rmtree(directory)  # the example's files
