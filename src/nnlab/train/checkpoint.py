"""Checkpoint files: everything needed to resume training exactly, in one `.npz`.

A checkpoint holds the model's state_dict, the optimizer's and the schedulers' state_dicts,
the epoch and step counts, nnlab's RNG state and the DataLoader generator's state, plus any
JSON-able `extra` (the trainer stores its History and callback states there).

Format: a NumPy `.npz` (a zip of `.npy` files) holding only numeric arrays, written with no
pickling and read with `np.load(..., allow_pickle=False)`, so loading never runs code from
the file. Array entries are `model/<state_dict key>` and `state/<n>`; the entry `__meta__`
is the UTF-8 JSON metadata as a uint8 array. In the JSON, nested state_dicts are plain
objects where keys are strings, with tagged objects for what JSON lacks:

    {"__array__": "state/3"}     a numpy array stored in the npz
    {"__tensor__": "state/4"}    an nnlab Tensor (its array stored in the npz)
    {"__scalar__": "state/5"}    a numpy scalar (stored as a 0-d array)
    {"__tuple__": [...]}         a tuple
    {"__dict__": [[k, v], ...]}  a dict with non-string keys (optimizer state by index)
    {"__float__": "nan"}         nan, inf, -inf (so the JSON stays standard)

Writes are atomic (`nnlab.utils.io.atomic_write`): the file is written to a temporary file
in the same folder, flushed and fsynced, then renamed over the target with `os.replace`; a
failure part way leaves the old file as it was. A truncated or corrupt file raises
`CheckpointError` naming it, before anything (model, optimizer, RNG) is changed; a file that
is no nnlab checkpoint at all (text, a pickle, another program's .npz) raises its subclass
`NotACheckpointError`.
"""
import json
import math
import os
import zipfile
import zlib

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..utils.io import atomic_write

