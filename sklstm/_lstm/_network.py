"""A stack of LSTM layers with a linear head on the last hidden state.

With ``skip_steps`` > 0 the inputs of the last ``skip_steps`` time steps
also reach the output through a linear map beside the LSTM (a skip
connection, the autoregressive component of LSTNet, Lai et al. 2018).
``_head`` computes the head and the skip connection, for every engine.

All parameters live in one flat vector; :class:`Parameters` holds views into
it in PyTorch's ``nn.LSTM`` layout. The optimisers, weight decay and gradient
clipping then work on one array, whatever the depth of the network.
"""

from typing import Any, NamedTuple

import numpy as np

from ._gates import FORGET, N_GATES
from ._head import head_backward, head_output
from ._layer import LayerWeights
from ._masking import active_counts


class NetworkShape(NamedTuple):
    """Sizes that fix the parameter layout."""

    n_features: int
    hidden_sizes: tuple
    n_outputs: int
    skip_steps: int = 0

    def layer_inputs(self):
        """Number of inputs of each layer."""
        return (self.n_features, *self.hidden_sizes[:-1])

    def parameter_shapes(self):
        """``(name, shape, is_weight)`` of every parameter, in storage order."""
        shapes = []
        for layer, (n_in, hidden) in enumerate(
            zip(self.layer_inputs(), self.hidden_sizes, strict=True)
        ):
            shapes += [
                (f"layer{layer}.weight_ih", (N_GATES * hidden, n_in), True),
                (f"layer{layer}.weight_hh", (N_GATES * hidden, hidden), True),
                (f"layer{layer}.bias", (N_GATES * hidden,), False),
            ]
        shapes += [
            ("head_weight", (self.n_outputs, self.hidden_sizes[-1]), True),
            ("head_bias", (self.n_outputs,), False),
        ]
        if self.skip_steps:
            skip_shape = (self.n_outputs, self.skip_steps, self.n_features)
            shapes.append(("skip_weight", skip_shape, True))
        return shapes

    def n_parameters(self):
        """Length of the flat parameter vector."""
        return sum(int(np.prod(shape)) for _, shape, _ in self.parameter_shapes())


class Parameters(NamedTuple):
    """Views into a flat parameter (or gradient) vector."""

    flat: Any
    layers: list
    head_weight: Any
    head_bias: Any
    skip_weight: Any = None


def unflatten(flat, shape):
    """Return :class:`Parameters` whose arrays are views into ``flat``."""
    views, start = {}, 0
    for name, param_shape, _ in shape.parameter_shapes():
        size = int(np.prod(param_shape))
        views[name] = flat[start : start + size].reshape(param_shape)
        start += size
    layers = [
        LayerWeights(*(views[f"layer{k}.{part}"] for part in LayerWeights._fields))
        for k in range(len(shape.hidden_sizes))
    ]
    return Parameters(
        flat,
        layers,
        views["head_weight"],
        views["head_bias"],
        views.get("skip_weight"),
    )


def pack_parameters(layers, head_weight, head_bias, dtype, skip_weight=None):
    """One flat NumPy vector from the public fitted arrays.

    Parameters
    ----------
    layers : list of dict
        ``LSTMRegressor.layers_``: ``weight_ih``, ``weight_hh``, ``bias`` per
        layer.
    head_weight, head_bias : ndarray
    dtype : numpy dtype
    skip_weight : ndarray or None, default=None
        ``LSTMRegressor.skip_weight_``, None without a skip connection.

    Returns
    -------
    flat : ndarray
        In the storage order of :meth:`NetworkShape.parameter_shapes`.
    """
    arrays = []
    for layer in layers:
        arrays += [layer["weight_ih"], layer["weight_hh"], layer["bias"]]
    arrays += [head_weight, head_bias]
    if skip_weight is not None:
        arrays.append(skip_weight)
    flat = np.concatenate([np.ravel(array) for array in arrays])
    return flat.astype(dtype, copy=False)


def unpack_parameters(flat, shape):
    """The public fitted arrays from a flat vector (copied).

    Returns
    -------
    layers : list of dict
    head_weight, head_bias : ndarray
    skip_weight : ndarray or None
    """
    params = unflatten(np.array(flat, copy=True), shape)
    layers = [
        {"weight_ih": layer.weight_ih, "weight_hh": layer.weight_hh, "bias": layer.bias}
        for layer in params.layers
    ]
    return layers, params.head_weight, params.head_bias, params.skip_weight


def weight_mask(shape, xp, dtype):
    """Flat vector: 1 on weights (penalised by ``alpha``), 0 on biases."""
    parts = [
        np.full(int(np.prod(param_shape)), float(is_weight))
        for _, param_shape, is_weight in shape.parameter_shapes()
    ]
    return xp.asarray(np.concatenate(parts), dtype=dtype)


