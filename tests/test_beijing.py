"""Tests for sklstm.beijing: protocol P, the baselines and the study command."""

import importlib.util
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.pipeline import Pipeline

from sklstm import LSTMRegressor
from sklstm.beijing import StudySettings, _cli, _outputs, main, run_study, wide_table
from sklstm.beijing._diebold_mariano import dm_test
from sklstm.beijing._markdown import study_description
from sklstm.beijing._models import (
    fit_columns,
    fit_lstm,
    lstm_columns,
    lstm_pipeline,
    persistence,
    seasonal_naive,
)
from sklstm.beijing._outputs import PLOT_PNG, SKILL_PNG, TABLE_CSV, TABLE_MD
from sklstm.beijing._protocol import (
    FEATURES,
    FOLDS,
    FULL,
    HORIZONS,
    QUICK,
    WINDOW,
    Period,
    Protocol,
    check_values,
    fill_gaps,
    history_start,
    load_frame,
    predict_rows,
    rows_in,
    target_times,
    targets,
)
from sklstm.beijing._report import RESULT_COLUMNS

from .conftest import shared_data_env

MODELS = ["persistence", "seasonal naive", "ridge", "hist gradient boosting", "lstm"]


@pytest.fixture(scope="module")
def frame():
    """The gap-filled data set, loaded once."""
    with shared_data_env():
        return load_frame()


def _scores(y_true, y_pred):
    """RMSE and MAE, computed here rather than by scikit-learn."""
    error = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return np.sqrt(np.mean(error**2)), np.mean(np.abs(error))


def _best_constant_rmse(y_true):
    """The lowest RMSE any constant forecast gets on ``y_true``: that of the
    rows' own mean, their standard deviation. A model that learnt nothing
    (it forecasts one value, the training mean, say) does no better."""
    y_true = np.asarray(y_true, dtype=float)
    return np.sqrt(np.mean((y_true - y_true.mean()) ** 2))


#: The most a fitted LSTM's one-hour RMSE may be, as a share of the best
#: constant forecast's, even after one epoch on the quick slice (measured:
#: 0.35-0.44 on its test months).
LEARNT = 0.6


def _quiet(line):
    """A ``log`` for run_study that prints nothing."""


@pytest.fixture
def studies(monkeypatch):
    """The StudyResult of every run_study that ``main`` calls, in order."""
    results = []
    run = _cli.run_study

    def recording_run_study(settings, **kwargs):
        results.append(run(settings, **kwargs))
        return results[-1]

    monkeypatch.setattr(_cli, "run_study", recording_run_study)
    return results


# --- the command, end to end ------------------------------------------------

#: The options of the fast end-to-end runs: one LSTM epoch, one seed.
FAST = ["--quick", "--epochs", "1", "--seeds", "0", "--jobs", "1"]


def _expected_cells(inputs=("univariate", "multivariate"), horizons=HORIZONS):
    """(inputs, model, horizon) of every row of one test year: the naive
    forecasts once (they read PM2.5 only) and Ridge at every hour from 1 to
    24, gradient boosting and the LSTM at the table's horizons."""
    curve = range(1, max(24, *horizons) + 1)
    cells = {("univariate", model, h) for model in MODELS[:2] for h in curve}
    for name in inputs:
        cells |= {(name, "ridge", h) for h in curve}
        cells |= {(name, model, h) for model in MODELS[3:] for h in horizons}
    return cells


def _check_structure(results, years, hours):
    """The long CSV: columns, a row per year and cell, the mean rows, the
    DM columns on the LSTM rows only; ``hours(year)``: the test rows of
    every cell of that year."""
    assert list(results.columns) == RESULT_COLUMNS
    assert list(dict.fromkeys(results["test_year"].astype(str))) == [
        *map(str, years),
        "mean",
    ]
    cells = _expected_cells()
    for year in [*map(str, years), "mean"]:
        rows = results[results["test_year"].astype(str) == year]
        keys = zip(rows["inputs"], rows["model"], rows["horizon"], strict=True)
        assert sorted(keys) == sorted(cells)
    scored = results[["rmse", "mae", "skill", "n_test"]]
    assert scored.notna().all().all()
    lstm = results["model"] == "lstm"
    assert results.loc[lstm, ["dm_stat", "dm_p"]].notna().all().all()
    # The p-value is the two-sided Student's t one of the statistic, on the
    # rows' errors (rounded to 4 decimals in the CSV).
    dm = results.loc[lstm]
    expected = 2 * stats.t.sf(dm["dm_stat"].abs(), dm["n_test"] - 1)
    np.testing.assert_allclose(dm["dm_p"], expected, atol=2e-4)
    assert results.loc[~lstm, ["dm_stat", "dm_p"]].isna().all().all()
    assert set(results.loc[lstm, "dm_against"]) <= set(MODELS[:4])
    # Intervals at the table's horizons, every model and year.
    at_table = results["horizon"].isin(HORIZONS)
    assert results.loc[at_table, ["coverage", "width"]].notna().all().all()
    assert results.loc[~at_table, ["coverage", "width"]].isna().all().all()
    for year in years:
        rows = results[results["test_year"].astype(str) == str(year)]
        assert (rows["n_test"] == hours(year)).all()


