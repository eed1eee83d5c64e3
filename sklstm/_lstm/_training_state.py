"""What training reads and what it carries on: the configuration, the
progress, and the state that ``partial_fit`` continues.

:class:`TrainingConfig` is built once per ``fit`` from the estimator's
parameters and is all that the epoch loop (:func:`._training.train`) reads
of them; :class:`TrainingState` is what a fit leaves for the next
``partial_fit`` or warm start.
"""

import copy
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ._schedules import ScheduleState


@dataclass(frozen=True)
class TrainingConfig:
    """The settings of one training run, frozen.

    Attributes named as the estimator's parameters mean what they do there
    (see :class:`~sklstm.LSTMRegressor`); ``loss`` names a function of
    ``_losses.LOSSES``, ``validation_name`` the validation score in
    verbose output, and ``one_pass`` makes a ``partial_fit``: one pass, no
    convergence warning.
    """

    loss: str
    quantile: float | None
    solver: str
    alpha: float
    dropout: float
    batch_size: Any
    learning_rate: str
    learning_rate_init: float
    max_iter: int
    shuffle: bool
    tol: float
    verbose: bool
    momentum: float
    nesterovs_momentum: bool
    beta_1: float
    beta_2: float
    epsilon: float
    n_iter_no_change: int
    gradient_clip: float | None
    dtype: Any
    validation_name: str = "validation score"
    one_pass: bool = False
    power_t: float = 0.5
    warmup_fraction: float | None = None

    @classmethod
    def from_estimator(cls, estimator, **settings):
        """The configuration of ``estimator``'s parameters of the same names,
        with ``settings`` (the fields the estimator has no parameter for)."""
        values = {
            item.name: getattr(estimator, item.name)
            for item in fields(cls)
            if item.name not in settings and hasattr(estimator, item.name)
        }
        values["dtype"] = np.dtype(values["dtype"])
        return cls(**values, **settings)

    def batch_size_for(self, n_train):
        """The minibatch size for ``n_train`` rows: ``"auto"`` is up to 128."""
        if self.batch_size == "auto":
            return min(128, n_train)
        return min(self.batch_size, n_train)

    @property
    def epochs(self):
        """Most epochs to run: one for ``partial_fit``."""
        return 1 if self.one_pass else self.max_iter


@dataclass
class Progress:
    """What training has done so far; a warm start continues it.

    Attributes mirror the fitted attributes of the same names with a
    trailing underscore (``loss_curve_``, ``validation_scores_``, ...).
    """

    loss_curve: list = field(default_factory=list)
    validation_scores: list | None = None
    best_loss: float | None = None
    best_validation_score: float | None = None
    n_iter: int = 0
    t: int = 0

    @classmethod
    def from_fitted(cls, attributes):
        """The progress that a fitted estimator's ``attributes`` (a mapping
        of ``loss_curve_``, ``n_iter_``... to their values) record."""
        return cls(**{item.name: attributes[f"{item.name}_"] for item in fields(cls)})

    @property
    def loss(self):
        """``loss_``: the last epoch's loss, None before any epoch ends."""
        return self.loss_curve[-1] if self.loss_curve else None

    @classmethod
    def start(cls, early_stopping):
        """Progress of a fresh fit."""
        if early_stopping:
            return cls(validation_scores=[], best_validation_score=-np.inf)
        return cls(best_loss=np.inf)

    def resume(self, early_stopping):
        """This progress, continued by a warm start (switching modes if asked)."""
        progress = Progress(
            loss_curve=list(self.loss_curve),
            validation_scores=(
                list(self.validation_scores or []) if early_stopping else None
            ),
            best_loss=None if early_stopping else self.best_loss,
            best_validation_score=(
                self.best_validation_score if early_stopping else None
            ),
            n_iter=self.n_iter,
            t=self.t,
        )
        if early_stopping and progress.best_validation_score is None:
            progress.best_validation_score = -np.inf
        if not early_stopping and progress.best_loss is None:
            progress.best_loss = np.inf
        return progress

    def record(self, epoch_loss, score):
        """Add one epoch; return whether it improved on the best so far.

        Whether training stops is not decided here but by
        :class:`~._stopping.StoppingRule`.
        """
        self.loss_curve.append(epoch_loss)
        self.n_iter += 1
        if score is not None:
            self.validation_scores.append(score)
            improved = score > self.best_validation_score
            self.best_validation_score = max(self.best_validation_score, score)
        else:
            improved = epoch_loss < self.best_loss
            self.best_loss = min(self.best_loss, epoch_loss)
        return improved


@dataclass
class OptimizerState:
    """The optimiser that ``partial_fit`` continues, as ``MLPRegressor`` does:
    that of the last ``fit`` or ``partial_fit``.

    Kept on the host (so that a model pickles) between calls, and moved to
    the backend's device for each call.
    """

    optimizer: Any = None

    @classmethod
    def on_host(cls, backend, optimizer):
        """The state of ``optimizer``, whose arrays it moves to the host."""
        _move(optimizer, backend.to_numpy)
        return cls(optimizer)

    def optimizer_on(self, backend, new_optimizer):
        """The optimiser for this call: a copy of the kept one on
        ``backend``'s device (the kept one stays as it is), else
        ``new_optimizer``."""
        if self.optimizer is None:
            return new_optimizer
        optimizer = copy.deepcopy(self.optimizer)
        _move(optimizer, backend.asarray)
        return optimizer


def _move(optimizer, to):
    """Move the state arrays of ``optimizer`` with ``to``, in place."""
    for name in type(optimizer).state_arrays:
        if getattr(optimizer, name) is not None:
            setattr(optimizer, name, to(getattr(optimizer, name)))


@dataclass
class TrainingState:
    """What a fit carries on and a ``partial_fit`` continues: the progress,
    the random stream that shuffles the epochs, the optimiser, and the
    epochs of the learning-rate schedule."""

    progress: Progress
    random_state: Any
    optimizer: OptimizerState = field(default_factory=OptimizerState)
    schedule: ScheduleState = field(default_factory=ScheduleState)


class BestWeights:
    """A host copy of the weights of the best epoch so far."""

    def __init__(self, backend):
        self._backend = backend
        self.flat = None

    def keep(self, flat):
        self.flat = self._backend.to_numpy(flat).copy()
