"""Minibatch training of the network: the epoch loop, on local state.

:meth:`LSTMRegressor.fit` validates its inputs, calls :func:`train` and then
assigns every fitted attribute at once from what :func:`train` returns, the
way ``MLPRegressor`` does: a fit that raises leaves the estimator as it was,
and a fit interrupted with Ctrl-C keeps what it has learnt.
"""

import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import d2_pinball_score, r2_score
from sklearn.utils import gen_batches

from ._layer import Workspace
from ._losses import loss_and_gradient
from ._network import backward, dropout_masks, forward, unflatten, weight_mask
from ._optimizers import AdamOptimizer, SGDOptimizer


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
    no_improvement_count: int = 0

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

    def record(self, epoch_loss, score, tol):
        """Add one epoch; return whether it improved on the best so far.

        The no-improvement count follows ``MLPRegressor``: an epoch counts as
        no improvement unless it beats the best by more than ``tol``.
        """
        self.loss_curve.append(epoch_loss)
        self.n_iter += 1
        if score is not None:
            self.validation_scores.append(score)
            improved = score > self.best_validation_score
            no_better = score < self.best_validation_score + tol
            self.best_validation_score = max(self.best_validation_score, score)
        else:
            improved = epoch_loss < self.best_loss
            no_better = epoch_loss > self.best_loss - tol
            self.best_loss = min(self.best_loss, epoch_loss)
        self.no_improvement_count = self.no_improvement_count + 1 if no_better else 0
        return improved


@dataclass
class TrainingData:
    """The training rows on the device, time-major, and their host weights."""

    X: Any  # (steps, n_train, n_features)
    y: Any  # (n_train, n_outputs), scaled
    sample_weight: Any  # (n_train,) on the device
    host_weight: np.ndarray  # (n_train,) on the host, to skip empty batches

    @property
    def n_samples(self):
        return self.host_weight.shape[0]


@dataclass
class Validation:
    """The held-out rows of early stopping, in target units, on the host."""

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray
    target_mean: np.ndarray
    target_scale: np.ndarray


def split_for_early_stopping(n_samples, validation_fraction, sample_weight):
    """Number of training rows: all but the last ``validation_fraction``.

    Raises
    ------
    ValueError
        If either part is too small, or all of its sample weights are zero.
    """
    n_val = int(np.ceil(validation_fraction * n_samples))
    n_train = n_samples - n_val
    if n_val < 2 or n_train < 1:
        raise ValueError(
            f"early_stopping holds out the last validation_fraction="
            f"{validation_fraction} of the {n_samples} samples, which leaves "
            f"{n_val} for validation and {n_train} for training; both need at "
            "least 2 and 1. Pass more samples, change validation_fraction, or "
            "set early_stopping=False."
        )
    for part, weights in (
        (f"training part (the first {n_train} samples)", sample_weight[:n_train]),
        (f"validation part (the last {n_val} samples)", sample_weight[n_train:]),
    ):
        if not weights.any():
            raise ValueError(
                f"early_stopping: every sample_weight of the {part} is zero, so "
                "that part has nothing to measure. Give it some non-zero "
                "weights, change validation_fraction, or set "
                "early_stopping=False."
            )
    return n_train


def upload(backend, X, y_scaled, sample_weight, dtype):
    """Put the training rows on the backend's device, time-major, once."""
    return TrainingData(
        X=backend.asarray(np.swapaxes(X, 0, 1), dtype=dtype),
        y=backend.asarray(y_scaled, dtype=dtype),
        sample_weight=backend.asarray(sample_weight, dtype=dtype),
        host_weight=sample_weight,
    )


class BestWeights:
    """A host copy of the weights of the best epoch so far."""

    def __init__(self, backend):
        self._backend = backend
        self.flat = None

    def keep(self, flat):
        self.flat = self._backend.to_numpy(flat).copy()


def make_optimizer(model, flat):
    """The optimiser that ``model.solver`` names, on the flat parameters."""
    if model.solver == "sgd":
        return SGDOptimizer(
            flat, model.learning_rate_init, model.momentum, model.nesterovs_momentum
        )
    return AdamOptimizer(
        flat, model.learning_rate_init, model.beta_1, model.beta_2, model.epsilon
    )


def batch_size_for(model, n_train):
    if model.batch_size == "auto":
        return min(128, n_train)
    return min(model.batch_size, n_train)


