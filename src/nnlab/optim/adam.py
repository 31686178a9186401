"""`Adam` and `AdamW`: adaptive moment estimation, with L2 or decoupled weight decay."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check_hyperparameters, count_step, floats, init_state


class Adam(Optimizer):
    """m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2,
    theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    `weight_decay` adds weight_decay theta to g (L2), or with `decoupled_weight_decay`
    shrinks theta by (1 - lr weight_decay) first (AdamW); `amsgrad` divides by the running
    maximum of v. Exactly torch.optim.Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        check_hyperparameters(type(self).__name__, lr=lr, eps=eps, betas=betas,
                              weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "exp_avg", "exp_avg_sq")
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = get_array_module(param).zeros_like(param)
        apply_rule(F.adam, param, grad, state, t=count_step(state), amsgrad=group["amsgrad"],
                   maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"],
                   **floats(group, "lr", "betas", "eps", "weight_decay"))


class AdamW(Adam):
    """Adam with decoupled weight decay: theta <- theta (1 - lr weight_decay) before the
    Adam step, so the decay does not pass through the moments. Exactly torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
