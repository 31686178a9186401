"""`Optimizer`: torch.optim's shell around the small update rules of `functional`.

    param_groups   a list of dicts: 'params' (the Parameters) and the hyperparameters
                   (lr, betas, ...) of that group; a scheduler changes them between steps
    state          per parameter, a dict of arrays (momentum buffers, moments, 'step')

A subclass names its defaults, validates them (`check_hyperparameters`), and says how
one parameter is updated: `_update(param, grad, state, group)` on arrays: create the
state (`init_state`), count the step (`count_step`), and call its elementwise rule from
`functional` through `apply_rule` (which runs a large parameter in cache-sized pieces on
`parallel`'s threads) with the group's hyperparameters (`floats`). The shell walks the
groups, skips parameters without a gradient, keeps the state and bumps each changed
parameter's version counter, so a graph that saved the old values errors in backward
instead of giving a silently wrong gradient.

`state_dict()` is torch's format: {'state': {index: {name: array}}, 'param_groups':
[{'params': [index, ...], hyperparameters...}]}, parameters numbered in group order.
"""
from collections import defaultdict

import numpy as np

from .. import parallel
from ..autograd.engine import zero_grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from ..backend import get_array_module

PIECE = 1 << 16   # elements: a rule's temporaries for a piece this size stay in cache


