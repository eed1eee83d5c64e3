"""The ``sklstm-beijing`` command: parse the options, run, write the outputs."""

import argparse
import contextlib
import dataclasses
import importlib.util
import os
import platform
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn

from .. import __version__
from ._intervals import FLOOR, GAMMA
from ._models import LAG_REGRESSORS, SEASON
from ._progress import ProgressBar
from ._protocol import FEATURE_NAMES, FOLDS, HORIZONS, INPUT_SETS
from ._report import (
    MEAN,
    count,
    plot_forecasts,
    plot_skill,
    to_markdown,
    to_text,
    wide_table,
)
from ._settings import StudySettings
from ._study import run_study

#: Names of the files written in ``--out``.
TABLE_CSV = "beijing_pm25.csv"
TABLE_MD = "beijing_pm25.md"
PLOT_PNG = "beijing_pm25_forecast.png"
SKILL_PNG = "beijing_pm25_skill.png"

#: Every file the command writes, in the order it names them.
OUTPUTS = (TABLE_MD, TABLE_CSV, PLOT_PNG, SKILL_PNG)

#: How to get the plots where matplotlib is missing (it is an optional extra).
PLOT_INSTALL_HINT = 'pip install "sklstm[plot]"'

#: The tables' columns: point accuracy, then the intervals.
POINT_VALUES = ("rmse", "skill", "dm_p")
INTERVAL_VALUES = ("coverage", "width")


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
    settings = _settings(options, parser)  # exits (status 2) on a bad option
    out = Path(options.out)
    # matplotlib is an optional extra: find out now, not after the long study.
    can_plot = importlib.util.find_spec("matplotlib") is not None
    if not can_plot:
        print(_NO_PLOT, file=sys.stderr, flush=True)

    data_home = getattr(options, "data_home", None)
    with contextlib.ExitStack() as stack:
        if options.scheduler:
            settings = _on_cluster(stack, options, parser, settings)
        result = run_study(
            settings,
            data_home=data_home,
            log=_log,
            progress=None if options.quiet else ProgressBar,
        )

    results = result.results
    command = shlex.join(["sklstm-beijing", *(sys.argv[1:] if argv is None else argv)])
    with _staged(out) as staging:
        results.to_csv(staging / TABLE_CSV, index=False, float_format="%.4f")
        markdown = _markdown(result, command)
        (staging / TABLE_MD).write_text(markdown, encoding="utf-8")
        if can_plot:
            plot_forecasts(
                staging / PLOT_PNG,
                result.truth,
                result.forecasts,
                result.plot_start,
                bands=result.bands,
                title=f"Beijing PM2.5, test year {result.plot_start.year}: "
                "observed and forecast",
            )
            title = f"Skill against persistence, test years {_and(settings.folds)}"
            if len(settings.folds) > 1:
                title += " (line: mean; band or bar: range)"
            plot_skill(staging / SKILL_PNG, results, settings.horizons, title=title)
    written = [out / name for name in OUTPUTS if (out / name).exists()]
    summary = _summary_rows(results)
    which = _which_rows(settings)
    print()
    print(
        f"Point forecasts, {which}: RMSE (µg/m³), skill against persistence (%), "
        "Diebold-Mariano p of the LSTM against the best baseline of its inputs:"
    )
    print(to_text(wide_table(summary, POINT_VALUES, settings.horizons)))
    if summary["coverage"].notna().any():
        print()
        print(
            f"{settings.intervals:.0%} intervals, {which}: coverage (%) and "
            "mean width (µg/m³):"
        )
        print(to_text(wide_table(summary, INTERVAL_VALUES, settings.horizons)))
    print(
        f"\nWall time {result.wall_time_s:.0f} s (LSTM fits "
        f"{result.lstm_fit_time_s:.0f} s, all processes). Wrote {_and(written)}."
    )
    if not can_plot:
        print(_NO_PLOT, file=sys.stderr)
    return 0  # fmt: skip


