"""Tests for sklstm.datasets: the Beijing PM2.5 loader and the data folder."""

import hashlib
import io
import warnings
import zipfile
from urllib.error import URLError

import numpy as np
import pandas as pd
import pytest

from sklstm.datasets import _beijing_download, get_data_home, load_beijing_pm25
from sklstm.exceptions import DataChecksumWarning

from .conftest import (
    CSV_NAME,
    SHARED_CSV,
    SHARED_DATA,
    require_shared_csv,
    shared_data_env,
)

N_HOURS = 43_824
COLUMNS = ["pollution", "dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain"]


@pytest.fixture(scope="module")
def beijing():
    """The data set loaded once through SKLSTM_DATA_HOME."""
    with shared_data_env():
        return load_beijing_pm25(download_if_missing=False)


@pytest.fixture(scope="module")
def csv_lines():
    require_shared_csv()
    return SHARED_CSV.read_text().splitlines()


@pytest.fixture
def offline(monkeypatch):
    """Make every download attempt fail as it does without network."""

    def refuse(url, *args, **kwargs):
        raise URLError("no network in this test")

    monkeypatch.setattr(_beijing_download, "urlopen", refuse)


def _forbid_download(monkeypatch):
    def fail(url, *args, **kwargs):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(_beijing_download, "urlopen", fail)


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if the loader tries to download."""
    _forbid_download(monkeypatch)


def _zip_holding(path, files):
    """Write a zip at ``path`` holding ``files`` ({member name: str or bytes})."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def _assert_same_frame(actual, expected):
    # DataFrame.equals checks values, NaN positions, dtypes and axes, and is
    # far faster than assert_frame_equal on a 43,824-row DatetimeIndex.
    assert actual.equals(expected)
    assert actual.index.freq == expected.index.freq
    assert actual.dtypes.equals(expected.dtypes)


def _serve(monkeypatch, archive):
    """Make the loader download ``archive`` through a file:// URL."""
    monkeypatch.setattr(_beijing_download, "ARCHIVE_URL", archive.as_uri())


# --- the data as loaded ------------------------------------------------------


def test_schema_and_dtypes(beijing):
    assert list(beijing.columns) == COLUMNS
    numeric = [name for name in COLUMNS if name != "wnd_dir"]
    assert (beijing.dtypes[numeric] == np.float64).all()
    assert isinstance(beijing["wnd_dir"].dtype, pd.CategoricalDtype)
    assert list(beijing["wnd_dir"].cat.categories) == ["NE", "NW", "SE", "cv"]
    assert beijing["wnd_dir"].notna().all()


def test_index_is_hourly_without_gaps(beijing):
    index = beijing.index
    assert isinstance(index, pd.DatetimeIndex)
    assert index.name == "date"
    assert len(index) == N_HOURS
    assert index[0] == pd.Timestamp("2010-01-01 00:00")
    assert index[-1] == pd.Timestamp("2014-12-31 23:00")
    assert index.freqstr == "h"
    assert index.is_unique and index.is_monotonic_increasing
    assert (np.diff(index.to_numpy()) == np.timedelta64(1, "h")).all()


def test_missing_pollution_is_nan_and_only_there(beijing):
    missing = beijing["pollution"].isna()
    assert missing.sum() == 2_067
    assert missing.iloc[:24].all()
    assert not missing.iloc[24]
    assert beijing.drop(columns="pollution").notna().all().all()


def test_values_match_the_raw_csv(beijing):
    raw = pd.read_csv(SHARED_CSV)
    np.testing.assert_array_equal(beijing["pollution"], raw["pm2.5"])
    np.testing.assert_array_equal(beijing["wnd_spd"], raw["Iws"])
    np.testing.assert_array_equal(beijing["wnd_dir"].astype(str), raw["cbwd"])
    stamps = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    np.testing.assert_array_equal(beijing.index.to_numpy(), stamps.to_numpy())


def test_loads_from_env_var_without_download(shared_data_home, no_download):
    assert load_beijing_pm25().shape == (N_HOURS, len(COLUMNS))


