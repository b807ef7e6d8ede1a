"""Recurrent layers with PyTorch's names, arguments, parameter layout and initialisation:
``RNN`` (tanh or relu), ``LSTM`` (with ``proj_size``), ``GRU`` and their one-step forms
``RNNCell``, ``LSTMCell`` and ``GRUCell``.

A multi-layer network is composed here from one primitive per layer and direction, which runs
the whole sequence and writes its backward through time out by hand. Composed per time step
from Tensor ops, a layer would record ~15 graph nodes a step, and taking step t out of the
sequence (``x[t]``) has a gradient the size of the whole sequence, so backward would cost
O(L^2) in the sequence length L. The primitive instead projects the inputs of all steps in one
GEMM (both biases folded into it where the math allows), runs the recurrence, and forms the
weight gradients after it as single GEMMs over all steps. The recurrence of an LSTM (without
a projection) or GRU is one backend call each way (``lstm_sequence``, ``gru_sequence`` and
their backwards: on the C backend one C call runs every step's h W_hh^T and gate math, batch
rows split over threads for the whole sequence); an RNN, or an LSTM with ``proj_size``, loops
over the steps here. The LSTM and GRU cells run the same gate kernels (``lstm_gates``,
``gru_gates``) as one graph node each; the RNN cell is a composition of Tensor ops. The
primitives compute only through backend calls (their slices, reshapes and joins of per-step
results too, never writing into an array), so ``micrograd.compile`` records and replays them.

Shapes, as PyTorch: input (L, N, H_in) (``batch_first``: (N, L, H_in); unbatched: (L, H_in)),
states (D * num_layers, N, H_out), output (L, N, D * H_out), D = 2 if ``bidirectional``.
Gate order in the stacked weights: LSTM i, f, g, o; GRU r, z, n.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ..core.creation import _float_dtype, cat, stack, zeros
from ..core.device import as_device
from ..core.ops import Function
from ..core.tensor import Tensor, apply_op
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- the per-layer primitives -------------------------------------------------------------------
def _stack(be, arrays: list) -> np.ndarray:
    """(len(arrays), ...) from equal-shaped arrays (per-step results, in time order) by backend
    calls: a replay repeats them (micrograd.compile), where writing into an array it would
    not."""
    return be.concatenate([be.reshape(a, (1,) + a.shape) for a in arrays], 0)


def _entering(first: np.ndarray, seq: list, reverse: bool) -> list:
    """The state each step starts from, in time order, from ``seq``, the L states the steps
    left: (first, s_0, ..., s_{L-2}), or for the reverse direction, which runs from t = L-1
    down to 0, (s_1, ..., s_{L-1}, first)."""
    return seq[1:] + [first] if reverse else [first] + seq[:-1]


class _Layer(Function):
    """Shared by the three layer primitives: the input projection of every step in one GEMM
    (forward) and the gradients of the input and weights from the per-step pre-activation
    gradients, each one GEMM over all steps (backward).

    Inputs are (x, h0, [c0], w_ih, w_hh, [b_ih, b_hh], [w_hr]); x is (L, N, I) time-major.
    Every array the layers make comes from a backend call (slices, reshapes and joins too), so
    ``micrograd.compile`` can record them and replay the calls (each layer says
    ``recordable = True`` in its own body)."""

    def _project(self, x: np.ndarray, w_ih: np.ndarray, b_ih: np.ndarray | None,
                 reverse: bool) -> np.ndarray:
        """x_t W_ih^T + b_ih for every step t, as (L, N, G)."""
        be = self.be
        steps, n, _ = x.shape
        self.steps = range(steps - 1, -1, -1) if reverse else range(steps)
        self.reverse = reverse
        self.x2 = be.reshape(x, (steps * n, x.shape[2]))  # a copy only when x is not contiguous
        self.w_ih = w_ih
        return be.reshape(be.linear(self.x2, w_ih, b_ih), (steps, n, w_ih.shape[0]))

    def _weight_grads(self, dz_ih: np.ndarray, dz_hh: np.ndarray, h0: np.ndarray,
                      hs: np.ndarray, first: int, bias: bool) -> list:
        """[dx, dw_ih, dw_hh, db_ih, db_hh] (the biases only with ``bias``) from dz_ih (L, N,
        G), the gradient of x_t W_ih^T + b_ih, and dz_hh, that of h_{t-1} W_hh^T + b_hh, with
        hs (L, N, H) the states each step left and h0 the first step's. ``first`` is w_ih's
        input index; a gradient that is not needed is None."""
        be, need = self.be, self.needs_input_grad
        steps, n, gates = dz_ih.shape
        flat_ih = be.reshape(dz_ih, (steps * n, gates))
        flat_hh = flat_ih if dz_hh is dz_ih else be.reshape(dz_hh, (steps * n, gates))
        dx = be.reshape(be.matmul(flat_ih, self.w_ih), self.x_shape) if need[0] else None
        dw_ih = be.matmul(flat_ih, self.x2, trans_a=True) if need[first] else None
        dw_hh = self._recurrent_grad(dz_hh, h0, hs) if need[first + 1] else None
        grads = [dx, dw_ih, dw_hh]
        if bias:
            grads += [be.sum(flat_ih, (0,), False) if need[first + 2] else None,
                      be.sum(flat_hh, (0,), False) if need[first + 3] else None]
        return grads

    def _recurrent_grad(self, dz_hh: np.ndarray, h0: np.ndarray, hs: np.ndarray) -> np.ndarray:
        """sum_t dz_t^T h_{t-1}, W_hh's gradient: the first step's term from h0 and the others
        as one GEMM over the states the steps left (slices of hs: nothing is stacked)."""
        be = self.be
        steps, n, gates = dz_hh.shape
        start, later, entering = ((steps - 1, slice(0, steps - 1), slice(1, steps))
                                  if self.reverse else
                                  (0, slice(1, steps), slice(0, steps - 1)))
        dw = be.matmul(be.getitem(dz_hh, start), h0, trans_a=True)
        if steps > 1:
            dw = be.add(dw, be.matmul(be.reshape(be.getitem(dz_hh, later), (-1, gates)),
                                      be.reshape(be.getitem(hs, entering), (-1, hs.shape[2])),
                                      trans_a=True))
        return dw


class _RNNLayer(_Layer):
    """h_t = act(z_t), z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh, act = tanh or relu
    dz_t = (g_t + dh_t) act'(h_t)    dh_{t-1} = dz_t W_hh    dW_hh = sum_t dz_t^T h_{t-1}
    dx_t = dz_t W_ih    dW_ih = sum_t dz_t^T x_t    db_ih = db_hh = sum_t dz_t"""
    saves_inputs = (0, 1, 2, 3)  # x, h0, w_ih, w_hh (not the biases)
    recordable = True

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, relu: bool, reverse: bool):
        be = self.be
        self.x_shape, self.h0, self.w_hh, self.relu = x.shape, h0, w_hh, relu
        z = self._project(x, w_ih, None if b_ih is None else be.add(b_ih, b_hh), reverse)
        hs = [None] * len(self.steps)  # h_t by time step, joined after the loop
        h = h0
        for t in self.steps:
            pre = be.add(be.getitem(z, t), be.matmul(h, w_hh, trans_b=True))
            h = hs[t] = be.relu(pre) if relu else be.tanh(pre)
        self.hs = _stack(be, hs)
        # a copy out: the caller may change its output in place; backward reads hs
        return be.cast(self.hs, self.hs.dtype)

    def backward(self, g):
        be, hs = self.be, self.hs
        dz = [None] * len(self.steps)
        dh = np.zeros_like(self.h0)  # a constant: the last step gets no gradient from later
        for t in reversed(self.steps):
            d = be.add(be.getitem(g, t), dh)
            h = be.getitem(hs, t)
            dz[t] = be.relu_backward(h, d) if self.relu else be.tanh_backward(h, d)
            dh = be.matmul(dz[t], self.w_hh)
        dz = _stack(be, dz)
        grads = self._weight_grads(dz, dz, self.h0, hs, 2, len(self.needs_input_grad) > 4)
        return (grads[0], dh, *grads[1:])


class _LSTMLayer(_Layer):
    """z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh = [z_i, z_f, z_g, z_o]
    i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g), c_t = f c_{t-1} + i g,
    m_t = o tanh(c_t), h_t = m_t (or m_t W_hr^T with a projection)
    backward, with dh = g_t + dh_t (times W_hr first with a projection) and dc from step t+1:
    dc += dh o (1 - tanh^2 c_t); dz_i = dc g i(1-i); dz_f = dc c_{t-1} f(1-f);
    dz_g = dc i (1-g^2); dz_o = dh tanh(c_t) o(1-o); dc_{t-1} = dc f; dh_{t-1} = dz W_hh

    The output packs the output sequence (L, N, P) and the last cell state (N, H) into one
    flat array; ``_run`` splits it."""
    saves_inputs = (0, 1, 2, 3, 4)  # x, h0, c0, w_ih, w_hh, and w_hr below
    recordable = True

    def forward(self, x, h0, c0, w_ih, w_hh, *rest, bias: bool, proj: bool, reverse: bool):
        be = self.be
        b_ih, b_hh = rest[:2] if bias else (None, None)
        w_hr = rest[-1] if proj else None
        if proj:
            self.saves_inputs = self.saves_inputs + (len(rest) + 4,)
        self.x_shape, self.h0, self.c0, self.w_hh, self.w_hr = x.shape, h0, c0, w_hh, w_hr
        z = self._project(x, w_ih, None if b_ih is None else be.add(b_ih, b_hh), reverse)
        if not proj:  # the whole recurrence in one backend call
            self.acts, self.cs, self.tcs, hs = be.lstm_sequence(z, h0, c0, w_hh, reverse)
            self.ms, self.hs = None, hs
            c = be.getitem(self.cs, self.steps[-1]) if len(self.steps) else c0
        else:
            # per step t, as the gate kernel returns them (no copies): i, f, g, o after their
            # activations, c_t and tanh(c_t); m_t before W_hr, and h_t; ms and hs joined after
            acts, cs, tcs, ms, hs = ([None] * len(self.steps) for _ in range(5))
            h, c = h0, c0
            for t in self.steps:
                pre = be.add(be.getitem(z, t), be.matmul(h, w_hh, trans_b=True))
                acts[t], c, tcs[t], ms[t] = be.lstm_gates(pre, c)
                cs[t] = c
                h = hs[t] = be.matmul(ms[t], w_hr, trans_b=True)
            self.acts, self.cs, self.tcs = acts, cs, tcs
            self.ms, self.hs = _stack(be, ms), _stack(be, hs)
        return be.concatenate([be.reshape(self.hs, (-1,)), be.reshape(c, (-1,))], 0)

    def backward(self, g):
        be, hs = self.be, self.hs
        steps, n, p = hs.shape
        hid = self.c0.shape[1]
        g_out = be.reshape(be.getitem(g, slice(0, steps * n * p)), hs.shape)
        dc = be.reshape(be.getitem(g, slice(steps * n * p, None)), (n, hid))  # of the last c
        if self.w_hr is None:
            dz, dh, dc = be.lstm_sequence_backward(self.acts, self.cs, self.tcs, self.c0,
                                                   self.w_hh, g_out, dc, self.reverse)
        else:
            dh = np.zeros_like(self.h0)  # a constant: the last step gets none from later
            c_in = _entering(self.c0, self.cs, self.reverse)
            dz, dhs = [None] * steps, [None] * steps  # by time step, joined after the loop
            for t in reversed(self.steps):
                d = dhs[t] = be.add(be.getitem(g_out, t), dh)
                dz[t], dc = be.lstm_gates_backward(self.acts[t], self.tcs[t], c_in[t],
                                                   be.matmul(d, self.w_hr), dc)
                dh = be.matmul(dz[t], self.w_hh)
            dz, dhs = _stack(be, dz), _stack(be, dhs)
        need = self.needs_input_grad
        proj = self.w_hr is not None
        grads = self._weight_grads(dz, dz, self.h0, hs, 3, len(need) - proj > 5)
        out = [grads[0], dh, dc, *grads[1:]]
        if proj:
            out.append(be.matmul(be.reshape(dhs, (steps * n, p)),
                                 be.reshape(self.ms, (steps * n, hid)), trans_a=True)
                       if need[-1] else None)
        return tuple(out)


class _GRULayer(_Layer):
    """a_t = x_t W_ih^T + b_ih = [a_r, a_z, a_n], b_t = h_{t-1} W_hh^T + b_hh = [b_r, b_z, b_n]
    r = sigmoid(a_r + b_r), z = sigmoid(a_z + b_z), n = tanh(a_n + r b_n),
    h_t = (h_{t-1} - n) z + n
    backward, with dh = g_t + dh_t: dn = dh (1 - z)(1 - n^2); da_n = dn; db_n = dn r;
    da_r = db_r = dn b_n r(1-r); da_z = db_z = dh (h_{t-1} - n) z(1-z);
    dh_{t-1} = dh z + db W_hh"""
    saves_inputs = (0, 1, 2, 3)
    recordable = True

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse: bool):
        be = self.be
        self.x_shape, self.h0, self.w_hh = x.shape, h0, w_hh
        a = self._project(x, w_ih, b_ih, reverse)
        # per step t: r, z, n, and b = h_{t-1} W_hh^T + b_hh, which backward reads
        self.rs, self.zs, self.ns, self.bs, self.hs = be.gru_sequence(a, h0, w_hh, b_hh, reverse)
        # a copy out: the caller may change its output in place; backward reads hs
        return be.cast(self.hs, self.hs.dtype)

    def backward(self, g):
        be, hs = self.be, self.hs
        da, db, dh = be.gru_sequence_backward(self.rs, self.zs, self.ns, self.bs, hs, self.h0,
                                              self.w_hh, g, self.reverse)
        grads = self._weight_grads(da, db, self.h0, hs, 2, len(self.needs_input_grad) > 4)
        return (grads[0], dh, *grads[1:])


class _LSTMCellGates(Function):
    """One LSTM step's gate math, as the layer's (``lstm_gates``): out = stack(h', c') of pre
    = x W_ih^T + b_ih + h W_hh^T + b_hh (N, 4H) and c (N, H); backward from g = (dh', dc')
    through ``lstm_gates_backward``: (dpre, dc)."""
    saves_inputs = (1,)  # c (pre is not read: the activations are saved)
    recordable = True

    def forward(self, pre, c):
        be = self.be
        self.acts, c_new, self.tanh_c, h = be.lstm_gates(pre, c)
        self.c = c
        return _stack(be, [h, c_new])

    def backward(self, g):
        be = self.be
        return be.lstm_gates_backward(self.acts, self.tanh_c, self.c, be.getitem(g, 0),
                                      be.getitem(g, 1))


class _GRUCellGates(Function):
    """One GRU step's gate math, as the layer's (``gru_gates``): h' of gi = x W_ih^T + b_ih,
    gh = h W_hh^T + b_hh (N, 3H) and h (N, H); backward through ``gru_gates_backward``:
    (dgi, dgh, dh z), the W_hh path of dh being gh's own graph."""
    saves_inputs = (1, 2)  # gh (its n block) and h
    recordable = True

    def forward(self, gi, gh, h):
        self.r, self.z, self.n, h_new = self.be.gru_gates(gi, gh, h)
        self.gh, self.h = gh, h
        return h_new

    def backward(self, g):
        return self.be.gru_gates_backward(self.r, self.z, self.n, self.gh, self.h, g)


