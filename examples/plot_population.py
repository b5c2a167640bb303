"""
==========================================
Population-based training finds a schedule
==========================================

:class:`~sklr.model_selection.PopulationSearchCV` trains eight small networks
on digits side by side. Every four epochs the two worst copy the weights and
optimizer state of one of the two best, then perturb the copied learning rate
and momentum by a factor 0.8 or 1.2 (or draw them afresh). What the winner
trained with, interval after interval, comes back as schedules:
``best_schedule_`` (the learning rate) and ``best_schedules_['momentum']``.
They are ordinary schedule objects: previewed and plotted here, then refitted
from scratch on other seeds.
"""

# %%
# The search
# ----------
# Digits scaled to [0, 1], 30% held out for testing. The population is scored
# on one holdout split of the training rows (the classic PBT setting: one
# network per member); ``cv=3`` would train three per member and rank them
# by their mean score. Six intervals of four epochs: 24 epochs per network.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, train_test_split

from sklr import MLPClassifier
from sklr.inspection import ScheduleDisplay
from sklr.model_selection import PopulationSearchCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, stratify=y, random_state=0)

net = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", batch_size=64)
holdout = ShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
search = PopulationSearchCV(
    net,
    {"learning_rate_init": loguniform(1e-3, 1), "momentum": uniform(0.5, 0.49)},
    population_size=8, interval_epochs=4, n_intervals=6, cv=holdout, random_state=0,
).fit(X_train, y_train)

print("best holdout accuracy:", round(search.best_score_, 3))
print("winner's seed:", search.best_params_["random_state"])
print("learning rate schedule:", search.best_schedule_)
print("momentum schedule:", search.best_schedules_["momentum"])

# %%
# The members, interval by interval
# ---------------------------------
# ``history_`` has one row per interval and one column per member: the
# holdout accuracy at the end of the interval, the values it trained with,
# and the member it copied (``donor``, -1 if none). A copied member jumps to
# its donor's accuracy, then goes on with its perturbed rate.
h = search.history_
epochs = h["epoch"]
fig, (ax_score, ax_rate) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for i in range(search.population_size):
    (line,) = ax_score.plot(epochs, h["score"][:, i], marker="o", ms=3,
                            label=f"member {i}")
    ax_rate.step(np.r_[0, epochs], np.r_[h["learning_rate_init"][:, i],
                                         h["learning_rate_init"][-1, i]],
                 where="post", color=line.get_color())
    copied = np.flatnonzero(h["donor"][:, i] >= 0)
    ax_score.plot(epochs[copied], h["score"][copied, i], "x", color="k", ms=7)
ax_score.set(xlabel="epoch", ylabel="holdout accuracy",
             title="members (x: replaced by a copy of a better one)")
ax_score.legend(fontsize=7, ncol=2)
ax_rate.set(xlabel="epoch", ylabel="learning rate", yscale="log",
            title="learning rate of each member's slot")

# %%
# The discovered schedule
# -----------------------
# ``best_schedule_`` holds multipliers of ``best_params_['learning_rate_init']``
# (sklr's scale and shape); ``ScheduleDisplay`` draws the rates with
# ``base_rate``, one point per minibatch update of the members' epochs. The
# momentum schedule holds absolute values.
fig, (ax_lr, ax_mu) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
n_epochs = search.n_intervals * search.interval_epochs
n_rows = len(next(holdout.split(X_train))[0])
steps = int(np.ceil(n_rows / net.batch_size))
ScheduleDisplay.from_schedule(search.best_schedule_, n_epochs=n_epochs,
                              steps_per_epoch=steps,
                              base_rate=search.best_params_["learning_rate_init"],
                              ax=ax_lr, name="best_schedule_")
ScheduleDisplay.from_schedule(search.best_schedules_["momentum"], n_epochs=n_epochs,
                              steps_per_epoch=steps, ax=ax_mu,
                              name="best_schedules_['momentum']")
ax_lr.set_ylabel("learning rate")
ax_mu.set_ylabel("momentum")

# %%
# Refitting the schedule on other seeds
# -------------------------------------
# ``best_params_`` replays the winner's lineage from scratch
# (``random_state``, ``max_iter`` and the schedules); the refitted
# ``best_estimator_`` used the whole training set. Changing only
# ``random_state`` asks whether the schedule, not the winner's lucky
# initialization, is what works. For scale, the same network at the
# winner's first rate and momentum, held constant.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
print(f"{'model':<42} test accuracy")
print(f"{'refitted winner (best_estimator_)':<42} {search.score(X_test, y_test):.3f}")
for seed in (1, 2):
    replay = clone(net).set_params(**{**search.best_params_, "random_state": seed})
    constant = clone(net).set_params(
        max_iter=n_epochs, n_iter_no_change=np.inf, random_state=seed,
        learning_rate_init=search.best_params_["learning_rate_init"],
        momentum=search.best_schedules_["momentum"].multipliers[0])
    print(f"{f'best_params_, random_state={seed}':<42} "
          f"{replay.fit(X_train, y_train).score(X_test, y_test):.3f}")
    print(f"{f'constant first rate, random_state={seed}':<42} "
          f"{constant.fit(X_train, y_train).score(X_test, y_test):.3f}")
plt.show()
