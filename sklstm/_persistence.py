"""What a fitted estimator saves: its version, and state made of plain data.

Pickle, joblib and skops all save an estimator through ``__getstate__`` and
restore it through ``__setstate__``. :class:`SavedStateMixin` adds the sklstm
version to the saved state and warns on load under another version, as
scikit-learn's ``BaseEstimator`` does for its own estimators. The training
state that :meth:`LSTMRegressor.partial_fit` continues (random stream and
optimiser) is saved as dicts of arrays, numbers and strings, so that a skops
file needs no trust beyond sklstm's public estimators.
"""

import warnings

import numpy as np

from ._lstm._optimizers import AdamOptimizer, SGDOptimizer
from ._lstm._training_state import OptimizerState, TrainingState
from .exceptions import InconsistentVersionWarning

#: Key of the sklstm version in a saved state.
VERSION_KEY = "_sklstm_version"
#: The version of files saved before sklstm recorded it.
UNKNOWN_VERSION = "unknown"

_OPTIMIZERS = {"adam": AdamOptimizer, "sgd": SGDOptimizer}


def _current_version():
    from . import __version__  # the package imports this module first

    return __version__


class SavedStateMixin:
    """Record the sklstm version on save; warn on load under another one."""

    def __getstate__(self):
        state = super().__getstate__()
        return {**state, VERSION_KEY: _current_version()}

    def __setstate__(self, state):
        state = dict(state)
        saved_version = state.pop(VERSION_KEY, UNKNOWN_VERSION)
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
        or velocity, step count...), all host arrays and numbers.
    """
    optimizer = training_state.optimizer.optimizer
    saved_optimizer = None
    if optimizer is not None:
        kind = next(name for name, cls in _OPTIMIZERS.items() if type(optimizer) is cls)
        saved_optimizer = {"kind": kind, **vars(optimizer)}
    return {
        "random_state": training_state.random_state.get_state(legacy=False),
        "optimizer": saved_optimizer,
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
    """
    stream = saved["random_state"]
    bit_generator = getattr(np.random, stream["bit_generator"])
    random_state = np.random.RandomState(bit_generator())
    random_state.set_state(stream)
    optimizer = None
    if saved["optimizer"] is not None:
        attributes = dict(saved["optimizer"])
        optimizer_class = _OPTIMIZERS[attributes.pop("kind")]
        # Its attributes are all it holds: restore them without __init__.
        optimizer = optimizer_class.__new__(optimizer_class)
        optimizer.__dict__.update(attributes)
    return TrainingState(progress, random_state, OptimizerState(optimizer))
