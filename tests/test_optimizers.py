"""The optimisers: each step against its closed form, and an estimator's
Adam steps against ``torch.optim.Adam`` from the documented initialisation."""

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._lstm._optimizers import OPTIMIZERS, AdamOptimizer, SGDOptimizer

from ._helpers import sequences
from ._torch_training import TorchReference

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GRADIENTS = np.random.default_rng(0).standard_normal((4, 5))


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_the_registry_names_each_solver_and_every_array_of_its_state(solver):
    # What is moved to the device and saved with a model is what the
    # registry lists: an array of the parameters' shape left off the list
    # would stay on the wrong device and be lost by partial_fit after a load.
    optimizer_class = OPTIMIZERS[solver]
    assert optimizer_class.name == solver
    params = np.linspace(-1, 1, 5)
    optimizer = optimizer_class(params, 0.01)
    optimizer.update_params(params, GRADIENTS[0])
    arrays = {
        name
        for name, value in vars(optimizer).items()
        if isinstance(value, np.ndarray) and value.shape == params.shape
    }
    assert arrays == set(optimizer_class.state_arrays)


def test_adam_steps_follow_the_closed_form():
    # Kingma & Ba's Adam with scikit-learn's placement of epsilon:
    # step_t = lr * sqrt(1 - b2^t) / (1 - b1^t) * m_t / (sqrt(v_t) + eps).
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-3
    params = np.linspace(-1, 1, 5)
    optimizer = AdamOptimizer(params, lr, b1, b2, eps)
    expected, m, v = params.copy(), 0.0, 0.0
    for t, grads in enumerate(GRADIENTS, start=1):
        optimizer.update_params(params, grads)
        m = b1 * m + (1 - b1) * grads
        v = b2 * v + (1 - b2) * grads**2
        expected -= lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(params, expected, rtol=1e-12, atol=1e-15)
    assert optimizer.t == len(GRADIENTS)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_steps_follow_the_closed_form(nesterov):
    lr, momentum = 0.1, 0.7
    params = np.linspace(-1, 1, 5)
    optimizer = SGDOptimizer(params, lr, momentum, nesterov)
    expected, velocity = params.copy(), np.zeros(5)
    for grads in GRADIENTS:
        optimizer.update_params(params, grads)
        velocity = momentum * velocity - lr * grads
        if nesterov:
            expected += momentum * velocity - lr * grads
        else:
            expected += velocity
        np.testing.assert_allclose(params, expected, rtol=1e-12, atol=1e-15)


def test_sgd_without_momentum_is_plain_gradient_descent():
    params = np.ones(5)
    SGDOptimizer(params, 0.5, momentum=0.0).update_params(params, GRADIENTS[0])
    np.testing.assert_allclose(params, 1 - 0.5 * GRADIENTS[0])


def test_the_adaptive_schedule_divides_the_step_by_five_down_to_a_floor():
    optimizer = AdamOptimizer(np.zeros(2), learning_rate_init=1e-5)
    assert optimizer.reduce_step_size() and optimizer.step_size == pytest.approx(2e-6)
    assert optimizer.reduce_step_size() and optimizer.step_size == pytest.approx(4e-7)
    assert not optimizer.reduce_step_size()
    assert optimizer.step_size == pytest.approx(4e-7)


# Full batch, no shuffle effect, epsilon too small to matter where PyTorch
# adds it to sqrt(v_hat) and scikit-learn to sqrt(v): the same algorithm.
ADAM = dict(
    solver="adam",
    learning_rate="constant",
    batch_size=10_000,
    shuffle=False,
    epsilon=1e-16,
    tol=0,
    n_iter_no_change=1_000,
    dtype="float64",
)


def test_a_regressor_takes_pytorch_adam_steps():
    X, y = sequences(n_samples=50, steps=4, n_features=3, n_outputs=2)
    model = LSTMRegressor(
        hidden_layer_sizes=(5, 3),
        learning_rate_init=0.02,
        alpha=0.01,
        max_iter=8,
        random_state=3,
        **ADAM,
    ).fit(X, y)
    scaled = (y - model.target_mean_) / model.target_scale_
    reference = TorchReference(3, (5, 3), 2, seed=3, dtype=torch.float64)
    reference.fit(
        X, scaled, loss="squared_error", epochs=8, learning_rate=0.02,
        alpha=0.01, epsilon=1e-16,
    )  # fmt: skip
    expected = reference.predict(X) * model.target_scale_ + model.target_mean_
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-7, atol=1e-9)
    untrained = TorchReference(3, (5, 3), 2, seed=3, dtype=torch.float64)
    # The steps moved the predictions far beyond the tolerance.
    moved = np.abs(untrained.predict(X) - reference.predict(X)).max()
    assert moved > 1e-2


@pytest.mark.parametrize("kind", ["multiclass", "multilabel"])
def test_a_classifier_takes_pytorch_adam_steps(kind):
    X = np.random.default_rng(1).standard_normal((45, 4, 2))
    labels = np.digitize(X[:, :, 0].sum(axis=1), [-1.0, 1.0])
    if kind == "multiclass":
        y, targets, loss = labels, np.eye(3)[labels], "softmax_log_loss"
    else:
        y = np.column_stack([labels == 0, X[:, -1, 1] > 0]).astype(int)
        targets, loss = y.astype(float), "log_loss"
    model = LSTMClassifier(
        hidden_layer_sizes=4, learning_rate_init=0.05, alpha=0.0, max_iter=6,
        random_state=0, **ADAM,
    ).fit(X, y)  # fmt: skip
    reference = TorchReference(2, (4,), targets.shape[1], 0, torch.float64)
    reference.fit(X, targets, loss=loss, epochs=6, learning_rate=0.05, epsilon=1e-16)
    expected = reference.predict_proba(X, model.out_activation_)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-7)
