r"""Learning-dynamics diagnostics: ``record_dynamics`` and its probes.

Two kinds of measurement end up in ``history_``:

* per-layer statistics of every epoch, measured by the Cython kernel during
  the epoch's updates (``Kernel.train_epoch(..., diagnostics=...)``):
  gradient norm, update-to-weight ratio, weight norm and the fraction of
  dead ReLU units;
* two probes computed here, in NumPy, between epochs, on a fixed probe batch
  of training rows through float64 copies of the kernel (``loss_grad``):
  the sharpness (top eigenvalue of the Hessian of the training loss, by
  power iteration on finite-difference Hessian-vector products) and the
  gradient noise scale of McCandlish et al. (2018).

:class:`Dynamics` is the parameter object that configures them;
``record_dynamics=True`` is ``Dynamics()`` (the per-layer statistics only).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from sklr._codes import (
    CFG_WEIGHT_DECAY,
    DIAG_DEAD_FRACTION,
    DIAG_GRAD_NORM,
    DIAG_SIZE,
    DIAG_UPDATE_RATIO,
    DIAG_WEIGHT_NORM,
)
from sklr._compat import Interval
from sklr._kernel import Kernel, reg_array
from sklr._param_object import ParamObject
from sklr.optimizers import SGD

__all__ = ["Dynamics", "DynamicsRecorder", "noise_scale", "top_eigenvalue"]

# The per-layer statistics: history key prefix and column of the kernel's array.
_LAYER_STATS = (
    ("grad_norm_layer", DIAG_GRAD_NORM),
    ("update_ratio_layer", DIAG_UPDATE_RATIO),
    ("weight_norm_layer", DIAG_WEIGHT_NORM),
)
_DEAD = ("dead_fraction_layer", DIAG_DEAD_FRACTION)
SHARPNESS_KEYS = ("sharpness", "sharpness_limit")
NOISE_KEYS = ("noise_scale", "noise_scale_trace", "noise_scale_grad_sq")


class Dynamics(ParamObject):
    r"""What ``record_dynamics`` records: per-layer statistics and two probes.

    Every epoch, for each weight matrix ``coefs_[i]``, ``history_`` gets
    (computed in the training kernel from the values of the epoch's
    updates; the trained weights are bit-identical to a fit without them):

    - ``'grad_norm_layer<i>'``: the mean over the epoch's updates of the
      Frobenius norm of the matrix's minibatch gradient, the gradient the
      optimizer receives (data term plus the ``alpha`` and ``l1`` terms,
      divided by the batch's weight sum; before clipping);
    - ``'update_ratio_layer<i>'``: the mean over the updates of
      :math:`\|W_{k} - W_{k-1}\|_F / \|W_{k-1}\|_F`, the size of one
      update's step relative to the weights (decoupled weight decay
      included, ``max_norm``'s rescaling after the step not). The rule of
      thumb is about 1e-3: much lower, the rate is too low; much higher,
      too high;
    - ``'weight_norm_layer<i>'``: :math:`\|W\|_F` after the epoch's last
      update (the training weights, not an average);
    - ``'dead_fraction_layer<i>'`` for the hidden layers (``i <
      n_layers_ - 2``) with ``activation='relu'``: the fraction of the
      layer's units whose activation (before dropout) was 0 on every row of
      every minibatch of the epoch.

    Two probes, off by default, are computed between epochs on a fixed probe
    batch of ``probe_size`` training rows (drawn once per ``fit`` or
    ``partial_fit`` call with ``random_state``), in float64, without dropout:

    - ``sharpness_every=k``: every k-th epoch (counted over the estimator's
      life), ``'sharpness'``, the top eigenvalue of the Hessian of the
      training loss (data term plus the ``alpha`` and ``l1`` terms) on the
      probe batch at the epoch's final weights, by power iteration on
      Hessian-vector products :math:`Hv \approx (\nabla L(w + \epsilon v) -
      \nabla L(w - \epsilon v)) / 2\epsilon` with :math:`\epsilon = 10^{-5}
      \max(1, \|w\|)`, started from the previous estimate's eigenvector; a
      negative dominant eigenvalue is followed by a second iteration on the
      shifted Hessian, so the value is the largest eigenvalue. Beside it,
      ``'sharpness_limit'``, the largest sharpness at which the epoch's last
      update is stable on a quadratic: :math:`2/\eta` for plain SGD,
      :math:`2(1+\mu)/\eta` with heavy-ball momentum :math:`\mu`,
      :math:`(2+2\mu)/(\eta(1+2\mu))` with Nesterov's (PyTorch's dampening
      :math:`d` divides by :math:`1-d`); NaN for other optimizers, decoupled
      weight decay and ``layer_lr_decay`` (no scalar limit). Training at
      the "edge of stability" (Cohen et al., 2021) shows as a sharpness that
      rises to the limit and stays there. Other epochs record NaN. Cost:
      up to ``2 * power_iter`` (twice as many when the dominant eigenvalue
      is negative) gradient evaluations on the probe batch.
    - ``noise_scale=True``: every epoch, the simple gradient noise scale
      :math:`B_{simple} = \operatorname{tr}(\Sigma) / |G|^2` (McCandlish et
      al., 2018, an estimate of the critical batch size: larger batches
      than that give diminishing returns per sample) as
      ``'noise_scale'``, with its estimates of :math:`\operatorname{tr}
      (\Sigma)` (the per-sample gradient covariance) and :math:`|G|^2`
      as ``'noise_scale_trace'`` and ``'noise_scale_grad_sq'``. The probe
      batch is split into ``noise_batches`` minibatches of :math:`b` rows
      (:math:`B = ` ``noise_batches`` :math:`\times b` rows in all); with
      :math:`S` the mean of their squared gradient norms and :math:`F` the
      squared norm of their mean gradient (the gradient of the :math:`B`
      rows), the paper's unbiased estimates (appendix A.1) are
      :math:`|G|^2 \approx (B F - b S) / (B - b)` and
      :math:`\operatorname{tr}(\Sigma) \approx (S - F) / (1/b - 1/B)`.
      Gradients of the data term only (the penalties are not noisy). The
      estimate is noisy from one epoch to the next: the paper averages
      numerator and denominator over many steps before dividing, which the
      two recorded parts allow. ``'noise_scale'`` is ``inf`` when the
      estimate of :math:`|G|^2` is not positive (the gradient is lost in
      the noise at this probe size). Cost: one gradient evaluation over the
      probe batch per epoch.

    The per-layer statistics cost a few extra passes over the weights per
    update, in the kernel; with ``record_dynamics=False`` nothing is
    measured. Stochastic solvers only.

    Parameters
    ----------
    sharpness_every : int or None, default=None
        Record the sharpness every this many epochs; None: never.
    noise_scale : bool, default=False
        Record the gradient noise scale every epoch.
    probe_size : int, default=512
        Rows of the probe batch (all training rows when there are fewer).
    noise_batches : int, default=16
        Minibatches the probe batch is split into for the noise scale (at
        most one per probe row).
    power_iter : int, default=20
        Most power iterations per sharpness estimate.
    power_tol : float, default=1e-3
        Stop iterating when the estimate changes by at most this fraction.
    random_state : int, RandomState instance or None, default=0
        Draws the probe rows and the power iteration's start vector.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklr import Dynamics, MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(solver="sgd", max_iter=3, random_state=0,
    ...                     record_dynamics=Dynamics(sharpness_every=1))
    >>> clf = clf.fit(X / 16, y)  # doctest: +SKIP
    >>> clf.history_["update_ratio_layer0"]  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        "sharpness_every": [Interval(Integral, 1, None, closed="left"), None],
        "noise_scale": ["boolean"],
        "probe_size": [Interval(Integral, 2, None, closed="left")],
        "noise_batches": [Interval(Integral, 2, None, closed="left")],
        "power_iter": [Interval(Integral, 1, None, closed="left")],
        "power_tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, sharpness_every=None, noise_scale=False, probe_size=512,
                 noise_batches=16, power_iter=20, power_tol=1e-3, random_state=0):
        self.sharpness_every = sharpness_every
        self.noise_scale = noise_scale
        self.probe_size = probe_size
        self.noise_batches = noise_batches
        self.power_iter = power_iter
        self.power_tol = power_tol
        self.random_state = random_state


