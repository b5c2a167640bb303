"""Cooling, step length and acceptance of :class:`AnnealingSearchCV`.

The temperature of each proposal round (:func:`_round_temperatures`), the
step length that follows it and, with ``adapt_step``, the 1/5th success rule
(:class:`_StepLength`), and the Metropolis rule that accepts or rejects each
proposal (:func:`_metropolis`). The formulas are in the Notes of
:class:`AnnealingSearchCV`.
"""

import math

import numpy as np

# Ratio T_last / T0 reached at the last round by the 'exponential' and
# 'linear' cooling schedules.
_FINAL_RATIO = 0.1

# Step-length control (adapt_step=True): each proposal at least as good as
# the current point multiplies the step factor g by exp(_GROW), each worse one
# by exp(-_GROW / 4), so that g is steady when 1/5 of the proposals succeed
# (Rechenberg's 1/5th success rule); g stays within [1 / _GAIN_BOUND,
# _GAIN_BOUND].
_GROW = 1.0 / 3.0
_TARGET_SUCCESS = 0.2
_GAIN_BOUND = 10.0


def _round_temperatures(initial_temperature, cooling, n_rounds):
    """Temperatures ``T_1 .. T_K`` of the ``K`` proposal rounds."""
    k = np.arange(1, n_rounds + 1, dtype=np.float64)
    T0 = float(initial_temperature)
    if cooling == "exponential":
        return T0 * _FINAL_RATIO ** ((k - 1) / max(n_rounds - 1, 1))
    if cooling == "linear":
        return T0 * (1.0 - (1.0 - _FINAL_RATIO) * (k - 1) / max(n_rounds - 1, 1))
    if cooling == "log":
        return T0 / (1.0 + np.log(k))
    return T0 * float(cooling) ** (k - 1)


def _next_log_gain(log_gain, n_success, n_proposals):
    """The step factor's logarithm after a round (1/5th success rule)."""
    n_fail = n_proposals - n_success
    log_gain += _GROW * (n_success - n_fail * _TARGET_SUCCESS / (1 - _TARGET_SUCCESS))
    bound = math.log(_GAIN_BOUND)
    return min(max(log_gain, -bound), bound)


class _StepLength:
    r"""The step length :math:`\sigma_k` of each round.

    :math:`\sigma_k = \min(s, s\, r_k\, g_k)` for ``step_scale``
    :math:`s`, the temperature ratio :math:`r_k = T_k / T_0` and the step
    factor :math:`g_k`, which :meth:`update` moves by the 1/5th success rule
    when ``adapt`` (and leaves at 1 otherwise).
    """

    def __init__(self, step_scale, adapt):
        self.step_scale = float(step_scale)
        self.adapt = adapt
        self.log_gain = 0.0  # log of the step factor g_k

    def sigma(self, ratio):
        """The step length at temperature ratio ``ratio`` = T_k / T_0."""
        s = self.step_scale
        return min(s * ratio * math.exp(self.log_gain), s)

    def update(self, probabilities):
        """Count a round's successes; ``probabilities`` are its p_j."""
        if self.adapt:
            # A success is a proposal at least as good as the current
            # point: one the Metropolis rule accepts with probability 1.
            n_success = sum(p == 1.0 for p in probabilities)
            self.log_gain = _next_log_gain(
                self.log_gain, n_success, len(probabilities)
            )


def _acceptance_probability(current, score, temperature):
    """Metropolis probability of moving from ``current`` to ``score``."""
    if math.isnan(score):
        return 0.0
    if math.isnan(current):
        return 1.0
    delta = current - score
    if delta <= 0:
        return 1.0
    return float(np.exp(-delta / temperature))


def _metropolis(current, scores, temperature, rng):
    """Judge ``scores`` against the ``current`` score at ``temperature``.

    Returns the acceptance probabilities (a list) and whether each
    candidate is accepted (a boolean array), from one uniform draw each.
    """
    draws = rng.random_sample(len(scores))
    probabilities = [
        _acceptance_probability(current, float(score), temperature)
        for score in scores
    ]
    return probabilities, draws < np.asarray(probabilities)
