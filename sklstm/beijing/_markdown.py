"""The Markdown report of a study run: what was run, the tables, the notes."""

import os
import platform

import numpy as np
import sklearn

from .. import __version__
from ._input_sets import INPUT_SETS
from ._intervals import FLOOR, GAMMA
from ._models import HGB, LAG_REGRESSORS, SEASON
from ._report import (
    INTERVAL_VALUES,
    UPPER_BOUND,
    count,
    join_and,
    split_upper_bound,
    to_markdown,
    wide_table,
)
from ._settings import StudySettings


def _period_text(period):
    return f"{period.first:%Y-%m-%d %H:%M} to {period.last:%Y-%m-%d %H:%M}"


def study_description(settings, backends=()):
    """The report's description of the study, from the settings it ran with.

    Parameters
    ----------
    settings : StudySettings
    backends : iterable of str, default=()
        The LSTM backends used (``backend_`` of the fitted LSTMs).

    Returns
    -------
    paragraphs : list of str
    """
    window = settings.window
    inputs = "; ".join(
        f"{name}: {INPUT_SETS[name].description}" for name in settings.inputs
    )
    seasonal = f"value at t+h-{SEASON}"
    if max(settings.scored_horizons) > SEASON:
        seasonal += (
            f", or at t+h-{SEASON}k for h > {SEASON}, k the fewest days back known at t"
        )
    seeds = list(settings.seeds)
    ridge, hgb = LAG_REGRESSORS["ridge"](), LAG_REGRESSORS[HGB]()
    folds = "; ".join(
        f"test {year}: train {_period_text(protocol.train)}, validation "
        f"{_period_text(protocol.validation)}, test {_period_text(protocol.test)}"
        for year, protocol in ((y, settings.fold(y)) for y in settings.folds)
    )
    scored = settings.scored_horizons
    lstm_too = " and the LSTM" if settings.joint else ""
    extra = (
        f" Persistence, seasonal naive, Ridge{lstm_too} are also scored at "
        f"every hour from {scored[0]} "
        f"to {scored[-1]} (the skill figure)."
    )
    if settings.joint:
        lstm = (
            f"LSTM: one model for every horizon from {scored[0]} to {scored[-1]} "
            "hours (one output each), "
        )
    else:
        lstm = "LSTM: one per horizon, "
    return [
        "Rolling origin, expanding window: for each test year, every model is "
        "fitted on the train period, the LSTM stops early on the validation "
        "year, and all are scored on the test year; PM2.5 gaps filled by time "
        "interpolation; rows assigned to the period of their target. "
        f"Folds: {folds}. Horizons {join_and(settings.horizons)} hours; "
        f"{window}-hour input windows; scalers fitted on each fold's train "
        f"period. Inputs: {inputs}.{extra}",
        lstm
        + f"{settings.hidden} hidden units, "
        + (
            f"a linear skip connection from the last {settings.skip_steps} "
            "hours of the window to the forecast, "
            if settings.skip_steps
            else ""
        )
        + "Adam "
        f"learning rate {settings.learning_rate:g}, batch "
        f"{settings.batch_size}, at most {count(settings.epochs, 'epoch')}, "
        + (
            "early stopping"
            if settings.schedule == "constant"
            else "step size divided by 5"
        )
        + f" after {count(settings.patience, 'epoch')} without a better validation "
        f"score (an R² gain over {settings.tol:g}), "
        + ("" if settings.schedule == "constant" else "stopping once it is 1e-6, ")
        + "best weights kept, "
        + (f"input dropout {settings.dropout:g}, " if settings.dropout else "")
        + f"{'seed' if len(seeds) == 1 else 'seeds'} {join_and(seeds)}"
        f"{' (forecasts averaged)' if len(seeds) > 1 else ''}, backend "
        f"{settings.backend} ({', '.join(sorted(backends)) or 'none run'}). "
        "Baselines: persistence (value at t), seasonal naive "
        f"({seasonal}; daily seasonality, whatever the input window), "
        f"Ridge(alpha={ridge.alpha:g}) and HistGradientBoostingRegressor("
        f"learning_rate={hgb.learning_rate:g}, max_leaf_nodes={hgb.max_leaf_nodes}, "
        f"at most {settings.hgb_max_iter} iterations, early stopping on the "
        f"validation year after {hgb.n_iter_no_change} without a better score; "
        f"at the horizons {join_and(settings.horizons)} only) on standardised "
        f"{window}-hour lags, wind direction label-encoded; with a look-ahead, "
        "the leads of the known-ahead columns up to the target hour, and one "
        "Ridge per horizon.",
    ]


