"""The parameters every LSTM estimator shares: their constraints, and the
checks that ``_parameter_constraints`` cannot express (values read
together, or against the data)."""

from numbers import Integral, Real

import numpy as np

from ._lstm._schedules import LEARNING_RATES
from ._lstm._threads import MAX_THREADS
from ._sklearn_compat import Interval, StrOptions

#: The parameters of every LSTM estimator, as ``_parameter_constraints``.
SHARED_CONSTRAINTS = {
    "hidden_layer_sizes": [
        "array-like",
        Interval(Integral, 1, None, closed="left"),
    ],
    "skip_steps": [Interval(Integral, 0, None, closed="left")],
    "n_timesteps": [Interval(Integral, 1, None, closed="left"), None],
    "step_order": [StrOptions({"oldest_first", "newest_first"})],
    "column_grouping": [StrOptions({"by_step", "by_feature"})],
    "solver": [StrOptions({"adam", "sgd"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_size": [
        StrOptions({"auto"}),
        Interval(Integral, 1, None, closed="left"),
    ],
    "learning_rate": [StrOptions(set(LEARNING_RATES))],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "warmup_fraction": [Interval(Real, 0, 1, closed="left"), None],
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
    "dtype": [StrOptions({"float32", "float64"})],
    "n_threads": [Interval(Integral, 1, MAX_THREADS, closed="both"), None],
    "backend": [StrOptions({"auto", "numpy", "cupy"})],
}


def check_hidden_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a tuple of positive ints.

    Raises
    ------
    ValueError
        If it is not a positive int or a non-empty sequence of them.
    """
    sizes = np.atleast_1d(np.asarray(hidden_layer_sizes))
    valid = (
        sizes.ndim == 1
        and sizes.size > 0
        and np.issubdtype(sizes.dtype, np.integer)
        and (sizes >= 1).all()
    )
    if not valid:
        raise ValueError(
            "hidden_layer_sizes must be a positive int or a non-empty "
            f"sequence of positive ints, got {hidden_layer_sizes!r}."
        )
    return tuple(int(size) for size in sizes)


def check_skip_steps(n_timesteps, skip_steps, method):
    """Raise a ``ValueError`` if the sequences are shorter than ``skip_steps``."""
    if skip_steps > n_timesteps:
        raise ValueError(
            f"skip_steps={skip_steps} reads the last {skip_steps} time steps, "
            f"but the sequences given to {method} have {n_timesteps}. Use "
            f"windows of at least {skip_steps} steps (SequenceWindower's "
            f"window), or a smaller skip_steps."
        )


_FLAT_DEFAULTS = {"step_order": "oldest_first", "column_grouping": "by_step"}


def flat_layout(estimator):
    """How :func:`~sklstm._validation.validate_sequences` reads a 2-D ``X``
    for ``estimator`` (flattened sequences, or one-step ones).

    Raises
    ------
    ValueError
        If ``step_order`` or ``column_grouping`` is set without
        ``n_timesteps``.
    """
    layout = {name: getattr(estimator, name) for name in _FLAT_DEFAULTS}
    for name, value in layout.items():
        if estimator.n_timesteps is None and value != _FLAT_DEFAULTS[name]:
            raise ValueError(
                f"{name}={value!r} describes the columns of flattened rows, "
                "but n_timesteps=None reads 2-D X as one-step sequences. "
                "Set n_timesteps to the number of steps in a row, or "
                f"{name}={_FLAT_DEFAULTS[name]!r}."
            )
    return {"n_timesteps": estimator.n_timesteps, **layout}
