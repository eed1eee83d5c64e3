"""One LSTM for horizons 1-24 against one LSTM per horizon, on validation years.

The evidence behind the study's one-model-for-all-horizons choice (issue 28).
For each rolling-origin fold (test year 2012, 2013, 2014) the LSTM of the
frozen recipe is fitted on the fold's train years and stops early on its
validation year (2011, 2012, 2013); both designs are scored on that
validation year only, at 1, 6 and 24 hours: no test year is read. Seeds 0-2,
their forecasts averaged, as the recipe averages its seeds.

Run from the repository root (about 10 minutes on 2 cores)::

    SKLSTM_DATA_HOME=../shared/data python docs/_static/beijing/joint_vs_separate.py
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
)  # fmt: skip

SCORED = (1, 6, 24)
ALL = tuple(range(1, 25))
SEEDS = (0, 1, 2)


def protocol_of(test_year):
    return FULL.fold(test_year)


def fit(frame, test_year, inputs, seed, horizons):
    settings = StudySettings(verbose=False)
    protocol, features = protocol_of(test_year), INPUT_SETS[inputs]
    columns = fit_columns(lstm_columns(features), frame, protocol, features)
    model = lstm_pipeline(columns, **settings.lstm_params(seed))
    y = targets(frame, horizons)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        seconds = fit_lstm(model, frame, y, protocol, features, horizons)
    predictions = {}
    for h in SCORED:
        if h not in horizons:
            continue
        rows = rows_in(protocol.validation, frame.index, h)
        y_pred = predict_rows(model, frame, rows).reshape(int(rows.sum()), -1)
        predictions[h] = y_pred[:, horizons.index(h)]
    return predictions, model[-1].n_iter_, seconds


def main():
    began = time.perf_counter()
    frame = load_frame()
    jobs = [
        (year, inputs, seed, horizons)
        for year in FOLDS
        for inputs in ("univariate", "multivariate")
        for seed in SEEDS
        for horizons in [ALL, *((h,) for h in SCORED)]
    ]
    fits = Parallel(n_jobs=2, verbose=5)(delayed(fit)(frame, *job) for job in jobs)
    records = []
    for (year, inputs, seed, horizons), (pred, epochs, seconds) in zip(
        jobs, fits, strict=True
    ):
        design = "joint" if horizons == ALL else "separate"
        for h, y_pred in pred.items():
            records.append(
                dict(
                    test_year=year,
                    inputs=inputs,
                    design=design,
                    seed=seed,
                    horizon=h,
                    epochs=epochs,
                    fit_time_s=seconds,
                    y_pred=y_pred,
                )
            )
    rows = []
    for (year, inputs, design, h), group in pd.DataFrame(records).groupby(
        ["test_year", "inputs", "design", "horizon"]
    ):
        protocol = protocol_of(year)
        mask = rows_in(protocol.validation, frame.index, h)
        y_true = targets(frame, [h])[f"{TARGET}_h{h}"].to_numpy()[mask]
        mean = np.mean(np.stack(group["y_pred"].to_list()), axis=0)
        rows.append(
            dict(
                test_year=year,
                validation_year=year - 1,
                inputs=inputs,
                design=design,
                horizon=h,
                rmse=root_mean_squared_error(y_true, mean),
                seed_rmse=" ".join(
                    f"{root_mean_squared_error(y_true, p):.2f}" for p in group["y_pred"]
                ),
                epochs=" ".join(map(str, group["epochs"])),
                fit_time_s=group["fit_time_s"].sum(),
            )
        )
    table = pd.DataFrame(rows)
    out = sys.argv[1] if len(sys.argv) > 1 else "joint_vs_separate.csv"
    table.to_csv(out, index=False, float_format="%.3f")
    print(table.to_string(index=False))
    print(f"wall time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
