""":func:`sklstm.beijing.run_study`: the models it fits, its seeds, its scores
and DM columns, and the report's description of its settings."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMRegressor
from sklstm.beijing import StudySettings, run_study, wide_table
from sklstm.beijing._diebold_mariano import dm_test
from sklstm.beijing._markdown import study_description
from sklstm.beijing._models import (
    persistence,
    seasonal_naive,
)
from sklstm.beijing._protocol import (
    QUICK,
    Period,
    Protocol,
    predict_rows,
    rows_in,
    targets,
)

from ._beijing import (
    quiet,
    scores,
)


def test_study_models_are_pipelines_on_the_same_rows(frame):
    settings = StudySettings.quick(
        horizons=(1, 6), inputs=("multivariate",), epochs=1, hidden=8,
        hgb_max_iter=5, seeds=(0,), folds=(2014,), intervals=None, joint=True,
        n_jobs=1,  # in this process: no workers to start
    )  # fmt: skip
    result = run_study(settings, frame=frame, log=quiet)
    # --joint: one LSTM for the 24 horizons, listed under each.
    (lstm,) = result.models["2014", "multivariate", "lstm", 6]
    assert result.models["2014", "multivariate", "lstm", 1][0] is lstm
    assert isinstance(lstm, Pipeline)
    assert [name for name, _ in lstm.steps] == ["columns", "windows", "lstm"]
    assert isinstance(lstm[-1], LSTMRegressor) and lstm[-1].early_stopping
    assert lstm[-1].n_outputs_ == 24
    # The pipeline predicts from raw rows, horizon h in output column h - 1.
    rows = rows_in(QUICK.test, frame.index, 6)
    y_pred = predict_rows(lstm, frame, rows)
    assert y_pred.shape == (rows.sum(), 24) and np.isfinite(y_pred).all()
    forecast = result.forecasts[6]["LSTM (multivariate)"]
    # float32 forecasts made in other batches: the scalers' and the NumPy
    # engine's products go through BLAS, which may round a row by the rows
    # beside it, so the same row agrees to a few float32 ulps, not to bits.
    np.testing.assert_allclose(
        forecast.to_numpy(), y_pred[:, 5], rtol=32 * np.finfo(np.float32).eps
    )
    assert forecast.index[0] == QUICK.test.first
    assert forecast.index[-1] == QUICK.test.last
    # The table's scores are those of the saved forecasts against the truth.
    rmse, mae = scores(result.truth[forecast.index], forecast)
    query = "model == 'lstm' and horizon == 6 and test_year == '2014'"
    (row,) = result.results.query(query).itertuples()
    assert row.rmse == pytest.approx(rmse, rel=1e-12)
    assert row.mae == pytest.approx(mae, rel=1e-12)
    assert result.results.query("test_year == '2014'")["n_test"].nunique() == 1
    # Gradient boosting: one fitted pipeline per horizon, not one refitted.
    first, second = (
        result.models["2014", "multivariate", "hist gradient boosting", h][0]
        for h in (1, 6)
    )
    assert first[-1] is not second[-1]
    assert result.results.query("model == 'hist gradient boosting'")[
        "horizon"
    ].unique().tolist() == [1, 6]


@pytest.mark.slow  # two worker processes: 2-12 s with their start
def test_seeds_are_averaged_and_their_spread_reported(frame):
    """Two seeds, fitted in two processes: the RMSE is that of the mean
    forecast, the spread that of each seed's own forecast; the fits are
    those of one process."""
    settings = StudySettings.quick(
        horizons=(6,), inputs=("univariate",), epochs=2, hidden=8, hgb_max_iter=5,
        seeds=(0, 1), intervals=None, folds=(2014,), joint=False,
    )  # fmt: skip
    result = run_study(settings, frame=frame, log=quiet)
    alone = run_study(replace(settings, n_jobs=1), frame=frame, log=quiet)
    rows = rows_in(QUICK.test, frame.index, 6)
    truth = targets(frame, (6,)).to_numpy()[rows, 0]
    models = result.models["2014", "univariate", "lstm", 6]
    each = [predict_rows(model, frame, rows).ravel() for model in models]
    single = [scores(truth, y_pred)[0] for y_pred in each]
    (row,) = result.results.query(
        "model == 'lstm' and test_year == '2014'"
    ).itertuples()
    assert row.rmse == pytest.approx(scores(truth, np.mean(each, axis=0))[0])
    assert (row.rmse_seed_min, row.rmse_seed_max) == pytest.approx(
        (min(single), max(single))
    )
    assert row.rmse_seed_min < row.rmse_seed_max
    twins = zip(models, alone.models["2014", "univariate", "lstm", 6], strict=True)
    for model, again in twins:
        np.testing.assert_array_equal(model[-1].head_weight_, again[-1].head_weight_)
    assert "seeds h=6" in wide_table(result.results, ("seeds",)).columns
    assert result.results.query("model != 'lstm'")["rmse_seed_min"].isna().all()


def test_dm_columns_test_the_lstm_against_the_best_baseline(frame):
    settings = StudySettings.quick(
        horizons=(1, 6), epochs=1, hidden=8, hgb_max_iter=5, seeds=(0,),
        folds=(2013, 2014), intervals=None, n_jobs=1,
        inputs=("univariate", "multivariate"),
    )  # fmt: skip
    result = run_study(settings, frame=frame, log=quiet)
    results = result.results
    for year in ("2013", "2014", "mean"):
        for inputs in ("univariate", "multivariate"):
            cell = results[
                (results["test_year"] == year) & (results["horizon"] == 6)
            ]  # fmt: skip
            own = cell["inputs"] == inputs
            baselines = cell[own & (cell["model"] != "lstm")]
            (lstm,) = cell[own & (cell["model"] == "lstm")].itertuples()
            best = baselines.loc[baselines["rmse"].idxmin(), "model"]
            assert lstm.dm_against == best
            if inputs == "multivariate":  # the naive forecasts are univariate
                assert best in ("ridge", "hist gradient boosting")
            # The statistic's sign: positive where the LSTM is more accurate.
            assert np.sign(lstm.dm_stat) == np.sign(baselines["rmse"].min() - lstm.rmse)
    # One year's test, recomputed from the saved forecasts.
    (row,) = results.query(
        "test_year == '2014' and inputs == 'univariate' and model == 'lstm' "
        "and horizon == 6"
    ).itertuples()
    forecast = result.forecasts[6]["LSTM (univariate)"]
    truth = result.truth[forecast.index]
    baseline = _baseline_forecast(row.dm_against, result, frame, forecast.index)
    expected = dm_test(truth - forecast, truth - baseline, 6)
    assert row.dm_stat == pytest.approx(expected.statistic, rel=1e-9)
    assert row.dm_p == pytest.approx(expected.pvalue, rel=1e-9)


def _baseline_forecast(model, result, frame, target_index):
    """A baseline's forecasts of the 2014 rows whose targets are ``target_index``."""
    issue_rows = frame.index.get_indexer(target_index - pd.Timedelta(hours=6))
    if model in ("persistence", "seasonal naive"):
        forecast = {"persistence": persistence, "seasonal naive": seasonal_naive}
        return forecast[model](frame["pollution"].to_numpy(), 6)[issue_rows]
    (pipeline,) = result.models["2014", "univariate", model, 6]
    mask = np.zeros(len(frame), dtype=bool)
    mask[issue_rows] = True
    y_pred = predict_rows(pipeline, frame, mask).reshape(len(issue_rows), -1)
    return y_pred[:, 5] if y_pred.shape[1] > 1 else y_pred[:, 0]


