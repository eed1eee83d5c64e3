"""NaN-padded sequences in the graph, read as ``predict`` reads them.

``predict`` takes sequences of different lengths as one 3-D array whose
shorter sequences end in NaN steps, every feature NaN
(:func:`sklstm._validation.sequence_lengths`), runs each sequence on its
real steps only and reads the network at its last real step. It refuses
(``ValueError``) a batch holding any other NaN: a step only partly NaN, a
NaN step before a real one, a sequence of NaN only; and infinite values; and
a sequence shorter than ``skip_steps``. A graph cannot raise, so a row that
``predict`` would refuse for these reasons gets NaN predictions, and the
other rows of the batch theirs::

    nan_count = ReduceSum(Cast(IsNaN(X)), axis=2)       # (N, T, 1)
    padding   = nan_count == F                          # whole NaN steps
    n_padding = ReduceSum(padding, axis=1)              # (N, 1)
    at_end    = the padding steps are the last n_padding (_padding_at_end)
    lengths   = T - n_padding                           # real steps
    values    = Where(IsNaN(X), 0, X)
    refused   = not at_end
                or ReduceSum(nan_count, axis=1) != F * n_padding  # NaN in a real step
                or IsNaN(ReduceSum(values * 0))         # an infinite value
                or lengths < max(skip_steps, 1)

``lengths`` goes to each ``LSTM`` operator as ``sequence_lens`` (int32, at
least 1), so that each layer stops at a row's last real step: its ``Y_h`` is
the state there, and its ``Y`` is zero after it. The skip connection reads
the last ``skip_steps`` real steps of each row (:func:`last_real_steps`).
"""

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto


@dataclass(frozen=True)
class PaddedBatch:
    """Names of the graph's reading of a padded batch.

    Attributes
    ----------
    values : str
        The batch, samples first, its NaN replaced by 0 (float32).
    sequence_lens : str
        Real steps of each row, ``(N,)`` int32, at least 1: the LSTM
        operator's ``sequence_lens``.
    lengths : str
        Real steps of each row, ``(N, 1)`` float32 (0 for a row of NaN only).
    refused : str
        ``(N, 1)`` bool: the rows ``predict`` would refuse.
    """

    values: str
    sequence_lens: str
    lengths: str
    refused: str


def read_padding(graph, batch, n_features, min_length):
    """Add the nodes that read the NaN padding of ``batch``.

    Parameters
    ----------
    graph : GraphBuilder
    batch : str
        Float32 sequences, ``(N, T, F)``, samples first.
    n_features : int
        ``F``, the fitted number of features.
    min_length : int
        The fewest real steps ``predict`` accepts: ``max(skip_steps, 1)``.

    Returns
    -------
    PaddedBatch
    """
    missing = graph.node("IsNaN", [batch], "missing")
    nan_count = graph.reduce_sum(
        graph.cast(missing, TensorProto.FLOAT), 2, "nan_count"
    )  # (N, T, 1)
    padding = graph.node(
        "Equal", [nan_count, _float(graph, n_features, "n_features")], "padding"
    )
    n_steps = graph.node(
        "Gather",
        [
            graph.node("Shape", [batch], "batch_shape"),
            graph.constant(np.array(1, dtype=np.int64), "step_axis"),
        ],
        "n_steps",
        axis=0,
    )  # a scalar
    n_padding, at_end = _padding_at_end(graph, padding, n_steps)
    lengths = graph.cast(
        graph.node("Sub", [graph.cast(n_steps, TensorProto.DOUBLE), n_padding], "n"),
        TensorProto.FLOAT,
    )  # (N, 1)
    # The real steps hold no NaN when the row holds F NaN per padding step.
    row_nans = _reshaped(
        graph, graph.reduce_sum(nan_count, 1, "row_nans"), [-1, 1], "row_nans"
    )
    padding_nans = graph.node(
        "Mul",
        [
            graph.cast(n_padding, TensorProto.FLOAT),
            _float(graph, n_features, "n_features"),
        ],
        "padding_nans",
    )
    nan_in_padding = graph.node("Equal", [row_nans, padding_nans], "nan_in_padding")
    values = graph.node(
        "Where", [missing, _float(graph, 0, "nan_filler"), batch], "without_nan"
    )
    # NaN (inf * 0) where a value is infinite, 0 elsewhere: summed, NaN for
    # a row holding one (zeros cannot overflow).
    infinite = graph.node("Mul", [values, _float(graph, 0, "zero")], "inf_as_nan")
    infinite = _reshaped(graph, infinite, [0, -1], "row_inf_as_nan")
    infinite = graph.node(
        "IsNaN", [graph.reduce_sum(infinite, 1, "row_inf")], "infinite"
    )
    well_padded = graph.node(
        "And",
        [
            graph.node("And", [at_end, nan_in_padding], "nan_only_padding"),
            graph.node("Not", [infinite], "finite"),
        ],
        "well_padded",
    )
    short = graph.node(
        "Less", [lengths, _float(graph, min_length, "min_length")], "short"
    )
    refused = graph.node(
        "Or", [graph.node("Not", [well_padded], "not_padded"), short], "refused"
    )
    at_least_one = graph.node(
        "Max",
        [_reshaped(graph, lengths, [-1], "flat_lengths"), _float(graph, 1, "one")],
        "lens",
    )
    return PaddedBatch(
        values=values,
        sequence_lens=graph.cast(at_least_one, TensorProto.INT32),
        lengths=lengths,
        refused=refused,
    )


