"""LSTM variants scored on the validation years only: the evidence scripts
behind the study's choices (``docs/_static/beijing/known_ahead_design.py``,
``benchmarks/beijing_schedules.py``).

Each variant's LSTM is fitted on a fold's train years, stops early on its
validation year, and is scored on that year; the seeds' forecasts are
averaged as the study averages them. No test year is read.
"""

import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error
from threadpoolctl import threadpool_limits

from ._input_sets import TARGET
from ._models import fit_lstm
from ._protocol import FULL, predict_rows, rows_in, targets


def validation_forecast(model, frame, test_year, inputs, horizon):
    """Fit ``model`` on the fold that tests on ``test_year`` and forecast its
    validation year.

    Parameters
    ----------
    model : Pipeline
        An LSTM pipeline (:func:`._models.lstm_pipeline`, with
        ``early_stopping=True``), fitted on one thread.
    frame : pandas.DataFrame
        The study's data (:func:`._protocol.load_frame`).
    test_year : int
    inputs : InputSet
    horizon : int

    Returns
    -------
    y_pred : ndarray
        The forecasts of the validation year's rows.
    epochs : int
    fit_time : float
        Seconds spent in ``fit``.
    """
    protocol = FULL.fold(test_year)
    y = targets(frame, (horizon,))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_time = fit_lstm(model, frame, y, protocol, inputs, (horizon,))
    rows = rows_in(protocol.validation, frame.index, horizon)
    return predict_rows(model, frame, rows).ravel(), model[-1].n_iter_, fit_time


def seeds_averaged(frame, fit, jobs, n_jobs=2):
    """Run ``fit`` on every job, side by side, and score each variant's
    seeds averaged on its validation year.

    Parameters
    ----------
    frame : pandas.DataFrame
    fit : callable
        ``fit(frame, **job)`` returns what :func:`validation_forecast` does.
    jobs : list of dict
        Keyword arguments of ``fit``, each with ``test_year``, ``horizon``
        and ``seed``; the jobs that differ by ``seed`` alone are one variant.
    n_jobs : int, default=2
        Processes.

    Returns
    -------
    table : pandas.DataFrame
        One row per variant: ``validation_year``, the jobs' other keys but
        ``test_year`` and ``seed``, ``rmse`` of the seeds' mean forecast,
        ``epochs`` (each seed's, space-separated) and ``fit_time_s`` (added
        up).
    """
    fits = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(fit)(frame, **job) for job in jobs
    )
    variants = {}
    for job, result in zip(jobs, fits, strict=True):
        key = tuple((name, value) for name, value in job.items() if name != "seed")
        variants.setdefault(key, []).append(result)
    records = []
    for key, results in variants.items():
        variant = dict(key)
        year, h = variant.pop("test_year"), variant["horizon"]
        rows = rows_in(FULL.fold(year).validation, frame.index, h)
        truth = targets(frame, (h,))[f"{TARGET}_h{h}"].to_numpy()[rows]
        mean = np.mean([y_pred for y_pred, _, _ in results], axis=0)
        records.append(
            dict(
                validation_year=year - 1,
                **variant,
                rmse=root_mean_squared_error(truth, mean),
                epochs=" ".join(str(epochs) for _, epochs, _ in results),
                fit_time_s=sum(fit_time for _, _, fit_time in results),
            )
        )
    return pd.DataFrame.from_records(records)
