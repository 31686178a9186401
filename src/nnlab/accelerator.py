"""torch.accelerator's names: the one accelerator nnlab can use is a CUDA GPU through CuPy."""
from . import backend


def is_available():
    """True only where CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def device_count():
    return backend.cuda_device_count()


def current_accelerator(check_available=False):
    """device('cuda') where a GPU is usable, else None (as torch's without one)."""
    return backend.device("cuda") if backend.cuda_available() else None