@contextlib.contextmanager
def _staged(out):
    """A temporary folder beside ``out`` for the outputs, moved into ``out``
    when the block ends without error (files of an earlier run that this
    one does not write are removed, so no stale plot stays beside new
    tables); on an error, nothing is left, not even ``out``."""
    existing = out.resolve()
    while not existing.exists():
        existing = existing.parent
    staging = Path(tempfile.mkdtemp(prefix=".sklstm-beijing-", dir=existing))
    try:
        yield staging
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            if not (staging / name).exists():
                (out / name).unlink(missing_ok=True)
        for name in OUTPUTS:
            if (staging / name).exists():
                os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _summary_rows(results):
    """The rows the terminal shows: the mean over the years, or the one year."""
    if (results["test_year"] == MEAN).any():
        return results[results["test_year"] == MEAN]
    return results


def _which_rows(settings):
    if len(settings.folds) > 1:
        return f"mean over the test years {_and(settings.folds)}"
    return f"test year {settings.folds[0]}"


_NO_PLOT = (
    "sklstm-beijing: matplotlib is not installed, so the plots are "
    f"skipped (the tables are still written); for the plots: {PLOT_INSTALL_HINT}"
)


def _log(line):
    print(line, flush=True)


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklstm-beijing",
        description=(
            f"Forecast Beijing PM2.5 {_and(HORIZONS)} hours ahead with an LSTM "
            "pipeline and baselines, by rolling origin: for each test year Y "
            f"({_and(FOLDS)}), fit on 2010 to Y-2, stop the LSTM early on Y-1, "
            "score on Y; write the results tables and two plots (the plots "
            f"need matplotlib: {PLOT_INSTALL_HINT})."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    defaults = StudySettings()
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test on a slice of each fold (train Sep-Dec of Y-2, "
        "validation Jan Y-1, test Jan Y), few epochs, two seeds",
    )
    parser.add_argument(
        "--folds",
        type=_fold_list,
        default=",".join(map(str, FOLDS)),
        help=f"test years of the rolling origin, comma-separated, among {_and(FOLDS)}",
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
            _bounded(int, 1, MAX_WINDOW),
            "window",
            "hours of input history: the LSTM's sequence length and the lags "
            "of the Ridge and gradient-boosting baselines",
        ),
        ("--epochs", _bounded(int, 1, 10_000), "epochs", "most LSTM epochs"),
        (
            "--patience",
            _bounded(int, 1, 10_000),
            "patience",
            "LSTM epochs without a better validation score before stopping",
        ),
        (
            "--tol",
            _bounded(float, 0, 1),
            "tol",
            "least gain of LSTM validation R² that counts",
        ),
        ("--hidden", _bounded(int, 1, MAX_HIDDEN), "hidden", "LSTM hidden units"),
        (
            "--skip-steps",
            _bounded(int, 0, MAX_WINDOW),
            "skip_steps",
            "last hours of the window that also reach the LSTM's forecast "
            "through a linear map (0: none)",
        ),
        (
            "--batch-size",
            _bounded(int, 1, 1_000_000),
            "batch_size",
            "LSTM minibatch size",
        ),
        (
            "--learning-rate",
            _bounded(float, 0, 10, low_open=True),
            "learning_rate",
            "LSTM Adam step size",
        ),
        (
            "--dropout",
            _bounded(float, 0, 1, high_open=True),
            "dropout",
            "share of LSTM inputs dropped in training",
        ),
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
        default=argparse.SUPPRESS,
        help="LSTM seeds, comma-separated; several are averaged "
        f"[{','.join(map(str, defaults.seeds))}; --quick: "
        f"{','.join(map(str, quick.seeds))}]",
    )
    parser.add_argument(
        "--joint",
        action="store_true",
        help="one LSTM for every hour from 1 to 24 (and the --horizons) "
        "instead of one per horizon: a third of the fits and an LSTM skill "
        "curve, but less accurate on the validation years",
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
        "--jobs",
        type=_bounded(int, 0, 1024),
        default=0,
        help="processes fitting the LSTMs and gradient-boosting models side by "
        "side; 0 for one per core",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a Dask scheduler (e.g. tcp://10.0.0.5:8786): the fits "
        "run on its workers through joblib's Dask backend, --jobs of them at "
        "once (0: the cluster's worker threads); needs dask[distributed]",
    )
    parser.add_argument(
        "--data-home",
        default=argparse.SUPPRESS,
        help="folder of the Beijing CSV [$SKLSTM_DATA_HOME or ~/sklstm_data]",
    )
    parser.add_argument(
        "--threads",
        type=_bounded(int, 0, 1024),
        default=defaults.threads,
        help="threads of BLAS and OpenMP; 0 keeps the libraries' defaults "
        "(more threads than free cores slow the study down)",
    )
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument(
        "--quiet", action="store_true", help="print only the final tables"
    )
    talk.add_argument(
        "--verbose",
        action="store_true",
        help="print every fit and every LSTM epoch, not only a progress bar "
        "per study step",
    )
    return parser  # fmt: skip


#: Options that take an integer of at least 1, by StudySettings attribute.
_POSITIVE = ("window", "epochs", "patience", "hidden", "batch_size")
#: The longest window and horizon, and the most hidden units, the parser
#: accepts: a 30-day window of the 2010-2013 rows already takes some 2 GB of
#: windows, and beyond these the study would run out of memory or time.
MAX_WINDOW = 24 * 30
MAX_HORIZON = 24 * 7
MAX_HIDDEN = 1024


def _settings(options, parser):
    changes = dict(
        horizons=options.horizons,
        inputs=options.inputs,
        folds=options.folds,
        joint=options.joint,
        schedule=options.schedule,
        backend=options.backend,
        threads=options.threads or None,
        intervals=options.intervals or None,
        n_jobs=options.jobs or None,
        verbose=options.verbose,
    )
    for name in (*_POSITIVE, "learning_rate", "tol", "dropout", "skip_steps", "seeds"):
        if hasattr(options, name):
            changes[name] = getattr(options, name)
    settings = (StudySettings.quick if options.quick else StudySettings)(**changes)
    if settings.skip_steps > settings.window:
        parser.error(
            f"--skip-steps must be from 0 to the window ({settings.window}), "
            f"got {settings.skip_steps}"
        )
    shortest = min(
        (protocol.train.last - protocol.train.first) // pd.Timedelta(hours=1) + 1
        for protocol in map(settings.fold, settings.folds)
    )
    if settings.window >= shortest:
        parser.error(
            f"--window {settings.window} is longer than the data: the shortest "
            f"train period holds {shortest} hours; pass a smaller --window"
        )
    problem = _unwritable(Path(options.out))
    if problem:
        parser.error(f"--out {options.out}: {problem}")
    return settings


def _on_cluster(stack, options, parser, settings):
    """Connect to ``--scheduler`` (exit 2 if that fails, before any fit) and
    send the study's joblib tasks to its workers until ``stack`` closes.

    Returns the settings, with ``n_jobs`` the cluster's worker threads
    unless ``--jobs`` chose.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        parser.error(
            "--scheduler needs Dask's distributed scheduler: "
            'pip install "dask[distributed]"'
        )
    try:
        client = stack.enter_context(Client(options.scheduler, timeout="10s"))
    except OSError as error:
        parser.error(f"--scheduler {options.scheduler}: cannot connect ({error})")
    stack.enter_context(joblib.parallel_config(backend="dask"))
    if options.jobs:
        return settings
    threads = sum(client.nthreads().values())
    return dataclasses.replace(settings, n_jobs=max(1, threads))


def _bounded(kind, low, high, *, low_open=False, high_open=False):
    """An argparse ``type``: a finite ``kind`` number in [low, high]
    (open at a bound where asked)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        below = value is not None and (value <= low if low_open else value < low)
        above = value is not None and (value >= high if high_open else value > high)
        if value is None or not np.isfinite(value) or below or above:
            opening, closing = "([", ")]"
            interval = (
                f"{opening[not low_open]}{low:g}, {high:g}{closing[not high_open]}"
            )
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'} in "
                f"{interval}, got {text!r}"
            )
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its errors
    return parse


