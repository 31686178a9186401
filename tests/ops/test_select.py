"""select is numpy.where bit for bit: NaNs, infinities and signed zeros, broadcasting,
0-d operands, and the fallback for other dtypes."""
import numpy as np
import pytest

from nnlab.ops.select import select


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", [((5, 4), (5, 4), (5, 4)), ((5, 1), (5, 4), (5, 4)),
                                    ((5, 4), (1, 4), (5, 4)), ((4,), (5, 4), (1, 4)),
                                    ((5, 4), (), (5, 4)), ((5, 4), (5, 4), ()),
                                    ((5, 4), (), ()), ((), (3,), (3,))])
def test_select_is_where_bitwise(dtype, shapes):
    rng = np.random.default_rng(0)
    c_shape, a_shape, b_shape = shapes
    condition = rng.random(c_shape) > 0.5
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    if a.shape == (5, 4):
        a[0, 0], a[1, 1], a[2, 2] = np.nan, -0.0, np.inf
    got, expected = select(condition, a, b), np.where(condition, a, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_select_falls_back_to_where_for_other_operands():
    condition = np.array([True, False])
    a = np.array([1, 2], np.int64)
    assert select(condition, a, 0).tolist() == [1, 0]                # Python scalar
    halves = np.array([1.5, 2.5], np.float16)
    assert select(condition, halves, halves[::-1]).dtype == np.float16
    mixed = select(condition, np.float32([1, 2]), np.float64([3, 4]))
    assert mixed.dtype == np.float64 and mixed.tolist() == [1.0, 4.0]
