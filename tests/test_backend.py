"""Backend selection, and that CuPy is named in one module only."""

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import sklstm
from sklstm import LSTMRegressor
from sklstm._lstm._backend import NUMPY_BACKEND, resolve_backend


@pytest.fixture
def no_cupy(monkeypatch):
    """Make ``import cupy`` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "cupy", None)


@pytest.fixture
def cupy_without_device(monkeypatch):
    """A CuPy that imports but sees no CUDA device."""
    fake = types.ModuleType("cupy")
    runtime = types.SimpleNamespace(getDeviceCount=lambda: 0)
    fake.cuda = types.SimpleNamespace(runtime=runtime)
    monkeypatch.setitem(sys.modules, "cupy", fake)


def test_numpy_backend():
    backend = resolve_backend("numpy")
    assert backend is NUMPY_BACKEND and backend.xp is np
    array = np.arange(3.0)
    assert backend.to_numpy(array) is array


def test_auto_falls_back_to_numpy_without_cupy(no_cupy):
    assert resolve_backend("auto").name == "numpy"


def test_auto_falls_back_to_numpy_without_a_device(cupy_without_device):
    assert resolve_backend("auto").name == "numpy"


def test_auto_searches_for_cupy_once_per_process(monkeypatch):
    from sklstm._lstm import _backend

    searches = []

    def find_spec(name):
        searches.append(name)
        return None

    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    monkeypatch.setattr(_backend.importlib.util, "find_spec", find_spec)
    _backend._cupy_installed.cache_clear()
    try:
        for _ in range(3):
            assert resolve_backend("auto") is NUMPY_BACKEND
    finally:
        _backend._cupy_installed.cache_clear()
    assert searches == ["cupy"]


def test_cupy_missing_says_how_to_install(no_cupy):
    with pytest.raises(
        ImportError, match=re.escape('pip install "sklstm[gpu-cuda12]"')
    ):
        resolve_backend("cupy")


def test_cupy_without_device_says_so(cupy_without_device):
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_backend("cupy")


def test_the_error_comes_at_fit_not_at_construction(no_cupy):
    model = LSTMRegressor(backend="cupy", max_iter=1)  # no error here
    with pytest.raises(ImportError, match="sklstm\\[gpu-cuda12\\]"):
        model.fit(np.ones((4, 2, 1)), np.arange(4.0))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_records_the_backend_used(no_cupy):
    model = LSTMRegressor(backend="auto", max_iter=1, hidden_layer_sizes=2)
    assert model.fit(np.ones((4, 2, 1)), np.arange(4.0)).backend_ == "numpy"


def test_only_the_backend_module_imports_cupy():
    package = Path(sklstm.__file__).parent
    importing = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import cupy|from cupy)", path.read_text(), re.MULTILINE)
    )
    assert importing == ["_lstm/_backend.py"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_gpu_fitted_model_predicts_on_a_machine_without_cupy(no_cupy):
    X, y = np.random.default_rng(0).standard_normal((20, 3, 2)), np.arange(20.0)
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0).fit(X, y)
    expected = model.predict(X)
    model.backend_ = "cupy"  # as if fitted on a GPU: its weights are NumPy
    np.testing.assert_array_equal(model.predict(X), expected)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_device_weights_are_not_pickled():
    X, y = np.random.default_rng(0).standard_normal((20, 3, 2)), np.arange(20.0)
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=1, random_state=0).fit(X, y)
    assert model._device_weights is None  # NumPy backend: nothing to cache
    model._device_weights = object()  # stands for a CuPy array
    assert "_device_weights" not in model.__getstate__()
    assert "layers_" in model.__getstate__()
