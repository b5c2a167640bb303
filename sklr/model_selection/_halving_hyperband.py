"""Hyperband over epochs: brackets of successive halving with resumed fits.

:class:`HyperbandSearchCV` runs the brackets of Li et al. (2018) one after
the other, each a successive halving (:mod:`._halving_base`) of its own
random candidates; the arithmetic is in :mod:`._halving_rungs`.
"""


import numpy as np
from sklearn.model_selection import ParameterSampler

from sklr.model_selection._halving_base import BaseEpochHalving
from sklr.model_selection._halving_rungs import Bracket, hyperband_brackets

__all__ = ["HyperbandSearchCV"]


class HyperbandSearchCV(BaseEpochHalving):
    r"""Hyperband over epochs: brackets of successive halving, fits resumed.

    Successive halving must choose between many candidates judged early and
    few candidates judged late. Hyperband (Li et al., 2018) hedges: it runs
    several *brackets* of successive halving, from the most exploratory
    (many candidates, first rung at about ``min_epochs``) to plain random
    search (a few candidates trained to ``max_epochs``), each with its own
    random candidates, and keeps the best candidate trained to
    ``max_epochs`` over all brackets. As in
    :class:`EpochHalvingSearchCV`, every fit is planned for ``max_epochs``
    and the survivors of a rung resume their fits (schedules counted in
    ``unit='fraction'`` included). Read more in the
    :ref:`User Guide <user_guide_halving>`.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor or Pipeline
        The sklr estimator to tune, with a stochastic solver, or a Pipeline
        ending in one. Its ``max_iter`` is replaced by ``max_epochs``.

    param_distributions : dict or list of dicts
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`; each
        bracket draws its candidates from it. Must not contain ``max_iter``.

    factor : int, default=3
        :math:`\eta` of Hyperband, the halving factor of every bracket.

    min_epochs : int, default=1
        The smallest first rung, :math:`r` of Hyperband (with
        :math:`R` = ``max_epochs``, the brackets are
        :math:`s = s_{max}, \dots, 0` for :math:`s_{max} = \lfloor
        \log_\eta(R/r) \rfloor`).

    max_epochs : int, default=None
        :math:`R`, the last rung of every bracket and the length every fit
        is planned for. None: the estimator's ``max_iter``.

    rung_cooldown : int, float or None, default=None
        As in :class:`EpochHalvingSearchCV`.

    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`EpochHalvingSearchCV`.

    random_state : int, RandomState instance or None, default=None
        Seeds the candidate draws of all brackets.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in :class:`EpochHalvingSearchCV`, with the rows of all brackets:
        ``bracket`` is the bracket (0 the most exploratory), ``iter`` the
        rung within it, ``n_resources`` the rung's epoch, ``candidate`` the
        candidate's index over all brackets.

    best_estimator_ : estimator
        The best candidate refitted on all the data; only if ``refit``.

    best_score_ : float
        Mean cross-validated score of the best candidate: the best mean test
        score among the rows of every bracket trained to ``max_epochs``.

    best_params_ : dict
        Parameters of the best candidate.

    best_index_ : int
        Row of ``cv_results_`` of the best candidate.

    training_curves_ : ndarray of shape (n_candidates, max_epochs)
        As in :class:`EpochHalvingSearchCV`, candidates of all brackets.

    rung_scores_ : ndarray of shape (n_candidates, n_rungs)
        As in :class:`EpochHalvingSearchCV`; columns follow
        ``rung_epochs_``, the epochs of the rungs of all brackets.

    rung_epochs_ : ndarray of int
        The distinct rung epochs over all brackets.

    epochs_trained_ : int
        Epochs trained by all the CV fits, cooldowns included.

    max_epochs_ : int
        The resolved ``max_epochs``.

    min_epochs_ : int
        ``min_epochs``.

    scorer_ : function
        The scorer.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best model; only if ``refit``.

    multimetric_ : bool
        False (one metric).

    brackets_ : list of dict
        Per bracket: ``n_candidates`` (per rung) and ``epochs`` (per rung).

    See Also
    --------
    EpochHalvingSearchCV : One bracket.

    Notes
    -----
    Bracket :math:`s` draws :math:`n = \lceil (s_{max}+1)\,\eta^s/(s+1)
    \rceil` candidates and trains :math:`\lfloor n/\eta^i \rfloor` of them
    to epoch :math:`\lfloor R/\eta^{s-i} \rfloor` at its rung :math:`i =
    0, \dots, s` (Algorithm 1 of Li et al., with integer epochs). With
    :math:`R = 81`, :math:`r = 1`, :math:`\eta = 3`: 81, 34, 15, 8 and 5
    candidates, first rungs at 1, 3, 9, 27 and 81 epochs. Retraining every
    rung, each bracket would cost about :math:`(s_{max}+1) R` epochs per
    fold (405 here); resuming, they train 297, 276, 279, 324 and 405.

    References
    ----------
    L. Li, K. Jamieson, G. DeSalvo, A. Rostamizadeh, A. Talwalkar.
    "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
    Optimization". JMLR 18(185):1-52, 2018.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_digits
    >>> from sklr import MLPClassifier
    >>> from sklr.model_selection import HyperbandSearchCV
    >>> X, y = load_digits(return_X_y=True)
    >>> search = HyperbandSearchCV(
    ...     MLPClassifier(hidden_layer_sizes=(16,), random_state=0),
    ...     {"learning_rate_init": loguniform(1e-4, 1.0)},
    ...     max_epochs=4, factor=2, cv=2, random_state=0,
    ... ).fit(X[:600] / 16, y[:600])
    >>> [b["n_candidates"] for b in search.brackets_]
    [[4, 2, 1], [3, 1], [3]]
    >>> [b["epochs"] for b in search.brackets_]
    [[1, 2, 4], [2, 4], [4]]
    """

    _parameter_constraints: dict = dict(BaseEpochHalving._parameter_constraints)

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        factor=3,
        min_epochs=1,
        max_epochs=None,
        rung_cooldown=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=5,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=True,
    ):
        self.param_distributions = param_distributions
        self.factor = factor
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.rung_cooldown = rung_cooldown
        self.random_state = random_state
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )

    def _brackets(self, rng):
        factor = int(self.factor)
        planned = []
        for bracket in hyperband_brackets(self.min_epochs_, self.max_epochs_, factor):
            candidates = list(ParameterSampler(
                self.param_distributions, bracket.n_candidates[0], random_state=rng))
            if len(candidates) < bracket.n_candidates[0]:
                # A grid smaller than the draw (ParameterSampler warned):
                # Hyperband's counts for the candidates there are.
                n = len(candidates)
                bracket = Bracket([max(n // factor**i, 1) for i in range(bracket.n_rungs)],
                                  bracket.epochs)
            planned.append((bracket, candidates))
        self.brackets_ = [{"n_candidates": b.n_candidates, "epochs": b.epochs}
                          for b, _ in planned]
        return planned
