"""Reading files written by `torch.save`, without torch and without running code from them.

A torch file is a pickle. Unpickling runs whatever callables the pickle names, so an
ordinary `pickle.load` of a downloaded checkpoint can run `os.system`. This reader unpickles
with `SafeUnpickler`, a restricted `pickle` unpickler:

- `find_class` admits only the globals that tensors, state_dicts and checkpoints need, and
  maps each to nnlab's own stand-in: torch's tensor rebuilders (`torch._utils.
  _rebuild_tensor_v2`, `_rebuild_parameter`, ...) to functions here that build nnlab
  Tensors from NumPy arrays; `torch.FloatStorage` and the other storage types to their
  dtypes; `torch.float32` and friends to nnlab dtypes; `torch.Size` to `tuple`;
  `torch.device` to `nnlab.device`; `collections.OrderedDict`, `set`, `frozenset`, `complex`,
  `slice`, `bytearray` and `_codecs.encode` (how protocol 2 spells `bytes`). Any other
  global (`os.system`, `builtins.eval`, `subprocess.Popen`, a user's class) is refused with
  `UnsafeGlobalError` naming it, before anything is called. With `weights_only=False` a few
  more plain-data types pass: NumPy arrays, scalars and dtypes, `argparse.Namespace`.
- BUILD (setting an object's state) is allowed only on OrderedDicts (torch keeps
  `_metadata` there) and, with `weights_only=False`, the NumPy and Namespace objects above.
- `persistent_load` answers torch's storage records with `Storage`s read from the file.

The zip format (torch >= 1.6): `<name>/data.pkl` (the pickle), `<name>/data/<key>` (each
storage's raw bytes), `<name>/byteorder` ('little' or 'big'; absent: little),
`<name>/version`. A storage record is ('storage', storage type, key, location, numel).
The legacy format (torch < 1.6): five pickles in a row (magic number, protocol version
1001, system info, the object, the list of storage keys) and then each storage as an
int64 element count followed by its bytes. torch's pre-1.0 tar format is not read.

A tensor is rebuilt from (storage, offset, size, stride) after checking that every element
it reaches lies inside its storage, and is copied so that it owns its memory (tensors that
shared a storage in torch do not share memory after loading). NumPy has no bfloat16:
bfloat16 tensors load as float32 (exactly: every bfloat16 is a float32).
"""
import _compat_pickle
import collections
import io
import pickle

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class UnsafeGlobalError(pickle.UnpicklingError):
    """A file that names a global (a function or class) nnlab does not load."""


class Storage:
    """A torch storage read from a file: its raw bytes, the dtype torch recorded, the byte
    order of the file and the location it was saved from ('cpu', 'cuda:0')."""

    def __init__(self, raw, dtype, byteorder, location, place=None):
        self.raw, self.dtype, self.byteorder, self.location = raw, dtype, byteorder, location
        self._place = place

    def place(self, tensor):
        """`tensor` (built from this storage) on the device its location maps to."""
        return tensor if self._place is None else self._place(tensor, self.location)

    def typed(self, dtype=None):
        """The storage as a 1-D native-order array of `dtype` (default: its own)."""
        dtype = self.dtype if dtype is None else dtype
        if dtype == "bfloat16":  # the high 16 bits of a float32
            bits = self.typed(np.dtype(np.uint16)).astype(np.uint32) << 16
            return bits.view(np.float32)
        dtype = np.dtype(dtype)
        if len(self.raw) % dtype.itemsize:
            raise pickle.UnpicklingError(f"nnlab.load: a storage of {len(self.raw)} bytes "
                                         f"does not hold whole {dtype} elements")
        order = "<" if self.byteorder == "little" else ">"
        array = np.frombuffer(self.raw, dtype=dtype.newbyteorder(order))
        return array if array.dtype.isnative else array.astype(dtype)


