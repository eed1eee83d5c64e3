"""Conformal forecast intervals around the study's point forecasts.

Every model of the study gets its interval the same way, from its own
forecast errors, so widths compare at equal coverage:

- **Split conformal** (the interval of a point forecast ``ŷ`` is
  ``ŷ ± q·s(ŷ)``): ``q`` is the conformal quantile of the calibration scores
  ``|y - ŷ| / s(ŷ)`` (the ``⌈(n + 1) c⌉``-th smallest of ``n``, for coverage
  ``c``). The ``"absolute"`` score takes ``s = 1``, a band of constant
  width; the ``"relative"`` score takes ``s(ŷ) = max(ŷ, FLOOR)``, a band
  that widens with the forecast level, as PM2.5 errors do.
- **Adaptive** (ACI, Gibbs and Candès, 2021): the miscoverage level
  ``α_t`` used at issue time ``t`` moves after every miss or hit already
  observed: ``α ← α + γ (α_target - miss)``, and the scores are those of
  the latest ``n`` forecasts whose targets are known (the calibration
  block's at first), so the band follows a change in the errors. A forecast
  issued at ``t`` for ``t + h`` is known to have missed or not at ``t + h``,
  so the interval at ``t`` reads the forecasts issued up to ``t - h``: no
  future value is used.

The calibration scores are those of a calibration block of past forecasts
(the study's validation year), in time order. :func:`choose_method` picks the
score and whether to adapt on that block alone.
"""

import bisect
from dataclasses import dataclass

import numpy as np

#: Forecast level (µg/m³) below which the relative score stops shrinking: the
#: lowest hourly PM2.5 readings are a few µg/m³, and errors do not vanish.
FLOOR = 10.0
#: ACI's step: 0.005, as in Gibbs and Candès (2021).
GAMMA = 0.005


@dataclass(frozen=True)
class IntervalMethod:
    """How an interval is built from a model's calibration errors.

    Attributes
    ----------
    score : {"absolute", "relative"}
        Conformity score: ``|y - ŷ|`` or ``|y - ŷ| / max(ŷ, FLOOR)``.
    adaptive : bool
        Whether the coverage level adapts online (ACI) to the misses
        observed so far.
    """

    score: str
    adaptive: bool

    def __str__(self):
        return f"{self.score} conformal{', adaptive (ACI)' if self.adaptive else ''}"


#: The candidates :func:`choose_method` compares.
METHODS = tuple(
    IntervalMethod(score, adaptive)
    for score in ("absolute", "relative")
    for adaptive in (False, True)
)


def _scale(method, y_pred):
    if method.score == "absolute":
        return np.ones_like(y_pred)
    return np.maximum(y_pred, FLOOR)


def _scores(method, y_true, y_pred):
    """Conformity scores ``|y - ŷ| / s(ŷ)``."""
    y_true, y_pred = (np.asarray(part, dtype=float) for part in (y_true, y_pred))
    return np.abs(y_true - y_pred) / _scale(method, y_pred)


def conformal_interval(method, calibration, y_pred, y_true, horizon, coverage):
    """Interval of each forecast of a time-ordered block.

    Parameters
    ----------
    method : IntervalMethod
    calibration : tuple of ndarray
        ``(y_true, y_pred)`` of the calibration block, past forecasts.
    y_pred : ndarray of shape (n,)
        Point forecasts of the block to cover, issued one hour apart.
    y_true : ndarray of shape (n,)
        Their targets; read only by the adaptive method, each one ``horizon``
        hours after its forecast was issued.
    horizon : int
        Hours between a forecast's issue time and its target.
    coverage : float
        Target share of targets inside their interval, in (0, 1).

    Returns
    -------
    lower, upper : ndarray of shape (n,)
    """
    y_pred = np.asarray(y_pred, dtype=float)
    scale = _scale(method, y_pred)
    history = list(_scores(method, *calibration))  # known scores, in time order
    window = sorted(history)  # the latest n of them, sorted
    if not method.adaptive:
        half_width = _conformal_quantile(window, 1 - coverage) * scale
        return y_pred - half_width, y_pred + half_width
    observed = _scores(method, y_true, y_pred)
    quantiles = np.empty(len(y_pred))
    alpha = 1 - coverage
    for t in range(len(y_pred)):
        if t >= horizon:  # the forecast issued at t - h has just come true
            known = observed[t - horizon]
            alpha += GAMMA * ((1 - coverage) - (known > quantiles[t - horizon]))
            del window[bisect.bisect_left(window, history[t - horizon])]
            history.append(known)
            bisect.insort(window, known)
        quantiles[t] = _conformal_quantile(window, alpha)
    half_width = quantiles * scale
    return y_pred - half_width, y_pred + half_width


def _conformal_quantile(sorted_scores, alpha):
    """The ``⌈(n + 1)(1 - α)⌉``-th smallest score, clipped to the scores."""
    n = len(sorted_scores)
    rank = int(np.ceil((n + 1) * (1 - alpha)))
    return sorted_scores[min(max(rank, 1), n) - 1]


def interval_scores(y_true, lower, upper):
    """Empirical coverage and mean width of intervals.

    Returns
    -------
    coverage : float
        Share of ``y_true`` inside ``[lower, upper]``.
    width : float
        Mean of ``upper - lower``.
    """
    y_true = np.asarray(y_true, dtype=float)
    inside = (lower <= y_true) & (y_true <= upper)
    return float(np.mean(inside)), float(np.mean(upper - lower))


def choose_method(y_true, y_pred, horizon, coverage, tolerance=0.02):
    """Pick the interval method on a calibration block alone.

    The block's first half calibrates each of :data:`METHODS`, its second
    half scores it; the narrowest method whose coverage is within
    ``tolerance`` of ``coverage`` wins (if none is, the closest coverage).

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n,)
        Time-ordered targets and forecasts of the calibration block.
    horizon : int
    coverage : float
    tolerance : float, default=0.02

    Returns
    -------
    method : IntervalMethod
    scores : dict
        ``{method: (coverage, width)}`` on the second half.
    """
    half = len(y_true) // 2
    calibration = (y_true[:half], y_pred[:half])
    scores = {
        method: interval_scores(
            y_true[half:],
            *conformal_interval(
                method, calibration, y_pred[half:], y_true[half:], horizon, coverage
            ),
        )
        for method in METHODS
    }
    close = [m for m, (cov, _) in scores.items() if abs(cov - coverage) <= tolerance]
    if close:
        return min(close, key=lambda m: scores[m][1]), scores
    return min(scores, key=lambda m: abs(scores[m][0] - coverage)), scores
