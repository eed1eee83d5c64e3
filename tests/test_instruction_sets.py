"""The compiled kernels' instruction sets (``_gemm.h``, ``_gate_loops.h``):
each keeps the activations within a bound of float64, the AVX2 and AVX-512
builds give the same bits, and ``SKLSTM_MAX_ISA`` caps the set or says
clearly what it accepts.

The set is chosen once, when the extension loads, so each case runs in a
fresh interpreter with ``SKLSTM_MAX_ISA`` set; a case asking for a set that
this CPU (or this build) lacks skips.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sklstm
from sklstm._lstm._engines import compiled_engine_available

pytestmark = pytest.mark.skipif(
    not compiled_engine_available(), reason="the compiled extension is not built"
)

if compiled_engine_available():
    from sklstm._lstm._fast_lstm import ISA_NAMES, MAX_ISA_ENV
else:  # the names the module would give, for collection
    ISA_NAMES, MAX_ISA_ENV = ("base", "avx2", "avx512"), "SKLSTM_MAX_ISA"

EPS32 = float(np.finfo(np.float32).eps)

# Pre-activations on a grid through the saturation of float32's exp (|z| up
# to 90) and a dense normal sample where the gates are used, run as one step
# of a layer whose input weights are the identity: the gates read z exactly.
_GATES_SCRIPT = """
import sys
import numpy as np
from sklstm._lstm import _fast_lstm

H = 64
four = 4 * H
grid = np.linspace(-90, 90, 2**18 + 1, dtype=np.float32)
sample = (4 * np.random.default_rng(0).standard_normal(2**18)).astype(np.float32)
z = np.concatenate([grid, sample])
z = np.concatenate([z, np.zeros(-len(z) % four, np.float32)]).reshape(1, -1, four)
batch = z.shape[1]
gates = np.empty((1, batch, four), np.float32)
cell = np.empty((2, batch, H), np.float32)
hidden = np.empty((2, batch, H), np.float32)
tanh_cell = np.empty((1, batch, H), np.float32)
_fast_lstm.layer_forward(
    z, np.eye(four, dtype=np.float32), np.zeros((four, H), np.float32),
    np.zeros(four, np.float32), gates, cell, tanh_cell, hidden, 1)
np.savez(sys.argv[1], isa=_fast_lstm.build_info()["isa"], z=z[0], gates=gates[0],
         cell=cell[1], tanh_cell=tanh_cell[0], hidden=hidden[1])
"""

# A small fit and its predictions, in float32 and float64.
_FIT_SCRIPT = """
import sys
import warnings
import numpy as np
from sklstm import LSTMRegressor
from sklstm._lstm import _fast_lstm

