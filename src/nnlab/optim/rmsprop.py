"""`RMSprop`: divide the gradient by a running root mean square of recent gradients."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check_hyperparameters, count_step, floats, init_state


class RMSprop(Optimizer):
    """v <- alpha v + (1 - alpha) g^2;  theta <- theta - lr g / (sqrt(v) + eps), with
    `centered` sqrt(v - gbar^2) (gbar the running mean of g) and `momentum` mu a buffer
    b <- mu b + g / (sqrt(v) + eps), theta <- theta - lr b. Exactly torch.optim.RMSprop."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        check_hyperparameters("RMSprop", lr=lr, eps=eps, momentum=momentum,
                              weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        if not state:
            init_state(state, param, "square_avg")
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros_like(param)
        count_step(state)
        apply_rule(F.rmsprop, param, grad, state, centered=group["centered"],
                   maximize=group["maximize"],
                   **floats(group, "lr", "alpha", "eps", "weight_decay", "momentum"))