# --- the data folder ---------------------------------------------------------


def test_data_home_argument_beats_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("SKLSTM_DATA_HOME", str(tmp_path / "from_env"))
    assert get_data_home(tmp_path / "from_arg") == tmp_path / "from_arg"
    assert get_data_home() == tmp_path / "from_env"


def test_data_home_named_folders_are_not_created(monkeypatch, tmp_path):
    monkeypatch.setenv("SKLSTM_DATA_HOME", str(tmp_path / "from_env"))
    get_data_home()
    get_data_home(str(tmp_path / "from_arg"))
    assert list(tmp_path.iterdir()) == []


def test_data_home_default_cache_is_created_in_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SKLSTM_DATA_HOME", "")  # empty counts as unset
    assert get_data_home() == tmp_path / "sklstm_data"
    assert (tmp_path / "sklstm_data").is_dir()


def test_data_home_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home("~/elsewhere") == tmp_path / "elsewhere"


def test_load_argument_beats_env_var(shared_data_home, monkeypatch, tmp_path):
    monkeypatch.setenv("SKLSTM_DATA_HOME", str(tmp_path))  # has no CSV
    assert len(load_beijing_pm25(SHARED_DATA, download_if_missing=False)) == N_HOURS
    with pytest.raises(FileNotFoundError):
        load_beijing_pm25(download_if_missing=False)


# --- missing file and download -----------------------------------------------