def _run(mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, weights: list, bias: bool,
         proj: bool, reverse: bool) -> tuple:
    """One layer and direction over x (L, N, I): (output (L, N, P), h_n, c_n or None)."""
    if mode == "LSTM":
        packed = apply_op(_LSTMLayer, x, h0, c0, *weights, bias=bias, proj=proj,
                          reverse=reverse)
        steps, n, p = x.shape[0], x.shape[1], h0.shape[1]
        out = packed[:steps * n * p].reshape(steps, n, p)
        c_n = packed[steps * n * p:].reshape(c0.shape)
    elif mode == "GRU":
        out, c_n = apply_op(_GRULayer, x, h0, *weights, reverse=reverse), None
    else:
        out = apply_op(_RNNLayer, x, h0, *weights, relu=mode == "RNN_RELU", reverse=reverse)
        c_n = None
    return out, out[0 if reverse else x.shape[0] - 1], c_n


# ---- argument checks, as PyTorch's -----------------------------------------------------------
def _check_size(name: str, value: Any, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be greater than zero")
    return int(value)


def _dtype_and_device(dtype: Any, device: Any) -> np.dtype:
    as_device(device)
    return _float_dtype(dtype)


# ---- the sequence layers ---------------------------------------------------------------------
class RNNBase(Module):
    """The parameters, checks and layer loop shared by RNN, LSTM and GRU (PyTorch's RNNBase).

    Parameters per layer l and direction (suffix "" or "_reverse"): ``weight_ih_l{l}`` (G,
    input size of the layer), ``weight_hh_l{l}`` (G, H_out), ``bias_ih_l{l}``, ``bias_hh_l{l}``
    (G,) and, for an LSTM with ``proj_size``, ``weight_hr_l{l}`` (proj_size, H), with G = H,
    4H or 3H. All start U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for name, flag in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} should be of type bool, got: {type(flag).__name__}")
        self.mode = mode
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)):
            raise TypeError(f"num_layers should be of type int, got: "
                            f"{type(num_layers).__name__}")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        np_dtype = _dtype_and_device(dtype, device)
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights: list[list[str]] = []
        for layer in range(self.num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else out_size * directions
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                suffix = "_reverse" if direction else ""
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(np.empty(shape, np_dtype)))
                    names.append(name)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draws every weight and bias again from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
        PyTorch's initialisation, from micrograd's random generator (``manual_seed``)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights_names(self) -> list[str]:
        return [name for names in self._all_weights for name in names]

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, in PyTorch's order (layer 0, its
        reverse direction, layer 1, ...): [weight_ih, weight_hh, bias_ih, bias_hh, weight_hr],
        the biases only with ``bias``, weight_hr only with ``proj_size``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights for cuDNN here; on the CPU, as there, nothing to do."""

    # checks ------------------------------------------------------------------------------------
    def _check_input(self, x: Tensor) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        if x.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({x.dtype.name}) does not match weight dtype "
                             f"({weight_dtype.name}). Convert input: input.to({weight_dtype.name})"
                             f", or convert model: model.to({x.dtype.name})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        if x.shape[0] == 0:  # x is time-major here
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")

    def _check_state(self, state: Tensor, expected: tuple, what: str) -> None:
        if tuple(state.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(state.shape)}")
        if state.dtype != self.weight_ih_l0.dtype:
            raise RuntimeError(f"Expected {what} dtype {self.weight_ih_l0.dtype.name}, got "
                               f"{state.dtype.name} (the input's and the weights' dtype)")

    def _prepare(self, input: Tensor, name: str) -> tuple:  # noqa: A002
        """(the input as time-major 3-D, whether it was batched)."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                             + ("tensor instead" if name == "RNN" else "instead"))
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, batched

    def _zeros(self, x: Tensor, size: int) -> Tensor:
        directions = 2 if self.bidirectional else 1
        return zeros(self.num_layers * directions, x.shape[1], size, dtype=x.dtype)

    def _layers(self, x: Tensor, h0: Tensor, c0: Tensor | None) -> tuple:
        """Every layer and direction in turn, dropout between layers (training only):
        (output (L, N, D * H_out), h_n, c_n or None)."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [getattr(self, name) for name in self._all_weights[k]]
                out, h, c = _run(self.mode, x, h0[k], None if c0 is None else c0[k], weights,
                                 self.bias, self.proj_size > 0, direction == 1)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, stack(h_n), None if c0 is None else stack(c_n)

    def _finish(self, out: Tensor, batched: bool) -> Tensor:
        if self.batch_first:
            out = out.transpose(0, 1)
        return out if batched else out.squeeze(0 if self.batch_first else 1)

    def _expected_state(self, x: Tensor, size: int) -> tuple:
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, x.shape[1], size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one state tensor h."""

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:  # noqa: A002
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        x, batched = self._prepare(input, name)
        if hx is not None:
            if batched and hx.ndim != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.ndim}-D tensor")
            if not batched:
                if hx.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                       f"{hx.ndim}-D tensor")
                hx = hx.unsqueeze(1)
        self._check_input(x)
        if hx is None:
            hx = self._zeros(x, self.hidden_size)
        self._check_state(hx, self._expected_state(x, self.hidden_size), "hidden")
        out, h_n, _ = self._layers(x, hx, None)
        return self._finish(out, batched), h_n if batched else h_n.squeeze(1)


class RNN(_SingleStateRNN):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked
    ``num_layers`` deep. ``forward(input, h_0=None)`` returns (output, h_n)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", *args,
                         **kwargs)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity}"


class GRU(_SingleStateRNN):
    """Gated recurrent unit: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h.
    ``forward(input, h_0=None)`` returns (output, h_n)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory: i, f, o = sigmoid(.), g = tanh(.) of x W_ih^T + b_ih +
    h W_hh^T + b_hh; c' = f c + i g; h' = o tanh(c') (times W_hr^T with ``proj_size``).
    ``forward(input, (h_0, c_0)=None)`` returns (output, (h_n, c_n))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: Tensor, hx: Any = None) -> tuple:  # noqa: A002
        x, batched = self._prepare(input, "LSTM")
        out_size = self.proj_size or self.hidden_size
        if hx is None:
            self._check_input(x)
            h0, c0 = self._zeros(x, out_size), self._zeros(x, self.hidden_size)
        else:
            h0, c0 = hx[0], hx[1]
            want = 3 if batched else 2
            if h0.ndim != want or c0.ndim != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but "
                                   f"got ({h0.ndim}-D, {c0.ndim}-D) tensors")
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            self._check_input(x)
        self._check_state(h0, self._expected_state(x, out_size), "hidden[0]")
        self._check_state(c0, self._expected_state(x, self.hidden_size), "hidden[1]")
        out, h_n, c_n = self._layers(x, h0, c0)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(out, batched), (h_n, c_n)


