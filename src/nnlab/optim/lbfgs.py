"""`LBFGS`: limited-memory BFGS, a quasi-Newton method for full-batch problems.

Each iteration turns the gradient into a direction d = -H g, where H, the inverse Hessian
approximation, is never formed: the two-loop recursion builds H g from the last
`history_size` pairs s = step taken, y = change of gradient (with 1 / (y.s) the weight rho
of each pair), starting from H_0 = (y.s / y.y) I, and a step t along d is taken, either
fixed (t = lr) or found by a line search satisfying the strong Wolfe conditions
    f(x + t d) <= f(x) + c1 t g.d            (enough decrease)
    |g(x + t d).d| <= c2 |g.d|                (the slope has flattened enough)
by bracketing and zooming with cubic interpolation (Nocedal & Wright, Numerical
Optimization, algorithms 3.5 and 3.6; 7.4 for the recursion).

All the parameters are treated as one flat vector. Scalars computed from vectors (g.d, y.s,
...) stay numpy scalars of the parameters' dtype, as torch's 0-d tensors do, so float32
runs round as torch's.
"""
import functools

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import get_array_module
from .optimizer import Optimizer, check, check_hyperparameters

LIST_KEYS = ("old_dirs", "old_stps", "ro", "al")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clamped to `bounds` (default: between x1 and x2); their midpoint if it has none.
    With d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2), d2 = sqrt(d1^2 - g1 g2):
    x = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)."""
    if bounds is not None:
        lo, hi = bounds
    else:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if not d2_square >= 0:   # no real minimiser (or a NaN): bisect
        return (lo + hi) / 2
    d2 = np.sqrt(d2_square)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """A step t along d satisfying the strong Wolfe conditions, from f, g, gtd = g.d at
    t = 0. `evaluate(t)` returns (loss, flat gradient) at x + t d. Phase one grows t until
    [t_prev, t] brackets an acceptable step (the loss rose, or the slope turned
    non-negative); phase two (zoom) shrinks the bracket by cubic interpolation, keeping
    each trial at least 10% of the bracket away from its ends. Returns (loss, gradient, t,
    number of evaluations)."""
    d_norm = abs(d).max()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        step = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                  bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = step
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        top, bottom = max(bracket), min(bracket)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:
            # too close to an end: accept once, then push the trial inside the bracket
            if insufficient_progress or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS over all parameters as one vector (one param group only). `step(closure)`
    runs up to `max_iter` iterations (at most `max_eval` closure calls, default
    max_iter * 5 / 4): d from the two-loop recursion over the last `history_size` (s, y)
    pairs, then x <- x + t d with t = lr (the first iteration ever: t = lr min(1, 1 /
    |g|_1)), or t from the strong-Wolfe line search when line_search_fn='strong_wolfe'.
    The line search may use the closure calls left under max_eval (none left: it tries
    the first t once and keeps t = 0 unless that lowered the loss). A step stops when
    max |g| <= tolerance_grad, or max |t d| or the change of the loss falls below
    tolerance_change. The closure must zero the gradients, compute the loss, call
    backward and return the loss. State (torch's keys, kept on the first parameter):
    func_evals, n_iter, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, al.
    Exactly torch.optim.LBFGS."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_hyperparameters("LBFGS", lr=lr)
        check(max_iter >= 1, "LBFGS", f"invalid max_iter={max_iter} (expected >= 1)")
        check(history_size >= 1, "LBFGS",
              f"invalid history_size={history_size} (expected >= 1)")
        check(line_search_fn in (None, "strong_wolfe"), "LBFGS",
              f"invalid line_search_fn={line_search_fn!r} (expected None or "
              "'strong_wolfe', the only line search there is)")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        check(not self.param_groups, "LBFGS",
              "doesn't support per-parameter options (parameter groups): give one list of "
              "parameters")
        super().add_param_group(param_group)

    @property
    def _params(self):
        return self.param_groups[0]["params"]

    # -- the parameters as one flat vector -------------------------------------------------
    def _gather_flat_grad(self):
        xp = get_array_module(self._params[0]._data)
        return xp.concatenate([xp.zeros(p._data.size, p._data.dtype) if p.grad is None
                               else p.grad._data.reshape(-1) for p in self._params])

    def _add_grad(self, t, d):
        """x <- x + t d, d split back into the parameters' shapes."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset:offset + n].reshape(p._data.shape)
            p._version_counter[0] += 1
            offset += n

    def _set_param(self, arrays):
        for p, a in zip(self._params, arrays):
            p._data[...] = a
            p._version_counter[0] += 1

    def _evaluate(self, closure):
        with enable_grad():
            return float(closure())

    def _directional_evaluate(self, closure, x, d, t):
        """(loss, flat gradient) at x + t d; the parameters are put back to x."""
        self._add_grad(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # -- the iteration ---------------------------------------------------------------------
    def step(self, closure=None):
        """Up to max_iter L-BFGS iterations; returns the loss the first closure call gave
        (at the parameters on entry)."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure: a function that zeroes the "
                            "gradients, computes the loss, calls loss.backward() and returns "
                            "the loss (LBFGS evaluates the model several times per step)")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:   # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                d = self._two_loop(state, flat_grad, old_dirs, old_stps, ro, H_diag,
                                   history_size)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:   # not a descent direction (any more)
                break

            evals = 0
            if group["line_search_fn"] is not None:
                x_init = [p._data.copy() for p in self._params]
                loss, flat_grad, t, evals = _strong_wolfe(
                    functools.partial(self._directional_evaluate, closure, x_init, d),
                    t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = self._evaluate(closure)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    @staticmethod
    def _two_loop(state, flat_grad, old_dirs, old_stps, ro, H_diag, history_size):
        """d = -H g by the two-loop recursion: q <- q - a_i y_i with a_i = rho_i s_i.q
        (newest pair first), r = H_diag q, r <- r + (a_i - rho_i y_i.r) s_i (oldest
        first). The a_i are kept in state['al'] (torch's)."""
        al = state.setdefault("al", [None] * history_size)
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q -= al[i] * old_dirs[i]
        r = q * H_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r

    # -- checkpoints: the history is lists of vectors ---------------------------------------
    def state_dict(self):
        """torch's format; the history lists are copied too (the snapshot stays as it is)."""
        saved = super().state_dict()
        for s in saved["state"].values():
            for key in LIST_KEYS:
                if key in s:
                    s[key] = [_copy(v) for v in s[key]]
        return saved

    def load_state_dict(self, state_dict):
        """Load a `state_dict()` (this optimizer's or torch's LBFGS's): vectors and scalars
        in the parameters' dtype, the counters as ints."""
        plain, lists = {}, {}
        for k, s in state_dict["state"].items():
            plain[k] = {key: v for key, v in s.items() if key not in LIST_KEYS}
            lists.update({key: v for key, v in s.items() if key in LIST_KEYS})
        super().load_state_dict({**state_dict, "state": plain})
        p = self._params[0]
        state = self.state.get(p)
        if state is None:
            return
        dtype = p._data.dtype
        xp = get_array_module(p._data)
        for key in ("t", "H_diag"):   # torch's are 0-d tensors or Python numbers
            value = state.get(key)
            if hasattr(value, "shape") and value.shape == ():
                state[key] = xp.asarray(value, dtype)[()]
        for key, values in lists.items():
            state[key] = [None if v is None else _as_array(v, xp, dtype) for v in values]


def _copy(value):
    return value.copy() if hasattr(value, "copy") else value


def _as_array(value, xp, dtype):
    """A torch tensor, an array or a number as an array (a scalar for 0-d) of `dtype`."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return xp.array(value, dtype=dtype, copy=True)[()]
