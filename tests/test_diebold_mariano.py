"""Tests for the Diebold–Mariano test of sklstm.beijing._diebold_mariano."""

import numpy as np
import pytest
from scipy import stats

from sklstm.beijing._diebold_mariano import dm_test, pooled_dm_test


def _by_pairs(blocks, horizon):
    """HLN-corrected DM and its p-value by brute force, from the definition.

    ``n² Var(d̄)`` is the sum of ``c_i c_j`` over every pair of targets less
    than ``horizon`` steps apart in the same block (``c = d - d̄``): summed
    pair by pair here, rather than as weighted autocovariances.
    """
    stacked = np.concatenate(blocks)
    n, mean = len(stacked), stacked.mean()
    total = 0.0
    for block in blocks:
        centred = block - mean
        for i in range(len(block)):
            for j in range(len(block)):
                if abs(i - j) < horizon:
                    total += centred[i] * centred[j]
    statistic = mean / np.sqrt(total / n**2)
    statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return statistic, 2 * stats.t.sf(abs(statistic), df=n - 1)


def _ma_errors(rng, n, horizon):
    """Errors of an h-step forecast: an MA(h - 1) series."""
    shocks = rng.normal(size=n + horizon - 1)
    return np.convolve(shocks, np.ones(horizon) / horizon, mode="valid")


def test_one_step_dm_is_the_one_sample_t_test_of_the_differentials():
    """At h = 1 the HLN factor turns DM into the t statistic of d: an
    independent computation by scipy."""
    rng = np.random.default_rng(1)
    errors_a, errors_b = rng.normal(size=(2, 200)) * [[1.0], [1.2]]
    result = dm_test(errors_a, errors_b, horizon=1)
    t_test = stats.ttest_1samp(errors_b**2 - errors_a**2, 0.0)
    assert result.statistic == pytest.approx(t_test.statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(t_test.pvalue, rel=1e-10)
    assert result.weights == "rectangular"
    assert result.n == 200


@pytest.mark.parametrize("horizon", [2, 3, 6])
def test_h_step_dm_matches_the_pairwise_definition(horizon):
    rng = np.random.default_rng(horizon)
    errors_a = _ma_errors(rng, 150, horizon)
    errors_b = 1.1 * _ma_errors(rng, 150, horizon)
    result = dm_test(errors_a, errors_b, horizon)
    assert result.weights == "rectangular"
    statistic, pvalue = _by_pairs([errors_b**2 - errors_a**2], horizon)
    assert result.statistic == pytest.approx(statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-10)


def test_pooled_dm_takes_lag_products_within_years_only():
    rng = np.random.default_rng(7)
    horizon = 4
    errors_a = [_ma_errors(rng, n, horizon) for n in (90, 120, 60)]
    errors_b = [1.2 * _ma_errors(rng, len(a), horizon) for a in errors_a]
    result = pooled_dm_test(errors_a, errors_b, horizon)
    differentials = [b**2 - a**2 for a, b in zip(errors_a, errors_b, strict=True)]
    statistic, pvalue = _by_pairs(differentials, horizon)
    assert result.statistic == pytest.approx(statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-10)
    assert result.n == 270
    # Stacking the years into one series would count the products across
    # the two boundaries: a different statistic.
    stacked = dm_test(np.concatenate(errors_a), np.concatenate(errors_b), horizon)
    assert stacked.statistic != pytest.approx(result.statistic, rel=1e-6)
    # One block is the plain test.
    alone = pooled_dm_test(errors_a[:1], errors_b[:1], horizon)
    assert alone == dm_test(errors_a[0], errors_b[0], horizon)


def test_a_negative_rectangular_variance_falls_back_to_bartlett():
    """Alternating differentials: γ₀ + 2γ₁ < 0 with h = 2, so the
    rectangular estimate is negative; Bartlett's weights (1/2 at lag 1)
    give γ₀ + γ₁ ≥ 0 and a finite statistic."""
    rng = np.random.default_rng(3)
    n = 400
    sign = np.where(np.arange(n) % 2, 1.0, -1.0)
    errors_b = np.sqrt(2.0 + sign + 0.1 * rng.random(n))
    # Squared errors of A near the mean of B's: a statistic near 2, whose
    # two-sided p-value (about 0.05) tells a one-sided one apart.
    errors_a = np.full(n, np.sqrt(2.045))
    differentials = errors_b**2 - errors_a**2
    centred = differentials - differentials.mean()
    gamma0, gamma1 = centred @ centred / n, centred[1:] @ centred[:-1] / n
    assert gamma0 + 2 * gamma1 < 0
    result = dm_test(errors_a, errors_b, horizon=2)
    assert result.weights == "bartlett"
    variance = gamma0 + 0.5 * 2 * gamma1
    expected = differentials.mean() / np.sqrt(variance / n)
    expected *= np.sqrt((n + 1 - 4 + 2 / n) / n)
    assert result.statistic == pytest.approx(expected, rel=1e-10)
    assert result.pvalue == pytest.approx(
        2 * stats.t.sf(abs(expected), df=n - 1), rel=1e-10
    )


def test_sign_symmetry_and_equal_forecasts():
    rng = np.random.default_rng(4)
    errors_a, errors_b = rng.normal(size=(2, 100))
    forward, backward = dm_test(errors_a, errors_b, 3), dm_test(errors_b, errors_a, 3)
    assert forward.statistic == pytest.approx(-backward.statistic)
    assert forward.pvalue == pytest.approx(backward.pvalue)
    # Identical forecasts: no evidence either way, and no error.
    same = dm_test(errors_a, errors_a, 3)
    assert same.mean_differential == 0
    assert np.isnan(same.statistic) or same.statistic == 0


def test_size_under_the_null_is_close_to_nominal():
    """Two equally good 3-step forecasts: about 5 % of tests at the 5 %
    level reject (HLN's point: the corrected test keeps its size)."""
    rng = np.random.default_rng(5)
    horizon, rejections, trials = 3, 0, 400
    for _ in range(trials):
        errors_a = _ma_errors(rng, 200, horizon)
        errors_b = _ma_errors(rng, 200, horizon)
        rejections += dm_test(errors_a, errors_b, horizon).pvalue < 0.05
    assert 0.01 < rejections / trials < 0.10


@pytest.mark.parametrize(
    ("a", "b", "horizon", "message"),
    [
        (np.ones(10), np.ones(10), 0, "horizon must be an integer"),
        (np.ones(10), np.ones(9), 1, "same length"),
        (np.ones(3), np.ones(3), 2, "needs at least 4 differentials"),
        (np.r_[1.0, np.nan, 1.0], np.ones(3), 1, "NaN or infinite"),
    ],
)
def test_bad_input_says_what_and_how(a, b, horizon, message):
    with pytest.raises(ValueError, match=message):
        dm_test(a, b, horizon)
