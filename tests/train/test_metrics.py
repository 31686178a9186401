"""The sequence metrics: token_accuracy (PAD targets left out) and bits_per_char."""
import math

import numpy as np
import pytest

import nnlab
from nnlab.data.datasets.sequences import PAD
from nnlab.nn import functional as F
from nnlab.train import metrics


def test_token_accuracy_leaves_out_pad_targets():
    target = np.array([[5, 6, PAD], [7, PAD, PAD]])                  # (B, T): 3 real tokens
    logits = np.zeros((2, 3, 9), np.float32)                         # (B, T, V)
    logits[0, 0, 5] = logits[0, 1, 4] = logits[1, 0, 7] = 1.0       # right, wrong, right
    logits[0, 2, 3] = logits[1, 1, 1] = 1.0                          # anything at PAD
    assert metrics.token_accuracy(nnlab.tensor(logits), nnlab.tensor(target)) == (2.0, 3)
    assert metrics.token_accuracy(logits, target) == (2.0, 3)       # arrays as well


def test_bits_per_char_is_the_cross_entropy_in_bits():
    rng = np.random.default_rng(0)
    logits = nnlab.tensor(rng.normal(0, 3, (50, 11)).astype(np.float32))  # (N, V)
    target = nnlab.tensor(rng.integers(0, 11, 50))
    total, count = metrics.bits_per_char(logits, target)
    assert count == 50
    nats = F.cross_entropy(logits.double(), target, reduction="sum").item()
    assert total == pytest.approx(nats / math.log(2), rel=1e-12)
    z = logits.numpy().astype(np.float64)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert total == pytest.approx(-log_p[np.arange(50), target.numpy()].sum() / math.log(2),
                                  rel=1e-12)
