"""Every scikit-learn import that is private or version-dependent.

The rest of the package imports these names from here, so it reads as if
only one scikit-learn (>= 1.6) existed, and a change upstream is mended in
one place.
"""

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
    "validate_data",
]