def _unwritable(out):
    """Why the outputs cannot be written in ``out``, or None if they can.

    ``out`` need not exist: its nearest existing folder must be writable
    (checked by creating a file there, which also holds for root).
    """
    if out.exists() and not out.is_dir():
        return "is a file, not a folder; pass a folder for the outputs"
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder; pass a folder for the outputs"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror}); pass a writable folder"
    return None


def _int_list(text, *, least=0, most=2**31 - 1):
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 1,6,24, got {text!r}"
        ) from None
    if any(value < least or value > most for value in values):
        raise argparse.ArgumentTypeError(
            f"expected integers from {least} to {most}, got {text!r}"
        )
    return _once(values, text)


def _once(values, text):
    if len(set(values)) < len(values):
        raise argparse.ArgumentTypeError(f"each value may be given once, got {text!r}")
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
    return _int_list(text, least=1, most=MAX_HORIZON)


def _fold_list(text):
    years = _int_list(text)
    outside = [year for year in years if year not in FOLDS]
    if outside:
        raise argparse.ArgumentTypeError(
            f"test years must be among {_and(FOLDS)} (each needs a train year "
            f"and a validation year before it), got {text!r}"
        )
    return tuple(sorted(years))


def _input_list(text):
    names = tuple(part.strip() for part in text.split(","))
    unknown = [name for name in names if name not in INPUT_SETS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown input set(s) {unknown}; choose among {list(INPUT_SETS)}"
        )
    return _once(names, text)


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
    window = settings.window
    inputs = "; ".join(
        f"{name}: "
        + ", ".join(FEATURE_NAMES[feature] for feature in INPUT_SETS[name])
        + (" only" if len(INPUT_SETS[name]) == 1 else "")
        for name in settings.inputs
    )
    seasonal = f"value at t+h-{SEASON}"
    if max(settings.scored_horizons) > SEASON:
        seasonal += (
            f", or at t+h-{SEASON}k for h > {SEASON}, k the fewest days back known at t"
        )
    seeds = list(settings.seeds)
    ridge = LAG_REGRESSORS["ridge"]()
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
        f"Folds: {folds}. Horizons {_and(settings.horizons)} hours; "
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
        + f"{'seed' if len(seeds) == 1 else 'seeds'} {_and(seeds)}"
        f"{' (forecasts averaged)' if len(seeds) > 1 else ''}, backend "
        f"{settings.backend} ({', '.join(sorted(backends)) or 'none run'}). "
        "Baselines: persistence (value at t), seasonal naive "
        f"({seasonal}; daily seasonality, whatever the input window), "
        f"Ridge(alpha={ridge.alpha:g}) and HistGradientBoostingRegressor("
        f"max_iter={settings.hgb_max_iter}, no early stopping; at the "
        f"horizons {_and(settings.horizons)} only) on standardised {window}-hour "
        "lags, wind direction label-encoded.",
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


