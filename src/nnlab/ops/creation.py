"""Factories: tensors from data, filled tensors, ranges, random draws, and torch's legacy
constructors (`FloatTensor([1, 2])`, ...). Random draws come from `generator=` (an
`nnlab.Generator`) or else from the default generator, so `manual_seed` makes them
reproducible."""
import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .generator import numpy_generator


def _finish(array, dtype, device, requires_grad):
    """The new array as a Tensor of the asked dtype and device."""
    if dtype is not None:
        array = array.astype(backend.to_dtype(dtype), copy=False)
    if device is not None:
        xp = backend.array_module_for(device)
        if xp is not np:
            array = xp.asarray(array)
    return Tensor(array, requires_grad=requires_grad)


def _shape(size, keyword=None):
    """`zeros(2, 3)`, `zeros((2, 3))`, `zeros([2, 3])` and `zeros(size=(2, 3))` all mean the
    shape (2, 3)."""
    if keyword is not None:
        if size:
            raise TypeError(f"got the shape twice: {tuple(size)} and size={keyword}")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(n) for n in size)


def _float(dtype):
    return backend.to_dtype(dtype) or backend.get_default_dtype()


def _drawn(dtype):
    """The dtype NumPy draws in for `dtype` (float16 is drawn in float32, then cast)."""
    return dtype if dtype in (backend.float32, backend.float64) else backend.float32


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


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_shape(shape, size), _float(dtype)), None, device, requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_shape(shape, size), _float(dtype)), None, device, requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(shape, size), _float(dtype)), None, device, requires_grad)


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


def _like(input, dtype, device):
    return dict(dtype=input.dtype if dtype is None else dtype,
                device=input.device if device is None else device)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, **_like(input, dtype, device), requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, **_like(input, dtype, device), requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return empty(input.shape, **_like(input, dtype, device), requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, **_like(input, dtype, device),
                requires_grad=requires_grad)


# -- random draws ----------------------------------------------------------------------
def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    dtype = _float(dtype)
    array = numpy_generator(generator, "rand").random(_shape(shape, size), dtype=_drawn(dtype))
    return _finish(array, dtype, device, requires_grad)


def randn(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    dtype = _float(dtype)
    array = numpy_generator(generator, "randn").standard_normal(_shape(shape, size),
                                                                dtype=_drawn(dtype))
    return _finish(array, dtype, device, requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """`randint(high, size)` or `randint(low, high, size)`: integers in [low, high)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    array = numpy_generator(generator, "randint").integers(low, high, _shape((size,)))
    return _finish(array, dtype or backend.int64, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, dtype=None, device=None, requires_grad=False, *,
           generator=None):
    """Normal draws; `mean` and `std` may be tensors (broadcast) or floats with `size`."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if dtype is None:  # a tensor mean or std gives its float dtype, as torch
        dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)
                      and t.dtype.kind == "f"), None)
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    rng = numpy_generator(generator, "normal")
    draw = rng.standard_normal(_shape((size,)), dtype=_drawn(_float(dtype)))
    array = (draw * s + m).astype(_float(dtype), copy=False)
    return _finish(array, None, device, requires_grad)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, generator=generator, **_like(input, dtype, device),
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, generator=generator, **_like(input, dtype, device),
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, **_like(input, dtype, device),
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=backend.int64, device=None, requires_grad=False):
    """A random permutation of 0, ..., n - 1 (int64 unless `dtype` says otherwise)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"randperm: n must be a non-negative int, got {n!r}")
    dtype = backend.to_dtype(dtype, "randperm")
    if dtype.kind == "b":
        raise TypeError("randperm: not implemented for dtype bool (expected an integer or "
                        "floating dtype)")
    array = numpy_generator(generator, "randperm").permutation(int(n))
    return _finish(array, dtype, device, requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of `input` (non-negative weights, not
    necessarily normalised), shape (num_samples,) for a 1-d `input`, (rows, num_samples) for
    a 2-d one; int64. Without replacement each draw removes its category (sequential
    sampling, done as the smallest of Exp(1) / w); with it, draws are independent."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: expected a Tensor input, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only floating-point dtypes are supported for input, "
                           f"got {input.dtype}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.ndim} dims "
                           f"(shape {tuple(input.shape)})")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got "
                           f"num_samples={num_samples})")
    w = np.asarray(input).astype(np.float64).reshape(-1, input.shape[-1])   # (rows, K)
    k = w.shape[1]
    if not replacement and num_samples > k:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement (n_sample={num_samples}, {k} categories)")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if np.any(w.sum(axis=1) <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    rng = numpy_generator(generator, "multinomial")
    if replacement:
        cdf = np.cumsum(w, axis=1)   # (rows, K)
        u = rng.random((w.shape[0], num_samples)) * cdf[:, -1:]
        last = k - 1 - np.argmax(w[:, ::-1] > 0, axis=1)   # the last category of weight > 0
        out = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        out = np.minimum(out, last[:, None])
    else:   # categories of weight 0 come last, in order, once the others are used up
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(w.shape) / w   # Exp(1) / w: inf where w == 0
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64).reshape(input.shape[:-1] + (num_samples,))
    return _finish(backend.array_module_for(input.device).asarray(out), None, None, False)


def bernoulli(input, p=None, *, generator=None):
    """0 / 1 draws, each 1 with probability `input[i]` (or with `p` everywhere), in input's
    float dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: expected a Tensor input, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"bernoulli: not implemented for dtype {input.dtype} (expected a "
                        "floating dtype)")
    probs = np.asarray(input) if p is None else np.full(input.shape, p)
    if np.any(~((probs >= 0) & (probs <= 1))):
        raise RuntimeError("bernoulli: expected 0 <= p <= 1 for every probability")
    draw = numpy_generator(generator, "bernoulli").random(input.shape) < probs
    return _finish(draw.astype(input.dtype), None, input.device, False)


