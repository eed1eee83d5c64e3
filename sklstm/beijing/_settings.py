"""What a run of the study does: :class:`StudySettings`, the ``sklstm-beijing``
defaults and the ``--quick`` ones."""

from dataclasses import dataclass

from ._input_sets import DEFAULT_INPUTS
from ._protocol import CURVE_HORIZONS, FOLDS, FULL, HORIZONS, QUICK, WINDOW


@dataclass(frozen=True)
class StudySettings:
    """What the study runs; the defaults are the ``sklstm-beijing`` defaults.

    Attributes
    ----------
    horizons : tuple of int
        Hours ahead of the tables, the intervals and gradient boosting.
    inputs : tuple of str
        Input sets, keys of ``_input_sets.INPUT_SETS``; by default the
        deployable ones (``_input_sets.DEFAULT_INPUTS``).
    protocol : Protocol
        The periods of the last fold (``FULL`` or the ``QUICK`` slice);
        the other folds are it shifted back (:meth:`Protocol.fold`).
    folds : tuple of int
        Test years of the rolling origin.
    joint : bool
        One LSTM for every horizon from 1 to ``max(24, *horizons)``, scored
        at each of them; False (the default, chosen on the validation years:
        see the Beijing docs page) for one LSTM per horizon of ``horizons``.
        With a look-ahead, the joint LSTM reads the known-ahead columns up
        to its longest horizon for every output, so its short horizons see
        hours after their target.
    window : int
        Hours of input history: the LSTM's sequence length and the lags of
        the Ridge and gradient-boosting baselines.
    hidden : int
        LSTM hidden units.
    skip_steps : int
        ``LSTMRegressor(skip_steps=...)``: the last hours of the window that
        also reach the forecast through a linear map beside the LSTM.
    epochs : int
        Most epochs per LSTM (early stopping usually ends sooner).
    patience : int
        Epochs without a better validation score before the LSTM stops.
    tol : float
        ``LSTMRegressor(tol=...)``: the least gain of validation R² that
        counts as better.
    batch_size : int
    learning_rate : float
    dropout : float
        ``LSTMRegressor(dropout=...)``, the share of inputs dropped in
        training.
    schedule : {"constant", "adaptive"}
        ``LSTMRegressor(learning_rate=...)``: with ``"adaptive"``, each time
        ``patience`` epochs fail to improve the validation score the step
        size is divided by 5 instead of stopping (until it is 1e-6).
    seeds : tuple of int
        LSTM seeds; with several, their forecasts are averaged (six by
        default: chosen on 2013, see the Beijing docs page).
    hgb_max_iter : int
        Most boosting iterations of the gradient-boosting baseline, which
        stops early on the validation year.
    backend : str
        ``LSTMRegressor(backend=...)``.
    threads : int or None
        Threads of BLAS and OpenMP (gradient boosting) during the study;
        None leaves the libraries' defaults.
    intervals : float or None
        Coverage of the forecast intervals, in (0, 1); None for none. They
        are calibrated on each fold's validation year.
    n_jobs : int or None
        Processes fitting the LSTMs and gradient-boosting models side by
        side, one thread each; None for one per core, negative as in
        joblib (-1: every core, -2: all but one).
    verbose : bool
        Print every LSTM epoch and every fit.
    """

    horizons: tuple = HORIZONS
    inputs: tuple = DEFAULT_INPUTS
    protocol: object = FULL
    folds: tuple = FOLDS
    joint: bool = False
    window: int = WINDOW
    hidden: int = 32
    skip_steps: int = 6
    epochs: int = 40
    patience: int = 6
    tol: float = 1e-4
    batch_size: int = 128
    learning_rate: float = 1e-3
    dropout: float = 0.0
    schedule: str = "constant"
    seeds: tuple = (0, 1, 2, 3, 4, 5)
    hgb_max_iter: int = 2000
    backend: str = "auto"
    threads: int = 1
    intervals: float | None = 0.8
    n_jobs: int | None = None
    verbose: bool = False

    @classmethod
    def quick(cls, **changes):
        """Settings of ``--quick``: the ``QUICK`` slice, a smaller, faster LSTM.

        Smaller batches and a larger step give the LSTM enough updates on
        the four months of training rows; gradient boosting gets 20
        iterations; two seeds.
        """
        defaults = dict(
            protocol=QUICK,
            hidden=32,
            epochs=12,
            patience=3,
            batch_size=32,
            learning_rate=0.003,
            hgb_max_iter=20,
            seeds=(0, 1),
        )
        return cls(**{**defaults, **changes})

    def fold(self, test_year):
        """The protocol of the fold that tests on ``test_year``."""
        return self.protocol.fold(test_year)

    @property
    def scored_horizons(self):
        """Horizons of the naive forecasts and Ridge: 1 to ``max(24, *horizons)``."""
        return tuple(range(1, max(CURVE_HORIZONS, *self.horizons) + 1))

    @property
    def lstm_horizons(self):
        """Horizons of the LSTM: ``scored_horizons`` with ``joint``, else
        ``horizons``."""
        return self.scored_horizons if self.joint else tuple(sorted(self.horizons))

    def lstm_params(self, seed, lead=0):
        """Keyword arguments of the study's :class:`~sklstm.LSTMRegressor`.

        With a look-ahead of ``lead`` hours, the windows end with ``lead``
        future steps, so the skip connection reaches back over them too: it
        reads the last ``skip_steps`` observed hours and the future steps
        after them.
        """
        return dict(
            hidden_layer_sizes=self.hidden,
            skip_steps=self.skip_steps + lead if self.skip_steps else 0,
            batch_size=self.batch_size,
            learning_rate=self.schedule,
            dropout=self.dropout,
            learning_rate_init=self.learning_rate,
            max_iter=self.epochs,
            early_stopping=True,
            n_iter_no_change=self.patience,
            tol=self.tol,
            random_state=seed,
            verbose=self.verbose,
            backend=self.backend,
        )
