"""nn.utils.rnn against torch.nn.utils.rnn: padding, packing (sorted, unsorted, with ties,
batch_first), unpacking with total_length and padding values, the gradients through each
conversion, and the errors."""
import numpy as np
import pytest

import nnlab
from nnlab.nn.utils import rnn
from tests.helpers import randn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn

LENGTHS = [[5, 3, 3, 1], [2, 5, 1, 5, 3], [4]]


def _sequences(lengths, lib, trailing=(3,)):
    return [lib.tensor(randn(n, *trailing, seed=k), requires_grad=True)
            for k, n in enumerate(lengths)]


def _grads_equal(xs, ts):
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def _backward(out, tout, seed=0):
    v = randn(*out.shape, seed=seed)
    (out * nnlab.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()


def _same_packed(p, tp):
    np.testing.assert_allclose(p.data.detach().numpy(), tp.data.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(p.batch_sizes.numpy(), tp.batch_sizes.numpy())
    for a, b in ((p.sorted_indices, tp.sorted_indices),
                 (p.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first, padding_value, padding_side",
                         [(False, 0.0, "right"), (True, -1.5, "right"), (False, 2.0, "left")])
def test_pad_sequence_matches_torch(lengths, batch_first, padding_value, padding_side):
    xs, ts = _sequences(lengths, nnlab), _sequences(lengths, torch)
    out = rnn.pad_sequence(xs, batch_first, padding_value, padding_side)
    tout = trnn.pad_sequence(ts, batch_first, padding_value, padding_side)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    _backward(out, tout)
    _grads_equal(xs, ts)


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_then_pad_matches_torch(lengths, batch_first, enforce_sorted):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    steps, batch = max(lengths) + 1, len(lengths)
    x = randn(*((batch, steps) if batch_first else (steps, batch)), 2)
    xn, xt = nnlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    p = rnn.pack_padded_sequence(xn, lengths, batch_first, enforce_sorted)
    tp = trnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first, enforce_sorted)
    _same_packed(p, tp)
    padded, out_lengths = rnn.pad_packed_sequence(p, batch_first, 0.5, total_length=steps + 1)
    tpadded, tlengths = trnn.pad_packed_sequence(tp, batch_first, 0.5, total_length=steps + 1)
    np.testing.assert_allclose(padded.detach().numpy(), tpadded.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(out_lengths.numpy(), tlengths.numpy())
    assert out_lengths.dtype == np.int64
    _backward(padded, tpadded)
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_match_torch(enforce_sorted):
    lengths = [4, 3, 3, 1] if enforce_sorted else [2, 4, 1, 3]
    xs, ts = _sequences(lengths, nnlab, (2, 2)), _sequences(lengths, torch, (2, 2))
    p = rnn.pack_sequence(xs, enforce_sorted)
    tp = trnn.pack_sequence(ts, enforce_sorted)
    _same_packed(p, tp)
    pieces, tpieces = rnn.unpack_sequence(p), trnn.unpack_sequence(tp)
    for a, b in zip(pieces, tpieces):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    _backward(nnlab.cat(pieces), torch.cat(tpieces))
    _grads_equal(xs, ts)


def test_unpad_sequence_matches_torch():
    lengths = [3, 1, 2]
    x = randn(3, 3, 4, seed=3)
    ours = rnn.unpad_sequence(nnlab.tensor(x), nnlab.tensor(lengths), batch_first=True)
    theirs = trnn.unpad_sequence(torch.tensor(x), torch.tensor(lengths), batch_first=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_packed_sequence_is_a_tuple_with_torchs_fields_and_casts():
    p = rnn.pack_sequence([nnlab.ones(3, 2), nnlab.ones(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert batch_sizes.tolist() == [2, 1, 1] and sorted_indices is None
    assert p.double().data.dtype == np.float64 and p.to(nnlab.float32) is p
    assert not p.is_cuda
    q = rnn.PackedSequence(data, batch_sizes, nnlab.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]


@pytest.mark.parametrize("call, error, message", [
    (lambda: rnn.pack_padded_sequence(nnlab.zeros(4, 3, 2), [2, 3, 1]), RuntimeError,
     r"`lengths` \[2, 3, 1\] must be sorted in decreasing order when enforce_sorted=True"),
    (lambda: rnn.pack_padded_sequence(nnlab.zeros(4, 3, 2), [2, 1]), ValueError,
     r"got 2 lengths for a batch of 3 sequences \(input of shape \(4, 3, 2\)"),
    (lambda: rnn.pack_padded_sequence(nnlab.zeros(4, 2), [5, 1]), ValueError,
     r"length 5 is longer than the 4 steps of the input \(shape \(4, 2\)"),
    (lambda: rnn.pack_padded_sequence(nnlab.zeros(4, 2), [3, 0]), ValueError,
     r"every length must be positive, got \[3, 0\]"),
    (lambda: rnn.pad_packed_sequence(rnn.pack_sequence([nnlab.ones(3)]), total_length=2),
     ValueError, r"total_length=2 is shorter than the longest sequence \(3 steps\)"),
    (lambda: rnn.pad_sequence([nnlab.ones(3, 2), nnlab.ones(2, 3)]), ValueError,
     r"every sequence must have shape \(L, 2\)"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
