"""A character-level LSTM language model (Karpathy's char-rnn, with an embedding in place of
one-hot inputs).

    idx (B, T) of character ids
    x = embed(idx)                                      # (B, T, embed_dim)
    y, (h_n, c_n) = lstm(x, state)                      # (B, T, H); each (num_layers, B, H)
    logits = head(drop(y))                              # (B, T, vocab_size)

The model scores p(idx[t + 1] | idx[..t]) = softmax(logits[:, t]). The state (h_n, c_n)
is returned so that a long text can be fed in chunks, each starting where the last one
ended (truncated backpropagation through time: detach the state between chunks), and so
that sampling can feed one character at a time. `StreamingCharLSTM` carries that state
itself from one chunk to the next, so that `fit` can train it on `StreamLoader` batches.
"""
from dataclasses import dataclass

from .. import nn
from ..autograd.tensor import Tensor


@dataclass
class CharLSTMConfig:
    vocab_size: int = 65     # distinct characters (Tiny Shakespeare has 65)
    embed_dim: int = 64      # the size of each character's embedding
    hidden_size: int = 256   # H, the LSTM's hidden and cell size in every layer
    num_layers: int = 2      # stacked LSTM layers
    dropout: float = 0.0     # between LSTM layers and before the head (training only)


class CharLSTM(nn.Module):
    """Embedding -> nn.LSTM(batch_first) -> Dropout -> Linear:
    forward(idx (B, T) int64, state=None) -> (logits (B, T, vocab_size), (h_n, c_n)), with
    state None (zeros) or (h_0, c_0), each (num_layers, B, hidden_size)."""

    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=2, dropout=0.0):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"CharLSTM: dropout probability must be in [0, 1), got {dropout}")
        self.config = CharLSTMConfig(vocab_size, embed_dim, hidden_size, num_layers, dropout)
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, dropout=dropout,
                            batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    @classmethod
    def from_config(cls, config):
        return cls(config.vocab_size, config.embed_dim, config.hidden_size, config.num_layers,
                   config.dropout)

    def forward(self, idx, state=None):
        if idx.ndim != 2:
            raise ValueError(f"CharLSTM: expected character ids of shape (B, T), got shape "
                             f"{tuple(idx.shape)}")
        y, state = self.lstm(self.embed(idx), state)
        return self.head(self.drop(y)), state


class StreamingCharLSTM(CharLSTM):
    """CharLSTM for `fit` over StreamLoader batches: forward(x (B, T), start) -> logits
    (B T, V). The initial state is the one the previous chunk left in the same mode
    (training and evaluation keep one each), detached so that backpropagation stops at the
    chunk's start; zeros where start == 0 (the streams' beginning) or the batch changed.
    `carried` holds that state (run-time state, neither parameter nor buffer, so the
    state_dict is CharLSTM's); `stream_state` / `load_stream_state` give and restore the
    training one, for a checkpoint to carry (the char-lstm recipe's callback does)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.carried = {}

    def stream_state(self):
        """The training state carried to the next chunk: (h, c), each (num_layers, B, H)
        detached, or None before the first chunk."""
        return self.carried.get(True)

    def load_stream_state(self, state):
        """Restore what `stream_state` gave (None: start the next chunk from zeros)."""
        if state is None:
            self.carried.pop(True, None)
        else:
            self.carried[True] = tuple(s if isinstance(s, Tensor) else Tensor(s) for s in state)

    def forward(self, idx, start):
        state = self.carried.get(self.training)
        if int(start.item()) == 0 or state is None or state[0].shape[1] != idx.shape[0]:
            state = None
        logits, state = super().forward(idx, state)
        self.carried[self.training] = tuple(s.detach() for s in state)
        return logits.reshape(-1, logits.shape[-1])             # (B, T, V) -> (B T, V)
