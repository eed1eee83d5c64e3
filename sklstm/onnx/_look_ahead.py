"""ONNX graph of :class:`SequenceWindower`'s look-ahead (``lead > 0``).

What ``SequenceWindower.transform`` adds with known-ahead columns, as graph
nodes (:mod:`sklstm._known_ahead` computes the same in NumPy):

- the observed rows: the last row with a past-only value that is not NaN,
  found as ``max((row + 1) * observed)``; the future rows after it give no
  window (:func:`observed_rows`);
- the look-ahead of row ``t``: the known-ahead columns of rows ``t + 1 … t +
  lead``, gathered with indices clipped to the last row (``padding="edge"``)
  or read from zero rows padded after the table (``"zero"``);
- 3-D: the past steps get a 0 flag column, the future steps are the
  known-ahead values put in their columns, 0 elsewhere, flag 1; flattened:
  the lags, then the leads.

Where ``transform`` raises (a non-finite value that a window reads, or
fewer future rows than ``lead``), the graph gives all-NaN windows instead.
"""

import numpy as np
from onnx import TensorProto


def look_ahead_shape(windower):
    """Output shape of a windower with ``lead > 0``; rows unknown ahead."""
    window, lead = windower.window, windower.lead
    n_features, n_known = windower.n_features_in_, len(windower.known_ahead_)
    if windower.flatten:
        return [None, window * n_features + lead * n_known]
    return [None, window + lead, n_features + 1]


def observed_rows(graph, windower, rows, n_rows):
    """Name of the number of observed rows (int64 scalar) of ``rows``."""
    past_only = np.setdiff1d(np.arange(windower.n_features_in_), windower.known_ahead_)
    if not len(past_only):
        return n_rows
    values = graph.node(
        "Gather", [rows, graph.constant(past_only, "past_only")], "past", axis=1
    )
    n_nan = graph.reduce_sum(
        graph.cast(graph.node("IsNaN", [values], "past_nan"), TensorProto.DOUBLE),
        1,
        "past_nan_per_row",
    )  # (n_rows, 1)
    observed = graph.node(
        "Less",
        [n_nan, graph.constant(np.array([len(past_only)], np.float64), "n_past")],
        "observed",
    )
    one = graph.constant(np.int64(1), "one")
    ordinal = graph.node(
        "Range", [one, graph.node("Add", [n_rows, one], "n_plus_one"), one], "ordinal"
    )
    ordinal = graph.cast(ordinal, TensorProto.DOUBLE)
    marked = graph.node(
        "Mul",
        [
            graph.cast(observed, TensorProto.DOUBLE),
            graph.node(
                "Reshape",
                [ordinal, graph.constant(np.array([-1, 1], np.int64), "column")],
                "ordinal_column",
            ),
        ],
        "marked",
    )
    marked = graph.node(
        "Concat",
        [
            graph.node(
                "Reshape", [marked, graph.constant(np.array([-1], np.int64), "flat")],
                "marked_flat",
            ),
            graph.constant(np.zeros(1, np.float64), "none_observed"),
        ],
        "marked_or_none",
        axis=0,
    )  # fmt: skip
    last = graph.node("ReduceMax", [marked], "n_observed", keepdims=0)
    return graph.cast(last, TensorProto.INT64)


