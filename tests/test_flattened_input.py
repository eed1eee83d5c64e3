"""LSTMRegressor(n_timesteps=...): 2-D rows of flattened sequences read as the
3-D windows they were flattened from, to the bit."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower

N_SAMPLES, STEPS, N_FEATURES = 80, 6, 3


@pytest.fixture
def windows():
    """3-D windows ``(X, y)`` with a target that depends on old and new steps."""
    generator = np.random.default_rng(7)
    X = generator.standard_normal((N_SAMPLES, STEPS, N_FEATURES))
    y = X[:, -1, 0] - 0.5 * X[:, 0, 2] + 0.1 * generator.standard_normal(N_SAMPLES)
    return X, y


def _flat(X, step_order="oldest_first", column_grouping="by_step"):
    """``X`` flattened row by row, in the layout the two options describe."""
    steps = X if step_order == "oldest_first" else X[:, ::-1]
    if column_grouping == "by_feature":
        steps = steps.swapaxes(1, 2)
    return np.ascontiguousarray(steps).reshape(len(X), -1)


def _model(**params):
    defaults = dict(hidden_layer_sizes=(5,), skip_steps=2, max_iter=4, random_state=0)
    return LSTMRegressor(**{**defaults, **params})


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _weights(model):
    parts = [array.ravel() for layer in model.layers_ for array in layer.values()]
    return np.concatenate(
        [*parts, model.head_weight_.ravel(), model.skip_weight_.ravel()]
    )


def _weights_of(model):
    """The weights of a model with or without a skip connection."""
    parts = [array.ravel() for layer in model.layers_ for array in layer.values()]
    return np.concatenate([*parts, model.head_weight_.ravel()])


@pytest.mark.parametrize("column_grouping", ["by_step", "by_feature"])
@pytest.mark.parametrize("step_order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_and_predict_equal_3d_input_bit_for_bit(
    windows, step_order, column_grouping, dtype
):
    X, y = windows
    layout = dict(step_order=step_order, column_grouping=column_grouping)
    rows = _flat(X, **layout)
    nested = _fit(_model(dtype=dtype), X, y)
    flat = _fit(_model(dtype=dtype, n_timesteps=STEPS, **layout), rows, y)
    assert flat.loss_curve_ == nested.loss_curve_
    np.testing.assert_array_equal(_weights(flat), _weights(nested))
    np.testing.assert_array_equal(flat.predict(rows), nested.predict(X))
    assert flat.n_features_in_ == STEPS * N_FEATURES
    assert nested.n_features_in_ == N_FEATURES
    assert flat.n_timesteps_in_ == nested.n_timesteps_in_ == STEPS


def test_newest_first_reads_the_steps_in_reverse(windows):
    """The same flat row read in the two orders gives two different models."""
    X, y = windows
    rows = _flat(X)
    oldest = _fit(_model(n_timesteps=STEPS), rows, y)
    newest = _fit(_model(n_timesteps=STEPS, step_order="newest_first"), rows, y)
    assert oldest.loss_curve_ != newest.loss_curve_
    reversed_nested = _fit(_model(), X[:, ::-1], y)
    assert newest.loss_curve_ == reversed_nested.loss_curve_


def test_partial_fit_equals_3d_input_bit_for_bit(windows):
    X, y = windows
    nested, flat = _model(), _model(n_timesteps=STEPS, step_order="newest_first")
    rows = _flat(X, "newest_first")
    for block in np.array_split(np.arange(N_SAMPLES), 4):
        nested.partial_fit(X[block], y[block])
        flat.partial_fit(rows[block], y[block])
    assert len(flat.loss_curve_) == 4
    assert flat.loss_curve_ == nested.loss_curve_
    np.testing.assert_array_equal(_weights(flat), _weights(nested))


def test_trace_memory_equals_3d_input(windows):
    X, y = windows
    nested = _fit(_model(), X, y)
    flat = _fit(
        _model(n_timesteps=STEPS, step_order="newest_first"), _flat(X[:, ::-1]), y
    )
    nested_traces = nested.trace_memory(X)
    flat_traces = flat.trace_memory(_flat(X, "newest_first"))
    assert flat_traces["long_term"][0].shape == (N_SAMPLES, STEPS, 5)
    for key, layers in nested_traces.items():
        np.testing.assert_array_equal(flat_traces[key][0], layers[0])


def test_windower_flatten_feeds_the_same_model(windows):
    """SequenceWindower(flatten=True) writes the layout n_timesteps reads."""
    generator = np.random.default_rng(3)
    table = generator.standard_normal((60, N_FEATURES))
    y = generator.standard_normal(60)
    nested = make_pipeline(SequenceWindower(window=4), _model())
    flat = make_pipeline(
        SequenceWindower(window=4, flatten=True), _model(n_timesteps=4)
    )
    _fit(nested, table, y)
    _fit(flat, table, y)
    np.testing.assert_array_equal(flat.predict(table), nested.predict(table))


def test_dataframe_lag_table_keeps_its_column_names(windows):
    X, y = windows
    names = [
        f"x{feature}_lag{lag}"
        for lag in range(STEPS, 0, -1)
        for feature in range(N_FEATURES)
    ]
    table = pd.DataFrame(_flat(X), columns=names)
    model = _fit(_model(n_timesteps=STEPS), table, y)
    assert list(model.feature_names_in_) == names
    from_array = _fit(_model(n_timesteps=STEPS), _flat(X), y)
    np.testing.assert_array_equal(model.predict(table), from_array.predict(_flat(X)))


def test_width_that_does_not_divide_names_the_fix(windows):
    X, y = windows
    model = _model(n_timesteps=4)
    with pytest.raises(
        ValueError, match=r"18 feature\(s\).*not a multiple of 4.*Set n_timesteps"
    ):
        model.fit(_flat(X), y)
    assert not hasattr(model, "n_features_in_")  # the failed fit left no trace


def test_3d_input_with_n_timesteps_is_refused(windows):
    X, y = windows
    with pytest.raises(ValueError, match=r"got a 3-D array.*n_timesteps=None"):
        _model(n_timesteps=STEPS).fit(X, y)


@pytest.mark.parametrize(
    "layout", [dict(step_order="newest_first"), dict(column_grouping="by_feature")]
)
def test_layout_options_need_n_timesteps(windows, layout):
    X, y = windows
    [(name, value)] = layout.items()
    with pytest.raises(ValueError, match=rf"{name}='{value}'.*Set n_timesteps"):
        _model(**layout).fit(X[:, -1], y)


def test_predict_checks_the_width_against_the_fit(windows):
    X, y = windows
    model = _fit(_model(n_timesteps=STEPS), _flat(X), y)
    with pytest.raises(
        ValueError, match="X has 15 features, but LSTMRegressor is expecting 18"
    ):
        model.predict(_flat(X)[:, 3:])


#: Every method that reads X after a fit, with what it takes beside X.
_READERS = {
    "predict": lambda model, rows, y: model.predict(rows),
    "score": lambda model, rows, y: model.score(rows, y),
    "trace_memory": lambda model, rows, y: model.trace_memory(rows),
    "partial_fit": lambda model, rows, y: model.partial_fit(rows, y),
    "warm_start fit": lambda model, rows, y: model.set_params(warm_start=True).fit(
        rows, y
    ),
    "predict_proba": lambda model, rows, y: model.predict_proba(rows),
}


@pytest.mark.parametrize("reader", list(_READERS))
@pytest.mark.parametrize(
    "name, fitted, changed",
    [
        ("step_order", "oldest_first", "newest_first"),
        ("column_grouping", "by_step", "by_feature"),
        ("n_timesteps", STEPS, 3),  # 18 columns still divide: 3 steps of 6
        ("n_timesteps", STEPS, None),  # 2-D X read as one-step sequences
    ],
)
def test_a_layout_changed_after_fit_is_refused_wherever_x_is_read(
    windows, reader, name, fitted, changed
):
    """set_params after fit would re-read the same columns in another
    layout, silently: each of the three is refused alike, naming the
    parameter, its fitted value and the fix."""
    X, y = windows
    Estimator = LSTMClassifier if reader == "predict_proba" else LSTMRegressor
    if Estimator is LSTMClassifier:
        y = y > 0
    model = _fit(Estimator(n_timesteps=STEPS, max_iter=2, random_state=0), _flat(X), y)
    before = _weights_of(model)
    model.set_params(**{name: changed})
    with pytest.raises(
        ValueError,
        match=rf"fitted with {name}={fitted!r}, but now has {name}={changed!r}.*"
        rf"set_params\({name}={fitted!r}\), or refit",
    ):
        _READERS[reader](model, _flat(X), y)
    np.testing.assert_array_equal(_weights_of(model), before)
    model.set_params(**{name: fitted}, warm_start=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _READERS[reader](model, _flat(X), y)  # set back, it reads X again
        # Refitted in the new layout, it reads X in that one.
        model.set_params(**{name: changed}, warm_start=False).fit(_flat(X), y)
        _READERS[reader](model, _flat(X), y)


def test_a_layout_set_on_3d_input_after_fit_is_refused(windows):
    X, y = windows
    model = _fit(_model(), X, y).set_params(n_timesteps=STEPS)
    with pytest.raises(ValueError, match="fitted with n_timesteps=None"):
        model.predict(_flat(X))


@pytest.mark.parametrize("column_grouping", ["by_step", "by_feature"])
@pytest.mark.parametrize("step_order", ["oldest_first", "newest_first"])
def test_nan_end_padding_reads_as_in_3d_input(windows, step_order, column_grouping):
    """A flattened row is the sequence it flattens: NaN steps at the end of
    a shorter sequence pad it, in whatever columns the layout puts them."""
    X, y = windows
    X = X.copy()
    X[::3, -2:] = np.nan  # every third sequence two steps shorter
    X[1::3, -1:] = np.nan
    layout = dict(step_order=step_order, column_grouping=column_grouping)
    rows = _flat(X, **layout)
    nested = _fit(_model(), X, y)
    flat = _fit(_model(n_timesteps=STEPS, **layout), rows, y)
    assert flat.loss_curve_ == nested.loss_curve_
    np.testing.assert_array_equal(_weights(flat), _weights(nested))
    np.testing.assert_array_equal(flat.predict(rows), nested.predict(X))
    traces = flat.trace_memory(rows)["long_term"][0]
    assert np.isnan(traces[::3, -2:]).all() and not np.isnan(traces[2::3]).any()


def test_nan_in_flattened_rows_other_than_end_padding_is_refused(windows):
    X, y = windows
    rows = _flat(X)
    rows[0, 0] = np.nan  # one value of the first step
    with pytest.raises(ValueError, match=r"NaN inside a step.*Impute"):
        _model(n_timesteps=STEPS).fit(rows, y)
    rows = _flat(X)
    rows[0, :N_FEATURES] = np.nan  # the whole first step: not at the end
    with pytest.raises(ValueError, match="NaN steps before the end"):
        _model(n_timesteps=STEPS).fit(rows, y)


def test_clone_keeps_the_layout():
    model = _model(n_timesteps=STEPS, step_order="newest_first")
    params = clone(model).get_params()
    assert params["n_timesteps"] == STEPS
    assert params["step_order"] == "newest_first"


def test_sktime_reduction_feeds_the_lstm_its_lag_table():
    """sktime's reduction hands a table of lags, oldest first, that
    n_timesteps reads as the windows SequenceWindower builds."""
    compose = pytest.importorskip("sktime.forecasting.compose")
    t = np.arange(150, dtype=float)
    series = pd.Series(np.sin(t / 5) + 0.3 * np.cos(t / 13))
    window = 6
    forecaster = compose.make_reduction(
        _model(n_timesteps=window), window_length=window, strategy="recursive"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster.fit(series)

    windows = SequenceWindower(window=window).fit_transform(series.to_frame())
    nested = _fit(_model(), windows[window - 1 : -1], series.to_numpy()[window:])
    assert forecaster.estimator_.loss_curve_ == nested.loss_curve_
    next_value = forecaster.predict(fh=[1]).to_numpy()
    np.testing.assert_array_equal(next_value, nested.predict(windows[-1:]))


def test_sktime_reduction_with_exogenous_columns_groups_them_by_feature():
    """With exogenous X, sktime's lag table holds the lags of y, then those
    of each column of X: column_grouping="by_feature" reads it."""
    compose = pytest.importorskip("sktime.forecasting.compose")
    t = np.arange(150, dtype=float)
    series = pd.Series(np.sin(t / 5) + 0.3 * np.cos(t / 13))
    exogenous = pd.DataFrame({"driver": np.cos(t / 7)})
    window = 6
    forecaster = compose.make_reduction(
        _model(n_timesteps=window, column_grouping="by_feature"),
        window_length=window,
        strategy="recursive",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster.fit(series, X=exogenous)

    table = pd.concat([series.rename("y"), exogenous], axis=1)
    windows = SequenceWindower(window=window).fit_transform(table)
    nested = _fit(_model(), windows[window - 1 : -1], series.to_numpy()[window:])
    assert forecaster.estimator_.loss_curve_ == nested.loss_curve_


def test_onnx_export_of_flattened_models_says_what_to_do_instead():
    pytest.importorskip("skl2onnx")
    from sklstm.onnx import to_onnx

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3 * 2)).astype(np.float32)
    model = LSTMRegressor(hidden_layer_sizes=2, max_iter=1, n_timesteps=3)
    model.fit(X, X[:, 0])
    with pytest.raises(NotImplementedError, match=r"n_timesteps=3.*SequenceWindower"):
        to_onnx(model, X[:1])
