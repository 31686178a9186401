"""The update rules: one function per optimiser, written as array maths on one parameter.

Each rule changes `param` (an xp array) and the arrays in `state` in place, from `grad`
(never changed), with torch's formulas and order of operations (torch.optim's
single-tensor path), so that float32 results agree with torch's to rounding. They are
built from the small shared pieces below (as optax builds its optimisers from
transformations). Notation: theta the parameter, g the gradient, t the step (from 1).

Every rule is elementwise: it may be run on matching slices of param, grad and the state
arrays, which is how `Optimizer` runs a large parameter (in cache-sized pieces, on
threads). So a rule neither creates state nor counts steps; its optimizer does both and
passes the step `t` in.
"""
from ..backend import get_array_module
from . import compiled


# -- shared pieces ----------------------------------------------------------------------
def direction(grad, param, weight_decay, maximize):
    """g <- -g if maximising; g <- g + weight_decay * theta (L2 penalty folded into g).
    Returns `grad` itself when neither applies (callers never write into it)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    return g


def decayed_direction(grad, param, lr, weight_decay, maximize, decoupled):
    """`direction` with L2 weight decay, or, when `decoupled` (AdamW's), without it and
    theta <- theta (1 - lr weight_decay) in place instead."""
    if not decoupled:
        return direction(grad, param, weight_decay, maximize)
    g = direction(grad, param, 0, maximize)
    if weight_decay != 0:
        param *= 1 - lr * weight_decay
    return g


def lerp_(avg, x, weight, scratch=None):
    """avg <- avg + weight (x - avg) = (1 - weight) avg + weight x (torch's lerp_), through
    `scratch` (an array like avg) when given."""
    d = get_array_module(avg).subtract(x, avg, out=scratch)
    d *= weight
    avg += d


def ema_square_(avg, g, beta, scratch=None):
    """avg <- beta avg + (1 - beta) g^2, through `scratch` (an array like avg) when given."""
    avg *= beta
    sq = get_array_module(avg).multiply(g, 1 - beta, out=scratch)
    sq *= g
    avg += sq


# -- the rules --------------------------------------------------------------------------
def sgd(param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov, maximize,
        first=False):
    """SGD with momentum:  b <- mu b + (1 - tau) g  (b <- g at the `first` step);
    d = g + mu b (nesterov) or b;  theta <- theta - lr d."""
    g = direction(grad, param, weight_decay, maximize)
    if momentum != 0:
        buf = state["momentum_buffer"]
        if first:
            buf[...] = g
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g


def adam(param, grad, state, *, t, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
         decoupled_weight_decay):
    """Adam (AdamW when `decoupled_weight_decay`):
    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2   (v <- max(v_max, v)
    with amsgrad);   theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t)
    + eps).  AdamW first shrinks theta <- theta (1 - lr weight_decay) instead of adding
    weight_decay theta to g."""
    xp = get_array_module(param)
    g = decayed_direction(grad, param, lr, weight_decay, maximize, decoupled_weight_decay)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    if not amsgrad and compiled.usable(param, g, m, v):   # the same maths in one pass
        compiled.adam(param, g, m, v, t=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        return
    a, b = xp.empty_like(param), xp.empty_like(param)   # every temporary lives in these
    lerp_(m, g, 1 - beta1, scratch=a)
    ema_square_(v, g, beta2, scratch=b)
    if amsgrad:
        v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    step_size = lr / (1 - beta1 ** t)
    denom = xp.sqrt(v, out=b)
    denom /= (1 - beta2 ** t) ** 0.5
    denom += eps
    update = xp.multiply(m, step_size, out=a)
    update /= denom
    param -= update


def rmsprop(param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered,
            maximize):
    """RMSprop:  v <- alpha v + (1 - alpha) g^2;  s = sqrt(v - gbar^2) with
    gbar <- alpha gbar + (1 - alpha) g if centered, else sqrt(v);
    b <- mu b + g / (s + eps), theta <- theta - lr b  (momentum), else
    theta <- theta - lr g / (s + eps)."""
    g = direction(grad, param, weight_decay, maximize)
    v = state["square_avg"]
    ema_square_(v, g, alpha)
    xp = get_array_module(param)
    if centered:
        gbar = state["grad_avg"]
        lerp_(gbar, g, 1 - alpha)
        avg = v - gbar * gbar
        avg = xp.sqrt(avg, out=avg)
    else:
        avg = xp.sqrt(v)
    avg += eps
    if momentum > 0:
        buf = state["momentum_buffer"]
        buf *= momentum
        buf += g / avg
        param -= lr * buf
    else:
        update = (-lr) * g
        update /= avg
        param += update


def adagrad(param, grad, state, *, t, lr, lr_decay, weight_decay, eps, maximize):
    """Adagrad:  s <- s + g^2;  theta <- theta - lr / (1 + (t - 1) lr_decay) * g /
    (sqrt(s) + eps)."""
    g = direction(grad, param, weight_decay, maximize)
    clr = lr / (1 + (t - 1) * lr_decay)
    s = state["sum"]
    sq = g * g
    s += sq
    std = get_array_module(param).sqrt(s, out=sq)
    std += eps
    update = (-clr) * g
    update /= std
    param += update
