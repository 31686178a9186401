"""The one seam to the array module: numpy on the CPU, cupy on a GPU.

Also home of devices (`device`, the parsing of `to(...)`'s arguments), dtypes (names, torch's
legacy type strings, `finfo` / `iinfo`, the default dtype) and the numpy generator behind
nnlab's default random generator: with the grad mode, the only global state. Nothing else
in nnlab imports cupy.
"""
import builtins

import numpy as np

try:  # pragma: no cover - exercised only where a GPU and cupy exist
    import cupy
except ImportError:  # the CPU build
    cupy = None

# -- dtypes -------------------------------------------------------------------------------
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)


class _MissingDtype:
    """A dtype name torch has and NumPy lacks (`bfloat16`): it can be named, stored and
    compared (so `{'bfloat16': torch.bfloat16}` tables and `autocast(dtype=...)` work), and
    any attempt to make a tensor of it is a clear error."""

    def __init__(self, name, advice):
        self.name, self.advice = name, advice
        self.is_floating_point, self.itemsize = True, 2

    def __repr__(self):
        return f"nnlab.{self.name}"

    def error(self, where):
        return TypeError(f"{where}: dtype {self.name} is not supported: {self.advice}")


bfloat16 = _MissingDtype("bfloat16", "NumPy has no bfloat16 and nnlab does not depend on "
                                     "ml_dtypes; use float32 (or float16)")

_DTYPES = {
    "float16": float16, "half": float16, "float32": float32, "float": float32,
    "float64": float64, "double": float64, "complex64": complex64, "cfloat": complex64,
    "complex128": complex128, "cdouble": complex128, "int8": int8, "int16": int16,
    "short": int16, "int32": int32, "int": int32, "int64": int64, "long": int64,
    "uint8": uint8, "bool": bool_, "bfloat16": bfloat16,
}
# torch's legacy tensor-type names: 'torch.FloatTensor', 'torch.cuda.LongTensor', ...
_LEGACY = {float32: "Float", float64: "Double", float16: "Half", int64: "Long", int32: "Int",
           int16: "Short", int8: "Char", uint8: "Byte", bool_: "Bool",
           complex64: "ComplexFloat", complex128: "ComplexDouble"}
_FROM_LEGACY = {name + "Tensor": dtype for dtype, name in _LEGACY.items()}

_default_dtype = float32


def to_dtype(dtype, where="dtype"):
    """A numpy dtype from a dtype, a numpy type, a legacy tensor class (`nnlab.FloatTensor`)
    or a name such as 'float32' / 'long'; None stays None."""
    if dtype is None or isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise TypeError(f"{where}: unknown dtype {dtype!r}: expected one of "
                            f"{sorted(_DTYPES)}")
        dtype = _DTYPES[dtype]
    if isinstance(dtype, _MissingDtype):
        raise dtype.error(where)
    if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), np.dtype):
        return dtype.dtype   # nnlab.FloatTensor and friends
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype (such as nnlab.float32), got "
                        f"{type(dtype).__name__} {dtype!r}") from None


def is_floating(dtype):
    return dtype.kind == "f"


def get_default_dtype():
    """The dtype of Python floats and of the float factories (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Make `dtype` (float16, float32 or float64) the dtype of Python floats and of the float
    factories (`tensor(1.5)`, `zeros`, `rand`, `arange(0., 1.)`, ...), as torch's."""
    global _default_dtype
    dtype = to_dtype(dtype, "set_default_dtype")
    if not is_floating(dtype):
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype} (only "
                        "floating-point types can be the default type)")
    _default_dtype = dtype


def type_name(dtype, device):
    """torch's legacy name of a tensor type: 'torch.FloatTensor', 'torch.cuda.LongTensor'."""
    where = "torch.cuda." if device.type == "cuda" else "torch."
    return f"{where}{_LEGACY[dtype]}Tensor"


