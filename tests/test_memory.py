"""LSTMRegressor.trace_memory: the memories and gates per layer and step,
against PyTorch, against the equations of docs/maths.rst, and through a
Pipeline."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMRegressor, SequenceWindower

from ._reference import reference_network_output

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KEYS = ("long_term", "short_term", "forget", "input", "candidate", "output")
HIDDEN = (5, 4)
STEPS = 7


def _sequences(n_samples=30, steps=STEPS, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, steps, n_features))
    y = (
        X[:, -1, 0]
        - 0.5 * X[:, :, 1].mean(axis=1)
        + 0.1 * rng.standard_normal(n_samples)
    )
    return X, y


@pytest.fixture(scope="module")
def fitted():
    """A 2-layer model with float64 weights, and sequences to trace."""
    X, y = _sequences()
    model = LSTMRegressor(
        hidden_layer_sizes=HIDDEN,
        dtype="float64",
        learning_rate_init=0.01,
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    X_trace, _ = _sequences(n_samples=11, seed=1)
    return model, X_trace, model.trace_memory(X_trace)


def test_traces_have_one_array_per_layer_of_the_documented_shape(fitted):
    _, X, traces = fitted
    assert set(traces) == set(KEYS)
    for key in KEYS:
        assert len(traces[key]) == len(HIDDEN)
        for layer, size in enumerate(HIDDEN):
            assert traces[key][layer].shape == (len(X), STEPS, size)
            assert traces[key][layer].dtype == np.float64


def _torch_layers(torch, model):
    """One float64 torch.nn.LSTM per fitted layer, with the fitted weights."""
    modules = []
    for layer in model.layers_:
        hidden_size = layer["weight_hh"].shape[1]
        module = torch.nn.LSTM(
            layer["weight_ih"].shape[1], hidden_size, batch_first=True
        ).double()
        with torch.no_grad():
            module.weight_ih_l0.copy_(torch.from_numpy(layer["weight_ih"]))
            module.weight_hh_l0.copy_(torch.from_numpy(layer["weight_hh"]))
            module.bias_ih_l0.copy_(torch.from_numpy(layer["bias"]))
            module.bias_hh_l0.zero_()
        modules.append(module)
    return modules


def test_last_step_memories_match_pytorch_final_states(fitted):
    torch = pytest.importorskip("torch")
    model, X, traces = fitted
    sequence = torch.from_numpy(X)
    with torch.no_grad():
        for layer, module in enumerate(_torch_layers(torch, model)):
            sequence, (h_n, c_n) = module(sequence)
            np.testing.assert_allclose(
                traces.long_term[layer][:, -1], c_n[0].numpy(), rtol=0, atol=1e-10
            )
            np.testing.assert_allclose(
                traces.short_term[layer][:, -1], h_n[0].numpy(), rtol=0, atol=1e-10
            )
            # The short-term memory of every step is the layer's output.
            np.testing.assert_allclose(
                traces.short_term[layer], sequence.numpy(), rtol=0, atol=1e-10
            )


def test_memories_of_every_step_match_pytorch_stepped_by_hand(fitted):
    """PyTorch run one step at a time exposes c_t at every step, not only c_n."""
    torch = pytest.importorskip("torch")
    model, X, traces = fitted
    sequence = torch.from_numpy(X)
    with torch.no_grad():
        for layer, module in enumerate(_torch_layers(torch, model)):
            state, outputs, cells = None, [], []
            for step in range(STEPS):
                output, state = module(sequence[:, step : step + 1], state)
                outputs.append(output)
                cells.append(state[1][0].numpy())
            sequence = torch.cat(outputs, dim=1)
            np.testing.assert_allclose(
                traces.long_term[layer],
                np.stack(cells, axis=1),
                rtol=0,
                atol=1e-10,
            )


def test_memories_follow_the_recurrence_of_the_gates(fitted):
    _, _, traces = fitted
    for layer in range(len(HIDDEN)):
        long_term = traces.long_term[layer]
        previous = np.concatenate(
            [np.zeros_like(long_term[:, :1]), long_term[:, :-1]], axis=1
        )
        np.testing.assert_allclose(
            long_term,
            traces.forget[layer] * previous
            + traces.input[layer] * traces.candidate[layer],
            rtol=0,
            atol=1e-12,
        )
        np.testing.assert_allclose(
            traces.short_term[layer],
            traces.output[layer] * np.tanh(long_term),
            rtol=0,
            atol=1e-12,
        )


def test_gates_are_shares_and_the_candidate_lies_in_minus_one_one(fitted):
    _, _, traces = fitted
    for layer in range(len(HIDDEN)):
        for key in ("forget", "input", "output"):
            gate = traces[key][layer]
            assert gate.min() > 0 and gate.max() < 1, key
        candidate = traces.candidate[layer]
        assert candidate.min() > -1 and candidate.max() < 1
        # Not degenerate: the gates open and close, the candidate takes signs.
        assert candidate.min() < 0 < candidate.max()
        assert np.ptp(traces.forget[layer]) > 0.05


def test_a_row_is_traced_the_same_alone_or_among_many_rows():
    """Traces are computed in chunks of rows; a row's trace ignores the others."""
    X, y = _sequences(n_samples=1100, steps=3)
    model = LSTMRegressor(
        hidden_layer_sizes=4, dtype="float64", max_iter=1, random_state=0
    ).fit(X[:50], y[:50])
    traces = model.trace_memory(X)
    for row in (0, 511, 512, 1099):
        alone = model.trace_memory(X[row : row + 1])
        for key in KEYS:
            np.testing.assert_allclose(
                traces[key][0][row], alone[key][0][0], rtol=0, atol=1e-14
            )


