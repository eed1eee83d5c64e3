"""Loader for the UCI "Beijing PM2.5 Data" set (dataset 381)."""

import hashlib
import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from urllib.request import urlopen

import numpy as np
import pandas as pd

from ..exceptions import DataChecksumWarning

FILE_NAME = "PRSA_data_2010.1.1-2014.12.31.csv"
ARCHIVE_URL = "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip"
DATASET_PAGE_URL = "https://archive.ics.uci.edu/dataset/381/beijing+pm2+5+data"

_DATA_HOME_ENV = "SKLSTM_DATA_HOME"
_ON_MISMATCH_ENV = "SKLSTM_ON_CHECKSUM_MISMATCH"
_ON_MISMATCH_OPTIONS = ("warn", "raise")
_DOWNLOAD_TIMEOUT_S = 60

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

#: SHA-256 of the CSV files known to be the data set byte for byte, and where
#: each comes from. UCI serves the CSV inside a zip whose bytes no session of
#: this project could fetch, so the first digest is of the copy that the tests
#: read (from a public mirror; CRLF line ends, no line break after the last
#: row) and the second is of the same bytes with that final CRLF, the digest
#: another public project records for the file from UCI (not checked against
#: UCI by this project). A download whose CSV has neither is refused; a local
#: copy with another digest but valid content is loaded with a
#: DataChecksumWarning.
KNOWN_CSV_SHA256 = {
    "892e9559205d16d32623135c127a3951c12e46ea1e0b3093e107ce89a9fd60e2": (
        "the copy that sklstm's tests read, without a final line break"
    ),
    "4127f868775e31b3956522adc0ec75af8937dde6a3896e8beed3a376c6d27f1c": (
        "the same bytes with a final CRLF"
    ),
}
#: SHA-256 of the UCI zip itself: unknown (never fetched by this project), so
#: a download is checked through the CSV it holds. Set it once known, and the
#: archive is checked before it is opened.
ARCHIVE_SHA256 = None

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


