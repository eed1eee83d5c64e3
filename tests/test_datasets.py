"""Tests for sklstm.datasets: the Beijing PM2.5 data as loaded, the data
folder, and the local copies it refuses or warns about."""

# The fixtures shared with the other datasets tests are imported from
# tests/_datasets.py; the tests name them as arguments.
# ruff: noqa: F811

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest

from sklstm.datasets import _beijing_download, get_data_home, load_beijing_pm25
from sklstm.exceptions import DataChecksumWarning

from ._datasets import (
    DAMAGES,
    N_HOURS,
    assert_same_frame,
    beijing,  # noqa: F401 (a fixture)
    csv_lines,  # noqa: F401 (a fixture)
    no_download,  # noqa: F401 (a fixture)
    offline,  # noqa: F401 (a fixture)
    replace_value,
    write,
)
from .conftest import (
    CSV_NAME,
    SHARED_CSV,
    SHARED_DATA,
    require_shared_csv,
)

COLUMNS = ["pollution", "dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain"]


# --- the data as loaded --------------------------------------------------------


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


# --- the data folder -----------------------------------------------------------


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


# --- damaged local copies ------------------------------------------------------


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_local_file_is_reported_and_kept(damage, csv_lines, offline, tmp_path):
    make, problem = damage
    content = make(csv_lines)
    path = tmp_path / CSV_NAME
    write(path, content)
    with pytest.raises(ValueError, match=problem) as error:
        load_beijing_pm25(tmp_path)
    message = str(error.value)
    assert str(path) in message
    assert "Delete it" in message and _beijing_download.ARCHIVE_URL in message
    # The file may be the user's own copy: it is reported, never deleted.
    assert [p.name for p in tmp_path.iterdir()] == [CSV_NAME]


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
    (tmp_path / CSV_NAME).write_text(replace_value(csv_lines, 700, column, value))
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


# --- checksums of local copies -------------------------------------------------


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
    assert_same_frame(data, beijing)
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
