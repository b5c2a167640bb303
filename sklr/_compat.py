"""The one module of sklr that imports private scikit-learn helpers.

scikit-learn's private names (``_fit_context``, ``_param_validation``, ...) may
move between releases; importing them here, and only here, means an upstream
change touches one file.
"""

from sklearn.base import _fit_context
from sklearn.metrics._scorer import _BaseScorer
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._validation import _score, _warn_or_raise_about_fit_failures
from sklearn.neural_network._base import ACTIVATIONS, LOSS_FUNCTIONS
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    RealNotInt,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_method_params, _check_sample_weight

try:  # scikit-learn >= 1.6
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
except ImportError:  # pragma: no cover - older scikit-learn

    def _get_additional_lbfgs_options_dict(key, value):
        return {key: value}


__all__ = [
    "ACTIVATIONS",
    "BaseSearchCV",
    "LOSS_FUNCTIONS",
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "RealNotInt",
    "StrOptions",
    "_BaseScorer",
    "_check_method_params",
    "_check_optimize_result",
    "_check_partial_fit_first_call",
    "_check_sample_weight",
    "_fit_context",
    "_get_additional_lbfgs_options_dict",
    "_safe_indexing",
    "_score",
    "_warn_or_raise_about_fit_failures",
    "validate_parameter_constraints",
    "validate_params",
]
