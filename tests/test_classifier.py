"""LSTMClassifier: its gradients against PyTorch, its targets, weights,
early stopping, partial_fit and errors."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer

from sklstm import LSTMClassifier
from sklstm._lstm._network import NetworkShape, init_parameters, unflatten

from ._helpers import assert_keeps_the_best_epoch
from ._torch_training import TorchReference

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _sequences(n_samples=60, steps=5, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_samples, steps, n_features))


def _three_classes(X):
    """A class from the sum of the first feature: learnable, not trivial."""
    return np.digitize(X[:, :, 0].sum(axis=1), [-1.0, 1.0])


def _torch_sgd_steps(X, targets, sample_weight, loss, hidden, n_steps, lr):
    """Full-batch SGD on nn.LSTM + nn.Linear from sklstm's initial weights."""
    shape = NetworkShape(X.shape[2], (hidden,), targets.shape[1])
    initial = unflatten(
        init_parameters(shape, np.random.RandomState(0), np.float64), shape
    )
    weights = [
        torch.tensor(array, requires_grad=True)
        for array in (*initial.layers[0], initial.head_weight, initial.head_bias)
    ]
    lstm = torch.nn.LSTM(X.shape[2], hidden, batch_first=True).double()
    inputs = torch.from_numpy(X)
    weight = torch.from_numpy(sample_weight)
    optimizer = torch.optim.SGD(weights, lr=lr)
    for _ in range(n_steps):
        weight_ih, weight_hh, bias, head_weight, head_bias = weights
        outputs, _ = torch.func.functional_call(
            lstm,
            {
                "weight_ih_l0": weight_ih,
                "weight_hh_l0": weight_hh,
                "bias_ih_l0": bias,
                "bias_hh_l0": torch.zeros_like(bias),
            },
            (inputs,),
        )
        logits = outputs[:, -1] @ head_weight.T + head_bias
        if loss == "cross_entropy":
            per_sample = torch.nn.functional.cross_entropy(
                logits, torch.from_numpy(targets.argmax(axis=1)), reduction="none"
            )
        else:
            per_sample = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, torch.from_numpy(targets), reduction="none"
            ).sum(dim=1)
        value = (per_sample * weight).sum() / weight.sum()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    flat = np.concatenate([w.detach().numpy().ravel() for w in weights])
    return flat, initial.flat


@pytest.mark.parametrize(
    ("kind", "torch_loss"),
    [("multiclass", "cross_entropy"), ("binary", "bce"), ("multilabel", "bce")],
)
def test_sgd_steps_match_pytorch_on_every_host_engine(
    kind, torch_loss, host_engine_name
):
    X = _sequences()
    labels = _three_classes(X)
    y = {
        "multiclass": labels,
        "binary": labels == 2,
        "multilabel": np.column_stack([labels == 0, labels == 2, X[:, -1, 1] > 0]),
    }[kind].astype(int)
    targets = y.reshape(len(y), -1).astype(np.float64)
    if kind == "multiclass":
        targets = np.eye(3)[y]
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    model = LSTMClassifier(
        hidden_layer_sizes=4,
        solver="sgd",
        momentum=0.0,
        learning_rate="constant",
        learning_rate_init=0.5,
        alpha=0.0,
        batch_size=len(X),
        shuffle=False,
        max_iter=3,
        tol=0,
        n_iter_no_change=100,
        dtype="float64",
        random_state=0,
    ).fit(X, y, sample_weight=sample_weight)
    expected, initial = _torch_sgd_steps(
        X, targets, sample_weight, torch_loss, 4, n_steps=3, lr=0.5
    )
    flat = np.concatenate(
        [
            *(model.layers_[0][name].ravel() for name in ("weight_ih", "weight_hh")),
            model.layers_[0]["bias"],
            model.head_weight_.ravel(),
            model.head_bias_,
        ]
    )
    np.testing.assert_allclose(flat, expected, atol=1e-10)
    assert np.abs(expected - initial).max() > 1e-3  # the weights moved


SETTINGS = dict(
    hidden_layer_sizes=8,
    learning_rate="constant",  # as the PyTorch reference
    learning_rate_init=0.02,
    alpha=1e-4,
    batch_size=180,  # full batch, as the PyTorch reference
    max_iter=60,
    random_state=0,
)


def _fitted(y, **params):
    X = _sequences(n_samples=240, steps=6, n_features=2, seed=3)
    return X, LSTMClassifier(**{**SETTINGS, **params}).fit(X[:180], y[:180])


