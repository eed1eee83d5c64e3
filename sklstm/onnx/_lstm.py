"""ONNX shape calculator and converter of the LSTM network: all of
:class:`LSTMRegressor`, and the logits of :class:`LSTMClassifier`
(``_classifier`` adds its probabilities and labels).

The graph is the network of ``predict``, in float32::

    batch  = X, plus one row of zeros if X has none  # see _never_empty
    values, lengths, refused = the NaN padding of batch, read as predict
                                                   # reads it (see _padded)
    steps  = Transpose(values, perm=[1, 0, 2])     # time-major (T, N, F)
    for each layer: Y, Y_h = LSTM(steps, W, R, B, sequence_lens=lengths)
                    steps = Y reshaped to (T, N, H)  # Y (T, 1, N, H)
    h = Y_h of the last layer (N, H), NaN in the rows predict refuses
    y = h @ weight + bias
    y += the last k real steps, (N, k * F), @ skip  # with skip_steps = k > 0
    y = y[:N]                                       # without the row of zeros

ONNX Runtime runs the ``LSTM`` operator time-major only (``layout=1`` is
refused), hence the ``Transpose``. ONNX stacks the gate blocks of ``W``,
``R`` and ``B`` as input, output, forget, cell (``iofc``); ``layers_`` holds
them in the fitted network's ``gate_order`` (input, forget, cell candidate,
output: PyTorch's order), so the blocks are permuted. Our one bias goes in ``Wb``, zeros
in ``Rb``. The target unscaling (``target_scale_``, ``target_mean_``) is
folded into the head (a regressor's; a classifier's logits are not scaled).
"""

import numpy as np
from onnx import TensorProto, numpy_helper
from skl2onnx.common.data_types import FloatTensorType
from sklearn.utils.validation import check_is_fitted

from .._fitted_network import fitted_network
from ._graph import (
    GraphBuilder,
    check_n_features,
    float_tensor,
    numeric_input_type,
)
from ._padded import last_real_steps, read_padding

#: The gate blocks in the order ONNX's LSTM stacks them (``iofc``), named as
#: in ``FittedNetwork.gate_order``.
ONNX_GATE_ORDER = ("input", "output", "forget", "candidate")


def onnx_lstm_weights(layer, gate_order):
    """The ``W``, ``R`` and ``B`` inputs of ONNX's ``LSTM`` for one layer.

    Parameters
    ----------
    layer : dict
        One entry of a fitted model's ``layers_``: ``weight_ih`` ``(4H,
        n_inputs)``, ``weight_hh`` ``(4H, H)`` and ``bias`` ``(4H,)``, gate
        blocks in the order ``gate_order``.
    gate_order : tuple of str
        The fitted network's ``gate_order``: the names of ``layer``'s gate
        blocks, in their order.

    Returns
    -------
    W : ndarray of shape (1, 4H, n_inputs)
    R : ndarray of shape (1, 4H, H)
    B : ndarray of shape (1, 8H)
        Float32, gate blocks in ONNX's order input, output, forget, cell;
        ``B`` is the bias followed by ``4H`` zeros (ONNX adds ``Wb`` and
        ``Rb``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.onnx._lstm import onnx_lstm_weights
    >>> gates = np.repeat(np.arange(4.0), 2)  # H = 2: blocks i, f, g, o
    >>> layer = {"weight_ih": gates[:, None], "weight_hh": np.tile(gates, (2, 1)).T,
    ...          "bias": gates}
    >>> W, R, B = onnx_lstm_weights(layer, ("input", "forget", "candidate", "output"))
    >>> W[0, :, 0]  # blocks i, o, f, g
    array([0., 0., 3., 3., 1., 1., 2., 2.], dtype=float32)
    >>> B.shape
    (1, 16)
    """
    hidden = layer["weight_hh"].shape[1]
    n_gates = len(gate_order)
    onnx_order = [gate_order.index(gate) for gate in ONNX_GATE_ORDER]

    def reordered(array):
        array = np.asarray(array, dtype=np.float32)
        blocks = array.reshape(n_gates, hidden, *array.shape[1:])
        return blocks[onnx_order].reshape(array.shape)

    bias = np.concatenate([reordered(layer["bias"]), np.zeros(n_gates * hidden)])
    return (
        reordered(layer["weight_ih"])[None],
        reordered(layer["weight_hh"])[None],
        bias.astype(np.float32)[None],
    )