def test_missing_file_without_download(no_download, tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_beijing_pm25(tmp_path, download_if_missing=False)
    message = str(error.value)
    for part in (CSV_NAME, str(tmp_path), _beijing_download.ARCHIVE_URL):
        assert part in message
    assert _beijing_download.DATASET_PAGE_URL in message


def test_failed_download_says_where_to_get_the_file(offline, tmp_path):
    folder = tmp_path / "cache"
    with pytest.raises(OSError, match="Could not download") as error:
        load_beijing_pm25(folder)
    message = str(error.value)
    for part in (CSV_NAME, str(folder), _beijing_download.ARCHIVE_URL):
        assert part in message
    assert _beijing_download.DATASET_PAGE_URL in message
    assert list(folder.iterdir()) == []


def test_http_error_is_reported_as_oserror(monkeypatch, tmp_path):
    _serve(monkeypatch, tmp_path / "no_such.zip")
    with pytest.raises(OSError, match=r"no_such\.zip"):
        load_beijing_pm25(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.fixture(scope="module")
def served_zip(tmp_path_factory):
    """A zip like UCI's, built from the shared CSV."""
    require_shared_csv()
    folder = tmp_path_factory.mktemp("served")
    return _zip_holding(folder / "beijing.zip", {CSV_NAME: SHARED_CSV.read_bytes()})


def test_download_from_zip_matches_direct_load(
    beijing, served_zip, monkeypatch, tmp_path
):
    _serve(monkeypatch, served_zip)
    folder = tmp_path / "new" / "cache"
    downloaded = load_beijing_pm25(folder)
    _assert_same_frame(downloaded, beijing)
    assert [path.name for path in folder.iterdir()] == [CSV_NAME]
    assert (folder / CSV_NAME).read_bytes() == SHARED_CSV.read_bytes()

    _forbid_download(monkeypatch)  # the second load reads the cached file
    _assert_same_frame(load_beijing_pm25(folder), beijing)


def test_download_finds_csv_in_a_subfolder(beijing, monkeypatch, tmp_path):
    archive = _zip_holding(
        tmp_path / "nested.zip",
        {"README.txt": "notes", f"PRSA/{CSV_NAME}": SHARED_CSV.read_bytes()},
    )
    _serve(monkeypatch, archive)
    _assert_same_frame(load_beijing_pm25(tmp_path / "cache"), beijing)


# --- damaged files -----------------------------------------------------------


def _truncated_rows(lines):
    return "\n".join(lines[:-100])


def _cut_mid_line(lines):
    return "\n".join(lines)[:-12]


def _with_line(lines, number, line):
    return "\n".join([*lines[:number], line, *lines[number + 1 :]])


def _wrong_header(lines):
    return _with_line(lines, 0, lines[0].replace("PRES", "PRESSURE"))


def _duplicated_hour(lines):
    return _with_line(lines, 1001, lines[1000])


def _unknown_wind(lines):
    return _with_line(lines, 500, lines[500].replace(",NW,", ",SW,"))


def _text_in_numbers(lines):
    return _with_line(lines, 500, lines[500].replace(",NW,", ",NW,calm"))


def _garbage(lines):
    return bytes(range(256)) * 64


def _empty(lines):
    return ""


DAMAGES = {
    "truncated rows": (_truncated_rows, "43,724 rows"),
    "cut mid-line": (_cut_mid_line, "empty values"),
    "wrong header": (_wrong_header, "header"),
    "duplicated hour": (_duplicated_hour, "not consecutive"),
    "unknown wind direction": (_unknown_wind, "SW"),
    "text in a numeric column": (_text_in_numbers, "not numbers"),
    "garbage bytes": (_garbage, "cannot be parsed|header"),
    "empty file": (_empty, "cannot be parsed"),
}


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_local_file_is_reported_and_kept(damage, csv_lines, offline, tmp_path):
    make, problem = damage
    content = make(csv_lines)
    path = tmp_path / CSV_NAME
    _write(path, content)
    with pytest.raises(ValueError, match=problem) as error:
        load_beijing_pm25(tmp_path)
    message = str(error.value)
    assert str(path) in message
    assert "Delete it" in message and _beijing_download.ARCHIVE_URL in message
    # The file may be the user's own copy: it is reported, never deleted.
    assert [p.name for p in tmp_path.iterdir()] == [CSV_NAME]


@pytest.mark.parametrize(
    "damage",
    [DAMAGES["truncated rows"], DAMAGES["duplicated hour"], DAMAGES["garbage bytes"]],
    ids=["truncated rows", "duplicated hour", "garbage bytes"],
)
def test_damaged_download_leaves_nothing_in_cache(
    damage, csv_lines, monkeypatch, tmp_path
):
    make, problem = damage
    content = make(csv_lines)
    _serve(monkeypatch, _zip_holding(tmp_path / "bad.zip", {CSV_NAME: content}))
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match=problem) as error:
        load_beijing_pm25(folder)
    assert "downloaded from" in str(error.value)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("payload", "problem"),
    [(b"<html>Moved</html>", "not a readable zip"), (None, "not " + CSV_NAME)],
    ids=["not a zip", "zip without the csv"],
)
def test_bad_archive_leaves_nothing_in_cache(payload, problem, monkeypatch, tmp_path):
    archive = tmp_path / "served.zip"
    if payload is None:
        _zip_holding(archive, {"other.csv": "a,b\n1,2\n"})
    else:
        archive.write_bytes(payload)
    _serve(monkeypatch, archive)
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match=problem):
        load_beijing_pm25(folder)
    assert list(folder.iterdir()) == []


# --- checksums ----------------------------------------------------------------


def test_the_shared_copy_has_a_known_digest():
    require_shared_csv()
    digest = _beijing_download.sha256_of(SHARED_CSV)
    assert digest in _beijing_download.KNOWN_CSV_SHA256
    assert digest == hashlib.sha256(SHARED_CSV.read_bytes()).hexdigest()


def test_the_other_known_digest_is_the_same_data_with_a_final_line_break():
    """Both accepted digests are of the same rows, not of another file."""
    require_shared_csv()
    with_break = hashlib.sha256(SHARED_CSV.read_bytes() + b"\r\n").hexdigest()
    assert set(_beijing_download.KNOWN_CSV_SHA256) == {
        _beijing_download.sha256_of(SHARED_CSV),
        with_break,
    }


def test_known_local_copy_loads_without_warning(shared_data_home, no_download):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_beijing_pm25(on_checksum_mismatch="raise")


def _resaved_copy(folder):
    """A copy with other bytes and the same data: LF line ends."""
    path = folder / CSV_NAME
    path.write_bytes(SHARED_CSV.read_bytes().replace(b"\r\n", b"\n"))
    return path


