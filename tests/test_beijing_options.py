"""The ``sklstm-beijing`` command fails before the work, not after: bad
options, an output folder it cannot write, an unreachable scheduler; and it
writes all its outputs or none."""

import sys
from pathlib import Path

import pytest

from sklstm.beijing import _cli, _outputs, main
from sklstm.beijing._input_sets import DEFAULT_INPUTS, INPUT_SETS
from sklstm.beijing._options import build_parser, settings_from
from sklstm.beijing._outputs import PLOT_PNG, TABLE_CSV, TABLE_MD

from ._beijing import (
    FAST,
)


@pytest.fixture
def no_study(monkeypatch):
    """Fail the test if ``main`` starts the study."""

    def refuse(*args, **kwargs):
        raise AssertionError("the study started")

    monkeypatch.setattr(_cli, "run_study", refuse)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--inputs", "univariate,univariate"], "--inputs: each value may be"),
        (["--horizons", "1,1"], "--horizons: each value may be given once"),
        (["--seeds", "0,0"], "--seeds: each value may be given once"),
        (["--folds", "2013,2013"], "--folds: each value may be given once"),
        (["--folds", "2011"], "--folds: test years must be among 2012, 2013 and 2014"),
        (["--inputs", "univariate,weather"], "unknown input set"),
        (["--window", "100000"], "--window: expected an integer in [1, 720]"),
        (["--window", "0"], "--window: expected an integer in [1, 720]"),
        (["--window", "-3"], "--window: expected an integer in [1, 720]"),
        (["--horizons", "100000"], "--horizons: expected integers from 1 to 168"),
        (["--hidden", "1000000000"], "--hidden: expected an integer in [1, 1024]"),
        (["--learning-rate", "nan"], "--learning-rate: expected a number in (0, 10]"),
        (["--learning-rate", "0"], "--learning-rate: expected a number in (0, 10]"),
        (["--tol", "nan"], "--tol: expected a number in [0, 1]"),
        (["--tol", "inf"], "--tol: expected a number in [0, 1]"),
        (["--dropout", "1"], "--dropout: expected a number in [0, 1)"),
        (["--dropout", "-0.5"], "--dropout: expected a number in [0, 1)"),
        (["--intervals", "nan"], "--intervals: expected a coverage in (0, 1)"),
        (["--window", "12", "--skip-steps", "13"],
         "--skip-steps must be from 0 to the window (12)"),
    ],
)  # fmt: skip
def test_cli_rejects_bad_options_in_one_line_before_the_work(
    argv, message, capsys, tmp_path, no_study
):
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(out)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("sklstm-beijing: error:")
    assert message in error
    assert not out.exists()  # no folder left behind


def test_cli_rejects_an_output_path_that_is_a_file(capsys, tmp_path, no_study):
    file = tmp_path / "taken"
    file.write_text("not a folder")
    for out, message in [
        (file, "is a file, not a folder"),
        (file / "inside", "taken is a file, not a folder"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["--out", str(out)])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
    assert file.read_text() == "not a folder"


def test_cli_rejects_an_output_folder_it_cannot_write(
    capsys, tmp_path, no_study, monkeypatch
):
    """A read-only folder (simulated: root may write anywhere) is refused
    before the study starts."""
    real = _outputs.tempfile.TemporaryFile

    def read_only(*args, dir=None, **kwargs):
        if Path(dir) == tmp_path:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(_outputs.tempfile, "TemporaryFile", read_only)
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "results")])
    assert exit_info.value.code == 2
    assert f"cannot write in {tmp_path} (Permission denied)" in capsys.readouterr().err


@pytest.mark.slow
def test_a_scheduler_that_cannot_be_reached_fails_before_the_work(
    capsys, tmp_path, no_study
):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main(["--scheduler", "tcp://127.0.0.1:9", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot connect" in capsys.readouterr().err
    assert not out.exists()


def test_a_scheduler_address_that_is_not_one_fails_before_the_work(
    capsys, tmp_path, no_study
):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main(["--scheduler", "notaurl", "--out", str(out)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("sklstm-beijing: error: --scheduler notaurl: not a Dask")
    assert "tcp://" in error  # what an address looks like
    assert not out.exists()


@pytest.fixture
def no_cupy(monkeypatch):
    """CuPy not installed, whatever this machine has."""
    monkeypatch.setitem(sys.modules, "cupy", None)


def test_backend_cupy_without_cupy_fails_before_the_work(
    capsys, tmp_path, no_study, no_cupy
):
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main(["--backend", "cupy", "--out", str(out)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("sklstm-beijing: error: --backend cupy:")
    assert "needs CuPy, which is not installed. Install it" in error
    assert not out.exists()


@pytest.mark.slow
def test_backend_cupy_on_workers_without_cupy_fails_before_the_work(
    capsys, tmp_path, no_study, no_cupy
):
    """With --scheduler the fits run on the workers: they are asked."""
    distributed = pytest.importorskip("dask.distributed")
    # A worker in this process: it sees the CuPy this test hides.
    with distributed.LocalCluster(
        n_workers=1, processes=False, dashboard_address=None
    ) as cluster:
        argv = ["--backend", "cupy", "--scheduler", cluster.scheduler_address]
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, "--out", str(tmp_path / "results")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("sklstm-beijing: error: --backend cupy on worker")
    assert "needs CuPy" in error


def test_outputs_are_all_written_or_none(shared_data_home, tmp_path, monkeypatch):
    """A failure while writing (here, in the second plot) leaves nothing:
    not the tables already written, not the folder; a later run without
    plots removes the plots of an earlier one."""
    out = tmp_path / "results"
    argv = [*FAST, "--folds", "2014", "--inputs", "univariate", "--horizons", "1",
            "--quiet", "--out", str(out)]  # fmt: skip

    def broken_plot(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(_outputs, "plot_skill", broken_plot)
    with pytest.raises(RuntimeError, match="disk full"):
        main(argv)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder either

    monkeypatch.undo()
    out.mkdir()
    (out / PLOT_PNG).write_bytes(b"stale")
    (out / "notes.txt").write_text("mine")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(argv) == 0
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [TABLE_CSV, TABLE_MD, "notes.txt"]
    )


@pytest.mark.parametrize(
    ("argv", "inputs"),
    [
        ([], DEFAULT_INPUTS),
        (["--inputs", "all"], tuple(INPUT_SETS)),
        (["--inputs", "weather-ahead,univariate"], ("weather-ahead", "univariate")),
    ],
)
def test_the_default_runs_the_deployable_input_sets(argv, inputs):
    parser = build_parser()
    settings = settings_from(parser.parse_args(argv), parser)
    assert settings.inputs == inputs
    assert not any(INPUT_SETS[name].perfect_forecast for name in DEFAULT_INPUTS)
