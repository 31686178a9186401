"""torch.nn.parallel's wrappers for one process: `DataParallel` and `DistributedDataParallel`.

nnlab trains in one process on one device, so each wrapper calls its module as it is: with a
single replica, the gradient averaged over replicas is the module's own gradient. What the
wrappers keep from torch is their shape: the wrapped model is `.module`, so every
`state_dict` key gains the prefix `module.` (`module.0.weight`), exactly as a checkpoint
saved from torch's wrappers, and such a checkpoint loads into them.
"""
import contextlib

from .module import Module


class DataParallel(Module):
    """`module` split over `device_ids` along `dim`, as torch.nn.DataParallel; here one
    replica, so `forward` is `module(*inputs, **kwargs)`. As torch's without a GPU,
    `device_ids` is `[]` and `output_device` None."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nnlab.nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """`module` with its gradients averaged over the processes of the group after each
    backward pass, as torch.nn.parallel.DistributedDataParallel. nnlab's group is one
    process (nnlab.distributed), so the average is the gradient itself and `forward` is
    `module(*inputs, **kwargs)`. The tuning arguments (buckets, unused parameters, static
    graph) are accepted and kept."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nnlab.nn.Module, "
                            f"got {type(module).__name__}")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = process_group
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Within: backward passes accumulate gradients without averaging them over the
        processes (nothing to skip in one process)."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    @contextlib.contextmanager
    def join(self, divide_by_initial_world_size=True, enable=True,
             throw_on_early_termination=False):
        """Uneven inputs across processes (torch's Join); one process never waits."""
        yield
