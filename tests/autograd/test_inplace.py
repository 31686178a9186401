"""In-place operations inside the graph, torch's rule: the tensor's history becomes the op's
node; writing through a view rewrites its base's history (CopySlices); errors only for a
leaf that requires grad and when a backward needs a value that was overwritten. Every
pattern is run in nnlab and in torch on the same values: outputs and gradients agree."""
import numpy as np
import pytest

import nnlab
from tests.helpers import randn, requires_torch, torch

pytestmark = requires_torch

X = randn(3, 4, seed=1)
Y = randn(3, 4, seed=2)
POS = np.abs(randn(3, 4, seed=3)) + 0.5
MASK = randn(3, 4, seed=5) > 0
IDX = np.array([2, 0])


def _both(program, *arrays):
    """program(lib, *tensors) run with nnlab and with torch on float64 leaves that require
    grad; returns the outputs and the leaves' gradients of sum(out * W) for each."""
    found = []
    for lib in (nnlab, torch):
        leaves = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = program(lib, *leaves)
        (out * lib.tensor(randn(*out.shape, seed=9))).sum().backward()
        found.append([np.asarray(out.detach().numpy())]
                     + [np.zeros(a.shape) if t.grad is None else t.grad.numpy()
                        for t, a in zip(leaves, arrays)])
    for a, b in zip(*found):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# (id, program(lib, x, y), leaves)
METHODS = [
    ("add_", lambda lib, x, y: (x * 1).add_(y, alpha=2), (X, Y)),
    ("sub_", lambda lib, x, y: (x * 1).sub_(y), (X, Y)),
    ("mul_", lambda lib, x, y: (x * 1).mul_(y), (X, Y)),
    ("div_", lambda lib, x, y: (x * 1).div_(y), (X, POS)),
    ("pow_", lambda lib, x, y: (x * 1).pow_(2), (X, Y)),
    ("pow_tensor", lambda lib, x, y: (x * 1).pow_(y), (POS, Y)),
    ("neg_", lambda lib, x, y: (x * y).neg_(), (X, Y)),
    ("clamp_", lambda lib, x, y: (x * 1).clamp_(-0.5, 0.5), (X, Y)),
    ("clamp_min_", lambda lib, x, y: (x * 1).clamp_min_(0.1), (X, Y)),
    ("clamp_max_", lambda lib, x, y: (x * 1).clamp_max_(0.1), (X, Y)),
    ("relu_", lambda lib, x, y: (x * y).relu_(), (X, Y)),
    ("sigmoid_", lambda lib, x, y: (x * y).sigmoid_(), (X, Y)),
    ("tanh_", lambda lib, x, y: (x * y).tanh_(), (X, Y)),
    ("exp_", lambda lib, x, y: (x * y).exp_(), (X, Y)),
    ("log_", lambda lib, x, y: (x * y).log_(), (POS, POS)),
    ("sqrt_", lambda lib, x, y: (x * y).sqrt_(), (POS, POS)),
    ("abs_", lambda lib, x, y: (x * y).abs_(), (X, Y)),
    ("sign_", lambda lib, x, y: (x * y).sign_() * x, (X, Y)),
    ("floor_", lambda lib, x, y: (x * 3).floor_() * y, (X, Y)),
    ("round_", lambda lib, x, y: (x * 3).round_() * y, (X, Y)),
    ("fill_", lambda lib, x, y: (x * 1).fill_(2.0) * y, (X, Y)),
    ("fill_tensor", lambda lib, x, y: (x * 1).fill_(y.sum()), (X, Y)),
    ("zero_", lambda lib, x, y: (x * 1).zero_() + y, (X, Y)),
    ("copy_", lambda lib, x, y: (x * 1).copy_(y * 2), (X, Y)),
    ("copy_broadcast", lambda lib, x, y: (x * 1).copy_(y[0]), (X, Y)),
    ("copy_leaf", lambda lib, x, y: lib.zeros(3, 4, dtype=lib.float64).copy_(y), (X, Y)),
    ("masked_fill_", lambda lib, x, y: (x * y).masked_fill_(lib.tensor(MASK), -1.0), (X, Y)),
    ("index_fill_", lambda lib, x, y: (x * y).index_fill_(1, lib.tensor(IDX), 0.5), (X, Y)),
    ("index_copy_", lambda lib, x, y: (x * 1).index_copy_(1, lib.tensor(IDX), y[:, :2]),
     (X, Y)),
    ("index_add_", lambda lib, x, y: (x * 1).index_add_(1, lib.tensor(IDX), y[:, :2],
                                                         alpha=3), (X, Y)),
    ("scatter_", lambda lib, x, y: (x * 1).scatter_(0, lib.tensor([[2, 0, 1, 2]]), y[:1]),
     (X, Y)),
    ("scatter_value", lambda lib, x, y: (x * y).scatter_(1, lib.tensor([[1], [3], [0]]), 2.0),
     (X, Y)),
    ("scatter_add_", lambda lib, x, y: (x * 1).scatter_add_(0, lib.tensor([[2, 0, 1, 2],
                                                                          [2, 2, 0, 1]]), y[:2]),
     (X, Y)),
    ("lerp_", lambda lib, x, y: (x * 1).lerp_(y, 0.25), (X, Y)),
    ("lerp_tensor", lambda lib, x, y: (x * 1).lerp_(y, y.sigmoid()), (X, Y)),
    ("addcmul_", lambda lib, x, y: (x * 1).addcmul_(y, x, value=0.5), (X, Y)),
    ("addcdiv_", lambda lib, x, y: (x * 1).addcdiv_(x, y, value=2), (X, POS)),
    ("t_", lambda lib, x, y: (x * y).t_(), (X, Y)),
    ("transpose_", lambda lib, x, y: (x * y).transpose_(0, 1), (X, Y)),
    ("unsqueeze_", lambda lib, x, y: (x * y).unsqueeze_(1), (X, Y)),
    ("squeeze_", lambda lib, x, y: (x[:1] * y[:1]).squeeze_(0), (X, Y)),
    ("iadd", lambda lib, x, y: _iadd(x * 1, y), (X, Y)),
    ("imul_twice", lambda lib, x, y: _imul(_imul(x * 1, y), y), (X, Y)),
]


