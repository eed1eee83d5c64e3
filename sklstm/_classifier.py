"""LSTMClassifier: a many-to-one LSTM classifier with the scikit-learn API."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from ._base import BaseLSTM
from ._class_labels import (
    MULTILABEL,
    checked_labels,
    label_attributes,
    label_encoding,
    strata,
    validation_targets,
)
from ._class_weight import check_for_partial_fit, class_sample_weight
from ._docstrings import fill_docstring
from ._lstm._losses import sigmoid, softmax
from ._sklearn_compat import StrOptions, _fit_context
from ._validation_split import check_parts_have_weight


@fill_docstring
class LSTMClassifier(ClassifierMixin, BaseLSTM):
    """Many-to-one LSTM classifier, trained by backpropagation through time.

    Each sample is a sequence of ``n_timesteps`` feature vectors, read step
    by step by stacked LSTM layers from zero memories, as in
    :class:`LSTMRegressor`; a linear head maps the last hidden state to one
    logit per class, and a softmax (multiclass) or a sigmoid (binary and
    multilabel targets) turns the logits into probabilities. Training
    minimises the log loss, as ``MLPClassifier`` does (:doc:`/classification`).

    Parameters
    ----------
    $sequence_parameters
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as scikit-learn's linear models
        take them: ``{class_label: weight}``, finite and ``>= 0`` (a class
        left out weighs 1); ``"balanced"`` weighs each class by
        ``n_samples / (n_classes * np.bincount(y))``, counting the samples
        by their ``sample_weight``; None weighs them all 1. They multiply
        ``sample_weight``. For a label indicator ``y``, ``"balanced"``
        balances each label's 0s and 1s and multiplies the weights across
        labels; a dict is refused. ``partial_fit`` takes a dict or None
        (compute balanced weights with
        :func:`~sklearn.utils.class_weight.compute_class_weight` over all
        the classes first).
    $optimiser_parameters
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the samples (independent
        sequences) at random, seeded by ``random_state`` and stratified by
        class for binary and multiclass targets (or take the ``X_val`` and
        ``y_val`` given to ``fit``), stop when their accuracy stops
        improving, and restore the best weights.
    $stopping_parameters
    $engine_parameters

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (for multilabel targets, the label indices).
    $network_attributes
    $loss_curve_attribute
    validation_scores_ : list of float or None
        Accuracy of the held-out samples after each epoch when
        ``early_stopping``, else None.
    $fit_attributes
    out_activation_ : {"logistic", "softmax"}
        The output activation: softmax for multiclass targets, the logistic
        sigmoid for binary and multilabel ones.

    See Also
    --------
    LSTMRegressor : The regressor on the same base.
    sklearn.neural_network.MLPClassifier : The classifier whose API this follows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 10, 1))
    >>> y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    >>> model = LSTMClassifier(
    ...     hidden_layer_sizes=8, learning_rate_init=0.01, max_iter=40,
    ...     random_state=0,
    ... ).fit(X[:150], y[:150])
    >>> model.classes_
    array(['down', 'up'], dtype='<U4')
    >>> model.predict_proba(X[150:]).shape
    (50, 2)
    """

    _parameter_constraints = {
        **BaseLSTM._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _numeric_target = False

    def __init__(
        self,
        hidden_layer_sizes=(64,),
        skip_steps=0,
        n_timesteps=None,
        step_order="oldest_first",
        column_grouping="by_step",
        class_weight=None,
        solver="adam",
        alpha=0.0001,
        dropout=0.0,
        batch_size="auto",
        learning_rate="cosine",
        learning_rate_init=0.001,
        power_t=0.5,
        warmup_fraction=None,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=30,
        gradient_clip=None,
        dtype="float32",
        n_threads=None,
        backend="auto",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.skip_steps = skip_steps
        self.n_timesteps = n_timesteps
        self.step_order = step_order
        self.column_grouping = column_grouping
        self.class_weight = class_weight
        self.solver = solver
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.warmup_fraction = warmup_fraction
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clip = gradient_clip
        self.dtype = dtype
        self.n_threads = n_threads
        self.backend = backend

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one pass over ``X`` and ``y``.

        As ``MLPClassifier.partial_fit``: the first call needs every class
        (``classes``) and initialises the weights; every call makes one
        pass from the current weights and optimiser state. A call that
        raises leaves the model as it was (weights, optimiser state, random
        stream and progress).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences, oldest step first.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a label indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        classes : array-like of shape (n_classes,), default=None
            Every class that any call will see: required in the first call
            (for a label indicator ``y``, optional and the label indices
            ``np.arange(n_labels)``). A ``y`` with a label outside them is
            refused; a later call may pass them again, unchanged.

        Returns
        -------
        self : LSTMClassifier
            The updated estimator.
        """
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None and type_of_target(y) != MULTILABEL:
            raise ValueError(
                "The first call to partial_fit needs every class that any call "
                "will see: pass classes=np.unique(y_all)."
            )
        check_for_partial_fit(self.class_weight)
        return self._fit_keeping_state(
            X, y, sample_weight, incremental=True, classes=classes
        )

    def predict_proba(self, X):
        """Probability of each class for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences, as for :meth:`predict`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_`` (of each label for multilabel
            targets), computed as :ref:`prediction-precision` states.
        """
        logits = self._predicted_outputs(X)
        if self.out_activation_ == "softmax":
            return softmax(np, logits)
        positive = sigmoid(np, logits)
        if len(self.classes_) <= 2 and logits.shape[1] == 1:  # binary
            return np.column_stack([1 - positive[:, 0], positive[:, 0]])
        return positive

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict the class of each sequence of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences; the number of steps may differ from ``fit``'s.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class (labels of ``classes_``), or the label
            indicator matrix for multilabel targets.
        """
        indicator = _indicator(self._predicted_outputs(X), self.out_activation_)
        return self._label_binarizer.inverse_transform(indicator)

    # --- what the base asks of an estimator ---------------------------------

    def _training_targets(self, y, sample_weight, *, first_fit, classes=None):
        y = checked_labels(y)
        binarizer = label_encoding(
            y,
            fitted=None if first_fit else self._label_binarizer,
            classes=classes,
            warm_start=self.warm_start,
        )
        multilabel = binarizer.y_type_ == MULTILABEL
        sample_weight = class_sample_weight(
            self.class_weight,
            y,
            binarizer.classes_,
            sample_weight,
            multilabel=multilabel,
        )
        targets = binarizer.transform(y).astype(np.float64)
        return targets, sample_weight, False, label_attributes(binarizer)

    def _network_outputs(self):
        return {
            "target_type": self._label_binarizer.y_type_,
            "classes": self.classes_,
        }

    def _loss_settings(self, fitted):
        multiclass = fitted["out_activation_"] == "softmax"
        loss = "softmax_log_loss" if multiclass else "log_loss"
        return {"loss": loss, "quantile": None, "validation_name": "accuracy"}

    def _split_for_early_stopping(self, targets, sample_weight, fitted):
        """A random hold-out of ``validation_fraction``, stratified by class
        (not for multilabel targets)."""
        stratify = strata(targets, fitted["_label_binarizer"])
        return _random_hold_out(
            sample_weight, self.validation_fraction, self.random_state, stratify
        )

    def _validation_targets(self, y_val, fitted):
        return validation_targets(y_val, fitted["_label_binarizer"])

    def _validation_scorer(self, targets, sample_weight, scaling, fitted):
        activation = fitted["out_activation_"]

        def score(logits):
            predicted = _indicator(logits, activation)
            return accuracy_score(targets, predicted, sample_weight=sample_weight)

        return score


def _indicator(logits, activation):
    """The 0/1 indicator of the predicted classes, as ``LabelBinarizer``
    encodes them: one-hot of the largest logit for softmax, else each
    positive logit."""
    if activation == "softmax":
        indicator = np.zeros(logits.shape, dtype=int)
        indicator[np.arange(len(logits)), logits.argmax(axis=1)] = 1
        return indicator
    return (logits > 0).astype(int)


def _random_hold_out(sample_weight, validation_fraction, random_state, stratify):
    """``(training_rows, validation_rows)``, sorted, drawn at random."""
    n_samples = len(sample_weight)
    try:
        train, held_out = train_test_split(
            np.arange(n_samples),
            test_size=validation_fraction,
            random_state=check_random_state(random_state),
            stratify=stratify,
        )
    except ValueError as error:
        raise ValueError(
            f"early_stopping could not hold out validation_fraction="
            f"{validation_fraction} of the {n_samples} samples with every class "
            f"in both parts ({error}). Pass more samples, change "
            "validation_fraction, or set early_stopping=False."
        ) from error
    train, held_out = np.sort(train), np.sort(held_out)
    check_parts_have_weight(
        sample_weight,
        {"training part": train, "validation part (drawn at random)": held_out},
    )
    return train, held_out