def folded_head(network):
    """The head with the target unscaling folded in: ``y = h @ weight + bias``.

    Parameters
    ----------
    network : FittedNetwork
        The fitted model's network (``sklstm._fitted_network.fitted_network``).

    Returns
    -------
    weight : ndarray of shape (H,) or (H, n_outputs)
    bias : ndarray of shape () or (n_outputs,)
        Float32, computed in float64; 1-D ``weight`` and a scalar ``bias``
        for a model fitted on 1-D ``y``, so that the output is 1-D as
        ``predict``'s.
    """
    bias = network.in_target_units(np.asarray(network.head_bias, dtype=np.float64))
    if network.one_dimensional:
        bias = bias[0]
    return unscaled_map(network, network.head_weight), bias.astype(np.float32)


def unscaled_map(network, weight):
    """A linear map onto the scaled target, as a float32 map onto ``y``.

    Parameters
    ----------
    network : FittedNetwork
    weight : ndarray of shape (n_outputs, ...)
        ``head_weight_`` or ``skip_weight_``; its trailing axes are
        flattened, in C order.

    Returns
    -------
    matrix : ndarray of shape (n_inputs,) or (n_inputs, n_outputs)
        ``weight`` flattened, transposed and multiplied by a regressor's
        ``target_scale_``: 1-D for a model fitted on 1-D ``y``.
    """
    weight = np.asarray(weight, dtype=np.float64)
    matrix = weight.reshape(len(weight), -1).T
    if network.target_scale is not None:
        matrix = matrix * network.target_scale
    return (matrix[:, 0] if network.one_dimensional else matrix).astype(np.float32)


def checked_model(operator):
    """The fitted sklstm estimator of ``operator``, if the export can hold it."""
    model = operator.raw_operator
    check_is_fitted(model)
    if getattr(model, "n_timesteps", None) not in (None, 1):
        raise NotImplementedError(
            f"{type(model).__name__}(n_timesteps={model.n_timesteps}) reads "
            "flattened windows, which the ONNX export does not reshape yet. "
            "Export a Pipeline that windows the rows (SequenceWindower), or "
            "refit the model on 3-D windows, which gives the same weights."
        )
    return model


def checked_n_samples(operator, model):
    """The (symbolic) number of samples of ``operator``'s input, once its
    shape is checked against the fit."""
    shape = numeric_input_type(operator).shape
    fitted_steps = getattr(model, "n_timesteps_in_", 1)
    if len(shape) not in (2, 3) or (len(shape) == 2 and fitted_steps > 1):
        expected = "(n_samples, n_timesteps, n_features)"
        if fitted_steps == 1:
            expected += " or (n_samples, n_features)"
        raise ValueError(
            f"{type(model).__name__} was fitted on sequences of {fitted_steps} "
            f"time step(s) and reads inputs of shape {expected}, but its ONNX "
            f"input has shape {list(shape)}. Put a SequenceWindower before it "
            "in the Pipeline, or pass a 3-D input sample."
        )
    check_n_features(operator, shape[-1], model.n_features_in_)
    return shape[0]


def calculate_lstm_output_shapes(operator):
    """Set the type and shape of a regressor's predictions (skl2onnx shape
    calculator).

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`LSTMRegressor` as ``raw_operator``.
    """
    model = checked_model(operator)
    n_samples = checked_n_samples(operator, model)
    network = fitted_network(model)
    output_shape = (
        [n_samples] if network.one_dimensional else [n_samples, network.n_outputs]
    )
    operator.outputs[0].type = FloatTensorType(output_shape)


def convert_lstm(scope, operator, container):
    """Add a regressor's LSTM layers and head to the graph (skl2onnx converter).

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`LSTMRegressor` as ``raw_operator``.
    container : skl2onnx.common._container.ModelComponentContainer
    """
    graph = GraphBuilder(scope, container, operator)
    add_network(graph, operator, output=operator.outputs[0].full_name)


