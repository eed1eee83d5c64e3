"""The compiled engine's boundary facts, defined once in
``_engine_constants.h`` and read from the module, agree with the Python
side that uses them."""

import numpy as np
import pytest

from sklstm._lstm import _engines, _gates
from sklstm._lstm._engines import compiled_engine_available

pytestmark = pytest.mark.skipif(
    not compiled_engine_available(), reason="the compiled extension is not built"
)

if compiled_engine_available():
    from sklstm._lstm import _fast_lstm


def test_the_gate_count_is_the_reference_engine_s():
    assert _fast_lstm.N_GATES == _gates.N_GATES == len(_gates.GATE_NAMES)


def test_predict_chunks_are_whole_row_blocks_of_the_gemm():
    assert _engines._COMPILED_PREDICT_CHUNK % _fast_lstm.GEMM_ROWS == 0
    assert _engines._COMPILED_PREDICT_CHUNK > _fast_lstm.GEMM_ROWS


def test_threads_share_the_rows_by_row_blocks_of_the_gemm():
    rows = _fast_lstm.GEMM_ROWS
    for n_blocks in (1, 2, 3):
        assert _fast_lstm.block_count(8, n_blocks * rows, 10, 4, 32) == n_blocks
    assert _fast_lstm.block_count(8, rows - 1, 10, 4, 32) == 1


def test_panels_hold_two_vectors_of_32_bytes():
    assert _fast_lstm.PANEL_FLOAT * np.dtype(np.float32).itemsize == 64
    assert _fast_lstm.PANEL_DOUBLE * np.dtype(np.float64).itemsize == 64


def test_predict_keeps_the_gates_and_four_states_per_unit():
    # Two cell states by turns, the tanh of the cell state, the hidden state.
    assert _fast_lstm.PREDICT_VALUES == _fast_lstm.N_GATES + 4


def test_phase_timers_are_refused_where_not_built():
    if _fast_lstm.PHASE_TIMERS:
        pytest.skip("this build has the phase timers (SKLSTM_PHASE_TIMERS=1)")
    with pytest.raises(RuntimeError, match="SKLSTM_PHASE_TIMERS=1"):
        _fast_lstm.time_phases(True)
    _fast_lstm.time_phases(False)
    assert set(_fast_lstm.phase_seconds().values()) == {0.0}
