"""Recurrent cells composed of Tensor ops, and the composed sequence loop built from them.

One step of each cell, x (B, in), h (B, H), weights as torch's (gate blocks stacked in rows):

    RNN    h' = tanh(W_ih x + b_ih + W_hh h + b_hh)           (or relu)
    LSTM   i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x + b_ih + W_hh h + b_hh)
           c' = f * c + i * g            the constant error carousel: dc'/dc = f
           h' = o * tanh(c')
    GRU    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
           z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
           n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       reset_after=True (torch, cuDNN)
           n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)       reset_after=False (the textbook)
           h' = (1 - z) * n + z * h

`sequence_composed` runs a cell over a time-major sequence (T, B, in), step by step, with
autograd doing the backward through time: the reference twin of the fused kernels in
`recurrent_fused`, and what they evaluate to differentiate twice.
"""
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.elementwise import where
from ...ops.shape import stack, unbind
from .linear import linear


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh): (B, in), (B, H) -> (B, H)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh): (B, in), (B, H) -> (B, H)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') from x (B, in) and hx = (h, c), each (B, H); gates i, f, g, o (see the
    module docstring)."""
    h, c = hx
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)      # (B, 4H)
    i, f, g, o = gates.chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reset_after=True):
    """h' from x (B, in) and h (B, H); gates r, z, n, the reset gate applied after the
    recurrent product (torch) or, with reset_after=False, before it."""
    hidden = hx.shape[-1]
    x_r, x_z, x_n = linear(input, w_ih, b_ih).chunk(3, 1)
    if reset_after:
        h_r, h_z, h_n = linear(hx, w_hh, b_hh).chunk(3, 1)
    else:
        rz, n = slice(0, 2 * hidden), slice(2 * hidden, None)
        h_r, h_z = linear(hx, w_hh[rz], None if b_hh is None else b_hh[rz]).chunk(2, 1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    if reset_after:
        n = (x_n + r * h_n).tanh()
    else:
        n = (x_n + linear(r * hx, w_hh[n], None if b_hh is None else b_hh[n])).tanh()
    return n + z * (hx - n)                                       # (1 - z) n + z h


def cell_for(mode, reset_after=True):
    """The composed cell of a mode ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU')."""
    if mode == "GRU":
        return lambda x, h, *w: gru_cell(x, h, *w, reset_after=reset_after)
    return {"RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell, "LSTM": lstm_cell}[mode]


def step_masks(lengths, steps, xp):
    """Where each step lies inside its sequence: (T, B, 1) bool, t < lengths[b]."""
    return (xp.arange(steps)[:, None] < xp.asarray(lengths)[None, :])[:, :, None]


def sequence_composed(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False,
                      reset_after=True):
    """One layer and direction over x (T, B, in) from h0 (and c0 for an LSTM), each
    (B, H), cell by cell in Tensor ops. With `lengths` (B,) a step past a sequence's end
    keeps the state and outputs zeros. Returns y (T, B, H), h_n and, for an LSTM, c_n."""
    cell = cell_for(mode, reset_after)
    steps = x.shape[0]
    inside = None if lengths is None else step_masks(lengths, steps,
                                                       get_array_module(x._data))
    lstm = mode == "LSTM"
    state = (h0, c0) if lstm else h0
    xs = unbind(x, 0)
    ys = [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        new = cell(xs[t], state, w_ih, w_hh, b_ih, b_hh)
        h = new[0] if lstm else new
        if inside is None:
            ys[t], state = h, new
            continue
        keep = Tensor(inside[t])                                  # (B, 1)
        ys[t] = where(keep, h, 0.0)
        if lstm:
            state = (where(keep, h, state[0]), where(keep, new[1], state[1]))
        else:
            state = where(keep, h, state)
    y = stack(ys, 0)                                              # T x (B, H) -> (T, B, H)
    return (y, *state) if lstm else (y, state)
