"""``class_weight``: the weight of each sample's class, checked so that
weights that cannot train are refused by name."""

from numbers import Real

import numpy as np
from sklearn.utils.class_weight import compute_class_weight


def class_sample_weight(class_weight, y, classes, sample_weight, *, multilabel):
    """``sample_weight`` times the weight of each sample's class.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        The classifier's parameter.
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        Labels (each one of ``classes``), or a 0/1 label indicator matrix.
    classes : ndarray
        Every class, sorted (``LabelBinarizer.classes_``).
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, not all zero.
    multilabel : bool
        Whether ``y`` is a label indicator matrix.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        If a weight of ``class_weight`` is not a finite number ``>= 0``, if
        it is a dict for a label indicator ``y``, or if it leaves every
        sample with a zero weight.

    Notes
    -----
    ``"balanced"`` weighs each class by ``n_samples / (n_classes *
    count)``, counting the samples by their ``sample_weight`` (as
    :func:`~sklearn.utils.class_weight.compute_class_weight` does with
    ``sample_weight``) and leaving out the samples of weight zero, so that
    integer weights give what repeating each sample that many times gives.
    For a label indicator ``y`` each label's 0s and 1s are balanced and the
    weights multiply across labels, as
    :func:`~sklearn.utils.class_weight.compute_sample_weight` does.
    """
    if class_weight is None:
        return sample_weight
    if isinstance(class_weight, dict):
        if multilabel:
            raise ValueError(
                f"class_weight={class_weight!r} weighs the classes of a binary or "
                "multiclass y, but y is a label indicator matrix (multilabel), "
                "whose columns are labels. Use class_weight='balanced' (the 0s "
                "and 1s of each label balanced), weigh the samples with "
                "sample_weight, or set class_weight=None."
            )
        _check_weights(class_weight)
        weights = compute_class_weight(class_weight, classes=classes, y=y)
        per_sample = weights[np.searchsorted(classes, y)]
    elif multilabel:
        per_sample = np.prod(
            [_balanced(column, sample_weight) for column in y.T], axis=0
        )
    else:
        per_sample = _balanced(y, sample_weight)
    weighted = sample_weight * per_sample
    if not weighted.any():
        raise ValueError(
            f"class_weight={class_weight!r} gives every sample of y a zero weight "
            "(with sample_weight), which leaves nothing to train on. Give a "
            "positive weight to a class that y holds."
        )
    return weighted


def check_for_partial_fit(class_weight):
    """Refuse ``"balanced"``, which needs all the data at once."""
    if isinstance(class_weight, str) and class_weight == "balanced":
        raise ValueError(
            "class_weight='balanced' weighs the classes of all the data, "
            "which partial_fit does not see at once. Pass class_weight="
            "dict(zip(classes, compute_class_weight('balanced', "
            "classes=classes, y=y_all)))."
        )


def _check_weights(class_weight):
    """Refuse a weight that is not a finite number ``>= 0``."""
    bad = {
        label: weight
        for label, weight in class_weight.items()
        if not _finite_non_negative(weight)
    }
    if bad:
        raise ValueError(
            f"class_weight must map each class to a finite number >= 0, as "
            f"sample_weight must be; got {bad!r}. Give those classes a finite "
            "weight >= 0 (0 leaves them out of the loss)."
        )


def _finite_non_negative(weight):
    if not isinstance(weight, Real):
        return False
    try:
        return bool(np.isfinite(float(weight)) and weight >= 0)
    except OverflowError:  # an int beyond float's range
        return False


def _balanced(y, sample_weight):
    """The balanced weight of each sample's class, counted by weight; zero
    for the samples of weight zero (they count as absent)."""
    present = sample_weight > 0
    labels = np.unique(y[present])
    weights = compute_class_weight(
        "balanced",
        classes=labels,
        y=y[present],
        sample_weight=sample_weight[present],
    )
    per_sample = np.zeros(len(y))
    per_sample[present] = weights[np.searchsorted(labels, y[present])]
    return per_sample
