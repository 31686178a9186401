"""`RAdam`: Adam whose adaptive step is switched on gradually, as its variance allows."""
import math

from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check_hyperparameters, count_step, floats, init_state


def radam(param, grad, state, *, t, lr, beta1, beta2, eps, weight_decay, maximize,
          decoupled_weight_decay):
    """RAdam:  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2;
    m_hat = m / (1 - beta1^t);  rho_inf = 2 / (1 - beta2) - 1,
    rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t);  if rho_t > 5:
    r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
    theta <- theta - lr m_hat sqrt(1 - beta2^t) / (sqrt(v) + eps) r;  else (too few steps
    for a trustworthy v) theta <- theta - lr m_hat, plain momentum."""
    xp = get_array_module(param)
    g = F.decayed_direction(grad, param, lr, weight_decay, maximize, decoupled_weight_decay)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    F.lerp_(m, g, 1 - beta1)
    F.ema_square_(v, g, beta2)
    bias_correction2 = 1 - beta2 ** t
    update = m / (1 - beta1 ** t)
    update *= lr
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
    if rho_t > 5:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive_lr = xp.sqrt(v)
        adaptive_lr += eps
        adaptive_lr = xp.reciprocal(adaptive_lr, out=adaptive_lr)   # as torch's scalar / x
        adaptive_lr *= math.sqrt(bias_correction2)
        update *= adaptive_lr
        update *= rect
    param -= update


class RAdam(Optimizer):
    """Rectified Adam: Adam's moments, but the adaptive factor sqrt(1 - beta2^t) /
    (sqrt(v) + eps) is used only once the approximate length of v's moving average,
    rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t), passes 5, and then scaled by the
    rectification r_t (which rises to 1); before that the step is lr m / (1 - beta1^t).
    `weight_decay` is L2 (added to g), or with `decoupled_weight_decay` shrinks theta first
    (as AdamW). Exactly torch.optim.RAdam; `foreach`, `capturable` and `differentiable` are
    kept in the groups as torch's and change nothing here."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_hyperparameters("RAdam", lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "exp_avg", "exp_avg_sq")
        apply_rule(radam, param, grad, state, t=count_step(state), maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"],
                   **floats(group, "lr", "betas", "eps", "weight_decay"))
