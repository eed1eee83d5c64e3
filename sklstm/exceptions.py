"""Warnings of sklstm (errors are the standard ``ValueError`` and ``OSError``)."""

from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

__all__ = ["DataChecksumWarning", "InconsistentVersionWarning"]


class InconsistentVersionWarning(_SklearnVersionWarning):
    """An estimator was saved under another version of sklstm than this one.

    Raised (as a warning) when a pickle, joblib or skops file of an sklstm
    estimator is loaded, as scikit-learn's own
    :class:`~sklearn.exceptions.InconsistentVersionWarning` is for
    scikit-learn's estimators, of which it is a subclass: a filter that turns
    scikit-learn's warning into an error catches this one too. Files saved
    before sklstm recorded its version count as ``"unknown"``.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    current_sklstm_version : str
        The version of sklstm that loads it.
    original_sklstm_version : str
        The version that saved it.

    Examples
    --------
    >>> import warnings
    >>> from sklstm import SequenceWindower
    >>> state = SequenceWindower().__getstate__()
    >>> state["_sklstm_version"] = "0.0.1"  # as if saved by another version
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     SequenceWindower.__new__(SequenceWindower).__setstate__(state)
    >>> caught[0].category.__name__, caught[0].message.original_sklstm_version
    ('InconsistentVersionWarning', '0.0.1')
    """

    def __init__(
        self, *, estimator_name, current_sklstm_version, original_sklstm_version
    ):
        self.estimator_name = estimator_name
        self.current_sklstm_version = current_sklstm_version
        self.original_sklstm_version = original_sklstm_version

    def __str__(self):
        return (
            f"Loading {self.estimator_name} saved with sklstm "
            f"{self.original_sklstm_version} under sklstm "
            f"{self.current_sklstm_version}. Its fitted state may not mean the "
            "same thing here: check its predictions, or refit it with this "
            "version (see the page 'Saving and sharing models' of the docs)."
        )


class DataChecksumWarning(UserWarning):
    """A local copy of a data set is not byte for byte the known file.

    :func:`sklstm.datasets.load_beijing_pm25` warns with it when the CSV in the
    data folder has another SHA-256 than the copies it knows, yet holds valid
    data (it may be a cleaned or re-saved copy). Make it an error with
    ``on_checksum_mismatch="raise"`` or ``SKLSTM_ON_CHECKSUM_MISMATCH=raise``.
    """