@pytest.mark.slow
def test_quick_run_writes_tables_and_plots(shared_data_home, tmp_path, capsys, frame):
    argv = [*FAST, "--out", str(tmp_path)]
    assert main(argv) == 0

    results = pd.read_csv(tmp_path / TABLE_CSV)
    # Each fold scores January of its test year: 744 hours.
    _check_structure(results, FOLDS, lambda year: 31 * 24)
    # The naive scores, recomputed from the data: the forecast for each hour
    # of January is PM2.5 `lag` hours before it.
    pollution = frame["pollution"]
    scored = results.set_index(["test_year", "inputs", "model", "horizon"])
    for year in FOLDS:
        january = QUICK.fold(year).test.contains(frame.index)
        for horizon in (1, 6, 24):
            for model, lag in [("persistence", horizon), ("seasonal naive", 24)]:
                rmse, mae = _scores(pollution[january], pollution.shift(lag)[january])
                row = scored.loc[str(year), "univariate", model, horizon]
                assert row["rmse"] == pytest.approx(rmse, abs=1e-4)
                assert row["mae"] == pytest.approx(mae, abs=1e-4)
    # Skill against persistence of the same year and horizon.
    yearly = results[results["test_year"] != "mean"]
    persistence = yearly[yearly["model"] == "persistence"].set_index(
        ["test_year", "horizon"]
    )["rmse"]
    keys = zip(yearly["test_year"], yearly["horizon"], strict=True)
    reference = persistence.loc[list(keys)]
    np.testing.assert_allclose(
        yearly["skill"], 1 - yearly["rmse"] / reference.to_numpy(), atol=1e-4
    )
    # Mean rows: the years' scores averaged, their rows added up.
    by_cell = yearly.groupby(["inputs", "model", "horizon"])
    means = results[results["test_year"] == "mean"].set_index(
        ["inputs", "model", "horizon"]
    )
    for column in ("rmse", "mae", "skill", "coverage", "width"):
        np.testing.assert_allclose(
            means[column], by_cell[column].mean().loc[means.index], atol=1e-4
        )
    assert (means["n_test"] == 3 * 31 * 24).all()
    # The LSTMs learnt something: one hour ahead, far below any constant
    # forecast of the same rows (whose RMSE is computed here from the data).
    for year in FOLDS:
        rows = rows_in(QUICK.fold(year).test, frame.index, 1)
        constant = _best_constant_rmse(targets(frame, (1,)).to_numpy()[rows, 0])
        for inputs in ("univariate", "multivariate"):
            row = scored.loc[str(year), inputs, "lstm", 1]
            assert row["rmse"] < LEARNT * constant
    # The 80 % intervals cover about 80 % of the test targets, averaged over
    # every model, horizon and year (measured: 0.798; single cells range
    # from 0.57 to 0.97, the calibration month being another January).
    assert yearly["coverage"].mean() == pytest.approx(0.8, abs=0.05)

    markdown = (tmp_path / TABLE_MD).read_text(encoding="utf-8")
    header = (
        "| test_year | inputs | model | RMSE h=1 | RMSE h=6 | RMSE h=24 | MAE h=1 |"
    )
    assert header in markdown
    assert "| DM p h=1 | DM p h=6 | DM p h=24 |" in markdown
    assert "| cover h=1 | cover h=6 | cover h=24 | width h=1 |" in markdown
    assert "test 2012: train 2010-09-01 00:00 to 2010-12-31 23:00" in markdown
    for name in (PLOT_PNG, SKILL_PNG):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000

    captured = capsys.readouterr()
    assert "Epoch 1/1" not in captured.out  # epochs only with --verbose
    # A bar per step on stderr, two short tables of the means on stdout.
    for step in ("naive forecasts", "Ridge", "fits (1 process)", "scores"):
        assert step in captured.err
    assert "mean over the test years 2012, 2013 and 2014" in captured.out
    assert "RMSE h=24" in captured.out and "DM p h=24" in captured.out
    assert "cover h=24" in captured.out
    assert "RMSE h=2 " not in captured.out  # the table's horizons only


