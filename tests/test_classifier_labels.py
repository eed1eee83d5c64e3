"""LSTMClassifier's labels: partial_fit's classes checked as MLPClassifier
checks them, and classes_ assigned with the weights at the end of a fit."""

import pickle

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

import sklstm._base
from sklstm import LSTMClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _sequences(n_samples=40, steps=4, n_features=2, seed=0):
    return np.random.default_rng(seed).standard_normal((n_samples, steps, n_features))


def _model(**params):
    return LSTMClassifier(hidden_layer_sizes=3, random_state=0, **params)


def _both_refuse(calls, match):
    """Run ``calls(model, X)`` on MLPClassifier (flattened X) and on
    LSTMClassifier: both raise a ValueError, ours with ``match``."""
    X = _sequences()
    with pytest.raises(ValueError):
        calls(MLPClassifier(hidden_layer_sizes=3), X.reshape(len(X), -1))
    model = _model()
    with pytest.raises(ValueError, match=match):
        calls(model, X)
    return model


WORDS = np.array(["down", "up", "typo"])


def test_a_label_outside_classes_is_refused():
    y = WORDS[np.arange(40) % 3]
    model = _both_refuse(
        lambda model, X: model.partial_fit(X, y, classes=["down", "up"]),
        r"labels \['typo'\] that are not in classes=\['down', 'up'\]",
    )
    assert not hasattr(model, "classes_") and not hasattr(model, "layers_")


def test_classes_of_another_type_than_the_labels_are_refused():
    y = WORDS[np.arange(40) % 2]
    _both_refuse(
        lambda model, X: model.partial_fit(X, y, classes=[0, 1, 2]),
        "y's labels are strings and the classes numbers",
    )


def test_a_later_call_with_other_classes_is_refused_and_changes_nothing():
    y = WORDS[np.arange(40) % 2]

    def calls(model, X):
        model.partial_fit(X, y, classes=["down", "up"])
        model.partial_fit(X, y, classes=["up", "down"])  # the same classes
        model.partial_fit(X, y, classes=["down", "up", "sideways"])

    model = _both_refuse(calls, r"classes=\['down', 'up', 'sideways'\] differs")
    assert model.n_iter_ == 2 and list(model.classes_) == ["down", "up"]


def test_multilabel_y_takes_classes_as_mlp_does():
    X = _sequences()
    Y = np.column_stack([X[:, 0, 0] > 0, X[:, -1, 1] > 0, X[:, 1, 0] > 1])
    Y = Y.astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=3, random_state=0)
    mlp.partial_fit(X.reshape(len(X), -1), Y, classes=[0, 1, 2])
    model = _model().partial_fit(X, Y, classes=[0, 1, 2])
    model.partial_fit(X, Y, classes=[0, 1, 2]).partial_fit(X, Y)
    np.testing.assert_array_equal(model.classes_, mlp.classes_)
    assert model.predict(X).shape == Y.shape == mlp.predict(X.reshape(40, -1)).shape
    assert model.out_activation_ == "logistic" and model.n_iter_ == 3
    # Classes that are not the label indices are refused, as by MLP.
    _both_refuse(
        lambda est, X: est.partial_fit(X, Y, classes=[0, 1]),
        r"label indicator matrix of 3 labels.*classes=np\.arange\(3\)",
    )


def test_y_of_another_form_than_the_first_call_is_refused():
    X = _sequences()
    Y = (X[:, :2, 0] > 0).astype(int)
    model = _model().partial_fit(X, Y)
    with pytest.raises(ValueError, match="fitted on a label indicator matrix"):
        model.partial_fit(X, Y[:, 0])
    model = _model().partial_fit(X, Y[:, 0], classes=[0, 1])
    with pytest.raises(ValueError, match="fitted on class labels"):
        model.partial_fit(X, Y)


# --- fitted attributes assigned at the end -----------------------------------


def test_a_refit_shows_its_classes_only_with_its_weights(monkeypatch):
    """While a refit on other classes trains, the estimator still holds the
    previous fit whole: a copy taken then predicts as the previous model."""
    X = _sequences(n_samples=60)
    binary = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    three = np.array(["a", "b", "c"])[np.arange(60) % 3]
    model = _model(max_iter=2).fit(X, binary)
    expected = model.predict_proba(X)
    seen = {}
    train = sklstm._base.train

    def spying_train(*args, **kwargs):
        seen["classes"] = model.classes_.copy()
        seen["activation"] = model.out_activation_
        seen["copy"] = pickle.loads(pickle.dumps(model))
        return train(*args, **kwargs)

    monkeypatch.setattr(sklstm._base, "train", spying_train)
    model.fit(X, three)
    assert list(seen["classes"]) == ["down", "up"]
    assert seen["activation"] == "logistic"
    np.testing.assert_array_equal(seen["copy"].predict_proba(X), expected)
    assert list(model.classes_) == ["a", "b", "c"]
    assert model.out_activation_ == "softmax" and model.head_weight_.shape[0] == 3
