"""The one seam to the array module: numpy on the CPU, cupy on a GPU.

Also home of the default dtype and the random generator, the only global state besides
the grad mode. Nothing else in nnlab imports cupy.
"""
import numpy as np

try:  # pragma: no cover - exercised only where a GPU and cupy exist
    import cupy
except ImportError:  # the CPU build
    cupy = None

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_DTYPES = {
    "float16": float16, "half": float16,
    "float32": float32, "float": float32,
    "float64": float64, "double": float64,
    "int32": int32, "int": int32,
    "int64": int64, "long": int64,
    "uint8": uint8, "bool": bool_,
}

_default_dtype = float32
_generator = np.random.default_rng()


def get_array_module(x):
    """numpy or cupy, whichever owns the array `x` (chainer's `get_array_module`)."""
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy
    return np


def array_module_for(device):
    """The array module that holds arrays on `device` ('cpu' or 'cuda[:i]')."""
    kind = str(device).split(":")[0]
    if kind == "cpu":
        return np
    if kind == "cuda":
        if cupy is None:
            raise RuntimeError(f"device {device!r}: cupy is not installed, so no GPU arrays")
        return cupy
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def device_of(array):
    """The device name of an array: 'cpu' or 'cuda:i'."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return f"cuda:{array.device.id}"
    return "cpu"


def to_dtype(dtype):
    """A numpy dtype from a dtype, a numpy type, or a name such as 'float32'."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        try:
            return _DTYPES[dtype]
        except KeyError:
            raise TypeError(f"unknown dtype {dtype!r}: expected one of {sorted(_DTYPES)}") from None
    return np.dtype(dtype)


def is_floating(dtype):
    return dtype.kind == "f"


def get_default_dtype():
    return _default_dtype


def set_default_dtype(dtype):
    """The float dtype that factories and Python floats use (float32 unless changed)."""
    global _default_dtype
    dtype = to_dtype(dtype)
    if not is_floating(dtype):
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def manual_seed(seed):
    """Reseed the generator behind every random draw in nnlab."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    """The current `numpy.random.Generator`."""
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
