"""Normalise an estimator's parameters once per fit, into objects.

:func:`make_plan` checks what ``_parameter_constraints`` cannot (nested
schedule and optimizer objects, combinations of parameters) and turns the
parameters into a :class:`Plan`: a string ``solver`` becomes its optimizer
object (through the registry of aliases in :mod:`sklr.optimizers`), a string
``learning_rate`` a schedule object, ``momentum`` a schedule or the
optimizer's own constant. The trainers see objects only.
"""

import warnings

import numpy as np

from sklr._codes import CFG_WEIGHT_DECAY
from sklr._scoring import Scoring, check_monitors
from sklr.exceptions import ScheduleEndWarning
from sklr.optimizers import LBFGS, SGD, Optimizer, _solver_from_string
from sklr.schedules import (
    Adaptive, Constant, FeedbackSchedule, Schedule, StepPositions, _check_schedule,
)
from sklr.schedules._base import _plan_fraction


def _hidden_layer_sizes(est):
    sizes = est.hidden_layer_sizes
    if not hasattr(sizes, "__iter__"):
        sizes = [sizes]
    sizes = list(sizes)
    for size in sizes:
        if (
            isinstance(size, (bool, np.bool_))
            or not isinstance(size, (int, np.integer))
            and not (isinstance(size, (float, np.floating)) and float(size).is_integer())
        ):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers (one number of units "
                f"per hidden layer), got {est.hidden_layer_sizes!r}: {size!r} is not "
                "an integer."
            )
    sizes = [int(size) for size in sizes]
    if np.any(np.array(sizes) <= 0):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
    return sizes


