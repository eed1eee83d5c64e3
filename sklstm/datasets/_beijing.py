"""The loader of the UCI "Beijing PM2.5 Data" set (dataset 381) and the data
folder.

The CSV's layout and content checks are in :mod:`._beijing_csv`; its
download and the SHA-256 digests of its known copies in
:mod:`._beijing_download`.
"""

import os
import warnings
from pathlib import Path

from ..exceptions import DataChecksumWarning
from ._beijing_csv import FILE_NAME, read_beijing_csv
from ._beijing_download import (
    ARCHIVE_URL,
    DATASET_PAGE_URL,
    KNOWN_CSV_SHA256,
    download_beijing_csv,
    known_digests,
    sha256_of,
    where_to_get_it,
)

_DATA_HOME_ENV = "SKLSTM_DATA_HOME"
_ON_MISMATCH_ENV = "SKLSTM_ON_CHECKSUM_MISMATCH"
_ON_MISMATCH_OPTIONS = ("warn", "raise")


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
            f"{FILE_NAME} is not in {folder}. {where_to_get_it(folder)} "
            "Or pass download_if_missing=True to download it."
        )
    return download_beijing_csv(folder, path)


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


def _read_local(path, on_mismatch):
    """Read the CSV at ``path``, naming the file and the fix on failure."""
    try:
        data = read_beijing_csv(path)
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
            f"of the Beijing PM2.5 data: expected {known_digests()}. Its "
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
