"""The Diebold–Mariano test of equal accuracy, with the HLN correction.

Two forecasts ``a`` and ``b`` of the same targets, ``h`` steps ahead, lose
``e_a²`` and ``e_b²`` on each target (squared-error loss). Their *loss
differential* is ``d_t = e_b,t² - e_a,t²``: positive where ``a`` was the more
accurate. Diebold and Mariano (1995) test ``E[d] = 0`` with

    DM = d̄ / sqrt(V̂ / n),    V̂ = γ̂₀ + 2 Σ_{k=1}^{h-1} w_k γ̂_k,

``γ̂_k`` the sample autocovariances of ``d`` (divided by ``n``): the errors of
an optimal ``h``-step forecast are correlated over at most ``h - 1`` steps,
so the long-run variance ``V̂`` keeps those lags. Harvey, Leybourne and
Newbold (1997) correct the statistic for small samples and read it against
Student's t with ``n - 1`` degrees of freedom:

    DM* = DM · sqrt((n + 1 - 2h + h(h - 1)/n) / n).

**A variance that cannot go negative.** With the truncated (rectangular)
weights ``w_k = 1`` of DM and HLN, ``V̂`` can be negative or zero. We use
them where ``V̂ > 0``, as the HLN correction assumes, and otherwise fall back
to Bartlett's weights ``w_k = 1 - k/h`` (Newey and West, 1987, with ``h - 1``
lags), which give ``V̂ ≥ 0`` for any series; a zero variance (a constant
differential) gives ``DM = ±inf`` or NaN for ``d = 0``, never an error.

**Pooled over several test years** (:func:`pooled_dm_test`): the
differentials of the years are stacked into one sample; ``d̄`` is their
mean over all ``n = Σ n_j`` targets and each ``γ̂_k`` sums the lag-``k``
products *within* each year (around the pooled mean, divided by ``n``),
never across the gap between two years, whose forecasts are a year apart;
``n`` is the pooled count in the HLN factor and the degrees of freedom.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class DMResult:
    """The outcome of a Diebold–Mariano test.

    Attributes
    ----------
    statistic : float
        HLN-corrected DM statistic; positive where the first forecast has
        the smaller mean squared error.
    pvalue : float
        Two-sided p-value, Student's t with ``n - 1`` degrees of freedom.
    mean_differential : float
        ``d̄``, the mean of ``e_b² - e_a²``.
    n : int
        Number of loss differentials.
    weights : {"rectangular", "bartlett"}
        The long-run variance's lag weights actually used.
    """

    statistic: float
    pvalue: float
    mean_differential: float
    n: int
    weights: str


def dm_test(errors_a, errors_b, horizon):
    """Diebold–Mariano test (HLN-corrected) of two forecasts' squared errors.

    Parameters
    ----------
    errors_a, errors_b : array-like of shape (n,)
        Forecast errors ``y - ŷ`` of the two forecasts, on the same targets
        in time order, one step apart.
    horizon : int
        Steps ahead of the forecasts, at least 1: the long-run variance
        keeps ``horizon - 1`` lags.

    Returns
    -------
    result : DMResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth_error = rng.normal(size=500)
    >>> result = dm_test(0.5 * truth_error, truth_error, horizon=1)
    >>> bool(result.statistic > 0), bool(result.pvalue < 0.01)
    (True, True)
    """
    return pooled_dm_test([errors_a], [errors_b], horizon)


def pooled_dm_test(errors_a, errors_b, horizon):
    """Diebold–Mariano test pooled over blocks (test years) of forecasts.

    Parameters
    ----------
    errors_a, errors_b : list of array-like
        One array of errors per block, the same blocks in the same order for
        both forecasts; within a block, targets in time order, one step apart.
    horizon : int
        Steps ahead, at least 1.

    Returns
    -------
    result : DMResult
        Over the stacked differentials; lag products are taken within blocks
        only (see the module's docstring).
    """
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(
            f"horizon must be an integer of at least 1, got {horizon!r}. "
            "Pass the number of steps ahead of the forecasts."
        )
    horizon = int(horizon)
    if len(errors_a) != len(errors_b) or not len(errors_a):
        raise ValueError(
            "errors_a and errors_b must hold the same number of blocks (at "
            f"least one), got {len(errors_a)} and {len(errors_b)}."
        )
    blocks = []
    for a, b in zip(errors_a, errors_b, strict=True):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape or a.ndim != 1:
            raise ValueError(
                "Each block of errors_a and errors_b must be 1-D and of the "
                f"same length, got shapes {a.shape} and {b.shape}. Pass the "
                "errors of both forecasts on the same targets."
            )
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise ValueError(
                "The errors hold NaN or infinite values. Score both forecasts "
                "on targets where both are defined."
            )
        blocks.append(b**2 - a**2)
    n = sum(len(d) for d in blocks)
    if n < 2 * horizon:
        raise ValueError(
            f"The DM test at horizon {horizon} needs at least {2 * horizon} "
            f"differentials, got {n}. Pass more forecasts."
        )
    mean = sum(d.sum() for d in blocks) / n
    centred = [d - mean for d in blocks]
    autocovariance = np.array(
        [
            sum(c[lag:] @ c[: len(c) - lag] for c in centred if len(c) > lag) / n
            for lag in range(horizon)
        ]
    )
    lags = np.arange(1, horizon)
    weights = "rectangular"
    variance = autocovariance[0] + 2 * autocovariance[1:].sum()
    if not variance > 0:
        weights = "bartlett"
        bartlett = 1 - lags / horizon
        variance = autocovariance[0] + 2 * (bartlett * autocovariance[1:]).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = mean / np.sqrt(max(variance, 0.0) / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic = float(statistic * correction)
    pvalue = float(2 * stats.t.sf(abs(statistic), df=n - 1))
    return DMResult(statistic, pvalue, float(mean), n, weights)