class Plan:
    """What a fit runs: the optimizer, the schedules and the derived flags.

    Attributes
    ----------
    solver : Optimizer or LBFGS
        The optimizer object (``solver`` itself, or the one its string means).
    learning_rate : Schedule
        Multipliers of the base rate (``'constant'`` is :class:`Constant`,
        ``'adaptive'`` with SGD :class:`Adaptive`).
    sklearn_rule : {None, 'invscaling'}
        scikit-learn's SGD ``'invscaling'`` string, which resets the
        optimizer's base rate at the end of every epoch (and so restarts with
        each new optimizer, i.e. each ``fit`` of a string solver).
    momentum : Schedule or None
        A momentum schedule, or None for the optimizer's own constant.
    scoring : Scoring
        The metrics the fit records and the one it watches (``scoring``).
    hidden_layer_sizes : list of int
    """

    def __init__(self, est, hidden_layer_sizes):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.scoring = Scoring(est.scoring)
        solver = est.solver
        self.solver = solver if not isinstance(solver, str) else _solver_from_string(solver, est)
        self.is_stochastic = isinstance(self.solver, Optimizer)
        # Optimizers that train at one point and evaluate at another (the
        # schedule-free rules: gradients at y, the model is the averaged x).
        self.eval_params = getattr(self.solver, "eval_params", None)
        # A weight_decay schedule gives the decoupled decay of every update
        # (absolute values, whatever the optimizer's own weight_decay).
        if isinstance(est.weight_decay, Schedule):
            self.weight_decay, self.weight_decay_schedule = 0.0, est.weight_decay
        else:
            self.weight_decay, self.weight_decay_schedule = est.weight_decay, None
        self.sklearn_rule = None
        lr = est.learning_rate
        if isinstance(lr, str):
            is_sgd = isinstance(self.solver, SGD)
            if lr == "adaptive" and is_sgd:
                lr = Adaptive()
            else:
                if lr == "invscaling" and is_sgd:
                    self.sklearn_rule = "invscaling"
                    self.power_t = float(est.power_t)
                lr = Constant()
        self.learning_rate = lr
        self.momentum = est.momentum if isinstance(est.momentum, Schedule) else None
        # Constant rate and momentum: the epoch's arrays need no schedule.
        self.is_constant = type(lr) is Constant and self.momentum is None
        # The feedback schedules (FeedbackSchedule protocol), fed after every
        # epoch; an Adaptive is scikit-learn's rule, consulted when the
        # stopping criterion fires.
        self.feedback = [f for f in lr._feedback_schedules() if isinstance(f, FeedbackSchedule)]
        self.adaptive = [i for i, f in enumerate(self.feedback) if isinstance(f, Adaptive)]
        # Whether a schedule counts in fractions of the fit (history_ then
        # records the fraction reached).
        self.uses_fraction = any("fraction" in s._time_units() for s in self._schedules().values())

    @property
    def momentum_name(self):
        """What the momentum value drives: 'momentum' or 'beta_1'."""
        return self.solver._momentum_name

    # -- the optimizer ---------------------------------------------------------

    def kernel_config(self):
        """The optimizer's config; ``weight_decay`` applies unless the optimizer has its own.

        An optimizer with a ``weight_decay`` parameter of its own (AdamW, Lion)
        keeps its value, whatever the estimator's.
        """
        config = self.solver._config()
        if self.weight_decay > 0 and "weight_decay" not in self.solver.get_params():
            config[CFG_WEIGHT_DECAY] = self.weight_decay
        return config

    def new_optimizer(self, state, params, learning_rate_init):
        """Fresh optimizer arrays and base rate (scikit-learn builds one per fit).

        scikit-learn's 'adaptive' rule divides the optimizer's own rate, so an
        :class:`Adaptive`'s reductions start again with a new optimizer;
        other feedback schedules (plateaus) keep their state.
        """
        opt_state = self.solver.init_state(params)
        opt_state["lr"] = self.solver._learning_rate(learning_rate_init)
        state.optimizer = opt_state
        if state.feedback is not None and len(state.feedback) == len(self.feedback):
            for i in self.adaptive:
                state.feedback[i] = self.feedback[i]._init_state()

    # -- schedules -------------------------------------------------------------

    def _schedules(self):
        """The schedules of this fit by estimator parameter (momentum and
        weight_decay only when they are schedules)."""
        named = {"learning_rate": self.learning_rate, "momentum": self.momentum,
                 "weight_decay": self.weight_decay_schedule}
        return {name: s for name, s in named.items() if s is not None}

    def begin(self, est, state, batch_sizes, n_samples, incremental, resuming=False):
        """Plan the updates of this call: the span of the 'fraction' unit.

        A ``fit`` (fresh or warm start) plans ``max_iter`` epochs of
        ``len(batch_sizes)`` updates from the current global update, and
        warns (ScheduleEndWarning) when a schedule counted in updates,
        epochs or rows ends before that plan does. A ``partial_fit`` call
        that finds no plan makes the same plan, each later call continuing
        it (one call is one epoch), without that warning (how many calls
        will follow is unknown); the call that runs past the end of the
        plan warns when a schedule counts in 'fraction'. A fit ``resuming``
        from a checkpoint saved during ``fit`` keeps that fit's plan.
        """
        n = len(batch_sizes)
        if resuming:
            return
        if incremental and state.planned_steps is None:
            state.plan_start, state.planned_steps = state.n_updates, est.max_iter * n
            return
        if incremental:
            done = state.n_updates - state.plan_start
            if self.uses_fraction and done <= state.planned_steps < done + n:
                warnings.warn(
                    "partial_fit ran past the plan of the schedules counting in "
                    f"unit='fraction': {state.planned_steps} updates, max_iter epochs "
                    "of the call that started it (the first partial_fit, or fit). "
                    "From now on they hold their final values. Set max_iter to the "
                    "number of partial_fit calls you plan before the first one.",
                    ScheduleEndWarning,
                )
            return
        state.plan_start, state.planned_steps = state.n_updates, est.max_iter * n
        self._warn_early_ends(est, state, batch_sizes, n_samples)

    def _warn_early_ends(self, est, state, batch_sizes, n_samples):
        n, max_iter = len(batch_sizes), est.max_iter
        fit_end = {"step": state.n_updates + max_iter * n,
                   "epoch": state.n_epochs + max_iter,
                   "sample": est.t_ + max_iter * n_samples}
        for name, schedule in self._schedules().items():
            early = [(u, e) for u, e in schedule._shape_ends()
                     if u != "fraction" and e < fit_end[u]]
            if not early:
                continue
            unit, end = early[0]
            last = StepPositions._for_epoch(
                state.n_updates + (max_iter - 1) * n, state.n_epochs + max_iter - 1,
                est.t_ + (max_iter - 1) * n_samples, np.asarray(batch_sizes),
                (state.plan_start, state.planned_steps),
            )
            final = f"{schedule._evaluate(last)[-1]:.3g}"
            rate = getattr(est, "learning_rate_init_", None)
            if name == "learning_rate" and rate is not None:
                final = f"a rate of {float(final) * rate:.3g} ({final} x learning_rate_init)"
            warnings.warn(
                f"{name}={schedule!r} ends at {unit} {end:g}, before the end of this "
                f"fit at {unit} {fit_end[unit]:g} (max_iter={max_iter} epochs of {n} "
                f"updates, {n_samples} rows each): its final value, {final}, would "
                "drive the rest of the fit. Give its length in the fit's terms, or "
                "leave out its length and unit: unit='fraction' spans the fit "
                "whatever batch_size and max_iter.",
                ScheduleEndWarning,
            )

    def fraction_record(self, state):
        """``{'fraction': ...}`` of the last update made, or ``{}`` (no
        schedule counts in fractions, or no plan)."""
        if not self.uses_fraction or state.planned_steps is None:
            return {}
        return {"fraction": float(_plan_fraction(
            state.n_updates - 1, (state.plan_start, state.planned_steps)))}

    def momentum_values(self, positions):
        """Momentum (or beta_1) of each update at ``positions``."""
        if self.momentum is None:
            return np.full(len(positions), self.solver._momentum())
        mu = self.momentum._evaluate(positions)
        upper = self.solver._max_momentum
        if not np.all((mu >= 0) & (mu <= upper)):
            raise ValueError(
                f"The momentum schedule gave values outside [0, {upper:.17g}] "
                f"({self.momentum_name} of {type(self.solver).__name__}): min {mu.min()}, "
                f"max {mu.max()}."
            )
        return mu

    def _feedback_states(self, state):
        if state.feedback is None or len(state.feedback) != len(self.feedback):
            state.feedback = [f._fit_state(self.scoring.direction) for f in self.feedback]
        return state.feedback

    def weight_decay_values(self, positions):
        """The decoupled weight decay of each update, or None (the config's constant)."""
        if self.weight_decay_schedule is None:
            return None
        wd = self.weight_decay_schedule._evaluate(positions)
        if not np.all(np.isfinite(wd) & (wd >= 0)):
            raise ValueError(
                "The weight_decay schedule gave negative or non-finite values: min "
                f"{wd.min()}, max {wd.max()}."
            )
        return wd

    def feedback_scale(self, state):
        """The product of the feedback schedules' scales."""
        if not self.feedback:
            return 1.0
        states = self._feedback_states(state)
        return float(np.prod([f.scale(st) for f, st in zip(self.feedback, states)]))

    def after_epoch(self, est, state, record):
        """Feedback after an epoch: scikit-learn's 'invscaling', then each schedule."""
        if self.sklearn_rule == "invscaling":
            state.optimizer["lr"] = float(est.learning_rate_init_) / (est.t_ + 1) ** self.power_t
        if self.feedback:
            states = self._feedback_states(state)
            state.feedback = [f._update(st, record) for f, st in zip(self.feedback, states)]

    def on_stall(self, state):
        """scikit-learn's stopping criterion fired: (stop, the new rate or None)."""
        if not self.adaptive:
            return True, None
        states = self._feedback_states(state)
        i = self.adaptive[0]
        new, stop = self.feedback[i].on_stall(states[i], base_rate=state.optimizer["lr"])
        if stop:
            return True, None
        states[i] = new
        return False, state.optimizer["lr"] * self.feedback_scale(state)


