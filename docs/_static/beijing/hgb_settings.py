"""Gradient boosting's settings, chosen on the validation years only.

The evidence behind the study's ``HistGradientBoostingRegressor`` settings
(issue 39): with inputs known ahead the baseline to beat is gradient
boosting, so its settings get the care the LSTM's recipe got. For each
rolling-origin fold (test year 2012, 2013, 2014) every candidate is fitted
on the fold's train years and scored on its validation year (2011, 2012,
2013); no test year is read. The candidates that stop early do so on that
validation year (``X_val``, as the LSTM's early stopping reads it), so their
scores are slightly optimistic, as the LSTM's are.

The rule, fixed before the run: the candidate with the lowest mean, over
every (fold, input set, horizon) cell, of its validation RMSE divided by the
reference's (the former setting: 300 iterations, no early stopping); one
setting for every input set, as the LSTM has one recipe.

Run from the repository root (about 10 minutes on 2 idle cores)::

    SKLSTM_DATA_HOME=../shared/data python docs/_static/beijing/hgb_settings.py
"""

import sys
import time
import warnings

import pandas as pd
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import root_mean_squared_error
from threadpoolctl import threadpool_limits

from sklstm.beijing._input_sets import INPUT_SETS, TARGET
from sklstm.beijing._models import fit_columns, fit_lags, lag_columns, lag_pipeline
from sklstm.beijing._protocol import (
    FOLDS,
    FULL,
    load_frame,
    predict_rows,
    rows_in,
    targets,
)

HORIZONS = (1, 6, 24)
REFERENCE = "300 iterations, no early stopping"
CANDIDATES = {
    REFERENCE: dict(max_iter=300, early_stopping=False),
    **{
        f"learning rate {rate:g}, {leaves} leaves, early stopping": dict(
            learning_rate=rate,
            max_leaf_nodes=leaves,
            max_iter=2000,
            early_stopping=True,
            n_iter_no_change=20,
        )
        for rate in (0.1, 0.05)
        for leaves in (15, 31, 63)
    },
}


def score(frame, y, test_year, inputs, horizon, candidate):
    protocol, input_set = FULL.fold(test_year), INPUT_SETS[inputs]
    columns = fit_columns(lag_columns(input_set), frame, protocol, input_set)
    regressor = HistGradientBoostingRegressor(random_state=0, **CANDIDATES[candidate])
    model = lag_pipeline(columns, regressor, lead=input_set.lead((horizon,)))
    target = y[f"{TARGET}_h{horizon}"]
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds = fit_lags(model, frame, target, protocol, input_set, horizon)
    rows = rows_in(protocol.validation, frame.index, horizon)
    rmse = root_mean_squared_error(target[rows], predict_rows(model, frame, rows))
    return dict(
        test_year=test_year,
        validation_year=test_year - 1,
        inputs=inputs,
        horizon=horizon,
        candidate=candidate,
        rmse=rmse,
        n_iter=model[-1].n_iter_,
        fit_time_s=seconds,
    )


def main():
    began = time.perf_counter()
    frame = load_frame()
    y = targets(frame, HORIZONS)
    jobs = [
        (year, inputs, h, candidate)
        for year in FOLDS
        for inputs in INPUT_SETS
        for h in HORIZONS
        for candidate in CANDIDATES
    ]
    records = Parallel(n_jobs=2, verbose=2)(
        delayed(score)(frame, y, *job) for job in jobs
    )
    table = pd.DataFrame.from_records(records)
    reference = table[table["candidate"] == REFERENCE].set_index(
        ["test_year", "inputs", "horizon"]
    )["rmse"]
    keys = pd.MultiIndex.from_frame(table[["test_year", "inputs", "horizon"]])
    table["relative"] = table["rmse"].to_numpy() / reference.reindex(keys).to_numpy()
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/_static/beijing/hgb_settings.csv"
    table.to_csv(out, index=False, float_format="%.4f")
    summary = table.groupby("candidate", sort=False).agg(
        relative=("relative", "mean"),
        worst=("relative", "max"),
        n_iter=("n_iter", "median"),
        fit_time_s=("fit_time_s", "sum"),
    )
    print(summary.sort_values("relative").round(4).to_string())
    print(f"chosen: {summary['relative'].idxmin()}")
    print(f"wall time {time.perf_counter() - began:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
