"""The parallel floor: the threaded ufunc path equals the plain call (its twin), and the
allocator setting is accepted where glibc is present."""
import sys
from pathlib import Path

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


def blas_threads():
    """numpy's BLAS's thread count, as threadpoolctl reads it from the library (scipy, once
    imported, lists an OpenBLAS of its own first)."""
    from threadpoolctl import threadpool_info
    return next(i["num_threads"] for i in threadpool_info()
                if i["user_api"] == "blas" and "numpy" in i["filepath"])


@pytest.fixture
def two_blas_threads():
    """numpy's BLAS on two threads for the test (a threadpoolctl limit, as a user sets it)."""
    parallel._blas_library()
    with parallel.blas_threads_limit().limit(limits=2, user_api="blas"):
        yield


def test_gemm_threads_by_size_and_restored(two_blas_threads):
    small, large = parallel.GEMM_PARALLEL_MIN_FLOPS - 1, parallel.GEMM_PARALLEL_MIN_FLOPS
    assert blas_threads() == 2
    with parallel.gemm_threads(small):
        assert blas_threads() == 1
        with parallel.gemm_threads(small):     # nested: the outer one restores
            assert blas_threads() == 1
        assert blas_threads() == 1
    assert blas_threads() == 2
    with parallel.gemm_threads(large):         # BLAS's own count, untouched
        assert blas_threads() == 2
    assert blas_threads() == 2


def test_set_num_threads_leaves_blas_alone(two_blas_threads):
    before = parallel.get_num_threads()
    parallel.set_num_threads(1)
    try:
        with parallel.gemm_threads(parallel.GEMM_PARALLEL_MIN_FLOPS):
            assert blas_threads() == 2
    finally:
        parallel.set_num_threads(before)


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 4), (4, 5)), ((64, 256), (256, 1024)),             # one thread, two threads
    ((2, 1, 3, 4), (5, 4, 6)), ((4,), (4, 3)), ((2, 4), (4,)), ((4,), (4,)),
])
def test_matmul_equals_numpy(two_blas_threads, shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    np.testing.assert_array_equal(parallel.matmul(a, b), np.matmul(a, b))
    out = np.empty(np.matmul(a, b).shape)
    assert parallel.matmul(a, b, out=out) is out


def test_the_blas_controlled_is_numpys_when_scipy_brings_its_own(monkeypatch):
    import scipy.linalg  # noqa: F401  (scipy's wheels load an OpenBLAS of their own)
    for name in ("_blas", "_blas_controller"):
        monkeypatch.setattr(parallel, name, None)
    a = np.ones((64, 64), np.float32)
    with parallel.gemm_threads(1):
        expected = np.matmul(a, a)
    numpy_dir = Path(np.__file__).resolve().parent
    blas = Path(parallel._blas_library().filepath).resolve()
    assert blas.is_relative_to(numpy_dir) or blas.parent.name == "numpy.libs", blas
    np.testing.assert_array_equal(parallel.matmul(a, a), expected)
