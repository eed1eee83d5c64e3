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
"""

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


LOSS_FUNCTIONS = {
    "squared_error": _squared_error,
    "absolute_error": _absolute_error,
    "huber": _huber,
    "quantile": _pinball,
}


def loss_and_gradient(name, y_true, y_pred, sample_weight, xp, quantile=None):
    """Weighted mean loss and its gradient w.r.t. ``y_pred``.

    Parameters
    ----------
    name : {"squared_error", "absolute_error", "huber", "quantile"}
    y_true, y_pred : array of shape (n_samples, n_outputs)
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
    function = LOSS_FUNCTIONS[name]
    if name == "quantile":
        function = partial(function, quantile=quantile)
    values, derivative = function(xp, y_pred - y_true)
    weights = sample_weight / (sample_weight.sum() * y_true.shape[1])
    loss = weights @ values.sum(axis=1)
    derivative *= weights[:, None]
    return loss, derivative
