"""Saving and loading fitted estimators: skops files with a short trust list,
pickles, and the warning when a file comes from another sklstm version."""

import io
import json
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile
from functools import partial

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.exceptions import (
    InconsistentVersionWarning as SklearnInconsistentVersionWarning,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklstm
import sklstm._lstm._backend
from sklstm import LSTMRegressor, SequenceWindower
from sklstm._persistence import VERSION_KEY
from sklstm.exceptions import InconsistentVersionWarning

from ._helpers import difference_target, fitted_weights, sequences

sio = pytest.importorskip("skops.io")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: The trust list of docs/saving.rst: all a skops file of sklstm needs.
TRUSTED = ["sklstm._regressor.LSTMRegressor", "sklstm._windowing.SequenceWindower"]


def _rows(n_rows=120, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features)).cumsum(axis=0)
    y = 50 + 10 * np.sin(X[:, 0]) + rng.standard_normal(n_rows)
    return X, y


#: Noiseless sequences of 5 steps and 2 features.
_sequences = partial(
    sequences, n_samples=60, n_features=2, target=difference_target, noise=0
)


def _skops_round_trip(model, trusted=None):
    """The model dumped to skops bytes and loaded, with the bytes' untrusted types."""
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=trusted or untrusted), untrusted


@pytest.fixture(scope="module")
def pipeline():
    X, y = _rows()
    model = make_pipeline(
        StandardScaler(),
        SequenceWindower(window=6),
        LSTMRegressor(hidden_layer_sizes=(5, 3), max_iter=3, random_state=0),
    )
    return model.fit(X, y), X


def test_pipeline_round_trips_through_skops_with_the_trust_list(pipeline, tmp_path):
    model, X = pipeline
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    assert sio.get_untrusted_types(file=path) == TRUSTED
    loaded = sio.load(path, trusted=TRUSTED)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded is not model and loaded[-1] is not model[-1]


def test_skops_refuses_the_file_without_the_trust_list(pipeline):
    model, _ = pipeline
    data = sio.dumps(model)
    with pytest.raises(Exception, match="LSTMRegressor"):
        sio.loads(data, trusted=[])


def test_pipeline_fitted_on_a_dataframe_needs_no_other_type():
    pd = pytest.importorskip("pandas")
    X, y = _rows()
    frame = pd.DataFrame(X, columns=["dew", "temp", "press"])
    model = make_pipeline(
        MinMaxScaler(),
        SequenceWindower(window=4, flatten=False, padding="zero"),
        LSTMRegressor(hidden_layer_sizes=4, max_iter=2, random_state=0),
    ).fit(frame, y)
    loaded, untrusted = _skops_round_trip(model)
    assert untrusted == TRUSTED
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_array_equal(
        loaded[0].feature_names_in_, model[0].feature_names_in_
    )


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", momentum=0.9),
        dict(solver="sgd", momentum=0.0),
        dict(skip_steps=2, early_stopping=True, validation_fraction=0.3),
        dict(loss="quantile", quantile=0.8, dtype="float64", dropout=0.2),
    ],
    ids=["adam", "sgd", "sgd-no-momentum", "skip-early-stopping", "quantile"],
)
def test_bare_regressor_round_trips_and_continues_training(params):
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=4, max_iter=3, random_state=0, **params)
    model.fit(X, y)
    loaded, untrusted = _skops_round_trip(model)
    assert untrusted == TRUSTED[:1]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    for name in ("loss_curve_", "n_iter_", "t_", "target_mean_", "target_scale_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    # partial_fit continues from the saved random stream and optimiser, as it
    # does in the original: same shuffles, same moments, same weights.
    for _ in range(2):
        model.partial_fit(X, y)
        loaded.partial_fit(X, y)
    np.testing.assert_array_equal(fitted_weights(loaded), fitted_weights(model))


def test_saved_optimizer_state_matters():
    """After a skops round trip partial_fit continues the kept optimiser, not a
    fresh one: the test above would pass with a fresh one otherwise."""
    X, y = _sequences()
    params = dict(hidden_layer_sizes=4, shuffle=False, random_state=0)
    model = LSTMRegressor(max_iter=3, **params).fit(X, y)
    loaded, _ = _skops_round_trip(model)
    loaded.partial_fit(X, y)
    fresh, _ = _skops_round_trip(model)
    fresh.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert np.abs(fitted_weights(loaded) - fitted_weights(fresh)).max() > 1e-6


def test_saved_state_holds_no_private_objects():
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0)
    state = model.fit(X, y).__getstate__()
    saved = state["_training_state"]
    assert isinstance(saved, dict)
    assert isinstance(saved["random_state"]["state"]["key"], np.ndarray)
    assert saved["optimizer"]["kind"] == "adam"
    assert isinstance(saved["optimizer"]["first_moment"], np.ndarray)
    # The live estimator keeps its objects: saving does not change it.
    assert not isinstance(model._training_state, dict)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_pickle_keeps_continuing_as_before(solver):
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=4, solver=solver, random_state=0)
    model.partial_fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    model.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_array_equal(fitted_weights(copy), fitted_weights(model))