def train(model, data, validation, flat, shape, engine, state, *, one_pass=False):
    """Run the epochs of ``model``'s settings on local state.

    Parameters
    ----------
    model : LSTMRegressor
        Read for its hyperparameters only; nothing is assigned to it.
    data : TrainingData
    validation : Validation or None
        The held-out rows when ``model.early_stopping``.
    flat : ndarray
        Initial flat parameters (host).
    shape : NetworkShape
    engine : ArrayEngine or CompiledEngine
    state : TrainingState
        Its progress is updated in place, epoch by epoch; its random stream
        shuffles the epochs; its optimiser is continued if it holds one
        (``partial_fit``) and holds this run's optimiser afterwards.
    one_pass : bool, default=False
        ``partial_fit``: one pass over ``data``, no convergence warning.

    Returns
    -------
    flat : ndarray
        The weights to keep, on the host: those of the best validation
        epoch with early stopping, else the last ones.
    """
    dtype = np.dtype(model.dtype)
    backend, progress = engine.backend, state.progress
    xp = backend.xp
    params = unflatten(backend.asarray(flat, dtype=dtype), shape)
    grads = unflatten(xp.zeros_like(params.flat), shape)
    decay = weight_mask(shape, xp, dtype)
    step = _GradientStep(
        model, params, grads, decay, engine, xp, shape, state.random_state
    )
    step.optimizer = state.optimizer.optimizer_on(backend, step.optimizer)
    max_iter = 1 if one_pass else model.max_iter
    best = BestWeights(backend)
    batch_size = batch_size_for(model, data.n_samples)
    total_weight = float(data.host_weight.sum())
    start = time.perf_counter()
    try:
        for epoch in range(1, max_iter + 1):
            epoch_loss = _run_epoch(
                step, data, batch_size, state.random_state, backend, model.shuffle
            )
            epoch_loss = float(epoch_loss) / total_weight
            _check_finite(model, epoch_loss, epoch)
            score = None
            if validation is not None:
                score = _validation_score(
                    model, engine, params, validation, step.workspace
                )
            if progress.record(epoch_loss, score, model.tol) and score is not None:
                best.keep(params.flat)
            progress.t += data.n_samples
            if model.verbose:
                _print_progress(model, progress, epoch, start)
            if progress.no_improvement_count > model.n_iter_no_change:
                message = (
                    f"No improvement of more than tol={model.tol} for "
                    f"{model.n_iter_no_change} epochs: "
                )
                if (
                    model.learning_rate == "adaptive"
                    and step.optimizer.reduce_step_size()
                ):
                    progress.no_improvement_count = 0
                    if model.verbose:
                        print(f"{message}step size {step.optimizer.step_size:g}.")
                    continue
                if model.verbose:
                    print(f"{message}stopping.")
                break
        else:
            if not one_pass:
                _warn_no_convergence(model)
    except KeyboardInterrupt:
        warnings.warn(
            f"Training interrupted by the user after {progress.n_iter} complete "
            "epoch(s); keeping "
            + (
                "the weights of the best validation epoch."
                if best.flat is not None
                else "the weights reached so far."
            ),
            UserWarning,
            stacklevel=5,
        )
    state.optimizer.keep(backend, step.optimizer)
    if best.flat is not None:
        return best.flat
    # No early stopping, or no epoch with a comparable validation score.
    return backend.to_numpy(params.flat)


@dataclass
class OptimizerState:
    """The optimiser that ``partial_fit`` continues, as ``MLPRegressor`` does:
    that of the last ``fit`` or ``partial_fit``.

    Kept on the host (so that a model pickles) between calls, and moved to
    the backend's device for each call.
    """

    optimizer: Any = None

    _STATE = ("velocity", "first_moment", "second_moment")

    def optimizer_on(self, backend, new_optimizer):
        """The optimiser for this call: the kept one, else ``new_optimizer``."""
        if self.optimizer is None:
            return new_optimizer
        self._move(self.optimizer, backend.asarray)
        return self.optimizer

    def keep(self, backend, optimizer):
        """Keep ``optimizer``'s state, on the host, for the next call."""
        self._move(optimizer, backend.to_numpy)
        self.optimizer = optimizer

    def _move(self, optimizer, to):
        for name in self._STATE:
            if getattr(optimizer, name, None) is not None:
                setattr(optimizer, name, to(getattr(optimizer, name)))


@dataclass
class TrainingState:
    """What a fit carries on and a ``partial_fit`` continues: the progress,
    the random stream that shuffles the epochs, and the optimiser."""

    progress: Progress
    random_state: Any
    optimizer: OptimizerState = field(default_factory=OptimizerState)


