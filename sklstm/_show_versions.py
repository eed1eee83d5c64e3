"""``sklstm.show_versions()``: what a bug report needs, as scikit-learn's."""

import importlib.metadata
import os
import platform
import sys

from ._lstm._backend import NUMPY_BACKEND, gpu_info
from ._lstm._engines import ENGINE_ENV, compiled_engine_available, host_engine

_DEPENDENCIES = ("numpy", "scipy", "scikit-learn", "pandas", "joblib", "threadpoolctl")


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _build_info():
    """How the compiled engine was built, or why there is none."""
    if not compiled_engine_available():
        return {
            "compiled engine": (
                "not built: this install could not compile it, so sklstm runs "
                "on its NumPy engine (reinstall with a C compiler for the "
                "compiled engine; `pip install -v` shows why)"
            )
        }
    from ._lstm import _fast_lstm

    info = _fast_lstm.build_info()
    if info["openmp"]:
        openmp = f"yes (OpenMP {info['openmp_version']})"
    else:
        openmp = (
            "no: built serial, one thread (install an OpenMP runtime and "
            "reinstall; README, 'Install')"
        )
    return {
        "compiled engine": "built",
        "compiler": info["compiler"],
        "OpenMP": openmp,
        "C path": info["c_path"],
        "target clones": "yes" if info["target_clones"] else "no",
        "kernels' instruction set": info["isa"],
    }


def _engine_info():
    """The engine a fit on the CPU uses now, and its threads."""
    try:
        engine = host_engine(NUMPY_BACKEND)
    except (ImportError, ValueError) as error:
        return {"engine": f"none: {error}"}
    info = {"engine": engine.name}
    choice = os.environ.get(ENGINE_ENV)
    if choice:
        info[ENGINE_ENV] = choice
    if engine.name == "compiled":
        info["threads"] = f"{engine.n_threads} (OpenMP; BLAS held to 1 meanwhile)"
    else:
        info["threads"] = "BLAS's, n_threads (None: 1)"
    return info


def _blas_info():
    from threadpoolctl import threadpool_info

    return {
        f"{pool['user_api']} {index}": (
            f"{pool['internal_api']} {pool.get('version')}, "
            f"{pool['num_threads']} threads, {pool['filepath']}"
        )
        for index, pool in enumerate(threadpool_info())
    }


def _sections():
    """Every section of the report: title -> {key: value}."""
    from . import __version__

    return {
        "System": {
            "python": sys.version.replace("\n", " "),
            "executable": sys.executable,
            "machine": platform.platform(),
        },
        "sklstm": {"version": __version__, **_build_info(), **_engine_info()},
        "Python dependencies": {name: _version(name) for name in _DEPENDENCIES},
        "Thread pools (threadpoolctl)": _blas_info(),
        "GPU": gpu_info(),
    }


def show_versions():
    """Print the platform, the build of the compiled engine and the versions.

    What to paste into a bug report: the system and Python; how the
    compiled engine was built (compiler, OpenMP or serial, the C path), or
    that it is not built and sklstm runs on its NumPy engine; the engine a
    fit uses now and its threads; NumPy, SciPy, scikit-learn and the other
    dependencies; the BLAS and OpenMP thread pools; CuPy and CUDA where
    present.

    Examples
    --------
    >>> import sklstm
    >>> sklstm.show_versions()  # doctest: +SKIP
    """
    for title, entries in _sections().items():
        print(f"\n{title}:")
        for key, value in entries.items():
            print(f"{key:>24}: {value}")