def _iadd(a, b):
    a += b
    return a


def _imul(a, b):
    a *= b
    return a


@pytest.mark.parametrize("program, arrays", [pytest.param(p, a, id=i) for i, p, a in METHODS])
def test_in_place_method_matches_torch(program, arrays):
    _both(program, *arrays)


def test_every_in_place_method_of_the_issue_exists():
    names = ("add_ sub_ mul_ div_ pow_ neg_ clamp_ clamp_min_ relu_ sigmoid_ tanh_ exp_ log_ "
             "sqrt_ abs_ fill_ zero_ copy_ masked_fill_ index_fill_ index_add_ index_copy_ "
             "scatter_ scatter_add_ uniform_ normal_ bernoulli_ exponential_ clamp_max_ lerp_ "
             "addcmul_ addcdiv_ floor_ round_ sign_ t_ transpose_ unsqueeze_ squeeze_").split()
    assert [n for n in names if not callable(getattr(nnlab.Tensor, n, None))] == []


# -- the patterns real programs use ------------------------------------------------------
def _residual_block(lib, x, w):
    out = x @ w                  # conv, batch norm: nothing saves its output
    out += x                     # ResNet: out += self.shortcut(x)
    return out.relu_()


def _summed_losses(lib, x, y):
    loss = 0
    for k in range(3):
        loss += ((x * (k + 1) - y) ** 2).mean()   # loss += criterion(...)
    return loss.reshape(1, 1)


def _masked_scores(lib, q, k):
    scores = q @ k.T
    scores.masked_fill_(lib.tensor(np.tril(np.ones((3, 3))) == 0), float("-inf"))
    e = scores.exp()
    return e / e.sum(-1, keepdim=True)


def _preallocated(lib, x, y):
    buf = lib.zeros(3, 4, dtype=lib.float64)
    for i in range(3):
        buf[i] = (x[i] * y[i]).tanh()             # buf[i] = encoder_output
    return buf


