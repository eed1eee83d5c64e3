"""Export fitted sklstm pipelines to ONNX, to run them without Python's sklstm.

Importing this module registers skl2onnx converters for
:class:`~sklstm.SequenceWindower`, :class:`~sklstm.LSTMRegressor` and
:class:`~sklstm.LSTMClassifier` (and a parser that sees through
:class:`~sklearn.frozen.FrozenEstimator`), so that ``skl2onnx.to_onnx``
converts pipelines that hold them; :func:`to_onnx` registers them and
converts in one call, with float32 inputs. It needs the
``[onnx]`` extra: ``pip install "sklstm[onnx]"``. See :doc:`/onnx`.
"""

try:
    import onnx  # noqa: F401  (the converters build onnx protos)
    import skl2onnx
except ImportError as error:
    raise ImportError(
        f"sklstm.onnx needs skl2onnx and onnx, which are not installed ({error}). "
        'Install them with: pip install "sklstm[onnx]"'
    ) from error

from sklearn.frozen import FrozenEstimator

from .._classifier import LSTMClassifier
from .._regressor import LSTMRegressor
from .._windowing import SequenceWindower
from ._classifier import calculate_classifier_output_shapes, convert_classifier
from ._lstm import calculate_lstm_output_shapes, convert_lstm
from ._parsing import float32_initial_types, parse_frozen_estimator
from ._windower import calculate_windower_output_shapes, convert_windower

__all__ = ["register_converters", "to_onnx"]


def register_converters():
    """Register the skl2onnx converters of sklstm's estimators.

    Importing :mod:`sklstm.onnx` calls it already; calling it again is
    harmless. Afterwards ``skl2onnx.to_onnx`` and ``skl2onnx.convert_sklearn``
    convert pipelines holding :class:`~sklstm.SequenceWindower`,
    :class:`~sklstm.LSTMRegressor`, :class:`~sklstm.LSTMClassifier` and
    :class:`~sklearn.frozen.FrozenEstimator` (converted as the estimator it
    wraps).

    Examples
    --------
    >>> import numpy as np
    >>> import skl2onnx
    >>> from sklstm import SequenceWindower
    >>> from sklstm.onnx import register_converters
    >>> register_converters()
    >>> X = np.arange(6, dtype=np.float32).reshape(3, 2)
    >>> onx = skl2onnx.to_onnx(SequenceWindower(window=2).fit(X), X)
    >>> {"Range", "Gather"} <= {node.op_type for node in onx.graph.node}
    True
    """
    skl2onnx.update_registered_converter(
        SequenceWindower,
        "SklstmSequenceWindower",
        calculate_windower_output_shapes,
        convert_windower,
    )
    skl2onnx.update_registered_converter(
        LSTMRegressor, "SklstmLSTMRegressor", calculate_lstm_output_shapes, convert_lstm
    )
    skl2onnx.update_registered_converter(
        LSTMClassifier,
        "SklstmLSTMClassifier",
        calculate_classifier_output_shapes,
        convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    skl2onnx.update_registered_parser(FrozenEstimator, parse_frozen_estimator)


def to_onnx(model, X_sample, **kwargs):
    """Convert a fitted estimator or pipeline to an ONNX model with float32 inputs.

    Registers the converters (:func:`register_converters`), then calls
    ``skl2onnx.to_onnx`` with input types taken from ``X_sample`` and made
    float32: an array gives one input ``"X"``, a DataFrame one input per
    column (string columns stay strings). A 3-D sample (sequences, for a
    bare :class:`~sklstm.LSTMRegressor`) gives an input with any number of
    time steps.

    Parameters
    ----------
    model : estimator or Pipeline
        Fitted, e.g. ``Pipeline([scaler, SequenceWindower, LSTMRegressor])``.
    X_sample : ndarray or pandas.DataFrame
        A few rows of the data the model predicts from; only their types
        and shape matter.
    **kwargs
        Passed to ``skl2onnx.to_onnx`` (``target_opset``, ``name``,
        ``options``...). ``initial_types`` there replaces the types taken
        from ``X_sample``.

    Returns
    -------
    onx : onnx.ModelProto
        Its output ``"variable"`` holds the predictions (or the transformed
        rows), float32, 1-D for a regressor fitted on 1-D ``y``, as
        ``predict`` returns them. A classifier's graph has two outputs, as
        skl2onnx's classifiers have: ``"output_label"`` and
        ``"output_probability"`` (a list of ``{class: probability}``, or
        with ``options={"zipmap": False}`` a float32 matrix in the order of
        ``classes_``; ``options={"nocl": True}`` gives class indices as
        labels). Sequences padded with NaN steps at their end are read as
        ``predict`` reads them; a row that ``predict`` would refuse (NaN
        elsewhere, an infinite value) gets NaN outputs.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If an sklstm estimator in ``model`` is not fitted.
    ValueError
        If the model cannot be exported faithfully (see :doc:`/onnx`).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklstm import LSTMRegressor, SequenceWindower
    >>> from sklstm.onnx import to_onnx
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((50, 2)), rng.standard_normal(50)
    >>> pipe = make_pipeline(StandardScaler(), SequenceWindower(window=4),
    ...                      LSTMRegressor(hidden_layer_sizes=3, max_iter=2,
    ...                                    random_state=0))
    >>> onx = to_onnx(pipe.fit(X, y), X[:1])
    >>> session = onnxruntime.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> (y_onnx,) = session.run(None, {"X": X.astype(np.float32)})
    >>> y_onnx.shape, bool(np.allclose(y_onnx, pipe.predict(X), atol=1e-5))
    ((50,), True)
    """
    register_converters()
    if kwargs.get("initial_types") is None:
        kwargs["initial_types"] = float32_initial_types(X_sample)
    return skl2onnx.to_onnx(model, **kwargs)


register_converters()
