"""The training loops: one stochastic trainer and one L-BFGS trainer.

The estimator validates its parameters and data, normalises them into a
:class:`~sklr._plan.Plan` (objects only: an optimizer, a learning-rate
schedule, a momentum schedule or None) and hands both to a trainer here. A
trainer owns the epoch loop, the per-epoch record, stopping, callbacks and
the feedback schedules; all fit-time state lives in one
:class:`~sklr._history.TrainingState` (``estimator._state``). Python enters
the Cython kernel once per epoch.
"""

import time
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches

from sklr._callbacks import current_callbacks
from sklr._checkpoint import FitCheckpoints
from sklr._codes import Activation, Loss
from sklr._compat import _check_optimize_result, _get_additional_lbfgs_options_dict
from sklr._dynamics import DynamicsRecorder
from sklr._kernel import Kernel, clip_array, reg_array, step_table
from sklr._lr_finder import _DEFAULTS, _range_test, warn_if_unclear
from sklr._threads import LoadWatch, fit_n_threads
from sklr.exceptions import DivergenceError
from sklr.schedules import StepPositions

_HISTORY_KEYS = ("loss", "learning_rate", "momentum", "time")
_CLIP_KEYS = ("grad_norm_mean", "grad_norm_max")


def resolved_batch_size(est, n_samples):
    """scikit-learn's batch size: 'auto' is min(200, n), others are clipped."""
    if est.batch_size == "auto":
        return min(200, n_samples)
    if est.batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than "
            "sample size. It is going to be clipped"
        )
    return int(np.clip(est.batch_size, 1, n_samples))


def split_validation(est, X, y, sample_weight):
    """scikit-learn's early-stopping split, same random draws."""
    should_stratify = is_classifier(est) and est.n_outputs_ == 1
    stratify = y if should_stratify else None
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    parts = train_test_split(
        *arrays,
        random_state=est._random_state,
        test_size=est.validation_fraction,
        stratify=stratify,
    )
    X_train, X_val, y_train, y_val = parts[:4]
    sw_train, sw_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    return X_train, y_train, sw_train, (X_val, y_val, est._decode_targets(y_val), sw_val)


class _KernelSetup:
    """The Cython kernel of one fit, built once, with what the loop needs around it."""

    def __init__(self, est, plan, X, y, sample_weight):
        dtype = est._params.dtype
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=dtype)
        else:
            X = np.ascontiguousarray(X, dtype=dtype)
        self.sw = (
            np.empty(0, dtype=dtype)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, dtype=dtype)
        )
        loss_name = est.loss
        if loss_name == "log_loss" and est.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        codes = (
            Activation[est.activation.upper()],
            Activation[est.out_activation_.upper()],
            Loss[loss_name.upper()],
        )
        self.codes = codes
        n_hidden = est.n_layers_ - 2
        rates = np.broadcast_to(np.asarray(est.dropout, dtype=np.float64), (n_hidden,))
        reg = reg_array(
            est.n_layers_, alpha=float(est.alpha), l1=est.l1, max_norm=est.max_norm,
            layer_lr_decay=est.layer_lr_decay,
            dropout=np.concatenate([[est.input_dropout], rates]),
        )
        self.dropout_on = est.input_dropout > 0 or bool(np.any(np.asarray(est.dropout) > 0))
        config = plan.kernel_config() if plan.is_stochastic else None
        # Gradient clipping (stochastic solvers only: make_plan rejects it
        # with L-BFGS); its epochs also measure the pre-clip gradient norms.
        self.clipping = plan.is_stochastic and (
            est.clip_norm is not None or est.clip_value is not None)
        clip = clip_array(
            norm=est.clip_norm, per_tensor=est.clip_norm_mode == "per_tensor",
            convention=est.clip_convention, value=est.clip_value,
        ) if self.clipping else None
        self.kernel = Kernel(
            X, np.ascontiguousarray(y, dtype=dtype), self.sw if self.sw.size else None,
            est._layer_units, codes, reg, config, fit_n_threads(), clip,
        )
        self.n_samples = self.kernel.n_samples

    def train_epoch(self, params, opt_state, sample_idx, batch_size, lr, mu, seed,
                    average=None, grad_norms=None, weight_decay=None, diagnostics=None):
        """One epoch in Cython: (loss_sum, n_steps, flag). ``average``: the EMA
        buffer and per-update momenta, or None; ``grad_norms`` (OUT, optional)
        receives each update's gradient norm before clipping, ``diagnostics``
        (OUT, optional) the per-layer statistics of ``record_dynamics``."""
        averaged, ema = (None, None) if average is None else average
        return self.kernel.train_epoch(
            params, opt_state, np.ascontiguousarray(sample_idx, dtype=np.intp), batch_size,
            step_table(lr, mu, weight_decay, ema), seed, averaged, grad_norms, diagnostics,
        )

    def loss_grad(self, params, grad):
        """Full-batch regularised loss; the gradient is written to ``grad``."""
        return self.kernel.loss_grad(params, grad)


