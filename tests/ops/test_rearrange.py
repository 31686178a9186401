"""narrow, rot90, diff, tensor_split, swapaxes / swapdims, t, repeat_interleave,
unflatten, meshgrid and detach against torch: values and gradients (float64 and float32),
gradcheck and gradgradcheck in float64, and errors that name the op."""
import numpy as np
import pytest

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
X = randn(3, 4, 5, seed=1)

CASES = {
    "narrow": (lambda x: ops.narrow(x, 1, 1, 2), lambda x: torch.narrow(x, 1, 1, 2), (X,)),
    "narrow_negative_start": (lambda x: ops.narrow(x, -1, -3, 2),
                              lambda x: torch.narrow(x, -1, -3, 2), (X,)),
    **{f"rot90_{k}": (lambda x, k=k: ops.rot90(x, k, (0, 2)),
                      lambda x, k=k: torch.rot90(x, k, (0, 2)), (X,)) for k in (-1, 0, 1, 2, 3, 5)},
    "diff": (ops.diff, torch.diff, (X,)),
    "diff_n2_dim0": (lambda x: ops.diff(x, 2, 0), lambda x: torch.diff(x, 2, 0), (X,)),
    "diff_prepend_append": (lambda x, p, a: ops.diff(x, 1, 1, p, a),
                            lambda x, p, a: torch.diff(x, 1, 1, p, a),
                            (X, randn(3, 2, 5, seed=2), randn(3, 1, 5, seed=3))),
    "tensor_split_sections": (lambda x: ops.tensor_split(x, 3, 2),
                              lambda x: torch.tensor_split(x, 3, 2), (X,)),
    "tensor_split_indices": (lambda x: ops.tensor_split(x, [1, -1, 9], 1),
                             lambda x: torch.tensor_split(x, [1, -1, 9], 1), (X,)),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 2), lambda x: torch.swapaxes(x, 0, 2), (X,)),
    "swapdims": (lambda x: ops.swapdims(x, -1, 1), lambda x: torch.swapdims(x, -1, 1), (X,)),
    "t": (ops.t, torch.t, (randn(3, 4),)),
    "t_1d": (ops.t, torch.t, (randn(3),)),
    "repeat_interleave_int": (lambda x: ops.repeat_interleave(x, 2, 1),
                              lambda x: torch.repeat_interleave(x, 2, 1), (X,)),
    "repeat_interleave_flat": (lambda x: ops.repeat_interleave(x, 3),
                               lambda x: torch.repeat_interleave(x, 3), (randn(2, 2),)),
    "repeat_interleave_tensor": (
        lambda x, r: ops.repeat_interleave(x, r, 0),
        lambda x, r: torch.repeat_interleave(x, r, 0), (X, np.array([2, 0, 1]))),
    "unflatten": (lambda x: ops.unflatten(x, 1, (2, -1)), lambda x: torch.unflatten(x, 1, (2, -1)),
                  (X,)),
    "meshgrid_ij": (lambda a, b, c: ops.meshgrid(a, b, c, indexing="ij"),
                    lambda a, b, c: torch.meshgrid(a, b, c, indexing="ij"),
                    (randn(2, seed=1), randn(3, seed=2), randn(4, seed=3))),
    "meshgrid_xy": (lambda a, b, c: ops.meshgrid([a, b, c], indexing="xy"),
                    lambda a, b, c: torch.meshgrid([a, b, c], indexing="xy"),
                    (randn(2, seed=1), randn(3, seed=2), randn(4, seed=3))),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype):
    nn_fn, torch_fn, args = CASES[name]
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("name", [n for n in CASES if n not in ("t_1d",)])
def test_gradcheck(name):
    nn_fn, _, args = CASES[name]
    check_grad(lambda *a: nn_fn(*a), *args)


def test_integer_and_bool_diff_and_repeat_indices():
    assert ops.diff(nnlab.tensor([1, 4, 9])).numpy().tolist() == [3, 5]
    b = ops.diff(nnlab.tensor([True, True, False]))
    assert b.dtype == np.bool_ and b.numpy().tolist() == [False, True]
    r = ops.repeat_interleave(nnlab.tensor([1, 0, 2]))
    assert r.dtype == np.int64 and r.numpy().tolist() == [0, 2, 2]


def test_meshgrid_without_indexing_warns_and_uses_ij():
    with pytest.warns(UserWarning, match="indexing"):
        a, b = ops.meshgrid(nnlab.arange(2), nnlab.arange(3))
    assert a.shape == (2, 3) and a.numpy().tolist() == [[0, 0, 0], [1, 1, 1]]


def test_detach_and_tensor_methods():
    x = nnlab.randn(2, 6, requires_grad=True)
    assert not ops.detach(x).requires_grad and ops.detach(x).numpy() is not None
    assert x.ndimension() == 2 and x.swapaxes(0, 1).shape == (6, 2)
    assert x.swapdims(0, 1).shape == (6, 2) and x.narrow(1, 2, 3).shape == (2, 3)
    assert x.unflatten(1, (3, 2)).shape == (2, 3, 2) and x.rot90().shape == (6, 2)
    assert [p.shape for p in x.tensor_split(4, 1)] == [(2, 2), (2, 2), (2, 1), (2, 1)]
    assert x.diff(dim=0).shape == (1, 6) and x.repeat_interleave(2).shape == (24,)
    assert x.type() == "torch.FloatTensor" and x.type(nnlab.float64).dtype == np.float64


@pytest.mark.parametrize("call, message", [
    (lambda: ops.narrow(nnlab.zeros(3, 4), 1, 2, 3), "narrow: start"),
    (lambda: ops.narrow(nnlab.zeros(3, 4), 2, 0, 1), "narrow: dimension 2"),
    (lambda: ops.rot90(nnlab.zeros(3, 4), 1, (0, 0)), "rot90"),
    (lambda: ops.diff(nnlab.zeros(3), -1), "diff: order"),
    (lambda: ops.diff(nnlab.zeros(3, 2), prepend=nnlab.zeros(2)), "diff: prepend"),
    (lambda: ops.tensor_split(nnlab.zeros(3), 0), "tensor_split: number"),
    (lambda: ops.t(nnlab.zeros(2, 2, 2)), "t: expects"),
    (lambda: ops.repeat_interleave(nnlab.zeros(3), nnlab.tensor([1, 2])),
     "repeat_interleave: repeats"),
    (lambda: ops.repeat_interleave(nnlab.zeros(3), 2, output_size=5), "output_size"),
    (lambda: ops.unflatten(nnlab.zeros(2, 6), 1, (4, -1)), "unflatten: sizes"),
    (lambda: ops.meshgrid(nnlab.zeros(2, 2), indexing="ij"), "meshgrid: expects"),
    (lambda: ops.meshgrid(nnlab.zeros(2), indexing="yx"), "meshgrid: indexing"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError, IndexError), match=message):
        call()


def test_edges_match_torch():
    x, t = nnlab.arange(5), torch.arange(5)
    assert ops.narrow(x, 0, 5, 0).shape == tuple(torch.narrow(t, 0, 5, 0).shape) == (0,)
    assert [p.tolist() for p in ops.tensor_split(x, [-9, 2, -1])] == \
        [p.tolist() for p in torch.tensor_split(t, [-9, 2, -1])]
    assert ops.diff(x, 7).shape == tuple(torch.diff(t, 7).shape)
    assert ops.tensor_split(x, nnlab.tensor(2))[0].tolist() == [0, 1, 2]
