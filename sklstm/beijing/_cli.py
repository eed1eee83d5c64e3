"""The ``sklstm-beijing`` command: read the options (:mod:`._options`), run
the study, write the outputs (:mod:`._outputs`) and print a summary."""

import contextlib
import dataclasses
import importlib.util
import shlex
import sys
from pathlib import Path

import joblib

from ._options import backend_problem, build_parser, settings_from
from ._outputs import PLOT_INSTALL_HINT, write_outputs
from ._progress import ProgressBar
from ._report import (
    INTERVAL_VALUES,
    MEAN,
    POINT_VALUES,
    UPPER_BOUND,
    join_and,
    split_upper_bound,
    to_text,
    wide_table,
)
from ._study import run_study


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
    parser = build_parser()
    options = parser.parse_args(argv)
    settings = settings_from(options, parser)  # exits (status 2) on a bad option
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
    written = write_outputs(out, result, command, can_plot=can_plot)
    summary = _summary_rows(results)
    which = _which_rows(settings)
    for rows, heading in zip(
        split_upper_bound(summary), ("", f"{UPPER_BOUND}.\n"), strict=True
    ):
        if rows.empty:
            continue
        print(f"\n{heading}Point forecasts, {which}: RMSE (µg/m³), skill against "
              "persistence (%), Diebold-Mariano p of the LSTM against the best "
              "baseline of its inputs:")  # fmt: skip
        print(to_text(wide_table(rows, POINT_VALUES, settings.horizons)))
        if rows["coverage"].notna().any():
            print(f"\n{settings.intervals:.0%} intervals, {which}: coverage (%) "
                  "and mean width (µg/m³):")  # fmt: skip
            print(to_text(wide_table(rows, INTERVAL_VALUES, settings.horizons)))
    print(
        f"\nWall time {result.wall_time_s:.0f} s (LSTM fits "
        f"{result.lstm_fit_time_s:.0f} s, all processes). Wrote {join_and(written)}."
    )
    if not can_plot:
        print(_NO_PLOT, file=sys.stderr)
    return 0  # fmt: skip


def _summary_rows(results):
    """The rows the terminal shows: the mean over the years, or the one year."""
    if (results["test_year"] == MEAN).any():
        return results[results["test_year"] == MEAN]
    return results


def _which_rows(settings):
    if len(settings.folds) > 1:
        return f"mean over the test years {join_and(settings.folds)}"
    return f"test year {settings.folds[0]}"


_NO_PLOT = (
    "sklstm-beijing: matplotlib is not installed, so the plots are "
    f"skipped (the tables are still written); for the plots: {PLOT_INSTALL_HINT}"
)


def _log(line):
    print(line, flush=True)


def _on_cluster(stack, options, parser, settings):
    """Connect to ``--scheduler`` (exit 2 if the address is not one, the
    scheduler cannot be reached or a worker cannot fit on ``--backend``,
    before any fit) and send the study's joblib tasks to its workers until
    ``stack`` closes.

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
    except ValueError as error:  # distributed's address parser
        parser.error(
            f"--scheduler {options.scheduler}: not a Dask scheduler address "
            f"({error}); pass one such as tcp://10.0.0.5:8786"
        )
    problems = {}
    if settings.backend == "cupy":  # the workers fit the LSTMs: ask them
        problems = client.run(backend_problem, settings.backend)
    for worker, problem in sorted(problems.items()):
        if problem:
            parser.error(f"--backend {settings.backend} on worker {worker}: {problem}")
    stack.enter_context(joblib.parallel_config(backend="dask"))
    if options.jobs:
        return settings
    threads = sum(client.nthreads().values())
    return dataclasses.replace(settings, n_jobs=max(1, threads))
