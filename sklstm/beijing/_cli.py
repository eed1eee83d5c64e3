"""The ``sklstm-beijing`` command: parse the options, run, write the outputs."""

import argparse
import importlib.util
import os
import platform
import shlex
import sys
from pathlib import Path

import numpy as np
import sklearn

from .. import __version__
from ._intervals import FLOOR, GAMMA
from ._models import LAG_REGRESSORS, SEASON
from ._protocol import FEATURE_NAMES, HORIZONS, INPUT_SETS
from ._report import (
    count,
    interval_methods,
    plot_forecasts,
    to_markdown,
    to_text,
    wide_table,
)
from ._study import StudySettings, run_study

#: Names of the files written in ``--out``.
TABLE_CSV = "beijing_pm25.csv"
TABLE_MD = "beijing_pm25.md"
PLOT_PNG = "beijing_pm25_forecast.png"

#: How to get the plot where matplotlib is missing (it is an optional extra).
PLOT_INSTALL_HINT = 'pip install "sklstm[plot]"'


def main(argv=None):
    """Run the Beijing PM2.5 study from the command line.

    Parameters
    ----------
    argv : list of str, default=None
        The options; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success (the exit status of the command).
    """
    parser = _parser()
    options = parser.parse_args(argv)
    settings = _settings(options, parser)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    log = (lambda line: None) if options.quiet else _log
    # matplotlib is an optional extra: find out now, not after the long study.
    can_plot = importlib.util.find_spec("matplotlib") is not None
    if not can_plot:
        print(_NO_PLOT, file=sys.stderr, flush=True)

    data_home = getattr(options, "data_home", None)
    result = run_study(settings, data_home=data_home, log=log)

    table = wide_table(result.results)
    result.results.to_csv(out / TABLE_CSV, index=False, float_format="%.4f")
    command = shlex.join(["sklstm-beijing", *(sys.argv[1:] if argv is None else argv)])
    (out / TABLE_MD).write_text(_markdown(result, table, command), encoding="utf-8")
    written = [out / TABLE_MD, out / TABLE_CSV]
    protocol = settings.periods()
    if can_plot:
        written.append(
            plot_forecasts(
                out / PLOT_PNG,
                result.truth,
                result.forecasts,
                protocol.plot_start,
                bands=result.bands,
                title=f"Beijing PM2.5, {settings.score_on} year: observed and forecast",
            )
        )
    print()
    print(
        f"{settings.score_on.capitalize()} RMSE and MAE (µg/m³), "
        f"{_period_text(protocol.test)}:"
    )
    print(to_text(table))
    print(f"\nWall time {result.wall_time_s:.0f} s. Wrote {_and(written)}.")
    if not can_plot:
        print(_NO_PLOT, file=sys.stderr)
    return 0


_NO_PLOT = (
    "sklstm-beijing: matplotlib is not installed, so the forecast plot is "
    f"skipped (the table is still written); for the plot: {PLOT_INSTALL_HINT}"
)