def _dominant(matvec, v, max_iter, tol):
    """Power iteration from the unit vector ``v``: (eigenvalue, eigenvector)
    of largest magnitude, by the Rayleigh quotient."""
    value = np.nan
    for k in range(max_iter):
        w = matvec(v)
        new = float(v @ w)
        norm = np.linalg.norm(w)
        if not np.isfinite(norm):
            return np.nan, v
        if norm == 0:
            return 0.0, v
        v = w / norm
        done = k > 0 and abs(new - value) <= tol * abs(new)
        value = new
        if done:
            break
    return value, v


def top_eigenvalue(matvec, v0, max_iter=20, tol=1e-3):
    """Largest eigenvalue of a symmetric operator by power iteration.

    Parameters
    ----------
    matvec : callable
        ``matvec(v)`` returns the product of the symmetric matrix with ``v``.
    v0 : ndarray of shape (n,)
        Start vector (not zero).
    max_iter : int, default=20
        Most iterations (per run: a negative dominant eigenvalue takes a
        second run on the shifted operator ``H - lambda I``).
    tol : float, default=1e-3
        Stop when the Rayleigh quotient changes by at most ``tol`` times its
        magnitude.

    Returns
    -------
    value : float
        The estimate of the largest (most positive) eigenvalue.
    vector : ndarray of shape (n,)
        Its unit eigenvector estimate.
    """
    v = np.asarray(v0, dtype=np.float64)
    v = v / np.linalg.norm(v)
    value, vector = _dominant(matvec, v, max_iter, tol)
    if value < 0:
        # H - value I has spectrum >= 0: its dominant one is top - value.
        # (From v again: ``vector`` would be its eigenvector of eigenvalue 0.)
        shifted, vector = _dominant(lambda x: matvec(x) - value * x, v, max_iter, tol)
        value = shifted + value
    return value, vector


