"""Protocol P: the data, its split in time, the targets and the inputs.

Everything that fixes *which numbers are compared* lives here, so that every
model of the study (LSTM and baselines alike) is fitted and scored on the
same rows:

- PM2.5 gaps are filled by time interpolation, the leading gap back-filled;
- a row ``t`` is an *issue time*: its inputs are the ``window`` hours
  ending at ``t`` (:data:`WINDOW`, 24, unless ``--window`` says otherwise)
  and its target at horizon ``h`` is PM2.5 at ``t + h``;
- a row belongs to a period (train 2010-2012, validation 2013, test 2014)
  by the time of its *target*, so no target crosses a period boundary; its
  input window may reach into the period before (the first test windows
  read the end of 2013, as a real forecast would);
- scalers and encoders are fitted on the rows of the train period only.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import SequenceWindower, make_supervised
from ..datasets import load_beijing_pm25
from ._input_sets import FEATURES, TARGET, TIME

#: The first hour of the data set.
DATA_START = pd.Timestamp("2010-01-01 00:00")
#: Hours of input history in each window, by default.
WINDOW = 24
HORIZONS = (1, 6, 24)
#: The skill figure's horizons: 1 to 24 hours, every model fitted for all.
CURVE_HORIZONS = 24
#: The rolling origin's test years: fit on 2010 to Y-2, stop on Y-1, score Y.
FOLDS = (2012, 2013, 2014)


@dataclass(frozen=True)
class Period:
    """A closed interval of hours, ``first`` to ``last`` inclusive."""

    first: pd.Timestamp
    last: pd.Timestamp

    @classmethod
    def between(cls, first, last):
        """Build a period from two date strings or timestamps."""
        return cls(pd.Timestamp(first), pd.Timestamp(last))

    def contains(self, times):
        """Boolean mask of ``times`` inside the period (NaT is outside)."""
        times = pd.DatetimeIndex(times)
        return np.asarray((times >= self.first) & (times <= self.last))

    def year_earlier(self):
        """The same hours of the calendar one year before, from
        :data:`DATA_START` at the earliest."""
        year = pd.DateOffset(years=1)
        return Period(max(self.first - year, DATA_START), self.last - year)


@dataclass(frozen=True)
class Protocol:
    """The three periods of a study, in time order, and the plotted fortnight.

    Attributes
    ----------
    train, validation, test : Period
        Fit, early stopping, and scoring periods, by target time.
    plot_start : pandas.Timestamp
        First hour of the two test weeks drawn in the forecast plot.
    """

    train: Period
    validation: Period
    test: Period
    plot_start: pd.Timestamp

    def year_earlier(self):
        """The protocol one year before: how the study's settings are chosen.

        On protocol P: train 2010-2011, validation (LSTM early stopping)
        2012, test 2013. The scored year, 2013, is new to every model,
        early stopping included, as 2014 is in protocol P, and 2014 is not
        read at all.
        """
        return Protocol(
            train=self.train.year_earlier(),
            validation=self.validation.year_earlier(),
            test=self.test.year_earlier(),
            plot_start=self.plot_start - pd.DateOffset(years=1),
        )

    def fold(self, test_year):
        """The protocol shifted back so that its test period is in ``test_year``.

        Rolling origin with an expanding window (Tashman, 2000): on protocol
        P, ``fold(2013)`` trains on 2010-2011, stops early on 2012 and tests
        on 2013; ``fold(2012)`` trains on 2010 alone. The train period keeps
        its first hour (:data:`DATA_START` at the earliest).

        Raises
        ------
        ValueError
            If ``test_year`` is after this protocol's test year or leaves no
            train period.
        """
        back = self.test.first.year - int(test_year)
        protocol = self
        for _ in range(max(back, 0)):
            protocol = protocol.year_earlier()
        if back < 0 or protocol.train.last < protocol.train.first:
            first = self.test.first.year - (self.train.last.year - DATA_START.year)
            raise ValueError(
                f"No fold tests on {test_year}: the test years run from {first} "
                f"to {self.test.first.year}. Pass test years in that range."
            )
        return protocol


#: Protocol P: train 2010-2012, validation 2013, test 2014.
FULL = Protocol(
    train=Period.between("2010-01-01 00:00", "2012-12-31 23:00"),
    validation=Period.between("2013-01-01 00:00", "2013-12-31 23:00"),
    test=Period.between("2014-01-01 00:00", "2014-12-31 23:00"),
    plot_start=pd.Timestamp("2014-02-12 00:00"),
)

#: A slice of protocol P for smoke tests: the same boundaries (the end of
#: 2012, the start of 2013 and of 2014), with four months of training, one of
#: validation and one of test.
QUICK = Protocol(
    train=Period.between("2012-09-01 00:00", "2012-12-31 23:00"),
    validation=Period.between("2013-01-01 00:00", "2013-01-31 23:00"),
    test=Period.between("2014-01-01 00:00", "2014-01-31 23:00"),
    plot_start=pd.Timestamp("2014-01-12 00:00"),
)


def load_frame(data_home=None):
    """Load the Beijing data with PM2.5 gaps filled as protocol P says.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Passed to :func:`sklstm.datasets.load_beijing_pm25`.

    Returns
    -------
    frame : pandas.DataFrame
        One row per hour, the eight columns of :data:`FEATURES`, no NaN.
    """
    return fill_gaps(check_values(load_beijing_pm25(data_home)))


#: The largest magnitude a study column may hold: every measurement and
#: counter of the data set is below 10⁴ (PM2.5 peaks near 1,000 µg/m³).
LARGEST_VALUE = 1e6
#: The least share of measured (not missing) hours in every column.
LEAST_MEASURED = 0.5


def check_values(frame):
    """Refuse data a study cannot use, naming the column.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data set as loaded, before the gaps are filled.

    Returns
    -------
    frame : pandas.DataFrame
        ``frame`` itself, when every column of :data:`FEATURES` is present,
        measured on at least :data:`LEAST_MEASURED` of the hours, and (when
        numeric) finite with magnitudes up to :data:`LARGEST_VALUE`.

    Raises
    ------
    ValueError
        Naming the first column that fails and what to do.
    """
    missing = [name for name in FEATURES if name not in frame]
    if missing:
        raise ValueError(
            f"The Beijing data has no column(s) {missing}. Point SKLSTM_DATA_HOME "
            "at the UCI file PRSA_data_2010.1.1-2014.12.31.csv, or remove the "
            "copy there to download it again."
        )
    for name in FEATURES:
        column = frame[name]
        measured = float(column.notna().mean()) if len(column) else 0.0
        if measured < LEAST_MEASURED:
            raise ValueError(
                f"Column {name!r} of the Beijing data is measured on "
                f"{measured:.1%} of the hours; a study needs at least "
                f"{LEAST_MEASURED:.0%}. Use the original UCI file, or fill the "
                "column first."
            )
        if name == "wnd_dir":
            continue
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        infinite = np.isinf(values)
        if infinite.any():
            raise ValueError(
                f"Column {name!r} of the Beijing data holds {int(infinite.sum())} "
                f"infinite value(s), the first at {frame.index[infinite][0]}. "
                "Replace them by NaN (a gap) or by the measured value."
            )
        largest = np.nanmax(np.abs(values), initial=0.0)
        if largest > LARGEST_VALUE:
            where = frame.index[np.abs(values) == largest][0]
            raise ValueError(
                f"Column {name!r} of the Beijing data holds {largest:g} at "
                f"{where}, beyond any plausible value (at most "
                f"{LARGEST_VALUE:g}). Fix or blank that value."
            )
    return frame


def fill_gaps(frame):
    """Fill PM2.5 gaps by time interpolation, back-filling the leading gap.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by time, with a ``pollution`` column.

    Returns
    -------
    frame : pandas.DataFrame
        A copy without NaN in ``pollution``.
    """
    frame = frame.copy()
    frame[TARGET] = frame[TARGET].interpolate(method="time").bfill()
    return frame


def targets(frame, horizons):
    """PM2.5 ``h`` hours after each row, one column per horizon.

    Parameters
    ----------
    frame : pandas.DataFrame
        Time-ordered hourly rows with a ``pollution`` column.
    horizons : sequence of int

    Returns
    -------
    y : pandas.DataFrame of shape (len(frame), len(horizons))
        Column ``f"pollution_h{h}"``, on ``frame``'s index; NaN where
        ``t + h`` is past the last row.
    """
    # One call per horizon: a joint call would drop the last max(horizons)
    # rows for every horizon.
    columns = [
        make_supervised(frame, TARGET, horizon=int(h), features=[TARGET])[1]
        for h in horizons
    ]
    return pd.concat(columns, axis=1).reindex(frame.index)


def target_times(index, horizon):
    """Time of the target ``horizon`` rows after each row (NaT past the end)."""
    index = pd.DatetimeIndex(index)
    times = np.full(len(index), np.datetime64("NaT"), dtype="datetime64[ns]")
    times[: max(len(index) - horizon, 0)] = index[horizon:].to_numpy()
    return pd.DatetimeIndex(times)


def rows_in(period, index, horizons):
    """Rows whose targets, at every horizon, lie in ``period``.

    Parameters
    ----------
    period : Period
    index : pandas.DatetimeIndex
        Hourly, time-ordered issue times.
    horizons : int or sequence of int

    Returns
    -------
    mask : ndarray of bool, shape (len(index),)
    """
    horizons = np.atleast_1d(horizons)
    mask = np.ones(len(index), dtype=bool)
    for horizon in horizons:
        mask &= period.contains(target_times(index, int(horizon)))
    return mask


def history_start(mask, window=WINDOW):
    """First row position that a windowed model needs to predict ``mask``.

    That is ``window - 1`` rows before the first selected row (or the first
    row of the data), so its window holds true history, not padding.
    """
    first = int(np.flatnonzero(mask)[0])
    return max(first - (window - 1), 0)


def windower_of(pipeline):
    """The :class:`~sklstm.SequenceWindower` step of ``pipeline``."""
    return next(
        step
        for step in pipeline.named_steps.values()
        if isinstance(step, SequenceWindower)
    )


def predict_rows(model, frame, mask, window=None):
    """Predict the rows of ``mask`` from their true past (and look-ahead).

    The model (a pipeline that starts from raw rows and windows them) is given
    the selected rows, the ``window - 1`` rows before the first one and,
    where its windower reads ``lead`` hours ahead, the ``lead`` rows after
    the last one (as far as the data goes); the predictions of those extra
    rows are dropped.

    Parameters
    ----------
    model : fitted Pipeline
        Holding a :class:`~sklstm.SequenceWindower`.
    frame : pandas.DataFrame
        All rows, time-ordered.
    mask : ndarray of bool
        Rows to predict.
    window : int, default=None
        The window of the model's windower; None reads it from the model.

    Returns
    -------
    y_pred : ndarray of shape (mask.sum(),) or (mask.sum(), n_outputs)
    """
    windower = windower_of(model)
    positions = np.flatnonzero(mask)
    start = history_start(mask, windower.window if window is None else window)
    stop = min(positions[-1] + 1 + windower.lead, len(frame))
    rows = frame.iloc[start:stop]
    y_pred = model.predict(rows.assign(**{TIME: rows.index}))
    return y_pred[positions - start]