def test_verbose_prints_every_epoch(shared_data_home, tmp_path, capsys):
    argv = [*FAST, "--folds", "2014", "--inputs", "univariate", "--horizons", "1",
            "--intervals", "0", "--verbose", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out
    assert "lstm, univariate, test year 2014, h=1, seed 0" in out
    assert "test year 2014: RMSE" in out


def test_committed_results_have_the_full_table():
    """The table the docs show (``sklstm-beijing --out docs/_static/beijing``,
    the default run): its structure, not its numbers."""
    folder = Path(__file__).resolve().parents[1] / "docs" / "_static" / "beijing"
    results = pd.read_csv(folder / TABLE_CSV)
    # Every hour of each test year (2012 is a leap year).
    _check_structure(results, FOLDS, lambda year: (366 if year == 2012 else 365) * 24)
    # The LSTM rows give the spread of their seeds around the ensemble.
    lstm = results[results["model"] == "lstm"]
    assert (lstm["rmse_seed_min"] <= lstm["rmse_seed_max"]).all()
    assert results.loc[results["model"] != "lstm", "rmse_seed_min"].isna().all()
    # The study's findings: averaged over the years, the LSTM beats
    # persistence (a copy of the last input) at every horizon of both input
    # sets, and the 80 % intervals cover 70-90 % in every cell (measured:
    # skill 4-18 %, coverage 0.73-0.81).
    means = results[results["test_year"] == "mean"]
    assert (means.loc[means["model"] == "lstm", "skill"] > 0).all()
    assert results["coverage"].dropna().between(0.7, 0.9).all()

    markdown = (folder / TABLE_MD).read_text(encoding="utf-8")
    assert "Command: `sklstm-beijing --out docs/_static/beijing`\n" in markdown
    assert markdown.startswith("# Beijing PM2.5 forecasts by rolling origin")
    for name in (PLOT_PNG, SKILL_PNG):
        assert (folder / name).stat().st_size > 10_000


def test_quick_run_without_matplotlib_says_so_first_and_writes_the_table(
    shared_data_home, tmp_path, capsys, monkeypatch
):
    # None in sys.modules makes `import matplotlib` fail and find_spec say None.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert importlib.util.find_spec("matplotlib") is None
    said_before_the_study = []
    run = _cli.run_study

    def run_study_after_reading_stderr(settings, **kwargs):
        said_before_the_study.append(capsys.readouterr().err)
        return run(settings, **kwargs)

    monkeypatch.setattr(_cli, "run_study", run_study_after_reading_stderr)
    argv = [*FAST, "--folds", "2014", "--horizons", "1", "--inputs", "univariate",
            "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0

    (before,) = said_before_the_study
    lines = before.splitlines()
    assert len(lines) == 1
    assert "matplotlib is not installed" in lines[0]
    assert "plots are skipped" in lines[0]
    assert 'pip install "sklstm[plot]"' in lines[0]
    results = pd.read_csv(tmp_path / TABLE_CSV)
    cells = _expected_cells(("univariate",), (1,))
    assert len(results) == 2 * len(cells)  # 2014 and the mean
    assert (tmp_path / TABLE_MD).is_file()
    assert not (tmp_path / PLOT_PNG).exists()
    assert not (tmp_path / SKILL_PNG).exists()
    out = capsys.readouterr().out
    assert "RMSE h=1" in out
    assert PLOT_PNG not in out


def test_window_option_sets_every_windowed_model_and_the_report(
    shared_data_home, tmp_path, studies
):
    argv = [*FAST, "--folds", "2014", "--window", "12", "--horizons", "1",
            "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0

    (result,) = studies
    assert result.settings.window == 12
    windowed = {
        id(model): model for models in result.models.values() for model in models
    }
    assert len(windowed) == 6  # ridge, gradient boosting, LSTM × 2 input sets
    assert all(model[1].window == 12 for model in windowed.values())
    # The lag baselines see 12 lags of each feature (8 in the multivariate
    # set); one Ridge serves the 24 horizons.
    for inputs, n_features in [("univariate", 1), ("multivariate", 8)]:
        (ridge,) = result.models["2014", inputs, "ridge", 1]
        assert ridge[-1].coef_.shape == (24, 12 * n_features)
        assert result.models["2014", inputs, "ridge", 24][0] is ridge
    markdown = (tmp_path / TABLE_MD).read_text(encoding="utf-8")
    assert "12-hour input windows" in markdown
    assert "standardised 12-hour lags" in markdown
    assert "24-hour" not in markdown
    # Seasonal naive stays daily whatever the window.
    assert "seasonal naive (value at t+h-24;" in markdown


def test_intervals_are_the_bands_the_study_returns(shared_data_home, tmp_path, studies):
    argv = [*FAST, "--folds", "2013", "--horizons", "1,6", "--inputs", "univariate",
            "--intervals", "0.7", "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    (result,) = studies
    table = result.results.query("test_year == '2013'").set_index(["model", "horizon"])
    for horizon in (1, 6):
        lower, upper = result.bands[horizon]["LSTM (univariate)"]
        truth = result.truth[lower.index]
        inside = (lower <= truth) & (truth <= upper)
        assert table.loc[("lstm", horizon), "coverage"] == pytest.approx(inside.mean())
        assert table.loc[("lstm", horizon), "width"] == pytest.approx(
            (upper - lower).mean()
        )
        forecast = result.forecasts[horizon]["LSTM (univariate)"]
        assert (lower <= forecast).all() and (forecast <= upper).all()
        # Calibrated on January 2012, the 70 % band covers about 70 % of
        # January 2013 (measured: 0.69 at both horizons); a band of the wrong
        # level, or of no width, misses this.
        assert inside.mean() == pytest.approx(0.7, abs=0.1)
        if horizon == 1:
            assert np.sqrt(np.mean((truth - forecast) ** 2)) < (
                LEARNT * _best_constant_rmse(truth)
            )
        # The plotted fortnight is of the last fold's test year.
        assert forecast.index[0] == QUICK.fold(2013).test.first
    assert result.plot_start.year == 2013
    markdown = (tmp_path / TABLE_MD).read_text(encoding="utf-8")
    assert "model's 70% interval" in markdown


def test_no_intervals_and_one_fold(shared_data_home, tmp_path, studies):
    """``--intervals 0`` makes none; ``--folds 2013`` fits on the quick
    slice's months of 2011, stops on January 2012, scores January 2013
    (how the recipe was chosen): 2014 is not read."""
    argv = [*FAST, "--folds", "2013", "--horizons", "1", "--inputs", "univariate",
            "--intervals", "0", "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    (result,) = studies
    assert result.results["coverage"].isna().all()
    assert result.bands == {1: {}}
    assert set(result.results["test_year"]) == {"2013", "mean"}
    forecast = result.forecasts[1]["LSTM (univariate)"]
    assert forecast.index[0] == pd.Timestamp("2013-01-01 00:00")
    assert forecast.index[-1] == pd.Timestamp("2013-01-31 23:00")
    markdown = (tmp_path / TABLE_MD).read_text(encoding="utf-8")
    assert "cover h=1" not in markdown and "Intervals:" not in markdown
    assert "validation 2012-01-01 00:00 to 2012-01-31 23:00" in markdown
    assert "2014" not in markdown.split("Run:")[0]


def test_the_folds_of_the_rolling_origin():
    earlier = FULL.year_earlier()
    assert earlier.train == Period.between("2010-01-01 00:00", "2011-12-31 23:00")
    assert earlier.validation == Period.between("2012-01-01 00:00", "2012-12-31 23:00")
    assert earlier.test == FULL.validation
    assert earlier.plot_start == pd.Timestamp("2013-02-12 00:00")
    assert FULL.fold(2014) == FULL
    assert FULL.fold(2013) == earlier
    first = FULL.fold(2012)
    assert first.train == Period.between("2010-01-01 00:00", "2010-12-31 23:00")
    assert first.validation == Period.between("2011-01-01 00:00", "2011-12-31 23:00")
    assert first.test == Period.between("2012-01-01 00:00", "2012-12-31 23:00")
    assert QUICK.fold(2012).train == Period.between(
        "2010-09-01 00:00", "2010-12-31 23:00"
    )
    for year in (2011, 2015):
        with pytest.raises(ValueError, match="from 2012 to 2014"):
            FULL.fold(year)


@pytest.mark.slow  # two worker processes: 2-12 s with their start
def test_seeds_are_averaged_and_their_spread_reported(frame):
    """Two seeds, fitted in two processes: the RMSE is that of the mean
    forecast, the spread that of each seed's own forecast; the fits are
    those of one process."""
    settings = StudySettings.quick(
        horizons=(6,), inputs=("univariate",), epochs=2, hidden=8, hgb_max_iter=5,
        seeds=(0, 1), intervals=None, folds=(2014,), joint=False,
    )  # fmt: skip
    result = run_study(settings, frame=frame, log=_quiet)
    alone = run_study(replace(settings, n_jobs=1), frame=frame, log=_quiet)
    rows = rows_in(QUICK.test, frame.index, 6)
    truth = targets(frame, (6,)).to_numpy()[rows, 0]
    models = result.models["2014", "univariate", "lstm", 6]
    each = [predict_rows(model, frame, rows).ravel() for model in models]
    single = [_scores(truth, y_pred)[0] for y_pred in each]
    (row,) = result.results.query(
        "model == 'lstm' and test_year == '2014'"
    ).itertuples()
    assert row.rmse == pytest.approx(_scores(truth, np.mean(each, axis=0))[0])
    assert (row.rmse_seed_min, row.rmse_seed_max) == pytest.approx(
        (min(single), max(single))
    )
    assert row.rmse_seed_min < row.rmse_seed_max
    twins = zip(models, alone.models["2014", "univariate", "lstm", 6], strict=True)
    for model, again in twins:
        np.testing.assert_array_equal(model[-1].head_weight_, again[-1].head_weight_)
    assert "seeds h=6" in wide_table(result.results, ("seeds",)).columns
    assert result.results.query("model != 'lstm'")["rmse_seed_min"].isna().all()


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
        "max_iter=11,",
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
        "max_iter=300,",
        "multivariate: PM2.5, dew point",
    ]:
        assert phrase in default
    assert "24k" not in default
    assert "LSTM: one per horizon, 32 hidden units" in default
    assert "Persistence, seasonal naive, Ridge are also scored at every hour" in default


# --- a command that fails before the work, not after -------------------------


@pytest.fixture
def no_study(monkeypatch):
    """Fail the test if ``main`` starts the study."""

    def refuse(*args, **kwargs):
        raise AssertionError("the study started")

    monkeypatch.setattr(_cli, "run_study", refuse)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--inputs", "univariate,univariate"], "--inputs: each value may be"),
        (["--horizons", "1,1"], "--horizons: each value may be given once"),
        (["--seeds", "0,0"], "--seeds: each value may be given once"),
        (["--folds", "2013,2013"], "--folds: each value may be given once"),
        (["--folds", "2011"], "--folds: test years must be among 2012, 2013 and 2014"),
        (["--inputs", "univariate,weather"], "unknown input set"),
        (["--window", "100000"], "--window: expected an integer in [1, 720]"),
        (["--window", "0"], "--window: expected an integer in [1, 720]"),
        (["--window", "-3"], "--window: expected an integer in [1, 720]"),
        (["--horizons", "100000"], "--horizons: expected integers from 1 to 168"),
        (["--hidden", "1000000000"], "--hidden: expected an integer in [1, 1024]"),
        (["--learning-rate", "nan"], "--learning-rate: expected a number in (0, 10]"),
        (["--learning-rate", "0"], "--learning-rate: expected a number in (0, 10]"),
        (["--tol", "nan"], "--tol: expected a number in [0, 1]"),
        (["--tol", "inf"], "--tol: expected a number in [0, 1]"),
        (["--dropout", "1"], "--dropout: expected a number in [0, 1)"),
        (["--dropout", "-0.5"], "--dropout: expected a number in [0, 1)"),
        (["--intervals", "nan"], "--intervals: expected a coverage in (0, 1)"),
        (["--window", "12", "--skip-steps", "13"],
         "--skip-steps must be from 0 to the window (12)"),
    ],
)  # fmt: skip
def test_cli_rejects_bad_options_in_one_line_before_the_work(
    argv, message, capsys, tmp_path, no_study
):
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(out)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("sklstm-beijing: error:")
    assert message in error
    assert not out.exists()  # no folder left behind


def test_cli_rejects_an_output_path_that_is_a_file(capsys, tmp_path, no_study):
    file = tmp_path / "taken"
    file.write_text("not a folder")
    for out, message in [
        (file, "is a file, not a folder"),
        (file / "inside", "taken is a file, not a folder"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["--out", str(out)])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
    assert file.read_text() == "not a folder"


def test_cli_rejects_an_output_folder_it_cannot_write(
    capsys, tmp_path, no_study, monkeypatch
):
    """A read-only folder (simulated: root may write anywhere) is refused
    before the study starts."""
    real = _outputs.tempfile.TemporaryFile

    def read_only(*args, dir=None, **kwargs):
        if Path(dir) == tmp_path:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(_outputs.tempfile, "TemporaryFile", read_only)
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "results")])
    assert exit_info.value.code == 2
    assert f"cannot write in {tmp_path} (Permission denied)" in capsys.readouterr().err


