"""The fitted state of an LSTM estimator: written once, read through one view.

:class:`FittedNetworkMixin` assigns every fitted attribute at the end of a
fit and keeps what a warm start or ``partial_fit`` continues (progress,
random stream, optimiser); :class:`~._persistence.SavedStateMixin` saves it
as plain data. ``predict``,
``trace_memory``, ``partial_fit``'s check that it continues the same
network, and the ONNX export all read a fitted model through
:func:`fitted_network`: its weights in the public layout and their gate
order, its shape, what its outputs are (the kind of target, the classes,
the target scaling) and the shape of its output, so that no other module
reads an estimator's private attributes.
"""

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._lstm._engines import prediction_dtype
from ._lstm._gates import GATE_NAMES
from ._lstm._network import (
    NetworkShape,
    pack_parameters,
    unflatten,
    unpack_parameters,
)
from ._lstm._schedules import ScheduleState
from ._lstm._training_state import Progress, TrainingState

#: The gate blocks of ``layers_``, in their order (PyTorch's ``nn.LSTM``).
GATE_ORDER = GATE_NAMES


@dataclass(frozen=True)
class FittedNetwork:
    """The weights, shape and output mapping of a fitted model.

    Attributes
    ----------
    layers : list of dict
        ``layers_``: ``weight_ih``, ``weight_hh`` and ``bias`` per layer.
    head_weight, head_bias : ndarray
        ``head_weight_`` and ``head_bias_``.
    skip_weight : ndarray or None
        ``skip_weight_``; None without a skip connection.
    target_mean, target_scale : ndarray of shape (n_outputs,) or None
        A regressor's target scaling: the network's outputs map to target
        units as ``output * target_scale + target_mean``. None for a
        classifier, whose outputs are its logits.
    one_dimensional : bool
        Whether the model was fitted on a 1-D ``y`` (so that ``predict``
        returns 1-D arrays).
    dtype : numpy dtype
        The training precision (the estimator's ``dtype``).
    target_type : str
        What the outputs are, as :func:`~sklearn.utils.multiclass.type_of_target`
        names it: ``"continuous"`` (a regressor's targets), ``"binary"``,
        ``"multiclass"`` or ``"multilabel-indicator"`` (a classifier's
        logits).
    classes : ndarray or None
        A classifier's ``classes_``; None for a regressor.
    gate_order : tuple of str
        The gate blocks of each layer's weights, in their order:
        :data:`GATE_ORDER`.
    """

    layers: list
    head_weight: np.ndarray
    head_bias: np.ndarray
    skip_weight: Any
    one_dimensional: bool
    dtype: Any
    target_mean: Any = None
    target_scale: Any = None
    target_type: str = "continuous"
    classes: Any = None
    gate_order: tuple = GATE_ORDER

    @property
    def shape(self):
        """The :class:`NetworkShape` of the weights."""
        return NetworkShape(
            # Inputs per step (with n_timesteps, n_features_in_ is wider).
            self.layers[0]["weight_ih"].shape[1],
            tuple(layer["weight_hh"].shape[1] for layer in self.layers),
            self.head_weight.shape[0],
            0 if self.skip_weight is None else self.skip_weight.shape[1],
        )

    @property
    def target_scaling(self):
        """``(target_mean, target_scale)``, or None (a classifier)."""
        if self.target_mean is None:
            return None
        return self.target_mean, self.target_scale

    @property
    def n_outputs(self):
        return self.head_weight.shape[0]

    def flat(self, dtype=None):
        """The weights as one flat NumPy vector of ``dtype`` (default: the
        training precision), in the storage order of ``NetworkShape``."""
        return pack_parameters(
            self.layers,
            self.head_weight,
            self.head_bias,
            self.dtype if dtype is None else dtype,
            self.skip_weight,
        )

    def parameters(self, dtype=None):
        """The weights as ``_network.Parameters`` views of :meth:`flat`."""
        return unflatten(self.flat(dtype), self.shape)

    def in_target_units(self, output):
        """The network's ``(n_samples, n_outputs)`` output in target units (a
        classifier's logits as they are), shaped as ``y`` was in ``fit``."""
        if self.target_mean is not None:
            output = output * self.target_scale + self.target_mean
        return output.ravel() if self.one_dimensional else output


