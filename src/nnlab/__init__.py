"""nnlab: a deep-learning framework on NumPy with PyTorch's interface, readable down to
the last derivative."""
# ruff: noqa: F401
# (this module re-exports: every name below is nnlab.<name>, as torch.<name>)
from math import e, inf, nan, pi

from numpy import dtype

from . import accelerator, amp, autograd, backend, backends, cuda, nn, ops, optim, parallel
from .amp import autocast
from .autograd import (
    Function,
    Tensor,
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .backend import (
    bfloat16,
    bool_,
    complex64,
    complex128,
    device,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .ops import *  # noqa: F403  (with Generator, manual_seed, seed, the legacy FloatTensor, ...)
from .parallel import get_num_threads, set_num_threads

# torch's dtype names (these shadow Python's builtins inside this module only)
bool = bool_  # noqa: A001
float = float32  # noqa: A001
int = int32  # noqa: A001
double = float64
half = float16
long = int64
short = int16
cfloat = complex64
cdouble = complex128

__version__ = "0.1.0"

# The upper floors load on first use (PEP 562), so `import nnlab` stays fast and
# `nnlab.models.resnet18()` works after it, as `torch.utils.data` does after `import torch`.
_LAZY_SUBMODULES = ("data", "models", "train", "lab", "utils", "onnx", "distributed",
                    "sparse", "distributions")
_LAZY_NAMES = {"save": "utils.serialization", "load": "utils.serialization"}


def __getattr__(name):
    import importlib
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_NAMES))
