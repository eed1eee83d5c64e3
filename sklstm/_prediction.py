"""How a fitted LSTM estimator predicts: ``X`` checked against the fit,
the backend it runs on, the weights there, and the memory traces.

:class:`PredictionMixin` reads the fitted model through
:func:`~._fitted_network.fitted_network` only; the subclasses turn
:meth:`~PredictionMixin._predicted_outputs` into their predictions.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._fitted_network import fitted_network
from ._lstm._backend import resolve_backend
from ._lstm._engines import make_engine, prediction_dtype
from ._lstm._layer import Workspace
from ._lstm._network import unflatten
from ._lstm._traces import trace_layers
from ._parameters import check_skip_steps, flat_layout
from ._validation import (
    check_fits_dtype,
    sequence_lengths,
    shortest_length,
    validate_sequences,
)


class PredictionMixin:
    """The predict path of an LSTM estimator, from its fitted network."""

    def _predicted_outputs(self, X):
        """The network's output for sequences ``X`` in target units, shaped
        as ``y`` was: a regressor's predictions, a classifier's logits."""
        X, lengths, network = self._validate_for_prediction(X)
        backend = self._predict_backend()
        engine = make_engine(backend, self.n_threads)
        dtype = prediction_dtype(engine, self.dtype)
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
        check_skip_steps(
            shortest_length(X, lengths), network.shape.skip_steps, "predict"
        )
        return X, lengths, network

    def _predict_weights(self, backend, network, dtype):
        """The fitted weights as a ``dtype`` vector on ``backend``'s device.

        On a GPU they are copied there once, at the end of ``fit``, and
        reused by every ``predict``; pickles leave that copy behind.
        """
        device_weights = getattr(self, "_device_weights", None)
        if (
            backend.name == "cupy"
            and device_weights is not None
            and device_weights.dtype == dtype
        ):
            return device_weights
        return backend.asarray(network.flat(dtype))

    def _predict_backend(self):
        """The training backend if it is usable here, else NumPy: a model
        fitted on a GPU predicts on the CPU where there is none."""
        if self.backend_ == "cupy":
            try:
                return resolve_backend("cupy")
            except (ImportError, RuntimeError):
                pass
        return resolve_backend("numpy")