def random_array(kind, like, a, b, generator=None):
    """An array shaped and typed like the tensor `like`: 'uniform' on [a, b), or 'normal'
    with mean a and std b (for `Tensor.uniform_` / `normal_`)."""
    gen = numpy_generator(generator, f"{kind}_")
    dtype = like.dtype if like.dtype.kind == "f" else backend.get_default_dtype()
    if kind == "uniform":
        draw = gen.random(like.shape, dtype=_drawn(dtype)) * (b - a) + a
    else:
        draw = gen.standard_normal(like.shape, dtype=_drawn(dtype)) * b + a
    return backend.array_module_for(like.device).asarray(draw.astype(dtype, copy=False))


# -- torch's legacy constructors ---------------------------------------------------------
class _TensorType(type):
    """The type of `nnlab.FloatTensor` and friends: calling one builds a Tensor of its dtype
    (`FloatTensor([1, 2])` from data, `FloatTensor(2, 3)` zeros of that shape where torch
    leaves memory uninitialised, `FloatTensor()` empty); `isinstance(t, nnlab.FloatTensor)`
    holds for a float32 tensor on the CPU."""

    def __call__(cls, *args, device=None):
        name = cls.__name__
        if not args:
            return zeros(0, dtype=cls.dtype, device=device)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            if any(a < 0 for a in args):
                raise RuntimeError(f"{name}: trying to create a tensor with a negative "
                                   f"dimension: {list(args)}")
            return zeros(*args, dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                raise TypeError(f"{name}: expected a tensor of dtype {cls.dtype}, got "
                                f"{args[0].dtype} (use .to(dtype) to convert)")
            return args[0]
        if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray, np.generic)):
            data = np.asarray(args[0])
            if cls.dtype.kind in "iu" and data.size and data.dtype.kind in "iuf":
                info = np.iinfo(cls.dtype)
                if data.min() < info.min or data.max() > info.max:
                    raise RuntimeError(f"{name}: value cannot be converted to type "
                                       f"{cls.dtype} without overflow")
            return tensor(data.astype(cls.dtype), device=device)
        raise TypeError(f"{name}: expected sizes (ints), a sequence or array of data, or a "
                        f"tensor, got {', '.join(type(a).__name__ for a in args)}")

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'nnlab.{cls.__name__}'>"


def _legacy(name, dtype):
    return _TensorType(name, (), {"dtype": dtype, "__module__": "nnlab",
                                  "__doc__": f"torch's legacy constructor of {dtype} tensors."})


class _TorchTensorType(_TensorType):
    """The type of `TorchTensor`: a legacy constructor of the default dtype whose
    `isinstance` holds for every Tensor and whose attributes are Tensor's."""

    @property
    def dtype(cls):
        return backend.get_default_dtype()

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, Tensor)

    def __getattr__(cls, name):
        return getattr(Tensor, name)


TorchTensor = _TorchTensorType("Tensor", (), {
    "__module__": "nnlab", "__doc__": "`torch.Tensor` as a PyTorch program uses it (what "
    "`nnlab run` gives it): `Tensor(2, 3)` a float tensor of that shape (zeros), "
    "`Tensor([1, 2])` a float tensor of the data, `isinstance(t, Tensor)`, `Tensor.add`."})
FloatTensor = _legacy("FloatTensor", backend.float32)
DoubleTensor = _legacy("DoubleTensor", backend.float64)
HalfTensor = _legacy("HalfTensor", backend.float16)
LongTensor = _legacy("LongTensor", backend.int64)
IntTensor = _legacy("IntTensor", backend.int32)
ShortTensor = _legacy("ShortTensor", backend.int16)
CharTensor = _legacy("CharTensor", backend.int8)
ByteTensor = _legacy("ByteTensor", backend.uint8)
BoolTensor = _legacy("BoolTensor", backend.bool_)
