"""Learning-rate schedules (sklstm._lstm._schedules): step sizes against
their formulas, in the formulas' functions and in training, continued by
partial_fit and warm_start, and after pickle and skops round trips."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMRegressor
from sklstm._lstm._schedules import (
    cosine_step_size,
    invscaling_step_size,
    one_cycle_step_size,
)

from ._helpers import fitted_weights, sequences

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LR = 0.05


def test_cosine_without_warmup_falls_from_the_rate_to_zero():
    assert cosine_step_size(LR, 0.0, 10, 0.0) == pytest.approx(LR)
    assert cosine_step_size(LR, 5.0, 10, 0.0) == pytest.approx(LR / 2)
    assert cosine_step_size(LR, 10.0, 10, 0.0) == pytest.approx(0.0, abs=1e-15)
    for position in (1.3, 7.9):
        expected = LR / 2 * (1 + math.cos(math.pi * position / 10))
        assert cosine_step_size(LR, position, 10, 0.0) == pytest.approx(expected)


def test_cosine_warms_up_linearly_then_decays():
    # Warm-up over 0.2 * 10 = 2 epochs, then a cosine over the other 8.
    assert cosine_step_size(LR, 0.5, 10, 0.2) == pytest.approx(LR * 0.5 / 2)
    assert cosine_step_size(LR, 2.0, 10, 0.2) == pytest.approx(LR)
    expected = LR / 2 * (1 + math.cos(math.pi * (6.0 - 2.0) / 8))
    assert cosine_step_size(LR, 6.0, 10, 0.2) == pytest.approx(expected)


def test_one_cycle_rises_from_a_25th_and_ends_far_below():
    start, end = LR / 25, LR / 25 / 1e4
    assert one_cycle_step_size(LR, 0.0, 10, 0.3) == pytest.approx(start)
    assert one_cycle_step_size(LR, 3.0, 10, 0.3) == pytest.approx(LR)
    assert one_cycle_step_size(LR, 10.0, 10, 0.3) == pytest.approx(end)
    rising = start + (LR - start) / 2 * (1 - math.cos(math.pi * 1.0 / 3))
    assert one_cycle_step_size(LR, 1.0, 10, 0.3) == pytest.approx(rising)
    falling = end + (LR - end) / 2 * (1 + math.cos(math.pi * 2.0 / 7))
    assert one_cycle_step_size(LR, 5.0, 10, 0.3) == pytest.approx(falling)


def test_invscaling_is_mlps():
    assert invscaling_step_size(LR, 0, 0.5) == LR
    assert invscaling_step_size(LR, 99, 0.5) == pytest.approx(LR / 10)
    assert invscaling_step_size(LR, 7, 1.0) == pytest.approx(LR / 8)


# -- in training ---------------------------------------------------------
#
# Plain SGD (no momentum) on one full batch, in order: an epoch of a
# schedule is then exactly an epoch of "constant" at the schedule's step
# size, so a warm-started chain of one-epoch constant fits at the step
# sizes the formulas give must land on the same weights.

N_SAMPLES = 24
COMMON = dict(
    hidden_layer_sizes=(3,), solver="sgd", momentum=0.0, batch_size=N_SAMPLES,
    shuffle=False, dtype="float64", random_state=0, learning_rate_init=LR,
)  # fmt: skip


def _data():
    return sequences(n_samples=N_SAMPLES)


def _by_hand(step_sizes):
    """Weights after one constant-step epoch per step size, warm-started."""
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="constant")
    for index, step in enumerate(step_sizes):
        model.set_params(warm_start=index > 0, learning_rate_init=step, max_iter=1)
        model.fit(X, y)
    return fitted_weights(model)


def _cosine(position, horizon=4):
    """``"cosine"`` without warm-up at a batch's midpoint, by its formula."""
    return LR / 2 * (1 + math.cos(math.pi * position / horizon))


def test_step_sizes_of_cosine_in_training_follow_the_formula():
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="cosine", max_iter=4).fit(X, y)
    expected = _by_hand([_cosine(epoch + 0.5) for epoch in range(4)])
    np.testing.assert_allclose(fitted_weights(model), expected, rtol=1e-12)
    # A learning rate 10 % off lands elsewhere.
    off = _by_hand([1.1 * _cosine(epoch + 0.5) for epoch in range(4)])
    assert not np.allclose(fitted_weights(model), off, rtol=1e-6)