def init_parameters(shape, random_state, dtype):
    """Draw initial parameters as a flat NumPy vector.

    Every weight and bias is uniform on ``[-1/sqrt(H), 1/sqrt(H)]`` with ``H``
    the layer's hidden size, as in PyTorch's ``nn.LSTM`` and ``nn.Linear``;
    the forget-gate biases then get ``+1`` so that the cell state is kept by
    default early in training (Jozefowicz et al., 2015). The skip
    connection's weights start at zero: the network starts as a plain LSTM
    (and draws the same numbers as one).

    Parameters
    ----------
    shape : NetworkShape
    random_state : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    flat : ndarray of shape (shape.n_parameters(),)
    """
    flat = np.empty(shape.n_parameters(), dtype=dtype)
    params = unflatten(flat, shape)
    for layer, hidden in zip(params.layers, shape.hidden_sizes, strict=True):
        bound = 1.0 / np.sqrt(hidden)
        for array in layer:
            array[...] = random_state.uniform(-bound, bound, size=array.shape)
        layer.bias.reshape(N_GATES, hidden)[FORGET] += 1.0
    bound = 1.0 / np.sqrt(shape.hidden_sizes[-1])
    for array in (params.head_weight, params.head_bias):
        array[...] = random_state.uniform(-bound, bound, size=array.shape)
    if params.skip_weight is not None:
        params.skip_weight[...] = 0.0
    return flat


def forward(params, inputs, workspace, engine, dropout_masks=None, mask=None):
    """Predict from time-major inputs.

    Parameters
    ----------
    params : Parameters
    inputs : array of shape (steps, batch, n_features)
    workspace : Workspace
    engine : ArrayEngine or CompiledEngine
        Runs each layer (see ``_engines``).
    dropout_masks : list of array or None, default=None
        Training only: per layer, an array of shape ``(batch, n_inputs)``
        multiplying that layer's inputs at every step (0 for a dropped
        input, ``1 / (1 - p)`` for a kept one; :func:`dropout_masks`).
    mask : StepMask or None, default=None
        For a batch of sequences of different lengths, put longest first
        (``_masking.py``): each row is read at its last real step.

    Returns
    -------
    predictions : array of shape (batch, n_outputs)
    caches : list of LayerCache
    """
    caches = []
    layer_inputs = inputs
    for index, weights in enumerate(params.layers):
        if dropout_masks is not None:
            dropped = workspace.empty(
                f"l{index}.dropped", layer_inputs.shape, layer_inputs.dtype
            )
            workspace.xp.multiply(layer_inputs, dropout_masks[index], out=dropped)
            layer_inputs = dropped
        cache = engine.layer_forward(
            weights,
            layer_inputs,
            workspace,
            name=f"l{index}.",
            active=active_counts(mask),
        )
        caches.append(cache)
        layer_inputs = cache.hidden[1:]
    # A row that has ended keeps its states: the last ones are its own.
    predictions = head_output(
        params, caches[-1].hidden[-1], caches[0].inputs, workspace.xp, mask
    )
    return predictions, caches


def backward(
    params,
    caches,
    d_predictions,
    grads,
    workspace,
    engine,
    dropout_masks=None,
    mask=None,
):
    """Backpropagate ``d_predictions`` through the head (``_head``) and
    every layer.

    Parameters
    ----------
    params : Parameters
    caches : list of LayerCache
        From :func:`forward` with the same parameters.
    d_predictions : array of shape (batch, n_outputs)
        Gradient of the loss w.r.t. the predictions.
    grads : Parameters
        Written: the gradient w.r.t. every parameter.
    workspace : Workspace
    engine : ArrayEngine or CompiledEngine
        Runs each layer (see ``_engines``).
    dropout_masks : list of array or None, default=None
        Those given to :func:`forward`.
    mask : StepMask or None, default=None
        That given to :func:`forward`.
    """
    d_hidden = head_backward(
        params,
        caches[-1].hidden[-1],
        caches[0].inputs,
        d_predictions,
        grads,
        workspace.xp,
        mask,
    )
    for index in range(len(caches) - 1, -1, -1):
        d_hidden = engine.layer_backward(
            params.layers[index],
            caches[index],
            d_hidden,
            grads.layers[index],
            workspace,
            name=f"l{index}.",
            need_d_inputs=index > 0,
            active=active_counts(mask),
        )
        if dropout_masks is not None and index > 0:
            d_hidden *= dropout_masks[index]


def dropout_masks(shape, rate, batch, random_state, backend, dtype):
    """Draw the dropout masks of one training batch (variational dropout).

    Each sequence drops each input of each layer with probability ``rate``
    for all its time steps (Gal and Ghahramani, 2016), and scales the kept
    ones by ``1 / (1 - rate)`` so that their expected value is unchanged.

    Parameters
    ----------
    shape : NetworkShape
    rate : float
        In [0, 1).
    batch : int
    random_state : numpy.random.RandomState
        Drawn from on the host, so that every backend gets the same masks.
    backend : Backend
    dtype : numpy dtype

    Returns
    -------
    masks : list of array of shape (batch, n_inputs), one per layer
    """
    masks = []
    for n_inputs in shape.layer_inputs():
        kept = random_state.random_sample((batch, n_inputs)) >= rate
        masks.append(backend.asarray(kept / (1.0 - rate), dtype=dtype))
    return masks
