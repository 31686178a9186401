"""Factories: tensors from data, filled tensors, ranges and random draws. Random draws all
come from the generator in `nnlab.backend`, so `manual_seed` makes them reproducible."""
import numpy as np

from .. import backend
from ..autograd.tensor import Tensor


def _finish(array, dtype, device, requires_grad):
    """The new array as a Tensor of the asked dtype and device."""
    if dtype is not None:
        array = array.astype(backend.to_dtype(dtype), copy=False)
    if device is not None and str(device) != "cpu":
        array = backend.array_module_for(device).asarray(array)
    return Tensor(array, requires_grad=requires_grad)


def _shape(size):
    """`zeros(2, 3)`, `zeros((2, 3))` and `zeros([2, 3])` all mean the shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(n) for n in size)


def _float(dtype):
    return backend.to_dtype(dtype) or backend.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, scalars, arrays, tensors).
    Python floats become the default dtype (float32), ints int64, bools bool."""
    if isinstance(data, Tensor):
        data = data._data
    array = np.array(data) if backend.device_of(data) == "cpu" else data.copy()
    if dtype is None and not hasattr(data, "dtype"):  # arrays keep their dtype
        if array.dtype == np.float64:
            array = array.astype(backend.get_default_dtype())
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
    return _finish(array, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares memory with an array or tensor when no conversion is needed."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if dtype or device else data
    if hasattr(data, "dtype") and not isinstance(data, np.generic):
        return _finish(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with the numpy array `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_shape(size), _float(dtype)), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_shape(size), _float(dtype)), None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(size), _float(dtype)), None, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (backend.bool_ if isinstance(fill_value, bool) else
                 backend.int64 if isinstance(fill_value, int) else backend.get_default_dtype())
    return _finish(np.full(_shape((size,)), fill_value, backend.to_dtype(dtype)), None, device,
                   requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """[start, end) in steps of `step`; int64 for integer arguments, else the default float."""
    if end is None:
        start, end = 0, start
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    if dtype is None:
        dtype = backend.int64 if integral else backend.get_default_dtype()
    return _finish(np.arange(start, end, step), dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _finish(np.linspace(start, end, steps), _float(dtype), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_float(dtype)), None, device, requires_grad)


def _like(input, dtype):
    return dict(dtype=dtype or input.dtype, device=input.device)


def zeros_like(input, dtype=None, requires_grad=False):
    return zeros(input.shape, **_like(input, dtype), requires_grad=requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return ones(input.shape, **_like(input, dtype), requires_grad=requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return empty(input.shape, **_like(input, dtype), requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return full(input.shape, fill_value, **_like(input, dtype), requires_grad=requires_grad)


# -- random draws ----------------------------------------------------------------------
def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    array = backend.generator().random(_shape(size), dtype=_float(dtype))
    return _finish(array, None, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    array = backend.generator().standard_normal(_shape(size), dtype=_float(dtype))
    return _finish(array, None, device, requires_grad)


def randint(*args, size=None, dtype=None, device=None, requires_grad=False):
    """`randint(high, size)` or `randint(low, high, size)`: integers in [low, high)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    array = backend.generator().integers(low, high, _shape((size,)))
    return _finish(array, dtype or backend.int64, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, dtype=None, device=None, requires_grad=False):
    """Normal draws; `mean` and `std` may be tensors (broadcast) or floats with `size`."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if dtype is None:  # a tensor mean or std gives its float dtype, as torch
        dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)
                      and t.dtype.kind == "f"), None)
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    draw = backend.generator().standard_normal(_shape((size,)), dtype=_float(dtype))
    array = (draw * s + m).astype(_float(dtype), copy=False)
    return _finish(array, None, device, requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    return rand(input.shape, **_like(input, dtype), requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(input.shape, **_like(input, dtype), requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, **_like(input, dtype), requires_grad=requires_grad)


def random_array(kind, like, a, b):
    """An array shaped and typed like the tensor `like`: 'uniform' on [a, b), or 'normal'
    with mean a and std b (for `Tensor.uniform_` / `normal_`)."""
    gen = backend.generator()
    dtype = like.dtype if like.dtype.kind == "f" else backend.get_default_dtype()
    if kind == "uniform":
        draw = gen.random(like.shape, dtype=dtype) * (b - a) + a
    else:
        draw = gen.standard_normal(like.shape, dtype=dtype) * b + a
    return backend.array_module_for(like.device).asarray(draw.astype(dtype, copy=False))