def _copy(array):
    return None if array is None else array.copy()


def _divergence_error(detail, where=None):
    exc = DivergenceError(
        "Solver produced non-finite parameter weights. The input data may contain "
        "large values and need to be preprocessed. " + detail
    )
    exc.where = where
    return exc


def check_batch_weights(sw, sample_idx, batch_sizes, epoch):
    """Every minibatch's sample weights must have a positive sum (it divides)."""
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    sums = np.add.reduceat(sw[sample_idx], starts)
    bad = np.flatnonzero(~(sums > 0))
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            "Weights sum to zero, can't be normalized: the sample weights of "
            f"minibatch {k + 1} of {len(batch_sizes)} in epoch {epoch} "
            f"(its {batch_sizes[k]} rows) sum to {float(sums[k])!r}. Use a larger "
            "batch_size, shuffle=True, or drop rows of zero weight."
        )


def epoch_line(est, plan, record):
    """The ``verbose`` line of one epoch (scikit-learn's prefix, then more)."""
    line = "Iteration %d, loss = %.8f" % (est.n_iter_, record["loss"])
    line += ", learning_rate = %.6g, %s = %.6g" % (
        record["learning_rate"], plan.momentum_name, record["momentum"])
    for key in plan.scoring.train_keys() + plan.scoring.validation_keys():
        if key in record:
            line += ", %s = %.6f" % (key, record[key])
    if "grad_norm_max" in record:
        line += ", grad_norm = %.4g (max %.4g)" % (
            record["grad_norm_mean"], record["grad_norm_max"])
    return line + ", time = %.3fs" % record["time"]


class BestEpoch:
    """The best monitored value of one ``fit`` call and the weights that gave it.

    Greater is better; the first best is kept (scikit-learn's rule for early
    stopping). Starts with the weights before the call's first epoch. Holds
    copies only (a checkpoint pickles it with the loop's state).
    """

    def __init__(self, params, average):
        self.value = -np.inf
        self.params, self.average = params.copy(), _copy(average)

    def update(self, value, params, average):
        if value > self.value:
            self.value = value
            self.params[...] = params
            if self.average is not None and average is not None:
                self.average[...] = average

    def restore(self, params, average):
        """Put the best weights back (none if no epoch had a finite value)."""
        if not np.isfinite(self.value):
            return
        params[...] = self.params
        if average is not None and self.average is not None:
            average[...] = self.average


def restores_best(est):
    """Whether the end of ``est``'s fit puts back its best weights (``restore_best_weights``)."""
    if est.restore_best_weights == "auto":
        return bool(est.early_stopping)
    return bool(est.restore_best_weights)


def restore_best(est, best_val, restore):
    """The end of a stochastic fit: put back the best weights if ``restore``.

    Early stopping's best-validation weights (kept across warm starts in
    the training state), else those of ``best_val``, the call's
    :class:`BestEpoch`.
    """
    state = est._state
    if est.early_stopping and restore:
        est._params[...] = state.best_params
        if state.average is not None and state.best_average is not None:
            state.average[...] = state.best_average
    elif restore:
        best_val.restore(est._params, state.average)


