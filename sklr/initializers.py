r"""Initial weights and biases: the estimators' ``init`` parameter.

An estimator draws its weights once, from ``random_state``, at the first
``fit`` (or the first ``partial_fit``, or a ``fit`` without ``warm_start``);
``warm_start`` and ``partial_fit`` continue from the current weights and never
draw again. ``init`` says how they are drawn: a string naming a framework's
default or a scheme, or one of the objects below, whose parameters are then
searchable as ``init__<name>``.

For a layer with ``fan_in`` inputs and ``fan_out`` units, the strings mean:

- ``'sklearn'`` (the default): scikit-learn's draw, the same numbers in the
  same order: weights and biases from :math:`U(-r, r)`,
  :math:`r = \sqrt{6 / (\text{fan-in} + \text{fan-out})}`
  (:math:`\sqrt{2 / \ldots}` for ``activation='logistic'``);
- ``'keras'``: Keras' ``Dense`` default, ``glorot_uniform`` weights and zero
  biases;
- ``'pytorch'``: ``torch.nn.Linear``'s default, weights and biases from
  :math:`U(\pm 1/\sqrt{\text{fan-in}})`;
- ``'h2o'``: H2O's default ``initial_weight_distribution='UniformAdaptive'``
  and its bias constants (:class:`H2O`);
- ``'glorot_uniform'``, ``'glorot_normal'``, ``'he_uniform'``,
  ``'he_normal'``, ``'lecun_uniform'``, ``'lecun_normal'``: Keras'
  initializer of that name for the weights, zero biases (as
  ``Dense(kernel_initializer=name)``).

:func:`get_initializer` turns a string into the object it stands for, e.g. to
change its ``bias``. The Keras names are Keras' ``VarianceScaling`` cases, so
their normal laws are *truncated* at two standard deviations; PyTorch's
``xavier_normal_`` and ``kaiming_normal_`` are untruncated: write them as
``VarianceScaling(..., distribution='untruncated_normal')``.
"""

import math
from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from sklr._compat import Interval, StrOptions
from sklr._param_object import ParamObject

__all__ = ["H2O", "Initializer", "VarianceScaling", "get_initializer"]

# Standard deviation of a standard normal truncated to (-2, 2): Keras divides
# the target standard deviation by it so the truncated draws have that one.
_TRUNCATED_STD = 0.87962566103423978


def _truncated_standard_normal(rs, shape):
    """Standard normal draws truncated to (-2, 2), redrawing those outside."""
    z = rs.standard_normal(shape)
    outside = np.abs(z) >= 2.0
    while outside.any():
        z[outside] = rs.standard_normal(int(outside.sum()))
        outside = np.abs(z) >= 2.0
    return z


class Initializer(ParamObject):
    """Base class of the initializers (configuration only).

    A subclass draws one network's weights and biases in
    :meth:`_draw`; :meth:`draw` is the public entry point (validation, then
    the draw).
    """

    def draw(self, layer_units, random_state=None, *, activation="relu", classifier=False):
        """Initial weights and biases of a network, as the estimator draws them.

        Parameters
        ----------
        layer_units : sequence of int
            Units per layer, input first: ``[n_features, *hidden_layer_sizes,
            n_outputs]``.
        random_state : int, RandomState instance or None, default=None
            The source of the draws; the estimator passes
            ``check_random_state(random_state)``.
        activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
            The hidden layers' activation (read by :class:`H2O` only).
        classifier : bool, default=False
            Whether the network is a classifier's (read by :class:`H2O`
            only).

        Returns
        -------
        coefs : list of ndarray of shape (fan_in, fan_out)
            One float64 weight matrix per layer, as ``coefs_``.
        intercepts : list of ndarray of shape (fan_out,)
            One float64 bias vector per layer, as ``intercepts_``.
        """
        self._validate_params()
        units = [int(u) for u in layer_units]
        if len(units) < 2 or min(units) < 1:
            raise ValueError(
                f"layer_units must hold at least two positive sizes, got {list(layer_units)}."
            )
        return self._draw(check_random_state(random_state), units, activation, classifier)

    def _draw(self, rs, units, activation, classifier):
        raise NotImplementedError


