"""The long results table from the scored cells: skill against persistence,
the Diebold-Mariano test of each LSTM against the best baseline of its inputs,
the rows that average the test years, and the study's row order."""

import numpy as np
import pandas as pd

from ._diebold_mariano import dm_test, pooled_dm_test
from ._input_sets import INPUT_SETS
from ._models import MODELS
from ._report import MEAN, RESULT_COLUMNS


def results_table(records, errors):
    """The long table of the study (columns :data:`._report.RESULT_COLUMNS`).

    Parameters
    ----------
    records : list of dict
        One per scored cell (test year, inputs, model, horizon), with its
        RMSE, MAE, interval scores and the other columns but the skill and
        the DM test.
    errors : dict
        ``{(year, inputs, model, horizon): y_true - y_pred}`` on each cell's
        test rows, in time order, for the DM tests.

    Returns
    -------
    results : pandas.DataFrame
        The years' rows and the ``mean`` rows, in the study's order.
    """
    results = pd.DataFrame.from_records(records)
    results = _with_skill_and_dm(results, errors)
    results = pd.concat([results, _means(results, errors)], ignore_index=True)
    return _in_study_order(results)[RESULT_COLUMNS].reset_index(drop=True)


def _in_study_order(results):
    """Rows by test year (the mean last), input set, model, horizon."""
    order = {
        "test_year": list(dict.fromkeys(sorted(results["test_year"]))),
        "inputs": list(INPUT_SETS),
        "model": list(MODELS),
    }
    keys = {name: results[name].map(values.index) for name, values in order.items()}
    ranks = pd.DataFrame({**keys, "horizon": results["horizon"]})
    return results.loc[ranks.sort_values(list(ranks.columns), kind="stable").index]


def _best_baseline(results, year, inputs, h):
    """The baseline of ``inputs`` with the lowest RMSE in ``year`` at ``h``.

    The naive forecasts read PM2.5 alone, so they are univariate baselines.
    """
    candidates = results[
        (results["test_year"] == year)
        & (results["inputs"] == inputs)
        & (results["horizon"] == h)
        & (results["model"] != "lstm")
    ]
    if candidates.empty:
        return None
    return candidates.loc[candidates["rmse"].idxmin(), "model"]


def _with_skill_and_dm(results, errors):
    """Add ``skill`` (against persistence) and the DM columns to each year's
    rows."""
    persistence = results[results["model"] == "persistence"].set_index(
        ["test_year", "horizon"]
    )["rmse"]
    keys = pd.MultiIndex.from_frame(results[["test_year", "horizon"]])
    results = results.assign(
        skill=1 - results["rmse"].to_numpy() / persistence.reindex(keys).to_numpy(),
        dm_stat=np.nan,
        dm_p=np.nan,
        dm_against="",
    )
    for index in results.index[results["model"] == "lstm"]:
        year, inputs, h = results.loc[index, ["test_year", "inputs", "horizon"]]
        against = _best_baseline(results, year, inputs, h)
        if against is None:
            continue
        test = dm_test(
            errors[int(year), inputs, "lstm", h],
            errors[int(year), inputs, against, h],
            h,
        )
        results.loc[index, ["dm_stat", "dm_p", "dm_against"]] = (
            test.statistic, test.pvalue, against,
        )  # fmt: skip
    return results


def _means(results, errors):
    """The ``mean`` rows: each score averaged over the test years (``n_test``
    added up); the DM test pooled over the years against the baseline of
    the lowest mean RMSE."""
    years = results["test_year"].unique()
    averaged = ["rmse", "mae", "skill", "fit_time_s", "coverage", "width",
                "rmse_seed_min", "rmse_seed_max"]  # fmt: skip
    keys = ["inputs", "model", "horizon"]
    grouped = results.groupby(keys, sort=False)
    means = grouped[averaged].mean().join(grouped["n_test"].sum()).reset_index()
    means = means.assign(
        test_year=MEAN, interval="", dm_stat=np.nan, dm_p=np.nan, dm_against=""
    )
    for index in means.index[means["model"] == "lstm"]:
        inputs, h = means.loc[index, ["inputs", "horizon"]]
        against = _best_baseline(means, MEAN, inputs, h)
        if against is None:
            continue
        test = pooled_dm_test(
            [errors[int(year), inputs, "lstm", h] for year in years],
            [errors[int(year), inputs, against, h] for year in years],
            h,
        )
        means.loc[index, ["dm_stat", "dm_p", "dm_against"]] = (
            test.statistic, test.pvalue, against,
        )  # fmt: skip
    return means
