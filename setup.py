"""Build the compiled engine where the C compiler allows it; degrade elsewhere.

Everything but the extension is in pyproject.toml. ``pip install`` always
succeeds; what it builds is decided by test compiles with the compiler in
use, as scikit-learn's build decides on OpenMP:

1. the engine with OpenMP, which runs threads;
2. a serial engine, where no OpenMP runtime is found (clang without libomp,
   Apple's clang before ``brew install libomp``): one line says so, and
   ``SKLSTM_FAIL_NO_OPENMP=1`` makes it an error instead;
3. no extension, where nothing compiles (no working C compiler): one line
   says so, and sklstm runs on its NumPy engine.

``pip`` shows these lines with ``-v``; ``sklstm.show_versions()`` tells
afterwards which one an install got. The engine's C (``sklstm/_lstm/*.h``)
uses a compiler extension only where a test compile shows the compiler has
it, with a plain C99 path beside it; ``SKLSTM_PLAIN_C=1`` forces that path.
The extension is compiled for the baseline of the target (no -march=native).
"""

import contextlib
import os
import subprocess
import sys
import tempfile

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

_BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)

# Flags of compilers with a GCC-style command line, each kept only if the
# compiler accepts it. -fno-wrapv: Python's own flags include -fwrapv, which
# stops GCC from vectorising loops with signed counters; -fno-math-errno and
# -fno-trapping-math let it inline exp and turn the clamps of the float32 exp
# into vector min/max (NaN still propagates); -ffp-contract=off keeps a
# multiply and an add two roundings, as the reference computes them (the
# kernels' FMA builds fuse them where they say so, with fmaf). No
# fast-math: it would change the results and, in a shared library, the
# floating-point mode of the whole process.
_GCC_STYLE_FLAGS = [
    "-O3",
    "-fno-wrapv",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-ffp-contract=off",
]

# (compile flags, link flags) that may enable OpenMP, tried in order.
_OPENMP_FLAGS = {
    "msvc": [(["/openmp"], [])],
    "default": [
        (["-fopenmp"], ["-fopenmp"]),
        # Apple's clang with Homebrew's libomp (CPPFLAGS and LDFLAGS pointing
        # at it, as `brew info libomp` says).
        (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),
    ],
}

_EMPTY = "int main(void) { return 0; }\n"

_OPENMP_PROBE = """
#include <omp.h>
int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
"""

# Each compiler feature that _gate_loops.h can use: its macro and a program
# that needs it, run where running it is what shows the support (an ifunc
# needs the loader too).
_FEATURE_PROBES = {
    "SKLSTM_HAVE_VECTOR_EXT": (
        """
        typedef float v8 __attribute__((vector_size(32), aligned(4)));
        int main(void) {
            v8 a = {1, 2, 3, 4, 5, 6, 7, 8};
            v8 b = a * a + (v8){0};
            return (int)b[1] - 4;
        }
        """,
        False,
    ),
    # The vectors go by pointer, as in the kernels: clang refuses a vector
    # argument between functions of different targets (it changes the ABI).
    "SKLSTM_HAVE_FMA_DISPATCH": (
        """
        #include <immintrin.h>
        typedef float v8 __attribute__((vector_size(32), aligned(4)));
        __attribute__((target("avx2,fma"))) static void f(float *x) {
            v8 v = *(v8 *)x;
            *(v8 *)x = (v8)_mm256_fmadd_ps((__m256)v, (__m256)v, (__m256)v);
        }
        int main(void) {
            float x[8] = {0};
            __builtin_cpu_init();
            if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
                f(x);
            return (int)x[0];
        }
        """,
        False,
    ),
    "SKLSTM_HAVE_AVX512_DISPATCH": (
        """
        #include <immintrin.h>
        typedef float v16 __attribute__((vector_size(64), aligned(4)));
        __attribute__((target("avx512f,avx2,fma"))) static void f(float *x) {
            v16 v = *(v16 *)x;
            *(v16 *)x = (v16)_mm512_fmadd_ps((__m512)v, (__m512)v, (__m512)v);
        }
        int main(void) {
            float x[16] = {0};
            __builtin_cpu_init();
            if (__builtin_cpu_supports("avx512f"))
                f(x);
            return (int)x[0];
        }
        """,
        False,
    ),
    "SKLSTM_HAVE_TARGET_CLONES": (
        """
        __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
        static int twice(int x) { return 2 * x; }
        int main(void) { return twice(1) == 2 ? 0 : 1; }
        """,
        True,
    ),
}