def test_outputs_are_all_written_or_none(shared_data_home, tmp_path, monkeypatch):
    """A failure while writing (here, in the second plot) leaves nothing:
    not the tables already written, not the folder; a later run without
    plots removes the plots of an earlier one."""
    out = tmp_path / "results"
    argv = [*FAST, "--folds", "2014", "--inputs", "univariate", "--horizons", "1",
            "--quiet", "--out", str(out)]  # fmt: skip

    def broken_plot(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(_outputs, "plot_skill", broken_plot)
    with pytest.raises(RuntimeError, match="disk full"):
        main(argv)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder either

    monkeypatch.undo()
    out.mkdir()
    (out / PLOT_PNG).write_bytes(b"stale")
    (out / "notes.txt").write_text("mine")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(argv) == 0
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [TABLE_CSV, TABLE_MD, "notes.txt"]
    )


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("temp", np.inf, "Column 'temp' of the Beijing data holds 1 infinite"),
        ("press", 1e300, "Column 'press' of the Beijing data holds 1e+300"),
        ("pollution", np.nan, "Column 'pollution' of the Beijing data is measured"),
    ],
)
def test_data_a_study_cannot_use_is_refused_by_name(frame, column, value, message):
    raw = frame.copy()
    if np.isnan(value):  # one measured value left
        raw.iloc[1:, raw.columns.get_loc(column)] = np.nan
    else:
        raw.iloc[100, raw.columns.get_loc(column)] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        check_values(raw)
    assert check_values(frame) is frame


