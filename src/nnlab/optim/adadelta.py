"""`Adadelta`: step sizes from the ratio of running RMS of past updates and of gradients."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check_hyperparameters, count_step, floats, init_state


def adadelta(param, grad, state, *, lr, rho, eps, weight_decay, maximize):
    """Adadelta:  v <- rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) g;
    u <- rho u + (1 - rho) delta^2;  theta <- theta - lr delta."""
    xp = get_array_module(param)
    g = F.direction(grad, param, weight_decay, maximize)
    v, u = state["square_avg"], state["acc_delta"]
    F.ema_square_(v, g, rho)
    std = xp.sqrt(v + eps)
    delta = xp.sqrt(u + eps)
    delta /= std
    delta *= g
    F.ema_square_(u, delta, rho)
    param -= lr * delta


class Adadelta(Optimizer):
    """v <- rho v + (1 - rho) g^2 (running mean of squared gradients);
    delta = sqrt(u + eps) / sqrt(v + eps) g;  u <- rho u + (1 - rho) delta^2 (running mean of
    squared updates);  theta <- theta - lr delta. `weight_decay` adds weight_decay theta to
    g; `maximize` ascends. Exactly torch.optim.Adadelta; `foreach`, `capturable` and
    `differentiable` are kept in the groups as torch's and change nothing here."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_hyperparameters("Adadelta", lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "square_avg", "acc_delta")
        count_step(state)
        apply_rule(adadelta, param, grad, state, maximize=group["maximize"],
                   **floats(group, "lr", "rho", "eps", "weight_decay"))
