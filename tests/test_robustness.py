"""The engines under fork, interrupts, concurrent threads and extreme inputs.

Each case ends in a correct result or a clear Python exception, never a
hang, a crash or a silent NaN; the NumPy and compiled engines agree.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from functools import partial

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from sklstm import LSTMRegressor
from sklstm._lstm._engines import compiled_engine_available

from ._helpers import sequences
from ._reference import reference_network_output
from .conftest import COMPILED_MISSING

needs_compiled = pytest.mark.skipif(
    not compiled_engine_available(), reason=COMPILED_MISSING
)


#: Noiseless sequences of 6 steps and 3 features.
_data = partial(
    sequences,
    n_samples=200,
    steps=6,
    target=lambda X: X[:, -1, 0] - 0.5 * X[:, -2, 1],
    noise=0,
)


def _blas_limits():
    return sorted(
        (pool["filepath"], pool["num_threads"])
        for pool in threadpool_info()
        if pool["user_api"] == "blas"
    )


def _run_python(code, timeout=120, engine=None):
    """Run ``code`` in a fresh interpreter; return its completed process.

    ``engine`` sets SKLSTM_ENGINE there (by default it inherits this one's).
    """
    env = dict(os.environ)
    if engine is not None:
        env["SKLSTM_ENGINE"] = engine
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_concurrent_fits_and_predicts_leave_the_thread_pools_as_found(host_engine_name):
    X, y = _data()
    fitted = LSTMRegressor(hidden_layer_sizes=4, max_iter=2, random_state=0).fit(X, y)
    before = _blas_limits()
    errors = []

    def fit():
        try:
            LSTMRegressor(hidden_layer_sizes=4, max_iter=3, random_state=0).fit(X, y)
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)

    def predict():
        try:
            for _ in range(2):
                fitted.predict(X)
        except Exception as error:
            errors.append(error)

    workers = [threading.Thread(target=fit) for _ in range(3)]
    workers += [threading.Thread(target=predict) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert _blas_limits() == before


@needs_compiled
@pytest.mark.slow
def test_a_fork_started_child_fits_and_predicts_after_the_parent_used_threads():
    # Before: after one compiled fit in the parent, the child waited forever
    # in GNU OpenMP's GOMP_parallel (its thread pool does not survive fork).
    result = _run_python(
        """
        import multiprocessing
        import numpy as np
        from sklstm import LSTMRegressor

        X = np.random.RandomState(0).standard_normal((500, 6, 3))
        y = X[:, -1, 0]
        model = LSTMRegressor(hidden_layer_sizes=8, max_iter=1, n_threads=2,
                              random_state=0).fit(X, y)
        expected = model.predict(X)

        def child(queue):
            again = LSTMRegressor(hidden_layer_sizes=8, max_iter=1, n_threads=2,
                                  random_state=0).fit(X, y)
            queue.put((model.predict(X), again.predict(X)))

        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        process = context.Process(target=child, args=(queue,))
        process.start()
        predicted, refitted = queue.get(timeout=60)
        process.join(10)
        assert process.exitcode == 0, process.exitcode
        # The same model on one thread in the child: the same numbers.
        assert np.array_equal(predicted, expected)
        assert np.array_equal(refitted, expected)
        print("child OK")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "child OK" in result.stdout


@needs_compiled
@pytest.mark.slow
def test_threads_that_cannot_start_are_a_python_exception():
    # An address-space limit leaves no room for 200 more thread stacks:
    # GNU OpenMP would end the process ("Thread creation failed").
    result = _run_python(
        """
        import resource
        import numpy as np
        from sklstm import LSTMRegressor

        X = np.random.RandomState(0).standard_normal((1300, 4, 2))
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) for line in status
                        if line.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + 300 * 2**20, -1))
        try:
            LSTMRegressor(hidden_layer_sizes=4, max_iter=1,
                          n_threads=200).fit(X, X[:, -1, 0])
        except RuntimeError as error:
            print("RuntimeError:", error)
        """,
        engine="compiled",  # the compiled engine's OpenMP threads
    )
    assert result.returncode == 0, result.stderr
    assert "RuntimeError: n_threads=200" in result.stdout
    assert "Use fewer threads" in result.stdout


@needs_compiled
def test_a_thread_gets_enough_work_by_default():
    from sklstm._lstm._fast_lstm import (
        MIN_THREAD_FLOPS,
        block_count,
        set_min_thread_flops,
    )

    set_min_thread_flops(MIN_THREAD_FLOPS)
    # Batches of 16 sequences of 7 steps (24 inputs, 32 units): 2x slower on
    # two threads than on one, measured; one thread.
    assert block_count(2, 16, steps=7, n_inputs=24, size=32) == 1
    # 200 sequences of 12 steps (2 inputs, 16 units), and the benchmark's
    # W64 batch: two threads.
    assert block_count(2, 200, steps=12, n_inputs=2, size=16) == 2
    assert block_count(2, 128, steps=24, n_inputs=8, size=64) == 2
    X, y = _data(n_samples=64)
    params = dict(hidden_layer_sizes=5, max_iter=2, random_state=0)
    two = LSTMRegressor(n_threads=2, **params).fit(X, y)
    one = LSTMRegressor(n_threads=1, **params).fit(X, y)
    np.testing.assert_array_equal(two.predict(X), one.predict(X))


@needs_compiled
def test_more_threads_than_work_gives_the_same_model():
    from sklstm._lstm._fast_lstm import block_count

    # A thread gets at least the GEMM's 6-row block.
    shape = dict(steps=4, n_inputs=3, size=5)
    assert block_count(1000, 256, **shape) == 43
    assert block_count(1000, 5, **shape) == 1
    assert block_count(2, 1000, **shape) == 2
    X, y = _data(n_samples=256)
    params = dict(hidden_layer_sizes=5, max_iter=2, random_state=0)
    many = LSTMRegressor(n_threads=1000, **params).fit(X, y)
    one = LSTMRegressor(n_threads=1, **params).fit(X, y)
    np.testing.assert_array_equal(many.predict(X), one.predict(X))


def test_ctrl_c_stops_a_long_predict_after_the_piece_it_is_in(
    host_engine_name, monkeypatch
):
    # A long predict runs in pieces of bounded work, one call each, and
    # Python sees Ctrl-C between calls: a Ctrl-C during the second piece
    # stops the predict before the third (no clock involved).
    X, y = _data(n_samples=300, steps=24, n_features=8)
    model = LSTMRegressor(hidden_layer_sizes=32, max_iter=1, random_state=0)
    model.fit(X, y)
    rows = np.repeat(X, 40, axis=0)  # 12,000 windows: many pieces
    import _thread

    from sklstm._lstm import _engines

    if host_engine_name == "compiled":
        module, name = _engines._fast_lstm, "last_hidden_states"
        rows_of = lambda args: len(args[0])  # noqa: E731 (samples-first X)
    else:
        module, name = _engines, "forward"
        rows_of = lambda args: args[1].shape[1]  # noqa: E731 (time-major X)
    original, pieces = getattr(module, name), []

    def interrupted_in_the_second_piece(*args, **kwargs):
        pieces.append(rows_of(args))
        if len(pieces) == 2:
            _thread.interrupt_main()  # as Ctrl-C, seen when the call returns
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupted_in_the_second_piece)
    # A test run started in the background by a shell without job control
    # ignores SIGINT, and then interrupt_main does nothing: Python's own
    # handler is put back for the test.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            model.predict(rows)
    finally:
        signal.signal(signal.SIGINT, ignored)
    assert len(pieces) == 2
    assert sum(pieces) < len(rows) / 2


