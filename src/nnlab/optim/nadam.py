"""`NAdam`: Adam with Nesterov momentum (the step looks ahead along the moving average)."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import (
    Optimizer,
    apply_rule,
    check_hyperparameters,
    count_step,
    float32_scalar,
    floats,
    init_state,
)


def nadam(param, grad, state, *, t, lr, beta1, beta2, eps, weight_decay, mu, mu_next,
          mu_product, mu_product_next, maximize, decoupled_weight_decay):
    """NAdam:  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2;
    d = sqrt(v / (1 - beta2^t)) + eps;
    theta <- theta - lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) g / d
                   - lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) m / d.
    With `decoupled_weight_decay` theta first shrinks by (1 - lr weight_decay) (as AdamW)
    instead of weight_decay theta joining g."""
    xp = get_array_module(param)
    g = F.decayed_direction(grad, param, lr, weight_decay, maximize, decoupled_weight_decay)
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
        check_hyperparameters("NAdam", lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                              momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "exp_avg", "exp_avg_sq", mu_product=1.0)
        t = count_step(state)
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        psi = float(group["momentum_decay"])
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = float32_scalar(state, "mu_product")
        mu_product *= mu
        apply_rule(nadam, param, grad, state, t=t, beta1=beta1, beta2=beta2, mu=mu,
                   mu_next=mu_next, mu_product=float(mu_product),
                   mu_product_next=float(mu_product) * mu_next, maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"],
                   **floats(group, "lr", "eps", "weight_decay"))
