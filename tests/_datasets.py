"""Fixtures and helpers shared by the tests of sklstm.datasets
(tests/test_datasets*.py, which import the fixtures)."""

import zipfile
from urllib.error import URLError

import pytest

from sklstm.datasets import _beijing_download, load_beijing_pm25

from .conftest import SHARED_CSV, require_shared_csv, shared_data_env

N_HOURS = 43_824


def forbid_download(monkeypatch):
    def fail(url, *args, **kwargs):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(_beijing_download, "urlopen", fail)


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


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if the loader tries to download."""
    forbid_download(monkeypatch)


def zip_holding(path, files):
    """Write a zip at ``path`` holding ``files`` ({member name: str or bytes})."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def assert_same_frame(actual, expected):
    # DataFrame.equals checks values, NaN positions, dtypes and axes, and is
    # far faster than assert_frame_equal on a 43,824-row DatetimeIndex.
    assert actual.equals(expected)
    assert actual.index.freq == expected.index.freq
    assert actual.dtypes.equals(expected.dtypes)


def serve(monkeypatch, archive):
    """Make the loader download ``archive`` through a file:// URL."""
    monkeypatch.setattr(_beijing_download, "ARCHIVE_URL", archive.as_uri())


def _truncated_rows(lines):
    return "\n".join(lines[:-100])


def _cut_mid_line(lines):
    return "\n".join(lines)[:-12]


def with_line(lines, number, line):
    return "\n".join([*lines[:number], line, *lines[number + 1 :]])


def _wrong_header(lines):
    return with_line(lines, 0, lines[0].replace("PRES", "PRESSURE"))


def _duplicated_hour(lines):
    return with_line(lines, 1001, lines[1000])


def _unknown_wind(lines):
    return with_line(lines, 500, lines[500].replace(",NW,", ",SW,"))


def _text_in_numbers(lines):
    return with_line(lines, 500, lines[500].replace(",NW,", ",NW,calm"))


def _garbage(lines):
    return bytes(range(256)) * 64


def _empty(lines):
    return ""


def replace_value(lines, number, column, value):
    header = lines[0].split(",")
    fields = lines[number].split(",")
    fields[header.index(column)] = value
    return with_line(lines, number, ",".join(fields))


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


def write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