def get_data_home(data_home=None):
    """Return the folder where sklstm looks for (and downloads) data sets.

    The folder is, in order of precedence: ``data_home`` when given, the
    ``SKLSTM_DATA_HOME`` environment variable when set and not empty, or
    ``~/sklstm_data``. A leading ``~`` is expanded in all three.

    Only the default ``~/sklstm_data`` cache is created here. A folder that
    the caller names (argument or environment variable) is returned as is,
    so that a mistyped path is not silently created; ``load_beijing_pm25``
    creates it only when it has to download into it.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Folder to use instead of the environment variable or the default.

    Returns
    -------
    data_home : pathlib.Path
        The data folder.

    Examples
    --------
    >>> from sklstm.datasets import get_data_home
    >>> get_data_home("~/my_data").name
    'my_data'
    """
    if data_home is None:
        data_home = os.environ.get(_DATA_HOME_ENV) or None
    if data_home is not None:
        return Path(data_home).expanduser()
    cache = Path("~/sklstm_data").expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def load_beijing_pm25(
    data_home=None, *, download_if_missing=True, on_checksum_mismatch=None
):
    """Load the hourly Beijing PM2.5 and weather data, 2010 to 2014.

    The UCI Machine Learning Repository's "Beijing PM2.5 Data" (dataset 381,
    CC BY 4.0): PM2.5 measured at the US Embassy in Beijing with weather from
    Beijing Capital International Airport, one row per hour. The file
    ``PRSA_data_2010.1.1-2014.12.31.csv`` is read from :func:`get_data_home`
    and, when missing, downloaded there (the folder is created if need be).
    Its content is checked (columns, row count, consecutive hours, wind
    directions, finite and physically possible values, enough PM2.5
    measurements) on every load, so a damaged file is reported, never half
    loaded.

    Its bytes are checked too, against the SHA-256 digests of the known
    copies of the file (the messages list them). A download must match one: otherwise
    nothing is saved and the load fails. A local copy that does not match but
    holds valid data (a copy you cleaned or re-saved, perhaps) is loaded with
    a :class:`~sklstm.exceptions.DataChecksumWarning` that names the file and
    both digests, or refused, as ``on_checksum_mismatch`` says. A download
    is written to a temporary folder inside ``data_home`` and moved into
    place only once checked, so an interrupted or refused download leaves no
    file behind.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Folder that holds the CSV; see :func:`get_data_home` for the default.
    download_if_missing : bool, default=True
        Download the data set from the UCI repository into ``data_home`` when
        the file is not there. If False, a missing file is an error.
    on_checksum_mismatch : {"warn", "raise"}, default=None
        What a local copy whose SHA-256 is not a known one gets: a warning,
        or a ``ValueError``. None reads the ``SKLSTM_ON_CHECKSUM_MISMATCH``
        environment variable, and ``"warn"`` when it is unset or empty.

    Returns
    -------
    data : pandas.DataFrame of shape (43824, 8)
        Indexed by a ``DatetimeIndex`` named ``"date"`` with hourly frequency,
        from 2010-01-01 00:00 to 2014-12-31 23:00 without gaps. Columns:

        - ``pollution``: PM2.5 concentration (µg/m³). NaN where it was not
          measured: 2,067 hours, including the first 24. The NaN are kept;
          filling them is the caller's choice.
        - ``dew``: dew point (°C).
        - ``temp``: temperature (°C).
        - ``press``: pressure (hPa).
        - ``wnd_dir``: combined wind direction, a categorical with categories
          ``NE``, ``NW``, ``SE`` and ``cv`` (calm and variable).
        - ``wnd_spd``: cumulated wind speed (m/s).
        - ``snow``: cumulated hours of snow.
        - ``rain``: cumulated hours of rain.

        ``wnd_spd``, ``snow`` and ``rain`` are running counters, not hourly
        measurements: they grow while the wind direction (or the snow or
        rain) lasts and reset when it changes or stops. All columns but
        ``wnd_dir`` are float64.

    Raises
    ------
    FileNotFoundError
        If the file is missing and ``download_if_missing`` is False.
    OSError
        If the file is missing and the download fails (no network, HTTP
        error); the message says where to get the file and where to put it.
    ValueError
        If the file, or the downloaded archive, does not hold the expected
        data (wrong columns, missing or extra rows, gaps in the hours, unknown
        wind directions, infinite or impossible values, too few PM2.5
        measurements), if a downloaded file's SHA-256 is not a known one, or
        if a local copy's is not and ``on_checksum_mismatch="raise"``. A
        damaged file in ``data_home`` is left in place: delete it and load
        again to download a fresh copy.

    Warns
    -----
    sklstm.exceptions.DataChecksumWarning
        If the local copy's SHA-256 is not a known one but its content is
        valid, and ``on_checksum_mismatch`` is ``"warn"``.

    Examples
    --------
    >>> from sklstm.datasets import load_beijing_pm25
    >>> data = load_beijing_pm25()  # doctest: +SKIP
    >>> data.shape  # doctest: +SKIP
    (43824, 8)
    >>> data["pollution"].isna().sum()  # doctest: +SKIP
    np.int64(2067)
    """
    on_mismatch = _on_checksum_mismatch(on_checksum_mismatch)
    folder = get_data_home(data_home)
    path = folder / FILE_NAME
    if path.exists():
        return _read_local(path, on_mismatch)
    if not download_if_missing:
        raise FileNotFoundError(
            f"{FILE_NAME} is not in {folder}. {_where_to_get_it(folder)} "
            "Or pass download_if_missing=True to download it."
        )
    return _download(folder, path)


def _where_to_get_it(folder):
    return (
        f"Download {ARCHIVE_URL} (dataset page: {DATASET_PAGE_URL}) and "
        f"extract {FILE_NAME} from it into {folder}."
    )


def _on_checksum_mismatch(option):
    """The checked ``on_checksum_mismatch`` option, or the environment's."""
    where = "on_checksum_mismatch"
    if option is None:
        option = os.environ.get(_ON_MISMATCH_ENV) or "warn"
        where = f"the {_ON_MISMATCH_ENV} environment variable"
    if option not in _ON_MISMATCH_OPTIONS:
        raise ValueError(
            f"{where} must be one of {list(_ON_MISMATCH_OPTIONS)}, got {option!r}."
        )
    return option


