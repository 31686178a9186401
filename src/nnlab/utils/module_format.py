"""Whole `nn.Module`s in `nnlab.save` files, and the allowlist that `nnlab.load` rebuilds
them from: torch's `torch.save(model, f)` / `torch.load(f)` contract without pickle.

A module is stored as its class's name and its attribute dict, `vars(module)` in order
(parameters, buffers and children are attributes in nnlab: see nn/module.py), each value
encoded as any other saved value: numbers, strings, None, bools, dtypes, devices, tensors
(a Parameter held twice, a tied weight, comes back one object), lists / tuples / sets /
dicts of them, and modules. Format version 2 adds three tags to version 1's:

    {"__module__": {"class": ["pkg.mod", "QualName"], "state": [[attribute, value], ...]}}
    {"__module_ref__": n}              the n-th module met before (a module held twice)
    {"__global__": ["pkg.mod", "name"]}  a class or function held as an attribute
                                         (TransformerEncoderLayer's `activation = F.relu`)

A function held by a module is stored by name when it can be found by name (no lambda, no
nested function; outside a module, a function is refused as in version 1); anything else
(an open file, an instance of a plain class, a hook closure) makes `nnlab.save` fail naming
the attribute path, e.g. `obj.encoder._forward_hooks[0]`.

Loading: a name from the file is turned into an object only if it is allowed: a Module
class defined in `nnlab.nn` or `nnlab.models`, a function of `nnlab.nn.functional`, or an
object passed to `safe_globals([...])` / `add_safe_globals([...])` (torch.serialization's
names). An allowlisted name is matched against the objects given, so no module named in the
file is ever imported for it; only nnlab's own modules are imported (to find nnlab's
classes). The instance is made with `cls.__new__(cls)` and its attribute dict restored
(`__setstate__(state)` where the class defines one), as pickle would, but `__init__` is not
called and no other code from the file runs. `weights_only=False` does not lift the
allowlist: nnlab has no unrestricted load.
"""
import contextlib
import importlib
import inspect
import pickle
import sys
import types

from ..nn.module import Module

TAGS = ("__module__", "__module_ref__", "__global__")
_DEFAULT_PACKAGES = {"module": ("nnlab.nn", "nnlab.models"), "global": ("nnlab.nn.functional",)}
_safe = []   # [(object, "module.qualname")], as torch.serialization's allowlist


# -- the allowlist ------------------------------------------------------------------------------
def _full_name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals):
    """Allow these classes and functions (or `(object, "module.qualname")` pairs) in files
    that `nnlab.load` reads, for the rest of the process."""
    for item in safe_globals:
        obj, name = item if isinstance(item, tuple) else (item, None)
        if not (inspect.isclass(obj) or callable(obj)) or not hasattr(obj, "__qualname__"):
            raise TypeError(f"add_safe_globals: expected classes or functions, got "
                            f"{type(obj).__name__}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"add_safe_globals: a pair's name must be a str, got "
                            f"{type(name).__name__}")
        _safe.append((obj, name or _full_name(obj)))


def get_safe_globals():
    """The objects allowed by `add_safe_globals` / `safe_globals`, in the order given."""
    return [obj if name == _full_name(obj) else (obj, name) for obj, name in _safe]


def clear_safe_globals():
    """Forget every object allowed by `add_safe_globals`."""
    _safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Allow these classes and functions within the block (as `add_safe_globals`)."""
    before = list(_safe)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe[:] = before


# -- saving -------------------------------------------------------------------------------------
def _named(obj):
    """Whether `obj` is found again by importing its module and walking its qualname."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    qualname = getattr(obj, "__qualname__", "")
    if module is None or not qualname or "<" in qualname:
        return False
    found = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is obj


