"""`nnlab run SCRIPT.py [ARGS...]` (also `python -m nnlab.run`): run a PyTorch program with
nnlab standing in for torch.

Inside the run, an import hook (the first finder on `sys.meta_path`) answers `import torch`
and every `torch.<sub>` with a stand-in module for the nnlab module of the same place:
`torch` -> `nnlab`, `torch.nn.functional` -> `nnlab.nn.functional`, and a few renames where
nnlab's layout differs from torch's (`torch.utils.data` -> `nnlab.data`). A stand-in reads
and writes through to its nnlab module, so `torch.backends.cudnn.benchmark = True` sets
nnlab's flag; a name nnlab lacks is an error naming the program's line that asked for it:

    AttributeError: nnlab does not provide torch.compile (used at train.py:12)

`import nnlab` installs nothing: the hook lives only for the run, and a real torch already
imported in the process is set aside and put back afterwards.
"""
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import types

USAGE = "usage: nnlab run SCRIPT.py [ARGS...]"

# torch's module -> nnlab's, where nnlab's layout differs (the longest matching prefix wins;
# elsewhere `torch` becomes `nnlab`: torch.nn.functional -> nnlab.nn.functional)
RENAMES = {
    "torch": "nnlab",
    "torch.utils.data": "nnlab.data",
    "torch.utils.data.distributed": "nnlab.data.sampler",
    "torch.nn.modules": "nnlab.nn",
    "torch.nn.modules.batchnorm": "nnlab.nn.normalization",
    "torch.nn.modules.rnn": "nnlab.nn.recurrent",
    "torch.nn.modules.sparse": "nnlab.nn",   # Embedding, EmbeddingBag
    "torch.serialization": "nnlab.utils.serialization",
}

# torch's names whose meaning differs from nnlab's own: (nnlab module, name)
DIFFERENT = {
    "torch.Tensor": ("nnlab.ops.creation", "TorchTensor"),   # also the legacy constructor
}

_IMPORTLIB_INIT = os.path.join("importlib", "__init__.py")
NOT_PROVIDED = "nnlab does not provide"


def nnlab_name(torch_name):
    """The nnlab module standing for the torch module `torch_name`."""
    parts = torch_name.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in RENAMES:
            return ".".join([RENAMES[prefix], *parts[n:]])
    raise ValueError(f"nnlab_name: {torch_name!r} is not a torch module name")


def _is_torch(name):
    return name == "torch" or name.startswith("torch.")


def _user_line():
    """(FILE:LINE of the innermost frame outside this module and the import machinery,
    whether the import machinery was resolving a `from torch... import NAME`)."""
    frame, from_import = sys._getframe(1), False
    while frame is not None:
        file = frame.f_code.co_filename
        if file != __file__ and not file.startswith("<frozen importlib") \
                and not file.endswith(_IMPORTLIB_INIT):
            return f"{file}:{frame.f_lineno}", from_import
        from_import |= frame.f_code.co_name == "_handle_fromlist"
        frame = frame.f_back
    return "an unknown place", from_import


def _not_provided(torch_name):
    where, from_import = _user_line()
    return f"{NOT_PROVIDED} {torch_name} (used at {where})", from_import


class TorchModule(types.ModuleType):
    """`torch.<sub>` during `nnlab run`: attribute reads and writes go to the nnlab module it
    stands for; submodules are stand-ins too."""

    def __init__(self, name, target):
        super().__init__(name, target.__doc__)
        object.__setattr__(self, "_nnlab_module", target)

    def __getattr__(self, name):
        target = self.__dict__["_nnlab_module"]
        if name.startswith("__") and name.endswith("__"):
            return getattr(target, name)
        sub = f"{self.__name__}.{name}"
        if sub in DIFFERENT:
            module, attribute = DIFFERENT[sub]
            return getattr(importlib.import_module(module), attribute)
        try:
            value = getattr(target, name)
        except (AttributeError, ModuleNotFoundError):
            value = None
        else:
            if not isinstance(value, types.ModuleType) or value.__name__ != nnlab_name(sub):
                return value
        try:  # a submodule: its stand-in (one nnlab has not imported yet, too)
            return importlib.import_module(sub)
        except ImportError as e:
            if value is not None or not str(e).startswith(NOT_PROVIDED):
                raise
        message, _ = _not_provided(sub)
        raise AttributeError(message, name=name, obj=self)

    def __setattr__(self, name, value):
        if isinstance(value, TorchModule) or name.startswith("__"):
            super().__setattr__(name, value)   # the import system's bookkeeping stays here
        else:
            setattr(self._nnlab_module, name, value)

    def __dir__(self):
        return sorted(set(dir(self._nnlab_module)) | set(self.__dict__) - {"_nnlab_module"})

    def __repr__(self):
        return f"<module {self.__name__!r}: nnlab's {self._nnlab_module.__name__}>"


class TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The import hook: `torch` and `torch.*` become `TorchModule`s over nnlab's modules."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_torch(fullname):
            return None
        name = nnlab_name(fullname)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
                raise   # nnlab has the module, but something it needs is missing
            message, from_import = _not_provided(fullname)
            if from_import:   # `from torch.x import NAME`: an ImportError, as Python's
                raise ImportError(message, name=fullname.rpartition(".")[0]) from None
            raise ModuleNotFoundError(message, name=fullname) from None
        return importlib.machinery.ModuleSpec(fullname, self, loader_state=module,
                                              is_package=True)

    def create_module(self, spec):
        return TorchModule(spec.name, spec.loader_state)

    def exec_module(self, module):
        pass


@contextlib.contextmanager
def torch_from_nnlab():
    """Within the block, `import torch` (and `torch.*`) gives nnlab's modules; a real torch
    already in `sys.modules` is set aside for the block and put back after it."""
    finder = TorchFinder()
    real = {name: sys.modules.pop(name) for name in list(sys.modules) if _is_torch(name)}
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if _is_torch(name)]:
            del sys.modules[name]
        sys.modules.update(real)


def _exit_status(code):
    """The process status of `sys.exit(code)`, as Python gives it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run(script, args=()):
    """Run the program `script` as `python script args...` would (`sys.argv`, `__main__`,
    its folder first on `sys.path`), with nnlab standing in for torch; its exit status."""
    script = os.fspath(script)
    if not os.path.isfile(script):
        raise FileNotFoundError(f"nnlab run: {script}: no such file")
    argv, path = sys.argv, sys.path[:]
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        with torch_from_nnlab():
            runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        return _exit_status(e.code)
    finally:
        sys.argv, sys.path[:] = argv, path
    return 0


def main(argv=None):
    """`nnlab run SCRIPT.py [ARGS...]`: every argument after the script goes to it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(f"{USAGE}\nnnlab run: error: the program to run (SCRIPT.py) is missing",
              file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(f"{USAGE}\nRun a PyTorch program with nnlab standing in for torch.")
        return 0
    script, *args = argv
    if not os.path.isfile(script):
        print(f"{USAGE}\nnnlab run: error: {script}: no such file", file=sys.stderr)
        return 2
    return run(script, args)


if __name__ == "__main__":
    from nnlab import parallel
    from nnlab.run import main as run_main  # the module, not this __main__ copy

    parallel.keep_freed_memory()
    sys.exit(run_main())
