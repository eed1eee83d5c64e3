"""Docstring sections shared by the LSTM estimators.

The parameters and fitted attributes that every estimator on
:class:`~sklstm._base.BaseLSTM` has are described once, here, and
:func:`fill_docstring` puts them into each estimator's class docstring at
its ``$name`` markers (``$sequence_parameters``...), as pandas' ``@doc``
does: a new estimator writes only what is its own.
"""

from string import Template

SEQUENCE_PARAMETERS = """\
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
        ``n_timesteps`` does not divide is an error. Shorter sequences may
        end in NaN steps, as in 3-D ``X`` (:ref:`variable-length`): the
        columns of a row's last steps, wherever the layout puts them, all
        NaN; any other NaN is an error. None (the default) reads 3-D ``X``
        as sequences and 2-D ``X`` as one-step sequences (no padding).
        ``n_timesteps``, ``step_order`` and ``column_grouping`` are fixed by
        ``fit``: changed afterwards, ``predict``, ``score``,
        ``trace_memory``, ``partial_fit`` and a warm start refuse ``X``
        (a ``ValueError`` naming the fitted value) until they are set back
        or the model is refitted.
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
"""

OPTIMISER_PARAMETERS = """\
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
    learning_rate : {"constant", "adaptive", "invscaling", "cosine", \
            "one_cycle"}, default="cosine"
        Step-size schedule (:doc:`/training`). The default differs from
        ``MLPRegressor``'s ``"constant"``: a cosine decay scored better on
        every data set of the design study, and lets quantile models reach
        their coverage (:ref:`default-schedule`); pass ``"constant"`` for
        ``MLPRegressor``'s behaviour, and for ``partial_fit`` on a stream.
        ``"constant"`` keeps ``learning_rate_init``. ``"adaptive"`` is
        ``MLPRegressor``'s: each time training would stop on the training
        loss (or, with
        ``early_stopping``, on the validation score), the step size is
        divided by 5 and training goes on; it stops when the step size is
        1e-6 or less. ``"invscaling"`` is ``MLPRegressor``'s,
        ``learning_rate_init / (t_ + 1) ** power_t`` for each epoch, ``t_``
        the training samples seen before it. ``"cosine"`` rises linearly
        from 0 over the first ``warmup_fraction`` of ``max_iter`` epochs,
        then falls as a cosine to 0 at ``max_iter``. ``"one_cycle"`` rises
        as a cosine from ``learning_rate_init / 25`` over the first
        ``warmup_fraction`` of the epochs, then falls as a cosine to
        ``learning_rate_init / 25e4`` (PyTorch's ``OneCycleLR``). Unlike
        ``MLPRegressor``, where schedules apply to ``solver="sgd"`` only,
        every schedule applies to Adam too, scaling its step size. The
        training loss does not stop ``"cosine"`` and ``"one_cycle"``: they
        run ``max_iter`` epochs (early stopping still applies). A warm start
        and ``partial_fit`` (one epoch per call) continue a schedule's
        epochs; past ``max_iter`` a new cycle starts.
    learning_rate_init : float, default=0.001
        Step size of the optimiser; the largest step of a schedule.
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"``.
    warmup_fraction : float or None, default=None
        Share of the ``max_iter`` epochs over which ``"cosine"`` and
        ``"one_cycle"`` rise to ``learning_rate_init``, in [0, 1). None:
        0 for ``"cosine"`` (no warm-up), 0.3 for ``"one_cycle"``. Other
        schedules ignore it.
    max_iter : int, default=200
        Number of epochs of a planned schedule (``"cosine"``, the default,
        and ``"one_cycle"``), which runs them all unless early stopping ends
        it; for the other schedules, the most epochs, and a fit that reaches
        it before the stopping rule fires warns with a
        ``ConvergenceWarning``.
    shuffle : bool, default=True
        Whether to shuffle the training sequences every epoch. Shuffling
        whole sequences is safe for time series: each carries its own past.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and shuffling.
    tol : float, default=1e-4
        Improvement below which an epoch does not count. Without
        ``early_stopping``, and with a schedule that is not planned
        (``"constant"``, ``"adaptive"``, ``"invscaling"``), training stops
        once no epoch in the last ``n_iter_no_change + 1`` beat the best
        training loss by ``tol``
        (``MLPRegressor``'s counter) **and** the median loss of the last
        ``n_iter_no_change`` epochs is no more than ``tol`` (relative) below
        the median of the ``n_iter_no_change`` before, within 10 % of the
        best loss, and the last epoch is at that level (:doc:`/training`).
        With ``early_stopping``, the validation score decides, as in
        ``MLPRegressor``, whatever the schedule.
    verbose : bool, default=False
        Print the loss, validation score and time of each epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights (and target scaling).
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Whether ``solver="sgd"`` uses Nesterov's momentum.
"""

