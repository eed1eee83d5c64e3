"""sklstm: a scikit-learn compatible LSTM for time-series forecasting.

The LSTM, its gradients and its optimisers are written from the maths: a
NumPy reference engine, a compiled CPU engine (Cython, OpenMP where the
build finds it) and CuPy on a GPU; the estimators slot into scikit-learn
pipelines and searches.
"""

from ._calendar import CalendarFeatures
from ._classifier import LSTMClassifier
from ._regressor import LSTMRegressor
from ._show_versions import show_versions
from ._supervised import make_supervised
from ._windowing import SequenceWindower

__version__ = "0.1.0.dev0"

__all__ = [
    "CalendarFeatures",
    "LSTMClassifier",
    "LSTMRegressor",
    "SequenceWindower",
    "__version__",
    "make_supervised",
    "show_versions",
]
