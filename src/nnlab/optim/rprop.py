"""`Rprop`: resilient backpropagation, a per-coordinate step size driven by gradient signs."""
from ..backend import get_array_module
from .optimizer import Optimizer, apply_rule, check, check_hyperparameters, count_step, init_state


def rprop(param, grad, state, *, etaminus, etaplus, step_size_min, step_size_max, maximize):
    """Rprop, per coordinate:  s = sign(g g_prev);  step <- clamp(step eta+, .., max) if
    s > 0, clamp(step eta-, min, ..) if s < 0;  g <- 0 where s < 0 (no move after a sign
    change);  theta <- theta - step sign(g);  g_prev <- g."""
    xp = get_array_module(param)
    g = -grad if maximize else grad
    prev, step_size = state["prev"], state["step_size"]
    s = xp.sign(g * prev)
    factor = xp.ones_like(step_size)
    factor[s > 0] = etaplus
    factor[s < 0] = etaminus
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    g = xp.where(s < 0, 0, g).astype(param.dtype, copy=False)
    param -= xp.sign(g) * step_size
    prev[...] = g


class Rprop(Optimizer):
    """Each coordinate keeps its own step size (starting at lr): it grows by etas[1] while
    the gradient keeps its sign and shrinks by etas[0] when the sign flips (clamped to
    step_sizes); theta moves by the step size against the gradient's sign only, and not at
    all right after a flip. `maximize` ascends. Exactly torch.optim.Rprop; `foreach`,
    `capturable` and `differentiable` are kept in the groups as torch's and change nothing
    here."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_hyperparameters("Rprop", lr=lr)
        check(0 < etas[0] < 1 < etas[1], "Rprop",
              f"invalid etas={tuple(etas)} (expected 0 < etaminus < 1 < etaplus)")
        check(0 <= step_sizes[0] <= step_sizes[1], "Rprop",
              f"invalid step_sizes={tuple(step_sizes)} (expected 0 <= min <= max)")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            init_state(state, param, "prev")
            state["step_size"] = get_array_module(param).full_like(param, float(group["lr"]))
        count_step(state)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        apply_rule(rprop, param, grad, state, etaminus=float(etaminus), etaplus=float(etaplus),
                   step_size_min=float(step_size_min), step_size_max=float(step_size_max),
                   maximize=group["maximize"])
