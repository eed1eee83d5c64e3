"""What a fitted estimator saves: its version, and state made of plain data.

Pickle, joblib and skops all save an estimator through ``__getstate__`` and
restore it through ``__setstate__``, and :class:`SavedStateMixin`, the one
class of sklstm that defines them, does all that saving and loading needs
(:func:`saved_state`, :func:`restored_state`): it adds the sklstm version to
the saved state and warns on load under another version, as scikit-learn's
``BaseEstimator`` does for its own estimators; it leaves out the copy of the
weights on a GPU; and it saves the training state that ``partial_fit``
continues (random stream, optimiser and learning-rate schedule) as dicts of
arrays, numbers and strings, so that a skops file needs no trust beyond
sklstm's public estimators. Where it stands among an estimator's mixins does
not matter, as long as it comes before ``BaseEstimator``.
"""

import numbers
import warnings

import numpy as np

from ._lstm._optimizers import OPTIMIZERS
from ._lstm._schedules import LEARNING_RATES, ScheduleState
from ._lstm._training_state import OptimizerState, Progress, TrainingState
from .exceptions import InconsistentVersionWarning

#: Key of the sklstm version in a saved state.
VERSION_KEY = "_sklstm_version"
#: The version of files saved before sklstm recorded it.
UNKNOWN_VERSION = "unknown"


#: The bit generators a saved random stream may name, and nothing else of
#: ``numpy.random``: loading must not call a function that a file names.
_BIT_GENERATORS = {
    bit_generator.__name__: bit_generator
    for bit_generator in (
        np.random.MT19937,
        np.random.PCG64,
        np.random.PCG64DXSM,
        np.random.Philox,
        np.random.SFC64,
    )
}

_NOT_FROM_SKLSTM = (
    "The file was not written by sklstm, or was changed since: load only "
    "files from a source you trust, or refit the model."
)


def _current_version():
    from . import __version__  # the package imports this module first

    return __version__


class SavedStateMixin:
    """Save and restore an sklstm estimator: the version it was saved
    under, and its state as plain data."""

    def __getstate__(self):
        return saved_state(super().__getstate__())

    def __setstate__(self, state):
        saved_version, state = restored_state(state)
        current = _current_version()
        if saved_version != current:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_sklstm_version=current,
                    original_sklstm_version=saved_version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)


def saved_state(state):
    """What an estimator of ``state`` (its attributes) saves.

    Parameters
    ----------
    state : dict
        ``BaseEstimator.__getstate__``'s.

    Returns
    -------
    saved : dict
        ``state`` with the sklstm version (:data:`VERSION_KEY`), without
        the weights' copy on a GPU (device memory does not pickle), its
        training state as :func:`training_state_to_dict` writes it.
    """
    saved = {**state, VERSION_KEY: _current_version()}
    saved.pop("_device_weights", None)
    if "_training_state" in saved:
        saved["_training_state"] = training_state_to_dict(saved["_training_state"])
    return saved


def restored_state(saved):
    """The version an estimator was saved under, and its attributes.

    Undoes :func:`saved_state`, and reads the files of earlier versions:
    without a version (:data:`UNKNOWN_VERSION`), with the training state as
    an object, without ``loss_``, with ``_y_was_1d``.

    Parameters
    ----------
    saved : dict

    Returns
    -------
    version : str
    state : dict
        For ``BaseEstimator.__setstate__``.

    Raises
    ------
    ValueError
        If the training state is not one that sklstm saves
        (:func:`training_state_from_dict`).
    """
    state = dict(saved)
    version = state.pop(VERSION_KEY, UNKNOWN_VERSION)
    if "_y_was_1d" in state:  # saved before the fact had this name
        state["_one_dimensional"] = state.pop("_y_was_1d")
    training_state = state.get("_training_state")
    # A dict as saved, or the object of a pickle from before; anything else
    # is refused by training_state_from_dict.
    if training_state is not None and not isinstance(training_state, TrainingState):
        state["_training_state"] = training_state_from_dict(
            training_state, Progress.from_fitted(state)
        )
    if "loss_curve_" in state and "loss_" not in state:
        # Saved before loss_ existed.
        state["loss_"] = Progress.from_fitted(state).loss
    return version, state


