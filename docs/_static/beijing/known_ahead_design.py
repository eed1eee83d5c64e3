"""The LSTM's look-ahead as more steps against extra numbers at the last step.

The evidence behind the design of :ref:`known-ahead` (issue 39), on the
validation years only. For each rolling-origin fold (test year 2012, 2013,
2014) the LSTM of the frozen recipe reads the weather-ahead input set (the
calendar and the observed weather of the hours up to the target, known
ahead) and the calendar set, in one of three ways:

- ``steps`` (sklstm's design): the recurrence runs on through the ``h``
  future steps, the past-only columns masked to 0 and a flag set; the skip
  connection reads the last 6 observed hours and the future steps;
- ``steps, skip on the last 6 steps``: the same, the skip connection on
  the last 6 steps of the window (for ``h >= 6``, future steps only);
- ``last step``: the 24 past steps only, the ``h`` leads of every
  known-ahead column appended as extra inputs of the last step (zeros at
  the others); the skip connection on the last 6 (past) steps.

Each is fitted on the fold's train years, stop early on its validation year
(2011, 2012, 2013) and are scored on that year only, at 6 and 24 hours:
no test year is read. Seeds 0-2, their forecasts averaged.

Run from the repository root (about 8 minutes on 2 idle cores)::

    SKLSTM_DATA_HOME=../shared/data python docs/_static/beijing/known_ahead_design.py
"""

import sys
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from sklstm.beijing import StudySettings
from sklstm.beijing._input_sets import INPUT_SETS, TARGET
from sklstm.beijing._models import (
    fit_columns,
    fit_lstm,
    known_ahead_positions,
    lstm_columns,
    lstm_pipeline,
)
from sklstm.beijing._protocol import (
    FOLDS,
    FULL,
    load_frame,
    predict_rows,
    rows_in,
    targets,
)

HORIZONS = (6, 24)
SEEDS = (0, 1, 2)
INPUTS = ("calendar", "weather-ahead")
#: The designs: sklstm's (the skip connection reading the last 6 observed
#: hours and the future steps), the same with the skip on the last 6 steps
#: (future steps only, for h >= 6), and the leads at the last step.
STEPS, FUTURE_SKIP, LAST_STEP = "steps", "steps, skip on the last 6 steps", "last step"


def leads_at_last_step(windows, window, known):
    """(n, window + lead, n_features + 1) flagged windows → (n, window,
    n_features + lead * len(known)): the leads as extra last-step inputs."""
    past = windows[:, :window, :-1]
    ahead = windows[:, window:, known].reshape(len(windows), -1)
    extra = np.zeros((len(windows), window, ahead.shape[1]), dtype=windows.dtype)
    extra[:, -1] = ahead
    return np.concatenate([past, extra], axis=2)


def fit(frame, test_year, inputs, design, horizon, seed):
    settings = StudySettings(verbose=False)
    protocol, inputs = FULL.fold(test_year), INPUT_SETS[inputs]
    columns = fit_columns(lstm_columns(inputs), frame, protocol, inputs)
    params = settings.lstm_params(seed, lead=0 if design == LAST_STEP else horizon)
    if design == FUTURE_SKIP:
        params["skip_steps"] = settings.skip_steps
    model = lstm_pipeline(columns, lead=horizon, **params)
    if design == LAST_STEP:
        reshape = FunctionTransformer(
            leads_at_last_step,
            kw_args=dict(window=settings.window, known=known_ahead_positions(columns)),
        )
        model.steps.insert(2, ("last step", reshape))
    y = targets(frame, (horizon,))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        seconds = fit_lstm(model, frame, y, protocol, inputs, (horizon,))
    rows = rows_in(protocol.validation, frame.index, horizon)
    return predict_rows(model, frame, rows).ravel(), model[-1].n_iter_, seconds


def main():
    began = time.perf_counter()
    frame = load_frame()
    jobs = [
        (year, inputs, design, h, seed)
        for year in FOLDS
        for inputs in INPUTS
        for design in (STEPS, FUTURE_SKIP, LAST_STEP)
        for h in HORIZONS
        for seed in SEEDS
    ]
    fits = Parallel(n_jobs=2, verbose=5)(delayed(fit)(frame, *job) for job in jobs)
    y = targets(frame, HORIZONS)
    groups = {}
    for (year, inputs, design, h, _), result in zip(jobs, fits, strict=True):
        groups.setdefault((year, inputs, design, h), []).append(result)
    records = []
    for (year, inputs, design, h), group in groups.items():
        rows = rows_in(FULL.fold(year).validation, frame.index, h)
        truth = y[f"{TARGET}_h{h}"].to_numpy()[rows]
        mean = np.mean([y_pred for y_pred, _, _ in group], axis=0)
        records.append(
            dict(
                validation_year=year - 1,
                inputs=inputs,
                design=design,
                horizon=h,
                rmse=root_mean_squared_error(truth, mean),
                epochs=" ".join(str(epochs) for _, epochs, _ in group),
                fit_time_s=sum(seconds for _, _, seconds in group),
            )
        )
    table = pd.DataFrame.from_records(records)
    out = (
        sys.argv[1]
        if len(sys.argv) > 1
        else "docs/_static/beijing/known_ahead_design.csv"
    )
    table.to_csv(out, index=False, float_format="%.4f")
    print(
        table.pivot_table(
            index=["inputs", "validation_year"],
            columns=["horizon", "design"],
            values="rmse",
        ).round(2)
    )
    print(table.groupby("design")["rmse"].mean().round(3))
    print(f"wall time {time.perf_counter() - began:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