_SCORES_NOTE = (
    "Skill: 1 - RMSE / RMSE of persistence on the same rows. DM p: two-sided "
    "p-value of the Diebold-Mariano test of equal mean squared error between "
    "the LSTM and the baseline of its inputs with the lowest RMSE (the naive "
    "forecasts count as univariate), h-step, with Harvey, Leybourne and "
    "Newbold's small-sample correction and Student's t; the long-run variance "
    "keeps h-1 lags with equal weights, or Bartlett's where those would give "
    "a variance of zero or less. The CSV has the statistic (dm_stat, positive "
    "where the LSTM is the more accurate) and the baseline (dm_against). Mean "
    "rows: each score averaged over the test years; their DM test pools the "
    "years' loss differentials (lag products within a year only) against the "
    "baseline of the lowest mean RMSE."
)


def _interval_notes(settings):
    """The report's paragraph on the intervals."""
    return [
        f"Intervals: cover h=… is the share (%) of test targets inside the "
        f"model's {settings.intervals:.0%} interval, width h=… its mean width "
        "(µg/m³). Every model's interval is conformal around its own point "
        "forecasts, calibrated on its errors on the fold's validation year. "
        "The score (absolute |y - ŷ|, or relative |y - ŷ| / max(ŷ, "
        f"{FLOOR:g})) and whether the level adapts online to the misses "
        f"already observed (ACI, step {GAMMA:g}; a forecast for t+h is "
        "scored at t+h, never sooner) were chosen per model, year and horizon "
        "on the validation year alone: calibrated on its first half, the "
        "narrowest method whose coverage on its second half was within 2 "
        "points of the target (else the closest); the CSV's interval column "
        "names the choice.",
        "",
    ]


def _tables(results, settings):
    """The Markdown lines of the point, seed and interval tables of
    ``results`` (rows of some input sets)."""
    if results.empty:
        return []
    point = wide_table(results, ("rmse", "mae", "skill", "dm_p"), settings.horizons)
    lines = [
        "RMSE and MAE (µg/m³), skill against persistence (%), Diebold-Mariano "
        "p-value of the LSTM:",
        "",
        to_markdown(point),
        "",
    ]
    lstm = results[results["model"] == "lstm"]
    if len(settings.seeds) > 1 and not lstm.empty:
        lines += [
            "RMSE of the single LSTMs whose mean forecast the table scores "
            "(min-max over seeds):",
            "",
            to_markdown(wide_table(lstm, ("seeds",), settings.horizons)),
            "",
        ]
    if results["coverage"].notna().any():
        lines += [
            f"{settings.intervals:.0%} intervals: coverage (%) and mean width (µg/m³):",
            "",
            to_markdown(wide_table(results, INTERVAL_VALUES, settings.horizons)),
            "",
        ]
    return lines


def markdown_report(result, command):
    """The report of ``result`` (a :class:`StudyResult`) run by ``command``."""
    settings, results = result.settings, result.results
    quick = settings.protocol is not StudySettings().protocol
    backends = {
        model[-1].backend_
        for (_, _, name, _), models in result.models.items()
        if name == "lstm"
        for model in models
    }
    lines = [
        "# Beijing PM2.5 forecasts by rolling origin: test years "
        f"{join_and(settings.folds)}",
        "",
        f"Command: `{command}`"
        + (" (a smoke-test slice: not the study's numbers)" if quick else ""),
        "",
        *(
            line
            for paragraph in study_description(settings, backends)
            for line in (paragraph, "")
        ),
    ]
    deployable, upper_bound = split_upper_bound(results)
    for rows, heading in ((deployable, "Deployable"), (upper_bound, UPPER_BOUND)):
        if rows.empty:
            continue
        if not upper_bound.empty:  # headings only where the two are apart
            lines += [f"## {heading}", ""]
        lines += _tables(rows, settings)
    lines += [_SCORES_NOTE, ""]
    if results["coverage"].notna().any():
        lines += _interval_notes(settings)
    lines += [
        f"Run: sklstm {__version__}, scikit-learn {sklearn.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"wall time {result.wall_time_s:.0f} s; the LSTM fits took "
        f"{result.lstm_fit_time_s:.0f} s, added up over the processes.",
        "",
    ]
    return "\n".join(lines)