def test_one_cycle_takes_its_steps_at_batch_midpoints():
    X, y = _data()
    params = dict(learning_rate="one_cycle", warmup_fraction=0.5, max_iter=4)
    model = LSTMRegressor(**COMMON, **params).fit(X, y)
    start = LR / 25
    steps = [
        start + (LR - start) / 2 * (1 - math.cos(math.pi * p / 2)) for p in (0.5, 1.5)
    ]
    end = start / 1e4
    steps += [
        end + (LR - end) / 2 * (1 + math.cos(math.pi * p / 2)) for p in (0.5, 1.5)
    ]
    np.testing.assert_allclose(fitted_weights(model), _by_hand(steps), rtol=1e-12)


def test_invscaling_counts_the_samples_seen():
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="invscaling", power_t=0.25)
    model.set_params(max_iter=3).fit(X, y)
    steps = [LR / (t + 1) ** 0.25 for t in (0, N_SAMPLES, 2 * N_SAMPLES)]
    np.testing.assert_allclose(fitted_weights(model), _by_hand(steps), rtol=1e-12)


def test_partial_fit_continues_the_schedule_and_restarts_past_max_iter():
    """One epoch per call, the cycle of max_iter=4 epochs, then a new one."""
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="cosine", max_iter=4)
    for _ in range(6):
        model.partial_fit(X, y)
    positions = [0.5, 1.5, 2.5, 3.5, 0.5, 1.5]
    expected = _by_hand([_cosine(p) for p in positions])
    np.testing.assert_allclose(fitted_weights(model), expected, rtol=1e-12)


def test_warm_start_continues_the_schedule():
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="cosine", max_iter=4)
    model.partial_fit(X, y).partial_fit(X, y)  # epochs 0 and 1 of the cycle
    model.set_params(warm_start=True).fit(X, y)  # 2, 3, then 0, 1 again
    assert model.n_iter_ == 6
    positions = [0.5, 1.5, 2.5, 3.5, 0.5, 1.5]
    expected = _by_hand([_cosine(p) for p in positions])
    np.testing.assert_allclose(fitted_weights(model), expected, rtol=1e-12)


def test_a_new_schedule_starts_at_its_beginning():
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="constant", max_iter=4)
    model.partial_fit(X, y).partial_fit(X, y)
    model.set_params(learning_rate="cosine").partial_fit(X, y)
    expected = _by_hand([LR, LR, _cosine(0.5)])
    np.testing.assert_allclose(fitted_weights(model), expected, rtol=1e-12)


def _skops_round_trip(model):
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(model)
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


@pytest.mark.parametrize(
    "round_trip", [lambda m: pickle.loads(pickle.dumps(m)), _skops_round_trip]
)
def test_schedule_survives_a_round_trip(round_trip):
    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="cosine", max_iter=4)
    model.partial_fit(X, y).partial_fit(X, y)
    loaded = round_trip(model)
    assert loaded._training_state.schedule.epochs == 2
    loaded.partial_fit(X, y)
    model.partial_fit(X, y)
    np.testing.assert_allclose(fitted_weights(loaded), fitted_weights(model), rtol=0)
    expected = _by_hand([_cosine(p) for p in (0.5, 1.5, 2.5)])
    np.testing.assert_allclose(fitted_weights(loaded), expected, rtol=1e-12)


def test_saved_schedule_must_be_a_name_and_a_count():
    from sklstm._persistence import training_state_from_dict, training_state_to_dict

    X, y = _data()
    model = LSTMRegressor(**COMMON, learning_rate="cosine", max_iter=2).fit(X, y)
    saved = training_state_to_dict(model._training_state)
    assert saved["schedule"] == {"name": "cosine", "epochs": 2}
    for bad in ({"name": "os.system", "epochs": 1}, {"name": "cosine", "epochs": -1},
                {"name": "cosine", "epochs": 1.5}, "cosine"):  # fmt: skip
        with pytest.raises(ValueError, match="learning-rate schedule"):
            training_state_from_dict({**saved, "schedule": bad}, model._progress())
    # Files saved before schedules existed load with a fresh one.
    del saved["schedule"]
    state = training_state_from_dict(saved, model._progress())
    assert (state.schedule.name, state.schedule.epochs) == ("constant", 0)


def test_schedules_apply_to_adam():
    X, y = _data()
    adam = {**COMMON, "solver": "adam"}
    constant = LSTMRegressor(**adam, learning_rate="constant", max_iter=3).fit(X, y)
    cosine = LSTMRegressor(**adam, learning_rate="cosine", max_iter=3).fit(X, y)
    assert not np.allclose(fitted_weights(constant), fitted_weights(cosine))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LSTMRegressor(**adam, learning_rate="one_cycle", max_iter=3).fit(X, y)
