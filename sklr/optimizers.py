"""Optimizers: searchable parameter objects over one family of fused kernels.

Pass one as an estimator's ``solver``; its own hyperparameters then win over
the estimator's top-level ``momentum``, ``nesterovs_momentum``, ``beta_1``,
``beta_2`` and ``epsilon`` (a momentum *schedule* given as the estimator's
``momentum`` still drives the per-update momentum, or ``beta_1`` for the Adam
family). An optimizer object holds configuration only: the state (velocities,
moments, step count) lives in the fitted estimator, or in the dict returned
by :meth:`Optimizer.init_state` for the functional API::

    state = opt.init_state(params)
    opt.step(params, grad, state, learning_rate=0.01)   # params updated in place

Conventions differ between frameworks; each class states its update
equations and which framework each ``convention`` reproduces exactly (to
rounding). In the equations :math:`g` is the gradient, :math:`\\eta` the
learning rate of the update and :math:`t` the 1-based update count.
"""

from numbers import Real

import numpy as np

from sklr import _codes, _kernel
from sklr._codes import Convention, Rule
from sklr._compat import Interval, StrOptions
from sklr._openmp_helpers import _openmp_effective_n_threads
from sklr._param_object import ParamObject

__all__ = [
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "ScheduleFreeAdamW",
    "ScheduleFreeSGD",
]

# Validated configs by (class, parameter values); see Optimizer._config.
_CONFIG_CACHE = {}

# Solver strings: each class declares its ``_alias`` and lands here.
_SOLVERS = {}

# Rule and convention codes (sklr._codes): a class's ``_rule`` is its Rule's name.
_MODES = {rule.name.lower(): rule for rule in Rule}
_CONVENTIONS = {name: Convention[name.upper()] for name in ("sklearn", "keras", "pytorch")}
_CONVENTION = [StrOptions({"sklearn", "keras", "pytorch"})]
_UNIT_INTERVAL = [Interval(Real, 0, 1, closed="left")]
_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]
_OPTIONAL_RATE = [Interval(Real, 0, None, closed="neither"), None]


class _Solver(ParamObject):
    """A solver an estimator's ``solver`` can name by a string (its ``_alias``).

    A subclass that sets ``_alias`` registers itself: the estimator turns
    ``solver='<alias>'`` into ``cls._from_estimator(estimator)``.
    """

    _alias = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_alias" in cls.__dict__ and cls._alias is not None:
            _SOLVERS[cls._alias] = cls

    @classmethod
    def _from_estimator(cls, estimator):
        """The object a string ``solver`` means, given the estimator's knobs."""
        return cls()


def _own_weight_decay(opt, estimator):
    """``opt`` with the estimator's float ``weight_decay`` when it is > 0.

    For the optimizers with a ``weight_decay`` of their own (AdamW, Lion,
    schedule-free) named by a string ``solver``; a ``weight_decay``
    schedule drives the decay at every update instead.
    """
    if isinstance(estimator.weight_decay, Real) and estimator.weight_decay > 0:
        opt.weight_decay = estimator.weight_decay
    return opt


def _solver_from_string(name, estimator):
    """The optimizer object that ``solver=name`` means for ``estimator``."""
    return _SOLVERS[name]._from_estimator(estimator)


def _solver_strings():
    """Every string ``solver`` accepts."""
    return set(_SOLVERS)


