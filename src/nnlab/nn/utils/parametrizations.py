"""Parametrizations for `parametrize.register_parametrization`, with torch's names,
defaults and state_dict keys (torch.nn.utils.parametrizations):

- `weight_norm(module, name="weight", dim=0)`: w = g v / ||v||, the norm over every dim but
  `dim` (dim=None: the whole tensor). Keys `parametrizations.weight.original0` (g, the
  norms) and `original1` (v, the direction).
- `spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None)`:
  w / sigma(w), sigma the largest singular value of w viewed as a matrix (rows along
  `dim`; dim=None: 0, or 1 for ConvTranspose), estimated by power iteration:

      u <- normalize(W v),   v <- normalize(W^T u)     (n_power_iterations times, in training)
      sigma = u . (W v)

  u and v are buffers (`parametrizations.weight.0._u`, `._v`), initialised from the
  generator and 15 iterations, updated in place without gradient; sigma's gradient flows
  through W only. A 1-d weight is simply normalised.
"""
from ...autograd import grad_mode
from ...ops import matmul, norm, permute, randn, reshape
from ..functional.distance import normalize
from ..module import Module
from . import parametrize


def _norm_except_dim(v, dim):
    """||v|| over every dim but `dim`, kept as size 1 (torch.norm_except_dim with p=2);
    dim=-1: the norm of the whole tensor, a 0-d tensor (torch's convention)."""
    if dim == -1:
        return norm(v)
    dim = dim % v.ndim
    return norm(v, 2, tuple(d for d in range(v.ndim) if d != dim), keepdim=True)


def _weight_norm(v, g, dim):
    """v g / ||v|| (torch._weight_norm)."""
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize `module.<name>` as g v / ||v|| (see the module docstring)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"spectral_norm: Dimension out of range (expected to be in range "
                             f"of [{-ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            factory = dict(dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", normalize(randn(h, **factory), dim=0, eps=eps))
            self.register_buffer("_v", normalize(randn(w, **factory), dim=0, eps=eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        """The weight as (size of dim, everything else)."""
        if self.dim != 0:
            weight = permute(weight, (self.dim,) + tuple(d for d in range(weight.ndim)
                                                         if d != self.dim))
        return reshape(weight, (weight.shape[0], -1))

    def _power_method(self, weight_mat, n_power_iterations):
        with grad_mode.no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(matmul(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(matmul(weight_mat.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * matmul(weight_mat, v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize `module.<name>` as w / sigma(w) (see the module docstring)."""
    from ..conv import ConvTranspose1d, ConvTranspose2d
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{type(module).__name__}' has no parameter or buffer with "
                         f"name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
