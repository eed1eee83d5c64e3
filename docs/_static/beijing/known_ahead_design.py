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

import numpy as np
from sklearn.preprocessing import FunctionTransformer

from sklstm.beijing import StudySettings
from sklstm.beijing._input_sets import INPUT_SETS
from sklstm.beijing._models import (
    fit_columns,
    known_ahead_positions,
    lstm_columns,
    lstm_pipeline,
)
from sklstm.beijing._protocol import FOLDS, FULL, load_frame
from sklstm.beijing._validation_years import seeds_averaged, validation_forecast

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
    return validation_forecast(model, frame, test_year, inputs, horizon)


def main():
    began = time.perf_counter()
    frame = load_frame()
    jobs = [
        dict(test_year=year, inputs=inputs, design=design, horizon=h, seed=seed)
        for year in FOLDS
        for inputs in INPUTS
        for design in (STEPS, FUTURE_SKIP, LAST_STEP)
        for h in HORIZONS
        for seed in SEEDS
    ]
    table = seeds_averaged(frame, fit, jobs)
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
