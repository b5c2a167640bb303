"""The bookkeeping of an :class:`AnnealingSearchCV` walk.

:class:`_Walk` keeps the current point, its score and its row in
``cv_results_``, moves by the outcome of each round and writes the
per-candidate annealing columns (:class:`_AnnealingLog`) that the search adds
to ``cv_results_``.
"""

import numpy as np


class _AnnealingLog:
    """The per-candidate annealing columns added to ``cv_results_``."""

    def __init__(self):
        self.iter, self.parent_index, self.temperature = [], [], []
        self.current_score, self.acceptance_probability, self.accepted = [], [], []
        self.step_scale = []

    def add_start(self, n):
        self.iter += [0] * n
        self.parent_index += [-1] * n
        self.temperature += [np.nan] * n
        self.step_scale += [np.nan] * n
        self.current_score += [np.nan] * n
        self.acceptance_probability += [1.0] * n
        self.accepted += [True] * n

    def add_round(
        self, k, parent, temperature, sigma, current, probabilities, accepted
    ):
        n = len(probabilities)
        self.iter += [k] * n
        self.parent_index += [parent] * n
        self.temperature += [temperature] * n
        self.step_scale += [sigma] * n
        self.current_score += [current] * n
        self.acceptance_probability += list(probabilities)
        self.accepted += [bool(a) for a in accepted]

    def columns(self):
        return {
            "iter": np.asarray(self.iter, dtype=np.intp),
            "parent_index": np.asarray(self.parent_index, dtype=np.intp),
            "temperature": np.asarray(self.temperature, dtype=np.float64),
            "step_scale": np.asarray(self.step_scale, dtype=np.float64),
            "current_score": np.asarray(self.current_score, dtype=np.float64),
            "acceptance_probability": np.asarray(
                self.acceptance_probability, dtype=np.float64
            ),
            "accepted": np.asarray(self.accepted, dtype=bool),
        }



class _Walk:
    """The current point of the walk and the log of every candidate.

    ``state``, ``score`` and ``row`` are the current point's coordinates,
    mean test score and row in ``cv_results_``; ``n_done`` counts the
    candidates recorded so far.
    """

    def __init__(self, states, scores):
        """Start at the best of the starting points (all accepted)."""
        self.log = _AnnealingLog()
        self.log.add_start(len(states))
        if np.all(np.isnan(scores)):
            best = 0
        else:
            best = int(np.nanargmax(scores))
        self.state, self.score = states[best], float(scores[best])
        self.row = best
        self.n_done = len(states)

    def add_round(
        self, k, temperature, sigma, proposals, scores, probabilities, accepted
    ):
        """Log round ``k`` and move to its best accepted proposal, if any."""
        self.log.add_round(
            k, self.row, temperature, sigma, self.score, probabilities, accepted
        )
        if accepted.any():
            j = int(np.flatnonzero(accepted)[np.argmax(scores[accepted])])
            self.state, self.score = proposals[j], float(scores[j])
            self.row = self.n_done + j
        self.n_done += len(proposals)

    def columns(self):
        """The annealing columns of ``cv_results_``, one row per candidate."""
        return self.log.columns()
