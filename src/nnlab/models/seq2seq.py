"""Sequence to sequence: an RNN encoder, an RNN decoder, and optional attention between them
(Sutskever et al. 2014; Cho et al. 2014; Bahdanau et al. 2015; Luong et al. 2015).

    encoder:  h_1 .. h_S = RNN_enc(E_src x_1 .. E_src x_S)         # (B, S, H), packed, so
                                                                   # padding is never read
    init:     s_0 = the encoder's final state (every layer; (h, c) for an LSTM)
    step t:   c_t = h_S (top layer)                                no attention (Cho et al.)
              c_t = sum_j a_tj h_j,  a_t = softmax_j(score(s_{t-1}, h_j)), PAD masked
                    score = v^T tanh(W_q s + W_k h)                'additive' (Bahdanau)
                    score = s^T h                                  'dot' (Luong)
              s_t = RNN_dec([E_tgt y_{t-1}; c_t], s_{t-1})         # (B, H)
              logits_t = W_out [s_t; c_t; E_tgt y_{t-1}]           # (B, tgt_vocab)

The context enters every step's input and the output layer in all three variants, so they
differ only in how c_t is made. The attention query is the top layer of s_{t-1}, the state
before the step, as Bahdanau has it; Luong's dot score is used in the same place (Luong
scores s_t, after the step, and adds an attentional layer; not done here).

`forward` runs the decoder over a given target prefix (teacher forcing) and returns the
logits; `greedy_decode` and `beam_search` generate. The cells are nn.RNN / nn.LSTM / nn.GRU,
so the parameter names match a torch model built from the same pieces.
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .. import backend, nn, ops
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F

CELLS = ("rnn", "lstm", "gru")
ATTENTIONS = (None, "additive", "dot")


@dataclass
class Seq2SeqConfig:
    src_vocab: int = 13          # source tokens, PAD included (13: the digit tasks' vocabulary)
    tgt_vocab: int = 13          # target tokens, PAD, BOS and EOS included
    embed_dim: int = 32          # token embedding size (separate source and target tables)
    hidden_size: int = 64        # the state size of encoder and decoder
    num_layers: int = 1          # stacked RNN layers, in the encoder and in the decoder
    cell: str = "gru"            # 'rnn' (tanh), 'lstm' or 'gru'
    attention: str | None = "additive"   # None (fixed context), 'additive' or 'dot'
    attention_dim: int | None = None     # additive attention's inner size (None: hidden_size)
    dropout: float = 0.0         # on embeddings, between RNN layers, before the output layer
    pad_idx: int = 0             # the padding token, in sources and targets alike
    teacher_forcing_ratio: float = 1.0   # forward's default in training mode (eval: 1.0)

    def __post_init__(self):
        for name in ("src_vocab", "tgt_vocab", "embed_dim", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Seq2SeqConfig: {name} must be a positive int, got {value!r}")
        if self.cell not in CELLS:
            raise ValueError(f"Seq2SeqConfig: unknown cell {self.cell!r}; expected one of "
                             f"{CELLS}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"Seq2SeqConfig: unknown attention {self.attention!r}; expected "
                             f"one of {ATTENTIONS}")
        if self.attention_dim is not None and self.attention_dim < 1:
            raise ValueError(f"Seq2SeqConfig: attention_dim must be positive or None, got "
                             f"{self.attention_dim}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"Seq2SeqConfig: dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.teacher_forcing_ratio <= 1.0:
            raise ValueError(f"Seq2SeqConfig: teacher_forcing_ratio must be in [0, 1], got "
                             f"{self.teacher_forcing_ratio}")
        for name in ("src_vocab", "tgt_vocab"):
            if not 0 <= self.pad_idx < getattr(self, name):
                raise ValueError(f"Seq2SeqConfig: pad_idx={self.pad_idx} is outside {name}="
                                 f"{getattr(self, name)}")


# -- attention --------------------------------------------------------------------------------
def _attend(scores, values, key_padding_mask):
    """softmax over the keys of `scores` (B, T, S), PAD keys at -inf, applied to `values`
    (B, S, Dv): (context (B, T, Dv), weights (B, T, S))."""
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask.unsqueeze(1), float("-inf"))
    weights = F.softmax(scores, dim=-1)
    return ops.bmm(weights, values), weights


def _as_queries(query, keys, where):
    if keys.ndim != 3:
        raise ValueError(f"{where}: keys must be (B, S, D), got shape {tuple(keys.shape)}")
    if query.ndim not in (2, 3) or query.shape[0] != keys.shape[0]:
        raise ValueError(f"{where}: query must be (B, D) or (B, T, D) with B={keys.shape[0]}, "
                         f"got shape {tuple(query.shape)}")
    return query.unsqueeze(1) if query.ndim == 2 else query  # (B, D) -> (B, 1, D)


def _squeeze_if(single, context, weights):
    return (context.squeeze(1), weights.squeeze(1)) if single else (context, weights)


class AdditiveAttention(nn.Module):
    """Bahdanau attention: score_j = v^T tanh(W_q q + W_k k_j), a = softmax(score) over the
    keys not masked, context = sum_j a_j v_j (the values; the keys when none are given).

    query (B, query_size) or (B, T, query_size), keys (B, S, key_size), values (B, S, Dv),
    key_padding_mask (B, S) bool, True at keys to ignore (torch's convention; each row
    needs one False) -> (context (B, Dv), weights (B, S)), or (B, T, Dv), (B, T, S)."""

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.q_proj = nn.Linear(query_size, hidden_size, bias=False)
        self.k_proj = nn.Linear(key_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, keys, values=None, key_padding_mask=None):
        q = _as_queries(query, keys, "AdditiveAttention")
        hidden = ops.tanh(self.q_proj(q).unsqueeze(2) + self.k_proj(keys).unsqueeze(1))
        scores = self.v(hidden).squeeze(-1)  # (B, T, S, 1) -> (B, T, S)
        context, weights = _attend(scores, keys if values is None else values,
                                   key_padding_mask)
        return _squeeze_if(query.ndim == 2, context, weights)


class DotAttention(nn.Module):
    """Luong's dot attention: score_j = q . k_j, a = softmax(score) over the keys not
    masked, context = sum_j a_j v_j. No parameters; query and keys share their size D.

    query (B, D) or (B, T, D), keys (B, S, D), values (B, S, Dv), key_padding_mask (B, S)
    bool, True at keys to ignore -> (context (B, Dv), weights (B, S)), or with T."""

    def forward(self, query, keys, values=None, key_padding_mask=None):
        q = _as_queries(query, keys, "DotAttention")
        if q.shape[-1] != keys.shape[-1]:
            raise ValueError(f"DotAttention: query size {q.shape[-1]} differs from key size "
                             f"{keys.shape[-1]}")
        scores = ops.bmm(q, keys.transpose(1, 2))  # (B, T, D) @ (B, D, S) -> (B, T, S)
        context, weights = _attend(scores, keys if values is None else values,
                                   key_padding_mask)
        return _squeeze_if(query.ndim == 2, context, weights)


# -- the model --------------------------------------------------------------------------------
class Encoded(NamedTuple):
    """What the decoder reads from the encoder, for B sources of S tokens."""
    outputs: Tensor            # (B, S, H) top-layer states, zero at PAD
    key_padding_mask: Tensor   # (B, S) bool, True at PAD
    state: object              # (num_layers, B, H), or (h, c) for an LSTM: s_0
    context: Tensor            # (B, H) top layer of the final state: c_t without attention


def _select(state, index):
    """Rows `index` of a batch-second RNN state: h (L, B, H) or (h, c)."""
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)
    return state.index_select(1, index)


def _rows(memory, index):
    """The rows `index` (1-D int64 Tensor, repeats allowed) of an `Encoded`."""
    return Encoded(memory.outputs.index_select(0, index),
                   memory.key_padding_mask.index_select(0, index),
                   _select(memory.state, index), memory.context.index_select(0, index))


def _top(state):
    """The top layer's hidden state (B, H) of h (L, B, H) or (h, c)."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


