"""Sequences of different lengths, padded with NaN steps at their end."""

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._lstm._network import NetworkShape, init_parameters, unflatten

from ._reference import reference_network_output

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _padded(n_samples=40, steps=7, n_features=2, shortest=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, steps, n_features))
    lengths = rng.integers(shortest, steps + 1, n_samples)
    lengths[0] = steps  # at least one whole sequence
    padded = X.copy()
    for row, length in enumerate(lengths):
        padded[row, length:] = np.nan
    return padded, lengths


def _target(padded, lengths):
    return np.array([padded[i, :n, 0].sum() for i, n in enumerate(lengths)])


@pytest.mark.parametrize("estimator", [LSTMRegressor, LSTMClassifier])
def test_a_sequence_predicts_the_same_alone_or_padded_in_a_batch(
    estimator, host_engine_name
):
    padded, lengths = _padded()
    y = _target(padded, lengths)
    if estimator is LSTMClassifier:
        y = y > 0
    model = estimator(
        hidden_layer_sizes=(5, 3), max_iter=3, dtype="float64", random_state=0
    ).fit(padded, y)
    method = "predict" if estimator is LSTMRegressor else "predict_proba"
    batch = getattr(model, method)(padded)
    alone = np.concatenate(
        [getattr(model, method)(padded[i : i + 1, :n]) for i, n in enumerate(lengths)]
    )
    if host_engine_name == "compiled":
        np.testing.assert_array_equal(batch, alone)
    else:
        # NumPy's BLAS may round a row apart by the number of rows beside it.
        np.testing.assert_allclose(batch, alone, rtol=1e-14, atol=1e-15)


def test_padded_training_matches_pytorch_packed_sequences(host_engine_name):
    padded, lengths = _padded(n_samples=30, steps=6, n_features=3)
    y = _target(padded, lengths)
    lr, n_steps, hidden = 0.1, 3, 4
    model = LSTMRegressor(
        hidden_layer_sizes=hidden,
        solver="sgd",
        momentum=0.0,
        learning_rate="constant",
        learning_rate_init=lr,
        alpha=0.0,
        batch_size=len(y),
        shuffle=False,
        max_iter=n_steps,
        tol=0,
        n_iter_no_change=100,
        scale_target=False,
        dtype="float64",
        random_state=0,
    ).fit(padded, y)

    shape = NetworkShape(3, (hidden,), 1)
    initial = unflatten(
        init_parameters(shape, np.random.RandomState(0), np.float64), shape
    )
    weights = [
        torch.tensor(array, requires_grad=True)
        for array in (*initial.layers[0], initial.head_weight, initial.head_bias)
    ]
    lstm = torch.nn.LSTM(3, hidden, batch_first=True).double()
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.from_numpy(np.nan_to_num(padded)),
        torch.from_numpy(lengths),
        batch_first=True,
        enforce_sorted=False,
    )
    optimizer = torch.optim.SGD(weights, lr=lr)
    for _ in range(n_steps):
        weight_ih, weight_hh, bias, head_weight, head_bias = weights
        _, (last_hidden, _) = torch.func.functional_call(
            lstm,
            {
                "weight_ih_l0": weight_ih,
                "weight_hh_l0": weight_hh,
                "bias_ih_l0": bias,
                "bias_hh_l0": torch.zeros_like(bias),
            },
            (packed,),
        )
        prediction = last_hidden[-1] @ head_weight.T + head_bias
        residual = prediction[:, 0] - torch.from_numpy(y)
        value = 0.5 * (residual**2).mean()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    expected = np.concatenate([w.detach().numpy().ravel() for w in weights])
    flat = np.concatenate(
        [
            model.layers_[0]["weight_ih"].ravel(),
            model.layers_[0]["weight_hh"].ravel(),
            model.layers_[0]["bias"],
            model.head_weight_.ravel(),
            model.head_bias_,
        ]
    )
    np.testing.assert_allclose(flat, expected, atol=1e-10)
    assert np.abs(expected - initial.flat).max() > 1e-3


