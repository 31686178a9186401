"""`embedding_bag` (PyTorch's `F.embedding_bag`): the rows of a table looked up for each
bag of indices, reduced per bag without materialising the (bags, length, dim) lookup.

    sum:  out[b] = sum_{i in bag b} w_i weight[input[i]]   (w = per_sample_weights or 1)
    mean: out[b] = sum_{i in bag b} weight[input[i]] / |bag b|
    max:  out[b] = max_{i in bag b} weight[input[i]]        (elementwise; gradient to the arg-max)

Bags are the rows of a 2-D input (B, N), or, for a 1-D input, the runs that `offsets` (B,)
start (include_last_offset=True: offsets has B + 1 entries, the last one the end). Entries
equal to padding_idx are left out of their bag (not counted by the mean); an empty bag
gives zeros. A composition of `embedding` and the segment reductions, so its gradient is
theirs.
"""
import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...ops.index import _index_array
from .linear import _check_indices, _padding_index, embedding

_MODES = ("sum", "mean", "max")


def _host(array):
    """An index array in host memory (the bags are bookkept with NumPy)."""
    return array if isinstance(array, np.ndarray) else array.get()


def _on(array, like):
    """A NumPy array as a Tensor on `like`'s device."""
    return Tensor(array).to(like.device)


def _bags(op, index, offsets, include_last_offset):
    """(flat indices, bag id of each, number of bags) from a 2-D input or 1-D + offsets."""
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2D, then offsets has to be None, as input is "
                             f"treated as a mini-batch of fixed length sequences; got offsets "
                             f"of shape {tuple(offsets.shape)}")
        bags, length = index.shape
        return index.reshape(-1), np.repeat(np.arange(bags), length), bags
    if index.ndim != 1:
        raise ValueError(f"{op}: input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{index.ndim}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor but got None")
    starts = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets)
    if starts.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor, got shape {starts.shape}")
    if starts.size and starts[0] != 0:
        raise ValueError(f"{op}: offsets[0] has to be 0, i.e., the first sequence in the "
                         f"mini-batch has to start from position 0. However, got "
                         f"{int(starts[0])}")
    if np.any(np.diff(starts) < 0) or (starts.size and starts[-1] > index.size):
        raise ValueError(f"{op}: offsets must be non-decreasing and at most the input's "
                         f"length {index.size}, got {starts.tolist()}")
    bags = starts.size - 1 if include_last_offset else starts.size
    bag_of = np.searchsorted(starts[:bags], np.arange(index.size), side="right") - 1
    return index, bag_of, bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Per-bag sum, mean or max of embedding rows: -> (B, embedding_dim)."""
    op = "embedding_bag"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    if mode not in _MODES:
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    index = _host(_index_array(input, op, "input"))
    _check_indices(index, weight.shape[0], op)
    flat, bag_of, bags = _bags(op, index, offsets, include_last_offset)
    keep = np.ones(flat.shape, dtype=bool)
    if padding_idx is not None:
        keep = flat != _padding_index(padding_idx, weight.shape[0], op)
    rows = embedding(_on(flat[keep], weight), weight)                   # (kept, dim)
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{op}: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for "
                                      f"mode='sum' (got mode='{mode}')")
        if tuple(per_sample_weights.shape) != tuple(index.shape):
            raise ValueError(f"{op}: per_sample_weights of shape "
                             f"{tuple(per_sample_weights.shape)} must have the input's shape "
                             f"{tuple(index.shape)}")
        kept = _on(np.nonzero(keep)[0], weight)
        kept_weights = ops.reshape(per_sample_weights, (-1,))[kept]
        rows = rows * ops.unsqueeze(kept_weights, 1)
    ids = _on(bag_of[keep], weight)
    if mode == "max":
        return ops.segment_max(rows, ids, bags)
    total = ops.segment_sum(rows, ids, bags)                             # (B, dim)
    if mode == "sum":
        return total
    counts = np.bincount(bag_of[keep], minlength=bags).astype(weight.dtype)
    return total / _on(np.maximum(counts, 1)[:, None], weight)
