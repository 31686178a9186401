"""Variable-length batches for recurrent layers, as torch.nn.utils.rnn.

A padded batch holds B sequences of lengths L_b <= T as (T, B, *) (or (B, T, *) with
batch_first), padding past each one's end. A `PackedSequence` holds only the real steps,
time-major, the sequences sorted longest first:

    data            (sum of L_b, *): step 0 of every sequence, then step 1 of those still
                    running, ...; within a step the sorted order
    batch_sizes     (T,) int64: how many sequences are still running at step t
    sorted_indices  (B,): sorted position j holds sequence sorted_indices[j] of the batch
                    (None when the batch came sorted, enforce_sorted=True)
    unsorted_indices (B,): the inverse permutation

The recurrent layers accept a PackedSequence and return one laid out alike; h_n is then the
state after each sequence's own last step. Every conversion here is an index selection, so
gradients flow back to the padded tensor (padding positions receive none).
"""
from collections import namedtuple

import numpy as np

from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.index import index_select
from ...ops.shape import cat, reshape


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices): see the module docstring. Made
    by `pack_padded_sequence` or `pack_sequence`; given unsorted_indices None and
    sorted_indices set, the inverse is computed."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = Tensor(np.argsort(_ints(sorted_indices)))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The data moved or cast (`Tensor.to`'s arguments); the indices stay as they are."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to("float32")

    def double(self):
        return self.to("float64")

    @property
    def is_cuda(self):
        return str(self.data.device).startswith("cuda")


def _ints(values):
    """Lengths or indices (a list, an array or a Tensor) as a 1-D int64 numpy array."""
    if isinstance(values, Tensor):
        values = values._data
    values = values.get() if hasattr(values, "get") else values  # a cupy array
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _lengths_of(batch_sizes, unsorted_indices):
    """Each sequence's length, in the batch's own order."""
    sizes = _ints(batch_sizes)
    lengths = (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(1)   # longest first
    return lengths if unsorted_indices is None else lengths[_ints(unsorted_indices)]


def packed_rows(batch_sizes, sorted_indices, steps, batch, batch_first=False):
    """For each row of a packed `data`, its row in the padded batch flattened to
    (steps * batch, *) (time-major) or (batch * steps, *) (batch_first)."""
    sizes = _ints(batch_sizes)
    t, j = np.nonzero(np.arange(batch)[None, :] < sizes[:, None])    # step, sorted position
    b = j if sorted_indices is None else _ints(sorted_indices)[j]
    return b * steps + t if batch_first else t * batch + b


def _pad_rows(rows, n, size):
    """The inverse map: for each of `size` padded rows, its packed row, or n (padding)."""
    where = np.full(size, n, dtype=np.int64)
    where[rows] = np.arange(n)
    return where


def _with_padding_row(data, padding_value):
    """data (N, *) with one more row of padding_value at the end (no gradient)."""
    xp = get_array_module(data._data)
    row = Tensor(xp.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype))
    return cat([data, row], 0)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Sequences of shapes (L_b, *) -> (T, B, *) (or (B, T, *)), T = max L_b, padded with
    padding_value on the right (after each sequence) or the left."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    if not len(sequences):
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if s.ndim == 0 or tuple(s.shape[1:]) != trailing:
            raise ValueError(f"pad_sequence: every sequence must have shape (L, "
                             f"{', '.join(map(str, trailing)) or '*'}); got shapes "
                             f"{[tuple(s.shape) for s in sequences]}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps, n = int(lengths.max()), int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(steps)[:, None]                                   # (T, 1)
    offset = t - (steps - lengths) if padding_side == "left" else t + 0 * lengths
    inside = (offset >= 0) & (offset < lengths)                     # (T, B)
    where = np.where(inside, starts + offset, n)
    if batch_first:
        where = where.T
    data = _with_padding_row(cat(list(sequences), 0), padding_value)
    out = index_select(data, 0, where.reshape(-1))
    return reshape(out, where.shape + trailing)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A padded batch (T, B, *) (or (B, T, *)) and its lengths (B,) -> PackedSequence.
    With enforce_sorted the lengths must be non-increasing; otherwise the sequences are
    sorted here (stably, longest first) and the permutation kept."""
    shape = tuple(input.shape)
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected a padded batch of at least 2 "
                         f"dimensions, got shape {shape}")
    steps, batch = (shape[1], shape[0]) if batch_first else shape[:2]
    lengths = _ints(lengths)
    if lengths.size != batch:
        raise ValueError(f"pack_padded_sequence: got {lengths.size} lengths for a batch of "
                         f"{batch} sequences (input of shape {shape}, batch_first="
                         f"{batch_first})")
    if lengths.min() <= 0:
        raise ValueError(f"pack_padded_sequence: every length must be positive, got "
                         f"{lengths.tolist()}")
    if lengths.max() > steps:
        raise ValueError(f"pack_padded_sequence: length {lengths.max()} is longer than the "
                         f"{steps} steps of the input (shape {shape}, batch_first="
                         f"{batch_first})")
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError(f"pack_padded_sequence: `lengths` {lengths.tolist()} must be "
                               "sorted in decreasing order when enforce_sorted=True; pass "
                               "enforce_sorted=False to have them sorted here")
        sorted_indices = None
    else:
        sorted_indices = np.argsort(-lengths, kind="stable")
    ordered = lengths if sorted_indices is None else lengths[sorted_indices]
    batch_sizes = (ordered[None, :] > np.arange(ordered[0])[:, None]).sum(1)
    rows = packed_rows(batch_sizes, sorted_indices, steps, batch, batch_first)
    data = index_select(reshape(input, (steps * batch,) + shape[2:]), 0, rows)
    return PackedSequence(data, Tensor(batch_sizes),
                          None if sorted_indices is None else Tensor(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """PackedSequence -> (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the batch's
    original order; T = total_length if given, else the longest length."""
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    lengths = _lengths_of(batch_sizes, unsorted_indices)
    steps, batch = len(_ints(batch_sizes)), lengths.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter "
                             f"than the longest sequence ({steps} steps)")
        steps = total_length
    rows = packed_rows(batch_sizes, sorted_indices, steps, batch, batch_first)
    where = _pad_rows(rows, data.shape[0], steps * batch)
    padded = index_select(_with_padding_row(data, padding_value), 0, where)
    trailing = tuple(data.shape[1:])
    shape = ((batch, steps) if batch_first else (steps, batch)) + trailing
    return reshape(padded, shape), Tensor(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Sequences of shapes (L_b, *) -> PackedSequence (pad_sequence, then pack)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """A padded batch and its lengths -> the list of sequences (L_b, *)."""
    lengths = _ints(lengths)
    if batch_first:
        return [padded_sequences[b, :n] for b, n in enumerate(lengths.tolist())]
    return [padded_sequences[:n, b] for b, n in enumerate(lengths.tolist())]


def unpack_sequence(packed_sequences):
    """PackedSequence -> the list of sequences (L_b, *), in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
