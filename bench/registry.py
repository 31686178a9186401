"""The workload registry and the base class every workload derives from.

A workload sets up the same computation twice, once in nnlab and once in torch, from the
same NumPy arrays, and hands back for each a zero-argument `step` that runs one timed
iteration (forward + backward) and returns the loss:

    @register
    class Tanh(Workload):
        name = "tanh-1m"
        target = 1.5                       # the ratio nnlab/torch it should stay under

        def arrays(self):                  # leaves (require grad), then constants
            n = 1000 if self.small else 1_000_000
            return {"x": self.rng().standard_normal(n, dtype=np.float32)}, {}

        def loss(self, x):                 # one composition, run by both libraries
            return x.tanh().sum()

The default `setup_nnlab` / `setup_torch` build tensors from `arrays()` and call `loss`
with them: as nnlab mirrors torch's API, one function is the same maths on both sides by
construction. A workload whose two sides need different code (modules, say) overrides
`setup_nnlab` and `setup_torch` instead, each returning a `Step`.
"""
import importlib
import pkgutil

import numpy as np

_REGISTRY = {}


class Step:
    """One iteration of a workload on one side: `step()` zeroes the leaves' grads (to None),
    computes the loss, runs backward, and returns the loss. `leaves` maps names to the
    tensors whose gradients it computes (the test compares them across the two sides)."""

    def __init__(self, loss_fn, leaves):
        self.loss_fn = loss_fn
        self.leaves = leaves

    def __call__(self):
        for t in self.leaves.values():
            t.grad = None
        loss = self.loss_fn()
        loss.backward()
        return loss


class Workload:
    """One benchmark. `small=True` gives tiny sizes for the correctness test."""

    name = ""
    description = ""
    target = None   # the ratio nnlab/torch the workload should stay at or under
    seed = 0

    def __init__(self, small=False):
        self.small = small

    def rng(self):
        return np.random.default_rng(self.seed)

    def arrays(self):
        """({name: float32 array that requires grad}, {name: constant array})."""
        raise NotImplementedError(f"{type(self).__name__}: define arrays() and loss(), or "
                                  "override setup_nnlab() and setup_torch()")

    def loss(self, **tensors):
        """The scalar loss from the tensors named as in `arrays()` (either library)."""
        raise NotImplementedError(f"{type(self).__name__}: define loss()")

    def setup_nnlab(self):
        import nnlab
        return self._setup(lambda a, grad: nnlab.tensor(a, requires_grad=grad))

    def setup_torch(self):
        import torch
        return self._setup(lambda a, grad: torch.tensor(a, requires_grad=grad))

    def _setup(self, make):
        leaves, constants = self.arrays()
        leaves = {k: make(a, True) for k, a in leaves.items()}
        tensors = dict(leaves, **{k: make(a, False) for k, a in constants.items()})
        return Step(lambda: self.loss(**tensors), leaves)


def register(cls):
    """Class decorator: add a Workload subclass to the registry under `cls.name`."""
    if not cls.name:
        raise ValueError(f"register: {cls.__name__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"register: two workloads are named {cls.name!r} "
                         f"({_REGISTRY[cls.name].__qualname__} and {cls.__qualname__})")
    _REGISTRY[cls.name] = cls
    return cls


def all_workloads():
    """{name: Workload class}, after importing every module of `bench.workloads`, in the
    order of registration (module name, then class order). A module that fails to import
    is registered as a workload named after it whose setup raises that error, so the run
    shows an error row for it and goes on."""
    from . import workloads
    for info in sorted(pkgutil.iter_modules(workloads.__path__), key=lambda m: m.name):
        try:
            importlib.import_module(f"{workloads.__name__}.{info.name}")
        except Exception as e:  # noqa: BLE001 - reported as the module's error row
            _REGISTRY.setdefault(f"{info.name} (module)", _broken(info.name, e))
    return dict(_REGISTRY)


def _broken(module, error):
    def fail(self):
        raise error

    return type(f"Broken_{module}", (Workload,), {
        "name": f"{module} (module)", "description": f"bench/workloads/{module}.py failed to "
        f"import: {type(error).__name__}: {error}", "setup_nnlab": fail, "setup_torch": fail})
