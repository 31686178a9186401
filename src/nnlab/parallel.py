"""The CPU's parallel work: a thread pool for large elementwise ops (`ufunc`) and optimiser
updates, `set_num_threads`, BLAS threads chosen by a matrix product's size (`matmul`,
`gemm_threads`), and the opt-in allocator setting `keep_freed_memory`. Importing it changes
nothing: the pool starts and BLAS is looked up on first use.
"""
import ctypes
import os
import sys

import numpy as np

from .backend import get_array_module

_num_threads = os.cpu_count() or 1
_workers = None
_blas_controller = None
_blas = None            # the BLAS library's threadpoolctl controller, found on first use
PARALLEL_MIN_SIZE = 1 << 18   # elements: below this a thread handoff costs about what it saves
# A matrix product of fewer flops (2 m n k) runs on one BLAS thread: below it a second thread
# saves at most a fifth on a quiet CPU, and beside a busy process OpenBLAS's spinning workers
# made a training run of such products (seq2seq-reverse) 2.4x slower.
GEMM_PARALLEL_MIN_FLOPS = 1 << 24
BLAS_ALONE_FLOPS = 1 << 19    # OpenBLAS runs a product of m n k <= 2^18 on one thread itself


def get_num_threads():
    """How many threads large elementwise ops use (all the CPUs unless changed)."""
    return _num_threads


def set_num_threads(n):
    """Use `n` threads for large elementwise ops (BLAS keeps its own count, from
    OPENBLAS_NUM_THREADS or a threadpoolctl limit; `gemm_threads` lowers it to one for
    small matrix products)."""
    global _num_threads, _workers
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _num_threads = int(n)
    if _workers is not None:
        _workers.shutdown()
        _workers = None


def ufunc(f, *args, out=None):
    """`f(*args, out=out)` for a ufunc `f`, computed in slices along the first dimension on
    `get_num_threads()` threads when the result is large: numpy runs one thread per call but
    releases the GIL inside its loops, so the slices run at once. Each element's value does
    not depend on the split, so this equals the plain call, which small results, cupy
    arrays and results whose first dimension cannot be split take. Without numpy's
    floating-point warnings: torch returns IEEE results (log 0 = -inf, 1 / 0 = inf,
    0 / 0 = nan, e^1000 = inf, sqrt(-1) = nan, 0 * inf = nan) silently."""
    if f in _NO_FLAGS:
        return _ufunc(f, args, out)
    with np.errstate(all="ignore"):   # about 1.5 us a call; a 64-element add takes 1.3 us
        return _ufunc(f, args, out)


# ufuncs that never raise a floating-point flag, so need no np.errstate (ReLU's and tanh's)
_NO_FLAGS = frozenset((np.negative, np.positive, np.absolute, np.sign, np.copysign, np.tanh,
                       np.maximum, np.minimum, np.fmax, np.fmin, np.greater, np.greater_equal,
                       np.less, np.less_equal, np.equal, np.not_equal))


def _ufunc(f, args, out):
    first = args[0] if hasattr(args[0], "shape") else args[-1]
    n = _num_threads
    if n < 2 or type(first) is not np.ndarray or first.size < PARALLEL_MIN_SIZE:
        return f(*args, out=out)
    shapes = {np.shape(a) for a in args}
    shape = first.shape if len(shapes) == 1 else np.broadcast_shapes(*shapes)
    if shape[0] < n or (out is not None and out.shape != shape):
        return f(*args, out=out)
    if out is None:
        probe = f(*(a.ravel()[:1] if np.ndim(a) else a for a in args))
        out = np.empty(shape, probe.dtype)
    bounds = [shape[0] * i // n for i in range(n + 1)]
    pieces = [[_rows(a, lo, hi, len(shape)) for a in args] + [out[lo:hi]]
              for lo, hi in zip(bounds[:-1], bounds[1:])]
    futures = [thread_pool().submit(_call, f, piece) for piece in pieces[1:]]
    _call(f, pieces[0])
    for future in futures:
        future.result()
    return out


def _rows(a, lo, hi, ndim):
    """Rows lo:hi of an operand that spans the result's first dimension, else the operand
    whole (a scalar, or an operand broadcast along that dimension)."""
    if np.ndim(a) < ndim or a.shape[0] == 1:
        return a
    return a[lo:hi]


def _call(f, piece):
    with np.errstate(all="ignore"):   # a worker thread does not inherit the caller's errstate
        f(*piece[:-1], out=piece[-1])


def thread_pool():
    """The worker threads shared by large elementwise ops and optimiser updates."""
    global _workers, _fork_hooked
    if _workers is None:
        from concurrent.futures import ThreadPoolExecutor
        _workers = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="nnlab")
        if not _fork_hooked:
            os.register_at_fork(after_in_child=_forget_workers)
            _fork_hooked = True
    return _workers


