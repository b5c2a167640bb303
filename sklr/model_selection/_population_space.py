"""What population-based training explores, and how a lineage becomes schedules.

:class:`_Dimension` is one explored hyperparameter of
:class:`~sklr.model_selection.PopulationSearchCV`: its prior (a frozen
``scipy.stats`` distribution or a list of numbers), the first draw, and the
explore step (a multiplicative perturbation, or a fresh draw from the prior).
:class:`_Lineage` is what one member of the population trained with so far:
its seed, its initial learning rate and one value per interval of each
explored hyperparameter. A member that exploits another takes over the other's
lineage, so the lineage of the last member standing is exactly what its
weights went through, and :meth:`_Lineage.params` turns it into estimator
parameters (piecewise-constant schedules in epochs) that replay it from
scratch.
"""

import math

import numpy as np

from sklr.schedules import PiecewiseConstant

#: The hyperparameters population-based training may explore, as keys of
#: ``param_distributions``, and the estimator parameter each becomes.
_EXPLORABLE = {
    "learning_rate_init": "learning_rate",
    "momentum": "momentum",
    "weight_decay": "weight_decay",
}


def _support(name, prior):
    """``(low, high, draw)`` of a prior: its support and a function drawing from it."""
    if hasattr(prior, "rvs") and hasattr(prior, "support"):
        low, high = (float(v) for v in prior.support())

        def draw(rng):
            return float(np.asarray(prior.rvs(random_state=rng)).reshape(()))

    elif isinstance(prior, (list, tuple, np.ndarray)):
        try:
            values = np.asarray(prior, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.full(1, np.nan)
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(
                f"param_distributions[{name!r}] must be a non-empty list of finite "
                f"numbers or a frozen scipy.stats distribution, got {prior!r}."
            )
        low, high = float(values.min()), float(values.max())

        def draw(rng):
            return float(values[rng.randint(values.size)])

    else:
        raise ValueError(
            f"param_distributions[{name!r}] must be a frozen scipy.stats "
            "distribution (with rvs and support, e.g. loguniform(1e-3, 1)) or a "
            f"list of numbers, got {prior!r}."
        )
    return low, high, draw


class _Dimension:
    """One explored hyperparameter: its prior, first draw and explore step.

    Parameters
    ----------
    name : {'learning_rate_init', 'momentum', 'weight_decay'}
        The key of ``param_distributions``.
    prior : frozen scipy.stats distribution or list of numbers
        Where the first values are drawn from; its support (for a list, its
        smallest and largest value) bounds every perturbed value.
    """

    def __init__(self, name, prior):
        if name not in _EXPLORABLE:
            raise ValueError(
                f"PopulationSearchCV explores {sorted(_EXPLORABLE)}; got "
                f"param_distributions key {name!r}. Other parameters are fixed on "
                "the estimator."
            )
        self.name = name
        self.low, self.high, self._draw = _support(name, prior)
        if not (self.low >= 0 and self.high < math.inf):
            raise ValueError(
                f"param_distributions[{name!r}] must lie in [0, inf) with a finite "
                f"upper end: its support is [{self.low}, {self.high}]."
            )
        if name == "learning_rate_init" and not self.low > 0:
            raise ValueError(
                "param_distributions['learning_rate_init'] must lie above 0 (a rate "
                f"of 0 never trains): its support starts at {self.low}. Use e.g. "
                "scipy.stats.loguniform(1e-4, 1)."
            )
        if name == "momentum" and self.high > 1:
            raise ValueError(
                "param_distributions['momentum'] must lie in [0, 1]: its support "
                f"ends at {self.high}."
            )

    def draw(self, rng):
        """A value drawn from the prior."""
        return self._clip(self._draw(rng))

    def _clip(self, value):
        return float(min(max(value, self.low), self.high))

    def explore(self, value, rng, factors, resample_probability):
        """The explore step from ``value``.

        With probability ``resample_probability`` a fresh draw from the prior,
        otherwise ``value`` times one of ``factors`` (drawn uniformly), clipped
        to the prior's support. Exactly two uniform draws are made from
        ``rng`` before any draw of the prior, whatever the branch, so the
        random stream does not depend on the values.
        """
        u = rng.random_sample()
        k = rng.randint(len(factors))
        if u < resample_probability:
            return self.draw(rng)
        return self._clip(value * float(factors[k]))


def _check_factors(factors):
    """``perturbation_factors`` as a tuple of finite floats > 0."""
    try:
        arr = np.asarray(factors, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.full(1, np.nan)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError(
            "perturbation_factors must be a non-empty 1-D sequence of finite numbers "
            f"> 0, got {factors!r}."
        )
    return tuple(float(v) for v in arr)


def _piecewise(values, interval_epochs):
    """A :class:`PiecewiseConstant` in epochs holding ``values[i]`` over interval ``i``.

    Consecutive equal values share one piece, so a value kept for several
    intervals gives one boundary less (the schedule is the same function).
    """
    boundaries, pieces = [], [float(values[0])]
    for i, value in enumerate(values[1:], start=1):
        if float(value) != pieces[-1]:
            boundaries.append(i * int(interval_epochs))
            pieces.append(float(value))
    return PiecewiseConstant(boundaries=boundaries, multipliers=pieces, unit="epoch")


class _Lineage:
    """What one member trained with: its seed and one value per interval.

    Parameters
    ----------
    seed : int
        The ``random_state`` of the member's estimator (its initial weights,
        shuffling and dropout draws).
    values : dict of str -> list of float
        Per explored key of ``param_distributions``, the value of each
        interval so far. For ``'learning_rate_init'`` these are absolute
        rates; the first one is the member's ``learning_rate_init`` and the
        schedule multiplies it.
    """

    def __init__(self, seed, values):
        self.seed = int(seed)
        self.values = {name: [float(v) for v in vals] for name, vals in values.items()}

    def copy(self):
        return _Lineage(self.seed, self.values)

    def extend(self, new_values):
        """Append the next interval's values (a dict with every explored key)."""
        for name, vals in self.values.items():
            vals.append(float(new_values[name]))

    def current(self):
        """The values of the last interval recorded."""
        return {name: vals[-1] for name, vals in self.values.items()}

    def params(self, interval_epochs):
        """Estimator parameters that replay this lineage from scratch.

        Returns
        -------
        params : dict
            ``random_state``; for an explored learning rate,
            ``learning_rate_init`` (the first interval's rate) and
            ``learning_rate``, a :class:`PiecewiseConstant` of multipliers of
            it; for an explored momentum or weight decay, a
            :class:`PiecewiseConstant` of their absolute values per interval
            (momentum schedules and weight-decay schedules take absolute
            values).
        """
        params = {"random_state": self.seed}
        for name, vals in self.values.items():
            if name == "learning_rate_init":
                base = vals[0]
                params["learning_rate_init"] = base
                params["learning_rate"] = _piecewise([v / base for v in vals], interval_epochs)
            else:
                params[_EXPLORABLE[name]] = _piecewise(vals, interval_epochs)
        return params


def _check_distributions(param_distributions):
    """The :class:`_Dimension` of each key, in a fixed (sorted) order."""
    if not param_distributions:
        raise ValueError(
            "param_distributions must name at least one of "
            f"{sorted(_EXPLORABLE)}, got {param_distributions!r}."
        )
    return [_Dimension(name, param_distributions[name]) for name in sorted(param_distributions)]