# -- the stand-ins for torch's rebuild functions ------------------------------------------------
def _strided(storage, offset, size, stride, dtype=None):
    """A copy of the elements at storage[offset + sum(i_k stride_k)] for every index i of
    `size`, after checking that each lies inside the storage."""
    flat = storage.typed(dtype)
    size, stride = tuple(size), tuple(stride)
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (offset, *size, *stride))
    if not ints or len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise pickle.UnpicklingError(f"nnlab.load: invalid tensor layout: offset {offset!r}, "
                                     f"size {size!r}, stride {stride!r}")
    if 0 in size:
        return np.zeros(size, dtype=flat.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= len(flat):
        raise pickle.UnpicklingError(f"nnlab.load: a tensor of size {size}, stride {stride} "
                                     f"at offset {offset} reaches element {last} of a storage "
                                     f"of {len(flat)}")
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size, writeable=False,
                                           strides=[s * flat.itemsize for s in stride])
    return np.array(view)


def _check_storage(storage, where):
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError(f"nnlab.load: {where} expected a storage, got "
                                     f"{type(storage).__name__}")
    return storage


def _tensor(array, storage, requires_grad):
    t = storage.place(Tensor(array))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    storage = _check_storage(storage, "_rebuild_tensor")
    return _tensor(_strided(storage, storage_offset, size, stride), storage, False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    storage = _check_storage(storage, "_rebuild_tensor_v2")
    return _tensor(_strided(storage, storage_offset, size, stride), storage,
                   bool(requires_grad))


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    storage = _check_storage(storage, "_rebuild_tensor_v3")
    if not isinstance(dtype, np.dtype) and dtype != "bfloat16":
        raise pickle.UnpicklingError(f"nnlab.load: _rebuild_tensor_v3 expected a dtype, got "
                                     f"{dtype!r}")
    return _tensor(_strided(storage, storage_offset, size, stride, dtype), storage,
                   bool(requires_grad))


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"nnlab.load: _rebuild_parameter expected a tensor, got "
                                     f"{type(data).__name__}")
    return Parameter(data, requires_grad=bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    _no_state(state, "a Parameter")
    return _rebuild_parameter(data, requires_grad)


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch's route for tensor subclasses and tensors with attributes: func(*args) made an
    instance of new_type (Tensor or Parameter here) with `state` as attributes."""
    if not any(func is f for f in _REBUILDERS) or new_type not in (Tensor, Parameter):
        raise pickle.UnpicklingError(f"nnlab.load: _rebuild_from_type_v2 of {new_type!r} by "
                                     f"{func!r} is not supported")
    _no_state(state, new_type.__name__)
    t = func(*args)
    if new_type is Parameter and not isinstance(t, Parameter):
        t = Parameter(t, requires_grad=t.requires_grad)
    return t


def _no_state(state, what):
    if state and not (isinstance(state, tuple) and not any(state)):
        raise pickle.UnpicklingError(f"nnlab.load: {what} saved with Python attributes "
                                     f"({state!r}) is not supported")


def _bytes(text, encoding="latin1"):
    """`_codecs.encode` as protocol 2 uses it for bytes: text.encode('latin1') only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"nnlab.load: _codecs.encode({text!r}, {encoding!r}) "
                                     "is not a pickled bytes object")
    return text.encode("latin1")


_REBUILDERS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state)

# torch's storage classes -> the dtype of their elements
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64,
    "ComplexDoubleStorage": np.complex128, "UntypedStorage": np.uint8,
}
# torch's dtype names -> nnlab's
_DTYPE_NAMES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64,
    "int32": np.int32, "int": np.int32, "int16": np.int16, "short": np.int16,
    "int8": np.int8, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "bool": np.bool_, "complex64": np.complex64,
    "cfloat": np.complex64, "complex128": np.complex128, "cdouble": np.complex128,
}


