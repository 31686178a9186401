"""Recurrent layers with PyTorch's arguments, parameters and initialisation: `RNN`, `LSTM`,
`GRU` over sequences and `RNNCell`, `LSTMCell`, `GRUCell` for one step.

    RNN    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (nonlinearity='relu': relu)
    LSTM   i, f, g, o = sigma, sigma, tanh, sigma (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
           c_t = f * c_{t-1} + i * g          the constant error carousel
           h_t = o * tanh(c_t)
    GRU    r, z = sigma(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
           n    = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
           h_t  = (1 - z) * n + z * h_{t-1}

Parameters, per layer k (and `_reverse` for the backward direction), gates stacked in rows
in the order above (LSTM i, f, g, o; GRU r, z, n), G = 1, 4, 3 gates:

    weight_ih_l{k}  (G H, input_size for k = 0, else D H)     weight_hh_l{k}  (G H, H)
    bias_ih_l{k}    (G H,)                                    bias_hh_l{k}    (G H,)

all initialised U(-1/sqrt(H), 1/sqrt(H)), as torch, so a torch state_dict loads as it is.

Shapes (D = 2 if bidirectional else 1, L = num_layers):
    input   (T, B, input_size), (B, T, input_size) with batch_first, (T, input_size)
            unbatched, or a `PackedSequence` (nn.utils.rnn) of sequences of several lengths
    hx      (L D, B, H) (unbatched (L D, H)), zeros when not given; an LSTM's is (h_0, c_0)
    output  (T, B, D H) (batch_first (B, T, D H)), or a PackedSequence for a packed input
    h_n     (L D, B, H); an LSTM returns (output, (h_n, c_n))

The GRU's reset gate: torch (and cuDNN) apply it after the recurrent product, as above;
`GRU(..., reset_after=False)` applies it before, n = tanh(W_in x + b_in + W_hn (r * h) +
b_hn), the textbook form (Cho et al. 2014; Keras's reset_after=False). Same parameters.

Truncated backpropagation through time: carry the state between chunks of a long sequence
cut off from the graph, so that each backward stops at the chunk's start:

    out, hx = lstm(chunk, hx)
    loss.backward()
    hx = tuple(h.detach() for h in hx)       # an RNN / GRU: hx = hx.detach()

Each layer and direction runs as one fused op (the input projections of all steps in one
GEMM, the backward through time in array code); second derivatives through it are exact
(create_graph recomputes the step-by-step composed twin, see functional/recurrent_fused).
"""
import math

from .. import ops
from . import init
from .functional.recurrent import recurrent
from .functional.recurrent_cells import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, _lengths_of, packed_rows, pad_packed_sequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _shape(t):
    return tuple(t.shape)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: arguments, parameters (torch's names and order),
    initialisation, the checks, the unbatched / batch_first / packed layouts, repr."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] (the "
                             f"probability of zeroing an element), got {dropout!r}")
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size={proj_size} (LSTM projections) is "
                                      "not supported; use proj_size=0")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        factory = dict(device=device, dtype=dtype)
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(directions):
                fan_in = input_size if layer == 0 else hidden_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, fan_in)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                names = []
                for kind, shape in shapes:
                    setattr(self, kind + suffix, Parameter(ops.empty(*shape, **factory)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self):
        """Per layer and direction, its parameters [w_ih, w_hh, (b_ih, b_hh)]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op, as torch on the CPU (cuDNN packs its weights into one buffer)."""

    def _name(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _weights(self):
        """(w_ih, w_hh, b_ih, b_hh) per layer and direction."""
        return [tuple(w) if self.bias else (*w, None, None) for w in self.all_weights]

    def _layout(self, input):
        """The input as time-major (T, B, in), and (is it batched, lengths or None, the
        packed input or None)."""
        name = self._name()
        if isinstance(input, PackedSequence):
            padded, _ = pad_packed_sequence(input)
            lengths = _lengths_of(input.batch_sizes, input.unsorted_indices)
            self._check_features(padded, input.data)
            return padded, True, lengths, input
        if input.ndim not in (2, 3):
            order = "batch, seq_len" if self.batch_first else "seq_len, batch"
            raise ValueError(f"{name}: expected a 3-D input ({order}, input_size) or a 2-D "
                             f"unbatched one (seq_len, input_size), got shape "
                             f"{_shape(input)}")
        self._check_features(input, input)
        if input.ndim == 2:
            return input.unsqueeze(1), False, None, None          # (T, in) -> (T, 1, in)
        if self.batch_first:
            return input.transpose(0, 1), True, None, None        # (B, T, in) -> (T, B, in)
        return input, True, None, None

    def _check_features(self, x, shown):
        name = self._name()
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input of shape {_shape(shown)} has {x.shape[-1]} "
                               f"features in its last dimension, expected input_size="
                               f"{self.input_size}")
        weight = self.weight_ih_l0
        if x.dtype != weight.dtype:
            raise ValueError(f"{name}: input dtype {x.dtype} does not match the weights' "
                             f"{weight.dtype}: convert the input (input.to({weight.dtype})) "
                             f"or the model (model.to({x.dtype}))")
        if x.shape[0] == 0:
            raise ValueError(f"{name}: expected a sequence of at least one step, got input "
                             f"of shape {_shape(shown)}")

    def _state(self, hx, x, batched, what="hx"):
        """hx as (L D, B, H), zeros when None; checked against the input."""
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, x.shape[1], self.hidden_size)
        if hx is None:
            return ops.zeros(*expected, dtype=x.dtype, device=x.device)
        want = expected if batched else expected[:1] + expected[2:]
        if _shape(hx) != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"{self._name()}: {what} of shape {_shape(hx)} does not "
                               f"match the {kind} input: expected {want} (num_layers * "
                               f"num_directions, {'batch, ' if batched else ''}hidden_size)")
        return hx if batched else hx.unsqueeze(1)

    def _run(self, input, hx, reset_after=True):
        x, batched, lengths, packed = self._layout(input)
        lstm = self.mode == "LSTM"
        if lstm:
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"{self._name()}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            h0, c0 = (None, None) if hx is None else hx
            hx = (self._state(h0, x, batched, "h_0"), self._state(c0, x, batched, "c_0"))
        else:
            hx = self._state(hx, x, batched)
        out, h_n = recurrent(self.mode, x, hx, self._weights(), self.num_layers, self.dropout,
                             self.training, self.bidirectional, lengths, reset_after)
        if packed is not None:
            steps, batch = x.shape[:2]
            rows = packed_rows(packed.batch_sizes, packed.sorted_indices, steps, batch)
            data = ops.index_select(out.reshape(steps * batch, -1), 0, rows)
            out = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                 packed.unsorted_indices)
        elif not batched:
            out = out.squeeze(1)                                  # (T, 1, D H) -> (T, D H)
            h_n = tuple(h.squeeze(1) for h in h_n) if lstm else h_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)                             # (T, B, D H) -> (B, T, D H)
        return out, h_n

    def forward(self, input, hx=None):
        return self._run(input, hx)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
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


