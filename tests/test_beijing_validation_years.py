"""The validation-year scoring of the evidence scripts: each variant's seeds
are averaged, then scored on the fold's validation year."""

import numpy as np
import pytest

from sklstm.beijing._protocol import FULL, rows_in, targets
from sklstm.beijing._validation_years import seeds_averaged


def _fit(frame, test_year, variant, horizon, seed):
    """The truth of the validation year, off by +d for seed 0 and -d for
    seed 1 (d: the variant), as a fit would forecast it."""
    rows = rows_in(FULL.fold(test_year).validation, frame.index, horizon)
    truth = targets(frame, (horizon,)).to_numpy()[rows, 0]
    offset = variant * (1 if seed == 0 else -1)
    return truth + offset, 3 + seed, 0.5 + seed


def test_the_seeds_are_averaged_then_scored_on_the_validation_year(frame):
    jobs = [
        dict(test_year=year, variant=variant, horizon=6, seed=seed)
        for year in (2013, 2014)
        for variant in (2.0, 5.0)
        for seed in (0, 1)
    ]
    table = seeds_averaged(frame, _fit, jobs, n_jobs=1)
    assert list(table.columns) == [
        "validation_year", "variant", "horizon", "rmse", "epochs", "fit_time_s"
    ]  # fmt: skip
    assert sorted(table["validation_year"]) == [2012, 2012, 2013, 2013]
    # The offsets cancel in the mean forecast; each seed alone is d off.
    np.testing.assert_allclose(table["rmse"], 0.0, atol=1e-9)
    assert (table["epochs"] == "3 4").all()
    assert table["fit_time_s"].to_numpy() == pytest.approx([2.0] * 4)
