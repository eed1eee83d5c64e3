"""LSTMRegressor: a many-to-one LSTM regressor with the scikit-learn API."""

from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import d2_pinball_score, r2_score

from ._base import BaseLSTM
from ._docstrings import fill_docstring
from ._lstm._losses import REGRESSION_LOSSES
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._validation_split import split_last_fraction


@fill_docstring
class LSTMRegressor(RegressorMixin, BaseLSTM):
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
    $sequence_parameters
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
    $optimiser_parameters
    early_stopping : bool, default=False
        Hold out the **last** ``validation_fraction`` of the samples, in
        their given (time) order, stop when its R² (with
        ``loss="quantile"``, its D² pinball score) stops improving, and
        restore the best weights. The split is never shuffled, so the model
        is not validated on the past after training on the future. With
        ``X_val`` and ``y_val`` given to ``fit``, score those instead.
    $stopping_parameters
    scale_target : bool, default=True
        Standardise ``y`` inside (per output), so that unscaled targets such
        as PM2.5 in µg/m³ train well with the defaults; predictions are
        returned in the original units.
    $engine_parameters

    Attributes
    ----------
    $network_attributes
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Target standardisation: the network predicts
        ``(y - target_mean_) / target_scale_``. Zeros and ones when
        ``scale_target=False``.
    $loss_curve_attribute
    validation_scores_ : list of float or None
        Validation score of each epoch when ``early_stopping``, else None:
        R², or with ``loss="quantile"`` the D² pinball score
        (:func:`~sklearn.metrics.d2_pinball_score`, one minus the ratio of
        the pinball loss to that of the best constant), which ranks epochs
        as the pinball loss does, on R²'s scale.
    $fit_attributes

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
        **BaseLSTM._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "quantile": [Interval(Real, 0, 1, closed="neither"), None],
        "scale_target": ["boolean"],
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
        learning_rate="cosine",
        learning_rate_init=0.001,
        power_t=0.5,
        warmup_fraction=None,
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
        n_iter_no_change=30,
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
        self.power_t = power_t
        self.warmup_fraction = warmup_fraction
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
        return self._fit_keeping_state(X, y, sample_weight, incremental=True)

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
            Same number of dimensions as the ``y`` given to ``fit``;
            computed as :ref:`prediction-precision` states (in the fitted
            dtype on the compiled engine, in float64 on NumPy and CuPy).
        """
        return self._predicted_outputs(X)

    def _check_params(self):
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

    def _training_targets(self, y, sample_weight, *, first_fit, classes=None):
        return y.reshape(len(y), -1), sample_weight, y.ndim == 1, {}

    def _loss_settings(self, fitted):
        name = "D² pinball" if self.loss == "quantile" else "R²"
        return {"loss": self.loss, "quantile": self.quantile, "validation_name": name}

    def _split_for_early_stopping(self, targets, sample_weight, fitted):
        """The last ``validation_fraction`` of the rows, in their (time) order."""
        n_train = split_last_fraction(
            len(targets), self.validation_fraction, sample_weight
        )
        return slice(0, n_train), slice(n_train, None)

    def _validation_targets(self, y_val, fitted):
        return y_val.reshape(len(y_val), -1)

    def _validation_scorer(self, targets, sample_weight, scaling, fitted):
        """R², or for ``loss="quantile"`` the D² pinball score, in y's units."""
        metric = r2_score
        if self.loss == "quantile":
            metric = partial(d2_pinball_score, alpha=self.quantile)
        target_mean, target_scale = scaling

        def score(output):
            y_pred = output * target_scale + target_mean
            return metric(targets, y_pred, sample_weight=sample_weight)

        return score

    def _network_outputs(self):
        return {"target_mean": self.target_mean_, "target_scale": self.target_scale_}

    def _target_scaling(self, y, sample_weight):
        """Mean and standard deviation of ``y`` with ``scale_target``."""
        if not self.scale_target:
            return np.zeros(y.shape[1]), np.ones(y.shape[1])
        # On y divided by a power of two near its largest magnitude: exactly
        # the same result, and no overflow of the squares for any finite y.
        largest = np.abs(y).max(axis=0)
        unit = np.exp2(np.ceil(np.log2(np.where(largest > 0, largest, 1.0))))
        unit_y = y / unit
        mean = np.average(unit_y, axis=0, weights=sample_weight)
        scale = np.sqrt(np.average((unit_y - mean) ** 2, axis=0, weights=sample_weight))
        # A constant target: nothing to scale.
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        scale[scale < tiny] = 1.0 / unit[scale < tiny]
        return mean * unit, scale * unit
