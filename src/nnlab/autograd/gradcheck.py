"""Finite-difference checks of the analytical gradients, in float64.

gradcheck compares, for every output element k and input element j, the Jacobian entry
d out_k / d in_j from backward with the central difference
(f(x + eps e_j) - f(x - eps e_j))_k / (2 eps). gradgradcheck runs gradcheck on the map
(inputs, v) -> v^T J, the vector-Jacobian product, which checks second derivatives.
"""
import numpy as np

from . import grad_mode
from .engine import grad
from .tensor import Tensor


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if fn's analytical Jacobian matches finite differences for every input that
    requires grad. On a mismatch, raises (or returns False) naming the input, the element,
    and both values."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                             "need float64 inputs (call .double())")
    outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)
               and o.dtype.kind == "f"]
    analytical = _analytical(outputs, [inputs[i] for i in wrt])
    numerical = _numerical(fn, inputs, wrt, eps)
    for o, out in enumerate(outputs):
        for n, i in enumerate(wrt):
            a, d = analytical[o][n], numerical[o][n]
            bad = ~(np.abs(a - d) <= atol + rtol * np.abs(d))
            if bad.any():
                k, j = np.unravel_index(np.argmax(bad), bad.shape)
                at_in = np.unravel_index(j, inputs[i].shape) if inputs[i].ndim else ()
                at_out = np.unravel_index(k, out.shape) if out.ndim else ()
                message = (f"gradcheck: Jacobian mismatch for output {o} with respect to "
                           f"input {i}, at input element {tuple(map(int, at_in))} and output "
                           f"element {tuple(map(int, at_out))}: numerical {d[k, j]:.8g}, "
                           f"analytical {a[k, j]:.8g} (atol={atol}, rtol={rtol})")
                if raise_exception:
                    raise AssertionError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """gradcheck of the vector-Jacobian product of fn: checks its second derivatives.
    `grad_outputs` (the vectors v) default to seeded random float64 tensors."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)
               and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape), requires_grad=True)
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def vjp(*args):  # recorded even inside gradcheck's no_grad finite differences
        xs, vs = args[:n], args[n:]
        with grad_mode.enable_grad():
            outs = [o for o in _as_tuple(fn(*xs)) if isinstance(o, Tensor) and o.requires_grad]
            gs = grad(outs, [xs[i] for i in wrt], vs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps, atol, rtol, raise_exception)


def _as_tuple(x):
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _analytical(outputs, xs):
    """J[o][n] of shape (outputs[o].size, xs[n].size), one backward per output element."""
    jac = [[np.zeros((o._data.size, x._data.size)) for x in xs] for o in outputs]
    for o, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for k in range(out._data.size):
            v = np.zeros(out._data.size)
            v[k] = 1.0
            v = Tensor(v.reshape(out.shape).astype(out.dtype))
            gs = grad([out], xs, [v], retain_graph=True, allow_unused=True)
            for n, g in enumerate(gs):
                if g is not None:
                    jac[o][n][k] = np.asarray(g._data, dtype=np.float64).ravel()
    return jac


def _numerical(fn, inputs, wrt, eps):
    """J[o][n] by central differences, perturbing one input element at a time."""
    jac = None
    with grad_mode.no_grad():
        for n, i in enumerate(wrt):
            x = inputs[i]._data
            for j in range(x.size):
                at = np.unravel_index(j, x.shape) if x.ndim else ()
                original = x[at].copy()
                x[at] = original + eps
                plus = _float_outputs(fn(*inputs))
                x[at] = original - eps
                minus = _float_outputs(fn(*inputs))
                x[at] = original
                if jac is None:
                    jac = [[np.zeros((p.size, inputs[w]._data.size)) for w in wrt]
                           for p in plus]
                for o, (p, m) in enumerate(zip(plus, minus)):
                    jac[o][n][:, j] = (p - m).ravel() / (2 * eps)
    return jac


def _float_outputs(out):
    """Copies (an output may be the very input being perturbed, or a view of it)."""
    return [np.array(o._data, dtype=np.float64) for o in _as_tuple(out)
            if isinstance(o, Tensor) and o.dtype.kind == "f"]
