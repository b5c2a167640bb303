"""
====================================
Learning-rate and momentum schedules
====================================

Draw a few learning-rate schedules before training anything, with
:class:`sklr.inspection.ScheduleDisplay`: cosine annealing with warm
restarts, a one-cycle policy together with its cyclic momentum, and a
linear warm-up followed by cosine annealing.

A schedule's values multiply ``learning_rate_init`` (``base_rate`` below),
and each is evaluated in closed form at every minibatch update. The
figures assume a run of 60 epochs of 16 updates each (500 rows in batches
of 32), plotted against the fractional epoch of each update.

- :class:`~sklr.schedules.CosineWarmRestarts` decays along a half cosine
  and restarts; with ``T_mult=2`` each cycle is twice as long as the one
  before (here 5, 10, 20 and 40 epochs).
- :class:`~sklr.schedules.OneCycle` rises from ``1/div_factor`` of the
  peak to the peak over the first quarter of training, then anneals to
  almost zero. :class:`~sklr.schedules.CyclicMomentum` moves the momentum
  the other way, from 0.95 down to 0.85 at the peak rate and back.
- :class:`~sklr.schedules.Sequence` chains schedules, each in its own local
  time: a 5-epoch :class:`~sklr.schedules.LinearWarmup`, then a 55-epoch
  :class:`~sklr.schedules.CosineAnnealing`.
"""

# %%
import matplotlib.pyplot as plt

from sklr.inspection import ScheduleDisplay
from sklr.schedules import (
    CosineAnnealing,
    CosineWarmRestarts,
    CyclicMomentum,
    LinearWarmup,
    OneCycle,
    Sequence,
)

n_epochs, steps_per_epoch, batch_size = 60, 16, 32
grid = dict(n_epochs=n_epochs, steps_per_epoch=steps_per_epoch,
            batch_size=batch_size)

restarts = CosineWarmRestarts(T_0=5, T_mult=2, unit="epoch")
one_cycle = OneCycle(total=n_epochs, pct_start=0.25, unit="epoch")
momentum = CyclicMomentum(one_cycle, base_momentum=0.85,
                          max_momentum=0.95)
warmup_cosine = Sequence([
    (LinearWarmup(warmup=5, start_factor=0.1, unit="epoch"), 5),
    CosineAnnealing(period=n_epochs - 5, unit="epoch"),
], unit="epoch")

fig, (ax_rate, ax_momentum) = plt.subplots(
    1, 2, figsize=(11, 4), layout="constrained")
ScheduleDisplay.from_schedule(
    restarts, base_rate=0.1, ax=ax_rate,
    name="CosineWarmRestarts(T_0=5, T_mult=2)", **grid)
ScheduleDisplay.from_schedule(
    one_cycle, base_rate=0.1, ax=ax_rate, name="OneCycle(total=60)", **grid)
ScheduleDisplay.from_schedule(
    warmup_cosine, base_rate=0.1, ax=ax_rate,
    name="LinearWarmup(5) then CosineAnnealing(55)", **grid)
ax_rate.set_title("Learning rate (learning_rate_init=0.1)")
# Each display redraws the legend; move the final one below the curves.
ax_rate.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15))

ScheduleDisplay.from_schedule(
    momentum, ax=ax_momentum, name="CyclicMomentum(OneCycle(total=60))",
    **grid)
ax_momentum.set_title("Momentum of the one-cycle run")
ax_momentum.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15))

# %%
# Pass the pair to an estimator as learning_rate and momentum:
#
#     MLPClassifier(solver="sgd", learning_rate_init=0.1,
#                   learning_rate=one_cycle, momentum=momentum, max_iter=60)
plt.show()
