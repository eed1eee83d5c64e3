"""The study's conformal intervals (sklstm.beijing._intervals)."""

import numpy as np
import pytest

from sklstm.beijing._intervals import (
    FLOOR,
    METHODS,
    IntervalMethod,
    choose_method,
    conformal_interval,
    interval_scores,
)

ABSOLUTE = IntervalMethod("absolute", adaptive=False)
RELATIVE = IntervalMethod("relative", adaptive=False)
ADAPTIVE = IntervalMethod("absolute", adaptive=True)


def _forecasts(n, noise_scale, seed, level=100.0):
    rng = np.random.default_rng(seed)
    y_pred = level + 20 * rng.standard_normal(n)
    return y_pred + noise_scale * rng.standard_normal(n), y_pred


def test_split_conformal_takes_the_ceil_n_plus_one_rank():
    # Scores 1..9: 80 % coverage takes the ceil(10 * 0.8) = 8th smallest.
    cal_pred = np.zeros(9)
    cal_true = np.arange(1.0, 10.0)[::-1]
    lower, upper = conformal_interval(
        ABSOLUTE, (cal_true, cal_pred), np.array([5.0, 7.0]), None, 1, 0.8
    )
    np.testing.assert_array_equal(lower, [-3.0, -1.0])
    np.testing.assert_array_equal(upper, [13.0, 15.0])


def test_split_conformal_covers_exchangeable_errors():
    calibration = _forecasts(4000, 10.0, seed=0)
    y_true, y_pred = _forecasts(20000, 10.0, seed=1)
    coverage, width = interval_scores(
        y_true, *conformal_interval(ABSOLUTE, calibration, y_pred, y_true, 1, 0.8)
    )
    assert coverage == pytest.approx(0.8, abs=0.015)
    # The 80 % band of N(0, 10) errors is 2 * 1.2816 * 10 wide.
    assert width == pytest.approx(25.6, rel=0.05)


def test_relative_score_scales_the_band_with_the_forecast():
    calibration = (np.array([110.0, 30.0]), np.array([100.0, 20.0]))
    y_pred = np.array([5.0, 50.0, 200.0])
    lower, upper = conformal_interval(RELATIVE, calibration, y_pred, None, 1, 0.5)
    # Scores 10/100 and 10/20: the median rank ceil(3 * 0.5) = 2 gives 0.5.
    np.testing.assert_allclose(upper - y_pred, 0.5 * np.maximum(y_pred, FLOOR))
    np.testing.assert_allclose(y_pred - lower, upper - y_pred)


def test_adaptive_level_recovers_coverage_after_a_shift():
    """Errors three times larger than in calibration: the static band
    under-covers, ACI widens until it covers about 80 % again."""
    calibration = _forecasts(4000, 10.0, seed=0)
    y_true, y_pred = _forecasts(8000, 30.0, seed=2)
    static = interval_scores(
        y_true, *conformal_interval(ABSOLUTE, calibration, y_pred, y_true, 6, 0.8)
    )
    adaptive = interval_scores(
        y_true, *conformal_interval(ADAPTIVE, calibration, y_pred, y_true, 6, 0.8)
    )
    assert static[0] < 0.4
    assert adaptive[0] == pytest.approx(0.8, abs=0.03)
    assert adaptive[1] > 2 * static[1]


@pytest.mark.parametrize("horizon", [1, 6, 24])
def test_adaptive_interval_reads_only_targets_already_observed(horizon):
    """The band of the forecast issued at t depends on the targets of the
    forecasts issued up to t - horizon, not on any later one."""
    calibration = _forecasts(500, 10.0, seed=0)
    y_true, y_pred = _forecasts(300, 25.0, seed=3)
    lower, upper = conformal_interval(
        ADAPTIVE, calibration, y_pred, y_true, horizon, 0.8
    )
    t = 200
    changed = y_true.copy()
    changed[t - horizon + 1 :] += 1000.0  # the future, as seen at t
    lower2, upper2 = conformal_interval(
        ADAPTIVE, calibration, y_pred, changed, horizon, 0.8
    )
    np.testing.assert_array_equal(lower2[: t + 1], lower[: t + 1])
    np.testing.assert_array_equal(upper2[: t + 1], upper[: t + 1])
    # ... while the target of the forecast issued at t - horizon does count:
    # a hit there gives a narrower band at t than a miss.
    hit, miss = y_true.copy(), y_true.copy()
    hit[t - horizon] = y_pred[t - horizon]
    miss[t - horizon] = y_pred[t - horizon] + 1000.0
    after_hit, after_miss = (
        conformal_interval(ADAPTIVE, calibration, y_pred, truth, horizon, 0.8)[1][t]
        for truth in (hit, miss)
    )
    assert after_hit < after_miss


def test_choose_method_takes_the_narrowest_close_to_the_target():
    # Errors proportional to the level: the relative score is narrower.
    rng = np.random.default_rng(4)
    y_pred = rng.uniform(20, 400, size=6000)
    y_true = y_pred * (1 + 0.3 * rng.standard_normal(6000))
    method, scores = choose_method(y_true, y_pred, 1, 0.8)
    assert set(scores) == set(METHODS)
    assert method.score == "relative"
    coverage, width = scores[method]
    assert abs(coverage - 0.8) <= 0.02
    assert width == min(w for c, w in scores.values() if abs(c - 0.8) <= 0.02)


def test_choose_method_uses_only_the_block_it_is_given():
    y_true, y_pred = _forecasts(2000, 10.0, seed=5)
    first, _ = choose_method(y_true, y_pred, 1, 0.8)
    again, _ = choose_method(y_true.copy(), y_pred.copy(), 1, 0.8)
    assert first == again
    assert str(IntervalMethod("relative", True)) == "relative conformal, adaptive (ACI)"
