"""The study's input sets: the columns each model reads, and which of them
are known ahead of the forecast origin.

A model of horizon ``h`` issued at hour ``t`` reads every column of its set
for the ``window`` hours up to ``t``; the columns *known ahead* it also reads
for the hours ``t + 1 … t + h`` (:class:`~sklstm.SequenceWindower`'s
``known_ahead`` and ``lead``), as a deployed forecaster would read a weather
forecast or the calendar. PM2.5 is never known ahead.

- ``univariate`` and ``multivariate`` read nothing ahead;
- ``calendar``: ``multivariate`` plus the hour of the day, the day of the
  week and the day of the year (:class:`~sklstm.CalendarFeatures`) of every
  hour, known ahead: fully deployable;
- ``weather-ahead``: ``calendar`` plus the weather of the target hours,
  known ahead. The *observed* weather stands in for a weather forecast: a
  perfect forecast, so its scores are an upper bound of what a forecast
  would give, never a deployable result (:attr:`InputSet.perfect_forecast`).
"""

from dataclasses import dataclass

import numpy as np

TARGET = "pollution"
WEATHER = ("dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain")
FEATURES = (TARGET, *WEATHER)
#: The column of timestamps that the calendar features are computed from.
TIME = "time"
#: What each feature is, in words, for the report.
FEATURE_NAMES = {
    "pollution": "PM2.5",
    "dew": "dew point",
    "temp": "temperature",
    "press": "pressure",
    "wnd_dir": "wind direction",
    "wnd_spd": "wind speed",
    "snow": "snow",
    "rain": "rain",
}


@dataclass(frozen=True)
class InputSet:
    """What the models of one input set read.

    Attributes
    ----------
    features : tuple of str
        Columns of the data read up to the forecast origin.
    calendar : bool
        Whether the calendar of every hour (from :data:`TIME`) is read, up to
        the origin and ahead of it.
    known_ahead : tuple of str
        Columns of ``features`` also read for the hours after the origin, up
        to the target hour: their observed values, a perfect forecast.
    """

    features: tuple
    calendar: bool = False
    known_ahead: tuple = ()

    @property
    def description(self):
        """The set in words, for the report."""
        text = ", ".join(FEATURE_NAMES[name] for name in self.features)
        text += " only" if len(self.features) == 1 else ""
        if self.calendar:
            text += "; the calendar (hour, weekday, day of the year) known ahead"
        if self.known_ahead:
            text += (
                "; the observed "
                + ", ".join(FEATURE_NAMES[name] for name in self.known_ahead)
                + " of the hours up to the target known ahead (a perfect "
                "forecast: an upper bound, not deployable)"
            )
        return text

    @property
    def looks_ahead(self):
        """Whether the models read some column after the forecast origin."""
        return self.calendar or bool(self.known_ahead)

    @property
    def perfect_forecast(self):
        """Whether observed values stand in for a forecast of the future
        hours: the scores are then an upper bound, not a deployable result."""
        return bool(self.known_ahead)

    @property
    def columns(self):
        """The columns of the data the pipelines are given."""
        return (*self.features, TIME) if self.calendar else self.features

    def lead(self, horizons):
        """Hours read after the origin by a model of ``horizons``: the
        longest of them (the target hours), 0 without a look-ahead."""
        return max(horizons) if self.looks_ahead else 0

    def rows(self, frame, start, stop, lead=0):
        """Rows ``start:stop`` of the set's columns, then ``lead`` *future*
        rows: the ``lead`` hours after them, every past-only value NaN.

        Parameters
        ----------
        frame : pandas.DataFrame
            The study's data, indexed by hour.
        start, stop : int
            Positions of the observed rows.
        lead : int, default=0

        Returns
        -------
        rows : pandas.DataFrame
            At most ``stop - start + lead`` rows (fewer where the data ends).
        """
        rows = frame.iloc[start : stop + lead]
        rows = rows.assign(**{TIME: rows.index})[list(self.columns)]
        past_only = [name for name in self.features if name not in self.known_ahead]
        rows.iloc[stop - start :, [rows.columns.get_loc(n) for n in past_only]] = np.nan
        return rows


INPUT_SETS = {
    "univariate": InputSet((TARGET,)),
    "multivariate": InputSet(FEATURES),
    "calendar": InputSet(FEATURES, calendar=True),
    "weather-ahead": InputSet(FEATURES, calendar=True, known_ahead=WEATHER),
}


def as_input_set(inputs):
    """``inputs`` as an :class:`InputSet`: itself, or the set of the columns
    of a sequence of names (read up to the origin only)."""
    if isinstance(inputs, InputSet):
        return inputs
    return InputSet(tuple(inputs))


#: The input sets of the default run: the two deployable sets with the
#: weather, within the main job's six minutes on two cores (each set costs
#: about 2.5 minutes of LSTM fits there); ``--inputs all`` adds PM2.5 alone
#: and the weather-ahead upper bound.
DEFAULT_INPUTS = ("multivariate", "calendar")
