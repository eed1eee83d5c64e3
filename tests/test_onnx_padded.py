"""ONNX export of NaN-padded sequences: the graph gives what predict gives.

Sequences of different lengths end in whole NaN steps (tslearn's
convention, docs/classification.rst); predict runs each on its real steps.
The graph must too: per-row lengths as the LSTM operator's
``sequence_lens``, every layer of a stack, the skip connection on the last
real steps; and a row that predict refuses comes out NaN.
"""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower

onnxruntime = pytest.importorskip("onnxruntime")
sklstm_onnx = pytest.importorskip("sklstm.onnx")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LONGEST, N_FEATURES = 9, 2
PARAMS = dict(max_iter=10, random_state=0, n_threads=1)


def session_of(onx):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the tests share the machine's cores
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def run(onx, X, session=None):
    """Every output of ``onx`` on float32 ``X`` in ONNX Runtime."""
    session = session_of(onx) if session is None else session
    return session.run(None, {"X": np.asarray(X, dtype=np.float32)})


def padded_sequences(n_samples=120, seed=0):
    """Sequences of 3 to LONGEST steps, NaN-padded, every length present."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, LONGEST, N_FEATURES)).astype(np.float32)
    lengths = np.resize(np.arange(3, LONGEST + 1), n_samples)
    rng.shuffle(lengths)
    for row, length in enumerate(lengths):
        X[row, length:] = np.nan
    return X, lengths


def targets(X, kind):
    total = np.nansum(X[:, :, 0], axis=1)
    if kind == "binary":
        return np.where(total > 0, "up", "down")
    if kind == "multiclass":
        return np.digitize(total, [-1.5, 1.5]) * 10 - 5
    spread = np.nanstd(X[:, :, 1], axis=1)
    y = np.column_stack([100 + 30 * np.tanh(total), 5 * spread])
    return y[:, 0] if kind == "regression 1-D" else y


def with_strong_skip(model, seed=0):
    """``model`` with skip weights far from their zero start, different for
    every step, feature and output (a few epochs leave them near 0)."""
    if model.skip_steps:
        shape = model.skip_weight_.shape
        rng = np.random.default_rng(seed)
        model.skip_weight_ = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
    return model


def assert_labels_match(labels, proba, expected_labels):
    """Labels equal predict's where the two best classes are not within
    float32 rounding of each other."""
    top_two = np.sort(proba, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-4
    np.testing.assert_array_equal(labels[clear], expected_labels[clear])


NETWORKS = {
    "one layer": dict(hidden_layer_sizes=4),
    "two layers": dict(hidden_layer_sizes=(5, 3)),
    "two layers, skip": dict(hidden_layer_sizes=(5, 3), skip_steps=3),
    "one layer, skip": dict(hidden_layer_sizes=4, skip_steps=2),
}


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_classifier_on_padded_sequences_gives_predict_proba(network, kind):
    X, _ = padded_sequences()
    model = LSTMClassifier(**NETWORKS[network], **PARAMS).fit(X, targets(X, kind))
    with_strong_skip(model)
    onx = sklstm_onnx.to_onnx(model, X[:1], options={"zipmap": False})
    labels, proba = run(onx, X)
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    assert_labels_match(labels, proba, model.predict(X))


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("kind", ["regression 1-D", "regression 2-D"])
def test_regressor_on_padded_sequences_gives_predict(network, kind):
    X, _ = padded_sequences()
    model = LSTMRegressor(**NETWORKS[network], **PARAMS).fit(X, targets(X, kind))
    with_strong_skip(model)
    (y_onnx,) = run(sklstm_onnx.to_onnx(model, X[:1]), X)
    y_pred = model.predict(X)
    assert y_onnx.shape == y_pred.shape
    # float32 rounding of the network's standardised output, in target units.
    atol = 1e-5 * float(np.max(model.target_scale_))
    np.testing.assert_allclose(y_onnx, y_pred, rtol=1e-5, atol=atol)


def test_each_row_is_read_at_its_own_length():
    """A row gives the same output padded in a batch as cut to its real steps
    alone, at every length: the lengths are computed per row."""
    X, lengths = padded_sequences(n_samples=40)
    model = LSTMRegressor(hidden_layer_sizes=(5, 3), skip_steps=2, **PARAMS)
    model = with_strong_skip(model.fit(X, targets(X, "regression 1-D")))
    onx = sklstm_onnx.to_onnx(model, X[:1])
    session = session_of(onx)
    (batch,) = run(onx, X, session)
    alone = [
        run(onx, X[row : row + 1, :length], session)[0][0]
        for row, length in enumerate(lengths)
    ]
    np.testing.assert_allclose(batch, alone, rtol=1e-5, atol=1e-5)


def test_padded_input_through_a_pipeline_and_an_old_opset():
    X, _ = padded_sequences()
    pipeline = Pipeline(
        [("lstm", LSTMClassifier(hidden_layer_sizes=(4, 3), skip_steps=2, **PARAMS))]
    ).fit(X, targets(X, "multiclass"))
    with_strong_skip(pipeline[-1])
    for opset in (11, 13, None):  # ReduceSum's axes: an attribute before 13
        onx = sklstm_onnx.to_onnx(
            pipeline, X[:1], target_opset=opset, options={"zipmap": False}
        )
        labels, proba = run(onx, X)
        np.testing.assert_allclose(proba, pipeline.predict_proba(X), atol=1e-5)
        assert_labels_match(labels, proba, pipeline.predict(X))


def _spoil(X, row, how):
    """Row ``row`` of ``X`` made one that predict refuses, in place."""
    if how == "NaN inside a step":
        X[row, 1, 0] = np.nan
    elif how == "NaN step before a real one":
        X[row, 0] = np.nan
    elif how == "NaN step between real ones":
        X[row, 1] = np.nan
    elif how == "NaN only":
        X[row] = np.nan
    elif how == "infinite value":
        X[row, 2, 1] = np.inf
    elif how == "shorter than skip_steps":
        X[row, 2:] = np.nan  # 2 real steps, skip_steps=3


REFUSED = (
    "NaN inside a step",
    "NaN step before a real one",
    "NaN step between real ones",
    "NaN only",
    "infinite value",
    "shorter than skip_steps",
)


@pytest.mark.parametrize("estimator", [LSTMRegressor, LSTMClassifier])
def test_rows_predict_refuses_come_out_nan(estimator):
    X, _ = padded_sequences()
    kind = "regression 2-D" if estimator is LSTMRegressor else "binary"
    model = estimator(hidden_layer_sizes=(4, 3), skip_steps=3, **PARAMS)
    model = with_strong_skip(model.fit(X, targets(X, kind)))
    predict = model.predict if estimator is LSTMRegressor else model.predict_proba
    spoilt = X.copy()
    rows = np.arange(len(REFUSED)) * 7
    for row, how in zip(rows, REFUSED, strict=True):
        _spoil(spoilt, row, how)
        with pytest.raises(ValueError):  # as predict does
            predict(spoilt[row : row + 1])
    outputs = run(sklstm_onnx.to_onnx(model, X[:1], options=_options(model)), spoilt)
    output = outputs[-1]  # the prediction, or the probabilities
    refused = np.isin(np.arange(len(X)), rows)
    assert np.isnan(output[refused]).all()
    kept = ~refused
    atol = 1e-5 * float(np.max(getattr(model, "target_scale_", 1.0)))
    np.testing.assert_allclose(output[kept], predict(X[kept]), rtol=1e-5, atol=atol)


def _options(model):
    return {"zipmap": False} if isinstance(model, LSTMClassifier) else None


def test_nan_row_into_a_model_fitted_on_rows_comes_out_nan():
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((60, 3))
    model = LSTMRegressor(hidden_layer_sizes=3, **PARAMS).fit(rows, rows[:, 0])
    spoilt = rows.copy()
    spoilt[[4, 9], [0, 1]] = np.nan
    spoilt[11] = np.nan
    (y_onnx,) = run(sklstm_onnx.to_onnx(model, rows[:1]), spoilt)
    refused = np.isnan(spoilt).any(axis=1)
    assert np.isnan(y_onnx[refused]).all()
    np.testing.assert_allclose(
        y_onnx[~refused], model.predict(rows[~refused]), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("padding", ["edge", "zero"])
@pytest.mark.parametrize("flatten", [False, True])
def test_windower_graph_makes_windows_holding_non_finite_values_nan(
    bad, padding, flatten
):
    """transform refuses NaN and inf; the graph gives each window holding
    one all NaN, so that a whole NaN row at a window's end is not read as
    padding downstream, and copies every other window exactly."""
    rows = np.random.default_rng(0).standard_normal((12, 2)).astype(np.float32)
    windower = SequenceWindower(window=3, padding=padding, flatten=flatten)
    onx = sklstm_onnx.to_onnx(windower.fit(rows), rows[:1])
    spoilt = rows.copy()
    spoilt[0, 1] = bad
    spoilt[6] = bad
    (windows,) = run(onx, spoilt)
    holding = np.isin(np.arange(12), [0, 1, 2, 6, 7, 8])
    assert np.isnan(windows[holding]).all()
    np.testing.assert_array_equal(windows[~holding], windower.transform(rows)[~holding])


def test_pipeline_from_rows_gives_nan_for_windows_holding_a_nan_row():
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((80, 2))
    pipeline = Pipeline(
        [
            ("windows", SequenceWindower(window=4)),
            ("lstm", LSTMRegressor(hidden_layer_sizes=3, **PARAMS)),
        ]
    ).fit(rows, rows[:, 0])
    spoilt = rows.copy()
    spoilt[30] = np.nan  # the last row of window 30, the first of window 33
    (y_onnx,) = run(sklstm_onnx.to_onnx(pipeline, rows[:1]), spoilt)
    holding = np.isin(np.arange(80), [30, 31, 32, 33])
    assert np.isnan(y_onnx[holding]).all()
    expected = pipeline.predict(rows)[~holding]
    np.testing.assert_allclose(y_onnx[~holding], expected, rtol=1e-5, atol=1e-5)
