"""Run the study: fit every model of protocol P and score it on 2014.

For each input set (univariate, multivariate) and horizon (1, 6, 24 h) the
study fits and scores, on the same test rows (targets in 2014):

- persistence and seasonal-naive forecasts (no fitting);
- Ridge(alpha=1) and HistGradientBoostingRegressor(max_iter=300) on the
  standardised lags of the input window, wind direction label-encoded;
- the LSTM pipeline (one-hot wind direction, standard scaling, windows of
  ``StudySettings.window`` hours, 24 by default,
  :class:`~sklstm.LSTMRegressor` with early stopping on 2013).

With ``intervals`` set (80 % by default), every model also gets a conformal
interval from its own forecast errors on the validation year
(:mod:`._intervals`), with its coverage and mean width on the test year.

One LSTM is trained per horizon. Trained jointly on several horizons (``y``
with one column per horizon), the network fits the noisy 24-hour target
within 3-4 epochs and then overfits it, while the 1-hour output needs 10-20
epochs: one early-stopping point cannot serve both, and the joint model lost
1-2 µg/m³ at h=1 in our runs. A joint model of the 6- and 24-hour horizons
alone did no better than one model each.

All fits run on one BLAS/OpenMP thread by default (``StudySettings.threads``);
the LSTMs, one per seed, input set and horizon, are fitted side by side in
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
from ._protocol import (
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
from ._report import RESULT_COLUMNS, count


@dataclass(frozen=True)
class StudySettings:
    """What the study runs; the defaults are the ``sklstm-beijing`` defaults.

    Attributes
    ----------
    horizons : tuple of int
        Hours ahead to forecast.
    inputs : tuple of str
        Input sets, keys of ``INPUT_SETS``.
    protocol : Protocol
        The periods (``FULL`` or the ``QUICK`` slice).
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
        Epochs without a better 2013 score before the LSTM stops.
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
        are calibrated on the validation period, so they are made only when
        the study scores the test period.
    score_on : {"test", "validation"}
        The year the table scores. ``"test"`` runs ``protocol``;
        ``"validation"`` runs it one year earlier
        (:meth:`._protocol.Protocol.year_earlier`: on protocol P, train
        2010-2011, early stopping on 2012, scores on 2013), which is how the
        study's settings were chosen without reading the test year.
    n_jobs : int or None
        Processes fitting LSTMs side by side (one per seed and horizon), one
        thread each; None for one per core.
    verbose : bool
        Print the progress of every fit, epoch by epoch for the LSTM.
    """

    horizons: tuple = HORIZONS
    inputs: tuple = tuple(INPUT_SETS)
    protocol: object = FULL
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
    score_on: str = "test"
    n_jobs: int | None = None
    verbose: bool = True

    @classmethod
    def quick(cls, **changes):
        """Settings of ``--quick``: the ``QUICK`` slice, a smaller, faster LSTM.

        Smaller batches and a larger step give the LSTM enough updates on
        the four months of training rows; gradient boosting gets 20
        iterations.
        """
        defaults = dict(
            protocol=QUICK,
            hidden=32,
            epochs=12,
            patience=3,
            batch_size=32,
            learning_rate=0.003,
            hgb_max_iter=20,
        )
        return cls(**{**defaults, **changes})

    def periods(self):
        """The protocol that runs: ``protocol``, or the year before it."""
        if self.score_on == "validation":
            return self.protocol.year_earlier()
        return self.protocol

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
        The tidy table, one row per input set × model × horizon
        (columns :data:`._report.RESULT_COLUMNS`).
    truth : pandas.Series
        Observed (gap-filled) PM2.5 of every hour.
    forecasts : dict
        ``{horizon: {label: Series}}`` of the LSTMs and persistence on the test
        rows, indexed by target time, for the plot.
    bands : dict
        ``{horizon: {label: (lower, upper)}}``, the LSTMs' intervals as Series
        like ``forecasts`` (empty without ``intervals``).
    models : dict
        ``{(inputs, model, horizon): [fitted Pipeline, ...]}``, one pipeline
        per seed for the LSTM.
    settings : StudySettings
    wall_time_s : float
    """

    results: pd.DataFrame
    truth: pd.Series
    forecasts: dict
    bands: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    settings: StudySettings = None
    wall_time_s: float = 0.0


