"""Learning-rate range test (Smith 2015; fastai's ``lr_find``).

Train from the initial weights for ``num`` minibatch updates while the rate
grows exponentially from ``start`` to ``stop``; record the loss of every
update; read a good rate off the curve; check it with a short run at that
rate. The updates run through the same Cython kernel as ``fit``: the sweep is
just a per-step rate array.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from sklr._compat import Interval, validate_params
from sklr._threads import blas_single_threaded
from sklr.exceptions import LRFinderWarning

_DEFAULTS = dict(
    start=1e-7, stop=10.0, num=100, smoothing=0.98, diverge_factor=4.0, confirm=True
)

# The 'sklr' rule (see LRFinderResult's Notes; chosen with
# benchmarks/lr_finder_auto.py): the geometric mean of the rates where the
# lag-free curve first makes _REACHED of its drop and where it is lowest,
# divided by _SKLR_DIVISOR; a rise counts as the instability once it exceeds
# _RISE of the drop so far and _NOISE_MULTIPLE minibatch noise levels; a drop
# below _NOISE_MULTIPLE noise levels is no clear answer.
_REACHED = 0.95
_SKLR_DIVISOR = 2.0
_RISE = 0.25
_NOISE_MULTIPLE = 3.0
# The confirmation run: num // _CONFIRM_FRACTION updates (at least
# _CONFIRM_MIN) must end, over their last quarter, below the sweep's start by
# _CONFIRM_DROP of the sweep's drop; a run that blows up is retried (at most
# _BACKOFFS times) at a rate _BACKOFF times smaller.
_CONFIRM_FRACTION = 4
_CONFIRM_MIN = 8
_CONFIRM_DROP = 0.5
_BACKOFFS = 3
_BACKOFF = np.sqrt(10.0)

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
        Bias-corrected exponential moving average of ``losses`` (fastai's
        smoothing, which the rules ``'steep'``, ``'minimum'`` and
        ``'valley'`` read).
    lag_free_losses : ndarray of shape (n_updates,)
        ``losses`` smoothed without lag (a centred running median, then a
        centred running mean; see Notes), which the ``'sklr'`` rule reads.
    suggestions : dict of str to float
        The rate each rule suggests (NaN where a rule finds nothing):

        - ``'steep'``: steepest descent of the smoothed loss against
          log(rate) (see Notes);
        - ``'minimum'``: the rate at the minimum smoothed loss, divided by 10;
        - ``'valley'``: fastai's default, about halfway down the longest
          decreasing stretch of the smoothed loss (see Notes);
        - ``'sklr'``: read off ``lag_free_losses`` before the loss first
          turns up, half the geometric mean of the rate at its minimum and
          the first rate where it made 95% of its drop (see Notes): the one
          ``learning_rate_init='auto'`` starts from.
    suggestion : float
        What ``learning_rate_init='auto'`` trains with: ``suggestions['sklr']``
        once a short run at that rate confirmed it, else the first smaller
        rate that passed (see ``confirmation``).
    confirmation : list of dict
        The confirmation runs, in order (empty with ``confirm=False``): each
        with ``'learning_rate'``, ``'losses'`` (its minibatch losses,
        before each update; a non-finite loss ends the run) and ``'passed'``.
    caveat : str or None
        Why the curve gives no clear answer, or None when it does; when set,
        :func:`find_learning_rate` and ``learning_rate_init='auto'`` warn
        with this text (:class:`~sklr.exceptions.LRFinderWarning`).
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

    ``'sklr'`` reads a curve built to hold on regression losses, whose
    scale is the targets' squared scale and whose sweeps often spike once
    and then settle on a network that predicts the mean. The moving
    average lags: with β = 0.98 its minimum trails the loss's by tens of
    updates, and one spike lifts it for as long, so its minimum may sit
    far past the first instability. ``lag_free_losses`` is a running
    median over ``2h + 1`` updates (``h = max(2, n // 40)`` for ``n``
    updates; the windows shrink at the ends), which drops isolated spikes,
    then a running mean over the same window; both are centred, so a
    feature of the curve stays at its rate. With ``s`` that curve, the
    minibatch noise ``σ`` is 1.4826 times the median absolute difference
    of consecutive losses, divided by √2, and the start level ``s₀`` the
    median of the first ``max(h + 1, n // 10)`` losses. The instability is
    the first update ``i`` whose rise above the lowest value so far, ``s_i
    − min_{j≤i} s_j``, exceeds both a quarter of the drop so far, ``s₀ −
    min_{j≤i} s_j``, and ``3σ``. Before it, with ``m`` the update at the
    minimum of ``s`` and ``q`` the first update where ``s₀ − s_q`` reaches
    95% of the drop ``s₀ − s_m``, the rule returns ``√(r_q · r_m) / 2``
    (``r_i`` the rate of update ``i``): on a sharp valley ``q`` is a few
    updates before ``m``; on a long, flat and noisy bottom (Adam on
    unscaled targets) ``q`` marks where the bottom begins, while ``m`` may
    fall anywhere along it. Every decision compares differences of losses,
    so the rule gives the same rate for ``a · loss + b`` (``a > 0``) as for
    ``loss``: it does not depend on the scale of the targets or on a
    constant floor of the loss.

    Confirmation (``confirm=True``): from the initial weights, with a fresh
    optimizer state and the sweep's minibatch order, ``max(8, num // 4)``
    updates at the suggested rate must end (median loss of their last
    quarter) below ``s₀`` by half the sweep's drop. A run that blows up (a
    non-finite loss, or a running median of three losses above ``s₀ +
    3σ``) shows a rate too large: the rate is divided by √10 and tried
    again, at most three times, and when all blow up the smallest is kept.
    A run that neither passes nor blows up is kept: the rate may be too
    small, which a smaller one would not mend.

    The curve gives no clear answer (``caveat``, and a warning) when the
    drop ``s₀ − min s`` before the instability is below ``3σ`` (a flat or
    noisy curve), when the minimum is at the end of a sweep that did not
    diverge (``stop`` is too small), or when the confirmation did not pass.

    The constants were chosen with ``benchmarks/lr_finder_auto.py``, which
    compares models trained at the suggestion with the best value of a
    grid over ``learning_rate_init`` on three regression problems
    (``load_diabetes``, ``make_regression``, ``make_friedman1``) and on
    digits, with five optimizers: the rate at the minimum alone, divided
    by 2, was too large on digits, and divided by 3 or more too small on
    ``make_friedman1``; the 95% point brought ``load_diabetes`` with Adam
    from 8.5% below the grid's R² to 1.3% above.
    """

    def __init__(self, learning_rates, losses, smoothed_losses, suggestions, *, diverged,
                 start, stop, num, smoothing, diverge_factor, lag_free_losses=None,
                 suggestion=None, confirmation=(), caveat=None):
        self.learning_rates = learning_rates
        self.losses = losses
        self.smoothed_losses = smoothed_losses
        self.lag_free_losses = lag_free_losses
        self.suggestions = suggestions
        self.suggestion = suggestions["sklr"] if suggestion is None else suggestion
        self.confirmation = list(confirmation)
        self.caveat = caveat
        self.diverged = diverged
        self.start = start
        self.stop = stop
        self.num = num
        self.smoothing = smoothing
        self.diverge_factor = diverge_factor

    def __repr__(self):
        rules = ", ".join(f"{k}={v:.3g}" for k, v in self.suggestions.items())
        if not _same(self.suggestion, self.suggestions["sklr"]):  # after a confirmation
            rules += f"; suggestion={self.suggestion:.3g}"
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


