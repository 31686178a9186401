"""nnlab: a deep-learning framework on NumPy with PyTorch's interface, readable down to
the last derivative."""
# ruff: noqa: F401
# (this module re-exports: every name below is nnlab.<name>, as torch.<name>)
from . import autograd, backend, nn, ops, optim, parallel
from .autograd import (
    Function,
    Tensor,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .backend import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    get_rng_state,
    int32,
    int64,
    manual_seed,
    set_default_dtype,
    set_rng_state,
    uint8,
)
from .ops import *  # noqa: F403
from .parallel import get_num_threads, set_num_threads

bool = bool_  # noqa: A001  (nnlab.bool, as torch.bool)
double = float64
long = int64
half = float16

__version__ = "0.1.0"

# The upper floors load on first use (PEP 562), so `import nnlab` stays fast and
# `nnlab.models.resnet18()` works after it, as `torch.utils.data` does after `import torch`.
_LAZY_SUBMODULES = ("data", "models", "train", "lab", "utils")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
