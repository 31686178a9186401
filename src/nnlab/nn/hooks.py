"""Module hooks: a module call through its forward pre / post hooks and full backward hooks,
and the handles that remove them (torch.utils.hooks' RemovableHandle and BackwardHook).

A module keeps its hooks in three dicts (`_forward_pre_hooks`, `_forward_hooks`,
`_backward_hooks`) keyed by registration order; `Module.register_*_hook` add to them
through `add_hook`, and `Module.__call__` runs `call_with_hooks` when one is non-empty or
anomaly mode is on (the call then runs in an anomaly scope that names the module).
"""
from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.tensor import Tensor


class RemovableHandle:
    """What `register_*_hook` returns: `remove()` unregisters the hook; as a context
    manager it removes the hook on exit."""

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_hook_ids = iter(range(1 << 62))


def add_hook(hooks, hook):
    """Register `hook` in the dict `hooks` under a fresh key; returns its handle."""
    key = next(_hook_ids)
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def call_with_hooks(module, args, kwargs):
    """module(*args, **kwargs) through its hooks: pre hooks may replace args, forward
    hooks the output; backward hooks get identity nodes around inputs and outputs. In
    anomaly mode the call runs in the module's anomaly scope (see `anomaly_scope_name`)."""
    if grad_mode._anomaly:
        with grad_mode.anomaly_scope(module, *anomaly_scope_name(module)):
            return _call(module, args, kwargs)
    return _call(module, args, kwargs)


def anomaly_scope_name(module):
    """(qualified name, phrase) of a module called in anomaly mode: its dotted name under
    the outermost module being called, found below the module that called it ('layers.2';
    '' for the outermost one, or for one not found there, which starts a tree of its own),
    and the phrase for errors: 'in layers.2 (Linear)', or 'in Sequential' for a root."""
    caller = next((s for s in reversed(grad_mode._scopes) if s[0] is not None), None)
    path = ""
    if caller is not None:
        owner, prefix = caller[0], caller[1]
        found = next((name for name, child in owner.named_children() if child is module),
                     None)
        if found is not None:
            path = f"{prefix}.{found}" if prefix else found
        else:
            path = next((name for name, m in owner.named_modules(prefix=prefix)
                         if m is module), "")
    cls = type(module).__name__
    return path, f"in {path} ({cls})" if path else f"in {cls}"


def _call(module, args, kwargs):
    for hook in list(module._forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    hook_state = BackwardHookState(module) if module._backward_hooks else None
    if hook_state is not None:
        args = hook_state.wrap_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    if hook_state is not None:
        output = hook_state.wrap_outputs(output)
    return output


# -- backward hooks: identity nodes around the module's inputs and outputs ---------------
class BackwardHookState:
    """Identity nodes before and after a module, as torch's BackwardHook: the one after
    records grad_output, the one before, whose backward receives every input gradient at
    once, calls the hooks. Each node takes every tensor argument when one requires grad."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = self.n_outputs = 0
        self.input_positions = self.output_positions = None
        self.output_requires_grad = ()

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        args, self.input_positions = self._wrap(args, "input")
        return args

    def wrap_outputs(self, output):
        outputs = output if isinstance(output, tuple) else (output,)
        self.n_outputs = len(outputs)
        self.output_requires_grad = [isinstance(o, Tensor) and o.requires_grad
                                     for o in outputs]
        outputs, self.output_positions = self._wrap(outputs, "output")
        return outputs if isinstance(output, tuple) else outputs[0]

    def _wrap(self, values, where):
        """The values with their tensors passed through one identity node, and the
        positions of those tensors (None, and no node, when none requires grad)."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not grad_mode.is_grad_enabled() or not any(values[i].requires_grad
                                                      for i in positions):
            return values, None
        wrapped = _HookIdentity.apply(self, where, *[values[i] for i in positions])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        values = list(values)
        for i, w in zip(positions, wrapped):
            values[i] = w
        return tuple(values), positions

    def on_backward(self, where, grads):
        hooks = list(self.module._backward_hooks.values())
        name = type(self.module).__name__
        if where == "output":
            self.grad_output = _pack(self.output_positions, grads, self.n_outputs)
            self.grad_output = tuple(g if need else None for g, need in
                                     zip(self.grad_output, self.output_requires_grad))
            if self.input_positions is None:  # no input requires grad: the hooks run now
                grad_input = (None,) * self.n_inputs
                for hook in hooks:
                    result = hook(self.module, grad_input, self.grad_output)
                    if result is not None and any(r is not None for r in result):
                        raise RuntimeError(f"{name}: a backward hook of a module where no "
                                           "input requires grad must return None (or None "
                                           "for every gradient)")
                self.grad_output = None
            return grads
        if self.grad_output is None:  # reached without passing the outputs (double backward)
            return grads
        grad_input = _pack(self.input_positions, grads, self.n_inputs)
        for hook in hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is None:
                continue
            if len(result) != len(grad_input):
                raise RuntimeError(f"{name}: backward hook returned an invalid number of "
                                   f"grad_input, got {len(result)}, but expected "
                                   f"{len(grad_input)}")
            grad_input = tuple(result)
        self.grad_output = None
        return tuple(grad_input[i] for i in self.input_positions)


def _pack(positions, values, size):
    packed = [None] * size
    for i, v in zip(positions, values):
        packed[i] = v
    return tuple(packed)


class _HookIdentity(Function):
    @staticmethod
    def forward(ctx, state, where, *xs):
        ctx.state, ctx.where = state, where
        ys = tuple(x.view() for x in xs)
        ctx.mark_non_differentiable(*[y for y, need in zip(ys, ctx.needs_input_grad[2:])
                                      if not need])
        return ys if len(ys) > 1 else ys[0]

    @staticmethod
    def backward(ctx, *grads):  # dL/dx = gy: the hooks see (and may replace) the gradients
        return (None, None) + tuple(ctx.state.on_backward(ctx.where, grads))