class _Required:
    """The default of a hyperparameter every param group must give."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


def check(ok, owner, message):
    """Raise `ValueError('{owner}: {message}')` unless `ok` (hyperparameter validation)."""
    if not ok:
        raise ValueError(f"{owner}: {message}")


def check_hyperparameters(owner, **hyperparameters):
    """Validate the usual hyperparameters in the order given (torch's order for `owner`):
    each beta in [0, 1), rho in [0, 1], and lr, eps and any other named one >= 0."""
    for name, value in hyperparameters.items():
        if name == "betas":
            for i, beta in enumerate(value):
                check(0 <= beta < 1, owner, f"invalid beta parameter at index {i}: "
                      f"betas={tuple(value)} (expected 0 <= beta < 1)")
        elif name == "lr":
            check(value >= 0, owner, f"invalid learning rate lr={value} (expected lr >= 0)")
        elif name == "eps":
            check(value >= 0, owner, f"invalid epsilon eps={value} (expected eps >= 0)")
        elif name == "rho":
            check(0 <= value <= 1, owner, f"invalid rho={value} (expected 0 <= rho <= 1)")
        else:
            check(value >= 0, owner, f"invalid {name}={value} (expected >= 0)")


def apply_rule(rule, param, grad, state, **hyperparameters):
    """`rule(param, grad, state, **hyperparameters)`. A large numpy parameter is split into
    pieces of PIECE elements (matching slices of param, grad and the state arrays of its
    shape), shared among `parallel.get_num_threads()` threads: the rule is elementwise and
    numpy releases the GIL in its loops, so this equals one call, only faster."""
    arrays = {k: v for k, v in state.items() if getattr(v, "shape", None) == param.shape}
    if (type(param) is not np.ndarray or param.size < 2 * PIECE or grad.shape != param.shape
            or not all(a.flags.c_contiguous for a in (param, *arrays.values()))):
        rule(param, grad, state, **hyperparameters)
        return
    names = list(arrays)
    flat = [param.reshape(-1), np.ascontiguousarray(grad).reshape(-1)]
    flat += [arrays[k].reshape(-1) for k in names]

    def run(lo, hi):
        for start in range(lo, hi, PIECE):
            p, g, *rest = (a[start:min(start + PIECE, hi)] for a in flat)
            rule(p, g, {**state, **dict(zip(names, rest))}, **hyperparameters)

    n, k = param.size, parallel.get_num_threads()
    bounds = [n * i // k for i in range(k + 1)]
    futures = [parallel.thread_pool().submit(run, lo, hi)
               for lo, hi in zip(bounds[1:-1], bounds[2:])]
    run(bounds[0], bounds[1])
    for future in futures:
        future.result()


def count_step(state):
    """t <- t + 1 in the float32 scalar array state['step'] (as torch keeps it); returns t."""
    state["step"] += 1
    return float(state["step"])


def floats(group, *names):
    """The named hyperparameters of `group` as Python floats, keyed as a rule takes them
    ('betas' gives beta1 and beta2)."""
    values = {}
    for name in names:
        if name == "betas":
            values["beta1"], values["beta2"] = (float(beta) for beta in group["betas"])
        else:
            values[name] = float(group[name])
    return values


def float32_scalar(state, key):
    """state[key] as a float32 scalar array (torch keeps such scalars in float32 whatever
    the parameter's dtype; a loaded state dict may have cast it)."""
    value = state[key]
    if getattr(value, "dtype", None) != np.float32 or getattr(value, "shape", None) != ():
        state[key] = value = np.array(float(value), np.float32)
    return value


def init_state(state, param, *buffers, **scalars):
    """A parameter's first state, in torch's key order: 'step' = 0 and each of `scalars`
    as float32 scalar arrays, then a zero array shaped like `param` for each name in
    `buffers`."""
    state["step"] = np.zeros((), np.float32)
    for name, value in scalars.items():
        state[name] = np.array(value, np.float32)
    xp = get_array_module(param)
    for name in buffers:
        state[name] = xp.zeros_like(param)


class Optimizer:
    """Base class: holds `param_groups` and `state`; subclasses define `_update`.

    `params` is an iterable of Tensors, of (name, Tensor) pairs, or of dicts (each a param
    group: {'params': ..., plus options that override `defaults` for that group}).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors "
                            "or dicts, but got a Tensor (wrap it in a list)")
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, set):
            raise TypeError(f"{type(self).__name__}: parameters must be in an ordered "
                            "collection (a list), not a set, whose order changes between runs")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Append a group: its 'params' (a Tensor or an ordered iterable) and options;
        options it does not give take the optimizer's defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, but got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list), "
                            "not a set, whose order changes between runs")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: either all parameters have names or none does")
            group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape "
                                 f"{tuple(p.shape)}); optimize the leaf it was computed from")
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            group.setdefault(key, default)
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group holds the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in group) != ("param_names" in
                                                              self.param_groups[0]):
            raise ValueError(f"{name}: all param groups should be with names or all without")
        self.param_groups.append(group)
        for p in params:
            self._init_state(p, group)

    def _init_state(self, param, group):
        """State created when a parameter joins (Adagrad's); most create it lazily."""

    def _update(self, param, grad, state, group):
        """Update the array `param` in place from the array `grad` (the subclass's rule)."""
        raise NotImplementedError(f"{type(self).__name__} has no update rule")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set them to None (default) or fill them with zeros."""
        zero_grad((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. `closure` (optional)
        re-evaluates the model and returns the loss, which step returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p._data, p.grad._data, self.state[p], group)
                    p._version_counter[0] += 1
        return loss

    # -- checkpoints --------------------------------------------------------------------
    def state_dict(self):
        """A snapshot in torch's format: parameters become their index (in group order)
        and the state's arrays are copies, so later steps do not change the dict."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {(index[id(p)] if isinstance(p, Tensor) else p):
                 {k: _copy(v) for k, v in s.items()}
                 for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a `state_dict()` (this optimizer's, or a torch optimizer's): the groups'
        hyperparameters and each parameter's state, copied to the parameter's device and
        floating dtype ('step' stays a float32 scalar array)."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(self.param_groups)}")
        id_map = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict, "
                                 f"{len(group['params'])} in this optimizer")
            id_map.update(zip((int(k) for k in saved["params"]), group["params"]))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            key = int(key) if isinstance(key, (int, np.integer, str)) and \
                str(key).isdigit() else key
            if key in id_map:
                p = id_map[key]
                state[p] = {k: _cast(p, k, v) for k, v in value.items()}
            else:
                state[key] = value
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: (tuple(v) if isinstance(v, list) else v)
                   for k, v in saved.items() if k not in ("params", "param_names")}
            new["params"] = group["params"]
            names = saved.get("param_names", group.get("param_names"))
            if names is not None:
                new["param_names"] = list(names)
            groups.append(new)
        self.state = state
        self.param_groups = groups


def _copy(value):
    return value.copy() if hasattr(value, "copy") and hasattr(value, "dtype") else value


def _cast(param, key, value):
    """A state value as this optimizer keeps it: arrays copied onto the parameter's array
    module, floating ones in the parameter's dtype; 'step' a float32 scalar array."""
    if isinstance(value, Tensor):
        value = value._data
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if key == "step":
        return np.array(float(value), dtype=np.float32)
    xp = get_array_module(param._data)
    value = xp.asarray(value)
    dtype = param.dtype if value.dtype.kind == "f" else value.dtype
    return xp.array(value, dtype=dtype, copy=True)
