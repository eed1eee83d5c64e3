"""sklstm.onnx: exported graphs give predict's output in ONNX Runtime."""

import copy
import importlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import VotingRegressor
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklstm import LSTMRegressor, SequenceWindower

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from sklstm.onnx import register_converters, to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Row counts of the inputs run through each graph: one row, fewer rows than
#: a window of 24, and thousands.
ROW_COUNTS = (1, 5, 2000)
#: Rows the models are fitted on, with one epoch: the weights only need to
#: be some trained weights, not good ones.
FIT_ROWS = 100
LSTM_PARAMS = dict(hidden_layer_sizes=7, max_iter=1, random_state=0, n_threads=1)


@pytest.fixture(scope="module")
def series():
    """2,000 time-ordered rows of 3 features and targets far from 0 and 1.

    The targets' mean (100) and spread (~30) make the folded target
    unscaling of the head matter.
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 3)).cumsum(axis=0) / 10
    y = 100 + 30 * np.sin(X[:, 0]) + rng.standard_normal(2000)
    return X, np.column_stack([y, 2 * y - 50])


def run_onnx(onx, inputs):
    """The first output of ``onx`` in ONNX Runtime, after checking the model."""
    onnx.checker.check_model(onx, full_check=True)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the tests share the machine's cores
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    if not isinstance(inputs, dict):
        inputs = {session.get_inputs()[0].name: inputs}
    return session.run(None, inputs)[0]


def assert_predictions_match(y_onnx, y_pred, lstm):
    """float32 agreement of ONNX Runtime with ``predict``.

    Both run the network in float32, ONNX Runtime with its own kernels, so
    their outputs differ by float32 rounding: about 1e-7 to 1e-6 of the
    network's (standardised) output. The target unscaling multiplies that
    absolute error by ``target_scale_`` (~30 here): hence ``rtol=1e-5``,
    and ``atol=1e-5 * target_scale_``, i.e. 1e-5 in the units the network
    computes in, for outputs near zero.
    """
    assert y_onnx.dtype == np.float32
    assert y_onnx.shape == y_pred.shape
    atol = 1e-5 * float(np.max(lstm.target_scale_))
    np.testing.assert_allclose(y_onnx, y_pred, rtol=1e-5, atol=atol)


def lstm_pipeline(window=24, padding="edge", **lstm_params):
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("windows", SequenceWindower(window=window, padding=padding)),
            ("lstm", LSTMRegressor(**{**LSTM_PARAMS, **lstm_params})),
        ]
    )


def fit_and_compare(pipeline, X, y, X_sample=None):
    """Fit, export, and compare on every row count."""
    pipeline.fit(X[:FIT_ROWS], y[:FIT_ROWS])
    onx = to_onnx(pipeline, X[:1] if X_sample is None else X_sample)
    for n_rows in ROW_COUNTS:
        y_onnx = run_onnx(onx, X[:n_rows].astype(np.float32))
        assert_predictions_match(y_onnx, pipeline.predict(X[:n_rows]), pipeline[-1])
    return onx


# --- the windower -------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 2, 24])
@pytest.mark.parametrize("padding", ["edge", "zero"])
@pytest.mark.parametrize("flatten", [False, True])
def test_windower_graph_equals_transform(series, window, padding, flatten):
    X = series[0] + 1  # no row of zeros: zero padding must show
    windower = SequenceWindower(window=window, padding=padding, flatten=flatten)
    onx = to_onnx(windower.fit(X), X[:1])
    for n_rows in (*ROW_COUNTS, window - 1, window, window + 1):
        if n_rows == 0:
            continue
        rows = X[:n_rows].astype(np.float32)
        # Windowing only copies values: equal, not close.
        np.testing.assert_array_equal(run_onnx(onx, rows), windower.transform(rows))


def test_windower_keeps_float64_inputs(series):
    X = series[0]
    windower = SequenceWindower(window=3).fit(X)
    onx = skl2onnx.to_onnx(windower, X[:1])  # a float64 sample: a double input
    windows = run_onnx(onx, X[:10])
    assert windows.dtype == np.float64
    np.testing.assert_array_equal(windows, windower.transform(X[:10]))


def test_flattened_lags_feed_a_ridge(series):
    X, y = series
    model = make_pipeline(
        StandardScaler(), SequenceWindower(window=6, flatten=True), Ridge()
    ).fit(X[:500], y[:500, 0])
    onx = to_onnx(model, X[:1])
    for n_rows in ROW_COUNTS:
        y_onnx = run_onnx(onx, X[:n_rows].astype(np.float32)).ravel()
        np.testing.assert_allclose(y_onnx, model.predict(X[:n_rows]), rtol=1e-5)


# --- the LSTM -----------------------------------------------------------------


@pytest.mark.parametrize("hidden_layer_sizes", [1, 7, 64, (7, 1), (64, 7)])
@pytest.mark.parametrize("y_ndim", [1, 2])
def test_pipeline_graph_equals_predict(series, hidden_layer_sizes, y_ndim):
    X, y = series
    y = y[:, 0] if y_ndim == 1 else y
    pipeline = lstm_pipeline(hidden_layer_sizes=hidden_layer_sizes)
    onx = fit_and_compare(pipeline, X, y)
    assert len([n for n in onx.graph.node if n.op_type == "LSTM"]) == len(
        np.atleast_1d(hidden_layer_sizes)
    )


@pytest.mark.parametrize("skip_steps", [1, 5, 24])
@pytest.mark.parametrize("y_ndim", [1, 2])
def test_skip_connection_graph_equals_predict(series, skip_steps, y_ndim):
    X, y = series
    y = y[:, 0] if y_ndim == 1 else y
    pipeline = lstm_pipeline(skip_steps=skip_steps).fit(X[:FIT_ROWS], y[:FIT_ROWS])
    lstm = pipeline[-1]
    # One epoch leaves the skip weights near their zero start: give them a
    # different value for every step, feature and output, adding about as
    # much to the (standardised) output as the LSTM's head does.
    rng = np.random.default_rng(skip_steps)
    shape = lstm.skip_weight_.shape
    lstm.skip_weight_ = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
    onx = to_onnx(pipeline, X[:1])
    assert "GatherElements" in {node.op_type for node in onx.graph.node}
    for n_rows in ROW_COUNTS:
        y_onnx = run_onnx(onx, X[:n_rows].astype(np.float32))
        assert_predictions_match(y_onnx, pipeline.predict(X[:n_rows]), lstm)


@pytest.mark.parametrize("window", [1, 24])
@pytest.mark.parametrize("padding", ["edge", "zero"])
def test_pipeline_windows_and_paddings(series, window, padding):
    X, y = series
    fit_and_compare(lstm_pipeline(window=window, padding=padding), X, y[:, 0])


def test_one_output_fitted_on_2d_y_stays_2d(series):
    X, y = series
    pipeline = lstm_pipeline()
    fit_and_compare(pipeline, X, y[:, :1])
    assert pipeline.predict(X[:3]).shape == (3, 1)


def test_float64_model_agrees_to_float32_precision(series):
    X, y = series
    pipeline = lstm_pipeline(dtype="float64").fit(X[:FIT_ROWS], y[:FIT_ROWS, 0])
    y_onnx = run_onnx(to_onnx(pipeline, X[:1]), X.astype(np.float32))
    assert_predictions_match(y_onnx, pipeline.predict(X), pipeline[-1])


def test_registered_converters_take_float64_samples(series):
    # The other way: import sklstm.onnx, then skl2onnx.to_onnx.
    X, y = series
    pipeline = lstm_pipeline().fit(X[:FIT_ROWS], y[:FIT_ROWS, 0])
    register_converters()
    onx = skl2onnx.to_onnx(pipeline, X[:1])
    assert onx.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert_predictions_match(run_onnx(onx, X), pipeline.predict(X), pipeline[-1])


def test_bare_regressor_reads_any_number_of_steps(series):
    X, y = series
    windows = SequenceWindower(window=24).fit_transform(X)
    lstm = LSTMRegressor(**{**LSTM_PARAMS, "hidden_layer_sizes": 5})
    lstm.fit(windows[:FIT_ROWS], y[:FIT_ROWS, 0])
    onx = to_onnx(lstm, windows[:1])
    for steps in (24, 12, 1):
        sequences = windows[:300, -steps:]
        y_onnx = run_onnx(onx, sequences.astype(np.float32))
        assert_predictions_match(y_onnx, lstm.predict(sequences), lstm)


def test_regressor_fitted_on_rows_reads_rows(series):
    X, y = series
    lstm = LSTMRegressor(**{**LSTM_PARAMS, "hidden_layer_sizes": 5})
    lstm.fit(X[:FIT_ROWS], y[:FIT_ROWS])
    y_onnx = run_onnx(to_onnx(lstm, X[:1]), X.astype(np.float32))
    assert_predictions_match(y_onnx, lstm.predict(X), lstm)


def test_two_lstms_in_one_graph(series):
    # ONNX Runtime skips the every-step output of each last layer when it is
    # unnamed; skl2onnx allows one unnamed output per graph, so the second
    # LSTM names it. Both must still give predict's output.
    X, y = series
    voting = VotingRegressor(
        [("a", lstm_pipeline()), ("b", lstm_pipeline(hidden_layer_sizes=(4, 3)))]
    ).fit(X[:FIT_ROWS], y[:FIT_ROWS, 0])
    onx = to_onnx(voting, X[:1])
    last_layers = [
        node for node in onx.graph.node if node.op_type == "LSTM" and node.output[1:]
    ]
    assert [node.output[0] == "" for node in last_layers] == [True, False]
    y_onnx = run_onnx(onx, X.astype(np.float32)).ravel()
    # The mean of two outputs, each within assert_predictions_match's bounds.
    atol = 1e-5 * voting.estimators_[0][-1].target_scale_[0]
    np.testing.assert_allclose(y_onnx, voting.predict(X), rtol=1e-5, atol=atol)


def test_gpu_fitted_model_exports_the_same_graph(series):
    # After fit(backend="cupy") the public weights are NumPy arrays (fit
    # copies them off the device), backend_ is "cupy", and a device copy of
    # the weights is kept for predict; the converter must read the NumPy ones.
    X, y = series
    pipeline = lstm_pipeline(hidden_layer_sizes=(7, 3)).fit(
        X[:FIT_ROWS], y[:FIT_ROWS, 0]
    )
    gpu_fitted = copy.deepcopy(pipeline)
    lstm = gpu_fitted[-1]
    lstm.backend_ = "cupy"
    lstm._device_weights = object()  # stands in for a CuPy array
    assert all(
        isinstance(array, np.ndarray)
        for layer in lstm.layers_
        for array in layer.values()
    )
    expected = to_onnx(pipeline, X[:1]).SerializeToString()
    assert to_onnx(gpu_fitted, X[:1]).SerializeToString() == expected


# --- front ends ---------------------------------------------------------------


def beijing_like_frame(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pollution": 80 + 40 * rng.random(n_rows),
            "temp": rng.normal(10, 8, n_rows),
            "wnd_dir": rng.choice(["NE", "NW", "SE", "cv"], n_rows),
        }
    )


@pytest.mark.parametrize("frozen", [False, True])
def test_column_transformer_front_end(frozen):
    frame = beijing_like_frame(400)
    y = frame["pollution"].shift(-1).bfill().to_numpy()
    columns = ColumnTransformer(
        [
            ("scale", StandardScaler(), ["pollution", "temp"]),
            ("wind", OneHotEncoder(sparse_output=False), ["wnd_dir"]),
        ]
    )
    if frozen:  # as sklstm.beijing fits its columns
        columns = FrozenEstimator(columns.fit(frame))
    pipeline = Pipeline(
        [
            ("columns", columns),
            ("windows", SequenceWindower(window=24)),
            ("lstm", LSTMRegressor(**LSTM_PARAMS)),
        ]
    ).fit(frame[:300], y[:300])
    onx = to_onnx(pipeline, frame[:1])
    assert [i.name for i in onx.graph.input] == ["pollution", "temp", "wnd_dir"]
    for n_rows in (1, 5, 400):
        rows = frame[:n_rows]
        inputs = {
            "pollution": rows[["pollution"]].to_numpy(np.float32),
            "temp": rows[["temp"]].to_numpy(np.float32),
            "wnd_dir": rows[["wnd_dir"]].to_numpy(object),
        }
        y_onnx = run_onnx(onx, inputs)
        assert_predictions_match(y_onnx, pipeline.predict(rows), pipeline[-1])


# --- what cannot be exported --------------------------------------------------


def test_unfitted_estimators_are_refused(series):
    X = series[0]
    with pytest.raises(NotFittedError):
        to_onnx(SequenceWindower(window=3), X[:1])
    with pytest.raises(NotFittedError):
        to_onnx(LSTMRegressor(), X[:1])
    windower = SequenceWindower(window=3).fit(X)
    with pytest.raises(NotFittedError):
        to_onnx(Pipeline([("w", windower), ("lstm", LSTMRegressor())]), X[:1])


def test_rows_into_a_model_fitted_on_windows_are_refused(series):
    X, y = series
    lstm = lstm_pipeline().fit(X[:FIT_ROWS], y[:FIT_ROWS, 0])[-1]
    with pytest.raises(ValueError, match="fitted on sequences of 24 time step"):
        to_onnx(lstm, X[:1])


def test_wrong_feature_count_is_refused(series):
    X, y = series
    pipeline = lstm_pipeline().fit(X[:FIT_ROWS], y[:FIT_ROWS, 0])
    with pytest.raises(ValueError, match="fitted on 3 features"):
        to_onnx(pipeline[1:], X[:1, :2])
    with pytest.raises(ValueError, match="fitted on 3 features"):
        to_onnx(pipeline[-1], np.zeros((1, 24, 4)))


def test_padding_changed_after_fit_is_refused(series):
    X = series[0]
    windower = SequenceWindower(window=3).fit(X)
    windower.padding = "reflect"
    with pytest.raises(ValueError, match="padding"):
        to_onnx(windower, X[:1])


def test_old_opsets_are_refused(series):
    X = series[0]
    windower = SequenceWindower(window=3).fit(X)
    with pytest.raises(ValueError, match="opset 11 or later"):
        to_onnx(windower, X[:1], target_opset=10)


def test_dataframe_straight_into_the_windower_is_refused():
    frame = beijing_like_frame(30)[["pollution", "temp"]]
    windower = SequenceWindower(window=3).fit(frame)
    with pytest.raises(ValueError, match="one input tensor"):
        to_onnx(windower, frame[:1])


@pytest.mark.parametrize(
    "X_sample, message",
    [
        (np.zeros(3), "2-D sample of rows"),
        (np.array([["a"]]), "must hold numbers"),
        (np.zeros((1, 2, 1)), "reads rows"),
    ],
)
def test_unusable_samples_are_refused(series, X_sample, message):
    windower = SequenceWindower(window=3).fit(series[0][:, :1])
    with pytest.raises(ValueError, match=message):
        to_onnx(windower, X_sample)


# --- imports ------------------------------------------------------------------


@pytest.mark.slow
def test_import_sklstm_leaves_onnx_alone():
    code = (
        "import sys, sklstm; "
        "assert not {'skl2onnx', 'onnx'} & set(sys.modules), 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_skl2onnx_names_the_extra(monkeypatch):
    monkeypatch.delitem(sys.modules, "sklstm.onnx")
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "sklstm\[onnx\]"'):
        importlib.import_module("sklstm.onnx")


# --- empty input ----------------------------------------------------------------

#: Runs each ONNX file named on the command line on an input of 0 rows, in
#: its own process: ONNX Runtime's LSTM aborts the process (SIGABRT) on a
#: batch of 0 sequences, which would kill pytest itself. Prints one shape
#: per model.
EMPTY_INPUT_RUNNER = """
import json, sys
import numpy as np, onnxruntime
shapes = []
for path in sys.argv[1:]:
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (given,) = session.get_inputs()
    dims = [0] + [d if isinstance(d, int) else 2 for d in given.shape[1:]]
    dtype = np.float64 if given.type == "tensor(double)" else np.float32
    (output,) = session.run(None, {given.name: np.zeros(dims, dtype)})
    shapes.append(list(output.shape))
