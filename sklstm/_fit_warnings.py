"""The warnings of a fit's outcome (Ctrl-C, no convergence), pointing at
the user's line that called ``fit`` or ``partial_fit``."""

import inspect
import warnings

from sklearn.exceptions import ConvergenceWarning


def warn_of(outcome, estimator):
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