def _markdown(result, command):
    settings, results = result.settings, result.results
    quick = settings.protocol is not StudySettings().protocol
    backends = {
        model[-1].backend_
        for (_, _, name, _), models in result.models.items()
        if name == "lstm"
        for model in models
    }
    point = wide_table(results, ("rmse", "mae", "skill", "dm_p"), settings.horizons)
    lines = [
        "# Beijing PM2.5 forecasts by rolling origin: test years "
        f"{_and(settings.folds)}",
        "",
        f"Command: `{command}`"
        + (" (a smoke-test slice: not the study's numbers)" if quick else ""),
        "",
        *(line for paragraph in _prose(settings, backends) for line in (paragraph, "")),
        "RMSE and MAE (µg/m³), skill against persistence (%), Diebold-Mariano "
        "p-value of the LSTM:",
        "",
        to_markdown(point),
        "",
        _SCORES_NOTE,
        "",
    ]
    if len(settings.seeds) > 1:
        lines += [
            "RMSE of the single LSTMs whose mean forecast the table scores "
            "(min-max over seeds):",
            "",
            to_markdown(
                wide_table(
                    results[results["model"] == "lstm"], ("seeds",), settings.horizons
                )
            ),
            "",
        ]
    if results["coverage"].notna().any():
        lines += [
            to_markdown(wide_table(results, INTERVAL_VALUES, settings.horizons)),
            "",
            *_interval_notes(settings),
        ]
    lines += [
        f"Run: sklstm {__version__}, scikit-learn {sklearn.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"wall time {result.wall_time_s:.0f} s; the LSTM fits took "
        f"{result.lstm_fit_time_s:.0f} s, added up over the processes.",
        "",
    ]
    return "\n".join(lines)
