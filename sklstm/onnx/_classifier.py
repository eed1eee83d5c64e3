"""ONNX shape calculator and converter of :class:`LSTMClassifier`.

As skl2onnx exports its classifiers: two outputs, the label and the
probabilities, which skl2onnx's classifier parser follows with a ``ZipMap``
(a list of ``{class: probability}``) unless the option ``zipmap=False``. On
the logits of the regressor's network graph (``_lstm.add_network``)::

    multiclass: probabilities = Softmax(logits)
                label = classes[ArgMax(logits)]
    binary:     p = Sigmoid(logits); probabilities = [1 - p, p]
                label = classes[logits > 0]
"""

import numpy as np
from onnx import TensorProto
from skl2onnx.common.data_types import (
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)

from ._graph import GraphBuilder
from ._lstm import add_network, checked_model, checked_n_samples


def _checked_classifier(operator):
    model = checked_model(operator)
    if model._label_binarizer.y_type_ == "multilabel-indicator":
        raise NotImplementedError(
            "The ONNX export of an LSTMClassifier fitted on a multilabel "
            "indicator y is not written yet; export a model fitted on class "
            "labels, or run predict_proba in Python."
        )
    return model


def _label_type(classes):
    if np.issubdtype(classes.dtype, np.integer) or classes.dtype == bool:
        return Int64TensorType, classes.astype(np.int64)
    if classes.dtype.kind in "US" or classes.dtype == object:
        return StringTensorType, classes.astype(str)
    raise NotImplementedError(
        f"The ONNX export keeps integer or string class labels; this model's "
        f"classes_ are {classes.dtype}. Encode them as integers (LabelEncoder) "
        "or strings before fitting."
    )


def calculate_classifier_output_shapes(operator):
    """Set the label and probability types (skl2onnx shape calculator).

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`LSTMClassifier` as ``raw_operator``.
    """
    model = _checked_classifier(operator)
    n_samples = checked_n_samples(operator, model)
    label_type, _ = _label_type(model.classes_)
    operator.outputs[0].type = label_type([n_samples])
    operator.outputs[1].type = FloatTensorType([n_samples, len(model.classes_)])


def convert_classifier(scope, operator, container):
    """Add the network, the probabilities and the labels (skl2onnx converter).

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`LSTMClassifier` as ``raw_operator``;
        outputs the label and the probabilities.
    container : skl2onnx.common._container.ModelComponentContainer
    """
    model = _checked_classifier(operator)
    graph = GraphBuilder(scope, container, operator)
    logits = add_network(graph, operator)
    label_name, probability_name = (out.full_name for out in operator.outputs)
    if model.out_activation_ == "softmax":
        graph.node("Softmax", [logits], "proba", output=probability_name, axis=1)
        index = graph.node("ArgMax", [logits], "label_index", axis=1, keepdims=0)
    else:
        positive = graph.node("Sigmoid", [logits], "positive")
        one = graph.constant(np.ones((1, 1), dtype=np.float32), "one")
        negative = graph.node("Sub", [one, positive], "negative")
        graph.node(
            "Concat", [negative, positive], "proba", output=probability_name, axis=1
        )
        zero = graph.constant(np.zeros((1, 1), dtype=np.float32), "zero")
        above = graph.node("Greater", [logits, zero], "above_zero")
        index = graph.cast(above, TensorProto.INT64)
        flat = graph.constant(np.array([-1], dtype=np.int64), "flat_shape")
        index = graph.node("Reshape", [index, flat], "label_index")
    _, classes = _label_type(model.classes_)
    graph.node(
        "Gather", [graph.constant(classes, "classes"), index], "label",
        output=label_name, axis=0,
    )  # fmt: skip
