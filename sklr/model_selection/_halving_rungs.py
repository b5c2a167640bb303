"""The closed-form arithmetic of successive halving over epochs.

A *bracket* is one run of successive halving: ``n_0`` candidates trained
``r_0`` epochs, the best ``n_1`` of them resumed to ``r_1`` epochs, and so
on up to ``max_epochs``. :func:`halving_bracket` is the bracket of
:class:`~sklr.model_selection.EpochHalvingSearchCV` (scikit-learn's
successive-halving counts, with rungs anchored at ``max_epochs``);
:func:`hyperband_brackets` are the brackets of
:class:`~sklr.model_selection.HyperbandSearchCV` (Li et al., 2018).
"""

__all__ = ["Bracket", "floor_log", "halving_bracket", "hyperband_brackets", "n_rungs_possible"]


class Bracket:
    """One run of successive halving: how many candidates train how far.

    Attributes
    ----------
    n_candidates : list of int
        Candidates trained at each rung (``n_candidates[0]`` are sampled).
    epochs : list of int
        The epoch each rung trains its candidates up to (increasing, the
        last is ``max_epochs``).
    """

    def __init__(self, n_candidates, epochs):
        self.n_candidates = [int(n) for n in n_candidates]
        self.epochs = [int(r) for r in epochs]

    def __repr__(self):
        return f"Bracket(n_candidates={self.n_candidates}, epochs={self.epochs})"

    @property
    def n_rungs(self):
        return len(self.epochs)

    def epochs_per_fold(self):
        """Epochs trained per CV fold if no fit stops early (no cooldown):
        each rung resumes its survivors from the previous rung's epoch."""
        total, previous = 0, 0
        for n, r in zip(self.n_candidates, self.epochs):
            total += n * (r - previous)
            previous = r
        return total


def n_rungs_possible(min_epochs, max_epochs, factor):
    """``1 + floor(log_factor(max_epochs / min_epochs))``, in exact arithmetic."""
    k = 0
    while min_epochs * factor ** (k + 1) <= max_epochs:
        k += 1
    return k + 1


def halving_bracket(n_candidates, min_epochs, max_epochs, factor):
    """The rungs of one successive-halving search.

    With ``n`` candidates and ``f = factor``, as scikit-learn's
    ``HalvingRandomSearchCV`` counts them: the number of rungs is
    ``min(n_possible, n_required)``, with ``n_possible = 1 +
    floor(log_f(max_epochs / min_epochs))`` (rungs that fit between
    ``min_epochs`` and ``max_epochs``) and ``n_required = 1 +
    floor(log_f(n))`` (rungs until at most ``f`` candidates are left);
    rung ``i`` of ``k`` keeps ``ceil(n / f**i)`` candidates. Unlike
    scikit-learn (whose rungs start at the minimum resource and may end
    below the maximum), the rungs end at ``max_epochs``: rung ``i`` trains
    to ``floor(max_epochs / f**(k - 1 - i))`` epochs, so that every
    survivor completes the fit its schedule was planned for, and the first
    rung is at least ``min_epochs``.
    """
    n_possible = n_rungs_possible(min_epochs, max_epochs, factor)
    n_required = 1 + floor_log(n_candidates, factor)
    k = min(n_possible, n_required)
    counts = [n_candidates]
    for _ in range(k - 1):
        counts.append(-(-counts[-1] // factor))
    epochs = [max_epochs // factor ** (k - 1 - i) for i in range(k)]
    return Bracket(counts, epochs)


def hyperband_brackets(min_epochs, max_epochs, factor):
    """The brackets of Hyperband (Li et al., 2018, Algorithm 1).

    With ``R = max_epochs / min_epochs`` and ``f = factor``:
    ``s_max = floor(log_f(R))``; bracket ``s = s_max, ..., 0`` samples
    ``n = ceil((s_max + 1) / (s + 1) * f**s)`` candidates and runs ``s + 1``
    rungs: rung ``i`` trains ``floor(n / f**i)`` candidates to
    ``floor(max_epochs / f**(s - i))`` epochs. The most exploratory bracket
    (``s = s_max``) starts many candidates at about ``min_epochs``; the last
    (``s = 0``) trains a few candidates to ``max_epochs`` directly.
    """
    s_max = n_rungs_possible(min_epochs, max_epochs, factor) - 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * factor**s // (s + 1))
        counts = [max(n // factor**i, 1) for i in range(s + 1)]
        epochs = [max_epochs // factor ** (s - i) for i in range(s + 1)]
        brackets.append(Bracket(counts, epochs))
    return brackets


def floor_log(n, base):
    """``floor(log_base(n))`` for integers, exactly."""
    k = 0
    while base ** (k + 1) <= n:
        k += 1
    return k
