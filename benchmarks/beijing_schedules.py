"""Do learning-rate schedules make the Beijing study's LSTM faster? (issue 36)

On the validation years only: for each rolling-origin fold (test year 2012,
2013, 2014) the multivariate LSTM of the frozen recipe is fitted on the
fold's train years, stops early on its validation year (2011, 2012, 2013)
and is scored there, at 1, 6 and 24 hours, seeds 0-2 averaged; no test year
is read. Schedules against the recipe's constant step (1e-3, at most 40
epochs, patience 6): a schedule that reaches the same validation RMSE in
fewer epochs would make the main job faster.

Run from the repository root (about 6 minutes on 2 idle cores)::

    SKLSTM_DATA_HOME=../shared/data python benchmarks/beijing_schedules.py
"""

import sys
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error
from threadpoolctl import threadpool_limits

from sklstm.beijing import StudySettings
from sklstm.beijing._input_sets import INPUT_SETS, TARGET
from sklstm.beijing._models import fit_columns, fit_lstm, lstm_columns, lstm_pipeline
from sklstm.beijing._protocol import (
    FOLDS,
    FULL,
    load_frame,
    predict_rows,
    rows_in,
    targets,
)

HORIZONS = (1, 6, 24)
SEEDS = (0, 1, 2)
INPUTS = INPUT_SETS["multivariate"]
#: name -> changes to the recipe's LSTMRegressor parameters.
SCHEDULES = {
    "constant 1e-3, 40 epochs (recipe)": {},
    "cosine 1e-3, 20 epochs": dict(learning_rate="cosine", max_iter=20),
    "cosine 3e-3, 20 epochs": dict(
        learning_rate="cosine", learning_rate_init=3e-3, max_iter=20
    ),
    "one_cycle 3e-3, 20 epochs": dict(
        learning_rate="one_cycle", learning_rate_init=3e-3, max_iter=20
    ),
}


def fit(frame, test_year, schedule, horizon, seed):
    protocol = FULL.fold(test_year)
    columns = fit_columns(lstm_columns(INPUTS), frame, protocol, INPUTS)
    params = {**StudySettings().lstm_params(seed), **SCHEDULES[schedule]}
    model = lstm_pipeline(columns, **params)
    y = targets(frame, (horizon,))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        seconds = fit_lstm(model, frame, y, protocol, INPUTS, (horizon,))
    rows = rows_in(protocol.validation, frame.index, horizon)
    return predict_rows(model, frame, rows).ravel(), model[-1].n_iter_, seconds


def main():
    began = time.perf_counter()
    frame = load_frame()
    jobs = [
        (year, schedule, h, seed)
        for year in FOLDS
        for schedule in SCHEDULES
        for h in HORIZONS
        for seed in SEEDS
    ]
    fits = Parallel(n_jobs=2, verbose=5)(delayed(fit)(frame, *job) for job in jobs)
    y = targets(frame, HORIZONS)
    groups = {}
    for (year, schedule, h, _), result in zip(jobs, fits, strict=True):
        groups.setdefault((year, schedule, h), []).append(result)
    records = []
    for (year, schedule, h), group in groups.items():
        rows = rows_in(FULL.fold(year).validation, frame.index, h)
        truth = y[f"{TARGET}_h{h}"].to_numpy()[rows]
        mean = np.mean([y_pred for y_pred, _, _ in group], axis=0)
        records.append(
            dict(
                validation_year=year - 1,
                schedule=schedule,
                horizon=h,
                rmse=root_mean_squared_error(truth, mean),
                epochs=sum(epochs for _, epochs, _ in group),
                fit_time_s=sum(seconds for _, _, seconds in group),
            )
        )
    table = pd.DataFrame.from_records(records)
    out = (
        sys.argv[1]
        if len(sys.argv) > 1
        else "benchmarks/results/beijing_schedules_2026-12-07.csv"
    )
    table.to_csv(out, index=False, float_format="%.4f")
    summary = table.groupby("schedule", sort=False).agg(
        rmse=("rmse", "mean"),
        epochs=("epochs", "sum"),
        fit_time_s=("fit_time_s", "sum"),
    )
    print(summary.round(3).to_string())
    print(
        table.pivot_table(
            index=["validation_year", "horizon"], columns="schedule", values="rmse"
        )
        .round(2)
        .to_string()
    )
    print(f"wall time {time.perf_counter() - began:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