# ---- cells: one time step; the LSTM and GRU cells' gate math is the layers' gate kernels ------
class RNNCellBase(Module):
    """``weight_ih`` (G, input_size), ``weight_hh`` (G, hidden_size), ``bias_ih``,
    ``bias_hh`` (G,), G = k * hidden_size; all U(-1/sqrt(H), 1/sqrt(H)) as PyTorch's."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size = _check_size("input_size", input_size, allow_zero=True)
        self.hidden_size = _check_size("hidden_size", hidden_size, allow_zero=True)
        self.bias = bias
        np_dtype = _dtype_and_device(dtype, device)
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(np.empty((gates, input_size), np_dtype))
        self.weight_hh = Parameter(np.empty((gates, hidden_size), np_dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((gates,), np_dtype))
            self.bias_hh = Parameter(np.empty((gates,), np_dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draws the weights and biases again from U(-1/sqrt(hidden_size),
        1/sqrt(hidden_size)), PyTorch's initialisation of the cells."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input: Tensor, hx: Any, name: str, states: int) -> tuple:  # noqa: A002
        """(input as (N, I), the states as (N, H) each, batched) after PyTorch's checks;
        missing states are zeros."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             "instead")
        given = None if hx is None else ([hx] if states == 1 else [hx[0], hx[1]])
        for i, h in enumerate(given or ()):
            if h.ndim not in (1, 2):
                what = "hidden" if states == 1 else f"hx[{i}]"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.ndim}D "
                                 "instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        if x.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype {x.dtype.name} does not match weight "
                               f"dtype {self.weight_ih.dtype.name}")
        if given is None:
            given = [zeros(x.shape[0], self.hidden_size, dtype=x.dtype)] * states
        elif not batched:
            given = [h.unsqueeze(0) for h in given]
        for i, h in enumerate(given):
            if h.shape[0] != x.shape[0]:
                raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden{i} "
                                   f"batch size {h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, "
                                   f"expected {self.hidden_size}")
            if h.dtype != x.dtype:
                raise RuntimeError(f"{name}: hidden{i} dtype {h.dtype.name} does not match "
                                   f"input dtype {x.dtype.name}")
        return x, given, batched

    def _gates(self, x: Tensor, h: Tensor) -> tuple:
        return (F.linear(x, self.weight_ih, self.bias_ih),
                F.linear(h, self.weight_hh, self.bias_hh))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx, "RNNCell", 1)
        gi, gh = self._gates(x, h)
        if self.nonlinearity == "tanh":
            out = (gi + gh).tanh()
        elif self.nonlinearity == "relu":
            out = (gi + gh).relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """i, f, g, o = gates of x W_ih^T + b_ih + h W_hh^T + b_hh; c' = sigmoid(f) c +
    sigmoid(i) tanh(g); h' = sigmoid(o) tanh(c'). Returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple:  # noqa: A002
        x, (h, c), batched = self._prepare(input, hx, "LSTMCell", 2)
        gi, gh = self._gates(x, h)
        h, c = apply_op(_LSTMCellGates, gi + gh, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r h_n) (x_*, h_*: the
    blocks of x W_ih^T + b_ih and h W_hh^T + b_hh); h' = (h - n) z + n."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx, "GRUCell", 1)
        gi, gh = self._gates(x, h)
        out = apply_op(_GRUCellGates, gi, gh, h)
        return out if batched else out.squeeze(0)

