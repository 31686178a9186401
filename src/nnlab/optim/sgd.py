"""`SGD`: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check, check_hyperparameters, floats


class SGD(Optimizer):
    """theta <- theta - lr d, with d the gradient (plus weight_decay theta), or with
    momentum mu the buffer b <- mu b + (1 - dampening) g (b = g at the first step), or
    with nesterov g + mu b. `maximize` ascends. Exactly torch.optim.SGD."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        check_hyperparameters("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        check(not nesterov or (momentum > 0 and dampening == 0), "SGD",
              f"nesterov=True requires momentum > 0 and dampening == 0 "
              f"(got momentum={momentum}, dampening={dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        momentum = float(group["momentum"])
        first = momentum != 0 and "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = get_array_module(param).empty_like(param)
        apply_rule(F.sgd, param, grad, state, momentum=momentum, nesterov=group["nesterov"],
                   maximize=group["maximize"], first=first,
                   **floats(group, "lr", "dampening", "weight_decay"))
