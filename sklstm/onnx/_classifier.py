"""ONNX shape calculator and converter of :class:`LSTMClassifier`.

As skl2onnx exports its classifiers: two outputs, the label and the
probabilities, which skl2onnx's classifier parser follows with a ``ZipMap``
(a list of ``{class: probability}``) unless the option ``zipmap=False``. On
the logits of the regressor's network graph (``_lstm.add_network``)::

    multiclass: probabilities = Softmax(logits)
                label = classes[ArgMax(logits)]
    binary:     p = Sigmoid(logits); probabilities = [1 - p, p]
                label = classes[logits > 0]

``classes`` are ``classes_`` (see ``_exported_labels`` for their type), or
with skl2onnx's option ``nocl=True`` the class indices ``0 ... n_classes -
1``, so that the graph holds no class label.
"""

import numpy as np
from onnx import TensorProto
from skl2onnx.common.data_types import (
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
    UInt64TensorType,
)

from .._fitted_network import fitted_network
from ._graph import GraphBuilder
from ._lstm import add_network, checked_model, checked_n_samples


def _checked_classifier(operator):
    model = checked_model(operator)
    if fitted_network(model).target_type == "multilabel-indicator":
        raise NotImplementedError(
            "The ONNX export of an LSTMClassifier fitted on a multilabel "
            "indicator y is not written yet; export a model fitted on class "
            "labels, or run predict_proba in Python."
        )
    return model


#: The largest label a ZipMap key (int64) holds.
INT64_MAX = np.iinfo(np.int64).max


def _exported_labels(model, options):
    """The label output's tensor type and the labels it gathers from.

    Parameters
    ----------
    model : LSTMClassifier
    options : dict
        skl2onnx's options of ``model``: ``nocl`` and ``zipmap``.

    Returns
    -------
    label_type : type
        ``StringTensorType`` for string labels; ``UInt64TensorType`` for
        uint64 labels without ZipMap (``zipmap=False``); else
        ``Int64TensorType``, as skl2onnx gives integer labels (ZipMap's keys
        and labels are int64).
    labels : ndarray
        One per class, in the order of ``classes_``: the class indices
        with ``nocl=True``, as skl2onnx's classifiers give them.

    Raises
    ------
    ValueError
        For uint64 labels above the int64 maximum under a ZipMap, which
        would store them negative.
    NotImplementedError
        For labels neither integer nor string (floats).
    """
    classes = model.classes_
    if options["nocl"]:
        return Int64TensorType, np.arange(len(classes), dtype=np.int64)
    if classes.dtype == np.uint64 and options["zipmap"] is False:
        return UInt64TensorType, classes
    if classes.dtype == np.uint64 and (classes > INT64_MAX).any():
        raise ValueError(
            f"{type(model).__name__}.classes_ holds uint64 labels above the "
            f"int64 maximum ({INT64_MAX}), which skl2onnx's ZipMap stores as "
            "int64 keys and labels, so they would come out negative. Pass "
            'options={"zipmap": False} to get uint64 labels and a '
            'probability matrix, options={"nocl": True} to get class '
            "indices, or encode the labels (LabelEncoder) before fitting."
        )
    if np.issubdtype(classes.dtype, np.integer) or classes.dtype == bool:
        return Int64TensorType, classes.astype(np.int64)
    if classes.dtype.kind in "US" or classes.dtype == object:
        return StringTensorType, classes.astype(str)
    raise NotImplementedError(
        f"The ONNX export keeps integer or string class labels; this model's "
        f"classes_ are {classes.dtype}. Encode them as integers (LabelEncoder) "
        "or strings before fitting."
    )


def _label_options(scope, model):
    return scope.get_options(model, dict(nocl=False, zipmap=True))


def calculate_classifier_output_shapes(operator):
    """Set the label and probability types (skl2onnx shape calculator).

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        Holds the fitted :class:`LSTMClassifier` as ``raw_operator``.
    """
    model = _checked_classifier(operator)
    n_samples = checked_n_samples(operator, model)
    options = _label_options(operator.scope_inst, model)
    label_type, _ = _exported_labels(model, options)
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
    _, classes = _exported_labels(model, _label_options(scope, model))
    graph.node(
        "Gather", [graph.constant(classes, "classes"), index], "label",
        output=label_name, axis=0,
    )  # fmt: skip
