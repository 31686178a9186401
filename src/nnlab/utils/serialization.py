"""`nnlab.save(obj, f)` and `nnlab.load(f)`: torch.save / torch.load with no pickle.

What can be saved: Tensors of any nnlab dtype (`requires_grad` kept; an `nn.Parameter`
comes back a Parameter), NumPy arrays and scalars, None, bool, int, float (nan and inf
too), complex, str, bytes, dtypes, devices, and lists, tuples, sets, dicts and OrderedDicts
of these, nested: a Module's or an optimizer's state_dict, or a checkpoint such as
`{'model': model.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 3, 'config': {...}}`,
and whole `nn.Module`s (`nnlab.save(model, f)`, torch's `torch.save(model, f)`): the module
tree with its classes' names, read back only from allowed classes (nnlab's own, or those
passed to `safe_globals([...])`; see `nnlab.utils.module_format`). Anything else (a lambda,
an instance of some other class) is a TypeError naming its type and where it is. Subclasses of
dict, list and tuple (other than OrderedDict) come back as the plain type. The same Tensor
object met twice is stored once and comes back one object; tensors that only shared memory
(views, `state_dict()` entries of tied weights) come back as separate copies.

The format (version 1; version 2 adds modules, see module_format): a zip archive in NumPy's
`.npz` layout, readable with `np.load(f, allow_pickle=False)`, so loading runs no code from
the file:

    __nnlab__.npy    the UTF-8 JSON document {"format": "nnlab.save", "version": 1,
                     "object": tree}, stored as a uint8 array
    arrays/<n>.npy   the n-th array (a tensor's values, a NumPy array or scalar, bytes)

In the tree, JSON's null, true / false, numbers, strings and lists stand for themselves
(an int stays an int, 1.0 stays a float), a dict whose keys are all strings is a JSON
object, and everything else is a one-key object naming its kind:

    {"__tuple__": [...]}            {"__set__": [...]}          {"__frozenset__": [...]}
    {"__dict__": [[key, value], ...]}     a dict with other keys (ints, tuples, ...)
    {"__odict__": [[key, value], ...]}    an OrderedDict
    {"__tensor__": {"array": "arrays/0", "requires_grad": false, "device": "cpu"}}
    {"__parameter__": {...the same...}}
    {"__ndarray__": "arrays/1"}     {"__npscalar__": "arrays/2"}   {"__bytes__": "arrays/3"}
    {"__float__": "nan"}            {"__complex__": [re, im]}
    {"__dtype__": "float32"}        {"__device__": "cuda:0"}

(a str-keyed dict with one key spelled as a tag is written in the `__dict__` form). A save
to a path is atomic (`nnlab.utils.io.atomic_write`): a temporary file in the same folder,
renamed over the target, so a failing save leaves an existing file as it was; everything
is encoded before the file is opened.

`nnlab.load` also reads files written by `torch.save` (the zip format, and the legacy
pre-1.6 one) without torch, through a restricted unpickler that refuses every global but
the few a checkpoint needs and so never runs code from the file (`nnlab.utils.torch_format`).
nnlab never calls `pickle.load` on a file: `weights_only=False` admits only a few more
plain-data types (NumPy arrays, argparse.Namespace), never arbitrary classes; nor does it
lift the allowlist of module classes in nnlab's own files.
"""
import collections
import io
import json
import math
import os
import pickle
import zipfile

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..nn.parameter import Parameter
from . import module_format
from .io import atomic_write
from .module_format import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

FORMAT = "nnlab.save"
VERSION = 2   # the newest version read; a file without modules is written as version 1
META = "__nnlab__"
_TAGS = ("__tuple__", "__set__", "__frozenset__", "__dict__", "__odict__", "__tensor__",
         "__parameter__", "__ndarray__", "__npscalar__", "__bytes__", "__float__",
         "__complex__", "__dtype__", "__device__", *module_format.TAGS)
__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "safe_globals"]


