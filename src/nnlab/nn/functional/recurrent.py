"""Recurrent networks as functions: the multi-layer, bidirectional driver behind `nn.RNN`,
`nn.LSTM` and `nn.GRU`, and the cells behind `nn.RNNCell`, `nn.LSTMCell`, `nn.GRUCell`.

A layer runs its cell along the sequence (time-major x (T, B, in), states (B, H)):

    RNN    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)                 (or relu)
    LSTM   i, f, g, o = sigma, sigma, tanh, sigma (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
           c_t = f * c_{t-1} + i * g     (the constant error carousel)
           h_t = o * tanh(c_t)
    GRU    r, z = sigma(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
           n    = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))           (torch)
           h_t  = (1 - z) * n + z * h_{t-1}

Layer l > 0 reads the outputs of layer l - 1 (both directions side by side, dropout between
layers in training); a backward direction reads the sequence last step first. Each layer
and direction is one fused `Function` (`recurrent_fused`: one input GEMM for all steps,
the backward through time in array code); `fused=False` runs the composed twin instead
(`recurrent_cells.sequence_composed`, a cell of Tensor ops per step), the reference the
tests hold the fused path to.
"""
from ...ops.shape import cat, stack
from .dropout import dropout as _dropout
from .recurrent_cells import (  # noqa: F401  (the cells are this module's public names)
    gru_cell,
    lstm_cell,
    rnn_relu_cell,
    rnn_tanh_cell,
    sequence_composed,
)
from .recurrent_fused import SEQUENCES

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def recurrent(mode, input, hx, weights, num_layers=1, dropout=0.0, training=False,
              bidirectional=False, lengths=None, reset_after=True, fused=True):
    """A stack of recurrent layers over a time-major sequence.

    mode        'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'
    input       (T, B, in)
    hx          (L D, B, H), or (h0, c0) of that shape each for an LSTM (D = 2 if
                bidirectional else 1; layer l, direction d at index l D + d)
    weights     L D tuples (w_ih, w_hh, b_ih, b_hh), in that order; biases may be None
    lengths     None, or (B,) ints: each sequence's own length; past it a step keeps the
                state and outputs zeros, so h_n is the state at the sequence's last step
    reset_after GRU only: False applies the reset gate before the recurrent product,
                n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)

    Returns output (T, B, D H) and h_n (L D, B, H), or (h_n, c_n) for an LSTM."""
    if mode not in MODES:
        raise ValueError(f"recurrent: mode must be one of {MODES}, got {mode!r}")
    directions = 2 if bidirectional else 1
    if len(weights) != num_layers * directions:
        raise ValueError(f"recurrent: expected {num_layers * directions} weight tuples "
                         f"(num_layers x directions), got {len(weights)}")
    lstm = mode == "LSTM"
    h0, c0 = hx if lstm else (hx, None)
    x, h_n, c_n = input, [], []
    for layer in range(num_layers):
        if layer and dropout and training:
            x = _dropout(x, dropout, True)
        ys = []
        for direction in range(directions):
            k = layer * directions + direction
            args = (x, h0[k], None if c0 is None else c0[k], *weights[k], lengths,
                    direction == 1)
            if fused:
                out = SEQUENCES[mode].apply(*args, mode, reset_after)
            else:
                out = sequence_composed(mode, *args, reset_after=reset_after)
            ys.append(out[0])
            h_n.append(out[1])
            if lstm:
                c_n.append(out[2])
        x = ys[0] if directions == 1 else cat(ys, 2)          # (T, B, D H)
    h_n = stack(h_n, 0)                                       # (L D, B, H)
    return x, ((h_n, stack(c_n, 0)) if lstm else h_n)