def noise_scale(small_sq, big_sq, b_small, b_big):
    """The simple gradient noise scale from two batch sizes (McCandlish et al. 2018, A.1).

    Parameters
    ----------
    small_sq : float
        Mean squared norm of gradients over batches of ``b_small`` rows.
    big_sq : float
        Squared norm of the gradient over ``b_big`` rows.
    b_small, b_big : int
        The two batch sizes, ``b_small < b_big``.

    Returns
    -------
    b_simple : float
        ``trace / grad_sq``; inf when ``grad_sq <= 0``.
    trace : float
        Unbiased estimate of the trace of the per-sample gradient covariance.
    grad_sq : float
        Unbiased estimate of the squared norm of the true gradient.
    """
    grad_sq = (b_big * big_sq - b_small * small_sq) / (b_big - b_small)
    trace = (small_sq - big_sq) / (1.0 / b_small - 1.0 / b_big)
    b_simple = trace / grad_sq if grad_sq > 0 else np.inf
    return b_simple, trace, grad_sq


def stability_limit(solver, learning_rate, momentum, decoupled_decay, layer_lr_decay):
    """The largest sharpness at which the update is stable on a quadratic.

    SGD only: 2 / lr, 2 (1 + mu) / lr with heavy-ball momentum mu,
    (2 + 2 mu) / (lr (1 + 2 mu)) with Nesterov's; PyTorch's dampening d
    scales the rate by 1 - d. NaN where no scalar limit applies.
    """
    if (not isinstance(solver, SGD) or decoupled_decay
            or layer_lr_decay != 1.0 or not learning_rate > 0):
        return np.nan
    mu = float(momentum)
    lr = float(learning_rate)
    if solver.convention == "pytorch":
        if solver.nesterov and solver.dampening:
            return np.nan
        lr = lr * (1.0 - solver.dampening)
    if mu == 0:
        return 2.0 / lr
    if solver.nesterov:
        return (2.0 + 2.0 * mu) / (lr * (1.0 + 2.0 * mu))
    return 2.0 * (1.0 + mu) / lr


class _Probes:
    """Float64 kernels over a fixed probe batch: sharpness and noise scale."""

    def __init__(self, dynamics, setup, X, y, sample_weight, units, alpha, l1):
        rng = check_random_state(dynamics.random_state)
        n = y.shape[0]
        size = min(dynamics.probe_size, n)
        rows = np.sort(rng.choice(n, size, replace=False)) if size < n else np.arange(n)
        X = X[rows]
        X = X.astype(np.float64) if hasattr(X, "toarray") else np.asarray(X, np.float64)
        y = np.asarray(y[rows], dtype=np.float64)
        sw = None if sample_weight is None else np.asarray(sample_weight[rows], np.float64)
        self.rng = rng
        self.vector = None
        n_threads = setup.kernel.n_threads

        def kernel(part, reg_alpha, reg_l1):
            return Kernel(X[part], y[part], None if sw is None else sw[part], units,
                          setup.codes, reg_array(len(units), alpha=reg_alpha, l1=reg_l1),
                          None, n_threads)

        everything = np.arange(size)
        self.loss_kernel = kernel(everything, alpha, l1)
        if dynamics.noise_scale and size < 2:
            raise ValueError(
                "record_dynamics: the gradient noise scale needs at least 2 training "
                f"rows to compare minibatch gradients, got {size}."
            )
        m = min(dynamics.noise_batches, size)
        self.b_small = size // m
        self.noise_kernels = [kernel(everything[k * self.b_small:(k + 1) * self.b_small],
                                     0.0, 0.0) for k in range(m)] if dynamics.noise_scale else []

    def sharpness(self, params, max_iter, tol):
        """Top eigenvalue of the probe loss's Hessian at ``params``."""
        w = np.asarray(params, dtype=np.float64)
        eps = 1e-5 * max(1.0, float(np.linalg.norm(w)))
        plus, minus = np.empty_like(w), np.empty_like(w)

        def hvp(v):
            self.loss_kernel.loss_grad(w + eps * v, plus)
            self.loss_kernel.loss_grad(w - eps * v, minus)
            return (plus - minus) / (2 * eps)

        start = self.vector if self.vector is not None else self.rng.standard_normal(w.size)
        value, self.vector = top_eigenvalue(hvp, start, max_iter, tol)
        return value

    def noise(self, params):
        """(noise scale, trace, grad_sq) at ``params``."""
        w = np.asarray(params, dtype=np.float64)
        grads = np.empty((len(self.noise_kernels), w.size))
        for k, kernel in enumerate(self.noise_kernels):
            kernel.loss_grad(w, grads[k])
        small_sq = float(np.mean(np.einsum("ij,ij->i", grads, grads)))
        mean = grads.mean(axis=0)
        m = len(self.noise_kernels)
        return noise_scale(small_sq, float(mean @ mean), self.b_small, m * self.b_small)


