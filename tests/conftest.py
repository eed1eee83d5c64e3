"""Shared fixtures and test-session set-up."""

import contextlib
import os
from pathlib import Path

# scikit-learn's array API check (part of check_estimator) runs only when
# SciPy's array API support is on, which must be set before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

from sklstm._lstm._backend import NUMPY_BACKEND
from sklstm._lstm._engines import ArrayEngine, CompiledEngine, compiled_engine_available

# Tests and CI read the Beijing PM2.5 data from ../shared/data beside the
# project root; it is never committed.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CSV_NAME = "PRSA_data_2010.1.1-2014.12.31.csv"
SHARED_CSV = SHARED_DATA / CSV_NAME


def require_shared_csv():
    """Skip the calling test when the shared copy of the data is missing."""
    if not SHARED_CSV.is_file():
        pytest.skip(
            f"the Beijing PM2.5 CSV is not at {SHARED_CSV}; the tests and CI "
            "read it from ../shared/data next to the project root"
        )


@contextlib.contextmanager
def shared_data_env():
    """Point SKLSTM_DATA_HOME at the shared data while the block runs."""
    require_shared_csv()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKLSTM_DATA_HOME", str(SHARED_DATA))
        yield SHARED_DATA


@pytest.fixture
def shared_data_home():
    """SKLSTM_DATA_HOME set to the shared copy of the data set."""
    with shared_data_env() as folder:
        yield folder


@pytest.fixture(autouse=True)
def threads_split_small_networks():
    """Let the compiled engine share even the tests' small networks among
    threads: by default a thread gets at least about 20 microseconds of
    products, so these would run on one thread, and the checks that results
    do not depend on the thread count would compare one thread with itself.
    ``test_threads.py``'s default-policy tests put the floor back."""
    if not compiled_engine_available():
        yield
        return
    from sklstm._lstm import _fast_lstm

    previous = _fast_lstm.set_min_thread_flops(0)
    yield
    _fast_lstm.set_min_thread_flops(previous)


@pytest.fixture(scope="session")
def frame():
    """The Beijing study's gap-filled data set, loaded once (do not modify
    it); skips without the shared copy of the data."""
    from ._beijing import study_frame

    return study_frame()


@pytest.fixture
def rng():
    """A seeded NumPy random generator."""
    return np.random.default_rng(0)


@pytest.fixture
def sine_series():
    """A noisy sine wave with a one-step-ahead target: ``(X, y)``."""
    generator = np.random.default_rng(42)
    t = np.arange(700, dtype=float)
    signal = np.sin(t / 6) + 0.5 * np.sin(t / 17)
    X = (signal + 0.02 * generator.standard_normal(t.size))[:, None]
    y = np.roll(signal, -1)
    return X[:-1], y[:-1]


#: The engines whose maths the tests check: the NumPy reference and the
#: compiled one, on one thread and on several.
ENGINES = {
    "numpy": lambda: ArrayEngine(NUMPY_BACKEND),
    "compiled-1-thread": lambda: CompiledEngine(n_threads=1),
    "compiled-3-threads": lambda: CompiledEngine(n_threads=3),
}


#: Why a compiled-engine test skips on an install without the extension.
COMPILED_MISSING = (
    "the compiled extension is not built (the install fell back to the NumPy "
    "engine; sklstm.show_versions() says why)"
)


@pytest.fixture(
    params=[
        # Three threads on few cores wait for each other on every small call:
        # seconds per gradient check; one thread of each engine stays fast.
        pytest.param(name, marks=pytest.mark.slow) if "threads" in name else name
        for name in ENGINES
    ]
)
def engine(request):
    """Each engine of :data:`ENGINES` in turn."""
    if request.param.startswith("compiled") and not compiled_engine_available():
        pytest.skip(COMPILED_MISSING)
    return ENGINES[request.param]()


def use_host_engine(monkeypatch, name):
    """Make estimators train on the CPU engine ``name`` ("compiled" or
    "numpy") through SKLSTM_ENGINE; skip without the compiled extension."""
    if name == "compiled" and not compiled_engine_available():
        pytest.skip(COMPILED_MISSING)
    monkeypatch.setenv("SKLSTM_ENGINE", name)


@pytest.fixture(params=["compiled", "numpy"])
def host_engine_name(request, monkeypatch):
    """Each CPU engine in turn, set for the estimators by SKLSTM_ENGINE."""
    use_host_engine(monkeypatch, request.param)
    return request.param
