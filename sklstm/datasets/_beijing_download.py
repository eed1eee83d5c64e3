"""Download of the Beijing PM2.5 data from UCI, and the SHA-256 checks of its
files (the download's, and a local copy's)."""

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from urllib.request import urlopen

from ._beijing_csv import FILE_NAME, read_beijing_csv

ARCHIVE_URL = "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip"
DATASET_PAGE_URL = "https://archive.ics.uci.edu/dataset/381/beijing+pm2+5+data"
_DOWNLOAD_TIMEOUT_S = 60

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


def where_to_get_it(folder):
    """The sentence that tells where to get the CSV and where to put it."""
    return (
        f"Download {ARCHIVE_URL} (dataset page: {DATASET_PAGE_URL}) and "
        f"extract {FILE_NAME} from it into {folder}."
    )


def sha256_of(path):
    """The SHA-256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_digests():
    """The known digests and their sources, for a message."""
    return " or ".join(
        f"{digest} ({what})" for digest, what in KNOWN_CSV_SHA256.items()
    )


def download_beijing_csv(folder, destination):
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
                f"{where_to_get_it(folder)}"
            ) from exc
        try:
            _check_archive(archive)
            extract_csv(archive, csv)
            data = _check_downloaded_csv(csv)
        except ValueError as exc:
            raise ValueError(
                f"The archive downloaded from {ARCHIVE_URL} does not hold a "
                f"valid {FILE_NAME}: {exc}. Nothing was saved in {folder}. "
                f"{where_to_get_it(folder)}"
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
    data = read_beijing_csv(csv)
    digest = sha256_of(csv)
    if digest not in KNOWN_CSV_SHA256:
        raise ValueError(
            f"its SHA-256 is {digest}, expected {known_digests()} (its "
            "content passes the checks, so UCI may have re-exported the "
            "file; a copy you put in the data folder yourself is loaded "
            "with a warning)"
        )
    return data


def extract_csv(archive, destination):
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