STOPPING_PARAMETERS = """\
    validation_fraction : float, default=0.1
        Share of samples held out for early stopping; not read when ``fit``
        is given a validation set (``X_val``, ``y_val``).
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.
    n_iter_no_change : int, default=30
        Patience of the stopping rule, in epochs, and the width of its loss
        windows (or, with ``learning_rate="adaptive"``, the patience before
        the step size shrinks); the rule cannot stop before
        ``2 * n_iter_no_change`` epochs. ``n_iter_no_change >= max_iter``
        runs exactly ``max_iter`` epochs. Three times ``MLPRegressor``'s 10:
        the epoch losses of a recurrent network on small batches are noisy,
        and its loss may rest on a plateau for dozens of epochs before it
        falls again (:doc:`/training`).
    gradient_clip : float or None, default=None
        Clip the gradient to this global L2 norm before each step.
"""

ENGINE_PARAMETERS = """\
    dtype : {"float32", "float64"}, default="float32"
        Precision of training and of prediction, with one rule for
        ``predict`` on every engine: it computes in this dtype wherever a
        row's prediction is then the same alone as among other rows, and
        in float64 otherwise. The compiled engine gives every row the same
        operations wherever it sits, so a model predicts there in the dtype
        it was fitted in; the NumPy and CuPy engines' products are BLAS's,
        which in float32 round a row by the rows beside it, so they predict
        in float64 (:ref:`prediction-precision`). Predictions are float64
        arrays either way.
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
        At most 4096: the largest machines that run one system have a few
        thousand logical CPUs, and threads beyond the cores only wait for
        them, so a larger count (a typo) is a ``ValueError`` at once rather
        than minutes of starting threads. See :doc:`/performance`.
    backend : {"auto", "numpy", "cupy"}, default="auto"
        Array backend of training. ``"auto"`` uses CuPy when it is installed
        and sees a CUDA device, else NumPy.

"""

NETWORK_ATTRIBUTES = """\
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
"""

LOSS_CURVE_ATTRIBUTE = """\
    loss_ : float or None
        Mean training loss (penalty included) of the last epoch,
        ``loss_curve_[-1]``, as ``MLPRegressor``'s ``loss_``; ``partial_fit``
        sets it to its pass's loss. None if training was interrupted before
        its first epoch ended.
    loss_curve_ : list of float
        Mean training loss (penalty included) of each epoch; a fit with
        ``warm_start`` continues it, as ``MLPRegressor`` does.
"""

FIT_ATTRIBUTES = """\
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

"""


SECTIONS = {
    "sequence_parameters": SEQUENCE_PARAMETERS,
    "optimiser_parameters": OPTIMISER_PARAMETERS,
    "stopping_parameters": STOPPING_PARAMETERS,
    "engine_parameters": ENGINE_PARAMETERS,
    "network_attributes": NETWORK_ATTRIBUTES,
    "loss_curve_attribute": LOSS_CURVE_ATTRIBUTE,
    "fit_attributes": FIT_ATTRIBUTES,
}


def fill_docstring(cls):
    """Class decorator: fill the ``$name`` markers of ``cls.__doc__``.

    A marker stands alone on its line, indented as numpydoc entries are;
    its section's first line takes the marker's indentation.
    """
    cls.__doc__ = Template(cls.__doc__).substitute(
        {name: text.strip() for name, text in SECTIONS.items()}
    )
    return cls
