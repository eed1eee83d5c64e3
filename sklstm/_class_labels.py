"""How :class:`~sklstm.LSTMClassifier` reads ``y``: its labels, the classes
that ``partial_fit`` is given, and the ``LabelBinarizer`` that encodes them,
with ``MLPClassifier``'s rules and clearer errors."""

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import type_of_target, unique_labels

MULTILABEL = "multilabel-indicator"

_PARTIAL_FIT_FIX = (
    "Pass every class of y_all to the first partial_fit (classes="
    "np.unique(y_all)), or fit a new model."
)


def checked_labels(y):
    """``y`` as labels (a column vector made 1-D, as ``MLPClassifier`` does).

    Raises
    ------
    ValueError
        If ``y`` holds no class labels (a continuous target, say).
    """
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    target_type = type_of_target(y, input_name="y")
    if target_type not in ("binary", "multiclass", MULTILABEL):
        raise ValueError(
            f"Unknown label type {target_type!r}: LSTMClassifier needs class "
            "labels or a label indicator matrix. For a continuous target, use "
            "LSTMRegressor."
        )
    return y


def label_encoding(y, *, fitted=None, classes=None, warm_start=False):
    """The ``LabelBinarizer`` that encodes ``y`` for training.

    Parameters
    ----------
    y : ndarray
        Labels, as :func:`checked_labels` returns them.
    fitted : LabelBinarizer or None
        That of the fit continued (a warm start or a later ``partial_fit``),
        or None for a first fit.
    classes : array-like or None
        ``partial_fit``'s ``classes``: every class any call will see.
    warm_start : bool
        Whether ``fit`` continues with ``warm_start`` (``y`` must then have
        the fitted classes exactly, as ``MLPClassifier`` asks).

    Returns
    -------
    binarizer : LabelBinarizer
        ``fitted``, checked against ``y`` and ``classes``, or a new one.

    Raises
    ------
    ValueError
        If ``y`` has a label outside ``classes`` (or outside the fitted
        classes), ``classes`` differs from the fitted classes, or ``y`` is a
        label indicator matrix where the model was fitted on labels or the
        other way round.
    """
    multilabel = type_of_target(y) == MULTILABEL
    if fitted is None:
        binarizer = LabelBinarizer()
        if multilabel or classes is None:
            binarizer.fit(y)
            if classes is not None:
                _check_label_indices(binarizer.classes_, classes)
        else:
            binarizer.fit(_checked_classes(classes))
            _check_labels_in(
                unique_labels(y), binarizer.classes_, "are not in classes="
            )
        return binarizer
    if classes is not None and not _same_labels(classes, fitted.classes_):
        raise ValueError(
            f"classes={_shown(classes)} differs from the classes of the first "
            f"partial_fit, {_shown(fitted.classes_)} (classes_). Pass the same "
            "classes, or none after the first call; fit a new model for others."
        )
    if multilabel != (fitted.y_type_ == MULTILABEL):
        fitted_as, now = "a label indicator matrix", "class labels"
        if multilabel:
            fitted_as, now = now, fitted_as
        raise ValueError(
            f"The model was fitted on {fitted_as}, and y is now {now}. Give y "
            "in the form of the first fit, or fit a new model."
        )
    seen = unique_labels(y)
    if warm_start and set(seen) != set(fitted.classes_):
        raise ValueError(
            "warm_start can only be used where y has the same classes as in the "
            f"previous fit: previously {fitted.classes_}, now {seen}. Set "
            "warm_start=False to fit new classes."
        )
    _check_labels_in(seen, fitted.classes_, "the model was not fitted on: classes_=")
    return fitted


def label_attributes(binarizer):
    """The fitted attributes of the encoding ``binarizer``, by name, for the
    base to assign at the end of the fit, with the weights they go with."""
    return {
        "_label_binarizer": binarizer,
        "classes_": binarizer.classes_,
        "out_activation_": (
            "softmax" if binarizer.y_type_ == "multiclass" else "logistic"
        ),
    }


