"""`Adam` and `AdamW`: adaptive moment estimation, with L2 or decoupled weight decay."""
import numpy as np

from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check, count_step


class Adam(Optimizer):
    """m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2,
    theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    `weight_decay` adds weight_decay theta to g (L2), or with `decoupled_weight_decay`
    shrinks theta by (1 - lr weight_decay) first (AdamW); `amsgrad` divides by the running
    maximum of v. Exactly torch.optim.Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        name = type(self).__name__
        check(lr >= 0, name, f"invalid learning rate lr={lr} (expected lr >= 0)")
        check(eps >= 0, name, f"invalid epsilon eps={eps} (expected eps >= 0)")
        for i, beta in enumerate(betas):
            check(0 <= beta < 1, name,
                  f"invalid beta parameter at index {i}: betas={tuple(betas)} "
                  f"(expected 0 <= beta < 1)")
        check(weight_decay >= 0, name,
              f"invalid weight_decay={weight_decay} (expected >= 0)")
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        if not state:
            state["step"] = np.zeros((), np.float32)
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
        beta1, beta2 = group["betas"]
        apply_rule(F.adam, param, grad, state, t=count_step(state), lr=float(group["lr"]),
                   beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                   weight_decay=float(group["weight_decay"]), amsgrad=group["amsgrad"],
                   maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"])


class AdamW(Adam):
    """Adam with decoupled weight decay: theta <- theta (1 - lr weight_decay) before the
    Adam step, so the decay does not pass through the moments. Exactly torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