def _write_column(lib, x, y):
    a = x * y
    a[:, 0].add_(1)                              # through a view of a non-leaf
    a[1:, 2] = y[1:, 3] * 5                      # setitem of a non-leaf
    return a * a


def _write_through_view(lib, x, y):
    a = x * 1
    a.view(12).mul_(2)
    a.view(4, 3)[1].mul_(y.view(12)[:3])         # a view of a view, a tensor factor
    return a * y


def _plain_joins_the_graph(lib, x, y):
    buf = lib.ones(3, 4, dtype=lib.float64)
    buf[:, 1:3] = y[:, :2]                       # a plain tensor takes a graph through v
    buf.t()[0].mul_(x[:, 0])
    return buf


@pytest.mark.parametrize("program", [_residual_block, _summed_losses, _masked_scores,
                                     _preallocated, _write_column, _write_through_view,
                                     _plain_joins_the_graph])
def test_pattern_matches_torch(program):
    arrays = (X[:, :3] if program is _masked_scores else X,
              randn(4, 4, seed=6) if program is _residual_block
              else Y[:, :3] if program is _masked_scores else Y)
    if program is _residual_block:
        arrays = (randn(3, 4, seed=7), randn(4, 4, seed=6))
    _both(program, *arrays)


def test_the_op_own_saved_input_is_kept_but_another_nodes_is_an_error():
    # mul_ keeps the old value it needs itself (torch's original_self); sin saved it too,
    # and its backward names both ops
    x = nnlab.tensor(X, requires_grad=True)
    a = x * 1
    b = a.sin()
    a.mul_(2)
    with pytest.raises(RuntimeError, match=r"SinBackward: a tensor saved for backward "
                                           r"\(shape \(3, 4\)\) was modified by an in-place "
                                           r"operation \(mul_\)"):
        b.sum().backward()
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2)


def test_leaves_and_views_of_leaves_that_require_grad_are_refused():
    x = nnlab.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: a leaf tensor that requires grad cannot "
                                           r"be changed in place"):
        x.add_(1)
    with pytest.raises(RuntimeError, match=r"__setitem__: a leaf tensor that requires grad"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match=r"mul_: this tensor is a view of a leaf tensor "
                                           r"that requires grad"):
        x[0].mul_(2)
    assert x._version == 0 and np.array_equal(x.detach().numpy(), X)
    with nnlab.no_grad():
        x[0] = 1.0                               # allowed without recording
    assert x._version == 1 and x.is_leaf and x.requires_grad


def test_random_fills_draw_from_the_generator_and_cut_the_gradient():
    x = nnlab.tensor(X, requires_grad=True)
    nnlab.manual_seed(0)
    a = (x * 1).uniform_(2, 3)
    b = (x * 1).normal_(5, 0.1)
    c = nnlab.zeros(1000).bernoulli_(0.25)
    d = nnlab.zeros(1000).exponential_(2.0)
    assert a.detach().numpy().min() >= 2 and a.detach().numpy().max() < 3
    assert abs(float(b.detach().numpy().mean()) - 5) < 0.2
    assert set(np.unique(c.numpy())) <= {0.0, 1.0} and 100 < c.numpy().sum() < 400
    assert d.numpy().min() >= 0 and 0.3 < float(d.numpy().mean()) < 0.7
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)   # the old values do not matter


def test_random_fills_take_a_generator():
    draws = [nnlab.zeros(5).uniform_(generator=nnlab.Generator().manual_seed(3)).tolist()
             for _ in range(2)]
    assert draws[0] == draws[1]
    g = nnlab.Generator().manual_seed(4)
    a = nnlab.zeros(5).normal_(generator=g)
    b = nnlab.zeros(5).normal_(generator=nnlab.Generator().manual_seed(4))
    assert a.tolist() == b.tolist()


def test_retain_grad_twice_keeps_one_gradient_and_needs_requires_grad():
    x = nnlab.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    h.retain_grad()
    (h * h).sum().backward()
    assert h.retains_grad and h.grad.tolist() == [6.0, 12.0]
    with pytest.raises(RuntimeError, match="can't retain_grad on a Tensor that has "
                                           "requires_grad=False"):
        nnlab.tensor([1.0]).retain_grad()
