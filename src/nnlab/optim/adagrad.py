"""`Adagrad`: per-coordinate step sizes from the sum of all past squared gradients."""
from ..backend import get_array_module
from . import functional as F
from .optimizer import Optimizer, apply_rule, check_hyperparameters, count_step, floats, init_state


class Adagrad(Optimizer):
    """s <- s + g^2 (s starts at initial_accumulator_value);
    theta <- theta - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps).
    Exactly torch.optim.Adagrad (its state exists from construction, as torch's)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        check_hyperparameters("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        self._fill(self.state[param], param._data, group)

    @staticmethod
    def _fill(state, param, group):
        init_state(state, param)
        state["sum"] = get_array_module(param).full_like(param,
                                                         group["initial_accumulator_value"])

    def _update(self, param, grad, state, group):
        if "sum" not in state:
            self._fill(state, param, group)
        apply_rule(F.adagrad, param, grad, state, t=count_step(state), maximize=group["maximize"],
                   **floats(group, "lr", "lr_decay", "weight_decay", "eps"))
