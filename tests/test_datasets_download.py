"""Tests for the download of the Beijing PM2.5 data: where a missing file
comes from, the archive, the checks of its CSV, and downloads that fail or
are interrupted, which leave nothing behind."""

# The fixtures shared with the other datasets tests are imported from
# tests/_datasets.py; the tests name them as arguments.
# ruff: noqa: F811

import hashlib
import io
import warnings

import pytest

from sklstm.datasets import _beijing_download, load_beijing_pm25

from ._datasets import (
    DAMAGES,
    N_HOURS,
    assert_same_frame,
    beijing,  # noqa: F401 (a fixture)
    csv_lines,  # noqa: F401 (a fixture)
    forbid_download,
    no_download,  # noqa: F401 (a fixture)
    offline,  # noqa: F401 (a fixture)
    replace_value,
    serve,
    zip_holding,
)
from .conftest import (
    CSV_NAME,
    SHARED_CSV,
    require_shared_csv,
)

# --- missing file and download -------------------------------------------------


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
    serve(monkeypatch, tmp_path / "no_such.zip")
    with pytest.raises(OSError, match=r"no_such\.zip"):
        load_beijing_pm25(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.fixture(scope="module")
def served_zip(tmp_path_factory):
    """A zip like UCI's, built from the shared CSV."""
    require_shared_csv()
    folder = tmp_path_factory.mktemp("served")
    return zip_holding(folder / "beijing.zip", {CSV_NAME: SHARED_CSV.read_bytes()})


def test_download_from_zip_matches_direct_load(
    beijing, served_zip, monkeypatch, tmp_path
):
    serve(monkeypatch, served_zip)
    folder = tmp_path / "new" / "cache"
    downloaded = load_beijing_pm25(folder)
    assert_same_frame(downloaded, beijing)
    assert [path.name for path in folder.iterdir()] == [CSV_NAME]
    assert (folder / CSV_NAME).read_bytes() == SHARED_CSV.read_bytes()

    forbid_download(monkeypatch)  # the second load reads the cached file
    assert_same_frame(load_beijing_pm25(folder), beijing)


def test_download_finds_csv_in_a_subfolder(beijing, monkeypatch, tmp_path):
    archive = zip_holding(
        tmp_path / "nested.zip",
        {"README.txt": "notes", f"PRSA/{CSV_NAME}": SHARED_CSV.read_bytes()},
    )
    serve(monkeypatch, archive)
    assert_same_frame(load_beijing_pm25(tmp_path / "cache"), beijing)


# --- damaged downloads ---------------------------------------------------------


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
    serve(monkeypatch, zip_holding(tmp_path / "bad.zip", {CSV_NAME: content}))
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
        zip_holding(archive, {"other.csv": "a,b\n1,2\n"})
    else:
        archive.write_bytes(payload)
    serve(monkeypatch, archive)
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match=problem):
        load_beijing_pm25(folder)
    assert list(folder.iterdir()) == []


# --- checksums of downloads ----------------------------------------------------


def test_download_with_another_digest_is_refused_and_not_cached(
    csv_lines, monkeypatch, tmp_path
):
    """Valid data whose bytes differ (LF line ends) is still not a known copy."""
    resaved = SHARED_CSV.read_bytes().replace(b"\r\n", b"\n")
    serve(monkeypatch, zip_holding(tmp_path / "resaved.zip", {CSV_NAME: resaved}))
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
    tampered = "\r\n".join(replace_value(csv_lines, 30, "pm2.5", "99").split("\n"))
    assert tampered.encode() != original
    serve(monkeypatch, zip_holding(tmp_path / "t.zip", {CSV_NAME: tampered}))
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match="SHA-256"):
        load_beijing_pm25(folder)
    assert list(folder.iterdir()) == []


def test_download_with_a_final_line_break_is_accepted(beijing, monkeypatch, tmp_path):
    content = SHARED_CSV.read_bytes() + b"\r\n"
    serve(monkeypatch, zip_holding(tmp_path / "uci.zip", {CSV_NAME: content}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_frame(load_beijing_pm25(tmp_path / "cache"), beijing)
    assert (tmp_path / "cache" / CSV_NAME).read_bytes() == content


def test_archive_checksum_is_checked_when_known(served_zip, monkeypatch, tmp_path):
    monkeypatch.setattr(_beijing_download, "ARCHIVE_SHA256", "0" * 64)
    serve(monkeypatch, served_zip)
    folder = tmp_path / "cache"
    with pytest.raises(ValueError, match="archive's SHA-256") as error:
        load_beijing_pm25(folder)
    assert _beijing_download.sha256_of(served_zip) in str(error.value)
    assert list(folder.iterdir()) == []
    monkeypatch.setattr(
        _beijing_download, "ARCHIVE_SHA256", _beijing_download.sha256_of(served_zip)
    )
    assert len(load_beijing_pm25(folder)) == N_HOURS


# --- interrupted downloads -----------------------------------------------------


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
    serve(monkeypatch, served_zip)
    load_beijing_pm25(folder)
    assert len(seen) == 1 and CSV_NAME not in seen[0]
    assert [path.name for path in folder.iterdir()] == [CSV_NAME]
