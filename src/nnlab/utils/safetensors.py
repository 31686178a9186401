"""safetensors files: `save_file(tensors, filename, metadata=None)` and `load_file(filename,
device='cpu')`, as `safetensors.torch`'s, for nnlab Tensors.

A safetensors file is an 8-byte header length, a JSON header {name: {dtype, shape,
data_offsets}, "__metadata__": {str: str}} and the raw little-endian bytes: no code, so it
is safe to load from anywhere, and it is what Hugging Face checkpoints ship as. The work is
done by the `safetensors` package's NumPy API (`pip install safetensors`), imported only
when these functions run. `load_file` returns {name: Tensor}, which `Module.load_state_dict`
takes; a Hugging Face GPT-2 file is renamed into `nnlab.models.GPT`'s keys by
`nnlab.utils.gpt2_weights.gpt2_state_dict_to_nnlab`.

Each tensor is written from a contiguous copy of its values (tensors that shared memory,
such as tied weights, are stored once per name); requires_grad is not stored (the format
has no place for it). NumPy has no bfloat16, so BF16 files cannot be read here.
"""
import os

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .io import atomic_write


def _package():
    """The safetensors package (its NumPy API loaded), or a clear ImportError."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError("nnlab.utils.safetensors needs the safetensors package: "
                          "pip install safetensors") from None
    return safetensors


def _as_numpy(value, name):
    if isinstance(value, Tensor):
        value = value._data
    if backend.device_of(value) != "cpu":  # pragma: no cover - GPU
        value = value.get()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"safetensors.save_file: tensors[{name!r}] is a "
                        f"{type(value).__name__}; expected an nnlab Tensor or a NumPy array")
    return np.ascontiguousarray(value)


def save_file(tensors, filename, metadata=None):
    """Write {name: Tensor or array} to `filename` in the safetensors format, atomically;
    `metadata` is an optional {str: str} stored in the header."""
    if not isinstance(tensors, dict) or not all(isinstance(k, str) for k in tensors):
        raise TypeError("safetensors.save_file: tensors must be a dict {str: Tensor}, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError(f"safetensors.save_file: metadata must be a dict {{str: str}}, got "
                        f"{metadata!r}")
    arrays = {name: _as_numpy(value, name) for name, value in tensors.items()}
    data = _package().numpy.save(arrays, metadata=metadata)
    atomic_write(os.fspath(filename), lambda f: f.write(data))


def load_file(filename, device="cpu"):
    """{name: Tensor} from a safetensors file, on `device` (each tensor owns its memory)."""
    target = backend.device(device)
    arrays = _package().numpy.load_file(os.fspath(filename))
    xp = backend.array_module_for(target)
    return {name: Tensor(xp.array(array)) for name, array in arrays.items()}


def load_metadata(filename):
    """The header's {str: str} metadata of a safetensors file (None when it has none)."""
    with _package().safe_open(os.fspath(filename), framework="numpy") as f:
        return f.metadata()
