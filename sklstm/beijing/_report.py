"""The study's tables and plots: the long table's columns, its wide views (as
plain text or Markdown), the two figures, and the words they share
(:func:`count`, :func:`join_and`)."""

import numpy as np
import pandas as pd

from ._input_sets import INPUT_SETS

#: The ``test_year`` of the rows that average the test years.
MEAN = "mean"

#: Columns of the long results table, one row per test year (or ``MEAN``) ×
#: input set × model × horizon. ``skill``: 1 - RMSE / RMSE of persistence;
#: ``dm_stat``, ``dm_p``: the Diebold–Mariano test of the LSTM against
#: ``dm_against``, the best baseline of its inputs (LSTM rows only).
RESULT_COLUMNS = [
    "test_year", "inputs", "model", "horizon", "rmse", "mae", "skill",
    "dm_stat", "dm_p", "dm_against", "n_test", "fit_time_s", "coverage",
    "width", "interval", "rmse_seed_min", "rmse_seed_max",
]  # fmt: skip


#: The terminal's tables: point accuracy, then the intervals.
POINT_VALUES = ("rmse", "skill", "dm_p")
INTERVAL_VALUES = ("coverage", "width")

#: Column titles of the wide tables, by long column.
_TITLES = {
    "rmse": "RMSE", "mae": "MAE", "skill": "skill %", "dm_p": "DM p",
    "seeds": "seeds", "coverage": "cover", "width": "width",
}  # fmt: skip


#: What heads every table of the input sets that read observed weather ahead.
UPPER_BOUND = (
    "Upper bound, not a deployable forecast: the observed weather of the "
    "target hours stands in for a perfect weather forecast"
)


def split_upper_bound(results):
    """The rows of the deployable input sets, and those of the sets that
    read observed values ahead (:attr:`InputSet.perfect_forecast`), which
    are reported apart, under :data:`UPPER_BOUND`.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of the long table (:data:`RESULT_COLUMNS`).

    Returns
    -------
    deployable, upper_bound : pandas.DataFrame
        Either may be empty.
    """
    perfect = (
        results["inputs"]
        .map(lambda name: INPUT_SETS[name].perfect_forecast)
        .astype(bool)
    )
    return results[~perfect], results[perfect]


def count(number, noun):
    """``"1 seed"``, ``"3 seeds"``, ``"2 processes"``."""
    plural = "es" if noun.endswith("s") else "s"
    return f"{number} {noun}{'' if number == 1 else plural}"


def join_and(items):
    """``"a, b and c"`` from the items' strings."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def wide_table(results, values=("rmse", "mae", "skill", "dm_p"), horizons=None):
    """One row per (test year,) input set and model; ``values`` per horizon.

    Parameters
    ----------
    results : pandas.DataFrame
        The long table (:data:`RESULT_COLUMNS`), or some of its rows.
    values : sequence of str, default=("rmse", "mae", "skill", "dm_p")
        Columns to spread by horizon; ``"seeds"`` is the min-max RMSE of
        the single LSTMs whose mean forecast ``rmse`` scores. ``skill`` and
        ``coverage`` are shown in %.
    horizons : sequence of int, default=None
        Horizons to show; None for every horizon of ``results``.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``test_year`` (where ``results`` holds several),
        ``inputs``, ``model``, then ``"<title> h=<horizon>"``, in the order
        of ``results``.
    """
    if horizons is not None:
        results = results[results["horizon"].isin(horizons)]
    results = results.assign(
        skill=100 * results["skill"], coverage=100 * results["coverage"]
    )
    if "seeds" in values:
        spread = [
            f"{low:.2f}-{high:.2f}" if np.isfinite(low) else np.nan
            for low, high in zip(
                results["rmse_seed_min"], results["rmse_seed_max"], strict=True
            )
        ]
        results = results.assign(seeds=spread)
    keys = _KEYS if results["test_year"].nunique() > 1 else _KEYS[1:]
    return _by_model(results, list(values), keys)


_KEYS = ["test_year", "inputs", "model"]


def _by_model(results, values, keys):
    """Pivot ``values`` to one column per horizon, rows in the study's order."""
    wide = results.pivot(index=keys, columns="horizon", values=values)
    wide.columns = [f"{_TITLES[value]} h={h}" for value, h in wide.columns]
    order = pd.MultiIndex.from_frame(results[keys].drop_duplicates())
    return wide.reindex(order).reset_index()