class Optimizer(_Solver):
    """Base class of sklr's stochastic optimizers (configuration only, no state).

    Subclasses set ``_rule`` and ``_alias`` (the solver string), declare
    ``_parameter_constraints``, say which state arrays they need
    (``_state_arrays``), what the per-update momentum value drives
    (``_momentum_name``) and its largest allowed value (``_max_momentum``);
    the update itself is the rule's inline function in ``_optim.pxd``, which
    reads the config slots the class names in ``_slots`` (in that order).
    """

    _rule = None
    _momentum_name = "momentum"
    _max_momentum = 1.0
    # The rule's own config slots, in order (after _codes.CFG_SLOTS).
    _slots = ()
    # Start values of the rule's own scalar-state slots (after _codes.SC_SLOTS).
    _scalar_starts = ()

    def _fields(self):
        """Config values by name: 'convention', 'weight_decay' and the ``_slots``."""
        return {}

    def _config(self):
        """The float64 config array the kernels read (a copy).

        Validated configs are cached by the object's parameter values, so the
        functional :meth:`step` does not re-validate unchanged parameters at
        every call; a changed parameter is a new key.
        """
        try:
            key = (type(self), tuple(sorted(vars(self).items())))
            cached = _CONFIG_CACHE.get(key)
        except TypeError:  # an unhashable parameter value: no caching
            key, cached = None, None
        if cached is None:
            cached = self._build_config()
            if key is not None:
                if len(_CONFIG_CACHE) > 256:
                    _CONFIG_CACHE.clear()
                _CONFIG_CACHE[key] = cached
        return cached.copy()

    def _build_config(self):
        """The config laid out by sklr._codes.CFG_*: rule, convention, weight decay, slots."""
        self._validate_params()
        values = self._fields()
        unknown = set(values) - {"convention", "weight_decay", *self._slots}
        if unknown or len(self._slots) > _codes.CFG_N_SLOTS:  # pragma: no cover
            raise RuntimeError(f"unknown config fields {sorted(unknown)}")
        config = np.zeros(_codes.CFG_SIZE, dtype=np.float64)
        config[_codes.CFG_RULE] = _MODES[self._rule]
        config[_codes.CFG_CONVENTION] = float(values.get("convention", 0))
        config[_codes.CFG_WEIGHT_DECAY] = float(values.get("weight_decay", 0.0))
        for i, name in enumerate(self._slots):
            config[_codes.CFG_SLOTS + i] = float(values.get(name, 0.0))
        return config

    def _state_arrays(self):
        """Which of the three state arrays the rule uses, and their start value."""
        return (0.0, None, None)

    def _momentum(self):
        """Momentum (or beta_1) of every update unless a schedule overrides it."""
        return 0.0

    def _learning_rate(self, learning_rate_init):
        """The scale of the rate: this object's ``learning_rate`` or the estimator's."""
        own = getattr(self, "learning_rate", None)
        return float(learning_rate_init if own is None else own)

    def init_state(self, params):
        """A fresh optimizer state for a 1-D float32 or float64 parameter array.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The parameters the state will update (only its size and dtype
            are read).

        Returns
        -------
        state : dict
            ``'state_1'``, ``'state_2'``, ``'state_3'`` (arrays of
            ``params``' dtype, empty when the rule does not use them) and
            ``'scalars'`` (float64, laid out by ``sklr._codes.SC_*``:
            the update count, then the rule's own scalars such as NAdam's
            momentum product).
        """
        self._validate_params()
        params = np.asarray(params)
        if params.ndim != 1 or params.dtype not in (np.float32, np.float64):
            raise ValueError("params must be a 1-D float32 or float64 array.")
        state = {}
        for i, start in enumerate(self._state_arrays(), start=1):
            if start is None:
                state[f"state_{i}"] = np.empty(0, dtype=params.dtype)
            else:
                state[f"state_{i}"] = np.full(params.shape[0], start, dtype=params.dtype)
        scalars = np.zeros(_codes.SC_SIZE)
        scalars[_codes.SC_SLOTS:_codes.SC_SLOTS + len(self._scalar_starts)] = (
            self._scalar_starts)
        state["scalars"] = scalars
        return state

    def step(self, params, grad, state, learning_rate, momentum=None, n_threads=None):
        """Apply one update to ``params`` in place (the kernel ``fit`` uses).

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            C-contiguous, writeable float32 or float64 parameters.
        grad : ndarray of shape (n_params,)
            Gradient, same dtype.
        state : dict
            From :meth:`init_state`; updated in place.
        learning_rate : float
            Absolute learning rate of this update.
        momentum : float, default=None
            Overrides the momentum (SGD, RMSprop) or ``beta_1`` (Adam family)
            for this update.
        n_threads : int, default=None
            OpenMP threads; None uses the allowed maximum.

        Returns
        -------
        params : ndarray
            The same array, updated.
        """
        if not (isinstance(params, np.ndarray) and params.flags.c_contiguous
                and params.flags.writeable):
            raise ValueError("params must be a writeable C-contiguous ndarray.")
        grad = np.ascontiguousarray(grad, dtype=params.dtype)
        mu = self._momentum() if momentum is None else float(momentum)
        _kernel.apply_update(
            params, grad, state, self._config(), float(learning_rate), mu,
            _openmp_effective_n_threads(n_threads),
        )
        return params


class SGD(Optimizer):
    r"""Stochastic gradient descent with (Nesterov) momentum.

    ``convention='sklearn'`` (scikit-learn, Keras) keeps a velocity:

    .. math::

        v \leftarrow \mu v - \eta g, \qquad
        p \leftarrow p + v \quad (\text{Nesterov: } p \leftarrow p + \mu v - \eta g)

    ``convention='pytorch'`` keeps a gradient buffer scaled by the current
    rate (``torch.optim.SGD``):

    .. math::

        b \leftarrow \mu b + (1 - d) g \;(b = g \text{ at the first step}), \qquad
        p \leftarrow p - \eta b \quad (\text{Nesterov: } p \leftarrow p - \eta (g + \mu b))

    The two agree while the rate is constant and differ when it changes.

    Parameters
    ----------
    momentum : float, default=0.9
        :math:`\mu`, in [0, 1]; a momentum schedule given to the estimator
        overrides it.
    nesterov : bool, default=True
        Nesterov's momentum (scikit-learn's ``nesterovs_momentum`` default).
    dampening : float, default=0.0
        :math:`d`, PyTorch convention only.
    convention : {'sklearn', 'keras', 'pytorch'}, default='sklearn'
        Velocity or gradient buffer (see above); 'keras' is 'sklearn'.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.optimizers import SGD
    >>> opt = SGD(momentum=0.5, nesterov=False)
    >>> p = np.array([1.0, -1.0]); state = opt.init_state(p)
    >>> for _ in range(2):
    ...     _ = opt.step(p, np.array([1.0, 2.0]), state, learning_rate=0.1)
    >>> p
    array([ 0.75, -1.5 ])
    """

    _rule = "sgd"
    _alias = "sgd"
    _slots = ("nesterov", "dampening")
    _parameter_constraints: dict = {
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterov": ["boolean"],
        "dampening": [Interval(Real, 0, 1, closed="both")],
        "convention": _CONVENTION,
        "learning_rate": _OPTIONAL_RATE,
    }

    def __init__(self, momentum=0.9, nesterov=True, dampening=0.0, convention="sklearn",
                 learning_rate=None):
        self.momentum = momentum
        self.nesterov = nesterov
        self.dampening = dampening
        self.convention = convention
        self.learning_rate = learning_rate

    def _fields(self):
        return {
            "convention": _CONVENTIONS[self.convention],
            "nesterov": bool(self.nesterov),
            "dampening": self.dampening,
        }

    def _momentum(self):
        return float(self.momentum)

    @classmethod
    def _from_estimator(cls, estimator):
        # scikit-learn's 'sgd' reads momentum and nesterovs_momentum; a
        # momentum schedule replaces the constant at every update.
        momentum = estimator.momentum if isinstance(estimator.momentum, Real) else 0.0
        return cls(momentum=momentum, nesterov=estimator.nesterovs_momentum)