# -- saving -------------------------------------------------------------------------------------
def _host(array):
    """A numpy array from a numpy or cupy array."""
    return array.get() if backend.device_of(array) != "cpu" else np.asarray(array)


def _float(x):
    return x if math.isfinite(x) else {"__float__": repr(x)}


class _Encoder:
    """obj -> JSON tree, filling `arrays` ({entry name: numpy array})."""

    def __init__(self):
        self.arrays, self.seen, self.path = {}, {}, set()
        self.modules, self.version = {}, 1   # id(module) -> its index in the file
        self.modules_open = 0   # how many modules the value being encoded lies in

    def store(self, array, where):
        if array.dtype.kind == "O":
            raise TypeError(f"nnlab.save: {where} is a NumPy object array, which cannot be "
                            "saved without pickle")
        name = f"arrays/{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def items(self, mapping, where):
        return [[self(k, where), self(v, f"{where}[{k!r}]")] for k, v in mapping.items()]

    def __call__(self, obj, where="obj"):
        if obj is None or type(obj) in (bool, int, str):
            return obj
        if isinstance(obj, str):
            return str(obj)
        if type(obj) is float:
            return _float(obj)
        if isinstance(obj, Tensor):
            if id(obj) not in self.seen:  # the same object twice: one entry, one object
                kind = "__parameter__" if isinstance(obj, Parameter) else "__tensor__"
                self.seen[id(obj)] = (obj, {kind: {
                    "array": self.store(_host(obj._data), where),
                    "requires_grad": bool(obj.requires_grad), "device": str(obj.device)}})
            return self.seen[id(obj)][1]
        if isinstance(obj, Module):   # before the containers: a ModuleList is a module
            return module_format.encode(self, obj, where)
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self.store(obj, where)}
        if isinstance(obj, np.generic):
            return {"__npscalar__": self.store(np.asarray(obj), where)}
        if isinstance(obj, (bytes, bytearray)):
            return {"__bytes__": self.store(np.frombuffer(bytes(obj), np.uint8), where)}
        if isinstance(obj, (int, float)):  # subclasses other than bool
            return _float(float(obj)) if isinstance(obj, float) else int(obj)
        if isinstance(obj, complex):
            return {"__complex__": [_float(obj.real), _float(obj.imag)]}
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, backend.device):
            return {"__device__": str(obj)}
        if isinstance(obj, (list, tuple, set, frozenset, dict)):
            if id(obj) in self.path:
                raise ValueError(f"nnlab.save: {where} contains itself")
            self.path.add(id(obj))
            try:
                return self.container(obj, where)
            finally:
                self.path.discard(id(obj))
        node = module_format.encode(self, obj, where)
        if node is None:
            raise TypeError(_unsupported(obj, where))
        return node

    def container(self, obj, where):
        if isinstance(obj, list):
            return [self(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, (set, frozenset)):
            kind = "__frozenset__" if isinstance(obj, frozenset) else "__set__"
            return {kind: [self(v, f"{where} element") for v in obj]}
        if isinstance(obj, collections.OrderedDict):
            return {"__odict__": self.items(obj, where)}
        if all(type(k) is str for k in obj) and not (len(obj) == 1 and next(iter(obj)) in _TAGS):
            return {k: self(v, f"{where}[{k!r}]") for k, v in obj.items()}
        return {"__dict__": self.items(obj, where)}


def _unsupported(obj, where):
    kind = type(obj)
    name = f"{kind.__module__}.{kind.__qualname__}"
    hint = "save the plain values it holds instead, and rebuild the object in code"
    if callable(obj):
        what = f"a callable ({name})"
    else:
        what = f"an object of type {name}"
    return (f"nnlab.save: cannot save {where}, {what}: nnlab.save stores tensors, arrays, "
            f"numbers, strings, None, modules and lists, tuples, sets and dicts of them, "
            f"with no pickle; {hint}")


def save(obj, f):
    """Write `obj` (tensors, state_dicts, nested dicts / lists / tuples of them and plain
    values; see the module docstring) to `f`, a path (written atomically) or a binary
    file object, in nnlab's pickle-free format."""
    encoder = _Encoder()
    tree = encoder(obj)
    text = json.dumps({"format": FORMAT, "version": encoder.version, "object": tree},
                      allow_nan=False, separators=(",", ":"))
    arrays = {META: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **encoder.arrays}
    if isinstance(f, (str, bytes, os.PathLike)):
        atomic_write(f, lambda file: np.savez(file, **arrays))
    elif hasattr(f, "write"):
        np.savez(f, **arrays)
    else:
        raise TypeError(f"nnlab.save: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")


# -- loading ------------------------------------------------------------------------------------
def _placer(map_location):
    """place(tensor, location) -> the tensor on the device torch would restore it to.

    map_location as torch's: None (where it was saved), a device or its name, a dict
    {saved location: new location}, or a callable (array, location) -> array or None (None:
    where it was saved). A CUDA location where no GPU is available lands on the CPU (torch
    raises instead), so a GPU checkpoint loads on this CPU-only build as it is."""
    if not (map_location is None or callable(map_location)
            or isinstance(map_location, (str, backend.device, dict))):
        raise TypeError(f"nnlab.load: map_location must be None, a device, a string, a dict "
                        f"or a callable, got {type(map_location).__name__}")

    def resolve(location):
        if map_location is None:
            return location
        if isinstance(map_location, dict):
            return str(map_location.get(location, location))
        return str(map_location)

    def place(tensor, location):
        if callable(map_location) and not isinstance(map_location, backend.device):
            moved = map_location(tensor._data, location)
            if moved is None:
                where = location
            elif isinstance(moved, (np.ndarray, Tensor)):
                return moved if isinstance(moved, Tensor) else Tensor(moved)
            else:
                raise TypeError(f"nnlab.load: map_location returned {type(moved).__name__}; "
                                "expected an array, a Tensor or None")
        else:
            where = resolve(location)
        target = backend.device(where)
        if target.type == "cuda" and backend.cuda_available():  # pragma: no cover - GPU
            return tensor.to(target)
        if target.type not in ("cpu", "cuda"):
            raise RuntimeError(f"nnlab.load: cannot place a tensor on {where!r}: nnlab has "
                               "cpu and cuda devices")
        return tensor

    return place


def _decode(node, arrays, place, made):
    """JSON tree -> object; `made` keeps one Tensor per array entry."""
    if isinstance(node, list):
        return [_decode(v, arrays, place, made) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and next(iter(node)) in _TAGS:
        (tag, value), = node.items()
        return _decode_tagged(tag, value, arrays, place, made)
    return {k: _decode(v, arrays, place, made) for k, v in node.items()}


def _decode_tagged(tag, value, arrays, place, made):
    def sub(v):
        return _decode(v, arrays, place, made)

    if tag in module_format.TAGS:
        return module_format.decode(tag, value, sub, made)
    if tag in ("__tensor__", "__parameter__"):
        key = value["array"]
        if key not in made:
            t = place(Tensor(arrays[key]), value.get("device", "cpu"))
            if tag == "__parameter__":
                t = Parameter(t, requires_grad=bool(value["requires_grad"]))
            elif value["requires_grad"]:
                t.requires_grad_(True)
            made[key] = t
        return made[key]
    simple = {"__ndarray__": lambda: arrays[value], "__npscalar__": lambda: arrays[value][()],
              "__bytes__": lambda: arrays[value].tobytes(), "__float__": lambda: float(value),
              "__complex__": lambda: complex(*(sub(v) for v in value)),
              "__dtype__": lambda: np.dtype(value), "__device__": lambda: backend.device(value),
              "__tuple__": lambda: tuple(sub(v) for v in value),
              "__set__": lambda: {sub(v) for v in value},
              "__frozenset__": lambda: frozenset(sub(v) for v in value),
              "__dict__": lambda: {sub(k): sub(v) for k, v in value},
              "__odict__": lambda: collections.OrderedDict((sub(k), sub(v)) for k, v in value)}
    return simple[tag]()


def _load_nnlab(file, name, place):
    try:
        with np.load(file, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT or not isinstance(meta.get("version"), int):
            raise ValueError(f"no {FORMAT!r} header")
        if meta["version"] > VERSION:
            raise ValueError(f"format version {meta['version']}; this nnlab reads up to "
                             f"version {VERSION}")
        return _decode(meta["object"], arrays, place, {})
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError, OSError, EOFError,
            UnicodeDecodeError) as e:
        raise pickle.UnpicklingError(f"nnlab.load: {name} is a damaged nnlab.save file "
                                     f"({type(e).__name__}: {e})") from e


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Read an object written by `nnlab.save`, or by `torch.save` (without torch, running
    no code from the file). `f` is a path or a binary file object; map_location as torch's
    (see `_placer`: on a CPU-only build everything lands on the CPU). `weights_only=False`
    admits a few more plain-data types in torch files (NumPy arrays, argparse.Namespace),
    never arbitrary classes, and does not lift the allowlist of module classes (a file
    holding a user's Module subclass loads only within `safe_globals([TheClass])`); `mmap`
    is accepted and ignored (the file is read); of `pickle_load_args` only `encoding` and
    `errors` (for files from Python 2) are taken."""
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("nnlab.load: pickle_module is not supported (nnlab never unpickles "
                        "with a caller's module)")
    unknown = set(pickle_load_args) - {"encoding", "errors"}
    if unknown:
        raise TypeError(f"nnlab.load: unexpected keyword argument(s) {sorted(unknown)}")
    place = _placer(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        name = os.fsdecode(f)
        with open(f, "rb") as file:
            return _load_file(file, name, place, weights_only, pickle_load_args)
    if not hasattr(f, "read"):
        raise TypeError(f"nnlab.load: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    name = getattr(f, "name", "the file object")
    seekable = getattr(f, "seekable", lambda: False)()
    return _load_file(f if seekable else io.BytesIO(f.read()), name, place, weights_only,
                      pickle_load_args)


def _load_file(file, name, place, weights_only, pickle_args):
    from . import torch_format
    start = file.tell()
    head = file.read(512)
    file.seek(start)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
                if f"{META}.npy" not in names:
                    if not any(n.endswith("/data.pkl") for n in names):
                        raise pickle.UnpicklingError(
                            f"nnlab.load: {name} is a zip archive but neither an nnlab.save "
                            f"file (no {META}.npy) nor a torch.save file (no data.pkl); "
                            "an nnlab training checkpoint is read by "
                            "nnlab.train.load_checkpoint")
                    return torch_format.load_zip(archive, place, weights_only, **pickle_args)
        except zipfile.BadZipFile as e:
            raise pickle.UnpicklingError(f"nnlab.load: {name} is a damaged zip archive "
                                         f"({e})") from e
        file.seek(start)
        return _load_nnlab(file, name, place)
    if torch_format.is_legacy(head):
        try:
            return torch_format.load_legacy(file, place, weights_only, **pickle_args)
        except EOFError as e:
            raise pickle.UnpicklingError(f"nnlab.load: {name} is a truncated legacy torch "
                                         "file") from e
    if head[257:262] == b"ustar":
        raise pickle.UnpicklingError(f"nnlab.load: {name} is in torch's pre-1.0 tar format, "
                                     "which nnlab does not read; re-save it with a newer torch")
    raise pickle.UnpicklingError(
        f"nnlab.load: {name} is not a file written by nnlab.save or torch.save: it starts "
        f"with {head[:16]!r}, expected a zip archive (b'PK\\x03\\x04') or a legacy torch "
        "pickle (b'\\x80\\x02')")
