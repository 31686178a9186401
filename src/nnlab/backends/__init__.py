"""torch.backends' flags: `cudnn`, `cuda` and `mps`, plain module attributes a script may
set. nnlab has no cuDNN, no TF32 path and no MPS backend, so on the CPU (and on a GPU,
where CuPy's own kernels run) none of them changes anything."""
from . import cuda, cudnn, mps
