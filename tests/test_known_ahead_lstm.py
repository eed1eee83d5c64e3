"""The LSTM reads known-ahead windows as sequences: it learns what lies ahead."""

import numpy as np
import pytest
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline

from sklstm import LSTMRegressor, SequenceWindower

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_ROWS, N_TRAIN, LEAD, WINDOW = 400, 300, 2, 4
LSTM_PARAMS = dict(
    hidden_layer_sizes=8,
    max_iter=60,
    learning_rate_init=0.01,
    batch_size=32,
    random_state=0,
    n_threads=1,
)


@pytest.fixture(scope="module")
def future_covariate():
    """Rows of (noise, covariate), the last LEAD rows future rows, and y.

    ``y[t]`` is the covariate of rows ``t + 1`` and ``t + 2``: nothing known
    at ``t`` predicts it; the covariate known ahead gives it exactly.
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS + LEAD, 2))
    y = X[1 : N_ROWS + 1, 1] + X[2 : N_ROWS + 2, 1]
    X[N_ROWS:, 0] = np.nan  # the noise is past-only: unknown after the end
    return X, y


def _with_future_rows(X, stop):
    """Rows ``:stop`` and the LEAD rows after, past-only column blanked."""
    future = X[stop : stop + LEAD].copy()
    future[:, 0] = np.nan
    return np.vstack([X[:stop], future])


def test_the_lstm_learns_a_target_known_only_ahead_and_cannot_without(
    future_covariate, host_engine_name
):
    X, y = future_covariate
    model = make_pipeline(
        SequenceWindower(window=WINDOW, known_ahead=[1], lead=LEAD),
        LSTMRegressor(**LSTM_PARAMS),
    ).fit(_with_future_rows(X, N_TRAIN), y[:N_TRAIN])
    y_pred = model.predict(X)
    assert y_pred.shape == (N_ROWS,)
    assert r2_score(y[N_TRAIN:], y_pred[N_TRAIN:]) > 0.9
    # The same LSTM on the past rows alone cannot.
    past_only = make_pipeline(
        SequenceWindower(window=WINDOW), LSTMRegressor(**LSTM_PARAMS)
    ).fit(X[:N_TRAIN], y[:N_TRAIN])
    y_pred = past_only.predict(X[:N_ROWS])
    assert r2_score(y[N_TRAIN:], y_pred[N_TRAIN:]) < 0.2


def test_multi_output_partial_fit_traces_and_flattened_input(future_covariate):
    X, y = future_covariate
    windower = SequenceWindower(window=WINDOW, known_ahead=[1], lead=LEAD)
    windows = windower.fit_transform(X)
    Y = np.column_stack([y, X[1 : N_ROWS + 1, 1]])  # two horizons at once
    lstm = LSTMRegressor(**{**LSTM_PARAMS, "max_iter": 3}).fit(windows, Y)
    assert lstm.predict(windows).shape == (N_ROWS, 2)
    lstm.partial_fit(windows[:50], Y[:50])
    traces = lstm.trace_memory(windows[:5])
    # The recurrence runs on through the LEAD future steps.
    assert traces.long_term[0].shape == (5, WINDOW + LEAD, 8)
    # The same windows flattened, read with n_timesteps, give the same model.
    flat = LSTMRegressor(**{**LSTM_PARAMS, "max_iter": 3}, n_timesteps=WINDOW + LEAD)
    flat.fit(windows.reshape(N_ROWS, -1), Y)
    np.testing.assert_allclose(
        flat.predict(windows.reshape(N_ROWS, -1)),
        LSTMRegressor(**{**LSTM_PARAMS, "max_iter": 3})
        .fit(windows, Y)
        .predict(windows),
        rtol=1e-5,
        atol=1e-6,
    )
