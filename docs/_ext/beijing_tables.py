"""Sphinx extension: the long tables of ``beijing.rst``, written from the
study's committed results when the build starts.

``beijing.rst`` includes ``_generated/beijing_scores.rst`` (RMSE, skill and
Diebold–Mariano p-value by test year) and ``_generated/beijing_intervals.rst``
(the intervals' mean coverage and width), which :func:`write_tables` writes
from ``_static/beijing/beijing_pm25.csv``, the CSV ``sklstm-beijing --out
docs/_static/beijing`` writes: a rerun of the study updates the page with
it. The cells are those of the study's own Markdown report
(:func:`sklstm.beijing.wide_table`, formatted as the report formats it);
only the labels are the page's.
"""

import textwrap
from pathlib import Path

import pandas as pd

from sklstm.beijing._models import NAIVE_FORECASTS
from sklstm.beijing._report import (
    _LABELS,
    INTERVAL_VALUES,
    MEAN,
    POINT_VALUES,
    UPPER_BOUND,
    _cells,
    split_upper_bound,
    wide_table,
)

#: The study's results, relative to the docs' source folder.
RESULTS_CSV = Path("_static", "beijing", "beijing_pm25.csv")

#: Where the tables are written, relative to the docs' source folder
#: (git-ignored, and excluded from the pages Sphinx reads).
GENERATED = Path("_generated")

#: The text of an empty cell, and of the naive forecasts' input set (they
#: read PM2.5 only, so the CSV files them as univariate): an en dash.
BLANK = "\N{EN DASH}"

#: Column titles of the page that differ from the report's.
_PAGE_TITLES = {"test_year": "test year", "cover": "cover %"}


def read_results(path):
    """The long results table of the study, as ``sklstm-beijing`` wrote it."""
    return pd.read_csv(path, dtype={"test_year": str})


def table_horizons(results):
    """The horizons the LSTM was fitted for: the tables' columns."""
    return sorted(results.loc[results["model"] == "lstm", "horizon"].unique())


def score_table(results, *, upper_bound=False):
    """RMSE, skill and DM p-value by test year, as a reST list-table.

    Parameters
    ----------
    results : pandas.DataFrame
        The long results table (:func:`read_results`).
    upper_bound : bool, default=False
        False for the deployable input sets, True for those that read the
        observed weather ahead (a perfect forecast), which are never mixed
        with them.

    Returns
    -------
    text : str
        A ``list-table`` directive (empty where ``results`` holds none of
        those input sets). Bold: the lowest RMSE of its test year, input set
        and horizon (the naive forecasts compete with the univariate models).
    """
    horizons = table_horizons(results)
    results = split_upper_bound(results)[upper_bound]
    if results.empty:
        return ""  # an empty include: no such input set was run
    table = wide_table(results, POINT_VALUES, horizons)
    rmse = [name for name in table.columns if name.startswith("RMSE ")]
    lowest = table.groupby(["test_year", "inputs"], sort=False)[rmse].transform("min")
    bold = table[rmse].eq(lowest).reindex(columns=table.columns, fill_value=False)
    lstm = results[(results["model"] == "lstm") & results["dm_against"].notna()]
    against = sorted(set(lstm["dm_against"]))
    baseline = (
        f"{_label(against[0])} in every cell"
        if len(against) == 1
        else "named in the CSV's dm_against column"
    )
    caption = (
        "RMSE (µg/m³), skill against persistence (%) and the "
        "Diebold\N{EN DASH}Mariano p-value of the LSTM against the best baseline "
        "of its inputs "
        f"({baseline}), by test year and their mean (pooled test); LSTM: six "
        "seeds averaged; bold: the lowest RMSE of its input set, horizon and year"
    )
    if upper_bound:
        caption = f"{UPPER_BOUND}. {caption}"
    return _list_table(caption, table, bold.to_numpy())


def upper_bound_table(results):
    """:func:`score_table` of the input sets that read observed weather ahead."""
    return score_table(results, upper_bound=True)


def interval_table(results):
    """The intervals' coverage and width, mean over the test years, as a
    reST list-table.

    Parameters
    ----------
    results : pandas.DataFrame
        The long results table (:func:`read_results`).

    Returns
    -------
    text : str
        A ``list-table`` directive.
    """
    deployable = split_upper_bound(results)[0]
    means = deployable[deployable["test_year"] == MEAN]
    table = wide_table(means, INTERVAL_VALUES, table_horizons(results))
    table.insert(0, "test_year", MEAN)
    years = sorted(set(results["test_year"]) - {MEAN})
    caption = (
        f"80 % conformal intervals, mean over {years[0]}\N{EN DASH}{years[-1]}: "
        "coverage (%) and mean width (µg/m³); the deployable input sets"
    )
    return _list_table(caption, table)


#: The generated files: name -> function of the results that writes it.
TABLES = {
    "beijing_scores.rst": score_table,
    "beijing_scores_upper_bound.rst": upper_bound_table,
    "beijing_intervals.rst": interval_table,
}


def write_tables(srcdir):
    """Write every table of :data:`TABLES` in ``srcdir/_generated``.

    A file whose text is unchanged is left alone, so that Sphinx does not
    rebuild the page that includes it.

    Parameters
    ----------
    srcdir : str or pathlib.Path
        The docs' source folder.

    Returns
    -------
    written : list of pathlib.Path
        The generated files, changed or not.
    """
    srcdir = Path(srcdir)
    results = read_results(srcdir / RESULTS_CSV)
    folder = srcdir / GENERATED
    folder.mkdir(exist_ok=True)
    written = []
    for name, make_table in TABLES.items():
        path = folder / name
        text = make_table(results)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _label(model):
    return _LABELS.get(model, model)


def _list_table(caption, table, bold=None):
    """``table`` as a list-table: the report's cells, the page's labels,
    ``**`` around the cells where ``bold`` (an array like ``table``) is True."""
    header, *rows = _cells(table)
    for title, page_title in _PAGE_TITLES.items():
        header = [name.replace(title, page_title, 1) for name in header]
    inputs, model = header.index("inputs"), header.index("model")
    body = []
    for number, row in enumerate(rows):
        if row[model] in NAIVE_FORECASTS:
            row[inputs] = BLANK
        row[model] = _label(row[model])
        # The report writes "-" for an empty cell; the page a dash.
        row = [BLANK if cell == "-" else cell for cell in row]
        if bold is not None:
            row = [
                f"**{cell}**" if strong else cell
                for cell, strong in zip(row, bold[number], strict=True)
            ]
        body.append(row)
    lines = textwrap.wrap(
        caption, width=76, initial_indent=".. list-table:: ", subsequent_indent="   "
    )
    lines += ["   :header-rows: 1", ""]
    for row in [header, *body]:
        lines += [f"   {'  ' if k else '* '}- {cell}" for k, cell in enumerate(row)]
    return "\n".join(lines) + "\n"


def _write_tables(app):
    write_tables(app.srcdir)


def setup(app):
    app.connect("builder-inited", _write_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