def run_study(settings=None, *, data_home=None, frame=None, log=print):
    """Fit and score every model of the study.

    Parameters
    ----------
    settings : StudySettings, default=None
        None means ``StudySettings()``, the full default study.
    data_home : str or os.PathLike, default=None
        Where the Beijing CSV is (see :func:`sklstm.datasets.get_data_home`).
    frame : pandas.DataFrame, default=None
        Gap-filled data to use instead of loading it (``_protocol.load_frame``).
    log : callable, default=print
        Receives one progress line at a time.

    Returns
    -------
    result : StudyResult
    """
    settings = settings or StudySettings()
    # On a busy machine, BLAS and OpenMP threads that outnumber the free
    # cores spin and wait: measured, gradient boosting ran 5-15x slower on
    # two threads than on one, and the LSTM's small GEMMs gain nothing.
    with threadpool_limits(limits=settings.threads):
        return _run(settings, data_home, frame, log)


def _run(settings, data_home, frame, log):
    began = time.perf_counter()
    if frame is None:
        frame = load_frame(data_home)
    protocol, horizons = settings.periods(), tuple(settings.horizons)
    y = targets(frame, horizons)
    test_rows = {h: rows_in(protocol.test, frame.index, h) for h in horizons}
    validation_rows = {
        h: rows_in(protocol.validation, frame.index, h) for h in horizons
    }
    make_intervals = bool(settings.intervals)
    result = StudyResult(
        results=None,
        truth=frame[TARGET],
        forecasts={h: {} for h in horizons},
        bands={h: {} for h in horizons},
        settings=settings,
    )
    records = []

    def score(inputs, model, horizon, forecasts, fit_time):
        """Record the errors of ``forecasts`` (a function of the rows giving
        one forecast per row, or one per seed and row, whose mean is scored)
        and its interval; return the record, the forecasts and the bounds."""
        rows, target = test_rows[horizon], y[f"{TARGET}_h{horizon}"].to_numpy()
        y_true, each = target[rows], np.atleast_2d(forecasts(rows))
        y_pred = each.mean(axis=0)
        seed_rmse = [root_mean_squared_error(y_true, p) for p in each]
        if len(each) == 1:
            seed_rmse = [np.nan]  # one model: no spread to report
        record = dict(
            inputs=inputs,
            model=model,
            horizon=horizon,
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
        bounds = None
        if make_intervals:
            validated = validation_rows[horizon]
            validation_pred = np.atleast_2d(forecasts(validated)).mean(axis=0)
            calibration = (target[validated], validation_pred)
            method, _ = choose_method(*calibration, horizon, settings.intervals)
            bounds = conformal_interval(
                method, calibration, y_pred, y_true, horizon, settings.intervals
            )
            record["coverage"], record["width"] = interval_scores(y_true, *bounds)
            record["interval"] = str(method)
        records.append(record)
        return record, y_pred, bounds

    pollution = frame[TARGET].to_numpy()
    for name, forecast in NAIVE_FORECASTS.items():
        for horizon in horizons:
            _, y_pred, _ = score(
                "univariate",
                name,
                horizon,
                lambda rows, f=forecast, h=horizon: f(pollution, h)[rows],
                np.nan,
            )
            if name == "persistence":
                result.forecasts[horizon][name] = _by_target_time(
                    y_pred, frame.index, test_rows[horizon], horizon
                )
    log(_summary("naive forecasts", records, settings.score_on))

    n_fits = len(settings.inputs) * len(horizons) * (len(LAG_REGRESSORS) + 1)
    step = 0
    for inputs in settings.inputs:
        features = INPUT_SETS[inputs]
        columns = fit_columns(lag_columns(features), frame, protocol, features)
        for name, make_regressor in LAG_REGRESSORS.items():
            for horizon in horizons:
                step += 1
                regressor = make_regressor()
                if "max_iter" in regressor.get_params():
                    regressor.set_params(max_iter=settings.hgb_max_iter)
                model = lag_pipeline(columns, regressor, window=settings.window)
                fit_time = fit_lags(
                    model, frame, y[f"{TARGET}_h{horizon}"], protocol, features, horizon
                )
                record, _, _ = score(
                    inputs,
                    name,
                    horizon,
                    lambda rows, m=model: predict_rows(m, frame, rows, settings.window),
                    fit_time,
                )
                result.models[inputs, name, horizon] = [model]
                log(f"[{step}/{n_fits}] {_describe(record)}")

    jobs = [
        (inputs, horizon, seed)
        for inputs in settings.inputs
        for horizon in horizons
        for seed in settings.seeds
    ]
    log(
        f"fitting {count(len(jobs), 'LSTM')} ({count(len(settings.seeds), 'seed')} "
        f"per input set and horizon) in {count(_n_workers(settings, jobs), 'process')}"
        f": at most {settings.epochs} epochs, early stopping on "
        f"{protocol.validation.first.year}"
    )
    columns = {
        inputs: fit_columns(
            lstm_columns(INPUT_SETS[inputs]), frame, protocol, INPUT_SETS[inputs]
        )
        for inputs in settings.inputs
    }
    fits = Parallel(n_jobs=_n_workers(settings, jobs))(
        delayed(_fit_lstm)(
            settings, columns[inputs], frame, y[f"{TARGET}_h{horizon}"], inputs,
            horizon, seed,
        )
        for inputs, horizon, seed in jobs
    )  # fmt: skip
    by_cell = {}
    for (inputs, horizon, seed), (model, fit_time) in zip(jobs, fits, strict=True):
        by_cell.setdefault((inputs, horizon), []).append((model, fit_time))
        lstm = model[-1]
        log(
            f"    LSTM {inputs}, h={horizon}, seed {seed}: {lstm.n_iter_} epochs, "
            f"best validation score at epoch "
            f"{int(np.argmax(lstm.validation_scores_)) + 1}, {fit_time:.1f} s"
        )
    for (inputs, horizon), cell in by_cell.items():
        step += 1
        fitted = [model for model, _ in cell]

        def each_seed(rows, models=tuple(fitted)):
            window = settings.window
            return np.array([predict_rows(m, frame, rows, window) for m in models])

        fit_time = sum(fit_time for _, fit_time in cell)
        record, y_pred, bounds = score(inputs, "lstm", horizon, each_seed, fit_time)
        result.models[inputs, "lstm", horizon] = fitted
        label, rows = f"LSTM ({inputs})", test_rows[horizon]
        result.forecasts[horizon][label] = _by_target_time(
            y_pred, frame.index, rows, horizon
        )
        if bounds is not None:
            result.bands[horizon][label] = tuple(
                _by_target_time(bound, frame.index, rows, horizon) for bound in bounds
            )
        log(f"[{step}/{n_fits}] {_describe(record)}")

    result.results = pd.DataFrame.from_records(records, columns=RESULT_COLUMNS)
    result.wall_time_s = time.perf_counter() - began
    return result


def _n_workers(settings, jobs):
    n_jobs = settings.n_jobs or cpu_count()
    return max(1, min(n_jobs, len(jobs)))


def _fit_lstm(settings, columns, frame, y, inputs, horizon, seed):
    """Fit one LSTM pipeline; return it and its fit time (a joblib task)."""
    model = lstm_pipeline(columns, window=settings.window, **settings.lstm_params(seed))
    features = INPUT_SETS[inputs]
    with threadpool_limits(limits=settings.threads), warnings.catch_warnings():
        # Reaching max_iter is reported in the log, with the best epoch.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_time = fit_lstm(model, frame, y, settings.periods(), features, (horizon,))
    return model, fit_time


def _by_target_time(y_pred, index, rows, horizon):
    return pd.Series(y_pred, index=target_times(index, horizon)[rows])


def _describe(record):
    return (
        f"{record['model']}, {record['inputs']}, h={record['horizon']}: "
        f"RMSE {record['rmse']:.2f}, MAE {record['mae']:.2f} µg/m³, "
        f"fitted in {record['fit_time_s']:.1f} s"
    )


def _summary(what, records, period):
    parts = [f"h={r['horizon']} {r['model']} {r['rmse']:.2f}" for r in records]
    return f"{what}, {period} RMSE: " + ", ".join(parts)


__all__ = ["StudyResult", "StudySettings", "run_study"]
