"""
==============================
Successive halving over epochs
==============================

Tune the peak learning rate and the momentum of a one-cycle schedule on
digits with :class:`~sklr.model_selection.EpochHalvingSearchCV`: 18
candidates are trained 1 epoch on each of 3 folds, the best third (6)
resume their fits to 3 epochs, and the best third of those (2) finish the
9 epochs every fit was planned for. No epoch is trained twice: a survivor
continues its paused fit, so the winner's models are exactly those of
uninterrupted fits of 9 epochs.

The one-cycle schedule counts in ``unit='fraction'`` of the 9 planned
epochs, so at the first rung every candidate is still warming up (the rate
peaks at 30% of the plan, during epoch 3), as it would be in its full fit.
The left panel shows each candidate's mean training loss per epoch, cut
where it was eliminated; the right panel its mean cross-validated accuracy
at each rung it reached.
"""

# %%
# The search
# ----------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklr import MLPClassifier
from sklr.model_selection import EpochHalvingSearchCV
from sklr.schedules import OneCycle

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0)

mlp = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", batch_size=64,
                    learning_rate=OneCycle(), random_state=0)
search = EpochHalvingSearchCV(
    mlp,
    {"learning_rate_init": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
     "momentum": [0.0, 0.5, 0.9]},
    factor=3, max_epochs=9, cv=3, random_state=0,
).fit(X_train, y_train)

print("candidates per rung:", search.n_candidates_)
print("epochs of each rung:", search.n_resources_)
print("epochs trained per fold:", search.epochs_trained_ // 3,
      f"(a grid search: {len(search.rung_scores_)} x 9 = "
      f"{len(search.rung_scores_) * 9})")
print("best:", search.best_params_, f"CV accuracy {search.best_score_:.3f}, "
      f"held-out accuracy {search.score(X_test, y_test):.3f}")

# %%
# Per-rung curves
# ---------------
# ``training_curves_`` holds each candidate's training loss per epoch
# (averaged over the folds, NaN once eliminated) and ``rung_scores_`` its
# mean test score at each rung (``rung_epochs_``).
fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(10, 4))
epochs = np.arange(1, search.max_epochs_ + 1)
reached = np.sum(~np.isnan(search.rung_scores_), axis=1)  # rungs each candidate ran
palette = plt.cm.viridis(np.linspace(0.15, 0.9, len(search.rung_epochs_)))
for curve, scores, n in zip(search.training_curves_, search.rung_scores_, reached):
    ax_loss.plot(epochs, curve, ".-", color=palette[n - 1], lw=1, ms=4)
    ax_score.plot(search.rung_epochs_, scores, "o-", color=palette[n - 1], lw=1, ms=3)
for n, epoch in enumerate(search.rung_epochs_, start=1):
    ax_score.plot([], [], "o-", color=palette[n - 1],
                  label=f"stopped at epoch {epoch} ({np.sum(reached == n)})")
ax_score.legend(loc="lower right")
for rung in search.rung_epochs_:
    ax_loss.axvline(rung, color="0.85", lw=0.8, zorder=0)
ax_loss.set(yscale="log", xlabel="epoch", ylabel="training loss",
            title="Training loss (mean over folds)")
ax_score.set(xlabel="epoch (rung)", ylabel="CV accuracy",
             title="Score at each rung", ylim=(0, 1))
ax_score.set_xticks(search.rung_epochs_, [str(r) for r in search.rung_epochs_])
fig.tight_layout()
plt.show()