def _padding_at_end(graph, padding, n_steps):
    """How many padding steps each row has, and whether they end it.

    ``n`` distinct steps of ``0 ... T - 1`` have indices summing to at most
    ``n (2T - 1 - n) / 2``, a sum that only the last ``n`` steps reach. The
    sums are computed in float64, exact for any ``T`` a batch can hold.

    Parameters
    ----------
    graph : GraphBuilder
    padding : str
        ``(N, T, 1)`` bool: the whole NaN steps.
    n_steps : str
        ``T``, an int64 scalar.

    Returns
    -------
    n_padding : str
        ``(N, 1)`` float64.
    at_end : str
        ``(N, 1)`` bool: the padding steps are the last ones.
    """
    padding = _reshaped(
        graph, graph.cast(padding, TensorProto.DOUBLE), [0, -1], "padding_rows"
    )  # (N, T)
    step = graph.node(
        "Range",
        [
            graph.constant(np.array(0, dtype=np.int64), "first_step"),
            n_steps,
            graph.constant(np.array(1, dtype=np.int64), "step_delta"),
        ],
        "step",
    )
    step = _reshaped(graph, graph.cast(step, TensorProto.DOUBLE), [-1, 1], "step")
    n_padding = graph.reduce_sum(padding, 1, "n_padding")  # (N, 1)
    index_sum = graph.node("MatMul", [padding, step], "padding_index_sum")
    # 2 * index_sum == n * (2T - 1 - n)
    two_t_minus_one = graph.node(
        "Sub",
        [
            graph.node(
                "Mul",
                [graph.cast(n_steps, TensorProto.DOUBLE), _double(graph, 2, "two")],
                "two_t",
            ),
            _double(graph, 1, "one"),
        ],
        "two_t_minus_one",
    )
    largest = graph.node(
        "Mul",
        [n_padding, graph.node("Sub", [two_t_minus_one, n_padding], "largest_f")],
        "largest_index_sum",
    )
    twice = graph.node("Mul", [index_sum, _double(graph, 2, "two")], "twice_index_sum")
    return n_padding, graph.node("Equal", [twice, largest], "padding_at_end")


def _double(graph, value, hint):
    return graph.constant(np.array(value, dtype=np.float64), hint)


def _float(graph, value, hint):
    return graph.constant(np.array(value, dtype=np.float32), hint)


def _reshaped(graph, name, shape, hint):
    target = graph.constant(np.array(shape, dtype=np.int64), f"{hint}_shape")
    return graph.node("Reshape", [name, target], hint)


def last_real_steps(graph, padded, n_steps, n_features):
    """The last ``n_steps`` real steps of each row, oldest first.

    Parameters
    ----------
    graph : GraphBuilder
    padded : PaddedBatch
    n_steps : int
        ``skip_steps``.
    n_features : int

    Returns
    -------
    name : str
        ``(N, n_steps, n_features)`` float32: steps ``length - n_steps``
        to ``length - 1`` of each row; for a row shorter than ``n_steps``
        (refused: its output is NaN) the indices below 0 are raised to 0.
    """
    offsets = np.arange(-n_steps, 0, dtype=np.float32)[None]
    index = graph.node(
        "Add", [padded.lengths, graph.constant(offsets, "skip_offsets")], "skip_at"
    )  # (N, n_steps)
    index = graph.node("Max", [index, _float(graph, 0, "first_step")], "skip_index")
    index = _reshaped(
        graph, graph.cast(index, TensorProto.INT64), [-1, n_steps, 1], "skip_rows"
    )
    every_feature = np.array([1, 1, n_features], dtype=np.int64)
    index = graph.node(
        "Expand",
        [index, graph.constant(every_feature, "skip_features")],
        "skip_gather",
    )
    return graph.node("GatherElements", [padded.values, index], "recent_steps", axis=1)