def _warn_no_convergence(model):
    warnings.warn(
        f"Stochastic Optimizer: Maximum iterations ({model.max_iter}) "
        "reached and the optimization hasn't converged yet.",
        ConvergenceWarning,
        stacklevel=6,
    )


def _run_epoch(step, data, batch_size, random_state, backend, shuffle):
    """One pass over the training rows; return the weighted loss sum."""
    n_train = data.n_samples
    host_order = random_state.permutation(n_train) if shuffle else None
    # One host-to-device copy of the epoch's order, not one per batch.
    order = None if host_order is None else backend.asarray(host_order)
    epoch_loss = 0.0
    # A diverging run is stopped with a clear message; the overflow warnings
    # on its way there are noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for batch in gen_batches(n_train, batch_size):
            host_index = batch if host_order is None else host_order[batch]
            if not data.host_weight[host_index].any():
                continue  # all weights zero: no loss, no gradient
            index = batch if order is None else order[batch]
            epoch_loss += step(
                data.X[:, index], data.y[index], data.sample_weight[index]
            )
    return epoch_loss


class _GradientStep:
    """One optimiser step on a batch: forward, loss, backward, penalty, clip."""

    def __init__(self, model, params, grads, decay, engine, xp, shape, random_state):
        self.model = model
        self.params = params
        self.grads = grads
        self.decay = decay
        self.engine = engine
        self.xp = xp
        self.shape = shape
        self.random_state = random_state
        self.workspace = Workspace(xp)
        self.optimizer = make_optimizer(model, params.flat)

    def __call__(self, X, y, sample_weight):
        """Return the batch's weighted loss sum."""
        model, xp = self.model, self.xp
        params, grads = self.params, self.grads
        X = xp.ascontiguousarray(X)
        masks = None
        if model.dropout:
            masks = dropout_masks(
                self.shape, model.dropout, X.shape[1], self.random_state,
                self.engine.backend, params.flat.dtype,
            )  # fmt: skip
        predictions, caches = forward(params, X, self.workspace, self.engine, masks)
        loss, d_predictions = loss_and_gradient(
            model.loss, y, predictions, sample_weight, xp, model.quantile
        )
        backward(
            params, caches, d_predictions, grads, self.workspace, self.engine, masks
        )
        weight_sum = sample_weight.sum()
        flat, flat_grad = params.flat, grads.flat
        if model.alpha:
            penalty = model.alpha / weight_sum
            decayed = self.decay * flat
            loss = loss + 0.5 * penalty * (decayed @ flat)
            flat_grad += penalty * decayed
        if model.gradient_clip is not None:
            norm = xp.sqrt(flat_grad @ flat_grad)
            flat_grad *= xp.minimum(1.0, model.gradient_clip / (norm + 1e-12))
        self.optimizer.update_params(flat, flat_grad)
        return loss * weight_sum


def _validation_metric(model):
    """The name and function of ``model``'s validation score.

    R², or for ``loss="quantile"`` the D² pinball score of its quantile;
    the function takes ``(y_true, y_pred, sample_weight=...)``.
    """
    if model.loss == "quantile":
        return "D² pinball", partial(d2_pinball_score, alpha=model.quantile)
    return "R²", r2_score


def _validation_score(model, engine, params, validation, workspace):
    """The validation metric of the held-out rows, in target units."""
    # The training workspace: validation buffers are allocated once per fit.
    y_pred = engine.network_output(params, validation.X, workspace)
    y_pred = y_pred * validation.target_scale + validation.target_mean
    _, metric = _validation_metric(model)
    return float(metric(validation.y, y_pred, sample_weight=validation.sample_weight))


def _check_finite(model, epoch_loss, epoch):
    if not np.isfinite(epoch_loss):
        raise RuntimeError(
            f"Training diverged at epoch {epoch}: the loss became "
            f"{epoch_loss}. Use a smaller learning_rate_init (now "
            f"{model.learning_rate_init}), set gradient_clip (e.g. 1.0), or "
            "scale the inputs (e.g. StandardScaler before the windower)."
        )


def _print_progress(model, progress, epoch, start):
    elapsed = time.perf_counter() - start
    eta = elapsed / epoch * (model.max_iter - epoch)
    message = f"Epoch {epoch}/{model.max_iter}: loss = {progress.loss_curve[-1]:.6f}"
    if progress.validation_scores is not None:
        name, _ = _validation_metric(model)
        message += f", validation {name} = {progress.validation_scores[-1]:.4f}"
    print(f"{message}, {elapsed:.1f}s elapsed, at most {eta:.0f}s left")
