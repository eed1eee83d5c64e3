"""ONNX export of LSTMClassifier: labels and probabilities as predict gives."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMClassifier, SequenceWindower

onnxruntime = pytest.importorskip("onnxruntime")
sklstm_onnx = pytest.importorskip("sklstm.onnx")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _run(onx, X):
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"X": X.astype(np.float32)})


def _sequences(n_samples=150, steps=6, n_features=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_samples, steps, n_features)).astype(np.float32)


LABELS = {
    "multiclass int": lambda X: np.digitize(X[:, :, 0].sum(1), [-1, 1]) * 10 - 5,
    "multiclass str": lambda X: np.array(["lo", "mid", "hi"])[
        np.digitize(X[:, :, 0].sum(1), [-1, 1])
    ],
    "binary int": lambda X: (X[:, :, 1].sum(1) > 0).astype(int),
    "binary str": lambda X: np.where(X[:, :, 1].sum(1) > 0, "yes", "no"),
}


@pytest.mark.parametrize("labels", LABELS)
@pytest.mark.parametrize("hidden_layer_sizes", [4, (6, 3)])
def test_labels_and_probabilities_equal_predict(labels, hidden_layer_sizes):
    X = _sequences()
    y = LABELS[labels](X)
    model = LSTMClassifier(
        hidden_layer_sizes=hidden_layer_sizes, max_iter=20, random_state=0
    ).fit(X, y)
    onx = sklstm_onnx.to_onnx(model, X[:1], options={"zipmap": False})
    label, proba = _run(onx, X)
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))
    assert proba.dtype == np.float32 and proba.shape == (len(X), len(model.classes_))


def test_zipmap_gives_a_dict_per_sample():
    X = _sequences()
    y = LABELS["multiclass str"](X)
    model = LSTMClassifier(hidden_layer_sizes=4, max_iter=5, random_state=0).fit(X, y)
    label, proba = _run(sklstm_onnx.to_onnx(model, X[:1]), X)
    expected = model.predict_proba(X)
    assert [set(row) for row in proba] == [set(model.classes_)] * len(X)
    for row, values in zip(proba, expected, strict=True):
        np.testing.assert_allclose([row[c] for c in model.classes_], values, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))


def test_a_pipeline_from_rows():
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((300, 3))
    y = (np.convolve(rows[:, 0], np.ones(5), mode="full")[:300] > 0).astype(int)
    pipe = make_pipeline(
        StandardScaler(),
        SequenceWindower(window=5),
        LSTMClassifier(hidden_layer_sizes=4, max_iter=10, random_state=0),
    ).fit(rows, y)
    onx = sklstm_onnx.to_onnx(pipe, rows[:1], options={"zipmap": False})
    label, proba = _run(onx, rows)
    np.testing.assert_allclose(proba, pipe.predict_proba(rows), atol=1e-5)
    np.testing.assert_array_equal(label, pipe.predict(rows))


def test_multilabel_and_float_labels_are_refused_with_a_reason():
    X = _sequences()
    Y = np.column_stack([X[:, 0, 0] > 0, X[:, 0, 1] > 0]).astype(int)
    multilabel = LSTMClassifier(hidden_layer_sizes=2, max_iter=1).fit(X, Y)
    with pytest.raises(NotImplementedError, match="multilabel"):
        sklstm_onnx.to_onnx(multilabel, X[:1])
    floats = LSTMClassifier(hidden_layer_sizes=2, max_iter=1).fit(
        X, (X[:, 0, 0] > 0) * 2.0
    )
    with pytest.raises(NotImplementedError, match="LabelEncoder"):
        sklstm_onnx.to_onnx(floats, X[:1])


# --- label options and label types -------------------------------------------


@pytest.mark.parametrize("labels", ["multiclass str", "binary str", "multiclass int"])
@pytest.mark.parametrize("zipmap", [True, False])
def test_nocl_gives_class_indices_as_skl2onnx_does(labels, zipmap):
    # skl2onnx's nocl=True: no class labels in the graph; the label output is
    # the index of the class in classes_ (int64), the ZipMap keys too.
    X = _sequences()
    y = LABELS[labels](X)
    model = LSTMClassifier(hidden_layer_sizes=3, max_iter=5, random_state=0).fit(X, y)
    onx = sklstm_onnx.to_onnx(model, X[:1], options={"nocl": True, "zipmap": zipmap})
    stored = {
        value
        for initializer in onx.graph.initializer
        for value in initializer.string_data
    }
    assert not stored & {str(label).encode() for label in model.classes_}
    label, proba = _run(onx, X)
    expected = np.searchsorted(model.classes_, model.predict(X))
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, expected)
    if zipmap:
        assert [set(row) for row in proba] == [set(range(len(model.classes_)))] * len(X)


def _uint64_model(X, labels):
    y = np.asarray(labels, dtype=np.uint64)[(X[:, :, 0].sum(1) > 0).astype(int)]
    return LSTMClassifier(hidden_layer_sizes=3, max_iter=5, random_state=0).fit(X, y)


def test_uint64_labels_above_int64_max_come_out_exact():
    X = _sequences()
    model = _uint64_model(X, [2**63 + 5, 2**64 - 1])
    label, proba = _run(sklstm_onnx.to_onnx(model, X[:1], options={"zipmap": False}), X)
    assert label.dtype == np.uint64
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    label, _ = _run(sklstm_onnx.to_onnx(model, X[:1], options={"nocl": True}), X)
    np.testing.assert_array_equal(
        label, np.searchsorted(model.classes_, model.predict(X))
    )


@pytest.mark.parametrize("zipmap", [True, "columns"])
def test_uint64_labels_above_int64_max_refuse_zipmap_naming_the_fix(zipmap):
    X = _sequences()
    model = _uint64_model(X, [7, 2**63])
    with pytest.raises(ValueError, match=r"int64 maximum.*\"zipmap\": False"):
        sklstm_onnx.to_onnx(model, X[:1], options={"zipmap": zipmap})


def test_uint64_labels_within_int64_pass_through_zipmap():
    X = _sequences()
    model = _uint64_model(X, [3, 2**62])
    label, proba = _run(sklstm_onnx.to_onnx(model, X[:1]), X)
    np.testing.assert_array_equal(label, model.predict(X).astype(np.int64))
    assert [set(row) for row in proba] == [{3, 2**62}] * len(X)