@pytest.mark.parametrize("method", ["fit", "predict"])
def test_inputs_beyond_the_training_dtype_are_refused_by_every_engine(
    host_engine_name, method
):
    X, y = _data()
    huge = X.copy()
    huge[3, 2, 1] = 1e39  # finite in float64, inf in float32
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=1, random_state=0)
    with pytest.raises(ValueError, match=r"float32.*X holds 1e\+39.*dtype='float64'"):
        if method == "fit":
            model.fit(huge, y)
        else:
            model.fit(X, y).predict(huge)
    # float64 models take them, and compute with them: the saturated gates of
    # the equations, not a NaN or a clipped input.
    model.set_params(dtype="float64").fit(X, y)
    with np.errstate(over="ignore"):  # exp(1e39) in the reference's sigmoid
        expected = reference_network_output(
            model.layers_, model.head_weight_, model.head_bias_, huge
        )
    expected = (expected * model.target_scale_ + model.target_mean_).ravel()
    np.testing.assert_allclose(model.predict(huge), expected, rtol=0, atol=1e-10)
    assert np.abs(model.predict(huge) - model.predict(X))[3] > 1e-3


def test_huge_targets_scale_without_overflow(host_engine_name):
    X, y = _data()
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0)
    ordinary = model.fit(X, y).predict(X)
    # The squares of 1e200 overflow float64: before, an all-inf model.
    huge = model.fit(X, y * 1e200)
    np.testing.assert_allclose(huge.target_scale_, np.std(y) * 1e200, rtol=1e-12)
    np.testing.assert_allclose(huge.predict(X), ordinary * 1e200, rtol=1e-5)


def test_target_scaling_is_exactly_the_plain_formula_on_ordinary_targets():
    X, y = _data()
    y = 300 + 150 * y
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=1).fit(X, y)
    mean = np.average(y[:, None], axis=0)
    assert model.target_mean_ == mean
    assert model.target_scale_ == np.sqrt(np.average((y[:, None] - mean) ** 2, axis=0))


def test_unscaled_targets_beyond_float32_are_refused():
    X, y = _data()
    model = LSTMRegressor(max_iter=1, scale_target=False)
    with pytest.raises(ValueError, match=r"y holds .*scale_target=True"):
        model.fit(X, y * 1e40)


@needs_compiled
@pytest.mark.skipif(
    os.environ.get("SKLSTM_TEST_BIGMEM") != "1",
    reason="needs about 10 GiB of memory: set SKLSTM_TEST_BIGMEM=1 to run it",
)
def test_predict_past_2_to_the_31_values_in_a_chunk():
    # 120 rows x 18,000,000 features: more than 2**31 values in one chunk of
    # the compiled predict, whose offsets were C ints before (rc 139).
    n_rows, n_features = 120, 18_000_000
    train = np.zeros((2, 1, n_features), dtype=np.float32)
    train[1, 0, ::997] = 1.0
    model = LSTMRegressor(hidden_layer_sizes=1, max_iter=1, random_state=0)
    model.fit(train, np.array([0.0, 1.0]))
    X = np.zeros((n_rows, 1, n_features), dtype=np.float32)
    for row in range(n_rows):
        X[row, 0, row * 100_000 : row * 100_000 + 10_000] = 1.0
    predicted = model.predict(X)
    # Each row alone (offsets far below 2**31) gives the same bits.
    for row in (0, 60, 119):
        assert predicted[row] == model.predict(X[row : row + 1])[0]
    assert len(np.unique(predicted)) > 1
