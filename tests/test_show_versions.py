"""sklstm.show_versions(): the report a bug needs."""

import numpy as np
import pytest

import sklstm
from sklstm import LSTMRegressor
from sklstm._lstm._backend import NUMPY_BACKEND
from sklstm._lstm._engines import compiled_engine_available, host_engine


def test_show_versions_reports_the_build_the_engine_and_the_versions(capsys):
    sklstm.show_versions()
    out = capsys.readouterr().out
    for title in ("System:", "sklstm:", "Python dependencies:", "GPU:"):
        assert title in out
    assert f"version: {sklstm.__version__}" in out
    assert f"numpy: {np.__version__}" in out
    if compiled_engine_available():
        from sklstm._lstm import _fast_lstm

        info = _fast_lstm.build_info()
        assert f"C path: {info['c_path']}" in out
        assert "OpenMP: yes" in out if info["openmp"] else "built serial" in out
        # The engine a fit uses now: SKLSTM_ENGINE=numpy may override the build.
        assert f"engine: {host_engine(NUMPY_BACKEND).name}" in out
    else:
        assert "compiled engine: not built" in out
        assert "engine: numpy" in out


def test_without_the_extension_it_says_so_and_names_the_numpy_engine(
    monkeypatch, capsys
):
    import sklstm._lstm._engines as engines
    import sklstm._show_versions as report

    monkeypatch.setattr(engines, "_fast_lstm", None)
    monkeypatch.setattr(report, "compiled_engine_available", lambda: False)
    monkeypatch.delenv("SKLSTM_ENGINE", raising=False)
    sklstm.show_versions()
    out = capsys.readouterr().out
    assert "compiled engine: not built" in out
    assert "runs on its NumPy engine" in out
    assert "engine: numpy" in out


@pytest.mark.parametrize("choice", ["numpy", "auto"])
def test_the_engine_that_trained_a_model_is_recorded(monkeypatch, choice):
    monkeypatch.setenv("SKLSTM_ENGINE", choice)
    X = np.random.RandomState(0).standard_normal((30, 4, 2))
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=1).fit(X, X[:, -1, 0])
    expected = (
        "compiled" if choice == "auto" and compiled_engine_available() else "numpy"
    )
    assert model.engine_ == expected
