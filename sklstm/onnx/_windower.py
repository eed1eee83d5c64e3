"""ONNX shape calculator and converter of :class:`SequenceWindower`.

The graph computes what ``SequenceWindower.transform`` computes, for any
number of rows, 0 included. With ``padding="edge"``::

    index   = Range(n_rows)[:, None] + arange(window) - (window - 1)
    index   = max(index, 0)                            # the first row repeated
    windows = Gather(X, index, axis=0)                  # (n_rows, window, F)

and with ``padding="zero"``::

    padded  = Pad(X, window - 1 zero rows before)       # (n_rows + window - 1, F)
    index   = Range(n_rows)[:, None] + arange(window)   # (n_rows, window)
    windows = Gather(padded, index, axis=0)

then, with ``flatten=True``, ``lags = Reshape(windows, (-1, window * F))``.
Window ``t`` is input rows ``t - window + 1 … t``, oldest first, and the
reshape keeps ``transform``'s flattened order (lag-major, features within a
lag). ``max(index, 0)`` is computed as ``index * (index > 0)`` (``Max`` on
integers needs opset 12); ``Pad``'s own ``"edge"`` mode would do the same but
fails on 0 rows. ``transform`` refuses NaN and infinite values; the graph
makes every window that holds one all NaN (:func:`nan_where`), which the
LSTM's graph refuses (NaN predictions). With ``lead > 0``,
:mod:`._look_ahead` drops the future rows and adds the look-ahead steps.
"""

import numpy as np
from onnx import TensorProto
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import check_parameters
from ._graph import (
    GraphBuilder,
    check_n_features,
    float_tensor,
    float_type,
    numeric_input_type,
)
from ._look_ahead import (
    convert_look_ahead,
    look_ahead_shape,
    nan_where,
    not_finite,
    observed_rows,
)

#: ONNX ``Pad`` mode of each ``SequenceWindower(padding=...)`` option.
PAD_MODES = {"edge": "edge", "zero": "constant"}


def _checked_windower(operator):
    """The fitted windower of ``operator``, its parameters valid for export."""
    windower = operator.raw_operator
    check_is_fitted(windower)
    # Parameters set after fit are checked as fit would check them.
    check_parameters(windower)
    if windower.padding not in PAD_MODES:
        raise ValueError(
            f"SequenceWindower(padding={windower.padding!r}) has no ONNX "
            f"export; the exported options are {sorted(PAD_MODES)}."
        )
    return windower


def calculate_windower_output_shapes(operator):
    """Set the type and shape of the windows (skl2onnx shape calculator).

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`SequenceWindower` as ``raw_operator``.
    """
    windower = _checked_windower(operator)
    input_type = numeric_input_type(operator)
    if len(input_type.shape) != 2:
        raise ValueError(
            "SequenceWindower reads rows, of shape (n_rows, n_features), but its "
            f"ONNX input has shape {list(input_type.shape)}. Pass a 2-D sample."
        )
    n_rows, n_features = input_type.shape
    check_n_features(operator, n_features, windower.n_features_in_)
    window, n_features = windower.window, windower.n_features_in_
    shape = [n_rows, window, n_features]
    if windower.flatten:
        shape = [n_rows, window * n_features]
    if windower.lead:
        shape = look_ahead_shape(windower)
    # Windowing copies values: double stays double, all else becomes float32.
    operator.outputs[0].type = float_type(input_type, keep_double=True)(shape)


def convert_windower(scope, operator, container):
    """Add the windowing nodes to the graph (skl2onnx converter).

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`SequenceWindower` as ``raw_operator``.
    container : skl2onnx.common._container.ModelComponentContainer
    """
    windower = _checked_windower(operator)
    window, n_features = windower.window, windower.n_features_in_
    graph = GraphBuilder(scope, container, operator)
    rows = float_tensor(graph, operator.inputs[0], keep_double=True)
    zero, one = graph.constant(np.int64(0), "zero"), graph.constant(np.int64(1), "one")
    shape = graph.node("Shape", [rows], "shape")
    n_rows = graph.node("Gather", [shape, zero], "n_rows", axis=0)
    # With lead > 0 the trailing future rows give no window.
    n_windows = (
        observed_rows(graph, windower, rows, n_rows) if windower.lead else n_rows
    )
    starts = graph.node("Range", [zero, n_windows, one], "starts")
    starts = graph.node(
        "Reshape",
        [starts, graph.constant(np.array([-1, 1], dtype=np.int64), "column")],
        "starts_column",
    )
    if windower.padding == "edge":
        # Rows t - window + 1 ... t of the input, the indices below 0 raised
        # to 0 (the first row): max(i, 0) = i * (i > 0). Unlike Pad's "edge"
        # mode, this works on 0 rows too.
        steps = np.arange(window, dtype=np.int64)[None, :] - (window - 1)
        index = graph.node("Add", [starts, graph.constant(steps, "steps")], "lags")
        source = rows
        if window > 1:
            positive = graph.node("Greater", [index, zero], "positive")
            positive = graph.cast(positive, TensorProto.INT64)
            index = graph.node("Mul", [index, positive], "window_index")
    else:
        pads = np.array([window - 1, 0, 0, 0], dtype=np.int64)
        source = graph.node(
            "Pad",
            [rows, graph.constant(pads, "pads")],
            "padded",
            mode=PAD_MODES[windower.padding],
        )
        steps = np.arange(window, dtype=np.int64)[None, :]
        index = graph.node(
            "Add", [starts, graph.constant(steps, "steps")], "window_index"
        )
    output = operator.outputs[0].full_name
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    dtype = np.float64 if double else np.float32
    windows = graph.node("Gather", [source, index], "windows", axis=0)
    non_finite = non_finite_per_window(graph, source, index)
    if windower.lead:
        convert_look_ahead(
            graph, windower, rows, n_rows, n_windows, starts,
            windows, non_finite, dtype, output,
        )  # fmt: skip
        return
    if not windower.flatten:
        nan_where(graph, non_finite, windows, dtype, output=output)
        return
    windows = nan_where(graph, non_finite, windows, dtype)
    flat_shape = np.array([-1, window * n_features], dtype=np.int64)
    graph.node(
        "Reshape", [windows, graph.constant(flat_shape, "lags")], "lags", output=output
    )


def non_finite_per_window(graph, source, index):
    """How many NaN or infinite values each window holds: ``(n_windows, 1, 1)``.

    ``transform`` refuses such rows; the graph cannot raise, and a NaN row
    copied as it is would end some windows in a whole NaN step, which the
    LSTM's graph reads as padding (:mod:`sklstm.onnx._padded`): a number
    where ``predict`` raises. :func:`nan_where` makes those windows all NaN,
    which the LSTM's graph refuses (NaN predictions), and which gives NaN
    through any linear step.
    """
    per_row = graph.reduce_sum(
        graph.cast(not_finite(graph, source), TensorProto.FLOAT),
        1,
        "non_finite_per_row",
    )  # (rows, 1)
    return graph.reduce_sum(
        graph.node("Gather", [per_row, index], "non_finite_per_step", axis=0),
        1,
        "non_finite_per_window",
    )  # (n_windows, 1, 1)
