"""`nnlab.multiprocessing` (torch.multiprocessing): Python's `multiprocessing`, with
tensors that child processes share for Hogwild training.

    model.share_memory()                 # parameters and buffers into shared memory
    ctx = nnlab.multiprocessing.get_context("fork")
    workers = [ctx.Process(target=train, args=(rank, model)) for rank in range(4)]
    for p in workers: p.start()
    for p in workers: p.join()           # the children's in-place updates are in `model`

`Tensor.share_memory_()` copies a tensor's values into an anonymous shared mapping
(`nnlab.parallel.share_memory`), which a child made by fork inherits: the optimiser's
in-place steps in the children and the parent's reads touch the same memory, without locks
(Hogwild: lost updates are rare and harmless for SGD). With fork (Linux's default up to
Python 3.13) this is torch's behaviour.

Unlike torch, shared memory goes to a child only by fork: with 'spawn' or 'forkserver' the
child gets a pickled copy, so `Process.start` refuses a shared tensor among its arguments
(its updates would be lost without a word); a tensor sent through a Queue or Pipe arrives
as a copy. Everything else is Python's own API, re-exported.
"""
import multiprocessing
from multiprocessing import (  # noqa: F401  (the API, re-exported)
    Array,
    AuthenticationError,
    Barrier,
    BoundedSemaphore,
    BufferTooShort,
    Condition,
    Event,
    JoinableQueue,
    Lock,
    Manager,
    Pipe,
    Pool,
    ProcessError,
    Queue,
    RawArray,
    RawValue,
    RLock,
    Semaphore,
    SimpleQueue,
    TimeoutError,
    Value,
    active_children,
    allow_connection_pickling,
    cpu_count,
    current_process,
    freeze_support,
    get_all_start_methods,
    get_logger,
    get_start_method,
    log_to_stderr,
    parent_process,
    set_executable,
    set_forkserver_preload,
    set_start_method,
)

from .autograd.tensor import Tensor
from .nn.module import Module

_SHARING_STRATEGIES = ("file_descriptor", "file_system")
_sharing_strategy = "file_descriptor"


def _shared_tensors(obj, seen):
    """The tensors in shared memory that `obj` (a tensor, a module, or lists, tuples, sets
    and dicts of them) holds."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Tensor):
        if obj.is_shared():
            yield obj
    elif isinstance(obj, Module):
        for t in list(obj.parameters()) + list(obj.buffers()):
            yield from _shared_tensors(t, seen)
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _shared_tensors(value, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            yield from _shared_tensors(value, seen)


def _check_start(process, method):
    """Refuse to send a shared tensor to a child that would get a pickled copy of it."""
    if method == "fork":
        return
    args = (getattr(process, "_target", None), process._args, process._kwargs)
    if next(_shared_tensors(args, set()), None) is not None:
        raise RuntimeError(
            f"Process.start: an argument holds a tensor in shared memory (share_memory_), "
            f"but the {method!r} start method would give the child a pickled copy, whose "
            "updates never reach this process; nnlab shares memory with forked children "
            "only: use get_context('fork') or set_start_method('fork', force=True)")


def _checked(process_class):
    """`process_class` whose `start` refuses shared tensors a non-fork child would copy."""
    class Process(process_class):
        def start(self):
            _check_start(self, self._start_method or multiprocessing.get_start_method())
            super().start()

    Process.__qualname__ = Process.__name__ = process_class.__name__
    Process.__module__ = __name__
    return Process


Process = _checked(multiprocessing.Process)
ForkProcess = _checked(multiprocessing.context.ForkProcess)
SpawnProcess = _checked(multiprocessing.context.SpawnProcess)
ForkServerProcess = _checked(multiprocessing.context.ForkServerProcess)
_PROCESSES = {multiprocessing.Process: Process,
              multiprocessing.context.ForkProcess: ForkProcess,
              multiprocessing.context.SpawnProcess: SpawnProcess,
              multiprocessing.context.ForkServerProcess: ForkServerProcess}


class _Context:
    """A `multiprocessing` context whose `Process` checks shared tensors; the rest is the
    context's own."""

    def __init__(self, context):
        self._context = context
        self.Process = _PROCESSES[context.Process]

    def __getattr__(self, name):
        return getattr(self._context, name)

    def __repr__(self):
        return f"nnlab.multiprocessing context ({self._context.get_start_method()!r})"


def get_context(method=None):
    """The context of start method `method` ('fork', 'spawn', 'forkserver'; None: the
    default), as Python's, its `Process` checking shared tensors."""
    return _Context(multiprocessing.get_context(method))


def get_sharing_strategy():
    """torch's name of how tensors are shared; nnlab shares by fork whichever is set."""
    return _sharing_strategy


def get_all_sharing_strategies():
    return set(_SHARING_STRATEGIES)


def set_sharing_strategy(new_strategy):
    """Record torch's sharing strategy ('file_descriptor' or 'file_system'), for programs
    that set it; nnlab's shared memory reaches forked children either way."""
    global _sharing_strategy
    if new_strategy not in _SHARING_STRATEGIES:
        raise ValueError(f"set_sharing_strategy: expected one of {list(_SHARING_STRATEGIES)}, "
                         f"got {new_strategy!r}")
    _sharing_strategy = new_strategy