def _log_loss(indicator, proba, activation):
    """Mean log loss per sample: the softmax's cross-entropy, or the binary
    cross-entropy summed over the indicator's columns; ``proba`` of each
    column being 1."""
    proba = np.clip(proba, 1e-15, 1 - 1e-15)
    per_column = indicator * np.log(proba)
    if activation == "logistic":
        per_column += (1 - indicator) * np.log1p(-proba)
    return -per_column.sum(axis=1).mean()


def _check_as_good_as_pytorch(X, y, model):
    """The held-out log loss within 3 % of PyTorch's in the same settings
    (float32, full-batch Adam, the same initial weights, as many epochs):
    the two differ by rounding (0.05 % measured), and a learning rate 10 %
    low is 19 % worse on the multiclass data."""
    binarizer = LabelBinarizer().fit(y[:180])
    targets = binarizer.transform(y[:180]).astype(float)
    reference = TorchReference(
        X.shape[2], (8,), targets.shape[1], seed=0, dtype=torch.float32
    ).fit(
        X[:180],
        targets,
        loss="softmax_log_loss" if model.out_activation_ == "softmax" else "log_loss",
        epochs=model.n_iter_,
        learning_rate=SETTINGS["learning_rate_init"],
        alpha=SETTINGS["alpha"],
    )
    indicator = binarizer.transform(y[180:])
    expected = reference.predict_proba(X[180:], model.out_activation_)
    proba = model.predict_proba(X[180:])
    if proba.shape[1] != indicator.shape[1]:  # binary: the positive class
        proba = proba[:, 1:]
    activation = model.out_activation_
    assert _log_loss(indicator, proba, activation) <= 1.03 * _log_loss(
        indicator, expected, activation
    )


def test_multiclass_learns_and_its_probabilities_add_up():
    X = _sequences(n_samples=240, steps=6, n_features=2, seed=3)
    y = np.array(["low", "mid", "high"])[_three_classes(X)]
    X, model = _fitted(y)
    assert list(model.classes_) == ["high", "low", "mid"]
    assert model.out_activation_ == "softmax"
    proba = model.predict_proba(X[180:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        model.predict(X[180:]), model.classes_[proba.argmax(1)]
    )
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X[180:])), proba)
    _check_as_good_as_pytorch(X, y, model)


def test_binary_has_one_logit_and_two_probabilities():
    X = _sequences(n_samples=240, steps=6, n_features=2, seed=3)
    y = np.where(X[:, :, 1].sum(axis=1) > 0, 7, -7)
    X, model = _fitted(y)
    assert model.head_weight_.shape[0] == 1 and model.out_activation_ == "logistic"
    proba = model.predict_proba(X[180:])
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X[180:])) <= {-7, 7}
    _check_as_good_as_pytorch(X, y, model)


def test_multilabel_predicts_an_indicator_matrix():
    X = _sequences(n_samples=240, steps=6, n_features=2, seed=3)
    Y = np.column_stack([X[:, :, 0].sum(1) > 0, X[:, :, 1].sum(1) > 0]).astype(int)
    X, model = _fitted(Y)
    predicted = model.predict(X[180:])
    assert predicted.shape == (60, 2) and set(np.unique(predicted)) <= {0, 1}
    assert model.predict_proba(X[180:]).shape == (60, 2)
    _check_as_good_as_pytorch(X, Y, model)


def test_class_weight_is_a_sample_weight_per_class():
    X = _sequences(n_samples=90)
    y = _three_classes(X)
    weights = {0: 3.0, 1: 0.5, 2: 1.0}
    params = dict(hidden_layer_sizes=3, max_iter=3, random_state=0, dtype="float64")
    by_class = LSTMClassifier(class_weight=weights, **params).fit(X, y)
    by_sample = LSTMClassifier(**params).fit(
        X, y, sample_weight=np.vectorize(weights.get)(y)
    )
    np.testing.assert_array_equal(by_class.head_weight_, by_sample.head_weight_)
    plain = LSTMClassifier(**params).fit(X, y)
    assert not np.array_equal(plain.head_weight_, by_class.head_weight_)


def test_balanced_class_weight_lifts_the_rare_class():
    X = _sequences(n_samples=300, steps=6, n_features=2, seed=4)
    y = (X[:, :, 0].sum(axis=1) > 2.0).astype(int)  # about 20 % positive
    params = dict(
        hidden_layer_sizes=6, max_iter=30, learning_rate="constant", random_state=0
    )
    plain = LSTMClassifier(**params).fit(X, y)
    balanced = LSTMClassifier(class_weight="balanced", **params).fit(X, y)
    assert balanced.predict(X).mean() > plain.predict(X).mean()