class VarianceScaling(Initializer):
    r"""Weights scaled to a layer's fan, as Keras' ``VarianceScaling``.

    For a layer with ``fan_in`` inputs and ``fan_out`` units let
    :math:`s = \text{scale} / n`, with :math:`n` = ``fan_in``, ``fan_out``
    or :math:`(\text{fan-in} + \text{fan-out}) / 2` (``mode``). The weights
    are drawn

    - ``'uniform'``: from :math:`U(-\sqrt{3 s}, \sqrt{3 s})`;
    - ``'untruncated_normal'``: from :math:`N(0, s)`;
    - ``'truncated_normal'``: from a normal truncated to two of its standard
      deviations, of standard deviation :math:`\sqrt{s} / 0.8796\ldots`, so
      that the truncated draws have variance :math:`s` (Keras; draws outside
      are redrawn).

    Every case has variance :math:`s`. The named schemes are: Glorot
    (Xavier) ``scale=1, mode='fan_avg'``; He (Kaiming) ``scale=2,
    mode='fan_in'``; LeCun ``scale=1, mode='fan_in'``; PyTorch's
    ``nn.Linear`` default ``scale=1/3, mode='fan_in', distribution='uniform'``
    (``kaiming_uniform_`` with ``a=sqrt(5)``, i.e. :math:`U(\pm
    1/\sqrt{\text{fan-in}})`); scikit-learn's ``scale=1`` (1/3 for
    ``activation='logistic'``), ``mode='fan_avg'``, ``distribution='uniform'``,
    ``bias='like_weights'``.

    Parameters
    ----------
    scale : float, default=1.0
        Variance times the fan, > 0.
    mode : {'fan_in', 'fan_out', 'fan_avg'}, default='fan_in'
        Which fan divides ``scale``.
    distribution : {'truncated_normal', 'untruncated_normal', 'uniform'}
        The law of the weights (Keras' names and default,
        'truncated_normal').
    bias : {'zeros', 'like_weights', 'fan_in_uniform'} or float, default='zeros'
        The biases: zeros (Keras' ``Dense``); drawn from the layer's weight
        law (scikit-learn); from :math:`U(\pm 1/\sqrt{\text{fan-in}})`
        whatever the weights (PyTorch ``nn.Linear``'s bias, kept when only
        the weight is re-initialised); or this constant.

    Notes
    -----
    Layer after layer, the weight matrix is drawn first, then the biases
    (scikit-learn's order; nothing is drawn for constant biases), from the
    estimator's ``random_state`` in float64 and cast to the data's dtype.
    Keras or PyTorch draw from their own generators: the same laws, not the
    same numbers.

    Examples
    --------
    >>> from sklr.initializers import VarianceScaling
    >>> he = VarianceScaling(scale=2.0, mode="fan_in", distribution="untruncated_normal")
    >>> coefs, intercepts = he.draw([400, 300, 1], random_state=0)
    >>> round(float(coefs[0].std() * 400 ** 0.5), 1), float(abs(intercepts[0]).max())
    (1.4, 0.0)
    """

    _parameter_constraints: dict = {
        "scale": [Interval(Real, 0, None, closed="neither")],
        "mode": [StrOptions({"fan_in", "fan_out", "fan_avg"})],
        "distribution": [StrOptions({"truncated_normal", "untruncated_normal", "uniform"})],
        "bias": [StrOptions({"zeros", "like_weights", "fan_in_uniform"}), Real],
    }

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", bias="zeros"):
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.bias = bias

    def _sample(self, rs, fan_in, fan_out, shape):
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        # 3 * scale / n, in that order: for scikit-learn's scales the bound is
        # then bit-for-bit its sqrt(factor / (fan_in + fan_out)).
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * self.scale / n)
            return rs.uniform(-limit, limit, shape)
        std = math.sqrt(self.scale / n)
        if self.distribution == "untruncated_normal":
            return std * rs.standard_normal(shape)
        return (std / _TRUNCATED_STD) * _truncated_standard_normal(rs, shape)

    def _draw(self, rs, units, activation, classifier):
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            coefs.append(self._sample(rs, fan_in, fan_out, (fan_in, fan_out)))
            if self.bias == "like_weights":
                intercepts.append(self._sample(rs, fan_in, fan_out, fan_out))
            elif self.bias == "fan_in_uniform":
                bound = 1.0 / math.sqrt(fan_in)
                intercepts.append(rs.uniform(-bound, bound, fan_out))
            else:
                value = 0.0 if self.bias == "zeros" else float(self.bias)
                intercepts.append(np.full(fan_out, value))
        return coefs, intercepts