def test_padding_every_sequence_changes_nothing():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 4, 2))
    y = X[:, :, 0].sum(axis=1)
    padded = np.concatenate([X, np.full((50, 3, 2), np.nan)], axis=1)
    params = dict(hidden_layer_sizes=4, max_iter=3, random_state=0)
    plain = LSTMRegressor(**params).fit(X, y)
    padded_model = LSTMRegressor(**params).fit(padded, y)
    np.testing.assert_array_equal(plain.head_weight_, padded_model.head_weight_)
    np.testing.assert_array_equal(plain.predict(X), padded_model.predict(padded))


def test_early_stopping_and_sample_weights_read_the_lengths():
    padded, lengths = _padded(n_samples=80, steps=6, seed=4)
    y = _target(padded, lengths)
    weight = np.where(lengths > 3, 1.0, 0.0)
    model = LSTMRegressor(
        hidden_layer_sizes=4,
        max_iter=4,
        early_stopping=True,
        random_state=0,
        dtype="float64",
    ).fit(padded, y, sample_weight=weight)
    assert len(model.validation_scores_) == 4
    # Each sequence as the plainly written network reads it alone, on its
    # real steps only.
    alone = np.concatenate(
        [
            reference_network_output(
                model.layers_,
                model.head_weight_,
                model.head_bias_,
                padded[row : row + 1, :length],
            )[:, 0]
            for row, length in enumerate(lengths)
        ]
    )
    alone = alone * model.target_scale_ + model.target_mean_
    np.testing.assert_allclose(model.predict(padded), alone, rtol=1e-10)
    # The best score is the weighted R² of the held-out rows (the last 8),
    # each read on its real steps.
    held_out = slice(72, None)
    assert weight[held_out].any()
    expected = r2_score(y[held_out], alone[held_out], sample_weight=weight[held_out])
    assert model.best_validation_score_ == pytest.approx(expected, abs=1e-9)


def test_trace_memory_leaves_the_padding_as_nan(host_engine_name):
    padded, lengths = _padded(n_samples=10, steps=5)
    model = LSTMRegressor(hidden_layer_sizes=3, max_iter=1, random_state=0)
    model.fit(padded, _target(padded, lengths))
    traces = model.trace_memory(padded)
    for row, length in enumerate(lengths):
        alone = model.trace_memory(padded[row : row + 1, :length])
        for key in traces:
            # trace_memory runs the NumPy reference in float64 whatever the
            # engine, and BLAS may round a row by the rows beside it.
            np.testing.assert_allclose(
                traces[key][0][row, :length], alone[key][0][0], rtol=1e-14, atol=1e-15
            )
            assert np.isnan(traces[key][0][row, length:]).all()


@pytest.mark.parametrize(
    ("place", "match"),
    [
        (lambda X: X.__setitem__((0, 2, 0), np.nan), "NaN inside a step"),
        (lambda X: X.__setitem__((0, 1), np.nan), "before the end"),
        (lambda X: X.__setitem__(0, np.nan), "before the end"),
        (lambda X: X.__setitem__((0, 4), np.inf), "infinity"),
    ],
    ids=["part of a step", "step before a real one", "all steps", "inf"],
)
def test_nan_that_is_not_padding_is_a_clear_error(place, match):
    X = np.random.default_rng(0).standard_normal((10, 5, 2))
    place(X)
    with pytest.raises(ValueError, match=match):
        LSTMRegressor(max_iter=1).fit(X, np.ones(10))


def test_skip_steps_must_fit_the_shortest_sequence():
    padded, lengths = _padded(n_samples=20, steps=6, shortest=2)
    with pytest.raises(ValueError, match="skip_steps=3"):
        LSTMRegressor(skip_steps=3, max_iter=1).fit(padded, _target(padded, lengths))
