"""Run the study: a rolling origin over three test years, every model on each.

For each test year Y of ``StudySettings.folds`` (2012, 2013 and 2014 by
default; :meth:`._protocol.Protocol.fold`), every model is fitted on 2010 to
Y-2, the LSTM stops early on Y-1, and all are scored on the hours of Y
(Tashman, 2000; Hyndman and Athanasopoulos, FPP3 §5.10):

- persistence and seasonal-naive forecasts (no fitting);
- Ridge(alpha=1) on the standardised lags of the input window, wind
  direction label-encoded: one multi-output Ridge for every hour from 1 to
  24 (the skill figure), which is one Ridge per horizon (its outputs are
  solved independently);
- HistGradientBoostingRegressor(max_iter=300) on the same lags, one per
  horizon of ``StudySettings.horizons`` only (it is the costly baseline);
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
their DM test pools the years' loss differentials. With ``intervals`` set
(80 % by default), every model also gets, at the horizons of
``StudySettings.horizons``, a conformal interval from its own errors on the
validation year (:mod:`._intervals`).

All fits run on one BLAS/OpenMP thread by default (``StudySettings.threads``);
the LSTMs and gradient-boosting models are fitted side by side in
``StudySettings.n_jobs`` processes (one per core by default). A fit does not
depend on the process or thread count, so neither does the table.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, cpu_count, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from threadpoolctl import threadpool_limits

from ._diebold_mariano import dm_test, pooled_dm_test
from ._intervals import choose_method, conformal_interval, interval_scores
from ._models import (
    LAG_REGRESSORS,
    NAIVE_FORECASTS,
    fit_columns,
    fit_lags,
    fit_lstm,
    lag_columns,
    lag_pipeline,
    lstm_columns,
    lstm_pipeline,
)
from ._progress import NoProgress
from ._protocol import (
    CURVE_HORIZONS,
    FOLDS,
    FULL,
    HORIZONS,
    INPUT_SETS,
    QUICK,
    TARGET,
    WINDOW,
    load_frame,
    predict_rows,
    rows_in,
    target_times,
    targets,
)
from ._report import MEAN, RESULT_COLUMNS, count

#: The gradient-boosting baseline: fitted per horizon, in the worker processes.
_HGB = "hist gradient boosting"


@dataclass(frozen=True)
class StudySettings:
    """What the study runs; the defaults are the ``sklstm-beijing`` defaults.

    Attributes
    ----------
    horizons : tuple of int
        Hours ahead of the tables, the intervals and gradient boosting.
    inputs : tuple of str
        Input sets, keys of ``INPUT_SETS``.
    protocol : Protocol
        The periods of the last fold (``FULL`` or the ``QUICK`` slice);
        the other folds are it shifted back (:meth:`Protocol.fold`).
    folds : tuple of int
        Test years of the rolling origin.
    joint : bool
        One LSTM for every horizon from 1 to ``max(24, *horizons)``, scored
        at each of them; False (the default, chosen on the validation years:
        see the Beijing docs page) for one LSTM per horizon of ``horizons``.
    window : int
        Hours of input history: the LSTM's sequence length and the lags of
        the Ridge and gradient-boosting baselines.
    hidden : int
        LSTM hidden units.
    skip_steps : int
        ``LSTMRegressor(skip_steps=...)``: the last hours of the window that
        also reach the forecast through a linear map beside the LSTM.
    epochs : int
        Most epochs per LSTM (early stopping usually ends sooner).
    patience : int
        Epochs without a better validation score before the LSTM stops.
    tol : float
        ``LSTMRegressor(tol=...)``: the least gain of validation R² that
        counts as better.
    batch_size : int
    learning_rate : float
    dropout : float
        ``LSTMRegressor(dropout=...)``, the share of inputs dropped in
        training.
    schedule : {"constant", "adaptive"}
        ``LSTMRegressor(learning_rate=...)``: with ``"adaptive"``, each time
        ``patience`` epochs fail to improve the validation score the step
        size is divided by 5 instead of stopping (until it is 1e-6).
    seeds : tuple of int
        LSTM seeds; with several, their forecasts are averaged (six by
        default: chosen on 2013, see the Beijing docs page).
    hgb_max_iter : int
        Boosting iterations of the gradient-boosting baseline.
    backend : str
        ``LSTMRegressor(backend=...)``.
    threads : int or None
        Threads of BLAS and OpenMP (gradient boosting) during the study;
        None leaves the libraries' defaults.
    intervals : float or None
        Coverage of the forecast intervals, in (0, 1); None for none. They
        are calibrated on each fold's validation year.
    n_jobs : int or None
        Processes fitting the LSTMs and gradient-boosting models side by
        side, one thread each; None for one per core, negative as in
        joblib (-1: every core, -2: all but one).
    verbose : bool
        Print every LSTM epoch and every fit.
    """

    horizons: tuple = HORIZONS
    inputs: tuple = tuple(INPUT_SETS)
    protocol: object = FULL
    folds: tuple = FOLDS
    joint: bool = False
    window: int = WINDOW
    hidden: int = 32
    skip_steps: int = 6
    epochs: int = 40
    patience: int = 6
    tol: float = 1e-4
    batch_size: int = 128
    learning_rate: float = 1e-3
    dropout: float = 0.0
    schedule: str = "constant"
    seeds: tuple = (0, 1, 2, 3, 4, 5)
    hgb_max_iter: int = 300
    backend: str = "auto"
    threads: int = 1
    intervals: float | None = 0.8
    n_jobs: int | None = None
    verbose: bool = False

    @classmethod
    def quick(cls, **changes):
        """Settings of ``--quick``: the ``QUICK`` slice, a smaller, faster LSTM.

        Smaller batches and a larger step give the LSTM enough updates on
        the four months of training rows; gradient boosting gets 20
        iterations; two seeds.
        """
        defaults = dict(
            protocol=QUICK,
            hidden=32,
            epochs=12,
            patience=3,
            batch_size=32,
            learning_rate=0.003,
            hgb_max_iter=20,
            seeds=(0, 1),
        )
        return cls(**{**defaults, **changes})

    def fold(self, test_year):
        """The protocol of the fold that tests on ``test_year``."""
        return self.protocol.fold(test_year)

    @property
    def scored_horizons(self):
        """Horizons of the naive forecasts and Ridge: 1 to ``max(24, *horizons)``."""
        return tuple(range(1, max(CURVE_HORIZONS, *self.horizons) + 1))

    @property
    def lstm_horizons(self):
        """Horizons of the LSTM: ``scored_horizons`` with ``joint``, else
        ``horizons``."""
        return self.scored_horizons if self.joint else tuple(sorted(self.horizons))

    def lstm_params(self, seed):
        """Keyword arguments of the study's :class:`~sklstm.LSTMRegressor`."""
        return dict(
            hidden_layer_sizes=self.hidden,
            skip_steps=self.skip_steps,
            batch_size=self.batch_size,
            learning_rate=self.schedule,
            dropout=self.dropout,
            learning_rate_init=self.learning_rate,
            max_iter=self.epochs,
            early_stopping=True,
            n_iter_no_change=self.patience,
            tol=self.tol,
            random_state=seed,
            verbose=self.verbose,
            backend=self.backend,
        )


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
        results = pd.DataFrame.from_records(self.records)
        results = _with_skill_and_dm(results, self.errors, self.folds)
        results = pd.concat([results, _means(results, self.errors)], ignore_index=True)
        self.result.results = _in_study_order(results)[RESULT_COLUMNS].reset_index(
            drop=True
        )
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
        if year == self.plot_year and h in self.settings.horizons:
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
        settings = self.settings
        total = len(self.folds) * len(settings.inputs)
        with self.progress("Ridge", total) as bar:
            for year, protocol in self.folds.items():
                for inputs in settings.inputs:
                    features = INPUT_SETS[inputs]
                    columns = fit_columns(
                        lag_columns(features), self.frame, protocol, features
                    )
                    model = lag_pipeline(
                        columns, LAG_REGRESSORS["ridge"](), window=settings.window
                    )
                    fit_time = fit_lags(
                        model, self.frame, self.y, protocol, features, self.scored
                    )
                    self._score_models(
                        year, inputs, "ridge", [model], self.scored, fit_time
                    )
                    bar.update()

    def _fitted_in_processes(self):
        """Fit the LSTMs and gradient-boosting models side by side, then
        score them."""
        settings = self.settings
        lstm_horizons = (
            [self.scored] if settings.joint else [(h,) for h in settings.lstm_horizons]
        )
        jobs = [
            ("lstm", year, inputs, horizons, seed)
            for year in self.folds
            for inputs in settings.inputs
            for horizons in lstm_horizons
            for seed in settings.seeds
        ] + [
            (_HGB, year, inputs, (h,), None)
            for year in self.folds
            for inputs in settings.inputs
            for h in settings.horizons
        ]
        n_jobs = settings.n_jobs or cpu_count()
        if n_jobs < 0:  # joblib's convention: -1 all cores, -2 all but one
            n_jobs = cpu_count() + 1 + n_jobs
        n_workers = max(1, min(n_jobs, len(jobs)))
        columns = {
            (kind, year, inputs): fit_columns(
                (lstm_columns if kind == "lstm" else lag_columns)(INPUT_SETS[inputs]),
                self.frame, protocol, INPUT_SETS[inputs],
            )
            for kind in ("lstm", _HGB)
            for year, protocol in self.folds.items()
            for inputs in settings.inputs
        }  # fmt: skip
        fitted = {}
        label = f"fits ({count(n_workers, 'process')})"
        with self.progress(label, len(jobs)) as bar:
            tasks = Parallel(n_jobs=n_workers, return_as="generator_unordered")(
                delayed(_fit)(
                    settings, columns[kind, year, inputs], self.frame, self.y,
                    self.folds[year], job,
                )
                for job in jobs
                for kind, year, inputs, _, _ in [job]
            )  # fmt: skip
            for job, model, fit_time in tasks:
                fitted[job] = (model, fit_time)
                bar.update()
                if settings.verbose:
                    self.log(_describe_fit(job, model, fit_time))
        self.result.lstm_fit_time_s = sum(
            fit_time for job, (_, fit_time) in fitted.items() if job[0] == "lstm"
        )
        groups = {}
        for job in jobs:  # in the order of the jobs, not of their ends
            kind, year, inputs, horizons, _ = job
            groups.setdefault((kind, year, inputs, horizons), []).append(fitted[job])
        with self.progress("scores and intervals", len(groups)) as bar:
            for (kind, year, inputs, horizons), cell in groups.items():
                models = [model for model, _ in cell]
                fit_time = sum(fit_time for _, fit_time in cell)
                self._score_models(year, inputs, kind, models, horizons, fit_time)
                bar.update()


