"""The stopping rule (sklstm._lstm._stopping): on synthetic noisy loss
curves, and in the estimators (max_iter, ConvergenceWarning, early
stopping)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._lstm._stopping import PLATEAU_BAND, StoppingRule, loss_has_plateaued

from ._helpers import sequences

PATIENCE = 20


def _stop_epoch(curve, rule):
    """The 1-based epoch at which ``rule`` stops on ``curve``, or None."""
    for epoch, loss in enumerate(curve, start=1):
        if rule(loss):
            return epoch
    return None


def _mlp_counter_stop(curve, tol=1e-4, patience=10):
    """Where MLPRegressor's rule (and its default patience) would stop."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > patience:
            return epoch
    return None


def _falling_then_flat(n_epochs, plateau_from, noise, seed):
    """A loss falling as a parabola to 0.2 at ``plateau_from``, then flat,
    times ``1 + noise * e`` (``e`` standard normal): a recurrent network's
    epoch losses on small batches."""
    epochs = np.arange(n_epochs)
    clean = 0.2 + 0.8 * np.clip(1 - epochs / plateau_from, 0, None) ** 2
    return clean * (1 + noise * np.random.default_rng(seed).standard_normal(n_epochs))


@pytest.mark.parametrize("seed", range(5))
def test_rule_does_not_stop_while_the_noisy_loss_still_falls(seed):
    curve = _falling_then_flat(400, plateau_from=150, noise=0.08, seed=seed)
    stop = _stop_epoch(curve, StoppingRule(1e-4, PATIENCE, validation=False))
    # It stops on the plateau, within a few windows of its start.
    assert stop is not None and 150 <= stop <= 150 + 5 * PATIENCE, stop


def test_mlp_counter_alone_stops_the_same_curves_early():
    """The curves above are the case the rule is for: MLPRegressor's counter
    ends most of them while the loss is still falling."""
    stops = [
        _mlp_counter_stop(_falling_then_flat(400, 150, 0.08, seed)) for seed in range(5)
    ]
    assert all(stop < 100 for stop in stops), stops


@pytest.mark.parametrize("seed", range(3))
def test_rule_stops_on_a_flat_noisy_loss(seed):
    curve = 0.5 * (1 + 0.05 * np.random.default_rng(seed).standard_normal(300))
    stop = _stop_epoch(curve, StoppingRule(1e-4, PATIENCE, validation=False))
    assert stop is not None and 2 * PATIENCE <= stop <= 5 * PATIENCE, stop


def test_rule_goes_on_while_the_loss_hovers_above_its_best():
    """A loss that jumped (an unlucky step) and sits 50 % above its best is
    not a plateau worth keeping: no stop."""
    rng = np.random.default_rng(0)
    curve = np.r_[np.linspace(1.0, 0.2, 50), np.full(15, 0.2), np.full(200, 0.3)]
    curve *= 1 + 0.01 * rng.standard_normal(curve.size)
    assert _stop_epoch(curve, StoppingRule(1e-4, PATIENCE, validation=False)) is None


def test_rule_does_not_stop_just_after_a_jump():
    """A plateau at 0.04; at the epoch where the rule would stop, one unlucky
    step sends the loss back to 0.7 (ItalyPowerDemand at Adam 1e-2, seed 47,
    did this at epoch 152). The windows' medians still read the plateau;
    the rule waits until an epoch is back at that level, so the weights
    kept are not the jump's."""
    rng = np.random.default_rng(0)
    falling = np.linspace(0.7, 0.05, 40)
    plateau = 0.04 * (1 + 0.02 * rng.standard_normal(200))
    calm = _stop_epoch(
        np.r_[falling, plateau], StoppingRule(1e-4, PATIENCE, validation=False)
    )
    assert calm is not None
    recovery = np.geomspace(0.7, 0.04, 15)
    curve = np.r_[falling, plateau][: calm - 1]
    curve = np.r_[curve, recovery, plateau[calm - 41 :]]
    stop = _stop_epoch(curve, StoppingRule(1e-4, PATIENCE, validation=False))
    assert stop is not None and stop > calm, (calm, stop)
    assert curve[stop - 1] <= 0.04 * (1 + 2 * PLATEAU_BAND), curve[stop - 1]


