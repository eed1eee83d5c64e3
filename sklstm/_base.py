"""The base of every LSTM estimator: fitting, partial_fit, warm starts and
the predict path, as ``BaseMultilayerPerceptron`` is for the MLPs.

A subclass adds only what is its own: its loss, how it reads, encodes and
(the regressor) scales ``y``, how it splits and scores the early-stopping
hold-out, what its network's outputs are (``_network_outputs``), and the
public methods that turn those outputs into predictions. Every fitted
attribute is assigned at the end of a fit (``FittedNetworkMixin._set_fitted``);
a fit that raises leaves the estimator as it was.
"""

import inspect
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ._fitted_network import FittedNetworkMixin, fitted_network
from ._lstm._backend import resolve_backend
from ._lstm._engines import make_engine
from ._lstm._layer import Workspace
from ._lstm._network import (
    NetworkShape,
    init_parameters,
    unflatten,
)
from ._lstm._traces import trace_layers
from ._lstm._training import Validation, train, upload
from ._lstm._training_state import TrainingConfig
from ._parameters import (
    SHARED_CONSTRAINTS,
    check_hidden_sizes,
    check_skip_steps,
    flat_layout,
)
from ._persistence import (
    SavedStateMixin,
)
from ._sklearn_compat import _check_sample_weight, _fit_context
from ._validation import check_fits_dtype, sequence_lengths, validate_sequences