def parse_type_name(name):
    """(dtype, device type) from a legacy name such as 'torch.cuda.DoubleTensor' ('nnlab.'
    is accepted for 'torch.'); ValueError for anything else."""
    parts = name.split(".")
    if len(parts) in (2, 3) and parts[0] in ("torch", "nnlab") and parts[-1] in _FROM_LEGACY:
        if len(parts) == 2 or parts[1] == "cuda":
            return _FROM_LEGACY[parts[-1]], "cuda" if len(parts) == 3 else "cpu"
    raise ValueError(f"Tensor.type: invalid type: {name!r} (expected a legacy type name such "
                     "as 'torch.FloatTensor' or 'torch.cuda.LongTensor')")


class finfo:
    """Machine limits of a float dtype (default: the default dtype), as torch.finfo: `bits`,
    `eps`, `max`, `min`, `tiny` (= `smallest_normal`), `resolution` as Python floats, `dtype`
    as its name ('float32')."""

    def __init__(self, type=None):
        dtype = get_default_dtype() if type is None else to_dtype(type, "finfo")
        if dtype.kind == "c":
            dtype = np.dtype(f"f{dtype.itemsize // 2}")
        if dtype.kind != "f":
            raise TypeError(f"finfo: requires a floating point dtype, got {dtype}; use "
                            "nnlab.iinfo for integer dtypes")
        info = np.finfo(dtype)
        self.bits, self.dtype = int(info.bits), dtype.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as torch.iinfo: `bits`, `max`, `min` (Python ints) and
    `dtype` as its name ('int64')."""

    def __init__(self, type):
        dtype = to_dtype(type, "iinfo")
        if dtype.kind not in "iu":
            kind = "bool is not supported" if dtype.kind == "b" else "use nnlab.finfo"
            raise TypeError(f"iinfo: requires an integer dtype, got {dtype} ({kind})")
        info = np.iinfo(dtype)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(
            info.min), dtype.name

    def __repr__(self):
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


# -- devices --------------------------------------------------------------------------------
_DEVICE_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")


def cuda_available():
    """True where cupy imports and sees at least one GPU."""
    return cuda_device_count() > 0


def cuda_device_count():
    if cupy is None:
        return 0
    try:  # pragma: no cover - needs a GPU
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # pragma: no cover - cupy without a driver
        return 0


class device:
    """Where a tensor's memory lives, as torch.device: a `type` ('cpu', 'cuda', ...) and an
    `index` (None: the current one). `device('cuda:1')`, `device('cuda', 1)`,
    `device(other)`; repr `device(type='cuda', index=1)`, str 'cuda:1'.

    Unlike torch's, a device also equals the string that names it (`t.device == 'cpu'`, as
    nnlab code has always compared), and so hashes as that string."""

    __slots__ = ("_type", "_index", "_name")

    def __new__(cls, type, index=None):
        if isinstance(type, device) and index is None:
            return type
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool) and index is None:
            if not cuda_available():
                raise RuntimeError(f"device({type}): cannot access accelerator device when "
                                   "none is available")
            type, index = "cuda", int(type)
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device, a string such as 'cuda:0' or an int, "
                            f"got {builtins.type(type).__name__}")
        kind, colon, number = type.partition(":")
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(_DEVICE_TYPES)} device "
                               f"type at start of device string: {type}")
        if colon:
            if not (number.isascii() and number.isdigit()):
                raise RuntimeError(f"device: invalid device string: {type!r}")
            if index is not None:
                raise RuntimeError(f"device: type (string) must not include an index because "
                                   f"index was passed explicitly: {type}")
            index = int(number)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"device: index must be an int, got "
                                f"{builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError(f"device: device index must not be negative, got {index}")
            index = int(index)
        self = object.__new__(cls)
        self._type, self._index = kind, index
        self._name = kind if index is None else f"{kind}:{index}"
        return self

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __eq__(self, other):
        if isinstance(other, device):
            return self._name == other._name
        if isinstance(other, str):
            return self._name == other
        return NotImplemented

    def __hash__(self):
        return hash(self._name)

    def __str__(self):
        return self._name

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __reduce__(self):
        return device, (self._type, self._index)


_CPU = device("cpu")


def device_of(array):
    """The device of an array: device('cpu') or device('cuda', i)."""
    if cupy is not None and isinstance(array, cupy.ndarray):  # pragma: no cover
        return device("cuda", array.device.id)
    return _CPU


def on_device(array, dev):
    """Whether `array` already lives on `dev` (a device with no index matches any index)."""
    here = device_of(array)
    return here.type == dev.type and (dev.index is None or dev.index == (here.index or 0))


def get_array_module(x):
    """numpy or cupy, whichever owns the array `x` (chainer's `get_array_module`)."""
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy
    return np


def array_module_for(dev):
    """The array module that holds arrays on `dev` (a device, or a name such as 'cuda:0')."""
    kind = (dev if isinstance(dev, device) else device(dev)).type
    if kind == "cpu":
        return np
    if kind == "cuda":
        if cupy is None:
            raise RuntimeError(f"device {str(dev)!r}: cupy is not installed, so no GPU arrays")
        return cupy
    raise RuntimeError(f"device {str(dev)!r}: nnlab has no {kind} backend (expected 'cpu', "
                       "or 'cuda' with cupy)")


def _is_device_arg(a):
    if isinstance(a, device):
        return True
    if isinstance(a, str):
        return a.partition(":")[0] in _DEVICE_TYPES or a not in _DTYPES
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)


