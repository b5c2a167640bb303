"""Base class for small, searchable parameter objects that are not estimators.

Schedules and optimizers are configuration passed as estimator parameters.
They follow the scikit-learn parameter protocol (``get_params``,
``set_params``, nested ``name__sub`` keys) so that :func:`sklearn.base.clone`,
:class:`~sklearn.model_selection.GridSearchCV` and :mod:`pickle` handle them
like any other parameter value, and they never hold fit state.
"""

import inspect
import math

import numpy as np

from ._compat import validate_parameter_constraints

__all__ = ["ParamObject"]


def _values_equal(a, b):
    """Compare two parameter values, safely for arrays, NaN and containers.

    Parameters
    ----------
    a, b : object
        Values to compare.

    Returns
    -------
    equal : bool
        Whether the values are equal; NaN equals NaN.
    """
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return bool(np.array_equal(a, b, equal_nan=True))
        except TypeError:  # non-numeric dtype: NaN is meaningless
            return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_values_equal(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _hash_value(value):
    """Hash a parameter value consistently with :func:`_values_equal`.

    Unhashable values (arrays, lists) and NaN contribute a constant, which
    keeps ``a == b`` implying ``hash(a) == hash(b)``.
    """
    if isinstance(value, float) and math.isnan(value):
        return 0
    try:
        return hash(value)
    except TypeError:
        return 0


class ParamObject:
    """Base class for parameter objects following scikit-learn's parameter API.

    Subclasses store every ``__init__`` argument, unchanged, as an attribute
    of the same name, declare the admissible values in the class attribute
    ``_parameter_constraints`` and never store anything else: the object is
    configuration, and all run-time state lives in the estimator using it.

    Notes
    -----
    ``get_params``/``set_params`` behave as in
    :class:`sklearn.base.BaseEstimator`, including nested keys
    (``learning_rate__gamma``), so :func:`sklearn.base.clone` and the
    hyper-parameter searches work on estimators holding these objects.
    Equality compares the type and the parameters; the hash is derived from
    the same data. As with estimators, ``set_params`` mutates the object, so
    do not mutate one that is used as a dictionary key.
    """

    _parameter_constraints: dict = {}

    @classmethod
    def _get_param_names(cls):
        """Return the parameter names of the ``__init__`` signature, in order.

        Returns
        -------
        names : list of str
            Parameter names, excluding ``self`` and ``**kwargs``.
        """
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(
                    f"{cls.__name__} must declare its parameters explicitly in "
                    "the signature of __init__ (no *args)."
                )
            if p.name != "self" and p.kind != p.VAR_KEYWORD:
                names.append(p.name)
        return names

    @classmethod
    def _get_param_defaults(cls):
        """Return the defaults of the ``__init__`` parameters that have one."""
        if cls.__init__ is object.__init__:
            return {}
        return {
            p.name: p.default
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.default is not p.empty
        }

    def get_params(self, deep=True):
        """Get parameters of this object.

        Parameters
        ----------
        deep : bool, default=True
            If True, also return the parameters of contained objects that
            have ``get_params``, under keys ``<name>__<sub_name>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update(
                    (f"{name}__{sub}", v) for sub, v in value.get_params().items()
                )
            out[name] = value
        return out

    def set_params(self, **params):
        """Set the parameters of this object.

        Parameters
        ----------
        **params : dict
            New parameter values. Nested objects are reached with keys of the
            form ``<name>__<sub_name>``.

        Returns
        -------
        self : object
            This object, modified in place.
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested = {}
        for key, value in params.items():
            name, delim, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}. "
                    f"Valid parameters are: {sorted(self._get_param_names())!r}."
                )
            if delim:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def _validate_params(self):
        """Validate the parameters against ``_parameter_constraints``.

        Subclasses adding cross-parameter checks override this method and
        call ``super()._validate_params()`` first.

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            If a parameter has an invalid type or value.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )

    def __repr__(self):
        defaults = self._get_param_defaults()
        shown = [
            f"{name}={value!r}"
            for name, value in self.get_params(deep=False).items()
            if name not in defaults or not _values_equal(value, defaults[name])
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self.get_params(deep=False), other.get_params(deep=False)
        return all(_values_equal(mine[k], theirs[k]) for k in mine)

    def __hash__(self):
        params = self.get_params(deep=False)
        return hash((type(self), tuple((k, _hash_value(v)) for k, v in params.items())))
