"""Stochastic optimisers that update a flat parameter vector in place.

As in scikit-learn's ``neural_network/_stochastic_optimizers.py``, each
optimiser knows nothing of the network: ``update_params(params, grads)``
takes the flat parameter and gradient vectors of one array module.
:data:`OPTIMIZERS` is the one list of them: ``solver`` names, what each
reads of the training settings, and the arrays of state it carries (moved
between devices and saved with a model).
"""


class _Optimizer:
    """What both optimisers share: a step size that may shrink."""

    #: The ``solver`` that names the optimiser.
    name = None
    #: The attributes that hold arrays of the parameters' shape: moved to
    #: and from the device with the parameters (None where unused).
    state_arrays = ()

    #: The adaptive schedule stops once the step size is this small.
    SMALLEST_STEP = 1e-6

    def reduce_step_size(self):
        """Divide the step size by 5 (``learning_rate="adaptive"``).

        As ``MLPRegressor``'s adaptive schedule: called when the epochs stop
        improving; returns False, leaving the step size alone, once it is
        ``SMALLEST_STEP`` or less, to stop training.
        """
        if self.step_size <= self.SMALLEST_STEP:
            return False
        self.step_size /= 5.0
        return True


class SGDOptimizer(_Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Parameters
    ----------
    params : array
        The flat parameter vector (for the shape of the velocity).
    learning_rate_init : float
    momentum : float
    nesterov : bool
    """

    name = "sgd"
    state_arrays = ("velocity",)

    def __init__(self, params, learning_rate_init=0.1, momentum=0.9, nesterov=True):
        self.step_size = learning_rate_init
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = params * 0 if momentum else None

    @classmethod
    def from_config(cls, config, params):
        """The optimiser of training settings ``config`` (``solver="sgd"``)."""
        return cls(
            params,
            config.learning_rate_init,
            config.momentum,
            config.nesterovs_momentum,
        )

    def update_params(self, params, grads):
        """Take one step: ``params -= step_size * grads`` with momentum."""
        if not self.momentum:
            params -= self.step_size * grads
            return
        self.velocity *= self.momentum
        self.velocity -= self.step_size * grads
        if self.nesterov:
            params += self.momentum * self.velocity - self.step_size * grads
        else:
            params += self.velocity


class AdamOptimizer(_Optimizer):
    """Adam (Kingma & Ba, 2014), in scikit-learn's formulation.

    Parameters
    ----------
    params : array
        The flat parameter vector (for the shape of the moments).
    learning_rate_init : float
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Numerical stability term.
    """

    name = "adam"
    state_arrays = ("first_moment", "second_moment")

    def __init__(
        self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        self.step_size = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.first_moment = params * 0
        self.second_moment = params * 0

    @classmethod
    def from_config(cls, config, params):
        """The optimiser of training settings ``config`` (``solver="adam"``)."""
        return cls(
            params,
            config.learning_rate_init,
            config.beta_1,
            config.beta_2,
            config.epsilon,
        )

    def update_params(self, params, grads):
        """Take one Adam step on ``params`` in place."""
        self.t += 1
        self.first_moment *= self.beta_1
        self.first_moment += (1 - self.beta_1) * grads
        self.second_moment *= self.beta_2
        self.second_moment += (1 - self.beta_2) * (grads * grads)
        learning_rate = (
            self.step_size
            * (1 - self.beta_2**self.t) ** 0.5
            / (1 - self.beta_1**self.t)
        )
        params -= (
            learning_rate * self.first_moment / (self.second_moment**0.5 + self.epsilon)
        )


#: Every optimiser, by the ``solver`` that names it.
OPTIMIZERS = {optimizer.name: optimizer for optimizer in (AdamOptimizer, SGDOptimizer)}
