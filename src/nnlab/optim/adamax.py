"""`Adamax`: Adam with the infinity norm of past gradients in place of their RMS."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check_hyperparameters, count_step, floats, init_state


def adamax(param, grad, state, *, t, lr, beta1, beta2, eps, weight_decay, maximize):
    """Adamax:  m <- beta1 m + (1 - beta1) g;  u <- max(beta2 u, |g| + eps);
    theta <- theta - lr / (1 - beta1^t) * m / u."""
    xp = get_array_module(param)
    g = F.direction(grad, param, weight_decay, maximize)
    m, u = state["exp_avg"], state["exp_inf"]
    F.lerp_(m, g, 1 - beta1)
    u *= beta2
    bound = xp.abs(g)
    bound += eps
    xp.maximum(u, bound, out=u)
    update = (-lr / (1 - beta1 ** t)) * m
    update /= u
    param += update


class Adamax(Optimizer):
    """m <- beta1 m + (1 - beta1) g,  u <- max(beta2 u, |g| + eps) (a decaying infinity
    norm), theta <- theta - lr / (1 - beta1^t) * m / u. `weight_decay` adds
    weight_decay theta to g; `maximize` ascends. Exactly torch.optim.Adamax; `foreach`,
    `capturable` and `differentiable` are kept in the groups as torch's and change nothing
    here."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_hyperparameters("Adamax", lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "exp_avg", "exp_inf")
        apply_rule(adamax, param, grad, state, t=count_step(state), maximize=group["maximize"],
                   **floats(group, "lr", "betas", "eps", "weight_decay"))
