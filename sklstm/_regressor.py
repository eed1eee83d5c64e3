"""LSTMRegressor: a many-to-one LSTM with the scikit-learn estimator API."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.validation import check_is_fitted

from ._backend import resolve_backend
from ._cell import Workspace
from ._losses import LOSS_FUNCTIONS, loss_and_gradient
from ._network import (
    NetworkShape,
    backward,
    forward,
    init_parameters,
    unflatten,
    weight_mask,
)
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._sklearn_compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._validation import validate_sequences


class LSTMRegressor(RegressorMixin, BaseEstimator):
    """Many-to-one LSTM regressor, trained by backpropagation through time.

    Each sample is a sequence of ``n_timesteps`` feature vectors. Stacked
    LSTM layers (sizes from ``hidden_layer_sizes``) read it step by step from
    zero long-term memory (cell state) and zero short-term memory (hidden
    state); a linear head maps the last hidden state to the outputs. The
    gate maths and its gradients are written here in NumPy (or CuPy, on a
    GPU); :doc:`/maths` gives the equations.

    Build the sequences with :class:`SequenceWindower` in a
    :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(64,)
        Hidden size of each stacked LSTM layer, first layer first.
    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
        Training loss, on the (scaled) target: ``r**2 / 2``, ``|r|``, or
        Huber with threshold 1.
    solver : {"adam", "sgd"}, default="adam"
        Stochastic optimiser.
    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases), as in
        ``MLPRegressor``: ``alpha / 2 * ||W||**2 / sum(batch weights)``.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(128, n_samples)``.
    learning_rate_init : float, default=0.001
        Step size of the optimiser.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Whether to shuffle the training sequences every epoch. Shuffling
        whole sequences is safe for time series: each carries its own past.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and shuffling.
    tol : float, default=1e-4
        Improvement of the training loss (or of the validation score with
        ``early_stopping``) below which an epoch counts as no improvement.
    verbose : bool, default=False
        Print the loss, validation score and time of each epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights (and target scaling).
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Whether ``solver="sgd"`` uses Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out the **last** ``validation_fraction`` of the samples, in
        their given (time) order, stop when its R² stops improving, and
        restore the best weights. The split is never shuffled, so the model
        is not validated on the past after training on the future.
    validation_fraction : float, default=0.1
        Share of samples held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.
    n_iter_no_change : int, default=10
        Epochs without improvement of more than ``tol`` before stopping.
    gradient_clip : float or None, default=None
        Clip the gradient to this global L2 norm before each step.
    scale_target : bool, default=True
        Standardise ``y`` inside (per output), so that unscaled targets such
        as PM2.5 in µg/m³ train well with the defaults; predictions are
        returned in the original units.
    dtype : {"float32", "float64"}, default="float32"
        Precision of training and, on the CPU, of prediction. A row's
        prediction never depends on the other rows of the call: the compiled
        engine's predict gives every row the same operations wherever it
        sits; the NumPy and CuPy engines predict in float64 for that reason.
    n_threads : int or None, default=None
        Number of threads of ``fit`` and ``predict`` on the CPU. The compiled
        engine (the default where it is built) runs that many OpenMP
        threads, each on its own rows of the batch, with BLAS held to one
        thread; None uses the cores this process may use (``OMP_NUM_THREADS``
        caps it, and joblib sets that in its workers, so a search with
        ``n_jobs`` does not oversubscribe), and one thread when called from
        any thread but the main one (joblib's threading backend, Dask
        threads). The fitted model is the same on any number of threads. The NumPy reference engine gives
        ``n_threads`` (None: 1) to BLAS. See :doc:`/performance`.
    backend : {"auto", "numpy", "cupy"}, default="auto"
        Array backend of training. ``"auto"`` uses CuPy when it is installed
        and sees a CUDA device, else NumPy.

    Attributes
    ----------
    layers_ : list of dict
        One dict per layer with ``"weight_ih"`` ``(4H, n_inputs)``,
        ``"weight_hh"`` ``(4H, H)`` and ``"bias"`` ``(4H,)``, NumPy arrays
        whose row blocks are the input, forget, cell-candidate and output
        gates (PyTorch's ``nn.LSTM`` layout; its two biases sum to ours).
    head_weight_ : ndarray of shape (n_outputs, H)
        Weights of the linear head on the last hidden state.
    head_bias_ : ndarray of shape (n_outputs,)
        Bias of the linear head.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Target standardisation: the network predicts
        ``(y - target_mean_) / target_scale_``. Zeros and ones when
        ``scale_target=False``.
    loss_curve_ : list of float
        Mean training loss (penalty included) of each epoch.
    validation_scores_ : list of float or None
        Validation R² of each epoch when ``early_stopping``, else None.
    best_validation_score_ : float or None
        Best validation R² when ``early_stopping``, else None.
    best_loss_ : float or None
        Minimum training loss when not ``early_stopping``, else None.
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training samples seen by the optimiser.
    n_outputs_ : int
        Number of outputs.
    backend_ : str
        The backend that trained the model, ``"numpy"`` or ``"cupy"``.
    n_features_in_ : int
        Number of features per time step.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    SequenceWindower : Turns a time-ordered table into windows for this model.
    sklearn.neural_network.MLPRegressor : The feed-forward model whose API
        this one follows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklstm import LSTMRegressor, SequenceWindower
    >>> t = np.arange(400, dtype=float)
    >>> X = np.sin(t / 8)[:, None]
    >>> y = np.sin((t + 1) / 8)  # the next value
    >>> model = make_pipeline(
    ...     SequenceWindower(window=12),
    ...     LSTMRegressor(
    ...         hidden_layer_sizes=16, learning_rate_init=0.01, max_iter=30,
    ...         random_state=0,
    ...     ),
    ... )
    >>> model.fit(X[:300], y[:300]).score(X[300:], y[300:]) > 0.9
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "loss": [StrOptions(set(LOSS_FUNCTIONS))],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "gradient_clip": [Interval(Real, 0, None, closed="neither"), None],
        "scale_target": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "backend": [StrOptions({"auto", "numpy", "cupy"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64,),
        loss="squared_error",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
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
        n_iter_no_change=10,
        gradient_clip=None,
        scale_target=True,
        dtype="float32",
        n_threads=None,
        backend="auto",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
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
        self.scale_target = scale_target
        self.dtype = dtype
        self.n_threads = n_threads
        self.backend = backend

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences, oldest step first. A 2-D ``X`` is read as
            sequences of one step.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; several columns (e.g. several horizons) are fitted
            jointly.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss and the validation score.

        Returns
        -------
        self : LSTMRegressor
            The fitted estimator.

        Raises
        ------
        RuntimeError
            If training diverges (the loss becomes NaN or infinite). A fit
            that raises leaves the estimator as it was before the call.
        """
        previous_state = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def _fit(self, X, y, sample_weight):
        hidden_sizes = self._hidden_sizes()
        warm = self.warm_start and hasattr(self, "layers_")
        X, y = validate_sequences(self, X, y, reset=not warm)
        sample_weight = _check_sample_weight(
            sample_weight, X[:, 0, :], dtype=X.dtype, ensure_non_negative=True
        )
        y_was_1d = y.ndim == 1
        y = y.reshape(len(y), -1)
        shape = NetworkShape(X.shape[2], hidden_sizes, y.shape[1])
        backend = resolve_backend(self.backend)
        random_state = check_random_state(self.random_state)

        if warm:
            self._check_warm_start_shape(shape)
            flat = self._flat_parameters(shape)
        else:
            self.target_mean_, self.target_scale_ = self._target_scaling(
                y, sample_weight
            )
            flat = init_parameters(shape, random_state, np.dtype(self.dtype))
        self.n_outputs_ = shape.n_outputs
        self._y_was_1d = y_was_1d
        self.backend_ = backend.name
        y_scaled = (y - self.target_mean_) / self.target_scale_

        engine = backend.engine(self.n_threads)
        with engine.thread_limits():
            flat = self._fit_stochastic(
                X,
                y_scaled,
                y,
                sample_weight,
                flat,
                shape,
                backend,
                engine,
                random_state,
            )
        self._store_parameters(flat, shape)
        return self

    def predict(self, X):
        """Predict targets for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences; the number of steps may differ from ``fit``'s.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Same number of dimensions as the ``y`` given to ``fit``.
        """
        check_is_fitted(self)
        X = validate_sequences(self, X, reset=False)
        shape = NetworkShape(X.shape[2], self._hidden_sizes_fitted(), self.n_outputs_)
        backend = self._predict_backend()
        engine = backend.engine(self.n_threads)
        dtype = engine.predict_dtype or np.dtype(self.dtype)
        params = unflatten(self._predict_weights(backend, shape, dtype), shape)
        with engine.thread_limits():
            y_pred = engine.network_output(params, X, Workspace(backend.xp))
        y_pred = y_pred * self.target_scale_ + self.target_mean_
        return y_pred.ravel() if self._y_was_1d else y_pred

    def _predict_weights(self, backend, shape, dtype):
        """The fitted weights as a ``dtype`` vector on ``backend``'s device.

        On a GPU they are copied to the device once, at the end of ``fit``,
        and reused by every ``predict``; pickles leave that copy behind.
        """
        device_weights = getattr(self, "_device_weights", None)
        if backend.name == "cupy" and device_weights is not None:
            return device_weights
        return backend.asarray(self._flat_parameters(shape, dtype=dtype))

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_device_weights", None)  # device memory does not pickle
        return state

    def _predict_backend(self):
        """The training backend if it is usable here, else NumPy.

        A model fitted on a GPU predicts on the GPU where there is one, and
        on the CPU elsewhere: its fitted weights are NumPy arrays.
        """
        if self.backend_ == "cupy":
            try:
                return resolve_backend("cupy")
            except (ImportError, RuntimeError):
                pass
        return resolve_backend("numpy")

    # --- training ---------------------------------------------------------

    def _fit_stochastic(
        self,
        X,
        y_scaled,
        y,
        sample_weight,
        flat,
        shape,
        backend,
        engine,
        random_state,
    ):
        """Run the epochs; return the final (or best) flat parameters."""
        xp = backend.xp
        dtype = np.dtype(self.dtype)
        n_samples = X.shape[0]
        n_train = n_samples
        if self.early_stopping:
            n_train = self._n_train_for_early_stopping(n_samples)
            X_val, y_val, sw_val = X[n_train:], y[n_train:], sample_weight[n_train:]
        # Time-major on the device once; batches are gathered from it.
        X_train = backend.asarray(np.swapaxes(X[:n_train], 0, 1), dtype=dtype)
        y_train = backend.asarray(y_scaled[:n_train], dtype=dtype)
        sw_train = backend.asarray(sample_weight[:n_train], dtype=dtype)
        params = unflatten(backend.asarray(flat, dtype=dtype), shape)
        grads = unflatten(xp.zeros_like(params.flat), shape)
        decay = weight_mask(shape, xp, dtype)
        optimizer = self._make_optimizer(params.flat)
        workspace = Workspace(xp)
        batch_size = (
            min(128, n_train)
            if self.batch_size == "auto"
            else min(self.batch_size, n_train)
        )

        best_flat = None
        self.loss_curve_ = []
        self.t_ = 0
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

        start = time.perf_counter()
        for epoch in range(1, self.max_iter + 1):
            host_order = random_state.permutation(n_train) if self.shuffle else None
            # One host-to-device copy of the epoch's order, not one per batch.
            order = None if host_order is None else backend.asarray(host_order)
            epoch_loss = 0.0
            # A diverging run is stopped below with a clear message; the
            # overflow warnings on its way there are noise.
            with np.errstate(over="ignore", invalid="ignore"):
                for batch in gen_batches(n_train, batch_size):
                    host_index = batch if host_order is None else host_order[batch]
                    if not sample_weight[host_index].any():
                        continue  # all weights zero: no loss, no gradient
                    index = batch if order is None else order[batch]
                    epoch_loss += self._train_batch(
                        params,
                        grads,
                        decay,
                        optimizer,
                        workspace,
                        backend,
                        engine,
                        X_train[:, index],
                        y_train[index],
                        sw_train[index],
                    )
            epoch_loss = float(epoch_loss) / float(sw_train.sum())
            self._check_finite(epoch_loss, epoch)
            self.loss_curve_.append(epoch_loss)
            self.t_ += n_train
            self.n_iter_ = epoch

            if self.early_stopping:
                score = self._validation_score(
                    params, X_val, y_val, sw_val, engine, workspace
                )
                self.validation_scores_.append(score)
                improved = score > self.best_validation_score_
                if improved:
                    best_flat = backend.to_numpy(params.flat).copy()
                self._count_no_improvement(score, higher_is_better=True)
            else:
                self._count_no_improvement(epoch_loss, higher_is_better=False)
            if self.verbose:
                self._print_progress(epoch, start)
            if self._no_improvement_count > self.n_iter_no_change:
                if self.verbose:
                    print(
                        f"No improvement of more than tol={self.tol} for "
                        f"{self.n_iter_no_change} epochs: stopping."
                    )
                break
        else:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if best_flat is not None:
            return best_flat
        # No early stopping, or no epoch with a comparable validation score.
        return backend.to_numpy(params.flat)

    def _train_batch(
        self, params, grads, decay, optimizer, workspace, backend, engine, X, y, sw
    ):
        """One gradient step on a batch; return its weighted loss sum."""
        xp = backend.xp
        X = xp.ascontiguousarray(X)
        predictions, caches = forward(params, X, workspace, engine)
        loss, d_predictions = loss_and_gradient(self.loss, y, predictions, sw, xp)
        backward(params, caches, d_predictions, grads, workspace, engine)
        weight_sum = sw.sum()
        flat, flat_grad = params.flat, grads.flat
        if self.alpha:
            penalty = self.alpha / weight_sum
            decayed = decay * flat
            loss = loss + 0.5 * penalty * (decayed @ flat)
            flat_grad += penalty * decayed
        if self.gradient_clip is not None:
            norm = xp.sqrt(flat_grad @ flat_grad)
            flat_grad *= xp.minimum(1.0, self.gradient_clip / (norm + 1e-12))
        optimizer.update_params(flat, flat_grad)
        return loss * weight_sum

    def _make_optimizer(self, flat):
        if self.solver == "sgd":
            return SGDOptimizer(
                flat, self.learning_rate_init, self.momentum, self.nesterovs_momentum
            )
        return AdamOptimizer(
            flat, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _count_no_improvement(self, value, *, higher_is_better):
        """Update the no-improvement counter and the best value, as MLP does."""
        if higher_is_better:
            if value < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_validation_score_ = max(self.best_validation_score_, value)
        else:
            if value > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, value)

    def _validation_score(self, params, X_val, y_val, sw_val, engine, workspace):
        # The training workspace: validation buffers are allocated once per
        # fit, not once per epoch.
        y_pred = engine.network_output(params, X_val, workspace)
        y_pred = y_pred * self.target_scale_ + self.target_mean_
        return float(r2_score(y_val, y_pred, sample_weight=sw_val))

    def _check_finite(self, epoch_loss, epoch):
        if not np.isfinite(epoch_loss):
            raise RuntimeError(
                f"Training diverged at epoch {epoch}: the loss became "
                f"{epoch_loss}. Use a smaller learning_rate_init (now "
                f"{self.learning_rate_init}), set gradient_clip (e.g. 1.0), or "
                "scale the inputs (e.g. StandardScaler before the windower)."
            )

    def _print_progress(self, epoch, start):
        elapsed = time.perf_counter() - start
        eta = elapsed / epoch * (self.max_iter - epoch)
        message = f"Epoch {epoch}/{self.max_iter}: loss = {self.loss_curve_[-1]:.6f}"
        if self.early_stopping:
            message += f", validation R² = {self.validation_scores_[-1]:.4f}"
        print(f"{message}, {elapsed:.1f}s elapsed, at most {eta:.0f}s left")

    # --- parameters -------------------------------------------------------

    def _hidden_sizes(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        valid = (
            sizes.ndim == 1
            and sizes.size > 0
            and np.issubdtype(sizes.dtype, np.integer)
            and (sizes >= 1).all()
        )
        if not valid:
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a non-empty "
                f"sequence of positive ints, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(size) for size in sizes)

    def _hidden_sizes_fitted(self):
        return tuple(layer["weight_hh"].shape[1] for layer in self.layers_)

    def _target_scaling(self, y, sample_weight):
        if not self.scale_target:
            return np.zeros(y.shape[1]), np.ones(y.shape[1])
        mean = np.average(y, axis=0, weights=sample_weight)
        scale = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=sample_weight))
        # A constant target: nothing to scale.
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        scale[scale < tiny] = 1.0
        return mean, scale

    def _n_train_for_early_stopping(self, n_samples):
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if n_val < 2 or n_samples - n_val < 1:
            raise ValueError(
                f"early_stopping holds out the last validation_fraction="
                f"{self.validation_fraction} of the {n_samples} samples, which "
                f"leaves {n_val} for validation and {n_samples - n_val} for "
                "training; both need at least 2 and 1. Pass more samples, change "
                "validation_fraction, or set early_stopping=False."
            )
        return n_samples - n_val

    def _check_warm_start_shape(self, shape):
        fitted = NetworkShape(
            self.n_features_in_, self._hidden_sizes_fitted(), self.n_outputs_
        )
        if fitted != shape:
            raise ValueError(
                f"warm_start=True continues the fitted network {fitted}, but "
                f"this fit needs {shape}. Keep hidden_layer_sizes and the number "
                "of features and outputs, or set warm_start=False."
            )

    def _flat_parameters(self, shape, dtype=None):
        """The public fitted weights as one flat NumPy vector."""
        arrays = []
        for layer in self.layers_:
            arrays += [layer["weight_ih"], layer["weight_hh"], layer["bias"]]
        arrays += [self.head_weight_, self.head_bias_]
        flat = np.concatenate([np.ravel(array) for array in arrays])
        return flat.astype(dtype or self.dtype, copy=False)

    def _store_parameters(self, flat, shape):
        """Copy a flat NumPy vector into the public fitted attributes."""
        params = unflatten(np.array(flat, copy=True), shape)
        self.layers_ = [
            {
                "weight_ih": layer.weight_ih,
                "weight_hh": layer.weight_hh,
                "bias": layer.bias,
            }
            for layer in params.layers
        ]
        self.head_weight_ = params.head_weight
        self.head_bias_ = params.head_bias
        self._device_weights = None
        if self.backend_ == "cupy":
            backend = resolve_backend("cupy")
            self._device_weights = backend.asarray(params.flat, dtype=np.float64)