def test_local_copy_with_another_digest_warns_naming_file_and_digests(
    beijing, no_download, tmp_path, monkeypatch
):
    require_shared_csv()
    path = _resaved_copy(tmp_path)
    monkeypatch.delenv("SKLSTM_ON_CHECKSUM_MISMATCH", raising=False)
    with pytest.warns(DataChecksumWarning) as record:
        data = load_beijing_pm25(tmp_path)
    _assert_same_frame(data, beijing)
    (warning,) = record
    message = str(warning.message)
    assert str(path) in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() in message
    for digest in _beijing_download.KNOWN_CSV_SHA256:
        assert digest in message
    assert warning.filename == __file__  # points at the caller


def test_local_copy_with_another_digest_can_be_an_error(no_download, tmp_path):
    require_shared_csv()
    path = _resaved_copy(tmp_path)
    with pytest.raises(ValueError, match="SHA-256") as error:
        load_beijing_pm25(tmp_path, on_checksum_mismatch="raise")
    assert str(path) in str(error.value)
    assert [p.name for p in tmp_path.iterdir()] == [CSV_NAME]  # kept


def test_checksum_option_from_the_environment(no_download, tmp_path, monkeypatch):
    require_shared_csv()
    _resaved_copy(tmp_path)
    monkeypatch.setenv("SKLSTM_ON_CHECKSUM_MISMATCH", "raise")
    with pytest.raises(ValueError, match="on_checksum_mismatch='warn'"):
        load_beijing_pm25(tmp_path)
    with pytest.warns(DataChecksumWarning):  # the argument beats the variable
        load_beijing_pm25(tmp_path, on_checksum_mismatch="warn")
    monkeypatch.setenv("SKLSTM_ON_CHECKSUM_MISMATCH", "ignore")
    with pytest.raises(ValueError, match="SKLSTM_ON_CHECKSUM_MISMATCH"):
        load_beijing_pm25(tmp_path)


def test_bad_checksum_option_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\['warn', 'raise'\]"):
        load_beijing_pm25(tmp_path, on_checksum_mismatch="error")


def test_download_with_another_digest_is_refused_and_not_cached(
    csv_lines, monkeypatch, tmp_path
):
    """Valid data whose bytes differ (LF line ends) is still not a known copy."""
    resaved = SHARED_CSV.read_bytes().replace(b"\r\n", b"\n")
    _serve(monkeypatch, _zip_holding(tmp_path / "resaved.zip", {CSV_NAME: resaved}))
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match="SHA-256") as error:
        load_beijing_pm25(folder)
    message = str(error.value)
    assert hashlib.sha256(resaved).hexdigest() in message
    assert "Nothing was saved" in message
    assert list(folder.iterdir()) == []


def test_tampered_download_is_refused_and_not_cached(csv_lines, monkeypatch, tmp_path):
    """One changed value: valid content, the file's line ends, another digest."""
    original = "\r\n".join(csv_lines).encode()
    assert hashlib.sha256(original).hexdigest() in _beijing_download.KNOWN_CSV_SHA256
    tampered = "\r\n".join(_replace_value(csv_lines, 30, "pm2.5", "99").split("\n"))
    assert tampered.encode() != original
    _serve(monkeypatch, _zip_holding(tmp_path / "t.zip", {CSV_NAME: tampered}))
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match="SHA-256"):
        load_beijing_pm25(folder)
    assert list(folder.iterdir()) == []