class Seq2Seq(nn.Module):
    """Encoder-decoder over token ids (see the module docstring for the maths).

    forward(src (B, S), tgt_in (B, T)) -> logits (B, T, tgt_vocab); src right-padded with
    pad_idx (every source at least one token), tgt_in starting with BOS."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        c = config
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[c.cell]
        between = c.dropout if c.num_layers > 1 else 0.0
        self.src_embed = nn.Embedding(c.src_vocab, c.embed_dim, padding_idx=c.pad_idx)
        self.tgt_embed = nn.Embedding(c.tgt_vocab, c.embed_dim, padding_idx=c.pad_idx)
        self.encoder = rnn(c.embed_dim, c.hidden_size, c.num_layers, batch_first=True,
                           dropout=between)
        self.decoder = rnn(c.embed_dim + c.hidden_size, c.hidden_size, c.num_layers,
                           batch_first=True, dropout=between)
        if c.attention == "additive":
            self.attention = AdditiveAttention(c.hidden_size, c.hidden_size,
                                               c.attention_dim or c.hidden_size)
        elif c.attention == "dot":
            self.attention = DotAttention()
        else:
            self.attention = None
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(2 * c.hidden_size + c.embed_dim, c.tgt_vocab)

    # -- the two halves -----------------------------------------------------------------------
    def encode(self, src):
        """Run the encoder over src (B, S), packed by each row's count of non-PAD tokens:
        an `Encoded` whose state is the decoder's initial state s_0."""
        src = _tokens(src, "src")
        pad = self.config.pad_idx
        key_padding_mask = src == pad
        lengths = (~key_padding_mask.numpy()).sum(axis=1)
        if (lengths == 0).any():
            raise ValueError(f"Seq2Seq: source rows {np.flatnonzero(lengths == 0).tolist()} "
                             f"are all padding (pad_idx={pad}); each needs a token")
        embedded = self.dropout(self.src_embed(src))  # (B, S, E)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.tolist(), batch_first=True,
                                                   enforce_sorted=False)
        outputs, state = self.encoder(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True,
                                                      total_length=src.shape[1])  # (B, S, H)
        return Encoded(outputs, key_padding_mask, state, _top(state))

    def decode_step(self, y_prev, state, memory):
        """One decoder step from the previous tokens y_prev (B,) and state s_{t-1}: (logits
        (B, tgt_vocab), s_t, attention weights (B, S) or None without attention)."""
        embedded = self.dropout(self.tgt_embed(y_prev))  # (B, E)
        if self.attention is None:
            context, weights = memory.context, None
        else:
            context, weights = self.attention(_top(state), memory.outputs,
                                              key_padding_mask=memory.key_padding_mask)
        step_input = ops.cat([embedded, context], dim=-1).unsqueeze(1)  # (B, 1, E + H)
        output, state = self.decoder(step_input, state)
        output = output.squeeze(1)  # (B, 1, H) -> (B, H)
        features = ops.cat([output, context, embedded], dim=-1)  # (B, 2H + E)
        return self.out(self.dropout(features)), state, weights

    # -- training -----------------------------------------------------------------------------
    def forward(self, src, tgt_in, teacher_forcing_ratio=None, return_attention=False):
        """Logits (B, T, tgt_vocab) for each position of tgt_in (B, T) (BOS first).

        The decoder's input at step t > 0 is tgt_in[:, t] (teacher forcing) or, with
        probability 1 - teacher_forcing_ratio per step (one draw for the whole batch from
        nnlab's generator, so `manual_seed` repeats it), its own argmax at step t - 1
        (scheduled sampling). teacher_forcing_ratio None: the config's in training mode,
        1.0 in eval mode. return_attention: also the weights (B, T, S) (None without
        attention)."""
        tgt_in = _tokens(tgt_in, "tgt_in")
        if teacher_forcing_ratio is None:
            teacher_forcing_ratio = self.config.teacher_forcing_ratio if self.training else 1.0
        if not 0.0 <= teacher_forcing_ratio <= 1.0:
            raise ValueError(f"Seq2Seq: teacher_forcing_ratio must be in [0, 1], got "
                             f"{teacher_forcing_ratio}")
        memory = self.encode(src)
        if memory.outputs.shape[0] != tgt_in.shape[0]:
            raise ValueError(f"Seq2Seq: src has {memory.outputs.shape[0]} rows but tgt_in "
                             f"has {tgt_in.shape[0]}")
        state, logits, weights = memory.state, [], []
        for t in range(tgt_in.shape[1]):
            y = tgt_in[:, t]
            if t > 0 and teacher_forcing_ratio < 1.0 and (
                    teacher_forcing_ratio == 0.0
                    or backend.generator().random() >= teacher_forcing_ratio):
                y = logits[-1].detach().argmax(-1)
            step_logits, state, step_weights = self.decode_step(y, state, memory)
            logits.append(step_logits)
            weights.append(step_weights)
        logits = ops.stack(logits, dim=1)  # T x (B, V) -> (B, T, V)
        if not return_attention:
            return logits
        return logits, None if self.attention is None else ops.stack(weights, dim=1)

    # -- generation ---------------------------------------------------------------------------
    def greedy_decode(self, src, max_len, bos, eos, return_attention=False):
        """The argmax token at each step, fed back, until every row has made EOS or max_len
        steps: tokens (B, L) int64 without BOS, EOS included, pad_idx after it (L <= max_len,
        the longest row). return_attention: also the weights (B, L, S) (None without
        attention). No autograd; call eval() first for deterministic dropout."""
        pad = self.config.pad_idx
        with no_grad():
            memory = self.encode(src)
            batch = memory.outputs.shape[0]
            state = memory.state
            y = ops.full((batch,), int(bos), dtype=backend.int64, device=memory.outputs.device)
            done = ops.zeros(batch, dtype=backend.bool_, device=memory.outputs.device)
            tokens, weights = [], []
            for _ in range(int(max_len)):
                logits, state, step_weights = self.decode_step(y, state, memory)
                y = ops.where(done, pad, logits.argmax(-1))
                tokens.append(y)
                weights.append(step_weights)
                done = done | (y == eos)
                if bool(done.all().item()):
                    break
        tokens = ops.stack(tokens, dim=1) if tokens else ops.zeros(
            batch, 0, dtype=backend.int64)  # L x (B,) -> (B, L)
        if not return_attention:
            return tokens
        return tokens, None if self.attention is None or not weights else ops.stack(weights, 1)

    def beam_search(self, src, beam_size=4, max_len=50, bos=1, eos=2, length_penalty=1.0):
        """The most likely sequences under a beam of `beam_size` hypotheses per source.

        A hypothesis y_1 .. y_L scores log p(y | src) / L^length_penalty (0: the raw log
        probability; > 0 favours longer ones). At each step the alive hypotheses are
        extended by every token; of the best 2 * beam_size extensions, those ending in EOS
        among the top beam_size are finished and the best beam_size others stay alive. A
        source stops when no alive hypothesis can beat the best finished one any more (its
        log probability only falls; the bound takes the most favourable length, max_len
        for length_penalty >= 0), or after max_len steps (the alive ones then count as
        finished). Returns (tokens (B, L) int64 without BOS, EOS included, pad_idx after
        it; scores (B,) float64). With beam_size 1 and length_penalty 0 this is greedy
        decoding. No autograd; call eval() first."""
        if beam_size < 1 or max_len < 1:
            raise ValueError(f"Seq2Seq.beam_search: beam_size and max_len must be at least 1, "
                             f"got beam_size={beam_size}, max_len={max_len}")
        with no_grad():
            memory = self.encode(src)
            best = [self._beam_one(memory, b, beam_size, int(max_len), bos, eos,
                                   length_penalty) for b in range(memory.outputs.shape[0])]
        width = max((len(seq) for seq, _ in best), default=0)
        tokens = np.full((len(best), width), self.config.pad_idx, np.int64)
        for row, (seq, _) in enumerate(best):
            tokens[row, :len(seq)] = seq
        return ops.tensor(tokens), ops.tensor(np.array([s for _, s in best], np.float64))

    def _beam_one(self, memory, b, beam_size, max_len, bos, eos, length_penalty):
        """(tokens, normalised score) of the best hypothesis for source row b."""
        device = memory.outputs.device
        one = _rows(memory, ops.tensor([b], device=device))
        state, alive, finished = one.state, [([], 0.0)], []

        def normalised(hyp):
            return hyp[1] / len(hyp[0]) ** length_penalty

        def best_reachable(hyp):
            return hyp[1] / (max_len if length_penalty >= 0 else len(hyp[0])) ** length_penalty

        for _ in range(max_len):
            copies = ops.zeros(len(alive), dtype=backend.int64, device=device)
            y = ops.tensor([seq[-1] if seq else int(bos) for seq, _ in alive], device=device)
            logits, state, _ = self.decode_step(y, state, _rows(one, copies))
            logp = F.log_softmax(logits.double(), dim=-1).numpy()  # (k, V)
            total = (np.array([score for _, score in alive])[:, None] + logp).ravel()
            keep, next_alive = [], []
            for rank, index in enumerate(np.argsort(-total, kind="stable")[:2 * beam_size]):
                row, token = divmod(int(index), logp.shape[1])
                extended = (alive[row][0] + [token], float(total[index]))
                if token == eos:
                    if rank < beam_size:
                        finished.append(extended)
                elif len(next_alive) < beam_size:
                    next_alive.append(extended)
                    keep.append(row)
            if not next_alive or finished and max(map(normalised, finished)) >= max(
                    map(best_reachable, next_alive)):
                break
            alive = next_alive
            state = _select(state, ops.tensor(np.array(keep, np.int64), device=device))
        else:
            finished.extend(alive)
        best = max(finished, key=normalised)
        return best[0], normalised(best)


def _tokens(x, name):
    """x as an integer Tensor (B, S)."""
    x = ops.as_tensor(x)
    if x.dtype.kind not in "iu" or x.ndim != 2:
        raise ValueError(f"Seq2Seq: {name} must be integer token ids of shape (B, S), got "
                         f"dtype {x.dtype} and shape {tuple(x.shape)}")
    return x