class BaseLSTM(FittedNetworkMixin, SavedStateMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the LSTM estimators; not for direct use.

    Subclasses define ``__init__`` (storing every parameter named in
    ``_parameter_constraints``) and the hooks marked abstract below.
    """

    _parameter_constraints = dict(SHARED_CONSTRAINTS)

    # --- what a subclass defines ------------------------------------------

    @abstractmethod
    def _training_targets(self, y, sample_weight, *, first_fit, classes=None):
        """``y`` as the float array the network is trained on.

        Returns ``(targets, sample_weight, one_dimensional, fitted)``: a
        ``(n_samples, n_outputs)`` float64 array, the sample weights (a
        classifier's ``class_weight`` scales them), whether ``predict``
        returns 1-D arrays, and a dict of the fitted attributes that the
        encoding of ``y`` gives (a classifier's ``classes_``...). The base
        assigns those at the end of the fit, with the weights; until then
        the other hooks receive them as ``fitted``.
        """

    @abstractmethod
    def _loss_settings(self, fitted):
        """The ``TrainingConfig`` fields the subclass sets: ``loss``,
        ``quantile`` and ``validation_name``."""

    @abstractmethod
    def _split_for_early_stopping(self, targets, sample_weight, fitted):
        """``(training_rows, validation_rows)``: index arrays or slices."""

    @abstractmethod
    def _validation_scorer(self, targets, sample_weight, scaling, fitted):
        """A function of the network's output on held-out rows that returns
        their score, higher is better; ``scaling`` is what
        :meth:`_target_scaling` returned."""

    #: Whether ``fit`` converts ``y`` to float (a classifier's labels stay).
    _numeric_target = True

    def _target_scaling(self, targets, sample_weight):
        """``(mean, scale)`` that standardise the targets the network learns
        (a regressor's ``target_mean_``, ``target_scale_``), or None: a
        classifier learns its 0/1 targets as they are."""
        return None

    def _check_params(self):
        """Checks across parameters, beyond ``_parameter_constraints``."""

    # --- fitting ----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Input sequences, oldest step first; shorter ones may end in NaN
            steps (:ref:`variable-length`). A 2-D ``X`` is read as sequences
            of one step, or with ``n_timesteps`` as flattened sequences of
            that many steps.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; several columns (several horizons, several labels) are
            fitted jointly.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss and the validation score.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        RuntimeError
            If training diverges (the loss becomes NaN or infinite). A fit
            that raises leaves the estimator as it was before the call: its
            weights, optimiser state, random streams (a ``RandomState``
            given as ``random_state`` included) and progress.

        Warns
        -----
        UserWarning
            If training is interrupted (Ctrl-C, ``KeyboardInterrupt``): the
            fit stops, keeps the best weights so far (those of the best
            validation epoch with ``early_stopping``) and returns.
        """
        return self._fit_keeping_state(X, y, sample_weight, incremental=False)

    def _fit_keeping_state(self, X, y, sample_weight, *, incremental, classes=None):
        """Fit and return self; a fit that raises leaves the estimator as it
        was. Called by ``fit`` and ``partial_fit`` only (see :func:`_warn_of`)."""
        # Validation records n_features_in_ (and feature names) as it reads
        # X; the rest is assigned at the end. A shallow copy of the attributes
        # puts all of them back: a fit copies what it continues (optimiser,
        # random stream) before changing it. A RandomState given as
        # random_state is the caller's, shared: its state is put back too.
        before = dict(self.__dict__)
        stream = self.random_state
        stream_state = (
            stream.get_state(legacy=False)
            if isinstance(stream, np.random.RandomState)
            else None
        )
        try:
            outcome = self._fit(X, y, sample_weight, incremental, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            if stream_state is not None:
                stream.set_state(stream_state)
            raise
        _warn_of(outcome, self)
        return self

    def _fit(self, X, y, sample_weight, incremental, classes):
        self._check_params()
        hidden_sizes = check_hidden_sizes(self.hidden_layer_sizes)
        warm = hasattr(self, "layers_") and (self.warm_start or incremental)
        early_stopping = self.early_stopping and not incremental
        X, y = validate_sequences(
            self,
            X,
            y,
            reset=not warm,
            numeric_target=self._numeric_target,
            **flat_layout(self),
        )
        lengths = sequence_lengths(self, X)  # before any NaN is read
        check_fits_dtype(self, X, self.dtype, "X")
        sample_weight = _check_sample_weight(
            sample_weight, X[:, 0, :], dtype=X.dtype, ensure_non_negative=True
        )
        targets, sample_weight, one_dimensional, fitted_targets = (
            self._training_targets(
                y, sample_weight, first_fit=not warm, classes=classes
            )
        )
        check_skip_steps(_shortest(X, lengths), self.skip_steps, "fit")
        shape = NetworkShape(
            X.shape[2], hidden_sizes, targets.shape[1], self.skip_steps
        )
        backend = resolve_backend(self.backend)
        state = self._starting_state(warm, incremental, early_stopping)
        train_rows, validation = slice(None), None
        if early_stopping:
            train_rows, held_out = self._split_for_early_stopping(
                targets, sample_weight, fitted_targets
            )
        if warm:
            network = fitted_network(self)
            if network.shape != shape:
                raise _different_network_error(network.shape, shape, incremental)
            flat, scaling = network.flat(), network.target_scaling
        else:
            # From the training part only: the held-out rows stay unseen.
            scaling = self._target_scaling(
                targets[train_rows], sample_weight[train_rows]
            )
            flat = init_parameters(shape, state.random_state, np.dtype(self.dtype))
        if early_stopping:
            validation = Validation(
                X[held_out],
                self._validation_scorer(
                    targets[held_out], sample_weight[held_out], scaling, fitted_targets
                ),
                lengths=_rows(lengths, held_out),
            )
        scaled = targets[train_rows]
        if scaling is not None:
            mean, scale = scaling
            scaled = (scaled - mean) / scale
        if not np.isfinite(scaled).all():
            raise ValueError(
                f"The target y spans more than float64 holds once centred "
                f"(largest |y| {np.abs(targets).max():.3g}): rescale y, e.g. "
                "divide it by a power of ten."
            )
        check_fits_dtype(self, scaled, self.dtype, "y")
        data = upload(
            backend,
            X[train_rows],
            scaled,
            sample_weight[train_rows],
            self.dtype,
            lengths=_rows(lengths, train_rows),
        )
        config = TrainingConfig.from_estimator(
            self, one_pass=incremental, **self._loss_settings(fitted_targets)
        )
        engine = make_engine(backend, self.n_threads)
        with engine.thread_limits():
            outcome = train(config, data, validation, flat, shape, engine, state)
        self._set_fitted(
            outcome.flat,
            shape,
            scaling=scaling,
            one_dimensional=one_dimensional,
            run=(backend, engine, X.shape[1]),
            state=outcome.state,
            target_attributes=fitted_targets,
        )
        return outcome

    # --- prediction -------------------------------------------------------

    def _predicted_outputs(self, X):
        """The network's output for sequences ``X`` in target units, shaped
        as ``y`` was: a regressor's predictions, a classifier's logits."""
        X, lengths, network = self._validate_for_prediction(X)
        backend = self._predict_backend()
        engine = make_engine(backend, self.n_threads)
        dtype = engine.predict_dtype or np.dtype(self.dtype)
        params = unflatten(
            self._predict_weights(backend, network, dtype), network.shape
        )
        with engine.thread_limits():
            output = engine.network_output(params, X, Workspace(backend.xp), lengths)
        return network.in_target_units(output)

    def trace_memory(self, X):
        """Trace the memories and the gates through the sequences of ``X``.

        The same sequences as :meth:`predict` reads, step by step: the
        long-term memory (cell state) and short-term memory (hidden state)
        after each step, and the gate activations that made them
        (:doc:`/maths` maps each key to its equation). Computed in float64
        from the fitted weights, on the CPU, whatever backend trained the
        model. In a pipeline, window the rows with all steps but the last
        and trace with the last: ``pipe[-1].trace_memory(pipe[:-1].transform(X))``.

        Sequences padded with NaN steps at their end (:ref:`variable-length`)
        are traced on their real steps; their padding steps are NaN.

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
        X, lengths, network = self._validate_for_prediction(X)
        return trace_layers(
            network.parameters(np.float64), X.astype(np.float64, copy=False), lengths
        )

    def _validate_for_prediction(self, X):
        """``X`` checked against the fit, its sequences' lengths (None when
        none is padded), and the fitted network."""
        check_is_fitted(self)
        X = validate_sequences(
            self,
            X,
            reset=False,
            fitted_steps=getattr(self, "n_timesteps_in_", 1),
            **flat_layout(self),
        )
        lengths = sequence_lengths(self, X)  # before any NaN is read
        check_fits_dtype(self, X, self.dtype, "X")
        network = fitted_network(self)
        check_skip_steps(_shortest(X, lengths), network.shape.skip_steps, "predict")
        return X, lengths, network


def _different_network_error(fitted, needed, incremental):
    """A warm start or a partial_fit continues the fitted network only."""
    how = "partial_fit continues" if incremental else "warm_start=True continues"
    fix = "or fit a new model with fit()" if incremental else "or set warm_start=False"
    return ValueError(
        f"{how} the fitted network {fitted}, but these data need {needed}. Keep "
        "hidden_layer_sizes, skip_steps and the number of features and outputs, "
        f"{fix}."
    )


def _warn_of(outcome, estimator):
    """Warn of a fit's ``outcome`` (Ctrl-C, no convergence), pointing at the
    user's line that called ``fit`` or ``partial_fit``."""
    stacklevel = _stacklevel_outside_libraries()
    if outcome.interrupted:
        kept = (
            "the weights of the best validation epoch."
            if outcome.kept_best_epoch
            else "the weights reached so far."
        )
        warnings.warn(
            f"Training interrupted by the user after {estimator.n_iter_} complete "
            f"epoch(s); keeping {kept}",
            UserWarning,
            stacklevel=stacklevel,
        )
    elif not outcome.converged:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) "
            "reached and the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def _stacklevel_outside_libraries():
    """The ``stacklevel`` that makes a warning of the caller point at the
    first line outside sklstm and scikit-learn: the user's call of ``fit``,
    directly or through a Pipeline or a search, whatever wrappers
    (``_fit_context``...) lie between (as Python 3.12's
    ``skip_file_prefixes``)."""
    frame, stacklevel = inspect.currentframe().f_back, 1
    while frame.f_back is not None and _in_libraries(frame):
        frame, stacklevel = frame.f_back, stacklevel + 1
    return stacklevel


def _in_libraries(frame):
    return frame.f_globals.get("__name__", "").partition(".")[0] in (
        "sklstm",
        "sklearn",
    )


def _shortest(X, lengths):
    """The number of real steps of the shortest sequence of ``X``."""
    return X.shape[1] if lengths is None else int(lengths.min())


def _rows(lengths, rows):
    return None if lengths is None else lengths[rows]
