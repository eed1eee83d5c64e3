"""The base of every LSTM estimator: fitting, partial_fit and warm starts,
as ``BaseMultilayerPerceptron`` is for the MLPs (the predict path is
:class:`~._prediction.PredictionMixin`'s).

A subclass adds only what is its own: its loss, how it reads, encodes and
(the regressor) scales ``y``, how it splits and scores the early-stopping
hold-out, what its network's outputs are (``_network_outputs``), and the
public methods that turn those outputs into predictions. Every fitted
attribute is assigned at the end of a fit (``FittedNetworkMixin._set_fitted``);
a fit that raises leaves the estimator as it was.
"""

from abc import ABCMeta, abstractmethod
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator

from ._fit_warnings import warn_of
from ._fitted_network import FittedNetworkMixin, check_continues, fitted_network
from ._lstm._backend import resolve_backend
from ._lstm._engines import make_engine
from ._lstm._network import NetworkShape, init_parameters
from ._lstm._training import Validation, train, upload
from ._lstm._training_state import TrainingConfig
from ._parameters import (
    SHARED_CONSTRAINTS,
    check_hidden_sizes,
    check_skip_steps,
    flat_layout,
)
from ._persistence import SavedStateMixin
from ._prediction import PredictionMixin
from ._sklearn_compat import _check_sample_weight, _fit_context
from ._validation import (
    check_fits_dtype,
    sequence_lengths,
    shortest_length,
    validate_sequences,
)
from ._validation_set import HeldOut, check_validation_set


class BaseLSTM(
    FittedNetworkMixin,
    PredictionMixin,
    SavedStateMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
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
    def _validation_targets(self, y_val, fitted):
        """``y_val`` (checked) encoded as :meth:`_training_targets` encodes
        ``y``: a ``(n_val, n_outputs)`` array."""

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
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
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
        X_val : array-like of shape (n_val, n_timesteps, n_features) or \
                (n_val, n_features), default=None
            Sequences that early stopping scores, instead of holding out
            ``validation_fraction`` of ``X`` (which then trains on all its
            rows), as ``HistGradientBoostingRegressor.fit`` takes them:
            read as ``X`` is (the same features and time steps, finite
            values, flattened rows with ``n_timesteps``). Needs ``y_val``
            and ``early_stopping=True``. In a :class:`~sklearn.pipeline.Pipeline`,
            transform it as ``X`` with ``transform_input=["X_val"]``
            (:ref:`early-stopping`).
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            The targets of ``X_val``, with the outputs of ``y``; for a
            classifier, labels among the classes of ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the rows of ``X_val`` in the validation score (a
            classifier's ``class_weight`` does not weigh them); None weighs
            them all 1. Ignored without ``X_val`` and ``y_val``.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If only one of ``X_val`` and ``y_val`` is given, or both with
            ``early_stopping=False``.
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
        return self._fit_keeping_state(
            X,
            y,
            sample_weight,
            incremental=False,
            validation_set=(X_val, y_val, sample_weight_val),
        )

    def _fit_keeping_state(
        self,
        X,
        y,
        sample_weight,
        *,
        incremental,
        classes=None,
        validation_set=(None, None, None),
    ):
        """Fit and return self; a fit that raises leaves the estimator as it
        was. Called by ``fit`` and ``partial_fit`` only (see
        :func:`~._fit_warnings.warn_of`)."""
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
            outcome = self._fit(
                X, y, sample_weight, incremental, classes, validation_set
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            if stream_state is not None:
                stream.set_state(stream_state)
            raise
        warn_of(outcome, self)
        return self

    def _fit(self, X, y, sample_weight, incremental, classes, validation_set):
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
        held_out = check_validation_set(
            self,
            *validation_set,
            n_timesteps=X.shape[1],
            numeric_target=self._numeric_target,
            encode=partial(self._validation_targets, fitted=fitted_targets),
            n_outputs=targets.shape[1],
        )
        check_skip_steps(shortest_length(X, lengths), self.skip_steps, "fit")
        shape = NetworkShape(
            X.shape[2], hidden_sizes, targets.shape[1], self.skip_steps
        )
        backend = resolve_backend(self.backend)
        state = self._starting_state(warm, incremental, early_stopping)
        train_rows = slice(None)
        if early_stopping and held_out is None:
            train_rows, rows = self._split_for_early_stopping(
                targets, sample_weight, fitted_targets
            )
            held_out = HeldOut.rows_of(rows, X, targets, sample_weight, lengths)
        if warm:
            network = fitted_network(self)
            check_continues(network, shape, incremental)
            flat, scaling = network.flat(), network.target_scaling
        else:
            # From the training part only: the held-out rows stay unseen.
            scaling = self._target_scaling(
                targets[train_rows], sample_weight[train_rows]
            )
            flat = init_parameters(shape, state.random_state, np.dtype(self.dtype))
        validation = None
        if held_out is not None:
            validation = Validation(
                held_out.X,
                self._validation_scorer(
                    held_out.targets, held_out.sample_weight, scaling, fitted_targets
                ),
                lengths=held_out.lengths,
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


def _rows(lengths, rows):
    return None if lengths is None else lengths[rows]
