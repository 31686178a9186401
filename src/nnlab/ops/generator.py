"""`Generator`: a seedable stream of random numbers, as torch.Generator, and the default one
behind `manual_seed`.

Each Generator owns a `numpy.random.Generator` (PCG64); the default generator's is
`nnlab.backend.generator()`, which every draw without `generator=` uses. Seeds follow
torch's rules (an int in [-2**63, 2**64), negatives wrapped; a new Generator starts from
torch's default seed 67280421310721), but the numbers drawn are NumPy's, not torch's.
"""
import os

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

_STATE_BYTES = 48   # PCG64: state (16 bytes), increment (16), has_uint32 (8), uinteger (8)
_PARTS = (("state", 16), ("inc", 16), ("has_uint32", 8), ("uinteger", 8))


def _pack(state):
    """A PCG64 state dict as 48 bytes (little-endian), a uint8 array."""
    values = dict(state["state"], has_uint32=state["has_uint32"], uinteger=state["uinteger"])
    raw = b"".join(int(values[name]).to_bytes(n, "little") for name, n in _PARTS)
    return np.frombuffer(raw, dtype=np.uint8).copy()


def _unpack(array):
    raw, values, at = bytes(array), {}, 0
    for name, n in _PARTS:
        values[name] = int.from_bytes(raw[at:at + n], "little")
        at += n
    return {"bit_generator": "PCG64", "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}


class Generator:
    """A random-number generator to pass as `generator=` to nnlab's random functions,
    `DataLoader`, samplers and `random_split`, as torch.Generator.

    `manual_seed(s)` (returns self), `initial_seed()`, `seed()` (a fresh non-deterministic
    seed, returned), `get_state()` / `set_state(state)` (the state as a uint8 Tensor of 48
    bytes: it round-trips within nnlab; torch's is 5056 bytes of another algorithm), `device`.
    """

    def __init__(self, device="cpu"):
        device = backend.device(device)
        if device.type != "cpu" and not (device.type == "cuda" and backend.cuda_available()):
            raise RuntimeError(f"Generator(device={str(device)!r}): no {device.type} device "
                               "is available (expected device='cpu')")
        self._device = device
        self._seed = backend.DEFAULT_SEED
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed):
        """Restart the stream from `seed`; returns this generator."""
        self._seed = backend.check_seed(seed, "Generator.manual_seed")
        backend.reseed(self._rng, self._seed)
        return self

    def initial_seed(self):
        """The seed the stream last started from."""
        return self._seed

    def seed(self):
        """Restart from a non-deterministic 64-bit seed, and return it."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def get_state(self):
        """The state as a uint8 Tensor (48 bytes), for `set_state`."""
        return Tensor(_pack(self._rng.bit_generator.state))

    def set_state(self, new_state):
        """Restore a state from `get_state`; returns this generator."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"Generator.set_state: expected a uint8 Tensor (a ByteTensor), "
                            f"got {type(new_state).__name__}")
        if new_state.dtype != np.uint8:
            raise TypeError(f"Generator.set_state: the RNG state must be a uint8 Tensor (a "
                            f"ByteTensor), got dtype {new_state.dtype}")
        if new_state.numel() != _STATE_BYTES:
            raise RuntimeError(f"Generator.set_state: expected a state of {_STATE_BYTES} "
                               f"bytes, got {new_state.numel()}")
        self._rng.bit_generator.state = _unpack(np.asarray(new_state).reshape(-1))
        return self


class _DefaultGenerator(Generator):
    """The default generator: its stream is `backend.generator()`, its seed backend's, so
    `backend.manual_seed` (used inside nnlab) and this object always agree."""

    def __init__(self):
        self._device = backend.device("cpu")

    @property
    def _rng(self):
        return backend.generator()

    @property
    def _seed(self):
        return backend.initial_seed()

    def manual_seed(self, seed):
        backend.manual_seed(backend.check_seed(seed, "manual_seed"))
        return self


default_generator = _DefaultGenerator()


def manual_seed(seed):
    """Seed the default generator (every draw without `generator=`); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator from a non-deterministic 64-bit seed, and return it."""
    return default_generator.seed()


def initial_seed():
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a JSON-able dict (torch returns a ByteTensor;
    `default_generator.get_state()` gives that form). `set_rng_state` takes either."""
    return backend.get_rng_state()


def set_rng_state(new_state):
    """Restore the default generator's state from `get_rng_state()` (a dict) or from
    `default_generator.get_state()` (a uint8 Tensor)."""
    if isinstance(new_state, dict):
        backend.set_rng_state(new_state)
    else:
        default_generator.set_state(new_state)


def numpy_generator(generator, where):
    """The numpy Generator to draw from: the default one for None, a Generator's own, or a
    `numpy.random.Generator` as it is."""
    if generator is None:
        return backend.generator()
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{where}: generator must be an nnlab.Generator (or a "
                    f"numpy.random.Generator), got {type(generator).__name__}")
