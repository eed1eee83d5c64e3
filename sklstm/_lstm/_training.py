"""Minibatch training of the network: the epoch loop, on local state.

An estimator's ``fit`` validates its inputs, calls :func:`train` with a
:class:`~._training_state.TrainingConfig` and the
:class:`~._training_state.TrainingState` to start from, and then assigns
every fitted attribute at once from the :class:`TrainingOutcome` that
:func:`train` returns, the state to carry on included (``MLPRegressor``
assigns them as it trains; sklstm does not): a fit that raises leaves the
estimator as it was, and a fit interrupted with Ctrl-C keeps what it has
learnt. The loop warns of
nothing itself: its :class:`TrainingOutcome` says whether training
converged or was interrupted, and the estimator warns its caller.
"""

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils import gen_batches

from ._layer import Workspace
from ._losses import loss_and_gradient
from ._masking import longest_first
from ._network import backward, dropout_masks, forward, unflatten, weight_mask
from ._optimizers import OPTIMIZERS
from ._schedules import Schedule
from ._stopping import StoppingRule
from ._training_state import BestWeights, OptimizerState, TrainingState


@dataclass
class TrainingData:
    """The training rows on the device, time-major, and their host weights."""

    X: Any  # (steps, n_train, n_features)
    y: Any  # (n_train, n_outputs), scaled
    sample_weight: Any  # (n_train,) on the device
    host_weight: np.ndarray  # (n_train,) on the host, to skip empty batches
    lengths: Any = None  # (n_train,) real steps on the host; None: all whole

    @property
    def n_samples(self):
        return self.host_weight.shape[0]


@dataclass
class Validation:
    """The held-out rows of early stopping, on the host, and their score.

    ``score`` takes the network's output on ``X`` (a float64 host array)
    and returns the validation score, higher is better: the estimator
    decides what it measures (R² in target units, accuracy...).
    """

    X: np.ndarray
    score: Callable[[np.ndarray], float]
    lengths: Any = None  # real steps of NaN-padded sequences


@dataclass
class TrainingOutcome:
    """What :func:`train` returns: the weights to keep, the state to carry
    on, and how it ended."""

    flat: np.ndarray
    state: TrainingState
    converged: bool
    interrupted: bool
    kept_best_epoch: bool


def upload(backend, X, y_scaled, sample_weight, dtype, lengths=None):
    """Put the training rows on the backend's device, time-major, once.

    The NaN padding of sequences of different ``lengths`` becomes zero: the
    masked recurrence never reads it, but the weight gradients' product
    meets it with a zero gradient (NaN times zero is NaN).
    """
    if lengths is not None:
        X = np.where(np.isnan(X), 0, X)
    return TrainingData(
        X=backend.asarray(np.swapaxes(X, 0, 1), dtype=dtype),
        y=backend.asarray(y_scaled, dtype=dtype),
        sample_weight=backend.asarray(sample_weight, dtype=dtype),
        host_weight=sample_weight,
        lengths=lengths,
    )


def make_optimizer(config, flat):
    """The optimiser that ``config.solver`` names, on the flat parameters."""
    return OPTIMIZERS[config.solver].from_config(config, flat)