print(json.dumps(shapes))
"""


def _empty_input_cases(series):
    """(name, fitted model, input sample, expected output shape for 0 rows)."""
    X, y = series
    rows, windows = X[:FIT_ROWS], SequenceWindower(window=4).fit_transform(X[:50])
    params = dict(LSTM_PARAMS, hidden_layer_sizes=(4, 3))
    return [
        ("pipeline", lstm_pipeline(**params).fit(rows, y[:FIT_ROWS, 0]), X[:1], [0]),
        (
            "pipeline, zero padding, two outputs, skip",
            lstm_pipeline(padding="zero", skip_steps=3, **params).fit(
                rows, y[:FIT_ROWS]
            ),
            X[:1],
            [0, 2],
        ),
        (
            "bare regressor",
            LSTMRegressor(**LSTM_PARAMS).fit(windows, y[:50, 0]),
            windows[:1],
            [0],
        ),
        (
            "regressor fitted on rows",
            LSTMRegressor(**LSTM_PARAMS).fit(rows, y[:FIT_ROWS, 0]),
            X[:1],
            [0],
        ),
        (
            "flattened windower",
            SequenceWindower(window=5, flatten=True).fit(rows),
            X[:1],
            [0, 15],
        ),
        ("windower", SequenceWindower(window=5).fit(rows), X[:1], [0, 5, 3]),
        ("windower, window 1", SequenceWindower(window=1).fit(rows), X[:1], [0, 1, 3]),
    ]


def test_empty_input_gives_empty_output_without_abort(series, tmp_path):
    cases = _empty_input_cases(series)
    paths = []
    for index, (_, model, X_sample, _) in enumerate(cases):
        paths.append(tmp_path / f"model{index}.onnx")
        paths[-1].write_bytes(to_onnx(model, X_sample).SerializeToString())
    run = subprocess.run(
        [sys.executable, "-c", EMPTY_INPUT_RUNNER, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # An abort shows as a negative return code (the signal), not as an error.
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    shapes = json.loads(run.stdout)
    expected = {name: shape for name, _, _, shape in cases}
    assert dict(zip(expected, shapes, strict=True)) == expected


def test_the_empty_input_guard_leaves_other_batches_alone(series):
    """One row and many rows still predict what predict does: the row of
    zeros that an empty batch gets never reaches a real batch's output."""
    X, y = series
    fit_and_compare(lstm_pipeline(hidden_layer_sizes=(4, 3), skip_steps=2), X, y)