RAMP = np.arange(96.0)


WAVE = 100 + 10 * np.sin(RAMP / 3.0) + RAMP


@pytest.mark.parametrize("values", [RAMP, WAVE], ids=["ramp", "wave"])
def test_naive_baselines_on_a_toy_frame_score_as_by_hand(values):
    index = pd.date_range("2014-01-01", periods=96, freq="h")
    toy = pd.DataFrame({"pollution": values}, index=index)
    day = pd.Timedelta(hours=23)
    first, second, third = (index[0] + pd.Timedelta(days=k) for k in range(3))
    protocol = Protocol(
        train=Period(first, first + day),
        validation=Period(second, second + day),
        test=Period(third, index[-1]),  # the last two days: positions 48-95
        plot_start=third,
    )
    settings = StudySettings(protocol=protocol, inputs=(), folds=(2014,), joint=False)
    result = run_study(settings, frame=toy, log=quiet)

    assert set(result.results["test_year"]) == {"2014", "mean"}
    scored = result.results.query("test_year == '2014'").set_index(["model", "horizon"])
    assert len(scored) == 2 * 24  # two naive models × hours 1-24, nothing fitted
    due = np.arange(48, 96)  # positions of the test targets
    for horizon in (1, 6, 24):
        for model, lag in [("persistence", horizon), ("seasonal naive", 24)]:
            rmse, mae = scores(values[due], values[due - lag])
            row = scored.loc[model, horizon]
            assert row["n_test"] == 48
            assert row["rmse"] == pytest.approx(rmse, rel=1e-12)
            assert row["mae"] == pytest.approx(mae, rel=1e-12)
            if values is RAMP:
                # On a ramp, every forecast is exactly `lag` low.
                assert row["rmse"] == pytest.approx(lag)
                assert row["mae"] == pytest.approx(lag)


