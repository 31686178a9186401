"""`RMSprop`: divide the gradient by a running root mean square of recent gradients."""
import numpy as np

from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check, count_step


class RMSprop(Optimizer):
    """v <- alpha v + (1 - alpha) g^2;  theta <- theta - lr g / (sqrt(v) + eps), with
    `centered` sqrt(v - gbar^2) (gbar the running mean of g) and `momentum` mu a buffer
    b <- mu b + g / (sqrt(v) + eps), theta <- theta - lr b. Exactly torch.optim.RMSprop."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        check(lr >= 0, "RMSprop", f"invalid learning rate lr={lr} (expected lr >= 0)")
        check(eps >= 0, "RMSprop", f"invalid epsilon eps={eps} (expected eps >= 0)")
        check(momentum >= 0, "RMSprop", f"invalid momentum={momentum} (expected >= 0)")
        check(weight_decay >= 0, "RMSprop",
              f"invalid weight_decay={weight_decay} (expected >= 0)")
        check(alpha >= 0, "RMSprop", f"invalid alpha={alpha} (expected >= 0)")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        if not state:
            state["step"] = np.zeros((), np.float32)
            state["square_avg"] = xp.zeros_like(param)
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros_like(param)
        count_step(state)
        apply_rule(F.rmsprop, param, grad, state, lr=float(group["lr"]),
                   alpha=float(group["alpha"]), eps=float(group["eps"]),
                   weight_decay=float(group["weight_decay"]),
                   momentum=float(group["momentum"]), centered=group["centered"],
                   maximize=group["maximize"])