@pytest.mark.parametrize(
    "estimator", [sklstm.LSTMRegressor, sklstm.LSTMClassifier, SequenceWindower]
)
def test_pickling_is_the_job_of_one_class(estimator):
    """``SavedStateMixin`` alone of sklstm's classes defines how an estimator
    pickles, so the order of its mixins cannot change what a file holds."""
    for method in ("__getstate__", "__setstate__", "__reduce__", "__reduce_ex__"):
        defining = [
            cls.__name__
            for cls in estimator.__mro__
            if method in vars(cls) and cls.__module__.startswith("sklstm")
        ]
        expected = ["SavedStateMixin"] if method.endswith("state__") else []
        assert defining == expected, method


def test_the_weights_on_a_gpu_are_left_out_and_the_rest_comes_back():
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0).fit(X, y)
    model._device_weights = np.ones(3)  # as a fit on CuPy leaves it
    state = model.__getstate__()
    assert "_device_weights" not in state
    assert state[VERSION_KEY] == sklstm.__version__
    loaded = pickle.loads(pickle.dumps(model))
    assert "_device_weights" not in vars(loaded)
    assert loaded.loss_ == model.loss_ == model.loss_curve_[-1]
    assert loaded.n_iter_ == model.n_iter_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# --- tampered files ------------------------------------------------------------


