"""`Adamax`: Adam with the infinity norm of past gradients in place of their RMS."""
import numpy as np

from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check, count_step


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
        check(lr >= 0, "Adamax", f"invalid learning rate lr={lr} (expected lr >= 0)")
        check(eps >= 0, "Adamax", f"invalid epsilon eps={eps} (expected eps >= 0)")
        for i, beta in enumerate(betas):
            check(0 <= beta < 1, "Adamax", f"invalid beta parameter at index {i}: "
                  f"betas={tuple(betas)} (expected 0 <= beta < 1)")
        check(weight_decay >= 0, "Adamax",
              f"invalid weight_decay={weight_decay} (expected >= 0)")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        if not state:
            state["step"] = np.zeros((), np.float32)
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_inf"] = xp.zeros_like(param)
        beta1, beta2 = group["betas"]
        apply_rule(adamax, param, grad, state, t=count_step(state), lr=float(group["lr"]),
                   beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                   weight_decay=float(group["weight_decay"]), maximize=group["maximize"])
