"""Build the compiled engine; everything else is in pyproject.toml.

The extension is compiled for the baseline of the target platform: no
``-march=native``. Its gate loops carry their own runtime dispatch to AVX2
and AVX-512 (see ``sklstm/_gate_loops.h``).
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

if sys.platform == "win32":
    compile_args, link_args = ["/O2", "/openmp"], []
elif sys.platform == "darwin":
    # Apple clang needs libomp: brew install libomp.
    compile_args, link_args = ["-O3", "-Xpreprocessor", "-fopenmp"], ["-lomp"]
else:
    # -fno-wrapv: Python's own flags include -fwrapv, which stops GCC from
    # vectorising loops with signed counters; -fno-math-errno and
    # -fno-trapping-math let GCC inline exp and turn the clamps of the float32
    # exp into vector min/max (NaN still propagates). No fast-math: it would
    # change the results and, in a shared library, the floating-point mode of
    # the whole process.
    compile_args = [
        "-O3", "-fopenmp", "-fno-wrapv", "-fno-math-errno", "-fno-trapping-math",
        "-ffp-contract=off",
    ]
    link_args = ["-fopenmp"]

extension = Extension(
    "sklstm._fast_lstm",
    sources=["sklstm/_fast_lstm.pyx"],
    depends=["sklstm/_gate_loops.h"],
    include_dirs=["sklstm"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([extension], language_level=3))