def _same(a, b):
    return a == b or (np.isnan(a) and np.isnan(b))


def _centred(values, half_width, statistic):
    """``statistic`` over the window ``[i - h, i + h]`` around each index (clipped to the ends)."""
    n = len(values)
    return np.array(
        [statistic(values[max(0, i - half_width): i + half_width + 1]) for i in range(n)],
        dtype=np.float64,
    )


class _CurveReading:
    """The lag-free curve and what the 'sklr' rule reads off it (see LRFinderResult)."""

    def __init__(self, losses):
        losses = np.asarray(losses, dtype=np.float64)
        n = len(losses)
        h = max(2, n // 40)
        median = _centred(losses, h, np.median)
        self.curve = _centred(median, h, np.mean)
        if n == 0:
            self.noise = self.start = self.drop = np.nan
            self.i_min = self.i_reached = -1
            self.i_rise = 0
            return
        # Consecutive losses differ by the noise of two minibatches (the
        # trend adds little): a robust scale of the differences, / √2.
        steps = np.abs(np.diff(losses))
        self.noise = 1.4826 * float(np.median(steps)) / np.sqrt(2) if n > 1 else 0.0
        self.start = float(np.median(losses[: max(h + 1, n // 10)]))
        lowest = np.minimum.accumulate(self.curve)
        drop = self.start - lowest
        rise = self.curve - lowest
        threshold = _NOISE_MULTIPLE * self.noise
        turned = (rise > _RISE * drop) & (rise > threshold) & (drop > threshold)
        self.i_rise = int(np.argmax(turned)) if turned.any() else n  # first instability
        before = self.curve[: self.i_rise]
        self.i_min = int(np.argmin(before))
        self.drop = self.start - float(before[self.i_min])
        # The first update where the curve made _REACHED of its drop.
        reached = self.start - before >= _REACHED * self.drop
        self.i_reached = int(np.argmax(reached)) if self.drop > 0 else self.i_min

    def caveat(self, stop, diverged):
        """Why this curve gives no clear answer, or None (``diverged``: the sweep stopped)."""
        n = len(self.curve)
        if n == 0:
            return None  # every rule is NaN; the callers say so
        if not self.drop > _NOISE_MULTIPLE * self.noise:
            return (
                "the loss did not clearly fall during the sweep: its lag-free curve fell by "
                f"{self.drop:.3g} from its start, less than {_NOISE_MULTIPLE:g} times the "
                f"minibatch noise ({self.noise:.3g}; a flat or noisy curve)"
            )
        if not diverged and self.i_rise == n and self.i_min >= n - 1 - max(2, n // 40):
            return (
                f"the loss was still falling at the end of the sweep (stop={stop:g}), so "
                "the best rate may lie beyond it: raise stop"
            )
        return None


def _suggestions(rates, smoothed, smoothing, reading):
    """The four rules: fastai's three on the moving average, 'sklr' on the lag-free curve."""
    if len(rates):
        sklr = float(np.sqrt(rates[reading.i_reached] * rates[reading.i_min])) / _SKLR_DIVISOR
    else:
        sklr = np.nan
    return {
        "steep": _steep(rates, smoothed, smoothing),
        "minimum": _minimum(rates, smoothed),  # NaN only without any update
        "valley": _valley(rates, smoothed),  # NaN if the loss never decreased
        "sklr": sklr,
    }


def _confirm(rate, run, reading, num):
    """Short runs from the initial weights at ``rate``, then smaller ones while they blow up.

    ``run(rate, n_updates)`` returns the minibatch losses of ``n_updates``
    updates at a constant rate from the initial weights (fewer, ending in a
    non-finite value, when the loss stops being finite). A run passes when
    the median loss of its last quarter is below the sweep's start level by
    half the sweep's drop. One that blows up (a non-finite loss, or a loss
    more than 3σ above the start level, spikes aside) means a rate too
    large: the next run is at a rate √10 times smaller. One that neither
    passes nor blows up means a rate too small, or a problem slower than
    the sweep showed: it is kept, with a caveat. Returns the rate kept (the
    smallest tried when all blew up), the trials and the caveat or None.
    """
    n_updates = max(_CONFIRM_MIN, num // _CONFIRM_FRACTION)
    drop = max(reading.drop, 0.0)
    target = reading.start - _CONFIRM_DROP * drop
    ceiling = reading.start + _NOISE_MULTIPLE * reading.noise
    trials = []
    for _ in range(_BACKOFFS + 1):
        losses = np.asarray(run(float(rate), n_updates), dtype=np.float64)
        finite = len(losses) == n_updates and bool(np.all(np.isfinite(losses)))
        tail = float(np.median(losses[-max(1, n_updates // 4):])) if finite else np.nan
        passed = finite and tail < target
        trials.append({"learning_rate": float(rate), "losses": losses, "passed": passed})
        if passed:
            return rate, trials, None
        blew_up = not finite or _centred(losses, 1, np.median).max() > ceiling
        if not blew_up:
            share = (reading.start - tail) / drop if drop > 0 else 0.0
            return rate, trials, (
                f"a run of {n_updates} updates from the initial weights at the suggested "
                f"{rate:.3g} brought the loss down by {100 * share:.0f}% of the sweep's drop "
                f"(at least {100 * _CONFIRM_DROP:.0f}% expected): the rate may be too small, "
                "or the problem slower than the sweep showed"
            )
        rate = rate / _BACKOFF
    return trials[-1]["learning_rate"], trials, (
        f"every confirmation run blew up: {n_updates} updates from the initial weights at "
        f"{trials[0]['learning_rate']:.3g} and at {len(trials) - 1} rates each "
        f"{_BACKOFF:.3g} times smaller gave a non-finite loss or one above the loss's "
        "start; kept the smallest"
    )


def _range_test(step, *, start, stop, num, smoothing, diverge_factor, confirm=None):
    """Drive ``step(rate) -> loss`` over the exponential sweep; build the result.

    ``confirm``: None, or ``run(rate, n_updates) -> losses`` (see
    :func:`_confirm`) to check the suggestion with. The callers warn about
    the result's ``caveat`` (:func:`warn_if_unclear`).
    """
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
    losses = np.asarray(losses, dtype=np.float64)
    smoothed = np.asarray(smoothed, dtype=np.float64)
    reading = _CurveReading(losses)
    suggestions = _suggestions(rates, smoothed, smoothing, reading)
    suggestion, trials, caveat = suggestions["sklr"], [], reading.caveat(stop, diverged)
    if confirm is not None and n:
        suggestion, trials, failed = _confirm(suggestion, confirm, reading, num)
        caveat = caveat or failed
    return LRFinderResult(
        rates, losses, smoothed, suggestions, diverged=diverged, start=start, stop=stop,
        num=num, smoothing=smoothing, diverge_factor=diverge_factor,
        lag_free_losses=reading.curve, suggestion=suggestion, confirmation=trials,
        caveat=caveat,
    )


def warn_if_unclear(result, stacklevel=2):
    """Warn (:class:`~sklr.exceptions.LRFinderWarning`) when the curve gave no clear answer."""
    if result.caveat is not None:
        warnings.warn(
            f"The learning-rate range test gives no clear answer: {result.caveat}. Its "
            f"suggestion ({result.suggestion:.3g}) is a guess: look at the curve "
            "(result.plot(), or lr_finder_.plot() after learning_rate_init='auto') and "
            "check the scale of X and y.",
            LRFinderWarning, stacklevel=stacklevel + 1,
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
        "confirm": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def find_learning_rate(
    estimator, X, y, *, sample_weight=None, start=1e-7, stop=10.0, num=100,
    smoothing=0.98, diverge_factor=4.0, confirm=True, random_state=None,
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

    With ``confirm=True`` a short run at the suggested rate then checks that
    it reduces the loss, and smaller rates are tried when it does not (see
    :class:`LRFinderResult`). A :class:`~sklr.exceptions.LRFinderWarning`
    says when the curve gives no clear answer.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor or Pipeline
        The estimator to test, with a stochastic solver (fitted or not: only
        its parameters are used). A :class:`~sklearn.pipeline.Pipeline`
        ending in one: clones of its other steps are fitted on ``X`` and
        ``y`` and transform ``X``, and the test runs on its final step.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (of the final estimator, in a Pipeline).
    start, stop : float, default=1e-7, 10
        First and last rate of the sweep (``stop > start``).
    num : int, default=100
        Number of updates (the sweep's length).
    smoothing : float in [0, 1), default=0.98
        β of the moving average (0: no smoothing).
    diverge_factor : float > 1, default=4
        Stop when the smoothed loss exceeds this times its minimum.
    confirm : bool, default=True
        Whether to check the ``'sklr'`` suggestion with a short run of
        ``max(8, num // 4)`` updates from the initial weights (more, up to
        three, when it fails); ``suggestion`` is the rate that passed.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the minibatch order; None uses the
        estimator's own ``random_state``.

    Returns
    -------
    result : LRFinderResult
        ``learning_rates``, ``losses``, ``smoothed_losses``,
        ``lag_free_losses``, ``suggestions`` (rules 'steep', 'minimum',
        'valley' and 'sklr'), ``suggestion``, ``confirmation``, ``caveat``
        and ``plot()``.

    Warns
    -----
    LRFinderWarning
        When the curve gives no clear answer (``result.caveat``): the loss
        did not clearly fall, was still falling at ``stop``, or no
        confirmation run reduced it.

    See Also
    --------
    sklr.inspection.LRFinderDisplay : Plot of a range test.

    Notes
    -----
    Fastai's ``lr_find`` with the same defaults (``start_lr=1e-7``,
    ``end_lr=10``, ``num_it=100``, β = 0.98, stop at 4× the minimum), and
    fastai's rules ``'steep'``, ``'minimum'`` and ``'valley'``; sklr's own
    rule and the confirmation are described in :class:`LRFinderResult`.
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

    A Pipeline: the scaler is fitted on ``X``, the test runs on the network.

    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklr import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), MLPRegressor(solver="sgd", random_state=0))
    >>> result = find_learning_rate(pipe, X, y)
    >>> bool(1e-5 < result.suggestion < 1)
    True
    """
    if not stop > start:
        raise ValueError(f"stop must be greater than start, got start={start}, stop={stop}.")
    X, estimator = _final_step(estimator, X, y)
    if not hasattr(estimator, "_prepare_fit"):
        raise TypeError(
            "find_learning_rate needs an sklr MLPClassifier or MLPRegressor, or a "
            f"Pipeline ending in one, got {type(estimator).__name__}."
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
        result = est._range_test(
            plan, X, y, sample_weight, start=float(start), stop=float(stop), num=int(num),
            smoothing=float(smoothing), diverge_factor=float(diverge_factor),
            confirm=bool(confirm),
        )
    # The caller's line: past this function and scikit-learn's validation wrapper.
    warn_if_unclear(result, stacklevel=3)
    return result


def _final_step(estimator, X, y):
    """``(X, estimator)``, or for a Pipeline its final step and ``X`` through the others.

    The other steps are cloned and fitted on ``X`` and ``y`` (as
    ``Pipeline.fit`` fits them); nested Pipelines are unwrapped the same way.
    """
    while isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            X = clone(estimator[:-1]).fit_transform(X, y)
        estimator = estimator.steps[-1][1]
    return X, estimator
