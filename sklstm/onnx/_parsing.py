"""What skl2onnx reads before converting: the graph's inputs, frozen steps.

Only ``sklstm.onnx`` imports this module: it needs skl2onnx.
"""

import numpy as np
import pandas as pd
from skl2onnx.common.data_types import FloatTensorType, StringTensorType

from .._skl2onnx_compat import _parse_sklearn


def float32_initial_types(X_sample):
    """skl2onnx ``initial_types`` for inputs like ``X_sample``, numbers as float32.

    Parameters
    ----------
    X_sample : ndarray or pandas.DataFrame
        A 2-D sample of rows, or a 3-D sample of sequences.

    Returns
    -------
    initial_types : list of (str, TensorType)
        One ``"X"`` input of any number of rows (and, for 3-D samples, of
        time steps) for an array; one ``(n_rows, 1)`` input per column for
        a DataFrame, named after the column: float32 for numeric (and
        boolean) columns, string for the others.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.onnx._parsing import float32_initial_types
    >>> float32_initial_types(np.zeros((2, 24, 3)))
    [('X', FloatTensorType(shape=[None, None, 3]))]
    """
    if isinstance(X_sample, pd.DataFrame):
        return [
            (
                str(column),
                FloatTensorType([None, 1])
                if pd.api.types.is_numeric_dtype(X_sample[column])
                else StringTensorType([None, 1]),
            )
            for column in X_sample.columns
        ]
    X_sample = np.asarray(X_sample)
    if X_sample.ndim not in (2, 3):
        raise ValueError(
            "X_sample must be a 2-D sample of rows (n_rows, n_features) or a "
            f"3-D sample of sequences, got an array of shape {X_sample.shape}."
        )
    if not np.issubdtype(X_sample.dtype, np.number):
        raise ValueError(
            f"X_sample must hold numbers, got dtype {X_sample.dtype}. Pass a "
            "DataFrame to give string columns their own inputs."
        )
    return [("X", FloatTensorType([None] * (X_sample.ndim - 1) + [X_sample.shape[-1]]))]


def parse_frozen_estimator(scope, model, inputs, custom_parsers=None):
    """Parse a ``FrozenEstimator`` as the fitted estimator it wraps (a skl2onnx parser).

    ``FrozenEstimator.predict`` and ``transform`` are those of the wrapped
    estimator, so its graph is too.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
    model : sklearn.frozen.FrozenEstimator
    inputs : list of skl2onnx.common._topology.Variable
    custom_parsers : dict, default=None

    Returns
    -------
    outputs : list of skl2onnx.common._topology.Variable
    """
    return _parse_sklearn(scope, model.estimator, inputs, custom_parsers=custom_parsers)
