"""`parameters_to_vector` and `vector_to_parameters` (torch.nn.utils): all parameters as
one flat vector and back, in the iteration order of `parameters`."""
from ...autograd.tensor import Tensor
from ...ops import cat, reshape


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one 1-d tensor (differentiable)."""
    parameters = list(parameters)
    devices = {p.device for p in parameters}
    if len(devices) > 1:
        raise TypeError(f"parameters_to_vector: found parameters on several devices "
                        f"{sorted(map(str, devices))}")
    return cat([reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-d `vec` into the parameters' data, in place (no
    gradient is recorded, as torch writes `param.data`)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got "
                        f"{type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} does not "
                         f"match the parameters' {total} elements (expected shape ({total},))")
    offset = 0
    for p in parameters:
        n = p.numel()
        p._data = vec.detach()._data[offset:offset + n].reshape(p.shape).astype(p.dtype)
        p._version_counter[0] += 1
        offset += n