def make_plan(est, incremental, has_validation=False):
    """Validate what ``_parameter_constraints`` cannot and normalise into a Plan."""
    hidden_layer_sizes = _hidden_layer_sizes(est)
    if isinstance(est.learning_rate, Schedule):
        _check_schedule(est.learning_rate, "learning_rate")
    for name in ("weight_decay", "momentum"):
        value = getattr(est, name)
        if isinstance(value, Schedule):
            _check_schedule(value, name)
            if value._feedback_schedules():
                raise ValueError(
                    f"{name} cannot be a feedback schedule (Adaptive, ReduceOnPlateau); "
                    "use them as learning_rate."
                )
    if isinstance(est.solver, (Optimizer, LBFGS)):
        est.solver._validate_params()
    if est.averaging is not None:
        est.averaging._validate_params()
    if hasattr(est.record_dynamics, "_validate_params"):  # a Dynamics
        est.record_dynamics._validate_params()
    plan = Plan(est, hidden_layer_sizes)
    if est.averaging is not None and plan.is_stochastic and plan.eval_params is not None:
        raise ValueError(
            f"averaging={est.averaging!r} cannot be combined with "
            f"{type(plan.solver).__name__}: a schedule-free solver averages its "
            "weights itself (the model is its averaged point x). Use averaging=None."
        )
    check_monitors(plan.feedback, plan.scoring, est.early_stopping or has_validation,
                   est.record_train_score)
    rates = np.atleast_1d(np.asarray(est.dropout, dtype=np.float64))
    if rates.ndim != 1 or rates.size not in (1, len(hidden_layer_sizes)):
        raise ValueError(
            "dropout must be a float or one rate per hidden layer "
            f"({len(hidden_layer_sizes)}), got {est.dropout!r}."
        )
    if np.any(~np.isfinite(rates)) or np.any(rates < 0) or np.any(rates >= 1):
        raise ValueError(f"dropout rates must be in [0, 1), got {est.dropout!r}.")
    if est.clip_norm is not None and est.clip_value is not None:
        raise ValueError(
            f"clip_norm={est.clip_norm!r} and clip_value={est.clip_value!r}: set one "
            "of them, not both. As in Keras (one of clipnorm, global_clipnorm and "
            "clipvalue), gradient clipping is by norm or by value."
        )
    if not plan.is_stochastic and est.restore_best_weights is True:
        raise ValueError("restore_best_weights=True needs a stochastic solver, not 'lbfgs'.")
    if not plan.is_stochastic:
        unsupported = [
            name for name, value, default in [
                ("weight_decay", est.weight_decay, 0.0),
                ("max_norm", est.max_norm, None),
                ("input_dropout", est.input_dropout, 0.0),
                ("dropout", float(np.max(rates)), 0.0),
                ("layer_lr_decay", est.layer_lr_decay, 1.0),
                ("averaging", est.averaging, None),
                ("clip_norm", est.clip_norm, None),
                ("clip_value", est.clip_value, None),
                ("record_dynamics", est.record_dynamics, False),
            ] if value is not default and value != default
        ]
        if unsupported:
            raise ValueError(
                f"{', '.join(unsupported)} need a stochastic solver; solver='lbfgs' "
                "supports alpha and l1 only."
            )
        ignored = [name for name in ("learning_rate", "momentum")
                   if isinstance(getattr(est, name), Schedule)]
        if ignored:
            warnings.warn(
                f"{' and '.join(ignored)}: a schedule is ignored by solver='lbfgs', "
                "which has no learning rate or momentum. Use a stochastic solver for "
                "schedules to take effect.",
                UserWarning,
            )
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    if est.early_stopping and est.validation_fraction == 0 and not has_validation:
        raise ValueError(
            "early_stopping=True needs a validation set: validation_fraction "
            "must be > 0, got 0."
        )
    return plan

