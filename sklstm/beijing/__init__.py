"""The Beijing PM2.5 forecasting study: an LSTM pipeline against baselines.

Run it with ``sklstm-beijing`` (or ``python -m sklstm.beijing``); see
``sklstm-beijing --help``. It fits, on protocol P, and scores on 2014:

- the LSTM, a scikit-learn :class:`~sklearn.pipeline.Pipeline`
  ``ColumnTransformer → SequenceWindower(window=24) → LSTMRegressor`` with
  early stopping on 2013 (``--window`` changes the 24 hours of input, for
  the LSTM and the lag baselines alike);
- persistence, seasonal-naive, Ridge and gradient-boosting baselines on the
  same test rows;

and writes a results table (Markdown and CSV) and, where matplotlib is
installed (``pip install "sklstm[plot]"``), a plot of two test weeks.

Protocol P (``_protocol``): PM2.5 gaps filled by time interpolation (the
leading gap back-filled); train 2010-2012, validation 2013, test 2014, a row
belonging to the period of its target; 24-hour input windows by default;
horizons 1, 6 and 24 hours; univariate (PM2.5 only) and multivariate (eight
features) inputs; scalers fitted on the train period only.

How the LSTM pipeline is fitted (``_models``): the ColumnTransformer is
fitted on the train rows and frozen (:class:`~sklearn.frozen.FrozenEstimator`);
the pipeline is then fitted once on the time-ordered 2010-2013 rows, with
``early_stopping=True`` and ``validation_fraction`` the share of the 2013
rows, so early stopping validates on 2013 while the scaling stays the train
period's, and the 2013 windows read their true past. Rows whose target lies
outside their own period get ``sample_weight=0``.
"""

from ._cli import main
from ._report import plot_forecasts, wide_table
from ._study import StudyResult, StudySettings, run_study

__all__ = [
    "StudyResult",
    "StudySettings",
    "main",
    "plot_forecasts",
    "run_study",
    "wide_table",
]