def _log(line):
    print(line, flush=True)


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklstm-beijing",
        description=(
            f"Forecast Beijing PM2.5 {_and(HORIZONS)} hours ahead with an LSTM "
            "pipeline and baselines (protocol P: train 2010-2012, validation "
            "2013, test 2014); write a results table and a plot (the plot "
            f"needs matplotlib: {PLOT_INSTALL_HINT})."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    defaults = StudySettings()
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test on a slice of the data (train Sep-Dec "
        "2012, validation Jan 2013, test Jan 2014), few epochs",
    )
    parser.add_argument("--out", default="results", help="folder for the outputs")
    parser.add_argument(
        "--horizons",
        type=_horizon_list,
        default=",".join(map(str, HORIZONS)),
        help="hours ahead, comma-separated",
    )
    parser.add_argument(
        "--inputs",
        type=_input_list,
        default=",".join(INPUT_SETS),
        help=f"input sets, comma-separated, among {list(INPUT_SETS)}",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "numpy", "cupy"],
        default=defaults.backend,
        help="LSTM array backend",
    )
    quick = StudySettings.quick()
    for option, kind, name, what in [
        (
            "--window",
            int,
            "window",
            "hours of input history: the LSTM's sequence length and the lags "
            "of the Ridge and gradient-boosting baselines",
        ),
        ("--epochs", int, "epochs", "most LSTM epochs"),
        (
            "--patience",
            int,
            "patience",
            "LSTM epochs without a better validation score before stopping",
        ),
        ("--tol", float, "tol", "least gain of LSTM validation R² that counts"),
        ("--hidden", int, "hidden", "LSTM hidden units"),
        (
            "--skip-steps",
            int,
            "skip_steps",
            "last hours of the window that also reach the LSTM's forecast "
            "through a linear map (0: none)",
        ),
        ("--batch-size", int, "batch_size", "LSTM minibatch size"),
        ("--learning-rate", float, "learning_rate", "LSTM Adam step size"),
        ("--dropout", float, "dropout", "share of LSTM inputs dropped in training"),
    ]:
        parser.add_argument(
            option,
            type=kind,
            default=argparse.SUPPRESS,
            help=f"{what} [{getattr(defaults, name)}; --quick: {getattr(quick, name)}]",
        )
    parser.add_argument(
        "--schedule",
        choices=["constant", "adaptive"],
        default=defaults.schedule,
        help="LSTM step-size schedule: 'adaptive' divides it by 5 where "
        "early stopping would stop, until it is 1e-6",
    )
    parser.add_argument(
        "--seeds",
        type=_int_list,
        default=",".join(map(str, defaults.seeds)),
        help="LSTM seeds, comma-separated; several are averaged",
    )
    parser.add_argument(
        "--intervals",
        type=_coverage,
        default=defaults.intervals,
        metavar="COVERAGE",
        help="coverage of the conformal forecast intervals of every model, "
        "in (0, 1); 0 for none",
    )
    parser.add_argument(
        "--score-on",
        choices=["test", "validation"],
        default=defaults.score_on,
        help="the year the table scores; 'validation' runs the protocol one "
        "year earlier (train 2010-2011, early stopping 2012, scored 2013), "
        "to choose settings without reading the test year",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        help="processes fitting LSTMs side by side; 0 for one per core",
    )
    parser.add_argument(
        "--data-home",
        default=argparse.SUPPRESS,
        help="folder of the Beijing CSV [$SKLSTM_DATA_HOME or ~/sklstm_data]",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=defaults.threads,
        help="threads of BLAS and OpenMP; 0 keeps the libraries' defaults "
        "(more threads than free cores slow the study down)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the final table"
    )
    return parser  # fmt: skip


#: Options that take an integer of at least 1, by StudySettings attribute.
_POSITIVE = ("window", "epochs", "patience", "hidden", "batch_size")


def _settings(options, parser):
    for name in _POSITIVE:
        value = getattr(options, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    for name in ("threads", "jobs"):
        if getattr(options, name) < 0:
            parser.error(f"--{name} must be 0 or more, got {getattr(options, name)}")
    learning_rate = getattr(options, "learning_rate", None)
    if learning_rate is not None and learning_rate <= 0:
        parser.error(f"--learning-rate must be positive, got {learning_rate}")
    if getattr(options, "tol", 0) < 0:
        parser.error(f"--tol must be 0 or more, got {options.tol}")
    skip_steps = getattr(options, "skip_steps", 0)
    window = getattr(options, "window", StudySettings().window)
    if not 0 <= skip_steps <= window:
        parser.error(
            f"--skip-steps must be from 0 to the window ({window}), got {skip_steps}"
        )
    if not 0 <= getattr(options, "dropout", 0) < 1:
        parser.error(f"--dropout must be in [0, 1), got {options.dropout}")
    changes = dict(
        horizons=options.horizons,
        inputs=options.inputs,
        seeds=options.seeds,
        schedule=options.schedule,
        backend=options.backend,
        threads=options.threads or None,
        intervals=options.intervals or None,
        score_on=options.score_on,
        n_jobs=options.jobs or None,
        verbose=not options.quiet,
    )
    for name in (*_POSITIVE, "learning_rate", "tol", "dropout", "skip_steps"):
        if hasattr(options, name):
            changes[name] = getattr(options, name)
    return StudySettings.quick(**changes) if options.quick else StudySettings(**changes)


def _int_list(text, *, least=0):
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 1,6,24, got {text!r}"
        ) from None
    if any(value < least for value in values):
        raise argparse.ArgumentTypeError(
            f"expected integers of at least {least}, got {text!r}"
        )
    return values


def _coverage(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a coverage in (0, 1) such as 0.8, or 0 for no intervals, "
            f"got {text!r}"
        )
    return value


def _horizon_list(text):
    return _int_list(text, least=1)


