"""The elementwise gate maths of one LSTM time step, per array backend.

Gate layout, fixed here and used everywhere (it is PyTorch's ``nn.LSTM``
order): the four gate blocks of a pre-activation array of shape
``(batch, 4, hidden)`` are, in order,

====  ==============  =========================================
 k    name            activation
====  ==============  =========================================
 0    input gate      ``i = sigmoid(z_i)``
 1    forget gate     ``f = sigmoid(z_f)``
 2    cell candidate  ``g = tanh(z_g)`` (the potential long-term memory)
 3    output gate     ``o = sigmoid(z_o)``
====  ==============  =========================================

and one step updates the cell state (long-term memory) ``c`` and the hidden
state (short-term memory) ``h``::

    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Backpropagation through time needs, per step, ``dz`` from ``dh_t`` (the
gradient reaching ``h_t``) and ``dc_next`` (reaching ``c_t`` from step t+1)::

    dc    = dh_t * o * (1 - tanh(c_t)**2) + dc_next
    dz_i  = dc * g * i * (1 - i)
    dz_f  = dc * c_{t-1} * f * (1 - f)
    dz_g  = dc * i * (1 - g**2)
    dz_o  = dh_t * tanh(c_t) * o * (1 - o)
    dc_{t-1} = dc * f

Every factor that does not depend on ``dh`` or ``dc`` is computed for all
steps at once after the forward pass (``backward_factors``), so the
sequential part of the backward pass is a handful of multiplications.

Two implementations share this contract: :class:`NumpyGateKernels` (in-place
NumPy ufuncs, the reference) and the fused CuPy kernels built by
:func:`make_cupy_gate_kernels`.
"""

import functools

import numpy as np

#: The gate blocks of the weights, in their order (PyTorch's ``nn.LSTM``);
#: the candidate is the tanh block, the potential long-term memory.
INPUT, FORGET, CANDIDATE, OUTPUT = range(4)
GATE_NAMES = ("input", "forget", "candidate", "output")
N_GATES = len(GATE_NAMES)


