"""Channel-wise dropout on the ranks torch 2.13 still accepts with a deprecation warning
(pytorch/examples mnist_rnn runs `nn.Dropout2d(0.25)` on a 2D (N, C) activation): the same
warning text, the same mask shape (which elements are dropped together), the same errors."""
import re
import warnings

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab import nn
from tests.helpers import check_grad, randn

# (name, input shape, the mask's shape as torch draws it)
CASES = [
    ("dropout2d", (40, 30), (40, 30)),                 # (N, C): each element on its own
    ("dropout2d", (20, 6, 3, 2, 2), (20, 6, 1, 1, 1)),  # 5D: (N, C, *)
    ("dropout3d", (40, 30), (40, 1)),                  # unbatched, dim 0 the channels
    ("dropout3d", (50, 4, 3), (50, 1, 1)),
    ("dropout3d", (60,), (60,)),                       # 1D: (1, L) in torch, each element
    ("dropout3d", (40, 2, 1, 2, 1, 2), (40, 1, 1, 1, 1, 1)),
]


def _groups(y, mask_shape):
    """The kept / dropped pattern of y (from an input of ones), reduced to the mask's
    shape, after checking every group broadcast from one mask entry is kept or dropped
    whole."""
    kept = y != 0
    axes = tuple(i for i, n in enumerate(mask_shape) if n == 1 and y.shape[i] != 1)
    whole = kept.all(axis=axes, keepdims=True)
    assert (whole == kept.any(axis=axes, keepdims=True)).all(), "a group is partly dropped"
    return whole.reshape(mask_shape)


def _torch_call(torch, name, x, p, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = getattr(torch.nn.functional, name)(x, p, **kw)
    return y, [str(w.message) for w in caught]


@pytest.mark.parametrize("name, shape, mask_shape", CASES, ids=str)
def test_mask_shape_and_warning_as_torch(name, shape, mask_shape):
    torch = pytest.importorskip("torch")
    p = 0.5
    nnlab.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = getattr(F, name)(nnlab.ones(*shape), p).numpy()
    torch.manual_seed(0)
    yt, torch_messages = _torch_call(torch, name, torch.ones(shape), p)
    assert [str(w.message) for w in caught] == torch_messages and len(torch_messages) == 1
    assert all(w.category is UserWarning for w in caught)
    assert caught[0].filename == __file__        # stacklevel: the caller's line
    for out in (y, yt.numpy()):
        assert set(np.unique(out)) == {0.0, 2.0}
        groups = _groups(out, mask_shape)
        assert 0 < groups.sum() < groups.size     # both kept and dropped groups (>= 40 draws)


def test_mnist_rnn_dropout2d_after_batchnorm1d_drops_elements_not_rows():
    """nn.Dropout2d on (N, C) as in mnist_rnn: it runs, warns once per call as torch, and
    drops single elements: rows are neither all kept nor all dropped."""
    nnlab.manual_seed(3)
    net = nn.Sequential(nn.Linear(8, 64), nn.BatchNorm1d(64), nn.Dropout2d(0.25))
    x = nnlab.tensor(randn(64, 8, seed=1).astype(np.float32))
    with pytest.warns(UserWarning, match=re.escape("Received a 2-D input to dropout2d")):
        y = net(x).detach().numpy()
    dropped = y == 0
    assert 0.15 < dropped.mean() < 0.35
    assert not dropped.all(axis=1).any() and dropped.any(axis=1).all()
    net.eval()
    with pytest.warns(UserWarning, match="dropout2d"):   # torch warns in eval mode too
        np.testing.assert_array_equal(net(x).detach().numpy(),
                                      net[1](net[0](x)).detach().numpy())


def test_dropout3d_2d_input_drops_whole_rows_and_its_gradient_is_the_mask():
    nnlab.manual_seed(4)
    x = nnlab.tensor(randn(50, 6, seed=2, low=0.5), requires_grad=True)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        y = F.dropout3d(x, 0.4)
    y.sum().backward()
    rows = _groups(y.detach().numpy(), (50, 1))
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(rows / 0.6, (50, 6)), rtol=1e-6)


def test_dropout2d_2d_gradient_matches_finite_differences():
    x = randn(5, 4, seed=6)

    def f(t):
        nnlab.manual_seed(7)   # the same mask at every evaluation
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return F.dropout2d(t, 0.5)
    check_grad(f, x)


def test_dropout2d_2d_in_place_keeps_the_tensor():
    nnlab.manual_seed(5)
    z = nnlab.ones(30, 20)
    with pytest.warns(UserWarning):
        out = F.dropout2d(z, 0.5, inplace=True)
    assert out is z and z._version == 1
    assert set(np.unique(z.numpy())) == {0.0, 2.0}


@pytest.mark.parametrize("name, shape", [("dropout2d", ()), ("dropout2d", (6,)),
                                         ("dropout3d", ())])
def test_too_few_dimensions_fail_when_a_mask_is_drawn(name, shape):
    """As torch: refused in training (after the warning), returned unchanged in eval or
    with p = 0."""
    torch = pytest.importorskip("torch")
    x = nnlab.ones(*shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match=rf"{name}: feature dropout requires at least "
                                               rf"2 dimensions in the input, got a "
                                               rf"{len(shape)}D input"):
            getattr(F, name)(x, 0.5)
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2"):
            getattr(torch.nn.functional, name)(torch.ones(shape), 0.5)
        assert getattr(F, name)(x, 0.5, training=False) is x
        assert getattr(F, name)(x, 0.0) is x


def test_dropout1d_still_refuses_other_ranks():
    with pytest.raises(RuntimeError, match=r"dropout1d: expected a 2D \(C, L\) or 3D"):
        F.dropout1d(nnlab.ones(2, 3, 4, 5), 0.5)


def test_batched_ranks_do_not_warn_and_dropout2d_3d_warns_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(nnlab.ones(2, 3, 4, 5), 0.5)
        F.dropout3d(nnlab.ones(2, 3, 4, 5), 0.5)
        F.dropout3d(nnlab.ones(1, 2, 3, 4, 5), 0.5)
        F.dropout1d(nnlab.ones(3, 4), 0.5)
    with pytest.warns(UserWarning, match=r"Received a 3D input to dropout2d and assuming "
                                         r"that channel-wise 1D dropout behavior is desired"):
        F.dropout2d(nnlab.ones(2, 3, 4), 0.5)