def _input_list(text):
    names = tuple(part.strip() for part in text.split(","))
    unknown = [name for name in names if name not in INPUT_SETS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown input set(s) {unknown}; choose among {list(INPUT_SETS)}"
        )
    return names


def _period_text(period):
    return f"{period.first:%Y-%m-%d %H:%M} to {period.last:%Y-%m-%d %H:%M}"


def _and(items):
    """``"a, b and c"`` from the items' strings."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _prose(settings, backends=()):
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
    protocol, window = settings.periods(), settings.window
    inputs = "; ".join(
        f"{name}: "
        + ", ".join(FEATURE_NAMES[feature] for feature in INPUT_SETS[name])
        + (" only" if len(INPUT_SETS[name]) == 1 else "")
        for name in settings.inputs
    )
    seasonal = f"value at t+h-{SEASON}"
    if max(settings.horizons) > SEASON:
        seasonal += (
            f", or at t+h-{SEASON}k for h > {SEASON}, k the fewest days back known at t"
        )
    seeds = list(settings.seeds)
    ridge = LAG_REGRESSORS["ridge"]()
    return [
        (
            "Protocol P"
            if settings.score_on == "test"
            else "Protocol P one year "
            "earlier, as the settings were chosen (2014 unread)"
        )
        + ": PM2.5 gaps filled by time interpolation; rows assigned to "
        "the period of their target: train "
        f"{_period_text(protocol.train)}, validation "
        f"{_period_text(protocol.validation)} (LSTM early stopping), test "
        f"{_period_text(protocol.test)}; horizons {_and(settings.horizons)} "
        f"hours; {window}-hour input windows; scalers fitted on the train "
        f"period. Inputs: {inputs}.",
        f"LSTM: one per horizon, {settings.hidden} hidden units, "
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
        + f"{'seed' if len(seeds) == 1 else 'seeds'} {_and(seeds)}"
        f"{' (forecasts averaged)' if len(seeds) > 1 else ''}, backend "
        f"{settings.backend} ({', '.join(sorted(backends)) or 'none run'}). "
        "Baselines: persistence (value at t), seasonal naive "
        f"({seasonal}; daily seasonality, whatever the input window), "
        f"Ridge(alpha={ridge.alpha:g}) and HistGradientBoostingRegressor("
        f"max_iter={settings.hgb_max_iter}, no early stopping) on standardised "
        f"{window}-hour lags, wind direction label-encoded.",
    ]


def _interval_notes(result):
    """The report's paragraphs on the intervals, with the methods table."""
    coverage = result.settings.intervals
    if not result.results["coverage"].notna().any():
        return []
    text = (
        f"Intervals: cover h=… is the share (%) of test targets inside the "
        f"model's {coverage:.0%} interval, width h=… its mean width (µg/m³). "
        "Every model's interval is conformal around its own point forecasts, "
        "calibrated on its errors on the validation period. The score "
        "(absolute |y - ŷ|, or relative |y - ŷ| / max(ŷ, "
        f"{FLOOR:g})) and whether the level adapts online to the misses "
        f"already observed (ACI, step {GAMMA:g}; a forecast for t+h is "
        "scored at t+h, never sooner) were chosen per model and horizon on "
        "the validation period alone: calibrated on its first half, the "
        "narrowest method whose coverage on its second half was within 2 "
        "points of the target (else the closest). The choices:"
    )
    return [text, "", to_markdown(interval_methods(result.results)), ""]


def _markdown(result, table, command):
    settings = result.settings
    quick = settings.protocol is not StudySettings().protocol
    backends = {
        model[-1].backend_
        for (_, name, _), models in result.models.items()
        if name == "lstm"
        for model in models
    }
    lines = [
        f"# Beijing PM2.5 forecasts: {settings.score_on} RMSE and MAE (µg/m³)",
        "",
        f"Command: `{command}`"
        + (" (a smoke-test slice: not protocol P's numbers)" if quick else ""),
        "",
        *(line for paragraph in _prose(settings, backends) for line in (paragraph, "")),
        to_markdown(table),
        "",
        "Fit time: seconds spent fitting, all horizons together (the LSTM's "
        "includes the per-epoch validation on the validation period, and adds "
        "up its seeds, which were fitted side by side in separate processes).",
        "",
        *_interval_notes(result),
        f"Run: sklstm {__version__}, scikit-learn {sklearn.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"wall time {result.wall_time_s:.0f} s.",
        "",
    ]
    return "\n".join(lines)
