"""The search space of :class:`AnnealingSearchCV`: dimensions and moves.

Each entry of ``param_distributions`` becomes a search dimension, a small
class that knows how to draw a coordinate at a quantile of its prior and how
to move a coordinate by a step of a given length. :class:`_SearchSpace`
holds the dimensions and builds from them the starting points (a Latin
hypercube sample) and the proposals (neighbours of the current point).
"""

import math
import numbers

import numpy as np
from scipy import stats

# Quantiles kept away from 0 and 1 so that the inverse CDF of an unbounded
# distribution stays finite.
_QUANTILE_EPS = 1e-9


def _fold(value, low, high):
    """Reflect ``value`` into ``[low, high]`` (either bound may be infinite).

    With two finite bounds the real line is folded onto the interval (so a
    step of any length lands inside it); with one finite bound the value is
    mirrored at that bound.
    """
    low_finite, high_finite = math.isfinite(low), math.isfinite(high)
    if low_finite and high_finite:
        width = high - low
        if width <= 0:
            return low
        y = (value - low) % (2 * width)
        if y > width:
            y = 2 * width - y
        return low + y
    if low_finite and value < low:
        return 2 * low - value
    if high_finite and value > high:
        return 2 * high - value
    return value


def _same_value(a, b):
    """Whether ``a`` and ``b`` are the same listed value (identity or ``==``)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays and other ambiguous comparisons
        return False


# A search dimension keeps its own coordinate for the current point (the
# value for a distribution, the position for a list) and provides:
# at_quantile(u) -> the coordinate at quantile u in (0, 1) of the prior (the
# inverse CDF; a uniform u gives a random coordinate); move(coordinate,
# sigma, rng) -> a neighbour at step length sigma (a fraction of the range);
# check(value) -> the coordinate of a user-given value (raises if outside the
# space); and value(coordinate) -> the parameter value handed to the
# estimator.


class _Continuous:
    """A frozen continuous scipy distribution, moved in quantile space.

    The point ``x`` is mapped to ``u = F(x)``, shifted by a Gaussian step,
    folded back into ``[0, 1]`` and mapped back by ``F^{-1}``. For
    ``loguniform(a, b)`` this is a step in ``log x`` of standard deviation
    ``sigma * log(b / a)``; for ``uniform(loc, scale)`` a step in ``x`` of
    standard deviation ``sigma * scale``.
    """

    def __init__(self, name, dist):
        self.name = name
        self.dist = dist

    def at_quantile(self, u):
        u = min(max(u, _QUANTILE_EPS), 1.0 - _QUANTILE_EPS)
        return float(self.dist.ppf(u))

    def move(self, x, sigma, rng):
        u = float(self.dist.cdf(x)) + sigma * rng.standard_normal()
        u = min(max(_fold(u, 0.0, 1.0), _QUANTILE_EPS), 1.0 - _QUANTILE_EPS)
        return float(self.dist.ppf(u))

    def check(self, x):
        low, high = self.dist.support()
        if not isinstance(x, numbers.Real) or not low <= x <= high:
            raise ValueError(
                f"initial_params[{self.name!r}]={x!r} is outside the support "
                f"[{low}, {high}] of its distribution."
            )
        return float(x)

    def value(self, x):
        return x


class _Integer:
    """Integers on ``[low, high]``: a frozen discrete scipy distribution, or
    the positions of an ordered list of numbers. Moves by ``+-k``, ``k >= 1``.
    """

    def __init__(self, name, low, high, width):
        self.name = name
        self.low = low
        self.high = high
        self.width = width  # the range that a step of sigma = 1 spans

    @classmethod
    def from_dist(cls, name, dist):
        low, high = (float(b) for b in dist.support())
        if math.isfinite(low) and math.isfinite(high):
            width = high - low
        else:
            width = max(float(dist.ppf(0.99) - dist.ppf(0.01)), 1.0)
        obj = cls(name, low, high, width)
        obj.dist = dist
        return obj

    def at_quantile(self, u):
        u = min(max(u, _QUANTILE_EPS), 1.0 - _QUANTILE_EPS)
        return int(self.dist.ppf(u))

    def move(self, k, sigma, rng):
        sign = 1 if rng.random_sample() < 0.5 else -1
        step = 1 + math.floor(sigma * self.width * abs(rng.standard_normal()))
        return int(_fold(k + sign * step, self.low, self.high))

    def check(self, x):
        if (
            isinstance(x, bool)
            or not isinstance(x, numbers.Integral)
            or not self.low <= x <= self.high
        ):
            raise ValueError(
                f"initial_params[{self.name!r}]={x!r} must be an integer in "
                f"[{self.low}, {self.high}]."
            )
        return int(x)

    def value(self, k):
        return k


class _Ordered(_Integer):
    """A strictly monotonic list of numbers: moves to a nearby position."""

    def __init__(self, name, values):
        n = len(values)
        super().__init__(name, 0.0, float(n - 1), float(n - 1))
        self.values = values

    def at_quantile(self, u):
        return min(int(u * len(self.values)), len(self.values) - 1)

    def check(self, x):
        return _index_of(self.name, self.values, x)

    def value(self, k):
        return self.values[k]


class _Categorical:
    """An unordered list: a move resamples a different element uniformly."""

    def __init__(self, name, values):
        self.name = name
        self.values = values

    def at_quantile(self, u):
        return min(int(u * len(self.values)), len(self.values) - 1)

    def move(self, k, sigma, rng):
        n = len(self.values)
        if n == 1:
            return k
        other = int(rng.randint(n - 1))
        return other if other < k else other + 1

    def check(self, x):
        return _index_of(self.name, self.values, x)

    def value(self, k):
        return self.values[k]


def _index_of(name, values, x):
    for i, v in enumerate(values):
        if _same_value(v, x):
            return i
    raise ValueError(
        f"initial_params[{name!r}]={x!r} is not one of the listed values {values!r}."
    )


def _is_ordered_numbers(values):
    if len(values) < 2 or not all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
        for v in values
    ):
        return False
    diffs = np.diff(np.asarray(values, dtype=np.float64))
    return bool(np.all(diffs > 0) or np.all(diffs < 0))


def _make_dimension(name, spec):
    """Turn one entry of ``param_distributions`` into a search dimension."""
    if isinstance(spec, (list, tuple)) or (
        isinstance(spec, np.ndarray) and spec.ndim == 1
    ):
        values = list(spec)
        if not values:
            raise ValueError(f"param_distributions[{name!r}] is an empty list.")
        if _is_ordered_numbers(values):
            return _Ordered(name, values)
        return _Categorical(name, values)
    dist = getattr(spec, "dist", None)
    if isinstance(dist, stats.rv_continuous) and hasattr(spec, "ppf"):
        return _Continuous(name, spec)
    if isinstance(dist, stats.rv_discrete) and hasattr(spec, "ppf"):
        return _Integer.from_dist(name, spec)
    raise TypeError(
        f"param_distributions[{name!r}] must be a list of values or a frozen "
        "univariate scipy.stats distribution (such as loguniform(1e-4, 1e-1) "
        f"or randint(1, 10)); got {spec!r} of type {type(spec).__name__}. "
        "Annealing moves need the distribution's cdf and ppf, so objects that "
        "only provide rvs are not supported."
    )


def _latin_hypercube(dims, n, rng):
    """Coordinates of ``n`` points, one per quantile stratum of each dimension.

    Each dimension's prior is cut into ``n`` slices of equal probability,
    ``[i / n, (i + 1) / n)``; every slice holds exactly one point, at a
    uniform quantile inside it, and the slices are paired across dimensions
    by independent random permutations (Latin hypercube sampling). Each point
    is still distributed as the prior, but the design cannot leave a region
    of one parameter (say, the top fifth of the learning rates) unvisited.
    """
    columns = {}
    for dim in dims:
        u = (rng.permutation(n) + rng.random_sample(n)) / n
        columns[dim.name] = [dim.at_quantile(float(v)) for v in u]
    return [{dim.name: columns[dim.name][i] for dim in dims} for i in range(n)]



def _n_starting_points(n_initial_points, n_iter, n_dims):
    """Number of starting points for the ``n_initial_points`` parameter."""
    n_iter = int(n_iter)
    if n_initial_points == "auto":
        n_start = max(math.ceil(0.25 * n_iter), n_dims + 1)
    elif isinstance(n_initial_points, numbers.Integral):
        n_start = int(n_initial_points)
    else:
        n_start = math.ceil(float(n_initial_points) * n_iter)
    return min(max(n_start, 1), n_iter)


class _SearchSpace:
    """The dimensions of ``param_distributions``, sorted by name.

    A point of the walk (a *state*) maps each name to its dimension's
    coordinate; :meth:`params` turns it into the candidate's parameters.
    """

    def __init__(self, param_distributions):
        if not param_distributions:
            raise ValueError("param_distributions must not be empty.")
        dims = []
        for name in sorted(param_distributions):
            if not isinstance(name, str):
                raise TypeError(
                    f"param_distributions keys must be strings, got {name!r}."
                )
            dims.append(_make_dimension(name, param_distributions[name]))
        self.dims = dims

    def params(self, state):
        """The parameter values of ``state``, as handed to the estimator."""
        return {dim.name: dim.value(state[dim.name]) for dim in self.dims}

    def starting_points(self, n_start, rng, initial_params=None, use_initial=True):
        """The coordinates of the ``n_start`` starting points."""
        dims = self.dims
        initial = initial_params or {}
        unknown = sorted(set(initial) - {d.name for d in dims})
        if unknown:
            raise ValueError(
                f"initial_params names {unknown}, which are not in "
                "param_distributions."
            )
        states = _latin_hypercube(dims, n_start, rng)
        if use_initial:
            for dim in dims:
                if dim.name in initial:
                    states[0][dim.name] = dim.check(initial[dim.name])
        return states

    def propose(self, state, ratio, sigma, rng):
        """One neighbour of ``state`` (see the Notes of AnnealingSearchCV)."""
        dims = self.dims
        d = len(dims)
        mask = rng.random_sample(d) < max(ratio, 1.0 / d)
        if not mask.any():
            mask[rng.randint(d)] = True
        proposal = dict(state)
        for dim, moved in zip(dims, mask):
            if moved:
                proposal[dim.name] = dim.move(state[dim.name], sigma, rng)
        return proposal