def add_network(graph, operator, *, output=None):
    """Add the network of ``operator``'s estimator: its output in target
    units (a classifier's logits), named ``output`` if given.

    Returns
    -------
    name : str
        The name of the network's output.
    """
    model = checked_model(operator)
    network = fitted_network(model)

    def reshaped(name, shape, hint):
        target = graph.constant(np.array(shape, dtype=np.int64), f"{hint}_shape")
        return graph.node("Reshape", [name, target], hint)

    sequences = float_tensor(graph, operator.inputs[0])
    if len(operator.inputs[0].type.shape) == 2:
        sequences = reshaped(sequences, [0, 1, model.n_features_in_], "one_step")
    batch, n_samples = _never_empty(graph, sequences)
    skip_weight = network.skip_weight
    skip_steps = 0 if skip_weight is None else skip_weight.shape[1]
    padded = read_padding(
        graph, batch, model.n_features_in_, min_length=max(skip_steps, 1)
    )
    steps = graph.node("Transpose", [padded.values], "time_major", perm=[1, 0, 2])
    # LSTM's inputs: X, W, R, B, sequence_lens (each layer stops at a row's
    # last real step; Y is zero after it, Y_h is the state there).
    for index, layer in enumerate(network.layers):
        hidden = layer["weight_hh"].shape[1]
        inputs = [
            steps,
            *(
                graph.constant(array, f"layer{index}_{name}")
                for name, array in zip(
                    "WRB", onnx_lstm_weights(layer, network.gate_order), strict=True
                )
            ),
            padded.sequence_lens,
        ]
        if index < len(network.layers) - 1:
            every_step = graph.name(f"layer{index}_hidden")
            graph.add("LSTM", inputs, [every_step], hidden_size=hidden)
            # Y is (n_timesteps, 1 direction, n_samples, hidden): drop the 1.
            steps = reshaped(every_step, [0, -1, hidden], f"layer{index}_output")
        else:
            last_step = graph.name("last_hidden")
            outputs = [graph.unused_output("every_step"), last_step]
            graph.add("LSTM", inputs, outputs, hidden_size=hidden)
    # Y_h is (1 direction, n_samples, hidden); NaN for the rows predict refuses.
    last_hidden = graph.node(
        "Where",
        [
            padded.refused,
            graph.constant(np.array([np.nan], dtype=np.float32), "refused_row"),
            reshaped(last_step, [-1, hidden], "last_hidden_state"),
        ],
        "last_hidden_or_nan",
    )
    weight, bias = folded_head(network)
    product = graph.node(
        "MatMul", [last_hidden, graph.constant(weight, "head")], "head"
    )
    if skip_weight is not None:
        recent = last_real_steps(graph, padded, skip_steps, model.n_features_in_)
        recent = reshaped(recent, [0, skip_weight[0].size], "skip_inputs")
        skip_map = graph.constant(unscaled_map(network, skip_weight), "skip")
        skip = graph.node("MatMul", [recent, skip_map], "skip")
        product = graph.node("Add", [product, skip], "head_and_skip")
    prediction = graph.node(
        "Add", [product, graph.constant(bias, "head_bias")], "prediction_of_batch"
    )
    # Without the row of an empty batch.
    return graph.node(
        "Slice",
        [
            prediction,
            graph.constant(np.array([0], dtype=np.int64), "first_row"),
            n_samples,
        ],
        "prediction",
        output=output,
    )


def _never_empty(graph, sequences):
    """``sequences`` with one row of zeros added when it has none.

    ONNX Runtime's ``LSTM`` aborts the process on a batch of 0 sequences
    (onnxruntime 1.32). The graph gives it one row of zeros then, and drops
    that row's output after the LSTM: 0 rows in, 0 predictions out. Other
    batches pass through unchanged (a ``Concat`` with 0 rows).

    Returns
    -------
    batch : str
        The sequences, at least one row.
    n_samples : str
        The number of input rows, as a 1-D int64 tensor of one element.
    """
    shape = graph.node("Shape", [sequences], "sequences_shape")

    def part(start, stop, hint):
        bounds = [
            graph.constant(np.array([bound], dtype=np.int64), f"{hint}_{end}")
            for bound, end in ((start, "start"), (stop, "stop"))
        ]
        return graph.node("Slice", [shape, *bounds], hint)

    n_samples = part(0, 1, "n_samples")
    empty = graph.node(
        "Equal",
        [n_samples, graph.constant(np.array([0], dtype=np.int64), "no_rows")],
        "empty",
    )
    filler_shape = graph.node(
        "Concat",
        [graph.cast(empty, TensorProto.INT64), part(1, 3, "sequence_shape")],
        "filler_shape",
        axis=0,
    )
    filler = graph.node(
        "ConstantOfShape",
        [filler_shape],
        "filler",
        value=numpy_helper.from_array(np.zeros(1, dtype=np.float32)),
    )
    batch = graph.node("Concat", [sequences, filler], "batch", axis=0)
    return batch, n_samples
