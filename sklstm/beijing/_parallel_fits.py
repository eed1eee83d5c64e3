"""Fit the study's LSTMs and gradient-boosting models side by side.

They are the costly fits: one joblib task each (an LSTM per test year, input
set, horizon, or horizons with ``joint``, and seed; a gradient-boosting model
per test year, input set and horizon), run in ``StudySettings.n_jobs``
processes on ``StudySettings.threads`` BLAS/OpenMP threads each. A fit does
not depend on the process it runs in, so neither do the scores.
"""

import warnings

import numpy as np
from joblib import Parallel, cpu_count, delayed
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ._input_sets import INPUT_SETS, TARGET
from ._models import (
    HGB,
    LAG_REGRESSORS,
    fit_columns,
    fit_lags,
    fit_lstm,
    lag_columns,
    lag_pipeline,
    lstm_columns,
    lstm_pipeline,
)
from ._report import count


def fit_side_by_side(settings, frame, y, folds, *, progress, log):
    """Fit every LSTM and gradient-boosting pipeline of the study.

    Parameters
    ----------
    settings : StudySettings
    frame : pandas.DataFrame
        All rows, gap-filled (``_protocol.load_frame``).
    y : pandas.DataFrame
        Targets of every row at ``settings.scored_horizons``
        (``_protocol.targets``).
    folds : dict
        ``{test_year: Protocol}``.
    progress : callable
        ``progress(label, total)``, a bar (:mod:`._progress`).
    log : callable
        Receives a line per fit with ``settings.verbose``.

    Returns
    -------
    cells : dict
        ``{(model, test_year, inputs, horizons): [(pipeline, fit_time), ...]}``,
        one pair per seed for the LSTM, in the order of the jobs (not of
        their ends); ``horizons`` is the tuple of hours one model forecasts.
    """
    lstm_horizons = (
        [settings.scored_horizons]
        if settings.joint
        else [(h,) for h in settings.lstm_horizons]
    )
    jobs = [
        ("lstm", year, inputs, horizons, seed)
        for year in folds
        for inputs in settings.inputs
        for horizons in lstm_horizons
        for seed in settings.seeds
    ] + [
        (HGB, year, inputs, (h,), None)
        for year in folds
        for inputs in settings.inputs
        for h in settings.horizons
    ]
    n_jobs = settings.n_jobs or cpu_count()
    if n_jobs < 0:  # joblib's convention: -1 all cores, -2 all but one
        n_jobs = cpu_count() + 1 + n_jobs
    n_workers = max(1, min(n_jobs, len(jobs)))
    columns = {
        (kind, year, inputs): fit_columns(
            (lstm_columns if kind == "lstm" else lag_columns)(INPUT_SETS[inputs]),
            frame, protocol, INPUT_SETS[inputs],
        )
        for kind in ("lstm", HGB)
        for year, protocol in folds.items()
        for inputs in settings.inputs
    }  # fmt: skip
    fitted = {}
    label = f"fits ({count(n_workers, 'process')})"
    with progress(label, len(jobs)) as bar:
        tasks = Parallel(n_jobs=n_workers, return_as="generator_unordered")(
            delayed(_fit)(
                settings, columns[kind, year, inputs], frame, y, folds[year], job,
            )
            for job in jobs
            for kind, year, inputs, _, _ in [job]
        )  # fmt: skip
        for job, model, fit_time in tasks:
            fitted[job] = (model, fit_time)
            bar.update()
            if settings.verbose:
                log(_describe_fit(job, model, fit_time))
    cells = {}
    for job in jobs:
        kind, year, inputs, horizons, _ = job
        cells.setdefault((kind, year, inputs, horizons), []).append(fitted[job])
    return cells


def _fit(settings, columns, frame, y, protocol, job):
    """Fit one LSTM or gradient-boosting pipeline (a joblib task).

    Returns
    -------
    job, model, fit_time
    """
    kind, _, inputs, horizons, seed = job
    inputs = INPUT_SETS[inputs]
    lead = inputs.lead(horizons)
    target = y[[f"{TARGET}_h{h}" for h in horizons]]
    with threadpool_limits(limits=settings.threads), warnings.catch_warnings():
        # Reaching max_iter is reported in the log, with the best epoch.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if kind == "lstm":
            model = lstm_pipeline(
                columns,
                window=settings.window,
                lead=lead,
                **settings.lstm_params(seed, lead),
            )
            fit_time = fit_lstm(model, frame, target, protocol, inputs, horizons)
        else:
            regressor = LAG_REGRESSORS[kind]().set_params(
                max_iter=settings.hgb_max_iter
            )
            model = lag_pipeline(columns, regressor, window=settings.window, lead=lead)
            (h,) = horizons
            fit_time = fit_lags(model, frame, target[f"{TARGET}_h{h}"], protocol,
                                inputs, h)  # fmt: skip
    return job, model, fit_time


def _describe_fit(job, model, fit_time):
    kind, year, inputs, horizons, seed = job
    text = f"{kind}, {inputs}, test year {year}, " + (
        f"h={horizons[0]}" if len(horizons) == 1 else f"h={horizons[0]}-{horizons[-1]}"
    )
    if kind == "lstm":
        lstm = model[-1]
        text += (
            f", seed {seed}: {lstm.n_iter_} epochs, best validation score at "
            f"epoch {int(np.argmax(lstm.validation_scores_)) + 1}"
        )
    return f"    {text}, {fit_time:.1f} s"
