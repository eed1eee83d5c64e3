"""The Beijing PM2.5 CSV: its name, its layout, and the checks of its content.

:func:`read_beijing_csv` reads the raw UCI file and refuses one that is not
the complete data set (columns, rows, consecutive hours, wind directions,
plausible values), with a message the loader embeds in its own.
"""

import numpy as np
import pandas as pd

FILE_NAME = "PRSA_data_2010.1.1-2014.12.31.csv"

_RAW_COLUMNS = [
    "No", "year", "month", "day", "hour",
    "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws", "Is", "Ir",
]  # fmt: skip
# Raw name -> loaded name, in the loaded column order.
_RENAMED = {
    "pm2.5": "pollution",
    "DEWP": "dew",
    "TEMP": "temp",
    "PRES": "press",
    "cbwd": "wnd_dir",
    "Iws": "wnd_spd",
    "Is": "snow",
    "Ir": "rain",
}
_WIND_DIRECTIONS = ["NE", "NW", "SE", "cv"]
_FIRST_HOUR = "2010-01-01 00:00"
_LAST_HOUR = "2014-12-31 23:00"
_N_HOURS = 43_824

#: Values outside these bounds are not measurements but damage (a PM2.5 of
#: 1e300, a temperature of 500 °C). The bounds are physical limits far beyond
#: anything in the data (which peaks at 994 µg/m³ of PM2.5, -40 °C dew point,
#: 42 °C, 991-1046 hPa, counters up to 586).
_PLAUSIBLE_RANGES = {
    "pm2.5": (0.0, 2000.0),
    "DEWP": (-60.0, 40.0),
    "TEMP": (-50.0, 50.0),
    "PRES": (900.0, 1100.0),
    "Iws": (0.0, 10_000.0),
    "Is": (0.0, 8784.0),  # hours in a year
    "Ir": (0.0, 8784.0),
}
#: PM2.5 must be measured in at least this share of the hours (95 % are): a
#: study of a column with a handful of values reports meaningless scores.
_MIN_MEASURED_SHARE = 0.5


def read_beijing_csv(path):
    """Read and check the raw CSV; return the tidy frame.

    Raises ``ValueError`` whose message says what is wrong, in a phrase the
    callers embed in their own message.
    """
    try:
        raw = pd.read_csv(path)
    except ValueError as exc:  # parser, empty-file and decoding errors
        raise ValueError(f"it cannot be parsed as CSV ({str(exc).strip()})") from exc
    hours = _check_raw(raw)
    data = raw[list(_RENAMED)].rename(columns=_RENAMED)
    data = data.astype({name: np.float64 for name in data if name != "wnd_dir"})
    data["wnd_dir"] = pd.Categorical(data["wnd_dir"], categories=_WIND_DIRECTIONS)
    data.index = hours
    return data


def _check_raw(raw):
    """Raise ``ValueError`` unless ``raw`` is the complete data set.

    Returns the hourly index the rows were checked against.
    """
    header = list(raw.columns)
    if header != _RAW_COLUMNS:
        shown = ", ".join(map(str, header[:20]))[:300]
        raise ValueError(f"its header is [{shown}], expected {_RAW_COLUMNS}")
    if len(raw) != _N_HOURS:
        raise ValueError(
            f"it has {len(raw):,} rows, expected {_N_HOURS:,} "
            f"(one per hour from {_FIRST_HOUR} to {_LAST_HOUR})"
        )
    incomplete = [name for name in _RAW_COLUMNS if name != "pm2.5"]
    incomplete = [name for name in incomplete if raw[name].isna().any()]
    if incomplete:
        raise ValueError(f"columns {incomplete} have empty values (only pm2.5 may)")
    numeric = [name for name in _RAW_COLUMNS if name != "cbwd"]
    not_numeric = [
        name for name in numeric if not pd.api.types.is_numeric_dtype(raw[name])
    ]
    if not_numeric:
        raise ValueError(f"columns {not_numeric} hold values that are not numbers")
    _check_values(raw)
    unknown = sorted(set(raw["cbwd"].astype(str).unique()) - set(_WIND_DIRECTIONS))
    if unknown:
        raise ValueError(
            f"column cbwd holds {unknown[:5]}, expected only {_WIND_DIRECTIONS}"
        )
    try:
        stamps = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    except (ValueError, OverflowError) as exc:
        raise ValueError(
            f"its year, month, day and hour are not dates ({exc})"
        ) from exc
    hours = pd.date_range(_FIRST_HOUR, periods=_N_HOURS, freq="h", name="date")
    wrong = np.flatnonzero(stamps.to_numpy() != hours.to_numpy())
    if wrong.size:
        row = wrong[0]
        raise ValueError(
            f"its hours are not consecutive from {_FIRST_HOUR}: data row "
            f"{row + 1} is {stamps.iloc[row]}, expected {hours[row]} (a gap, "
            "a duplicate or rows out of order)"
        )
    return hours


def _check_values(raw):
    """Raise ``ValueError`` naming a column whose values a study cannot use."""
    for name, (low, high) in _PLAUSIBLE_RANGES.items():
        values = raw[name].to_numpy(dtype=np.float64)
        measured = ~np.isnan(values)
        outside = measured & ~((values >= low) & (values <= high))
        if outside.any():
            rows = np.flatnonzero(outside)
            kind = "infinite or " if np.isinf(values[rows]).any() else ""
            raise ValueError(
                f"column {name} holds {rows.size} {kind}impossible value(s) "
                f"outside [{low:g}, {high:g}], the first {values[rows[0]]!r} "
                f"at data row {rows[0] + 1}"
            )
    measured = raw["pm2.5"].notna().mean()
    if measured < _MIN_MEASURED_SHARE:
        raise ValueError(
            f"column pm2.5 is measured in {measured:.1%} of the hours "
            f"({raw['pm2.5'].notna().sum():,} of {len(raw):,}); a study needs "
            f"at least {_MIN_MEASURED_SHARE:.0%} (the UCI file has 95.3%)"
        )
