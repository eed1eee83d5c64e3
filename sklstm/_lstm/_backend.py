"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU.

This is the one module that imports CuPy, and it does so lazily, only when a
user asks for the GPU. The rest of the package receives a :class:`Backend`:
its array module ``xp`` and its gate kernels. ``_engines.make_engine``
chooses the engine for a backend: on NumPy the compiled CPU engine where it
is built, else the NumPy reference engine; on CuPy the same reference code
with the backend's fused CUDA gate kernels.
"""

import functools
import importlib.util
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._gates import NumpyGateKernels, make_cupy_gate_kernels

GPU_INSTALL_HINT = (
    'pip install "sklstm[gpu-cuda12]" on CUDA 12 or '
    'pip install "sklstm[gpu-cuda13]" on CUDA 13'
)


@dataclass(frozen=True)
class Backend:
    """An array module and the gate kernels that run on it.

    Attributes
    ----------
    name : {"numpy", "cupy"}
        The backend's name, as stored in ``LSTMRegressor.backend_``.
    xp : module
        ``numpy`` or ``cupy``.
    gates : object
        The elementwise gate kernels for this array module (see ``_gates``).
    """

    name: str
    xp: Any
    gates: Any

    def asarray(self, array, dtype=None):
        """Move ``array`` onto this backend's device (no copy if already there)."""
        return self.xp.asarray(array, dtype=dtype)

    def to_numpy(self, array):
        """Return ``array`` as a NumPy array on the host."""
        if self.name == "cupy":
            return self.xp.asnumpy(array)
        return np.asarray(array)


NUMPY_BACKEND = Backend(name="numpy", xp=np, gates=NumpyGateKernels())


def _import_cupy():
    """Import CuPy, or raise an ImportError that says how to install it."""
    try:
        import cupy
    except ImportError as exc:
        raise ImportError(
            "backend='cupy' needs CuPy, which is not installed. Install it with "
            f"{GPU_INSTALL_HINT} (nvidia-smi shows the CUDA version), or the "
            "cupy wheel matching another CUDA version, or use backend='numpy'."
        ) from exc
    return cupy


def gpu_info():
    """CuPy's version and the CUDA runtime and devices it sees, as strings
    (for :func:`sklstm.show_versions`); never raises."""
    try:
        import cupy
    except ImportError:
        return {"cupy": "not installed"}
    info = {"cupy": cupy.__version__}
    try:
        info["CUDA runtime"] = str(cupy.cuda.runtime.runtimeGetVersion())
        info["CUDA devices"] = str(cupy.cuda.runtime.getDeviceCount())
    except Exception as error:  # no driver or no device: say so, don't fail
        info["CUDA"] = f"unavailable ({error})"
    return info


def _cuda_device_count(cupy):
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CUDA driver missing or broken: no usable device
        return 0


def _cupy_backend():
    cupy = _import_cupy()
    if _cuda_device_count(cupy) == 0:
        raise RuntimeError(
            "backend='cupy' needs a CUDA GPU, but CuPy found no CUDA device "
            "(check the NVIDIA driver and CUDA_VISIBLE_DEVICES), or use "
            "backend='numpy'."
        )
    return Backend(name="cupy", xp=cupy, gates=make_cupy_gate_kernels(cupy))


@functools.cache
def _cupy_installed():
    """Whether CuPy can be found on the import path. A failed import is not
    cached by Python and searches the whole path again (about 5 ms, much of
    a small fit's time in a grid search), so ``"auto"`` asks once per
    process; a CuPy installed after that is seen by a new process, or at
    once with ``backend="cupy"``."""
    return importlib.util.find_spec("cupy") is not None


def resolve_backend(name):
    """Return the :class:`Backend` for ``name``.

    Parameters
    ----------
    name : {"auto", "numpy", "cupy"}
        ``"auto"`` picks CuPy when it imports and sees a CUDA device, else
        NumPy.

    Returns
    -------
    backend : Backend

    Raises
    ------
    ImportError
        If ``name="cupy"`` and CuPy is not installed.
    RuntimeError
        If ``name="cupy"`` and no CUDA device is visible.
    """
    if name == "numpy":
        return NUMPY_BACKEND
    if name == "cupy":
        return _cupy_backend()
    if "cupy" not in sys.modules and not _cupy_installed():
        return NUMPY_BACKEND
    try:
        return _cupy_backend()
    except (ImportError, RuntimeError):
        return NUMPY_BACKEND
