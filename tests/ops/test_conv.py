"""Im2col and Col2im: against torch's unfold / fold, each the adjoint of the other, and
gradient checks to second order; the window arithmetic's errors."""
import itertools

import numpy as np
import pytest

import nnlab
from nnlab.ops.conv import col2im, im2col, window_args
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")

CASES = [  # kernel, stride, padding, dilation
    ((3, 3), (1, 1), 1, (1, 1)),
    ((2, 3), (2, 1), (1, 0), (2, 1)),
    ((3, 3), (3, 3), 0, (1, 1)),
    ((1, 1), (2, 2), 0, (1, 1)),
]


def _args(shape, kernel, stride, padding, dilation):
    return window_args("test", shape, kernel, stride, padding, dilation, len(shape) - 2)


@pytest.mark.parametrize("kernel, stride, padding, dilation", CASES)
def test_im2col_and_col2im_match_torch_unfold_and_fold(kernel, stride, padding, dilation):
    shape = (2, 3, 7, 6)
    k, s, p, d, out = _args(shape, kernel, stride, padding, dilation)
    L = int(np.prod(out))
    check_op(lambda x: im2col(x, k, s, p, d).reshape(2, -1, L),
             lambda x: torch.nn.functional.unfold(x, kernel, d, padding, s), randn(*shape))
    cols = randn(2, 3, *k, *out, seed=1)
    check_op(lambda c: col2im(c, shape, k, s, p, d),
             lambda c: torch.nn.functional.fold(c.reshape(2, -1, L), shape[2:], kernel, d,
                                                padding, s), cols)


@pytest.mark.parametrize("spatial", [(9,), (7, 6), (4, 5, 3)])
def test_col2im_is_the_adjoint_of_im2col(spatial):
    """<im2col(x), c> = <x, col2im(c)> in any number of spatial dimensions."""
    nd = len(spatial)
    shape = (2, 3) + spatial
    k, s, p, d, out = _args(shape, (2,) * nd, (2,) + (1,) * (nd - 1), 1, 1)
    x, c = randn(*shape), randn(2, 3, *k, *out, seed=1)
    lhs = (im2col(nnlab.tensor(x), k, s, p, d).numpy() * c).sum()
    rhs = (x * col2im(nnlab.tensor(c), shape, k, s, p, d).numpy()).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding, dilation", CASES[:2])
def test_gradcheck(kernel, stride, padding, dilation):
    shape = (1, 2, 5, 4)
    k, s, p, d, out = _args(shape, kernel, stride, padding, dilation)
    check_grad(lambda x: im2col(x, k, s, p, d), randn(*shape))
    check_grad(lambda c: col2im(c, shape, k, s, p, d), randn(1, 2, *k, *out))


def test_pad_value_fills_the_padding():
    x = nnlab.ones(1, 1, 2, 2)
    cols = im2col(x, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), pad_value=-np.inf).numpy()
    assert np.isinf(cols).sum() == 4 * 5 and (cols[np.isfinite(cols)] == 1).all()


@pytest.mark.parametrize("n, k, s, p, d", itertools.product([5, 8], [1, 3], [1, 2], [0, 2],
                                                             [1, 2]))
def test_output_size_formula(n, k, s, p, d):
    *_, out = _args((1, 1, n, n), k, s, p, d)
    assert out == ((n + 2 * p - d * (k - 1) - 1) // s + 1,) * 2


def test_ceil_mode_keeps_the_last_partial_window_but_not_one_in_the_padding():
    *_, out = window_args("pool", (1, 1, 6, 5), 2, 2, 0, 1, 2, ceil_mode=True)
    assert out == (3, 3)
    *_, out = window_args("pool", (1, 1, 5, 5), 2, 2, 1, 1, 2, ceil_mode=True)
    assert out == (3, 3)   # a 4th window would start in the high padding


def test_an_input_smaller_than_the_kernel_is_a_clear_error():
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 1, 2, 2\) is too "
                                         r"small for the kernel.*dilation 1 \* \(kernel_size 5"):
        window_args("conv2d", (1, 1, 2, 2), 5, 1, 0, 1, 2)