def _say(message):
    print(f"sklstm build: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _silenced():
    """Send the compiler's own output (of a probe) to nowhere."""
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as devnull:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _probe(compiler, source, compile_args=(), link_args=(), run=False):
    """Whether ``source`` compiles and links (and runs, if asked)."""
    with tempfile.TemporaryDirectory() as folder, _silenced():
        here = os.getcwd()
        os.chdir(folder)
        try:
            with open("probe.c", "w") as file:
                file.write(source)
            objects = compiler.compile(["probe.c"], extra_postargs=list(compile_args))
            # Linked as the extension will be: LDFLAGS too (sanitizers, -L).
            link_args = [*os.environ.get("LDFLAGS", "").split(), *link_args]
            compiler.link_executable(objects, "probe", extra_postargs=link_args)
            if run:
                program = os.path.join(folder, compiler.executable_filename("probe"))
                subprocess.run([program], check=True, timeout=60)
        except (*_BUILD_ERRORS, subprocess.SubprocessError):
            return False
        finally:
            os.chdir(here)
    return True


class BuildEngine(build_ext):
    """build_ext that configures the engine by test compiles, and that
    leaves it out, rather than failing the install, where it cannot build."""

    def run(self):
        try:
            super().run()
        except _BUILD_ERRORS as error:  # e.g. no compiler found at all
            self._give_up(error)

    def build_extensions(self):
        built = []
        for extension in self.extensions:
            try:
                self._configure(extension)
                self.build_extension(extension)
                built.append(extension)
            except _BUILD_ERRORS as error:
                self._give_up(error)
        # What was not built is not installed (nor copied, in place).
        self.extensions = built

    def _give_up(self, error):
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else error
        _say(
            f"the compiled engine could not be built ({type(error).__name__}: "
            f"{reason}); sklstm will run on its NumPy engine. Install a C "
            "compiler and reinstall to get the compiled engine."
        )
        self.extensions = []

    def _configure(self, extension):
        compiler = self.compiler
        flags = []
        if compiler.compiler_type == "msvc":
            flags = ["/O2"]
        else:
            flags = [
                flag for flag in _GCC_STYLE_FLAGS if _probe(compiler, _EMPTY, [flag])
            ]
        if not _probe(compiler, _EMPTY, flags):
            raise CCompilerError(
                f"the C compiler {compiler.compiler_type!r} does not build a "
                "test program"
            )
        extension.extra_compile_args += flags

        if os.environ.get("SKLSTM_PLAIN_C", "0") not in ("", "0"):
            extension.define_macros.append(("SKLSTM_PLAIN_C", "1"))
            _say("SKLSTM_PLAIN_C is set: the plain C path, no compiler extensions.")
        else:
            for macro, (source, run) in _FEATURE_PROBES.items():
                if _probe(compiler, source, flags, run=run):
                    extension.define_macros.append((macro, "1"))

        if os.environ.get("SKLSTM_PHASE_TIMERS", "0") not in ("", "0"):
            # bench_lstm.py's phase breakdown; no timers in other builds.
            extension.define_macros.append(("SKLSTM_PHASE_TIMERS", "1"))
            _say("SKLSTM_PHASE_TIMERS is set: the phase timers are built in.")

        openmp = self._openmp_flags(compiler, flags)
        if openmp is None:
            message = (
                "no OpenMP found for this C compiler: the compiled engine is "
                "built serial (one thread). To get threads, install an OpenMP "
                "runtime (Debian/Ubuntu: libomp-dev for clang; macOS: `brew "
                'install libomp`, then export CPPFLAGS="-Xpreprocessor '
                '-fopenmp -I$(brew --prefix libomp)/include" LDFLAGS="-L$(brew '
                '--prefix libomp)/lib -lomp") and reinstall.'
            )
            if os.environ.get("SKLSTM_FAIL_NO_OPENMP", "0") not in ("", "0"):
                raise SystemExit(
                    f"sklstm build: {message} SKLSTM_FAIL_NO_OPENMP is set."
                )
            _say(message)
        else:
            extension.extra_compile_args += openmp[0]
            extension.extra_link_args += openmp[1]

    @staticmethod
    def _openmp_flags(compiler, flags):
        key = "msvc" if compiler.compiler_type == "msvc" else "default"
        for compile_args, link_args in _OPENMP_FLAGS[key]:
            if _probe(compiler, _OPENMP_PROBE, flags + compile_args, link_args):
                return compile_args, link_args
        return None


# The compiled engine: one extension, its parts included by the .pyx (see its
# docstring) and the C headers it includes.
_ENGINE_PARTS = [
    "sklstm/_lstm/_build_info.pxi",
    "sklstm/_lstm/_kernels.pxi",
    "sklstm/_lstm/_phase_timers.pxi",
    "sklstm/_lstm/_predict.pxi",
    "sklstm/_lstm/_thread_policy.pxi",
    "sklstm/_lstm/_engine_constants.h",
    "sklstm/_lstm/_gate_loops.h",
    "sklstm/_lstm/_gemm.h",
    "sklstm/_lstm/_wgrad.h",
]

extension = Extension(
    "sklstm._lstm._fast_lstm",
    sources=["sklstm/_lstm/_fast_lstm.pyx"],
    depends=_ENGINE_PARTS,
    include_dirs=["sklstm/_lstm"],
)

setup(
    ext_modules=cythonize([extension], language_level=3),
    cmdclass={"build_ext": BuildEngine},
)
