"""Synthetic sequence-to-sequence tasks over digit strings: reverse them, or sort them.

Tokens: PAD = 0, BOS = 1, EOS = 2, then the digits 0-9 as 3-12 (`VOCAB_SIZE` = 13 in all),
for the source and the target alike. A task gives right-padded arrays (`SequencePairs`):

    src      (N, max_len)       the digits, PAD after the sequence's length
    tgt_in   (N, max_len + 1)   BOS, then the target's digits: the decoder's input
    tgt_out  (N, max_len + 1)   the target's digits, then EOS: what the decoder predicts
    src_lengths, tgt_lengths (N,)   the digits in the source; the target's length with EOS

For example, with max_len 4, the source 3 1 4 reversed is

    src     [ 6  4  7  0]
    tgt_in  [ 1  7  4  6  0]
    tgt_out [ 7  4  6  2  0]
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..dataset import as_generator

PAD, BOS, EOS = 0, 1, 2
DIGIT0 = 3
VOCAB_SIZE = DIGIT0 + 10


class SequencePairs(NamedTuple):
    """Source and target token arrays, right-padded with PAD (int64)."""
    src: np.ndarray
    src_lengths: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_lengths: np.ndarray


def digits_to_tokens(digits):
    """Token ids of a digit string or sequence of ints 0-9: '314' -> [6, 4, 7]."""
    return [DIGIT0 + int(d) for d in digits]


def tokens_to_digits(tokens):
    """The digit string of a token sequence, up to its first EOS, PAD and BOS skipped."""
    out = []
    for t in np.asarray(tokens).tolist():
        if t == EOS:
            break
        if t >= DIGIT0:
            out.append(str(t - DIGIT0))
    return "".join(out)


def pad_pairs(sources, targets, max_len=None):
    """`SequencePairs` from lists of token lists (no BOS or EOS): targets get BOS in front
    (tgt_in) and EOS behind (tgt_out). max_len: the source width (default: the longest
    source or target); the target arrays are one wider."""
    if len(sources) != len(targets):
        raise ValueError(f"pad_pairs: {len(sources)} sources but {len(targets)} targets")
    longest = max((len(s) for s in [*sources, *targets]), default=0)
    max_len = longest if max_len is None else max_len
    if longest > max_len:
        raise ValueError(f"pad_pairs: a sequence of length {longest} exceeds max_len={max_len}")
    n = len(sources)
    src = np.full((n, max_len), PAD, np.int64)
    tgt_in = np.full((n, max_len + 1), PAD, np.int64)
    tgt_out = np.full((n, max_len + 1), PAD, np.int64)
    for i, (s, t) in enumerate(zip(sources, targets)):
        src[i, :len(s)] = s
        tgt_in[i, :len(t) + 1] = [BOS, *t]
        tgt_out[i, :len(t) + 1] = [*t, EOS]
    src_lengths = np.array([len(s) for s in sources], np.int64)
    tgt_lengths = np.array([len(t) + 1 for t in targets], np.int64)
    return SequencePairs(src, src_lengths, tgt_in, tgt_out, tgt_lengths)


def _digit_strings(n, min_len, max_len, rng, where):
    if not 1 <= min_len <= max_len:
        raise ValueError(f"{where}: expected 1 <= min_len <= max_len, got min_len={min_len}, "
                         f"max_len={max_len}")
    if n < 0:
        raise ValueError(f"{where}: n must be non-negative, got {n}")
    lengths = rng.integers(min_len, max_len + 1, size=n)
    return [rng.integers(0, 10, size=k).tolist() for k in lengths]


def reverse_digits(n=1000, min_len=3, max_len=10, seed=0):
    """n random digit strings of lengths uniform in [min_len, max_len], each paired with its
    reverse: source d_1 ... d_k, target d_k ... d_1. Returns `SequencePairs` with sources
    (n, max_len) and targets (n, max_len + 1). seed: an int, a numpy Generator, or None
    (nnlab's global generator)."""
    rng = as_generator(seed, "reverse_digits")
    strings = _digit_strings(n, min_len, max_len, rng, "reverse_digits")
    return pad_pairs([digits_to_tokens(s) for s in strings],
                     [digits_to_tokens(s[::-1]) for s in strings], max_len)


def sort_digits(n=1000, min_len=3, max_len=10, seed=0):
    """As `reverse_digits`, with the target the source's digits in ascending order."""
    rng = as_generator(seed, "sort_digits")
    strings = _digit_strings(n, min_len, max_len, rng, "sort_digits")
    return pad_pairs([digits_to_tokens(s) for s in strings],
                     [digits_to_tokens(sorted(s)) for s in strings], max_len)


@dataclass(frozen=True)
class ReverseTask:
    """The reversal task with a fixed held-out set: `split(seed)` gives (train, held_out)
    `SequencePairs` of `reverse_digits`, the training pairs drawn with `seed`, the held-out
    ones with seed + 1 and kept only where their source is not among the training sources
    (the first `held_out` such pairs)."""
    train: int = 5000       # training pairs
    held_out: int = 500     # held-out pairs, none with a source seen in training
    min_len: int = 3        # digits per string, at least
    max_len: int = 10       # and at most

    def split(self, seed=0):
        train = reverse_digits(self.train, self.min_len, self.max_len, seed=seed)
        candidates = reverse_digits(2 * self.held_out, self.min_len, self.max_len,
                                    seed=seed + 1)
        seen = {row.tobytes() for row in train.src}
        fresh = [i for i, row in enumerate(candidates.src) if row.tobytes() not in seen]
        return train, SequencePairs(*(a[fresh[:self.held_out]] for a in candidates))
