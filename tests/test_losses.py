"""The losses: values against their closed forms, gradients against finite
differences, and the output activations at extreme logits."""

import numpy as np
import pytest

from sklstm._lstm._losses import (
    LOSSES,
    REGRESSION_LOSSES,
    loss_and_gradient,
    sigmoid,
    softmax,
)

RNG = np.random.default_rng(0)
Y_TRUE = RNG.standard_normal((7, 2))
Y_PRED = Y_TRUE + 1.5 * RNG.standard_normal((7, 2))
WEIGHT = RNG.uniform(0.5, 2.0, 7)
LABELS = np.eye(3)[RNG.integers(0, 3, 7)]
LOGITS = 2 * RNG.standard_normal((7, 3))


def _closed_form(name, y_true, y_pred, quantile=None):
    """Per-value loss, written from the module docstring's formulas."""
    r = y_pred - y_true
    if name == "squared_error":
        return r**2 / 2
    if name == "absolute_error":
        return np.abs(r)
    if name == "huber":
        return np.where(np.abs(r) <= 1, r**2 / 2, np.abs(r) - 0.5)
    if name == "quantile":
        return np.where(r > 0, (1 - quantile) * r, -quantile * r)
    if name == "log_loss":  # binary cross-entropy of sigmoid(z) per output
        p = 1 / (1 + np.exp(-y_pred))
        return -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    p = np.exp(y_pred) / np.exp(y_pred).sum(axis=1, keepdims=True)
    return -(y_true * np.log(p))  # softmax_log_loss


CASES = [
    *((name, Y_TRUE, Y_PRED, None) for name in REGRESSION_LOSSES if name != "quantile"),
    ("quantile", Y_TRUE, Y_PRED, 0.8),
    ("log_loss", (LABELS[:, :2] > 0).astype(float), LOGITS[:, :2], None),
    ("softmax_log_loss", LABELS, LOGITS, None),
]


@pytest.mark.parametrize("name, y_true, y_pred, quantile", CASES, ids=lambda c: c)
def test_losses_are_their_weighted_closed_forms(name, y_true, y_pred, quantile):
    loss, _ = loss_and_gradient(name, y_true, y_pred, WEIGHT, np, quantile)
    per_sample = _closed_form(name, y_true, y_pred, quantile)
    # Regression losses average over outputs; classification losses sum.
    reduce = np.sum if LOSSES[name].classification else np.mean
    expected = np.average(reduce(per_sample, axis=1), weights=WEIGHT)
    assert float(loss) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name, y_true, y_pred, quantile", CASES, ids=lambda c: c)
def test_gradients_match_central_differences(name, y_true, y_pred, quantile):
    _, gradient = loss_and_gradient(name, y_true, y_pred.copy(), WEIGHT, np, quantile)
    step = 1e-6
    numeric = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        shifted = []
        for sign in (1, -1):
            moved = y_pred.copy()
            moved[index] += sign * step
            shifted.append(
                loss_and_gradient(name, y_true, moved, WEIGHT, np, quantile)[0]
            )
        numeric[index] = (shifted[0] - shifted[1]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)


def test_every_loss_is_tested_and_the_regressor_takes_the_regression_ones():
    assert {case[0] for case in CASES} == set(LOSSES)
    assert set(REGRESSION_LOSSES) == {
        "squared_error",
        "absolute_error",
        "huber",
        "quantile",
    }


def test_the_pinball_loss_is_least_at_the_quantile():
    values = np.random.default_rng(1).standard_normal(1001)[:, None]
    candidates = np.linspace(-2, 2, 401)
    losses = [
        float(
            loss_and_gradient(
                "quantile", values, np.full_like(values, c), np.ones(1001), np, 0.9
            )[0]
        )
        for c in candidates
    ]
    best = candidates[int(np.argmin(losses))]
    assert best == pytest.approx(np.quantile(values, 0.9), abs=0.01)


def test_activations_stay_finite_at_extreme_logits():
    logits = np.array([[-1000.0, 0.0, 1000.0]])
    np.testing.assert_allclose(sigmoid(np, logits), [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(softmax(np, logits), [[0.0, 0.0, 1.0]])
    loss, gradient = loss_and_gradient(
        "log_loss", np.array([[1.0, 0.0, 1.0]]), logits, np.ones(1), np
    )
    assert float(loss) == pytest.approx(1000.0 + np.log(2))
    assert np.isfinite(gradient).all()


def test_zero_weights_leave_their_samples_out():
    weight = WEIGHT.copy()
    weight[:3] = 0
    loss, gradient = loss_and_gradient("huber", Y_TRUE, Y_PRED, weight, np)
    kept, kept_gradient = loss_and_gradient(
        "huber", Y_TRUE[3:], Y_PRED[3:], weight[3:], np
    )
    assert float(loss) == pytest.approx(float(kept))
    np.testing.assert_array_equal(gradient[:3], 0)
    np.testing.assert_allclose(gradient[3:], kept_gradient)