def convert_look_ahead(graph, windower, rows, n_rows, n_windows, starts, windows,
                       non_finite, dtype, output):  # fmt: skip
    """Add the look-ahead to the past ``windows``, writing ``output``.

    Parameters
    ----------
    graph : GraphBuilder
    windower : SequenceWindower
    rows, n_rows, n_windows, starts : str
        The input rows, their count, the observed rows' count, and the
        column ``0 … n_windows - 1``.
    windows : str
        The past windows, ``(n_windows, window, n_features)``.
    non_finite : str
        Non-finite values in each past window, ``(n_windows, 1, 1)``.
    dtype : numpy dtype
        Of the output: float32, or float64 for a double input.
    output : str
    """
    known, lead = windower.known_ahead_, windower.lead
    window, n_features, n_known = windower.window, windower.n_features_in_, len(known)
    values = graph.node(
        "Gather", [rows, graph.constant(known, "known")], "known_values", axis=1
    )
    steps = np.arange(1, lead + 1, dtype=np.int64)[None, :]
    index = graph.node("Add", [starts, graph.constant(steps, "leads")], "ahead")
    if windower.padding == "edge":
        # min(i, n_rows - 1) = i + (i > last) * (last - i): Min on int64
        # needs opset 12.
        last = graph.node("Sub", [n_rows, graph.constant(np.int64(1), "1")], "last")
        over = graph.cast(graph.node("Greater", [index, last], "past_end"),
                          TensorProto.INT64)  # fmt: skip
        back = graph.node("Mul", [over, graph.node("Sub", [last, index], "to_last")],
                          "back")  # fmt: skip
        index = graph.node("Add", [index, back], "ahead_index")
    else:
        pads = np.array([0, 0, lead, 0], dtype=np.int64)
        values = graph.node("Pad", [values, graph.constant(pads, "ahead_pads")],
                            "known_padded", mode="constant")  # fmt: skip
    ahead = graph.node("Gather", [values, index], "look_ahead", axis=0)
    bad = graph.cast(not_finite(graph, ahead), TensorProto.FLOAT)
    bad = graph.reduce_sum(graph.reduce_sum(bad, 2, "bad_per_step"), 1, "bad_ahead")
    counts = graph.node("Add", [non_finite, bad], "bad_values")
    n_future = graph.node("Sub", [n_rows, n_windows], "n_future")
    too_few = graph.node(
        "And",
        [
            graph.node("Greater", [n_future, graph.constant(np.int64(0), "0")], "some"),
            graph.node("Less", [n_future, graph.constant(np.int64(lead), "lead")],
                       "fewer_than_lead"),
        ],
        "too_few_future_rows",
    )  # fmt: skip
    counts = graph.node("Add", [counts, graph.cast(too_few, TensorProto.FLOAT)],
                        "spoiling")  # fmt: skip
    if windower.flatten:
        past = nan_where(graph, counts, windows, dtype)
        ahead = nan_where(graph, counts, ahead, dtype)
        lags = np.array([-1, window * n_features], dtype=np.int64)
        leads = np.array([-1, lead * n_known], dtype=np.int64)
        graph.node(
            "Concat",
            [
                graph.node("Reshape", [past, graph.constant(lags, "lags")], "lags"),
                graph.node("Reshape", [ahead, graph.constant(leads, "leads")], "leads"),
            ],
            "features",
            axis=1,
            output=output,
        )
        return
    one_column = graph.constant(np.array([0, 0, 0, 0, 0, 1], np.int64), "one_column")
    past = graph.node("Pad", [windows, one_column], "past_steps", mode="constant")
    # Column n_known of the padded look-ahead is 0: every past-only column
    # and the flag read it; the flag then gets its 1 added.
    ahead = graph.node("Pad", [ahead, one_column], "ahead_zero", mode="constant")
    position = {int(column): place for place, column in enumerate(known)}
    columns = [position.get(column, n_known) for column in range(n_features)]
    columns = np.array([*columns, n_known], dtype=np.int64)
    future = graph.node("Gather", [ahead, graph.constant(columns, "columns")],
                        "future_steps", axis=2)  # fmt: skip
    flag = np.zeros(n_features + 1, dtype=dtype)
    flag[-1] = 1
    future = graph.node("Add", [future, graph.constant(flag, "flag")], "flagged")
    sequence = graph.node("Concat", [past, future], "sequence", axis=1)
    nan_where(graph, counts, sequence, dtype, output=output)


def not_finite(graph, values):
    """Name of a boolean tensor: where ``values`` is NaN or infinite."""
    return graph.node(
        "Or",
        [
            graph.node("IsNaN", [values], "nan"),
            graph.node("IsInf", [values], "infinite"),
        ],
        "not_finite",
    )


def nan_where(graph, counts, windows, dtype, *, output=None):
    """``windows``, those whose ``counts`` (of bad values) is above 0 all NaN."""
    spoilt = graph.node(
        "Greater",
        [counts, graph.constant(np.zeros(1, dtype=np.float32), "none")],
        "spoilt",
    )
    nan = graph.constant(np.array([np.nan], dtype=dtype), "nan")
    return graph.node("Where", [spoilt, nan, windows], "finite_windows", output=output)
