"""Building blocks of the ONNX converters: nodes, constants and input types.

skl2onnx hands each converter a ``scope`` (which makes names unique) and a
``container`` (which collects nodes and initializers). :class:`GraphBuilder`
wraps the pair so that a converter reads as the list of operations it adds.
Only ``sklstm.onnx`` and its private helpers import this module: it needs
skl2onnx and onnx.
"""

import numpy as np
from onnx import TensorProto, numpy_helper
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int32TensorType,
    Int64TensorType,
)

from .._skl2onnx_compat import empty_output_name_taken

#: Range, and Pad with its pads as an input, appeared in ONNX opset 11.
MIN_OPSET = 11
#: The opset from which ``ReduceSum`` reads its axes from an input.
REDUCE_AXES_INPUT_OPSET = 13
NUMERIC_TYPES = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType)


class GraphBuilder:
    """Add nodes and constants for one operator of a skl2onnx conversion.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Makes variable and node names unique.
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and initializers.
    operator : skl2onnx.common._topology.Operator
        The operator being converted; its name prefixes every new name.
    """

    def __init__(self, scope, container, operator):
        self.scope = scope
        self.container = container
        self.prefix = operator.full_name
        opset = container.target_opset
        if opset is not None and opset < MIN_OPSET:
            raise ValueError(
                f"Exporting {type(operator.raw_operator).__name__} needs ONNX "
                f"opset {MIN_OPSET} or later, but target_opset={opset}. Pass "
                f"target_opset={MIN_OPSET} or later (or leave it unset)."
            )

    def constant(self, array, hint):
        """Add ``array`` as an initializer; return its name.

        Parameters
        ----------
        array : ndarray
            Stored with its own dtype (float32 or int64 here), or as strings
            (a classifier's string labels).
        hint : str
            Readable part of the name.

        Returns
        -------
        name : str
        """
        name = self.scope.get_unique_variable_name(f"{self.prefix}_{hint}")
        array = np.asarray(array)
        if array.dtype.kind in "US":
            # String tensors hold their values as bytes, never as raw data.
            values = [value.encode() for value in array.astype(str).ravel()]
            self.container.add_initializer(
                name, TensorProto.STRING, list(array.shape), values
            )
            return name
        tensor = numpy_helper.from_array(array, name)
        self.container.add_initializer(
            name, tensor.data_type, list(tensor.dims), tensor
        )
        return name

    def node(self, op_type, inputs, hint, *, output=None, **attributes):
        """Add one node with one output; return the output's name.

        Parameters
        ----------
        op_type : str
            ONNX operator, e.g. ``"Gather"``.
        inputs : list of str
            Names of the inputs.
        hint : str
            Readable part of the output's name.
        output : str, default=None
            Name of the output; by default a new name from ``hint``.
        **attributes
            Attributes of the node.

        Returns
        -------
        name : str
        """
        output = self.name(hint) if output is None else output
        self.add(op_type, inputs, [output], **attributes)
        return output

    def add(self, op_type, inputs, outputs, **attributes):
        """Add one node with the given input and output names."""
        self.container.add_node(
            op_type,
            inputs,
            outputs,
            name=self.scope.get_unique_operator_name(f"{self.prefix}_{op_type}"),
            **attributes,
        )

    def name(self, hint):
        """A new variable name, made of ``hint``."""
        return self.scope.get_unique_variable_name(hint)

    def unused_output(self, hint):
        """The name of an output that nothing reads, ideally empty.

        ONNX Runtime skips an optional output whose name is empty (for an
        LSTM's every-step output, ``n_samples x n_timesteps x hidden``
        floats). skl2onnx refuses two node outputs of the same name, the
        empty one included, so a second one gets a name.
        """
        if empty_output_name_taken(self.container):
            return self.name(hint)
        return ""

    def cast(self, name, to):
        """``name`` cast to the ONNX element type ``to``."""
        return self.node("Cast", [name], "cast", to=to)

    def reduce_sum(self, name, axis, hint):
        """The sum of ``name`` along ``axis``, the axis kept (of length 1).

        ``ReduceSum`` takes its axes as an attribute before opset 13 and as
        an input from opset 13 on; this writes the form of the target opset.
        """
        opset = self.container.target_opset
        if opset is not None and opset < REDUCE_AXES_INPUT_OPSET:
            return self.node("ReduceSum", [name], hint, axes=[axis], keepdims=1)
        axes = self.constant(np.array([axis], dtype=np.int64), f"{hint}_axes")
        return self.node("ReduceSum", [name, axes], hint, keepdims=1)


def numeric_input_type(operator):
    """The tensor type of an operator's single numeric input.

    Raises a ValueError naming the estimator when the operator has several
    inputs, or a non-numeric (e.g. string) one.
    """
    estimator = type(operator.raw_operator).__name__
    if len(operator.inputs) != 1:
        raise ValueError(
            f"{estimator} is exported with one input tensor, got "
            f"{len(operator.inputs)} (a DataFrame gives one input per column). "
            "Pass a NumPy array to to_onnx, or put a ColumnTransformer or a "
            "scaler before it in the Pipeline."
        )
    variable = operator.inputs[0]
    if not isinstance(variable.type, NUMERIC_TYPES):
        raise ValueError(
            f"{estimator} is exported for numeric inputs, got "
            f"{type(variable.type).__name__} for input {variable.onnx_name!r}. "
            "Encode non-numeric columns first (e.g. with a ColumnTransformer)."
        )
    return variable.type


def check_n_features(operator, n_features, n_features_in):
    """Raise a ValueError when the input's feature count is not the fitted one."""
    if n_features is not None and n_features != n_features_in:
        raise ValueError(
            f"{type(operator.raw_operator).__name__} was fitted on "
            f"{n_features_in} features, but its ONNX input "
            f"{operator.inputs[0].onnx_name!r} has {n_features}. Pass an input "
            "sample with the columns the model was fitted on."
        )


def float_type(tensor_type, *, keep_double=False):
    """``FloatTensorType``, or ``DoubleTensorType`` for a double input kept double."""
    if keep_double and isinstance(tensor_type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def float_tensor(graph, variable, *, keep_double=False):
    """The name of ``variable`` as float32, cast if it is another type.

    With ``keep_double=True`` a float64 input is kept as it is.
    """
    if isinstance(variable.type, float_type(variable.type, keep_double=keep_double)):
        return variable.full_name
    return graph.cast(variable.full_name, TensorProto.FLOAT)
