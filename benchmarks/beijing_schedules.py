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

from sklstm.beijing import StudySettings
from sklstm.beijing._input_sets import INPUT_SETS
from sklstm.beijing._models import fit_columns, lstm_columns, lstm_pipeline
from sklstm.beijing._protocol import FOLDS, FULL, load_frame
from sklstm.beijing._validation_years import seeds_averaged, validation_forecast

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
    columns = fit_columns(lstm_columns(INPUTS), frame, FULL.fold(test_year), INPUTS)
    params = {**StudySettings().lstm_params(seed), **SCHEDULES[schedule]}
    model = lstm_pipeline(columns, **params)
    return validation_forecast(model, frame, test_year, INPUTS, horizon)


def main():
    began = time.perf_counter()
    frame = load_frame()
    jobs = [
        dict(test_year=year, schedule=schedule, horizon=h, seed=seed)
        for year in FOLDS
        for schedule in SCHEDULES
        for h in HORIZONS
        for seed in SEEDS
    ]
    table = seeds_averaged(frame, fit, jobs)
    out = (
        sys.argv[1]
        if len(sys.argv) > 1
        else "benchmarks/results/beijing_schedules_2026-12-07.csv"
    )
    table.to_csv(out, index=False, float_format="%.4f")
    epochs = table["epochs"].str.split().map(lambda each: sum(map(int, each)))
    summary = (
        table.assign(epochs=epochs)
        .groupby("schedule", sort=False)
        .agg(
            rmse=("rmse", "mean"),
            epochs=("epochs", "sum"),
            fit_time_s=("fit_time_s", "sum"),
        )
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
