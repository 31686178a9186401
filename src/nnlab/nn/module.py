"""`Module`: the base of every layer and model.

A module's attributes are of three kinds only: `Parameter`s (learnable), buffers (tensors
named by `register_buffer`, saved in the state_dict but not trained: BatchNorm's running
statistics) and plain configuration. Parameters, buffers and submodules are found by
walking the attributes in the order they were assigned, so the dotted names
(`layers.0.weight`) and their order are PyTorch's `state_dict` keys.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.engine import zero_grad
from ..autograd.tensor import Tensor
from . import hooks
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for layers: subclasses set parameters and submodules as attributes in
    `__init__` and define `forward`."""

    training = True

    def __init__(self):
        self.training = True
        self._buffer_names = []
        self._non_persistent = set()
        self._forward_pre_hooks = {}
        self._forward_hooks = {}
        self._backward_hooks = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks \
                or grad_mode._anomaly:  # anomaly mode: the call names its layer (hooks.py)
            return hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- registration -------------------------------------------------------------------
    def register_buffer(self, name, tensor, persistent=True):
        """A tensor attribute that is state (saved, moved by `to`) but not a parameter;
        `persistent=False` keeps it out of the state_dict."""
        if "_buffer_names" not in self.__dict__:
            raise AttributeError("cannot assign buffers before Module.__init__() is called")
        _check_name(self, name, "buffer", name in self._buffer_names)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__!r} object to buffer "
                            f"{name!r} (nnlab Tensor or None required)")
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name, param):
        if "_buffer_names" not in self.__dict__:
            raise AttributeError("cannot assign parameters before Module.__init__() is called")
        _check_name(self, name, "parameter", isinstance(self.__dict__.get(name), Parameter))
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__!r} object to parameter "
                            f"{name!r} (nnlab.nn.Parameter or None required)")
        setattr(self, name, param)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(self, name, "module", isinstance(self.__dict__.get(name), Module))
        setattr(self, name, module)

    register_module = add_module

    def __setattr__(self, name, value):
        state = self.__dict__
        if isinstance(value, (Parameter, Module)):
            if "_buffer_names" not in state:
                raise AttributeError(f"cannot assign {type(value).__name__} {name!r} before "
                                     "Module.__init__() is called: call super().__init__() "
                                     "first")
            self._forget_buffer(name)
        elif value is not None:  # as torch: a parameter, child or buffer keeps its kind
            current = state.get(name)
            if isinstance(current, Parameter):
                raise _kind_error(value, "parameter", name, "nnlab.nn.Parameter")
            if isinstance(current, Module):
                raise _kind_error(value, "child module", name, "Module")
            if name in state.get("_buffer_names", ()) and not isinstance(value, Tensor):
                raise _kind_error(value, "buffer", name, "Tensor")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._forget_buffer(name)
        object.__delattr__(self, name)

    def _forget_buffer(self, name):
        names = self.__dict__.get("_buffer_names")
        if names and name in names:
            names.remove(name)
            self._non_persistent.discard(name)

    # -- walking ------------------------------------------------------------------------
    def _own_modules(self):
        """(name, child) for every child attribute, a module held twice listed twice."""
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)]

    def named_children(self):
        seen = set()
        for name, module in self._own_modules():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._own_modules():
            yield from child.named_modules(memo, prefix + ("." if prefix else "") + name,
                                           remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def _own_parameters(self):
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Parameter)]

    def _own_buffers(self, persistent_only=False):
        return [(k, getattr(self, k)) for k in self.__dict__.get("_buffer_names", ())
                if getattr(self, k, None) is not None
                and not (persistent_only and k in self._non_persistent)]

    def _named_members(self, members, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in members(module):
                if id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(Module._own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(Module._own_buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        module = self
        for part in target.split(".") if target else []:
            child = getattr(module, part, None)
            if not isinstance(child, Module):
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} "
                                     f"(looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target):
        """The parameter named by the dotted path `target` ('layers.0.weight')."""
        module, _, name = target.rpartition(".")
        owner = self.get_submodule(module)
        if not hasattr(owner, name):
            raise AttributeError(f"{type(owner).__name__} has no attribute `{name}`")
        if not isinstance(getattr(owner, name), Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return getattr(owner, name)

    def get_buffer(self, target):
        """The buffer named by the dotted path `target` ('bn.running_mean')."""
        module, _, name = target.rpartition(".")
        owner = self.get_submodule(module)
        if not hasattr(owner, name):
            raise AttributeError(f"{type(owner).__name__} has no attribute `{name}`")
        if name not in owner._buffer_names:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(owner, name)

    # -- state --------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, as PyTorch names them
        (shared tensors and submodules appear under every name)."""
        destination = OrderedDict() if destination is None else destination
        modules = self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False)
        for module_prefix, module in modules:
            dot = module_prefix + ("." if module_prefix else "")
            for name, value in module._own_parameters() + module._own_buffers(True):
                destination[dot + name] = value if keep_vars else value.detach()
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (nnlab tensors, numpy arrays, or anything np.asarray takes, such as
        CPU torch tensors) into this module's parameters and buffers, in place. Every key
        and shape is checked first: when it raises, nothing has been changed."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        order = {p: i for i, (p, _) in enumerate(self.named_modules(remove_duplicate=False))}
        unexpected = sorted((k for k in state_dict if k not in own),
                            key=lambda k: _reporting_module(k, order))
        errors, copies = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            array = _as_array(state_dict[key], target)
            if target.ndim == 0 and array.shape == (1,):  # as torch, for old checkpoints
                array = array.reshape(())
            if tuple(array.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(array.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(target.shape)}.")
                continue
            xp = backend.get_array_module(target._data)
            copies.append((target, xp.asarray(array, dtype=target.dtype)))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:"
                               "\n\t" + "\n\t".join(errors))
        for target, array in copies:
            target._data[...] = array
            target._version_counter[0] += 1
        return IncompatibleKeys(missing, unexpected)

    # -- modes and conversions ------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode here and, through each child's own `train`, below."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        zero_grad(self.parameters(), set_to_none)

    def apply(self, fn):
        """Call `fn(module)` on every submodule (children first) and on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Move parameters and buffers to a dtype (floating ones only) and/or device, in
        place: the Parameter objects stay the same, so optimisers keep tracking them.
        `to(device)`, `to(dtype)`, `to(device, dtype)`, `to(tensor)`, as Tensor.to
        (`non_blocking` accepted)."""
        device, dtype, _, _ = backend.parse_to(args, device, dtype, non_blocking,
                                               where="Module.to")
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            new = t.detach().to(dtype=dtype if t.is_floating_point() else None, device=device)
            if new.dtype == t.dtype and new.device == t.device:
                continue
            t._data = new._data
            if t.grad is not None:
                t.grad._data = t.grad.detach().to(dtype=t.dtype, device=t.device)._data
        return self

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def half(self):
        return self.to(backend.float16)

    def type(self, dst_type):
        """Cast every parameter and buffer, integer ones too (as torch), to `dst_type` (a
        dtype or a name such as 'torch.DoubleTensor'), in place."""
        for t in list(self.parameters()) + list(self.buffers()):
            new = t.detach().type(dst_type)
            t._data = new._data
            if t.grad is not None:
                t.grad._data = t.grad.detach().type(dst_type)._data
        return self

    def share_memory(self):
        """Move every parameter, buffer and existing gradient into memory that child
        processes forked later share (`Tensor.share_memory_`; Hogwild training with
        nnlab.multiprocessing): their in-place updates reach this process."""
        for t in list(self.parameters()) + list(self.buffers()):
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    # -- hooks --------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """`hook(module, args)` before forward; may return replacement args."""
        return hooks.add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """`hook(module, args, output)` after forward; may return a replacement output."""
        return hooks.add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """`hook(module, grad_input, grad_output)` once the gradients with respect to the
        module's inputs are computed; may return replacement grad_input. grad_input has
        one entry per positional argument (None for non-tensors), grad_output one per
        output; when no input requires grad it is all None and the hook runs as soon as
        grad_output is known."""
        return hooks.add_hook(self._backward_hooks, hook)

    # -- printing -----------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(child))
                       for name, child in self._own_modules()]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra})"
        lines = extra_lines + child_lines
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _indent(text):
    return text.replace("\n", "\n  ")


def _check_name(module, name, kind, registered):
    """torch's checks on a name passed to register_buffer / register_parameter / add_module."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\", got: {name}")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    if hasattr(module, name) and not registered and module.__dict__.get(name, 0) is not None:
        raise KeyError(f"attribute '{name}' already exists")


def _kind_error(value, kind, name, expected):
    return TypeError(f"cannot assign {type(value).__name__!r} as {kind} {name!r} "
                     f"({expected} or None expected)")


def _as_array(value, target):
    """A state_dict value as an array on target's device (nnlab Tensor, numpy array, torch
    tensor or anything np.asarray takes)."""
    if isinstance(value, Tensor) and value.device == target.device:
        return value._data
    return np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)


def _reporting_module(key, order):
    """The traversal index of the module that torch names an unexpected key under: the
    deepest module that the key's leading components reach."""
    parts, index = key.split("."), 0
    for n in range(1, len(parts)):
        prefix = ".".join(parts[:n])
        if prefix not in order:
            break
        index = order[prefix]
    return index
