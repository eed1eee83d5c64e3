"""2-D rows that are flattened sequences: how they unflatten, and the
layout ``fit`` recorded (``n_timesteps``, ``step_order``,
``column_grouping``), which every later read of ``X`` must keep."""

#: The estimator attribute that records, in ``fit``, how it read ``X``.
_LAYOUT_ATTRIBUTE = "_fitted_layout"


def check_layout(estimator, layout, reset):
    """Record how ``fit`` reads ``X`` (``reset``), or refuse another reading.

    ``n_timesteps``, ``step_order`` and ``column_grouping`` say how the
    columns of ``X`` map to steps and features. Changed after a fit (with
    ``set_params``), they would make ``predict``, ``partial_fit`` or a warm
    start read ``X`` in another layout than the one the weights learnt:
    wrong answers without an error. So ``fit`` records them on the estimator
    (as ``validate_data`` records ``n_features_in_``) and every later read
    compares. A model saved before the record existed is not checked.

    Raises
    ------
    ValueError
        If ``layout`` differs from the fitted one; the message names each
        changed parameter, its fitted value and the fix.
    """
    if reset:
        setattr(estimator, _LAYOUT_ATTRIBUTE, layout)
        return
    fitted = getattr(estimator, _LAYOUT_ATTRIBUTE, None)
    if fitted is None:
        return
    changed = [name for name, value in layout.items() if fitted[name] != value]
    if changed:
        was = ", ".join(f"{name}={fitted[name]!r}" for name in changed)
        now = ", ".join(f"{name}={layout[name]!r}" for name in changed)
        raise ValueError(
            f"{type(estimator).__name__} was fitted with {was}, but now has "
            f"{now}: X would be read in another layout than the one the model "
            f"learnt from. Set it back with set_params({was}), or refit "
            "with fit() (warm_start=False) on X in the new layout."
        )


def check_two_dimensional(estimator, X, n_timesteps):
    """A ValueError for 3-D windows where flattened ones are expected.

    1-D ``X`` is left to validate_data, whose message scikit-learn's checks
    expect.
    """
    if X.ndim == 3:
        raise ValueError(
            f"{type(estimator).__name__}(n_timesteps={n_timesteps}) reads 2-D X "
            f"whose rows are flattened sequences, got a 3-D array of "
            f"shape {X.shape}. Flatten the windows to (n_samples, n_timesteps * "
            "n_features), or set n_timesteps=None to pass 3-D windows."
        )


def _check_width_divides(estimator, X, n_timesteps):
    """A ValueError unless ``n_timesteps`` divides the width of ``X``.

    Checked in ``fit`` only: ``predict`` checks the width against
    ``n_features_in_``, which divides, with scikit-learn's own message.
    """
    width = X.shape[1]
    if width % n_timesteps:
        raise ValueError(
            f"{type(estimator).__name__}(n_timesteps={n_timesteps}) reads each "
            f"row of X as {n_timesteps} time steps of equal width, but X has {width} "
            f"feature(s) (columns), not a multiple of {n_timesteps}. Set "
            "n_timesteps to the window length the rows were flattened from "
            "(SequenceWindower(window=w, flatten=True) writes w * n_features "
            "columns), or drop the columns that are not lags."
        )


def unflatten_steps(
    X, *, estimator, check_width, n_timesteps, step_order, column_grouping
):
    """Rows of flattened sequences as ``(n_samples, n_timesteps, n_features)``.

    A view of a C-ordered ``X``, whatever the layout of the rows. With
    ``check_width`` (in ``fit``), the width of ``X`` is checked first.
    """
    if check_width:
        _check_width_divides(estimator, X, n_timesteps)
    n_features = X.shape[1] // n_timesteps
    if column_grouping == "by_feature":
        sequences = X.reshape(len(X), n_features, n_timesteps).swapaxes(1, 2)
    else:
        sequences = X.reshape(len(X), n_timesteps, n_features)
    return sequences[:, ::-1] if step_order == "newest_first" else sequences
