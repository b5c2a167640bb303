"""Tests for the feedback-schedule protocol (sklr/schedules/_feedback.py).

Expected sequences are worked out by hand in the comments; scikit-learn's
own SGDOptimizer is the reference for Adaptive's stopping rule.
"""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from sklr.schedules import (
    Adaptive,
    Constant,
    CosineAnnealing,
    FeedbackSchedule,
    PerEpoch,
    Product,
    ReduceOnPlateau,
    Sequence,
    StepDecay,
    StepPositions,
    _check_schedule,
)


def _run(schedule, records):
    """Scales after each update, feeding the records through the protocol."""
    state, scales = schedule.init_state(), []
    for record in records:
        state = schedule.update(state, record)
        scales.append(schedule.scale(state))
    return scales, state


def test_feedback_schedules_share_one_base_class():
    for s in (Adaptive(), ReduceOnPlateau()):
        assert isinstance(s, FeedbackSchedule)
        assert s.is_feedback
        assert s._feedback_schedules() == [s]
        assert_allclose(s.values(StepPositions.grid(3, steps_per_epoch=2)), np.ones(6))
        assert s.scale(s.init_state()) == 1.0
    for s in (Constant(), StepDecay(), Product(Constant(), StepDecay())):
        assert not isinstance(s, FeedbackSchedule)
        assert not s.is_feedback


def test_plateau_reads_its_monitor_from_the_record():
    # monitor='loss', factor 0.5, patience 1, threshold 0 (PyTorch rule):
    # loss 3 best; 2 best; 2 bad=1; 2 bad=2 > 1 -> scale 0.5, bad=0;
    # 2 bad=1; 1 best.  The decoys would never reduce (val_loss improves,
    # a val_score monitor would see it rise).
    losses = [3.0, 2.0, 2.0, 2.0, 2.0, 1.0]
    records = [
        {"loss": v, "val_loss": 10.0 - i, "val_score": 0.1 * i, "time": 0.01}
        for i, v in enumerate(losses)
    ]
    s = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0, monitor="loss")
    scales, state = _run(s, records)
    assert scales == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    assert state == {"best": 1.0, "bad_epochs": 0, "cooldown_counter": 0, "scale": 0.5,
                     "mode": "min", "epochs": 6}
    # The float form of update (the one the estimator uses today) agrees.
    assert _run(s, losses) == (scales, state)
    # Other monitors read other keys: val_loss always improves.
    assert _run(clone(s).set_params(monitor="val_loss"), records)[0] == [1.0] * 6


def test_plateau_maximises_val_score_from_the_record():
    # monitor='val_score', factor 0.1, patience 0, abs threshold 0:
    # 0.5 best; 0.6 best; 0.6 not > 0.6: bad=1 > 0 -> 0.1; 0.7 best;
    # 0.65 bad -> 0.01.  The loss rises throughout (a decoy).
    scores = [0.5, 0.6, 0.6, 0.7, 0.65]
    records = [{"loss": 1.0 + i, "val_score": v} for i, v in enumerate(scores)]
    s = ReduceOnPlateau(factor=0.1, patience=0, threshold=0.0, threshold_mode="abs",
                        monitor="val_score")
    scales, state = _run(s, records)
    assert_allclose(scales, [1.0, 1.0, 0.1, 0.1, 0.01], rtol=1e-15)
    assert state["best"] == 0.7


def test_plateau_record_without_its_monitor():
    s = ReduceOnPlateau(monitor="val_loss")
    with pytest.raises(KeyError, match=r"monitor='val_loss'.*\['loss'\]"):
        s.update(s.init_state(), {"loss": 1.0})


@pytest.mark.parametrize("schedule", [Adaptive(), ReduceOnPlateau(monitor="loss")])
def test_update_is_pure(schedule):
    state = schedule.init_state()
    before = dict(state)
    params = schedule.get_params()
    new = schedule.update(state, {"loss": 1.0, "val_loss": 2.0, "val_score": 0.5})
    assert new is not state and state == before
    assert schedule.get_params() == params and "state" not in vars(schedule)
    assert pickle.loads(pickle.dumps(new)) == new


def test_adaptive_update_ignores_the_record():
    s = Adaptive()
    state = s.init_state()
    assert state == {"scale": 1.0, "reductions": 0}
    for record in ({"loss": 5.0}, {"loss": 1.0, "val_score": 0.9}, {}):
        new = s.update(state, record)
        assert new == state and new is not state
    assert s._update(state, {"loss": 3.0}) == state