def test_report_prose_states_the_settings_it_ran_with():
    settings = StudySettings.quick(
        window=12, hidden=7, epochs=5, patience=1, learning_rate=0.02,
        batch_size=16, seeds=(3, 4), horizons=(2, 30), inputs=("univariate",),
        hgb_max_iter=11, schedule="adaptive", dropout=0.25, skip_steps=3,
        folds=(2013, 2014), joint=True,
    )  # fmt: skip
    text = "\n".join(study_description(settings, {"numpy"}))
    for phrase in [
        f"test 2014: train {QUICK.train.first:%Y-%m-%d %H:%M} to "
        f"{QUICK.train.last:%Y-%m-%d %H:%M}",
        "test 2013: train 2011-09-01 00:00",
        "Horizons 2 and 30 hours",
        "12-hour input windows",
        "Inputs: univariate: PM2.5 only.",
        "one model for every horizon from 1 to 30 hours",
        "7 hidden units, a linear skip connection from the last 3 hours",
        "learning rate 0.02,",
        "batch 16,",
        "at most 5 epochs,",
        "step size divided by 5 after 1 epoch without",
        "input dropout 0.25,",
        "seeds 3 and 4 (forecasts averaged)",
        "backend auto (numpy)",
        "value at t+h-24, or at t+h-24k for h > 24",
        "at most 11 iterations,",
        "standardised 12-hour lags",
    ]:
        assert phrase in text
    assert "24-hour" not in text
    assert "multivariate" not in text

    default = "\n".join(study_description(StudySettings()))
    for phrase in [
        "Horizons 1, 6 and 24 hours",
        "test 2012: train 2010-01-01 00:00 to 2010-12-31 23:00, validation "
        "2011-01-01 00:00 to 2011-12-31 23:00, test 2012-01-01 00:00",
        "24-hour input windows",
        "32 hidden units, a linear skip connection from the last 6 hours of "
        "the window to the forecast,",
        "learning rate 0.001,",
        "at most 40 epochs",
        "early stopping after 6 epochs without",
        "seeds 0, 1, 2, 3, 4 and 5 (forecasts averaged)",
        "learning_rate=0.05, max_leaf_nodes=15, at most 2000 iterations, "
        "early stopping on the validation year",
        "multivariate: PM2.5, dew point",
    ]:
        assert phrase in default
    assert "24k" not in default
    assert "LSTM: one per horizon, 32 hidden units" in default
    assert "Persistence, seasonal naive, Ridge are also scored at every hour" in default