def train(config, data, validation, flat, shape, engine, start):
    """Run the epochs of ``config`` from ``start``; return all that they give.

    Parameters
    ----------
    config : TrainingConfig
    data : TrainingData
    validation : Validation or None
        The held-out rows of early stopping.
    flat : ndarray
        Initial flat parameters (host).
    shape : NetworkShape
    engine : ArrayEngine or CompiledEngine
    start : TrainingState
        Where the run starts: the progress it continues, the random stream
        that shuffles the epochs and draws the dropout masks, the optimiser
        to continue (``partial_fit``) if it holds one, and the epochs of the
        learning-rate schedule (:mod:`._schedules`). Left as it was, but for
        its random stream, which the run draws from (as a scikit-learn fit
        draws from a ``RandomState`` given as ``random_state``). Whether to
        stop after an epoch is :class:`~._stopping.StoppingRule`'s decision.

    Returns
    -------
    outcome : TrainingOutcome
        The weights to keep, on the host: those of the best validation
        epoch with early stopping, else the last ones; the
        :class:`TrainingState` after the run (its optimiser on the host), for
        the next ``partial_fit`` or warm start; and how the run ended.

    Raises
    ------
    RuntimeError
        If the loss becomes NaN or infinite.
    """
    backend = engine.backend
    xp = backend.xp
    progress = copy.deepcopy(start.progress)
    schedule_state = copy.copy(start.schedule.for_schedule(config.learning_rate))
    params = unflatten(backend.asarray(flat, dtype=config.dtype), shape)
    grads = unflatten(xp.zeros_like(params.flat), shape)
    decay = weight_mask(shape, xp, config.dtype)
    step = _GradientStep(
        config, params, grads, decay, engine, shape, start.random_state
    )
    step.optimizer = start.optimizer.optimizer_on(backend, step.optimizer)
    best = BestWeights(backend)
    schedule = Schedule(config, schedule_state)
    stopping = StoppingRule(
        config.tol,
        config.n_iter_no_change,
        validation=validation is not None,
        watch_loss=not schedule.planned,
    )
    batch_size = config.batch_size_for(data.n_samples)
    total_weight = float(data.host_weight.sum())
    start_time = time.perf_counter()
    converged = interrupted = False
    try:
        for epoch in range(1, config.epochs + 1):
            epoch_loss = _run_epoch(
                step, data, batch_size, start.random_state, schedule, progress.t
            )
            epoch_loss = float(epoch_loss) / total_weight
            _check_finite(config, epoch_loss, epoch)
            score = None
            if validation is not None:
                # The training workspace: validation buffers once per fit.
                output = engine.network_output(
                    params, validation.X, step.workspace, validation.lengths
                )
                score = float(validation.score(output))
            schedule.epoch_ends()
            if progress.record(epoch_loss, score) and score is not None:
                best.keep(params.flat)
            progress.t += data.n_samples
            if config.verbose:
                _print_progress(config, progress, epoch, start_time)
            if stopping(epoch_loss, score):
                message = f"{stopping.describe()}: "
                if (
                    config.learning_rate == "adaptive"
                    and step.optimizer.reduce_step_size()
                ):
                    stopping.restart()
                    if config.verbose:
                        print(f"{message}step size {step.optimizer.step_size:g}.")
                    continue
                if config.verbose:
                    print(f"{message}stopping.")
                converged = True
                break
        else:
            # A planned schedule that ran its max_iter epochs is done.
            converged = config.one_pass or schedule.planned
    except KeyboardInterrupt:
        interrupted = True
    state = TrainingState(
        progress,
        start.random_state,
        OptimizerState.on_host(backend, step.optimizer),
        schedule_state,
    )
    # No early stopping, or no epoch with a comparable validation score:
    # the last weights.
    kept_best_epoch = best.flat is not None
    flat = best.flat if kept_best_epoch else backend.to_numpy(params.flat)
    return TrainingOutcome(flat, state, converged, interrupted, kept_best_epoch)


