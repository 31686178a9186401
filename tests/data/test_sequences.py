"""data.datasets.sequences: the digit tasks' layout, padding, seeds and errors."""
import numpy as np
import pytest

from nnlab.data.datasets import ReverseTask, pad_pairs, reverse_digits, sort_digits
from nnlab.data.datasets.sequences import BOS, EOS, PAD, VOCAB_SIZE, tokens_to_digits


@pytest.mark.parametrize("task, expect", [(reverse_digits, lambda s: s[::-1]),
                                          (sort_digits, lambda s: "".join(sorted(s)))])
def test_digit_tasks(task, expect):
    pairs = task(200, min_len=2, max_len=7, seed=3)
    assert pairs.src.shape == (200, 7) and pairs.tgt_in.shape == pairs.tgt_out.shape == (200, 8)
    assert all(a.dtype == np.int64 for a in pairs)
    assert pairs.src_lengths.min() >= 2 and pairs.src_lengths.max() <= 7
    assert (pairs.tgt_lengths == pairs.src_lengths + 1).all()
    assert pairs.src.max() < VOCAB_SIZE and (pairs.tgt_in[:, 0] == BOS).all()
    for i in range(200):
        n = pairs.src_lengths[i]
        assert (pairs.src[i, n:] == PAD).all() and (pairs.src[i, :n] != PAD).all()
        assert pairs.tgt_out[i, n] == EOS and (pairs.tgt_out[i, n + 1:] == PAD).all()
        assert (pairs.tgt_in[i, 1:n + 1] == pairs.tgt_out[i, :n]).all()
        assert tokens_to_digits(pairs.tgt_out[i]) == expect(tokens_to_digits(pairs.src[i]))
    again = task(200, min_len=2, max_len=7, seed=3)
    assert all((a == b).all() for a, b in zip(pairs, again))
    assert not (task(200, min_len=2, max_len=7, seed=4).src == pairs.src).all()


def test_pad_pairs_and_errors():
    pairs = pad_pairs([[6, 4, 7]], [[7, 4, 6]], max_len=4)
    assert pairs.src.tolist() == [[6, 4, 7, 0]]
    assert pairs.tgt_in.tolist() == [[1, 7, 4, 6, 0]]
    assert pairs.tgt_out.tolist() == [[7, 4, 6, 2, 0]]
    with pytest.raises(ValueError, match="exceeds max_len=2"):
        pad_pairs([[6, 4, 7]], [[7, 4, 6]], max_len=2)
    with pytest.raises(ValueError, match="min_len <= max_len"):
        reverse_digits(10, min_len=5, max_len=3)


def test_reverse_task_holds_out_unseen_sources():
    assert ReverseTask() == ReverseTask(train=5000, held_out=500, min_len=3, max_len=10)
    task = ReverseTask(train=300, held_out=40, min_len=3, max_len=4)
    train, held = task.split(seed=0)
    assert train.src.shape == (300, 4) and held.src.shape == (40, 4)
    assert all((a == b).all() for a, b in zip(train, reverse_digits(300, 3, 4, seed=0)))
    seen = {row.tobytes() for row in train.src}
    assert not any(row.tobytes() in seen for row in held.src)
    candidates = reverse_digits(80, 3, 4, seed=1)    # held out: drawn with seed + 1
    assert {row.tobytes() for row in held.src} <= {row.tobytes() for row in candidates.src}
    again = task.split(seed=0)
    assert all((a == b).all() for a, b in zip(held, again[1]))