class RNN(RNNBase):
    """Elman RNN, h_t = tanh (or relu) of (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), over a
    sequence: forward(input, hx=None) -> (output, h_n). See the module docstring."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select 'tanh' or "
                             "'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory over a sequence: forward(input, (h_0, c_0)=None) ->
    (output, (h_n, c_n)). See the module docstring. proj_size is not supported."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit over a sequence: forward(input, hx=None) -> (output, h_n).

    reset_after=True (the default, torch's and cuDNN's form): n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)); reset_after=False: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn),
    the reset gate applied to h before the recurrent product (the textbook GRU). The
    parameters are the same either way."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, reset_after=True):
        self.reset_after = reset_after
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._run(input, hx, self.reset_after)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")


# -- cells ----------------------------------------------------------------------------
class RNNCellBase(Module):
    """One step: weight_ih (G H, input_size), weight_hh (G H, H), bias_ih, bias_hh (G H,),
    all U(-1/sqrt(H), 1/sqrt(H)); input (B, input_size) or unbatched (input_size,)."""

    _chunks = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = self._chunks * hidden_size
        factory = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(ops.empty(gates, input_size, **factory))
        self.weight_hh = Parameter(ops.empty(gates, hidden_size, **factory))
        self.bias_ih = Parameter(ops.empty(gates, **factory)) if bias else None
        self.bias_hh = Parameter(ops.empty(gates, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _name(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _batch(self, input, states):
        """input as (B, in) and each state as (B, H) (zeros when None); was it batched?"""
        name = self._name()
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected a 2-D input (batch, input_size) or a 1-D "
                             f"unbatched one, got shape {_shape(input)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input of shape {_shape(input)} has "
                               f"{input.shape[-1]} features, expected input_size="
                               f"{self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        want = (x.shape[0], self.hidden_size)
        out = []
        for what, h in states:
            if h is None:
                h = ops.zeros(*want, dtype=x.dtype, device=x.device)
            elif _shape(h) != (want if batched else want[1:]):
                raise RuntimeError(f"{name}: {what} of shape {_shape(h)} does not match the "
                                   f"input of shape {_shape(input)}: expected "
                                   f"{want if batched else want[1:]}")
            elif not batched:
                h = h.unsqueeze(0)
            out.append(h)
        return x, out, batched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh (or relu) of (W_ih x + b_ih + W_hh h + b_hh): forward(input, hx=None)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select 'tanh' "
                             "or 'relu'")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._batch(input, [("hx", hx)])
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        h = cell(x, h, *self._weights())
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)=None) -> (h', c'); gates i, f, g, o."""

    _chunks = 4

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self._name()}: hx must be a tuple (h, c), got "
                            f"{type(hx).__name__}")
        h, c = (None, None) if hx is None else hx
        x, (h, c), batched = self._batch(input, [("hx[0]", h), ("hx[1]", c)])
        h, c = lstm_cell(x, (h, c), *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: forward(input, hx=None) -> h'; gates r, z, n. reset_after as `GRU`'s:
    True (default, torch) n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), False n =
    tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""

    _chunks = 3

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None,
                 reset_after=True):
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.reset_after = reset_after

    def forward(self, input, hx=None):
        x, (h,), batched = self._batch(input, [("hx", hx)])
        h = gru_cell(x, h, *self._weights(), reset_after=self.reset_after)
        return h if batched else h.squeeze(0)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