def _tanh_from_exp(x, out):
    """``tanh(x) = 2 / (1 + exp(-2 x)) - 1``, written into ``out``.

    NumPy's ``exp`` is about twice (float32) to three times (float64) as fast
    as its ``tanh``; the result differs from ``np.tanh`` by a few units in the
    last place of 1.
    """
    np.multiply(x, -2, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    out *= 2
    out -= 1


class NumpyGateKernels:
    """Gate maths with in-place NumPy ufuncs (the reference implementation).

    NumPy's ``exp`` is about twice as fast as its ``tanh``, and one ufunc
    call over a whole contiguous ``(batch, 4, hidden)`` array is much cheaper
    than one per gate block. So the forward weights are pre-scaled (see
    :attr:`preactivation_scale`) for the GEMMs to deliver ``-z`` for the
    sigmoid gates and ``-2 z`` for the candidate, and one ``exp``,
    ``+ 1``, ``1 / …`` pass gives ``sigmoid(z)`` for the gates and
    ``sigmoid(2 z)`` for the candidate, turned into
    ``tanh(z) = 2 sigmoid(2 z) - 1``. ``exp`` overflowing to ``inf`` gives
    the exact limit 0, so callers silence overflow warnings.
    """

    preactivation_scale = np.array([-1.0, -1.0, -2.0, -1.0])

    def forward_step(self, gates, recurrent, c_prev, c, tanh_c, h, scratch):
        """Activate the gates of one step and update the memories.

        Parameters
        ----------
        gates : ndarray of shape (batch, 4, hidden)
            Input projections plus bias, scaled by ``preactivation_scale``;
            replaced by the activated gates.
        recurrent : ndarray of shape (batch, 4, hidden) or None
            ``h_{t-1} @ weight_hh.T``, scaled likewise, added to ``gates``;
            None at the first step, where ``h_{-1} = 0``.
        c_prev : ndarray of shape (batch, hidden)
            Cell state of the previous step.
        c, tanh_c, h : ndarray of shape (batch, hidden)
            Written: new cell state, its tanh, new hidden state.
        scratch : ndarray of shape (batch, hidden)
            Work space.
        """
        if recurrent is not None:
            gates += recurrent
        np.exp(gates, out=gates)
        gates += 1
        np.reciprocal(gates, out=gates)
        candidate = gates[:, CANDIDATE]
        candidate *= 2
        candidate -= 1
        np.multiply(gates[:, FORGET], c_prev, out=c)
        np.multiply(gates[:, INPUT], candidate, out=scratch)
        c += scratch
        _tanh_from_exp(c, out=tanh_c)
        np.multiply(gates[:, OUTPUT], tanh_c, out=h)

    def backward_factors(self, gates, c_prev, tanh_c, factors, cell_factor):
        """Precompute the step-independent factors of the backward pass.

        Parameters
        ----------
        gates : ndarray of shape (steps, batch, 4, hidden)
            Activated gates of every step.
        c_prev : ndarray of shape (steps, batch, hidden)
            Cell state entering each step.
        tanh_c : ndarray of shape (steps, batch, hidden)
            tanh of the cell state leaving each step.
        factors : ndarray of shape (steps, batch, 4, hidden)
            Written: ``dz = factors * [dc, dc, dc, dh]`` per gate block.
        cell_factor : ndarray of shape (steps, batch, hidden)
            Written: ``o * (1 - tanh(c)**2)``, so ``dc = dh * cell_factor +
            dc_next``.
        """
        i = gates[:, :, INPUT]
        g = gates[:, :, CANDIDATE]
        o = gates[:, :, OUTPUT]
        # s * (1 - s) for every block at once, then each block's own factor.
        np.subtract(1, gates, out=factors)
        factors *= gates
        factors[:, :, INPUT] *= g
        factors[:, :, FORGET] *= c_prev
        factors[:, :, OUTPUT] *= tanh_c
        candidate = factors[:, :, CANDIDATE]
        np.multiply(g, g, out=candidate)
        np.subtract(1, candidate, out=candidate)
        candidate *= i
        np.multiply(tanh_c, tanh_c, out=cell_factor)
        np.subtract(1, cell_factor, out=cell_factor)
        cell_factor *= o

    def backward_step(self, dh, factors, cell_factor, forget, dc_next, dz, dc):
        """Gate gradients of one step, walking back in time.

        Parameters
        ----------
        dh : ndarray of shape (batch, hidden)
            Gradient reaching ``h_t``.
        factors : ndarray of shape (batch, 4, hidden)
            This step's slice of ``backward_factors``' output.
        cell_factor : ndarray of shape (batch, hidden)
            This step's slice of ``backward_factors``' output.
        forget : ndarray of shape (batch, hidden)
            This step's forget gate.
        dc_next : ndarray of shape (batch, hidden)
            Gradient reaching ``c_t`` from step t+1; replaced by the gradient
            reaching ``c_{t-1}``.
        dz : ndarray of shape (batch, 4, hidden)
            Written: gradient of the loss w.r.t. this step's pre-activations.
        dc : ndarray of shape (batch, hidden)
            Work space.
        """
        np.multiply(dh, factors[:, OUTPUT], out=dz[:, OUTPUT])
        np.multiply(dh, cell_factor, out=dc)
        dc += dc_next
        np.multiply(dc[:, None, :], factors[:, :OUTPUT], out=dz[:, :OUTPUT])
        np.multiply(dc, forget, out=dc_next)


_CUPY_PREAMBLE = """
template <typename T> __device__ T sigmoid(T z) { return T(1) / (T(1) + exp(-z)); }
"""


class _CupyGateKernels:
    """The same contract as :class:`NumpyGateKernels`, as fused CUDA kernels.

    Each method is one kernel launch over ``batch * hidden`` (or ``steps *
    batch * hidden``) elements; the gate blocks are strided views, which
    ``ElementwiseKernel`` indexes itself.
    """

    # The kernels evaluate sigmoid and tanh themselves: no pre-scaling.
    preactivation_scale = None

    def __init__(self, cupy):
        self._cupy = cupy
        # ``i`` and ``n`` are reserved names in CuPy kernels: the gate
        # outputs are spelled out.
        self._forward = cupy.ElementwiseKernel(
            "T zi, T zf, T zg, T zo, T ri, T rf, T rg, T ro, T c_prev",
            "T input_gate, T forget_gate, T candidate, T output_gate, "
            "T c, T tanh_c, T h",
            """
            input_gate = sigmoid(zi + ri);
            forget_gate = sigmoid(zf + rf);
            candidate = tanh(zg + rg);
            output_gate = sigmoid(zo + ro);
            c = forget_gate * c_prev + input_gate * candidate;
            tanh_c = tanh(c);
            h = output_gate * tanh_c;
            """,
            "sklstm_lstm_forward_step",
            preamble=_CUPY_PREAMBLE,
        )
        self._factors = cupy.ElementwiseKernel(
            "T input_gate, T forget_gate, T candidate, T output_gate, "
            "T c_prev, T tanh_c",
            "T di, T df, T dg, T do_, T cell_factor",
            """
            di = candidate * input_gate * (T(1) - input_gate);
            df = c_prev * forget_gate * (T(1) - forget_gate);
            dg = input_gate * (T(1) - candidate * candidate);
            do_ = tanh_c * output_gate * (T(1) - output_gate);
            cell_factor = output_gate * (T(1) - tanh_c * tanh_c);
            """,
            "sklstm_lstm_backward_factors",
        )
        self._backward = cupy.ElementwiseKernel(
            "T dh, T ki, T kf, T kg, T ko, T cell_factor, T forget",
            "T dzi, T dzf, T dzg, T dzo, T dc_next",
            """
            T dc = dh * cell_factor + dc_next;
            dzi = dc * ki;
            dzf = dc * kf;
            dzg = dc * kg;
            dzo = dh * ko;
            dc_next = dc * forget;
            """,
            "sklstm_lstm_backward_step",
        )

    def forward_step(self, gates, recurrent, c_prev, c, tanh_c, h, scratch):
        if recurrent is None:
            recurrent = self._cupy.zeros_like(gates)
        self._forward(
            *(gates[:, k] for k in range(N_GATES)),
            *(recurrent[:, k] for k in range(N_GATES)),
            c_prev,
            *(gates[:, k] for k in range(N_GATES)),
            c,
            tanh_c,
            h,
        )

    def backward_factors(self, gates, c_prev, tanh_c, factors, cell_factor):
        self._factors(
            *(gates[:, :, k] for k in range(N_GATES)),
            c_prev,
            tanh_c,
            *(factors[:, :, k] for k in range(N_GATES)),
            cell_factor,
        )

    def backward_step(self, dh, factors, cell_factor, forget, dc_next, dz, dc):
        self._backward(
            dh,
            *(factors[:, k] for k in range(N_GATES)),
            cell_factor,
            forget,
            *(dz[:, k] for k in range(N_GATES)),
            dc_next,
        )


@functools.cache
def make_cupy_gate_kernels(cupy):
    """Build (once per process) the fused CuPy gate kernels.

    Parameters
    ----------
    cupy : module
        The imported ``cupy`` module, handed over by the backend helper so
        that this module never imports CuPy itself.

    Returns
    -------
    kernels : object
        An object with the methods of :class:`NumpyGateKernels`.
    """
    return _CupyGateKernels(cupy)
