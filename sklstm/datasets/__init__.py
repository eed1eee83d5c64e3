"""Data sets for examples, tests and benchmarks."""

from ._beijing import get_data_home, load_beijing_pm25

__all__ = ["get_data_home", "load_beijing_pm25"]
