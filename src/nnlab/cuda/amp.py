"""torch.cuda.amp's legacy names: `autocast` and `GradScaler` for device 'cuda', both the
exact no-ops of `nnlab.amp`."""
from .. import amp as _amp
from .. import backend


class autocast(_amp.autocast):
    """`torch.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)`: the
    no-op `nnlab.amp.autocast('cuda', ...)`."""

    def __init__(self, enabled=True, dtype=backend.float16, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """`torch.cuda.amp.GradScaler(init_scale, ...)`: the no-op `nnlab.amp.GradScaler('cuda')`."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