def test_study_models_are_pipelines_on_the_same_rows(frame):
    settings = StudySettings.quick(
        horizons=(1, 6), inputs=("multivariate",), epochs=1, hidden=8,
        hgb_max_iter=5, seeds=(0,), folds=(2014,), intervals=None, joint=True,
    )  # fmt: skip
    result = run_study(settings, frame=frame, log=_quiet)
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
    np.testing.assert_allclose(forecast.to_numpy(), y_pred[:, 5])
    assert forecast.index[0] == QUICK.test.first
    assert forecast.index[-1] == QUICK.test.last
    # The table's scores are those of the saved forecasts against the truth.
    rmse, mae = _scores(result.truth[forecast.index], forecast)
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


def test_dm_columns_test_the_lstm_against_the_best_baseline(frame):
    settings = StudySettings.quick(
        horizons=(1, 6), epochs=1, hidden=8, hgb_max_iter=5, seeds=(0,),
        folds=(2013, 2014), intervals=None,
    )  # fmt: skip
    result = run_study(settings, frame=frame, log=_quiet)
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


# --- protocol P ---------------------------------------------------------------


def test_protocol_boundaries():
    assert FULL.train.first == pd.Timestamp("2010-01-01 00:00")
    assert FULL.train.last == pd.Timestamp("2012-12-31 23:00")
    assert FULL.validation.first == pd.Timestamp("2013-01-01 00:00")
    assert FULL.validation.last == pd.Timestamp("2013-12-31 23:00")
    assert FULL.test.first == pd.Timestamp("2014-01-01 00:00")
    assert FULL.test.last == pd.Timestamp("2014-12-31 23:00")
    for protocol in (FULL, QUICK):
        assert protocol.train.last < protocol.validation.first
        assert protocol.validation.last < protocol.test.first