def test_plateau_needs_two_windows_and_the_best_level():
    flat = [1.0] * 7
    assert not loss_has_plateaued(flat, window=4, tol=1e-4, best_median=1.0)
    assert loss_has_plateaued([*flat, 1.0], window=4, tol=1e-4, best_median=1.0)
    falling = [2.0] * 4 + [1.0] * 4
    assert not loss_has_plateaued(falling, window=4, tol=1e-4, best_median=1.0)
    # The tolerance is relative to the loss: a 1 % fall passes tol=0.02.
    assert loss_has_plateaued([1.0] * 4 + [0.99] * 4, 4, 0.02, best_median=0.99)
    above = 1.0 + 1.5 * PLATEAU_BAND
    assert not loss_has_plateaued([above] * 8, 4, tol=1e-4, best_median=1.0)
    assert loss_has_plateaued([above] * 8, 4, tol=1e-4, best_median=above)
    # The last epoch must be on the plateau, not a jump above it.
    jumped = [*flat, 1.0 + 1.5 * PLATEAU_BAND]
    assert not loss_has_plateaued(jumped, window=4, tol=1e-4, best_median=1.0)


def test_a_lucky_epoch_does_not_set_the_level():
    """On a noisy plateau the best single epoch sits far below the typical
    loss; the level is the best window's median, so the rule still stops."""
    curve = 0.5 * (1 + 0.05 * np.random.default_rng(0).standard_normal(300))
    assert curve.min() < 0.5 * (1 - PLATEAU_BAND)
    assert _stop_epoch(curve, StoppingRule(1e-4, PATIENCE, validation=False))


def test_validation_rule_is_mlps_counter():
    """With a validation score, stop once n_iter_no_change + 1 epochs fail to
    beat the best by tol, as in MLPRegressor; the training loss is ignored."""
    rule = StoppingRule(0.01, 2, validation=True)
    scores = [0.5, 0.6, 0.605, 0.59, 0.609, 0.7]
    stops = [rule(1.0 / epoch, score) for epoch, score in enumerate(scores, 1)]
    assert stops == [False, False, False, False, True, False]


def test_planned_schedule_is_not_stopped_by_the_loss():
    rule = StoppingRule(1e9, 1, validation=False, watch_loss=False)
    assert not any(rule(1.0) for _ in range(50))


def _small(**params):
    # "constant": the training loss stops only a schedule that is not planned.
    defaults = dict(
        hidden_layer_sizes=3, learning_rate="constant", random_state=0, batch_size=40
    )
    return LSTMRegressor(**{**defaults, **params})


def test_n_iter_no_change_of_max_iter_runs_exactly_max_iter_epochs():
    X, y = sequences()
    # Every epoch counts as no improvement (a huge tol)...
    stopping = _small(tol=1e9, n_iter_no_change=2, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert stopping.fit(X, y).n_iter_ == 4  # 2 windows of 2, count 3 > 2
    # ... yet n_iter_no_change=max_iter runs them all, and says so.
    recipe = _small(tol=1e9, n_iter_no_change=30, max_iter=30)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(30\)"):
        assert recipe.fit(X, y).n_iter_ == 30


@pytest.mark.parametrize("schedule", ["cosine", "one_cycle"])
def test_planned_schedule_runs_max_iter_without_a_convergence_warning(schedule):
    X, y = sequences()
    model = _small(learning_rate=schedule, tol=1e9, n_iter_no_change=1, max_iter=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert model.fit(X, y).n_iter_ == 7


@pytest.mark.parametrize("estimator", [LSTMRegressor, LSTMClassifier])
def test_the_default_schedule_is_cosine_and_runs_max_iter(estimator):
    """The default (chosen in benchmarks/README.md, issue 36) is the planned
    cosine: every max_iter epoch runs, whatever the loss does."""
    X, y = sequences()
    if estimator is LSTMClassifier:
        y = y > np.median(y)
    params = dict(hidden_layer_sizes=3, tol=1e9, n_iter_no_change=1, max_iter=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        default = estimator(random_state=0, **params).fit(X, y)
    assert default.n_iter_ == 7
    cosine = estimator(learning_rate="cosine", random_state=0, **params).fit(X, y)
    np.testing.assert_array_equal(default.predict(X), cosine.predict(X))


def test_classifier_stops_by_the_same_rule():
    X, _ = sequences(n_samples=60)
    y = X[:, -1, 0] > 0
    model = LSTMClassifier(
        hidden_layer_sizes=3,
        learning_rate="constant",
        tol=1e9,
        n_iter_no_change=3,
        max_iter=50,
        random_state=0,
    ).fit(X, y)
    assert model.n_iter_ == 6


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_early_stopping_still_stops_every_schedule(schedule):
    X, y = sequences(n_samples=100)
    model = _small(
        learning_rate=schedule, early_stopping=True, max_iter=500,
        n_iter_no_change=2, tol=0.5,
    ).fit(X, y)  # fmt: skip
    # No epoch beats the first score by 0.5: stop after 1 + 3 epochs.
    assert model.n_iter_ == 4
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_verbose_output_says_why_training_stopped(capsys):
    X, y = sequences()
    _small(tol=1e9, n_iter_no_change=2, max_iter=30, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert "median over 2 epochs no longer falling: stopping." in out