def parse_to(args, device_=None, dtype=None, non_blocking=False, copy=False, where="to"):
    """(device or None, dtype or None, non_blocking, copy) from the arguments of torch's
    `to`: `(dtype)`, `(device[, dtype])` or `(other_tensor)`, each optionally followed by
    `non_blocking` and `copy`; keywords override nothing given positionally."""
    rest = list(args)
    if rest and hasattr(rest[0], "device") and hasattr(rest[0], "dtype") \
            and not isinstance(rest[0], builtins.type):
        other = rest.pop(0)   # a tensor: its device and dtype
        device_, dtype = other.device, other.dtype
    else:
        if rest and _is_device_arg(rest[0]):
            device_ = rest.pop(0)
        if rest and not isinstance(rest[0], bool):
            dtype = rest.pop(0)
    if rest:
        non_blocking = rest.pop(0)
    if rest:
        copy = rest.pop(0)
    if rest or not isinstance(non_blocking, bool) or not isinstance(copy, bool):
        raise TypeError(f"{where}: expected (dtype), (device, dtype) or (tensor), optionally "
                        f"followed by non_blocking and copy, got {args!r}")
    return (None if device_ is None else device(device_), to_dtype(dtype, where),
            non_blocking, copy)


# -- the default random generator ---------------------------------------------------------
DEFAULT_SEED = 67280421310721   # torch's default seed: unseeded runs repeat, as in torch
_initial_seed = DEFAULT_SEED
_generator = np.random.Generator(np.random.PCG64(DEFAULT_SEED))


def check_seed(seed, where="manual_seed"):
    """A seed as torch takes it: an int in [-2**63, 2**64), negatives wrapped to unsigned."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{where}: expected an int seed, got {builtins.type(seed).__name__}")
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f"{where}: seed {seed} is out of range [-2**63, 2**64)")
    return seed % 2 ** 64


def reseed(rng, seed):
    """Reset the numpy Generator `rng` in place to the stream `default_rng(seed)` gives."""
    rng.bit_generator.state = np.random.PCG64(seed).state


def manual_seed(seed):
    """Reseed the generator behind every random draw in nnlab (in place: `generator()` stays
    the same object). Returns that numpy generator."""
    global _initial_seed
    _initial_seed = check_seed(seed)
    reseed(_generator, _initial_seed)
    return _generator


def initial_seed():
    """The seed last given to `manual_seed` (or the default seed)."""
    return _initial_seed


def generator():
    """The `numpy.random.Generator` behind nnlab's default generator."""
    return _generator


def get_rng_state():
    """The generator's state as a JSON-able dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


def special_functions(x):
    """scipy.special, or cupyx.scipy.special for a GPU array: erf, expit, ..."""
    if cupy is not None and isinstance(x, cupy.ndarray):  # pragma: no cover
        import cupyx.scipy.special
        return cupyx.scipy.special
    import scipy.special
    return scipy.special