def test_pipeline_users_trace_through_the_fitted_preprocessing():
    rng = np.random.default_rng(3)
    t = np.arange(300, dtype=float)
    rows = np.column_stack(
        [100 + 40 * np.sin(t / 9), 5 * np.cos(t / 13) + rng.standard_normal(t.size)]
    )
    y = 100 + 40 * np.sin((t + 1) / 9)
    pipe = make_pipeline(
        StandardScaler(),
        SequenceWindower(window=10),
        LSTMRegressor(
            hidden_layer_sizes=(8, 6),
            learning_rate_init=0.01,
            max_iter=15,
            random_state=0,
        ),
    ).fit(rows, y)
    model = pipe[-1]
    assert model.layers_[0]["weight_ih"].dtype == np.float32

    traces = model.trace_memory(pipe[:-1].transform(rows))
    last_hidden = traces.short_term[-1][:, -1]
    from_traces = (
        last_hidden @ model.head_weight_.T + model.head_bias_
    ) * model.target_scale_ + model.target_mean_
    y_pred = pipe.predict(rows)
    assert from_traces.shape == (len(rows), 1) and y_pred.shape == (len(rows),)
    # predict runs in float32: agreement to float32 rounding of the outputs.
    np.testing.assert_allclose(from_traces[:, 0], y_pred, rtol=1e-5, atol=1e-4)
    # And the model has learnt something, so the agreement is not vacuous.
    assert np.ptp(y_pred) > 40


def test_two_dimensional_X_after_a_fit_on_windows_raises_as_predict(fitted):
    model, X, _ = fitted
    with pytest.raises(ValueError) as from_predict:
        model.predict(X[:, -1])
    with pytest.raises(ValueError) as from_trace:
        model.trace_memory(X[:, -1])
    assert str(from_trace.value) == str(from_predict.value)
    assert "SequenceWindower" in str(from_trace.value)


def test_a_float32_model_is_traced_in_float64():
    X, y = _sequences()
    model = LSTMRegressor(
        hidden_layer_sizes=HIDDEN, max_iter=3, random_state=0, dtype="float32"
    ).fit(X, y)
    assert model.layers_[0]["weight_ih"].dtype == np.float32
    traces = model.trace_memory(X.astype(np.float32))
    for key in KEYS:
        for layer in range(len(HIDDEN)):
            assert traces[key][layer].dtype == np.float64, key
    # The float32 weights, evaluated in float64: the reference loop in float64
    # agrees to float64 rounding, far below float32's.
    output = traces.short_term[-1][:, -1] @ model.head_weight_.T.astype(np.float64)
    output += model.head_bias_
    expected = reference_network_output(
        [
            {k: v.astype(np.float64) for k, v in layer.items()}
            for layer in model.layers_
        ],
        model.head_weight_.astype(np.float64),
        model.head_bias_.astype(np.float64),
        X.astype(np.float32),
    )
    np.testing.assert_allclose(output, expected, rtol=0, atol=1e-12)


def test_traces_beyond_the_available_memory_are_refused_before_allocating(
    monkeypatch,
):
    import sklstm._lstm._traces as memory

    X = np.random.RandomState(0).standard_normal((40, 5, 2))
    model = LSTMRegressor(hidden_layer_sizes=(3, 2), max_iter=1).fit(X, X[:, -1, 0])
    needed = memory.trace_bytes(40, 5, (3, 2))
    assert needed == 6 * 8 * 40 * 5 * 5
    monkeypatch.setattr(memory, "_available_memory", lambda: needed - 1)
    with pytest.raises(MemoryError, match=r"needs .* GiB .*X\[:1000\]"):
        model.trace_memory(X)
    monkeypatch.setattr(memory, "_available_memory", lambda: needed)
    assert model.trace_memory(X).long_term[1].shape == (40, 5, 2)
