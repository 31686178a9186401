"""`NAdam`: Adam with Nesterov momentum (the step looks ahead along the moving average)."""
import numpy as np

from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check, count_step


def nadam(param, grad, state, *, t, lr, beta1, beta2, eps, weight_decay, mu, mu_next,
          mu_product, mu_product_next, maximize, decoupled_weight_decay):
    """NAdam:  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2;
    d = sqrt(v / (1 - beta2^t)) + eps;
    theta <- theta - lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) g / d
                   - lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) m / d.
    With `decoupled_weight_decay` theta first shrinks by (1 - lr weight_decay) (as AdamW)
    instead of weight_decay theta joining g."""
    xp = get_array_module(param)
    if decoupled_weight_decay:
        g = F.direction(grad, param, 0, maximize)
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
    else:
        g = F.direction(grad, param, weight_decay, maximize)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    F.lerp_(m, g, 1 - beta1)
    F.ema_square_(v, g, beta2)
    denom = xp.sqrt(v / (1 - beta2 ** t))
    denom += eps
    update = (-lr * (1 - mu) / (1 - mu_product)) * g
    update /= denom
    param += update
    update = (-lr * mu_next / (1 - mu_product_next)) * m
    update /= denom
    param += update


def float32_scalar(state, key):
    """state[key] as a float32 scalar array (torch keeps such scalars in float32 whatever
    the parameter's dtype; a loaded state dict may have cast it)."""
    value = state[key]
    if getattr(value, "dtype", None) != np.float32 or getattr(value, "shape", None) != ():
        state[key] = value = np.array(float(value), np.float32)
    return value


class NAdam(Optimizer):
    """Adam whose step uses the Nesterov look-ahead: with the momentum schedule
    mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2) and mu_product its running product (a
    float32 scalar, as torch's), theta moves by lr (1 - mu_t) / (1 - mu_product) along
    g / d and by lr mu_{t+1} / (1 - mu_product mu_{t+1}) along m / d, d = sqrt(v / (1 -
    beta2^t)) + eps. `weight_decay` is L2 (added to g), or with `decoupled_weight_decay`
    shrinks theta first (NAdamW). Exactly torch.optim.NAdam; `foreach`, `capturable` and
    `differentiable` are kept in the groups as torch's and change nothing here."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check(lr >= 0, "NAdam", f"invalid learning rate lr={lr} (expected lr >= 0)")
        check(eps >= 0, "NAdam", f"invalid epsilon eps={eps} (expected eps >= 0)")
        for i, beta in enumerate(betas):
            check(0 <= beta < 1, "NAdam", f"invalid beta parameter at index {i}: "
                  f"betas={tuple(betas)} (expected 0 <= beta < 1)")
        check(weight_decay >= 0, "NAdam",
              f"invalid weight_decay={weight_decay} (expected >= 0)")
        check(momentum_decay >= 0, "NAdam",
              f"invalid momentum_decay={momentum_decay} (expected >= 0)")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        if not state:
            state["step"] = np.zeros((), np.float32)
            state["mu_product"] = np.ones((), np.float32)
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
        t = count_step(state)
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        psi = float(group["momentum_decay"])
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = float32_scalar(state, "mu_product")
        mu_product *= mu
        apply_rule(nadam, param, grad, state, t=t, lr=float(group["lr"]), beta1=beta1,
                   beta2=beta2, eps=float(group["eps"]),
                   weight_decay=float(group["weight_decay"]), mu=mu, mu_next=mu_next,
                   mu_product=float(mu_product), mu_product_next=float(mu_product) * mu_next,
                   maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"])