_fork_hooked = False


def _forget_workers():
    """In a forked child: the parent's worker threads are not there (a task sent to them
    would wait forever), so the next large op starts a new pool."""
    global _workers
    _workers = None


def share_memory(array):
    """A copy of numpy `array` in anonymous shared memory (an mmap with MAP_SHARED): a child
    process forked later reads and writes the same memory as this one. `array` itself if it
    is shared already or not a numpy array (a GPU array stays where it is, as in torch)."""
    if type(array) is not np.ndarray or is_shared(array):
        return array
    import mmap
    buffer = mmap.mmap(-1, max(array.nbytes, 1))
    shared = np.frombuffer(buffer, array.dtype, array.size).reshape(array.shape)
    shared[...] = array
    return shared


def is_shared(array):
    """Whether `array` lies in memory made by `share_memory`."""
    import mmap
    while isinstance(array, np.ndarray):
        array = array.base
    return isinstance(array, memoryview) and isinstance(array.obj, mmap.mmap)


class gemm_threads:
    """Context in which BLAS runs a matrix product (or a loop of them) of `flops` = 2 m n k
    each: on one thread below GEMM_PARALLEL_MIN_FLOPS, else on the count BLAS has (its own,
    or a threadpoolctl limit's); the count before is restored on leaving. The count is read
    from the library each time, so that the choice depends only on the size and the
    settings: OpenBLAS's results can differ in the last bit between thread counts, and a
    resumed run must make the same choices as the run it continues."""

    __slots__ = ("flops", "previous")

    def __init__(self, flops):
        self.flops = flops

    def __enter__(self):
        self.previous = None
        if self.flops < GEMM_PARALLEL_MIN_FLOPS and (blas := _blas_library()):
            now = blas.num_threads
            if now != 1:
                self.previous = now
                blas.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            _blas.set_num_threads(self.previous)


def _blas_library():
    """threadpoolctl's controller of numpy's BLAS (not another one loaded later, such as
    scipy's own OpenBLAS), found once; False if there is none."""
    global _blas
    if _blas is None:
        controller = blas_threads_limit()
        found = controller.select(user_api="blas").lib_controllers if controller else []
        numpy_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy")
        found.sort(key=lambda lib: not os.path.realpath(lib.filepath).startswith(
            os.path.realpath(numpy_dir)))   # numpy/ or numpy.libs/ first, else load order
        _blas = found[0] if found else False
    return _blas


def matmul(a, b, out=None):
    """a @ b as numpy's (or cupy's) matmul, on the BLAS threads `gemm_threads` chooses for
    its size: (..., m, k) @ (..., k, n) is 2 m n k flops for each matrix of the batch, which
    numpy hands to BLAS one at a time."""
    if type(a) is not np.ndarray or a.ndim < 2 or b.ndim < 2:
        return get_array_module(a).matmul(a, b, out=out)
    flops = 2 * a.shape[-2] * a.shape[-1] * b.shape[-1]
    if flops <= BLAS_ALONE_FLOPS:          # BLAS keeps it on one thread itself
        return np.matmul(a, b, out=out)
    with gemm_threads(flops):
        return np.matmul(a, b, out=out)


def blas_threads_limit():
    """threadpoolctl's controller of the loaded BLAS (`.limit(limits=1, user_api="blas")`
    runs it on one thread, for code that shares its own work among `thread_pool()`), made
    once; None where threadpoolctl cannot be imported."""
    global _blas_controller
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
            _blas_controller = ThreadpoolController()
        except ImportError:  # pragma: no cover - a declared dependency
            _blas_controller = False
    return _blas_controller or None


def keep_freed_memory(mmap_threshold=32 << 20, trim_threshold=256 << 20):
    """Let glibc keep freed arrays' memory for reuse instead of returning it to the OS.

    A training step allocates and frees the same few-MB temporaries every time. By default
    glibc serves each with a fresh mmap and unmaps it when freed, so every step page-faults
    all of its memory in again (about 30 ms per step on a 1M-element chain of 20 ops).
    Serving them from the heap and trimming it only past `trim_threshold` is what a caching
    allocator (PyTorch's) achieves. It changes the whole process, so importing nnlab never
    calls it: the `nnlab` command, `train.fit` and `bench` do, and a program of one's own
    may. Returns True if glibc accepted both settings; False off glibc, or where the
    variable NNLAB_KEEP_FREED_MEMORY=0 turns it off."""
    if os.environ.get("NNLAB_KEEP_FREED_MEMORY", "1") == "0" \
            or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:   # not glibc (musl, ...)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, mmap_threshold)
                and libc.mallopt(m_trim_threshold, trim_threshold))