rng = np.random.default_rng(0)
X = rng.standard_normal((300, 12, 3))
y = X[:, -3:, 0].sum(axis=1) + 0.1 * rng.standard_normal(300)
out = {"isa": _fast_lstm.build_info()["isa"]}
for dtype in ("float32", "float64"):
    model = LSTMRegressor(hidden_layer_sizes=(20, 18), max_iter=3, batch_size=32,
                          dtype=dtype, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    out[dtype] = model.predict(X)
np.savez(sys.argv[1], **out)
"""


def _run_with_isa(name, script, path):
    """Run ``script`` (writing ``path``) under ``SKLSTM_MAX_ISA=name``, on
    the compiled engine whatever ``SKLSTM_ENGINE`` the tests run under."""
    env = {
        **os.environ,
        MAX_ISA_ENV: name,
        "SKLSTM_ENGINE": "compiled",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(sklstm.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    return subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        env=env,
    )


def _results_with_isa(name, script, tmp_path):
    """The arrays ``script`` saved under ``SKLSTM_MAX_ISA=name``; skip where
    this CPU or build runs a lower set."""
    path = tmp_path / f"{name}.npz"
    result = _run_with_isa(name, script, path)
    assert result.returncode == 0, result.stderr
    arrays = dict(np.load(path))
    if str(arrays["isa"]) != name:
        pytest.skip(f"this CPU or build runs {arrays['isa']}, not {name}")
    return arrays


@pytest.mark.parametrize("name", ISA_NAMES)
def test_each_instruction_set_keeps_the_activations_within_two_epsilons(name, tmp_path):
    run = _results_with_isa(name, _GATES_SCRIPT, tmp_path)
    z = run["z"].astype(np.float64).reshape(-1, 4, 64)
    gates = run["gates"].astype(np.float64).reshape(-1, 4, 64)
    sigmoid = 1 / (1 + np.exp(-z))
    exact = np.stack(
        [sigmoid[:, 0], sigmoid[:, 1], np.tanh(z[:, 2]), sigmoid[:, 3]], axis=1
    )
    # Measured on an AVX-512 Xeon: 1.50 eps absolute, 1.24 eps relative for
    # the sigmoid, on every set.
    assert np.abs(gates - exact).max() <= 2 * EPS32
    sigmoids = gates[:, [0, 1, 3]]
    exact_sigmoids = exact[:, [0, 1, 3]]
    normal = np.abs(z[:, [0, 1, 3]]) <= 80  # the sigmoid is a normal float32
    relative = np.abs(sigmoids - exact_sigmoids)[normal] / exact_sigmoids[normal]
    assert relative.max() <= 2 * EPS32
    # The states built on them, each from the float32 values it reads.
    in_gate, candidate, out_gate = gates[:, 0], gates[:, 2], gates[:, 3]
    cell = in_gate * candidate  # the previous cell state is zero
    np.testing.assert_allclose(run["cell"], cell, rtol=EPS32, atol=0)
    tanh_cell = run["tanh_cell"].astype(np.float64)
    assert (
        np.abs(tanh_cell - np.tanh(run["cell"].astype(np.float64))).max() <= 2 * EPS32
    )
    np.testing.assert_allclose(run["hidden"], out_gate * tanh_cell, rtol=EPS32, atol=0)
    # The grid reaches saturation and the sample the steep middle: the bound
    # was asked where it is hard to keep.
    assert gates.min() == 0.0 or gates.min() < 1e-30
    assert np.abs(z).max() > 87 and (np.abs(z) < 1).mean() > 0.05


def test_the_avx512_kernels_give_the_avx2_kernels_bits(tmp_path):
    # Both perform each element's operations in the same order with the same
    # fused multiply-adds; only the width of the vectors differs.
    wide = _results_with_isa("avx512", _FIT_SCRIPT, tmp_path)
    narrow = _results_with_isa("avx2", _FIT_SCRIPT, tmp_path)
    for dtype in ("float32", "float64"):
        np.testing.assert_array_equal(wide[dtype], narrow[dtype])
    gates_wide = _results_with_isa("avx512", _GATES_SCRIPT, tmp_path)
    gates_narrow = _results_with_isa("avx2", _GATES_SCRIPT, tmp_path)
    for key in ("gates", "cell", "tanh_cell", "hidden"):
        np.testing.assert_array_equal(gates_wide[key], gates_narrow[key])


def test_the_baseline_and_the_fma_kernels_agree_within_rounding(tmp_path):
    base = _results_with_isa("base", _FIT_SCRIPT, tmp_path)
    fused = _results_with_isa("avx2", _FIT_SCRIPT, tmp_path)
    np.testing.assert_allclose(
        base["float64"], fused["float64"], rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(base["float32"], fused["float32"], rtol=1e-4, atol=1e-4)
    # One rounding fewer per fused operation: the float32 fits differ.
    assert not np.array_equal(base["float32"], fused["float32"])


def test_an_unknown_instruction_set_is_refused_with_the_names_it_takes(tmp_path):
    result = _run_with_isa("sse9", "import sklstm._lstm._fast_lstm", tmp_path / "x")
    assert result.returncode != 0
    assert "ValueError" in result.stderr
    assert f"{MAX_ISA_ENV}='sse9'" in result.stderr
    assert all(name in result.stderr for name in ISA_NAMES)


def test_the_build_information_names_the_capped_set(tmp_path):
    script = (
        "import sys; from sklstm._lstm import _fast_lstm; "
        "info = _fast_lstm.build_info(); print(info['isa'], info['fma'])"
    )
    result = _run_with_isa("base", script, tmp_path / "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["base", "False"]
