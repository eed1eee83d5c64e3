"""The Beijing study's input sets with a look-ahead: the calendar and the
observed weather of the target hours, read by every model at the hours it
forecasts, and reported apart where the look-ahead is a perfect forecast."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from sklstm.beijing import StudySettings, run_study
from sklstm.beijing._input_sets import INPUT_SETS, TIME, WEATHER, InputSet
from sklstm.beijing._markdown import markdown_report
from sklstm.beijing._models import (
    fit_columns,
    fit_lags,
    lag_columns,
    lag_pipeline,
    lstm_columns,
)
from sklstm.beijing._protocol import QUICK, predict_rows, rows_in, targets
from sklstm.beijing._report import UPPER_BOUND, split_upper_bound

from ._beijing import quiet

CALENDAR_NAMES = [
    f"{cycle}_{part}"
    for cycle in ("hour", "day_of_week", "day_of_year")
    for part in ("sin", "cos")
]


def test_future_rows_keep_only_the_known_ahead_values():
    times = pd.date_range("2014-01-01", periods=6, freq="h")
    frame = pd.DataFrame(
        {"pollution": np.arange(6.0), "temp": 10 + np.arange(6.0),
         "wnd_dir": list("ABABAB")},
        index=times,
    )  # fmt: skip
    inputs = InputSet(("pollution", "temp", "wnd_dir"), True, ("temp",))
    rows = inputs.rows(frame, 1, 3, lead=2)
    assert list(rows.columns) == ["pollution", "temp", "wnd_dir", TIME]
    assert list(rows.index) == list(times[1:5])
    pd.testing.assert_frame_equal(
        rows.iloc[:2, :3], frame.iloc[1:3], check_freq=False
    )  # observed rows: as they are
    assert rows["pollution"].iloc[2:].isna().all()  # past-only: blanked
    assert rows["wnd_dir"].iloc[2:].isna().all()
    assert rows["temp"].iloc[2:].tolist() == [13.0, 14.0]  # known ahead
    assert (rows[TIME] == rows.index).all()
    assert inputs.lead((1, 6)) == 6 and INPUT_SETS["multivariate"].lead((6,)) == 0


@pytest.mark.parametrize(
    "name, make_columns, known",
    [
        ("calendar", lag_columns, CALENDAR_NAMES),
        ("weather-ahead", lag_columns, [*WEATHER, *CALENDAR_NAMES]),
        ("weather-ahead", lstm_columns, [*WEATHER, *CALENDAR_NAMES]),
    ],
)
def test_the_windower_looks_ahead_at_the_known_columns_only(
    frame, name, make_columns, known
):
    inputs = INPUT_SETS[name]
    columns = fit_columns(make_columns(inputs), frame, QUICK, inputs)
    pipeline = lag_pipeline(columns, Ridge(), lead=6)
    names = columns.get_feature_names_out()
    looked_at = names[pipeline["lags"].known_ahead]
    # One-hot wind direction: one column per direction, all known ahead.
    expected = {column for column in names for name in known if column.startswith(name)}
    assert set(looked_at) == expected
    assert "pollution" not in looked_at
    assert len(expected) >= len(known)


def test_lag_models_read_the_true_look_ahead_and_stop_on_the_validation_year(frame):
    """Gradient boosting on the weather-ahead set: the training rows end with
    their future rows, its early stopping scores the validation year's rows
    (windowed from their true past), and its forecasts of the last test row
    read the observed weather after it, not padding."""
    inputs, horizon = INPUT_SETS["weather-ahead"], 6
    y = targets(frame, (horizon,))[f"pollution_h{horizon}"]
    columns = fit_columns(lag_columns(inputs), frame, QUICK, inputs)
    regressor = HistGradientBoostingRegressor(
        max_iter=30, early_stopping=True, n_iter_no_change=30, random_state=0
    )
    model = lag_pipeline(columns, regressor, lead=horizon)
    fit_lags(model, frame, y, QUICK, inputs, horizon)
    assert model["lags"].lead == horizon
    n_lags = model["lags"].window * len(columns.get_feature_names_out())
    assert model[-1].n_features_in_ > n_lags  # the leads
    validated = rows_in(QUICK.validation, frame.index, horizon)
    y_val = y[validated].to_numpy()
    error = y_val - predict_rows(model, frame, validated)
    # scikit-learn's validation score: minus the half squared error.
    assert model[-1].validation_score_[-1] == pytest.approx(
        -0.5 * np.mean(error**2), rel=1e-6
    )
    tested = rows_in(QUICK.test, frame.index, horizon)
    last = int(np.flatnonzero(tested)[-1])
    y_pred = predict_rows(model, frame, tested)
    with_padding = model.predict(
        frame.iloc[last - 30 : last + 1].assign(
            **{TIME: frame.index[last - 30 : last + 1]}
        )
    )
    assert y_pred[-1] != pytest.approx(with_padding[-1])


@pytest.fixture(scope="module")
def look_ahead_study(frame):
    settings = StudySettings.quick(
        horizons=(1, 6), inputs=("multivariate", "calendar", "weather-ahead"),
        epochs=1, hidden=4, hgb_max_iter=5, seeds=(0,), folds=(2014,),
        intervals=None, n_jobs=1,
    )  # fmt: skip
    return run_study(settings, frame=frame, log=quiet)


def test_every_model_of_a_look_ahead_set_reads_the_hours_it_forecasts(
    look_ahead_study,
):
    models = look_ahead_study.models
    for inputs in ("calendar", "weather-ahead"):
        for model_name, step in [
            ("lstm", "windows"),
            ("ridge", "lags"),
            ("hist gradient boosting", "lags"),
        ]:
            for h in (1, 6):
                (model,) = models["2014", inputs, model_name, h]
                assert model[step].lead == h
    (model,) = models["2014", "multivariate", "ridge", 6]
    assert model["lags"].lead == 0
    # With a look-ahead, one Ridge per horizon (for the skill figure too).
    ridges = {id(models["2014", "calendar", "ridge", h][0]) for h in range(1, 25)}
    assert len(ridges) == 24


def test_the_perfect_forecast_set_is_reported_apart(look_ahead_study):
    results = look_ahead_study.results
    deployable, upper_bound = split_upper_bound(results)
    assert set(upper_bound["inputs"]) == {"weather-ahead"}
    assert "weather-ahead" not in set(deployable["inputs"])
    # Its LSTM is tested against the best baseline of the same information.
    lstm = upper_bound.query("model == 'lstm'")
    assert set(lstm["dm_against"]) <= {"ridge", "hist gradient boosting"}
    report = markdown_report(look_ahead_study, "sklstm-beijing")
    deployable_part, upper_part = report.split(f"## {UPPER_BOUND}")
    assert "| weather-ahead |" not in deployable_part
    assert "| calendar |" in deployable_part and "| weather-ahead |" in upper_part
    assert "| calendar |" not in upper_part
    plotted = {
        label for curves in look_ahead_study.forecasts.values() for label in curves
    }
    assert "LSTM (calendar)" in plotted
    assert not any("weather-ahead" in label for label in plotted)