def _run_epoch(step, data, batch_size, random_state, schedule, samples_seen):
    """One pass over the training rows, each batch at the step size of
    ``schedule``; return the weighted loss sum."""
    backend = step.engine.backend
    n_train = data.n_samples
    shuffle = step.config.shuffle
    host_order = random_state.permutation(n_train) if shuffle else None
    # One host-to-device copy of the epoch's order, not one per batch.
    order = None if host_order is None else backend.asarray(host_order)
    epoch_loss = 0.0
    # A diverging run is stopped with a clear message; the overflow warnings
    # on its way there are noise.
    with np.errstate(over="ignore", invalid="ignore"):
        n_batches = -(-n_train // batch_size)
        for batch_index, batch in enumerate(gen_batches(n_train, batch_size)):
            step_size = schedule.step_size(batch_index, n_batches, samples_seen)
            if step_size is not None:
                step.optimizer.step_size = step_size
            host_index = batch if host_order is None else host_order[batch]
            if not data.host_weight[host_index].any():
                continue  # all weights zero: no loss, no gradient
            mask = None
            if data.lengths is None:
                index = batch if order is None else order[batch]
                X = data.X[:, index]
            else:
                # One batch, its rows longest first, over its longest
                # sequence's steps (the masked recurrence, ``_masking``).
                host_rows = np.arange(n_train)[host_index]
                mask = longest_first(data.lengths[host_rows])
                index = backend.asarray(host_rows[mask.order])
                X = data.X[: mask.steps, index]
            epoch_loss += step(X, data.y[index], data.sample_weight[index], mask)
    return epoch_loss


class _GradientStep:
    """One optimiser step on a batch: forward, loss, backward, penalty, clip."""

    def __init__(self, config, params, grads, decay, engine, shape, random_state):
        self.config = config
        self.params = params
        self.grads = grads
        self.decay = decay
        self.engine = engine
        self.xp = engine.backend.xp
        self.shape = shape
        self.random_state = random_state
        self.workspace = Workspace(self.xp)
        self.optimizer = make_optimizer(config, params.flat)

    def __call__(self, X, y, sample_weight, mask=None):
        """Return the batch's weighted loss sum.

        ``mask``: for NaN-padded sequences, the :class:`~._masking.StepMask`
        of the batch, whose rows come longest first.
        """
        config, xp = self.config, self.xp
        params, grads = self.params, self.grads
        masks = None
        if config.dropout:
            masks = dropout_masks(
                self.shape, config.dropout, X.shape[1], self.random_state,
                self.engine.backend, params.flat.dtype,
            )  # fmt: skip
            if mask is not None:
                # Each row keeps the mask it draws in the batch's order.
                order = self.engine.backend.asarray(mask.order)
                masks = [layer_mask[order] for layer_mask in masks]
        weight_sum = sample_weight.sum()
        loss = self._gradient(X, y, sample_weight, masks, grads, mask)
        flat, flat_grad = params.flat, grads.flat
        if config.alpha:
            penalty = config.alpha / weight_sum
            decayed = self.decay * flat
            loss = loss + 0.5 * penalty * (decayed @ flat)
            flat_grad += penalty * decayed
        if config.gradient_clip is not None:
            norm = xp.sqrt(flat_grad @ flat_grad)
            flat_grad *= xp.minimum(1.0, config.gradient_clip / (norm + 1e-12))
        self.optimizer.update_params(flat, flat_grad)
        return loss * weight_sum

    def _gradient(self, X, y, sample_weight, masks, grads, mask):
        """Forward, loss and backward of time-major ``X``; write ``grads``
        and return the weighted mean loss."""
        X = self.xp.ascontiguousarray(X)
        params, config, workspace = self.params, self.config, self.workspace
        predictions, caches = forward(params, X, workspace, self.engine, masks, mask)
        loss, d_predictions = loss_and_gradient(
            config.loss, y, predictions, sample_weight, self.xp, config.quantile
        )
        backward(
            params, caches, d_predictions, grads, workspace, self.engine, masks, mask
        )
        return loss


def _check_finite(config, epoch_loss, epoch):
    if not np.isfinite(epoch_loss):
        raise RuntimeError(
            f"Training diverged at epoch {epoch}: the loss became "
            f"{epoch_loss}. Use a smaller learning_rate_init (now "
            f"{config.learning_rate_init}), set gradient_clip (e.g. 1.0), or "
            "scale the inputs (e.g. StandardScaler before the windower)."
        )


def _print_progress(config, progress, epoch, start):
    if config.one_pass:  # partial_fit: one pass, no epochs to count down
        print(f"Iteration {progress.n_iter}, loss = {progress.loss_curve[-1]:.8f}")
        return
    elapsed = time.perf_counter() - start
    eta = elapsed / epoch * (config.max_iter - epoch)
    message = f"Epoch {epoch}/{config.max_iter}: loss = {progress.loss_curve[-1]:.6f}"
    if progress.validation_scores is not None:
        message += (
            f", validation {config.validation_name} = "
            f"{progress.validation_scores[-1]:.4f}"
        )
    print(f"{message}, {elapsed:.1f}s elapsed, at most {eta:.0f}s left")