class _AdamFamily(Optimizer):
    """Shared configuration of Adam, NAdam and Adamax: ``beta_1`` (the
    per-update momentum), ``beta_2``, ``epsilon``, ``convention`` and two
    moment arrays."""

    _momentum_name = "beta_1"
    _max_momentum = float(np.nextafter(1.0, 0.0))  # beta_1 < 1
    _slots = ("beta_2", "epsilon")

    _parameter_constraints: dict = {
        "beta_1": _UNIT_INTERVAL,
        "beta_2": _UNIT_INTERVAL,
        "epsilon": _POSITIVE,
        "convention": _CONVENTION,
        "learning_rate": _OPTIONAL_RATE,
    }

    def _fields(self):
        return {
            "convention": _CONVENTIONS[self.convention],
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }

    def _state_arrays(self):
        return (0.0, 0.0, None)

    def _momentum(self):
        return float(self.beta_1)

    @classmethod
    def _from_estimator(cls, estimator):
        # scikit-learn's top-level beta_1, beta_2 and epsilon.
        return cls(beta_1=estimator.beta_1, beta_2=estimator.beta_2,
                   epsilon=estimator.epsilon)


class Adam(_AdamFamily):
    r"""Adam (Kingma and Ba), optionally AMSGrad.

    .. math::

        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2

    ``convention='sklearn'`` (scikit-learn, Keras) folds the bias corrections
    into the step size and adds :math:`\epsilon` to the uncorrected root:

    .. math::

        p \leftarrow p - \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
        \frac{m}{\sqrt{v} + \epsilon}

    ``convention='pytorch'`` (``torch.optim.Adam``) adds it after correction:

    .. math::

        p \leftarrow p - \frac{\eta}{1 - \beta_1^t}
        \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}

    With ``amsgrad=True`` :math:`v` in the denominator is replaced by its
    running maximum (Keras and PyTorch ``amsgrad``).

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment, in [0, 1); a momentum schedule given to
        the estimator overrides it.
    beta_2 : float, default=0.999
        Decay of the second moment, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator, > 0.
    amsgrad : bool, default=False
        Use the running maximum of :math:`v` (AMSGrad).
    convention : {'sklearn', 'keras', 'pytorch'}, default='sklearn'
        Where :math:`\epsilon` enters (see above); 'keras' is 'sklearn'.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.
    """

    _rule = "adam"
    _alias = "adam"
    _slots = ("beta_2", "epsilon", "amsgrad")
    _parameter_constraints: dict = {**_AdamFamily._parameter_constraints, "amsgrad": ["boolean"]}

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False,
                 convention="sklearn", learning_rate=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.convention = convention
        self.learning_rate = learning_rate

    def _fields(self):
        return {
            **super()._fields(),
            "amsgrad": bool(self.amsgrad),
            "weight_decay": getattr(self, "weight_decay", 0.0),
        }

    def _state_arrays(self):
        return (0.0, 0.0, 0.0 if self.amsgrad else None)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter).

    Before each Adam step (see :class:`Adam` for both conventions):

    .. math::

        p \leftarrow p \, (1 - \eta \lambda)

    as ``torch.optim.AdamW`` and Keras ``AdamW`` (which writes
    :math:`p - \eta \lambda p`, equal up to rounding). The estimator's
    ``alpha`` (L2 in the gradient) still applies; set ``alpha=0`` for pure
    AdamW.

    Parameters
    ----------
    weight_decay : float, default=0.01
        :math:`\lambda`, >= 0.
    beta_1, beta_2, epsilon, amsgrad, convention, learning_rate
        As :class:`Adam`.
    """

    _parameter_constraints: dict = {
        **Adam._parameter_constraints,
        "weight_decay": _NON_NEGATIVE,
    }

    def __init__(self, weight_decay=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 amsgrad=False, convention="sklearn", learning_rate=None):
        super().__init__(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         convention=convention, learning_rate=learning_rate)
        self.weight_decay = weight_decay

    _alias = "adamw"

    @classmethod
    def _from_estimator(cls, estimator):
        # The estimator's weight_decay when set, else AdamW's own 0.01.
        return _own_weight_decay(super()._from_estimator(estimator), estimator)


class NAdam(_AdamFamily):
    r"""Adam with Nesterov momentum (Dozat), with the momentum-decay schedule.

    .. math::

        \mu_t = \beta_1 (1 - \tfrac12 \, 0.96^{t \psi}), \qquad
        \Pi_t = \prod_{i \le t} \mu_i, \qquad
        \hat v = v / (1 - \beta_2^t)

    .. math::

        p \leftarrow p - \eta \Big( \frac{1 - \mu_t}{1 - \Pi_t} g
        + \frac{\mu_{t+1}}{1 - \Pi_t \mu_{t+1}} m \Big) \Big/ (\sqrt{\hat v} + \epsilon)

    with :math:`m, v` as in Adam and :math:`\psi` = ``momentum_decay``.

    * ``convention='pytorch'`` is ``torch.optim.NAdam`` (checked against
      PyTorch 2.13): the two terms are applied as two updates, and
      :math:`\psi` defaults to PyTorch's ``momentum_decay=0.004``.
    * ``convention='keras'`` is Keras 3's ``keras.optimizers.Nadam`` (checked
      against Keras 3.15): :math:`\hat m`, the bracket above, is formed first,
      and :math:`\psi` defaults to 1, since Keras 3 computes
      :math:`\mu_t = \beta_1 (1 - \frac12 \, 0.96^t)` with no decay
      argument. Standalone Keras 2's ``Nadam(schedule_decay=0.004)`` put
      ``schedule_decay`` in the exponent: it is ``convention='keras',
      momentum_decay=0.004``.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment, in [0, 1); a momentum schedule given to
        the estimator overrides it.
    beta_2 : float, default=0.999
        Decay of the second moment, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator, > 0. Keras' default is 1e-7.
    momentum_decay : float or None, default=None
        :math:`\psi`, >= 0. None means the convention's own value: 0.004
        with ``'pytorch'``, 1.0 with ``'keras'`` (and ``'sklearn'``).
    convention : {'pytorch', 'keras', 'sklearn'}, default='pytorch'
        Which framework's update (see above); 'sklearn' means 'keras'.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.
    """

    _rule = "nadam"
    _alias = "nadam"
    _slots = ("beta_2", "epsilon", "momentum_decay")
    _scalar_starts = (1.0,)  # the momentum product
    _parameter_constraints: dict = {
        **_AdamFamily._parameter_constraints,
        "momentum_decay": [*_NON_NEGATIVE, None],
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, momentum_decay=None,
                 convention="pytorch", learning_rate=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.momentum_decay = momentum_decay
        self.convention = convention
        self.learning_rate = learning_rate

    def _fields(self):
        psi = self.momentum_decay
        if psi is None:
            psi = 0.004 if self.convention == "pytorch" else 1.0
        return {**super()._fields(), "momentum_decay": psi}


class Adamax(_AdamFamily):
    r"""Adamax, Adam under the infinity norm.

    .. math::

        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \frac{m}{u}

    with ``convention='pytorch'``: :math:`u \leftarrow \max(\beta_2 u, |g| + \epsilon)`
    (``torch.optim.Adamax``); ``'keras'``: :math:`u \leftarrow \max(\beta_2 u, |g|)`
    and the denominator :math:`u + \epsilon` (Keras ``Adamax``).

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment, in [0, 1); a momentum schedule given to
        the estimator overrides it.
    beta_2 : float, default=0.999
        Decay of the infinity norm, in [0, 1).
    epsilon : float, default=1e-8
        Guards the division, > 0 (placement per ``convention``).
    convention : {'pytorch', 'keras', 'sklearn'}, default='pytorch'
        Where :math:`\epsilon` enters (see above); 'sklearn' means 'keras'.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.
    """

    _rule = "adamax"
    _alias = "adamax"

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, convention="pytorch",
                 learning_rate=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.convention = convention
        self.learning_rate = learning_rate


class RAdam(_AdamFamily):
    r"""Rectified Adam (Liu et al. 2020), as ``torch.optim.RAdam``.

    With :math:`m, v` as in Adam, :math:`b_1 = 1 - \beta_1^t` and
    :math:`b_2 = 1 - \beta_2^t`, the length of the approximated simple moving
    average decides between an adaptive and a plain momentum step:

    .. math::

        \rho_\infty = \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{b_2}

    .. math::

        p \leftarrow p - \frac{m}{b_1} \, \eta \, \frac{\sqrt{b_2}}{\sqrt{v} + \epsilon}
        \, r_t \quad \text{if } \rho_t > 5, \qquad
        r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2) \rho_\infty}
                         {(\rho_\infty - 4)(\rho_\infty - 2) \rho_t}}

    and :math:`p \leftarrow p - \eta \, m / b_1` otherwise (the first five
    updates with the default :math:`\beta_2`). This is PyTorch's
    ``_single_tensor_radam`` in its order of operations (so :math:`\epsilon`
    is added to the uncorrected root, and the switch is :math:`\rho_t > 5`),
    with its defaults ``betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False``. PyTorch's ``decoupled_weight_decay=True``
    is the estimator's ``weight_decay`` (:math:`p \leftarrow p (1 - \eta \lambda)`
    before the step, as there); its coupled ``weight_decay`` is an L2 term
    in the gradient, the estimator's ``alpha`` up to its scaling by the
    batch size. ``optax.radam`` differs: it adds :math:`\epsilon` to
    :math:`\sqrt{v / b_2}` and switches at :math:`\rho_t \ge 5`; the paper
    (Algorithm 2) has no :math:`\epsilon` and switches at :math:`\rho_t > 4`.
    Keras 3 has no RAdam. float32 parameters are updated in float32, as
    PyTorch does; the scalars :math:`\rho_t, r_t, b_1, b_2` are computed in
    float64.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment, in [0, 1); a momentum schedule given to
        the estimator overrides it (and :math:`b_1` uses the current value).
    beta_2 : float, default=0.999
        Decay of the second moment, in [0, 1).
    epsilon : float, default=1e-8
        Added to :math:`\sqrt{v}`, > 0.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.optimizers import RAdam
    >>> opt = RAdam()
    >>> p = np.array([1.0, -1.0]); state = opt.init_state(p)
    >>> _ = opt.step(p, np.array([1.0, -2.0]), state, learning_rate=0.1)
    >>> p  # rho_1 = 1 <= 5: a plain step of m / (1 - beta_1) = g
    array([ 0.9, -0.8])
    """

    _rule = "radam"
    _alias = "radam"
    _parameter_constraints: dict = {
        k: v for k, v in _AdamFamily._parameter_constraints.items() if k != "convention"
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, learning_rate=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.learning_rate = learning_rate

    def _fields(self):
        return {"beta_2": self.beta_2, "epsilon": self.epsilon}


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller and Braun 1993), as ``torch.optim.Rprop``.

    Each parameter has its own step size :math:`\Delta`, which starts at the
    learning rate of the first update. With :math:`g'` the gradient kept
    from the previous update (0 at the first):

    .. math::

        \Delta \leftarrow \operatorname{clip}\big(\Delta \cdot
        \begin{cases} \eta^+ & g g' > 0 \\ \eta^- & g g' < 0 \\ 1 & g g' = 0 \end{cases},
        \; \Delta_{\min}, \Delta_{\max}\big), \qquad
        g \leftarrow 0 \text{ where } g g' < 0

    .. math::

        p \leftarrow p - \operatorname{sign}(g) \, \Delta, \qquad g' \leftarrow g

    the Rprop without weight backtracking that PyTorch implements
    (``_single_tensor_rprop``, in its order of operations): after a sign
    change the step shrinks, the parameter stays put and the next update
    does not shrink it again. The clip applies at every update, the first
    included (a learning rate above :math:`\Delta_{\max}` is clipped
    before it is used).

    **Full batch.** Rprop compares the signs of successive gradients, which
    only means something when they are gradients of the same objective: fit
    with ``batch_size`` equal to the number of training samples (one update
    per epoch; ``shuffle`` then makes no difference). With minibatches the
    noise flips signs and keeps shrinking the steps.

    **Learning rate.** Only the rate of the first update is read: it is the
    initial step size :math:`\Delta_0` (PyTorch's ``lr``, default 0.01; the
    paper suggests 0.1), i.e. ``learning_rate_init`` times the learning-rate
    schedule at the first update, or this object's ``learning_rate``. Later
    rates are ignored, as a PyTorch scheduler changing ``lr`` after the
    first step is. Rprop has no momentum: a momentum schedule is ignored.
    The estimator's ``weight_decay``, if any, still multiplies the
    parameters by :math:`1 - \eta \lambda` with each update's rate.

    Parameters
    ----------
    eta_minus : float, default=0.5
        :math:`\eta^-`, the factor of a step after a sign change, in (0, 1)
        (PyTorch's ``etas[0]``).
    eta_plus : float, default=1.2
        :math:`\eta^+`, the factor of a step after no sign change, > 1
        (PyTorch's ``etas[1]``).
    step_size_min : float, default=1e-6
        :math:`\Delta_{\min}`, >= 0 (PyTorch's ``step_sizes[0]``).
    step_size_max : float, default=50.0
        :math:`\Delta_{\max}`, >= ``step_size_min`` (PyTorch's ``step_sizes[1]``).
    learning_rate : float, default=None
        Initial step size :math:`\Delta_0`; None uses the estimator's
        ``learning_rate_init`` (times its schedule at the first update).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.optimizers import Rprop
    >>> opt = Rprop()
    >>> p = np.zeros(2); state = opt.init_state(p)
    >>> for g in ([1.0, -3.0], [2.0, 1.0]):
    ...     _ = opt.step(p, np.array(g), state, learning_rate=0.1)
    >>> p  # same sign: a step of 0.1, then 0.12; a sign change: 0.1, then none
    array([-0.22,  0.1 ])
    >>> state["state_2"]  # the step sizes
    array([0.12, 0.05])
    """

    _rule = "rprop"
    _alias = "rprop"
    _slots = ("eta_minus", "eta_plus", "step_size_min", "step_size_max")
    _parameter_constraints: dict = {
        "eta_minus": [Interval(Real, 0, 1, closed="neither")],
        "eta_plus": [Interval(Real, 1, None, closed="neither")],
        "step_size_min": _NON_NEGATIVE,
        "step_size_max": _NON_NEGATIVE,
        "learning_rate": _OPTIONAL_RATE,
    }

    def __init__(self, eta_minus=0.5, eta_plus=1.2, step_size_min=1e-6, step_size_max=50.0,
                 learning_rate=None):
        self.eta_minus = eta_minus
        self.eta_plus = eta_plus
        self.step_size_min = step_size_min
        self.step_size_max = step_size_max
        self.learning_rate = learning_rate

    def _validate_params(self):
        super()._validate_params()
        if self.step_size_min > self.step_size_max:
            raise ValueError(
                f"Rprop: step_size_min ({self.step_size_min}) must be <= step_size_max "
                f"({self.step_size_max})."
            )

    def _fields(self):
        return {
            "eta_minus": self.eta_minus,
            "eta_plus": self.eta_plus,
            "step_size_min": self.step_size_min,
            "step_size_max": self.step_size_max,
        }

    def _state_arrays(self):
        # The previous gradient (0) and the step sizes (set to the first
        # update's rate by the rule itself).
        return (0.0, 0.0, None)