def test_download_with_a_final_line_break_is_accepted(beijing, monkeypatch, tmp_path):
    content = SHARED_CSV.read_bytes() + b"\r\n"
    _serve(monkeypatch, _zip_holding(tmp_path / "uci.zip", {CSV_NAME: content}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_same_frame(load_beijing_pm25(tmp_path / "cache"), beijing)
    assert (tmp_path / "cache" / CSV_NAME).read_bytes() == content


def test_archive_checksum_is_checked_when_known(served_zip, monkeypatch, tmp_path):
    monkeypatch.setattr(_beijing_download, "ARCHIVE_SHA256", "0" * 64)
    _serve(monkeypatch, served_zip)
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match="archive's SHA-256") as error:
        load_beijing_pm25(folder)
    assert _beijing_download.sha256_of(served_zip) in str(error.value)
    assert list(folder.iterdir()) == []
    monkeypatch.setattr(
        _beijing_download, "ARCHIVE_SHA256", _beijing_download.sha256_of(served_zip)
    )
    assert len(load_beijing_pm25(folder)) == N_HOURS


# --- interrupted downloads -------------------------------------------------------


class _InterruptedResponse(io.BytesIO):
    """A response that delivers ``n_bytes`` of the body, then fails."""

    def __init__(self, body, n_bytes, error):
        super().__init__(body[:n_bytes])
        self.error = error
        self.delivered = False

    def read(self, size=-1):
        chunk = super().read(size)
        if chunk:
            self.delivered = True
            return chunk
        raise self.error


@pytest.mark.parametrize(
    "error",
    [ConnectionResetError("connection reset by peer"), KeyboardInterrupt()],
    ids=["connection reset", "ctrl-c"],
)
def test_interrupted_download_leaves_nothing(served_zip, monkeypatch, tmp_path, error):
    raised = OSError if isinstance(error, OSError) else KeyboardInterrupt
    body = served_zip.read_bytes()
    responses = []

    def opener(url, *args, **kwargs):
        responses.append(_InterruptedResponse(body, len(body) // 2, error))
        return responses[-1]

    monkeypatch.setattr(_beijing_download, "urlopen", opener)
    folder = tmp_path / "cache"
    with pytest.raises(raised):
        load_beijing_pm25(folder)
    assert responses[0].delivered  # it failed mid-way, not before the start
    assert list(folder.iterdir()) == []


def test_download_is_moved_into_place_only_once_checked(
    served_zip, monkeypatch, tmp_path
):
    """While the archive is read, the data folder holds no file of that name."""
    folder = tmp_path / "cache"
    seen = []
    extract = _beijing_download.extract_csv

    def watching(archive, destination):
        extract(archive, destination)
        seen.append(sorted(path.name for path in folder.iterdir()))

    monkeypatch.setattr(_beijing_download, "extract_csv", watching)
    _serve(monkeypatch, served_zip)
    load_beijing_pm25(folder)
    assert len(seen) == 1 and CSV_NAME not in seen[0]
    assert [path.name for path in folder.iterdir()] == [CSV_NAME]


# --- values a study cannot use ---------------------------------------------------


def _replace_value(lines, number, column, value):
    header = lines[0].split(",")
    fields = lines[number].split(",")
    fields[header.index(column)] = value
    return _with_line(lines, number, ",".join(fields))


BAD_VALUES = {
    "inf in a weather column": ("TEMP", "inf", "TEMP.*infinite"),
    "absurd pollution": ("pm2.5", "1e300", r"pm2\.5.*1e\+300"),
    "negative pollution": ("pm2.5", "-5", r"pm2\.5.*-5\.0"),
    "absurd pressure": ("PRES", "5", "PRES.*5.0"),
    "absurd wind counter": ("Iws", "-1e9", "Iws"),
}


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_unusable_values_are_named(bad, csv_lines, no_download, tmp_path):
    column, value, problem = bad
    (tmp_path / CSV_NAME).write_text(_replace_value(csv_lines, 700, column, value))
    with pytest.raises(ValueError, match=problem) as error:
        load_beijing_pm25(tmp_path)
    assert "data row 700" in str(error.value)


def test_pollution_with_too_few_measurements_is_refused(
    csv_lines, no_download, tmp_path
):
    header = csv_lines[0].split(",")
    column = header.index("pm2.5")
    lines = [csv_lines[0]]
    for number, line in enumerate(csv_lines[1:]):
        fields = line.split(",")
        if number != 5000:  # one measured hour left
            fields[column] = "NA"
        lines.append(",".join(fields))
    (tmp_path / CSV_NAME).write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"pm2\.5 is measured in 0\.0% .*\(1 of"):
        load_beijing_pm25(tmp_path)