def _cells(table):
    """The table as strings: numbers with one or two decimals, blanks for NaN."""
    cells = [list(table.columns)]
    for row in table.itertuples(index=False):
        cells.append(
            [
                _format(value, 1 if name.startswith(_ONE_DECIMAL) else 2, name)
                for name, value in zip(table.columns, row, strict=True)
            ]
        )
    return cells


_ONE_DECIMAL = ("fit", "cover", "width", "skill")


def _format(value, decimals, name=""):
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return "-"
    if name.startswith("DM p"):
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    return f"{value:.{decimals}f}"


def to_text(table):
    """Render ``table`` as aligned plain text for the terminal."""
    cells = _cells(table)
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                cell.ljust(width) if cells[0][k] in _KEYS else cell.rjust(width)
                for k, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def to_markdown(table):
    """Render ``table`` as a GitHub Markdown table."""
    cells = _cells(table)
    n_keys = sum(name in _KEYS for name in cells[0])
    align = ["---"] * n_keys + ["---:"] * (len(cells[0]) - n_keys)
    rows = [cells[0], align, *cells[1:]]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (an optional extra,
    imported when a plot is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
    plt = _pyplot()

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


def plot_skill(path, results, horizons=(), title=None):
    """Skill against persistence by horizon: the mean over the test years
    with their range as a band, one panel per input set.

    Parameters
    ----------
    path : str or pathlib.Path
        Where to save the PNG.
    results : pandas.DataFrame
        The long table (:data:`RESULT_COLUMNS`).
    horizons : sequence of int, default=()
        The table's horizons, marked on the horizontal axis. A model scored
        at a few horizons only (gradient boosting) is drawn as points with
        their range.
    title : str, default=None

    Returns
    -------
    path : str or pathlib.Path
        The ``path`` argument.
    """
    plt = _pyplot()

    yearly = results[
        (results["test_year"] != MEAN) & (results["model"] != "persistence")
    ]
    panels = list(dict.fromkeys(yearly["inputs"]))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.2 * len(panels), 4.4), sharey=True, squeeze=False
    )
    colours = {"seasonal naive": "0.6", "ridge": "tab:blue",
               "hist gradient boosting": "tab:green", "lstm": "tab:red"}  # fmt: skip
    shown = []  # the skills of the curves the axis must fit
    for axis, inputs in zip(axes[0], panels, strict=True):
        axis.axhline(0, color="black", linewidth=0.8, linestyle=":",
                     label="persistence")  # fmt: skip
        for model, rows in yearly[yearly["inputs"] == inputs].groupby(
            "model", sort=False
        ):
            skill = 100 * rows.pivot(index="horizon", columns="test_year",
                                     values="skill")  # fmt: skip
            mean, low, high = skill.mean(axis=1), skill.min(axis=1), skill.max(axis=1)
            style = dict(color=colours.get(model), label=_LABELS.get(model, model))
            if len(mean) > 3:
                axis.plot(mean.index, mean, linewidth=1.6, **style)
                axis.fill_between(mean.index, low, high, alpha=0.18, linewidth=0,
                                  color=style["color"])  # fmt: skip
            else:
                axis.errorbar(mean.index, mean, yerr=[mean - low, high - mean],
                              fmt="o", capsize=3, **style)  # fmt: skip
            if model != "seasonal naive":  # far below at short horizons
                shown.extend([low.min(), high.max()])
        panel_title = f"{inputs} inputs"
        if INPUT_SETS[inputs].perfect_forecast:
            panel_title += "\n(observed weather ahead: an upper bound)"
        axis.set_title(panel_title, fontsize=10)
        axis.set_xlabel("horizon (hours ahead)")
        if horizons:
            axis.set_xticks(sorted({1, *horizons, *range(6, 25, 6)}))
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right", fontsize=8)
    margin = 0.1 * (max(shown) - min(shown)) if shown else 1.0
    axes[0, 0].set_ylim(min(shown, default=-1) - margin, max(shown, default=1) + margin)
    axes[0, 0].set_ylabel("skill against persistence (%)")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


_LABELS = {"lstm": "LSTM", "ridge": "Ridge", "hist gradient boosting": "HGB"}
