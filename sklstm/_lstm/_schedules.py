"""Learning-rate schedules: the step size of each minibatch.

``learning_rate`` names one of :data:`LEARNING_RATES`:

- ``"constant"``: ``learning_rate_init`` throughout.
- ``"adaptive"``: ``MLPRegressor``'s; the step size is divided by 5 where
  training would otherwise stop (see :mod:`._stopping`). It lives in the
  optimiser (:meth:`._optimizers._Optimizer.reduce_step_size`), not here.
- ``"invscaling"``: ``MLPRegressor``'s, ``learning_rate_init / (t + 1) **
  power_t`` for each epoch, with ``t`` the training samples seen before it
  (``t_``).
- ``"cosine"``: a linear warm-up from 0 over the first ``warmup_fraction``
  of ``max_iter`` epochs, then a cosine decay from ``learning_rate_init``
  to 0 (Loshchilov & Hutter, 2017; PyTorch's ``CosineAnnealingLR``).
- ``"one_cycle"``: Smith & Topin's one-cycle policy (2019) as PyTorch's
  ``OneCycleLR`` draws it: a cosine rise from ``learning_rate_init / 25``
  to ``learning_rate_init`` over the first ``warmup_fraction`` of the
  epochs (0.3 by default), then a cosine fall to ``learning_rate_init /
  25 / 1e4``. The momentum is not cycled.

The last two are *planned*: they span ``max_iter`` epochs (one cycle), and
each minibatch takes the schedule's value at its midpoint, in epochs (the
third of four batches of epoch 5 is at 4.625 epochs), so that the step size
falls smoothly within an epoch and no batch gets exactly 0. A
:class:`ScheduleState` counts the epochs trained under the schedule; a
warm start and ``partial_fit`` (one epoch per call) continue it, and past
``max_iter`` epochs a new cycle starts (warm restarts, as SGDR).
"""

import math
from dataclasses import dataclass

#: Every ``learning_rate`` the estimators take.
LEARNING_RATES = ("constant", "adaptive", "invscaling", "cosine", "one_cycle")
#: The schedules that decide the length of training: the training loss
#: does not stop them.
PLANNED = ("cosine", "one_cycle")
#: ``warmup_fraction=None`` means this, by schedule.
DEFAULT_WARMUP = {"cosine": 0.0, "one_cycle": 0.3}
#: One-cycle's first step size is ``learning_rate_init / ONE_CYCLE_DIV``,
#: its last that divided by ``ONE_CYCLE_FINAL_DIV`` (PyTorch's defaults).
ONE_CYCLE_DIV = 25.0
ONE_CYCLE_FINAL_DIV = 1e4


@dataclass
class ScheduleState:
    """Epochs trained under the schedule ``name``: what a warm start and
    ``partial_fit`` continue, saved with the model as these two fields."""

    name: str = "constant"
    epochs: int = 0

    def for_schedule(self, name):
        """This state, or a fresh one if the schedule changed."""
        return self if name == self.name else ScheduleState(name)


def annealing_cosine(start, end, fraction):
    """The cosine from ``start`` (``fraction=0``) to ``end`` (``fraction=1``)."""
    return end + (start - end) / 2.0 * (1.0 + math.cos(math.pi * fraction))


def cosine_step_size(learning_rate_init, position, horizon, warmup_fraction):
    """Step size of ``"cosine"`` at ``position`` epochs into its cycle.

    Parameters
    ----------
    learning_rate_init : float
    position : float
        Epochs into the cycle, in ``[0, horizon)``.
    horizon : int
        Epochs per cycle (``max_iter``).
    warmup_fraction : float
        Share of the cycle that rises linearly from 0.

    Returns
    -------
    step_size : float
    """
    warmup = warmup_fraction * horizon
    if position < warmup:
        return learning_rate_init * position / warmup
    return annealing_cosine(
        learning_rate_init, 0.0, (position - warmup) / (horizon - warmup)
    )


def one_cycle_step_size(learning_rate_init, position, horizon, warmup_fraction):
    """Step size of ``"one_cycle"`` at ``position`` epochs into its cycle
    (parameters as :func:`cosine_step_size`)."""
    start = learning_rate_init / ONE_CYCLE_DIV
    warmup = warmup_fraction * horizon
    if position < warmup:
        return annealing_cosine(start, learning_rate_init, position / warmup)
    return annealing_cosine(
        learning_rate_init,
        start / ONE_CYCLE_FINAL_DIV,
        (position - warmup) / (horizon - warmup),
    )


def invscaling_step_size(learning_rate_init, samples_seen, power_t):
    """Step size of ``"invscaling"`` for an epoch after ``samples_seen``."""
    return learning_rate_init / (samples_seen + 1) ** power_t


_PLANNED_STEP_SIZES = {"cosine": cosine_step_size, "one_cycle": one_cycle_step_size}


class Schedule:
    """The step sizes of one fit's epochs and batches.

    Parameters
    ----------
    config : TrainingConfig
    state : ScheduleState
        Continued in place: :meth:`epoch_ends` counts each epoch.
    """

    def __init__(self, config, state):
        self.name = config.learning_rate
        self.learning_rate_init = config.learning_rate_init
        self.horizon = config.max_iter
        self.power_t = config.power_t
        warmup = config.warmup_fraction
        if warmup is None:
            warmup = DEFAULT_WARMUP.get(self.name, 0.0)
        self.warmup_fraction = warmup
        self.state = state

    @property
    def planned(self):
        """Whether the schedule, not the training loss, ends training."""
        return self.name in PLANNED

    def step_size(self, batch_index, n_batches, samples_seen):
        """The step size of a batch of the current epoch, or None to leave
        the optimiser's own (``"constant"``, ``"adaptive"``)."""
        if self.name == "invscaling":
            return invscaling_step_size(
                self.learning_rate_init, samples_seen, self.power_t
            )
        if not self.planned:
            return None
        position = self.state.epochs % self.horizon + (batch_index + 0.5) / n_batches
        return _PLANNED_STEP_SIZES[self.name](
            self.learning_rate_init, position, self.horizon, self.warmup_fraction
        )

    def epoch_ends(self):
        self.state.epochs += 1