def training_state_to_dict(training_state):
    """What ``partial_fit`` continues, as nested dicts of arrays and numbers.

    The progress (loss curve, counts) is left out: the fitted attributes
    ``loss_curve_``, ``n_iter_``... hold it already.

    Parameters
    ----------
    training_state : TrainingState

    Returns
    -------
    saved : dict
        ``"random_state"``: the random stream's
        ``RandomState.get_state(legacy=False)``; ``"optimizer"``: None, or
        the optimiser's name (``"kind"``) and attributes (step size, moments
        or velocity, step count...), all host arrays and numbers;
        ``"schedule"``: the learning-rate schedule's ``"name"`` and the
        ``"epochs"`` trained under it.
    """
    optimizer = training_state.optimizer.optimizer
    saved_optimizer = None
    if optimizer is not None:
        saved_optimizer = {"kind": type(optimizer).name, **vars(optimizer)}
    return {
        "random_state": training_state.random_state.get_state(legacy=False),
        "optimizer": saved_optimizer,
        "schedule": {
            "name": training_state.schedule.name,
            "epochs": training_state.schedule.epochs,
        },
    }


def training_state_from_dict(saved, progress):
    """The :class:`TrainingState` that :func:`training_state_to_dict` saved.

    Parameters
    ----------
    saved : dict
    progress : Progress
        The fitted progress, rebuilt from the fitted attributes.

    Returns
    -------
    training_state : TrainingState

    Raises
    ------
    ValueError
        If the random stream names anything but one of NumPy's bit
        generators, or does not hold a state of it, if the optimiser's
        kind is not ``"adam"`` or ``"sgd"``, or if the schedule is not a
        known name and a count of epochs.
    """
    if (
        not isinstance(saved, dict)
        or not {"random_state", "optimizer"} <= saved.keys()
        or not isinstance(saved["optimizer"], (dict, type(None)))
    ):
        raise ValueError(
            "The saved training state is not the dict of a random stream and an "
            f"optimiser that sklstm saves. {_NOT_FROM_SKLSTM}"
        )
    random_state = _random_stream(saved["random_state"])
    optimizer = None
    if saved["optimizer"] is not None:
        attributes = dict(saved["optimizer"])
        kind = attributes.pop("kind", None)
        if not isinstance(kind, str) or kind not in OPTIMIZERS:
            raise ValueError(
                f"The saved optimiser is of kind {kind!r}, not one of "
                f"{sorted(OPTIMIZERS)}. {_NOT_FROM_SKLSTM}"
            )
        optimizer_class = OPTIMIZERS[kind]
        # Its attributes are all it holds: restore them without __init__.
        optimizer = optimizer_class.__new__(optimizer_class)
        optimizer.__dict__.update(attributes)
    return TrainingState(
        progress,
        random_state,
        OptimizerState(optimizer),
        _schedule(saved.get("schedule")),
    )


def _schedule(saved):
    """The :class:`ScheduleState` of a saved dict; a fresh one for files
    saved before schedules existed."""
    if saved is None:
        return ScheduleState()
    valid = (
        isinstance(saved, dict)
        and saved.keys() == {"name", "epochs"}
        and isinstance(saved["name"], str)
        and saved["name"] in LEARNING_RATES
        and isinstance(saved["epochs"], numbers.Integral)
        and not isinstance(saved["epochs"], bool)
        and saved["epochs"] >= 0
    )
    if not valid:
        raise ValueError(
            f"The saved learning-rate schedule {saved!r} is not a dict of a "
            f"name in {list(LEARNING_RATES)} and a count of epochs. "
            f"{_NOT_FROM_SKLSTM}"
        )
    return ScheduleState(saved["name"], int(saved["epochs"]))


def _random_stream(saved):
    """The ``RandomState`` of a saved ``get_state(legacy=False)``, built only
    from one of :data:`_BIT_GENERATORS`."""
    name = saved.get("bit_generator") if isinstance(saved, dict) else None
    if not isinstance(name, str) or name not in _BIT_GENERATORS:
        raise ValueError(
            f"The saved random stream names the bit generator {name!r}, not one "
            f"of NumPy's {sorted(_BIT_GENERATORS)}. {_NOT_FROM_SKLSTM}"
        )
    random_state = np.random.RandomState(_BIT_GENERATORS[name]())
    try:
        random_state.set_state(saved)
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(
            f"The saved random stream is not a state of {name} ({error}). "
            f"{_NOT_FROM_SKLSTM}"
        ) from error
    return random_state
