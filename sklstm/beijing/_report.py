"""The study's outputs: the results table (text, Markdown, CSV) and the plot."""

import numpy as np
import pandas as pd

#: Columns of the tidy results table, one row per model × input set × horizon.
RESULT_COLUMNS = [
    "inputs", "model", "horizon", "rmse", "mae", "n_test", "fit_time_s",
]  # fmt: skip


def wide_table(results):
    """One row per input set and model; RMSE and MAE per horizon, fit time.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table (:data:`RESULT_COLUMNS`).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``inputs``, ``model``, ``RMSE h=…``, ``MAE h=…`` and
        ``fit time (s)`` (all horizons together); input sets, then models, in
        the order of ``results``.
    """
    keys = ["inputs", "model"]
    wide = results.pivot(index=keys, columns="horizon", values=["rmse", "mae"])
    wide.columns = [f"{metric.upper()} h={horizon}" for metric, horizon in wide.columns]
    wide["fit time (s)"] = results.groupby(keys)["fit_time_s"].sum(min_count=1)
    # Input sets, then models, in the order the study ran them.
    rank = {
        key: {name: k for k, name in enumerate(dict.fromkeys(results[key]))}
        for key in keys
    }
    wide = wide.reset_index()
    wide = wide.sort_values(keys, key=lambda column: column.map(rank[column.name]))
    return wide.reset_index(drop=True)


def _cells(table):
    """The table as strings: numbers with one or two decimals, blanks for NaN."""
    cells = [list(table.columns)]
    for row in table.itertuples(index=False):
        cells.append(
            [
                _format(value, decimals=1 if name.startswith("fit") else 2)
                for name, value in zip(table.columns, row, strict=True)
            ]
        )
    return cells


def _format(value, decimals):
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{decimals}f}"


def to_text(table):
    """Render ``table`` as aligned plain text for the terminal."""
    cells = _cells(table)
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                cell.ljust(width) if k < 2 else cell.rjust(width)
                for k, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def to_markdown(table):
    """Render ``table`` as a GitHub Markdown table."""
    cells = _cells(table)
    align = ["---", "---"] + ["---:"] * (len(cells[0]) - 2)
    rows = [cells[0], align, *cells[1:]]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def plot_forecasts(path, truth, forecasts, start, *, days=14, title=None):
    """Draw truth and forecasts over ``days`` days, one panel per horizon.

    Parameters
    ----------
    path : str or pathlib.Path
        Where to save the PNG.
    truth : pandas.Series
        Observed PM2.5, indexed by hour.
    forecasts : dict
        ``{horizon: {label: pandas.Series}}``, each Series indexed by the
        hour it forecasts (the target time).
    start : pandas.Timestamp
        First hour drawn.
    days : int, default=14
    title : str, default=None

    Returns
    -------
    path : str or pathlib.Path
        The ``path`` argument.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stop = start + pd.Timedelta(days=days) - pd.Timedelta(hours=1)
    horizons = sorted(forecasts)
    fig, axes = plt.subplots(
        len(horizons), 1, figsize=(12, 2.8 * len(horizons)), sharex=True,
        squeeze=False,
    )  # fmt: skip
    styles = {"persistence": {"color": "0.55", "linestyle": ":"}}
    for axis, horizon in zip(axes[:, 0], horizons, strict=True):
        axis.plot(truth.loc[start:stop], color="black", linewidth=1.2, label="observed")
        for label, series in forecasts[horizon].items():
            axis.plot(
                series.loc[start:stop], linewidth=1.0, label=label,
                **styles.get(label, {}),
            )  # fmt: skip
        axis.set_ylabel("PM2.5 (µg/m³)")
        axis.set_title(f"{horizon} h ahead", loc="left", fontsize=10)
        axis.legend(loc="upper right", fontsize=8, ncol=4)
    if title:
        fig.suptitle(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
