"""The ``sklstm-beijing`` options: the parser, the checks of each value, and
the :class:`StudySettings` they make.

Every bad option is refused by argparse (exit status 2, one line naming the
option and what it accepts) before the study starts.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import LSTMRegressor
from ._input_sets import DEFAULT_INPUTS, INPUT_SETS
from ._outputs import PLOT_INSTALL_HINT, unwritable
from ._protocol import FOLDS, HORIZONS
from ._report import join_and
from ._settings import StudySettings

#: Options that take an integer of at least 1, by StudySettings attribute.
_POSITIVE = ("window", "epochs", "patience", "hidden", "batch_size")
#: The longest window and horizon, and the most hidden units, the parser
#: accepts: a 30-day window of the 2010-2013 rows already takes some 2 GB of
#: windows, and beyond these the study would run out of memory or time.
MAX_WINDOW = 24 * 30
MAX_HORIZON = 24 * 7
MAX_HIDDEN = 1024


def build_parser():
    """The parser of the ``sklstm-beijing`` options."""
    parser = argparse.ArgumentParser(
        prog="sklstm-beijing",
        description=(
            f"Forecast Beijing PM2.5 {join_and(HORIZONS)} hours ahead with an LSTM "
            "pipeline and baselines, by rolling origin: for each test year Y "
            f"({join_and(FOLDS)}), fit on 2010 to Y-2, stop the LSTM early on Y-1, "
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
        help="test years of the rolling origin, comma-separated, among "
        f"{join_and(FOLDS)}",
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
        default=",".join(DEFAULT_INPUTS),
        help=f"input sets, comma-separated, among {list(INPUT_SETS)}, or 'all'; "
        "'weather-ahead' reads the observed weather of the target hours, a "
        "perfect forecast: an upper bound, reported apart",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "numpy", "cupy"],
        default=defaults.backend,
        help="LSTM array backend; 'cupy' is checked before the study (on the "
        "workers with --scheduler): CuPy installed and a CUDA device seen",
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


def settings_from(options, parser):
    """The :class:`StudySettings` of the parsed ``options``; exits through
    ``parser.error`` (status 2) on a value the study cannot run with."""
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
    problem = unwritable(Path(options.out))
    if problem:
        parser.error(f"--out {options.out}: {problem}")
    # With --scheduler the LSTMs fit on the workers: checked there, once
    # connected (_cli._on_cluster).
    problem = None if options.scheduler else backend_problem(settings.backend)
    if problem:
        parser.error(f"--backend {settings.backend}: {problem}")
    return settings


def backend_problem(backend):
    """Why an LSTM cannot fit on ``backend`` in this process, or None.

    A fit of one unit on two one-step rows, through the public estimator:
    the errors it raises (CuPy missing, no CUDA device) are those the
    study's fits would raise after the baselines, in a worker process.

    Parameters
    ----------
    backend : {"auto", "numpy", "cupy"}

    Returns
    -------
    problem : str or None
    """
    if backend != "cupy":
        return None  # "auto" falls back to NumPy; NumPy always runs
    model = LSTMRegressor(hidden_layer_sizes=1, max_iter=1, backend=backend)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one epoch does not converge
            model.fit(np.zeros((2, 1, 1)), np.arange(2.0))
    except (ImportError, RuntimeError) as error:
        return str(error)
    return None


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
            f"test years must be among {join_and(FOLDS)} (each needs a train year "
            f"and a validation year before it), got {text!r}"
        )
    return tuple(sorted(years))


def _input_list(text):
    if text.strip() == "all":
        return tuple(INPUT_SETS)
    names = tuple(part.strip() for part in text.split(","))
    unknown = [name for name in names if name not in INPUT_SETS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown input set(s) {unknown}; choose among {list(INPUT_SETS)}"
        )
    return _once(names, text)