class FittedNetworkMixin:
    """The fitted state of an LSTM estimator: assigned, continued, saved."""

    def _set_fitted(
        self,
        flat,
        shape,
        *,
        scaling,
        one_dimensional,
        run,
        state,
        target_attributes=None,
    ):
        """Assign every fitted attribute at once, from a fit's results.

        Parameters
        ----------
        flat : ndarray
            The trained weights, flat, on the host.
        shape : NetworkShape
        scaling : tuple of ndarray or None
            A regressor's ``(target_mean_, target_scale_)``; None for a
            classifier.
        one_dimensional : bool
            Whether ``y`` was 1-D (``predict`` returns what ``fit`` got).
        run : tuple
            ``(backend, engine, n_timesteps)`` of the fit.
        state : TrainingState
            What a warm start or ``partial_fit`` continues.
        target_attributes : dict, default=None
            The fitted attributes of the encoding of ``y`` (a classifier's
            ``classes_``...), by name.
        """
        backend, engine, n_timesteps = run
        for name, value in (target_attributes or {}).items():
            setattr(self, name, value)
        if scaling is not None:
            self.target_mean_, self.target_scale_ = scaling
        self._one_dimensional = one_dimensional
        (self.layers_, self.head_weight_, self.head_bias_, self.skip_weight_) = (
            unpack_parameters(flat, shape)
        )
        # On a GPU, predict reuses one copy of the weights there, in the
        # dtype it computes in.
        self._device_weights = None
        if backend.name == "cupy":
            self._device_weights = backend.asarray(
                flat, dtype=prediction_dtype(engine, flat.dtype)
            )
        self._training_state = state
        progress = state.progress
        self.loss_curve_ = progress.loss_curve
        self.loss_ = progress.loss
        self.validation_scores_ = progress.validation_scores
        self.best_validation_score_ = progress.best_validation_score
        self.best_loss_ = progress.best_loss
        self.n_iter_ = progress.n_iter
        self.t_ = progress.t
        self.n_outputs_ = shape.n_outputs
        self.n_timesteps_in_ = n_timesteps
        self.backend_ = backend.name
        self.engine_ = engine.name

    def _starting_state(self, warm, incremental, early_stopping):
        """The progress, random stream, optimiser and schedule a fit starts from.

        ``fit`` starts a new optimiser and random stream (continuing the
        progress and the schedule's epochs with ``warm_start``);
        ``partial_fit`` continues all four, as ``MLPRegressor.partial_fit``
        does. Training leaves them as they are but draws from the random
        stream: ``partial_fit`` continues a copy of the kept one, so that a
        call that raises leaves it as it was.
        """
        if not warm:
            return TrainingState(
                Progress.start(early_stopping), check_random_state(self.random_state)
            )
        progress = self._progress().resume(early_stopping)
        previous = getattr(self, "_training_state", None)
        # Absent from training states pickled before schedules existed.
        schedule = getattr(previous, "schedule", None) or ScheduleState()
        if incremental and previous is not None:
            return TrainingState(
                progress,
                copy.deepcopy(previous.random_state),
                previous.optimizer,
                schedule,
            )
        return TrainingState(
            progress, check_random_state(self.random_state), schedule=schedule
        )

    def _progress(self):
        """The fitted training progress, for a warm start to continue."""
        return Progress.from_fitted(vars(self))

    def _network_outputs(self):
        """What the network's outputs are, as :class:`FittedNetwork` fields
        by name: a regressor's target scaling, a classifier's target type
        and classes."""
        return {}


def check_continues(network, shape, incremental):
    """Refuse a warm start or a ``partial_fit`` on data that need a network
    of another ``shape`` than the fitted ``network``'s.

    Raises
    ------
    ValueError
        If the shapes differ, saying what to keep or how to start anew.
    """
    if network.shape == shape:
        return
    how = "partial_fit continues" if incremental else "warm_start=True continues"
    fix = "or fit a new model with fit()" if incremental else "or set warm_start=False"
    raise ValueError(
        f"{how} the fitted network {network.shape}, but these data need {shape}. "
        "Keep hidden_layer_sizes, skip_steps and the number of features and "
        f"outputs, {fix}."
    )


def fitted_network(estimator):
    """The :class:`FittedNetwork` of a fitted LSTM estimator.

    Parameters
    ----------
    estimator : BaseLSTM
        Fitted.

    Returns
    -------
    network : FittedNetwork
    """
    check_is_fitted(estimator)
    return FittedNetwork(
        layers=estimator.layers_,
        head_weight=estimator.head_weight_,
        head_bias=estimator.head_bias_,
        # Absent from models pickled before skip_steps existed.
        skip_weight=getattr(estimator, "skip_weight_", None),
        one_dimensional=estimator._one_dimensional,
        dtype=np.dtype(estimator.dtype),
        **estimator._network_outputs(),
    )