class DynamicsRecorder:
    """Records ``record_dynamics`` in the history of one fit call.

    Built by :meth:`start` (None when ``record_dynamics`` is off); the
    trainer asks :meth:`buffer` for the kernel's per-epoch array and hands
    it back to :meth:`record` with the epoch's record.
    """

    def __init__(self, est, plan, setup, X, y, sample_weight):
        config = est.record_dynamics
        self.dynamics = config if isinstance(config, Dynamics) else Dynamics()
        self.units = np.asarray(est._layer_units, dtype=np.intp)
        self.n_matrices = len(self.units) - 1
        self.relu = est.activation == "relu"
        self.plan = plan
        self.layer_lr_decay = est.layer_lr_decay
        self.probes = None
        if self.dynamics.sharpness_every is not None or self.dynamics.noise_scale:
            self.probes = _Probes(self.dynamics, setup, X, y, sample_weight, self.units,
                                  float(est.alpha), float(est.l1))

    @classmethod
    def start(cls, est, plan, setup, X, y, sample_weight):
        """The recorder of this fit call, or None without ``record_dynamics``."""
        config = est.record_dynamics
        if not isinstance(config, Dynamics) and not config:
            return None
        return cls(est, plan, setup, X, y, sample_weight)

    def keys(self):
        """The history keys this recorder fills."""
        keys = [f"{prefix}{i}" for prefix, _ in _LAYER_STATS for i in range(self.n_matrices)]
        if self.relu:
            keys += [f"{_DEAD[0]}{i}" for i in range(self.n_matrices - 1)]
        if self.dynamics.sharpness_every is not None:
            keys += SHARPNESS_KEYS
        if self.dynamics.noise_scale:
            keys += NOISE_KEYS
        return tuple(keys)

    def buffer(self):
        """A fresh per-epoch array for ``Kernel.train_epoch(diagnostics=...)``."""
        return np.empty((self.n_matrices, DIAG_SIZE))

    def record(self, record, diagnostics, params, n_epochs):
        """Add the epoch's values to ``record`` (a dict), probes included.

        ``params``: the flat training weights after the epoch; ``n_epochs``:
        epochs trained over the estimator's life, this one included.
        """
        for prefix, column in _LAYER_STATS:
            for i in range(self.n_matrices):
                record[f"{prefix}{i}"] = float(diagnostics[i, column])
        if self.relu:
            for i in range(self.n_matrices - 1):
                record[f"{_DEAD[0]}{i}"] = float(diagnostics[i, _DEAD[1]])
        dynamics = self.dynamics
        every = dynamics.sharpness_every
        if every is not None and n_epochs % every == 0:
            record["sharpness"] = self.probes.sharpness(params, dynamics.power_iter,
                                                        dynamics.power_tol)
            plan = self.plan
            decay = (plan.weight_decay_schedule is not None
                     or plan.kernel_config()[CFG_WEIGHT_DECAY] > 0)
            record["sharpness_limit"] = stability_limit(
                plan.solver, record["learning_rate"], record["momentum"], decay,
                self.layer_lr_decay)
        if dynamics.noise_scale:
            (record["noise_scale"], record["noise_scale_trace"],
             record["noise_scale_grad_sq"]) = self.probes.noise(params)
