"""The study's outputs: the results table (text, Markdown, CSV) and the plot."""

import numpy as np
import pandas as pd

#: Columns of the tidy results table, one row per model × input set × horizon.
RESULT_COLUMNS = [
    "inputs", "model", "horizon", "rmse", "mae", "n_test", "fit_time_s",
    "coverage", "width", "interval", "rmse_seed_min", "rmse_seed_max",
]  # fmt: skip


#: Column titles of the wide table, by tidy column.
_TITLES = {
    "rmse": "RMSE", "mae": "MAE", "seeds": "seeds", "coverage": "cover",
    "width": "width",
}  # fmt: skip


def count(number, noun):
    """``"1 seed"``, ``"3 seeds"``, ``"2 processes"``."""
    plural = "es" if noun.endswith("s") else "s"
    return f"{number} {noun}{'' if number == 1 else plural}"


def wide_table(results):
    """One row per input set and model; errors per horizon, fit time.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table (:data:`RESULT_COLUMNS`).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``inputs``, ``model``, ``RMSE h=…``, ``MAE h=…``; with
        several seeds ``seeds h=…``, the min-max RMSE of the single LSTMs
        whose mean forecast the RMSE column scores; where the study made
        intervals, ``cover h=…`` (coverage, %) and ``width h=…`` (mean
        width); and ``fit time (s)`` (all horizons together). Input sets,
        then models, in the order of ``results``.
    """
    values = ["rmse", "mae"]
    if (
        "rmse_seed_min" in results
        and (results["rmse_seed_min"] < results["rmse_seed_max"]).any()
    ):
        spread = [
            f"{low:.2f}-{high:.2f}" if np.isfinite(low) else np.nan
            for low, high in zip(
                results["rmse_seed_min"], results["rmse_seed_max"], strict=True
            )
        ]
        results = results.assign(seeds=spread)
        values += ["seeds"]
    if "coverage" in results and results["coverage"].notna().any():
        results = results.assign(coverage=100 * results["coverage"])
        values += ["coverage", "width"]
    wide = _by_model(results, values, lambda value, h: f"{_TITLES[value]} h={h}")
    fit_time = results.groupby(_KEYS, sort=False)["fit_time_s"].sum(min_count=1)
    wide["fit time (s)"] = fit_time.to_numpy()
    return wide


def interval_methods(results):
    """The interval method of each model and horizon, as a wide table.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``inputs``, ``model`` and ``h=…``, in the order of
        ``results``.
    """
    return _by_model(results, ["interval"], lambda value, h: f"h={h}")


_KEYS = ["inputs", "model"]


def _by_model(results, values, title):
    """Pivot ``values`` to one column per horizon, rows in the study's order."""
    wide = results.pivot(index=_KEYS, columns="horizon", values=values)
    wide.columns = [title(value, horizon) for value, horizon in wide.columns]
    order = pd.MultiIndex.from_frame(results[_KEYS].drop_duplicates())
    return wide.reindex(order).reset_index()


def _cells(table):
    """The table as strings: numbers with one or two decimals, blanks for NaN."""
    cells = [list(table.columns)]
    for row in table.itertuples(index=False):
        cells.append(
            [
                _format(value, decimals=1 if name.startswith(_ONE_DECIMAL) else 2)
                for name, value in zip(table.columns, row, strict=True)
            ]
        )
    return cells


_ONE_DECIMAL = ("fit", "cover", "width")


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


def plot_forecasts(path, truth, forecasts, start, *, bands=None, days=14, title=None):
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
    bands : dict, default=None
        ``{horizon: {label: (lower, upper)}}``: intervals of some of the
        forecasts, Series like theirs, shaded in the forecast's colour. The
        vertical axis fits the observed and forecast series, so a band
        wider than them is cut at the frame.
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
            (line,) = axis.plot(
                series.loc[start:stop], linewidth=1.0, label=label,
                **styles.get(label, {}),
            )  # fmt: skip
            if label in (bands or {}).get(horizon, {}):
                lower, upper = (b.loc[start:stop] for b in bands[horizon][label])
                axis.fill_between(
                    lower.index, lower, upper, color=line.get_color(), alpha=0.15,
                    linewidth=0, label=f"{label} interval",
                )  # fmt: skip
        # The axis fits the series and forecasts; a band that reaches
        # further (an adaptive interval after a run of misses, or a lower
        # bound below zero) is cut at the frame.
        shown = [truth.loc[start:stop]] + [
            series.loc[start:stop] for series in forecasts[horizon].values()
        ]
        top = max(float(np.nanmax(series)) for series in shown)
        axis.set_ylim(min(0.0, *(float(np.nanmin(s)) for s in shown)), 1.25 * top)
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
