"""Shared fixtures and test-session set-up."""

import os
from pathlib import Path

# scikit-learn's array API check (part of check_estimator) runs only when
# SciPy's array API support is on, which must be set before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
