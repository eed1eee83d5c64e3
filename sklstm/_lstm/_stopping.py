"""When training stops: the one rule the epoch loop asks "stop now?".

``MLPRegressor`` stops once the epoch's training loss has not beaten its
best by ``tol`` for ``n_iter_no_change`` epochs in a row. On a full-batch
MLP the epoch loss falls smoothly and that counter reads it well. The epoch
loss of a recurrent network trained on small batches is noisy: a lucky
low epoch sets a best that the next ``n_iter_no_change`` epochs fail to
beat while the loss is still falling on average, and training ends early
(issue 36; :doc:`/training` shows it and measures the cost).

Without validation (``early_stopping=False``) the rule here stops on the
training loss only when all three hold:

1. **MLP's counter**: no epoch in the last ``n_iter_no_change + 1`` beat
   the best loss by more than ``tol`` (unchanged from ``MLPRegressor``).
2. **The windowed loss has stopped falling**: the median loss of the last
   ``n_iter_no_change`` epochs is not below the median of the
   ``n_iter_no_change`` epochs before it by more than ``tol`` times that
   earlier median. A median over a window reads the trend through the
   noise of single epochs; the tolerance is relative, so that it means the
   same for a loss of 2.3 (cross-entropy of ten classes) and one of 0.01.
3. **The plateau is at the best level**: that last median is within
   :data:`PLATEAU_BAND` (10 %) of the lowest median of any
   ``n_iter_no_change`` consecutive epochs so far. A loss that jumped (an
   unlucky step at a large learning rate) and hovers above its best is not
   a plateau to keep: training goes on, and may come back down. The
   windowed best, not the best single epoch, is the level: on a noisy
   plateau the best epoch is a lucky one, several noise widths below the
   typical loss.

And it never stops at an epoch whose loss sits above that last median by
more than :data:`PLATEAU_BAND`: a median reads through a jump that has
just happened (at a large learning rate, one bad step can send a loss of
0.04 back to 0.7), and stopping there would keep the weights of the jump.
Training goes on until an epoch is back at the plateau's level, or to
``max_iter``.

The rule needs ``2 * n_iter_no_change`` epochs of the current fit before it
can stop; with ``n_iter_no_change >= max_iter`` it never stops, and a fit
runs exactly ``max_iter`` epochs.

With ``early_stopping=True`` the held-out score decides, with
``MLPRegressor``'s counter unchanged: stop once no epoch in the last
``n_iter_no_change + 1`` beat the best score by more than ``tol``.

A planned schedule (``"cosine"``, ``"one_cycle"``) decides the length of
training itself: the training loss never stops it, and it runs
``max_iter`` epochs; early stopping on validation still applies.
"""

import numpy as np

#: How far above the best window median the last window's median may sit
#: and still count as a plateau: a share of the best window median.
PLATEAU_BAND = 0.1


class StoppingRule:
    """The stopping rule of one fit, fed one epoch at a time.

    Parameters
    ----------
    tol : float
        Improvement below which an epoch does not count (see the module).
    n_iter_no_change : int
        Patience of the counter, and width of the loss windows.
    validation : bool
        Whether the epochs come with a validation score, which then decides.
    watch_loss : bool, default=True
        Whether the training loss may stop training (False for a planned
        schedule).
    """

    def __init__(self, tol, n_iter_no_change, *, validation, watch_loss=True):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation = validation
        self.watch_loss = watch_loss
        self.no_improvement_count = 0
        self._best = -np.inf if validation else np.inf
        self._losses = []
        self._best_median = np.inf

    def __call__(self, epoch_loss, score=None):
        """Record one epoch; return whether training should stop now.

        Parameters
        ----------
        epoch_loss : float
            The epoch's mean training loss.
        score : float or None
            Its validation score (higher is better) when ``validation``.

        Returns
        -------
        stop : bool
        """
        self._losses.append(epoch_loss)
        if self.validation:
            self._count(score < self._best + self.tol)
            self._best = max(self._best, score)
            return self.no_improvement_count > self.n_iter_no_change
        self._count(epoch_loss > self._best - self.tol)
        self._best = min(self._best, epoch_loss)
        window = self.n_iter_no_change
        if len(self._losses) >= window:
            recent = float(np.median(self._losses[-window:]))
            self._best_median = min(self._best_median, recent)
        return (
            self.watch_loss
            and self.no_improvement_count > window
            and loss_has_plateaued(self._losses, window, self.tol, self._best_median)
        )

    def describe(self):
        """Why the rule fired, for verbose output."""
        if self.validation:
            return (
                f"No improvement of the validation score by more than "
                f"tol={self.tol} for {self.n_iter_no_change} epochs"
            )
        return (
            f"No improvement of the training loss by more than tol={self.tol} "
            f"for {self.n_iter_no_change} epochs, and its median over "
            f"{self.n_iter_no_change} epochs no longer falling"
        )

    def restart(self):
        """Start counting again (``learning_rate="adaptive"`` after it
        shrank the step size)."""
        self.no_improvement_count = 0

    def _count(self, no_better):
        self.no_improvement_count = self.no_improvement_count + 1 if no_better else 0


def loss_has_plateaued(losses, window, tol, best_median):
    """Whether the windowed loss has stopped falling, at its best level,
    and the last epoch is on that level.

    Parameters
    ----------
    losses : sequence of float
        The epoch losses so far, oldest first.
    window : int
        Epochs per window.
    tol : float
        Relative fall of the median below which the loss counts as flat.
    best_median : float
        The lowest median of ``window`` consecutive losses so far.

    Returns
    -------
    plateaued : bool
        False while fewer than ``2 * window`` losses are known.
    """
    if len(losses) < 2 * window:
        return False
    recent = float(np.median(losses[-window:]))
    before = float(np.median(losses[-2 * window : -window]))
    still_falling = before - recent > tol * abs(before)
    near_best = recent <= best_median + PLATEAU_BAND * abs(best_median)
    last_on_plateau = losses[-1] <= recent + PLATEAU_BAND * abs(recent)
    return not still_falling and near_best and last_on_plateau
