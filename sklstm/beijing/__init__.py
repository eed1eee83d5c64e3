"""The Beijing PM2.5 forecasting study: an LSTM pipeline against baselines.

Run it with ``sklstm-beijing`` (or ``python -m sklstm.beijing``); see
``sklstm-beijing --help``. By rolling origin (``_protocol.Protocol.fold``),
for each test year Y of 2012, 2013 and 2014, it fits on 2010 to Y-2 and
scores on Y:

- the LSTM, a scikit-learn :class:`~sklearn.pipeline.Pipeline`
  ``ColumnTransformer → SequenceWindower(window=24) → LSTMRegressor`` with
  early stopping on Y-1, one per horizon, six seeds averaged;
- persistence, seasonal-naive, Ridge and gradient-boosting baselines on the
  same test rows;

and writes the long results table (CSV: RMSE, MAE, skill against
persistence, the Diebold–Mariano test of the LSTM, the intervals, per year
and their mean), a Markdown report, and, where matplotlib is installed
(``pip install "sklstm[plot]"``), the skill-by-horizon figure and a plot of
two test weeks.

The data and periods (``_protocol``): PM2.5 gaps filled by time
interpolation (the leading gap back-filled), a row belonging to the period
of its target; 24-hour input windows by default; horizons 1, 6 and 24 hours
in the tables (1 to 24 for the naive forecasts and Ridge, for the figure);
univariate (PM2.5 only) and multivariate (eight features) inputs, and two
sets that also read columns known ahead, up to the target hour: the
calendar (deployable) and the observed weather (a perfect forecast, an
upper bound reported apart; ``_input_sets``); scalers fitted on each fold's
train period only.

How the LSTM pipeline is fitted (``_models``): the ColumnTransformer is
fitted on the train rows and frozen (:class:`~sklearn.frozen.FrozenEstimator`);
the pipeline is then fitted on the time-ordered train rows, and early
stopping scores the validation year Y-1, given as ``X_val``/``y_val``
windowed by the pipeline's own steps from its true past, so the scaling
stays the train period's. Rows whose target lies outside the train period
get ``sample_weight=0``. Gradient boosting stops early on Y-1 the same way.
"""

from ._cli import main
from ._diebold_mariano import dm_test, pooled_dm_test
from ._models import fit_columns, fit_lstm, lstm_columns, lstm_pipeline, persistence
from ._protocol import (
    FEATURES,
    FULL,
    QUICK,
    TARGET,
    WINDOW,
    Period,
    Protocol,
    history_start,
    load_frame,
    rows_in,
    target_times,
    targets,
)
from ._report import plot_forecasts, plot_skill, wide_table
from ._settings import StudySettings
from ._study import StudyResult, run_study

# The study's data, periods and pipelines are public for the gallery
# examples, which rebuild parts of it.
__all__ = [
    "FEATURES",
    "FULL",
    "QUICK",
    "TARGET",
    "WINDOW",
    "Period",
    "Protocol",
    "StudyResult",
    "StudySettings",
    "dm_test",
    "fit_columns",
    "fit_lstm",
    "history_start",
    "load_frame",
    "lstm_columns",
    "lstm_pipeline",
    "main",
    "persistence",
    "plot_forecasts",
    "plot_skill",
    "pooled_dm_test",
    "rows_in",
    "run_study",
    "target_times",
    "targets",
    "wide_table",
]