class StochasticTrainer:
    """The minibatch loop (every optimizer but L-BFGS).

    Parameters
    ----------
    est : BaseMultilayerPerceptron
        The estimator: its parameters, its weights (``_params``) and public
        fitted attributes, which the loop updates after every epoch.
    plan : Plan
        The normalised optimizer and schedules.
    """

    def __init__(self, est, plan):
        self.est = est
        self.plan = plan
        self.state = est._state
        self.dynamics = None  # the DynamicsRecorder of record_dynamics
        # A private pause request or rate factor for this call (sklr._pause).
        self.control = est.__dict__.get("_fit_control")

    # -- schedules ---------------------------------------------------------

    def positions(self, batch_sizes):
        """Positions of the epoch's updates (global counters, and the fraction
        of the plan that ``Plan.begin`` set)."""
        state = self.state
        plan = None if state.planned_steps is None else (state.plan_start, state.planned_steps)
        return StepPositions._for_epoch(
            state.n_updates, state.n_epochs, self.est.t_, batch_sizes, plan
        )

    def epoch_rates(self, batch_sizes):
        """Learning rate and momentum (or beta_1) of each update of the epoch.

        Schedules are indexed by the global update, epoch and sample counters,
        so partial_fit and warm_start continue them where they stopped. A
        ``sklr._pause.FitControl`` of the call may scale the rates (a
        cooldown).
        """
        lr, mu = self.scheduled_rates(batch_sizes)
        if self.control is not None:
            lr = self.control.scale_rates(lr, self.state.n_epochs)
        return lr, mu

    def scheduled_rates(self, batch_sizes):
        """The schedules' learning rate and momentum of each update of the epoch."""
        plan, state = self.plan, self.state
        n_steps = len(batch_sizes)
        base = state.optimizer["lr"] * plan.feedback_scale(state)
        if plan.is_constant:
            # scikit-learn's defaults: no schedule to evaluate (it would cost
            # more than a small epoch).
            return np.full(n_steps, base), np.full(n_steps, plan.solver._momentum())
        positions = self.positions(batch_sizes)
        lr = base * plan.learning_rate._evaluate(positions)
        if not np.all(np.isfinite(lr)) or np.any(lr < 0):
            raise ValueError("The learning-rate schedule gave negative or non-finite rates.")
        mu = plan.momentum_values(positions)
        return (np.ascontiguousarray(lr, dtype=np.float64),
                np.ascontiguousarray(mu, dtype=np.float64))

    def weight_decay_steps(self, batch_sizes):
        """The epoch's per-update weight decay (a ``weight_decay`` schedule), or None."""
        if self.plan.weight_decay_schedule is None:
            return None
        return np.ascontiguousarray(self.plan.weight_decay_values(self.positions(batch_sizes)))

    # -- the loop ----------------------------------------------------------

    def fit(self, X, y, sample_weight, incremental, val=None):
        est, plan, state, control = self.est, self.plan, self.state, self.control
        # May resume an interrupted (or paused) fit.
        checkpoints = FitCheckpoints(est, incremental,
                                     pausable=control is not None and control.can_pause)
        if est.early_stopping and val is None:
            X_train, y_train, sw_train, val = split_validation(est, X, y, sample_weight)
        else:
            X_train, y_train, sw_train = X, y, sample_weight

        if est.learning_rate_init != "auto":
            est.learning_rate_init_ = float(est.learning_rate_init)
        elif getattr(est, "lr_finder_", None) is None:
            RangeTest(est, plan).find_learning_rate(X_train, y_train, sw_train)
        # String solvers start a new optimizer at each fit, as scikit-learn
        # does; an optimizer object keeps its state across warm_start refits.
        if state.optimizer is None or (not incremental and isinstance(est.solver, str)
                                       and checkpoints.resume is None):
            plan.new_optimizer(state, est._params, est.learning_rate_init_)
        self.start_averaging()
        train_labels = est._decode_targets(y_train) if est.record_train_score else None

        kernel = _KernelSetup(est, plan, X_train, y_train, sw_train)
        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        batch_size = resolved_batch_size(est, n_samples)
        batch_sizes = np.array(
            [s.stop - s.start for s in gen_batches(n_samples, batch_size)], dtype=np.intp
        )
        plan.begin(est, state, batch_sizes, n_samples, incremental,
                   resuming=checkpoints.resume is not None)
        keys = _HISTORY_KEYS + (plan.scoring.validation_keys() if val is not None else ())
        keys += ("fraction",) if plan.uses_fraction else ()
        keys += plan.scoring.train_keys() if est.record_train_score else ()
        keys += _CLIP_KEYS if kernel.clipping else ()
        self.dynamics = DynamicsRecorder.start(est, plan, kernel, X_train, y_train, sw_train)
        keys += self.dynamics.keys() if self.dynamics is not None else ()
        state.history.add_keys(keys)

        callbacks = current_callbacks(est)
        restore = restores_best(est)
        # Best monitored value of this call and its weights, without early
        # stopping (which keeps its own across warm starts, as scikit-learn):
        # restored by restore_best_weights=True, and if training diverges.
        best_val = BestEpoch(est._params, state.average) if not est.early_stopping and (
            restore or val is not None) else None
        paused = False
        # Threads from the machine's load, epoch by epoch (the results do not
        # depend on them).
        load = LoadWatch(kernel.kernel.n_threads)
        try:
            est.n_iter_ = 0
            sample_idx, best_val = checkpoints.resume_loop(sample_idx, best_val)
            for _ in range(est.max_iter - est.n_iter_):
                callbacks.begin_epoch()
                kernel.kernel.set_n_threads(load.threads())
                try:
                    record = self.run_transaction(
                        kernel, sample_idx, batch_sizes, batch_size, val, train_labels,
                        (X_train, sw_train),
                    )
                except DivergenceError as exc:
                    if val is None:
                        raise
                    self.stop_diverged(kernel, batch_sizes, best_val, exc)
                    break
                sample_idx = record.pop("_sample_idx")
                if best_val is not None:
                    best_val.update(plan.scoring.monitored(record, val is not None),
                                    est._params, state.average)
                if est.verbose:
                    print(epoch_line(est, plan, record))

                stop = False
                if state.no_improvement_count > est.n_iter_no_change:
                    stop = self.trigger_stopping()
                    if not stop:
                        state.no_improvement_count = 0
                # A callback (e.g. one judging a validation score) may end the fit.
                stop = callbacks.end_epoch(est._callback_fitted_attributes) or stop
                checkpoints.end_epoch(sample_idx, best_val,
                                      stop or incremental or est.n_iter_ == est.max_iter)
                if stop or incremental:
                    break
                if control is not None and control.pauses_after(est.n_iter_, est.max_iter):
                    checkpoints.pause()  # leaves the resume record; no end-of-fit work
                    paused = True
                    break
                if est.n_iter_ == est.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % est.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
            checkpoints.interrupted()
        finally:
            load.close()

        if paused:
            return
        restore_best(est, best_val, restore)
        checkpoints.end_fit()

    # -- weight averaging (sklr.averaging) -----------------------------------

    def start_averaging(self):
        """Make the averaged buffer match ``averaging`` and point coefs_ at the shown weights.

        The average and its count persist across partial_fit and warm_start;
        a fresh one (no averaging yet, or weights of another shape) starts as
        a copy of the weights. Without ``averaging`` any earlier one is dropped.
        A schedule-free solver's averaged point x takes the average's place.
        """
        est, state = self.est, self.state
        params = est._params
        if self.plan.eval_params is not None:
            state.average, state.n_averaged = self.plan.eval_params(params, state.optimizer), 0
        elif est.averaging is None:
            state.average, state.n_averaged, state.best_average = None, 0, None
        elif (state.average is None or state.average.shape != params.shape
                or state.average.dtype != params.dtype):
            state.average, state.n_averaged = params.copy(), 0
        state.average_shown = state.average is not None and bool(est.use_averaged_weights)
        if est.averaging is not None and state.n_averaged == 0:
            state.average[...] = params
        est._set_flat_params(params)

    def ema_steps(self, n_steps):
        """The epoch's per-update EMA momenta (None unless ``averaging`` is an EMA)."""
        averaging = self.est.averaging
        if averaging is None:
            return None
        return averaging._ema_steps(self.state.n_updates, n_steps, self.state.n_averaged)

    def after_epoch_averaging(self, ema_steps):
        """Count the EMA's updates, add the epoch to the SWA mean (counters
        advanced), or refresh a schedule-free solver's x."""
        est, state = self.est, self.state
        if self.plan.eval_params is not None:
            state.average[...] = self.plan.eval_params(est._params, state.optimizer)
            return
        if est.averaging is None:
            return
        state.n_averaged = est.averaging._after_epoch(
            state.average, est._params, state.n_epochs, state.n_averaged, ema_steps)
        if state.n_averaged == 0:
            state.average[...] = est._params  # not started: the raw weights

    def run_transaction(self, kernel, sample_idx, batch_sizes, batch_size, val,
                        train_labels, train_data):
        """One epoch as a transaction: all of it, or (interrupt, divergence) none.

        On KeyboardInterrupt or divergence the estimator (weights, optimizer,
        counters, record) is put back as it was before the epoch, so the model
        is always consistent, then the error propagates. (The random state,
        re-seeded from ``random_state`` at every call, is not rewound: that
        would cost more than the epoch on small data.)
        Returns the epoch's record (with the epoch's row order).
        """
        est, plan, state = self.est, self.plan, self.state
        n_samples = kernel.n_samples
        start = est._snapshot()
        try:
            tic = time.perf_counter()
            if est.shuffle:
                # sklearn.utils.shuffle(sample_idx, random_state=...) draws
                # exactly this (a shuffled arange, then indexing), without
                # its ~0.1 ms of validation per epoch.
                perm = np.arange(n_samples)
                est._random_state.shuffle(perm)
                sample_idx = sample_idx[perm]
            lr_steps, mu_steps = self.epoch_rates(batch_sizes)
            wd_steps = self.weight_decay_steps(batch_sizes)
            if kernel.sw.size:
                check_batch_weights(kernel.sw, sample_idx, batch_sizes, est.n_iter_ + 1)
            # Dropout draws its seed from random_state only when it is on,
            # so scikit-learn's random stream is untouched otherwise.
            seed = (int(est._random_state.randint(2**63, dtype=np.uint64))
                    if kernel.dropout_on else 0)
            ema_steps = self.ema_steps(len(batch_sizes))
            diag = self.dynamics.buffer() if self.dynamics is not None else None
            norms = self.run_epoch(kernel, sample_idx, batch_size, lr_steps, mu_steps, seed,
                                   None if ema_steps is None else (state.average, ema_steps),
                                   wd_steps, diag)
            est.n_iter_ += 1
            est.t_ += n_samples
            state.n_epochs += 1
            state.n_updates += len(batch_sizes)
            self.after_epoch_averaging(ema_steps)
            est.loss_curve_.append(est.loss_)
            record = {
                "loss": est.loss_,
                "learning_rate": lr_steps[-1],
                "momentum": mu_steps[-1],
                **({} if wd_steps is None else {"weight_decay": wd_steps[-1]}),
                **plan.fraction_record(state),
            }
            if norms is not None:
                record["grad_norm_mean"] = float(np.mean(norms))
                record["grad_norm_max"] = float(np.max(norms))
            if diag is not None:
                self.dynamics.record(record, diag, est._params, state.n_epochs)
            if val is not None:
                record.update(plan.scoring.evaluate(est, val, "val_"))
            if train_labels is not None:
                record.update(plan.scoring.evaluate(
                    est, (train_data[0], None, train_labels, train_data[1]), ""))
            self.update_no_improvement_count(
                plan.scoring.monitored(record) if val is not None else None)
            plan.after_epoch(est, state, record)
            record["time"] = time.perf_counter() - tic
            state.history.append(record)
        except (KeyboardInterrupt, DivergenceError):
            est._restore(start)
            raise
        record["_sample_idx"] = sample_idx
        return record

    def run_epoch(self, kernel, sample_idx, batch_size, lr_steps, mu_steps, seed,
                  average=None, wd_steps=None, diagnostics=None):
        """One epoch in Cython; raises DivergenceError on a non-finite loss or weights.

        ``average``: ``(averaged buffer, per-update EMA momenta)`` or None;
        ``diagnostics``: OUT, the kernel's per-layer statistics, or None.
        Returns the gradient norm of each update before clipping when the
        kernel clips, else None.
        """
        est = self.est
        norms = np.empty(len(lr_steps)) if kernel.clipping else None
        loss_sum, n_steps, flag = kernel.train_epoch(
            est._params, self.state.optimizer, sample_idx, batch_size, lr_steps, mu_steps,
            seed, average, norms, wd_steps, diagnostics,
        )
        if flag or not np.isfinite(est._params).all():
            where = "update %d of the epoch" % n_steps if flag else "the end of the epoch"
            raise _divergence_error(
                "sklr: the loss or the weights became non-finite at epoch %d (%s); the "
                "learning rate may be too large. The model keeps its last finite "
                "weights." % (est.n_iter_ + 1, where), where=where,
            )
        est.loss_ = loss_sum / kernel.n_samples
        return norms

    # -- stopping ------------------------------------------------------------

    def stop_diverged(self, kernel, batch_sizes, best_val, exc):
        """Divergence with validation data: end the fit on the best-validation weights.

        scikit-learn's early stopping ends on its best-validation weights, a
        usable model, even when the loss becomes non-finite. sklr stops at
        the first non-finite epoch (rolled back by the transaction), records
        it as scikit-learn would (NaN loss and validation score, counters
        advanced), restores the weights of the best validation score
        (early stopping's, else the best of this call) and warns.
        """
        est, state = self.est, self.state
        lr_steps, mu_steps = self.epoch_rates(batch_sizes)
        est.n_iter_ += 1
        est.t_ += kernel.n_samples
        state.n_epochs += 1
        state.n_updates += len(batch_sizes)
        est.loss_ = np.nan
        est.loss_curve_.append(np.nan)
        self.update_no_improvement_count(np.nan)
        state.history.append({"learning_rate": lr_steps[-1], "momentum": mu_steps[-1],
                              **self.plan.fraction_record(state)})
        if est.early_stopping:
            score, params, average = (est.best_validation_score_, state.best_params,
                                      state.best_average)
        else:
            score, params, average = best_val.value, best_val.params, best_val.average
        est._params[...] = params
        if state.average is not None and average is not None:
            state.average[...] = average
        restored = (
            "the weights with the best validation score (%g) were restored" % score
            if np.isfinite(score) else
            "no epoch had a validation score yet: the weights from before this "
            "fit's first epoch were restored"
        )
        warnings.warn(
            "Training diverged at epoch %d (%s): the loss or weights became "
            "non-finite. Training stopped and %s. The learning rate may be too large "
            "or the input data may contain large values and need to be preprocessed."
            % (est.n_iter_, getattr(exc, "where", None) or "its end", restored),
            ConvergenceWarning,
        )

    def update_no_improvement_count(self, val_score):
        """scikit-learn's stopping bookkeeping (validation score or training loss).

        ``val_score``: the monitored validation value, greater is better (the
        validation score, or what ``scoring`` names first: a loss negated).
        """
        est, state = self.est, self.state
        if est.early_stopping:
            est.validation_scores_.append(val_score)
            if val_score < (est.best_validation_score_ + est.tol):
                state.no_improvement_count += 1
            else:
                state.no_improvement_count = 0
            if val_score > est.best_validation_score_:
                est.best_validation_score_ = val_score
                state.best_params = est._params.copy()
                state.best_average = _copy(state.average)
            return
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            state.no_improvement_count += 1
        else:
            state.no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]

    def trigger_stopping(self):
        """Stop, or (scikit-learn's 'adaptive' rule) divide the rate by 5 and go on."""
        est, state = self.est, self.state
        if est.early_stopping:
            msg = ("Validation score did not improve more than tol=%f for %d "
                   "consecutive epochs." % (est.tol, est.n_iter_no_change))
            if est.scoring is not None:
                msg = msg.replace("score", "score (%s)" % self.plan.scoring.monitor_key, 1)
        else:
            msg = ("Training loss did not improve more than tol=%f for %d "
                   "consecutive epochs." % (est.tol, est.n_iter_no_change))
        stop, rate = self.plan.on_stall(state)
        if est.verbose:
            if not stop:
                print(msg + " Setting learning rate to %f" % rate)
            elif self.plan.adaptive:
                print(msg + " Learning rate too small. Stopping.")
            else:
                print(msg + " Stopping.")
        return stop

