"""The ``sklstm-beijing`` command end to end: quick runs, their tables,
plots and report, the committed table, and a run on a Dask cluster."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sklstm.beijing import _cli, main
from sklstm.beijing._input_sets import DEFAULT_INPUTS, INPUT_SETS
from sklstm.beijing._outputs import PLOT_PNG, SKILL_PNG, TABLE_CSV, TABLE_MD
from sklstm.beijing._protocol import (
    FOLDS,
    HORIZONS,
    QUICK,
    rows_in,
    targets,
)
from sklstm.beijing._report import RESULT_COLUMNS

from ._beijing import (
    FAST,
    LEARNT,
    MODELS,
    best_constant_rmse,
    scores,
)


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


def _expected_cells(inputs=DEFAULT_INPUTS, horizons=HORIZONS):
    """(inputs, model, horizon) of every row of one test year: the naive
    forecasts once (they read PM2.5 only) and Ridge at every hour from 1 to
    24, gradient boosting and the LSTM at the table's horizons."""
    curve = range(1, max(24, *horizons) + 1)
    cells = {("univariate", model, h) for model in MODELS[:2] for h in curve}
    for name in inputs:
        cells |= {(name, "ridge", h) for h in curve}
        cells |= {(name, model, h) for model in MODELS[3:] for h in horizons}
    return cells


def _check_structure(results, years, hours, inputs=DEFAULT_INPUTS):
    """The long CSV: columns, a row per year and cell of ``inputs``, the
    mean rows, the DM columns on the LSTM rows only; ``hours(year)``: the
    test rows of every cell of that year."""
    assert list(results.columns) == RESULT_COLUMNS
    assert list(dict.fromkeys(results["test_year"].astype(str))) == [
        *map(str, years),
        "mean",
    ]
    cells = _expected_cells(inputs)
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
                rmse, mae = scores(pollution[january], pollution.shift(lag)[january])
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
        constant = best_constant_rmse(targets(frame, (1,)).to_numpy()[rows, 0])
        for inputs in DEFAULT_INPUTS:
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
    """The table the docs show (``sklstm-beijing --inputs all --out
    docs/_static/beijing``, every input set): its structure, not its
    numbers."""
    folder = Path(__file__).resolve().parents[1] / "docs" / "_static" / "beijing"
    results = pd.read_csv(folder / TABLE_CSV)
    # Every hour of each test year (2012 is a leap year).
    _check_structure(
        results,
        FOLDS,
        lambda year: (366 if year == 2012 else 365) * 24,
        tuple(INPUT_SETS),
    )
    # The LSTM rows give the spread of their seeds around the ensemble.
    lstm = results[results["model"] == "lstm"]
    assert (lstm["rmse_seed_min"] <= lstm["rmse_seed_max"]).all()
    assert results.loc[results["model"] != "lstm", "rmse_seed_min"].isna().all()
    # The study's findings: averaged over the years, the LSTM beats
    # persistence (a copy of the last input) at every horizon of every input
    # set, and the 80 % intervals cover 70-90 % in every cell (measured:
    # skill 4-42 %, coverage 0.74-0.81).
    means = results[results["test_year"] == "mean"]
    assert (means.loc[means["model"] == "lstm", "skill"] > 0).all()
    assert results["coverage"].dropna().between(0.7, 0.9).all()

    markdown = (folder / TABLE_MD).read_text(encoding="utf-8")
    assert (
        "Command: `sklstm-beijing --inputs all --out docs/_static/beijing "
        "--quiet`\n" in markdown
    )
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
            "--inputs", "univariate,multivariate", "--quiet",
            "--out", str(tmp_path)]  # fmt: skip
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
                LEARNT * best_constant_rmse(truth)
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
    # A worker process of its own, as on a real cluster: an in-process worker
    # shares the client's process, and there joblib's scatter of the data
    # can race the worker's state machine (dask/distributed#6604).
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        argv = ["--quick", "--epochs", "1", "--seeds", "0", "--folds", "2013",
                "--horizons", "1", "--inputs", "univariate", "--intervals", "0",
                "--quiet", "--scheduler", cluster.scheduler_address,
                "--out", str(tmp_path)]  # fmt: skip
        assert main(argv) == 0
    # --jobs left at 0: as many fits at once as the cluster has threads.
    assert seen == [(2, "DaskDistributedBackend")]
    assert (tmp_path / TABLE_CSV).exists()
