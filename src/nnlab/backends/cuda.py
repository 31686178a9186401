"""torch.backends.cuda's flags (settable; no effect in nnlab: matmuls run in their dtype)."""
from .. import backend


class _MatmulFlags:
    """`matmul.allow_tf32` and friends: plain settable attributes."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built():
    """Whether nnlab can use CUDA here (CuPy is installed)."""
    return backend.cupy is not None