class H2O(Initializer):
    r"""H2O Deep Learning's ``initial_weight_distribution`` and bias constants.

    For a layer with ``fan_in`` inputs and ``fan_out`` units the weights are

    - ``'UniformAdaptive'`` (H2O's default): :math:`U(-r, r)`,
      :math:`r = \sqrt{6 / (\text{fan-in} + \text{fan-out})}`, and
      :math:`U(-4r, 4r)` in a classifier's output layer;
    - ``'Uniform'``: :math:`U(-\text{scale}, \text{scale})`;
    - ``'Normal'``: :math:`N(0, \text{scale}^2)` (untruncated).

    The biases are H2O's constants: 0.5 in the first hidden layer and 1 in
    later ones for ``activation='relu'`` (H2O's ``Rectifier``), 0 for
    ``'tanh'`` and in the output layer. H2O has no ``'identity'`` or
    ``'logistic'`` hidden layers; for those the biases are 0, as H2O leaves
    any other activation's.

    Parameters
    ----------
    distribution : {'UniformAdaptive', 'Uniform', 'Normal'}, default='UniformAdaptive'
        H2O's ``initial_weight_distribution``.
    scale : float, default=1.0
        H2O's ``initial_weight_scale`` (not read by 'UniformAdaptive').

    Notes
    -----
    H2O draws from one Java generator per layer in float32: the same laws,
    not the same numbers. H2O's binary classifier has two softmax outputs,
    sklr's one logistic unit; either output layer gets the factor 4.

    Examples
    --------
    >>> from sklr.initializers import H2O
    >>> coefs, intercepts = H2O().draw([4, 10, 10, 3], random_state=0, classifier=True)
    >>> [float(b[0]) for b in intercepts]
    [0.5, 1.0, 0.0]
    """

    _parameter_constraints: dict = {
        "distribution": [StrOptions({"UniformAdaptive", "Uniform", "Normal"})],
        "scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, distribution="UniformAdaptive", scale=1.0):
        self.distribution = distribution
        self.scale = scale

    def _draw(self, rs, units, activation, classifier):
        coefs, intercepts = [], []
        n_layers = len(units) - 1
        for k, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
            if self.distribution == "UniformAdaptive":
                r = math.sqrt(6.0 / (fan_in + fan_out))
                w = rs.uniform(-r, r, (fan_in, fan_out))
                if classifier and k == n_layers - 1:
                    w *= 4.0
            elif self.distribution == "Uniform":
                w = rs.uniform(-self.scale, self.scale, (fan_in, fan_out))
            else:
                w = self.scale * rs.standard_normal((fan_in, fan_out))
            coefs.append(w)
            value = 0.0
            if activation == "relu" and k < n_layers - 1:
                value = 0.5 if k == 0 else 1.0
            intercepts.append(np.full(fan_out, value))
        return coefs, intercepts


def _keras(scale, mode, distribution):
    return lambda activation: VarianceScaling(scale, mode, distribution, bias="zeros")


# The strings of ``init``: a function of the hidden activation (scikit-learn's
# bound depends on it) giving the object the string stands for.
_NAMED = {
    "sklearn": lambda activation: VarianceScaling(
        1.0 / 3.0 if activation == "logistic" else 1.0, "fan_avg", "uniform",
        bias="like_weights",
    ),
    "keras": _keras(1.0, "fan_avg", "uniform"),
    "pytorch": lambda activation: VarianceScaling(
        1.0 / 3.0, "fan_in", "uniform", bias="fan_in_uniform"
    ),
    "h2o": lambda activation: H2O(),
    "glorot_uniform": _keras(1.0, "fan_avg", "uniform"),
    "glorot_normal": _keras(1.0, "fan_avg", "truncated_normal"),
    "he_uniform": _keras(2.0, "fan_in", "uniform"),
    "he_normal": _keras(2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _keras(1.0, "fan_in", "uniform"),
    "lecun_normal": _keras(1.0, "fan_in", "truncated_normal"),
}

_INIT_NAMES = frozenset(_NAMED)


def get_initializer(init, activation="relu"):
    """The initializer object an estimator's ``init`` stands for.

    Parameters
    ----------
    init : str or Initializer
        One of the strings the estimators accept (see :mod:`sklr.initializers`)
        or an initializer object, returned as is.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        The hidden activation ('sklearn' depends on it).

    Returns
    -------
    initializer : Initializer
        A new object for a string; ``init`` itself otherwise.

    Examples
    --------
    >>> from sklr.initializers import get_initializer
    >>> get_initializer("he_normal")
    VarianceScaling(scale=2.0)
    >>> get_initializer("pytorch")
    VarianceScaling(scale=0.333..., distribution='uniform', bias='fan_in_uniform')
    """
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str) and init in _NAMED:
        return _NAMED[init](activation)
    raise ValueError(
        f"init={init!r} is not an initializer: pass one of {sorted(_NAMED)} or an "
        "object from sklr.initializers (VarianceScaling, H2O)."
    )