def test_early_stopping_holds_out_a_stratified_sample_and_keeps_the_best():
    X = _sequences(n_samples=200, steps=6, n_features=2, seed=5)
    y = _three_classes(X)
    model = LSTMClassifier(
        hidden_layer_sizes=6,
        early_stopping=True,
        validation_fraction=0.2,
        learning_rate="constant",
        learning_rate_init=0.02,
        max_iter=40,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X, y)
    scores = model.validation_scores_
    assert int(np.argmax(scores)) < model.n_iter_ - 1  # restoring matters
    # The documented hold-out: 20 % of the samples drawn by random_state,
    # stratified by class, so each class keeps its share in both parts.
    training, held_out = train_test_split(
        np.arange(len(y)), test_size=0.2, random_state=0, stratify=y
    )
    np.testing.assert_allclose(np.bincount(y[held_out]), 0.2 * np.bincount(y), atol=1)
    # 40 validation samples: every score is a multiple of 1/40, and the
    # restored weights score the best of them on those samples.
    np.testing.assert_allclose(np.array(scores) * 40, np.round(np.array(scores) * 40))
    assert accuracy_score(y[held_out], model.predict(X[held_out])) == pytest.approx(
        model.best_validation_score_
    )
    # The weights of a model trained on the other 160 samples alone for the
    # best epoch's count: no other hold-out (unstratified, say) gives them.
    assert_keeps_the_best_epoch(model, X, y, np.sort(training))


def test_partial_fit_needs_the_classes_first_and_then_continues():
    X = _sequences(n_samples=90)
    y = _three_classes(X)
    model = LSTMClassifier(hidden_layer_sizes=3, random_state=0)
    with pytest.raises(ValueError, match=r"classes=np\.unique"):
        model.partial_fit(X, y)
    assert not hasattr(model, "classes_")
    model.partial_fit(X[:30][y[:30] != 2], y[:30][y[:30] != 2], classes=[0, 1, 2])
    assert list(model.classes_) == [0, 1, 2] and model.head_weight_.shape[0] == 3
    before = model.head_weight_.copy()
    model.partial_fit(X[30:], y[30:])
    assert model.n_iter_ == 2 and not np.array_equal(before, model.head_weight_)
    with pytest.raises(ValueError, match="not fitted on"):
        model.partial_fit(X[:5], np.array([0, 1, 5, 1, 0]))
    assert model.n_iter_ == 2


def test_warm_start_keeps_the_classes():
    X = _sequences(n_samples=90)
    y = _three_classes(X)
    model = LSTMClassifier(hidden_layer_sizes=3, max_iter=2, warm_start=True)
    model.fit(X, y)
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X, np.minimum(y, 1))
    assert list(model.classes_) == [0, 1, 2]


def test_errors_say_what_to_do():
    X = _sequences(n_samples=30)
    with pytest.raises(ValueError, match=r"Unknown label type.*LSTMRegressor"):
        LSTMClassifier(max_iter=1).fit(X, np.linspace(0, 1, 30))
    with pytest.raises(ValueError, match="compute_class_weight"):
        LSTMClassifier(class_weight="balanced").partial_fit(
            X, np.arange(30) % 2, classes=[0, 1]
        )
    with pytest.raises(ValueError, match="early_stopping could not hold out"):
        LSTMClassifier(early_stopping=True, validation_fraction=0.1).fit(
            X, np.r_[np.zeros(29), 1]
        )
    y = np.arange(30) % 2
    _, held_out = train_test_split(
        np.arange(30), test_size=0.5, random_state=0, stratify=y
    )
    weight = np.ones(30)
    weight[held_out] = 0
    with pytest.raises(ValueError, match=r"validation part \(drawn at random"):
        LSTMClassifier(
            early_stopping=True, validation_fraction=0.5, random_state=0
        ).fit(X, y, sample_weight=weight)


def test_clone_and_a_refit_give_the_same_model():
    X = _sequences(n_samples=60)
    y = _three_classes(X)
    model = LSTMClassifier(hidden_layer_sizes=3, max_iter=3, random_state=2)
    first = model.fit(X, y).predict_proba(X)
    again = clone(model).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, again)
    assert accuracy_score(y, model.predict(X)) == model.score(X, y)


def test_a_convergence_warning_as_for_the_regressor():
    X = _sequences(n_samples=30)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(1\\)"):
        LSTMClassifier(hidden_layer_sizes=2, max_iter=1, learning_rate="constant").fit(
            X, np.arange(30) % 2
        )


def test_sample_weight_equivalence_holds_in_float64():
    """The float32 default fails this check only by rounding, as the
    regressor's does (docs/compatibility.rst)."""
    from sklearn.utils.estimator_checks import (
        check_sample_weight_equivalence_on_dense_data,
    )

    check_sample_weight_equivalence_on_dense_data(
        "LSTMClassifier", LSTMClassifier(dtype="float64")
    )
