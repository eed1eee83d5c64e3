"""The Beijing page's long tables, written from the study's CSV at build time
(docs/_ext/beijing_tables.py)."""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def beijing_tables():
    spec = importlib.util.spec_from_file_location(
        "beijing_tables", DOCS / "_ext" / "beijing_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(beijing_tables):
    return beijing_tables.read_results(DOCS / beijing_tables.RESULTS_CSV)


def _rows(text):
    """The list-table's rows, each a list of its cells' text."""
    rows = []
    for line in text.splitlines():
        if line.startswith("   * - "):
            rows.append([])
        if line.startswith(("   * - ", "     - ")):
            rows[-1].append(line[len("   * - ") :])
    return rows


def _where(results, year, inputs, horizon, model=None):
    """Which rows of the long table are at ``year``, ``inputs``, ``horizon``
    (and of ``model``)."""
    where = (
        (results["test_year"] == year)
        & (results["inputs"] == inputs)
        & (results["horizon"] == horizon)
    )
    return where if model is None else where & (results["model"] == model)


def _cell(rows, year, inputs, model, column):
    header = rows[0]
    (row,) = [row for row in rows[1:] if row[:3] == [year, inputs, model]]
    return row[header.index(column)]


@pytest.mark.parametrize("inputs", ["univariate", "multivariate"])
@pytest.mark.parametrize("horizon", [1, 24])
def test_mean_lstm_rmse_is_the_csv_s_and_bold_where_lowest(
    beijing_tables, results, inputs, horizon
):
    rows = _rows(beijing_tables.score_table(results))
    means = results[_where(results, "mean", inputs, horizon)]
    lstm = means.loc[means["model"] == "lstm", "rmse"].item()
    cell = _cell(rows, "mean", inputs, "LSTM", f"RMSE h={horizon}")
    lowest = lstm <= means["rmse"].min()
    assert cell == (f"**{lstm:.2f}**" if lowest else f"{lstm:.2f}")
    # Exactly one bold RMSE per test year, input set and horizon here.
    column = rows[0].index(f"RMSE h={horizon}")
    # (the naive forecasts, inputs "–", compete with the univariate models).
    group = (inputs, "\N{EN DASH}") if inputs == "univariate" else (inputs,)
    bold = [
        row
        for row in rows[1:]
        if row[0] == "mean" and row[1] in group and row[column].startswith("**")
    ]
    assert len(bold) == 1


def test_bold_moves_with_the_numbers(beijing_tables, results):
    """Raise the mean multivariate LSTM's RMSE at h=1 above Ridge's: the bold
    goes to Ridge."""
    worse = results.copy()
    ridge = worse.loc[_where(worse, "mean", "multivariate", 1, "ridge"), "rmse"].item()
    worse.loc[_where(worse, "mean", "multivariate", 1, "lstm"), "rmse"] = ridge + 1
    rows = _rows(beijing_tables.score_table(worse))
    assert _cell(rows, "mean", "multivariate", "LSTM", "RMSE h=1") == (
        f"{ridge + 1:.2f}"
    )
    assert _cell(rows, "mean", "multivariate", "Ridge", "RMSE h=1") == (
        f"**{ridge:.2f}**"
    )


def test_tables_have_every_row_and_blank_cells(beijing_tables, results):
    scores = _rows(beijing_tables.score_table(results))
    assert scores[0][:4] == ["test year", "inputs", "model", "RMSE h=1"]
    # Per test year: two naive forecasts, then three models per deployable
    # input set (univariate, multivariate, calendar).
    assert len(scores) == 1 + 4 * (2 + 3 * 3)
    assert not any(row[1] == "weather-ahead" for row in scores)
    assert _cell(scores, "2013", "\N{EN DASH}", "persistence", "skill % h=6") == "0.0"
    assert _cell(scores, "2013", "univariate", "Ridge", "DM p h=1") == "\N{EN DASH}"
    p_value = results.loc[_where(results, "2013", "multivariate", 1, "lstm"), "dm_p"]
    assert _cell(scores, "2013", "multivariate", "LSTM", "DM p h=1") == (
        f"{p_value.item():.3f}"
    )

    intervals = _rows(beijing_tables.interval_table(results))
    assert intervals[0][3] == "cover % h=1"
    assert [row[0] for row in intervals[1:]] == ["mean"] * 11
    hgb = _where(results, "mean", "univariate", 24, "hist gradient boosting")
    coverage = results.loc[hgb, "coverage"].item()
    assert _cell(intervals, "mean", "univariate", "HGB", "cover % h=24") == (
        f"{100 * coverage:.1f}"
    )


def test_write_tables_writes_the_included_files(beijing_tables, tmp_path):
    copy = tmp_path / beijing_tables.RESULTS_CSV
    copy.parent.mkdir(parents=True)
    shutil.copyfile(DOCS / beijing_tables.RESULTS_CSV, copy)
    written = beijing_tables.write_tables(tmp_path)
    page = (DOCS / "beijing.rst").read_text(encoding="utf-8")
    for path in written:
        assert f".. include:: _generated/{path.name}\n" in page
        assert path.read_text(encoding="utf-8").startswith(".. list-table:: ")
    # An unchanged table is not rewritten, so Sphinx does not rebuild the page.
    for path in written:
        os.utime(path, ns=(0, 0))
    beijing_tables.write_tables(tmp_path)
    assert [path.stat().st_mtime_ns for path in written] == [0] * len(written)


def test_the_upper_bound_has_a_table_of_its_own(beijing_tables, results):
    text = beijing_tables.upper_bound_table(results)
    assert text.startswith(".. list-table:: Upper bound, not a deployable")
    rows = _rows(text)
    assert {row[1] for row in rows[1:]} == {"weather-ahead"}
    assert len(rows) == 1 + 4 * 3  # three models, three years and the mean
    deployable = results[results["inputs"] != "weather-ahead"]
    assert beijing_tables.upper_bound_table(deployable) == ""
