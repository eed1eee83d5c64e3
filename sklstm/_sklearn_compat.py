"""Every scikit-learn import that is private or version-dependent.

The rest of the package imports these names from here, so it reads as if
only one scikit-learn (>= 1.6) existed, and a change upstream is mended in
one place.
"""

import sklearn
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    validate_data,
)

__all__ = [
    "Interval",
    "StrOptions",
    "_check_feature_names_in",
    "_check_sample_weight",
    "_fit_context",
    "check_parameters",
    "set_transform_output",
    "transform_output",
    "validate_data",
]


def check_parameters(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``,
    as its ``fit`` does (for parameters set after the fit)."""
    estimator._validate_params()


def set_transform_output(estimator, transform):
    """Store ``transform`` as ``estimator``'s output container where
    ``_SetOutputMixin.set_output`` stores it, for an estimator that does not
    take the mixin's ``set_output`` (offered only with
    ``get_feature_names_out``)."""
    if not hasattr(estimator, "_sklearn_output_config"):
        estimator._sklearn_output_config = {}
    estimator._sklearn_output_config["transform"] = transform


def transform_output(estimator):
    """``estimator``'s output container for ``transform``: its own
    (``set_output``), else the global ``transform_output``."""
    setting = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    return setting or sklearn.get_config()["transform_output"]