def encode(encoder, obj, where):
    """The JSON node for a module, or a named class or function inside one; None for
    anything else."""
    if isinstance(obj, Module):
        return _encode_module(encoder, obj, where)
    if not encoder.modules_open:   # outside a module a function stays unsaveable, as in v1
        return None
    if inspect.isclass(obj) or isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        if not _named(obj):
            raise TypeError(f"nnlab.save: cannot save {where}, a callable "
                            f"({getattr(obj, '__qualname__', type(obj).__name__)}) that cannot "
                            "be found by name (a lambda or a nested function): nnlab.save "
                            "stores no code; use a function defined at a module's top level")
        encoder.version = 2
        return {"__global__": [obj.__module__, obj.__qualname__]}
    return None


def _encode_module(encoder, module, where):
    if id(module) in encoder.modules:
        return {"__module_ref__": encoder.modules[id(module)]}
    cls = type(module)
    if not _named(cls):
        raise TypeError(f"nnlab.save: cannot save {where}, a {cls.__qualname__}: its class "
                        "cannot be found by name (defined inside a function?), so it could "
                        "not be rebuilt; define the class at a module's top level")
    encoder.modules[id(module)] = len(encoder.modules)
    encoder.version = 2
    encoder.modules_open += 1
    try:
        state = [[name, encoder(value, f"{where}.{name}")]
                 for name, value in vars(module).items()]
    finally:
        encoder.modules_open -= 1
    return {"__module__": {"class": [cls.__module__, cls.__qualname__], "state": state}}


# -- loading ------------------------------------------------------------------------------------
def _refused(full):
    return pickle.UnpicklingError(
        f"nnlab.load: the file holds a <{full}>, which is not allowed; if you trust it, pass "
        f"it to nnlab.utils.serialization.safe_globals([...]) (weights_only=False does not "
        f"lift this: nnlab runs no code from a file it was not told to trust)")


def _default(module_name, qualname, kind):
    """nnlab's own class or function of that name, or None; imports only nnlab modules."""
    if not any(module_name == p or module_name.startswith(p + ".")
               for p in _DEFAULT_PACKAGES[kind]):
        return None
    if not all(part.isidentifier() for part in module_name.split(".")):
        return None
    try:
        found = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is None or getattr(found, "__module__", None) != module_name \
            or getattr(found, "__qualname__", None) != qualname:
        return None
    if kind == "module":
        return found if inspect.isclass(found) and issubclass(found, Module) else None
    return found if isinstance(found, types.FunctionType) else None


def resolve(pair, kind):
    """The allowed object named `[module, qualname]` in the file, else UnpicklingError."""
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise TypeError(f"a class name must be [module, qualname], got {pair!r}")
    module_name, qualname = pair
    full = f"{module_name}.{qualname}"
    given = [obj for obj, name in _safe if name == full]   # nothing named here is imported
    obj = given[-1] if given else _default(module_name, qualname, kind)
    if obj is None:
        raise _refused(full)
    if kind == "module" and not (inspect.isclass(obj) and issubclass(obj, Module)):
        raise pickle.UnpicklingError(f"nnlab.load: the file holds {full} as a module, but "
                                     "the allowed object of that name is not an nn.Module "
                                     "class")
    return obj


def decode(tag, value, sub, made):
    """The object for a version-2 tag; `sub` decodes a child node, `made` is the load's
    memo (its "modules" entry lists the modules rebuilt so far)."""
    modules = made.setdefault("modules", [])
    if tag == "__global__":
        return resolve(value, "global")
    if tag == "__module_ref__":
        if not (type(value) is int and 0 <= value < len(modules)):
            raise ValueError(f"module reference {value!r} names no earlier module")
        return modules[value]
    cls = resolve(value["class"], "module")
    module = cls.__new__(cls)
    modules.append(module)   # before the attributes: a child may refer back to it
    state = {}
    for name, node in value["state"]:
        if not isinstance(name, str):
            raise TypeError(f"an attribute name must be a str, got {name!r}")
        state[name] = sub(node)
    setstate = getattr(cls, "__setstate__", None)   # the class's, not a __getattr__ answer
    if setstate is not None:
        setstate(module, state)
    else:
        module.__dict__.update(state)
    return module
