"""The older weight normalisation by a forward pre-hook (torch.nn.utils.weight_norm),
kept because old programs and checkpoints use it; new code uses
`nn.utils.parametrizations.weight_norm`.

    weight = weight_g * weight_v / ||weight_v||      (the norm over every dim but `dim`)

`weight_g` and `weight_v` are the parameters (state_dict keys "weight_g", "weight_v");
`weight` is a plain attribute recomputed before each forward. dim=None (stored as -1, as
torch) takes the norm of the whole tensor.
"""
from ...autograd import grad_mode
from ..parameter import Parameter
from .parametrizations import _norm_except_dim, _weight_norm


class WeightNorm:
    """The pre-hook that recomputes `module.<name>` from `<name>_g` and `<name>_v`."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                            self.dim)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _find_hook(module, kind, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return key, hook
    return None, None


def _parameter_to_hook(module, kind, name, op):
    """The parameter `module.<name>` that a new `kind` hook will take over (one per name)."""
    if _find_hook(module, kind, name)[1] is not None:
        raise RuntimeError(f"Cannot register two {op} hooks on the same parameter {name}")
    weight = module.__dict__.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"{op}: {type(module).__name__} has no parameter {name!r}")
    return weight


def _remove_hook(module, kind, name, op, suffixes, compute_weight):
    """Replace `<name><suffix>` for each suffix and the `kind` hook by one parameter
    `<name>` holding compute_weight(hook)."""
    key, fn = _find_hook(module, kind, name)
    if fn is None:
        raise ValueError(f"{op} of '{name}' not found in {type(module).__name__}")
    with grad_mode.no_grad():
        weight = compute_weight(fn).detach()
    for suffix in suffixes:
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight))
    del module._forward_pre_hooks[key]
    return module


def weight_norm(module, name="weight", dim=0):
    """Split `module.<name>` into a norm `<name>_g` and a direction `<name>_v`."""
    weight = _parameter_to_hook(module, WeightNorm, name, "weight_norm")
    fn = WeightNorm(name, dim)
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold `<name>_g` and `<name>_v` back into one parameter `<name>`."""
    return _remove_hook(module, WeightNorm, name, "weight_norm", ("", "_g", "_v"),
                        lambda fn: fn.compute_weight(module))
