"""`ASGD`: SGD with a decaying step size and a running (Polyak) average of the iterates."""
from . import functional as F
from .optimizer import (
    Optimizer,
    apply_rule,
    check_hyperparameters,
    count_step,
    float32_scalar,
    init_state,
)


def asgd(param, grad, state, *, lambd, eta, mu, weight_decay, maximize):
    """ASGD:  theta <- theta (1 - lambd eta) - eta g;  ax <- ax + mu (theta - ax)
    (ax <- theta while mu = 1, before averaging starts)."""
    g = F.direction(grad, param, weight_decay, maximize)
    param *= 1 - lambd * eta
    param -= eta * g
    ax = state["ax"]
    if mu != 1:
        d = param - ax
        d *= mu
        ax += d
    else:
        ax[...] = param


class ASGD(Optimizer):
    """Averaged SGD: theta <- theta (1 - lambd eta_t) - eta_t g with the step size
    eta_t = lr / (1 + lambd lr t)^alpha; the average ax <- ax + mu_t (theta - ax), mu_t =
    1 / max(1, t - t0), so ax follows theta until step t0 and then averages the iterates
    (the average is state['ax']; the parameters stay the SGD iterates). eta and mu are
    float32 scalars, as torch's. `weight_decay` adds weight_decay theta to g; `maximize`
    ascends. Exactly torch.optim.ASGD; `foreach`, `capturable` and `differentiable` are kept
    in the groups as torch's and change nothing here."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_hyperparameters("ASGD", lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "ax", eta=float(group["lr"]), mu=1.0)
        t = count_step(state)
        eta, mu = float32_scalar(state, "eta"), float32_scalar(state, "mu")
        lr, lambd = float(group["lr"]), float(group["lambd"])
        apply_rule(asgd, param, grad, state, lambd=lambd, eta=float(eta), mu=float(mu),
                   weight_decay=float(group["weight_decay"]), maximize=group["maximize"])
        eta[...] = lr / (1 + lambd * lr * t) ** float(group["alpha"])
        mu[...] = 1 / max(1, t - float(group["t0"]))