def test_fill_gaps_interpolates_in_time_and_backfills_the_start():
    index = pd.date_range("2014-01-01", periods=6, freq="h")
    data = pd.DataFrame(
        {"pollution": [np.nan, np.nan, 10.0, np.nan, 30.0, 40.0]}, index=index
    )
    filled = fill_gaps(data)
    np.testing.assert_allclose(filled["pollution"], [10, 10, 10, 20, 30, 40])
    assert data["pollution"].isna().sum() == 3  # the input is left alone


def test_fill_gaps_on_the_data_set(frame):
    assert not frame.isna().any().any()
    assert list(frame.columns) == list(FEATURES)
    assert len(frame) == 43_824


@pytest.mark.parametrize("horizon", [1, 6, 24])
def test_rows_belong_to_the_period_of_their_target(frame, horizon):
    times = target_times(frame.index, horizon)
    for period, n_hours in [(FULL.train, 26_304), (FULL.validation, 8_760),
                            (FULL.test, 8_760)]:  # fmt: skip
        rows = rows_in(period, frame.index, horizon)
        # No target from outside its period, and every hour of it targeted.
        # (The data start on the train period's first hour: nothing targets it.)
        gap = horizon if period is FULL.train else 0
        assert times[rows].min() == period.first + pd.Timedelta(hours=gap)
        assert times[rows].max() == period.last
        assert rows.sum() == n_hours - gap
    test = rows_in(FULL.test, frame.index, horizon)
    first = frame.index[test][0]
    assert first == FULL.test.first - pd.Timedelta(hours=horizon)
    # The test windows reach back into 2013 for their past.
    start = history_start(test)
    assert frame.index[start] == first - pd.Timedelta(hours=WINDOW - 1)
    assert frame.index[start].year == 2013