def sha256_of(path):
    """The SHA-256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _known_digests():
    return " or ".join(
        f"{digest} ({what})" for digest, what in KNOWN_CSV_SHA256.items()
    )


def _read_local(path, on_mismatch):
    """Read the CSV at ``path``, naming the file and the fix on failure."""
    try:
        data = _read_csv(path)
    except ValueError as exc:
        raise ValueError(
            f"{path} is not a valid copy of the Beijing PM2.5 data: {exc}. "
            "Delete it so that load_beijing_pm25 downloads it again, or "
            f"replace it with {FILE_NAME} from {ARCHIVE_URL} "
            f"(dataset page: {DATASET_PAGE_URL})."
        ) from exc
    digest = sha256_of(path)
    if digest not in KNOWN_CSV_SHA256:
        message = (
            f"{path} has SHA-256 {digest}, which is not that of a known copy "
            f"of the Beijing PM2.5 data: expected {_known_digests()}. Its "
            "content passes the checks (columns, 43,824 consecutive hours, "
            "values), so it may be a copy you cleaned or re-saved; if not, "
            "delete it so that load_beijing_pm25 downloads it again."
        )
        if on_mismatch == "raise":
            raise ValueError(
                f"{message} To load it anyway, pass "
                f"on_checksum_mismatch='warn' (or set {_ON_MISMATCH_ENV}=warn)."
            )
        warnings.warn(
            f"{message} To make this an error, pass on_checksum_mismatch="
            f"'raise' (or set {_ON_MISMATCH_ENV}=raise).",
            DataChecksumWarning,
            stacklevel=3,
        )
    return data


def _download(folder, destination):
    """Download the archive, check its CSV and move it to ``destination``.

    Everything is written in a scratch folder inside ``folder`` (so that the
    final rename is atomic) and the scratch folder is removed on success and
    on failure (an error, Ctrl-C) alike: ``destination`` appears complete and
    checked, or not at all.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as scratch:
        archive = Path(scratch) / "archive.zip"
        csv = Path(scratch) / FILE_NAME
        try:
            with (
                urlopen(ARCHIVE_URL, timeout=_DOWNLOAD_TIMEOUT_S) as response,
                open(archive, "wb") as out,
            ):
                shutil.copyfileobj(response, out)
        except OSError as exc:
            raise OSError(
                f"Could not download the Beijing PM2.5 data from {ARCHIVE_URL} "
                f"into {folder} ({exc}). Nothing was saved. "
                f"{_where_to_get_it(folder)}"
            ) from exc
        try:
            _check_archive(archive)
            _extract_csv(archive, csv)
            data = _check_downloaded_csv(csv)
        except ValueError as exc:
            raise ValueError(
                f"The archive downloaded from {ARCHIVE_URL} does not hold a "
                f"valid {FILE_NAME}: {exc}. Nothing was saved in {folder}. "
                f"{_where_to_get_it(folder)}"
            ) from exc
        os.replace(csv, destination)
    return data


def _check_archive(archive):
    """Raise ``ValueError`` if the archive's SHA-256 is known and differs."""
    if ARCHIVE_SHA256 is None:
        return
    digest = sha256_of(archive)
    if digest != ARCHIVE_SHA256:
        raise ValueError(
            f"the archive's SHA-256 is {digest}, expected {ARCHIVE_SHA256}"
        )


def _check_downloaded_csv(csv):
    """The data of a downloaded CSV whose content and SHA-256 are known good."""
    data = _read_csv(csv)
    digest = sha256_of(csv)
    if digest not in KNOWN_CSV_SHA256:
        raise ValueError(
            f"its SHA-256 is {digest}, expected {_known_digests()} (its "
            "content passes the checks, so UCI may have re-exported the "
            "file; a copy you put in the data folder yourself is loaded "
            "with a warning)"
        )
    return data


def _extract_csv(archive, destination):
    """Copy the data set's CSV out of the zip ``archive`` to ``destination``."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.namelist()
            # Match the base name: archives may hold the CSV in a subfolder.
            matches = [m for m in members if PurePosixPath(m).name == FILE_NAME]
            if not matches:
                raise ValueError(f"the zip holds {members[:10]}, not {FILE_NAME}")
            with zipped.open(matches[0]) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"it is not a readable zip archive ({exc})") from exc


def _read_csv(path):
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
