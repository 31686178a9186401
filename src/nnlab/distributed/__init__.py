"""torch.distributed for one process: the process-group calls a data-parallel script makes,
answered for a world of one (rank 0 of 1).

With one process every collective is the identity: the sum (or mean, max, ...) of one
tensor over one process is that tensor, a broadcast from rank 0 changes nothing, gathering
gives a list of one. A script written for `torchrun` therefore runs unchanged as one process
(with `nnlab.data.DistributedSampler` and `nnlab.nn.parallel.DistributedDataParallel`).
`get_rank()` and `get_world_size()` answer 0 and 1 before `init_process_group` too.
`init_process_group` refuses a world of more than one process: multi-process training
comes with nnlab's MPI backend.
"""
import enum
import os

from ..autograd import grad_mode
from ..autograd.tensor import Tensor

__all__ = ["ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_object",
           "all_reduce", "barrier", "broadcast", "broadcast_object_list",
           "destroy_process_group", "gather", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_gloo_available", "is_initialized",
           "is_mpi_available", "is_nccl_available", "new_group", "reduce", "scatter"]

BACKENDS = ("gloo", "nccl", "mpi", "ucc", "cpu:gloo", "cuda:nccl")


class ReduceOp(enum.Enum):
    """How a collective combines the processes' tensors (torch.distributed.ReduceOp)."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class ProcessGroup:
    """A group of processes; nnlab's is always rank 0 of 1."""

    def __init__(self, backend):
        self.backend = backend

    def rank(self):
        return 0

    def size(self):
        return 1

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, rank=0, size=1)"


class Work:
    """The handle of a collective started with `async_op=True` (already complete)."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


_world = None   # the default ProcessGroup, between init_process_group and destroy


def is_available():
    """True: the single-process group is always there."""
    return True


def is_nccl_available():
    return False


def is_mpi_available():
    return False


def is_gloo_available():
    return False


def is_initialized():
    """Whether `init_process_group` was called (and not yet destroyed)."""
    return _world is not None


def _world_size_from(world_size, rank):
    if world_size == -1:   # torch's env:// reads what torchrun set
        world_size = int(os.environ.get("WORLD_SIZE", 1))
    if rank == -1:
        rank = int(os.environ.get("RANK", 0))
    return world_size, rank


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Start the default process group: in nnlab, one process (world_size 1, rank 0).
    `world_size=-1` / `rank=-1` read WORLD_SIZE / RANK from the environment, as torch's
    env:// does, and default to 1 / 0."""
    global _world
    if _world is not None:
        raise ValueError("init_process_group: trying to initialize the default process group "
                         "twice!")
    if backend is not None and str(backend).lower() not in BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r} (expected one of "
                         f"{', '.join(BACKENDS)})")
    world_size, rank = _world_size_from(world_size, rank)
    if world_size != 1 or rank != 0:
        raise NotImplementedError(
            f"init_process_group: world_size={world_size}, rank={rank}, but nnlab trains in "
            "one process for now (world_size 1, rank 0): multi-process training comes with "
            "nnlab's MPI backend. Run the script as one process (without torchrun), or set "
            "WORLD_SIZE=1.")
    _world = ProcessGroup("gloo" if backend is None else str(backend).lower())


def destroy_process_group(group=None):
    """End the default process group (`init_process_group` may be called again)."""
    global _world
    _world = None


def _group(where):
    if _world is None:
        raise ValueError(f"{where}: Default process group has not been initialized, please "
                         "make sure to call init_process_group.")
    return _world


def get_rank(group=None):
    """This process's rank: 0."""
    return 0


def get_world_size(group=None):
    """The number of processes: 1."""
    return 1


def get_backend(group=None):
    """The default group's backend name (after `init_process_group`)."""
    return (group or _group("get_backend")).backend


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, **kwargs):
    """A group of `ranks` (only [0] exists)."""
    if ranks is not None and list(ranks) not in ([], [0]):
        raise ValueError(f"new_group: ranks={list(ranks)}, but the world is rank 0 of 1")
    return ProcessGroup(backend or get_backend())


def _done(async_op):
    return Work() if async_op else None


def _check_tensor(tensor, where):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: expected an nnlab Tensor, got {type(tensor).__name__}")


def _check_rank(rank, name, where):
    if rank != 0:
        raise ValueError(f"{where}: {name}={rank}, but the world is rank 0 of 1")


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every process gets here: one process is always there."""
    _group("barrier")
    return _done(async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """`tensor` <- op over the processes of their `tensor`, in place: over one process, the
    tensor as it is."""
    _group("all_reduce")
    _check_tensor(tensor, "all_reduce")
    return _done(async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    """`all_reduce` whose result only rank `dst` keeps."""
    _group("reduce")
    _check_tensor(tensor, "reduce")
    _check_rank(dst, "dst", "reduce")
    return _done(async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Every process's `tensor` <- rank `src`'s: rank 0's is this one."""
    _group("broadcast")
    _check_tensor(tensor, "broadcast")
    _check_rank(src, "src", "broadcast")
    return _done(async_op)


def _copy_into(out, tensor, where):
    _check_tensor(tensor, where)
    with grad_mode.no_grad():
        out.copy_(tensor)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """`tensor_list[r]` <- rank r's `tensor`, for each of the world's ranks (one here)."""
    _group("all_gather")
    if len(tensor_list) != 1:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, expected "
                         "one per process (1)")
    _copy_into(tensor_list[0], tensor, "all_gather")
    return _done(async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """`all_gather` into rank `dst`'s `gather_list`."""
    _group("gather")
    _check_rank(dst, "dst", "gather")
    if gather_list is not None:
        all_gather(gather_list, tensor)
    return _done(async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """`tensor` <- `scatter_list[rank]` from rank `src`."""
    _group("scatter")
    _check_rank(src, "src", "scatter")
    if scatter_list is not None:
        if len(scatter_list) != 1:
            raise ValueError(f"scatter: scatter_list has {len(scatter_list)} tensors, "
                             "expected one per process (1)")
        _copy_into(tensor, scatter_list[0], "scatter")
    return _done(async_op)


def all_gather_object(object_list, obj, group=None):
    """`object_list[r]` <- rank r's `obj` (any picklable object)."""
    _group("all_gather_object")
    if len(object_list) != 1:
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries, "
                         "expected one per process (1)")
    object_list[0] = obj


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Every process's `object_list` <- rank `src`'s (this one)."""
    _group("broadcast_object_list")
    _check_rank(src, "src", "broadcast_object_list")
