"""ONNX export of SequenceWindower with known-ahead columns, alone and in pipelines."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMRegressor, SequenceWindower

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
from sklstm.onnx import to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LEAD = 3


def run_onnx(onx, rows):
    onnx.checker.check_model(onx, full_check=True)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: rows})[0]


@pytest.fixture(scope="module")
def table():
    """300 rows of 3 columns, none 0 (zero padding must show)."""
    rng = np.random.default_rng(0)
    return (rng.standard_normal((300, 3)).cumsum(axis=0) / 10 + 5).astype(np.float32)


def with_future_rows(X, n_observed, n_future, past_only):
    rows = X[: n_observed + n_future].copy()
    rows[n_observed:, past_only] = np.nan
    return rows


@pytest.mark.parametrize("padding", ["edge", "zero"])
@pytest.mark.parametrize("flatten", [False, True])
@pytest.mark.parametrize("known", [[1], [0, 2], [0, 1, 2]])
def test_graph_equals_transform(table, padding, flatten, known):
    windower = SequenceWindower(
        window=4, padding=padding, flatten=flatten, known_ahead=known, lead=LEAD
    ).fit(table)
    onx = to_onnx(windower, table[:1])
    past_only = [c for c in range(3) if c not in known]
    tables = [table[:n] for n in (1, 2, 5, 300)]
    if past_only:  # future rows can be told apart only by past-only NaN
        tables += [
            with_future_rows(table, n, n_future, past_only)
            for n in (1, 6, 200)
            for n_future in (LEAD, LEAD + 2)
        ]
    for rows in tables:
        # Windowing only copies values (and adds the flag's 1 to 0): equal.
        np.testing.assert_array_equal(run_onnx(onx, rows), windower.transform(rows))


@pytest.mark.parametrize("flatten", [False, True])
def test_what_transform_refuses_comes_out_nan(table, flatten):
    windower = SequenceWindower(
        window=4, flatten=flatten, known_ahead=[1], lead=LEAD
    ).fit(table)
    onx = to_onnx(windower, table[:1])
    too_few = with_future_rows(table, 20, LEAD - 1, [0, 2])
    with pytest.raises(ValueError, match="future row"):
        windower.transform(too_few)
    assert np.isnan(run_onnx(onx, too_few)).all()
    missing = with_future_rows(table, 20, LEAD, [0, 2])
    missing[21, 1] = np.nan  # a known-ahead value the last two windows read
    with pytest.raises(ValueError, match="Known-ahead column 'x1'"):
        windower.transform(missing)
    windows = run_onnx(onx, missing)
    assert np.isnan(windows[-2:]).all()
    assert not np.isnan(windows[:-2]).any()


@pytest.mark.parametrize("flatten", [False, True])
def test_pipeline_forecast_from_the_last_hour_matches_predict(table, flatten):
    rng = np.random.default_rng(1)
    y = table[:, 0] + rng.standard_normal(len(table)).astype(np.float32)
    final = Ridge() if flatten else LSTMRegressor(
        hidden_layer_sizes=5, max_iter=2, random_state=0, n_threads=1
    )  # fmt: skip
    model = make_pipeline(
        StandardScaler(),
        SequenceWindower(window=6, known_ahead=[1, 2], lead=LEAD, flatten=flatten),
        final,
    ).fit(table[:250], y[:250])
    onx = to_onnx(model, table[:1])
    for rows in (table[:7], table, with_future_rows(table, 280, LEAD, [0])):
        y_onnx = run_onnx(onx, rows).reshape(-1)
        y_pred = model.predict(rows)
        assert y_onnx.shape == y_pred.shape
        np.testing.assert_allclose(y_onnx, y_pred, rtol=1e-4, atol=1e-4)
