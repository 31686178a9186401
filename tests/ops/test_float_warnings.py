"""IEEE results without numpy's RuntimeWarnings: log 0 = -inf, 1 / 0 = inf, 0 / 0 = nan,
e^1000 = inf, sqrt(-1) = nan come out of nnlab's ops (forward and backward) silently and
equal to torch's, as torch prints nothing for them."""
import warnings

import numpy as np
import pytest

import nnlab
from nnlab import parallel

# (name, f(module, *tensors), inputs): f runs on nnlab and on torch alike
CASES = [
    ("log of 0 and -1", lambda m, x: m.log(x), [[0.0, -1.0, 1.0]]),
    ("log of tril(ones)", lambda m, x: m.log(m.tril(x)), [np.ones((4, 4))]),
    ("log1p of -1 and -2", lambda m, x: m.log1p(x), [[-1.0, -2.0, 0.5]]),
    ("1 / 0, -1 / 0, 0 / 0", lambda m, a, b: a / b, [[1.0, -1.0, 0.0, 2.0], [0, 0, 0, 4.0]]),
    ("scalar / 0", lambda m, x: 1 / x, [[0.0, 2.0]]),
    ("reciprocal of 0", lambda m, x: m.reciprocal(x), [[0.0, 4.0]]),
    ("exp of 1000", lambda m, x: m.exp(x), [[1000.0, -1000.0, 1.0]]),
    ("sqrt of -1 and 0", lambda m, x: m.sqrt(x), [[-1.0, 0.0, 4.0]]),
    ("(-1) ** 0.5", lambda m, a, b: a ** b, [[-1.0, 2.0], [0.5, 3.0]]),
    ("tensor ** -2 at 0", lambda m, x: x ** -2, [[0.0, 2.0]]),
    ("x log x at 0", lambda m, x: x * m.log(x), [[0.0, 0.5]]),
    ("overflow in * and +", lambda m, x: _tenth_power(x) * x + _tenth_power(x) * x,
     [[1e30, 2.0]]),
    ("inf - inf", lambda m, a, b: a - b, [[np.inf, 1.0], [np.inf, 0.5]]),
    ("log of softmax with a zero", lambda m, x: m.log(m.softmax(x, -1)),
     [[[0.0, -1000.0, 1.0]]]),
]


def _tenth_power(x):
    """x ** 10 by multiplication: (1e30) ** 10 overflows float32 and float64 alike."""
    y = x
    for _ in range(9):
        y = y * x
    return y


def _run(module, f, values, dtype):
    """f's value and the gradients of f with respect to each input for an output gradient
    of ones (given by `backward(gradient)`: a sum over inf and -inf would be a reduction,
    which is not an elementwise op), as numpy arrays."""
    tensor_dtype = getattr(module, "float64" if dtype == np.float64 else "float32")
    xs = [module.tensor(np.asarray(v, dtype=dtype), dtype=tensor_dtype, requires_grad=True)
          for v in values]
    y = f(module, *xs)
    y.backward(module.ones_like(y))
    return [y.detach().numpy()] + [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, f, values", CASES, ids=[c[0] for c in CASES])
def test_ieee_results_are_silent_and_match_torch(name, f, values, dtype):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # any numpy RuntimeWarning fails the test
        got = _run(nnlab, f, values, dtype)
    expected = _run(torch, f, values, dtype)
    assert any(not np.isfinite(a).all() for a in got)   # the case does produce inf or nan
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0, equal_nan=True)


def test_integer_division_by_zero_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = nnlab.tensor([1, 0, -1]) / nnlab.tensor([0, 0, 0])
    np.testing.assert_array_equal(y.numpy(), np.array([np.inf, np.nan, -np.inf], np.float32))


def test_large_arrays_split_over_threads_are_silent_too():
    """Above PARALLEL_MIN_SIZE `ufunc` runs slices on worker threads, which do not inherit
    the caller's np.errstate: each slice sets its own."""
    n = parallel.PARALLEL_MIN_SIZE * 2
    x = np.zeros((64, n // 64), dtype=np.float32)
    x[::2] = 1
    before = parallel.get_num_threads()
    parallel.set_num_threads(4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = nnlab.log(nnlab.tensor(x)).numpy()
    finally:
        parallel.set_num_threads(before)
    assert (y[1::2] == -np.inf).all() and (y[::2] == 0).all()


def test_numpy_itself_still_warns_outside_nnlab_ops():
    """The silence is local to nnlab's ops: numpy's own settings are left as they were."""
    with pytest.warns(RuntimeWarning, match="divide by zero encountered in log"):
        np.log(np.zeros(2))
