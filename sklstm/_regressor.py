"""LSTMRegressor: a many-to-one LSTM with the scikit-learn estimator API."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._lstm._backend import resolve_backend
from ._lstm._layer import Workspace
from ._lstm._losses import LOSS_FUNCTIONS
from ._lstm._network import (
    NetworkShape,
    init_parameters,
    pack_parameters,
    unflatten,
    unpack_parameters,
)
from ._lstm._traces import trace_layers
from ._lstm._training import (
    Progress,
    TrainingState,
    Validation,
    split_for_early_stopping,
    train,
    upload,
)
from ._persistence import (
    SavedStateMixin,
    training_state_from_dict,
    training_state_to_dict,
)
from ._sklearn_compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._validation import check_fits_dtype, validate_sequences


class LSTMRegressor(SavedStateMixin, RegressorMixin, BaseEstimator):
    """Many-to-one LSTM regressor, trained by backpropagation through time.

    Each sample is a sequence of ``n_timesteps`` feature vectors. Stacked
    LSTM layers (sizes from ``hidden_layer_sizes``) read it step by step from
    zero long-term memory (cell state) and zero short-term memory (hidden
    state); a linear head maps the last hidden state to the outputs. The
    gate maths and its gradients run in the compiled CPU engine where it is
    built, else in the NumPy reference engine, or in CuPy on a GPU
    (``engine_`` records which); :doc:`/maths` gives the equations.

    Build the sequences with :class:`SequenceWindower` in a
    :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(64,)
        Hidden size of each stacked LSTM layer, first layer first.
    skip_steps : int, default=0
        Number of the most recent time steps whose inputs also reach the
        outputs through a linear map beside the LSTM: a skip connection,
        like the autoregressive component of LSTNet (Lai et al., 2018), so
        that the network is a linear model on those lags plus what the
        LSTM adds to it. 0 for none; at most the number of steps of the
        sequences. Its weights (``skip_weight_``) start at zero and are
        trained with the rest, penalised by ``alpha`` like every weight.
    n_timesteps : int or None, default=None
        Read each row of a 2-D ``X`` as one sequence of ``n_timesteps``
        steps, flattened: a row of ``n_timesteps * n_features`` values (in
        the layout ``step_order`` and ``column_grouping`` describe), as
        ``SequenceWindower(flatten=True)`` writes it, as lag-table tools
        (sktime's reduction, skforecast) hand it over, and as
        ``dask_ml.wrappers.Incremental`` streams the blocks of a 2-D Dask
        array (:doc:`/scale_out`).
        The model is the same as on the 3-D windows, to the bit, and
        ``n_features_in_`` is the width of the 2-D ``X``. A width that
        ``n_timesteps`` does not divide is an error. None (the default)
        reads 3-D ``X`` as sequences and 2-D ``X`` as one-step sequences.
    step_order : {"oldest_first", "newest_first"}, default="oldest_first"
        Order of the steps along a flattened row (``n_timesteps`` set).
        ``"oldest_first"`` is ``SequenceWindower(flatten=True)``'s layout;
        ``"newest_first"`` reads lag tables whose first columns are lag 1
        (the most recent step), as skforecast writes them. Only
        ``"oldest_first"`` is allowed with ``n_timesteps=None``.
    column_grouping : {"by_step", "by_feature"}, default="by_step"
        How a flattened row (``n_timesteps`` set) groups its columns.
        ``"by_step"``: the features of a step side by side, step after step
        (``SequenceWindower(flatten=True)``). ``"by_feature"``: the steps of
        a feature side by side, feature after feature, as multivariate lag
        tables put them (all the lags of one series, then of the next:
        sktime's reduction with exogenous ``X``, skforecast's multi-series
        forecasters). Only ``"by_step"`` is allowed with
        ``n_timesteps=None``.
    loss : {"squared_error", "absolute_error", "huber", "quantile"}, \
            default="squared_error"
        Training loss, on the (scaled) target: ``r**2 / 2``, ``|r|``, Huber
        with threshold 1, or the pinball loss of ``quantile``, whose model
        predicts that quantile of ``y`` given the sequence (in ``y``'s units;
        :doc:`/intervals` builds prediction intervals from two of them).
    quantile : float or None, default=None
        The quantile that ``loss="quantile"`` predicts, in (0, 1): 0.9 gives
        a value that ``y`` exceeds 10 % of the time. Required with that
        loss, and refused with any other (as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`).
    solver : {"adam", "sgd"}, default="adam"
        Stochastic optimiser.
    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases), as in
        ``MLPRegressor``: ``alpha / 2 * ||W||**2 / sum(batch weights)``.
    dropout : float, default=0.0
        Share of each layer's inputs dropped in training, in [0, 1): each
        training sequence zeroes each input of each layer with this
        probability, for all its time steps (variational dropout, Gal and
        Ghahramani, 2016; Keras's ``dropout``), and scales the kept ones by
        ``1 / (1 - dropout)``. ``predict`` drops nothing. The recurrent
        connections are not dropped.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(128, n_samples)``.
    learning_rate : {"constant", "adaptive"}, default="constant"
        Step-size schedule. ``"constant"`` keeps ``learning_rate_init``.
        ``"adaptive"`` is ``MLPRegressor``'s schedule: each time
        ``n_iter_no_change`` epochs in a row fail to improve by ``tol`` (the
        training loss, or the validation score with ``early_stopping``), the
        step size is divided by 5 and training goes on; it stops when the
        step size is 1e-6 or less. Unlike ``MLPRegressor``, where it applies
        to ``solver="sgd"`` only, it applies to Adam too (Adam's step size
        is its ``learning_rate_init``).
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
        their given (time) order, stop when its R² (with
        ``loss="quantile"``, its D² pinball score) stops improving, and
        restore the best weights. The split is never shuffled, so the model
        is not validated on the past after training on the future.
    validation_fraction : float, default=0.1
        Share of samples held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.
    n_iter_no_change : int, default=10
        Epochs without improvement of more than ``tol`` before stopping (or,
        with ``learning_rate="adaptive"``, before the step size shrinks).
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
        threads). The fitted model is the same on any number of threads.
        The NumPy reference engine gives ``n_threads`` (None: 1) to BLAS.
        See :doc:`/performance`.
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
    skip_weight_ : ndarray of shape (n_outputs, skip_steps, n_features) or None
        Weights of the skip connection on the inputs of the last
        ``skip_steps`` steps, oldest first; None when ``skip_steps=0``.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Target standardisation: the network predicts
        ``(y - target_mean_) / target_scale_``. Zeros and ones when
        ``scale_target=False``.
    loss_curve_ : list of float
        Mean training loss (penalty included) of each epoch; a fit with
        ``warm_start`` continues it, as ``MLPRegressor`` does.
    validation_scores_ : list of float or None
        Validation score of each epoch when ``early_stopping``, else None:
        R², or with ``loss="quantile"`` the D² pinball score
        (:func:`~sklearn.metrics.d2_pinball_score`, one minus the ratio of
        the pinball loss to that of the best constant), which ranks epochs
        as the pinball loss does, on R²'s scale.
    best_validation_score_ : float or None
        Best validation score when ``early_stopping``, else None.
    best_loss_ : float or None
        Minimum training loss when not ``early_stopping``, else None.
    n_iter_ : int
        Number of epochs run (over every fit, with ``warm_start``).
    t_ : int
        Number of training samples seen by the optimiser (over every fit,
        with ``warm_start``).
    n_outputs_ : int
        Number of outputs.
    backend_ : str
        The backend that trained the model, ``"numpy"`` or ``"cupy"``.
    engine_ : str
        The engine that trained the model: ``"compiled"`` (the compiled CPU
        engine), ``"numpy"`` (the NumPy reference engine, where the
        extension is not built or ``SKLSTM_ENGINE=numpy``) or ``"cupy"``.
        :func:`sklstm.show_versions` tells which engine this install runs.
    n_features_in_ : int
        Number of features per time step; with ``n_timesteps``, the width
        of the flattened 2-D ``X`` (``n_timesteps`` times the features per
        step), as scikit-learn counts the columns of a table.
    n_timesteps_in_ : int
        Number of time steps of the sequences seen in ``fit`` (1 for a 2-D
        ``X``, ``n_timesteps`` for flattened ones). ``predict`` reads
        sequences of any length, but refuses 2-D ``X`` after a fit on longer
        sequences (a missing windower).
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
        "skip_steps": [Interval(Integral, 0, None, closed="left")],
        "n_timesteps": [Interval(Integral, 1, None, closed="left"), None],
        "step_order": [StrOptions({"oldest_first", "newest_first"})],
        "column_grouping": [StrOptions({"by_step", "by_feature"})],
        "loss": [StrOptions(set(LOSS_FUNCTIONS))],
        "quantile": [Interval(Real, 0, 1, closed="neither"), None],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "adaptive"})],
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
        skip_steps=0,
        n_timesteps=None,
        step_order="oldest_first",
        column_grouping="by_step",
        loss="squared_error",
        quantile=None,
        solver="adam",
        alpha=0.0001,
        dropout=0.0,
        batch_size="auto",
        learning_rate="constant",
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
        self.skip_steps = skip_steps
        self.n_timesteps = n_timesteps
        self.step_order = step_order
        self.column_grouping = column_grouping
        self.loss = loss
        self.quantile = quantile
        self.solver = solver
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate = learning_rate
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
            sequences of one step, or with ``n_timesteps`` as flattened
            sequences of that many steps.
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

        Warns
        -----
        UserWarning
            If training is interrupted (Ctrl-C, ``KeyboardInterrupt``): the
            fit stops, keeps the best weights so far (those of the best
            validation epoch with ``early_stopping``) and returns.
        """
        return self._fit_restoring_features(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one pass over ``X`` and ``y``.

        As ``MLPRegressor.partial_fit``: the first call initialises the
        weights and fixes the target scaling; every call then makes one pass
        (minibatches of ``batch_size``, shuffled if ``shuffle``) from the
        current weights and optimiser state. ``early_stopping`` and
        ``max_iter`` do not apply. Use it to update a model as new rows
        arrive.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences, oldest step first.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, with as many outputs as in the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.

        Returns
        -------
        self : LSTMRegressor
            The updated estimator.
        """
        return self._fit_restoring_features(X, y, sample_weight, incremental=True)

    def _check_quantile(self):
        if self.loss == "quantile" and self.quantile is None:
            raise ValueError(
                "loss='quantile' needs the quantile to predict: set quantile "
                "to a float in (0, 1), e.g. quantile=0.9 for the 90th percentile."
            )
        if self.loss != "quantile" and self.quantile is not None:
            raise ValueError(
                f"quantile={self.quantile!r} is used only with loss='quantile', "
                f"but loss={self.loss!r}: set loss='quantile', or quantile=None."
            )

    def _fit_restoring_features(self, X, y, sample_weight, *, incremental):
        # Input validation records n_features_in_ (and feature names) on the
        # estimator; every other fitted attribute is assigned once, at the
        # end, so only these two need putting back if the fit fails.
        recorded = {
            name: self.__dict__[name]
            for name in ("n_features_in_", "feature_names_in_")
            if name in self.__dict__
        }
        try:
            return self._fit(X, y, sample_weight, incremental)
        except BaseException:
            for name in ("n_features_in_", "feature_names_in_"):
                self.__dict__.pop(name, None)
            self.__dict__.update(recorded)
            raise

    def _fit(self, X, y, sample_weight, incremental):
        self._check_quantile()
        hidden_sizes = self._hidden_sizes()
        fitted = hasattr(self, "layers_")
        warm = fitted and (self.warm_start or incremental)
        early_stopping = self.early_stopping and not incremental
        X, y = validate_sequences(self, X, y, reset=not warm, **self._flat_layout())
        check_fits_dtype(self, X, self.dtype, "X")
        sample_weight = _check_sample_weight(
            sample_weight, X[:, 0, :], dtype=X.dtype, ensure_non_negative=True
        )
        y_was_1d = y.ndim == 1
        y = y.reshape(len(y), -1)
        self._check_skip_steps(X.shape[1], self.skip_steps, "fit")
        shape = NetworkShape(X.shape[2], hidden_sizes, y.shape[1], self.skip_steps)
        backend = resolve_backend(self.backend)
        state = self._starting_state(warm, incremental, early_stopping)
        n_train, validation = len(X), None
        if early_stopping:
            n_train = split_for_early_stopping(
                len(X), self.validation_fraction, sample_weight
            )
        if warm:
            self._check_same_network(shape, incremental)
            flat = self._flat_parameters()
            target_mean, target_scale = self.target_mean_, self.target_scale_
        else:
            # From the training part only: the held-out rows stay unseen.
            target_mean, target_scale = self._target_scaling(
                y[:n_train], sample_weight[:n_train]
            )
            flat = init_parameters(shape, state.random_state, np.dtype(self.dtype))

        if early_stopping:
            validation = Validation(
                X[n_train:],
                y[n_train:],
                sample_weight[n_train:],
                target_mean,
                target_scale,
            )
        y_scaled = (y[:n_train] - target_mean) / target_scale
        if not np.isfinite(y_scaled).all():
            raise ValueError(
                f"The target y spans more than float64 holds once centred "
                f"(largest |y| {np.abs(y).max():.3g}): rescale y, e.g. divide "
                "it by a power of ten."
            )
        check_fits_dtype(self, y_scaled, self.dtype, "y")
        data = upload(
            backend,
            X[:n_train],
            y_scaled,
            sample_weight[:n_train],
            np.dtype(self.dtype),
        )
        engine = backend.engine(self.n_threads)
        with engine.thread_limits():
            flat = train(
                self, data, validation, flat, shape, engine, state, one_pass=incremental
            )

        self._set_fitted_parameters(flat, shape, backend)
        self._training_state = state
        progress = state.progress
        self.target_mean_, self.target_scale_ = target_mean, target_scale
        self.loss_curve_ = progress.loss_curve
        self.validation_scores_ = progress.validation_scores
        self.best_validation_score_ = progress.best_validation_score
        self.best_loss_ = progress.best_loss
        self.n_iter_ = progress.n_iter
        self.t_ = progress.t
        self.n_outputs_ = shape.n_outputs
        self.n_timesteps_in_ = X.shape[1]
        self.backend_ = backend.name
        self.engine_ = engine.name
        self._y_was_1d = y_was_1d
        return self

    def predict(self, X):
        """Predict targets for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences; the number of steps may differ from ``fit``'s
            (with ``n_timesteps``, flattened rows as wide as ``fit``'s).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Same number of dimensions as the ``y`` given to ``fit``.
        """
        X, shape = self._validate_for_prediction(X)
        backend = self._predict_backend()
        engine = backend.engine(self.n_threads)
        dtype = engine.predict_dtype or np.dtype(self.dtype)
        params = unflatten(self._predict_weights(backend, shape, dtype), shape)
        with engine.thread_limits():
            y_pred = engine.network_output(params, X, Workspace(backend.xp))
        y_pred = y_pred * self.target_scale_ + self.target_mean_
        return y_pred.ravel() if self._y_was_1d else y_pred

    def trace_memory(self, X):
        """Trace the memories and the gates through the sequences of ``X``.

        The same sequences as :meth:`predict` reads, step by step: the
        long-term memory (cell state) and short-term memory (hidden state)
        after each step, and the gate activations that made them
        (:doc:`/maths` maps each key to its equation). Computed in float64
        from the fitted weights, on the CPU, whatever backend trained the
        model. In a pipeline, window the rows with all steps but the last
        and trace with the last: ``pipe[-1].trace_memory(pipe[:-1].transform(X))``.

        The traces take ``48 * n_samples * n_timesteps * sum(hidden sizes)``
        bytes (six float64 arrays; 281 MiB for 1,000 windows of 24 steps at
        256 units, 295 GB for 4 million windows at 64); a call that would need
        more than the system has available raises a ``MemoryError`` before
        allocating anything: trace fewer sequences at a time.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences, as for :meth:`predict`.

        Returns
        -------
        traces : :class:`~sklearn.utils.Bunch`
            Keys ``long_term`` (cell state after each step), ``short_term``
            (hidden state after each step), ``forget``, ``input``,
            ``candidate`` (the potential long-term memory, in (-1, 1)) and
            ``output`` (gates, in (0, 1)); each a list with one array of
            shape ``(n_samples, n_timesteps, hidden_size)`` per layer, first
            layer first.
        """
        X, shape = self._validate_for_prediction(X)
        params = unflatten(self._flat_parameters(np.float64), shape)
        return trace_layers(params, X.astype(np.float64, copy=False))

    def _validate_for_prediction(self, X):
        """``X`` checked against the fit, and the fitted network's shape."""
        check_is_fitted(self)
        X = validate_sequences(
            self,
            X,
            reset=False,
            fitted_steps=getattr(self, "n_timesteps_in_", 1),
            **self._flat_layout(),
        )
        check_fits_dtype(self, X, self.dtype, "X")
        shape = self._fitted_shape()
        if X.shape[2] != shape.n_features:  # n_timesteps changed after fit
            raise ValueError(
                f"n_timesteps={self.n_timesteps} reads rows of "
                f"{X.shape[2]} features per step, but the model was fitted on "
                f"{shape.n_features}. Set n_timesteps back to "
                f"{self.n_timesteps_in_}, or refit."
            )
        self._check_skip_steps(X.shape[1], shape.skip_steps, "predict")
        return X, shape

    def _predict_weights(self, backend, shape, dtype):
        """The fitted weights as a ``dtype`` vector on ``backend``'s device.

        On a GPU they are copied to the device once, at the end of ``fit``,
        and reused by every ``predict``; pickles leave that copy behind.
        """
        device_weights = getattr(self, "_device_weights", None)
        if backend.name == "cupy" and device_weights is not None:
            return device_weights
        return backend.asarray(self._flat_parameters(dtype))

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_device_weights", None)  # device memory does not pickle
        # Plain arrays and numbers, so that a skops file trusts no private class.
        if "_training_state" in state:
            state["_training_state"] = training_state_to_dict(state["_training_state"])
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        saved = self.__dict__.get("_training_state")
        if isinstance(saved, dict):
            self._training_state = training_state_from_dict(saved, self._progress())

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

    def _flat_layout(self):
        """How :func:`validate_sequences` reads a 2-D ``X`` (flattened or not)."""
        layout = {
            "step_order": self.step_order,
            "column_grouping": self.column_grouping,
        }
        defaults = {"step_order": "oldest_first", "column_grouping": "by_step"}
        for name, value in layout.items():
            if self.n_timesteps is None and value != defaults[name]:
                raise ValueError(
                    f"{name}={value!r} describes the columns of flattened rows, "
                    "but n_timesteps=None reads 2-D X as one-step sequences. "
                    "Set n_timesteps to the number of steps in a row, or "
                    f"{name}={defaults[name]!r}."
                )
        return {"n_timesteps": self.n_timesteps, **layout}

    def _fitted_shape(self):
        """The :class:`NetworkShape` of the fitted weights."""
        # Absent from models pickled before skip_steps existed.
        skip_weight = getattr(self, "skip_weight_", None)
        return NetworkShape(
            # Inputs per step: n_features_in_ is a row's width when flattened.
            self.layers_[0]["weight_ih"].shape[1],
            tuple(layer["weight_hh"].shape[1] for layer in self.layers_),
            self.n_outputs_,
            0 if skip_weight is None else skip_weight.shape[1],
        )

    @staticmethod
    def _check_skip_steps(n_timesteps, skip_steps, method):
        if skip_steps > n_timesteps:
            raise ValueError(
                f"skip_steps={skip_steps} reads the last {skip_steps} time steps, "
                f"but the sequences given to {method} have {n_timesteps}. Use "
                f"windows of at least {skip_steps} steps (SequenceWindower's "
                f"window), or a smaller skip_steps."
            )

    def _target_scaling(self, y, sample_weight):
        if not self.scale_target:
            return np.zeros(y.shape[1]), np.ones(y.shape[1])
        # On y divided by a power of two near its largest magnitude: exactly
        # the same result, and no overflow of the squares for any finite y.
        largest = np.abs(y).max(axis=0)
        unit = np.exp2(np.ceil(np.log2(np.where(largest > 0, largest, 1.0))))
        unit_y = y / unit
        mean = np.average(unit_y, axis=0, weights=sample_weight)
        scale = np.sqrt(
            np.average((unit_y - mean) ** 2, axis=0, weights=sample_weight)
        )
        # A constant target: nothing to scale.
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        scale[scale < tiny] = 1.0 / unit[scale < tiny]
        return mean * unit, scale * unit

    def _check_same_network(self, shape, incremental):
        """A warm start or a partial_fit continues the fitted network only."""
        fitted = self._fitted_shape()
        if fitted != shape:
            how = (
                "partial_fit continues" if incremental else "warm_start=True continues"
            )
            fix = (
                "or fit a new model with fit()"
                if incremental
                else "or set warm_start=False"
            )
            raise ValueError(
                f"{how} the fitted network {fitted}, but these data need "
                f"{shape}. Keep hidden_layer_sizes, skip_steps and the number "
                f"of features and outputs, {fix}."
            )

    def _starting_state(self, warm, incremental, early_stopping):
        """The progress, random stream and optimiser a fit starts from.

        ``fit`` starts a new optimiser and random stream (continuing the
        progress with ``warm_start``); ``partial_fit`` continues all three,
        as ``MLPRegressor.partial_fit`` does.
        """
        if not warm:
            return TrainingState(
                Progress.start(early_stopping), check_random_state(self.random_state)
            )
        progress = self._progress().resume(early_stopping)
        previous = getattr(self, "_training_state", None)
        if incremental and previous is not None:
            return TrainingState(progress, previous.random_state, previous.optimizer)
        return TrainingState(progress, check_random_state(self.random_state))

    def _progress(self):
        """The fitted training progress, for a warm start to continue."""
        return Progress(
            loss_curve=self.loss_curve_,
            validation_scores=self.validation_scores_,
            best_loss=self.best_loss_,
            best_validation_score=self.best_validation_score_,
            n_iter=self.n_iter_,
            t=self.t_,
        )

    def _flat_parameters(self, dtype=None):
        """The public fitted weights as one flat NumPy vector."""
        return pack_parameters(
            self.layers_,
            self.head_weight_,
            self.head_bias_,
            dtype or self.dtype,
            getattr(self, "skip_weight_", None),
        )

    def _set_fitted_parameters(self, flat, shape, backend):
        """Assign the public fitted weights from a flat NumPy vector."""
        (self.layers_, self.head_weight_, self.head_bias_, self.skip_weight_) = (
            unpack_parameters(flat, shape)
        )
        # On a GPU, predict reuses one float64 copy of the weights there.
        self._device_weights = None
        if backend.name == "cupy":
            self._device_weights = backend.asarray(flat, dtype=np.float64)