class Lion(Optimizer):
    r"""Lion, evolved sign momentum (Chen et al. 2023).

    The paper's Algorithm 2 ("Symbolic Discovery of Optimization
    Algorithms"), with :math:`\lambda` the decoupled weight decay:

    .. math::

        c = \beta_1 m + (1 - \beta_1) g, \qquad
        p \leftarrow p - \eta \, \big(\operatorname{sign}(c) + \lambda p\big), \qquad
        m \leftarrow \beta_2 m + (1 - \beta_2) g

    with :math:`\operatorname{sign}(0) = 0` and :math:`m` starting at 0.
    The weight decay is sklr's shared decoupled field, applied before the
    sign step as :math:`p \leftarrow p (1 - \eta\lambda)` (both terms use the
    parameters before the update, so this is the paper's equation; only
    the rounding of :math:`p - \eta\lambda p` differs). ``optax.lion``
    computes the same update (``scale_by_lion``: the sign of
    :math:`(1 - \beta_1) g + \beta_1 m`, then ``add_decayed_weights`` and
    the scaling by :math:`-\eta`); note that its default ``weight_decay``
    is 1e-3, the paper's and this class's 0. Keras' ``Lion`` is the same
    rule with its optimizer-wide ``weight_decay``. There is no
    ``torch.optim.Lion`` (PyTorch 2.13). Lion's steps have unit size per
    parameter: the paper recommends a rate 3-10x smaller than AdamW's and
    a weight decay 3-10x larger.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Interpolation between the momentum and the gradient whose sign is
        the step, in [0, 1); a momentum schedule given to the estimator
        overrides it.
    beta_2 : float, default=0.99
        Decay of the momentum :math:`m`, in [0, 1).
    weight_decay : float, default=0.0
        :math:`\lambda`, >= 0, the decoupled decay. This value wins over the
        estimator's ``weight_decay`` (as for :class:`AdamW`); ``solver='lion'``
        takes the estimator's when it is > 0.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.optimizers import Lion
    >>> opt = Lion()
    >>> p = np.array([1.0, -1.0, 0.5]); state = opt.init_state(p)
    >>> _ = opt.step(p, np.array([3.0, -0.01, 0.0]), state, learning_rate=0.1)
    >>> p
    array([ 0.9, -0.9,  0.5])
    """

    _rule = "lion"
    _alias = "lion"
    _momentum_name = "beta_1"
    _max_momentum = float(np.nextafter(1.0, 0.0))  # beta_1 < 1
    _slots = ("beta_2",)
    _parameter_constraints: dict = {
        "beta_1": _UNIT_INTERVAL,
        "beta_2": _UNIT_INTERVAL,
        "weight_decay": _NON_NEGATIVE,
        "learning_rate": _OPTIONAL_RATE,
    }

    def __init__(self, beta_1=0.9, beta_2=0.99, weight_decay=0.0, learning_rate=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.weight_decay = weight_decay
        self.learning_rate = learning_rate

    def _fields(self):
        return {"beta_2": self.beta_2, "weight_decay": self.weight_decay}

    def _state_arrays(self):
        return (0.0, None, None)

    def _momentum(self):
        return float(self.beta_1)

    @classmethod
    def _from_estimator(cls, estimator):
        # 'lion': the class defaults (its beta_2 is not Adam's), with the
        # estimator's weight_decay when set, as 'adamw' does.
        return _own_weight_decay(cls(), estimator)


class _ScheduleFree(Optimizer):
    """Shared configuration of the schedule-free rules (Defazio et al. 2024)."""

    _max_momentum = float(np.nextafter(1.0, 0.0))  # beta < 1
    _slots = ("warmup_steps", "r", "weight_lr_power")
    # lr_max, weight_sum, the momentum (beta) of the last update
    _scalar_starts = (0.0, 0.0, 0.0)
    _parameter_constraints: dict = {
        "weight_decay": _NON_NEGATIVE,
        "warmup_steps": [Interval(Real, 0, None, closed="left")],
        "r": [Interval(Real, None, None, closed="neither")],
        "weight_lr_power": [Interval(Real, None, None, closed="neither")],
        "learning_rate": _OPTIONAL_RATE,
    }

    def _fields(self):
        return {
            "weight_decay": self.weight_decay,
            "warmup_steps": self.warmup_steps,
            "r": self.r,
            "weight_lr_power": self.weight_lr_power,
        }

    def _momentum(self):
        return float(getattr(self, self._momentum_name))

    def eval_params(self, params, state):
        r"""The averaged point :math:`x = (y - (1 - \beta) z) / \beta` (a new array).

        ``params`` holds :math:`y` (where gradients are taken), ``state``
        the :math:`z` of :meth:`init_state` / :meth:`step`; :math:`\beta` is
        the momentum of the last update. This is the point to evaluate
        (the reference's ``optimizer.eval()``). Before any update, or with
        :math:`\beta = 0`, a copy of ``params``.
        """
        params = np.asarray(params)
        beta = float(state["scalars"][_codes.SC_SLOTS + 2])
        if state["scalars"][_codes.SC_T] == 0 or beta <= 0:
            return params.copy()
        z = state["state_1"]
        # the reference's p.lerp_(z, 1 - 1 / beta)
        return (params + (1 - 1 / beta) * (z - params)).astype(params.dtype, copy=False)

    @classmethod
    def _from_estimator(cls, estimator):
        # the class defaults, with the estimator's weight_decay when set.
        return _own_weight_decay(cls(), estimator)


class ScheduleFreeSGD(_ScheduleFree):
    r"""Schedule-free SGD (``schedulefree.SGDScheduleFree``).

    The reference ``schedulefree`` package's equations and order of
    operations (Defazio et al. 2024, "The Road Less Scheduled"). The
    parameters hold :math:`y`, where gradients are taken; the state holds
    :math:`z` (``state_1``, set to :math:`y` at the first update).
    Update :math:`t = k + 1` at rate :math:`\eta`, with :math:`\beta` the
    per-update momentum:

    .. math::

        \eta_t = \eta \min(1, t / T_w), \quad
        \eta_{\max} \leftarrow \max(\eta_{\max}, \eta_t), \quad
        w_t = t^r \eta_{\max}^P, \quad
        S \leftarrow S + w_t, \quad c = w_t / S

    with :math:`\hat g = g`.

    .. math::

        \hat g \leftarrow \hat g + \lambda y, \quad
        y \leftarrow (1 - c) y + c z + \eta_t (\beta (1 - c) - 1) \hat g, \quad
        z \leftarrow z - \eta_t \hat g

    (:math:`\eta_{\max}` and :math:`S` are the scalar state slots after the
    update count; :math:`T_w` is ``warmup_steps``, no warmup when 0.) The
    point to evaluate is the average :math:`x = (y - (1 - \beta) z) / \beta`,
    returned by :meth:`eval_params` (the reference's ``optimizer.eval()``).

    **Estimator.** An estimator fitted with this solver trains :math:`y`
    and shows :math:`x`: ``coefs_``, ``predict``, ``score`` and the
    per-epoch validation scores use :math:`x` (refreshed after every
    epoch), as the reference evaluates after ``optimizer.eval()``;
    ``raw_coefs_`` are :math:`y`, and ``use_averaged_weights=False``
    shows :math:`y` instead. ``loss_curve_`` is the training loss at
    :math:`y`, where gradients are taken. With a layer-wise rate
    (``layer_lr_decay``), :math:`c` comes from the base rates, which is the
    per-layer reference value (the factors cancel).

    Parameters
    ----------
    momentum : float, default=0.9
        :math:`\beta`, in (0, 1); a momentum schedule given to the estimator
        overrides it.
    weight_decay : float, default=0.0
        :math:`\lambda`, >= 0, added to the gradient at :math:`y`; this value
        wins over the estimator's ``weight_decay`` (``solver='sfsgd'`` takes
        the estimator's when it is > 0).
    warmup_steps : float, default=0
        :math:`T_w`, >= 0.
    r : float, default=0.0
        Power of :math:`t` in the averaging weights.
    weight_lr_power : float, default=2.0
        :math:`P`, power of :math:`\eta_{\max}` in the averaging weights.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``
        (the reference's default ``lr`` is 1.0).
    """

    _rule = "sfsgd"
    _alias = "sfsgd"
    _momentum_name = "momentum"
    _parameter_constraints: dict = {
        **_ScheduleFree._parameter_constraints,
        "momentum": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0, learning_rate=None):
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.warmup_steps = warmup_steps
        self.r = r
        self.weight_lr_power = weight_lr_power
        self.learning_rate = learning_rate

    def _state_arrays(self):
        return (0.0, None, None)


class ScheduleFreeAdamW(_ScheduleFree):
    r"""Schedule-free AdamW (``schedulefree.AdamWScheduleFree``).

    The reference ``schedulefree`` package's equations and order of
    operations (Defazio et al. 2024, "The Road Less Scheduled"). The
    parameters hold :math:`y`, where gradients are taken; the state holds
    :math:`z` (``state_1``, set to :math:`y` at the first update) and :math:`v` (``state_2``).
    Update :math:`t = k + 1` at rate :math:`\eta`, with :math:`\beta` the
    per-update momentum:

    .. math::

        \eta_t = \eta \min(1, t / T_w), \quad
        \eta_{\max} \leftarrow \max(\eta_{\max}, \eta_t), \quad
        w_t = t^r \eta_{\max}^P, \quad
        S \leftarrow S + w_t, \quad c = w_t / S

    .. math::

        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
        \hat g = g / \big(\sqrt{v / (1 - \beta_2^t)} + \epsilon\big)

    .. math::

        \hat g \leftarrow \hat g + \lambda y, \quad
        y \leftarrow (1 - c) y + c z + \eta_t (\beta (1 - c) - 1) \hat g, \quad
        z \leftarrow z - \eta_t \hat g

    (:math:`\eta_{\max}` and :math:`S` are the scalar state slots after the
    update count; :math:`T_w` is ``warmup_steps``, no warmup when 0.) The
    point to evaluate is the average :math:`x = (y - (1 - \beta) z) / \beta`,
    returned by :meth:`eval_params` (the reference's ``optimizer.eval()``).

    **Estimator.** An estimator fitted with this solver trains :math:`y`
    and shows :math:`x`: ``coefs_``, ``predict``, ``score`` and the
    per-epoch validation scores use :math:`x` (refreshed after every
    epoch), as the reference evaluates after ``optimizer.eval()``;
    ``raw_coefs_`` are :math:`y`, and ``use_averaged_weights=False``
    shows :math:`y` instead. ``loss_curve_`` is the training loss at
    :math:`y`, where gradients are taken. With a layer-wise rate
    (``layer_lr_decay``), :math:`c` comes from the base rates, which is the
    per-layer reference value (the factors cancel).

    Parameters
    ----------
    beta_1 : float, default=0.9
        :math:`\beta`, in (0, 1); a momentum schedule given to the estimator
        overrides it.
    beta_2 : float, default=0.999
        Decay of :math:`v`, in [0, 1).
    epsilon : float, default=1e-8
        Added to the corrected root, > 0.
    weight_decay : float, default=0.0
        :math:`\lambda`, >= 0, added to the normalised gradient at :math:`y`;
        this value wins over the estimator's ``weight_decay``
        (``solver='sfadamw'`` takes the estimator's when it is > 0).
    warmup_steps : float, default=0
        :math:`T_w`, >= 0.
    r : float, default=0.0
        Power of :math:`t` in the averaging weights.
    weight_lr_power : float, default=2.0
        :math:`P`, power of :math:`\eta_{\max}` in the averaging weights.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``
        (the reference's default ``lr`` is 0.0025).
    """

    _rule = "sfadamw"
    _alias = "sfadamw"
    _momentum_name = "beta_1"
    _slots = _ScheduleFree._slots + ("beta_2", "epsilon")
    _parameter_constraints: dict = {
        **_ScheduleFree._parameter_constraints,
        "beta_1": [Interval(Real, 0, 1, closed="neither")],
        "beta_2": _UNIT_INTERVAL,
        "epsilon": _POSITIVE,
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0,
                 warmup_steps=0, r=0.0, weight_lr_power=2.0, learning_rate=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.warmup_steps = warmup_steps
        self.r = r
        self.weight_lr_power = weight_lr_power
        self.learning_rate = learning_rate

    def _fields(self):
        return {**super()._fields(), "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _state_arrays(self):
        return (0.0, 0.0, None)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.): per-parameter rates from accumulated squares.

    .. math::

        s \leftarrow s + g^2

    ``convention='pytorch'`` (``torch.optim.Adagrad``, with ``lr_decay``):

    .. math::

        p \leftarrow p - \frac{\eta}{1 + (t - 1) \delta} \frac{g}{\sqrt{s} + \epsilon}

    ``convention='keras'`` (Keras ``Adagrad``): :math:`p \leftarrow p - \eta g / \sqrt{s + \epsilon}`
    (no rate decay; Keras starts the accumulator at 0.1, PyTorch at 0).

    Parameters
    ----------
    epsilon : float, default=1e-10
        Guards the division, > 0 (PyTorch's default).
    initial_accumulator_value : float, default=0.0
        Starting value of :math:`s`, >= 0.
    lr_decay : float, default=0.0
        :math:`\delta`, PyTorch convention only.
    convention : {'pytorch', 'keras', 'sklearn'}, default='pytorch'
        Where :math:`\epsilon` enters (see above); 'sklearn' means 'keras'.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.
    """

    _rule = "adagrad"
    _alias = "adagrad"
    _slots = ("epsilon", "lr_decay")
    _parameter_constraints: dict = {
        "epsilon": _POSITIVE,
        "initial_accumulator_value": _NON_NEGATIVE,
        "lr_decay": _NON_NEGATIVE,
        "convention": _CONVENTION,
        "learning_rate": _OPTIONAL_RATE,
    }

    def __init__(self, epsilon=1e-10, initial_accumulator_value=0.0, lr_decay=0.0,
                 convention="pytorch", learning_rate=None):
        self.epsilon = epsilon
        self.initial_accumulator_value = initial_accumulator_value
        self.lr_decay = lr_decay
        self.convention = convention
        self.learning_rate = learning_rate

    def _fields(self):
        return {
            "convention": _CONVENTIONS[self.convention],
            "epsilon": self.epsilon,
            "lr_decay": self.lr_decay if self.convention == "pytorch" else 0.0,
        }

    def _state_arrays(self):
        return (float(self.initial_accumulator_value), None, None)


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler): rates from running averages of squared gradients and steps.

    .. math::

        v \leftarrow \rho v + (1 - \rho) g^2, \quad
        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} g, \quad
        u \leftarrow \rho u + (1 - \rho) \Delta^2, \quad
        p \leftarrow p - \eta \Delta

    the same in PyTorch, Keras and H2O's ADADELTA (``adaptive_rate=True``,
    there with ``rho=0.99, epsilon=1e-8``). The paper and H2O use
    :math:`\eta = 1`, so ``learning_rate`` defaults to 1.0 and the
    estimator's ``learning_rate_init`` is not used (schedules still multiply
    it; Keras' default is 0.001).

    Parameters
    ----------
    rho : float, default=0.9
        Decay of both running averages, in [0, 1) (PyTorch's default).
    epsilon : float, default=1e-6
        Inside both roots, > 0 (PyTorch's default).
    learning_rate : float, default=1.0
        :math:`\eta`; None uses the estimator's ``learning_rate_init``.
    """

    _rule = "adadelta"
    _alias = "adadelta"
    _slots = ("rho", "epsilon")
    _parameter_constraints: dict = {
        "rho": _UNIT_INTERVAL,
        "epsilon": _POSITIVE,
        "learning_rate": _OPTIONAL_RATE,
    }

    def __init__(self, rho=0.9, epsilon=1e-6, learning_rate=1.0):
        self.rho = rho
        self.epsilon = epsilon
        self.learning_rate = learning_rate

    def _fields(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def _state_arrays(self):
        return (0.0, 0.0, None)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), optionally centered and with momentum.

    .. math::

        v \leftarrow \rho v + (1 - \rho) g^2, \qquad
        \bar g \leftarrow \rho \bar g + (1 - \rho) g \;(\text{centered}), \qquad
        s = v - \bar g^2 \;(\text{centered}) \text{ or } v

    ``convention='pytorch'`` (``torch.optim.RMSprop``):
    :math:`d = \sqrt{s} + \epsilon`; without momentum
    :math:`p \leftarrow p - \eta g / d`, with it
    :math:`b \leftarrow \mu b + g / d,\; p \leftarrow p - \eta b`.
    ``convention='keras'``: :math:`d = \sqrt{s + \epsilon}` and
    :math:`b \leftarrow \mu b + \eta g / d,\; p \leftarrow p - b` (the two
    momentum forms differ when the rate changes). Keras' defaults are
    ``rho=0.9, epsilon=1e-7``.

    Parameters
    ----------
    rho : float, default=0.99
        Decay of the running averages, in [0, 1) (PyTorch's ``alpha``).
    epsilon : float, default=1e-8
        Guards the division, > 0 (placement per ``convention``).
    momentum : float, default=0.0
        :math:`\mu`, in [0, 1]; a momentum schedule given to the estimator
        overrides it.
    centered : bool, default=False
        Normalise by the variance estimate :math:`v - \bar g^2`.
    convention : {'pytorch', 'keras', 'sklearn'}, default='pytorch'
        Where :math:`\epsilon` enters and how momentum scales (see above);
        'sklearn' means 'keras'.
    learning_rate : float, default=None
        Scale of the rate; None uses the estimator's ``learning_rate_init``.
    """

    _rule = "rmsprop"
    _alias = "rmsprop"
    _slots = ("rho", "epsilon", "centered")
    _parameter_constraints: dict = {
        "rho": _UNIT_INTERVAL,
        "epsilon": _POSITIVE,
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "centered": ["boolean"],
        "convention": _CONVENTION,
        "learning_rate": _OPTIONAL_RATE,
    }

    def __init__(self, rho=0.99, epsilon=1e-8, momentum=0.0, centered=False,
                 convention="pytorch", learning_rate=None):
        self.rho = rho
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        self.convention = convention
        self.learning_rate = learning_rate

    def _fields(self):
        return {
            "convention": _CONVENTIONS[self.convention],
            "rho": self.rho,
            "epsilon": self.epsilon,
            "centered": bool(self.centered),
        }

    def _state_arrays(self):
        return (0.0, 0.0, 0.0 if self.centered else None)

    def _momentum(self):
        return float(self.momentum)


class LBFGS(_Solver):
    """scikit-learn's 'lbfgs' solver as an object (L-BFGS-B through scipy).

    Full-batch quasi-Newton on the loss and gradient computed by sklr's
    kernels; the estimator's ``max_iter``, ``max_fun`` and ``tol`` control
    it. It is not an :class:`Optimizer`: it has no per-update rule, state or
    learning rate, so learning-rate and momentum parameters do not apply
    (the estimator warns when a schedule is given with it).
    """

    _alias = "lbfgs"
    _parameter_constraints: dict = {}

    def __init__(self):
        pass
