"""Loss functions: value and gradient w.r.t. the predictions.

Each loss is a function of the residual ``r = prediction - target``,
averaged over outputs, then over samples with the sample weights::

    loss = sum_i w_i * mean_k l(r_ik) / sum_i w_i

``squared_error`` is ``r**2 / 2`` (as in ``MLPRegressor``), ``absolute_error``
is ``|r|`` and ``huber`` is ``r**2 / 2`` for ``|r| <= 1``, else ``|r| - 1/2``
(PyTorch's ``HuberLoss`` with ``delta=1``; with ``scale_target=True`` the
threshold is one standard deviation of the target). ``quantile`` is the
pinball loss of quantile ``q``: ``(1 - q) * r`` for ``r > 0`` (predicting
too high), ``-q * r`` otherwise, whose minimiser is the ``q``-quantile of the
target; it is positively homogeneous, so standardising the target
(``scale_target=True``) keeps that meaning.

The classifiers' losses are functions of the logits ``z`` and the 0/1
targets ``y``, summed over outputs (as ``MLPClassifier``'s) and averaged
over samples with the sample weights: ``log_loss`` is the binary
cross-entropy of ``sigmoid(z)`` per output (binary and multilabel
targets), ``softplus(z) - y * z``, with gradient ``sigmoid(z) - y``;
``softmax_log_loss`` the cross-entropy of ``softmax(z)`` against one-hot
``y`` (multiclass), ``logsumexp(z) - y . z``, with gradient
``softmax(z) - y``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial


def _squared_error(xp, residual):
    return 0.5 * residual * residual, residual


def _absolute_error(xp, residual):
    return xp.abs(residual), xp.sign(residual)


def _huber(xp, residual):
    magnitude = xp.abs(residual)
    quadratic = xp.minimum(magnitude, 1.0)
    value = quadratic * (magnitude - 0.5 * quadratic)
    return value, xp.clip(residual, -1.0, 1.0)


def _pinball(xp, residual, quantile):
    # (residual > 0) - q: 1 - q above the target, -q at or below it (a
    # subgradient at the kink), in the residual's dtype.
    derivative = (residual > 0).astype(residual.dtype) - quantile
    return residual * derivative, derivative


def _log_loss(xp, logits, y_true):
    # softplus(z) = max(z, 0) + log1p(exp(-|z|)): no overflow for any z.
    softplus = xp.maximum(logits, 0) + xp.log1p(xp.exp(-xp.abs(logits)))
    return softplus - y_true * logits, sigmoid(xp, logits) - y_true


def _softmax_log_loss(xp, logits, y_true):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    log_proba = shifted - log_sum
    return -(y_true * log_proba), xp.exp(log_proba) - y_true


def sigmoid(xp, logits):
    """``1 / (1 + exp(-z))`` without overflow for any ``z``."""
    # exp of a non-positive number only: exp(-|z|) in (0, 1].
    small = xp.exp(-xp.abs(logits))
    return xp.where(logits >= 0, 1 / (1 + small), small / (1 + small))


def softmax(xp, logits):
    """Row-wise softmax of ``(n_samples, n_classes)`` logits."""
    shifted = xp.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Loss:
    """One training loss.

    Attributes
    ----------
    function : callable
        ``function(xp, residual) -> (values, derivative)`` for a regression
        loss (``quantile=`` too for the pinball loss);
        ``function(xp, logits, y_true)`` for a classification loss.
    classification : bool
        Whether it is a classifier's loss of the logits, summed over the
        outputs (as ``MLPClassifier``'s); a regression loss is averaged
        over them.
    """

    function: Callable
    classification: bool = False


#: Every training loss, by name (see the module docstring).
LOSSES = {
    "squared_error": Loss(_squared_error),
    "absolute_error": Loss(_absolute_error),
    "huber": Loss(_huber),
    "quantile": Loss(_pinball),
    "log_loss": Loss(_log_loss, classification=True),
    "softmax_log_loss": Loss(_softmax_log_loss, classification=True),
}

#: The losses that ``LSTMRegressor(loss=...)`` takes.
REGRESSION_LOSSES = tuple(
    name for name, loss in LOSSES.items() if not loss.classification
)


def loss_and_gradient(name, y_true, y_pred, sample_weight, xp, quantile=None):
    """Weighted mean loss and its gradient w.r.t. ``y_pred``.

    Parameters
    ----------
    name : {"squared_error", "absolute_error", "huber", "quantile", \
            "log_loss", "softmax_log_loss"}
    y_true, y_pred : array of shape (n_samples, n_outputs)
        For the classification losses, 0/1 targets and logits.
    sample_weight : array of shape (n_samples,)
        Non-negative, with a positive sum.
    xp : module
    quantile : float, default=None
        The quantile of ``name="quantile"``, in (0, 1); unused otherwise.

    Returns
    -------
    loss : 0-d array
    d_pred : array of shape (n_samples, n_outputs)
    """
    loss = LOSSES[name]
    if loss.classification:
        values, derivative = loss.function(xp, y_pred, y_true)
        weights = sample_weight / sample_weight.sum()
    else:
        function = loss.function
        if name == "quantile":
            function = partial(function, quantile=quantile)
        values, derivative = function(xp, y_pred - y_true)
        weights = sample_weight / (sample_weight.sum() * y_true.shape[1])
    derivative *= weights[:, None]
    return weights @ values.sum(axis=1), derivative