def _tampered(data, part, key, value):
    """skops bytes whose saved training state has ``value`` (a string) under
    ``[part][key]``."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    schema = json.loads(files["schema.json"])
    state = schema["content"]["content"]["_training_state"]["content"]
    # A new id too: skops builds the objects of one id once (a string that
    # the parameters hold as well would come back unchanged).
    state[part]["content"][key].update(content=json.dumps(value), __id__=1)
    files["schema.json"] = json.dumps(schema).encode()
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return target.getvalue()


@pytest.mark.parametrize(
    "part, key, value, match",
    [
        ("random_state", "bit_generator", "seed", "bit generator 'seed', not one"),
        ("random_state", "bit_generator", "default_rng", "bit generator"),
        ("random_state", "bit_generator", "PCG64", "not a state of PCG64"),
        ("optimizer", "kind", "lbfgs", "optimiser is of kind 'lbfgs'"),
    ],
)
def test_a_tampered_file_is_refused_without_calling_numpy_random(
    part, key, value, match
):
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0)
    data = _tampered(sio.dumps(model.fit(X, y)), part, key, value)
    before = np.random.get_state(legacy=False)["state"]  # noqa: NPY002
    with pytest.raises(ValueError, match=match):
        sio.loads(data, trusted=TRUSTED[:1])
    after = np.random.get_state(legacy=False)["state"]  # noqa: NPY002
    assert after["pos"] == before["pos"] and np.array_equal(after["key"], before["key"])


# --- the version check -------------------------------------------------------


def _saved_under(monkeypatch, version, model, how):
    """``model`` saved (pickle or skops) as if sklstm were ``version``."""
    with monkeypatch.context() as patch:
        patch.setattr(sklstm, "__version__", version)
        return pickle.dumps(model) if how == "pickle" else sio.dumps(model)


def _load(data, how):
    if how == "pickle":
        return pickle.loads(data)
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


@pytest.mark.parametrize("how", ["pickle", "skops"])
def test_loading_under_another_version_warns(pipeline, monkeypatch, how):
    model, X = pipeline
    data = _saved_under(monkeypatch, "0.0.1", model, how)
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = _load(data, how)
    messages = [str(warning.message) for warning in record]
    # One warning per sklstm estimator in the pipeline, each naming both versions.
    assert len(messages) == 2
    assert any("LSTMRegressor" in message for message in messages)
    assert any("SequenceWindower" in message for message in messages)
    for warning in record:
        assert warning.message.original_sklstm_version == "0.0.1"
        assert warning.message.current_sklstm_version == sklstm.__version__
        assert "0.0.1" in str(warning.message)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("how", ["pickle", "skops"])
def test_loading_under_the_same_version_is_silent(pipeline, how):
    model, _ = pipeline
    data = pickle.dumps(model) if how == "pickle" else sio.dumps(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _load(data, how)


def test_sklearn_version_filter_catches_ours(pipeline, monkeypatch):
    model, _ = pipeline
    data = _saved_under(monkeypatch, "0.0.1", model[-1], "pickle")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklearnInconsistentVersionWarning)
        with pytest.raises(InconsistentVersionWarning):
            pickle.loads(data)


def test_file_saved_before_versions_were_recorded_loads_and_continues():
    """A pickle of the earlier format: no version, the training state as objects."""
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0)
    model.fit(X, y)
    old_state = dict(model.__dict__)  # what BaseEstimator.__getstate__ gave
    assert VERSION_KEY not in old_state
    restored = LSTMRegressor.__new__(LSTMRegressor)
    with pytest.warns(InconsistentVersionWarning, match="unknown"):
        restored.__setstate__(old_state)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    restored.partial_fit(X, y)  # the object state is used as it is
    assert restored.t_ == model.t_ + len(X)


def test_version_is_recorded_in_the_state(pipeline):
    model, _ = pipeline
    assert model[-1].__getstate__()[VERSION_KEY] == sklstm.__version__
    assert model[1].__getstate__()[VERSION_KEY] == sklstm.__version__


# --- random small models -----------------------------------------------------


@st.composite
def small_models(draw):
    """A random small LSTMRegressor configuration and data to fit it on."""
    n_layers = draw(st.integers(1, 2))
    hidden = tuple(draw(st.integers(1, 4)) for _ in range(n_layers))
    steps = draw(st.integers(1, 4))
    n_features = draw(st.integers(1, 3))
    n_outputs = draw(st.sampled_from([None, 1, 2]))
    solver = draw(st.sampled_from(["adam", "sgd"]))
    params = dict(
        hidden_layer_sizes=hidden,
        skip_steps=draw(st.integers(0, steps)),
        solver=solver,
        dtype=draw(st.sampled_from(["float32", "float64"])),
        scale_target=draw(st.booleans()),
        early_stopping=draw(st.booleans()),
        validation_fraction=0.3,
        max_iter=draw(st.integers(1, 3)),
        batch_size=draw(st.integers(2, 16)),
        random_state=draw(
            st.sampled_from([0, 1, "RandomState"]),
        ),
    )
    if params["random_state"] == "RandomState":
        params["random_state"] = np.random.RandomState(draw(st.integers(0, 99)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_samples = draw(st.integers(8, 24))
    X = rng.standard_normal((n_samples, steps, n_features))
    y = rng.standard_normal((n_samples, n_outputs or 1))
    if n_outputs is None:
        y = y[:, 0]
    return params, X, y


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_models())
def test_random_small_models_round_trip_through_skops(case):
    params, X, y = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LSTMRegressor(**params).fit(X, y)
    loaded, untrusted = _skops_round_trip(model)
    assert untrusted == TRUSTED[:1]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params().keys() == model.get_params().keys()
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# --- models fitted on a GPU ----------------------------------------------------


def test_gpu_state_is_left_out_of_skops_files():
    """The device copy of the weights (a CuPy array after a GPU fit) is not
    saved: the file needs no CuPy type and loads without CuPy."""
    X, y = _sequences()
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=2, random_state=0)
    model.fit(X, y)
    expected = model.predict(X)
    model.backend_ = "cupy"  # as if fitted on a GPU; its weights are NumPy
    model._device_weights = object()  # stands in for a CuPy array
    loaded, untrusted = _skops_round_trip(model)
    assert untrusted == TRUSTED[:1]
    assert getattr(loaded, "_device_weights", None) is None
    np.testing.assert_array_equal(loaded.predict(X), expected)


def _cupy_available():
    try:
        sklstm._lstm._backend.resolve_backend("cupy")
    except (ImportError, RuntimeError):
        return False
    return True


@pytest.mark.gpu
@pytest.mark.skipif(not _cupy_available(), reason="needs CuPy and a CUDA device")
def test_gpu_fitted_model_loads_from_skops_where_cupy_is_hidden(tmp_path):
    X, y = _sequences(n_samples=64)
    model = LSTMRegressor(backend="cupy", hidden_layer_sizes=8, max_iter=3).fit(X, y)
    sio.dump(model, tmp_path / "model.skops")
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        sys.modules["cupy"] = None  # as on a machine without CuPy
        import skops.io as sio
        model = sio.load({str(tmp_path / "model.skops")!r}, trusted={TRUSTED!r})
        X = np.load({str(tmp_path / "X.npy")!r})
        np.save({str(tmp_path / "cpu.npy")!r}, model.predict(X))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    np.testing.assert_allclose(
        np.load(tmp_path / "cpu.npy"), model.predict(X), rtol=1e-10
    )