FORMAT = "nnlab-checkpoint"
VERSION = 1
_TAGS = ("__array__", "__tensor__", "__scalar__", "__tuple__", "__dict__", "__float__")


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read or does not fit what it is loaded into."""


class NotACheckpointError(CheckpointError):
    """A file that is not an nnlab checkpoint at all (not a zip archive, or one without
    nnlab's metadata), as opposed to a damaged one."""


_ZIP_MAGIC = b"PK\x03\x04"


# -- encoding nested state as JSON plus arrays -------------------------------------------------
def _host(a):
    """A numpy array from a numpy or cupy array."""
    return a.get() if backend.device_of(a) != "cpu" else np.asarray(a)


class _Encoder:
    def __init__(self, arrays):
        self.arrays = arrays

    def _store(self, array, where):
        if array.dtype.kind == "O":
            raise TypeError(f"checkpoint: {where} is an object array, which cannot be saved "
                            "without pickling")
        key = f"state/{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def __call__(self, obj, where="state"):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, Tensor):
            return {"__tensor__": self._store(_host(obj._data), where)}
        if isinstance(obj, np.generic):
            return {"__scalar__": self._store(np.asarray(obj), where)}
        if hasattr(obj, "__array_interface__") or hasattr(obj, "__cuda_array_interface__"):
            return {"__array__": self._store(_host(obj), where)}
        if isinstance(obj, tuple):
            return {"__tuple__": [self(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if all(isinstance(k, str) and k not in _TAGS for k in obj):
                return {k: self(v, f"{where}[{k!r}]") for k, v in obj.items()}
            return {"__dict__": [[self(k, where), self(v, f"{where}[{k!r}]")]
                                 for k, v in obj.items()]}
        raise TypeError(f"checkpoint: cannot save {where} of type {type(obj).__name__} "
                        "(expected arrays, tensors, numbers, strings, lists, tuples, dicts)")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag == "__array__":
            return arrays[value]
        if tag == "__tensor__":
            return Tensor(arrays[value])
        if tag == "__scalar__":
            return arrays[value][()]
        if tag == "__tuple__":
            return tuple(_decode(v, arrays) for v in value)
        if tag == "__dict__":
            return {_decode(k, arrays): _decode(v, arrays) for k, v in value}
        if tag == "__float__":
            return float(value)
    return {k: _decode(v, arrays) for k, v in obj.items()}


# -- generators -------------------------------------------------------------------------------
def loader_generator(loader):
    """The random generator a DataLoader shuffles with, or None (then it draws from nnlab's
    global generator, whose state is saved anyway)."""
    if loader is None:
        return None
    gen = getattr(loader, "generator", None)
    sampler = getattr(loader, "sampler", None)
    if gen is None and getattr(sampler, "generator", None) is not None:
        if hasattr(sampler, "_rng"):   # nnlab's sampler: the Generator it draws from
            return sampler._rng(type(sampler).__name__)
        gen = sampler.generator
    if gen is not None and not (hasattr(gen, "bit_generator") or hasattr(gen, "get_state")):
        # an int seed: nnlab's DataLoader keeps the Generator it made from it in _rng
        gen = getattr(loader, "_rng", None)
    return gen


def generator_state(gen):
    """The state of a numpy Generator, or of an object with get_state()."""
    if gen is None:
        return None
    if hasattr(gen, "bit_generator"):
        return gen.bit_generator.state
    if hasattr(gen, "get_state"):
        return gen.get_state()
    raise TypeError(f"checkpoint: cannot read the state of a {type(gen).__name__} generator "
                    "(expected a numpy Generator or an object with get_state/set_state)")


def set_generator_state(gen, state):
    if hasattr(gen, "bit_generator"):
        gen.bit_generator.state = state
    else:
        gen.set_state(state)


# -- saving and loading -------------------------------------------------------------------------
def _as_list(schedulers):
    if schedulers is None:
        return []
    return list(schedulers) if isinstance(schedulers, (list, tuple)) else [schedulers]


def save_checkpoint(path, model, optimizer=None, schedulers=None, *, epoch=0, step=0,
                    loader=None, extra=None):
    """Write model, optimizer, scheduler(s), epoch, step, RNG states and `extra` to `path`
    (an .npz), atomically. Returns the path."""
    arrays = {}
    encode = _Encoder(arrays)
    model_keys = []
    for key, value in model.state_dict().items():
        arrays[f"model/{key}"] = _host(value._data)
        model_keys.append(key)
    meta = {
        "format": FORMAT, "version": VERSION, "epoch": int(epoch), "step": int(step),
        "model": model_keys,
        "optimizer": None if optimizer is None else encode(optimizer.state_dict(), "optimizer"),
        "schedulers": [encode(s.state_dict(), f"scheduler {i}")
                       for i, s in enumerate(_as_list(schedulers))],
        "rng": encode(backend.get_rng_state(), "rng"),
        "loader_generator": encode(generator_state(loader_generator(loader)), "loader"),
        "extra": encode(extra, "extra"),
    }
    text = json.dumps(meta, allow_nan=False)
    arrays["__meta__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))
    return os.fspath(path)


class Checkpoint:
    """A checkpoint read into memory: `epoch`, `step`, `model_state` (name -> array),
    `optimizer_state`, `scheduler_states`, `rng_state`, `loader_state`, `extra`."""

    def __init__(self, path, meta, arrays):
        self.path = os.fspath(path)
        self.epoch, self.step = meta["epoch"], meta["step"]
        self.model_state = {k: arrays[f"model/{k}"] for k in meta["model"]}
        self.optimizer_state = _decode(meta["optimizer"], arrays)
        self.scheduler_states = [_decode(s, arrays) for s in meta["schedulers"]]
        self.rng_state = _decode(meta["rng"], arrays)
        self.loader_state = _decode(meta["loader_generator"], arrays)
        self.extra = _decode(meta["extra"], arrays)


def _not_a_checkpoint(path, why):
    return NotACheckpointError(f"{path} is not an nnlab checkpoint (.npz): {why}; expected a "
                               "file written by nnlab train, ModelCheckpoint or "
                               "save_checkpoint (such as RUN_DIR/last.npz)")


def read_checkpoint(path):
    """Read and check a checkpoint file without applying it; raises CheckpointError
    (NotACheckpointError for a file that is no nnlab checkpoint at all)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise CheckpointError(f"checkpoint {path} cannot be read ({e})") from e
    if head and not head.startswith(_ZIP_MAGIC):
        raise _not_a_checkpoint(path, f"it starts with {head!r}, not as a zip archive does "
                                "(b'PK\\x03\\x04')")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, zlib.error, ValueError, KeyError, TypeError, OSError,
            EOFError) as e:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt and was not loaded "
                              f"({type(e).__name__}: {e})") from e
    if "__meta__" not in arrays:
        raise _not_a_checkpoint(path, f"a zip archive of {len(arrays)} arrays without nnlab's "
                                "__meta__ entry")
    try:
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"no {FORMAT!r} metadata")
        if meta.get("version") != VERSION:
            raise ValueError(f"format version {meta.get('version')}, this nnlab reads "
                             f"version {VERSION}")
        return Checkpoint(path, meta, arrays)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt and was not loaded "
                              f"({type(e).__name__}: {e})") from e


def _check_model(ckpt, model):
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    saved = {k: tuple(v.shape) for k, v in ckpt.model_state.items()}
    problems = []
    if missing := [k for k in own if k not in saved]:
        problems.append(f"missing keys {missing}")
    if unexpected := [k for k in saved if k not in own]:
        problems.append(f"unexpected keys {unexpected}")
    problems += [f"{k}: shape {saved[k]} in the file, {own[k]} in the model"
                 for k in own if k in saved and saved[k] != own[k]]
    if problems:
        raise CheckpointError(f"checkpoint {ckpt.path} does not fit {type(model).__name__}: "
                              + "; ".join(problems))


def _check_optimizer(ckpt, optimizer):
    state = ckpt.optimizer_state
    if state is None:
        raise CheckpointError(f"checkpoint {ckpt.path} holds no optimizer state")
    saved = [len(g["params"]) for g in state["param_groups"]]
    own = [len(g["params"]) for g in optimizer.param_groups]
    if saved != own:
        raise CheckpointError(f"checkpoint {ckpt.path}: its optimizer has parameter groups "
                              f"of sizes {saved}, this {type(optimizer).__name__} has {own}")
    # another optimizer's settings (SGD's momentum where Adam wants amsgrad) would load and
    # then fail at the first step; the settings' names tell the optimizers apart
    ignored = {"params", "initial_lr"}
    saved_keys = sorted(set(state["param_groups"][0]) - ignored) if saved else []
    own_keys = sorted(set(optimizer.param_groups[0]) - ignored) if own else []
    if saved_keys != own_keys:
        raise CheckpointError(f"checkpoint {ckpt.path} holds the state of another optimizer: "
                              f"its settings are {saved_keys}, this "
                              f"{type(optimizer).__name__}'s are {own_keys}")


def load_checkpoint(path, model=None, optimizer=None, schedulers=None, loader=None,
                    restore_rng=True):
    """Read `path` and load it into the given objects (each optional); nnlab's RNG state
    too unless restore_rng=False. Everything is checked before anything is changed.
    Returns the `Checkpoint` (epoch, step, extra, ...)."""
    ckpt = read_checkpoint(path)
    schedulers = _as_list(schedulers)
    if model is not None:
        _check_model(ckpt, model)
    if optimizer is not None:
        _check_optimizer(ckpt, optimizer)
    if schedulers and len(schedulers) != len(ckpt.scheduler_states):
        raise CheckpointError(f"checkpoint {ckpt.path} holds {len(ckpt.scheduler_states)} "
                              f"scheduler state(s), {len(schedulers)} scheduler(s) given")
    gen = loader_generator(loader)
    if gen is not None and ckpt.loader_state is None:
        raise CheckpointError(f"checkpoint {ckpt.path} holds no DataLoader generator state, "
                              "but the loader has a generator")
    if model is not None:
        model.load_state_dict(ckpt.model_state)
    if optimizer is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    for scheduler, state in zip(schedulers, ckpt.scheduler_states):
        scheduler.load_state_dict(state)
    if gen is not None:
        set_generator_state(gen, ckpt.loader_state)
    if restore_rng:
        backend.set_rng_state(ckpt.rng_state)
    return ckpt
