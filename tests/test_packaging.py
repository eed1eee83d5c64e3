"""Tests for the packaging: the optional extras and the install lines."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sklstm import LSTMRegressor

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
CUDA_EXTRAS = {"gpu-cuda12": "cupy-cuda12x", "gpu-cuda13": "cupy-cuda13x"}


@pytest.fixture(scope="module")
def extras():
    """``[project.optional-dependencies]`` of pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["optional-dependencies"]


def _names(requirements):
    return [re.match(r"[A-Za-z0-9._-]+", line).group() for line in requirements]


@pytest.mark.parametrize("extra, package", CUDA_EXTRAS.items())
def test_one_gpu_extra_per_cuda_major_version(extras, extra, package):
    assert extras[extra] == [f"{package}>=13"]


def test_gpu_is_the_cuda12_extra_under_its_older_name(extras):
    assert extras["gpu"] == extras["gpu-cuda12"]


def test_the_plot_extra_brings_matplotlib(extras):
    assert _names(extras["plot"]) == ["matplotlib"]


def test_missing_cupy_error_names_both_cuda_extras(monkeypatch, extras):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails
    model = LSTMRegressor(backend="cupy", max_iter=1)
    with pytest.raises(ImportError) as error:
        model.fit(np.ones((4, 2, 1)), np.arange(4.0))
    message = str(error.value)
    for extra in CUDA_EXTRAS:
        assert f'pip install "sklstm[{extra}]"' in message
    # Every extra the message names exists.
    named = re.findall(r"sklstm\[([^\]]+)\]", message)
    assert set(named) <= set(extras)


@pytest.mark.parametrize("page", ["README.md", "docs/gpu.rst", "docs/index.rst"])
def test_pages_give_one_install_line_per_cuda_version(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    for extra, version in [("gpu-cuda12", "CUDA 12"), ("gpu-cuda13", "CUDA 13")]:
        assert any(
            line.startswith("pip install") and f"[{extra}]" in line and version in line
            for line in lines
        ), f"{page} has no install line of [{extra}] for {version}"