def test_targets_are_pollution_h_hours_later(frame):
    y = targets(frame, (1, 24))
    assert list(y.columns) == ["pollution_h1", "pollution_h24"]
    pollution = frame["pollution"].to_numpy()
    np.testing.assert_array_equal(y["pollution_h1"].to_numpy()[:-1], pollution[1:])
    np.testing.assert_array_equal(y["pollution_h24"].to_numpy()[:-24], pollution[24:])
    assert y["pollution_h1"].isna().sum() == 1
    assert y["pollution_h24"].isna().sum() == 24


class _RecordingLSTM(LSTMRegressor):
    """An LSTMRegressor that keeps what its ``fit`` was given."""

    def fit(self, X, y, sample_weight=None):
        self.fit_X_, self.fit_y_ = np.asarray(X), np.asarray(y)
        self.fit_sample_weight_ = np.asarray(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lstm_fit_scales_on_train_and_validates_on_the_next_period(frame):
    features = FEATURES
    columns = fit_columns(lstm_columns(features), frame, QUICK, features)
    model = lstm_pipeline(columns, hidden_layer_sizes=4, max_iter=1,
                          early_stopping=True, random_state=0)  # fmt: skip
    model.steps[-1] = ("lstm", _RecordingLSTM(**model[-1].get_params()))
    horizons = (1, 24)
    y = targets(frame, horizons)
    fit_lstm(model, frame, y, QUICK, features, horizons)

    # Scalers: fitted on the rows of the train period, and only those.
    scaler = model["columns"].named_transformers_["scale"]
    in_train = QUICK.train.contains(frame.index)
    assert scaler.n_samples_seen_ == in_train.sum()
    numeric = [name for name in features if name != "wnd_dir"]
    np.testing.assert_allclose(scaler.mean_, frame.loc[in_train, numeric].mean())

    lstm = model[-1]
    weight = lstm.fit_sample_weight_
    n_rows = len(weight)
    n_validation = int(np.ceil(lstm.validation_fraction * n_rows))
    # The rows given: from 23 hours of history before the first train row to
    # the last validation row, in time order.
    trained = rows_in(QUICK.train, frame.index, horizons)
    validated = rows_in(QUICK.validation, frame.index, horizons)
    start = history_start(trained)
    rows = np.arange(start, start + n_rows)
    # (The first train row is the first whose targets all fall in the period.)
    first_trained = QUICK.train.first - pd.Timedelta(hours=min(horizons))
    assert frame.index[start] == first_trained - pd.Timedelta(hours=WINDOW - 1)
    assert rows[-1] == np.flatnonzero(validated)[-1]
    # Early stopping holds out exactly the rows from the first validation row.
    assert rows[n_rows - n_validation] == np.flatnonzero(validated)[0]
    # Weighted rows have all their targets inside their own period.
    split = n_rows - n_validation
    for part, period in [(slice(None, split), QUICK.train),
                         (slice(split, None), QUICK.validation)]:  # fmt: skip
        used = rows[part][weight[part] > 0]
        for horizon in horizons:
            assert period.contains(target_times(frame.index, horizon)[used]).all()
    np.testing.assert_array_equal(weight > 0, (trained | validated)[rows])
    # Weighted rows train on their true targets, at every horizon.
    np.testing.assert_array_equal(
        lstm.fit_y_[weight > 0], y.to_numpy()[rows][weight > 0]
    )
    # History rows only lend their past.
    assert (weight[: WINDOW - 1] == 0).all()
    # The windows are the transformed rows, with their true past.
    np.testing.assert_allclose(
        lstm.fit_X_[WINDOW - 1, :, :],
        columns.transform(frame.iloc[start : start + WINDOW][list(features)]),
    )


# --- baselines ----------------------------------------------------------------


@pytest.mark.parametrize("horizon", [1, 6, 24])
def test_persistence_forecasts_the_target_by_the_value_h_hours_before(horizon):
    index = pd.date_range("2014-01-01", periods=60, freq="h")
    steps = np.arange(60.0)
    toy = pd.DataFrame({"pollution": steps**2}, index=index)
    value = toy["pollution"].to_numpy()
    y = targets(toy, [horizon])[f"pollution_h{horizon}"].to_numpy()
    forecast = persistence(value, horizon)
    rows = np.arange(len(index) - horizon)
    # Row t forecasts y[t] = value[t + h], due at target_times(t), by the value
    # h hours before that time: (t + h)² - t² = 2th + h² off.
    due = target_times(index, horizon)[rows]
    known = toy["pollution"].reindex(due - pd.Timedelta(hours=horizon))
    np.testing.assert_array_equal(forecast[rows], known.to_numpy())
    np.testing.assert_array_equal(
        y[rows] - forecast[rows], 2 * steps[rows] * horizon + horizon**2
    )


@pytest.mark.parametrize("horizon, lag", [(1, 23), (6, 18), (24, 0), (30, 18)])
def test_seasonal_naive_is_the_value_at_t_plus_h_minus_24(horizon, lag):
    series = np.arange(100.0) ** 2
    forecast = seasonal_naive(series, horizon)
    assert np.isnan(forecast[:lag]).all()
    np.testing.assert_array_equal(forecast[lag:], series[: len(series) - lag])
    # The forecast issued at t for t + h is the value 24 hours before t + h
    # (48 hours before, for horizons past a day).
    t = 60
    assert forecast[t] == series[t + horizon - 24 * (1 + (horizon > 24))]


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
    result = run_study(settings, frame=toy, log=_quiet)

    assert set(result.results["test_year"]) == {"2014", "mean"}
    scored = result.results.query("test_year == '2014'").set_index(["model", "horizon"])
    assert len(scored) == 2 * 24  # two naive models × hours 1-24, nothing fitted
    due = np.arange(48, 96)  # positions of the test targets
    for horizon in (1, 6, 24):
        for model, lag in [("persistence", horizon), ("seasonal naive", 24)]:
            rmse, mae = _scores(values[due], values[due - lag])
            row = scored.loc[model, horizon]
            assert row["n_test"] == 48
            assert row["rmse"] == pytest.approx(rmse, rel=1e-12)
            assert row["mae"] == pytest.approx(mae, rel=1e-12)
            if values is RAMP:
                # On a ramp, every forecast is exactly `lag` low.
                assert row["rmse"] == pytest.approx(lag)
                assert row["mae"] == pytest.approx(lag)


@pytest.mark.slow
def test_a_scheduler_that_cannot_be_reached_fails_before_the_work(
    capsys, tmp_path, no_study
):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main(["--scheduler", "tcp://127.0.0.1:9", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot connect" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_the_study_runs_on_a_dask_cluster(shared_data_home, tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    from joblib.parallel import get_active_backend

    seen = []
    run = _cli.run_study

    def recording_run_study(settings, **kwargs):
        backend, _ = get_active_backend()
        seen.append((settings.n_jobs, type(backend).__name__))
        return run(settings, **kwargs)

    monkeypatch.setattr(_cli, "run_study", recording_run_study)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        argv = ["--quick", "--epochs", "1", "--seeds", "0", "--folds", "2013",
                "--horizons", "1", "--inputs", "univariate", "--intervals", "0",
                "--quiet", "--scheduler", cluster.scheduler_address,
                "--out", str(tmp_path)]  # fmt: skip
        assert main(argv) == 0
    # --jobs left at 0: as many fits at once as the cluster has threads.
    assert seen == [(2, "DaskDistributedBackend")]
    assert (tmp_path / TABLE_CSV).exists()
