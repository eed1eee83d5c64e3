"""An LSTM written plainly from its equations, independent of the engine.

It loops over layers and time steps with the textbook formulas and no
buffers, kernels or precomputed factors, so that it can check the engine.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_network_output(
    layers, head_weight, head_bias, X, skip_weight=None, dropout_masks=None
):
    """Network output for samples-first ``X`` of shape (n, steps, features).

    ``layers`` is a list of dicts with ``weight_ih``, ``weight_hh`` and
    ``bias`` whose row blocks are the input, forget, cell and output gates.
    ``skip_weight``, of shape ``(n_outputs, k, features)``, adds the linear
    map of the last ``k`` steps' inputs. ``dropout_masks``, one array of
    shape ``(n, layer inputs)`` per layer, multiplies each layer's inputs at
    every step (variational dropout; the skip reads the first layer's).
    """
    masks = dropout_masks if dropout_masks is not None else [None] * len(layers)
    sequence = np.asarray(X, dtype=np.float64)
    if masks[0] is not None:
        sequence = sequence * masks[0][:, None, :]
    skip = 0.0
    if skip_weight is not None:
        recent = sequence[:, X.shape[1] - skip_weight.shape[1] :]
        skip = np.einsum("nkf,okf->no", recent, skip_weight)
    for index, layer in enumerate(layers):
        if index > 0 and masks[index] is not None:
            sequence = sequence * masks[index][:, None, :]
        hidden_size = layer["weight_hh"].shape[1]
        short_term = np.zeros((sequence.shape[0], hidden_size))
        long_term = np.zeros((sequence.shape[0], hidden_size))
        outputs = []
        for step in range(sequence.shape[1]):
            z = (
                sequence[:, step] @ layer["weight_ih"].T
                + short_term @ layer["weight_hh"].T
                + layer["bias"]
            )
            z_input, z_forget, z_cell, z_output = np.split(z, 4, axis=1)
            input_gate = sigmoid(z_input)
            forget_gate = sigmoid(z_forget)
            candidate = np.tanh(z_cell)
            output_gate = sigmoid(z_output)
            long_term = forget_gate * long_term + input_gate * candidate
            short_term = output_gate * np.tanh(long_term)
            outputs.append(short_term)
        sequence = np.stack(outputs, axis=1)
    return sequence[:, -1] @ head_weight.T + head_bias + skip


def reference_loss(name, y_true, y_pred, sample_weight, quantile=None):
    """The documented training loss, weighted mean over samples and outputs."""
    residual = y_pred - y_true
    if name == "quantile":
        values = np.where(residual > 0, (1 - quantile) * residual, -quantile * residual)
    elif name == "squared_error":
        values = 0.5 * residual**2
    elif name == "absolute_error":
        values = np.abs(residual)
    else:
        values = np.where(
            np.abs(residual) <= 1, 0.5 * residual**2, np.abs(residual) - 0.5
        )
    return np.sum(sample_weight * values.mean(axis=1)) / np.sum(sample_weight)


def central_difference(function, x, step=1e-3):
    """Fourth-order central finite differences of ``function`` at ``x``."""
    gradient = np.zeros_like(x)
    for k in range(x.size):
        shifted = {}
        for offset in (-2, -1, 1, 2):
            point = x.copy()
            point.flat[k] += offset * step
            shifted[offset] = function(point)
        gradient.flat[k] = (
            8 * (shifted[1] - shifted[-1]) - (shifted[2] - shifted[-2])
        ) / (12 * step)
    return gradient


#: LSTMRegressor settings under which one ``fit`` (with ``warm_start``) is
#: one plain gradient step on the whole of X, in float64: ``w -= step * g``.
ONE_GRADIENT_STEP = dict(
    solver="sgd",
    momentum=0.0,
    learning_rate="constant",
    shuffle=False,
    max_iter=1,
    warm_start=True,
    scale_target=False,
    dtype="float64",
    random_state=0,
)