class StorageType:
    """What `torch.FloatStorage` and the other storage classes stand for here: a dtype."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype if dtype == "bfloat16" else np.dtype(dtype)


def _allowed_globals():
    """{(module, name): the object nnlab gives for it} for a weights-only load."""
    table = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "Counter"): collections.Counter,
        ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex, ("builtins", "slice"): slice,
        ("builtins", "bytearray"): bytearray, ("_codecs", "encode"): _bytes,
        ("torch", "Size"): tuple, ("torch", "device"): backend.device,
        ("torch", "Tensor"): Tensor, ("torch.nn.parameter", "Parameter"): Parameter,
        ("torch.nn", "Parameter"): Parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "bfloat16"): backend.bfloat16,
    }
    for f in _REBUILDERS:
        table["torch._utils", f.__name__] = f
    for name, dtype in _STORAGE_DTYPES.items():
        for module in ("torch", "torch.cuda", "torch.storage"):
            table[module, name] = StorageType(dtype)
    for name, dtype in _DTYPE_NAMES.items():
        table["torch", name] = np.dtype(dtype)
    return table


def _data_globals():
    """The plain-data types that `weights_only=False` adds: NumPy arrays, scalars, dtypes
    and argparse.Namespace (common in research checkpoints). No callable that runs code."""
    import argparse
    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
             ("argparse", "Namespace"): argparse.Namespace}
    multiarray = (getattr(np, "_core", None) or np.core).multiarray
    for core in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[core, "_reconstruct"] = multiarray._reconstruct
        table[core, "scalar"] = multiarray.scalar
    return table


class SafeUnpickler(pickle._Unpickler):
    """pickle's own (pure-Python) unpickler with `find_class` and BUILD restricted, and
    storages answered by `persistent_load` (see the module docstring).

    `storages(record)` returns the Storage for a persistent id; `dry=True` rebuilds no
    tensors (every rebuilder returns None): the legacy reader's first pass, which only
    learns each storage's dtype."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, storages, weights_only=True, dry=False, **kwargs):
        super().__init__(file, **kwargs)
        self.storages, self.dry = storages, dry
        self.allowed = _allowed_globals()
        self.buildable = (collections.OrderedDict,)
        if not weights_only:
            self.allowed.update(_data_globals())
            self.buildable += (np.ndarray, np.dtype, self.allowed["argparse", "Namespace"])

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:  # Python 2 names, as pickle maps them
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[module, name]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = self.allowed.get((module, name))
        if found is None:
            raise UnsafeGlobalError(
                f"nnlab.load: refused to load the global '{module}.{name}': nnlab loads only "
                "tensors, storages, dtypes, OrderedDicts and plain Python values (and never "
                "imports or calls what a file names). If the file is a whole pickled object, "
                "save its state_dict() instead.")
        if self.dry and any(found is f for f in (*_REBUILDERS, _rebuild_from_type_v2)):
            return _dry
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], StorageType) and isinstance(pid[2], str)):
            raise pickle.UnpicklingError(f"nnlab.load: unsupported persistent record {pid!r} "
                                         "(expected ('storage', storage type, key, location, "
                                         "numel))")
        return self.storages(pid)

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if not isinstance(inst, self.buildable):
            raise pickle.UnpicklingError(f"nnlab.load: refused to set the state of a "
                                         f"{type(inst).__name__} object")
        if hasattr(inst, "__setstate__") and not isinstance(inst, collections.OrderedDict):
            inst.__setstate__(state)
            return
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
            if slots:
                raise pickle.UnpicklingError("nnlab.load: refused to set slot attributes")
        if state:
            if not (isinstance(state, dict) and all(isinstance(k, str) for k in state)):
                raise pickle.UnpicklingError(f"nnlab.load: invalid object state {state!r}")
            inst.__dict__.update(state)

    dispatch[pickle.BUILD[0]] = load_build


def _dry(*args):
    return None


# -- the two file layouts -----------------------------------------------------------------------
def is_legacy(head):
    """Whether a file's first bytes start a legacy torch file (a protocol-2 pickle)."""
    return head[:2] == b"\x80\x02"


