"""torch.cuda's names: whether a GPU is usable and how many there are, seeding, and the
calls a training script makes. A GPU is usable where CuPy imports and sees one; nnlab draws
every random number on the CPU, so the CUDA seeding calls change nothing. Without a GPU,
the calls that need one raise, as torch's do; the rest report no GPU."""
from .. import backend
from . import amp


def is_available():
    """True only where CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def device_count():
    return backend.cuda_device_count()


def is_initialized():
    return is_available()


def is_bf16_supported(including_emulation=True):
    return False   # nnlab has no bfloat16 dtype


def _need_gpu(where):
    if not is_available():
        raise RuntimeError(f"cuda.{where}: no GPU is available (CuPy is "
                           f"{'not installed' if backend.cupy is None else 'without a GPU'})")
    return backend.cupy


def manual_seed(seed):
    """Accepted for torch's scripts: nnlab's random draws all come from the CPU generator
    (`nnlab.manual_seed`), so this only checks the seed."""
    backend.check_seed(seed, "cuda.manual_seed")


def manual_seed_all(seed):
    backend.check_seed(seed, "cuda.manual_seed_all")


def seed():
    return None


def seed_all():
    return None


def synchronize(device=None):
    """Wait for the GPU's queued work (an error without a GPU, as torch's)."""
    _need_gpu("synchronize").cuda.Device().synchronize()


def current_device():
    return _need_gpu("current_device").cuda.Device().id


def _index(cupy, device):
    if device is None:
        return cupy.cuda.Device().id
    if isinstance(device, int):
        return device
    return backend.device(device).index or 0


def get_device_name(device=None):
    cupy = _need_gpu("get_device_name")
    return cupy.cuda.runtime.getDeviceProperties(_index(cupy, device))["name"].decode()


def get_device_capability(device=None):
    cupy = _need_gpu("get_device_capability")
    capability = cupy.cuda.Device(_index(cupy, device)).compute_capability   # e.g. '90'
    return int(capability[:-1]), int(capability[-1])


def empty_cache():
    """Return the GPU memory pool's free blocks (nothing to do without a GPU)."""
    if is_available():
        backend.cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes held by tensors on the GPU (0 without one)."""
    return backend.cupy.get_default_memory_pool().used_bytes() if is_available() else 0
