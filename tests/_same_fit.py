"""A shared assertion of the resumption tests (test_checkpoint, test_pause)."""

from numpy.testing import assert_array_equal


def assert_same_fit(got, expected):
    """Bit-for-bit equal trajectories (the wall time aside).

    Weights, loss curve, counters, history, optimizer state, the shuffling
    stream's position and, with early stopping, the validation record.
    """
    for a, b in zip(got.coefs_ + got.intercepts_, expected.coefs_ + expected.intercepts_):
        assert_array_equal(a, b)
    assert got.loss_curve_ == expected.loss_curve_
    assert (got.n_iter_, got.t_) == (expected.n_iter_, expected.t_)
    assert set(got.history_) == set(expected.history_)
    for key in expected.history_:
        if key != "time":
            assert_array_equal(got.history_[key], expected.history_[key], err_msg=key)
    state, ref = got._state, expected._state
    assert (state.n_updates, state.n_epochs) == (ref.n_updates, ref.n_epochs)
    for key, value in ref.optimizer.items():
        assert_array_equal(state.optimizer[key], value, err_msg=key)
    for a, b in zip(got._random_state.get_state(), expected._random_state.get_state()):
        assert_array_equal(a, b)  # the shuffling stream ends at the same draw
    if expected.early_stopping:
        assert got.validation_scores_ == expected.validation_scores_
        assert got.best_validation_score_ == expected.best_validation_score_