#: The models in the order of the tables.
MODELS = ("persistence", "seasonal naive", "ridge", _HGB, "lstm")


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


def _fit(settings, columns, frame, y, protocol, job):
    """Fit one LSTM or gradient-boosting pipeline (a joblib task).

    Returns
    -------
    job, model, fit_time
    """
    kind, _, inputs, horizons, seed = job
    features = INPUT_SETS[inputs]
    target = y[[f"{TARGET}_h{h}" for h in horizons]]
    with threadpool_limits(limits=settings.threads), warnings.catch_warnings():
        # Reaching max_iter is reported in the log, with the best epoch.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if kind == "lstm":
            model = lstm_pipeline(
                columns, window=settings.window, **settings.lstm_params(seed)
            )
            fit_time = fit_lstm(model, frame, target, protocol, features, horizons)
        else:
            regressor = LAG_REGRESSORS[kind]().set_params(
                max_iter=settings.hgb_max_iter
            )
            model = lag_pipeline(columns, regressor, window=settings.window)
            (h,) = horizons
            fit_time = fit_lags(model, frame, target[f"{TARGET}_h{h}"], protocol,
                                features, h)  # fmt: skip
    return job, model, fit_time


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


def _with_skill_and_dm(results, errors, folds):
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


def _describe(record):
    return (
        f"{record['test_year']}, {record['model']}, {record['inputs']}, "
        f"h={record['horizon']}: RMSE {record['rmse']:.2f}, "
        f"MAE {record['mae']:.2f} µg/m³"
    )


def _describe_fit(job, model, fit_time):
    kind, year, inputs, horizons, seed = job
    text = f"{kind}, {inputs}, test year {year}, " + (
        f"h={horizons[0]}" if len(horizons) == 1 else f"h={horizons[0]}-{horizons[-1]}"
    )
    if kind == "lstm":
        lstm = model[-1]
        text += (
            f", seed {seed}: {lstm.n_iter_} epochs, best validation score at "
            f"epoch {int(np.argmax(lstm.validation_scores_)) + 1}"
        )
    return f"    {text}, {fit_time:.1f} s"


__all__ = ["StudyResult", "StudySettings", "run_study"]