def test_adaptive_on_stall_hand_sequence():
    # base rate 1e-3: the current rate goes 1e-3, 2e-4, 4e-5, 8e-6, 1.6e-6
    # (each > 1e-6: divide by 5), then 3.2e-7 <= 1e-6: stop, five
    # reductions made.
    s = Adaptive()
    state, stops, scales = s.init_state(), [], []
    for _ in range(7):
        state, stop = s.on_stall(state, base_rate=1e-3)
        stops.append(stop)
        scales.append(s.scale(state))
    assert stops == [False] * 5 + [True, True]
    assert_allclose(scales, [1 / 5, 1 / 25, 1 / 125, 1 / 625, 1 / 3125, 1 / 3125, 1 / 3125],
                    rtol=1e-15)
    assert state["reductions"] == 5


@pytest.mark.parametrize(
    "base_rate, n_reductions",
    [
        (1e-6, 0),  # already at the floor: stop at once
        (5e-7, 0),
        (2e-6, 1),  # 2e-6 > 1e-6: one reduction, then 4e-7
        (1e-5, 2),  # 1e-5, 2e-6, then 4e-7
        (1.0, 9),  # 5**-8 = 2.56e-6 > 1e-6, 5**-9 = 5.12e-7
    ],
)
def test_adaptive_on_stall_count(base_rate, n_reductions):
    s = Adaptive()
    state, stop, calls = s.init_state(), False, 0
    while not stop:
        previous = state
        state, stop = s.on_stall(state, base_rate)
        calls += 1
    assert calls == n_reductions + 1
    assert state == previous  # stopping leaves the state as it was
    assert state["reductions"] == n_reductions


@pytest.mark.parametrize("base_rate", [1e-3, 0.1, 1.25e-4, 3e-6, 1e-6, 7.3e-5, 0.5])
def test_adaptive_on_stall_matches_scikit_learn(base_rate):
    # 1.25e-4 / 5 / 5 / 5 is 1.0000000000000002e-06 in floats: one more
    # reduction than base_rate * 5**-3 would give.
    sgd = SGDOptimizer([np.zeros(1)], learning_rate_init=base_rate, lr_schedule="adaptive")
    s = Adaptive()
    state = s.init_state()
    while True:
        expected_stop = sgd.trigger_stopping("", verbose=False)
        state, stop = s.on_stall(state, base_rate)
        assert stop == expected_stop
        assert_allclose(base_rate * s.scale(state), sgd.learning_rate, rtol=1e-14)
        if stop:
            break


def test_adaptive_on_stall_is_pure():
    s = Adaptive()
    state = {"scale": 0.2, "reductions": 1, "extra": "kept"}
    new, stop = s.on_stall(state, base_rate=1.0)
    assert state == {"scale": 0.2, "reductions": 1, "extra": "kept"}
    assert new == {"scale": 0.04, "reductions": 2, "extra": "kept"} and not stop


class _HalveWhenLossRises(FeedbackSchedule):
    """A feedback schedule written against the protocol alone."""

    _parameter_constraints: dict = {}

    def __init__(self):
        pass

    def _init_state(self):
        return {"scale": 1.0, "last": float("inf")}

    def _update(self, state, monitored):
        loss = monitored["loss"]
        scale = state["scale"] * (0.5 if loss > state["last"] else 1.0)
        return {**state, "scale": scale, "last": loss}


def test_a_new_feedback_schedule_needs_only_the_protocol():
    s = _HalveWhenLossRises()
    # 4 -> 3 falls, 3 -> 5 rises: 0.5, 5 -> 2 falls, 2 -> 2.5 rises: 0.25.
    scales, _ = _run(s, [{"loss": v} for v in (4.0, 3.0, 5.0, 2.0, 2.5)])
    assert scales == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert Product(CosineAnnealing(), s)._feedback_schedules() == [s]
    with pytest.raises(ValueError, match="feedback"):
        _check_schedule(Sequence([(s, 2), Constant()], unit="epoch"))
    with pytest.raises(ValueError, match="feedback"):
        _check_schedule(PerEpoch(s))


def test_feedback_schedules_found_in_products_multiply():
    plateau = ReduceOnPlateau(factor=0.5, patience=0, threshold=0.0, monitor="loss")
    tree = Product(Product(StepDecay(), plateau), Adaptive())
    found = tree._feedback_schedules()
    assert found == [plateau, Adaptive()] and found[0] is tree.s1.s2
    states = [f.init_state() for f in found]
    # loss 1 then 1: the plateau halves; Adaptive stalls once at rate 0.1.
    for record in ({"loss": 1.0}, {"loss": 1.0}):
        states = [f.update(st, record) for f, st in zip(found, states)]
    states[1], stop = found[1].on_stall(states[1], base_rate=0.1)
    assert not stop
    assert_allclose(np.prod([f.scale(st) for f, st in zip(found, states)]), 0.5 * 0.2)
