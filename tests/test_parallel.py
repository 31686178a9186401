"""The parallel floor: the threaded ufunc path equals the plain call (its twin), and the
allocator setting is accepted where glibc is present."""
import sys

import numpy as np
import pytest

from nnlab import parallel

BIG = parallel.PARALLEL_MIN_SIZE * 2


@pytest.fixture(params=[1, 2, 3])
def threads(request):
    before = parallel.get_num_threads()
    parallel.set_num_threads(request.param)
    yield request.param
    parallel.set_num_threads(before)


@pytest.mark.parametrize("f, make_args", [
    (np.sin, lambda r: (r.standard_normal(BIG, dtype=np.float32),)),
    (np.multiply, lambda r: (r.standard_normal((BIG // 64, 64)), r.standard_normal(64))),
    (np.add, lambda r: (r.standard_normal((BIG // 64, 64), dtype=np.float32), 2.5)),
    (np.subtract, lambda r: (1, r.standard_normal((BIG // 64, 64)).T)),   # non-contiguous
    (np.greater, lambda r: (r.standard_normal(BIG), 0.0)),                 # bool result
    (np.true_divide, lambda r: (r.standard_normal((1, BIG)), 3.0)),        # first dim 1
    (np.maximum, lambda r: (np.broadcast_to(r.standard_normal(64), (BIG // 64, 64)),
                            r.standard_normal((BIG // 64, 64)))),
])
def test_threaded_ufunc_equals_plain_call(threads, f, make_args):
    args = make_args(np.random.default_rng(0))
    plain = f(*args)
    threaded = parallel.ufunc(f, *args)
    assert threaded.dtype == plain.dtype and threaded.shape == plain.shape
    np.testing.assert_array_equal(threaded, plain)


def test_threaded_ufunc_writes_in_place(threads):
    x = np.random.default_rng(1).standard_normal(BIG).astype(np.float32)
    expected = x * x
    assert parallel.ufunc(np.multiply, x, x, out=x) is x
    np.testing.assert_array_equal(x, expected)


def test_set_num_threads_rejects_nonpositive():
    with pytest.raises(ValueError, match="positive number of threads"):
        parallel.set_num_threads(0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_keep_freed_memory_is_accepted_by_glibc():
    assert parallel.keep_freed_memory() is True