def load_zip(archive, place, weights_only=True, **pickle_args):
    """The object in a torch zip archive (a zipfile.ZipFile). `place(tensor, location)`
    puts each tensor on its device."""
    names = archive.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        raise pickle.UnpicklingError("nnlab.load: a zip archive without data.pkl is not a "
                                     "torch checkpoint")
    prefix = pkl[0][: -len("data.pkl")]
    byteorder = "little"
    if prefix + "byteorder" in names:
        byteorder = archive.read(prefix + "byteorder").decode("ascii").strip()
        if byteorder not in ("little", "big"):
            raise pickle.UnpicklingError(f"nnlab.load: unknown byteorder {byteorder!r}")
    cache = {}

    def storage(pid):
        _, kind, key, location, numel = pid[:5]
        if key not in cache:
            entry = f"{prefix}data/{key}"
            if entry not in names:
                raise pickle.UnpicklingError(f"nnlab.load: the storage {entry} is missing")
            raw = archive.read(entry)
            itemsize = 2 if kind.dtype == "bfloat16" else kind.dtype.itemsize
            if isinstance(numel, int) and len(raw) < numel * itemsize:
                raise pickle.UnpicklingError(f"nnlab.load: the storage {entry} has "
                                             f"{len(raw)} bytes, expected {numel * itemsize}")
            cache[key] = Storage(raw, kind.dtype, byteorder, location, place)
        return cache[key]

    with archive.open(pkl[0]) as f:
        return SafeUnpickler(io.BytesIO(f.read()), storage, weights_only,
                             **pickle_args).load()


def load_legacy(f, place, weights_only=True, **pickle_args):
    """The object in a legacy (pre-1.6) torch file: a seekable binary file object."""
    def plain():
        return SafeUnpickler(f, _no_storages, weights_only=True, **pickle_args).load()

    if plain() != LEGACY_MAGIC:
        raise pickle.UnpicklingError("nnlab.load: a pickle that is not a torch checkpoint "
                                     "(no torch magic number)")
    if plain() != LEGACY_PROTOCOL:
        raise pickle.UnpicklingError(f"nnlab.load: legacy torch protocol other than "
                                     f"{LEGACY_PROTOCOL}")
    info = plain()
    byteorder = "little" if not isinstance(info, dict) or info.get("little_endian", True) \
        else "big"
    start, kinds = f.tell(), {}

    def record(pid):
        kinds[pid[2]] = pid[1].dtype

    SafeUnpickler(f, record, weights_only, dry=True, **pickle_args).load()
    keys = plain()
    roots = {}
    for key in keys:
        if key not in kinds:
            raise pickle.UnpicklingError(f"nnlab.load: storage {key!r} has no record")
        numel = int.from_bytes(f.read(8), byteorder, signed=True)
        itemsize = 2 if kinds[key] == "bfloat16" else kinds[key].itemsize
        raw = f.read(numel * itemsize)
        if numel < 0 or len(raw) != numel * itemsize:
            raise pickle.UnpicklingError(f"nnlab.load: storage {key!r} is truncated")
        roots[key] = raw

    def storage(pid):
        _, kind, key, location, numel = pid[:5]
        itemsize = 2 if kind.dtype == "bfloat16" else kind.dtype.itemsize
        raw = roots[key]
        view = pid[5] if len(pid) > 5 else None
        if view is not None:  # (view key, offset, size) of an old storage view
            _, offset, size = view
            raw = raw[offset * itemsize:(offset + size) * itemsize]
        return Storage(raw, kind.dtype, byteorder, location, place)

    end = f.tell()
    f.seek(start)
    result = SafeUnpickler(f, storage, weights_only, **pickle_args).load()
    f.seek(end)
    return result


def _no_storages(pid):
    raise pickle.UnpicklingError("nnlab.load: a storage where none is expected")