def strata(targets, binarizer):
    """The class of each row of the encoded ``targets``, to stratify a
    hold-out by; None for a label indicator ``y`` (no single class)."""
    if binarizer.y_type_ == MULTILABEL:
        return None
    if targets.shape[1] == 1:  # binary: one 0/1 column
        return targets[:, 0]
    return targets.argmax(axis=1)


def validation_targets(y_val, binarizer):
    """The labels ``y_val`` of early stopping's validation set, encoded as
    the fitted ``binarizer`` encodes ``y`` for training.

    Raises
    ------
    ValueError
        If ``y_val`` holds no class labels, has labels outside the classes
        of ``y``, or is a label indicator matrix where ``y`` is labels (or
        the other way round, or one of other labels).
    """
    y_val = checked_labels(y_val)
    n_labels = y_val.shape[1] if type_of_target(y_val) == MULTILABEL else None
    n_fitted = len(binarizer.classes_) if binarizer.y_type_ == MULTILABEL else None
    if n_labels != n_fitted:
        raise ValueError(
            f"y_val is {_form(n_labels)} and y {_form(n_fitted)}: give y_val "
            "in the form of y."
        )
    _check_labels_in(
        unique_labels(y_val),
        binarizer.classes_,
        "are not among the classes of y, classes_=",
        name="y_val",
        fix=(
            "Early stopping scores the classes the model learns: drop those "
            "rows from X_val and y_val, or fit on y with those classes."
        ),
    )
    return binarizer.transform(y_val).astype(np.float64)


def _checked_classes(classes):
    """``classes`` as the sorted array of its distinct labels."""
    try:
        return unique_labels(classes)
    except ValueError as error:
        raise ValueError(
            f"classes={_shown(classes)} must be class labels, all strings or all "
            f"integers ({error}). Pass classes=np.unique(y_all)."
        ) from error


def _check_labels_in(seen, known, which, *, name="y", fix=_PARTIAL_FIT_FIX):
    """Refuse labels of ``name`` (``seen``) outside the ``known`` classes;
    ``which`` says what ``known`` is, ``fix`` how to mend it."""
    known_set = set(known.tolist())
    unknown = [label for label in seen.tolist() if label not in known_set]
    if not unknown:
        return
    hint = ""
    if _is_text(seen) != _is_text(known):
        kinds = ("strings", "numbers")
        labels, classes = kinds if _is_text(seen) else kinds[::-1]
        hint = f" {name}'s labels are {labels} and the classes {classes}."
    raise ValueError(
        f"{name} has labels {_shown(unknown)} that {which}{_shown(known)}.{hint} {fix}"
    )


def _check_label_indices(indices, classes):
    """A label indicator ``y`` has the classes ``0 .. n_labels - 1``."""
    if not _same_labels(classes, indices):
        raise ValueError(
            f"y is a label indicator matrix of {len(indices)} labels, whose "
            f"classes are their indices {_shown(indices)}, but classes="
            f"{_shown(classes)}. Pass classes=np.arange({len(indices)}), or "
            "classes=None."
        )


def _form(n_labels):
    """How a message names labels, or an indicator matrix of ``n_labels``."""
    if n_labels is None:
        return "class labels"
    return f"a label indicator matrix of {n_labels} labels"


def _same_labels(classes, fitted):
    try:
        return np.array_equal(unique_labels(classes), fitted)
    except ValueError:  # not labels, or strings mixed with numbers
        return False


def _is_text(labels):
    labels = np.asarray(labels)
    if labels.dtype.kind == "O":
        return any(isinstance(label, str) for label in labels.tolist())
    return labels.dtype.kind in "US"


def _shown(labels):
    """Labels as a short list for a message."""
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    labels = [
        label.item() if isinstance(label, np.generic) else label for label in labels
    ]
    return repr(labels if len(labels) <= 10 else [*labels[:10], "..."])
