"""Learning-rate range test (Smith 2015; fastai's ``lr_find``).

Train from the initial weights for ``num`` minibatch updates while the rate
grows exponentially from ``start`` to ``stop``; record the loss of every
update; read a good rate off the curve. The updates run through the same
Cython kernel as ``fit``: the sweep is just a per-step rate array.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone

from sklr._compat import Interval, validate_params
from sklr._threads import blas_single_threaded

_DEFAULTS = dict(start=1e-7, stop=10.0, num=100, smoothing=0.98, diverge_factor=4.0)

#: Suggestion rules, in the order they are reported.
RULES = ("steep", "minimum", "valley", "sklr")


class LRFinderResult:
    """What a learning-rate range test found.

    Attributes
    ----------
    learning_rates : ndarray of shape (n_updates,)
        Rate of each update made (fewer than ``num`` when the test stopped
        early on divergence).
    losses : ndarray of shape (n_updates,)
        Loss of each update's minibatch, before the update.
    smoothed_losses : ndarray of shape (n_updates,)
        Bias-corrected exponential moving average of ``losses``.
    suggestions : dict of str to float
        The rate each rule suggests (NaN where a rule finds nothing):

        - ``'steep'``: steepest descent of the smoothed loss against
          log(rate) (see Notes);
        - ``'minimum'``: the rate at the minimum smoothed loss, divided by 10;
        - ``'valley'``: fastai's default, about halfway down the longest
          decreasing stretch of the smoothed loss (see Notes);
        - ``'sklr'``: the one sklr recommends (see Notes), the one
          ``learning_rate_init='auto'`` uses.
    suggestion : float
        ``suggestions['sklr']``: what ``learning_rate_init='auto'`` trains with.
    diverged : bool
        Whether the test stopped early because the smoothed loss exceeded
        ``diverge_factor`` times its minimum (or the loss became non-finite).
    start, stop, num, smoothing, diverge_factor : float or int
        The test's settings.

    Notes
    -----
    ``'valley'`` finds the longest stretch over which the smoothed loss keeps
    decreasing: the longest strictly decreasing subsequence, of ``L``
    values, ending at index ``e`` (the first such end). Counting back from
    ``e`` as if it had no gaps, ``b = e − L + 1``, it returns the rate about
    halfway down, at index ``b + ⌊(e − b)/3⌋ + ⌊(e − b)/6⌋``, as fastai does
    (whose ``b`` is one index earlier, ``e − L``).

    ``'steep'`` is the rate at the start of the update over which the
    smoothed loss falls fastest against log(rate), leaving out the last 5%
    of the updates (the divergence). During the moving average's warm-up
    the bias correction makes its steps larger: update ``i`` (from 1) moves
    it by ``(1 − β) / (1 − β^(i+1)) = 1 / (1 + β + … + β^i)`` times the new
    loss's distance from it (about ``1/(i+1)`` early on, for β near 1),
    against ``1 − β`` later, so at the start of the sweep one noisy
    minibatch could make the steepest "descent". Each step is therefore
    scaled by ``1 − β^(i+1)`` before the slopes are compared.
    (fastai leaves out the first tenth of the sweep instead. On the
    three-blob problem of the user guide, over 20 seeds, that still picked a
    rate from the flat start, where the loss had not yet fallen by 1%, in 8;
    leaving out the first 5% did in 13; this rule in none.)

    ``'sklr'`` is the geometric mean of ``'valley'`` and the rate at the
    minimum divided by 5 (twice ``'minimum'``), at most the latter. Without
    a valley (the smoothed loss never decreased) it is twice ``'minimum'``;
    ``'minimum'`` exists whenever one update was recorded, and every rule
    gives NaN when none was. On digits (20 epochs, SGD with and
    without momentum, Adam, RMSprop, Adagrad, three seeds) the valley point
    alone was too small for every optimizer but Adam, and minimum/10 too
    large for Adam; this combination came closest to the best value of a
    learning-rate grid (mean gap 0.75% accuracy; ``benchmarks/lr_finder_auto.py``).
    """

    def __init__(self, learning_rates, losses, smoothed_losses, suggestions, *, diverged,
                 start, stop, num, smoothing, diverge_factor):
        self.learning_rates = learning_rates
        self.losses = losses
        self.smoothed_losses = smoothed_losses
        self.suggestions = suggestions
        self.suggestion = suggestions["sklr"]
        self.diverged = diverged
        self.start = start
        self.stop = stop
        self.num = num
        self.smoothing = smoothing
        self.diverge_factor = diverge_factor

    def __repr__(self):
        rules = ", ".join(f"{k}={v:.3g}" for k, v in self.suggestions.items())
        return (
            f"LRFinderResult({len(self.losses)} updates from {self.start:g} to "
            f"{self.learning_rates[-1] if len(self.losses) else self.start:.3g}"
            f"{', diverged' if self.diverged else ''}; {rules})"
        )

    def plot(self, ax=None, **kwargs):
        """Plot the loss against the rate with the suggestions marked.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure when None.
        **kwargs : dict
            Passed to :meth:`sklr.inspection.LRFinderDisplay.plot`.

        Returns
        -------
        display : :class:`~sklr.inspection.LRFinderDisplay`
        """
        from sklr.inspection import LRFinderDisplay

        return LRFinderDisplay.from_result(self, ax=ax, **kwargs)


def smooth_losses(losses, smoothing):
    """Bias-corrected exponential moving average of a loss sequence.

    ``avg_i = β avg_{i-1} + (1 − β) loss_i`` from ``avg_0 = 0``, reported as
    ``avg_i / (1 − β^i)`` (i from 1), as in Adam's moment estimates.
    """
    losses = np.asarray(losses, dtype=np.float64)
    out = np.empty_like(losses)
    avg = 0.0
    for i, loss in enumerate(losses):
        avg = smoothing * avg + (1 - smoothing) * loss
        out[i] = avg / (1 - smoothing ** (i + 1))
    return out


def _steep(rates, smoothed, smoothing):
    # The last 5% of the sweep are left out: the end is the divergence.
    n = len(rates) - len(rates) // 20
    rates, smoothed = rates[:n], smoothed[:n]
    if n < 2:
        return np.nan
    # Update i (from 1) moves the bias-corrected average by
    # (1 - β) / (1 - β^(i+1)) times the loss's distance from it: scaled by
    # 1 - β^(i+1), every step weighs 1 - β, and the warm-up's noise no
    # longer outweighs the descent (smoothing ** 2.. for updates 1..n-1).
    warm_up = 1.0 - smoothing ** np.arange(2, n + 1, dtype=np.float64)
    slopes = np.diff(smoothed) * warm_up / np.diff(np.log(rates))
    i = int(np.argmin(slopes))
    return float(rates[i]) if slopes[i] < 0 else np.nan


def _minimum(rates, smoothed):
    if len(rates) == 0:
        return np.nan
    return float(rates[int(np.argmin(smoothed))]) / 10.0


def _valley(rates, smoothed):
    n = len(smoothed)
    if n < 2:
        return np.nan
    # length[i]: longest strictly decreasing subsequence ending at i (O(n^2),
    # n is about 100).
    length = np.ones(n, dtype=int)
    for i in range(1, n):
        earlier = smoothed[:i] > smoothed[i]
        if earlier.any():
            length[i] = length[:i][earlier].max() + 1
    end = int(np.argmax(length))
    if length[end] < 2:
        return np.nan
    begin = end - length[end] + 1
    span = end - begin
    idx = begin + int(span / 3) + int(span / 6)
    return float(rates[idx])


def _suggestions(rates, smoothed, smoothing):
    steep = _steep(rates, smoothed, smoothing)
    minimum = _minimum(rates, smoothed)  # NaN only without any update
    valley = _valley(rates, smoothed)  # NaN if the loss never decreased
    if np.isfinite(valley):
        recommended = min(np.sqrt(valley * 2 * minimum), 2 * minimum)
    else:
        recommended = 2 * minimum
    return {"steep": steep, "minimum": minimum, "valley": valley, "sklr": float(recommended)}


def _range_test(step, *, start, stop, num, smoothing, diverge_factor):
    """Drive ``step(rate) -> loss`` over the exponential sweep; build the result."""
    rates = start * (stop / start) ** (np.arange(num) / max(num - 1, 1))
    losses, smoothed = [], []
    avg, best, diverged = 0.0, np.inf, False
    for i, rate in enumerate(rates):
        loss = step(float(rate))
        if not np.isfinite(loss):
            diverged = True
            break
        losses.append(loss)
        avg = smoothing * avg + (1 - smoothing) * loss
        value = avg / (1 - smoothing ** (i + 1))
        smoothed.append(value)
        best = min(best, value)
        if i > 0 and value > diverge_factor * best:
            diverged = True
            break
    n = len(losses)
    rates = rates[:n]
    smoothed = np.asarray(smoothed, dtype=np.float64)
    return LRFinderResult(
        rates, np.asarray(losses, dtype=np.float64), smoothed,
        _suggestions(rates, smoothed, smoothing), diverged=diverged, start=start, stop=stop,
        num=num, smoothing=smoothing, diverge_factor=diverge_factor,
    )


@validate_params(
    {
        "estimator": [object],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "sample_weight": ["array-like", None],
        "start": [Interval(Real, 0, None, closed="neither")],
        "stop": [Interval(Real, 0, None, closed="neither")],
        "num": [Interval(Integral, 2, None, closed="left")],
        "smoothing": [Interval(Real, 0, 1, closed="left")],
        "diverge_factor": [Interval(Real, 1, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def find_learning_rate(
    estimator, X, y, *, sample_weight=None, start=1e-7, stop=10.0, num=100,
    smoothing=0.98, diverge_factor=4.0, random_state=None,
):
    """Learning-rate range test: a good ``learning_rate_init`` without a grid.

    Trains a clone of ``estimator`` from its initial weights for ``num``
    minibatch updates while the rate grows exponentially from ``start`` to
    ``stop``, recording the loss of every update. The loss is smoothed with a
    bias-corrected exponential moving average, and the test stops early once
    the smoothed loss exceeds ``diverge_factor`` times its minimum. The rates
    are absolute: ``learning_rate_init`` and the ``learning_rate`` schedule
    are ignored, everything else (optimizer, momentum, batch size,
    regularisation) is the estimator's. ``estimator`` itself is not touched.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        The estimator to test, with a stochastic solver (fitted or not: only
        its parameters are used).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    start, stop : float, default=1e-7, 10
        First and last rate of the sweep (``stop > start``).
    num : int, default=100
        Number of updates (the sweep's length).
    smoothing : float in [0, 1), default=0.98
        β of the moving average (0: no smoothing).
    diverge_factor : float > 1, default=4
        Stop when the smoothed loss exceeds this times its minimum.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the minibatch order; None uses the
        estimator's own ``random_state``.

    Returns
    -------
    result : LRFinderResult
        ``learning_rates``, ``losses``, ``smoothed_losses``, ``suggestions``
        (rules 'steep', 'minimum', 'valley' and 'sklr'), ``suggestion`` and
        ``plot()``.

    See Also
    --------
    sklr.inspection.LRFinderDisplay : Plot of a range test.

    Notes
    -----
    Fastai's ``lr_find`` with the same defaults (``start_lr=1e-7``,
    ``end_lr=10``, ``num_it=100``, β = 0.98, stop at 4× the minimum).
    ``MLPClassifier(learning_rate_init='auto')`` runs this test inside
    ``fit`` and trains with ``suggestion``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklr import MLPClassifier, find_learning_rate
    >>> X, y = load_digits(return_X_y=True)
    >>> result = find_learning_rate(MLPClassifier(solver="sgd", random_state=0), X / 16, y)
    >>> sorted(result.suggestions)
    ['minimum', 'sklr', 'steep', 'valley']
    >>> bool(1e-4 < result.suggestion < 10)
    True
    """
    if not stop > start:
        raise ValueError(f"stop must be greater than start, got start={start}, stop={stop}.")
    if not hasattr(estimator, "_prepare_fit"):
        raise TypeError(
            "find_learning_rate needs an sklr MLPClassifier or MLPRegressor, got "
            f"{type(estimator).__name__}."
        )
    est = clone(estimator)
    if random_state is not None:
        est.set_params(random_state=random_state)
    # Only the parameters matter: a fresh, non-warm-started, unscheduled fit.
    est.set_params(
        warm_start=False, learning_rate_init=start, learning_rate="constant",
        early_stopping=False,
    )
    X, y, sample_weight, _, plan = est._prepare_fit(X, y, sample_weight, incremental=False)
    if not plan.is_stochastic:
        raise ValueError(
            "The learning-rate range test needs a stochastic solver, got "
            f"solver={estimator.solver!r}."
        )
    with blas_single_threaded():
        return est._range_test(
            plan, X, y, sample_weight, start=float(start), stop=float(stop), num=int(num),
            smoothing=float(smoothing), diverge_factor=float(diverge_factor),
        )
