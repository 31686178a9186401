"""Automatic mixed precision, as torch.amp: `autocast` and `GradScaler`, exact no-ops.

nnlab computes every op in its inputs' dtype, on the CPU and on a GPU alike, so there is
nothing to autocast and no float16 gradient to protect from underflow. These classes exist
so that a PyTorch training loop written for mixed precision runs unchanged, and computes
exactly what it computes without them. (Torch's CPU autocast does cast to bfloat16, and its
enabled GradScaler does scale; here neither happens, as in torch without a GPU.)
"""
import contextlib

from . import backend

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class autocast(contextlib.ContextDecorator):
    """`with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):` or
    `@autocast(...)`: a no-op (see the module doc); ops inside run in their inputs' dtype.
    `device_type` is checked as torch checks it (a string naming a device type)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"autocast: expected one of {', '.join(_DEVICE_TYPES)} device "
                               f"type at start of device string: {device_type}")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (
            backend.bfloat16 if device_type == "cpu" else backend.float16)
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class GradScaler:
    """Loss scaling for float16 gradients, as torch.amp.GradScaler; here always disabled
    (as torch's is without a GPU), so every method is an exact no-op: `scale(outputs)`
    returns `outputs` itself, `step(optimizer)` calls `optimizer.step()` and returns its
    result, `unscale_` and `update` do nothing, `get_scale()` is 1.0, `is_enabled()` False,
    `state_dict()` is {} and `load_state_dict` accepts what it gave. The arguments are kept
    and reported by the getters."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._init_scale = init_scale
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._enabled = False

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        return None

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        return None

    def get_scale(self):
        return 1.0

    def is_enabled(self):
        return self._enabled

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        return None
