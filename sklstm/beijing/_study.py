"""Run the study: a rolling origin over three test years, every model on each.

For each test year Y of ``StudySettings.folds`` (2012, 2013 and 2014 by
default; :meth:`._protocol.Protocol.fold`), every model is fitted on 2010 to
Y-2, the LSTM stops early on Y-1, and all are scored on the hours of Y
(Tashman, 2000; Hyndman and Athanasopoulos, FPP3 §5.10):

- persistence and seasonal-naive forecasts (no fitting);
- Ridge(alpha=1) on the standardised lags of the input window, wind
  direction label-encoded: one multi-output Ridge for every hour from 1 to
  24 (the skill figure), which is one Ridge per horizon (its outputs are
  solved independently); with a look-ahead (:mod:`._input_sets`), one Ridge
  per horizon ``h``, reading ``h`` leads of the known-ahead columns;
- HistGradientBoostingRegressor on the same features (settings chosen on
  the validation years, early stopping on Y-1), one per horizon of
  ``StudySettings.horizons`` only (it is the costly baseline);
- the LSTM pipeline (one-hot wind direction, standard scaling, windows of
  ``StudySettings.window`` hours, :class:`~sklstm.LSTMRegressor` with early
  stopping on Y-1), one per horizon of ``StudySettings.horizons``, several
  seeds averaged. One model for horizons 1 to 24 (``y`` with one column per
  horizon, ``StudySettings.joint``) would draw the LSTM's whole skill curve
  for a third of the fits, but it lost to one model per horizon on the
  validation years (by 1-10 µg/m³ at one hour; see the Beijing docs page),
  so it is an option, not the default.

Each cell (test year, inputs, model, horizon) gets its RMSE, MAE and skill
against persistence (``1 - RMSE / RMSE of persistence``); each LSTM cell the
Diebold–Mariano test against the best baseline of its inputs
(:mod:`._diebold_mariano`). The ``mean`` rows average the years' scores;
their DM test pools the years' loss differentials (:mod:`._results_table`).
With ``intervals`` set (80 % by default), every model also gets, at the
horizons of ``StudySettings.horizons``, a conformal interval from its own
errors on the validation year (:mod:`._intervals`).

All fits run on one BLAS/OpenMP thread by default (``StudySettings.threads``);
the LSTMs and gradient-boosting models are fitted side by side in
``StudySettings.n_jobs`` processes (one per core by default;
:mod:`._parallel_fits`). A fit does not
depend on the process or thread count, so neither does the table.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from threadpoolctl import threadpool_limits

from ._input_sets import INPUT_SETS, TARGET
from ._intervals import choose_method, conformal_interval, interval_scores
from ._models import (
    LAG_REGRESSORS,
    NAIVE_FORECASTS,
    fit_columns,
    fit_lags,
    lag_columns,
    lag_pipeline,
)
from ._parallel_fits import fit_side_by_side
from ._progress import NoProgress
from ._protocol import (
    load_frame,
    predict_rows,
    rows_in,
    target_times,
    targets,
)
from ._results_table import results_table
from ._settings import StudySettings


@dataclass
class StudyResult:
    """What :func:`run_study` returns.

    Attributes
    ----------
    results : pandas.DataFrame
        The long table, one row per test year (and ``"mean"``) × input set
        × model × horizon (columns :data:`._report.RESULT_COLUMNS`).
    truth : pandas.Series
        Observed (gap-filled) PM2.5 of every hour.
    forecasts : dict
        ``{horizon: {label: Series}}`` of the LSTMs and persistence on the
        last fold's test rows, indexed by target time, for the plot.
    bands : dict
        ``{horizon: {label: (lower, upper)}}``, the LSTMs' intervals as Series
        like ``forecasts`` (empty without ``intervals``).
    plot_start : pandas.Timestamp
        First hour of the plotted fortnight, in the last fold's test year.
    models : dict
        ``{(test_year, inputs, model, horizon): [fitted Pipeline, ...]}``,
        one pipeline per seed for the LSTM; a model fitted for several
        horizons at once is listed under each.
    settings : StudySettings
    lstm_fit_time_s : float
        Seconds spent fitting LSTMs, all processes added up.
    wall_time_s : float
    """

    results: pd.DataFrame
    truth: pd.Series
    forecasts: dict
    bands: dict = field(default_factory=dict)
    plot_start: pd.Timestamp = None
    models: dict = field(default_factory=dict)
    settings: StudySettings = None
    lstm_fit_time_s: float = 0.0
    wall_time_s: float = 0.0


def run_study(settings=None, *, data_home=None, frame=None, log=print, progress=None):
    """Fit and score every model of the study, on every fold.

    Parameters
    ----------
    settings : StudySettings, default=None
        None means ``StudySettings()``, the full default study.
    data_home : str or os.PathLike, default=None
        Where the Beijing CSV is (see :func:`sklstm.datasets.get_data_home`).
    frame : pandas.DataFrame, default=None
        Gap-filled data to use instead of loading it (``_protocol.load_frame``).
    log : callable, default=print
        Receives one progress line at a time (every fit with ``verbose``).
    progress : callable, default=None
        ``progress(label, total)`` returns a bar with ``update()`` and
        ``close()`` for each step (:class:`._progress.ProgressBar`); None
        shows none.

    Returns
    -------
    result : StudyResult
    """
    settings = settings or StudySettings()
    # On a busy machine, BLAS and OpenMP threads that outnumber the free
    # cores spin and wait: measured, gradient boosting ran 5-15x slower on
    # two threads than on one, and the LSTM's small GEMMs gain nothing.
    with threadpool_limits(limits=settings.threads):
        return _Study(settings, frame, data_home, log, progress or NoProgress).run()


class _Study:
    """One run: the data, the folds' rows, and the records scored so far."""

    def __init__(self, settings, frame, data_home, log, progress):
        self.settings, self.log, self.progress = settings, log, progress
        self.frame = load_frame(data_home) if frame is None else frame
        self.scored = settings.scored_horizons
        self.y = targets(self.frame, self.scored)
        self.folds = {year: settings.fold(year) for year in settings.folds}
        index = self.frame.index
        # Rows of each period and horizon, and the union of a period's rows
        # over the horizons, which one predict call covers.
        self.rows, self.union = {}, {}
        for year, protocol in self.folds.items():
            for period in ("test", "validation"):
                period_of = getattr(protocol, period)
                rows = {h: rows_in(period_of, index, h) for h in self.scored}
                self.rows[year, period] = rows
                self.union[year, period] = np.logical_or.reduce(list(rows.values()))
        self.plot_year = max(self.folds)
        horizons = settings.horizons
        self.result = StudyResult(
            results=None,
            truth=self.frame[TARGET],
            forecasts={h: {} for h in horizons},
            bands={h: {} for h in horizons},
            plot_start=self.folds[self.plot_year].plot_start,
            settings=settings,
        )
        self.records, self.errors = [], {}

    def run(self):
        began = time.perf_counter()
        self._naive()
        self._ridge()
        self._fitted_in_processes()
        self.result.results = results_table(self.records, self.errors)
        self.result.wall_time_s = time.perf_counter() - began
        return self.result

    # --- scoring ---------------------------------------------------------

    def _target(self, h):
        return self.y[f"{TARGET}_h{h}"].to_numpy()

    def _score(self, year, inputs, model, h, test, validation, fit_time):
        """Record the scores of forecasts on the test rows of ``year``.

        ``test`` and ``validation``: arrays of shape (n_seeds, n_rows) of
        the forecasts on the year's test and validation rows of horizon
        ``h`` (their mean is scored; ``validation`` calibrates the interval).
        """
        rows = self.rows[year, "test"][h]
        y_true, each = self._target(h)[rows], np.atleast_2d(test)
        y_pred = each.mean(axis=0)
        seed_rmse = [root_mean_squared_error(y_true, p) for p in each]
        if len(each) == 1:
            seed_rmse = [np.nan]  # one model: no spread to report
        record = dict(
            test_year=str(year),
            inputs=inputs,
            model=model,
            horizon=h,
            rmse=root_mean_squared_error(y_true, y_pred),
            mae=mean_absolute_error(y_true, y_pred),
            n_test=int(rows.sum()),
            fit_time_s=fit_time,
            coverage=np.nan,
            width=np.nan,
            interval="",
            rmse_seed_min=np.min(seed_rmse),
            rmse_seed_max=np.max(seed_rmse),
        )
        self.errors[year, inputs, model, h] = y_true - y_pred
        bounds = None
        coverage = self.settings.intervals
        if coverage and h in self.settings.horizons:
            validated = self._target(h)[self.rows[year, "validation"][h]]
            calibration = (validated, np.atleast_2d(validation).mean(axis=0))
            method, _ = choose_method(*calibration, h, coverage)
            bounds = conformal_interval(
                method, calibration, y_pred, y_true, h, coverage
            )
            record["coverage"], record["width"] = interval_scores(y_true, *bounds)
            record["interval"] = str(method)
        self.records.append(record)
        # The forecast plot shows deployable forecasts only.
        plotted = not INPUT_SETS[inputs].perfect_forecast
        if year == self.plot_year and h in self.settings.horizons and plotted:
            label = model if model != "lstm" else f"LSTM ({inputs})"
            if model in ("persistence", "lstm"):
                self.result.forecasts[h][label] = self._by_target_time(y_pred, year, h)
            if model == "lstm" and bounds is not None:
                self.result.bands[h][label] = tuple(
                    self._by_target_time(bound, year, h) for bound in bounds
                )
        if self.settings.verbose:
            self.log(_describe(record))

    def _by_target_time(self, y_pred, year, h):
        rows = self.rows[year, "test"][h]
        return pd.Series(y_pred, index=target_times(self.frame.index, h)[rows])

    def _score_models(self, year, inputs, name, models, horizons, fit_time):
        """Score fitted pipelines (seeds of one model) at each of ``horizons``,
        the columns of their output."""
        predictions = {
            period: np.stack(
                [
                    predict_rows(
                        model,
                        self.frame,
                        self.union[year, period],
                        self.settings.window,
                    ).reshape(int(self.union[year, period].sum()), -1)
                    for model in models
                ]
            )
            for period in ("test", "validation")
            if period == "test" or self.settings.intervals
        }
        for column, h in enumerate(horizons):
            picked = {
                period: values[:, self.rows[year, period][h][self.union[year, period]],
                               column]
                for period, values in predictions.items()
            }  # fmt: skip
            share = fit_time / len(horizons)  # a joint fit serves every horizon
            self._score(year, inputs, name, h, picked["test"],
                        picked.get("validation"), share)  # fmt: skip
            self.result.models[str(year), inputs, name, h] = list(models)

    # --- the steps ---------------------------------------------------------

    def _naive(self):
        pollution = self.frame[TARGET].to_numpy()
        total = len(self.folds) * len(self.scored) * len(NAIVE_FORECASTS)
        with self.progress("naive forecasts", total) as bar:
            for year in self.folds:
                for name, forecast in NAIVE_FORECASTS.items():
                    for h in self.scored:
                        values = forecast(pollution, h)
                        self._score(
                            year, "univariate", name, h,
                            values[self.rows[year, "test"][h]],
                            values[self.rows[year, "validation"][h]], np.nan,
                        )  # fmt: skip
                        bar.update()

    def _ridge(self):
        """One multi-output Ridge for every scored horizon; with a look-ahead,
        one Ridge per horizon, each reading its own ``lead``."""
        settings = self.settings
        total = len(self.folds) * sum(
            len(self.scored) if INPUT_SETS[inputs].looks_ahead else 1
            for inputs in settings.inputs
        )
        with self.progress("Ridge", total) as bar:
            for year, protocol in self.folds.items():
                for inputs in settings.inputs:
                    input_set = INPUT_SETS[inputs]
                    columns = fit_columns(
                        lag_columns(input_set), self.frame, protocol, input_set
                    )
                    together = [self.scored]
                    if input_set.looks_ahead:
                        together = [(h,) for h in self.scored]
                    for horizons in together:
                        model = lag_pipeline(
                            columns, LAG_REGRESSORS["ridge"](),
                            window=settings.window, lead=input_set.lead(horizons),
                        )  # fmt: skip
                        fit_time = fit_lags(
                            model, self.frame, self.y[self._target_columns(horizons)],
                            protocol, input_set, horizons,
                        )  # fmt: skip
                        self._score_models(
                            year, inputs, "ridge", [model], horizons, fit_time
                        )
                        bar.update()

    def _target_columns(self, horizons):
        return [f"{TARGET}_h{h}" for h in horizons]

    def _fitted_in_processes(self):
        """Fit the LSTMs and gradient-boosting models side by side, then
        score them."""
        cells = fit_side_by_side(
            self.settings, self.frame, self.y, self.folds,
            progress=self.progress, log=self.log,
        )  # fmt: skip
        self.result.lstm_fit_time_s = sum(
            fit_time
            for (kind, *_), cell in cells.items()
            if kind == "lstm"
            for _, fit_time in cell
        )
        with self.progress("scores and intervals", len(cells)) as bar:
            for (kind, year, inputs, horizons), cell in cells.items():
                models = [model for model, _ in cell]
                fit_time = sum(fit_time for _, fit_time in cell)
                self._score_models(year, inputs, kind, models, horizons, fit_time)
                bar.update()


def _describe(record):
    return (
        f"{record['test_year']}, {record['model']}, {record['inputs']}, "
        f"h={record['horizon']}: RMSE {record['rmse']:.2f}, "
        f"MAE {record['mae']:.2f} µg/m³"
    )


__all__ = ["StudyResult", "run_study"]