class RangeTest:
    """The learning-rate range test through the fit's kernel: one driver for
    :func:`sklr.find_learning_rate` and ``learning_rate_init='auto'``.

    Parameters
    ----------
    est : BaseMultilayerPerceptron
        The estimator, validated and initialised (its weights are not modified).
    plan : Plan
        Its normalised optimizer and schedules.
    """

    def __init__(self, est, plan):
        self.est = est
        self.plan = plan

    def find_learning_rate(self, X, y, sample_weight):
        """learning_rate_init='auto': run the range test, keep its suggestion."""
        est = self.est
        result = self.range_test(X, y, sample_weight)
        if not np.isfinite(result.suggestion):
            raise ValueError(
                "learning_rate_init='auto': the learning-rate range test recorded no "
                "finite loss (the loss of its first minibatch, before any update, was "
                "not finite: check the scale of X and y); pass a float or run "
                "sklr.find_learning_rate and inspect its plot."
            )
        warn_if_unclear(result)
        est.lr_finder_ = result
        est.learning_rate_init_ = float(result.suggestion)
        if est.verbose:
            print("learning_rate_init='auto': the range test suggests %.6g" % result.suggestion)

    def range_test(self, X, y, sample_weight, **settings):
        """The learning-rate range test from the current weights (not modified).

        Draws one seed from the estimator's random state for its minibatch
        order, so ``find_learning_rate`` and ``fit`` with 'auto' run the same
        test. Must run with BLAS single-threaded.
        """
        settings = {**_DEFAULTS, **settings}
        seed = int(self.est._random_state.randint(np.iinfo(np.int32).max))
        step = self.minibatch_stepper(X, y, sample_weight, seed, settings["num"])

        def confirm(learning_rate, n_updates):
            # From the initial weights again, with the sweep's minibatch order.
            run = self.minibatch_stepper(X, y, sample_weight, seed, n_updates)
            losses = []
            for _ in range(n_updates):
                losses.append(run(learning_rate))
                if not np.isfinite(losses[-1]):
                    break
            return losses

        settings["confirm"] = confirm if settings["confirm"] else None
        return _range_test(step, **settings)

    def minibatch_stepper(self, X, y, sample_weight, random_state, num):
        """One minibatch update at a time on a private copy of the weights.

        Returns ``step(learning_rate)``, which trains a copy of the current
        weights with a fresh optimizer state on the next minibatch
        (reshuffled every pass over the data, as ``fit`` does) through the
        same kernel as ``fit`` and returns that minibatch's loss before the
        update (NaN once non-finite). The estimator is not modified.
        """
        est, plan = self.est, self.plan
        params = est._params.copy()
        opt_state = plan.solver.init_state(params)
        kernel = _KernelSetup(est, plan, X, y, sample_weight)
        n_samples = kernel.n_samples
        batches = list(gen_batches(n_samples, resolved_batch_size(est, n_samples)))
        n_epochs = -(-num // len(batches))
        positions = StepPositions.grid(n_epochs, len(batches), batches[0].stop,
                                       planned_steps=est.max_iter * len(batches))
        momenta = plan.momentum_values(positions)[:num]
        rng = check_random_state(random_state)
        queue = []
        done = [0]

        def step(learning_rate):
            if not queue:
                perm = rng.permutation(n_samples).astype(np.intp)
                queue.extend(perm[b] for b in batches)
            idx = queue.pop(0)
            k = done[0]
            done[0] += 1
            seed = int(rng.randint(2**63, dtype=np.uint64)) if kernel.dropout_on else 0
            loss_sum, _, flag = kernel.train_epoch(
                params, opt_state, idx, idx.shape[0],
                np.array([learning_rate], dtype=np.float64),
                np.array([momenta[min(k, num - 1)]], dtype=np.float64), seed,
            )
            if flag or not np.isfinite(loss_sum):
                return np.nan
            return loss_sum / idx.shape[0]

        return step


class LBFGSTrainer:
    """Full-batch L-BFGS-B through scipy, with the kernel's loss and gradient."""

    def __init__(self, est, plan):
        self.est = est
        self.plan = plan
        self.state = est._state

    def fit(self, X, y, sample_weight, val=None):
        est, state = self.est, self.state
        checkpoints = FitCheckpoints(est, False, stochastic=False)  # saves at the end only
        # No averaged weights under L-BFGS (a warm start from an averaged or
        # schedule-free fit drops them): coefs_ show the weights it trains.
        state.average, state.n_averaged, state.best_average = None, 0, None
        state.average_shown = False
        est._set_flat_params(est._params)
        kernel = _KernelSetup(est, self.plan, X, y, sample_weight)
        params = est._params
        grad = np.empty_like(params)

        def fun(x):
            params[...] = x
            value = kernel.loss_grad(params, grad)
            return value, grad.astype(np.float64)

        iprint = 1 if (est.verbose is True or est.verbose >= 1) else -1
        records = []
        t0 = [time.perf_counter()]
        train_labels = est._decode_targets(y) if est.record_train_score else None
        scoring = self.plan.scoring
        callbacks = current_callbacks(est)

        def callback(intermediate_result):
            now = time.perf_counter()
            record = {"loss": float(intermediate_result.fun)}
            if val is not None or train_labels is not None:
                params[...] = intermediate_result.x
            if val is not None:
                record.update(scoring.evaluate(est, val, "val_"))
            if train_labels is not None:
                record.update(scoring.evaluate(est, (X, None, train_labels, sample_weight), ""))
            record["time"] = now - t0[0]
            records.append(record)
            callbacks.lbfgs_step(lambda: est._callback_fitted_attributes(
                intermediate_result.x, loss=float(intermediate_result.fun),
                n_iter=len(records)))
            t0[0] = time.perf_counter()

        callbacks.begin_epoch("iteration")  # scipy reports iterations at their end

        opt_res = scipy.optimize.minimize(
            fun,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={
                "maxfun": est.max_fun,
                "maxiter": est.max_iter,
                "gtol": est.tol,
                **_get_additional_lbfgs_options_dict("iprint", iprint),
            },
        )
        if callbacks.lbfgs_stopped:  # a callback ended it: no ConvergenceWarning
            est.n_iter_ = min(opt_res.nit, est.max_iter)
        else:
            est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
        est.loss_ = opt_res.fun
        params[...] = opt_res.x
        # warm_start refits append, as the stochastic solvers do; L-BFGS has
        # no learning rate or momentum (NaN).
        history = self.state.history
        keys = _HISTORY_KEYS + (scoring.validation_keys() if val is not None else ())
        history.add_keys(keys + (scoring.train_keys() if train_labels is not None else ()))
        for record in records:
            history.append(record)
        checkpoints.end_fit()
