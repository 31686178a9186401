"""The older spectral normalisation by a forward pre-hook (torch.nn.utils.spectral_norm),
kept because old programs and checkpoints use it; new code uses
`nn.utils.parametrizations.spectral_norm`.

    weight = weight_orig / sigma,   sigma = u . (W v)

with W = weight_orig as a matrix (rows along `dim`) and u, v estimated by power iteration
before each forward in training (v first, then u: the older order):

    v <- normalize(W^T u),   u <- normalize(W v)      (n_power_iterations times)

`weight_orig` is the parameter and `weight_u`, `weight_v` the buffers (state_dict keys as
torch); `weight` is a plain attribute. u and v start as normalised draws from the generator
(no warm-up iterations, as torch's older form).
"""
from ...autograd import grad_mode
from ...ops import matmul, randn
from ..functional.distance import normalize
from .parametrizations import _SpectralNorm
from .weight_norm import _parameter_to_hook, _remove_hook


class SpectralNorm:
    """The pre-hook that recomputes `module.<name>` from `<name>_orig`, `_u` and `_v`."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        return _SpectralNorm._reshape_weight_to_matrix(self, weight)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with grad_mode.no_grad():
                w = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(matmul(w.t(), u), dim=0, eps=self.eps))
                    u.copy_(normalize(matmul(w, v), dim=0, eps=self.eps))
        sigma = (u.clone() * matmul(weight_mat, v.clone())).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide `module.<name>` by its largest singular value before each forward."""
    from ..conv import ConvTranspose1d, ConvTranspose2d
    weight = _parameter_to_hook(module, SpectralNorm, name, "spectral_norm")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    fn = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)
    h, w = fn.reshape_weight_to_matrix(weight.detach()).shape
    factory = dict(dtype=weight.dtype, device=weight.device)
    u = normalize(randn(h, **factory), dim=0, eps=eps)
    v = normalize(randn(w, **factory), dim=0, eps=eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Fold the normalised weight back into one parameter `<name>`."""
    return _remove_hook(module, SpectralNorm, name, "spectral_norm", ("", "_u", "_v", "_orig"),
                        lambda fn: fn.compute_weight(module, do_power_iteration=False))
